#!/bin/sh
# run-net.sh - guest networks end to end: `uk run --network` and `-p`
# through a private unikerneld on the qemu backend, real QEMU guests (KVM,
# else TCG), feeds from tests/http/server.py.
#
# (a) user networking, on the host, traffic to 127.0.0.1 only: netprobe
#     ARPs QEMU's slirp gateway with the MAC the daemon derived from the
#     instance (the same at its next start), a forward listens on
#     127.0.0.1 while the guest runs and its QEMU has it; forwards the
#     daemon refuses (an address it does not allow, a port in use, bad
#     and duplicate forwards), each with its code and nothing left.
# (b) bridge mode, as root, inside a network namespace this test makes,
#     with the daemon itself run there (ip netns exec) and a feed server
#     of its own on that namespace's 127.0.0.1: without CAP_NET_ADMIN a
#     run is refused (network_not_permitted); then the daemon makes the
#     bridge, the guest's tap is on it, the guest gets ip=/gw= on its
#     command line and the bridge answers its ARP; the address is kept
#     across restarts of the instance and of the daemon, given back by
#     `uk rm`, and a run past the pool's end is network_pool_exhausted.
#
# A guest that serves TCP (httpd) plugs in through run_guest and
# user_publish below: publish its image with publish_kernel, run it with
# -p, then talk to 127.0.0.1:PORT.
. "$top_srcdir/tests/lib.sh"
# curl, python3, unikerneld; $pids killed at exit; wait_socket, req, post,
# error_is (its own configuration file is not used here)
. "$top_srcdir/tests/lib-daemon.sh"

SERVER=$top_srcdir/tests/http/server.py
PROBE_ELF=$top_builddir/kernels/netprobe/netprobe.elf
LOOP_ELF=$top_builddir/kernels/loop/loop.elf
HTTPD_IMG=$top_builddir/kernels/httpd/httpd.ukimg
SITE_DIR=$top_srcdir/examples/site

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	skip_all "qemu-system-x86_64 is not installed"
[ -r "$PROBE_ELF" ] && [ -r "$LOOP_ELF" ] ||
	{ echo "Bail out! netprobe or loop is not built"; exit 1; }

cd "$TMP" || exit 1
NS=uknet-${TMP##*.}	# this run's network namespace, in (b)
at_exit '[ -n "${ns_made:-}" ] && ip netns delete "$NS" 2>/dev/null'
# guests of this test only: their QEMUs run under our state directories
at_exit 'pkill -9 -f "$TMP/state" 2>/dev/null'

$UK keygen -W -p k.pub -s k.key >/dev/null 2>&1 ||
	{ echo "Bail out! uk keygen failed"; exit 1; }

# publish_kernel ELF NAME: the kernel packed as NAME and listed in the
# feed www/NAME.json, signed with k.key, for a server on $base.
publish_kernel() {
	mkdir -p www &&
		$UK pack --kernel "$1" --name "$2" --version 0.1.0 --memory 16 \
		    --platform kvm,xen -o "www/$2.ukimg" >/dev/null &&
		$UK publish --feed "www/$2.json" --key k.key \
		    --uri "$base/$2.json" "www/$2.ukimg" >/dev/null
}

# serve [ip netns exec NS]: a feed server on 127.0.0.1 ($base)
serve() {
	rm -f "$TMP/port"
	"$@" python3 "$SERVER" "$TMP/www" "$TMP/http.log" >"$TMP/port" \
	    2>"$TMP/http.err" &
	pids="$pids $!"
	i=0
	while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	port=$(head -1 "$TMP/port")
	[ -n "$port" ] || return 1
	base=http://127.0.0.1:$port
}

# start_daemon CONF [PREFIX...]: unikerneld, run through PREFIX (ip netns
# exec...), serving on $sock (10 s)
start_daemon() {
	local conf=$1
	shift
	"$@" "$UNIKERNELD" -f "$conf" >>"$TMP/daemon.log" 2>&1 &
	dpid=$!
	pids="$pids $dpid"
	wait_socket "$sock" "$dpid"
}

stop_daemon() {
	kill "$dpid" 2>/dev/null
	i=0
	while kill -0 "$dpid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# field NAME EXPR: EXPR (python, d the instance NAME) as text
field() {
	req GET "/v1/instances/$1" >/dev/null
	python3 -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print("null" if v is None else v)' "$2" <"$TMP/body" 2>/dev/null
}

# instances: the names of the instances
instances() {
	req GET /v1/instances >/dev/null
	python3 -c 'import json, sys
print(sorted(i["name"] for i in json.load(sys.stdin)["instances"]))' \
	    <"$TMP/body"
}

# refused_api CODE STATUS BODY: POST /v1/instances answers STATUS, CODE
refused_api() {
	[ "$(post POST /v1/instances "$3")" = "$2" ] && error_is "$1"
}

# run_guest NAME FEED [uk run options]: a detached run of FEED named NAME
run_guest() {
	local name=$1 feed=$2
	shift 2
	$UK run -d --name "$name" "$@" "$base/$feed.json"
}

# qemu_cmdline NAME: the command line of instance NAME's QEMU, as the
# kernel has it (/proc), one word per line
qemu_cmdline() {
	local h
	h=$(field "$1" 'd["handle"]')
	tr '\0' '\n' <"/proc/${h%%:*}/cmdline"
}

# wait_ended NAME: until the instance has ended (30 s)
wait_ended() {
	i=0
	while :; do
		case $(field "$1" 'd["state"]') in
		exited|crashed|stopped|failed) return 0 ;;
		esac
		i=$((i + 1))
		[ $i -gt 300 ] && return 1
		sleep 0.1
	done
}

# connects PORT: 127.0.0.1:PORT accepts a TCP connection
connects() {
	python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.close()' "$1"
}

# has NAME TEXT: the last command's output holds TEXT
has() {
	local out
	out=$(last_output)
	case $out in
	*"$2"*) ok "$1" true ;;
	*) not_ok "$1" true; echo "$out" | sed 's/^/# /' | tail -5 ;;
	esac
}

