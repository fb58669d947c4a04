#!/bin/sh
# runtime-net.sh - the runtime's network drivers under QEMU: the netprobe
# kernel finds the virtio-net device, says which transport it is on and
# its MAC (which must be the one given to QEMU), asks by ARP for the
# user-mode network's gateway 10.0.2.2 and prints the MAC of the answer
# (slirp's, 52:55:0a:00:02:02).  Only QEMU's own user networking, with
# restrict=on: no frame leaves QEMU.
#
# Machines: microvm (virtio-mmio, legacy as QEMU gives it by default and
# modern with force-legacy=false) and q35 with qboot (virtio-pci) under
# KVM and TCG; the KVM ones are skipped only when /dev/kvm does not exist.
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

# name|QEMU options|-device for the NIC (mac= is added)|transport printed
MACHINES="microvm-kvm|-M microvm -accel kvm -cpu qemu64|virtio-net-device|virtio-mmio (legacy)
microvm-modern-kvm|-M microvm -accel kvm -cpu qemu64 -global virtio-mmio.force-legacy=false|virtio-net-device|virtio-mmio
microvm-noacpi-kvm|-M microvm,acpi=off -accel kvm -cpu qemu64|virtio-net-device|virtio-mmio (legacy)
q35-kvm|-M q35 -bios $QBOOT -accel kvm -cpu qemu64|virtio-net-pci|virtio-pci
pc-kvm|-M pc -bios $QBOOT -accel kvm -cpu qemu64|virtio-net-pci|virtio-pci
microvm-tcg|-M microvm -accel tcg -cpu qemu64|virtio-net-device|virtio-mmio (legacy)
microvm-modern-tcg|-M microvm -accel tcg -cpu qemu64 -global virtio-mmio.force-legacy=false|virtio-net-device|virtio-mmio
q35-tcg|-M q35 -bios $QBOOT -accel tcg -cpu qemu64|virtio-net-pci|virtio-pci"

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
status_is() { [ "$status" -eq "$1" ] || { echo "# status $status, want $1"; false; }; }

kvm_ok=1
[ -e /dev/kvm ] || { kvm_ok=0; diag "no /dev/kvm: skipping the KVM machines"; }

i=0
while IFS='|' read -r name opts nic transport; do
	i=$((i + 1))
	case $name in
	*-kvm)
		if [ $kvm_ok = 0 ]; then
			tap_n=$((tap_n + 1))
			echo "ok $tap_n - $name # SKIP no /dev/kvm"
			continue
		fi;;
	esac
	mac=52:54:00:00:5e:$(printf %02x $((i + 16)))
	last=$TMP/$name.out
	qemu "$last" $opts $NETDEV -device "$nic,netdev=n0,mac=$mac" \
	    -kernel "$PROBE"
	check "$name: netprobe exits 0 (QEMU status 1)" status_is 1
	check "$name: found virtio-net on $transport" \
	    has "$last" "netprobe: virtio-net on $transport, mtu 1500"
	check "$name: uses the MAC QEMU gave the device" \
	    has "$last" "netprobe: our mac $mac"
	check "$name: ARP reply from slirp's gateway" \
	    has "$last" "netprobe: 10.0.2.2 is at $SLIRP_MAC"
	check "$name: trailer says exit 0" has "$last" "=== rt: exit 0 ==="
done <<EOF_MACHINES
$MACHINES
EOF_MACHINES

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
