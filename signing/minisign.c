#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "minisign.h"

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define PREFIX_LEN(p) (sizeof(p) - 1)

#define DEFAULT_PK_COMMENT "uk public key "
#define DEFAULT_SK_COMMENT "minisign encrypted secret key"
#define DEFAULT_SK_COMMENT_PLAIN "minisign unencrypted secret key"
#define DEFAULT_SIG_COMMENT "signature from uk secret key"

/* Key and signature files are small; anything larger is not one. */
#define KEYFILE_MAX 4096
#define SIGFILE_MAX 16384

#define CHKSUM_LEN 32
#define HASH_LEN 64	/* prehashed signatures: BLAKE2b-512 */

/*
 * The binary secret key, as minisign lays it out:
 *   "Ed" kdf[2] "B2" salt[32] opslimit[8 LE] memlimit[8 LE]
 *   keyid[8] sk[64] checksum[32]
 * The last 104 bytes are XORed with scrypt's output when kdf is "Sc".
 */
enum {
	SK_ALG = 0,
	SK_KDF = 2,
	SK_CHK = 4,
	SK_SALT = 6,
	SK_OPS = SK_SALT + 32,
	SK_MEM = SK_OPS + 8,
	SK_KEYNUM = SK_MEM + 8,
	SK_SK = SK_KEYNUM + SIG_KEYID_LEN,
	SK_CHKSUM = SK_SK + 64,
	SK_RAW_LEN = SK_CHKSUM + CHKSUM_LEN,
	SK_KEYNUM_LEN = SK_RAW_LEN - SK_KEYNUM,
	SK_B64_LEN = (SK_RAW_LEN + 2) / 3 * 4,
};

/* Public key: "Ed" keyid[8] pk[32]; signature: alg[2] keyid[8] sig[64]. */
enum {
	PK_RAW_LEN = 2 + SIG_KEYID_LEN + SIG_PK_LEN,
	SIG_RAW_LEN = 2 + SIG_KEYID_LEN + SIG_SIG_LEN,
	SIG_B64_LEN = (SIG_RAW_LEN + 2) / 3 * 4,
	GSIG_B64_LEN = (SIG_SIG_LEN + 2) / 3 * 4,
};

_Static_assert(SK_RAW_LEN == 158, "minisign secret key layout");
_Static_assert(SK_KEYNUM_LEN == 104, "minisign keynum_sk layout");
_Static_assert(crypto_sign_SECRETKEYBYTES == 64, "Ed25519 secret key");
_Static_assert(crypto_sign_PUBLICKEYBYTES == SIG_PK_LEN, "Ed25519 key");
_Static_assert(crypto_sign_BYTES == SIG_SIG_LEN, "Ed25519 signature");
_Static_assert(crypto_pwhash_scryptsalsa208sha256_SALTBYTES == 32, "salt");
_Static_assert((PK_RAW_LEN + 2) / 3 * 4 == SIG_PUBKEY_B64_LEN, "pk base64");
_Static_assert(SIG_KDF_OPSLIMIT_MIN ==
    crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN, "scrypt minimum");
_Static_assert(SIG_KDF_MEMLIMIT_MIN ==
    crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN, "scrypt minimum");