# ---- (a) user networking ----
ok "a feed server on 127.0.0.1" serve
publish_kernel "$PROBE_ELF" netprobe &&
	publish_kernel "$LOOP_ELF" loop &&
	cp "$HTTPD_IMG" www/httpd.ukimg &&
	$UK publish --feed www/httpd.json --key k.key \
	    --uri "$base/httpd.json" www/httpd.ukimg >/dev/null ||
	{ echo "Bail out! uk pack or publish failed"; exit 1; }
sock=$TMP/user.sock
cat >user.conf <<EOF
state_dir = $TMP/state-user
socket = $sock
log_level = debug
EOF
export UK_SOCKET=$sock
ok "unikerneld starts" start_daemon "$TMP/user.conf"
ok "trust the key for 127.0.0.1" \
	$UK trust add --key "$(tail -1 k.pub)" --domain 127.0.0.1

p1=$(free_port)
exits_with "uk run -p 127.0.0.1:$p1:80 netprobe: it exits 0" 0 \
	$UK run --name probe -p "127.0.0.1:$p1:80" "$base/netprobe.json"
out=$(last_output)
mac=$(field probe 'd["network"]["mac"]')
case $mac in
02:??:??:??:??:??) ok "the instance's MAC is locally administered: $mac" true ;;
*) not_ok "the instance's MAC is locally administered" true; diag "$mac" ;;
esac
case $out in
*"netprobe: our mac $mac"*) ok "the guest has the daemon's MAC" true ;;
*) not_ok "the guest has the daemon's MAC" true; diag "$out" ;;
esac
case $out in
*"netprobe: 10.0.2.15 asks for 10.0.2.2"*"netprobe: 10.0.2.2 is at "*)
	ok "slirp's gateway answered the guest's ARP" true ;;
*) not_ok "slirp's gateway answered the guest's ARP" true; diag "$out" ;;
esac
is "the API shows the network" "$(field probe '(d["network"]["mode"],
	d["network"]["addresses"], d["network"]["gateway"],
	d["network"]["bridge"], d["network"]["forwards"])')" \
	"('user', ['10.0.2.15/24'], '10.0.2.2', None, [{'host': $p1, 'guest': 80, 'proto': 'tcp', 'host_ip': '127.0.0.1'}])"
ok "uk ps shows the forward" \
	sh -c "$UK ps | grep -q '^probe .*127.0.0.1:$p1->80/tcp'"
ok "uk ps --json has the network" \
	sh -c "$UK ps --json | grep -q '\"forwards\"'"
ok "uk inspect shows it" sh -c "$UK inspect probe | grep -q '$mac'"
ok "started again" $UK start probe
wait_ended probe
ok "... with the same MAC" sh -c \
	"[ \$($UK logs probe | grep -c 'netprobe: our mac $mac') = 2 ]"

# run_guest with user_publish: a guest that runs, reached on 127.0.0.1
p2=$(free_port)
ok "loop with -p $p2:80 and a udp forward runs" run_guest loop loop \
	-p "$p2:80" -p "$p2:53/udp"
qemu_cmdline loop >"$TMP/qemu.words" 2>&1
ok "its QEMU has the forwards" grep -q \
	"^user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$p2-:80,hostfwd=udp:127.0.0.1:$p2-:53\$" \
	"$TMP/qemu.words"
