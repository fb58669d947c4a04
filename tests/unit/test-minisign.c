/*
 * test-minisign.c - keys and signatures: known answers from the real
 * minisign (tests/data/minisign), round trips, and every refusal code.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "minisign.h"
#include "tap.h"

/* Scrypt at libsodium's minimums: milliseconds instead of seconds. */
static const struct sig_kdf_limits fast = { SIG_KDF_OPSLIMIT_MIN,
	SIG_KDF_MEMLIMIT_MIN };

static char datadir[4096];

static char *
slurp(const char *name, size_t *len)
{
	char path[8192];
	struct err e;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", datadir, name);
	if (fileio_read(path, 1 << 20, &buf, len, &e) == -1) {
		diag("cannot read %s: %s", path, e.msg);
		exit(1);
	}
	return buf;
}

static void
datapath(const char *name, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", datadir, name);
}

/* Line (n) (0-based) of (text), into (out). */
static void
line_of(const char *text, int n, char *out, size_t outsz)
{
	const char *p = text, *nl;

	while (n-- > 0 && (nl = strchr(p, '\n')) != NULL)
		p = nl + 1;
	nl = strchr(p, '\n');
	snprintf(out, outsz, "%.*s", (int)(nl ? nl - p : (long)strlen(p)), p);
}

static int
code_is(int rc, const struct err *e, const char *code, const char *name)
{
	int good = rc == -1 && strcmp(e->code, code) == 0;

	if (!ok(good, "%s [%s]", name, code))
		diag("rc %d, code '%s': %s", rc, e->code, e->msg);
	return good;
}

/* Secret key text for the 158-byte layout (raw), with (comment). */
static char *
key_text(const uint8_t raw[158], const char *comment)
{
	char b64[256], *out;

	sodium_bin2base64(b64, sizeof(b64), raw, 158,
	    sodium_base64_VARIANT_ORIGINAL);
	if (asprintf(&out, "untrusted comment: %s\n%s\n", comment, b64) < 0)
		exit(1);
	return out;
}

