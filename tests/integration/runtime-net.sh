#!/bin/sh
# runtime-net.sh - the runtime's network drivers under QEMU: the netprobe
# kernel finds the virtio-net device, says which transport it is on, how
# it wakes the CPU (which interrupt, or polled) and its MAC (which must
# be the one given to QEMU), asks by ARP for the user-mode network's
# gateway 10.0.2.2 and prints the MAC of the answer (slirp's,
# 52:55:0a:00:02:02), then times ten more round trips.  Only QEMU's own
# user networking, with restrict=on: no frame leaves QEMU, and the one
# frame the host sends (the wake-up tests) comes in through a hostfwd
# port on 127.0.0.1.
#
# Machines: microvm (virtio-mmio, legacy as QEMU gives it by default and
# modern with force-legacy=false, with ACPI and without), q35 and pc with
# qboot (virtio-pci: modern, legacy with disable-modern=on, MSI-X or INTx
# with vectors=0), and rt.netpoll's polling, under KVM and TCG; the KVM
# ones are skipped only when /dev/kvm does not exist.
#
# Then the wake-ups: netprobe waits for a frame that the host sends two
# seconds later; with interrupts the event loop must wake a handful of
# times (and the device interrupt), polled about once a millisecond, and
# QEMU must use next to no CPU while the guest waits (its ticks, as
# runtime-qemu.sh's loop test reads them).
. "$top_srcdir/tests/lib.sh"

QEMU=${QEMU:-qemu-system-x86_64}
PROBE=$top_builddir/kernels/netprobe/netprobe.elf
command -v "$QEMU" >/dev/null 2>&1 || skip_all "$QEMU not installed"
QBOOT=$("$QEMU" -L help 2>/dev/null | while read -r d; do
	[ -f "$d/qboot.rom" ] && echo "$d/qboot.rom" && break; done)
[ -n "$QBOOT" ] || QBOOT=/usr/share/qemu/qboot.rom
[ -f "$QBOOT" ] || skip_all "qboot.rom not found"

SLIRP_MAC=52:55:0a:00:02:02
NETDEV="-netdev user,id=n0,restrict=on"
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=4"

KVM="-accel kvm -cpu qemu64"
TCG="-accel tcg -cpu qemu64"
Q35="-M q35 -bios $QBOOT"
PC="-M pc -bios $QBOOT"
LEGACY=disable-modern=on
# The GSIs are QEMU 7.2's wiring for one NIC and -nodefaults: microvm
# with ACPI puts it in its last virtio-mmio slot (23), whose line is
# input 23 of its second IOAPIC (GSI 47); without ACPI in slot 7, IRQ
# 12 on the command line; pc puts it in slot 2 (INTA is PIRQB, which
# qboot routes to IRQ 10), q35 in slot 1 (PIRQF, GSI 21).  In q35's slot
# 25 INTx follows chipset registers the driver does not read: polled,
# the fallback rt.netpoll forces elsewhere.
#
# name|QEMU options|-device for the NIC (netdev= and mac= are added)|
#   command line|transport printed|how it wakes the CPU
MACHINES="microvm-kvm|-M microvm $KVM|virtio-net-device||virtio-mmio (legacy)|interrupts (ioapic gsi 47)
microvm-modern-kvm|-M microvm $KVM -global virtio-mmio.force-legacy=false|virtio-net-device||virtio-mmio|interrupts (ioapic gsi 47)
microvm-noacpi-kvm|-M microvm,acpi=off $KVM|virtio-net-device||virtio-mmio (legacy)|interrupts (ioapic gsi 12)
q35-kvm|$Q35 $KVM|virtio-net-pci||virtio-pci|interrupts (msi-x)
pc-kvm|$PC $KVM|virtio-net-pci||virtio-pci|interrupts (msi-x)
pc-legacy-kvm|$PC $KVM|virtio-net-pci,$LEGACY||virtio-pci (legacy)|interrupts (msi-x)
q35-intx-kvm|$Q35 $KVM|virtio-net-pci,vectors=0||virtio-pci|interrupts (ioapic gsi 21)
q35-netpoll-kvm|$Q35 $KVM|virtio-net-pci|rt.netpoll|virtio-pci|polled
microvm-tcg|-M microvm $TCG|virtio-net-device||virtio-mmio (legacy)|interrupts (ioapic gsi 47)
microvm-modern-tcg|-M microvm $TCG -global virtio-mmio.force-legacy=false|virtio-net-device||virtio-mmio|interrupts (ioapic gsi 47)
microvm-noacpi-tcg|-M microvm,acpi=off $TCG|virtio-net-device||virtio-mmio (legacy)|interrupts (ioapic gsi 12)
q35-tcg|$Q35 $TCG|virtio-net-pci||virtio-pci|interrupts (msi-x)
q35-legacy-tcg|$Q35 $TCG|virtio-net-pci,$LEGACY||virtio-pci (legacy)|interrupts (msi-x)
pc-legacy-intx-tcg|$PC $TCG|virtio-net-pci,$LEGACY,vectors=0||virtio-pci (legacy)|interrupts (ioapic gsi 10)
microvm-netpoll-tcg|-M microvm $TCG|virtio-net-device|rt.netpoll|virtio-mmio (legacy)|polled
q35-slot25-intx-tcg|$Q35 $TCG|virtio-net-pci,vectors=0,addr=0x19||virtio-pci|polled"

