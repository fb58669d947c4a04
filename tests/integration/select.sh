#!/bin/sh
# select.sh - `uk select` over hand-written, unsigned feeds: the choice, the
# --explain lines, --json, and the refusals.
. "$top_srcdir/tests/lib.sh"

D=$TMP/feeds
mkdir -p "$D"
A=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
B=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
C=cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc

# impl VERSION STABILITY ARCH PLATFORMS MEMORY NET HREF SHA256
impl() {
	cat <<EOF
    {"version": "$1", "stability": "$2", "released": "2024-01-01",
     "arch": "$3", "boot": "pvh", "platforms": [$4],
     "requires": {"memory": $5, "net": $6, "console": true},
     "image": {"href": "$7", "size": 1000, "sha256": "$8"}}
EOF
}

# feed URI IMPL...: a feed document on stdout
feed() {
	uri=$1; shift
	printf '{\n  "format": 1, "uri": "%s", "name": "hello",\n' "$uri"
	printf '  "summary": "Says hello", "serial": 5,\n'
	printf '  "published": "2024-01-01T00:00:00Z",\n'
	printf '  "expires": "2035-01-01T00:00:00Z",\n  "implementations": [\n'
	sep=
	for i in "$@"; do
		printf '%s%s\n' "$sep" "$i"
		sep=,
	done
	printf '  ]\n}\n'
}

feed https://example.org/feeds/hello.json \
    "$(impl 2.0-rc1 testing x86_64 '"kvm"' 64 1 images/hello-2.0-rc1.ukimg $A)" \
    "$(impl 1.2 stable x86_64 '"kvm", "xen"' 32 0 images/hello-1.2.ukimg $B)" \
    "$(impl 1.1 stable x86_64 '"kvm"' 32 0 https://cdn.example.net/h-1.1.ukimg $C)" \
    "$(impl 3.0 stable aarch64 '"kvm"' 32 0 hello-3.0.ukimg $C)" \
    >"$D/hello.json"

# ok and fails_with overwrite $TMP/.out, so what later checks read is kept
# in $L by these two.
L=$TMP/last
ok_uk() {	# ok_uk NAME ARGS...: ok NAME uk select ARGS...
	n=$1; shift
	ok "$n" "$UK" select "$@"
	cp "$TMP/.out" "$L"
}
fails_uk() {	# fails_uk NAME CODE ARGS...
	n=$1; c=$2; shift 2
	fails_with "$n" "$c" "$UK" select "$@"
	cp "$TMP/.out" "$L"
}
field() {	# field NAME: the value of a "NAME value" line of the kept output
	sed -n "s/^$1 *//p" "$L"
}

ok_uk "default policy selects" "$D/hello.json"
is "stable 1.2 chosen" "$(field version)" 1.2
is "href resolved against the feed's uri" "$(field href)" \
    https://example.org/feeds/images/hello-1.2.ukimg
is "size" "$(field size)" 1000
is "sha256" "$(field sha256)" $B
is "no explain lines without --explain" "$(grep -c '^rejected' "$L")" 0

ok_uk "--explain" --explain "$D/hello.json"
is "one line per other candidate" "$(grep -c '^rejected' "$L")" 3
ok "testing one rejected for stability" \
    grep -q '^rejected 2.0-rc1 (x86_64): stability testing' "$L"
ok "1.1 superseded" grep -q '^rejected 1.1 (x86_64): fits, but 1.2 was chosen' \
    "$L"
ok "aarch64 one rejected for arch" \
    grep -q '^rejected 3.0 (aarch64): arch aarch64, wanted x86_64' "$L"

ok_uk "--stability testing" --stability testing "$D/hello.json"
is "testing admits 2.0-rc1" "$(field version)" 2.0-rc1
ok_uk "--version range" --version '1.0..!1.2' "$D/hello.json"
is "range picks 1.1" "$(field version)" 1.1
is "absolute href kept" "$(field href)" https://cdn.example.net/h-1.1.ukimg
ok_uk "--version >=" --stability testing --version '>=1.2' \
    --explain "$D/hello.json"
is ">=1.2 picks 2.0-rc1" "$(field version)" 2.0-rc1
ok_uk "--platform xen" --platform xen --stability testing \
    --explain "$D/hello.json"
is "xen picks 1.2" "$(field version)" 1.2
ok "platform reason" \
    grep -q '^rejected 2.0-rc1 (x86_64): boots on kvm, wanted xen' "$L"
ok_uk "--memory" --memory 48 --stability testing --explain \
    "$D/hello.json"
