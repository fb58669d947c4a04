#!/bin/sh
# unikerneld's registry routes end to end (docs/api.md: Feeds, Keys,
# Images, Events, Metrics): a private daemon in a temporary directory,
# spoken to with curl over its unix socket; feeds made with uk keygen, pack
# and publish, served by tests/http/server.py on 127.0.0.1.  Images and an
# instance that uses one are written into the store with python3's sqlite3,
# so that no guest has to boot.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib-daemon.sh"

python3 -c 'import sqlite3' 2>/dev/null || skip_all "python3 has no sqlite3"
[ -f "$FLOOR_ELF" ] || skip_all "the floor kernel is not built"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# jq_is NAME PYTHON-EXPRESSION WANT: the expression over the body as d
jq_is() {
	is "$1" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$TMP/body" "$2" 2>&1)" "$3"
}

# check NAME PYTHON: asserts over the body as d (and sys.argv[2:])
check() {
	name=$1 code=$2
	shift 2
	ok "$name" python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
$code" "$TMP/body" "$@"
}

# --- the publisher's side
pub=$TMP/pub
mkdir -p "$pub/feeds"
$UK keygen -W -p "$pub/k.pub" -s "$pub/k.key" >/dev/null &&
$UK keygen -W -p "$pub/other.pub" -s "$pub/other.key" >/dev/null &&
$UK keygen -W -p "$pub/third.pub" -s "$pub/third.key" >/dev/null &&
$UK pack --kernel "$FLOOR_ELF" --name floor --version 1.0 \
    -o "$pub/feeds/floor-1.0.ukimg" >/dev/null &&
$UK pack --kernel "$FLOOR_ELF" --name floor --version 1.1 --memory 32 \
    -o "$pub/feeds/floor-1.1.ukimg" >/dev/null ||
	skip_all "uk cannot make keys and images"
kpub=$(sed -n 2p "$pub/k.pub")
opub=$(sed -n 2p "$pub/other.pub")
tpub=$(sed -n 2p "$pub/third.pub")
kid=$(sed -n 's/^untrusted comment: uk public key //p' "$pub/k.pub")
oid=$(sed -n 's/^untrusted comment: uk public key //p' "$pub/other.pub")
tid=$(sed -n 's/^untrusted comment: uk public key //p' "$pub/third.pub")
# The key published next to the feeds is other's: it signs other.json,
# not floor.json.
cp "$pub/other.pub" "$pub/feeds/uk.pub"

python3 "$top_srcdir/tests/http/server.py" "$pub" "$TMP/http.log" \
    >"$TMP/port" &
pids="$pids $!"
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
port=$(cat "$TMP/port")
[ -n "$port" ] || skip_all "tests/http/server.py did not start"
base=http://127.0.0.1:$port/feeds

$UK publish --feed "$pub/feeds/floor.json" --key "$pub/k.key" \
    --uri "$base/floor.json" "$pub/feeds/floor-1.0.ukimg" >/dev/null &&
$UK publish --feed "$pub/feeds/floor.json" --key "$pub/k.key" \
    --stability testing "$pub/feeds/floor-1.1.ukimg" >/dev/null &&
$UK publish --feed "$pub/feeds/other.json" --key "$pub/other.key" \
    --uri "$base/other.json" "$pub/feeds/floor-1.0.ukimg" >/dev/null ||
	skip_all "uk publish failed"
cp "$pub/feeds/floor.json" "$TMP/floor-s2.json"
cp "$pub/feeds/floor.json.minisig" "$TMP/floor-s2.json.minisig"
# floor.json's bytes with floor.json's signature: sig_invalid
{ cat "$pub/feeds/floor.json"; echo; } >"$pub/feeds/tampered.json"
cp "$pub/feeds/floor.json.minisig" "$pub/feeds/tampered.json.minisig"

daemon_start "$conf" "$TMP/log"
if ! wait_socket "$sock" "$dpid"; then
	sed 's/^/# /' "$TMP/log"
	skip_all "unikerneld did not start"
fi

# --- keys
is "GET /v1/keys: 200" "$(req GET /v1/keys)" 200
jq_is "GET /v1/keys: none yet" 'd' "{'keys': []}"

