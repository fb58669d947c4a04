#!/usr/bin/env python3
"""tcppeer.py - Linux's TCP, through Python sockets, against tapstack's
services (tests/integration/net-tap.sh).  One line of results per command.

  discard HOST BYTES       send BYTES of random data to port 9, then FIN:
                           "discard BYTES SHA256 SECONDS"
  source HOST BYTES        read port 19 to its end:
                           "source BYTES SHA256 EXPECTED_SHA256 SECONDS"
  echo HOST BYTES          send BYTES to port 7 while reading them back:
                           "echo SENT GOT SHA_SENT SHA_GOT SECONDS"
  parallel HOST N BYTES    N echo connections at once, BYTES each:
                           "parallel GOOD N SECONDS"
  refused HOST PORT        connect to a closed port: "refused" or "connected"
"""
import hashlib
import os
import socket
import sys
import threading
import time

TIMEOUT = 120          # seconds without progress before giving up
CHUNK = 1 << 20
PERIOD = 65521         # tapstack.c's PATTERN_PERIOD


def pattern_block():
    """tapstack's source bytes: xorshift32 from 2463534242, low byte."""
    x = 2463534242
    out = bytearray(PERIOD)
    for i in range(PERIOD):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        out[i] = x & 0xff
    return bytes(out)


def pattern_sha(n):
    block = pattern_block()
    h = hashlib.sha256()
    full, rest = divmod(n, PERIOD)
    for _ in range(full):
        h.update(block)
    h.update(block[:rest])
    return h.hexdigest()


def connect(host, port):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def send_random(s, n, h):
    left = n
    while left > 0:
        d = os.urandom(min(CHUNK, left))
        s.sendall(d)
        h.update(d)
        left -= len(d)


def read_all(s, h):
    n = 0
    while True:
        d = s.recv(CHUNK)
        if not d:
            return n
        h.update(d)
        n += len(d)


def discard(host, n):
    t = time.monotonic()
    s = connect(host, 9)
    h = hashlib.sha256()
    send_random(s, n, h)
    s.shutdown(socket.SHUT_WR)
    read_all(s, hashlib.sha256())      # the stack's FIN after it read all
    s.close()
    return "discard %d %s %.3f" % (n, h.hexdigest(), time.monotonic() - t)


def source(host, n):
    t = time.monotonic()
    s = connect(host, 19)
    h = hashlib.sha256()
    got = read_all(s, h)
    dt = time.monotonic() - t
    s.close()
    return "source %d %s %s %.3f" % (got, h.hexdigest(), pattern_sha(n), dt)


def echo_one(host, n):
    s = connect(host, 7)
    hs, hr = hashlib.sha256(), hashlib.sha256()
    err = []

    def sender():
        try:
            send_random(s, n, hs)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    th = threading.Thread(target=sender)
    th.start()
    try:
        got = read_all(s, hr)
    except OSError as e:
        err.append(e)
        got = -1
    th.join()
    s.close()
    return got, hs.hexdigest(), hr.hexdigest(), err


def echo(host, n):
    t = time.monotonic()
    got, hs, hr, err = echo_one(host, n)
    dt = time.monotonic() - t
    if err:
        return "echo error %s" % err[0]
    return "echo %d %d %s %s %.3f" % (n, got, hs, hr, dt)


def parallel(host, count, n):
    results = []
    errors = []
    lock = threading.Lock()

    def one():
        why = None
        try:
            got, hs, hr, err = echo_one(host, n)
            good = not err and got == n and hs == hr
            if not good:
                why = err[0] if err else "got %d of %d" % (got, n)
        except OSError as e:
            good, why = False, e
        with lock:
            results.append(good)
            if why is not None:
                errors.append(str(why))

    t = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(count)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return "parallel %d %d %.3f %s" % (sum(results), count,
                                       time.monotonic() - t,
                                       "; ".join(errors[:3]))


def refused(host, port):
    try:
        s = socket.create_connection((host, port), timeout=10)
    except ConnectionRefusedError:
        return "refused"
    s.close()
    return "connected"


def main(argv):
    cmd, host, args = argv[1], argv[2], [int(a) for a in argv[3:]]
    out = {
        "discard": lambda: discard(host, args[0]),
        "source": lambda: source(host, args[0]),
        "echo": lambda: echo(host, args[0]),
        "parallel": lambda: parallel(host, args[0], args[1]),
        "refused": lambda: refused(host, args[0]),
    }[cmd]()
    print(out, flush=True)


if __name__ == "__main__":
    main(sys.argv)
