#!/bin/sh
# signing-errors.sh - bad keys, signatures and comments: each refused with
# its own code, and nothing left half-written.
. "$top_srcdir/tests/lib.sh"

LOW="--kdf-limits 32768,16777216"
cd "$TMP" || exit 1
unset UK_PASSWORD
seq 1 1000 >msg
printf 'right password\n' >pw
printf 'wrong password\n' >badpw

# craft SRC DST OFFSET BYTES: a copy of the secret key SRC with the binary
# key overwritten at OFFSET (printf escapes in BYTES).
craft() {
	sed -n 2p "$1" | base64 -d >raw &&
	    printf "$4" | dd of=raw bs=1 seek="$3" conv=notrunc 2>/dev/null &&
	    { echo "untrusted comment: crafted"; base64 -w0 raw; echo; } >"$2"
}

# sigline N TEXT SRC DST: SRC with line N replaced by TEXT.
sigline() {
	awk -v n="$1" -v t="$2" 'NR == n { print t; next } { print }' \
	    "$3" >"$4"
}

$UK keygen -W -p k.pub -s k.key >/dev/null 2>&1 || exit 1
$UK keygen -W -p other.pub -s other.key >/dev/null 2>&1 || exit 1
$UK keygen -p enc.pub -s enc.key --password-file pw $LOW >/dev/null 2>&1 ||
	exit 1
$UK sign -s k.key msg >/dev/null 2>&1 || exit 1
$UK sign -l -s k.key -x msg.legacy msg >/dev/null 2>&1 || exit 1
ok "the good signature verifies" $UK verify -p k.pub msg

### signatures
fails_with "wrong public key" sig_key_mismatch \
	$UK verify -p other.pub msg
grep -q "$(sed -n 's/.*key //p' k.pub)" .out &&
	grep -q "$(sed -n 's/.*key //p' other.pub)" .out
ok "the mismatch names both key ids" test $? -eq 0
cp msg tampered && echo extra >>tampered && cp msg.minisig tampered.minisig
fails_with "tampered message" sig_invalid $UK verify -p k.pub tampered
sed '3s/file:/fiLe:/' msg.minisig >tc.minisig
fails_with "tampered trusted comment" sig_comment_invalid \
	$UK verify -p k.pub -x tc.minisig msg
head -n 2 msg.minisig >trunc.minisig
fails_with "truncated signature file" sig_malformed \
	$UK verify -p k.pub -x trunc.minisig msg
sigline 2 "$(sed -n 2p msg.minisig | cut -c1-50)" msg.minisig short.minisig
fails_with "truncated signature line" sig_malformed \
	$UK verify -p k.pub -x short.minisig msg
sigline 2 "!$(sed -n 2p msg.minisig | cut -c2-)" msg.minisig b64.minisig
fails_with "bad base64" sig_malformed $UK verify -p k.pub -x b64.minisig msg
# "RV" instead of "RU": the algorithm bytes become "EX"-like.
sigline 2 "RV$(sed -n 2p msg.minisig | cut -c3-)" msg.minisig alg.minisig
fails_with "unknown signature algorithm" sig_unsupported_algorithm \
	$UK verify -p k.pub -x alg.minisig msg
{ cat msg.minisig; echo "hidden text"; } >trail.minisig
fails_with "text after the signature" sig_malformed \
	$UK verify -p k.pub -x trail.minisig msg
sigline 3 "trusted comment: $(printf 'a\rb')" msg.minisig cr.minisig
fails_with "carriage return inside the trusted comment" comment_invalid \
	$UK verify -p k.pub -x cr.minisig msg
sigline 3 "trusted comment: $(head -c 8174 /dev/zero | tr '\0' c)" \
	msg.minisig long.minisig
fails_with "trusted comment too long" comment_too_long \
	$UK verify -p k.pub -x long.minisig msg
fails_with "legacy signature refused by -H" sig_legacy_refused \
	$UK verify -H -p k.pub -x msg.legacy msg
fails_with "missing signature file" io_error \
	$UK verify -p k.pub -x nonexistent.minisig msg
fails_with "missing message" io_error \
	$UK verify -p k.pub -x msg.minisig nonexistent
fails_with "missing public key file" io_error \
	$UK verify -p nonexistent.pub msg

### public keys
sigline 2 "$(sed -n 2p k.pub | cut -c1-40)" k.pub bad.pub
fails_with "corrupted public key file" key_malformed \
	$UK verify -p bad.pub msg
fails_with "bad -P key string" key_malformed $UK verify -P 'RWQ!!' msg
fails_with "public key of another algorithm" key_unsupported_algorithm \
	$UK verify -P "RX$(sed -n 2p k.pub | cut -c3-)" msg