is "a feed by an unknown key: 403" \
	"$(post POST /v1/feeds "{\"uri\":\"$base/floor.json\"}")" 403
ok "a feed by an unknown key: unknown_key" error_is unknown_key
check "unknown_key: details name the key and the domain, no pubkey (uk.pub is another key)" \
	'assert d["error"]["details"] == {"keyid": sys.argv[2], "domain": "127.0.0.1"}, d' \
	"$kid"

is "POST /v1/keys, bad JSON: 400" "$(post POST /v1/keys '{"pubkey":')" 400
ok "POST /v1/keys, bad JSON: bad_json" error_is bad_json
is "POST /v1/keys, no pubkey: 400" \
	"$(post POST /v1/keys '{"domains":["a.org"]}')" 400
ok "POST /v1/keys, no pubkey: bad_request naming it" error_is bad_request pubkey
is "POST /v1/keys, no domains: 400" \
	"$(post POST /v1/keys "{\"pubkey\":\"$kpub\"}")" 400
ok "POST /v1/keys, no domains: bad_request naming them" \
	error_is bad_request domains
is "POST /v1/keys, an unknown key: 400" \
	"$(post POST /v1/keys "{\"pubkey\":\"$kpub\",\"domains\":[\"a.org\"],\"trust\":1}")" 400
ok "POST /v1/keys, an unknown key: bad_request" error_is bad_request
is "POST /v1/keys, pubkey a number: 400" \
	"$(post POST /v1/keys '{"pubkey":12,"domains":["a.org"]}')" 400
ok "POST /v1/keys, pubkey a number: bad_request" error_is bad_request pubkey
is "POST /v1/keys, a bad pubkey: 400" \
	"$(post POST /v1/keys '{"pubkey":"RWQnotakey","domains":["a.org"]}')" 400
ok "POST /v1/keys, a bad pubkey: invalid_argument naming it" \
	error_is invalid_argument "pubkey:"
is "POST /v1/keys, domains empty: 400" \
	"$(post POST /v1/keys "{\"pubkey\":\"$kpub\",\"domains\":[]}")" 400
ok "POST /v1/keys, domains empty: invalid_argument" \
	error_is invalid_argument "domains:"
is "POST /v1/keys, a bad domain: 400" \
	"$(post POST /v1/keys "{\"pubkey\":\"$kpub\",\"domains\":[\"a.org\",\"bad domain\"]}")" 400
ok "POST /v1/keys, a bad domain: trust_pattern_invalid naming it" \
	error_is trust_pattern_invalid "domains[1]:"
is "POST /v1/keys, a domain not a string: 400" \
	"$(post POST /v1/keys "{\"pubkey\":\"$kpub\",\"domains\":[7]}")" 400
ok "POST /v1/keys, a domain not a string: bad_request" \
	error_is bad_request "domains[0]:"
is "POST /v1/keys, a comment with a newline: 400" \
	"$(post POST /v1/keys "{\"pubkey\":\"$kpub\",\"domains\":[\"a.org\"],\"comment\":\"a\\nb\"}")" 400
ok "POST /v1/keys, a comment with a newline: invalid_argument" \
	error_is invalid_argument "comment:"
req GET /v1/keys >/dev/null
jq_is "refused keys left nothing" 'd' "{'keys': []}"

is "POST /v1/keys: 201" \
	"$(post POST /v1/keys "{\"pubkey\":\"$kpub\",\"domains\":[\"127.0.0.1\"],\"comment\":\"test key\"}")" 201
check "POST /v1/keys: the key" '
assert sorted(d) == ["added", "comment", "domains", "keyid", "pubkey"], d
assert d["keyid"] == sys.argv[2] and d["pubkey"] == sys.argv[3], d
assert d["domains"] == ["127.0.0.1"] and d["comment"] == "test key", d
assert isinstance(d["added"], int) and d["added"] > 0, d' "$kid" "$kpub"
is "POST /v1/keys again, more domains: 200" \
	"$(post POST /v1/keys "{\"pubkey\":\"$kpub\",\"domains\":[\"*.Example.org\",\"127.0.0.1\"]}")" 200
jq_is "the domains are added, lowercase, sorted" 'd["domains"]' \
	"['*.example.org', '127.0.0.1']"
