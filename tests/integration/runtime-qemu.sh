#!/bin/sh
# runtime-qemu.sh - boots the runtime's kernels under QEMU and checks what
# reaches the host (docs/runtime.md): console output, the exit code as
# QEMU's status and as the console trailer, crashes (status 255, register
# dump, trailer), ACPI poweroff, pvpanic, and a never-ending kernel whose
# timers keep time while the CPU is halted.
#
# Machines: microvm, pc and q35 (with qboot) under KVM; microvm and pc
# under TCG.  The KVM ones are skipped only when /dev/kvm does not exist:
# on a machine that has it, a KVM that does not work is a failure.
. "$top_srcdir/tests/lib.sh"

QEMU=${QEMU:-qemu-system-x86_64}
K=$top_builddir/kernels
command -v "$QEMU" >/dev/null 2>&1 || skip_all "$QEMU not installed"
QBOOT=$("$QEMU" -L help 2>/dev/null | while read -r d; do
	[ -f "$d/qboot.rom" ] && echo "$d/qboot.rom" && break; done)
[ -n "$QBOOT" ] || QBOOT=/usr/share/qemu/qboot.rom
[ -f "$QBOOT" ] || skip_all "qboot.rom not found"

# name|QEMU options|platform names hello may report (a regex)
MACHINES="microvm-kvm|-M microvm -accel kvm -cpu qemu64|kvm
pc-kvm|-M pc -bios $QBOOT -accel kvm -cpu qemu64|kvm
q35-kvm|-M q35 -bios $QBOOT -accel kvm -cpu host,-arch-capabilities|kvm
microvm-tcg|-M microvm -accel tcg -cpu max|tcg|none
pc-tcg|-M pc -bios $QBOOT -accel tcg -cpu max|tcg|none"

DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=4"

# qemu OUT SECONDS OPTIONS...: runs QEMU, console to OUT; sets $status.
qemu() {
	local out=$1 secs=$2
	shift 2
	status=0
	timeout -k 5 "$secs" "$QEMU" -m 16 -nodefaults -no-user-config \
	    -display none -serial "file:$out" "$@" >"$out.stderr" 2>&1 ||
	    status=$?
}

# check NAME COMMAND...: a test point whose failure shows the last console
check() {
	local name=$1
	shift
	tap_n=$((tap_n + 1))
	if "$@"; then
		echo "ok $tap_n - $name"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $name"
		[ -n "${last:-}" ] && sed 's/^/#   /' "$last" "$last.stderr" |
		    tail -25
	fi
}

has() { grep -q -e "$2" "$1"; }
status_is() { [ "$status" -eq "$1" ] || { echo "# status $status, want $1"; false; }; }
last_line_is() { [ "$(tail -n 1 "$1")" = "$2" ]; }

boot_hello() {	# NAME OPTIONS PLATFORMS
	local n=$1 opts=$2 plat=$3 sum
	last=$TMP/$n-hello.out
	head -c 12345 /dev/urandom >"$TMP/module"
	qemu "$last" 60 $opts $DEBUG_EXIT -kernel "$K/hello/hello.elf" \
	    -append "exit=3 greeting=hi" -initrd "$TMP/module"
	check "$n: hello exits 3: QEMU status 7" status_is 7
	check "$n: greeting names the platform" \
	    grep -E -q "^Hello, world! This is hello on ($plat)\.$" "$last"
	check "$n: command line" has "$last" '^hello: command line "exit=3 greeting=hi"$'
	sum=$(od -An -v -tu1 "$TMP/module" |
	    awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s }')
	check "$n: boot module size and contents" \
	    has "$last" "^hello: boot module of 12345 bytes, byte sum $sum\$"
	check "$n: no warnings from the runtime" eval "! grep -q '^rt: warning' '$last'"
	check "$n: trailer says exit 3" last_line_is "$last" "=== rt: exit 3 ==="

	last=$TMP/$n-hello200.out
	qemu "$last" 60 $opts $DEBUG_EXIT -kernel "$K/hello/hello.elf" \
	    -append exit=200
	check "$n: exit 200: status 253 (codes above 126 saturate)" status_is 253
	check "$n: exit 200: the trailer has the exact code" \
	    last_line_is "$last" "=== rt: exit 200 ==="
	check "$n: no module: said so" has "$last" '^hello: no boot module$'
}

