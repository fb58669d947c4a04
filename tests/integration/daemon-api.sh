#!/bin/sh
# unikerneld's API server end to end: private daemons in a temporary
# directory, spoken to with curl over their unix socket and over TCP on
# 127.0.0.1 with a bearer token (and TLS where libmicrohttpd has it);
# `unikerneld -n` on good and bad files; signals; -d.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib-daemon.sh"

# wait_gone PID: until the process has ended (10 s); its status in $gone_rc
wait_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
	gone_rc=0
	wait "$1" || gone_rc=$?
}

# save: keeps the last command's output (ok overwrites it) in $TMP/last
save() { cp "$TMP/.out" "$TMP/last"; }

daemon_start "$conf" "$TMP/log"
ok "the daemon serves on its socket" wait_socket "$sock" "$dpid"
main=$dpid

# --- routes
is "GET /v1/version: 200" "$(req GET /v1/version)" 200
ok "GET /v1/version: version, api 1, backends" python3 - "$TMP/body" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d) == ["api", "backends", "version"], d
assert d["api"] == 1 and d["version"], d
assert "qemu" in d["backends"] and all(isinstance(b, str) for b in d["backends"]), d
PY
ok "GET /v1/version: Content-Type application/json" \
	grep -qi '^content-type: application/json' "$TMP/head"
is "GET /v1/health: 200" "$(req GET /v1/health)" 200
ok "GET /v1/health: status ok" python3 -c \
	'import json, sys; d = json.load(open(sys.argv[1])); assert d["status"] == "ok" and d["uptime_seconds"] >= 0' \
	"$TMP/body"
is "HEAD /v1/version: 200" "$(req HEAD /v1/version -I)" 200
is "an unknown path: 404" "$(req GET /v1/nope)" 404
ok "an unknown path: not_found" error_is not_found
is "a path under a route: 404" "$(req GET /v1/version/x)" 404
is "a path with an escaped newline: 404" \
	"$(req GET '/v1/a%0aforged%20line')" 404
ok "the message quotes the newline" grep -qF 'x0aforged line' "$TMP/body"
is "a wrong method: 405" "$(req DELETE /v1/version)" 405
ok "a wrong method: method_not_allowed" error_is method_not_allowed
ok "a wrong method: Allow: GET, HEAD" grep -qi '^allow: GET, HEAD' "$TMP/head"
is "PUT /v1/instances: 405" "$(req PUT /v1/instances -d '{}')" 405
ok "PUT /v1/instances: Allow: GET, HEAD, POST" \
	grep -qi '^allow: GET, HEAD, POST' "$TMP/head"

# --- bodies
is "POST bad JSON: 400" "$(req POST /v1/instances -d '{"name": ')" 400
ok "POST bad JSON: bad_json" error_is bad_json
is "POST a JSON array: 400" "$(req POST /v1/instances -d '[1]')" 400
ok "POST a JSON array: bad_request" error_is bad_request
is "POST a duplicate key: 400" \
	"$(req POST /v1/instances -d '{"a":1,"a":2}')" 400
ok "POST a duplicate key: bad_request" error_is bad_request
python3 -c 'print("{\"a\":\"" + "x" * 70000 + "\"}")' >"$TMP/big.json"
is "POST 70000 bytes: 413" \
	"$(req POST /v1/instances -H 'Content-Type: application/json' \
	    --data-binary @"$TMP/big.json")" 413
ok "POST 70000 bytes: body_too_large" error_is body_too_large
is "the daemon still serves" "$(req GET /v1/health)" 200

# --- every route of DESIGN §6 is served: on an empty daemon, with a
# name, id or body that cannot be right, each answers its documented
# status and code (docs/api.md); run-*.sh and daemon-registry.sh test them
# with real feeds and guests
while read -r m p st code; do
	is "$m $p: $st" "$(req "$m" "$p")" "$st"
	[ "$code" = - ] || ok "$m $p: $code" error_is "$code"