ok "127.0.0.1:$p2 accepts a connection while the guest runs" connects "$p2"
ok "stopped" $UK stop loop
not_ok "... and the port is closed" connects "$p2"
ok "removed" $UK rm loop

# the httpd image the build makes (kernel and example site), serving
# through the daemon's forward: what the README shows
p3=$(free_port)
ok "uk run -d -p $p3:80 httpd" run_guest web httpd -p "$p3:80"
i=0
until curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$p3/" ||
    [ $i -ge 60 ]; do sleep 0.5; i=$((i + 1)); done
curl -s --max-time 30 -o "$TMP/index" "http://127.0.0.1:$p3/"
ok "curl 127.0.0.1:$p3/ gets the example site's index page" \
	cmp "$TMP/index" "$SITE_DIR/index.html"
curl -s --max-time 30 -o "$TMP/logo" "http://127.0.0.1:$p3/img/logo.png"
ok "... and its image, byte for byte" cmp "$TMP/logo" "$SITE_DIR/img/logo.png"
ok "uk ps shows web's forward" \
	sh -c "$UK ps | grep -q '^web .*127.0.0.1:$p3->80/tcp'"
ok "uk logs web: httpd says where it serves" \
	sh -c "$UK logs web | grep -q 'httpd: 5 files .*http://10.0.2.15:80/'"
ok "stopped" $UK stop web
ok "removed" $UK rm web

# refusals: each with its code, nothing left behind
before=$(instances)
fails_with "-p on 0.0.0.0, which the daemon does not allow" \
	network_host_ip_refused $UK run --name r1 -p "0.0.0.0:$p2:80" \
	"$base/loop.json"
python3 -c 'import socket, time, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
print("ok", flush=True)
time.sleep(120)' "$p2" >"$TMP/busy" &
busy=$!
pids="$pids $busy"
i=0
while [ ! -s "$TMP/busy" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
fails_with "-p on a port in use" network_port_in_use \
	$UK run --name r2 -p "$p2:80" "$base/loop.json"
kill "$busy" 2>/dev/null
is "the refused runs left nothing" "$(instances)" "$before"
exits_with "uk run -p 80:x: a usage error" 2 $UK run -p 80:x "$base/loop.json"
has "... naming the forward" 'bad port forward "80:x"' 
ok "API: an unknown mode" refused_api network_mode_unknown 400 \
	"{\"feed\":\"$base/loop.json\",\"network\":{\"mode\":\"nat\"}}"
ok "API: a port out of range" refused_api network_forward_invalid 400 \
	"{\"feed\":\"$base/loop.json\",\"network\":{\"forwards\":[{\"host\":70000,\"guest\":80}]}}"
ok "API: a forward twice" refused_api network_forward_duplicate 400 \
	"{\"feed\":\"$base/loop.json\",\"network\":{\"forwards\":[{\"host\":8080,\"guest\":80},{\"host\":8080,\"guest\":81}]}}"
ok "API: forwards to a bridge" refused_api network_forward_mode 400 \
	"{\"feed\":\"$base/loop.json\",\"network\":{\"mode\":\"bridge\",\"forwards\":[{\"host\":8080,\"guest\":80}]}}"
ok "API: a forward's port as a string" refused_api bad_request 400 \
	"{\"feed\":\"$base/loop.json\",\"network\":{\"forwards\":[{\"host\":\"8080\",\"guest\":80}]}}"
is "... nothing left behind" "$(instances)" "$before"
stop_daemon

# ---- (b) bridge mode, in a network namespace of our own ----
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
	ok "bridge mode # SKIP needs root and ip(8) for a network namespace" true
	done_testing
	exit
fi
ok "a network namespace" ip netns add "$NS" && ns_made=1
ok "... its loopback up" ip -n "$NS" link set lo up
IN="ip netns exec $NS"
# the daemon in the namespace fetches from a server in it
ok "a feed server on the namespace's 127.0.0.1" serve $IN
rm -rf www && publish_kernel "$PROBE_ELF" netprobe &&
	publish_kernel "$LOOP_ELF" loop ||
	{ echo "Bail out! uk pack or publish failed"; exit 1; }
sock=$TMP/bridge.sock
export UK_SOCKET=$sock
# a pool of five: 10.213.0.2 to 10.213.0.6
cat >bridge.conf <<EOF
state_dir = $TMP/state-bridge
socket = $sock
log_level = debug
bridge_name = ukbr0
bridge_address = 10.213.0.1/29
EOF

# without CAP_NET_ADMIN: no bridge, no tap
if command -v setpriv >/dev/null 2>&1; then
	ok "unikerneld without CAP_NET_ADMIN" start_daemon "$TMP/bridge.conf" \
	    $IN setpriv --bounding-set -net_admin --inh-caps -net_admin
	ok "trust the key" $UK trust add --key "$(tail -1 k.pub)" \
	    --domain 127.0.0.1
	fails_with "a bridge run is network_not_permitted" \
	    network_not_permitted $UK run --network bridge "$base/netprobe.json"
	is "... and leaves no instance" "$(instances)" "[]"
	stop_daemon
else
	ok "no CAP_NET_ADMIN # SKIP setpriv is not installed" true
fi

ok "unikerneld in the namespace" start_daemon "$TMP/bridge.conf" $IN
ok "trust the key" $UK trust add --key "$(tail -1 k.pub)" --domain 127.0.0.1
exits_with "uk run --network bridge netprobe: it exits 0" 0 \
	$UK run --name probe --network bridge "$base/netprobe.json"
out=$(last_output)
mac=$(field probe 'd["network"]["mac"]')
# the bridge's own MAC, which stays when ports come and go
brmac=$($IN cat /sys/class/net/ukbr0/address 2>/dev/null)
ok "the daemon made the bridge, up" sh -c \
	"ip -n $NS -o link show ukbr0 | grep -q 'state UP\|,UP'"
ok "... with 10.213.0.1/29" sh -c \
	"ip -n $NS -o -4 addr show ukbr0 | grep -q 'inet 10.213.0.1/29'"
case $out in
*"netprobe: our mac $mac"*"netprobe: 10.213.0.2 asks for 10.213.0.1"*)
	ok "the guest took ip=/gw= from its command line, with its MAC" true ;;
