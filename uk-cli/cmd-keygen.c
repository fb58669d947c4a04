#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "fileio.h"
#include "minisign.h"

#define DEFAULT_PUBKEY "./uk.pub"

struct keygen_opts {
	const char *pkpath, *skpath, *comment, *pwfile;
	int unencrypted, force;
	struct sig_kdf_limits limits;
};

static int
refuse_existing(const char *path, struct err *e)
{
	if (access(path, F_OK) == 0)
		return err_set(e, "key_exists", "%s already exists", path);
	return 0;
}

static int
parse_limits(const char *s, struct sig_kdf_limits *l)
{
	char *end;

	errno = 0;
	l->opslimit = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != ',')
		return -1;
	s = end + 1;
	l->memlimit = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	return 0;
}

/* Both files go to temporary names first and are renamed only when both
 * were written, so a failure leaves the old pair (or nothing) in place. */
static int
write_pair(const struct keygen_opts *o, const char *sktext, size_t sklen,
    const char *pktext, size_t pklen, struct err *e)
{
	char sktmp[4096], pktmp[4096];
	int skfd, pkfd;

	if ((skfd = fileio_tmp_open(o->skpath, sktmp, sizeof(sktmp), e)) == -1)
		return -1;
	if ((pkfd = fileio_tmp_open(o->pkpath, pktmp, sizeof(pktmp), e)) == -1)
		goto fail_sk;
	if (fileio_write_all(skfd, sktext, sklen, e) == -1 ||
	    fileio_write_all(pkfd, pktext, pklen, e) == -1)
		goto fail_both;
	if (fileio_commit(skfd, sktmp, o->skpath, 0600, e) == -1) {
		close(pkfd);
		unlink(pktmp);
		return -1;
	}
	return fileio_commit(pkfd, pktmp, o->pkpath, 0644, e);
fail_both:
	close(pkfd);
	unlink(pktmp);
fail_sk:
	close(skfd);
	unlink(sktmp);
	return -1;
}

static void
report(const struct keygen_opts *o, const struct sig_pubkey *pk)
{
	char id[SIG_KEYID_HEX_LEN + 1], b64[SIG_PUBKEY_B64_LEN + 1];
	json_object *obj;

	sig_keyid_format(pk->keyid, id);
	sig_pubkey_base64(pk, b64);
	if (!cli_json) {
		printf("Key id: %s\nPublic key: %s\n"
		    "The public key was saved as %s\n"
		    "The secret key was saved as %s (%s) - keep it secret.\n\n"
		    "Files signed with it can be verified with:\n"
		    "  uk verify -P %s FILE\n", id, b64, o->pkpath, o->skpath,
		    o->unencrypted ? "unencrypted" : "encrypted", b64);
		return;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "key_id", json_object_new_string(id));
	json_object_object_add(obj, "public_key", json_object_new_string(b64));
	json_object_object_add(obj, "public_key_file",
	    json_object_new_string(o->pkpath));
	json_object_object_add(obj, "secret_key_file",
	    json_object_new_string(o->skpath));
	json_object_object_add(obj, "encrypted",
	    json_object_new_boolean(!o->unencrypted));
	cli_json_print(obj);
}

/* Makes the key pair and writes it; (pw) NULL for an unencrypted key. */
static int
keygen(const struct keygen_opts *o, const char *pw, struct err *e)
{
	struct sig_seckey *sk = NULL;
	struct sig_pubkey pk;
	char *sktext = NULL, *pktext = NULL;
	size_t sklen, pklen;
	int rc = -1;

	if (sig_seckey_generate(&sk, &pk, e) == -1)
		return -1;
	if (sig_pubkey_format(&pk, o->comment, &pktext, &pklen, e) == -1 ||
	    sig_seckey_encode(sk, pw, &o->limits, NULL, &sktext, &sklen,
	    e) == -1)
		goto out;
	/* scrypt took seconds: look again before replacing anything. */
	if (!o->force && (refuse_existing(o->skpath, e) == -1 ||
	    refuse_existing(o->pkpath, e) == -1))
		goto out;
	if (write_pair(o, sktext, sklen, pktext, pklen, e) == -1)
		goto out;
	report(o, &pk);
	rc = 0;
out:
	sig_secret_free(sktext);
	free(pktext);
	sig_seckey_free(sk);
	return rc;
}

