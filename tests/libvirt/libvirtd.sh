# tests/libvirt/libvirtd.sh - a libvirtd (and its virtlogd) of the test's
# own, for the tests that use qemu:///system: runtime-libvirt.sh and
# backend-libvirt.sh source it.  How and why: tests/libvirt/README.md,
# "The daemons: private, started and stopped by the test".
#
# Use, in this order:
#
#	. "$top_srcdir/tests/libvirt/libvirtd.sh"
#	libvirt_ns_enter "$0" "$@"	# as root: again, in new namespaces
#	. "$top_srcdir/tests/lib.sh"	# TAP, $TMP
#	libvirtd_init			# $SYS, $SYSURI, $TAG
#	system_daemons LABEL || return	# TAP lines; stop_daemons at exit
#
# Nothing here runs when sourced.  Domains of this run are named
# "uk-$TAG-*": destroy_ours destroys those and no others.

# libvirt_ns_enter SCRIPT [ARG...]: as root, runs SCRIPT again inside new
# mount, PID and network namespaces (UK_VIRT_NS=private there), so that
# its own libvirtd and virtlogd live on bind mounts over the system's
# libvirt paths and nothing they start can outlive the test.  Otherwise,
# or with UK_VIRT_NS=host set by hand, it returns and the test works on
# the host's real paths.
libvirt_ns_enter() {
	local script="$1"
	shift
	[ -z "${UK_VIRT_NS:-}" ] || return 0
	if [ "$(id -u)" = 0 ] &&
	    unshare --mount --pid --net --fork --mount-proc true 2>/dev/null
	then
		exec unshare --mount --pid --net --fork --mount-proc \
		    --propagation private --kill-child \
		    env UK_VIRT_NS=private /bin/sh "$script" "$@"
	fi
	UK_VIRT_NS=host
}

# libvirtd_init: after tests/lib.sh (it needs $TMP).  Domain names carry
# the temp dir's random part ($TAG): concurrent runs (and the cgroups
# libvirt names after domains, which are host-wide) differ.  $TMP is made
# 0711 so that QEMU, as libvirt-qemu, reaches the files the test boots.
libvirtd_init() {
	SYS=$TMP/sys		# bind-mounted over the system's paths
	SYSURI=qemu:///system
	SYSLOG=/var/log/libvirt/qemu	# QEMU's logs, as libvirtd sees them
	TAG=${TMP##*.}
	chmod 711 "$TMP"
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds.
wait_for() {
	local n="$(($1 * 10))"
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# private_daemons: virtlogd and libvirtd on private paths, with a minimal
# configuration: qemu runs as Debian's libvirt-qemu user, as it would for
# the real daemon; the only settings are where libvirtd logs.
private_daemons() {
	local d
	for d in run lib cache log etc; do
		mkdir -p "$SYS/$d" || return 1
	done
	echo 'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"' \
	    >"$SYS/etc/libvirtd.conf"
	: >"$SYS/etc/virtlogd.conf"
	: >"$SYS/etc/qemu.conf"
	mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt \
	    /var/log/libvirt /etc/libvirt || return 1
	mount --bind "$SYS/run" /run/libvirt &&
	mount --bind "$SYS/lib" /var/lib/libvirt &&
	mount --bind "$SYS/cache" /var/cache/libvirt &&
	mount --bind "$SYS/log" /var/log/libvirt &&
	mount --bind "$SYS/etc" /etc/libvirt || return 1
	timeout 30 virtlogd -d -p "$SYS/virtlogd.pid" || return 1
	start_libvirtd
}

# start_libvirtd: libvirtd alone (virtlogd already runs), ready when
# `virsh uri` answers.  Also how a test restarts it.
start_libvirtd() {
	timeout 30 libvirtd -d -p "$SYS/libvirtd.pid" || return 1
	wait_for 30 virsh -q -c "$SYSURI" uri
}

# host_daemons: without namespaces, the host's own daemons on the real
# paths with the host's configuration, when none runs (one that does is
# used, and neither restarted nor stopped: system_daemons).  A virtlogd
# already running is used likewise.  What this starts, stop_daemons stops.
host_daemons() {
	mkdir -p "$SYS" || return 1
	if ! { [ -S /run/libvirt/virtlogd-sock ] && [ -f /run/virtlogd.pid ] &&
	    alive "$(cat /run/virtlogd.pid)"; }; then
		timeout 30 virtlogd -d -p "$SYS/virtlogd.pid" || return 1
	fi
	start_libvirtd
}

# alive PID: the process exists and is not a zombie.
alive() {
	[ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"
}

dead() { ! alive "$1"; }

# stop_pidfile FILE: SIGTERM to the daemon FILE names, SIGKILL after 15 s.
stop_pidfile() {
	local pid
	[ -f "$1" ] && pid=$(cat "$1") && [ -n "$pid" ] || return 0
	alive "$pid" || return 0
	kill "$pid" 2>/dev/null
	wait_for 15 dead "$pid" && return 0
	kill -9 "$pid" 2>/dev/null
	return 1
}

# destroy_ours URI: destroys this run's domains left on URI (after a
# failure); others' domains are not ours to touch.
destroy_ours() {
	local n
	timeout 30 virsh -q -c "$1" list --name 2>/dev/null |
	while read -r n; do
		case $n in
		uk-"$TAG"-*)
			timeout 30 virsh -q -c "$1" destroy "$n" >/dev/null 2>&1
			;;
		esac
	done
}

# stop_daemons: destroys this run's domains, stops the daemons it started.
stop_daemons() {
	local rc=0
	destroy_ours "$SYSURI"
	stop_pidfile "$SYS/libvirtd.pid" || rc=1
	stop_pidfile "$SYS/virtlogd.pid" || rc=1
	rm -f "$SYS/libvirtd.pid" "$SYS/virtlogd.pid"
	return $rc
}

# system_daemons LABEL: a libvirtd answering on $SYSURI, as a TAP line
# "LABEL: libvirtd and virtlogd start..." (or a diagnostic when the
# host's running one is used); stop_daemons runs at exit.  Fails, with
# the end of libvirtd's log as TAP comments, when there is none.
system_daemons() {
	local n=$tap_failed
	if ! command -v libvirtd >/dev/null || ! command -v virtlogd >/dev/null
	then
		ok "$1: libvirtd and virtlogd installed" false
		return 1
	fi
	at_exit stop_daemons
	if [ "$UK_VIRT_NS" = private ]; then
		ok "$1: libvirtd and virtlogd start on private paths" \
		    private_daemons
	elif virsh -q -c "$SYSURI" uri >/dev/null 2>&1; then
		diag "no private namespaces: using the libvirtd already" \
		    "running, which this test neither restarts nor stops"
	else
		diag "no private namespaces: starting the host's libvirtd"
		ok "$1: libvirtd and virtlogd start" host_daemons
	fi
	if [ "$tap_failed" -ne "$n" ]; then
		tail -n 20 /var/log/libvirt/libvirtd.log 2>/dev/null |
		    sed 's/^/#   /'
		return 1
	fi
}
