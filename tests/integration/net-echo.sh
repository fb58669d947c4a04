#!/bin/sh
# net-echo.sh - TCP and UDP of the runtime's stack against Linux peers:
# the echo kernel under QEMU on a tap inside a network namespace made
# here (the guest 10.80.0.2, Linux 10.80.0.1), tests/net/peer.py as the
# peer.  100 MiB each way (sink: Linux sends, the guest checks the CRC;
# source: the guest sends, Linux checks every byte; echo: both at once),
# then the same through 5% loss and 10% reordering each way (what `tc
# netem` would do; this kernel has none, so tests/net/impair.py relays the
# frames).  NET_ECHO_MIB (and NET_ECHO_LOSSY_MIB for the lossy part)
# changes the size.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib-guest-net.sh"

ECHO=$top_builddir/kernels/echo/echo.elf
PEER=$top_srcdir/tests/net/peer.py
MIB=${NET_ECHO_MIB:-100}
command -v "$QEMU" >/dev/null 2>&1 || skip_all "$QEMU not installed"
[ -f "$ECHO" ] || skip_all "echo.elf not built"
[ "$(id -u)" -eq 0 ] || skip_all "not root: no network namespace"
[ -e /dev/net/tun ] || skip_all "no /dev/net/tun"

# TCG: on this nested KVM each exit to QEMU costs about a millisecond and
# an I/O-bound guest moves ~50 KB/s (docs/net.md, "Measured in guests"); httpd.sh
# shows the stack under KVM.
GUEST_ACCEL="-accel tcg -cpu max"
NS=ukecho$$
netns_make "$NS"
guest_tap "$NS" echo "$ECHO" "" "ip=10.80.0.2/24 gw=10.80.0.1 quiet tcpbuf=262144" \
    10.80.0.1/24 || { not_ok "tap up" true; done_testing; exit 0; }
guest_wait echo "echo: ready" 30 ||
	{ not_ok "echo kernel came up" true; done_testing; exit 0; }
ok "the kernel took the address from its command line" \
    grep -q "10.80.0.2 netmask ffffff00 gateway 10.80.0.1" "$TMP/echo.console"
ok "ping: ICMP echo answered" in_ns "$NS" ping -c 3 -W 2 -i 0.2 10.80.0.2

udp() {
	in_ns "$NS" python3 - <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for size in (1, 100, 1472):
    data = os.urandom(size)
    s.sendto(data, ("10.80.0.2", 7))
    back, addr = s.recvfrom(2048)
    if back != data or addr != ("10.80.0.2", 7):
        print("udp %d bytes: came back different" % size)
        sys.exit(1)
PY
}
ok "UDP echo: 1, 100, 1472 bytes" udp
ok "a closed port refuses (RST)" sh -c "ip netns exec $NS python3 -c '
import socket, sys
try:
    socket.create_connection((\"10.80.0.2\", 8), timeout=5)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)'"

# transfers HOST LABEL: sink, source and echo of MIB MiB with the echo
# kernel at HOST; the figures as diag lines.
transfers() {
	local host=$1 l=$2 m
	for m in sink source echo; do
		if in_ns "$NS" timeout 600 python3 "$PEER" "$host" "$m" \
		    $((MIB * 1048576)) >"$TMP/peer.out" 2>&1; then
			echo "ok $((tap_n + 1)) - $l: $m $MIB MiB, the same bytes"
			diag "$l: $(cat "$TMP/peer.out")"
		else
			echo "not ok $((tap_n + 1)) - $l: $m $MIB MiB, the same bytes"
			tap_failed=$((tap_failed + 1))
			sed 's/^/#   /' "$TMP/peer.out"
		fi
		tap_n=$((tap_n + 1))
	done
}
transfers 10.80.0.2 clean

# many connections at once, each a short echo
many() {
	in_ns "$NS" python3 - <<'PY'
import os, socket, sys
socks = [socket.create_connection(("10.80.0.2", 7), timeout=10) for _ in range(100)]
for i, s in enumerate(socks):
    s.sendall(b"hello %d\n" % i)
for i, s in enumerate(socks):
    want = b"hello %d\n" % i
    got = b""
    while len(got) < len(want):
        d = s.recv(100)
        if not d:
            break
        got += d
    if got != want:
        print("connection %d: %r" % (i, got))
        sys.exit(1)
    s.close()
PY
}
ok "100 connections at once" many

# 5% loss and reordering, both ways.  This machine's kernel has no
# netem (CONFIG_NET_SCH_NETEM is unset: `tc qdisc add ... netem` fails),
# so tests/net/impair.py does netem's job: a second guest's frames go
# through it, between QEMU's UDP socket netdev and a tap, inside the
# namespace.
IMPAIR=$top_srcdir/tests/net/impair.py
# Not through in_ns: a shell function in the background is a subshell,
# and $! would be its pid, not the relay's (ip netns exec execs it).
ip netns exec "$NS" python3 "$IMPAIR" uk1 7001 7002 5 10 \
    "${NET_ECHO_SEED:-1}" >"$TMP/impair.out" 2>"$TMP/impair.err" &
echo $! >"$TMP/impair.pid"
at_exit "kill \$(cat $TMP/impair.pid) 2>/dev/null"
i=0
until grep -q "impair: ready" "$TMP/impair.out" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1
done
in_ns "$NS" ip addr add 10.81.0.1/24 dev uk1
in_ns "$NS" ip link set uk1 up
_guest_start lossy "-netdev socket,id=n0,udp=127.0.0.1:7001,localaddr=127.0.0.1:7002 -device virtio-net-device,netdev=n0,mac=52:54:00:12:34:58" \
    "$ECHO" "" "ip=10.81.0.2/24 gw=10.81.0.1 quiet tcpbuf=262144" \
    ip netns exec "$NS"
if guest_wait lossy "echo: ready" 30; then
	# The same 100 MiB each way (NET_ECHO_LOSSY_MIB changes it).
	MIB=${NET_ECHO_LOSSY_MIB:-$MIB}
	transfers 10.81.0.2 "5% loss, 10% reordered"
	kill "$(cat "$TMP/impair.pid")"
	i=0
	until grep -q dropped "$TMP/impair.err" 2>/dev/null || [ $i -ge 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	diag "$(cat "$TMP/impair.err")"
	ok "frames were really dropped and reordered" sh -c \
	    "grep -q -E 'dropped.: [1-9]' $TMP/impair.err && grep -q -E 'reordered.: [1-9]' $TMP/impair.err"
else
	not_ok "lossy guest came up" true
fi
done_testing
