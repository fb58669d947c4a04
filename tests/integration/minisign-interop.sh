#!/bin/sh
# minisign-interop.sh - the real minisign and uk, both ways: each verifies
# the other's signatures (prehashed and legacy) and signs with the other's
# secret keys (encrypted and unencrypted).
. "$top_srcdir/tests/lib.sh"

[ -n "${MINISIGN:-}" ] || skip_all "minisign not found (configure looks for it)"

DATA=$top_srcdir/tests/data/minisign
# libsodium's minimum scrypt limits keep the test fast; one key below uses
# the defaults (1 GiB) so that the real path runs too.
LOW="--kdf-limits 32768,16777216"
cd "$TMP" || exit 1
seq 1 20000 >msg
printf 'interop password\n' >pw

# minisign reads a password from stdin when there is no terminal.
ms_sign() {	# ms_sign PASSWORD SECKEY SIGFILE [minisign options]
	local pw=$1 sk=$2 sig=$3
	shift 3
	printf '%s\n' "$pw" | "$MINISIGN" -S -s "$sk" -x "$sig" -m msg "$@"
}

# The lines after "Signature and comment signature verified" must agree.
same_output() {	# same_output PUBKEY SIGFILE
	"$MINISIGN" -V -p "$1" -x "$2" -m msg >ms.out &&
	    "$UK" verify -p "$1" -x "$2" msg >uk.out && cmp ms.out uk.out
}

trusted_is() {	# trusted_is SIGFILE WANT
	[ "$(sed -n 3p "$1")" = "trusted comment: $2" ]
}

### uk keys and signatures, checked by minisign
ok "uk keygen, encrypted" $UK keygen -p uk.pub -s uk.key \
	--password-file pw $LOW
ok "uk keygen -W" $UK keygen -W -p ukw.pub -s ukw.key
ok "uk sign (prehashed)" $UK sign -s uk.key --password-file pw msg
ok "default trusted comment like minisign's" sh -c \
	'sed -n 3p msg.minisig | grep -q "^trusted comment: timestamp:[0-9]*	file:msg	hashed\$"'
ok "minisign -V verifies uk's prehashed signature" \
	$MINISIGN -V -p uk.pub -m msg
ok "minisign -V -H takes it as prehashed" $MINISIGN -V -H -p uk.pub -m msg
ok "minisign -V -P with uk's key string" \
	$MINISIGN -V -P "$(sed -n 2p uk.pub)" -m msg
ok "same output as minisign -V" same_output uk.pub msg.minisig
ok "uk sign -l (legacy)" $UK sign -l -s uk.key --password-file pw \
	-t "legacy from uk" -x msg.legacy msg
ok "legacy trusted comment" trusted_is msg.legacy "legacy from uk"
ok "minisign -V verifies uk's legacy signature" \
	$MINISIGN -V -p uk.pub -x msg.legacy -m msg
not_ok "minisign -V -H refuses it as legacy" \
	$MINISIGN -V -H -p uk.pub -x msg.legacy -m msg
ok "uk sign with an unencrypted key" $UK sign -s ukw.key -x msg.w msg
ok "minisign -V verifies it" $MINISIGN -V -p ukw.pub -x msg.w -m msg

### minisign signing with uk's secret keys
ok "minisign signs with uk's encrypted key" \
	ms_sign "interop password" uk.key msg.ms-uk
ok "uk verifies it" $UK verify -p uk.pub -x msg.ms-uk msg
not_ok "minisign refuses uk's key with a wrong password" \
	ms_sign "wrong password" uk.key msg.bad
ok "minisign signs with uk's unencrypted key" \
	ms_sign "" ukw.key msg.ms-ukw
ok "uk verifies it" $UK verify -p ukw.pub -x msg.ms-ukw msg
ok "minisign -R recreates uk's public key from uk's secret key" \
	sh -c 'printf "interop password\n" | "$1" -R -s uk.key -p re.pub &&
	    [ "$(sed -n 2p re.pub)" = "$(sed -n 2p uk.pub)" ]' sh "$MINISIGN"

### one key at minisign's default scrypt limits (1 GiB)
ok "uk keygen, default limits" $UK keygen -p def.pub -s def.key \
	--password-file pw
ok "minisign signs with it" ms_sign "interop password" def.key msg.def
ok "uk verifies that" $UK verify -p def.pub -x msg.def msg
ok "uk signs with it too" $UK sign -s def.key --password-file pw \
	-x msg.def2 msg
ok "minisign verifies that" $MINISIGN -V -p def.pub -x msg.def2 -m msg

### minisign keys and signatures, checked by uk
ok "minisign -G -W" $MINISIGN -G -W -p ms.pub -s ms.key
ok "minisign signs (prehashed)" ms_sign "" ms.key msg.ms -t "from minisign"
ok "uk verifies minisign's prehashed signature" \
	$UK verify -p ms.pub -x msg.ms msg
ok "same output as minisign -V" same_output ms.pub msg.ms
ok "uk verify -H accepts it" $UK verify -H -p ms.pub -x msg.ms msg
ok "uk verify -P with minisign's key string" \
	$UK verify -P "$(sed -n 2p ms.pub)" -x msg.ms msg
ok "minisign signs (legacy)" ms_sign "" ms.key msg.ms-l -l
ok "uk verifies minisign's legacy signature" \
	$UK verify -p ms.pub -x msg.ms-l msg
ok "same output as minisign -V (legacy)" same_output ms.pub msg.ms-l
fails_with "uk verify -H refuses it" sig_legacy_refused \
	$UK verify -H -p ms.pub -x msg.ms-l msg
$UK verify --json -p ms.pub -x msg.ms-l msg >json.out 2>&1
ok "--json names the legacy algorithm" grep -q '"algorithm": "legacy"' \
	json.out
ok "uk signs with minisign's -W key" $UK sign -s ms.key -x msg.uk-ms msg
ok "minisign verifies it" $MINISIGN -V -p ms.pub -x msg.uk-ms -m msg
# Made by minisign -G with a password (tests/data/minisign/README).
ok "uk signs with minisign's encrypted key (UK_PASSWORD)" \
	env UK_PASSWORD="correct horse" $UK sign -s "$DATA/ms-enc.key" \
	-x msg.uk-mse msg
ok "minisign verifies it" $MINISIGN -V -p "$DATA/ms-enc.pub" \
	-x msg.uk-mse -m msg
ok "uk signs with a key whose password minisign -C removed" \
	$UK sign -s "$DATA/ms-nopw.key" -x msg.uk-nopw msg
ok "minisign verifies it" $MINISIGN -V -p "$DATA/ms-enc.pub" \
	-x msg.uk-nopw -m msg
ok "uk verifies minisign's stored known-answer signature" \
	$UK verify -p "$DATA/ms-plain.pub" -x "$DATA/msg.txt.minisig" \
	"$DATA/msg.txt"

done_testing
