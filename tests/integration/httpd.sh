#!/bin/sh
# httpd.sh - the httpd kernel under QEMU, served a site archive made by
# GNU tar, answering curl and wrk: over QEMU user networking with a
# forward on 127.0.0.1 under KVM, and over a tap inside a network
# namespace made here, under KVM (a few pages) and under TCG (every check,
# and wrk for WRK_SECONDS, 30).  Root is needed for the namespace part
# only.
#
# Why TCG for the tap: on this nested KVM every exit to QEMU (a virtio
# notify, an interrupt's acknowledgement, the xAPIC timer) costs about a
# millisecond, so an I/O-bound guest moves ~50 KB/s under KVM and
# 200 Mbit/s under TCG (docs/net.md, "Measured in guests").  The KVM part proves
# the same kernel serves there; the load goes where it can be carried.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib-guest-net.sh"

HTTPD=$top_builddir/kernels/httpd/httpd.elf
command -v "$QEMU" >/dev/null 2>&1 || skip_all "$QEMU not installed"
command -v curl >/dev/null 2>&1 || skip_all "curl not installed"
[ -f "$HTTPD" ] || skip_all "httpd.elf not built"

# The site: the example's files, a 3 MiB binary, a name with a space.
SITE=$TMP/site
mkdir -p "$SITE/docs/sub"
cp -R "$top_srcdir/examples/site/." "$SITE/"
head -c 262144 /dev/urandom >"$SITE/docs/big.bin"
echo "space" >"$SITE/docs/a b.txt"
echo "sub index" >"$SITE/docs/sub/index.html"
tar --format=ustar -C "$SITE" -cf "$TMP/site.tar" .

# get URL [curl options]: the body on stdout, status in $TMP/code
get() {
	local url=$1
	shift
	curl -s -S --max-time 20 -o "$TMP/body" -D "$TMP/head" \
	    -w '%{http_code}' "$@" "$url" >"$TMP/code"
}
code() { cat "$TMP/code"; }
header() { tr -d '\r' <"$TMP/head" | sed -n "s/^$1: //Ip" | head -1; }

# raw HOST PORT BYTES: sends BYTES (printf format) and prints the reply
raw() {
	python3 - "$1" "$2" "$3" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(sys.argv[3].encode().decode('unicode_escape').encode('latin-1'))
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    pass
sys.stdout.write(out.decode('latin-1'))
PY
}

# checks BASE HOST PORT LABEL: the HTTP behaviour, against one guest
checks() {
	local base=$1 host=$2 port=$3 l=$4
	get "$base/"
	is "$l: GET / is 200" "$(code)" 200
	ok "$l: GET / is index.html" cmp "$TMP/body" "$SITE/index.html"
	is "$l: html type" "$(header content-type)" "text/html; charset=utf-8"
	is "$l: Content-Length" "$(header content-length)" \
	    "$(wc -c <"$SITE/index.html" | tr -d ' ')"
	ok "$l: a Date header" test -n "$(header date)"
	get "$base/css/site.css"
	is "$l: css type" "$(header content-type)" "text/css; charset=utf-8"
	get "$base/img/logo.png"
	ok "$l: the PNG, byte for byte" cmp "$TMP/body" "$SITE/img/logo.png"
	is "$l: png type" "$(header content-type)" "image/png"
	get "$base/docs/big.bin"
	ok "$l: a $(wc -c <"$SITE/docs/big.bin" | tr -d ' ')-byte file, byte for byte" \
	    cmp "$TMP/body" "$SITE/docs/big.bin"
	get "$base/docs/a%20b.txt"
	ok "$l: percent-encoded name" cmp "$TMP/body" "$SITE/docs/a b.txt"
	get "$base/docs/sub"
	is "$l: directory without slash: 301" "$(code)" 301
	is "$l: Location" "$(header location)" "/docs/sub/"
	get "$base/docs/sub/"
	ok "$l: directory index" cmp "$TMP/body" "$SITE/docs/sub/index.html"
	get "$base/missing.html"
	is "$l: missing file: 404" "$(code)" 404
	get "$base/" -X POST -d x=1
	is "$l: POST: 405" "$(code)" 405
	is "$l: Allow" "$(header allow)" "GET, HEAD"
	get "$base/docs/big.bin" -I
	is "$l: HEAD: 200" "$(code)" 200
	is "$l: HEAD: the length of the body" "$(header content-length)" \
	    "$(wc -c <"$SITE/docs/big.bin" | tr -d ' ')"
	# a HEAD, then a GET on the same connection: a body after the
	# HEAD's head would be read as the GET's answer
	raw "$host" "$port" 'HEAD /css/site.css HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\nConnection: close\r\n\r\n' >"$TMP/raw"
	ok "$l: HEAD: no body (the next answer follows its head)" \
	    sh -c "tr -d '\r' <$TMP/raw | awk 'NR==1 && !/^HTTP\/1.1 200/ {exit 1} /^\$/ {getline; exit !/^HTTP\/1.1 404/}'"
	# two requests, one connection
	curl -s -v --max-time 20 -o /dev/null -o /dev/null "$base/" \
	    "$base/about.html" 2>"$TMP/kv"
	ok "$l: keep-alive: the second request reuses the connection" \
	    grep -q -i "re-using existing connection" "$TMP/kv"
	raw "$host" "$port" 'GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD /about.html HTTP/1.1\r\nConnection: close\r\n\r\n' >"$TMP/raw"
	is "$l: pipelined: two answers in order" \
	    "$(grep -c '^HTTP/1.1 200 OK' "$TMP/raw")" 2
	raw "$host" "$port" 'GET /../etc HTTP/1.1\r\n\r\n' >"$TMP/raw"
	ok "$l: \"..\": 400 and close" grep -q '^HTTP/1.1 400 ' "$TMP/raw"
	raw "$host" "$port" 'GARBAGE\r\n\r\n' >"$TMP/raw"
	ok "$l: garbage: 400" grep -q '^HTTP/1.1 400 ' "$TMP/raw"
	raw "$host" "$port" 'GET / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n' >"$TMP/raw"
	ok "$l: huge body announced: 413" grep -q '^HTTP/1.1 413 ' "$TMP/raw"
	python3 -c 'import sys; sys.stdout.write("GET / HTTP/1.1\\r\\nX: " + "a" * 9000 + "\\r\\n\\r\\n")' >"$TMP/bighead"
	raw "$host" "$port" "$(cat "$TMP/bighead")" >"$TMP/raw"
	ok "$l: a 9 KB head: 431" grep -q '^HTTP/1.1 431 ' "$TMP/raw"
	get "$base/index.html" -H "Connection: close"
	is "$l: still serving after the errors" "$(code)" 200
}