done <<'EOF'
GET /v1/instances 200 -
POST /v1/instances 400 bad_request
GET /v1/instances/hello 404 store_not_found
DELETE /v1/instances/hello 404 store_not_found
POST /v1/instances/hello/start 404 store_not_found
POST /v1/instances/hello/stop 404 store_not_found
POST /v1/instances/hello/restart 404 store_not_found
POST /v1/instances/hello/update 404 store_not_found
GET /v1/instances/hello/console?follow=1&tail=10 404 store_not_found
GET /v1/feeds 200 -
POST /v1/feeds 400 bad_request
POST /v1/feeds/0123456789abcdef/refresh 404 store_not_found
GET /v1/feeds/0123456789abcdef/select 404 store_not_found
GET /v1/keys 200 -
POST /v1/keys 400 bad_request
DELETE /v1/keys 400 bad_request
GET /v1/images 200 -
DELETE /v1/images/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 404 store_not_found
POST /v1/images/prune 200 -
GET /v1/events?follow=0 200 -
GET /metrics 200 -
EOF

# --- files, identity
is "the socket has socket_mode" "$(stat -c %a "$sock")" 600
is "state_dir is 0711 (search only for others)" "$(stat -c %a "$state")" 711
is "the database is 0600" "$(stat -c %a "$state/unikerneld.db")" 600
is "images/unpacked is 0711" "$(stat -c %a "$state/images/unpacked")" 711
is "instances is 0700" "$(stat -c %a "$state/instances")" 700
ok "state_dir has images/sha256 and instances" \
	test -d "$state/images/sha256" -a -d "$state/instances"
ok "no line of the log was forged by a path" \
	sh -c "! grep -q '^forged' '$TMP/log'"
ok "requests are logged with the peer's uid from SO_PEERCRED" \
	grep -q "uid=$(id -u) gid=$(id -g) pid=[0-9]* GET /v1/version 200" \
	"$TMP/log"

# --- one daemon per socket
fails_with "a second daemon on the socket is refused" api_socket_in_use \
	timeout 10 "$UNIKERNELD" -f "$conf"
is "the first daemon still serves" "$(req GET /v1/health)" 200

# --- SIGHUP is not a reload yet
kill -HUP "$main"
sleep 0.3
ok "SIGHUP: logged as not supported" grep -q "SIGHUP: reloading" "$TMP/log"
is "SIGHUP: the daemon still serves" "$(req GET /v1/health)" 200

# --- SIGTERM
kill -TERM "$main"
ok "SIGTERM: the daemon ends" wait_gone "$main"
is "SIGTERM: exit status 0" "$gone_rc" 0
ok "SIGTERM: the socket is removed" test ! -e "$sock"

# --- a stale socket (kill -9) is replaced
daemon_start "$conf" "$TMP/log2"
wait_socket "$sock" "$dpid"
kill -9 "$dpid"
wait_gone "$dpid"
ok "kill -9 leaves the socket behind" test -S "$sock"
daemon_start "$conf" "$TMP/log3"
ok "a new daemon replaces the stale socket" wait_socket "$sock" "$dpid"
ok "and says so" grep -q "removed the stale socket" "$TMP/log3"
kill -TERM "$dpid"
wait_gone "$dpid"

# --- unikerneld -n
exits_with "-n on a good file" 0 "$UNIKERNELD" -n -f "$conf"
save
ok "-n on a good file: configuration OK" grep -qx "configuration OK" "$TMP/last"
printf 'state_dir = %s\n# comment\nsocket_mod = 0600\n' "$state" \
	>"$TMP/bad.conf"
exits_with "-n on a bad file" 1 "$UNIKERNELD" -n -f "$TMP/bad.conf"
save
ok "-n names FILE:LINE and the code" \
	grep -q "$TMP/bad.conf:3: unknown key 'socket_mod' \[config_unknown_key\]" \
	"$TMP/last"
printf 'fetch_timeout = 5 minutes\n' >"$TMP/bad2.conf"
fails_with "-n on a bad value" config_bad_value \
	"$UNIKERNELD" -n -f "$TMP/bad2.conf"