# qemu OUT OPTIONS...: runs QEMU, console to OUT; sets $status.
qemu() {
	local out=$1
	shift
	status=0
	timeout -k 5 60 "$QEMU" -m 16 -nodefaults -no-user-config \
	    -display none -serial "file:$out" $DEBUG_EXIT "$@" \
	    >"$out.stderr" 2>&1 || status=$?
}

# check NAME COMMAND...: a test point whose failure shows the console
check() {
	local name=$1
	shift
	tap_n=$((tap_n + 1))
	if "$@"; then
		echo "ok $tap_n - $name"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $name"
		sed 's/^/#   /' "$last" "$last.stderr" | tail -25
	fi
}

has() { grep -q -x -F -e "$2" "$1"; }
has_re() { grep -q -E -e "$2" "$1"; }
# le|ge|lt A B: A compared with B, false when A is not a number
le() { case $1 in ''|*[!0-9]*) false;; *) [ "$1" -le "$2" ];; esac; }
ge() { case $1 in ''|*[!0-9]*) false;; *) [ "$1" -ge "$2" ];; esac; }
lt() { case $1 in ''|*[!0-9]*) false;; *) [ "$1" -lt "$2" ];; esac; }
status_is() { [ "$status" -eq "$1" ] || { echo "# status $status, want $1"; false; }; }

kvm_ok=1
[ -e /dev/kvm ] || { kvm_ok=0; diag "no /dev/kvm: skipping the KVM machines"; }

# skipped NAME LABEL: a SKIP point for LABEL, true, when machine NAME
# needs KVM and there is none
skipped() {
	case $1 in
	*-kvm) [ $kvm_ok = 0 ] || return 1;;
	*) return 1;;
	esac
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $2 # SKIP no /dev/kvm"
}

i=0
while IFS='|' read -r name opts nic words transport mode; do
	i=$((i + 1))
	skipped "$name" "$name" && continue
	mac=52:54:00:00:5e:$(printf %02x $((i + 16)))
	last=$TMP/$name.out
	qemu "$last" $opts $NETDEV -device "$nic,netdev=n0,mac=$mac" \
	    -kernel "$PROBE" -append "rtt=10${words:+ $words}"
	check "$name: netprobe exits 0 (QEMU status 1)" status_is 1
	check "$name: found virtio-net on $transport" \
	    has "$last" "netprobe: virtio-net on $transport, mtu 1500"
	check "$name: wakes the CPU by $mode" has "$last" "netprobe: $mode"
	check "$name: uses the MAC QEMU gave the device" \
	    has "$last" "netprobe: our mac $mac"
	check "$name: ARP reply from slirp's gateway" \
	    has "$last" "netprobe: 10.0.2.2 is at $SLIRP_MAC"
	check "$name: ten more round trips" has_re "$last" \
	    "^netprobe: arp round trip over 10: min [0-9]+ us, median [0-9]+ us, max [0-9]+ us$"
	diag "$name: $(sed -n 's/^netprobe: arp //p' "$last")"
	check "$name: trailer says exit 0" has "$last" "=== rt: exit 0 ==="
done <<EOF_MACHINES
$MACHINES
EOF_MACHINES

# Wake-ups.  netprobe waits for a frame (wait=8000); once it says so,
# QEMU's CPU ticks (utime + stime, /proc/PID/stat) are read 2 s apart,
# then the host sends a UDP datagram to the guest through a hostfwd port
# (QEMU's user networking, on 127.0.0.1), which slirp turns into a frame
# while the guest is halted.  With interrupts: the frame arrives, the
# device interrupted, the event loop woke a handful of times, QEMU used
# next to no CPU.  Polled: no interrupt, a wake-up every few
# milliseconds at least, and more CPU than the same machine with
# interrupts.
#
# name|QEMU options|-device for the NIC|command line|irq or polled
WAKE="microvm-kvm|-M microvm $KVM|virtio-net-device||irq
microvm-netpoll-kvm|-M microvm $KVM|virtio-net-device|rt.netpoll|polled
q35-kvm|$Q35 $KVM|virtio-net-pci||irq
pc-legacy-intx-kvm|$PC $KVM|virtio-net-pci,$LEGACY,vectors=0||irq
microvm-tcg|-M microvm $TCG|virtio-net-device||irq
microvm-netpoll-tcg|-M microvm $TCG|virtio-net-device|rt.netpoll|polled
q35-intx-tcg|$Q35 $TCG|virtio-net-pci,vectors=0||irq"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo x; }