/* The 158 raw bytes of the secret key text (text). */
static void
key_raw(const char *text, uint8_t raw[158])
{
	char b64[512];
	size_t n;

	line_of(text, 1, b64, sizeof(b64));
	if (sodium_base642bin(raw, 158, b64, strlen(b64), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != 158)
		exit(1);
}

static void
test_keyids(void)
{
	uint8_t id[SIG_KEYID_LEN] = { 0x65, 0x17, 0x90, 0x38, 0x39, 0xe1, 0x13,
		0x25 }, back[SIG_KEYID_LEN];
	char hex[SIG_KEYID_HEX_LEN + 1];

	sig_keyid_format(id, hex);
	is_str(hex, "2513E13938901765", "key id shown little-endian, upper");
	ok(sig_keyid_parse("2513e13938901765", back) == 0 &&
	    memcmp(back, id, sizeof(id)) == 0, "key id parses back");
	ok(sig_keyid_parse("2513E1393890176", back) == -1, "short id refused");
	ok(sig_keyid_parse("2513E139389017650", back) == -1, "long id refused");
	ok(sig_keyid_parse("2513E1393890176G", back) == -1, "non-hex refused");
}

static void
test_pubkeys(void)
{
	struct sig_pubkey pk, pk2;
	char line[256], b64[SIG_PUBKEY_B64_LEN + 1], hex[SIG_KEYID_HEX_LEN + 1];
	char *text, *out, bad[2048];
	struct err e;
	size_t len, olen;

	text = slurp("ms-plain.pub", &len);
	ok(sig_pubkey_parse(text, len, &pk, &e) == 0, "minisign public key");
	sig_keyid_format(pk.keyid, hex);
	is_str(hex, "2513E13938901765", "its key id is the one in its comment");
	line_of(text, 1, line, sizeof(line));
	sig_pubkey_base64(&pk, b64);
	is_str(b64, line, "base64 form equals minisign's line");
	ok(sig_pubkey_from_base64(line, &pk2, &e) == 0 &&
	    memcmp(&pk, &pk2, sizeof(pk)) == 0, "bare base64 (-P) form");
	ok(sig_pubkey_format(&pk, NULL, &out, &olen, &e) == 0 &&
	    olen == strlen(out), "format");
	is_str(out, "untrusted comment: uk public key 2513E13938901765\n"
	    "RWRlF5A4OeETJcMvXl6zIMc2ZIy+Oha1Nnqgg8bNXeD9/aGXW478ZLGJ\n",
	    "formatted file");
	ok(sig_pubkey_parse(out, olen, &pk2, &e) == 0 &&
	    memcmp(&pk, &pk2, sizeof(pk)) == 0, "format/parse round trip");
	free(out);

	snprintf(bad, sizeof(bad), "untrusted comment: x\r\n%s\r\n", line);
	ok(sig_pubkey_parse(bad, strlen(bad), &pk2, &e) == 0,
	    "CRLF line ends accepted");
	snprintf(bad, sizeof(bad), "untrusted comment: x\n%s", line);
	ok(sig_pubkey_parse(bad, strlen(bad), &pk2, &e) == 0,
	    "no final newline accepted");
	code_is(sig_pubkey_parse("", 0, &pk2, &e), &e, "key_malformed",
	    "empty public key");
	snprintf(bad, sizeof(bad), "%s\n", line);
	code_is(sig_pubkey_parse(bad, strlen(bad), &pk2, &e), &e,
	    "key_malformed", "no comment line");
	code_is(sig_pubkey_parse("untrusted comment: x\n", 21, &pk2, &e), &e,
	    "key_malformed", "no key line");
	snprintf(bad, sizeof(bad), "untrusted comment: x\n%.55s\n", line);
	code_is(sig_pubkey_parse(bad, strlen(bad), &pk2, &e), &e,
	    "key_malformed", "truncated key");
	snprintf(bad, sizeof(bad), "untrusted comment: x\n%s\ngarbage\n",
	    line);
	code_is(sig_pubkey_parse(bad, strlen(bad), &pk2, &e), &e,
	    "key_malformed", "text after the key");
	code_is(sig_pubkey_from_base64("RWRlF5A4OeETJcMvXl6zIMc2ZIy+Oha1Nnqgg8b"
	    "NXeD9/aGXW478ZLG*", &pk2, &e), &e, "key_malformed",
	    "bad base64 character");
	code_is(sig_pubkey_from_base64(" RWRlF5A4OeETJcMvXl6zIMc2ZIy+Oha1Nnqgg"
	    "8bNXeD9/aGXW478ZLGJ", &pk2, &e), &e, "key_malformed",
	    "space in base64");
	/* "Ex" instead of "Ed": base64 of 0x45 0x78 starts "RX". */
	code_is(sig_pubkey_from_base64("RXhlF5A4OeETJcMvXl6zIMc2ZIy+Oha1Nnqgg8b"
	    "NXeD9/aGXW478ZLGJ", &pk2, &e), &e, "key_unsupported_algorithm",
	    "unknown key algorithm");
	memset(bad, 'a', sizeof(bad));
	memcpy(bad, "untrusted comment: ", 19);
	snprintf(bad + 19 + SIG_COMMENT_MAX + 1, 300, "\n%s\n", line);
	code_is(sig_pubkey_parse(bad, strlen(bad), &pk2, &e), &e,
	    "comment_too_long", "public key comment too long");
	snprintf(bad, sizeof(bad), "untrusted comment: a_b\n%s\n", line);
	bad[20] = '\0';
	code_is(sig_pubkey_parse(bad, 23 + strlen(line) + 1, &pk2, &e), &e,
	    "comment_invalid", "NUL in a comment");
	code_is(sig_pubkey_format(&pk, "two\nlines", &out, &olen, &e), &e,
	    "comment_invalid", "format refuses a newline in the comment");
	free(text);
}

static int
pk_matches(const struct sig_seckey *sk, const char *pubfile)
{
	struct sig_pubkey a, b;
	char *text;
	size_t len;
	int good;

	text = slurp(pubfile, &len);
	sig_seckey_pubkey(sk, &a);
	good = sig_pubkey_parse(text, len, &b, NULL) == 0 &&
	    memcmp(&a, &b, sizeof(a)) == 0;
	free(text);
	return good;
}

static void
test_minisign_seckeys(void)
{
	struct sig_seckey_info info;
	struct sig_seckey *sk;
	char *text;
	size_t len;
	struct err e;

	text = slurp("ms-plain.key", &len);
	ok(sig_seckey_parse(text, len, &info, &e) == 0 && !info.encrypted,
	    "minisign -W key: parsed, unencrypted");
	ok(sig_seckey_decode(text, len, NULL, &sk, &e) == 0 &&
	    pk_matches(sk, "ms-plain.pub"),
	    "minisign -W key (zero checksum) decodes to its public key");
	sig_seckey_free(sk);
	free(text);

	text = slurp("ms-nopw.key", &len);
	ok(sig_seckey_decode(text, len, NULL, &sk, &e) == 0 &&
	    pk_matches(sk, "ms-enc.pub"),
	    "minisign -C -W key (real checksum, old limits) decodes");
	sig_seckey_free(sk);
	free(text);

	text = slurp("ms-enc.key", &len);
	ok(sig_seckey_parse(text, len, &info, &e) == 0 && info.encrypted &&
	    info.limits.opslimit == SIG_KDF_OPSLIMIT_DEFAULT &&
	    info.limits.memlimit == SIG_KDF_MEMLIMIT_DEFAULT,
	    "minisign encrypted key: default limits");
	code_is(sig_seckey_decode(text, len, NULL, &sk, &e), &e,
	    "password_required", "encrypted key without a password");
	/* The one run of scrypt at 1 GiB: minisign's real parameters. */
	ok(sig_seckey_decode(text, len, "correct horse", &sk, &e) == 0 &&
	    pk_matches(sk, "ms-enc.pub"),
	    "minisign encrypted key decrypts with its password");
	sig_seckey_free(sk);
	free(text);
}

/* Decoding checks that the seed yields the public half, so equal public
 * halves mean equal keys. */
static int
same_key(const struct sig_seckey *a, const struct sig_seckey *b)
{
	struct sig_pubkey pa, pb;

	sig_seckey_pubkey(a, &pa);
	sig_seckey_pubkey(b, &pb);
	return memcmp(&pa, &pb, sizeof(pa)) == 0;
}

static void
test_seckey_roundtrip(void)
{
	struct sig_kdf_limits low = { SIG_KDF_OPSLIMIT_MIN - 1,
		SIG_KDF_MEMLIMIT_MIN }, high = { SIG_KDF_OPSLIMIT_MIN,
		SIG_KDF_MEMLIMIT_MAX + 1 };
	struct sig_seckey_info info;
	struct sig_seckey *sk, *sk2;
	struct sig_pubkey pk, pk2;
	char *text, longpw[SIG_PASSWORD_MAX + 1];
	size_t len;
	struct err e;

	ok(sig_seckey_generate(&sk, &pk, &e) == 0, "generate");
	sig_seckey_pubkey(sk, &pk2);
	ok(memcmp(&pk, &pk2, sizeof(pk)) == 0, "public half of the secret");

	ok(sig_seckey_encode(sk, NULL, NULL, NULL, &text, &len, &e) == 0 &&
	    strncmp(text, "untrusted comment: minisign unencrypted secret "
	    "key\n", 51) == 0, "encode unencrypted");
	ok(sig_seckey_parse(text, len, &info, &e) == 0 && !info.encrypted &&
	    info.limits.memlimit == 0, "unencrypted info");
	ok(sig_seckey_decode(text, len, "ignored", &sk2, &e) == 0 &&
	    same_key(sk, sk2), "decode unencrypted");
	sig_seckey_free(sk2);
	sig_secret_free(text);

	ok(sig_seckey_encode(sk, "pw", &fast, "my key", &text, &len, &e) == 0 &&
	    strncmp(text, "untrusted comment: my key\n", 26) == 0,
	    "encode encrypted, low limits, own comment");
	ok(sig_seckey_parse(text, len, &info, &e) == 0 && info.encrypted &&
	    info.limits.opslimit == fast.opslimit &&
	    info.limits.memlimit == fast.memlimit, "encrypted info");
	ok(sig_seckey_decode(text, len, "pw", &sk2, &e) == 0 &&
	    same_key(sk, sk2), "decrypt");
	sig_seckey_free(sk2);
	code_is(sig_seckey_decode(text, len, "wrong", &sk2, &e), &e,
	    "key_checksum_mismatch", "wrong password");
	ok(sk2 == NULL, "no key on failure");
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	code_is(sig_seckey_decode(text, len, longpw, &sk2, &e), &e,
	    "password_too_long", "password too long to decrypt");
	sig_secret_free(text);

	code_is(sig_seckey_encode(sk, longpw, &fast, NULL, &text, &len, &e), &e,
	    "password_too_long", "password too long to encrypt");
	code_is(sig_seckey_encode(sk, "pw", &low, NULL, &text, &len, &e), &e,
	    "key_kdf_limits", "limits under libsodium's minimum");
	code_is(sig_seckey_encode(sk, "pw", &high, NULL, &text, &len, &e), &e,
	    "key_kdf_limits", "limits over the cap");
	code_is(sig_seckey_encode(sk, NULL, NULL, "a\nb", &text, &len, &e), &e,
	    "comment_invalid", "newline in a secret key comment");
	sig_seckey_free(sk);
}

/* Edits the raw layout of a fresh key and checks the code it draws. */
static void
test_seckey_tamper(void)
{
	struct sig_seckey *sk, *sk2;
	struct sig_pubkey pk;
	uint8_t raw[158], mod[158];
	char *text, *bad;
	size_t len;
	struct err e;

	sig_seckey_generate(&sk, &pk, &e);
	sig_seckey_encode(sk, NULL, NULL, NULL, &text, &len, &e);
	key_raw(text, raw);
	sig_secret_free(text);

#define TRY(edit, code, name) do {					\
		memcpy(mod, raw, sizeof(raw));				\
		edit;							\
		bad = key_text(mod, "x");				\
		code_is(sig_seckey_decode(bad, strlen(bad), "pw", &sk2,	\
		    &e), &e, code, name);				\
		free(bad);						\
	} while (0)

	TRY(mod[1] = 'x', "key_unsupported_algorithm", "key algorithm");
	TRY(memcpy(mod + 2, "Ar", 2), "key_unsupported_kdf", "unknown kdf");
	TRY(memcpy(mod + 4, "S2", 2), "key_unsupported_checksum",
	    "unknown checksum");
	/* Encrypted with 1 TiB of memory asked: refused before scrypt. */
	TRY((memcpy(mod + 2, "Sc", 2), mod[46 + 5] = 1),
	    "key_kdf_limits", "absurd memlimit");
	TRY((memcpy(mod + 2, "Sc", 2), memset(mod + 38, 0xff, 8)),
	    "key_kdf_limits", "absurd opslimit");
	TRY(mod[126] ^= 1, "key_checksum_mismatch",
	    "unencrypted key with a wrong checksum");
	TRY((mod[70] ^= 1, memset(mod + 126, 0, 32)), "key_corrupt",
	    "zero checksum, seed not matching the public half");

	memcpy(mod, raw, sizeof(raw));
	memset(mod + 126, 0, 32);
	bad = key_text(mod, "x");
	ok(sig_seckey_decode(bad, strlen(bad), NULL, &sk2, &e) == 0,
	    "unencrypted key with a zero checksum (minisign -W) decodes");
	sig_seckey_free(sk2);
	free(bad);

	bad = key_text(raw, "x");
	bad[strlen(bad) - 3] = '\0';
	code_is(sig_seckey_decode(bad, strlen(bad), NULL, &sk2, &e), &e,
	    "key_malformed", "truncated secret key");
	free(bad);
	code_is(sig_seckey_parse("untrusted comment: x\n", 21, NULL, &e), &e,
	    "key_malformed", "secret key without its key line");
	code_is(sig_seckey_parse("RWQAAEIy\n", 9, NULL, &e), &e,
	    "key_malformed", "secret key without a comment line");
	sig_seckey_free(sk);
#undef TRY
}