$UK verify -p k.pub -P "$(sed -n 2p k.pub)" msg >/dev/null 2>&1
is "both -p and -P: usage error" $? 2

### secret keys and passwords
fails_with "wrong password" key_checksum_mismatch \
	$UK sign -s enc.key --password-file badpw -x out.minisig msg
fails_with "wrong password (UK_PASSWORD)" key_checksum_mismatch \
	env UK_PASSWORD="nope" $UK sign -s enc.key -x out.minisig msg
fails_with "no password source and no terminal" password_unavailable \
	setsid -w $UK sign -s enc.key -x out.minisig msg </dev/null
fails_with "missing password file" io_error \
	$UK sign -s enc.key --password-file nonexistent -x out.minisig msg
# Offsets in the binary key: kdf 2, opslimit 38, memlimit 46, checksum 126.
craft enc.key absurd-mem.key 51 '\001'
fails_with "key asking scrypt for 1 TiB" key_kdf_limits \
	$UK sign -s absurd-mem.key --password-file pw -x out.minisig msg
craft enc.key absurd-ops.key 45 '\177'
fails_with "key asking for absurd scrypt work" key_kdf_limits \
	$UK sign -s absurd-ops.key --password-file pw -x out.minisig msg
craft k.key kdf.key 2 'Xy'
fails_with "unknown key derivation" key_unsupported_kdf \
	$UK sign -s kdf.key -x out.minisig msg
craft k.key chk.key 4 'S2'
fails_with "unknown checksum algorithm" key_unsupported_checksum \
	$UK sign -s chk.key -x out.minisig msg
craft k.key alg.key 0 'EX'
fails_with "unknown key algorithm" key_unsupported_algorithm \
	$UK sign -s alg.key -x out.minisig msg
craft k.key sum.key 126 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
fails_with "corrupted secret key (checksum)" key_checksum_mismatch \
	$UK sign -s sum.key -x out.minisig msg
sigline 2 "$(sed -n 2p k.key | cut -c1-100)" k.key cut.key
fails_with "truncated secret key" key_malformed \
	$UK sign -s cut.key -x out.minisig msg
fails_with "missing secret key" io_error \
	$UK sign -s nonexistent.key -x out.minisig msg
fails_with "public key given as secret key" key_malformed \
	$UK sign -s k.pub -x out.minisig msg
ok "no signature was written by the failures" test ! -e out.minisig

### comments
fails_with "trusted comment with a newline" comment_invalid \
	$UK sign -s k.key -t "$(printf 'one\ntwo')" -x out.minisig msg
fails_with "untrusted comment with a newline" comment_invalid \
	$UK sign -s k.key -c "$(printf 'one\rtwo')" -x out.minisig msg
fails_with "trusted comment too long" comment_too_long \
	$UK sign -s k.key -t "$(head -c 8174 /dev/zero | tr '\0' c)" \
	-x out.minisig msg
ok "longest trusted comment signs" \
	$UK sign -s k.key -t "$(head -c 8173 /dev/zero | tr '\0' c)" \
	-x max.minisig msg
ok "and verifies" $UK verify -p k.pub -x max.minisig msg
fails_with "key comment with a newline" comment_invalid \
	$UK keygen -W -p c.pub -s c.key -c "$(printf 'a\nb')"

### nothing overwritten, nothing half-written
cp k.key k.key.before
cp k.pub k.pub.before
fails_with "keygen refuses to overwrite" key_exists \
	$UK keygen -W -p k.pub -s k.key
ok "existing secret key untouched" cmp k.key k.key.before
ok "existing public key untouched" cmp k.pub k.pub.before
fails_with "keygen refuses an empty password" password_empty \
	$UK keygen -p e.pub -s e.key --password-file /dev/null
fails_with "keygen into a missing directory" io_error \
	$UK keygen -W -p new.pub -s nodir/new.key
ok "no public key left without its secret key" test ! -e new.pub
fails_with "sign into a missing directory" io_error \
	$UK sign -s k.key -x nodir/msg.minisig msg
ok "secret key file is private" \
	sh -c '[ "$(stat -c %a k.key)" = 600 ]'
ok "no temporary files left" \
	sh -c '[ -z "$(find . -name "*.tmp.*")" ]'
HOME=$TMP/home
export HOME
mkdir "$HOME"
ok "keygen's default secret key path" $UK keygen -W -p home.pub
ok "~/.uk made private" sh -c '[ "$(stat -c %a "$HOME/.uk")" = 700 ]'
ok "sign's default secret key path" $UK sign -x home.minisig msg
ok "verifies" $UK verify -p home.pub -x home.minisig msg

done_testing
