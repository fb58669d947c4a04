#!/bin/sh
# runtime-libvirt.sh - boots the runtime's kernels through libvirt: through
# a libvirtd this test starts (qemu:///system) and through the embedded
# QEMU driver (qemu:///embed?root=DIR).  It checks the console, the exit
# trailer, and that libvirt's lifecycle events tell an exit (shutdown)
# from a crash (pvpanic).  How it works: tests/libvirt/README.md.
#
# As root the test runs itself again inside new mount, PID and network
# namespaces: its own libvirtd and virtlogd then live on bind mounts over
# /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt
# and /etc/libvirt, so a libvirtd already running on the host is neither
# used nor disturbed, and nothing the test starts can outlive it.
# UK_VIRT_NS is "private" inside those namespaces; "host" (set by hand, or
# when unshare cannot make them) runs the daemons on the real paths.
. "$top_srcdir/tests/libvirt/libvirtd.sh"
libvirt_ns_enter "$0" "$@"
. "$top_srcdir/tests/lib.sh"

VIRT_BOOT=$top_builddir/tests/libvirt/virt-boot
QBOOT=/usr/share/qemu/qboot.rom
BOOT_TIMEOUT=${UK_VIRT_TIMEOUT:-60}	# seconds virt-boot waits for a guest
MEM_MIB=32

[ -x "$VIRT_BOOT" ] || skip_all "tests/libvirt/virt-boot not built:" \
	"configure found no libvirt (install libvirt-dev)"
command -v virsh >/dev/null || skip_all "virsh not installed (libvirt-clients)"
[ -r "$QBOOT" ] || skip_all "$QBOOT missing (qemu-system-x86)"

# KVM when this host has it, else TCG: slower, same checks.
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	DOMTYPE=kvm
else
	DOMTYPE=qemu
	diag "/dev/kvm is not usable: guests run under TCG"
fi

libvirtd_init		# $SYS, $SYSURI, $SYSLOG, $TAG (libvirtd.sh)
K=$TMP/kernels		# copies: libvirt may chown what it boots
mkdir -m 755 "$K" || exit 1

skip() {	# skip NAME REASON
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

lastline() { tail -n 1 "$1" 2>/dev/null | tr -d '\r'; }
result() { head -n 1 "$TMP/$1.result" 2>/dev/null; }

# kernel REL: copies the built kernel $top_builddir/REL into $K.  Fails
# with a reason in $why; $why_skip is set when this build does not make
# that kernel yet (the runtime is younger than this test).
kernel() {
	why_skip=
	if [ -f "$top_builddir/$1" ]; then
		cp "$top_builddir/$1" "$K/" && chmod 644 "$K/${1##*/}" &&
			return 0
		why="cannot copy $1"
	elif grep -q "$1" "$top_builddir/Makefile" 2>/dev/null; then
		why="$1 is not built"
	else
		why="this build does not make $1 yet"
		why_skip=1
	fi
	return 1
}

# domain_xml NAME MACHINE KERNEL CMDLINE ON_CRASH [QEMU_ARG...] writes
# $TMP/NAME.xml: the kernel booted by qboot, COM1 to $TMP/NAME.console,
# pvpanic, ACPI (for S5 poweroff), and QEMU_ARGs through the qemu
# namespace if any.
domain_xml() {
	local name="$1" machine="$2" kernel="$3" cmdline="$4" on_crash="$5" arg
	shift 5
	{
		cat <<EOF
<domain type='$DOMTYPE' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <memory unit='MiB'>$MEM_MIB</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='$machine'>hvm</type>
    <loader type='rom'>$QBOOT</loader>
    <kernel>$kernel</kernel>
    <cmdline>$cmdline</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>qemu64</model>
  </cpu>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>$on_crash</on_crash>
  <devices>
    <serial type='file'>
      <source path='$TMP/$name.console'/>
      <target port='0'/>
    </serial>
    <panic model='isa'><address type='isa' iobase='0x505'/></panic>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
EOF
		if [ $# -gt 0 ]; then
			echo "  <qemu:commandline>"
			for arg; do
				echo "    <qemu:arg value='$arg'/>"
			done
			echo "  </qemu:commandline>"
		fi
		echo "</domain>"
	} >"$TMP/$name.xml"
}

# boot URI NAME [OPTION...]: virt-boot boots $TMP/NAME.xml; the line it
# prints lands in $TMP/NAME.result, the events it saw in $TMP/NAME.events.
boot() {
	local uri="$1" name="$2"
	shift 2
	timeout $((BOOT_TIMEOUT + 60)) "$VIRT_BOOT" -v -t "$BOOT_TIMEOUT" \
	    "$@" "$uri" "$TMP/$name.xml" >"$TMP/$name.result" \
	    2>"$TMP/$name.events"
}

# show NAME QEMU_LOG_DIR: what a failed boot left behind, as TAP comments
# (the end of QEMU's log: what follows its command line).
show() {
	local f lines
	for f in "$TMP/$1.events" "$TMP/$1.console" "$2/$1.log"; do
		[ -f "$f" ] || continue
		case $f in *.log) lines=6 ;; *) lines=30 ;; esac
		echo "# --- $f"
		tail -n "$lines" "$f" | sed 's/^/#   /'
	done
}

