/*
 * uk trust add|ls|rm: the keys unikerneld trusts, each for the domains
 * whose feeds it may sign (POST, GET, DELETE /v1/keys).
 *
 * `uk trust add --key PUBKEY --domain D` is the command the daemon's
 * unknown_key refusal spells out (unikerneld/feedcheck.c): keep it working.
 */
#include "config.h"

#include <string.h>

#include "minisign.h"
#include "remote.h"

#define TRUST_DOMAINS_MAX 64

static int
trust_add(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *key = NULL, *keyfile = NULL, *comment = NULL;
	const char *domains[TRUST_DOMAINS_MAX];
	size_t ndomains = 0, i;
	const struct remote_opt opts[] = {
		{ "key", 'k', NULL, &key, NULL, NULL, 0 },
		{ "key-file", 'f', NULL, &keyfile, NULL, NULL, 0 },
		{ "domain", 'd', NULL, NULL, domains, &ndomains,
		    TRUST_DOMAINS_MAX },
		{ "comment", 'c', NULL, &comment, NULL, NULL, 0 },
		{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
	};
	char b64[SIG_PUBKEY_B64_LEN + 1], keyid[SIG_KEYID_HEX_LEN + 1],
	    shown[256];
	struct remote_args a;
	struct sig_pubkey pk;
	json_object *body, *arr, *k;
	struct client *c;
	struct err e;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, opts, 0, 0, 0, "", &a)) != -1)
		return rc;
	if ((key == NULL) == (keyfile == NULL))
		return cli_usage(cmd, "give the key with --key or --key-file");
	if (ndomains == 0)
		return cli_usage(cmd, "give at least one --domain");
	err_clear(&e);
	if (key != NULL && sig_pubkey_from_base64(key, &pk, &e) == -1)
		return cli_usage(cmd, "--key: %s", e.msg);
	if (keyfile != NULL && sig_pubkey_load(keyfile, &pk, &e) == -1)
		return cli_error(cmd, &e, "--key-file names a public key file, "
		    "as 'uk keygen' writes it");
	sig_pubkey_base64(&pk, b64);
	sig_keyid_format(pk.keyid, keyid);
	body = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < ndomains; i++)
		json_object_array_add(arr, json_object_new_string(domains[i]));
	json_object_object_add(body, "pubkey", json_object_new_string(b64));
	json_object_object_add(body, "domains", arr);
	if (comment != NULL)
		json_object_object_add(body, "comment",
		    json_object_new_string(comment));
	if ((c = remote_open(cmd, a.socket)) == NULL) {
		json_object_put(body);
		return CLI_EXIT_FAIL;
	}
	if (client_call(c, "POST", "/v1/keys", body, &k, &e) == -1) {
		rc = cli_error(cmd, &e, NULL);
	} else {
		arr = NULL;
		json_object_object_get_ex(k, "domains", &arr);
		printf("trusted key %s for %s\n", keyid, remote_join(arr,
		    shown, sizeof(shown)));
		json_object_put(k);
		rc = CLI_EXIT_OK;
	}
	json_object_put(body);
	client_free(c);
	return rc;
}

static int
trust_table(json_object *arr)
{
	static const char *const head[] = { "KEYID", "DOMAINS", "ADDED",
		"COMMENT" };
	char doms[1024], added[32];
	struct remote_table t;
	const char *cells[4];
	json_object *k, *d;
	int64_t v;
	size_t i;

	remote_table_init(&t, 4, head);
	for (i = 0; i < json_object_array_length(arr); i++) {
		k = json_object_array_get_idx(arr, i);
		d = NULL;
		json_object_object_get_ex(k, "domains", &d);
		remote_join(d, doms, sizeof(doms));
		remote_date(remote_int(k, "added", &v) == 0 ? v : -1, added,
		    sizeof(added));
		cells[0] = remote_str(k, "keyid");
		cells[1] = doms;
		cells[2] = added;
		cells[3] = remote_str(k, "comment");
		if (remote_table_add(&t, cells) == -1)
			break;
	}
	remote_table_print(&t, stdout);
	return CLI_EXIT_OK;
}

static int
trust_ls(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct remote_args a;
	json_object *reply, *arr;
	struct client *c;
	struct err e;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, NULL, 1, 0, 0, "", &a)) != -1)
		return rc;
	if ((c = remote_open(cmd, a.socket)) == NULL)
		return CLI_EXIT_FAIL;
	err_clear(&e);
	if (client_call(c, "GET", "/v1/keys", NULL, &reply, &e) == -1) {
		rc = cli_error(cmd, &e, NULL);
		client_free(c);
		return rc;
	}
	if ((arr = remote_list(reply, "keys", &e)) == NULL) {
		rc = cli_error(cmd, &e, NULL);
	} else if (cli_json) {
		cli_json_print(json_object_get(arr));
		rc = CLI_EXIT_OK;
	} else {
		rc = trust_table(arr);
	}
	json_object_put(reply);
	client_free(c);
	return rc;
}

