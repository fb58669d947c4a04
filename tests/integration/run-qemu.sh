#!/bin/sh
# `uk run` end to end on the qemu backend: feeds made with `uk publish`,
# served by a real HTTP server on 127.0.0.1 (tests/http/server.py), a
# private unikerneld in $TMP, real QEMU guests (KVM; TCG where there is no
# /dev/kvm).  Covers the run itself and its exit code, feeds and images
# that must be refused with nothing left behind, restart policies with
# back-off, kill -9 of the daemon with guests adopted, and 20 runs at once.
. "$top_srcdir/tests/lib.sh"

UNIKERNELD=$top_builddir/unikerneld/unikerneld
SERVER=$top_srcdir/tests/http/server.py
HELLO=$top_builddir/kernels/hello/hello.ukimg
CRASH=$top_builddir/kernels/crash/crash.ukimg
LOOP=$top_builddir/kernels/loop/loop.ukimg

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	skip_all "qemu-system-x86_64 is not installed"
[ -x "$UNIKERNELD" ] || skip_all "unikerneld is not built"

cd "$TMP" || exit 1
pids=""
at_exit 'for p in $pids; do kill -9 $p 2>/dev/null; done'
# guests of this test only: their QEMU runs under our state directory
at_exit 'pkill -9 -f "$TMP/state/" 2>/dev/null'

# ---- feeds on 127.0.0.1 ----
mkdir -p www/a www/b www/c www/x
python3 "$SERVER" "$TMP/www" "$TMP/http.log" >"$TMP/port" 2>"$TMP/http.err" &
pids="$pids $!"
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(head -1 "$TMP/port")
[ -n "$port" ] || { cat "$TMP/http.err"; echo "Bail out! no HTTP server"; exit 1; }
base=http://127.0.0.1:$port

$UK keygen -W -p k.pub -s k.key >/dev/null 2>&1 &&
	$UK keygen -W -p other.pub -s other.key >/dev/null 2>&1 &&
	$UK keygen -W -p elsewhere.pub -s elsewhere.key >/dev/null 2>&1 ||
	{ echo "Bail out! uk keygen failed"; exit 1; }
cp k.pub www/a/uk.pub
cp other.pub www/b/uk.pub

# publish DIR FEED KEY IMAGE [publish options]: a feed served at
# $base/DIR/FEED.json listing IMAGE
publish() {
	local dir=$1 feed=$2 key=$3 img=$4; shift 4
	cp "$img" "www/$dir/" &&
		$UK publish --feed "www/$dir/$feed.json" --key "$key" \
		    --uri "$base/$dir/$feed.json" "$@" \
		    "www/$dir/$(basename "$img")" >/dev/null
}
publish a hello k.key "$HELLO" &&
	publish a crash k.key "$CRASH" &&
	publish a loop k.key "$LOOP" &&
	publish b hello other.key "$HELLO" &&
	publish c hello elsewhere.key "$HELLO" ||
	{ echo "Bail out! uk publish failed"; exit 1; }

# ---- the daemon ----
sock=$TMP/ukd.sock
cat >ukd.conf <<EOF
state_dir = $TMP/state
socket = $sock
log_level = debug
default_backend = qemu
EOF
export UK_SOCKET=$sock

start_daemon() {
	"$UNIKERNELD" -f "$TMP/ukd.conf" >>"$TMP/daemon.log" 2>&1 &
	dpid=$!
	pids="$pids $dpid"
	i=0
	while ! curl -s -o /dev/null --unix-socket "$sock" \
	    http://localhost/v1/health; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		kill -0 "$dpid" 2>/dev/null || return 1
		sleep 0.1
	done
}

# api METHOD PATH [BODY]: prints the body; the status goes to $TMP/status
api() {
	curl -s --max-time 60 --unix-socket "$sock" -X "$1" -o "$TMP/api.out" \
	    -w '%{http_code}' ${3:+-d "$3"} "http://localhost$2" >"$TMP/status"
	cat "$TMP/api.out"
}

# jq-less JSON field: jget EXPR (python on stdin, d is the document)
jget() {
	python3 -c 'import json,sys
d=json.load(sys.stdin)
v=eval(sys.argv[1])
print("null" if v is None else v)' "$1"
}

# the store's and the cache's contents, for "nothing was left behind";
# with an argument, without the feeds (a feed that verified stays accepted
# when its image is refused, so that it cannot be rolled back)
snapshot() {
	{
		api GET /v1/instances | jget '[i["name"] for i in d["instances"]]'
		api GET /v1/images | jget '[i["sha256"] for i in d["images"]]'
		[ -n "${1:-}" ] ||
		api GET /v1/feeds | jget '[(f["uri"], f["serial"]) for f in d["feeds"]]'
		ls "$TMP/state/images/sha256" "$TMP/state/images/tmp" \
		    "$TMP/state/instances"
	} 2>&1
}