is "POST /v1/keys, other key: 201" \
	"$(post POST /v1/keys "{\"pubkey\":\"$opub\",\"domains\":[\"example.org\"]}")" 201
is "GET /v1/keys: 200" "$(req GET /v1/keys)" 200
check "GET /v1/keys: both, ordered by key id" '
ids = sorted(sys.argv[2:4])
assert [k["keyid"] for k in d["keys"]] == ids, d' "$kid" "$oid"

is "DELETE /v1/keys without keyid: 400" "$(req DELETE /v1/keys)" 400
ok "DELETE /v1/keys without keyid: bad_request" error_is bad_request keyid
is "DELETE /v1/keys, a bad keyid: 400" "$(req DELETE '/v1/keys?keyid=xyz')" 400
ok "DELETE /v1/keys, a bad keyid: invalid_argument" \
	error_is invalid_argument keyid
is "DELETE /v1/keys, an unknown keyid: 404" \
	"$(req DELETE '/v1/keys?keyid=0123456789ABCDEF')" 404
ok "DELETE /v1/keys, an unknown keyid: store_not_found" \
	error_is store_not_found
is "DELETE /v1/keys with a body: 400" \
	"$(post DELETE "/v1/keys?keyid=$kid" '{"force":true}')" 400
ok "DELETE /v1/keys with a body: bad_request" error_is bad_request
is "DELETE /v1/keys, a bad domain: 400" \
	"$(req DELETE "/v1/keys?keyid=$kid&domain=a..b")" 400
ok "DELETE /v1/keys, a bad domain: trust_pattern_invalid" \
	error_is trust_pattern_invalid domain
is "DELETE /v1/keys, a domain the key lacks: 404" \
	"$(req DELETE "/v1/keys?keyid=$kid&domain=other.org")" 404
ok "DELETE /v1/keys, a domain the key lacks: store_not_found" \
	error_is store_not_found
is "DELETE /v1/keys, one domain: 200" \
	"$(req DELETE "/v1/keys?keyid=$kid&domain=*.example.org")" 200
jq_is "DELETE /v1/keys, one domain: deleted, domain" 'd' \
	"{'deleted': '$kid', 'domain': '*.example.org'}"
is "DELETE /v1/keys, the last domain: 409" \
	"$(req DELETE "/v1/keys?keyid=$kid&domain=127.0.0.1")" 409
ok "DELETE /v1/keys, the last domain: key_last_domain" \
	error_is key_last_domain
lower=$(echo "$tid" | tr 'A-F' 'a-f')
is "POST /v1/keys, a third key: 201" \
	"$(post POST /v1/keys "{\"pubkey\":\"$tpub\",\"domains\":[\"third.org\"]}")" 201
is "DELETE /v1/keys, a key id in lowercase: 200" \
	"$(req DELETE "/v1/keys?keyid=$lower")" 200
jq_is "DELETE /v1/keys: the id as minisign prints it" 'd' \
	"{'deleted': '$tid'}"
is "the key is gone" "$(req DELETE "/v1/keys?keyid=$tid")" 404

# --- feeds
is "GET /v1/feeds: 200" "$(req GET /v1/feeds)" 200
jq_is "GET /v1/feeds: none yet" 'd' "{'feeds': []}"
is "POST /v1/feeds, bad JSON: 400" "$(post POST /v1/feeds '{"uri"')" 400
ok "POST /v1/feeds, bad JSON: bad_json" error_is bad_json
is "POST /v1/feeds, no uri: 400" "$(post POST /v1/feeds '{}')" 400
ok "POST /v1/feeds, no uri: bad_request naming it" error_is bad_request uri
is "POST /v1/feeds, uri a number: 400" "$(post POST /v1/feeds '{"uri":1}')" 400
ok "POST /v1/feeds, uri a number: bad_request" error_is bad_request uri
is "POST /v1/feeds, an unknown key: 400" \
	"$(post POST /v1/feeds "{\"uri\":\"$base/floor.json\",\"name\":\"x\"}")" 400
ok "POST /v1/feeds, an unknown key: bad_request" error_is bad_request
is "POST /v1/feeds, ftp: 400" \
	"$(post POST /v1/feeds '{"uri":"ftp://example.org/f.json"}')" 400
