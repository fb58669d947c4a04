#!/usr/bin/env python3
"""impair.py - a lossy, reordering wire between a QEMU guest and Linux.

  impair.py TAP LOCAL_PORT QEMU_PORT LOSS_PERCENT REORDER_PERCENT SEED

Creates the tap device TAP (it must run inside the test's network
namespace) and relays Ethernet frames between it and QEMU's
`-netdev socket,udp=127.0.0.1:LOCAL_PORT,localaddr=127.0.0.1:QEMU_PORT`,
in both directions: each frame is dropped with probability LOSS_PERCENT,
else, with probability REORDER_PERCENT, held back and sent after the next
frame in the same direction (or after 2 ms if none comes).  This is what
`tc netem loss ... reorder ...` would do; this machine's kernel has no
netem (CONFIG_NET_SCH_NETEM unset), so the test brings its own.  Prints
counts on SIGTERM to stderr.
"""
import fcntl
import os
import random
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def main():
    tap, lport, qport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    loss, reorder = float(sys.argv[4]) / 100, float(sys.argv[5]) / 100
    rng = random.Random(int(sys.argv[6]))
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", tap.encode(),
                                            IFF_TAP | IFF_NO_PI))
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind(("127.0.0.1", lport))
    us.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    qemu = ("127.0.0.1", qport)
    stats = {"to_guest": 0, "to_linux": 0, "dropped": 0, "reordered": 0}
    held = {"to_guest": None, "to_linux": None}

    def out(direction, frame):
        if direction == "to_guest":
            us.sendto(frame, qemu)
        else:
            os.write(fd, frame)
        stats[direction] += 1

    def relay(direction, frame):
        if rng.random() < loss:
            stats["dropped"] += 1
            return
        h = held[direction]
        if h is None and rng.random() < reorder:
            held[direction] = (frame, time.monotonic())
            stats["reordered"] += 1
            return
        out(direction, frame)
        if h is not None:
            out(direction, h[0])
            held[direction] = None

    def report(*_):
        sys.stderr.write("impair: %s\n" % stats)
        sys.exit(0)

    signal.signal(signal.SIGTERM, report)
    print("impair: ready", flush=True)
    while True:
        r, _, _ = select.select([fd, us], [], [], 0.002)
        for src in r:
            if src is us:
                frame = us.recv(65536)
                relay("to_linux", frame)
            else:
                frame = os.read(fd, 65536)
                relay("to_guest", frame)
        now = time.monotonic()
        for d, h in held.items():
            if h is not None and now - h[1] > 0.002:
                out(d, h[0])
                held[d] = None


if __name__ == "__main__":
    main()