ok "unikerneld starts" start_daemon
ok "trust the publisher's key for 127.0.0.1" \
	$UK trust add --key "$(tail -1 k.pub)" --domain 127.0.0.1
ok "trust a key for example.org only" \
	$UK trust add --key "$(tail -1 elsewhere.pub)" --domain example.org

# ---- the run ----
exits_with "uk run hello --cmdline exit=3: the guest's exit code" 3 \
	$UK run "$base/a/hello.json" --cmdline exit=3
out=$(last_output)
case $out in
*"Hello, world!"*) ok "the console is streamed" true ;;
*) not_ok "the console is streamed" true; diag "$out" ;;
esac
case $out in
*"signed by key"*"127.0.0.1"*) ok "uk run names the key and domain" true ;;
*) not_ok "uk run names the key and domain" true; diag "$out" ;;
esac
case $out in
*"selected hello 0.1.0"*) ok "uk run names the version" true ;;
*) not_ok "uk run names the version" true; diag "$out" ;;
esac
is "the instance exited with 3" \
	"$(api GET /v1/instances/hello | jget 'd["state"], d["exit_code"]')" \
	"('exited', 3)"
ok "uk ps lists it" sh -c "$UK ps | grep -q '^hello '"
exits_with "a second run gets its own name, from the cache" 0 \
	$UK run "$base/a/hello.json"
case $(last_output) in
*"image cached"*) ok "the image came from the cache" true ;;
*) not_ok "the image came from the cache" true; diag "$(last_output)" ;;
esac
is "named hello-2" "$(api GET /v1/instances/hello-2 | jget 'd["state"]')" \
	exited
is "the image was downloaded once" \
	"$(grep -c 'GET /a/hello.ukimg' "$TMP/http.log")" 1
ok "uk logs shows the console" sh -c "$UK logs hello | grep -q 'rt: exit 3'"
ok "uk rm removes it" $UK rm hello-2
fails_with "uk inspect of a removed instance" store_not_found \
	$UK inspect hello-2

# ---- refusals leave nothing behind ----
before=$(snapshot)
before_nofeeds=$(snapshot x)
# refused NAME CODE URL [image]: uk run fails with CODE and changes
# nothing (but the feed's acceptance, for a refused image)
refused() {
	fails_with "$1" "$2" $UK run "$3"
	if [ -n "${4:-}" ]; then
		is "$1: nothing left behind" "$(snapshot x)" "$before_nofeeds"
	else
		is "$1: nothing left behind" "$(snapshot)" "$before"
	fi
}
refused "a feed signed by an unknown key" unknown_key "$base/b/hello.json"
case $(last_output) in
*"uk trust add --key $(tail -1 other.pub) --domain 127.0.0.1"*)
	ok "the refusal gives the command that trusts the key" true ;;
*) not_ok "the refusal gives the command that trusts the key" true
	diag "$(last_output)" ;;
esac
# on a terminal, uk run offers to trust the publisher's key instead; a
# pseudo-terminal answers: "n" refuses, "y" trusts it for the domain and runs
# prompt ANSWER: uk run of the feed signed by other.key on a pty; its
# output in $TMP/pty.out, its status printed
prompt() {
	python3 - "$1" "$UK" "$base/b/hello.json" >"$TMP/pty.out" <<-'EOF'
	import os, pty, sys, time
	answer, uk, url = sys.argv[1:4]
	pid, fd = pty.fork()
	if pid == 0:
	    os.execv(uk, [uk, "run", "--name", "prompted", url])
	out, answered, end = b"", False, time.time() + 60
	while time.time() < end:
	    try:
	        chunk = os.read(fd, 4096)
	    except OSError:
	        break
	    if not chunk:
	        break
	    out += chunk
	    if not answered and b"[y/N]" in out:
	        os.write(fd, answer.encode() + b"\n")
	        answered = True
	_, status = os.waitpid(pid, 0)
	sys.stdout.write(out.decode(errors="replace"))
	print("status", os.waitstatus_to_exitcode(status))
	EOF
	tail -1 "$TMP/pty.out" | sed 's/^status //'
}
is "on a terminal, n refuses the key (exit 125)" "$(prompt n)" 125
ok "... the prompt names the key" grep -q "Trust key $(sed -n \
	's/.*public key \([0-9A-F]*\)$/\1/p' other.pub) for 127.0.0.1" "$TMP/pty.out"
is "... and the key stays untrusted" \
	"$(api GET /v1/keys | jget 'len(d["keys"])')" 2
