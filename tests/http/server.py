#!/usr/bin/env python3
"""A file server on 127.0.0.1 with fault paths, for the fetch and cache
tests.  Python's standard library only.

    server.py ROOT LOG

Binds 127.0.0.1 on a port the kernel picks, prints that port on a line of
its own, then serves ROOT until killed or until its parent exits.  Every
request is appended to LOG as "METHOD PATH" (query included) before it is
answered, so that a test can count requests.

Paths (REST is a path under ROOT, the query is ignored when finding it):
  /REST                          the file, with Content-Length
  /status/CODE/N/REST            CODE for the first N requests of this exact
                                 path and query, then the file
  /truncate/REST                 announces the whole file, sends half, closes
  /slow/REST?chunk=B&interval=S  the file, B bytes every S seconds
  /big/REST?extra=B              announces the file, sends B more bytes
  /big/REST?extra=B&nolength=1   no Content-Length: the file and B more
                                 bytes, then closes
  /redirect/REST                 302 to /REST
  /redirect-file/PATH            302 to file:///PATH
Any path takes ?delay=S: wait S seconds before answering.
"""
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = None
LOG = None
LOG_LOCK = threading.Lock()
COUNTS = {}
COUNTS_LOCK = threading.Lock()


def log_request(line):
    with LOG_LOCK:
        with open(LOG, "a") as f:
            f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "ukfetchtest/1"

    def log_message(self, fmt, *args):
        pass

    def read_file(self, rest):
        path = os.path.normpath(os.path.join(ROOT, rest))
        if not path.startswith(os.path.abspath(ROOT) + os.sep):
            return None
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            return None

    def send_body(self, data, length=None):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def not_found(self):
        self.send_error(404)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        log_request("%s %s" % (self.command, self.path))
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if "delay" in q:
            time.sleep(float(q["delay"]))
        parts = url.path.lstrip("/").split("/")
        kind = parts[0]
        try:
            if kind == "status":
                self.status(parts, q)
            elif kind == "truncate":
                self.truncate("/".join(parts[1:]))
            elif kind == "slow":
                self.slow("/".join(parts[1:]), q)
            elif kind == "big":
                self.big("/".join(parts[1:]), q)
            elif kind == "redirect":
                self.redirect("/" + "/".join(parts[1:]))
            elif kind == "redirect-file":
                self.redirect("file:///" + "/".join(parts[1:]))
            else:
                self.plain(url.path.lstrip("/"))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def plain(self, rest):
        data = self.read_file(rest)
        if data is None:
            return self.not_found()
        self.send_body(data, len(data))

    def status(self, parts, q):
        code, n, rest = int(parts[1]), int(parts[2]), "/".join(parts[3:])
        with COUNTS_LOCK:
            seen = COUNTS.get(self.path, 0)
            COUNTS[self.path] = seen + 1
        if seen < n:
            return self.send_error(code)
        self.plain(rest)

    def truncate(self, rest):
        data = self.read_file(rest)
        if data is None:
            return self.not_found()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    def slow(self, rest, q):
        data = self.read_file(rest)
        if data is None:
            return self.not_found()
        chunk = int(q.get("chunk", "1"))
        interval = float(q.get("interval", "0.5"))
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for i in range(0, len(data), chunk):
            self.wfile.write(data[i : i + chunk])
            self.wfile.flush()
            time.sleep(interval)

    def big(self, rest, q):
        data = self.read_file(rest)
        if data is None:
            return self.not_found()
        extra = int(q.get("extra", "1048576"))
        self.send_response(200)
        if q.get("nolength") != "1":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        block = b"X" * 65536
        while extra > 0:
            n = min(extra, len(block))
            self.wfile.write(block[:n])
            extra -= n
        self.close_connection = True

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


def watch_parent(parent):
    """Exits when the test that started the server is gone, even if it
    crashed before it could stop the server."""
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def main():
    global ROOT, LOG
    if len(sys.argv) != 3:
        sys.stderr.write("usage: server.py ROOT LOG\n")
        return 2
    ROOT, LOG = os.path.abspath(sys.argv[1]), sys.argv[2]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=watch_parent, args=(os.getppid(),),
                     daemon=True).start()
    print(httpd.server_address[1], flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