# wake NAME OPTIONS NIC WORDS: sets $cpu (ticks in 2 s of waiting) and
# $wake_ms, $wakeups, $irqs from netprobe's report (x when missing).
wake() {
	local name=$1 opts=$2 nic=$3 words=$4 port qpid t0 t1 n line
	last=$TMP/wake-$name.out
	: >"$last"
	rm -f "$TMP/qemu.pid"
	port=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	timeout -k 5 60 "$QEMU" -m 16 -nodefaults -no-user-config \
	    -display none -serial "file:$last" -pidfile "$TMP/qemu.pid" \
	    $DEBUG_EXIT $opts \
	    -netdev "user,id=n0,restrict=on,hostfwd=udp:127.0.0.1:$port-10.0.2.15:9" \
	    -device "$nic,netdev=n0" -kernel "$PROBE" \
	    -append "wait=8000${words:+ $words}" >"$last.stderr" 2>&1 &
	cpu=x
	for n in $(seq 300); do
		grep -q '^netprobe: waiting up to' "$last" && break
		sleep 0.1
	done
	if grep -q '^netprobe: waiting up to' "$last" &&
	    qpid=$(cat "$TMP/qemu.pid" 2>/dev/null); then
		t0=$(ticks "$qpid")
		sleep 2
		t1=$(ticks "$qpid")
		[ "$t0" != x ] && [ "$t1" != x ] && cpu=$((t1 - t0))
		python3 -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"wake",
    ("127.0.0.1", int(sys.argv[1])))' "$port"
	fi
	wait
	line=$(sed -n 's/^netprobe: frame after \([0-9]*\) ms: \([0-9]*\) wake-ups, \([0-9]*\) interrupts$/\1 \2 \3/p' "$last")
	set -- $line x x x
	wake_ms=$1 wakeups=$2 irqs=$3
}

while IFS='|' read -r name opts nic words kind; do
	if ! command -v python3 >/dev/null 2>&1; then
		tap_n=$((tap_n + 1))
		echo "ok $tap_n - wake-ups: $name # SKIP no python3"
		continue
	fi
	skipped "$name" "wake-ups: $name" && continue
	wake "$name" "$opts" "$nic" "$words"
	diag "wake-ups: $name: frame after $wake_ms ms, $wakeups wake-ups, $irqs interrupts, QEMU $cpu ticks in 2 s"
	check "wake-ups: $name: the host's frame reached the waiting guest" \
	    ge "$wake_ms" 0
	if [ "$kind" = irq ]; then
		check "wake-ups: $name: the device interrupted ($irqs)" \
		    ge "$irqs" 1
		check "wake-ups: $name: the CPU woke a handful of times ($wakeups)" \
		    le "$wakeups" 10
		check "wake-ups: $name: QEMU idle while the guest waits ($cpu ticks in 2 s)" \
		    le "$cpu" 4
	else
		min=1
		ge "$wake_ms" 0 && min=$((wake_ms / 4))
		check "wake-ups: $name: no interrupt ($irqs)" [ "$irqs" = 0 ]
		check "wake-ups: $name: a wake-up every 4 ms at least ($wakeups in $wake_ms ms)" \
		    ge "$wakeups" "$min"
	fi
	echo "$cpu" >"$TMP/cpu-$name"
done <<EOF_WAKE
$WAKE
EOF_WAKE
for a in kvm tcg; do
	[ -f "$TMP/cpu-microvm-$a" ] && [ -f "$TMP/cpu-microvm-netpoll-$a" ] ||
	    continue
	i=$(cat "$TMP/cpu-microvm-$a") p=$(cat "$TMP/cpu-microvm-netpoll-$a")
	ge "$p" 0 || p=0
	check "wake-ups: microvm-$a: QEMU uses less CPU with interrupts ($i ticks) than polled ($p)" \
	    lt "$i" "$p"
done

# No device at all: exit 1 with a message, on each kind of machine.
for m in "microvm|-M microvm" "q35|-M q35 -bios $QBOOT"; do
	name=${m%%|*}
	last=$TMP/$name-none.out
	qemu "$last" ${m#*|} -accel tcg -cpu qemu64 -kernel "$PROBE"
	check "$name: no device: exits 1 (QEMU status 3)" status_is 3
	check "$name: no device: says so" has "$last" "netprobe: no network device"
done

# A device whose network answers nothing: exit 1 after 2 s.
last=$TMP/hub.out
qemu "$last" -M microvm -accel tcg -cpu qemu64 -netdev hubport,id=n0,hubid=0 \
    -device virtio-net-device,netdev=n0 -kernel "$PROBE"
check "no reply: exits 1 (QEMU status 3)" status_is 3
check "no reply: says so" \
    has "$last" "netprobe: no ARP reply from 10.0.2.2 within 2 s"

done_testing
