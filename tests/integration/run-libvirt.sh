#!/bin/sh
# run-libvirt.sh - `uk run --backend libvirt` end to end: feeds made with
# `uk keygen -W` and `uk publish`, served over HTTP on 127.0.0.1
# (tests/http/server.py), a private unikerneld in $TMP whose libvirt_uri
# is (a) qemu:///system of a libvirtd this test starts in private
# namespaces (tests/libvirt/libvirtd.sh, as backend-libvirt.sh does) and
# (b) qemu:///embed?root=$TMP/embed, libvirt's driver inside the daemon.
#
# For each: the key is trusted (POST /v1/keys); hello exits with the code
# its command line asks and `uk run` exits with it; started again, its
# console holds that run only; crash ends crashed; a loop guest run with
# -d has its console bounded by console_log_max (moved to console.log.1
# and emptied, the guest going on at the new end since QEMU appends:
# <source append='on'/>), survives kill -9 of unikerneld, is adopted by
# the next one under the same handle, still bounded, and stops on POST
# .../stop.  In the test's own network namespace also a guest on the
# daemon's bridge (<interface type='bridge'>), ARPing the bridge from the
# address the daemon leased it.
. "$top_srcdir/tests/libvirt/libvirtd.sh"
libvirt_ns_enter "$0" "$@"
. "$top_srcdir/tests/lib.sh"

UNIKERNELD=$top_builddir/unikerneld/unikerneld
SERVER=$top_srcdir/tests/http/server.py
QBOOT=/usr/share/qemu/qboot.rom
TIMEOUT=${UK_VIRT_TIMEOUT:-60}	# seconds a guest may take to get somewhere
LIMIT=4096			# console_log_max, the smallest conf.c takes

grep -q '^#define HAVE_LIBVIRT 1' "$top_builddir/config.h" 2>/dev/null ||
	skip_all "unikerneld was built without libvirt (install libvirt-dev)"
[ -x "$UNIKERNELD" ] || skip_all "unikerneld is not built"
for c in curl python3 virsh libvirtd virtlogd; do
	command -v "$c" >/dev/null 2>&1 || skip_all "$c is not installed"
done
[ -r "$QBOOT" ] || skip_all "$QBOOT missing (qemu-system-x86)"
for k in hello crash loop; do
	[ -r "$top_builddir/kernels/$k/$k.ukimg" ] ||
		{ echo "Bail out! kernels/$k/$k.ukimg is not built"; exit 1; }
done
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	diag "guests run under KVM (the backend probes for it)"
else
	diag "/dev/kvm is not usable: the backend falls back to TCG"
fi
# A new network namespace has loopback, down.
if [ "$UK_VIRT_NS" = private ]; then
	ip link set lo up || { echo "Bail out! cannot bring lo up"; exit 1; }
fi

libvirtd_init		# $SYS, $SYSURI, $TAG; $TMP is 0711 (libvirtd.sh)
cd "$TMP" || exit 1
t0=$(date +%s)

# ---- feeds on 127.0.0.1 ----
mkdir www || exit 1
python3 "$SERVER" "$TMP/www" "$TMP/http.log" >port 2>http.err &
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(head -n 1 port)
[ -n "$port" ] ||
	{ sed 's/^/# /' http.err; echo "Bail out! no HTTP server"; exit 1; }
base=http://127.0.0.1:$port
"$UK" keygen -W -p k.pub -s k.key >/dev/null 2>&1 ||
	{ echo "Bail out! uk keygen -W failed"; exit 1; }
cp k.pub www/uk.pub
for k in hello crash loop; do
	cp "$top_builddir/kernels/$k/$k.ukimg" www/ &&
	    "$UK" publish --feed "www/$k.json" --key k.key \
		--uri "$base/$k.json" "www/$k.ukimg" >/dev/null ||
		{ echo "Bail out! uk publish $k failed"; exit 1; }
done
# netprobe, for bridge mode: not packed by the build
"$UK" pack --kernel "$top_builddir/kernels/netprobe/netprobe.elf" \
    --name netprobe --version 0.1.0 --memory 16 -o www/netprobe.ukimg \
    >/dev/null &&
    "$UK" publish --feed www/netprobe.json --key k.key \
	--uri "$base/netprobe.json" www/netprobe.ukimg >/dev/null ||
	{ echo "Bail out! uk publish netprobe failed"; exit 1; }
pubkey=$(tail -n 1 k.pub)