boot_crash() {	# NAME OPTIONS
	local n=$1 opts=$2
	last=$TMP/$n-crash.out
	qemu "$last" 60 $opts $DEBUG_EXIT -kernel "$K/crash/crash.elf"
	check "$n: crash: QEMU status 255" status_is 255
	check "$n: crash report names the page fault and address" \
	    has "$last" '^rt: crash: page fault (vector 14) at rip 0x[0-9a-f]*, error code 0x2 (not present, write, kernel)$'
	check "$n: crash report has CR2" has "$last" '^rt: faulting address (cr2) 0x10$'
	check "$n: register dump" eval "has '$last' '^rt:   rip [0-9a-f]\{16\}  rsp' &&
	    has '$last' '^rt:   r13 [0-9a-f]\{16\}  r14' &&
	    has '$last' '^rt:   cr0 [0-9a-f]\{16\}  cr2 0000000000000010'"
	check "$n: stack trace" has "$last" '^rt: stack trace'
	check "$n: trailer says crash" \
	    last_line_is "$last" "=== rt: crash (page fault) ==="
}

boot_loop() {	# NAME OPTIONS: heartbeats, time advancing, CPU halted
	local n=$1 opts=$2 qpid beats first last_ms t0 t1 g0 g1 cpu rate
	last=$TMP/$n-loop.out
	: >"$last.stderr"
	( timeout -k 2 5 "$QEMU" -m 16 -nodefaults -no-user-config -display none \
	    -name "rt-loop-$$-$n" -serial stdio $opts \
	    -kernel "$K/loop/loop.elf" 2>>"$last.stderr" |
	    while IFS= read -r line; do
		echo "$(date +%s%N) $line"
	    done >"$last" ) &
	sleep 4.5
	qpid=$(pgrep -f "rt-loop-$$-$n" | head -n 1)
	cpu=x
	# utime + stime of QEMU, in clock ticks (fields 14 and 15)
	[ -n "$qpid" ] && cpu=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat")
	wait
	beats=$(grep -c 'loop: heartbeat' "$last")
	check "$n: loop: heartbeats ($beats) until killed" [ "$beats" -ge 3 ]
	check "$n: loop: still running when killed (no trailer)" \
	    eval "! grep -q '=== rt:' '$last'"
	first=$(grep 'loop: heartbeat' "$last" | head -n 1)
	last_ms=$(grep 'loop: heartbeat' "$last" | tail -n 1)
	t0=${first%% *}; t1=${last_ms%% *}
	g0=$(echo "$first" | sed 's/.* at \([0-9]*\) ms.*/\1/')
	g1=$(echo "$last_ms" | sed 's/.* at \([0-9]*\) ms.*/\1/')
	# Guest time between first and last beat: (beats - 1) seconds, and
	# the same as the host saw, within 10% (TCG's TSC is calibrated
	# against an emulated PIT; the host reads lines through a pipe).
	check "$n: loop: guest time advances a second per beat" \
	    [ $(( (g1 - g0) - (beats - 1) * 1000 )) -le 50 -a \
	      $(( (g1 - g0) - (beats - 1) * 1000 )) -ge -50 ]
	rate=$(( (g1 - g0) * 1000000 / ((t1 - t0) / 1000 + 1) ))
	check "$n: loop: guest clock runs at the host's rate ($rate/1000)" \
	    [ "$rate" -ge 900 -a "$rate" -le 1100 ]
	check "$n: loop: wall clock within a minute of the host's" eval '
	    w=$(echo "$last_ms" | sed "s/.*wall clock \([0-9]*\) s/\1/");
	    h=$(( t1 / 1000000000 ));
	    [ $((w - h)) -le 60 -a $((h - w)) -le 60 ]'
	check "$n: loop: CPU halted between beats (QEMU used $cpu ticks in 4.5 s)" \
	    [ "$cpu" != x -a "${cpu:-999}" -lt 225 ]
}

kvm_ok=1
if [ ! -e /dev/kvm ]; then
	kvm_ok=0
	diag "no /dev/kvm: skipping the KVM machines"
