#!/bin/sh
# net-tap.sh - the runtime's TCP/IP stack against Linux's own TCP.
# tests/net/tapstack runs the stack on a tap device inside a network
# namespace this test makes (Linux 10.77.0.1/24 on tap0, the stack
# 10.77.0.2); Python sockets in the namespace are the Linux peers
# (tests/net/tcppeer.py).  No frame leaves the namespace.
#
# Checked: 100 MiB each way with equal SHA-256 (Linux to the stack's
# discard service, the stack's source service to Linux, both at once
# through echo), 100 MiB each way at once through loss and reordering,
# RST for a closed port, many connections at once, and that every
# connection's close runs to its end (TIME_WAIT included: the stack's
# MSL is cut to 500 ms).  Throughput goes out as diag lines.
#
# Impairment: tc netem (loss 5% reorder 25% delay 1ms) on the Linux side
# of the tap when the kernel has it, plus 5% loss of what the stack sends
# (nftables).  Without netem, nftables drops 5% each way and tapstack
# holds back 25% of the frames each way for 1 ms, which reorders them.
. "$top_srcdir/tests/lib.sh"

TAPSTACK=$top_builddir/tests/net/tapstack
PEER=$top_srcdir/tests/net/tcppeer.py
STACK_IP=10.77.0.2
BIG=$((100 * 1024 * 1024))
CFG="ip=$STACK_IP/24 mac=02:00:00:77:00:02"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespace, tap)"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
command -v ip >/dev/null 2>&1 || skip_all "no ip(8)"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
[ -x "$TAPSTACK" ] || skip_all "tapstack not built"

NS=uknettap$$
STACK_PID=
ip netns add "$NS" || skip_all "cannot create a network namespace"
at_exit 'stop_stack; ip netns del "$NS" 2>/dev/null'
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip tuntap add dev tap0 mode tap
nsx ip addr add 10.77.0.1/24 dev tap0
nsx ip link set tap0 up

# start_stack LOG [OPTIONS...]: tapstack in the namespace, until "ready".
start_stack() {
	STACK_LOG=$1
	shift
	# Not through nsx: $! must be tapstack itself (ip execs it).
	ip netns exec "$NS" "$TAPSTACK" tap0 "$CFG" --source-bytes "$BIG" \
	    --msl-ms 500 "$@" >"$STACK_LOG" 2>&1 &
	STACK_PID=$!
	for _ in $(seq 50); do
		grep -q '^ready$' "$STACK_LOG" && return 0
		sleep 0.1
	done
	return 1
}

stop_stack() {
	[ -n "$STACK_PID" ] || return 0
	kill -TERM "$STACK_PID" 2>/dev/null
	wait "$STACK_PID" 2>/dev/null
	STACK_PID=
}

peer() { nsx timeout 900 python3 "$PEER" "$@"; }

# field N LINE: the Nth word
field() { echo "$2" | awk -v n="$1" '{ print $n }'; }

# wait_line PATTERN: the last line of the stack's log matching, within 10 s
wait_line() {
	for _ in $(seq 100); do
		if grep -q -E "$1" "$STACK_LOG"; then
			grep -E "$1" "$STACK_LOG" | tail -1
			return 0
		fi
		sleep 0.1
	done
	return 1
}

mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f MB/s", b / s / 1e6 }'; }

# echo_both TAG: 100 MiB each way at once through echo
echo_both() {
	out=$(peer echo $STACK_IP $BIG)
	is "$1: echo, 100 MiB each way at once: all back" \
	    "$(field 3 "$out")" "$BIG"
	ok "$1: echo: SHA-256 equal" \
	    test -n "$(field 4 "$out")" -a "$(field 4 "$out")" = "$(field 5 "$out")"
	[ -n "$out" ] && diag "$1: echo $(mbs $((2 * BIG)) "$(field 6 "$out")") (both ways)"
}