# ---- helpers; $sock, $state, $log are those of the part running ----
#
# Whatever waits for a guest's end runs in this shell, never inside $(...):
# in the private PID namespace this shell is PID 1 and reaps the QEMUs
# that end, but only while it waits for a child; blocked reading a command
# substitution it leaves them zombies, and libvirt, which waits for its
# QEMU to be gone, takes a minute over each end.

EMBED=$TMP/embed
EMBURI="qemu:///embed?root=$EMBED"
# At exit, after the daemons are gone (one holds the embedded root's lock).
at_exit "destroy_ours '$EMBURI'"
daemons=""
at_exit 'for p in $daemons; do kill -9 $p 2>/dev/null; done'

# start_daemon CONF: unikerneld in the background ($dpid), serving (10 s)
start_daemon() {
	"$UNIKERNELD" -f "$1" >>"$log" 2>&1 &
	dpid=$!
	daemons="$daemons $dpid"
	wait_for 10 curl -sf -o /dev/null --unix-socket "$sock" \
	    http://localhost/v1/health
}

# api METHOD PATH [BODY]: prints the status; the body is in $TMP/body
api() {
	curl -sS --unix-socket "$sock" -X "$1" -o "$TMP/body" \
	    -w '%{http_code}' ${3:+-H 'Content-Type: application/json'} \
	    ${3:+--data-binary "$3"} "http://localhost$2"
}

# field NAME EXPR: EXPR (python, d is the instance) of instance NAME
field() {
	api GET "/v1/instances/$1" >/dev/null
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print("null" if v is None else v)' "$TMP/body" "$2" 2>/dev/null
}

# ended NAME: the instance is in a terminal state
ended() {
	case $(field "$1" 'd["state"]') in
	exited|crashed|stopped|failed) return 0 ;;
	esac
	return 1
}

# qemu_of NAME: the pids of the QEMU running domain uk-NAME (either URI)
qemu_of() {
	pgrep -f "guest=uk-$1," || true
}

no_qemu() { [ -z "$(qemu_of "$1")" ]; }

# event KIND MESSAGE: the daemon recorded such an event
event() {
	api GET "/v1/events?follow=0" >/dev/null
	python3 -c 'import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["kind"] == sys.argv[2] and ev["message"] == sys.argv[3]:
        sys.exit(0)
sys.exit(1)' "$TMP/body" "$1" "$2"
}

# console_ok FILE: FILE holds text only: no NUL, which a guest writing at
# its old offset after the log was emptied would leave as a hole
console_ok() {
	[ "$(tr -d -c '\000' <"$1" | wc -c)" -eq 0 ]
}

# sizes FILE OUT: until OUT.stop exists, writes to OUT the longest run of
# samples (every 50 ms) that found FILE above $LIMIT
sizes() {
	local over=0 max=0 size
	echo 0 >"$2"
	while [ ! -e "$2.stop" ]; do
		size=$(stat -c %s "$1" 2>/dev/null || echo 0)
		if [ "$size" -gt "$LIMIT" ]; then
			over=$((over + 1))
			[ $over -le $max ] || { max=$over; echo $max >"$2"; }
		else
			over=0
		fi
		sleep 0.05
	done
}