static void
test_load_files(void)
{
	struct sig_seckey *sk;
	struct sig_pubkey pk;
	char path[8192];
	struct err e;

	datapath("ms-plain.key", path, sizeof(path));
	ok(sig_seckey_load(path, NULL, NULL, &sk, &e) == 0,
	    "load an unencrypted key file without a password source");
	sig_seckey_free(sk);
	datapath("ms-enc.key", path, sizeof(path));
	code_is(sig_seckey_load(path, NULL, NULL, &sk, &e), &e,
	    "password_required", "encrypted key file, no password source");
	datapath("ms-plain.pub", path, sizeof(path));
	ok(sig_pubkey_load(path, &pk, &e) == 0, "load a public key file");
	code_is(sig_pubkey_load("/nonexistent/key.pub", &pk, &e), &e,
	    "io_error", "missing public key file");
	code_is(sig_seckey_load("/nonexistent/key", NULL, NULL, &sk, &e), &e,
	    "io_error", "missing secret key file");
}

static void
test_minisign_signatures(void)
{
	static const struct {
		const char *sig, *pub, *comment;
		enum sig_alg alg;
	} kat[] = {
		{ "msg.txt.minisig", "ms-plain.pub", "known answer: prehashed",
		    SIG_ALG_PREHASHED },
		{ "msg.txt.legacy.minisig", "ms-plain.pub",
		    "known answer: legacy", SIG_ALG_LEGACY },
		{ "msg.txt.enc.minisig", "ms-enc.pub",
		    "known answer: encrypted key", SIG_ALG_PREHASHED },
	};
	struct sig_signature s;
	struct sig_pubkey pk, other;
	char path[8192], *msg, *text;
	size_t i, mlen, len;
	struct err e;

	msg = slurp("msg.txt", &mlen);
	datapath("msg.txt", path, sizeof(path));
	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		text = slurp(kat[i].sig, &len);
		ok(sig_signature_parse(text, len, &s, &e) == 0 &&
		    s.alg == kat[i].alg, "%s: parsed as %s", kat[i].sig,
		    sig_alg_name(kat[i].alg));
		is_str(s.trusted_comment, kat[i].comment, "trusted comment");
		is_str(s.untrusted_comment,
		    "signature from minisign secret key", "untrusted comment");
		free(text);
		text = slurp(kat[i].pub, &len);
		sig_pubkey_parse(text, len, &pk, &e);
		free(text);
		ok(sig_verify(&pk, &s, msg, mlen, 0, &e) == 0,
		    "%s verifies (buffer)", kat[i].sig);
		ok(sig_verify_file(&pk, &s, path, 0, &e) == 0,
		    "%s verifies (file)", kat[i].sig);
		code_is(sig_verify(&pk, &s, msg, mlen - 1, 0, &e), &e,
		    "sig_invalid", "changed message");
	}
	text = slurp("ms-enc.pub", &len);
	sig_pubkey_parse(text, len, &other, &e);
	free(text);
	text = slurp("msg.txt.minisig", &len);
	sig_signature_parse(text, len, &s, &e);
	free(text);
	code_is(sig_verify(&other, &s, msg, mlen, 0, &e), &e,
	    "sig_key_mismatch", "another key");
	ok(strstr(e.msg, "2513E13938901765") != NULL &&
	    strstr(e.msg, "F9F627E4F50366E8") != NULL,
	    "the mismatch names both key ids");
	free(msg);
}