ok "POST /v1/feeds, ftp: uri_unsupported_scheme" \
	error_is uri_unsupported_scheme "uri:"
is "POST /v1/feeds, not a URL: 400" \
	"$(post POST /v1/feeds '{"uri":"floor.json"}')" 400
ok "POST /v1/feeds, not a URL: uri_malformed" error_is uri_malformed "uri:"

is "a feed by a key trusted for another domain: 403" \
	"$(post POST /v1/feeds "{\"uri\":\"$base/other.json\"}")" 403
ok "key_not_trusted_for_domain" error_is key_not_trusted_for_domain
check "key_not_trusted_for_domain: details name the key and the domain" '
x = d["error"]["details"]
assert {k: x[k] for k in ("keyid", "domain")} == {"keyid": sys.argv[2], "domain": "127.0.0.1"}, d
assert x.get("pubkey", sys.argv[3]) == sys.argv[3], d' "$oid" "$opub"
req DELETE "/v1/keys?keyid=$oid" >/dev/null
is "a feed by an unknown key, uk.pub next to it: 403" \
	"$(post POST /v1/feeds "{\"uri\":\"$base/other.json\"}")" 403
ok "unknown_key" error_is unknown_key
check "unknown_key: details with the pubkey of uk.pub" \
	'assert d["error"]["details"] == {"keyid": sys.argv[2], "domain": "127.0.0.1", "pubkey": sys.argv[3]}, d' \
	"$oid" "$opub"
is "a tampered feed: 403" \
	"$(post POST /v1/feeds "{\"uri\":\"$base/tampered.json\"}")" 403
ok "a tampered feed: sig_invalid" error_is sig_invalid
is "a feed that is not there: 502" \
	"$(post POST /v1/feeds "{\"uri\":\"$base/none.json\"}")" 502
ok "a feed that is not there: fetch_http_status" error_is fetch_http_status
req GET /v1/feeds >/dev/null
jq_is "refused feeds are not followed" 'd' "{'feeds': []}"

is "POST /v1/feeds: 201" \
	"$(post POST /v1/feeds "{\"uri\":\"$base/floor.json\"}")" 201
fid=$(printf '%s' "$base/floor.json" | sha256sum | cut -c1-16)
check "POST /v1/feeds: the feed" '
assert sorted(d) == ["accepted", "added", "expires", "id", "last_error",
    "last_fetched", "serial", "uri"], d
assert d["id"] == sys.argv[2] and d["uri"] == sys.argv[3], d
assert d["serial"] == 2 and d["last_error"] is None, d
assert d["accepted"] >= d["added"] > 0 and d["expires"] > d["accepted"], d
assert d["last_fetched"] >= d["added"], d' "$fid" "$base/floor.json"
is "POST /v1/feeds again: 409" \
	"$(post POST /v1/feeds "{\"uri\":\"$base/floor.json\"}")" 409
ok "POST /v1/feeds again: store_exists" error_is store_exists
is "GET /v1/feeds: 200" "$(req GET /v1/feeds)" 200
jq_is "GET /v1/feeds: the one feed" '[f["id"] for f in d["feeds"]]' "['$fid']"

is "refresh, unchanged: 200" "$(req POST "/v1/feeds/$fid/refresh")" 200
jq_is "refresh, unchanged: changed false, serial 2" \
	'(sorted(d), d["changed"], d["feed"]["serial"])' \
	"(['changed', 'feed'], False, 2)"
$UK publish --feed "$pub/feeds/floor.json" --key "$pub/k.key" >/dev/null
is "refresh after a new publication: 200" \
	"$(req POST "/v1/feeds/$fid/refresh")" 200
jq_is "refresh: changed true, serial 3" '(d["changed"], d["feed"]["serial"])' \
	"(True, 3)"
cp "$TMP/floor-s2.json" "$pub/feeds/floor.json"
cp "$TMP/floor-s2.json.minisig" "$pub/feeds/floor.json.minisig"
is "refresh to an older serial: 409" "$(req POST "/v1/feeds/$fid/refresh")" 409
ok "refresh to an older serial: feed_rollback" error_is feed_rollback
req GET /v1/feeds >/dev/null
jq_is "the rollback is the feed's last error; serial 3 stays" \
	'(d["feeds"][0]["last_error"]["code"], d["feeds"][0]["serial"])' \
	"('feed_rollback', 3)"
