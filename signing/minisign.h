/*
 * minisign.h - minisign-compatible keys and signatures (prefix sig_).
 *
 * The files read and written here are byte-compatible with minisign 0.11:
 * Ed25519 keys, secret keys encrypted with scrypt (when a password is set),
 * signatures either prehashed (BLAKE2b-512 of the message, algorithm "ED",
 * the default) or legacy (the message itself, algorithm "Ed").  See
 * docs/signing.md for the byte layouts.
 *
 * Contract, once for the whole header:
 * - Functions return 0 on success and -1 on failure with a stable code in
 *   (e) (err.h); (e) may be NULL.  Nothing here prints or exits.
 * - Public keys and signatures are plain structs the caller owns.
 * - Secret keys live only in memory from sodium_malloc(): guarded pages,
 *   mlock()ed and marked MADV_DONTDUMP by libsodium, so they stay out of
 *   swap and core dumps.  struct sig_seckey is opaque: it is made by
 *   sig_seckey_generate(), sig_seckey_decode() or sig_seckey_load() and
 *   released with sig_seckey_free(), which wipes it.  Buffers holding
 *   secret text (an encoded secret key) are released with sig_secret_free().
 * - Inputs from outside (file contents, base64 strings) are validated
 *   completely before use; parsers never run scrypt, and the scrypt limits
 *   read from a key file are capped before it runs.
 * - Every function calls sodium_init() itself; a failure there is reported
 *   as "crypto_unavailable".
 *
 * Codes (docs/signing.md has one line on each):
 *   key_malformed, key_unsupported_algorithm, key_unsupported_kdf,
 *   key_unsupported_checksum, key_kdf_limits, key_kdf_failed,
 *   key_checksum_mismatch, key_corrupt, password_required, password_too_long,
 *   sig_malformed, sig_unsupported_algorithm, sig_legacy_refused,
 *   sig_key_mismatch, sig_invalid, sig_comment_invalid, comment_too_long,
 *   comment_invalid, file_too_large, crypto_unavailable, and the generic
 *   io_error, out_of_memory, invalid_argument.
 */
#ifndef SIGNING_MINISIGN_H
#define SIGNING_MINISIGN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SIG_KEYID_LEN 8
#define SIG_KEYID_HEX_LEN 16	/* "54E3CB008D82A207" */
#define SIG_PK_LEN 32
#define SIG_SIG_LEN 64
#define SIG_PUBKEY_B64_LEN 56	/* base64 of "Ed" + key id + key */

/* The longest comments minisign 0.11 can read back (its line buffers are
 * 1024 and 8192 bytes including the prefix and the newline). */
#define SIG_COMMENT_MAX 1003
#define SIG_TRUSTED_COMMENT_MAX 8173

/* Passwords: at most SIG_PASSWORD_MAX - 1 bytes, as in minisign. */
#define SIG_PASSWORD_MAX 1024

/* Legacy signatures cover the whole message in memory: capped like
 * minisign (1 GiB).  Prehashed ones stream and have no limit. */
#define SIG_LEGACY_MAX ((size_t)1 << 30)

/* scrypt limits for encrypted secret keys.  The defaults are minisign's
 * ("sensitive": ~1 GiB, a few seconds).  Key files asking for more than the
 * caps are refused with "key_kdf_limits" before scrypt runs, so that a
 * hostile key file cannot exhaust memory or CPU.  When writing, the limits
 * must lie between libsodium's minimums and the caps. */
#define SIG_KDF_OPSLIMIT_DEFAULT 33554432ULL
#define SIG_KDF_MEMLIMIT_DEFAULT 1073741824ULL
#define SIG_KDF_OPSLIMIT_MIN 32768ULL
#define SIG_KDF_MEMLIMIT_MIN 16777216ULL
#define SIG_KDF_OPSLIMIT_MAX (4 * SIG_KDF_OPSLIMIT_DEFAULT)
#define SIG_KDF_MEMLIMIT_MAX SIG_KDF_MEMLIMIT_DEFAULT

struct sig_kdf_limits {
	uint64_t opslimit;
	uint64_t memlimit;
};

struct sig_pubkey {
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t pk[SIG_PK_LEN];
};

struct sig_seckey;	/* opaque, in locked memory */

/* What a secret key file says about itself, read without a password. */
struct sig_seckey_info {
	int encrypted;			/* 1: needs a password */
	struct sig_kdf_limits limits;	/* as stored; 0/0 when unencrypted */
};

enum sig_alg {
	SIG_ALG_PREHASHED,	/* "ED": Ed25519 over BLAKE2b-512(message) */
	SIG_ALG_LEGACY,		/* "Ed": Ed25519 over the message */
};

