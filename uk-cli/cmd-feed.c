/*
 * uk feed verify: everything a host checks on a feed, offline.
 *
 * The checks run in the order a host must run them: the signature first
 * (nothing in the feed, the trusted comment included, may be believed
 * before), then that the trusted comment repeats the feed's uri, serial and
 * expiry, then the uri, the dates and the serial against what the caller
 * last accepted -- feedcheck_feed(), which the daemon runs too -- and last
 * the digests of the images found on disk.
 * `uk feed add|ls|refresh` ask unikerneld to follow, list and fetch again
 * the feeds it runs from (POST /v1/feeds, GET /v1/feeds, POST
 * /v1/feeds/ID/refresh).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "feed.h"
#include "feedcheck.h"
#include "fileio.h"
#include "minisign.h"
#include "remote.h"
#include "trust.h"

struct fv_opts {
	const char *feed;
	const char *pubkey;
	const char *pubkey_b64;
	const char *sig;
	const char *uri;
	const char *last_serial;
	const char *last_sha256;
	int json;
};

/* What was checked, for the report. */
struct fv_state {
	struct sig_signature sig;
	struct feed *feed;
	uint8_t digest[SHA256_LEN];
	char domain[TRUST_DOMAIN_MAX];
	json_object *images;	/* per implementation, for --json */
	int images_checked;
};

/* The state last accepted, from --last-serial and --last-sha256: (*prev)
 * stays NULL without them. */
static int
fv_prev(const struct fv_opts *o, const struct fv_state *st,
    struct trust_feed_state *buf, const struct trust_feed_state **prev,
    struct err *e)
{
	char *end;

	*prev = NULL;
	if (o->last_serial == NULL)
		return 0;
	memset(buf, 0, sizeof(*buf));
	errno = 0;
	buf->serial = strtoull(o->last_serial, &end, 10);
	if (errno != 0 || *end != '\0' || *o->last_serial == '\0')
		return err_set(e, ERR_INVALID, "--last-serial '%s' is not a "
		    "number", o->last_serial);
	if (o->last_sha256 == NULL)
		memcpy(buf->sha256, st->digest, SHA256_LEN);
	else if (hex_decode(o->last_sha256, buf->sha256, SHA256_LEN) == -1)
		return err_set(e, ERR_INVALID, "--last-sha256 needs 64 hex "
		    "digits");
	*prev = buf;
	return 0;
}

/* Hashes the images whose href resolves to a file that exists here. */
static int
fv_check_images(const struct fv_opts *o, struct fv_state *st, struct err *e)
{
	char path[PATH_MAX], hex[SHA256_HEX_LEN + 1];
	const struct feed_impl *impl;
	uint8_t digest[SHA256_LEN];
	uint64_t size;
	json_object *j;
	const char *status;
	int bad = 0;
	size_t i;

	st->images = json_object_new_array();
	for (i = 0; i < st->feed->nimpls; i++) {
		impl = &st->feed->impls[i];
		status = "ok";
		if (feed_resolve_href(o->feed, impl->image.href, path,
		    sizeof(path), e) == -1)
			return -1;
		if (strstr(path, "://") != NULL || access(path, F_OK) == -1) {
			status = "not present locally";
		} else if (sha256_file(path, digest, &size, e) == -1) {
			return -1;
		} else if (size != impl->image.size) {
			status = "size mismatch";
			err_set(e, "image_size_mismatch", "%s: %" PRIu64
			    " bytes, the feed says %" PRIu64, path, size,
			    impl->image.size);
			bad++;
		} else {
			hex_encode(digest, SHA256_LEN, hex);
			if (strcmp(hex, impl->image.sha256) != 0) {
				status = "sha256 mismatch";
				err_set(e, "image_digest_mismatch", "%s: sha256 "
				    "%s, the feed says %s", path, hex,
				    impl->image.sha256);
				bad++;
			} else {
				st->images_checked++;
			}
		}
		if (!o->json)
			printf("image %s %s: %s (%s)\n", impl->version,
			    impl->arch, status, path);
		j = json_object_new_object();
		json_object_object_add(j, "version",
		    json_object_new_string(impl->version));
		json_object_object_add(j, "path", json_object_new_string(path));
		json_object_object_add(j, "status",
		    json_object_new_string(status));
		json_object_array_add(st->images, j);
	}
	return bad ? -1 : 0;
}

