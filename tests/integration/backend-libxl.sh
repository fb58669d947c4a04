#!/bin/sh
# The libxl backend for real: backend-libxl-drive, linked with the
# backend, runs inside dom0 of Debian's Xen 4.17 under QEMU/TCG through the
# harness's dom0 hook (tests/xen/README.md) and drives hello, crash and
# loop through the backend's ops table, as the daemon would; its TAP lines
# become ours.  Skips when the backend is not built (configure
# --with-libxl) or the Xen packages cannot be downloaded.
. "$top_srcdir/tests/lib.sh"

XEN_RUN=$top_srcdir/tests/xen/xen-run
DRIVE=$top_builddir/tests/xen/backend-libxl-drive
HELLO=$top_builddir/kernels/hello/hello.elf
CRASH=$top_builddir/kernels/crash/crash.elf
LOOP=$top_builddir/kernels/loop/loop.elf

[ -x "$DRIVE" ] ||
	skip_all "the libxl backend is not built (configure --with-libxl)"

rc=0
sh "$XEN_RUN" fetch >"$TMP/fetch.log" 2>&1 || rc=$?
if [ "$rc" -eq 77 ]; then
	skip_all "$(tail -1 "$TMP/fetch.log")"
elif [ "$rc" -ne 0 ]; then
	sed 's/^/# /' "$TMP/fetch.log"
	echo "Bail out! cannot prepare Xen (xen-run fetch failed)"
	exit 1
fi

S=$TMP/share
R=$S/results
mkdir -p "$S/guests" "$S/kernels" "$S/lib"
cp "$HELLO" "$CRASH" "$LOOP" "$S/kernels/"
head -c 12345 /dev/zero >"$S/kernels/module.bin"
cp "$DRIVE" "$S/"
# dom0 has glibc and Xen's libraries from this same Debian; the driver
# brings its own copies of everything ldd names all the same (a sanitizer
# build needs its runtime, for one)
ldd "$DRIVE" | awk '/=> \// { print $3 }' | while read -r lib; do
	cp -L "$lib" "$S/lib/"
done
cat >"$S/dom0-hook.sh" <<-'EOF'
	cd /mnt/host || exit 1
	LD_LIBRARY_PATH=/mnt/host/lib exec ./backend-libxl-drive /mnt/host
EOF

keep_results() {
	local keep=$top_builddir/tests/integration/backend-libxl.results
	rm -rf "$keep" && mkdir -p "$keep" &&
		cp -r "$R" "$S/consoles" "$S/libxl.log" "$keep/" 2>/dev/null
	diag "results kept in $keep"
}

t0=$(date +%s)
rc=0
UK_XEN_TIMEOUT=${UK_XEN_TIMEOUT:-300} UK_XEN_HOOK_TIMEOUT=${UK_XEN_HOOK_TIMEOUT:-240} \
	sh "$XEN_RUN" boot "$S" >"$TMP/boot.log" 2>&1 || rc=$?
t1=$(date +%s)
if [ "$rc" -ne 0 ] || [ ! -e "$R/DONE" ] || [ ! -e "$R/hook.rc" ]; then
	sed 's/^/# /' "$TMP/boot.log"
	[ -e "$R/hook.out" ] && sed 's/^/# drive: /' "$R/hook.out"
	[ -e "$R/serial.log" ] && grep -v -e '^(XEN) HVM' "$R/serial.log" |
		tail -40 | sed 's/^/# serial: /'
	[ -d "$R" ] && keep_results
	echo "Bail out! Xen did not run the driver (xen-run boot: $rc)"
	exit 1
fi
diag "Xen boot and the driver: $((t1 - t0)) s ($(cat "$R/DONE"))"

# The driver's test points, renumbered as ours; its plan is checked.
plan=
while IFS= read -r line; do
	case $line in
	"ok "*)
		tap_n=$((tap_n + 1))
		echo "ok $tap_n -${line#*-}" ;;
	"not ok "*)
		tap_n=$((tap_n + 1))
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n -${line#*-}" ;;
	1..*) plan=${line#1..} ;;
	"#"*) echo "$line" ;;
	*) echo "# drive: $line" ;;
	esac
done <"$R/hook.out"
points=$tap_n
is "the driver ran to its end in dom0" "$(cat "$R/hook.rc")" 0
is "the driver's plan matches its test points" "$plan" "$points"
[ "$tap_failed" -eq 0 ] || keep_results
done_testing
