# tests/lib-guest-net.sh - sourced after tests/lib.sh by the tests that
# boot network kernels (httpd, echo) under QEMU and talk to them, either
# over QEMU's user networking with forwards on 127.0.0.1, or over a tap
# inside a network namespace the test makes: no frame goes anywhere else.
#
#   guest_user NAME KERNEL INITRD CMDLINE FWD...   FWD: tcp:HOSTPORT-:PORT
#   netns_make NS                                  a namespace, lo up
#   guest_tap NS NAME KERNEL INITRD CMDLINE HOSTIP/N
#                    QEMU inside NS with a tap "uk0" given HOSTIP/N
#   guest_wait NAME REGEX [SECONDS]                until the console has it
#   guest_console NAME                             the console so far
#   in_ns NS COMMAND...                            ip netns exec
#
# Guests are microvm under KVM when /dev/kvm exists, else TCG; each runs
# with GUEST_MEM MiB (default 64) and is killed at exit.

QEMU=${QEMU:-qemu-system-x86_64}
GUEST_MEM=${GUEST_MEM:-64}
if [ -e /dev/kvm ]; then
	GUEST_ACCEL="-accel kvm -cpu qemu64"
else
	GUEST_ACCEL="-accel tcg -cpu max"
fi

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

netns_make() {
	ip netns add "$1" || return 1
	at_exit "ip netns del $1 2>/dev/null"
	in_ns "$1" ip link set lo up
}

# _guest_start NAME NETOPTS KERNEL INITRD CMDLINE [PREFIX...]
_guest_start() {
	local name=$1 net=$2 kernel=$3 initrd=$4 cmdline=$5 initrd_opt=""
	shift 5
	[ -n "$initrd" ] && initrd_opt="-initrd $initrd"
	# shellcheck disable=SC2086
	"$@" $QEMU -M microvm $GUEST_ACCEL -m "$GUEST_MEM" -nodefaults \
	    -no-user-config -display none -serial "file:$TMP/$name.console" \
	    $net -kernel "$kernel" $initrd_opt -append "$cmdline" \
	    >"$TMP/$name.qemu" 2>&1 &
	echo $! >"$TMP/$name.pid"
	at_exit "kill \$(cat $TMP/$name.pid) 2>/dev/null"
}

guest_user() {
	local name=$1 kernel=$2 initrd=$3 cmdline=$4 fwd="" f
	shift 4
	for f in "$@"; do fwd="$fwd,hostfwd=$(echo "$f" | sed 's/:\([0-9]*\)-/:127.0.0.1:\1-/')"; done
	_guest_start "$name" "-netdev user,id=n0,restrict=on$fwd -device virtio-net-device,netdev=n0,mac=52:54:00:12:34:56" \
	    "$kernel" "$initrd" "$cmdline"
}

guest_tap() {
	local ns=$1 name=$2 kernel=$3 initrd=$4 cmdline=$5 addr=$6
	_guest_start "$name" "-netdev tap,id=n0,ifname=uk0,script=no,downscript=no -device virtio-net-device,netdev=n0,mac=52:54:00:12:34:57" \
	    "$kernel" "$initrd" "$cmdline" ip netns exec "$ns"
	# QEMU makes the tap when it starts: wait for it, then address it.
	local i=0
	while ! in_ns "$ns" ip link show uk0 >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
	in_ns "$ns" ip addr add "$addr" dev uk0 &&
	in_ns "$ns" ip link set uk0 up
}

guest_console() { cat "$TMP/$1.console" 2>/dev/null; }

guest_wait() {
	local name=$1 re=$2 secs=${3:-30} i=0
	while ! grep -q -E "$re" "$TMP/$name.console" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $((secs * 10)) ] || ! kill -0 "$(cat "$TMP/$name.pid")" 2>/dev/null; then
			diag "$name: no \"$re\" on its console:"
			sed 's/^/#   /' "$TMP/$name.console" "$TMP/$name.qemu" 2>/dev/null | tail -20
			return 1
		fi
		sleep 0.1
	done
}