static int
fv_load(const struct fv_opts *o, struct fv_state *st, struct sig_pubkey *pk,
    struct err *e)
{
	char sigpath[PATH_MAX], *buf = NULL;
	size_t len;
	int rc = -1;

	if (o->pubkey_b64 != NULL) {
		if (sig_pubkey_from_base64(o->pubkey_b64, pk, e) == -1)
			return -1;
	} else if (sig_pubkey_load(o->pubkey, pk, e) == -1) {
		return -1;
	}
	if (o->sig != NULL)
		snprintf(sigpath, sizeof(sigpath), "%s", o->sig);
	else
		snprintf(sigpath, sizeof(sigpath), "%s.minisig", o->feed);
	if (sig_signature_load(sigpath, &st->sig, e) == -1)
		return -1;
	if (fileio_read(o->feed, FEED_MAX_SIZE, &buf, &len, e) == -1)
		return -1;
	sha256_buf(buf, len, st->digest);
	if (sig_verify(pk, &st->sig, buf, len, 0, e) == -1) {
		err_prefix(e, "%s", o->feed);
		goto out;
	}
	if (feed_parse(buf, len, &st->feed, e) == -1) {
		err_prefix(e, "%s", o->feed);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

static void
fv_report(const struct fv_opts *o, const struct fv_state *st,
    const struct sig_pubkey *pk)
{
	char keyid[SIG_KEYID_HEX_LEN + 1], exp[FEED_TIME_LEN + 1],
	    hex[SHA256_HEX_LEN + 1];
	json_object *j;

	sig_keyid_format(pk->keyid, keyid);
	feed_format_time(st->feed->expires, exp);
	hex_encode(st->digest, SHA256_LEN, hex);
	if (!o->json) {
		printf("feed %s: verified\n"
		    "  signature  key %s (%s)\n"
		    "  uri        %s (domain %s)\n"
		    "  serial     %" PRIu64 "\n"
		    "  expires    %s\n"
		    "  images     %d of %zu checked here\n", o->feed, keyid,
		    sig_alg_name(st->sig.alg), st->feed->uri, st->domain,
		    st->feed->serial, exp, st->images_checked,
		    st->feed->nimpls);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "feed", json_object_new_string(o->feed));
	json_object_object_add(j, "verified", json_object_new_boolean(1));
	json_object_object_add(j, "key_id", json_object_new_string(keyid));
	json_object_object_add(j, "algorithm",
	    json_object_new_string(sig_alg_name(st->sig.alg)));
	json_object_object_add(j, "trusted_comment",
	    json_object_new_string(st->sig.trusted_comment));
	json_object_object_add(j, "uri", json_object_new_string(st->feed->uri));
	json_object_object_add(j, "domain", json_object_new_string(st->domain));
	json_object_object_add(j, "serial",
	    json_object_new_int64((int64_t)st->feed->serial));
	json_object_object_add(j, "expires", json_object_new_string(exp));
	json_object_object_add(j, "sha256", json_object_new_string(hex));
	json_object_object_add(j, "images", json_object_get(st->images));
	cli_json_print(j);
}

static const struct option fv_longopts[] = {
	{ "pubkey", required_argument, NULL, 'p' },
	{ "pubkey-string", required_argument, NULL, 'P' },
	{ "sig", required_argument, NULL, 'x' },
	{ "uri", required_argument, NULL, 'u' },
	{ "last-serial", required_argument, NULL, 'l' },
	{ "last-sha256", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
fv_parse_args(const struct cli_cmd *cmd, int argc, char **argv,
    struct fv_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->pubkey = "uk.pub";
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:P:x:u:l:d:jh", fv_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'p': o->pubkey = optarg; break;
		case 'P': o->pubkey_b64 = optarg; break;
		case 'x': o->sig = optarg; break;
		case 'u': o->uri = optarg; break;
		case 'l': o->last_serial = optarg; break;
		case 'd': o->last_sha256 = optarg; break;
		case 'j': o->json = cli_json = 1; break;
		case 'h': cli_help(cmd, stdout); return 1;
		default: return cli_usage(cmd, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage(cmd, "name one FEED file");
	if (o->last_sha256 != NULL && o->last_serial == NULL)
		return cli_usage(cmd, "--last-sha256 goes with --last-serial");
	o->feed = argv[optind];
	return 0;
}

static int
feed_verify(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct fv_opts o;
	struct fv_state st;
	struct trust_feed_state prevbuf;
	const struct trust_feed_state *prev;
	struct sig_pubkey pk;
	struct err e;
	int rc;

	err_clear(&e);
	memset(&st, 0, sizeof(st));
	if ((rc = fv_parse_args(cmd, argc, argv, &o)) != 0)
		return rc == 1 ? CLI_EXIT_OK : rc;
	rc = CLI_EXIT_FAIL;
	if (fv_load(&o, &st, &pk, &e) == -1) {
		cli_error(cmd, &e, strncmp(e.code, "sig_", 4) == 0 ?
		    "check --pubkey: is this the publisher's key?" : NULL);
		goto out;
	}
	if (fv_prev(&o, &st, &prevbuf, &prev, &e) == -1 ||
	    feedcheck_feed(st.feed, st.sig.trusted_comment, st.digest, o.uri,
	    prev, time(NULL), st.domain, NULL, &e) == -1) {
		cli_error(cmd, &e, strcmp(e.code, "feed_expired") == 0 ?
		    "the publisher must re-sign it: uk publish --feed FEED "
		    "--key SECKEY" : NULL);
		goto out;
	}
	if (fv_check_images(&o, &st, &e) == -1) {
		cli_error(cmd, &e, NULL);
		goto out;
	}
	fv_report(&o, &st, &pk);
	rc = CLI_EXIT_OK;
out:
	if (st.images != NULL)
		json_object_put(st.images);
	feed_free(st.feed);
	return rc;
}

static const struct cli_cmd feed_verify_cmd = {
	"feed verify",
	"FEED [-p PUBKEY | -P KEYSTRING] [-x SIGFILE] [--uri URL]\n"
	"       [--last-serial N [--last-sha256 HEX]] [--json]",
	"check a feed's signature, uri, serial, expiry and local image digests",
	"  -p, --pubkey PUBKEY       the publisher's public key file "
	"(default uk.pub)\n"
	"  -P, --pubkey-string KEY   the public key as a base64 string\n"
	"  -x, --sig SIGFILE         the signature (default FEED.minisig)\n"
	"  -u, --uri URL             the URL the feed was fetched from: it "
	"must be the\n"
	"                            feed's uri or one of its mirrors\n"
	"  -l, --last-serial N       the serial last accepted: a lower one is "
	"a rollback\n"
	"  -d, --last-sha256 HEX     the digest of the feed last accepted: "
	"the same serial\n"
	"                            with other bytes is equivocation\n"
	"  -j, --json                print the result as JSON\n"
	"  -h, --help                show this help\n",
	feed_verify,
};

/* --- with the daemon --- */

/* "serial 3, expires 2026-12-21 10:00" of a feed object. */
static void
feed_summary(json_object *f, char *buf, size_t bufsz)
{
	char exp[32];
	int64_t serial;

	if (remote_int(f, "serial", &serial) == -1) {
		snprintf(buf, bufsz, "no version accepted yet");
		return;
	}
	snprintf(buf, bufsz, "serial %lld, expires %s", (long long)serial,
	    remote_date_of(f, "expires", exp, sizeof(exp)));
}

static int
feed_add(const struct cli_cmd *cmd, int argc, char **argv)
{
	char uri[FEED_URL_MAX + 1], sum[96], id[32];
	struct remote_args a;
	json_object *body, *f;
	struct client *c;
	struct err e;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, NULL, 1, 1, 1, "feed URL",
	    &a)) != -1)
		return rc;
	if ((c = remote_open(cmd, a.socket)) == NULL)
		return CLI_EXIT_FAIL;
	body = json_object_new_object();
	json_object_object_add(body, "uri",
	    json_object_new_string(a.operands[0]));
	err_clear(&e);
	if (client_call(c, "POST", "/v1/feeds", body, &f, &e) == -1) {
		if (strcmp(e.code, "store_exists") == 0)
			rc = cli_error(cmd, &e, "it is followed already; 'uk "
			    "feed refresh %s' fetches it again", a.operands[0]);
		else
			rc = cli_error(cmd, &e, NULL);
	} else if (cli_json) {
		cli_json_print(f);
		rc = CLI_EXIT_OK;
	} else {
		feed_summary(f, sum, sizeof(sum));
		printf("following %s (id %s): %s\n",
		    remote_clean(remote_str(f, "uri"), uri, sizeof(uri)),
		    remote_clean(remote_str(f, "id"), id, sizeof(id)), sum);
		json_object_put(f);
		rc = CLI_EXIT_OK;
	}
	json_object_put(body);
	client_free(c);
	return rc;
}

static int
feed_row(struct remote_table *t, json_object *f, int64_t now)
{
	char serial[24], exp[32], fetched[40];
	json_object *le = remote_obj(f, "last_error");

	return remote_table_add(t, (const char *const []){
	    remote_str(f, "id"), remote_num_of(f, "serial", serial,
	    sizeof(serial)), remote_date_of(f, "expires", exp, sizeof(exp)),
	    remote_ago_of(f, "last_fetched", now, "-", fetched,
	    sizeof(fetched)), le != NULL ? remote_str(le, "code") : "ok",
	    remote_str(f, "uri") });
}

static const struct remote_ls feed_list = {
	"/v1/feeds", "feeds",
	{ "ID", "SERIAL", "EXPIRES", "FETCHED", "STATUS", "URI" },
	feed_row,
};

static int
feed_ls(const struct cli_cmd *cmd, int argc, char **argv)
{
	return remote_ls(cmd, argc, argv, NULL, &feed_list);
}

/* A feed's id from (arg): 16 hex digits as they are (lowercased), or the
 * id of a URL.  -1 for anything else. */
static int
feed_id_of(const char *arg, char id[CLIENT_FEED_ID_LEN + 1])
{
	size_t i;

	if (strstr(arg, "://") != NULL) {
		client_feed_id(arg, id);
		return 0;
	}
	for (i = 0; i < CLIENT_FEED_ID_LEN; i++) {
		if (!((arg[i] >= '0' && arg[i] <= '9') ||
		    (arg[i] >= 'a' && arg[i] <= 'f') ||
		    (arg[i] >= 'A' && arg[i] <= 'F')))
			return -1;
		id[i] = (char)(arg[i] >= 'A' && arg[i] <= 'F' ?
		    arg[i] - 'A' + 'a' : arg[i]);
	}
	id[i] = '\0';
	return arg[i] == '\0' ? 0 : -1;
}

static int
feed_refresh(const struct cli_cmd *cmd, int argc, char **argv)
{
	char id[CLIENT_FEED_ID_LEN + 1], path[CLIENT_PATH_MAX],
	    uri[FEED_URL_MAX + 1], sum[96];
	struct remote_args a;
	json_object *reply, *f, *changed;
	struct client *c;
	struct err e;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, NULL, 1, 1, 1, "feed URL or "
	    "ID", &a)) != -1)
		return rc;
	if (feed_id_of(a.operands[0], id) == -1)
		return cli_usage(cmd, "'%s' is neither a feed's URL nor its id "
		    "(16 hex digits, as 'uk feed ls' shows)", a.operands[0]);
	snprintf(path, sizeof(path), "/v1/feeds/%s/refresh", id);
	if ((c = remote_open(cmd, a.socket)) == NULL)
		return CLI_EXIT_FAIL;
	err_clear(&e);
	if (client_call(c, "POST", path, NULL, &reply, &e) == -1) {
		if (strcmp(e.code, "store_not_found") == 0)
			rc = cli_error(cmd, &e, "unikerneld does not follow "
			    "it: 'uk feed add URL' does; 'uk feed ls' lists "
			    "them");
		else
			rc = cli_error(cmd, &e, NULL);
		client_free(c);
		return rc;
	}
	if (cli_json) {
		cli_json_print(reply);
	} else {
		f = remote_obj(reply, "feed");
		feed_summary(f, sum, sizeof(sum));
		printf("%s: %s, %s\n", remote_clean(remote_str(f, "uri"), uri,
		    sizeof(uri)), json_object_object_get_ex(reply, "changed",
		    &changed) && json_object_get_boolean(changed) ? "changed" :
		    "unchanged", sum);
		json_object_put(reply);
	}
	client_free(c);
	return CLI_EXIT_OK;
}

