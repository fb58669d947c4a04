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
trust_row(struct remote_table *t, json_object *k, int64_t now)
{
	char doms[1024], added[32];
	json_object *d = NULL;

	(void)now;
	json_object_object_get_ex(k, "domains", &d);
	return remote_table_add(t, (const char *const []){
	    remote_str(k, "keyid"), remote_join(d, doms, sizeof(doms)),
	    remote_date_of(k, "added", added, sizeof(added)),
	    remote_str(k, "comment") });
}

static const struct remote_ls trust_list = {
	"/v1/keys", "keys",
	{ "KEYID", "DOMAINS", "ADDED", "COMMENT" },
	trust_row,
};

static int
trust_ls(const struct cli_cmd *cmd, int argc, char **argv)
{
	return remote_ls(cmd, argc, argv, NULL, &trust_list);
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

#define TRUST_SOCKET_HELP REMOTE_SOCKET_HELP("         ")

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
	static const struct cli_cmd *const subs[] = { &trust_add_cmd,
		&trust_ls_cmd, &trust_rm_cmd, NULL };

	return remote_subcommand(cmd, argc, argv, subs);
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
