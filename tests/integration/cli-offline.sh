#!/bin/sh
# cli-offline.sh - the commands that talk to unikerneld, without one: their
# --help (and that bash completion offers every option it lists), usage
# errors (exit 2, before any connection), and an absent daemon
# (daemon_unreachable naming the socket; 125 for `uk run`).
. "$top_srcdir/tests/lib.sh"

COMPLETION=$top_srcdir/dist/uk.bash-completion
NOSOCK=$TMP/no-daemon.sock
UK_SOCKET=$NOSOCK
export UK_SOCKET

# comp_check CMD HELPFILE: the options bash completes after `uk CMD -`
# are those HELPFILE lists (-h and --help included), no more, no fewer.
comp_check() {
	sed -n -e 's/^ *\(-[a-zA-Z0-9]\)\(, \(--[a-z-]*\)\)\{0,1\}.*/\1 \3/p' \
	    -e 's/^ *\(--[a-z-]*\).*/\1/p' "$2" | tr ' ' '\n' | sed '/^$/d' |
	    sort -u >"$2.opts"
	bash -c '. "$1"; COMP_WORDS=(uk $2 -)
	    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _uk
	    printf "%s\n" "${COMPREPLY[@]}"' sh "$COMPLETION" "$1" |
	    sort -u >"$2.comp"
	diff "$2.opts" "$2.comp"
}

# --help: exit 0, the usage line first, and (with bash) every option the
# help lists completed, and nothing else.
for cmd in run ps logs stop start restart rm inspect "feed add" "feed ls" \
    "feed refresh" "trust add" "trust ls" "trust rm" "image ls" \
    "image rm" "image prune"; do
	ok "uk $cmd --help" sh -c "$UK $cmd --help >'$TMP/help' &&
	    head -n 1 '$TMP/help' | grep -q '^usage: uk $cmd '"
	is "uk help $cmd is uk $cmd --help" \
	    "$($UK help $cmd 2>&1 | head -n 1)" "$(head -n 1 "$TMP/help")"
	grep -q -e '--socket PATH' "$TMP/help"
	is "uk $cmd --help lists --socket" $? 0
	command -v bash >/dev/null 2>&1 || continue
	ok "bash completion of 'uk $cmd' matches its --help" \
	    comp_check "$cmd" "$TMP/help"
done
for group in feed trust image; do
	ok "uk $group --help lists its subcommands" sh -c \
	    "$UK $group --help | grep -q '^Subcommands:'"
	exits_with "uk $group without a subcommand" 2 $UK $group
	exits_with "uk $group with an unknown subcommand" 2 $UK $group bogus
done
if command -v bash >/dev/null 2>&1; then
	ok "bash completion offers every command" bash -c '. "$1"
	    COMP_WORDS=(uk ""); COMP_CWORD=1; _uk
	    for c in run ps logs stop start restart rm trust image feed; do
		case " ${COMPREPLY[*]} " in *" $c "*) ;; *) exit 1 ;; esac
	    done' sh "$COMPLETION"
fi

# No daemon: the socket named, how to start one.  ok and fails_with
# overwrite $TMP/.out: what later checks read is kept in $L.
L=$TMP/last
fails_with "uk ps without a daemon" daemon_unreachable $UK ps
cp "$TMP/.out" "$L"
ok "... the message names the socket" grep -q -F "$NOSOCK" "$L"
ok "... and says to start unikerneld" grep -q "start unikerneld" "$L"
exits_with "... exit 1" 1 $UK ps
fails_with "--socket wins over UK_SOCKET" daemon_unreachable \
	$UK ps --socket "$TMP/other.sock"
cp "$TMP/.out" "$L"
ok "... and is the one named" grep -q -F "$TMP/other.sock" "$L"
ok "uk ps --json: the error as JSON on stdout" sh -c \
	"$UK ps --json 2>/dev/null | grep -q '\"code\": \"daemon_unreachable\"'"
unset UK_SOCKET
if [ ! -e /run/unikerneld.sock ]; then
	fails_with "the default socket is /run/unikerneld.sock" \
	    daemon_unreachable $UK ps
	cp "$TMP/.out" "$L"
	ok "... named" grep -q -F /run/unikerneld.sock "$L"
