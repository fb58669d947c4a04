#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "minisign.h"

/* What to do next, per failure. */
static const struct {
	const char *code, *hint;
} verify_hints[] = {
	{ "sig_key_mismatch", "the file was signed with another key: get "
	    "the signer's public key" },
	{ "sig_invalid", "the file does not match its signature: do not use "
	    "it; fetch the file and its signature again" },
	{ "sig_comment_invalid", "the trusted comment was altered: do not "
	    "trust this signature" },
	{ "sig_malformed", "is it a minisign signature file? (-x names it)" },
	{ "sig_unsupported_algorithm", "only Ed25519 minisign signatures "
	    "(prehashed or legacy) are supported" },
	{ "sig_legacy_refused", "sign again without -l, or drop -H" },
	{ "comment_too_long", "the signature file is damaged or hostile" },
	{ "comment_invalid", "the signature file is damaged or hostile" },
	{ "key_malformed", "check the public key given with -p or -P" },
	{ "key_unsupported_algorithm", "check the public key given with -p "
	    "or -P" },
	{ "file_too_large", "legacy signatures cover at most 1 GiB; sign "
	    "prehashed (without -l)" },
};

static int
verify_fail(const struct cli_cmd *cmd, const struct err *e)
{
	size_t i;

	for (i = 0; i < sizeof(verify_hints) / sizeof(verify_hints[0]); i++)
		if (strcmp(e->code, verify_hints[i].code) == 0)
			return cli_error(cmd, e, "%s", verify_hints[i].hint);
	return cli_error(cmd, e, NULL);
}

/* The trusted comment is signed, but by whoever holds the key: keep its
 * control characters (other than tab) off the terminal. */
static void
print_comment(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void
report(const struct sig_signature *sig, int quiet)
{
	char id[SIG_KEYID_HEX_LEN + 1];
	json_object *obj;

	if (cli_json) {
		sig_keyid_format(sig->keyid, id);
		obj = json_object_new_object();
		json_object_object_add(obj, "key_id",
		    json_object_new_string(id));
		json_object_object_add(obj, "algorithm",
		    json_object_new_string(sig_alg_name(sig->alg)));
		json_object_object_add(obj, "trusted_comment",
		    json_object_new_string(sig->trusted_comment));
		json_object_object_add(obj, "verified",
		    json_object_new_boolean(1));
		cli_json_print(obj);
		return;
	}
	if (quiet)
		return;
	printf("Signature and comment signature verified\nTrusted comment: ");
	print_comment(sig->trusted_comment);
	putchar('\n');
}

static const struct option verify_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
exec_verify(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *pkpath = NULL, *pkstring = NULL, *sigpath = NULL, *file;
	char sigdefault[4096];
	struct sig_signature sig;
	struct sig_pubkey pk;
	unsigned flags = 0;
	int c, quiet = 0;
	struct err e;

	err_clear(&e);
	while ((c = getopt_long(argc, argv, "p:P:x:qHh", verify_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'p':
			pkpath = optarg;
			break;
		case 'P':
			pkstring = optarg;
			break;
		case 'x':
			sigpath = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'H':
			flags |= SIG_VERIFY_PREHASHED_ONLY;
			break;
		case 'j':
			cli_json = 1;
			break;
		case 'h':
			return cli_help(cmd, stdout);
		default:
			return cli_usage(cmd, "unknown option");
		}
	}
	if ((pkpath == NULL) == (pkstring == NULL))
		return cli_usage(cmd, "give the public key with -p or -P");
	if (argc - optind != 1)
		return cli_usage(cmd, "give exactly one FILE to verify");
	file = argv[optind];
	if (sigpath == NULL) {
		if ((size_t)snprintf(sigdefault, sizeof(sigdefault),
		    "%s.minisig", file) >= sizeof(sigdefault))
			return cli_usage(cmd, "FILE name too long");
		sigpath = sigdefault;
	}
	if ((pkpath != NULL ? sig_pubkey_load(pkpath, &pk, &e) :
	    sig_pubkey_from_base64(pkstring, &pk, &e)) == -1)
		return verify_fail(cmd, &e);
	if (sig_signature_load(sigpath, &sig, &e) == -1 ||
	    sig_verify_file(&pk, &sig, file, flags, &e) == -1)
		return verify_fail(cmd, &e);
	report(&sig, quiet);
	return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_verify = {
	"verify",
	"(-p PUBKEY | -P KEYSTRING) [-x SIGFILE] [-qH] [--json] FILE",
	"check a file's minisign signature",
	"  -p PUBKEY           public key file\n"
	"  -P KEYSTRING        public key as a base64 string (minisign -P)\n"
	"  -x SIGFILE          signature file (default FILE.minisig)\n"
	"  -q                  quiet: only the exit status tells\n"
	"  -H                  refuse legacy (non-prehashed) signatures\n"
	"  --json              print {key_id, algorithm, trusted_comment,\n"
	"                      verified} as JSON\n"
	"  -h, --help          show this help\n",
	exec_verify,
};
