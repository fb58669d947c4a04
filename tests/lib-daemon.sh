# tests/lib-daemon.sh - a private unikerneld for the shell tests that speak
# its API with curl (daemon-api.sh, daemon-registry.sh).  Sourced after
# tests/lib.sh; skips the test without curl, python3 or a built unikerneld.
#
# Sets UNIKERNELD and writes $conf: a daemon with its state in $state and
# its socket at $sock, all in $TMP.  Every pid in $pids (the daemons
# daemon_start starts, and any a test adds) is killed at exit.

UNIKERNELD=$top_builddir/unikerneld/unikerneld
command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
[ -x "$UNIKERNELD" ] || skip_all "unikerneld is not built"

sock=$TMP/run/unikerneld.sock
state=$TMP/state
conf=$TMP/unikerneld.conf
cat >"$conf" <<EOF
# a private daemon
state_dir = $state
socket = "$sock"
socket_mode = 0600
log_level = debug
EOF

pids=""
at_exit 'for p in $pids; do kill -9 $p 2>/dev/null; done'

# daemon_start CONF LOG: unikerneld in the foreground, in the background;
# $dpid
daemon_start() {
	"$UNIKERNELD" -f "$1" >"$2" 2>&1 &
	dpid=$!
	pids="$pids $dpid"
}

# wait_socket PATH PID: until PATH is a socket that answers (10 s); fails
# sooner when PID has ended
wait_socket() {
	i=0
	while ! curl -s -o /dev/null --unix-socket "$1" \
	    http://localhost/v1/health; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
}

# req METHOD PATH [curl args...]: the status; body in $TMP/body,
# headers in $TMP/head.  No request may hang the test (a stream that never
# ends): 60 s at most.
req() {
	m=$1 p=$2
	shift 2
	curl -sS --max-time 60 -X "$m" -o "$TMP/body" -D "$TMP/head" \
	    -w '%{http_code}' --unix-socket "$sock" "$@" "http://localhost$p"
}

# post METHOD PATH JSON: req with a JSON body
post() {
	req "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"
}

# error_is CODE [PREFIX]: $TMP/body is {"error":{"code":CODE,...}}, the
# message not empty, starting with PREFIX when given
error_is() {
	python3 - "$TMP/body" "$1" "${2-}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["error"], d
assert d["error"]["code"] == sys.argv[2], d
assert isinstance(d["error"]["message"], str) and d["error"]["message"], d
assert d["error"]["message"].startswith(sys.argv[3]), d
PY
}