static const struct option keygen_longopts[] = {
	{ "password-file", required_argument, NULL, 'F' },
	{ "kdf-limits", required_argument, NULL, 'K' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
exec_keygen(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct keygen_opts o = { DEFAULT_PUBKEY, NULL, NULL, NULL, 0, 0,
		{ SIG_KDF_OPSLIMIT_DEFAULT, SIG_KDF_MEMLIMIT_DEFAULT } };
	char skdefault[4096], *pw = NULL;
	struct err e;
	int c, rc;

	err_clear(&e);
	while ((c = getopt_long(argc, argv, "p:s:Wfc:h", keygen_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'p':
			o.pkpath = optarg;
			break;
		case 's':
			o.skpath = optarg;
			break;
		case 'W':
			o.unencrypted = 1;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'c':
			o.comment = optarg;
			break;
		case 'F':
			o.pwfile = optarg;
			break;
		case 'K':
			if (parse_limits(optarg, &o.limits) == -1)
				return cli_usage(cmd, "--kdf-limits wants "
				    "OPSLIMIT,MEMLIMIT, not '%s'", optarg);
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
	if (optind != argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (o.unencrypted && o.pwfile != NULL)
		return cli_usage(cmd, "-W and --password-file contradict");
	if (o.comment != NULL && sig_comment_check(o.comment, 0, &e) == -1)
		return cli_error(cmd, &e, "give -c a single line");
	if (o.skpath == NULL) {
		if (cli_default_seckey(skdefault, sizeof(skdefault), 1, &e) == -1)
			return cli_error(cmd, &e, "name the key with -s");
		o.skpath = skdefault;
	}
	if (!o.force && (refuse_existing(o.skpath, &e) == -1 ||
	    refuse_existing(o.pkpath, &e) == -1))
		return cli_error(cmd, &e, "use -f to overwrite the key pair, "
		    "or -p/-s to write elsewhere");
	if (!o.unencrypted) {
		if (sodium_init() < 0 ||
		    (pw = sodium_malloc(SIG_PASSWORD_MAX)) == NULL) {
			err_set(&e, ERR_NOMEM, "out of locked memory");
			return cli_error(cmd, &e, NULL);
		}
		if (cli_password("Password for the new secret key: ", 1,
		    o.pwfile, pw, SIG_PASSWORD_MAX, &e) == -1) {
			sodium_free(pw);
			return cli_error(cmd, &e, "use --password-file F, set "
			    "UK_PASSWORD, or -W for an unencrypted key");
		}
		if (pw[0] == '\0') {
			sodium_free(pw);
			err_set(&e, "password_empty", "empty password");
			return cli_error(cmd, &e, "use -W for no password");
		}
	}
	rc = keygen(&o, pw, &e);
	if (pw != NULL)
		sodium_free(pw);
	if (rc == -1)
		return cli_error(cmd, &e, strcmp(e.code, "key_exists") == 0 ?
		    "use -f to overwrite the key pair" : NULL);
	return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_keygen = {
	"keygen",
	"[-Wf] [-p PUBKEY] [-s SECKEY] [-c COMMENT] [--password-file F] "
	    "[--kdf-limits O,M] [--json]",
	"make a minisign-compatible key pair for signing feeds",
	"  -p PUBKEY           public key file to write (default ./uk.pub)\n"
	"  -s SECKEY           secret key file to write\n"
	"                      (default ~/.uk/uk.key)\n"
	"  -W                  do not encrypt the secret key with a password\n"
	"  -f                  overwrite an existing key pair\n"
	"  -c COMMENT          untrusted comment of the public key file\n"
	"  --password-file F   read the password from the first line of F\n"
	"                      (else UK_PASSWORD, else the terminal, twice)\n"
	"  --kdf-limits O,M    scrypt opslimit,memlimit (default 33554432,\n"
	"                      1073741824 as minisign; lower only for tests)\n"
	"  --json              print the result as JSON\n"
	"  -h, --help          show this help\n",
	exec_keygen,
};