fi

echo "$MACHINES" | {
while IFS='|' read -r name opts plat; do
	case $name in
	*-kvm)
		if [ $kvm_ok = 0 ]; then
			tap_n=$((tap_n + 1))
			echo "ok $tap_n - $name # SKIP no /dev/kvm"
			continue
		fi;;
	esac
	boot_hello "$name" "$opts" "$plat"
	boot_crash "$name" "$opts"
done

# Only through ACPI: without debug-exit, exit powers the machine off
# (QEMU status 0), which is how a libvirt domain ends.
for m in pc q35; do
	accel="-accel kvm -cpu qemu64"
	[ $kvm_ok = 0 ] && accel="-accel tcg -cpu max"
	last=$TMP/acpi-$m.out
	qemu "$last" 60 -M $m -bios "$QBOOT" $accel \
	    -kernel "$K/hello/hello.elf" -append exit=4
	check "$m: no debug-exit: ACPI poweroff, QEMU status 0" status_is 0
	check "$m: no debug-exit: trailer still says exit 4" \
	    last_line_is "$last" "=== rt: exit 4 ==="
done

# pvpanic, as libvirt's <panic model='isa'/> sets it up (no debug-exit):
# told to exit on a guest panic, QEMU exits 1.
last=$TMP/pvpanic.out
qemu "$last" 60 -M microvm -accel tcg -cpu max -device pvpanic \
    -action panic=exit-failure -kernel "$K/crash/crash.elf" \
    -append crash=ud
check "pvpanic: a crash is a guest panic (QEMU status 1)" status_is 1
check "pvpanic: trailer names the invalid opcode" \
    last_line_is "$last" "=== rt: crash (invalid opcode) ==="

# The other ways to crash, on TCG: each reaches the crash protocol.
for how in stack:"stack overflow" panic:panic assert:assert free:panic; do
	last=$TMP/crash-${how%%:*}.out
	qemu "$last" 60 -M microvm -accel tcg -cpu max $DEBUG_EXIT \
	    -kernel "$K/crash/crash.elf" -append "crash=${how%%:*}"
	check "crash=${how%%:*}: status 255, trailer crash (${how#*:})" eval \
	    "status_is 255 && last_line_is '$last' '=== rt: crash (${how#*:}) ==='"
done
check "stack overflow: blamed on the guard page" \
    has "$TMP/crash-stack.out" 'the stack guard page, a stack overflow'
check "assert: expression and place" \
    has "$TMP/crash-assert.out" '^rt: assertion failed: x == 2, in rt_main at .*crash.c:[0-9]*$'
check "bad free: named" has "$TMP/crash-free.out" 'free(0x[0-9a-f]*): not a live heap block'

# 2 MiB of memory is enough for hello.
last=$TMP/small.out
qemu "$last" 60 -M microvm -accel tcg -cpu max -m 2 $DEBUG_EXIT \
    -kernel "$K/hello/hello.elf" -append exit=9
check "hello boots in 2 MiB (status 19)" status_is 19

# The loop kernel: one-shot x2APIC (KVM, qemu64), TSC-deadline (KVM,
# host CPU), one-shot xAPIC (TCG).
if [ $kvm_ok = 1 ]; then
	boot_loop microvm-kvm "-M microvm -accel kvm -cpu qemu64"
	boot_loop q35-kvm "-M q35 -bios $QBOOT -accel kvm -cpu host,-arch-capabilities"
fi
boot_loop microvm-tcg "-M microvm -accel tcg -cpu max"

# The images: built by uk pack, small.
for k in hello crash loop; do
	size=$(wc -c <"$K/$k/$k.ukimg")
	check "$k.ukimg is under 64 KiB ($size bytes)" [ "$size" -lt 65536 ]
done
last=$TMP/inspect.out
"$UK" inspect "$K/hello/hello.ukimg" >"$last" 2>&1 </dev/null; : >"$last.stderr"
check "uk inspect: hello.ukimg is a PVH kernel for 2 MiB" eval \
    "has '$last' '^name  *hello$' && has '$last' '^boot  *pvh$' &&
    has '$last' '^memory  *2 MiB$'"

done_testing
}