# check_floor LABEL NAME LOGDIR: the floor kernel ends through
# isa-debug-exit, added with <qemu:commandline>.  QEMU then exits on its
# own, without a shutdown event, which libvirt reports as a failure: the
# reason the runtime must not use debug-exit to end a libvirt guest.
check_floor() {
	local before="$tap_failed"
	is "$1: floor ends by isa-debug-exit, seen as 'stopped failed'" \
	    "$(result "$2")" "stopped failed"
	ok "$1: floor printed 'floor' on COM1" grep -qx floor "$TMP/$2.console"
	[ "$tap_failed" -eq "$before" ] || show "$2" "$3"
}

# check_exit LABEL NAME LOGDIR CMDLINE CODE: hello shut down cleanly (ACPI
# S5) after printing its greeting, its command line and the exit trailer.
check_exit() {
	local con="$TMP/$2.console" before="$tap_failed"
	is "$1: hello ends as a shutdown" "$(result "$2")" "stopped shutdown"
	ok "$1: hello greets" grep -qi hello "$con"
	if [ "$DOMTYPE" = kvm ]; then
		ok "$1: hello names the platform (KVM)" grep -qi kvm "$con"
	fi
	ok "$1: hello prints its command line" grep -qF -- "$4" "$con"
	is "$1: the last console line is the exit trailer" \
	    "$(lastline "$con")" "=== rt: exit $5 ==="
	[ "$tap_failed" -eq "$before" ] || show "$2" "$3"
}

# check_crash LABEL NAME LOGDIR FINAL: the crash kernel was reported as a
# crash (pvpanic's "crashed panicked" event, then FINAL), with a register
# dump and the crash trailer on its console.
check_crash() {
	local con="$TMP/$2.console" before="$tap_failed"
	is "$1: crash ends as '$4'" "$(result "$2")" "$4"
	ok "$1: libvirt saw the pvpanic crash" \
	    grep -qx 'virt-boot: event crashed panicked' "$TMP/$2.events"
	ok "$1: the console has a register dump (rip, rsp)" \
	    sh -c "grep -qiw rip '$con' && grep -qiw rsp '$con'"
	ok "$1: the last console line is the crash trailer" \
	    sh -c "tail -n 1 '$con' | tr -d '\r' |
	    grep -Eqx '=== rt: crash \(.+\) ==='"
	[ "$tap_failed" -eq "$before" ] || show "$2" "$3"
}

# runtime_kernels LABEL: copies hello and crash; when one is missing,
# says why as a skip (the build has no such kernel yet) or a failure.
runtime_kernels() {
	local rel
	for rel in kernels/hello/hello.elf kernels/crash/crash.elf; do
		kernel "$rel" && continue
		if [ -n "$why_skip" ]; then
			skip "$1: runtime kernels" "$why"
		else
			ok "$1: $why" false
		fi
		return 1
	done
}

##### qemu:///system through our own libvirtd

# The daemons: private_daemons, host_daemons, stop_daemons... come from
# tests/libvirt/libvirtd.sh.

# clients: how many clients libvirtd has (virt-admin, its admin socket).
clients() {
	virt-admin -q -c libvirtd:///system srv-clients-list libvirtd |
	    grep -c .
}
clients_above() { [ "$(clients)" -gt "$1" ]; }

# virsh_boot NAME: the same through virsh alone, as an operator would:
# `virsh event` is listening (libvirtd counts it as a client) before
# `virsh create`, and its lifecycle events say when the guest stopped.
virsh_boot() {
	local n0 evpid rc=0
	n0=$(clients)
	timeout $((BOOT_TIMEOUT + 10)) virsh -q -c "$SYSURI" event \
	    --event lifecycle --loop --timeout "$BOOT_TIMEOUT" \
	    >"$TMP/$1.virsh-events" 2>&1 &
	evpid=$!
	wait_for 10 clients_above "$n0" || rc=1
	[ $rc -eq 0 ] && timeout 60 virsh -q -c "$SYSURI" create \
	    "$TMP/$1.xml" >/dev/null || rc=1
	[ $rc -eq 0 ] && wait_for "$BOOT_TIMEOUT" grep -q \
	    "for domain '$1': Stopped" "$TMP/$1.virsh-events" || rc=1
	kill "$evpid" 2>/dev/null
	wait "$evpid" 2>/dev/null
	[ $rc -eq 0 ] || timeout 30 virsh -q -c "$SYSURI" destroy "$1" \
	    >/dev/null 2>&1
	return $rc
}