/* A parsed signature file.  The comments are NUL-terminated, without their
 * "untrusted comment: " / "trusted comment: " prefixes. */
struct sig_signature {
	enum sig_alg alg;
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t sig[SIG_SIG_LEN];		/* over the message (or hash) */
	uint8_t global_sig[SIG_SIG_LEN];	/* over sig + trusted comment */
	char untrusted_comment[SIG_COMMENT_MAX + 1];
	char trusted_comment[SIG_TRUSTED_COMMENT_MAX + 1];
};

/* sig_verify*() flags */
#define SIG_VERIFY_PREHASHED_ONLY 0x1	/* refuse legacy signatures */

/* --- key ids --- */

/* Writes (keyid) as minisign shows it: 16 uppercase hex digits of the
 * little-endian uint64, NUL-terminated, into (out). */
void sig_keyid_format(const uint8_t keyid[SIG_KEYID_LEN],
    char out[SIG_KEYID_HEX_LEN + 1]);

/* Parses 16 hex digits (either case) as printed by sig_keyid_format().
 * Returns 0, or -1 if (hex) is anything else. */
int sig_keyid_parse(const char *hex, uint8_t keyid[SIG_KEYID_LEN]);

/* --- public keys --- */

/* Parses the contents of a public key file: "untrusted comment: ...\n"
 * then the base64 key line.  (text) need not be NUL-terminated.
 * Codes: key_malformed, key_unsupported_algorithm, comment_too_long. */
int sig_pubkey_parse(const char *text, size_t len, struct sig_pubkey *pk,
    struct err *e);

/* Parses a bare base64 key, as given to minisign -P.  Same codes. */
int sig_pubkey_from_base64(const char *b64, struct sig_pubkey *pk,
    struct err *e);

/* Reads and parses the public key file (path).  Codes: those of
 * sig_pubkey_parse(), io_error, file_too_large. */
int sig_pubkey_load(const char *path, struct sig_pubkey *pk, struct err *e);

/* The base64 key line of (pk), NUL-terminated, into (out). */
void sig_pubkey_base64(const struct sig_pubkey *pk,
    char out[SIG_PUBKEY_B64_LEN + 1]);

/* Formats a public key file into a new malloc()ed NUL-terminated string
 * (*out) of length (*len); the caller frees it.  (comment) NULL gives
 * "uk public key <KEYID>".  Codes: comment_too_long, comment_invalid,
 * out_of_memory. */
int sig_pubkey_format(const struct sig_pubkey *pk, const char *comment,
    char **out, size_t *len, struct err *e);

/* --- secret keys --- */

/* Makes a new random key pair: (*out) receives the secret key (release with
 * sig_seckey_free()), (pk) its public half.  Codes: out_of_memory. */
int sig_seckey_generate(struct sig_seckey **out, struct sig_pubkey *pk,
    struct err *e);

/* The public half (key id and public key) of (sk). */
void sig_seckey_pubkey(const struct sig_seckey *sk, struct sig_pubkey *pk);

/* Wipes and releases (sk); NULL is allowed. */
void sig_seckey_free(struct sig_seckey *sk);

/* Encodes (sk) as a secret key file.  (password) NULL writes an
 * unencrypted key (minisign -W); otherwise the key is encrypted with scrypt
 * at (limits), or at the defaults when (limits) is NULL.  (comment) NULL
 * gives "minisign encrypted secret key" (or "minisign unencrypted secret
 * key").  (*out) is
 * NUL-terminated, in locked memory, (*len) bytes long; release it with
 * sig_secret_free().  Codes: key_kdf_limits, key_kdf_failed,
 * password_too_long, comment_too_long, comment_invalid, out_of_memory. */
int sig_seckey_encode(const struct sig_seckey *sk, const char *password,
    const struct sig_kdf_limits *limits, const char *comment, char **out,
    size_t *len, struct err *e);

/* Checks the structure of a secret key file without any password and
 * without running scrypt; fills (info) (may be NULL).  Codes:
 * key_malformed, key_unsupported_algorithm, key_unsupported_kdf,
 * key_unsupported_checksum, key_kdf_limits, comment_too_long. */
int sig_seckey_parse(const char *text, size_t len,
    struct sig_seckey_info *info, struct err *e);

/* Decodes a secret key file.  (password) is needed when the key is
 * encrypted and ignored otherwise.  Codes: those of sig_seckey_parse(),
 * password_required, password_too_long, key_kdf_failed,
 * key_checksum_mismatch (wrong password, or a damaged file), key_corrupt
 * (the public half does not belong to the secret half), out_of_memory.
 * On success (*out) is the key; release it with sig_seckey_free(). */