fi
UK_SOCKET=$NOSOCK
export UK_SOCKET
exits_with "uk run without a daemon: 125" 125 \
	$UK run http://127.0.0.1:1/f.json
cp "$TMP/.out" "$L"
ok "... 'uk run: message [daemon_unreachable]'" \
	grep -q "^uk run: .*$NOSOCK.* \[daemon_unreachable\]$" \
	"$L"
for cmd in "logs x" "stop x" "start x" "restart x" "rm x" "inspect x" \
    "feed add http://127.0.0.1:1/f.json" "feed ls" \
    "feed refresh http://127.0.0.1:1/f.json" "trust ls" \
    "trust rm 54E3CB008D82A207" "image ls" "image rm abcdef0123456789" \
    "image prune"; do
	fails_with "uk $cmd without a daemon" daemon_unreachable $UK $cmd
done
fails_with "uk inspect of a missing .ukimg is about the file" io_error \
	$UK inspect "$TMP/missing.ukimg"

# The command the daemon's unknown_key message gives (unikerneld/
# feedcheck.c) parses: it fails only for want of a daemon.
$UK keygen -W -p "$TMP/k.pub" -s "$TMP/k.key" >/dev/null 2>&1
KEY=$(sed -n 2p "$TMP/k.pub")
fails_with "uk trust add --key PUBKEY --domain D parses" daemon_unreachable \
	$UK trust add --key "$KEY" --domain example.org
fails_with "uk trust add --key-file FILE --domain D --domain D2 parses" \
	daemon_unreachable $UK trust add --key-file "$TMP/k.pub" \
	--domain example.org --domain '*.example.org' --comment demo

# Usage errors: 2, and no connection tried.
usage() {	# usage NAME ARGS...: exit 2, and the daemon never asked
	n=$1; shift
	ok "usage: $n" sh -c 'out=$1; shift; rc=0
	    "$@" >"$out" 2>&1 || rc=$?; cat "$out"
	    [ "$rc" -eq 2 ] && ! grep -q daemon_unreachable "$out"' \
	    sh "$L" $UK "$@"
}
usage "uk run without URL" run
usage "uk run with two URLs" run http://a/f.json http://b/f.json
usage "uk run --restart sometimes" run --restart sometimes http://a/f.json
usage "uk run --memory 0" run --memory 0 http://a/f.json
usage "uk run --vcpus x" run --vcpus x http://a/f.json
usage "uk run --stability rock" run --stability rock http://a/f.json
usage "uk run --version with a bad range" run --version '..!' http://a/f.json
usage "uk run --name a/b" run --name a/b http://a/f.json
usage "uk run --bogus" run --bogus http://a/f.json
usage "uk run --name without its value" run http://a/f.json --name
usage "uk ps with an argument" ps extra
usage "uk ps --bogus" ps --bogus
usage "uk logs without NAME" logs
usage "uk logs with two NAMEs" logs a b
usage "uk logs --tail x" logs --tail x a
usage "uk stop without NAME" stop
usage "uk stop --timeout soon" stop --timeout soon a
usage "uk start without NAME" start
usage "uk restart without NAME" restart
usage "uk rm without NAME" rm
usage "uk inspect without an argument" inspect
usage "uk inspect with two" inspect a b
usage "uk feed add without URL" feed add
usage "uk feed ls with an argument" feed ls x
usage "uk feed refresh of neither URL nor id" feed refresh nothex
usage "uk feed refresh of a short id" feed refresh 680d93c7
usage "uk trust add without a key" trust add --domain example.org
usage "uk trust add with both --key and --key-file" trust add --key "$KEY" \
	--key-file "$TMP/k.pub" --domain example.org
usage "uk trust add without a domain" trust add --key "$KEY"
usage "uk trust add with a bad key" trust add --key RWQnotakey --domain d
usage "uk trust add with an operand" trust add --key "$KEY" --domain d x
usage "uk trust rm of a bad key id" trust rm XYZ
usage "uk trust rm without KEYID" trust rm
usage "uk image rm without SHA256" image rm
usage "uk image rm of a short prefix" image rm abc
usage "uk image rm of a non-hex digest" image rm zzzzzzzzzzzzzzzz
usage "uk image prune --older-than soon" image prune --older-than soon

done_testing