static int
trust_rm(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *domain = NULL;
	const struct remote_opt opts[] = {
		{ "domain", 'd', NULL, &domain, NULL, NULL, 0 },
		{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
	};
	char keyid[SIG_KEYID_HEX_LEN + 1], base[64], path[CLIENT_PATH_MAX],
	    shown[256];
	uint8_t raw[SIG_KEYID_LEN];
	struct remote_args a;
	struct client *c;
	struct err e;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, opts, 0, 1, 1, "KEYID",
	    &a)) != -1)
		return rc;
	if (sig_keyid_parse(a.operands[0], raw) == -1)
		return cli_usage(cmd, "'%s' is not a key id (16 hex digits, as "
		    "'uk trust ls' shows)", a.operands[0]);
	sig_keyid_format(raw, keyid);
	snprintf(base, sizeof(base), "/v1/keys?keyid=%s%s", keyid,
	    domain != NULL ? "&domain=" : "");
	err_clear(&e);
	if (client_path(path, sizeof(path), base, domain, NULL, &e) == -1)
		return cli_error(cmd, &e, NULL);
	if ((c = remote_open(cmd, a.socket)) == NULL)
		return CLI_EXIT_FAIL;
	if (client_call(c, "DELETE", path, NULL, NULL, &e) == -1) {
		if (strcmp(e.code, "key_last_domain") == 0)
			rc = cli_error(cmd, &e, "to stop trusting the key "
			    "altogether: uk trust rm %s", keyid);
		else
			rc = cli_error(cmd, &e, NULL);
	} else {
		if (domain != NULL)
			printf("key %s no longer trusted for %s\n", keyid,
			    remote_clean(domain, shown, sizeof(shown)));
		else
			printf("key %s no longer trusted\n", keyid);
		rc = CLI_EXIT_OK;
	}
	client_free(c);
	return rc;
}

#define TRUST_SOCKET_HELP \
	"  --socket PATH         unikerneld's socket (default: $UK_SOCKET, "  \
	"else\n"                                                               \
	"                        /run/unikerneld.sock)\n"                      \
	"  -h, --help            show this help\n"

static const struct cli_cmd trust_add_cmd = {
	"trust add",
	"--key PUBKEY|--key-file FILE --domain D [--domain D2...]\n"
	"    [--comment C] [--socket PATH]",
	"trust a publisher's key for the feeds of some domains",
	"  -k, --key PUBKEY      the public key, its base64 line (as minisign "
	"-P)\n"
	"  -f, --key-file FILE   the public key file (uk.pub, as uk keygen "
	"writes)\n"
	"  -d, --domain D        a domain the key may sign feeds for: "
	"example.org,\n"
	"                        or *.example.org for its subdomains; "
	"repeatable\n"
	"  -c, --comment C       a note kept with the key\n"
	TRUST_SOCKET_HELP
	"\n"
	"For a key trusted already, the domains are added to its own.\n",
	trust_add,
};

static const struct cli_cmd trust_ls_cmd = {
	"trust ls",
	"[--json] [--socket PATH]",
	"list the keys unikerneld trusts and their domains",
	"  --json                print the API's array of keys\n"
	TRUST_SOCKET_HELP,
	trust_ls,
};

static const struct cli_cmd trust_rm_cmd = {
	"trust rm",
	"KEYID [--domain D] [--socket PATH]",
	"stop trusting a key, or trusting it for one domain",
	"  -d, --domain D        only for this domain (not the key's last "
	"one)\n"
	TRUST_SOCKET_HELP,
	trust_rm,
};

static int
exec_trust(const struct cli_cmd *cmd, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		cli_help(cmd, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "add") == 0)
		return trust_add(&trust_add_cmd, argc - 1, argv + 1);
	if (strcmp(argv[1], "ls") == 0)
		return trust_ls(&trust_ls_cmd, argc - 1, argv + 1);
	if (strcmp(argv[1], "rm") == 0)
		return trust_rm(&trust_rm_cmd, argc - 1, argv + 1);
	return cli_usage(cmd, "unknown subcommand '%s'", argv[1]);
}

const struct cli_cmd cli_cmd_trust = {
	"trust",
	"add|ls|rm [options]",
	"manage the keys unikerneld trusts for feeds",
	"Subcommands:\n"
	"  add    trust a publisher's key for the feeds of some domains\n"
	"  ls     list the keys unikerneld trusts and their domains\n"
	"  rm     stop trusting a key, or trusting it for one domain\n"
	"\n"
	"'uk trust SUBCOMMAND --help' lists a subcommand's options.\n",
	exec_trust,
};
