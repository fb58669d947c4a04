/*
 * fuzz-minisign.c - libFuzzer target over everything signing/ parses from
 * outside: public key files and strings, secret key files, signature files
 * and feed URIs.  Every input goes through every parser.  Secret keys are
 * decoded without a password, which never runs scrypt: an encrypted key
 * stops at "password_required".
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minisign.h"
#include "trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_signature(const char *text, size_t len)
{
	struct sig_signature s, s2;
	char *out;
	size_t olen;

	if (sig_signature_parse(text, len, &s, NULL) == -1)
		return;
	/* What parses must format and parse back to the same thing. */
	if (sig_signature_format(&s, &out, &olen, NULL) == -1)
		abort();
	if (sig_signature_parse(out, olen, &s2, NULL) == -1 ||
	    memcmp(&s, &s2, sizeof(s)) != 0)
		abort();
	free(out);
}

static void
fuzz_pubkey(const char *text, size_t len, const char *str)
{
	struct sig_pubkey pk, pk2;
	char *out;
	size_t olen;

	if (sig_pubkey_parse(text, len, &pk, NULL) == 0) {
		if (sig_pubkey_format(&pk, NULL, &out, &olen, NULL) == -1)
			abort();
		if (sig_pubkey_parse(out, olen, &pk2, NULL) == -1 ||
		    memcmp(&pk, &pk2, sizeof(pk)) != 0)
			abort();
		free(out);
	}
	(void)sig_pubkey_from_base64(str, &pk, NULL);
}

static void
fuzz_seckey(const char *text, size_t len)
{
	struct sig_seckey_info info;
	struct sig_seckey *sk;

	if (sig_seckey_parse(text, len, &info, NULL) == -1)
		return;
	if (info.encrypted && (info.limits.opslimit > SIG_KDF_OPSLIMIT_MAX ||
	    info.limits.memlimit > SIG_KDF_MEMLIMIT_MAX))
		abort();	/* the caps must hold before scrypt */
	if (sig_seckey_decode(text, len, NULL, &sk, NULL) == 0)
		sig_seckey_free(sk);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char domain[TRUST_DOMAIN_MAX];
	char *str;

	/* A NUL-terminated copy for the string APIs; the buffer APIs get
	 * the raw bytes, embedded NULs included. */
	if ((str = malloc(size + 1)) == NULL)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';
	fuzz_signature((const char *)data, size);
	fuzz_pubkey((const char *)data, size, str);
	fuzz_seckey((const char *)data, size);
	if (trust_domain_of_uri(str, domain, NULL) == 0 &&
	    strlen(domain) >= TRUST_DOMAIN_MAX)
		abort();
	(void)trust_pattern_match(str, "www.example.org");
	free(str);
	return 0;
}