struct sig_seckey {
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

/* Scratch space for secret key work, allocated locked in one piece. */
struct sk_work {
	uint8_t raw[SK_RAW_LEN];
	uint8_t stream[SK_KEYNUM_LEN];
	uint8_t chk[CHKSUM_LEN];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char b64[SK_B64_LEN + 1];
};

struct line {
	const char *s;
	size_t n;
};

static int
crypto_ready(struct err *e)
{
	if (sodium_init() < 0)
		return err_set(e, "crypto_unavailable",
		    "libsodium failed to initialise");
	return 0;
}

static uint64_t
le64_load(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
le64_store(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

/* Takes the next line of (*p, *left) without its "\n" or "\r\n".  Returns
 * -1 when nothing is left. */
static int
next_line(const char **p, size_t *left, struct line *l)
{
	const char *nl;
	size_t adv;

	if (*left == 0)
		return -1;
	nl = memchr(*p, '\n', *left);
	l->s = *p;
	l->n = nl != NULL ? (size_t)(nl - *p) : *left;
	adv = l->n + (nl != NULL);
	*p += adv;
	*left -= adv;
	if (l->n > 0 && l->s[l->n - 1] == '\r')
		l->n--;
	return 0;
}

/* Only empty lines may follow the last field: what comes after a minisign
 * file is otherwise ignored by minisign, and ignored bytes are a place to
 * hide things. */
static int
rest_is_blank(const char *p, size_t left)
{
	size_t i;

	for (i = 0; i < left; i++)
		if (p[i] != '\n' && p[i] != '\r')
			return 0;
	return 1;
}

static int
line_has_prefix(const struct line *l, const char *prefix, size_t plen)
{
	return l->n >= plen && memcmp(l->s, prefix, plen) == 0;
}

/* Bytes a comment may not hold: they would end the line or the C string. */
static int
comment_bad_char(const char *s, size_t n)
{
	return memchr(s, '\n', n) != NULL || memchr(s, '\r', n) != NULL ||
	    memchr(s, '\0', n) != NULL;
}

static int
check_comment(const char *c, size_t max, const char *what, struct err *e)
{
	size_t n = strnlen(c, max + 1);

	if (n > max)
		return err_set(e, "comment_too_long",
		    "%s comment is %zu bytes, over the limit of %zu", what, n,
		    max);
	if (comment_bad_char(c, n))
		return err_set(e, "comment_invalid",
		    "%s comment contains a line break", what);
	return 0;
}

int
sig_comment_check(const char *comment, int trusted, struct err *e)
{
	return check_comment(comment, trusted ? SIG_TRUSTED_COMMENT_MAX :
	    SIG_COMMENT_MAX, trusted ? "trusted" : "untrusted", e);
}

/* Checks the comment line (l), which must begin with (prefix), and copies
 * the comment into (out) (max + 1 bytes) unless (out) is NULL. */
static int
take_comment(const struct line *l, const char *prefix, size_t plen,
    size_t max, char *out, const char *what, const char *malformed,
    struct err *e)
{
	const char *c;
	size_t n;

	if (!line_has_prefix(l, prefix, plen))
		return err_set(e, malformed, "%s comment line does not start "
		    "with \"%s\"", what, prefix);
	c = l->s + plen;
	n = l->n - plen;
	if (n > max)
		return err_set(e, "comment_too_long",
		    "%s comment is %zu bytes, over the limit of %zu", what, n,
		    max);
	if (comment_bad_char(c, n))
		return err_set(e, "comment_invalid",
		    "%s comment contains a carriage return or NUL byte", what);
	if (out != NULL) {
		memcpy(out, c, n);
		out[n] = '\0';
	}
	return 0;
}

/* Decodes (l) as standard padded base64 of exactly (want) bytes.  libsodium
 * also refuses non-zero padding bits, so each value has one encoding. */
static int
b64_exact(const struct line *l, uint8_t *out, size_t want)
{
	size_t got;

	if (l->n != sodium_base64_ENCODED_LEN(want,
	    sodium_base64_VARIANT_ORIGINAL) - 1)
		return -1;
	if (sodium_base642bin(out, want, l->s, l->n, NULL, &got, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || got != want)
		return -1;
	return 0;
}

/* --- key ids --- */

void
sig_keyid_format(const uint8_t keyid[SIG_KEYID_LEN],
    char out[SIG_KEYID_HEX_LEN + 1])
{
	snprintf(out, SIG_KEYID_HEX_LEN + 1, "%016" PRIX64, le64_load(keyid));
}

int
sig_keyid_parse(const char *hex, uint8_t keyid[SIG_KEYID_LEN])
{
	uint64_t v = 0;
	int i, d;

	for (i = 0; i < SIG_KEYID_HEX_LEN; i++) {
		char c = hex[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	if (hex[i] != '\0')
		return -1;
	le64_store(keyid, v);
	return 0;
}

/* --- public keys --- */

static int
pubkey_decode(const struct line *l, struct sig_pubkey *pk, struct err *e)
{
	uint8_t raw[PK_RAW_LEN];

	if (b64_exact(l, raw, sizeof(raw)) == -1)
		return err_set(e, "key_malformed",
		    "public key is not base64 of %d bytes", PK_RAW_LEN);
	if (memcmp(raw, "Ed", 2) != 0)
		return err_set(e, "key_unsupported_algorithm",
		    "public key algorithm is not Ed25519 (\"Ed\")");
	memcpy(pk->keyid, raw + 2, SIG_KEYID_LEN);
	memcpy(pk->pk, raw + 2 + SIG_KEYID_LEN, SIG_PK_LEN);
	return 0;
}

int
sig_pubkey_parse(const char *text, size_t len, struct sig_pubkey *pk,
    struct err *e)
{
	struct line l;

	if (next_line(&text, &len, &l) == -1)
		return err_set(e, "key_malformed", "public key file is empty");
	if (take_comment(&l, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX),
	    SIG_COMMENT_MAX, NULL, "public key", "key_malformed", e) == -1)
		return -1;
	if (next_line(&text, &len, &l) == -1)
		return err_set(e, "key_malformed",
		    "public key file has no key line");
	if (pubkey_decode(&l, pk, e) == -1)
		return -1;
	if (!rest_is_blank(text, len))
		return err_set(e, "key_malformed",
		    "public key file has text after the key");
	return 0;
}

int
sig_pubkey_from_base64(const char *b64, struct sig_pubkey *pk,
    struct err *e)
{
	struct line l = { b64, strlen(b64) };

	return pubkey_decode(&l, pk, e);
}

int
sig_pubkey_load(const char *path, struct sig_pubkey *pk, struct err *e)
{
	char *text;
	size_t len;
	int rc;

	if (fileio_read(path, KEYFILE_MAX, &text, &len, e) == -1)
		return -1;
	rc = sig_pubkey_parse(text, len, pk, e);
	free(text);
	if (rc == -1)
		err_prefix(e, "%s", path);
	return rc;
}

void
sig_pubkey_base64(const struct sig_pubkey *pk,
    char out[SIG_PUBKEY_B64_LEN + 1])
{
	uint8_t raw[PK_RAW_LEN];

	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, pk->keyid, SIG_KEYID_LEN);
	memcpy(raw + 2 + SIG_KEYID_LEN, pk->pk, SIG_PK_LEN);
	sodium_bin2base64(out, SIG_PUBKEY_B64_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
}

int
sig_pubkey_format(const struct sig_pubkey *pk, const char *comment,
    char **out, size_t *len, struct err *e)
{
	char id[SIG_KEYID_HEX_LEN + 1], b64[SIG_PUBKEY_B64_LEN + 1];
	char defcomment[sizeof(DEFAULT_PK_COMMENT) + SIG_KEYID_HEX_LEN];
	int n;

	*out = NULL;
	sig_keyid_format(pk->keyid, id);
	if (comment == NULL) {
		snprintf(defcomment, sizeof(defcomment), "%s%s",
		    DEFAULT_PK_COMMENT, id);
		comment = defcomment;
	}
	if (check_comment(comment, SIG_COMMENT_MAX, "public key", e) == -1)
		return -1;
	if (crypto_ready(e) == -1)
		return -1;
	sig_pubkey_base64(pk, b64);
	if ((n = asprintf(out, "%s%s\n%s\n", UNTRUSTED_PREFIX, comment,
	    b64)) < 0) {
		*out = NULL;
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	*len = (size_t)n;
	return 0;
}

/* --- secret keys --- */

static struct sk_work *
work_new(struct err *e)
{
	struct sk_work *w;

	if ((w = sodium_malloc(sizeof(*w))) == NULL) {
		err_set(e, ERR_NOMEM, "out of locked memory");
		return NULL;
	}
	sodium_memzero(w, sizeof(*w));
	return w;
}

static void
work_free(struct sk_work *w)
{
	if (w != NULL)
		sodium_free(w);	/* wipes too */
}

/* BLAKE2b-256 over "Ed" + key id + secret key, as minisign checks it. */
static void
seckey_checksum(const uint8_t *keyid, const uint8_t *sk,
    uint8_t out[CHKSUM_LEN])
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, CHKSUM_LEN);
	crypto_generichash_blake2b_update(&st, (const uint8_t *)"Ed", 2);
	crypto_generichash_blake2b_update(&st, keyid, SIG_KEYID_LEN);
	crypto_generichash_blake2b_update(&st, sk, 64);
	crypto_generichash_blake2b_final(&st, out, CHKSUM_LEN);
	sodium_memzero(&st, sizeof(st));
}

static int
check_limits(uint64_t ops, uint64_t mem, int writing, struct err *e)
{
	if (ops > SIG_KDF_OPSLIMIT_MAX || mem > SIG_KDF_MEMLIMIT_MAX)
		return err_set(e, "key_kdf_limits",
		    "scrypt limits opslimit=%" PRIu64 " memlimit=%" PRIu64
		    " are over the caps (%llu, %llu)", ops, mem,
		    SIG_KDF_OPSLIMIT_MAX, SIG_KDF_MEMLIMIT_MAX);
	if (writing && (ops < SIG_KDF_OPSLIMIT_MIN ||
	    mem < SIG_KDF_MEMLIMIT_MIN))
		return err_set(e, "key_kdf_limits",
		    "scrypt limits opslimit=%" PRIu64 " memlimit=%" PRIu64
		    " are under the minimums (%llu, %llu)", ops, mem,
		    SIG_KDF_OPSLIMIT_MIN, SIG_KDF_MEMLIMIT_MIN);
	return 0;
}

/* XORs the key id, secret key and checksum with scrypt(password). */
static int
seckey_crypt(struct sk_work *w, const char *password, struct err *e)
{
	size_t i;

	if (crypto_pwhash_scryptsalsa208sha256(w->stream, sizeof(w->stream),
	    password, strlen(password), w->raw + SK_SALT,
	    (unsigned long long)le64_load(w->raw + SK_OPS),
	    (size_t)le64_load(w->raw + SK_MEM)) != 0)
		return err_set(e, "key_kdf_failed",
		    "scrypt failed (out of memory?)");
	for (i = 0; i < SK_KEYNUM_LEN; i++)
		w->raw[SK_KEYNUM + i] ^= w->stream[i];
	sodium_memzero(w->stream, sizeof(w->stream));
	return 0;
}

static int
check_password(const char *password, struct err *e)
{
	if (strnlen(password, SIG_PASSWORD_MAX) >= SIG_PASSWORD_MAX)
		return err_set(e, "password_too_long",
		    "password is over %d bytes", SIG_PASSWORD_MAX - 1);
	return 0;
}

int
sig_seckey_generate(struct sig_seckey **out, struct sig_pubkey *pk,
    struct err *e)
{
	struct sig_seckey *sk;

	*out = NULL;
	if (crypto_ready(e) == -1)
		return -1;
	if ((sk = sodium_malloc(sizeof(*sk))) == NULL)
		return err_set(e, ERR_NOMEM, "out of locked memory");
	randombytes_buf(sk->keyid, sizeof(sk->keyid));
	crypto_sign_keypair(pk->pk, sk->sk);
	memcpy(pk->keyid, sk->keyid, SIG_KEYID_LEN);
	*out = sk;
	return 0;
}

void
sig_seckey_pubkey(const struct sig_seckey *sk, struct sig_pubkey *pk)
{
	memcpy(pk->keyid, sk->keyid, SIG_KEYID_LEN);
	/* An Ed25519 secret key is seed || public key. */
	memcpy(pk->pk, sk->sk + 32, SIG_PK_LEN);
}

void
sig_seckey_free(struct sig_seckey *sk)
{
	if (sk != NULL)
		sodium_free(sk);
}

void
sig_secret_free(char *p)
{
	if (p != NULL)
		sodium_free(p);
}

int
sig_seckey_encode(const struct sig_seckey *sk, const char *password,
    const struct sig_kdf_limits *limits, const char *comment, char **out,
    size_t *len, struct err *e)
{
	struct sig_kdf_limits def = { SIG_KDF_OPSLIMIT_DEFAULT,
		SIG_KDF_MEMLIMIT_DEFAULT };
	struct sk_work *w;
	size_t clen, total;
	char *text;

	*out = NULL;
	if (limits == NULL)
		limits = &def;
	if (comment == NULL)
		comment = password != NULL ? DEFAULT_SK_COMMENT :
		    DEFAULT_SK_COMMENT_PLAIN;
	if (check_comment(comment, SIG_COMMENT_MAX, "secret key", e) == -1)
		return -1;
	if (password != NULL && (check_password(password, e) == -1 ||
	    check_limits(limits->opslimit, limits->memlimit, 1, e) == -1))
		return -1;
	if (crypto_ready(e) == -1 || (w = work_new(e)) == NULL)
		return -1;
	memcpy(w->raw + SK_ALG, "Ed", 2);
	memcpy(w->raw + SK_KDF, password != NULL ? "Sc" : "\0\0", 2);
	memcpy(w->raw + SK_CHK, "B2", 2);
	memcpy(w->raw + SK_KEYNUM, sk->keyid, SIG_KEYID_LEN);
	memcpy(w->raw + SK_SK, sk->sk, sizeof(sk->sk));
	/* minisign 0.11 leaves the checksum of -W keys zero; a real one costs
	 * nothing, lets us detect damage, and minisign ignores it there. */
	seckey_checksum(sk->keyid, sk->sk, w->raw + SK_CHKSUM);
	if (password != NULL) {
		randombytes_buf(w->raw + SK_SALT, 32);
		le64_store(w->raw + SK_OPS, limits->opslimit);
		le64_store(w->raw + SK_MEM, limits->memlimit);
		if (seckey_crypt(w, password, e) == -1)
			goto fail;
	}
	sodium_bin2base64(w->b64, sizeof(w->b64), w->raw, SK_RAW_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	clen = strlen(comment);
	total = PREFIX_LEN(UNTRUSTED_PREFIX) + clen + 1 + SK_B64_LEN + 1;
	if ((text = sodium_malloc(total + 1)) == NULL) {
		err_set(e, ERR_NOMEM, "out of locked memory");
		goto fail;
	}
	snprintf(text, total + 1, "%s%s\n%s\n", UNTRUSTED_PREFIX, comment,
	    w->b64);
	work_free(w);
	*out = text;
	*len = total;
	return 0;
fail:
	work_free(w);
	return -1;
}

/* Decodes the secret key text into (w->raw) and checks what can be checked
 * without the password. */
static int
seckey_raw_parse(const char *text, size_t len, struct sk_work *w,
    struct sig_seckey_info *info, struct err *e)
{
	struct line l;
	uint64_t ops, mem;
	int encrypted;

	if (next_line(&text, &len, &l) == -1)
		return err_set(e, "key_malformed", "secret key file is empty");
	if (take_comment(&l, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX),
	    SIG_COMMENT_MAX, NULL, "secret key", "key_malformed", e) == -1)
		return -1;
	if (next_line(&text, &len, &l) == -1)
		return err_set(e, "key_malformed",
		    "secret key file has no key line");
	if (b64_exact(&l, w->raw, SK_RAW_LEN) == -1)
		return err_set(e, "key_malformed",
		    "secret key is not base64 of %d bytes", SK_RAW_LEN);
	if (!rest_is_blank(text, len))
		return err_set(e, "key_malformed",
		    "secret key file has text after the key");
	if (memcmp(w->raw + SK_ALG, "Ed", 2) != 0)
		return err_set(e, "key_unsupported_algorithm",
		    "secret key algorithm is not Ed25519 (\"Ed\")");
	if (memcmp(w->raw + SK_CHK, "B2", 2) != 0)
		return err_set(e, "key_unsupported_checksum",
		    "secret key checksum is not BLAKE2b (\"B2\")");
	if (memcmp(w->raw + SK_KDF, "Sc", 2) == 0)
		encrypted = 1;
	else if (memcmp(w->raw + SK_KDF, "\0\0", 2) == 0)
		encrypted = 0;
	else
		return err_set(e, "key_unsupported_kdf",
		    "secret key is encrypted with an unknown method "
		    "(neither scrypt \"Sc\" nor none)");
	ops = le64_load(w->raw + SK_OPS);
	mem = le64_load(w->raw + SK_MEM);
	/* The limits of unencrypted keys are never used (minisign -C keeps
	 * the old ones there), so they are not judged. */
	if (encrypted && check_limits(ops, mem, 0, e) == -1)
		return -1;
	if (info != NULL) {
		info->encrypted = encrypted;
		info->limits.opslimit = encrypted ? ops : 0;
		info->limits.memlimit = encrypted ? mem : 0;
	}
	return 0;
}

int
sig_seckey_parse(const char *text, size_t len,
    struct sig_seckey_info *info, struct err *e)
{
	struct sk_work *w;
	int rc;

	if (crypto_ready(e) == -1 || (w = work_new(e)) == NULL)
		return -1;
	rc = seckey_raw_parse(text, len, w, info, e);
	work_free(w);
	return rc;
}

int
sig_seckey_decode(const char *text, size_t len, const char *password,
    struct sig_seckey **out, struct err *e)
{
	struct sig_seckey_info info;
	struct sig_seckey *sk;
	struct sk_work *w;
	int unchecked;

	*out = NULL;
	if (crypto_ready(e) == -1 || (w = work_new(e)) == NULL)
		return -1;
	if (seckey_raw_parse(text, len, w, &info, e) == -1)
		goto fail;
	if (info.encrypted) {
		if (password == NULL) {
			err_set(e, "password_required",
			    "the secret key is encrypted and no password was "
			    "given");
			goto fail;
		}
		if (check_password(password, e) == -1 ||
		    seckey_crypt(w, password, e) == -1)
			goto fail;
	}
	seckey_checksum(w->raw + SK_KEYNUM, w->raw + SK_SK, w->chk);
	/* minisign -W writes a zero checksum; only encrypted keys must carry
	 * one, since there it is the password check. */
	unchecked = !info.encrypted &&
	    sodium_is_zero(w->raw + SK_CHKSUM, CHKSUM_LEN);
	if (!unchecked &&
	    sodium_memcmp(w->chk, w->raw + SK_CHKSUM, CHKSUM_LEN) != 0) {
		err_set(e, "key_checksum_mismatch", info.encrypted ?
		    "wrong password for this secret key (or the file is "
		    "damaged)" : "secret key checksum does not match: the file "
		    "is damaged");
		goto fail;
	}
	/* Ed25519 signs with the public half stored in the secret key; if it
	 * is not the seed's, every signature would be wrong. */
	crypto_sign_seed_keypair(w->pk, w->sk, w->raw + SK_SK);
	if (sodium_memcmp(w->pk, w->raw + SK_SK + 32, 32) != 0) {
		err_set(e, "key_corrupt",
		    "secret key is inconsistent: its public half does not "
		    "match its seed");
		goto fail;
	}
	if ((sk = sodium_malloc(sizeof(*sk))) == NULL) {
		err_set(e, ERR_NOMEM, "out of locked memory");
		goto fail;
	}
	memcpy(sk->keyid, w->raw + SK_KEYNUM, SIG_KEYID_LEN);
	memcpy(sk->sk, w->raw + SK_SK, sizeof(sk->sk));
	work_free(w);
	*out = sk;
	return 0;
fail:
	work_free(w);
	return -1;
}

/* Reads a secret key file straight into locked memory. */
static int
read_secret_file(const char *path, char **out, size_t *len, struct err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	if (fstat(fd, &st) == -1) {
		err_errno(e, ERR_IO, errno, "%s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, ERR_IO, "%s: not a regular file", path);
		goto fail;
	}
	if ((buf = sodium_malloc(KEYFILE_MAX + 1)) == NULL) {
		err_set(e, ERR_NOMEM, "out of locked memory");
		goto fail;
	}
	for (;;) {
		r = read(fd, buf + n, KEYFILE_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err_errno(e, ERR_IO, errno, "%s", path);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > KEYFILE_MAX) {
			err_set(e, "file_too_large", "%s: over %d bytes: not a "
			    "secret key", path, KEYFILE_MAX);
			goto fail;
		}
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
fail:
	if (buf != NULL)
		sodium_free(buf);
	close(fd);
	return -1;
}

int
sig_seckey_load(const char *path,
    int (*getpw)(void *arg, char *buf, size_t bufsz, struct err *e),
    void *arg, struct sig_seckey **out, struct err *e)
{
	struct sig_seckey_info info;
	char *text, *pw = NULL;
	size_t len = 0;	/* set by read_secret_file(); gcc cannot tell */
	int rc = -1;

	*out = NULL;
	if (crypto_ready(e) == -1 ||
	    read_secret_file(path, &text, &len, e) == -1)
		return -1;
	if (sig_seckey_parse(text, len, &info, e) == -1)
		goto out;
	if (info.encrypted) {
		if (getpw == NULL) {
			err_set(e, "password_required",
			    "the secret key is encrypted and no password "
			    "source was given");
			goto out;
		}
		if ((pw = sodium_malloc(SIG_PASSWORD_MAX)) == NULL) {
			err_set(e, ERR_NOMEM, "out of locked memory");
			goto out;
		}
		sodium_memzero(pw, SIG_PASSWORD_MAX);
		if (getpw(arg, pw, SIG_PASSWORD_MAX, e) == -1)
			goto out;
		pw[SIG_PASSWORD_MAX - 1] = '\0';
	}
	rc = sig_seckey_decode(text, len, pw, out, e);
out:
	if (rc == -1)
		err_prefix(e, "%s", path);
	if (pw != NULL)
		sodium_free(pw);
	sodium_free(text);
	return rc;
}

/* --- signatures --- */

const char *
sig_alg_name(enum sig_alg alg)
{
	return alg == SIG_ALG_PREHASHED ? "prehashed" : "legacy";
}

/* Reads what (fd) yields to EOF into a new malloc()ed buffer, refusing more
 * than (max) bytes. */
static int
read_fd_all(int fd, size_t max, uint8_t **out, size_t *len, struct err *e)
{
	struct stat st;
	uint8_t *buf = NULL, *nb;
	size_t cap = 65536, n = 0;
	ssize_t r;

	*out = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0) {
		if ((uint64_t)st.st_size > max)
			return err_set(e, "file_too_large", "%lld bytes is "
			    "over the %zu-byte limit of legacy signatures",
			    (long long)st.st_size, max);
		cap = (size_t)st.st_size + 1;
	}
	for (;;) {
		if (buf == NULL || n == cap) {
			if (buf != NULL)
				cap = cap > max / 2 ? max + 1 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return err_set(e, ERR_NOMEM, "out of memory");
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(buf);
			return err_errno(e, ERR_IO, errno, "read");
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(buf);
			return err_set(e, "file_too_large", "over the %zu-byte "
			    "limit of legacy signatures", max);
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

static int
prehash_fd(int fd, uint8_t out[HASH_LEN], struct err *e)
{
	enum { CHUNK = 1 << 16 };
	crypto_generichash_blake2b_state st;
	uint8_t *buf;
	ssize_t r;

	if ((buf = malloc(CHUNK)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	crypto_generichash_blake2b_init(&st, NULL, 0, HASH_LEN);
	for (;;) {
		r = read(fd, buf, CHUNK);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(buf);
			return err_errno(e, ERR_IO, errno, "read");
		}
		if (r == 0)
			break;
		crypto_generichash_blake2b_update(&st, buf, (size_t)r);
	}
	crypto_generichash_blake2b_final(&st, out, HASH_LEN);
	free(buf);
	return 0;
}

static int
check_sign_args(enum sig_alg alg, const char *trusted,
    const char *untrusted, struct err *e)
{
	if (alg != SIG_ALG_PREHASHED && alg != SIG_ALG_LEGACY)
		return err_set(e, ERR_INVALID, "unknown signature algorithm");
	if (trusted == NULL)
		return err_set(e, ERR_INVALID, "a trusted comment is required");
	if (check_comment(trusted, SIG_TRUSTED_COMMENT_MAX, "trusted", e) ==
	    -1)
		return -1;
	if (untrusted != NULL && check_comment(untrusted, SIG_COMMENT_MAX,
	    "untrusted", e) == -1)
		return -1;
	return crypto_ready(e);
}

/* Signs (m) (the message, or its hash when prehashed) and the trusted
 * comment; the arguments were checked by check_sign_args(). */
static void
sign_checked(const struct sig_seckey *sk, enum sig_alg alg, const uint8_t *m,
    size_t mlen, const char *trusted, const char *untrusted,
    struct sig_signature *out)
{
	uint8_t buf[SIG_SIG_LEN + SIG_TRUSTED_COMMENT_MAX];
	size_t tlen = strlen(trusted);

	memset(out, 0, sizeof(*out));
	out->alg = alg;
	memcpy(out->keyid, sk->keyid, SIG_KEYID_LEN);
	crypto_sign_detached(out->sig, NULL, m, mlen, sk->sk);
	memcpy(buf, out->sig, SIG_SIG_LEN);
	memcpy(buf + SIG_SIG_LEN, trusted, tlen);
	crypto_sign_detached(out->global_sig, NULL, buf, SIG_SIG_LEN + tlen,
	    sk->sk);
	memcpy(out->trusted_comment, trusted, tlen + 1);
	if (untrusted == NULL)
		untrusted = DEFAULT_SIG_COMMENT;
	memcpy(out->untrusted_comment, untrusted, strlen(untrusted) + 1);
}

int
sig_sign(const struct sig_seckey *sk, enum sig_alg alg, const void *msg,
    size_t len, const char *trusted_comment, const char *untrusted_comment,
    struct sig_signature *out, struct err *e)
{
	uint8_t hash[HASH_LEN];

	if (check_sign_args(alg, trusted_comment, untrusted_comment, e) == -1)
		return -1;
	if (alg == SIG_ALG_LEGACY) {
		if (len > SIG_LEGACY_MAX)
			return err_set(e, "file_too_large", "%zu bytes is over "
			    "the %zu-byte limit of legacy signatures", len,
			    SIG_LEGACY_MAX);
		sign_checked(sk, alg, msg, len, trusted_comment,
		    untrusted_comment, out);
		return 0;
	}
	crypto_generichash_blake2b(hash, HASH_LEN, msg, len, NULL, 0);
	sign_checked(sk, alg, hash, HASH_LEN, trusted_comment,
	    untrusted_comment, out);
	return 0;
}

int
sig_sign_fd(const struct sig_seckey *sk, enum sig_alg alg, int fd,
    const char *trusted_comment, const char *untrusted_comment,
    struct sig_signature *out, struct err *e)
{
	uint8_t hash[HASH_LEN], *msg;
	size_t len;

	if (check_sign_args(alg, trusted_comment, untrusted_comment, e) == -1)
		return -1;
	if (alg == SIG_ALG_LEGACY) {
		if (read_fd_all(fd, SIG_LEGACY_MAX, &msg, &len, e) == -1)
			return -1;
		sign_checked(sk, alg, msg, len, trusted_comment,
		    untrusted_comment, out);
		free(msg);
		return 0;
	}
	if (prehash_fd(fd, hash, e) == -1)
		return -1;
	sign_checked(sk, alg, hash, HASH_LEN, trusted_comment,
	    untrusted_comment, out);
	return 0;
}

int
sig_sign_file(const struct sig_seckey *sk, enum sig_alg alg,
    const char *path, const char *trusted_comment,
    const char *untrusted_comment, struct sig_signature *out, struct err *e)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	rc = sig_sign_fd(sk, alg, fd, trusted_comment, untrusted_comment, out,
	    e);
	close(fd);
	if (rc == -1)
		err_prefix(e, "%s", path);
	return rc;
}

int
sig_signature_parse(const char *text, size_t len, struct sig_signature *s,
    struct err *e)
{
	uint8_t raw[SIG_RAW_LEN];
	struct line l;

	memset(s, 0, sizeof(*s));
	if (next_line(&text, &len, &l) == -1)
		return err_set(e, "sig_malformed", "signature file is empty");
	if (take_comment(&l, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX),
	    SIG_COMMENT_MAX, s->untrusted_comment, "untrusted",
	    "sig_malformed", e) == -1)
		return -1;
	if (next_line(&text, &len, &l) == -1)
		return err_set(e, "sig_malformed",
		    "signature file has no signature line");
	if (b64_exact(&l, raw, sizeof(raw)) == -1)
		return err_set(e, "sig_malformed",
		    "signature is not base64 of %d bytes", SIG_RAW_LEN);
	if (memcmp(raw, "ED", 2) == 0)
		s->alg = SIG_ALG_PREHASHED;
	else if (memcmp(raw, "Ed", 2) == 0)
		s->alg = SIG_ALG_LEGACY;
	else
		return err_set(e, "sig_unsupported_algorithm",
		    "signature algorithm 0x%02x%02x is neither \"ED\" nor "
		    "\"Ed\"", raw[0], raw[1]);
	memcpy(s->keyid, raw + 2, SIG_KEYID_LEN);
	memcpy(s->sig, raw + 2 + SIG_KEYID_LEN, SIG_SIG_LEN);
	if (next_line(&text, &len, &l) == -1)
		return err_set(e, "sig_malformed",
		    "signature file has no trusted comment");
	if (take_comment(&l, TRUSTED_PREFIX, PREFIX_LEN(TRUSTED_PREFIX),
	    SIG_TRUSTED_COMMENT_MAX, s->trusted_comment, "trusted",
	    "sig_malformed", e) == -1)
		return -1;
	if (next_line(&text, &len, &l) == -1)
		return err_set(e, "sig_malformed",
		    "signature file has no comment signature");
	if (b64_exact(&l, s->global_sig, SIG_SIG_LEN) == -1)
		return err_set(e, "sig_malformed",
		    "comment signature is not base64 of %d bytes", SIG_SIG_LEN);
	if (!rest_is_blank(text, len))
		return err_set(e, "sig_malformed",
		    "signature file has text after the comment signature");
	return 0;
}

int
sig_signature_load(const char *path, struct sig_signature *s, struct err *e)
{
	char *text;
	size_t len;
	int rc;

	if (fileio_read(path, SIGFILE_MAX, &text, &len, e) == -1)
		return -1;
	rc = sig_signature_parse(text, len, s, e);
	free(text);
	if (rc == -1)
		err_prefix(e, "%s", path);
	return rc;
}

int
sig_signature_format(const struct sig_signature *s, char **out, size_t *len,
    struct err *e)
{
	char sig64[SIG_B64_LEN + 1], gsig64[GSIG_B64_LEN + 1];
	uint8_t raw[SIG_RAW_LEN];
	int n;

	*out = NULL;
	if (check_comment(s->untrusted_comment, SIG_COMMENT_MAX, "untrusted",
	    e) == -1 || check_comment(s->trusted_comment,
	    SIG_TRUSTED_COMMENT_MAX, "trusted", e) == -1)
		return -1;
	if (crypto_ready(e) == -1)
		return -1;
	memcpy(raw, s->alg == SIG_ALG_PREHASHED ? "ED" : "Ed", 2);
	memcpy(raw + 2, s->keyid, SIG_KEYID_LEN);
	memcpy(raw + 2 + SIG_KEYID_LEN, s->sig, SIG_SIG_LEN);
	sodium_bin2base64(sig64, sizeof(sig64), raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(gsig64, sizeof(gsig64), s->global_sig, SIG_SIG_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((n = asprintf(out, "%s%s\n%s\n%s%s\n%s\n", UNTRUSTED_PREFIX,
	    s->untrusted_comment, sig64, TRUSTED_PREFIX, s->trusted_comment,
	    gsig64)) < 0) {
		*out = NULL;
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	*len = (size_t)n;
	return 0;
}

/* What can be refused before the message is read. */
static int
verify_precheck(const struct sig_pubkey *pk, const struct sig_signature *s,
    unsigned flags, struct err *e)
{
	char want[SIG_KEYID_HEX_LEN + 1], got[SIG_KEYID_HEX_LEN + 1];

	if (s->alg != SIG_ALG_PREHASHED && s->alg != SIG_ALG_LEGACY)
		return err_set(e, "sig_unsupported_algorithm",
		    "unknown signature algorithm");
	if ((flags & SIG_VERIFY_PREHASHED_ONLY) && s->alg != SIG_ALG_PREHASHED)
		return err_set(e, "sig_legacy_refused",
		    "legacy (non-prehashed) signature refused");
	if (memcmp(s->keyid, pk->keyid, SIG_KEYID_LEN) != 0) {
		sig_keyid_format(s->keyid, got);
		sig_keyid_format(pk->keyid, want);
		return err_set(e, "sig_key_mismatch", "signature was made by "
		    "key %s, but the public key is %s", got, want);
	}
	if (memchr(s->trusted_comment, '\0', sizeof(s->trusted_comment)) ==
	    NULL)
		return err_set(e, ERR_INVALID, "unterminated trusted comment");
	return crypto_ready(e);
}

static int
verify_checked(const struct sig_pubkey *pk, const struct sig_signature *s,
    const uint8_t *m, size_t mlen, struct err *e)
{
	uint8_t buf[SIG_SIG_LEN + SIG_TRUSTED_COMMENT_MAX];
	size_t tlen = strnlen(s->trusted_comment, SIG_TRUSTED_COMMENT_MAX);

	if (crypto_sign_verify_detached(s->sig, m, mlen, pk->pk) != 0)
		return err_set(e, "sig_invalid", "signature verification "
		    "failed: the file was changed or signed by another key");
	memcpy(buf, s->sig, SIG_SIG_LEN);
	memcpy(buf + SIG_SIG_LEN, s->trusted_comment, tlen);
	if (crypto_sign_verify_detached(s->global_sig, buf, SIG_SIG_LEN + tlen,
	    pk->pk) != 0)
		return err_set(e, "sig_comment_invalid", "comment signature "
		    "verification failed: the trusted comment was changed");
	return 0;
}

int
sig_verify(const struct sig_pubkey *pk, const struct sig_signature *s,
    const void *msg, size_t len, unsigned flags, struct err *e)
{
	uint8_t hash[HASH_LEN];

	if (verify_precheck(pk, s, flags, e) == -1)
		return -1;
	if (s->alg == SIG_ALG_LEGACY)
		return verify_checked(pk, s, msg, len, e);
	crypto_generichash_blake2b(hash, HASH_LEN, msg, len, NULL, 0);
	return verify_checked(pk, s, hash, HASH_LEN, e);
}

int
sig_verify_fd(const struct sig_pubkey *pk, const struct sig_signature *s,
    int fd, unsigned flags, struct err *e)
{
	uint8_t hash[HASH_LEN], *msg;
	size_t len;
	int rc;

	if (verify_precheck(pk, s, flags, e) == -1)
		return -1;
	if (s->alg == SIG_ALG_LEGACY) {
		if (read_fd_all(fd, SIG_LEGACY_MAX, &msg, &len, e) == -1)
			return -1;
		rc = verify_checked(pk, s, msg, len, e);
		free(msg);
		return rc;
	}
	if (prehash_fd(fd, hash, e) == -1)
		return -1;
	return verify_checked(pk, s, hash, HASH_LEN, e);
}

int
sig_verify_file(const struct sig_pubkey *pk,
    const struct sig_signature *s, const char *path, unsigned flags,
    struct err *e)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	rc = sig_verify_fd(pk, s, fd, flags, e);
	close(fd);
	if (rc == -1)
		err_prefix(e, "%s", path);
	return rc;
}
