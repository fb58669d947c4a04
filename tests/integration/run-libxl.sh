#!/bin/sh
# `uk run` end to end on the libxl backend, with unikerneld running inside
# dom0 of Debian's Xen 4.17 under QEMU/TCG (tests/xen/README.md).  The
# host makes a key and signed feeds of hello, crash and loop; dom0's hook
# serves them on 127.0.0.1 with tests/http/serve (dom0 has no python),
# starts a private unikerneld with default_backend = libxl, trusts the key,
# runs hello (its exit code and console) and crash (crashed) with uk run,
# lists them, then kills the daemon with SIGKILL while loop runs, starts it
# again and checks that the guest was adopted under its handle and still
# beats, and stops it.  dom0 only collects: every output, status and reply
# goes back over the share (out/), and the checks below turn them into TAP.
# Skips when unikerneld has no libxl backend or the Xen packages cannot be
# downloaded.
. "$top_srcdir/tests/lib.sh"

XEN_RUN=$top_srcdir/tests/xen/xen-run
UNIKERNELD=$top_builddir/unikerneld/unikerneld
SERVE=$top_builddir/tests/http/serve
HELLO=$top_builddir/kernels/hello/hello.ukimg
CRASH=$top_builddir/kernels/crash/crash.ukimg
LOOP=$top_builddir/kernels/loop/loop.ukimg
# dom0's loopback is this test's alone, and the feeds are signed on the
# host with their URLs: a fixed port
PORT=8000
BASE=http://127.0.0.1:$PORT

[ -x "$UNIKERNELD" ] && ldd "$UNIKERNELD" 2>/dev/null | grep -q libxenlight ||
	skip_all "unikerneld is not built with the libxl backend (configure --with-libxl, libxen-dev)"
for f in "$UK" "$SERVE" "$HELLO" "$CRASH" "$LOOP"; do
	[ -e "$f" ] || { echo "Bail out! $f is not built"; exit 1; }
done
$UK run --help >/dev/null 2>&1 ||
	{ echo "Bail out! this uk has no 'run' command"; exit 1; }

rc=0
sh "$XEN_RUN" fetch >"$TMP/fetch.log" 2>&1 || rc=$?
if [ "$rc" -eq 77 ]; then
	skip_all "$(tail -1 "$TMP/fetch.log")"
elif [ "$rc" -ne 0 ]; then
	sed 's/^/# /' "$TMP/fetch.log"
	echo "Bail out! cannot prepare Xen (xen-run fetch failed)"
	exit 1
fi

# ---- the share: programs, their libraries, feeds, the hook ----
S=$TMP/share
R=$S/results
O=$S/out
mkdir -p "$S/guests" "$S/bin" "$S/lib" "$S/www" "$O"
cd "$TMP" || exit 1

$UK keygen -W -p k.pub -s k.key >keygen.log 2>&1 ||
	{ sed 's/^/# /' keygen.log; echo "Bail out! uk keygen -W failed"; exit 1; }
cp "$HELLO" "$CRASH" "$LOOP" k.pub "$S/www/"
mv "$S/www/k.pub" "$S/www/uk.pub"
for n in hello crash loop; do
	$UK publish --feed "$S/www/$n.json" --key k.key --uri "$BASE/$n.json" \
	    "$S/www/$n.ukimg" >>publish.log 2>&1 ||
		{ sed 's/^/# /' publish.log; echo "Bail out! uk publish $n failed"; exit 1; }
done
pubkey=$(tail -1 k.pub)

# What this uk can do: the trust command and --cmdline came late.
have_trust=no
$UK trust add --help >/dev/null 2>&1 && have_trust=yes
have_cmdline=no
$UK run --help 2>&1 | grep -q -e '--cmdline' && have_cmdline=yes
if [ "$have_cmdline" = yes ]; then
	hello_code=3
else
	hello_code=0
	diag "uk run has no --cmdline: hello runs with its own and exits 0"