is "memory limit skips 2.0-rc1" "$(field version)" 1.2
ok "memory reason" grep -q 'needs 64 MiB, 48 MiB available' "$L"
ok_uk "--net 0" --net 0 --stability testing --explain "$D/hello.json"
ok "devices reason" grep -q '^rejected 2.0-rc1 (x86_64): needs 1 network' \
    "$L"
ok_uk "--arch aarch64" --arch aarch64 "$D/hello.json"
is "aarch64 picks 3.0" "$(field version)" 3.0

ok_uk "--json" --json "$D/hello.json"
ok "json selected and rejected" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["selected"]
assert s["version"] == "1.2", s
assert s["href"] == "https://example.org/feeds/images/hello-1.2.ukimg", s
assert s["size"] == 1000 and s["sha256"] == "b" * 64, s
r = {x["version"]: [y["code"] for y in x["reasons"]] for x in d["rejected"]}
assert r == {"2.0-rc1": ["stability"], "1.1": ["superseded"],
    "3.0": ["arch"]}, r
' "$L"

fails_uk "nothing fits" select_no_match --version '5..' "$D/hello.json"
fails_uk "nothing fits, explained" select_no_match --version '5..' --explain \
    "$D/hello.json"
is "explain lists every candidate" "$(grep -c '^rejected' "$L")" 4
ok "reasons combined" grep -q \
    '^rejected 3.0 (aarch64): arch aarch64, wanted x86_64; version 3.0 is outside 5..' \
    "$L"
"$UK" select --json --version '5..' "$D/hello.json" >"$TMP/nm.json" 2>/dev/null
is "exit 1 when nothing fits" $? 1
ok "json no match" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["selected"] is None, d
assert d["error"]["code"] == "select_no_match", d
assert len(d["rejected"]) == 4, d
' "$TMP/nm.json"

ok_uk "the example of docs/feeds.md" "$top_srcdir/tests/data/feeds/hello.json"
is "example href" "$(field href)" \
    https://example.org/feeds/images/hello-1.2.ukimg

# A feed published as a file: relative hrefs become file paths.
feed file:///srv/feeds/local.json \
    "$(impl 1.0 stable x86_64 '"kvm"' 32 0 img/local-1.0.ukimg $A)" \
    >"$D/local.json"
ok_uk "file feed" "$D/local.json"
is "file href" "$(field href)" file:///srv/feeds/img/local-1.0.ukimg

# Refusals of the feed itself.
sed "s/\"sha256\": \"$B\"/\"sha256\": \"XYZ\"/" "$D/hello.json" >"$D/bad.json"
fails_uk "bad digest" feed_bad_digest "$D/bad.json"
ok "message names the implementation" grep -q 'implementations\[1\]' \
    "$L"
sed 's/"version": "1.1"/"version": "1.2"/' "$D/hello.json" >"$D/dup.json"
fails_uk "duplicate implementation" feed_duplicate_implementation "$D/dup.json"
sed 's/images\/hello-1.2/..\/..\/etc/' "$D/hello.json" >"$D/dots.json"
fails_uk "href with .." feed_bad_href "$D/dots.json"
head -c 100 "$D/hello.json" >"$D/cut.json"
fails_uk "truncated feed" feed_malformed_json "$D/cut.json"
sed 's/"format": 1/"format": 2/' "$D/hello.json" >"$D/f2.json"
fails_uk "future format" feed_unsupported_format "$D/f2.json"
fails_uk "missing file" io_error "$D/none.json"
"$UK" select --json "$D/bad.json" >"$TMP/bad.out" 2>/dev/null
ok "json error on stdout" grep -q '"code": "feed_bad_digest"' "$TMP/bad.out"

# Command line.
"$UK" select >/dev/null 2>&1
is "no FEED: exit 2" $? 2
"$UK" select --stability solid "$D/hello.json" >/dev/null 2>&1
is "bad --stability: exit 2" $? 2
"$UK" select --version '1..2' "$D/hello.json" >/dev/null 2>&1
is "bad --version: exit 2" $? 2
"$UK" select --platform hyperv "$D/hello.json" >/dev/null 2>&1
is "bad --platform: exit 2" $? 2
"$UK" select --memory lots "$D/hello.json" >/dev/null 2>&1
is "bad --memory: exit 2" $? 2
"$UK" select --frobnicate "$D/hello.json" >/dev/null 2>&1
is "unknown option: exit 2" $? 2
ok_uk "--help" --help
for o in --arch --platform --version --stability --memory --net --explain \
    --json; do
	ok "help lists $o" grep -q -e "$o" "$L"
done
ok "help says signatures are not checked" grep -q 'NOT checked' "$L"

done_testing
