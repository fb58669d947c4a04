#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fileio.h"
#include "minisign.h"

struct sign_opts {
	const char *skpath, *trusted, *untrusted, *sigpath, *pwfile;
	enum sig_alg alg;
};

/* minisign's default: "timestamp:<unix>\tfile:<basename>[\thashed]". */
static int
default_trusted(const char *file, enum sig_alg alg, char *out, size_t outsz,
    struct err *e)
{
	const char *base = strrchr(file, '/');

	base = base != NULL ? base + 1 : file;
	if ((size_t)snprintf(out, outsz, "timestamp:%lld\tfile:%s%s",
	    (long long)time(NULL), base, alg == SIG_ALG_PREHASHED ?
	    "\thashed" : "") >= outsz)
		return err_set(e, "comment_too_long", "file name too long for "
		    "the trusted comment");
	return sig_comment_check(out, 1, e);
}

static int
sign_one(const struct sign_opts *o, const struct sig_seckey *sk,
    const char *file, json_object *list, struct err *e)
{
	char tc[SIG_TRUSTED_COMMENT_MAX + 1], sigpath[4096];
	char id[SIG_KEYID_HEX_LEN + 1];
	struct sig_signature sig;
	const char *trusted = o->trusted;
	json_object *obj;
	char *text;
	size_t len;
	int rc;

	if (trusted == NULL) {
		if (default_trusted(file, o->alg, tc, sizeof(tc), e) == -1)
			return -1;
		trusted = tc;
	}
	if ((size_t)snprintf(sigpath, sizeof(sigpath), "%s%s",
	    o->sigpath != NULL ? o->sigpath : file,
	    o->sigpath != NULL ? "" : ".minisig") >= sizeof(sigpath))
		return err_set(e, ERR_INVALID, "%s: path too long", file);
	if (sig_sign_file(sk, o->alg, file, trusted, o->untrusted, &sig,
	    e) == -1 || sig_signature_format(&sig, &text, &len, e) == -1)
		return -1;
	rc = fileio_write_atomic(sigpath, text, len, 0644, e);
	free(text);
	if (rc == -1)
		return -1;
	if (list == NULL) {
		printf("Signed %s -> %s\n", file, sigpath);
		return 0;
	}
	sig_keyid_format(sig.keyid, id);
	obj = json_object_new_object();
	json_object_object_add(obj, "file", json_object_new_string(file));
	json_object_object_add(obj, "signature_file",
	    json_object_new_string(sigpath));
	json_object_object_add(obj, "key_id", json_object_new_string(id));
	json_object_object_add(obj, "algorithm",
	    json_object_new_string(sig_alg_name(sig.alg)));
	json_object_object_add(obj, "trusted_comment",
	    json_object_new_string(sig.trusted_comment));
	json_object_array_add(list, obj);
	return 0;
}

static const struct option sign_longopts[] = {
	{ "password-file", required_argument, NULL, 'F' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
exec_sign(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct sign_opts o = { NULL, NULL, NULL, NULL, NULL,
		SIG_ALG_PREHASHED };
	struct sig_seckey *sk = NULL;
	json_object *list = NULL;
	const char *hint;
	struct err e;
	int c, i, comment, rc = CLI_EXIT_OK;

	err_clear(&e);
	while ((c = getopt_long(argc, argv, "s:t:c:lx:h", sign_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 's':
			o.skpath = optarg;
			break;
		case 't':
			o.trusted = optarg;
			break;
		case 'c':
			o.untrusted = optarg;
			break;
		case 'l':
			o.alg = SIG_ALG_LEGACY;
			break;
		case 'x':
			o.sigpath = optarg;
			break;
		case 'F':
			o.pwfile = optarg;
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
	if (optind == argc)
		return cli_usage(cmd, "no FILE to sign");
	if (o.sigpath != NULL && argc - optind > 1)
		return cli_usage(cmd, "-x names one signature file, but %d "
		    "files were given", argc - optind);
	/* Refuse bad comments before asking for a password. */
	if ((o.trusted != NULL && sig_comment_check(o.trusted, 1, &e) == -1) ||
	    (o.untrusted != NULL && sig_comment_check(o.untrusted, 0,
	    &e) == -1))
		return cli_error(cmd, &e, "comments are single lines");
	if (cli_seckey_load(o.skpath, o.pwfile, &sk, &e) == -1) {
		if ((hint = cli_seckey_hint(&e)) == NULL)
			return cli_error(cmd, &e, NULL);
		return cli_error(cmd, &e, "%s", hint);
	}
	if (cli_json)
		list = json_object_new_array();
	for (i = optind; i < argc; i++) {
		if (sign_one(&o, sk, argv[i], list, &e) == -1) {
			comment = strncmp(e.code, "comment_", 8) == 0;
			rc = cli_error(cmd, &e, comment ?
			    "give a trusted comment with -t" : NULL);
			break;
		}
	}
	sig_seckey_free(sk);
	if (list != NULL && rc == CLI_EXIT_OK)
		cli_json_print(list);
	else if (list != NULL)
		json_object_put(list);
	return rc;
}

const struct cli_cmd cli_cmd_sign = {
	"sign",
	"[-l] [-s SECKEY] [-t TRUSTED_COMMENT] [-c UNTRUSTED_COMMENT] "
	    "[-x SIGFILE] [--password-file F] [--json] FILE...",
	"sign files with a secret key (writes FILE.minisig)",
	"  -s SECKEY           secret key file (default ~/.uk/uk.key)\n"
	"  -t COMMENT          trusted (signed) comment (default\n"
	"                      \"timestamp:<unix>\\tfile:<name>\\thashed\")\n"
	"  -c COMMENT          untrusted comment (default \"signature from uk "
	"secret key\")\n"
	"  -l                  legacy signature of the whole file (not "
	"prehashed)\n"
	"  -x SIGFILE          signature file (default FILE.minisig; one "
	"FILE only)\n"
	"  --password-file F   read the password from the first line of F\n"
	"                      (else UK_PASSWORD, else the terminal)\n"
	"  --json              print the results as JSON\n"
	"  -h, --help          show this help\n",
	exec_sign,
};