fi
# curl in dom0 for the raw API (GET, events; the trust when uk cannot)
have_curl=no
CURL=$(command -v curl 2>/dev/null) && [ -x "$CURL" ] && have_curl=yes
[ "$have_curl" = no ] && [ "$have_trust" = no ] &&
	{ echo "Bail out! neither uk trust nor curl to trust the key with"; exit 1; }

cp "$UNIKERNELD" "$UK" "$SERVE" "$S/bin/"
progs="$UNIKERNELD $UK $SERVE"
if [ "$have_curl" = yes ]; then
	cp "$CURL" "$S/bin/"
	progs="$progs $CURL"
fi
# dom0 has glibc and Xen's libraries from this same Debian, but not
# libcurl, sqlite, libmicrohttpd, json-c...: every library ldd names goes
# along (a sanitizer build's runtime too)
for p in $progs; do
	ldd "$p" | awk '/=> \// { print $3 }'
done | sort -u | while read -r lib; do
	cp -L "$lib" "$S/lib/"
done
ldd "$UNIKERNELD" "$UK" | grep -q "not found" &&
	{ ldd "$UNIKERNELD" "$UK" | sed 's/^/# /'; echo "Bail out! libraries missing"; exit 1; }

cat >"$S/test.env" <<EOF
PORT=$PORT
BASE=$BASE
pubkey='$pubkey'
have_trust=$have_trust
have_cmdline=$have_cmdline
hello_code=$hello_code
have_curl=$have_curl
EOF

# dom0's part, under busybox sh as root: collect, do not judge
cat >"$S/dom0-hook.sh" <<'EOF'
H=/mnt/host
O=$H/out
. $H/test.env
W=/tmp/ukd
mkdir -p $W
# the programs and libraries into dom0's memory: the share is 9p without
# a cache, where each exec would read its 80 libraries again
cut -d' ' -f1 /proc/uptime >$O/copy.start
cp -r $H/bin $H/lib $W/ || exit 1
cut -d' ' -f1 /proc/uptime >$O/copy.end
export LD_LIBRARY_PATH=$W/lib
export PATH=$W/bin:$PATH
export UK_SOCKET=$W/ukd.sock
cd $W || exit 1

up() { cut -d' ' -f1 /proc/uptime; }
mark() { echo "$1=$(up)" >>$O/times; }
fact() { echo "$1=$2" >>$O/facts; }
# step NAME SECONDS CMD...: CMD's output, errors and status in
# out/NAME.{out,err,rc}, its times in out/times
step() {
	local n=$1 t=$2
	shift 2
	mark "$n.start"
	timeout "$t" "$@" >$O/$n.out 2>$O/$n.err </dev/null
	echo $? >$O/$n.rc
	mark "$n.end"
}
# api NAME METHOD PATH: the reply in out/NAME.json, its status in
# out/NAME.status; without curl, a GET of an instance through uk inspect
api() {
	if [ "$have_curl" = yes ]; then
		curl -sS --max-time 60 --unix-socket "$UK_SOCKET" -X "$2" \
		    -o $O/$1.json -w '%{http_code}' "http://localhost$3" \
		    >$O/$1.status 2>$O/$1.curl.err
	else
		case $2:$3 in
		GET:/v1/instances/*)
			if timeout 60 uk inspect "${3#/v1/instances/}" \
			    >$O/$1.json 2>$O/$1.curl.err; then
				echo 200 >$O/$1.status
			else
				echo 0 >$O/$1.status
			fi ;;
		*) echo 0 >$O/$1.status ;;
		esac
	fi
}
beats() { uk logs loop 2>/dev/null | grep -c 'loop: heartbeat'; }

start_daemon() {	# start_daemon N: out/daemonN.log, each line timed
	rm -f $W/log$1
	mkfifo $W/log$1
	while IFS= read -r l; do echo "$(up) $l"; done <$W/log$1 \
	    >$O/daemon$1.log &
	unikerneld -f $W/ukd.conf >$W/log$1 2>&1 &
	dpid=$!
	i=0
	while [ $i -lt 300 ]; do
		if [ -S "$UK_SOCKET" ] && uk ps >/dev/null 2>&1; then
			fact daemon$1 up
			return 0
		fi
		kill -0 $dpid 2>/dev/null || break
		sleep 0.2
		i=$((i + 1))
	done
	fact daemon$1 down
	return 1
}

finish() {
	mark end
	xl list >$O/xl-final.txt 2>&1
	[ -n "${dpid:-}" ] && kill -TERM $dpid 2>/dev/null && wait $dpid
	[ -n "${spid:-}" ] && kill -TERM $spid 2>/dev/null
	for d in $W/state/instances/*/; do
		[ -e "$d/console.log" ] && cp "$d/console.log" "$O/console-$(basename $d).log"
	done
	exit 0
}