int sig_seckey_decode(const char *text, size_t len, const char *password,
    struct sig_seckey **out, struct err *e);

/*
 * Reads the secret key file (path) into locked memory and decodes it.  When
 * the key is encrypted, (getpw) is called once with (arg) and a locked
 * buffer of (bufsz) = SIG_PASSWORD_MAX bytes to fill with a NUL-terminated
 * password; it returns 0 or -1 with (e) set.  The buffer is wiped after
 * use.  (getpw) NULL means no password can be had: "password_required".
 * Codes: those of sig_seckey_decode(), io_error, file_too_large, and
 * whatever (getpw) sets.
 */
int sig_seckey_load(const char *path,
    int (*getpw)(void *arg, char *buf, size_t bufsz, struct err *e),
    void *arg, struct sig_seckey **out, struct err *e);

/* Wipes and releases a buffer from sig_seckey_encode(); NULL is allowed. */
void sig_secret_free(char *p);

/* --- signatures --- */

/* Signs (len) bytes at (msg) with (sk) using (alg).  (trusted_comment) is
 * signed too; it must not contain CR, LF or NUL and is at most
 * SIG_TRUSTED_COMMENT_MAX bytes.  (untrusted_comment) NULL gives
 * "signature from uk secret key".  Fills (out).  Codes: comment_too_long,
 * comment_invalid, file_too_large (legacy over SIG_LEGACY_MAX). */
int sig_sign(const struct sig_seckey *sk, enum sig_alg alg, const void *msg,
    size_t len, const char *trusted_comment, const char *untrusted_comment,
    struct sig_signature *out, struct err *e);

/* Like sig_sign() over what (fd) yields from its offset to EOF: streamed
 * through BLAKE2b for SIG_ALG_PREHASHED, read whole (at most
 * SIG_LEGACY_MAX) for SIG_ALG_LEGACY.  Adds io_error, out_of_memory. */
int sig_sign_fd(const struct sig_seckey *sk, enum sig_alg alg, int fd,
    const char *trusted_comment, const char *untrusted_comment,
    struct sig_signature *out, struct err *e);

/* Like sig_sign_fd() on the file (path). */
int sig_sign_file(const struct sig_seckey *sk, enum sig_alg alg,
    const char *path, const char *trusted_comment,
    const char *untrusted_comment, struct sig_signature *out, struct err *e);

/* Parses a .minisig file's contents; CRLF line ends are accepted.  Codes:
 * sig_malformed (missing lines or prefixes, bad base64, wrong lengths,
 * trailing garbage), sig_unsupported_algorithm, comment_too_long,
 * comment_invalid (CR or NUL inside the trusted comment). */
int sig_signature_parse(const char *text, size_t len, struct sig_signature *s,
    struct err *e);

/* Reads and parses the signature file (path).  Adds io_error,
 * file_too_large. */
int sig_signature_load(const char *path, struct sig_signature *s,
    struct err *e);

/* Formats (s) as a .minisig file into a new malloc()ed NUL-terminated
 * string (*out) of (*len) bytes; the caller frees it.  Codes:
 * comment_too_long, comment_invalid, out_of_memory. */
int sig_signature_format(const struct sig_signature *s, char **out,
    size_t *len, struct err *e);

/*
 * Verifies (s) over (len) bytes at (msg) with (pk), in minisign's order:
 * algorithm (sig_legacy_refused when (flags) has SIG_VERIFY_PREHASHED_ONLY),
 * key id (sig_key_mismatch, naming both ids), the signature (sig_invalid),
 * then the trusted comment's signature (sig_comment_invalid).  The trusted
 * comment may be believed only after this returned 0.
 */
int sig_verify(const struct sig_pubkey *pk, const struct sig_signature *s,
    const void *msg, size_t len, unsigned flags, struct err *e);

/* Like sig_verify() over what (fd) yields to EOF (streamed when prehashed).
 * Adds io_error, file_too_large, out_of_memory. */
int sig_verify_fd(const struct sig_pubkey *pk, const struct sig_signature *s,
    int fd, unsigned flags, struct err *e);

/* Like sig_verify_fd() on the file (path). */
int sig_verify_file(const struct sig_pubkey *pk,
    const struct sig_signature *s, const char *path, unsigned flags,
    struct err *e);

/* Checks a comment before use: at most SIG_TRUSTED_COMMENT_MAX bytes when
 * (trusted), SIG_COMMENT_MAX otherwise, and no CR or LF.  Codes:
 * comment_too_long, comment_invalid. */
int sig_comment_check(const char *comment, int trusted, struct err *e);

/* "prehashed" or "legacy". */
const char *sig_alg_name(enum sig_alg alg);

#endif