is "refresh with a body: 400" \
	"$(post POST "/v1/feeds/$fid/refresh" '{"force":1}')" 400
ok "refresh with a body: bad_request" error_is bad_request
is "refresh of an unknown id: 404" \
	"$(req POST /v1/feeds/0123456789abcdef/refresh)" 404
ok "refresh of an unknown id: store_not_found" error_is store_not_found
is "refresh of a bad id: 400" "$(req POST /v1/feeds/xyz/refresh)" 400
ok "refresh of a bad id: invalid_argument" error_is invalid_argument

# select: serial 3 has 1.1 (testing, 32 MiB) and 1.0 (stable, 16 MiB)
is "select: 200" "$(req GET "/v1/feeds/$fid/select")" 200
check "select: stable 1.0, 1.1 passed over for its stability" '
assert sorted(d) == ["candidates", "selected"], d
s = d["selected"]
assert sorted(s) == ["memory_mib", "sha256", "size", "stability", "version"], s
assert s["version"] == "1.0" and s["stability"] == "stable", s
assert len(s["sha256"]) == 64 and s["size"] > 0, s
c = d["candidates"]
assert [(x["version"], x["chosen"]) for x in c] == [("1.1", False), ("1.0", True)], c
assert sorted(c[0]) == ["arch", "chosen", "reasons", "stability", "version"], c
assert c[0]["arch"] == "x86_64" and c[0]["stability"] == "testing", c
assert [r["reason"] for r in c[0]["reasons"]] == ["stability"], c
assert c[0]["reasons"][0]["text"], c
assert c[1]["reasons"] == [], c'
is "select?stability=testing: 200" \
	"$(req GET "/v1/feeds/$fid/select?stability=testing")" 200
jq_is "select?stability=testing: 1.1, 32 MiB" \
	'(d["selected"]["version"], d["selected"]["memory_mib"])' "('1.1', 32)"
req GET "/v1/feeds/$fid/select?stability=testing&memory=16" >/dev/null
jq_is "select?memory=16: 1.0; 1.1 needs memory" \
	'(d["selected"]["version"], [r["reason"] for r in d["candidates"][0]["reasons"]])' \
	"('1.0', ['memory'])"
is "select?version=2..: 200" "$(req GET "/v1/feeds/$fid/select?version=2..")" 200
jq_is "select?version=2..: nothing fits, every candidate says why" \
	'(d["selected"], [[r["reason"] for r in c["reasons"]] for c in d["candidates"]])' \
	"(None, [['stability', 'version'], ['version']])"
is "select, a bad range: 400" "$(req GET "/v1/feeds/$fid/select?version=1..2..3")" 400
ok "select, a bad range: range_invalid" error_is range_invalid "version:"
is "select, a bad stability: 400" \
	"$(req GET "/v1/feeds/$fid/select?stability=solid")" 400
ok "select, a bad stability: invalid_argument" \
	error_is invalid_argument "stability:"
is "select, memory=0: 400" "$(req GET "/v1/feeds/$fid/select?memory=0")" 400
ok "select, memory=0: invalid_argument" error_is invalid_argument "memory:"
is "select, memory=lots: 400" "$(req GET "/v1/feeds/$fid/select?memory=lots")" 400
is "select of an unknown id: 404" \
	"$(req GET /v1/feeds/0123456789abcdef/select)" 404

# --- images: written into the store and the cache as the daemon would
# have them, one used by a stopped instance.
img_a=$(printf a | sha256sum | cut -d' ' -f1)
img_b=$(printf b | sha256sum | cut -d' ' -f1)
img_c=$(printf c | sha256sum | cut -d' ' -f1)
img_d=$(printf d | sha256sum | cut -d' ' -f1)
ok "images and an instance written into the store" python3 - \
	"$state" "$img_a" "$img_b" "$img_c" "$img_d" <<'PY'