system_tests() {
	local n log="$SYSLOG"

	system_daemons "qemu:///system" || return

	# Bring-up: the floor kernel needs no runtime.
	n=uk-$TAG-floor-sys
	domain_xml "$n" q35 "$K/floor.elf" "" destroy \
	    -device isa-debug-exit,iobase=0xf4,iosize=4
	boot "$SYSURI" "$n"
	check_floor "system q35" "$n" "$log"

	if runtime_kernels "qemu:///system"; then
		n=uk-$TAG-hello-q35
		domain_xml "$n" q35 "$K/hello.elf" "exit=3" destroy
		boot "$SYSURI" "$n"
		check_exit "system q35" "$n" "$log" "exit=3" 3

		n=uk-$TAG-hello-pc
		domain_xml "$n" pc "$K/hello.elf" "exit=0" destroy
		boot "$SYSURI" "$n"
		check_exit "system pc" "$n" "$log" "exit=0" 0

		n=uk-$TAG-hello-virsh
		domain_xml "$n" q35 "$K/hello.elf" "exit=7" destroy
		ok "virsh: create, then wait for the stop event" virsh_boot "$n"
		ok "virsh: the stop event was a shutdown" grep -q \
		    "for domain '$n': Stopped Shutdown" "$TMP/$n.virsh-events"
		is "virsh: the last console line is the exit trailer" \
		    "$(lastline "$TMP/$n.console")" "=== rt: exit 7 ==="

		n=uk-$TAG-crash-sys
		domain_xml "$n" q35 "$K/crash.elf" "" destroy
		boot "$SYSURI" "$n"
		check_crash "system q35" "$n" "$log" "stopped crashed"

		# on_crash preserve: the domain stays, crashed, for inspection.
		n=uk-$TAG-crash-keep
		domain_xml "$n" q35 "$K/crash.elf" "" preserve
		boot "$SYSURI" "$n" -k
		check_crash "system q35 preserve" "$n" "$log" "crashed panicked"
		is "virsh: domstate of the preserved domain" \
		    "$(timeout 30 virsh -q -c "$SYSURI" domstate --reason "$n" \
		    2>&1 | head -n 1)" "crashed (panicked)"
		ok "virsh: destroy the preserved domain" \
		    timeout 30 virsh -q -c "$SYSURI" destroy "$n"
	fi

	is "qemu:///system: none of our domains left" \
	    "$(timeout 30 virsh -q -c "$SYSURI" list --all --name |
	    grep -c "^uk-$TAG-")" 0
	ok "qemu:///system: the daemons we started stop" stop_daemons
}

##### qemu:///embed?root=DIR: the QEMU driver inside virt-boot

EMBED=$TMP/embed
EMBURI="qemu:///embed?root=$EMBED"

embed_tests() {
	local n log="$EMBED/log/qemu"

	# No daemon here, not even virtlogd: QEMU's output goes to a file.
	mkdir -p "$EMBED/etc" || exit 1
	echo 'stdio_handler = "file"' >"$EMBED/etc/qemu.conf"
	at_exit "destroy_ours '$EMBURI'"

	n=uk-$TAG-floor-emb
	domain_xml "$n" q35 "$K/floor.elf" "" destroy \
	    -device isa-debug-exit,iobase=0xf4,iosize=4
	boot "$EMBURI" "$n"
	check_floor "embed q35" "$n" "$log"

	if runtime_kernels "qemu:///embed"; then
		n=uk-$TAG-hello-emb
		domain_xml "$n" q35 "$K/hello.elf" "exit=3" destroy
		boot "$EMBURI" "$n"
		check_exit "embed q35" "$n" "$log" "exit=3" 3

		n=uk-$TAG-crash-emb
		domain_xml "$n" q35 "$K/crash.elf" "" destroy
		boot "$EMBURI" "$n"
		check_crash "embed q35" "$n" "$log" "stopped crashed"
	fi
}

if ! kernel kernels/floor/floor.elf; then
	ok "floor kernel: $why" false
	done_testing
	exit
fi

if [ "$(id -u)" != 0 ]; then
	skip "qemu:///system" "needs root"
else
	system_tests
fi
embed_tests

if [ "$UK_VIRT_NS" = private ]; then
	# Everything started here lives in this PID namespace.
	is "no QEMU process left" "$(ps -e -o stat= -o comm= |
	    grep -v '^Z' | grep -c qemu-system)" 0
fi
done_testing
