#!/bin/sh
# backend-libvirt.sh - the daemon's libvirt backend, driven through its ops
# table (tests/libvirt/backend-drive) against a libvirtd this test starts
# (qemu:///system) and against the embedded driver (qemu:///embed): how
# guests end (exit code, crash, stop, kill, outside destroy, stopped
# vCPUs), adoption after the backend or its process is gone, and libvirtd
# restarting under running guests.  docs/daemon.md, "The libvirt
# backend", says what each event means.
#
# The daemons are started as runtime-libvirt.sh starts them, in private
# namespaces when root (tests/libvirt/libvirtd.sh, README.md there).
. "$top_srcdir/tests/libvirt/libvirtd.sh"
libvirt_ns_enter "$0" "$@"
. "$top_srcdir/tests/lib.sh"

DRIVE=$top_builddir/tests/libvirt/backend-drive
QBOOT=/usr/share/qemu/qboot.rom
TIMEOUT=${UK_VIRT_TIMEOUT:-60}	# seconds a step waits for a guest

[ -x "$DRIVE" ] || skip_all "tests/libvirt/backend-drive not built:" \
	"configure found no libvirt (install libvirt-dev)"
command -v virsh >/dev/null || skip_all "virsh not installed (libvirt-clients)"
[ -r "$QBOOT" ] || skip_all "$QBOOT missing (qemu-system-x86)"
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	diag "guests run under KVM (the backend probes for it)"
else
	diag "/dev/kvm is not usable: the backend falls back to TCG"
fi

libvirtd_init		# $SYS, $SYSURI, $TAG (libvirtd.sh)
K=$TMP/kernels		# copies: libvirt chowns what it boots
W=$TMP/work		# consoles
mkdir -m 755 "$K" "$W" || exit 1
for k in hello crash loop; do
	if ! cp "$top_builddir/kernels/$k/$k.elf" "$K/"; then
		ok "kernel $k is built" false
		done_testing
		exit
	fi
