#!/bin/sh
# keygen -> pack -> publish -> feed verify -> select, through the real uk,
# and minisign -V on the published feed.
. "$top_srcdir/tests/lib.sh"

cd "$TMP"
mkdir feeds
pw=$TMP/password
echo "round trip secret" >"$pw"
# Low scrypt limits keep this test quick; minisign-interop.sh covers the
# default limits.
ok "keygen (encrypted)" $UK keygen -p k.pub -s k.key --password-file "$pw" \
	--kdf-limits 1048576,16777216
ok "pack 1.0" $UK pack --kernel "$FLOOR_ELF" --name floor --version 1.0 \
	-o feeds/floor-1.0.ukimg
ok "pack 1.1-rc1" $UK pack --kernel "$FLOOR_ELF" --name floor --version 1.1-rc1 \
	--memory 32 --platform kvm -o feeds/floor-1.1-rc1.ukimg
ok "publish creates the feed" $UK publish --feed feeds/floor.json --key k.key \
	--password-file "$pw" --uri http://127.0.0.1:8080/feeds/floor.json \
	feeds/floor-1.0.ukimg
ok "feed and signature exist" test -s feeds/floor.json -a -s feeds/floor.json.minisig
is "serial 1" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' feeds/floor.json)" 1
ok "feed verify" $UK feed verify feeds/floor.json -p k.pub
ok "feed verify --uri" $UK feed verify feeds/floor.json -p k.pub \
	--uri http://127.0.0.1:8080/feeds/floor.json
ok "minisign -V accepts the feed" $MINISIGN -V -p k.pub -m feeds/floor.json
ok "the trusted comment names uri, serial, expires" \
	grep -q "^trusted comment: uri:http://127.0.0.1:8080/feeds/floor.json	serial:1	expires:" \
	feeds/floor.json.minisig
sha1=$(sha256sum feeds/floor.json | cut -d' ' -f1)
cp feeds/floor.json old.json
cp feeds/floor.json.minisig old.json.minisig

ok "publish testing 1.1-rc1" env UK_PASSWORD="round trip secret" \
	$UK publish --feed feeds/floor.json --key k.key --stability testing \
	feeds/floor-1.1-rc1.ukimg
is "serial 2" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' feeds/floor.json)" 2
is "two implementations, highest first" \
	"$(python3 -c 'import json,sys; print(" ".join(i["version"] for i in json.load(open(sys.argv[1]))["implementations"]))' feeds/floor.json)" \
	"1.1-rc1 1.0"
ok "feed verify after the update (no rollback from serial 1)" \
	$UK feed verify feeds/floor.json -p k.pub --last-serial 1 --last-sha256 "$sha1"
$UK feed verify --json feeds/floor.json -p k.pub >v.json
is "feed verify --json: both images checked" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["verified"], d["serial"], [i["status"] for i in d["images"]])' v.json)" \
	"True 2 ['ok', 'ok']"

is "select picks stable 1.0 by default" \
	"$($UK select feeds/floor.json --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["selected"]["version"])')" "1.0"
is "select --stability testing picks 1.1-rc1" \
	"$($UK select feeds/floor.json --stability testing --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["selected"]["version"])')" "1.1-rc1"
is "select --platform xen skips the kvm-only 1.1-rc1" \
	"$($UK select feeds/floor.json --stability testing --platform xen --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["selected"]["version"])')" "1.0"
ok "select --explain says why 1.1-rc1 lost" sh -c \
	"$UK select feeds/floor.json --explain | grep '1.1-rc1' | grep -q -i stab"

fails_with "the old feed is a rollback now" feed_rollback \
	$UK feed verify old.json -x old.json.minisig -p k.pub --last-serial 2

# Two publications from the same serial 2 make two different serial-3 feeds:
# a host that accepted one must refuse the other.
cp feeds/floor.json s2.json; cp feeds/floor.json.minisig s2.json.minisig
ok "republish (serial 3, first copy)" env UK_PASSWORD="round trip secret" \
	SOURCE_DATE_EPOCH=$(($(date +%s) - 10)) $UK publish --feed feeds/floor.json --key k.key
sha3=$(sha256sum feeds/floor.json | cut -d' ' -f1)
cp s2.json feeds/floor.json; cp s2.json.minisig feeds/floor.json.minisig
ok "republish (serial 3, second copy)" env UK_PASSWORD="round trip secret" \
	SOURCE_DATE_EPOCH=$(($(date +%s) - 5)) $UK publish --feed feeds/floor.json --key k.key
fails_with "same serial, other bytes: equivocation" feed_equivocation \
	$UK feed verify feeds/floor.json -p k.pub --last-serial 3 --last-sha256 "$sha3"
ok "same serial, same bytes: accepted" sh -c \
	"$UK feed verify feeds/floor.json -p k.pub --last-serial 3 --last-sha256 \$(sha256sum feeds/floor.json | cut -d' ' -f1)"

# Same time, same key, same images: the same feed bytes.
mkdir d1 d2
for d in d1 d2; do
	cp feeds/floor-1.0.ukimg $d/
	SOURCE_DATE_EPOCH=1790000000 $UK publish --feed $d/f.json --key k.key \
		--password-file "$pw" --uri http://127.0.0.1/f.json --expires-in 3650d \
		$d/floor-1.0.ukimg >/dev/null
done
ok "publishing is deterministic" cmp d1/f.json d2/f.json
ok "no temporary files left" sh -c '! ls feeds d1 d2 | grep -q "\.tmp\."'
done_testing