# transfers TAG: 100 MiB to discard, from source, and both ways via echo
transfers() {
	tag=$1
	out=$(peer discard $STACK_IP $BIG)
	line=$(wait_line "^discard $BIG ") || line="(none)"
	is "$tag: Linux -> stack, 100 MiB: SHA-256 equal" \
	    "$(field 3 "$line")" "$(field 3 "$out")"
	[ -n "$out" ] && diag "$tag: Linux -> stack $(mbs $BIG "$(field 4 "$out")")"

	out=$(peer source $STACK_IP $BIG)
	is "$tag: stack -> Linux, 100 MiB: all of it" "$(field 2 "$out")" "$BIG"
	is "$tag: stack -> Linux: SHA-256 of the pattern" \
	    "$(field 3 "$out")" "$(field 4 "$out")"
	line=$(wait_line "^source $BIG ") || line="(none)"
	is "$tag: stack -> Linux: the stack sent the same" \
	    "$(field 3 "$line")" "$(field 3 "$out")"
	[ -n "$out" ] && diag "$tag: stack -> Linux $(mbs $BIG "$(field 5 "$out")")"
	echo_both "$tag"
}

# ---- a clean link ----
ok "tapstack starts" start_stack "$TMP/clean.log"
ok "the stack answers ping" nsx ping -c 1 -W 2 $STACK_IP
transfers clean
is "SYN to a closed port: refused (RST)" "$(peer refused $STACK_IP 81)" refused
out=$(peer parallel $STACK_IP 100 262144)
is "100 connections at once, 256 KiB echoed each" "$(field 2 "$out")" 100
diag "parallel: $out"

# Closes: Linux closed the echo connections first (its TIME_WAIT), the
# stack closed the source ones first (its TIME_WAIT, 2 x 500 ms).
tw=$(nsx ss -tan state time-wait | grep -c "$STACK_IP:")
ok "Linux's active closes reached TIME_WAIT ($tw)" test "$tw" -gt 0
sleep 1.5
kill -USR1 "$STACK_PID"
line=$(wait_line "^status ")
is "every close ran to its end: no connection left" \
    "$(echo "$line" | grep -o 'conns=[0-9]*')" "conns=0"
ok "no connection timed out or was reset" \
    sh -c "! grep -q '^closed' '$STACK_LOG'"
stop_stack

# ---- loss and reordering ----
nsx tc qdisc del dev tap0 root 2>/dev/null
if nsx tc qdisc add dev tap0 root netem loss 5% reorder 25% delay 1ms \
    2>/dev/null; then
	diag "impairment: netem on Linux's side, nftables 5% of the stack's"
	hold=
	nft_in=1
	nft_out=0
else
	diag "impairment: no netem in this kernel; nftables 5% each way," \
	    "tapstack holds 25% of frames each way for 1 ms"
	hold="--hold 250 --hold-us 1000"
	nft_in=1
	nft_out=1
fi
if command -v nft >/dev/null 2>&1 && nsx nft -f - <<EOF
table inet uktest {
	chain in {
		type filter hook input priority 0;
		$( [ $nft_in = 1 ] && echo 'iifname "tap0" numgen random mod 100 < 5 drop' )
	}
	chain out {
		type filter hook output priority 0;
		$( [ $nft_out = 1 ] && echo 'oifname "tap0" numgen random mod 100 < 5 drop' )
	}
}
EOF
then
	# shellcheck disable=SC2086
	ok "tapstack starts, impaired" start_stack "$TMP/lossy.log" $hold
	echo_both lossy
	is "lossy: closed port refused" "$(peer refused $STACK_IP 81)" refused
	out=$(peer parallel $STACK_IP 20 262144)
	is "lossy: 20 connections at once" "$(field 2 "$out")" 20
	sleep 1.5
	kill -USR1 "$STACK_PID"
	line=$(wait_line "^status ")
	is "lossy: no connection left" \
	    "$(echo "$line" | grep -o 'conns=[0-9]*')" "conns=0"
	diag "lossy: $line"
	stop_stack
else
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - lossy transfers # SKIP no nftables to drop frames"
fi

done_testing