done
chmod 644 "$K"/*.elf

# drive NAME URI STEP...: backend-drive's output in $TMP/NAME.out, its
# stderr in $TMP/NAME.err, its exit status in $TMP/NAME.rc.
drive() {
	local name="$1" rc=0
	shift
	timeout $((TIMEOUT * 4)) "$DRIVE" -d "$W" -t "$TIMEOUT" "$@" \
	    >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
	echo "$rc" >"$TMP/$name.rc"
}

out() { cat "$TMP/$1.out" 2>/dev/null; }

# result NAME: the driver's output lines joined by '|', and "|exit N"
# when it failed (a step failed, or a guest ended twice).
result() {
	local got rc
	got=$(out "$1" | tr '\n' '|')
	rc=$(cat "$TMP/$1.rc" 2>/dev/null)
	[ "$rc" = 0 ] || got="${got}exit $rc|"
	echo "${got%|}"
}

# show NAME: what a failed case left, as TAP comments.
show() {
	local f
	for f in "$TMP/$1.out" "$TMP/$1.err" "$W/$TAG-$1.console"; do
		[ -s "$f" ] || continue
		echo "# --- $f"
		tail -n 20 "$f" | sed 's/^/#   /'
	done
}

# check NAME LABEL WANT: the driver succeeded and printed WANT (lines
# joined by '|'); on failure shows what it left.
check() {
	local before=$tap_failed
	is "$2" "$(result "$1")" "$3"
	[ "$tap_failed" -eq "$before" ] || show "$1"
}

# match NAME LABEL PATTERN: the same with a shell pattern.
match() {
	local got
	got=$(result "$1")
	case $got in
	$3) ok "$2" true ;;
	*)
		ok "$2" false
		echo "#   got:  '$got'"
		echo "#   want: '$3'"
		show "$1"
		;;
	esac
}

STOPPED="stopped: stopped by unikerneld"

# common LABEL SHORT URI: what every URI must do.
common() {
	local l="$1" s="$2" u="$3" n

	n=$s-hello
	drive "$n" "$u" start "$TAG-$n" "$K/hello.elf" "exit=3" end
	check "$n" "$l: hello exit=3 is EXITED 3" "exited 3"
	is "$l: hello's console ends with the trailer" \
	    "$(tail -n 1 "$W/$TAG-$n.console" | tr -d '\r')" \
	    "=== rt: exit 3 ==="

	n=$s-listener
	drive "$n" "$u" start "$TAG-$n" "$K/hello.elf" "exit=0" \
	    close-in-listener end
	check "$n" "$l: the listener closes the backend" "exited 0"

	n=$s-crash
	drive "$n" "$u" start "$TAG-$n" "$K/crash.elf" "" end
	check "$n" "$l: crash is CRASHED, with the trailer's reason" \
	    "crashed: crashed (page fault)"

	n=$s-ud
	drive "$n" "$u" start "$TAG-$n" "$K/crash.elf" "crash=ud" end
	check "$n" "$l: crash=ud is CRASHED (invalid opcode)" \
	    "crashed: crashed (invalid opcode)"

	n=$s-stop
	drive "$n" "$u" start "$TAG-$n" "$K/loop.elf" "" \
	    console "heartbeat 1" stop end
	check "$n" "$l: loop, then stop: STOPPED" "$STOPPED"

	n=$s-kill
	drive "$n" "$u" start "$TAG-$n" "$K/loop.elf" "" \
	    console "heartbeat 1" kill end
	check "$n" "$l: loop, then kill: STOPPED" "$STOPPED"

	# Restarted under the same UUID right after its end was reported.
	n=$s-again
	drive "$n" "$u" start "$TAG-$n" "$K/hello.elf" "exit=1" end \
	    start "$TAG-$n" "$K/hello.elf" "exit=2" end \
	    start "$TAG-$n" "$K/loop.elf" "" console "heartbeat 1" kill end \
	    start "$TAG-$n" "$K/hello.elf" "exit=4" end
	check "$n" "$l: one instance started four times in a row" \
	    "exited 1|exited 2|$STOPPED|exited 4"

	n=$s-reopen
	drive "$n" "$u" start "$TAG-$n" "$K/loop.elf" "" \
	    console "heartbeat 1" close reopen adopt list stop end
	check "$n" "$l: backend closed and reopened: adopt, list, stop" \
	    "adopted|listed $TAG-$n|$STOPPED"

	n=$s-bad
	drive "$n" "$u" bad-start
	check "$n" "$l: a kernel that does not exist: start fails" \
	    "backend_start_failed"

	n=$s-nosuch
	drive "$n" "$u" adopt 00000000-0000-0000-0000-00000000abcd
	check "$n" "$l: adopting an unknown UUID" "backend_no_such_guest"
}

# restart LABEL SHORT URI: the daemon's process ends (the backend is
# closed, the guest runs on), another adopts the guest.
restart() {
	local l="$1" s="$2" u="$3" n h

	n=$s-cross
	drive "$n-1" "$u" start "$TAG-$n" "$K/loop.elf" "" \
	    console "heartbeat 1" handle
	h=$(out "$n-1")
	ok "$l: a guest started by one process" [ ${#h} -eq 36 ]
	drive "$n-2" "$u" adopt "$h" list stop end
	check "$n-2" "$l: ...is adopted, listed and stopped by another" \
	    "adopted|listed $TAG-$n|$STOPPED"
	drive "$n-3" "$u" adopt "$h"
	check "$n-3" "$l: ...and, once gone, cannot be adopted" \
	    "backend_no_such_guest"

	# It exits after two beats, once its process has gone.
	n=$s-gone
	drive "$n-1" "$u" start "$TAG-$n" "$K/loop.elf" "beats=2" handle
	h=$(out "$n-1")
	ok "$l: a guest exits after its process has gone" wait_for "$TIMEOUT" \
	    grep -q "=== rt: exit 0 ===" "$W/$TAG-$n.console"
	if [ "$u" = "$SYSURI" ]; then
		wait_for 30 domain_gone "$u" "uk-$TAG-$n"
	else
		sleep 2	# the ACPI poweroff follows the trailer
	fi
	# libvirtd noticed at once.  The embedded driver of the next process
	# reconnects to its QEMUs in threads of its own: until it finds this
	# one dead the domain still runs, and the end follows the adoption.
	drive "$n-2" "$u" adopt "$h" quiet 5
	if [ "$u" = "$SYSURI" ]; then
		check "$n-2" "$l: ...and cannot be adopted by the next" \
		    "backend_no_such_guest|quiet"
	else
		case $(result "$n-2") in
		"backend_no_such_guest|quiet" | "adopted|exited 0")
			ok "$l: ...and is not adopted, or ends at once" true ;;
		*)
			ok "$l: ...and is not adopted, or ends at once" false
			show "$n-2" ;;
		esac
	fi
}

domain_gone() {	# domain_gone URI NAME
	! virsh -q -c "$1" list --name | grep -qx "$2"
}

##### qemu:///system through our own libvirtd

# system_only: what needs a libvirtd: virsh on the same domains, and
# libvirtd itself going away.
system_only() {
	local l=system n u="$SYSURI"

	n=sys-destroy
	drive "$n" "$u" start "$TAG-$n" "$K/loop.elf" "" \
	    console "heartbeat 1" \
	    sh 'virsh -q -c "$URI" destroy "$DOMAIN" >/dev/null' end
	check "$n" "$l: virsh destroy is STOPPED, from outside" \
	    "stopped: destroyed outside unikerneld"

	# An operator's pause is left alone; vCPUs stopped by QEMU (as a
	# KVM internal error leaves them: "paused (unknown)") are a failure.
	n=sys-suspend
	drive "$n" "$u" start "$TAG-$n" "$K/loop.elf" "" \
	    console "heartbeat 1" \
	    sh 'virsh -q -c "$URI" suspend "$DOMAIN" >/dev/null' quiet 4 \
	    sh 'virsh -q -c "$URI" resume "$DOMAIN" >/dev/null' \
	    console "heartbeat 2" stop end
	check "$n" "$l: virsh suspend is left alone, resume, stop" \
	    "quiet|$STOPPED"

	n=sys-vcpus
	drive "$n" "$u" start "$TAG-$n" "$K/loop.elf" "" \
	    console "heartbeat 1" \
	    sh 'virsh -q -c "$URI" qemu-monitor-command "$DOMAIN" \
	    "{\"execute\":\"stop\"}" >/dev/null' end
	match "$n" "$l: vCPUs stopped by QEMU: FAILED, destroyed" \
	    "failed: the guest's vCPUs stopped*destroyed"
	is "$l: ...and the domain is gone" "$(virsh -q -c "$u" list --name |
	    grep -c "^uk-$TAG-$n\$")" 0

	n=sys-adopt-paused
	drive "$n-1" "$u" start "$TAG-$n" "$K/loop.elf" "" \
	    console "heartbeat 1" handle \
	    sh 'virsh -q -c "$URI" qemu-monitor-command "$DOMAIN" \
	    "{\"execute\":\"stop\"}" >/dev/null'
	drive "$n-2" "$u" adopt "$(out "$n-1")" end
	match "$n-2" "$l: adopting a guest whose vCPUs stopped: FAILED" \
	    "adopted|failed: the guest's vCPUs stopped*"

	# libvirtd going away: only a libvirtd this test started.
	if [ ! -f "$SYS/libvirtd.pid" ]; then
		skip "$l: libvirtd restarts" "not our libvirtd"
		return
	fi
	# The commands run by backend-drive's "sh" step.
	LVD='. "$top_srcdir/tests/libvirt/libvirtd.sh"; SYS='"$SYS"';
	    SYSURI='"$SYSURI"
	STOP="$LVD; stop_pidfile \"\$SYS/libvirtd.pid\""
	START="$LVD; start_libvirtd"
	n=sys-reconnect
	drive "$n" "$u" start "$TAG-$n" "$K/loop.elf" "" \
	    console "heartbeat 1" sh "$STOP; start_libvirtd" ready \
	    console "heartbeat 3" list stop end
	check "$n" "$l: libvirtd restarts: reconnect, list, stop" \
	    "listed $TAG-$n|$STOPPED"

	n=sys-lost
	drive "$n" "$u" start "$TAG-$n" "$K/loop.elf" "beats=2" \
	    console "heartbeat 1" sh "$STOP" \
	    console "2 beats, done" sh "sleep 1; $START" end
	check "$n" "$l: a guest exits while libvirtd is down: EXITED 0" \
	    "exited 0"
}

skip() {	# skip NAME REASON
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

if [ "$(id -u)" != 0 ]; then
	skip "qemu:///system" "needs root"
elif system_daemons "qemu:///system"; then
	common system sys "$SYSURI"
	restart system sys "$SYSURI"
	system_only
	is "qemu:///system: none of our domains left" \
	    "$(timeout 30 virsh -q -c "$SYSURI" list --all --name |
	    grep -c "^uk-$TAG-")" 0
	ok "qemu:///system: the daemons we started stop" stop_daemons
fi

##### qemu:///embed?root=DIR: libvirt's QEMU driver inside backend-drive

EMBED=$TMP/embed
EMBURI="qemu:///embed?root=$EMBED"
# No daemon, not even virtlogd: QEMU's own output goes to a file.
mkdir -p "$EMBED/etc" || exit 1
echo 'stdio_handler = "file"' >"$EMBED/etc/qemu.conf"
at_exit "destroy_ours '$EMBURI'"

common embed emb "$EMBURI"
# The embedded driver lives in the process; its QEMUs outlive it, and
# the next process to open the same root finds them again.
restart embed emb "$EMBURI"

n=emb-tcg
drive "$n" "$EMBURI type=qemu" start "$TAG-$n" "$K/hello.elf" "exit=5" end
check "$n" "embed, type=qemu: hello under TCG is EXITED 5" "exited 5"
ok "embed, type=qemu: hello names the platform tcg" \
    grep -q "This is hello on tcg" "$W/$TAG-$n.console"

n=emb-noloader
drive "$n" "qemu:///embed?root=$TMP/nope loader=$TMP/no-such.rom" list
ok "a missing loader: open fails, naming it" \
    grep -q "backend_unavailable.*no-such.rom" "$TMP/$n.err"

if [ "$UK_VIRT_NS" = private ]; then
	# Everything started here lives in this PID namespace.
	is "no QEMU process left" "$(ps -e -o stat= -o comm= |
	    grep -v '^Z' | grep -c qemu-system)" 0
fi
done_testing