import os, sqlite3, sys, time
state, shas = sys.argv[1], sys.argv[2:]
now = int(time.time())
db = sqlite3.connect(os.path.join(state, "unikerneld.db"), timeout=10)
db.execute("PRAGMA foreign_keys = ON")
for i, sha in enumerate(shas):
    path = os.path.join(state, "images", "sha256", sha)
    with open(path, "wb") as f:
        f.write(b"x" * (1000 * (i + 1)))
    added = now - 100000 if i == 2 else now
    db.execute("INSERT INTO images (sha256, size, name, version, path, "
               "added, last_used) VALUES (?, ?, 'floor', ?, ?, ?, NULL)",
               (sha, 1000 * (i + 1), "1.%d" % i, path, added))
db.execute("INSERT INTO instances (id, name, image_sha256, stability, "
           "backend, desired, state, restart, restart_count, memory_mib, "
           "vcpus, created) VALUES (?, 'user', ?, 'stable', 'qemu', "
           "'stopped', 'stopped', 'no', 2, 16, 1, ?)",
           ("0" * 31 + "1", shas[0], now))
db.commit()
PY
is "GET /v1/images: 200" "$(req GET /v1/images)" 200
check "GET /v1/images: four, with their fields" '
imgs = {i["sha256"]: i for i in d["images"]}
assert sorted(imgs) == sorted(sys.argv[2:6]), d
a = imgs[sys.argv[2]]
assert sorted(a) == ["added", "last_used", "name", "refs", "sha256", "size",
    "version"], a
assert a["refs"] == 1 and a["size"] == 1000 and a["last_used"] is None, a
assert a["name"] == "floor" and a["version"] == "1.0", a
assert imgs[sys.argv[3]]["refs"] == 0, d' "$img_a" "$img_b" "$img_c" "$img_d"
is "DELETE an image, a bad digest: 400" "$(req DELETE /v1/images/xyz)" 400
ok "DELETE an image, a bad digest: invalid_argument" \
	error_is invalid_argument sha256
is "DELETE an image, 63 digits: 400" \
	"$(req DELETE "/v1/images/$(echo "$img_b" | cut -c2-)")" 400
is "DELETE an image not in the store: 404" \
	"$(req DELETE "/v1/images/$(printf z | sha256sum | cut -d' ' -f1)")" 404
ok "DELETE an image not in the store: store_not_found" error_is store_not_found
is "DELETE an image in use: 409" "$(req DELETE "/v1/images/$img_a")" 409
ok "DELETE an image in use: image_in_use" error_is image_in_use
ok "DELETE an image in use: the message names the instance" \
	grep -q '"message":"[^"]*user' "$TMP/body"
upper=$(echo "$img_b" | tr 'a-f' 'A-F')
is "DELETE an image, in uppercase: 200" "$(req DELETE "/v1/images/$upper")" 200
jq_is "DELETE an image: deleted, lowercase" 'd' "{'deleted': '$img_b'}"
ok "DELETE an image: the cache file is gone" \
	test ! -e "$state/images/sha256/$img_b"
is "DELETE it again: 404" "$(req DELETE "/v1/images/$img_b")" 404
is "prune, older_than a string: 400" \
	"$(post POST /v1/images/prune '{"older_than":"1d"}')" 400
ok "prune, older_than a string: bad_request" error_is bad_request older_than
is "prune, older_than negative: 400" \
	"$(post POST /v1/images/prune '{"older_than":-1}')" 400
ok "prune, older_than negative: invalid_argument" \
	error_is invalid_argument older_than
is "prune, an unknown key: 400" "$(post POST /v1/images/prune '{"all":true}')" 400
ok "prune, an unknown key: bad_request" error_is bad_request
is "prune older_than 50000: 200" \
	"$(post POST /v1/images/prune '{"older_than":50000}')" 200
jq_is "prune older_than 50000: the old unused image only" 'd' \
	"{'deleted': ['$img_c'], 'bytes': 3000}"
is "prune: 200" "$(req POST /v1/images/prune)" 200
jq_is "prune: every unused image, not the one in use" 'd' \
	"{'deleted': ['$img_d'], 'bytes': 4000}"
req GET /v1/images >/dev/null
jq_is "the image in use stays" '[i["sha256"] for i in d["images"]]' \
	"['$img_a']"
ok "its cache file stays" test -e "$state/images/sha256/$img_a"