*) not_ok "the guest took ip=/gw= from its command line" true
	diag "$out" ;;
esac
case $out in
*"netprobe: 10.213.0.1 is at $brmac"*)
	ok "the bridge answered the guest's ARP" true ;;
*) not_ok "the bridge answered the guest's ARP ($brmac)" true
	diag "$out" ;;
esac
is "the API shows the lease" "$(field probe '(d["network"]["mode"],
	d["network"]["addresses"], d["network"]["gateway"],
	d["network"]["bridge"], d["network"]["tap"] == "uk" + d["id"][:12])')" \
	"('bridge', ['10.213.0.2/29'], '10.213.0.1', 'ukbr0', True)"
ok "uk ps shows the address" sh -c "$UK ps | grep -q '^probe .* 10.213.0.2'"

ok "loop on the bridge runs" run_guest loop loop --network bridge
tap=$(field loop '"uk" + d["id"][:12]')
ok "its tap $tap is on the bridge, up" sh -c \
	"ip -n $NS -o link show $tap | grep -q 'master ukbr0.*state UP\|UP.*master ukbr0'"
qemu_cmdline loop >"$TMP/qemu.words" 2>&1
ok "its QEMU has the tap" grep -qx "tap,id=n0,fd=5" "$TMP/qemu.words"
ok "... and the guest its address" grep -qx "ip=10.213.0.3/29 gw=10.213.0.1" \
	"$TMP/qemu.words"
ok "stopped" $UK stop loop
not_ok "... its tap is gone" ip -n "$NS" link show "$tap"

ok "probe started again" $UK start probe
wait_ended probe
ok "... keeps its address" sh -c "[ \$($UK logs probe | \
	grep -c 'netprobe: 10.213.0.2 asks for 10.213.0.1') = 2 ]"
stop_daemon
ok "unikerneld restarted" start_daemon "$TMP/bridge.conf" $IN
ok "probe started once more" $UK start probe
wait_ended probe
ok "... still 10.213.0.2 after the daemon's restart" sh -c "[ \$($UK logs \
	probe | grep -c 'netprobe: 10.213.0.2 asks for 10.213.0.1') = 3 ]"
is "... exited 0" "$(field probe 'd["exit_code"]')" 0

ok "uk rm probe gives its address back" $UK rm probe
exits_with "the next run gets 10.213.0.2 again" 0 \
	$UK run --name again --network bridge "$base/netprobe.json"
has "... so says the guest" "netprobe: 10.213.0.2 asks for"
# again .2, loop .3; three more fill the pool
for n in p4 p5 p6; do
	$UK run --name $n --network bridge "$base/netprobe.json" \
	    >/dev/null 2>&1
done
is "the pool is full" "$(field p6 'd["network"]["addresses"]')" \
	"['10.213.0.6/29']"
before=$(instances)
fails_with "one more run: the pool is exhausted" network_pool_exhausted \
	$UK run --name p7 --network bridge "$base/netprobe.json"
has "... the message names the pool" "pool 10.213.0.2-10.213.0.6 is"
is "... and the run left nothing" "$(instances)" "$before"
stop_daemon
done_testing