# rotation LABEL CONSOLE MARK: fills CONSOLE up to 100 bytes short of the
# limit, lines holding MARK, so that the guest's next heartbeats pass it
# (at ~55 bytes a second the guest alone would take over a minute); the
# log must then be moved to CONSOLE.1 (MARK there) and emptied, and the
# guest go on at its start: text only, under the limit, which it never
# stays above for a second (the supervisor acts on inotify's word).
rotation() {
	local l=$1 c=$2 mark=$3 size sampler
	rm -f "$TMP/sizes.stop"
	sizes "$c" "$TMP/sizes" &
	sampler=$!
	size=$(stat -c %s "$c")
	python3 -c 'import sys
n = max(int(sys.argv[2]) - int(sys.argv[3]) - 100, 80)
line = sys.argv[1] + " " + "." * 70 + "\n"
sys.stdout.write((line * (n // len(line) + 1))[:n - 1] + "\n")' \
	    "$mark" "$LIMIT" "$size" >>"$c"
	ok "$l: heartbeats past console_log_max: the log moves to console.log.1" \
	    wait_for 15 grep -q "$mark" "$c.1"
	ok "$l: ...the guest writes on at the start of the emptied log" \
	    wait_for 5 grep -q '^loop: heartbeat' "$c"
	sleep 2
	touch "$TMP/sizes.stop"
	wait "$sampler"
	ok "$l: ...which holds text only, no hole where the old bytes were" \
	    console_ok "$c"
	ok "$l: ...console.log.1 holds text only too" console_ok "$c.1"
	ok "$l: ...console.log is under the limit" \
	    [ "$(stat -c %s "$c")" -le "$LIMIT" ]
	ok "$l: ...and was never above it for a second" \
	    [ "$(cat "$TMP/sizes")" -lt 20 ]
}

# show: the end of the daemon's log, after a failure
show() {
	echo "# --- $log"
	tail -n 30 "$log" | sed 's/^/#   /'
}

# net_part LABEL SHORT: netprobe on user networking (<interface
# type='user'>, QEMU's slirp answering its ARP), port forwards refused
# (network_unsupported: libvirt 9.0 forwards only through passt); then,
# in this test's own network namespace only (UK_VIRT_NS=private), a guest
# on the daemon's bridge through <interface type='bridge'>: netprobe's
# ARP from the address the daemon leased it, answered by the bridge; the
# lease given back by uk rm.
net_part() {
	local l=$1 n=$TAG-$2-probe brmac mac
	exits_with "$l: uk run --network user netprobe exits 0" 0 \
	    "$UK" run --backend libvirt --network user --name "$n" \
	    "$base/netprobe.json"
	cp "$TMP/.out" "$dir/user.out"
	ok "$l: ...slirp's gateway answered its ARP" \
	    grep -q "netprobe: 10.0.2.2 is at " "$dir/user.out"
	"$UK" rm "$n" >/dev/null 2>&1
	fails_with "$l: uk run -p: network_unsupported" network_unsupported \
	    "$UK" run --backend libvirt -p 8080:80 --name "$n" \
	    "$base/netprobe.json"
	if [ "$UK_VIRT_NS" != private ]; then
		tap_n=$((tap_n + 1))
		echo "ok $tap_n - $l: bridge mode # SKIP not in a network" \
		    "namespace of the test's own"
		return
	fi
	exits_with "$l: uk run --network bridge netprobe exits 0" 0 \
	    "$UK" run --backend libvirt --network bridge --name "$n" \
	    "$base/netprobe.json"
	cp "$TMP/.out" "$dir/probe.out"
	brmac=$(ip -o link show ukbr0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	mac=$(field "$n" 'd["network"]["mac"]')
	ok "$l: ...the guest has the instance's MAC ($mac)" \
	    grep -q "netprobe: our mac $mac" "$dir/probe.out"
	ok "$l: ...it asked from its leased address" \
	    grep -q "netprobe: 10.213.0.2 asks for 10.213.0.1" "$dir/probe.out"
	ok "$l: ...and the bridge ($brmac) answered" \
	    grep -q "netprobe: 10.213.0.1 is at $brmac" "$dir/probe.out"
	ok "$l: ...uk rm gives the address back" "$UK" rm "$n"
}

# ---- one part: a daemon on URI ----

# part LABEL SHORT URI
part() {
	local l=$1 p=$2 uri=$3 n h st before beats id con t1=$(date +%s)
	local failed=$tap_failed

	dir=$TMP/$p
	sock=$dir/ukd.sock
	state=$dir/state
	log=$dir/unikerneld.log
	# QEMU runs as libvirt-qemu (root's libvirtd, or the embedded driver
	# in a daemon run as root) and opens the kernel unpacked under
	# $state/images/unpacked/SHA256/: the daemon makes every directory
	# above it searchable (0711), which this test relies on
	mkdir -p "$dir" || return 1
	cat >"$dir/ukd.conf" <<-EOF
	state_dir = $state
	socket = $sock
	log_level = debug
	libvirt_uri = $uri
	console_log_max = $LIMIT
	EOF
	export UK_SOCKET="$sock"
	if ! ok "$l: unikerneld starts" start_daemon "$dir/ukd.conf"; then
		show
		return
	fi
	is "$l: POST /v1/keys trusts the publisher's key for 127.0.0.1" \
	    "$(api POST /v1/keys "{\"pubkey\":\"$pubkey\",\"domains\":[\"127.0.0.1\"]}")" \
	    201

	# hello: its exit code is uk run's
	n=$TAG-$p-hello
	exits_with "$l: uk run hello --cmdline exit=3 exits with 3" 3 \
	    "$UK" run --backend libvirt --name "$n" --cmdline exit=3 \
	    "$base/hello.json"
	cp "$TMP/.out" "$dir/hello.out"
	ok "$l: ...its console reached uk run" \
	    grep -q "This is hello on" "$dir/hello.out"
	is "$l: ...the instance exited with 3 on libvirt" \
	    "$(field "$n" '(d["state"], d["exit_code"], d["backend"])')" \
	    "('exited', 3, 'libvirt')"
	id=$(field "$n" 'd["id"]')
	con=$state/instances/$id/console.log
	api POST "/v1/instances/$n/start" >/dev/null
	wait_for "$TIMEOUT" ended "$n"
	is "$l: ...started again, it exits with 3 again" \
	    "$(field "$n" '(d["state"], d["exit_code"])')" "('exited', 3)"
	is "$l: ...and its console holds that run only" \
	    "$(grep -c '=== rt: exit 3 ===' "$con")" 1

	# crash
	n=$TAG-$p-crash
	exits_with "$l: uk run crash: 134, crashed" 134 \
	    "$UK" run --backend libvirt --name "$n" "$base/crash.json"
	is "$l: ...the instance crashed, with the guest's reason" \
	    "$(field "$n" '(d["state"], d["reason"])')" \
	    "('crashed', 'crashed (page fault)')"

	net_part "$l" "$p"

	# loop, detached
	n=$TAG-$p-loop
	exits_with "$l: uk run -d loop returns once it runs" 0 \
	    sh -c '"$1" run -d --backend libvirt --name "$2" "$3" \
	    >"$4" 2>"$4.err"' sh "$UK" "$n" "$base/loop.json" "$dir/loop.out"
	is "$l: ...and prints its name" "$(cat "$dir/loop.out")" "$n"
	st=$(field "$n" 'd["state"]')
	is "$l: ...it is running" "$st" running
	if [ "$st" != running ]; then
		show
		return
	fi
	h=$(field "$n" 'd["handle"]')
	id=$(field "$n" 'd["id"]')
	con=$state/instances/$id/console.log
	ok "$l: ...and beating" wait_for "$TIMEOUT" \
	    grep -q '^loop: heartbeat 1 ' "$con"
	rotation "$l" "$con" "first-$TAG"

	# kill -9 of the daemon: the guest runs on, the next daemon adopts it
	before=$(qemu_of "$n")
	kill -9 "$dpid"
	wait "$dpid" 2>/dev/null
	ok "$l: kill -9 of unikerneld: the guest's QEMU runs on" \
	    [ -n "$before" ]
	beats=$(grep -c '^loop: heartbeat' "$con")
	ok "$l: ...and the guest beats on, unwatched" wait_for 5 sh -c \
	    "[ \$(grep -c '^loop: heartbeat' '$con') -gt $beats ]"
	ok "$l: unikerneld starts again" start_daemon "$dir/ukd.conf"
	is "$l: ...the guest is adopted: running, same handle" \
	    "$(field "$n" '(d["state"], d["handle"])')" "('running', '$h')"
	is "$l: ...the same QEMU" "$(qemu_of "$n")" "$before"
	ok "$l: ...adoption recorded as an event" event adopted "$h"
	rotation "$l, adopted" "$con" "second-$TAG"

	api POST "/v1/instances/$n/stop" '{"timeout":5}' >"$TMP/status"
	is "$l: POST .../stop: 200" "$(cat "$TMP/status")" 200
	is "$l: ...stopped" "$(field "$n" 'd["state"]')" stopped
	ok "$l: ...its QEMU is gone" wait_for 10 no_qemu "$n"

	kill -TERM "$dpid"
	ok "$l: unikerneld ends on SIGTERM" wait_for 10 sh -c \
	    "! kill -0 $dpid 2>/dev/null"
	wait "$dpid" 2>/dev/null
	[ "$tap_failed" -eq "$failed" ] || show
	diag "$l: $(($(date +%s) - t1)) s"
}

##### (a) qemu:///system, our own libvirtd

if [ "$(id -u)" != 0 ]; then
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - qemu:///system # SKIP needs root"
elif system_daemons "qemu:///system"; then
	part "qemu:///system" sys "$SYSURI"
	is "qemu:///system: none of our domains left" \
	    "$(timeout 30 virsh -q -c "$SYSURI" list --all --name |
	    grep -c "^uk-$TAG-")" 0
	ok "qemu:///system: the daemons we started stop" stop_daemons
fi

##### (b) qemu:///embed?root=DIR: libvirt's QEMU driver inside unikerneld

# No virtlogd: QEMU's own output goes to a file.
mkdir -p "$EMBED/etc" || exit 1
echo 'stdio_handler = "file"' >"$EMBED/etc/qemu.conf"
part "qemu:///embed" emb "$EMBURI"
is "no QEMU of ours left" "$(pgrep -f "guest=uk-$TAG-" | wc -l)" 0

diag "$(($(date +%s) - t0)) s in all"
done_testing
