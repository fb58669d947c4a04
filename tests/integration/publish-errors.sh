#!/bin/sh
# Bad input to `uk publish` and `uk feed verify`: each refused with its own
# code, and the feed on disk untouched afterwards.
. "$top_srcdir/tests/lib.sh"

cd "$TMP"
mkdir -p feeds other
URI=http://127.0.0.1:8080/feeds/floor.json
$UK keygen -W -p k.pub -s k.key >/dev/null
$UK keygen -W -p k2.pub -s k2.key >/dev/null
echo "the password" >pw
$UK keygen -p ke.pub -s ke.key --password-file pw --kdf-limits 1048576,16777216 >/dev/null
$UK pack --kernel "$FLOOR_ELF" --name floor --version 1.0 -o feeds/floor-1.0.ukimg >/dev/null
$UK pack --kernel "$FLOOR_ELF" --name other --version 1.0 -o feeds/other-1.0.ukimg >/dev/null
$UK pack --kernel "$FLOOR_ELF" --name floor --version 2.0 -o other/floor-2.0.ukimg >/dev/null

# --- publish: nothing is written when it fails
fails_with "new feed without --uri" publish_missing_uri \
	$UK publish --feed feeds/floor.json --key k.key feeds/floor-1.0.ukimg
ok "... and no feed was created" test ! -e feeds/floor.json
fails_with "wrong password" key_checksum_mismatch \
	env UK_PASSWORD=wrong $UK publish --feed feeds/floor.json --key ke.key \
	--uri $URI feeds/floor-1.0.ukimg
fails_with "no password to be had (no terminal)" password_unavailable \
	env -u UK_PASSWORD setsid $UK publish --feed feeds/floor.json --key ke.key \
	--uri $URI feeds/floor-1.0.ukimg </dev/null
ok "... and still no feed" test ! -e feeds/floor.json
head -c 3000 feeds/floor-1.0.ukimg >feeds/truncated.ukimg
fails_with "truncated image" ustar_truncated \
	$UK publish --feed feeds/floor.json --key k.key --uri $URI feeds/truncated.ukimg
ok "... and still no feed" test ! -e feeds/floor.json

ok "publish a good feed" $UK publish --feed feeds/floor.json --key k.key \
	--uri $URI feeds/floor-1.0.ukimg
snapshot() { cat feeds/floor.json feeds/floor.json.minisig | sha256sum; }
before=$(snapshot)
fails_with "image outside the feed's directory" publish_image_outside_feed \
	$UK publish --feed feeds/floor.json --key k.key other/floor-2.0.ukimg
fails_with "image of another unikernel" publish_name_mismatch \
	$UK publish --feed feeds/floor.json --key k.key feeds/other-1.0.ukimg
fails_with "another --uri than the feed's" publish_uri_mismatch \
	$UK publish --feed feeds/floor.json --key k.key --uri http://127.0.0.1/x.json \
	feeds/floor-1.0.ukimg
fails_with "signing with another key" publish_key_changed \
	$UK publish --feed feeds/floor.json --key k2.key feeds/floor-1.0.ukimg
fails_with "a key file is not an image" ustar_truncated \
	$UK publish --feed feeds/floor.json --key k.key k.pub
head -c 2048 /dev/zero | tr '\0' 'A' >feeds/junk.ukimg
fails_with "512-byte blocks of junk are not an image" ustar_bad_magic \
	$UK publish --feed feeds/floor.json --key k.key feeds/junk.ukimg
is "the feed is untouched by every failure" "$(snapshot)" "$before"
ok "no temporary files left" sh -c '! ls -a feeds | grep -q "\.tmp\."'
exits_with "bad --expires-in" 2 $UK publish --feed feeds/floor.json --key k.key --expires-in soon
cp feeds/floor.json saved.json
echo '{"format": 1, "uri": ' >feeds/floor.json
fails_with "the existing feed is malformed" feed_malformed_json \
	$UK publish --feed feeds/floor.json --key k.key feeds/floor-1.0.ukimg
cp saved.json feeds/floor.json

# --- feed verify
ok "the good feed verifies" $UK feed verify feeds/floor.json -p k.pub
fails_with "another publisher's key" sig_key_mismatch \
	$UK feed verify feeds/floor.json -p k2.pub
sed 's/"serial": 1/"serial": 9/' feeds/floor.json >feeds/tampered.json
cp feeds/floor.json.minisig feeds/tampered.json.minisig
fails_with "tampered feed bytes" sig_invalid \
	$UK feed verify feeds/tampered.json -p k.pub
cp feeds/floor.json feeds/plain.json
$UK sign -s k.key -t "this says nothing of the feed" feeds/plain.json >/dev/null
fails_with "trusted comment not naming the feed" feed_comment_mismatch \
	$UK feed verify feeds/plain.json -p k.pub
cp feeds/floor.json feeds/liar.json
$UK sign -s k.key -t "uri:$URI	serial:7	expires:2030-01-01T00:00:00Z" feeds/liar.json >/dev/null
fails_with "trusted comment with another serial" feed_comment_mismatch \
	$UK feed verify feeds/liar.json -p k.pub
fails_with "fetched from another URL" feed_uri_mismatch \
	$UK feed verify feeds/floor.json -p k.pub --uri http://127.0.0.1/elsewhere.json
fails_with "no signature file" io_error \
	$UK feed verify feeds/floor-1.0.ukimg -p k.pub

mkdir old future
cp feeds/floor-1.0.ukimg old/; cp feeds/floor-1.0.ukimg future/
SOURCE_DATE_EPOCH=$(($(date +%s) - 3 * 86400)) $UK publish --feed old/f.json \
	--key k.key --uri $URI --expires-in 1d old/floor-1.0.ukimg >/dev/null
fails_with "expired feed" feed_expired $UK feed verify old/f.json -p k.pub
SOURCE_DATE_EPOCH=$(($(date +%s) + 30 * 86400)) $UK publish --feed future/f.json \
	--key k.key --uri $URI future/floor-1.0.ukimg >/dev/null
fails_with "feed published in the future" feed_from_future \
	$UK feed verify future/f.json -p k.pub

cp feeds/floor-1.0.ukimg saved.ukimg
printf 'X' | dd of=feeds/floor-1.0.ukimg bs=1 seek=600 conv=notrunc 2>/dev/null
fails_with "image changed after publishing" image_digest_mismatch \
	$UK feed verify feeds/floor.json -p k.pub
cp saved.ukimg feeds/floor-1.0.ukimg
printf '\0' >>feeds/floor-1.0.ukimg
fails_with "image grew after publishing" image_size_mismatch \
	$UK feed verify feeds/floor.json -p k.pub
cp saved.ukimg feeds/floor-1.0.ukimg
fails_with "a serial below the last accepted" feed_rollback \
	$UK feed verify feeds/floor.json -p k.pub --last-serial 5
exits_with "--last-sha256 without --last-serial" 2 \
	$UK feed verify feeds/floor.json -p k.pub --last-sha256 00
is "the feed is still the one published" "$(snapshot)" "$before"
done_testing