# 1. user networking, a forward on 127.0.0.1, under KVM where it exists
PORT=$(free_port)
guest_user web "$HTTPD" "$TMP/site.tar" "ip=10.0.2.15/24 gw=10.0.2.2" \
    "tcp:$PORT-:80"
if guest_wait web "httpd: .* files" 30; then
	ok "user: the console names the files and the address" \
	    grep -q "httpd: 8 files .*http://10.0.2.15:80/" "$TMP/web.console"
	checks "http://127.0.0.1:$PORT" 127.0.0.1 "$PORT" "user ($GUEST_ACCEL)"
else
	not_ok "user: httpd came up" true
fi
kill "$(cat "$TMP/web.pid")" 2>/dev/null

# 2. a tap inside a namespace: the guest at 10.79.0.2, Linux at .1
if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/net/tun ]; then
	diag "not root or no /dev/net/tun: no tap tests"
	done_testing
	exit 0
fi
NS=ukhttpd$$
netns_make "$NS"
# 2a. under KVM, where it exists: the same pages over the tap (the small
# ones: exits make big transfers slow here, see above)
if [ -e /dev/kvm ]; then
	if guest_tap "$NS" kvmweb "$HTTPD" "$TMP/site.tar" \
	    "ip=10.79.0.2/24 gw=10.79.0.1" 10.79.0.1/24 &&
	    guest_wait kvmweb "httpd: .* files" 30; then
		ip netns exec "$NS" /usr/bin/curl -s --max-time 60 \
		    -o "$TMP/kvm-index" http://10.79.0.2/
		ok "tap (KVM): GET / is index.html" \
		    cmp "$TMP/kvm-index" "$SITE/index.html"
		ip netns exec "$NS" /usr/bin/curl -s --max-time 60 \
		    -o "$TMP/kvm-logo" http://10.79.0.2/img/logo.png
		ok "tap (KVM): the PNG, byte for byte" \
		    cmp "$TMP/kvm-logo" "$SITE/img/logo.png"
	else
		not_ok "tap (KVM): httpd came up" true
	fi
	kill "$(cat "$TMP/kvmweb.pid")" 2>/dev/null
	i=0
	while in_ns "$NS" ip link show uk0 >/dev/null 2>&1 && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
fi
# 2b. under TCG: every check, and wrk
GUEST_ACCEL="-accel tcg -cpu max"
rm -f "$SITE/docs/big.bin"
head -c 3145728 /dev/urandom >"$SITE/docs/big.bin"
tar --format=ustar -C "$SITE" -cf "$TMP/site.tar" .
if guest_tap "$NS" tapweb "$HTTPD" "$TMP/site.tar" \
    "ip=10.79.0.2/24 gw=10.79.0.1" 10.79.0.1/24 &&
    guest_wait tapweb "httpd: .* files" 30; then
	# curl and python inside the namespace
	curl() { ip netns exec "$NS" /usr/bin/curl "$@"; }
	python3() { ip netns exec "$NS" /usr/bin/python3 "$@"; }
	checks "http://10.79.0.2" 10.79.0.2 80 tap
	if command -v wrk >/dev/null 2>&1; then
		ip netns exec "$NS" wrk -t 2 -c 100 -d "${WRK_SECONDS:-30}" \
		    http://10.79.0.2/ >"$TMP/wrk-tap" 2>&1
		sed 's/^/# /' "$TMP/wrk-tap"
		ok "tap: wrk 100 connections ${WRK_SECONDS:-30} s: no socket error nor non-2xx" \
		    sh -c "grep -q Requests/sec $TMP/wrk-tap && ! grep -E 'Socket errors|Non-2xx' $TMP/wrk-tap"
	else
		not_ok "wrk is installed (scripts/deps.sh)" true
	fi
	unset -f curl python3
else
	not_ok "tap: httpd came up" true
fi
done_testing