# --- events
is "GET /v1/events?follow=0: 200" "$(req GET '/v1/events?follow=0')" 200
ok "events: application/x-ndjson" \
	grep -qi '^content-type: application/x-ndjson' "$TMP/head"
ok "events: one JSON object per line, ids growing, trust changes there" \
	python3 - "$TMP/body" "$kid" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
evs = [json.loads(l) for l in lines]
assert evs, lines
last = 0
for e in evs:
    assert sorted(e) == ["id", "instance", "kind", "message", "time"], e
    assert e["id"] > last and e["time"] > 0, e
    last = e["id"]
msgs = [e["message"] for e in evs if e["kind"] == "trust"]
assert "key %s is trusted for 127.0.0.1" % sys.argv[2] in msgs, msgs
assert "key %s is no longer trusted for *.example.org" % sys.argv[2] in msgs, msgs
assert all(e["instance"] is None for e in evs if e["kind"] == "trust"), evs
print(last)
PY
last=$(tail -n 1 "$TMP/body" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
req GET "/v1/events?after=$((last - 1))&follow=0" >/dev/null
is "events?after=LAST-1: one line" "$(wc -l <"$TMP/body")" 1
jq_is "events?after=LAST-1: the last event" 'd["id"]' "$last"
is "events?after=LAST&follow=0: 200" \
	"$(req GET "/v1/events?after=$last&follow=0")" 200
is "events?after=LAST&follow=0: nothing" "$(wc -c <"$TMP/body")" 0
is "events?after=-1: 400" "$(req GET '/v1/events?after=-1')" 400
ok "events?after=-1: invalid_argument" error_is invalid_argument after
is "events?after=x: 400" "$(req GET '/v1/events?after=x')" 400
is "events?follow=yes: 400" "$(req GET '/v1/events?follow=yes')" 400
ok "events?follow=yes: invalid_argument" error_is invalid_argument follow
# followed: what happens after the request comes down the open stream
curl -sS -N --max-time 4 --unix-socket "$sock" -o "$TMP/stream" \
    "http://localhost/v1/events?after=$last" 2>/dev/null &
cpid=$!
sleep 1
post POST /v1/keys "{\"pubkey\":\"$tpub\",\"domains\":[\"live.org\"]}" \
    >/dev/null
wait "$cpid"
ok "events followed: a change made while streaming arrives" \
	grep -q "key $tid is trusted for live.org" "$TMP/stream"
is "events followed: nothing before it" \
	"$(head -n 1 "$TMP/stream" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"] == '"$last"' + 1)')" True

# --- metrics
is "GET /metrics: 200" "$(req GET /metrics)" 200
ok "metrics: text/plain; version=0.0.4" \
	grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/head"
ok "metrics: the text format, every metric of docs/api.md" \
	python3 - "$TMP/body" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n"), text
vals, typed = {}, set()
for line in text.splitlines():
    m = re.match(r"# (HELP|TYPE) ([a-z_]+) (.+)$", line)
    if m:
        if m.group(1) == "TYPE":
            assert m.group(3) in ("gauge", "counter"), line
            typed.add(m.group(2))
        continue
    m = re.match(r'([a-z_]+)(\{[a-z_]+="[^"\\]*"\})? (-?[0-9]+)$', line)
    assert m, line
    assert m.group(1) in typed, line
    vals[m.group(1) + (m.group(2) or "")] = int(m.group(3))
want = {"unikerneld_up": 1, "unikerneld_feeds": 1, "unikerneld_keys": 2,
        "unikerneld_images": 1, "unikerneld_image_bytes": 1000,
        'unikerneld_instances{state="stopped"}': 1,
        'unikerneld_instances{state="running"}': 0,
        'unikerneld_instance_restarts_total{name="user"}': 2}
for k, v in want.items():
    assert vals.get(k) == v, (k, vals.get(k), text)
assert vals["unikerneld_uptime_seconds"] >= 0, text
states = [k for k in vals if k.startswith("unikerneld_instances{")]
assert len(states) == 9, states
PY
is "POST /metrics: 405" "$(req POST /metrics)" 405
is "the daemon still serves" "$(req GET /v1/health)" 200
ok "the log has no handler without a reply" \
	sh -c "! grep -q 'gave no reply' '$TMP/log'"

kill -TERM "$dpid"
done_testing