save
ok "-n on a bad value: line 1" grep -q "bad2.conf:1: fetch_timeout" "$TMP/last"
fails_with "-n on a missing file" config_missing_file \
	"$UNIKERNELD" -n -f "$TMP/none.conf"
exits_with "an unknown option" 2 "$UNIKERNELD" -x
exits_with "an operand" 2 "$UNIKERNELD" extra
exits_with "-h" 0 "$UNIKERNELD" -h
save
ok "-h prints the usage" grep -q "^usage: unikerneld \[-dnh\] \[-f file\]" \
	"$TMP/last"

# --- TCP: only with a token
port=$(free_port)
tsock=$TMP/run/tcp.sock
printf 'tok-%s-0123456789abcdef\n' "$$" >"$TMP/token"
chmod 600 "$TMP/token"
token=$(cat "$TMP/token")
cat >"$TMP/tcp.conf" <<EOF
state_dir = $state
socket = $tsock
listen = 127.0.0.1:$port
token_file = $TMP/token
EOF
printf 'socket = %s\nlisten = 127.0.0.1:%s\n' "$tsock" "$port" \
	>"$TMP/notoken.conf"
fails_with "TCP without token_file is refused at start" config_conflict \
	timeout 10 "$UNIKERNELD" -f "$TMP/notoken.conf"
save
ok "TCP without token_file: the line is named" \
	grep -q "notoken.conf:2: listen needs token_file" "$TMP/last"
chmod 644 "$TMP/token"
fails_with "a token_file others can read is refused" config_insecure_file \
	timeout 10 "$UNIKERNELD" -f "$TMP/tcp.conf"
chmod 600 "$TMP/token"

daemon_start "$TMP/tcp.conf" "$TMP/tcp.log"
ok "the TCP daemon serves" wait_socket "$tsock" "$dpid"
tcp=$dpid
treq() {
	curl -sS -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' "$@"
}
is "TCP without a token: 401" \
	"$(treq "http://127.0.0.1:$port/v1/version")" 401
ok "TCP without a token: unauthorized" error_is unauthorized
ok "TCP without a token: WWW-Authenticate" \
	grep -qi '^www-authenticate: Bearer' "$TMP/head"
is "TCP with a wrong token: 401" \
	"$(treq -H "Authorization: Bearer ${token}x" \
	    "http://127.0.0.1:$port/v1/version")" 401
is "TCP with a token's prefix: 401" \
	"$(treq -H "Authorization: Bearer tok-" \
	    "http://127.0.0.1:$port/v1/version")" 401
is "TCP with another scheme: 401" \
	"$(treq -H "Authorization: Basic $token" \
	    "http://127.0.0.1:$port/v1/version")" 401
is "TCP without a token, unknown path: 401, not 404" \
	"$(treq "http://127.0.0.1:$port/v1/nope")" 401
is "TCP with the token: 200" \
	"$(treq -H "Authorization: Bearer $token" \
	    "http://127.0.0.1:$port/v1/version")" 200
is "TCP with the token, unknown path: 404" \
	"$(treq -H "Authorization: Bearer $token" \
	    "http://127.0.0.1:$port/v1/nope")" 404
is "the unix socket needs no token" \
	"$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$tsock" \
	    http://localhost/v1/version)" 200
ok "TCP requests are logged with the client's address" \
	grep -q "127.0.0.1:[0-9]* GET /v1/version 401 unauthorized" "$TMP/tcp.log"
kill -TERM "$tcp"
wait_gone "$tcp"

# --- TLS, where libmicrohttpd and openssl allow
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" \
	-out "$TMP/cert.pem" >/dev/null 2>&1; then
	chmod 600 "$TMP/key.pem"
	port=$(free_port)
	cat >"$TMP/tls.conf" <<EOF
