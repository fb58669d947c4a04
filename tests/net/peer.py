#!/usr/bin/env python3
"""peer.py - the Linux end of the TCP tests against the echo kernel.

  peer.py HOST MODE BYTES [PORT]

MODE sink:   sends BYTES random bytes to the sink (port 9), half-closes,
             and checks the byte count and CRC-32 the kernel answers.
MODE source: asks the source (port 19) for BYTES bytes and checks that
             byte i is i % 251.
MODE echo:   sends BYTES random bytes to echo (port 7) while reading them
             back, and checks they come back equal (SHA-256).
Prints one line "MODE BYTES bytes SECONDS s MBIT Mbit/s" and exits 0, or
prints what differs and exits 1.  Connection timeout 10 s, and no more
than 60 s without progress.
"""
import hashlib
import os
import selectors
import socket
import sys
import time
import zlib

CHUNK = 1 << 16


def connect(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.settimeout(60)
    return s


def sink(host, n, port):
    s = connect(host, port or 9)
    crc = 0
    sent = 0
    block = os.urandom(CHUNK)
    while sent < n:
        piece = block[: min(CHUNK, n - sent)]
        s.sendall(piece)
        crc = zlib.crc32(piece, crc)
        sent += len(piece)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        d = s.recv(256)
        if not d:
            break
        reply += d
    s.close()
    want = "%d %08x" % (n, crc)
    got = reply.decode(errors="replace").strip()
    if got != want:
        print("sink: kernel says %r, sent %r" % (got, want))
        return False
    return True


def source(host, n, port):
    s = connect(host, port or 19)
    s.sendall(b"%d\n" % n)
    # byte i is i % 251: a slice of a few periods at offset got % 251
    # is what the next piece must be
    block = bytes(range(251)) * (CHUNK // 251 + 2)
    got = 0
    while True:
        d = s.recv(CHUNK)
        if not d:
            break
        off = got % 251
        if d != block[off:off + len(d)]:
            i = next(i for i in range(len(d)) if d[i] != (got + i) % 251)
            print("source: byte %d is %d, want %d"
                  % (got + i, d[i], (got + i) % 251))
            return False
        got += len(d)
    s.close()
    if got != n:
        print("source: got %d bytes, want %d" % (got, n))
        return False
    return True


def echo(host, n, port):
    s = connect(host, port or 7)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    out = hashlib.sha256()
    back = hashlib.sha256()
    block = os.urandom(CHUNK)
    sent = received = 0
    pending = b""
    last = time.monotonic()
    while received < n:
        if time.monotonic() - last > 60:
            print("echo: no progress for 60 s at %d sent, %d back"
                  % (sent, received))
            return False
        for key, ev in sel.select(timeout=1):
            if ev & selectors.EVENT_WRITE and sent < n:
                if not pending:
                    pending = block[: min(CHUNK, n - sent)]
                    out.update(pending)
                try:
                    k = s.send(pending)
                except BlockingIOError:
                    k = 0
                pending = pending[k:]
                sent += k
                if k:
                    last = time.monotonic()
                if sent == n and not pending:
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    d = s.recv(CHUNK)
                except BlockingIOError:
                    continue
                if not d:
                    print("echo: closed after %d of %d bytes" % (received, n))
                    return False
                back.update(d)
                received += len(d)
                last = time.monotonic()
    s.close()
    if out.hexdigest() != back.hexdigest():
        print("echo: sha256 differs: sent %s, back %s"
              % (out.hexdigest(), back.hexdigest()))
        return False
    return True


def main():
    host, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    fn = {"sink": sink, "source": source, "echo": echo}[mode]
    t = time.monotonic()
    try:
        good = fn(host, n, port)
    except OSError as e:
        print("%s: %s" % (mode, e))
        return 1
    dt = time.monotonic() - t
    if not good:
        return 1
    print("%s %d bytes %.2f s %.1f Mbit/s" % (mode, n, dt, n * 8 / dt / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
