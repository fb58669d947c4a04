#!/bin/sh
# net-dhcp.sh - the runtime stack's DHCP client against a real server:
# Debian's dnsmasq, in a network namespace this test makes, serving
# 10.78.0.50-60 with a two-minute lease (dnsmasq's shortest) on a tap
# that tests/net/tapdhcp runs the stack on.  Checks the lease is in the
# range, dnsmasq's lease file has our MAC, `ping` from the namespace is
# answered, the lease is renewed at T1 (60 s: dnsmasq logs a second ACK
# and its lease file moves the expiry on), and stopping releases it
# (dnsmasq logs the RELEASE and forgets the lease).  No frame leaves the
# namespace.  About 75 s.
#
# Needs root (namespaces, taps) and /dev/net/tun, else skipped; dnsmasq,
# ping and ip (scripts/deps.sh lists their packages) are installed with
# apt-get when missing.
. "$top_srcdir/tests/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "not root: no network namespace"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"

TAPDHCP=$top_builddir/tests/net/tapdhcp
NS=uk-dhcp-$$
TAP=ukdhcp0
MAC=52:54:00:4e:00:2a

missing=""
command -v dnsmasq >/dev/null 2>&1 || missing="$missing dnsmasq-base"
command -v ping >/dev/null 2>&1 || missing="$missing iputils-ping"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
if [ -n "$missing" ]; then
	diag "installing:$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing \
	    </dev/null >"$TMP/apt.log" 2>&1 || cat "$TMP/apt.log" >&2
fi
for c in dnsmasq ping ip; do
	command -v $c >/dev/null 2>&1 || { echo "Bail out! $c missing"; exit 1; }
done

# wait_for SECONDS COMMAND...: until COMMAND succeeds, or fails at the end
wait_for() {
	local n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	"$@"
}

ip netns add "$NS" || { echo "Bail out! ip netns add failed"; exit 1; }
at_exit "ip netns del $NS 2>/dev/null"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap
ip -n "$NS" addr add 10.78.0.1/24 dev "$TAP"
ip -n "$NS" link set "$TAP" up

# dnsmasq: DHCP only (--port=0), on the tap alone, everything in $TMP.
ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null \
	--port=0 --interface="$TAP" --bind-interfaces --user=root \
	--dhcp-range=10.78.0.50,10.78.0.60,255.255.255.0,2m \
	--dhcp-leasefile="$TMP/leases" --pid-file="$TMP/dnsmasq.pid" \
	--log-dhcp --log-facility="$TMP/dnsmasq.log" 2>"$TMP/dnsmasq.err" &
dnsmasq_pid=$!
at_exit "kill $dnsmasq_pid 2>/dev/null"
ready() { grep -q 'sockets bound exclusively' "$TMP/dnsmasq.log" 2>/dev/null; }
ok "dnsmasq listening" wait_for 15 ready

# The stack: 100 s is past T1 (60 s) with room; stopped before that.
ip netns exec "$NS" "$TAPDHCP" "$TAP" 100 "$MAC" >"$TMP/tap.log" \
	2>"$TMP/tap.err" &
tap_pid=$!
at_exit "kill $tap_pid 2>/dev/null"

show() {
	for f in tap.log tap.err dnsmasq.log dnsmasq.err leases; do
		[ -s "$TMP/$f" ] && sed "s/^/#   $f: /" "$TMP/$f" | tail -25
	done
	return 0
}

bound() { grep -q '^bound ' "$TMP/tap.log"; }
ok "bound within 40 s" wait_for 40 bound
line=$(grep '^bound ' "$TMP/tap.log" | head -1)
diag "$line"
addr=$(echo "$line" | sed -n 's|^bound \([0-9.]*\)/.*|\1|p')
last=${addr##*.}
in_range() { [ -n "$addr" ] && [ "${addr%.*}" = 10.78.0 ] &&
	[ "$last" -ge 50 ] && [ "$last" -le 60 ]; }
ok "address $addr in 10.78.0.50-60" in_range
is "mask /24, router dnsmasq's own, its lease, its server" \
	"$(echo "$line" | cut -d' ' -f2- | sed 's|^[0-9.]*/|/|')" \
	"/24 gw 10.78.0.1 lease 120 server 10.78.0.1"
lease_has_mac() { grep -q -i " $MAC $addr " "$TMP/leases"; }
ok "dnsmasq's lease file lists our MAC and address" \
	wait_for 5 lease_has_mac
ok "ping from the namespace answered" \
	ip netns exec "$NS" ping -c 3 -i 0.3 -W 2 "$addr"
expiry1=$(grep -i " $MAC " "$TMP/leases" | cut -d' ' -f1)

# Renewal at T1 = 60 s: a REQUEST to dnsmasq, its ACK, a new expiry.
renewed() { grep -q '^renewed ' "$TMP/tap.log"; }
ok "renewed (T1, 60 s) within 80 s" wait_for 80 renewed
acks() { grep -c "DHCPACK($TAP) $addr $MAC" "$TMP/dnsmasq.log"; }
ok "dnsmasq ACKed twice" test "$(acks)" -ge 2
# dnsmasq answers a REQUEST with the broadcast flag and no ciaddr (ours
# while unconfigured) by broadcast; a renewal's, which has ciaddr, not.
xid2=$(grep "DHCPACK($TAP) $addr $MAC" "$TMP/dnsmasq.log" | sed -n \
	'2s/.*\]: \([0-9]*\) DHCPACK.*/\1/p')
ok "first ACK broadcast (we asked for it)" \
	grep -q ": $(grep "DHCPACK($TAP)" "$TMP/dnsmasq.log" | head -1 |
	    sed 's/.*\]: \([0-9]*\) .*/\1/') broadcast response" \
	    "$TMP/dnsmasq.log"
ok "the renewal's transaction found ($xid2)" test -n "$xid2"
not_ok "the renewal's ACK not (ciaddr, no broadcast flag: unicast)" \
	grep -q ": ${xid2:-none} broadcast response" "$TMP/dnsmasq.log"
expiry2=$(grep -i " $MAC " "$TMP/leases" | cut -d' ' -f1)
ok "lease file expiry moved on ($expiry1 -> $expiry2)" \
	test "${expiry2:-0}" -gt "${expiry1:-0}"
ok "ping still answered" ip netns exec "$NS" ping -c 1 -W 2 "$addr"

# Stopping releases the lease.
kill -TERM "$tap_pid"
status=0
wait "$tap_pid" || status=$?
is "tapdhcp exits 0" "$status" 0
ok "tapdhcp says released" grep -q '^released$' "$TMP/tap.log"
released() { grep -q "DHCPRELEASE($TAP) $addr $MAC" "$TMP/dnsmasq.log"; }
ok "dnsmasq got the RELEASE" wait_for 5 released
gone() { ! grep -q -i " $MAC " "$TMP/leases"; }
ok "and forgot the lease" wait_for 5 gone
[ "$tap_failed" -eq 0 ] || show
done_testing