state_dir = $state
socket = $tsock
listen = 127.0.0.1:$port
token_file = $TMP/token
tls_cert = $TMP/cert.pem
tls_key = $TMP/key.pem
EOF
	if "$UNIKERNELD" -n -f "$TMP/tls.conf" 2>&1 |
	    grep -q config_unsupported; then
		diag "this libmicrohttpd has no TLS: TLS not tested"
	else
		daemon_start "$TMP/tls.conf" "$TMP/tls.log"
		ok "the TLS daemon serves" wait_socket "$tsock" "$dpid"
		is "TLS with the token: 200" \
		    "$(treq --cacert "$TMP/cert.pem" \
			-H "Authorization: Bearer $token" \
			"https://127.0.0.1:$port/v1/version")" 200
		is "TLS without the token: 401" \
		    "$(treq --cacert "$TMP/cert.pem" \
			"https://127.0.0.1:$port/v1/version")" 401
		is "plain HTTP on the TLS port fails" \
		    "$(treq -m 5 -H "Authorization: Bearer $token" \
			"http://127.0.0.1:$port/v1/version" 2>/dev/null)" 000
		kill -TERM "$dpid"
		wait_gone "$dpid"
	fi
else
	diag "openssl cannot make a certificate: TLS not tested"
fi

# --- -d: detached, a pid file, a log file
cat >"$TMP/d.conf" <<EOF
state_dir = $state
socket = $sock
log_file = $TMP/d.log
pid_file = $TMP/run/unikerneld.pid
EOF
exits_with "-d returns once the daemon serves" 0 "$UNIKERNELD" -d -f "$TMP/d.conf"
ok "-d: the socket answers at once" \
	curl -sf -o /dev/null --unix-socket "$sock" http://localhost/v1/health
ok "-d: the pid file names the daemon" \
	kill -0 "$(cat "$TMP/run/unikerneld.pid" 2>/dev/null)"
dpid=$(cat "$TMP/run/unikerneld.pid" 2>/dev/null || echo 0)
pids="$pids $dpid"
ok "-d: the log file has the start" grep -q "serving on $sock" "$TMP/d.log"
fails_with "-d: a second daemon's failure reaches the caller" \
	api_socket_in_use timeout 10 "$UNIKERNELD" -d -f "$TMP/d.conf"
kill -TERM "$dpid"
i=0
while kill -0 "$dpid" 2>/dev/null && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
ok "-d: SIGTERM ends it" sh -c "! kill -0 $dpid 2>/dev/null"
ok "-d: the socket and the pid file are removed" \
	test ! -e "$sock" -a ! -e "$TMP/run/unikerneld.pid"


# --- the documentation keeps up with the code
ok "every key of conf.c is in unikerneld.conf(5) and the example" \
	python3 - "$top_srcdir" <<'PY'
import re, sys
top = sys.argv[1]
keys = set(re.findall(r'^\t\{ "([a-z_]+)", set_',
		      open(top + "/unikerneld/conf.c").read(), re.M))
man = open(top + "/man/unikerneld.conf.5").read()
documented = set(re.findall(r'^\.It Cm ([a-z_]+)', man, re.M))
documented |= set(re.findall(r', Cm ([a-z_]+) Ar', man))
example = set(re.findall(r'^#([a-z_]+) = ',
			 open(top + "/dist/unikerneld.conf.example").read(), re.M))
assert len(keys) > 15, keys
if keys - documented or keys - example or example - keys:
    sys.exit("not in the manual: %s; not in the example: %s; unknown in "
	     "the example: %s" % (sorted(keys - documented),
	     sorted(keys - example), sorted(example - keys)))
PY
sed -n 's/^#\([a-z_]* = \)/\1/p' "$top_srcdir/dist/unikerneld.conf.example" |
	grep -v '^\(socket_owner\|socket_group\|listen\|allow_remote\|token_file\|tls_cert\|tls_key\|log_file\) ' \
	>"$TMP/example.conf"
exits_with "the example's defaults pass -n" 0 \
	"$UNIKERNELD" -n -f "$TMP/example.conf"
if command -v mandoc >/dev/null 2>&1; then
	synopsis=$(mandoc -Tascii "$top_srcdir/man/unikerneld.8" | col -b |
	    sed -n '/^SYNOPSIS/{n;p;}' | sed 's/^ *//')
	is "unikerneld -h matches the SYNOPSIS of unikerneld(8)" \
	    "$("$UNIKERNELD" -h)" "usage: $synopsis"
fi

done_testing