echo "copy.start=$(cat $O/copy.start)" >>$O/times
echo "copy.end=$(cat $O/copy.end)" >>$O/times
rm -f $O/copy.start $O/copy.end
mark begin
# no network is configured in dom0: the loopback is all we need
ip link set lo up 2>$O/lo.err || ifconfig lo 127.0.0.1 up 2>>$O/lo.err
serve -p $PORT -w $W/serve.port -l $O/http.log $H/www 2>$O/serve.err &
spid=$!
i=0
while [ ! -s $W/serve.port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fact serve_port "$(cat $W/serve.port 2>/dev/null)"

cat >$W/ukd.conf <<EOC
state_dir = $W/state
socket = $UK_SOCKET
log_level = debug
default_backend = libxl
EOC
cp $W/ukd.conf $O/ukd.conf
mark daemon1.start
start_daemon 1 || finish
mark daemon1.up

if [ "$have_trust" = yes ]; then
	step trust 60 uk trust add --key "$pubkey" --domain 127.0.0.1
else
	step trust 60 curl -sS -f --unix-socket "$UK_SOCKET" \
	    -H 'Content-Type: application/json' \
	    -d "{\"pubkey\":\"$pubkey\",\"domains\":[\"127.0.0.1\"]}" \
	    http://localhost/v1/keys
fi

# hello: its console and exit code through uk run
if [ "$have_cmdline" = yes ]; then
	step hello 180 uk run "$BASE/hello.json" --backend libxl --cmdline "exit=$hello_code"
else
	step hello 180 uk run "$BASE/hello.json" --backend libxl
fi
api hello GET /v1/instances/hello
step hello-logs 60 uk logs hello

# crash: crashed, uk run says so with 134
step crash 180 uk run "$BASE/crash.json" --backend libxl
api crash GET /v1/instances/crash
api instances GET /v1/instances
step ps 60 uk ps
xl list >$O/xl-after-runs.txt 2>&1
ps >$O/ps-after-runs.txt 2>&1

# loop: runs until stopped; the daemon is killed under it
step loop 180 uk run -d "$BASE/loop.json" --backend libxl
i=0
while [ "$(beats)" -lt 2 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
fact beats_before "$(beats)"
api loop-before GET /v1/instances/loop
ps >$O/ps-before-kill.txt 2>&1
mark kill
kill -9 $dpid
wait $dpid 2>/dev/null
fact killed_status $?
[ -d /proc/$dpid ] && fact daemon_after_kill alive ||
	fact daemon_after_kill gone
dpid=
ps >$O/ps-after-kill.txt 2>&1
xl list >$O/xl-after-kill.txt 2>&1
sleep 3	# the guest goes on beating with nobody reading its console
mark daemon2.start
start_daemon 2 || finish
mark daemon2.up
api loop-after GET /v1/instances/loop
api events GET '/v1/events?follow=0'
b=$(beats)
fact beats_at_restart "$b"
i=0
while [ "$(beats)" -le "$b" ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
fact beats_later "$(beats)"
step stop 120 uk stop -t 2 loop
api loop-stopped GET /v1/instances/loop
xl list >$O/xl-after-stop.txt 2>&1
step ps2 60 uk ps
finish
EOF

keep_results() {
	local keep=$top_builddir/tests/integration/run-libxl.results
	rm -rf "$keep" && mkdir -p "$keep" &&
		cp -r "$R" "$O" "$keep/" 2>/dev/null
	diag "results kept in $keep"
}

# ---- boot ----
t0=$(date +%s)
rc=0
UK_XEN_TIMEOUT=${UK_XEN_TIMEOUT:-600} UK_XEN_HOOK_TIMEOUT=${UK_XEN_HOOK_TIMEOUT:-540} \
	sh "$XEN_RUN" boot "$S" >"$TMP/boot.log" 2>&1 || rc=$?
t1=$(date +%s)
if [ "$rc" -ne 0 ] || [ ! -e "$R/DONE" ] || [ ! -e "$R/hook.rc" ]; then
	sed 's/^/# /' "$TMP/boot.log"
	[ -e "$R/hook.out" ] && sed 's/^/# hook: /' "$R/hook.out"
	[ -e "$R/serial.log" ] && grep -v -e '^(XEN) HVM' "$R/serial.log" |
		tail -40 | sed 's/^/# serial: /'
	[ -d "$R" ] && keep_results
	echo "Bail out! Xen did not run the hook (xen-run boot: $rc)"
	exit 1
fi
diag "Xen boot and the hook: $((t1 - t0)) s ($(cat "$R/DONE"))"

# ---- what dom0 saw ----
fact() { sed -n "s/^$1=//p" "$O/facts" 2>/dev/null | tail -1; }
rcof() { cat "$O/$1.rc" 2>/dev/null || echo none; }
statusof() { cat "$O/$1.status" 2>/dev/null || echo none; }
# jget NAME KEY: a string or number member of out/NAME.json (null: empty)
jget() {
	sed -n "s/.*\"$2\" *: *\"\{0,1\}\([^\",}]*\)\"\{0,1\} *[,}].*/\1/p" \
	    "$O/$1.json" 2>/dev/null | head -1 | sed 's/^null$//'
}
# dur A B: seconds from mark A to mark B
dur() {
	awk -F= -v a="$1" -v b="$2" '$1 == a { x = $2 } $1 == b { y = $2 }
	    END { if (x != "" && y != "") printf "%.1f", y - x; else print "?" }' \
	    "$O/times" 2>/dev/null
}
show() { [ -s "$O/$1" ] && sed 's/^/#   /' "$O/$1" | head -${2:-30}; }
contains() { grep -q -e "$2" "$O/$1" 2>/dev/null; }

is "the hook ran to its end in dom0" "$(cat "$R/hook.rc")" 0
[ -s "$R/hook.out" ] && sed 's/^/# hook: /' "$R/hook.out" | head -20
is "serve listens on 127.0.0.1:$PORT in dom0" "$(fact serve_port)" "$PORT"
show serve.err
is "unikerneld starts in dom0 (libxl by default)" "$(fact daemon1)" up
[ "$(fact daemon1)" = up ] || show daemon1.log 60
is "the key is trusted for 127.0.0.1 ($([ $have_trust = yes ] && echo uk trust add || echo POST /v1/keys))" \
	"$(rcof trust)" 0
show trust.err

# hello
is "uk run hello --backend libxl exits with hello's code" "$(rcof hello)" \
	"$hello_code"
ok "uk run prints hello's console" contains hello.out "Hello, world! This is hello on xen"
ok "to its exit trailer" contains hello.out "=== rt: exit $hello_code ==="
if [ "$have_cmdline" = yes ]; then
	ok "the guest got --cmdline" contains hello.out "command line \"exit=$hello_code\""
fi
ok "uk run names the feed's key and domain" contains hello.err \
	"signed by key .*trusted for domain 127.0.0.1"
[ "$(rcof hello)" = "$hello_code" ] || { show hello.out; show hello.err; }
ok "the feed, its signature and the image came from serve" sh -c \
	"grep -q '^GET /hello.json 200' '$O/http.log' &&
	 grep -q '^GET /hello.json.minisig 200' '$O/http.log' &&
	 grep -q '^GET /hello.ukimg 200' '$O/http.log'"
is "GET /v1/instances/hello: 200" "$(statusof hello)" 200
is "hello: state exited" "$(jget hello state)" exited
is "hello: exit_code $hello_code" "$(jget hello exit_code)" "$hello_code"
is "hello: backend libxl" "$(jget hello backend)" libxl
ok "uk logs hello shows the console" contains hello-logs.out "Hello, world!"

# crash
is "uk run crash exits 134 (crashed)" "$(rcof crash)" 134
[ "$(rcof crash)" = 134 ] || { show crash.out; show crash.err; }
ok "uk run says why" contains crash.err "crash.* crashed"
is "GET /v1/instances/crash: state crashed" "$(jget crash state)" crashed
reason=$(jget crash reason)
case $reason in
crashed*) ok "crash: the reason is Xen's ($reason)" true ;;
*) is "crash: the reason is Xen's" "$reason" "crashed..." ;;
esac
ok "uk ps lists hello exited" sh -c "grep -q '^hello  *exited' '$O/ps.out'"
ok "uk ps lists crash crashed" sh -c "grep -q '^crash  *crashed' '$O/ps.out'"
[ "$(rcof ps)" = 0 ] || show ps.err
if [ "$have_curl" = yes ]; then
	ok "GET /v1/instances lists both" sh -c \
		"grep -q '\"name\" *: *\"hello\"' '$O/instances.json' &&
		 grep -q '\"name\" *: *\"crash\"' '$O/instances.json'"
fi
ok "their domains are gone" sh -c \
	"! grep -q -e '^uk-hello ' -e '^uk-crash ' '$O/xl-after-runs.txt'"

# loop, kill -9, adoption
is "uk run -d loop" "$(rcof loop)" 0
[ "$(rcof loop)" = 0 ] || { show loop.out; show loop.err; }
handle=$(jget loop-before handle)
is "loop runs" "$(jget loop-before state)" running
ok "loop beats (heartbeats: $(fact beats_before))" \
	test "$(fact beats_before)" -ge 2
is "kill -9 ends unikerneld" \
	"$(fact killed_status) $(fact daemon_after_kill)" "137 gone"
ok "the domain lives on without the daemon" contains xl-after-kill.txt "^uk-loop "
is "unikerneld starts again" "$(fact daemon2)" up
[ "$(fact daemon2)" = up ] || show daemon2.log 60
is "loop: still running" "$(jget loop-after state)" running
ok "loop: the same handle ($handle)" test -n "$handle" -a \
	"$(jget loop-after handle)" = "$handle"
id=$(jget loop-before id)
if [ "$have_curl" = yes ]; then
	ok "the events say adopted, with the handle" sh -c "grep \
		'\"instance\" *: *\"$id\", *\"kind\" *: *\"adopted\"' \
		'$O/events.json' | grep -q '\"message\" *: *\"$handle\"'"
else
	diag "no curl: the adoption is checked in the daemon's log only"
fi
ok "the daemon's log says adopted" contains daemon2.log \
	"instance loop: adopted libxl guest $handle"
ok "the adopted guest's console goes on ($(fact beats_at_restart) -> $(fact beats_later) beats)" \
	test "$(fact beats_later)" -gt "$(fact beats_at_restart)"
is "uk stop loop" "$(rcof stop)" 0
[ "$(rcof stop)" = 0 ] || { show stop.out; show stop.err; }
is "loop: stopped" "$(jget loop-stopped state)" stopped
ok "its domain is gone" sh -c "! grep -q '^uk-loop ' '$O/xl-after-stop.txt'"
ok "uk ps shows it stopped" sh -c "grep -q '^loop  *stopped' '$O/ps2.out'"

diag "in dom0: daemon up $(dur daemon1.start daemon1.up) s, hello $(dur hello.start hello.end) s," \
	"crash $(dur crash.start crash.end) s, loop -d $(dur loop.start loop.end) s," \
	"restart $(dur daemon2.start daemon2.up) s, stop $(dur stop.start stop.end) s," \
	"copying the programs $(dur copy.start copy.end) s, hook $(dur copy.start end) s"
[ "$tap_failed" -eq 0 ] || keep_results
done_testing