is "on a terminal, y trusts the key and runs" "$(prompt y)" 0
is "... the key is trusted for 127.0.0.1 now" "$(api GET /v1/keys | jget \
	'sorted(k["domains"] for k in d["keys"])')" \
	"[['127.0.0.1'], ['127.0.0.1'], ['example.org']]"
ok "remove the prompted instance and key" sh -c "$UK rm prompted &&
	$UK trust rm $(sed -n 's/.*public key \([0-9A-F]*\)$/\1/p' other.pub)"
# (the prompted feed was accepted: the refusals below compare with now)
before=$(snapshot)
before_nofeeds=$(snapshot x)
refused "a key trusted for another domain" key_not_trusted_for_domain \
	"$base/c/hello.json"
refused "a feed that is not there" fetch_http_status "$base/a/nothing.json"

# expired: published long ago, valid for a minute
mkdir -p www/old
cp "$HELLO" www/old/
SOURCE_DATE_EPOCH=$(($(date +%s) - 3600)) $UK publish \
	--feed www/old/hello.json --key k.key --uri "$base/old/hello.json" \
	--expires-in 1m www/old/hello.ukimg >/dev/null
refused "an expired feed" feed_expired "$base/old/hello.json"

# the bad images must not be in the cache already: another hello image
# (version 0.2.0, so another digest)
$UK pack --kernel "$top_builddir/kernels/hello/hello.elf" --name hello \
	--version 0.2.0 --memory 2 -o hello2.ukimg >/dev/null ||
	not_ok "uk pack of hello 0.2.0" false
HELLO2=$TMP/hello2.ukimg

# a feed whose image is damaged on the server
mkdir -p www/dmg
publish dmg hello k.key "$HELLO2"
printf 'X' | dd of=www/dmg/hello2.ukimg bs=1 seek=20000 conv=notrunc \
	2>/dev/null
refused "an image whose digest does not match" fetch_digest_mismatch \
	"$base/dmg/hello.json" image

# images served through the server's fault paths: the feed's href is made
# absolute and the feed signed again (publish with no image re-signs)
# fault DIR HREF: a feed in www/DIR whose image is at HREF
fault() {
	mkdir -p "www/$1"
	publish "$1" hello k.key "$HELLO2" &&
		python3 - "www/$1/hello.json" "$2" <<-'EOF' &&
		import json, sys
		f = json.load(open(sys.argv[1]))
		f["implementations"][0]["image"]["href"] = sys.argv[2]
		json.dump(f, open(sys.argv[1], "w"), indent=2)
		EOF
		$UK publish --feed "www/$1/hello.json" --key k.key >/dev/null
}
mkdir -p www/good2 && cp "$HELLO2" www/good2/
fault trunc "$base/truncate/good2/hello2.ukimg"
refused "a truncated download" fetch_truncated "$base/trunc/hello.json" \
	image
fault s500 "$base/status/500/100/good2/hello2.ukimg"
refused "an image server failing with 500" fetch_http_status \
	"$base/s500/hello.json" image

# rollback: serial 2 accepted, then the server goes back to serial 1
mkdir -p www/rb
publish rb hello k.key "$HELLO"
cp www/rb/hello.json rb1.json
cp www/rb/hello.json.minisig rb1.json.minisig
$UK publish --feed www/rb/hello.json --key k.key >/dev/null
ok "serial 2 runs" $UK run -d --name rb "$base/rb/hello.json"
before=$(snapshot)
before_nofeeds=$(snapshot x)
cp rb1.json www/rb/hello.json
cp rb1.json.minisig www/rb/hello.json.minisig
refused "a feed rolled back to serial 1" feed_rollback "$base/rb/hello.json"

# ---- restart policies ----
ok "crash under on-failure" $UK run -d --name cr --restart on-failure \
	"$base/a/crash.json"
# the restarts come 1 s, 2 s, 4 s... apart: wait for the third (a loaded
# machine may take longer, never less)
i=0
while [ "$(api GET /v1/instances/cr | jget 'd["restart_count"]')" -lt 3 ] &&
    [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "restarted 3 times" "$(api GET /v1/instances/cr | jget \
	'min(d["restart_count"], 3)')" 3
api GET "/v1/events?follow=0" | grep '"restart"' |
	sed -n 's/.*planned in \([0-9]*\) ms.*/\1/p' | head -3 >"$TMP/delays"
is "the back-off doubles: 1 s, 2 s, 4 s" "$(tr '\n' ' ' <"$TMP/delays")" \
	"1000 2000 4000 "
# and each restart came no sooner than planned: from each crash to the
# next start, at least the delay (event times are whole seconds)
api GET "/v1/events?follow=0" | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin if l.strip()]
crash, gaps = None, []
for e in evs:
    m = e["message"]
    if e["kind"] != "state" or not m.startswith("cr: "):
        continue
    if "-> crashed" in m:
        crash = e["time"]
    elif "-> starting" in m and crash is not None:
        gaps.append(e["time"] - crash)
        crash = None