#define FEED_SOCKET_HELP REMOTE_SOCKET_HELP("   ")

static const struct cli_cmd feed_add_cmd = {
	"feed add",
	"URL [--json] [--socket PATH]",
	"have unikerneld fetch, check and follow a feed",
	"  --json          print the feed as JSON\n"
	FEED_SOCKET_HELP
	"\n"
	"The feed is checked as 'uk run' checks it: its key must be trusted "
	"for\n"
	"the URL's domain ('uk trust add').  Nothing is kept when it fails.\n",
	feed_add,
};

static const struct cli_cmd feed_ls_cmd = {
	"feed ls",
	"[--json] [--socket PATH]",
	"list the feeds unikerneld follows",
	"  --json          print the API's array of feeds\n"
	FEED_SOCKET_HELP
	"\n"
	"Columns: ID SERIAL EXPIRES FETCHED STATUS URI; STATUS is ok or the\n"
	"code of the last fetch's error.\n",
	feed_ls,
};

static const struct cli_cmd feed_refresh_cmd = {
	"feed refresh",
	"URL|ID [--json] [--socket PATH]",
	"have unikerneld fetch and check a feed again",
	"  --json          print {feed, changed} as JSON\n"
	FEED_SOCKET_HELP
	"\n"
	"ID is the feed's id: the first 16 hex digits of the SHA-256 of its "
	"URL.\n",
	feed_refresh,
};

static int
exec_feed(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct cli_cmd *const subs[] = { &feed_verify_cmd,
		&feed_add_cmd, &feed_ls_cmd, &feed_refresh_cmd, NULL };

	return remote_subcommand(cmd, argc, argv, subs);
}

const struct cli_cmd cli_cmd_feed = {
	"feed",
	"verify|add|ls|refresh [options]",
	"verify a feed; have unikerneld follow, list and refresh feeds",
	"Subcommands:\n"
	"  verify    check a feed's signature, uri, serial, expiry and the "
	"digests of\n"
	"            images present locally\n"
	"  add       have unikerneld fetch, check and follow a feed\n"
	"  ls        list the feeds unikerneld follows\n"
	"  refresh   have unikerneld fetch and check a feed again\n"
	"\n"
	"'uk feed SUBCOMMAND --help' lists a subcommand's options.\n",
	exec_feed,
};
