# tests/lib.sh - shared by the shell integration tests; they print TAP.
#
# The harness (Makefile.am) exports UK (the built uk), top_srcdir,
# top_builddir, MINISIGN.  Each test sources this file, then calls
# ok/not_ok/is/fails_with and finally done_testing.

set -u
tap_n=0
tap_failed=0

TMP=$(mktemp -d "${TMPDIR:-/tmp}/uktest.XXXXXX")
cleanup_hooks=""
at_exit() { cleanup_hooks="$1; $cleanup_hooks"; }
trap 'eval "$cleanup_hooks"; rm -rf "$TMP"' EXIT

ok() {	# ok NAME COMMAND...
	local name=$1; shift
	tap_n=$((tap_n + 1))
	if "$@" >"$TMP/.out" 2>&1; then
		echo "ok $tap_n - $name"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $name"
		sed 's/^/#   /' "$TMP/.out" | head -40
	fi
}

not_ok() {	# the command must fail
	local name=$1; shift
	tap_n=$((tap_n + 1))
	if "$@" >"$TMP/.out" 2>&1; then
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $name (succeeded, should have failed)"
		sed 's/^/#   /' "$TMP/.out" | head -40
	else
		echo "ok $tap_n - $name"
	fi
}

# fails_with NAME CODE COMMAND...: the command must fail and print [CODE]
fails_with() {
	local name=$1 code=$2; shift 2
	tap_n=$((tap_n + 1))
	if "$@" >"$TMP/.out" 2>&1; then
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $name (succeeded, should fail with $code)"
		sed 's/^/#   /' "$TMP/.out" | head -40
	elif grep -q -F "[$code]" "$TMP/.out"; then
		echo "ok $tap_n - $name [$code]"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $name (failed, but not with [$code])"
		sed 's/^/#   /' "$TMP/.out" | head -40
	fi
}

# exits_with NAME STATUS COMMAND...: the command must exit with STATUS
# (2 for command-line mistakes)
exits_with() {
	local name=$1 want=$2 got=0; shift 2
	tap_n=$((tap_n + 1))
	"$@" >"$TMP/.out" 2>&1 || got=$?
	if [ "$got" -eq "$want" ]; then
		echo "ok $tap_n - $name (exit $want)"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $name (exit $got, want $want)"
		sed 's/^/#   /' "$TMP/.out" | head -40
	fi
}

is() {	# is NAME GOT WANT
	tap_n=$((tap_n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $tap_n - $1"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $1"
		echo "#   got:  '$2'"
		echo "#   want: '$3'"
	fi
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { echo "# $*"; }
# free_port: a TCP port of 127.0.0.1 nobody listens on now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
last_output() { cat "$TMP/.out"; }

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