static void
test_sign_roundtrip(void)
{
	struct sig_signature s, s2;
	struct sig_seckey *sk, *sk2;
	struct sig_pubkey pk, pk2;
	char tc[SIG_TRUSTED_COMMENT_MAX + 2], *text, path[] =
	    "/tmp/test-minisign.XXXXXX";
	uint8_t *big;
	size_t len, i, bigsz = 300000;
	struct err e;
	int fd;

	sig_seckey_generate(&sk, &pk, &e);
	sig_seckey_generate(&sk2, &pk2, &e);
	if ((big = malloc(bigsz)) == NULL)
		exit(1);
	for (i = 0; i < bigsz; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	if ((fd = mkstemp(path)) == -1 || write(fd, big, bigsz) !=
	    (ssize_t)bigsz)
		exit(1);

	ok(sig_sign(sk, SIG_ALG_PREHASHED, big, bigsz, "t", NULL, &s, &e) ==
	    0 && s.alg == SIG_ALG_PREHASHED, "sign prehashed (buffer)");
	is_str(s.untrusted_comment, "signature from uk secret key",
	    "default untrusted comment");
	lseek(fd, 0, SEEK_SET);
	ok(sig_sign_fd(sk, SIG_ALG_PREHASHED, fd, "t", NULL, &s2, &e) == 0 &&
	    memcmp(s.sig, s2.sig, 64) == 0 &&
	    memcmp(s.global_sig, s2.global_sig, 64) == 0,
	    "streamed hashing signs the same as the buffer");
	ok(sig_verify_file(&pk, &s, path, SIG_VERIFY_PREHASHED_ONLY, &e) == 0,
	    "verify prehashed (file, prehashed only)");
	ok(sig_signature_format(&s, &text, &len, &e) == 0 &&
	    sig_signature_parse(text, len, &s2, &e) == 0 &&
	    memcmp(&s, &s2, sizeof(s)) == 0, "format/parse round trip");
	/* base64 of "ED": "RU" and 4 more bits, the rest is the key id. */
	ok(strncmp(text, "untrusted comment: signature from uk secret key\nRU",
	    50) == 0 && strstr(text, "\ntrusted comment: t\n") != NULL &&
	    len == strlen(text) && text[len - 1] == '\n',
	    "minisign layout, \"ED\" algorithm");
	free(text);

	ok(sig_sign_file(sk, SIG_ALG_LEGACY, path, "legacy one", "u", &s, &e) ==
	    0 && s.alg == SIG_ALG_LEGACY, "sign legacy (file)");
	ok(sig_verify(&pk, &s, big, bigsz, 0, &e) == 0, "verify legacy");
	code_is(sig_verify(&pk, &s, big, bigsz, SIG_VERIFY_PREHASHED_ONLY, &e),
	    &e, "sig_legacy_refused", "legacy refused when prehashed only");
	s2 = s;
	s2.alg = SIG_ALG_PREHASHED;
	code_is(sig_verify(&pk, &s2, big, bigsz, 0, &e), &e, "sig_invalid",
	    "algorithm flipped");
	s2 = s;
	s2.trusted_comment[0] ^= 1;
	code_is(sig_verify(&pk, &s2, big, bigsz, 0, &e), &e,
	    "sig_comment_invalid", "trusted comment changed");
	s2 = s;
	s2.global_sig[5] ^= 1;
	code_is(sig_verify(&pk, &s2, big, bigsz, 0, &e), &e,
	    "sig_comment_invalid", "comment signature changed");
	s2 = s;
	s2.sig[0] ^= 1;
	code_is(sig_verify(&pk, &s2, big, bigsz, 0, &e), &e, "sig_invalid",
	    "signature changed");
	big[bigsz / 2] ^= 1;
	code_is(sig_verify(&pk, &s, big, bigsz, 0, &e), &e, "sig_invalid",
	    "message changed");
	/* Same key id, other key: only the signature can tell. */
	memcpy(pk2.keyid, pk.keyid, SIG_KEYID_LEN);
	big[bigsz / 2] ^= 1;
	code_is(sig_verify(&pk2, &s, big, bigsz, 0, &e), &e, "sig_invalid",
	    "other key with the same id");
	code_is(sig_verify_file(&pk, &s, "/nonexistent", 0, &e), &e,
	    "io_error", "missing message file");

	code_is(sig_sign(sk, SIG_ALG_PREHASHED, "m", 1, "a\nb", NULL, &s, &e),
	    &e, "comment_invalid", "newline in the trusted comment");
	code_is(sig_sign(sk, SIG_ALG_PREHASHED, "m", 1, "a\rb", NULL, &s, &e),
	    &e, "comment_invalid", "carriage return in the trusted comment");
	code_is(sig_sign(sk, SIG_ALG_PREHASHED, "m", 1, "t", "a\nb", &s, &e),
	    &e, "comment_invalid", "newline in the untrusted comment");
	memset(tc, 'c', sizeof(tc) - 1);
	tc[sizeof(tc) - 1] = '\0';
	code_is(sig_sign(sk, SIG_ALG_PREHASHED, "m", 1, tc, NULL, &s, &e), &e,
	    "comment_too_long", "trusted comment one byte too long");
	tc[SIG_TRUSTED_COMMENT_MAX] = '\0';
	ok(sig_sign(sk, SIG_ALG_PREHASHED, "m", 1, tc, NULL, &s, &e) == 0 &&
	    sig_signature_format(&s, &text, &len, &e) == 0 &&
	    sig_signature_parse(text, len, &s2, &e) == 0 &&
	    sig_verify(&pk, &s2, "m", 1, 0, &e) == 0,
	    "longest trusted comment round-trips");
	free(text);
	ok(sig_sign(sk, SIG_ALG_LEGACY, "", 0, "", NULL, &s, &e) == 0 &&
	    sig_verify(&pk, &s, "", 0, 0, &e) == 0,
	    "empty message, empty comment");

	close(fd);
	unlink(path);
	free(big);
	sig_seckey_free(sk);
	sig_seckey_free(sk2);
}

/* Damaged signature files, as text. */
static void
test_sig_parse_errors(void)
{
	struct sig_signature s;
	char *good, bad[20000], l[4][256];
	size_t len;
	int i;
	struct err e;

	good = slurp("msg.txt.minisig", &len);
	for (i = 0; i < 4; i++)
		line_of(good, i, l[i], sizeof(l[i]));

#define BAD(code, name, ...) do {					\
		snprintf(bad, sizeof(bad), __VA_ARGS__);		\
		code_is(sig_signature_parse(bad, strlen(bad), &s, &e),	\
		    &e, code, name);					\
	} while (0)

	BAD("sig_malformed", "empty", "%s", "");
	BAD("sig_malformed", "only the comment", "%s\n", l[0]);
	BAD("sig_malformed", "no trusted comment", "%s\n%s\n", l[0], l[1]);
	BAD("sig_malformed", "no comment signature", "%s\n%s\n%s\n", l[0],
	    l[1], l[2]);
	BAD("sig_malformed", "untrusted prefix missing", "comment: x\n%s\n%s\n"
	    "%s\n", l[1], l[2], l[3]);
	BAD("sig_malformed", "trusted prefix missing", "%s\n%s\ncomment: x\n"
	    "%s\n", l[0], l[1], l[3]);
	BAD("sig_malformed", "signature truncated", "%s\n%.96s\n%s\n%s\n",
	    l[0], l[1], l[2], l[3]);
	BAD("sig_malformed", "bad base64", "%s\n%.98s!=\n%s\n%s\n", l[0], l[1],
	    l[2], l[3]);
	BAD("sig_malformed", "comment signature truncated",
	    "%s\n%s\n%s\n%.84s\n", l[0], l[1], l[2], l[3]);
	BAD("sig_malformed", "trailing garbage", "%s\n%s\n%s\n%s\nmore\n", l[0],
	    l[1], l[2], l[3]);
	/* "EX": base64 "RVg" instead of "RUQ" keeps the length. */
	BAD("sig_unsupported_algorithm", "unknown algorithm",
	    "%s\nRVg%s\n%s\n%s\n", l[0], l[1] + 3, l[2], l[3]);
	BAD("comment_invalid", "carriage return inside the trusted comment",
	    "%s\n%s\ntrusted comment: a\rb\n%s\n", l[0], l[1], l[3]);
	snprintf(bad, sizeof(bad), "%s\r\n%s\r\n%s\r\n%s\r\n", l[0], l[1],
	    l[2], l[3]);
	ok(sig_signature_parse(bad, strlen(bad), &s, &e) == 0 &&
	    strcmp(s.trusted_comment, "known answer: prehashed") == 0,
	    "CRLF line ends accepted");
	ok(sig_signature_parse(good, len - 1, &s, &e) == 0,
	    "no final newline accepted");
	snprintf(bad, sizeof(bad), "%s\n%s\ntrusted comment: ", l[0], l[1]);
	memset(bad + strlen(bad), 'c', SIG_TRUSTED_COMMENT_MAX + 1);
	snprintf(bad + strlen(l[0]) + strlen(l[1]) + 19 +
	    SIG_TRUSTED_COMMENT_MAX + 1, 300, "\n%s\n", l[3]);
	code_is(sig_signature_parse(bad, strlen(bad), &s, &e), &e,
	    "comment_too_long", "trusted comment too long");
	memcpy(bad, good, len);
	bad[strlen(l[0]) + strlen(l[1]) + 2 + 20] = '\0';
	code_is(sig_signature_parse(bad, len, &s, &e), &e, "comment_invalid",
	    "NUL inside the trusted comment");
	code_is(sig_signature_load("/nonexistent.minisig", &s, &e), &e,
	    "io_error", "missing signature file");
	free(good);
#undef BAD
}

int
main(void)
{
	const char *top = getenv("top_srcdir");

	snprintf(datadir, sizeof(datadir), "%s/tests/data/minisign",
	    top != NULL ? top : "..");
	if (sodium_init() < 0)
		return 1;
	test_keyids();
	test_pubkeys();
	test_minisign_seckeys();
	test_seckey_roundtrip();
	test_seckey_tamper();
	test_load_files();
	test_minisign_signatures();
	test_sign_roundtrip();
	test_sig_parse_errors();
	return tap_done();
}