print(" ".join(str(int(g >= w)) for g, w in zip(gaps, (1, 2, 4))))
' >"$TMP/gaps"
is "each restart waited its delay" "$(cat "$TMP/gaps")" "1 1 1"
ok "uk stop ends the restarts" $UK stop cr
sleep 2
is "stopped: no more restarts" \
	"$(api GET /v1/instances/cr | jget 'd["next_restart"], d["desired"]')" \
	"(None, 'stopped')"
exits_with "crash under no: uk run says crashed" 134 \
	$UK run --name cr2 "$base/a/crash.json"
sleep 2
is "left alone under no" \
	"$(api GET /v1/instances/cr2 | jget 'd["state"], d["restart_count"]')" \
	"('crashed', 0)"

# ---- kill -9 of the daemon: guests adopted ----
for n in l1 l2 l3; do
	$UK run -d --name $n "$base/a/loop.json" >/dev/null ||
		not_ok "loop $n starts" false
done
handles=$(api GET /v1/instances | jget \
	'sorted(i["handle"] for i in d["instances"] if i["name"] in ("l1","l2","l3"))')
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
qemus=$(pgrep -f "$TMP/state/instances" -c)
ok "unikerneld starts again" start_daemon
is "every guest adopted under its handle" "$(api GET /v1/instances | jget \
	'sorted(i["handle"] for i in d["instances"] if i["name"] in ("l1","l2","l3") and i["state"] == "running")')" \
	"$handles"
is "no guest lost or doubled" "$(pgrep -f "$TMP/state/instances" -c)" "$qemus"
ok "adoption recorded" sh -c "curl -s --unix-socket $sock \
	'http://localhost/v1/events?follow=0' | grep -q '\"adopted\"'"
ok "an adopted guest stops" $UK stop l1
is "its end is seen" "$(api GET /v1/instances/l1 | jget 'd["state"]')" stopped

# ---- 20 runs at once ----
i=1
while [ $i -le 20 ]; do
	$UK run -d --name "p$i" "$base/a/loop.json" >"$TMP/p$i.out" 2>&1 &
	eval "w$i=\$!"
	i=$((i + 1))
done
fails=0
i=1
while [ $i -le 20 ]; do
	eval "wait \$w$i" || { fails=$((fails + 1)); cat "$TMP/p$i.out"; }
	i=$((i + 1))
done
is "20 uk run -d at once all succeed" "$fails" 0
is "20 guests run" "$(api GET /v1/instances | jget \
	'len([i for i in d["instances"] if i["name"].startswith("p") and i["state"] == "running"])')" 20
is "one download for all of them" \
	"$(grep -c 'GET /a/loop.ukimg' "$TMP/http.log")" 1
i=1
while [ $i -le 20 ]; do
	$UK rm -f "p$i" >/dev/null 2>&1 || fails=$((fails + 1))
	i=$((i + 1))
done
is "uk rm -f removes them all" "$fails" 0
$UK rm -f l2 l3 rb >/dev/null 2>&1

# ---- update: the feed's newest version ----
publish a hello k.key "$HELLO2"
is "POST update moves hello to 0.2.0" "$(api POST /v1/instances/hello/update |
	jget 'd["updated"], d["from"], d["to"], d["instance"]["image"]["version"]')" \
	"(True, '0.1.0', '0.2.0', '0.2.0')"
is "... a second update finds nothing newer" \
	"$(api POST /v1/instances/hello/update | jget 'd["updated"]')" False
exits_with "uk start runs the new version" 0 $UK start hello
i=0
while [ "$(api GET /v1/instances/hello | jget 'd["state"]')" != exited ] &&
    [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "... which ran with the instance's command line and exited 3" \
	"$(api GET /v1/instances/hello | jget 'd["state"], d["exit_code"], d["image"]["version"]')" \
	"('exited', 3, '0.2.0')"
is "... its console has both runs" \
	"$($UK logs hello | grep -c 'rt: exit 3')" 2

# ---- images in use ----
sha=$(api GET /v1/instances/hello | jget 'd["image"]["sha256"]')
fails_with "an image in use is not removed" image_in_use $UK image rm "$sha"
ok "uk rm hello" $UK rm hello
ok "uk image prune removes unused images" $UK image prune
is "the cache is empty" "$(ls "$TMP/state/images/sha256" | grep -v '^$' | \
	grep -c . || true)" \
	"$(api GET /v1/images | jget 'len(d["images"])')"

kill "$dpid"
done_testing
