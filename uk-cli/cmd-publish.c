/*
 * uk publish: add images to a feed, bump its serial, set its dates, sign it.
 *
 * Order matters for "nothing half-written": the secret key is loaded and
 * every image validated before anything is written; the feed and its
 * signature are then written to temporary files and renamed, feed first.
 * A crash between the two renames leaves a new feed beside the old
 * signature, which every verifier refuses; it never leaves a torn file.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "feed.h"
#include "fileio.h"
#include "image.h"
#include "minisign.h"

struct publish_opts {
	const char *feed;
	const char *key;
	const char *uri;
	const char *name;
	const char *summary;
	const char *password_file;
	enum feed_stability stability;
	long long expires_in;
	int force;
	int json;
};

/* Seconds since the epoch, or SOURCE_DATE_EPOCH when set, so that a build
 * that publishes can reproduce its feed bytes. */
static time_t
publish_now(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (s != NULL && *s != '\0') {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0' && v > 0)
			return (time_t)v;
	}
	return time(NULL);
}

/* Loads the existing feed, or makes a new one when (path) does not exist
 * (*created set). */
static struct feed *
publish_load_feed(const struct publish_opts *o, const char *first_name,
    int *created, struct err *e)
{
	struct feed *f = NULL;
	char *buf;
	size_t len;
	char summary[FEED_SUMMARY_MAX];

	*created = 0;
	if (access(o->feed, F_OK) == 0) {
		if (fileio_read(o->feed, FEED_MAX_SIZE, &buf, &len, e) == -1)
			return NULL;
		if (feed_parse(buf, len, &f, e) == -1) {
			free(buf);
			err_prefix(e, "%s", o->feed);
			return NULL;
		}
		free(buf);
		if (o->uri != NULL && strcmp(o->uri, f->uri) != 0) {
			err_set(e, "publish_uri_mismatch",
			    "%s is published at %s, not %s", o->feed, f->uri,
			    o->uri);
			feed_free(f);
			return NULL;
		}
		return f;
	}
	if (errno != ENOENT) {
		err_errno(e, ERR_IO, errno, "%s", o->feed);
		return NULL;
	}
	if (o->uri == NULL) {
		err_set(e, "publish_missing_uri",
		    "%s does not exist, and a new feed needs --uri", o->feed);
		return NULL;
	}
	if ((f = feed_new(o->uri, o->name ? o->name : first_name, e)) == NULL)
		return NULL;
	snprintf(summary, sizeof(summary), "the %s unikernel", f->name);
	if (feed_set_summary(f, o->summary ? o->summary : summary, e) == -1) {
		feed_free(f);
		return NULL;
	}
	*created = 1;
	return f;
}

/* The href of (image) as seen from the feed at (feed_path): relative, and
 * only for images in the feed's directory or below it, so that copying the
 * directory to a web server publishes both. */
static int
publish_href(const char *feed_path, const char *image, char *out,
    size_t outsz, struct err *e)
{
	char fdir[PATH_MAX], ipath[PATH_MAX], *copy;
	size_t n;

	if ((copy = strdup(feed_path)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (realpath(dirname(copy), fdir) == NULL) {
		free(copy);
		return err_errno(e, ERR_IO, errno, "%s", feed_path);
	}
	free(copy);
	if (realpath(image, ipath) == NULL)
		return err_errno(e, ERR_IO, errno, "%s", image);
	n = strlen(fdir);
	if (strcmp(fdir, "/") == 0)
		n = 0;
	if (strncmp(ipath, fdir, n) != 0 || ipath[n] != '/')
		return err_set(e, "publish_image_outside_feed",
		    "%s is not in the feed's directory %s", image, fdir);
	if ((size_t)snprintf(out, outsz, "%s", ipath + n + 1) >= outsz)
		return err_set(e, ERR_INVALID, "%s: path too long", image);
	return 0;
}

static int
publish_add_image(struct feed *f, const struct publish_opts *o,
    const char *path, time_t now, struct err *e)
{
	struct feed_impl impl;
	const struct img_view *v;
	struct img *img;
	uint8_t digest[SHA256_LEN];
	struct tm tm;
	char href[FEED_URL_MAX];
	int rc = -1;

	if ((img = img_open(path, e)) == NULL)
		return -1;
	v = img_view(img);
	if (strcmp(v->manifest.name, f->name) != 0) {
		err_set(e, "publish_name_mismatch",
		    "%s holds '%s', but the feed is for '%s'", path,
		    v->manifest.name, f->name);
		goto out;
	}
	memset(&impl, 0, sizeof(impl));
	snprintf(impl.version, sizeof(impl.version), "%s", v->manifest.version);
	impl.stability = o->stability;
	gmtime_r(&now, &tm);
	strftime(impl.released, sizeof(impl.released), "%Y-%m-%d", &tm);
	snprintf(impl.arch, sizeof(impl.arch), "x86_64");
	snprintf(impl.boot, sizeof(impl.boot), "pvh");
	if (v->manifest.platforms & MANIFEST_PLATFORM_KVM)
		impl.platforms |= FEED_PLATFORM_KVM;
	if (v->manifest.platforms & MANIFEST_PLATFORM_XEN)
		impl.platforms |= FEED_PLATFORM_XEN;
	impl.requires.memory = v->manifest.memory_mib;
	impl.requires.net = v->manifest.net;
	impl.requires.console = v->manifest.console;
	if (publish_href(o->feed, path, href, sizeof(href), e) == -1)
		goto out;
	impl.image.href = href;
	impl.image.size = img_size(img);
	img_sha256(img, digest);
	hex_encode(digest, sizeof(digest), impl.image.sha256);
	rc = feed_impl_upsert(f, &impl, e);
	if (rc == -1)
		err_prefix(e, "%s", path);
out:
	img_close(img);
	return rc;
}

/* Refuses to re-sign a feed whose current signature came from another key,
 * unless --force: a wrong -s would otherwise lock every host out. */
static int
publish_check_key(const struct publish_opts *o, const struct sig_pubkey *pk,
    struct err *e)
{
	struct sig_signature old;
	char path[PATH_MAX], a[SIG_KEYID_HEX_LEN + 1], b[SIG_KEYID_HEX_LEN + 1];

	if (o->force)
		return 0;
	snprintf(path, sizeof(path), "%s.minisig", o->feed);
	if (access(path, F_OK) == -1)
		return 0;
	if (sig_signature_load(path, &old, e) == -1)
		return -1;
	if (memcmp(old.keyid, pk->keyid, SIG_KEYID_LEN) == 0)
		return 0;
	sig_keyid_format(old.keyid, a);
	sig_keyid_format(pk->keyid, b);
	return err_set(e, "publish_key_changed",
	    "%s is signed by key %s, not by this key %s", o->feed, a, b);
}

static int
publish_write(const struct publish_opts *o, const struct sig_seckey *sk,
    const struct feed *f, struct err *e)
{
	struct sig_signature sig;
	char tc[FEED_URL_MAX + 96], exp[FEED_TIME_LEN + 1];
	char sigpath[PATH_MAX], tmpf[PATH_MAX + 16], tmps[PATH_MAX + 16];
	char *doc = NULL, *sigtext = NULL;
	size_t doclen, siglen;
	int fdf = -1, fds = -1, rc = -1;

	if (feed_serialize(f, &doc, &doclen, e) == -1)
		return -1;
	feed_format_time(f->expires, exp);
	snprintf(tc, sizeof(tc), "uri:%s\tserial:%llu\texpires:%s", f->uri,
	    (unsigned long long)f->serial, exp);
	if (sig_sign(sk, SIG_ALG_PREHASHED, doc, doclen, tc, NULL, &sig, e) ==
	    -1 || sig_signature_format(&sig, &sigtext, &siglen, e) == -1)
		goto out;
	snprintf(sigpath, sizeof(sigpath), "%s.minisig", o->feed);
	if ((fdf = fileio_tmp_open(o->feed, tmpf, sizeof(tmpf), e)) == -1)
		goto out;
	if ((fds = fileio_tmp_open(sigpath, tmps, sizeof(tmps), e)) == -1)
		goto out;
	if (fileio_write_all(fdf, doc, doclen, e) == -1 ||
	    fileio_write_all(fds, sigtext, siglen, e) == -1)
		goto out;
	rc = fileio_commit(fdf, tmpf, o->feed, 0644, e);
	fdf = -1;
	if (rc == 0) {
		rc = fileio_commit(fds, tmps, sigpath, 0644, e);
		fds = -1;
	}
out:
	if (fdf != -1) {
		close(fdf);
		unlink(tmpf);
	}
	if (fds != -1) {
		close(fds);
		unlink(tmps);
	}
	free(doc);
	free(sigtext);
	return rc;
}

static void
publish_report(const struct publish_opts *o, const struct feed *f,
    const struct sig_pubkey *pk, int created, int nimages)
{
	char keyid[SIG_KEYID_HEX_LEN + 1], exp[FEED_TIME_LEN + 1];
	json_object *j, *vs;
	size_t i;

	sig_keyid_format(pk->keyid, keyid);
	feed_format_time(f->expires, exp);
	if (!o->json) {
		printf("%s %s: serial %llu, %zu implementation%s, expires %s\n",
		    created ? "created" : "updated", o->feed,
		    (unsigned long long)f->serial, f->nimpls,
		    f->nimpls == 1 ? "" : "s", exp);
		for (i = 0; i < f->nimpls; i++)
			printf("  %-12s %-9s %s\n", f->impls[i].version,
			    feed_stability_name(f->impls[i].stability),
			    f->impls[i].image.href);
		printf("signed by key %s: %s.minisig\n", keyid, o->feed);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "feed", json_object_new_string(o->feed));
	json_object_object_add(j, "created", json_object_new_boolean(created));
	json_object_object_add(j, "uri", json_object_new_string(f->uri));
	json_object_object_add(j, "serial", json_object_new_int64(
	    (int64_t)f->serial));
	json_object_object_add(j, "expires", json_object_new_string(exp));
	json_object_object_add(j, "key_id", json_object_new_string(keyid));
	json_object_object_add(j, "images_added",
	    json_object_new_int(nimages));
	vs = json_object_new_array();
	for (i = 0; i < f->nimpls; i++)
		json_object_array_add(vs,
		    json_object_new_string(f->impls[i].version));
	json_object_object_add(j, "versions", vs);
	cli_json_print(j);
}

static const struct option publish_longopts[] = {
	{ "feed", required_argument, NULL, 'F' },
	{ "key", required_argument, NULL, 's' },
	{ "uri", required_argument, NULL, 'u' },
	{ "name", required_argument, NULL, 'n' },
	{ "summary", required_argument, NULL, 'm' },
	{ "stability", required_argument, NULL, 'S' },
	{ "expires-in", required_argument, NULL, 'e' },
	{ "password-file", required_argument, NULL, 'P' },
	{ "force", no_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
publish_parse_args(const struct cli_cmd *cmd, int argc, char **argv,
    struct publish_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->stability = FEED_STABLE;
	o->expires_in = 30 * 86400;
	optind = 1;
	while ((c = getopt_long(argc, argv, "F:s:u:n:m:S:e:P:fjh",
	    publish_longopts, NULL)) != -1) {
		switch (c) {
		case 'F': o->feed = optarg; break;
		case 's': o->key = optarg; break;
		case 'u': o->uri = optarg; break;
		case 'n': o->name = optarg; break;
		case 'm': o->summary = optarg; break;
		case 'P': o->password_file = optarg; break;
		case 'f': o->force = 1; break;
		case 'j': o->json = cli_json = 1; break;
		case 'h': cli_help(cmd, stdout); return -2;
		case 'S':
			if (feed_stability_parse(optarg, &o->stability) == -1)
				return cli_usage(cmd, "unknown stability '%s' "
				    "(stable, testing, developer, buggy, "
				    "insecure)", optarg), -1;
			break;
		case 'e':
			if (cli_parse_duration(optarg, &o->expires_in) == -1 ||
			    o->expires_in <= 0)
				return cli_usage(cmd, "bad --expires-in '%s' "
				    "(e.g. 30d, 12h, 90m)", optarg), -1;
			break;
		default:
			return cli_usage(cmd, "unknown option"), -1;
		}
	}
	if (o->feed == NULL)
		return cli_usage(cmd, "--feed is required"), -1;
	if (o->key == NULL)
		return cli_usage(cmd, "--key is required"), -1;
	return 0;
}

static int
exec_publish(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct publish_opts o;
	struct sig_seckey *sk = NULL;
	struct sig_pubkey pk;
	struct feed *f = NULL;
	struct img *first;
	struct err e;
	char name[MANIFEST_NAME_MAX + 1] = "";
	time_t now = publish_now();
	int created, i, nimages, rc;

	err_clear(&e);
	if ((rc = publish_parse_args(cmd, argc, argv, &o)) != 0)
		return rc == -2 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	nimages = argc - optind;
	if (nimages > 0) {
		/* The first image names a new feed. */
		if ((first = img_open(argv[optind], &e)) == NULL)
			return cli_error(cmd, &e, "is %s a .ukimg made by "
			    "'uk pack'?", argv[optind]);
		snprintf(name, sizeof(name), "%s", img_view(first)->manifest.name);
		img_close(first);
	} else if (access(o.feed, F_OK) == -1) {
		return cli_usage(cmd, "name at least one IMAGE for a new feed");
	}
	if (cli_seckey_load(o.key, o.password_file, &sk, &e) == -1)
		return cli_error(cmd, &e, "%s", cli_seckey_hint(&e) ?
		    cli_seckey_hint(&e) : "is --key the file 'uk keygen' wrote?");
	sig_seckey_pubkey(sk, &pk);
	rc = CLI_EXIT_FAIL;
	if (publish_check_key(&o, &pk, &e) == -1) {
		cli_error(cmd, &e, "give --force to sign it with this key "
		    "anyway; hosts that trust the old key will refuse it");
		goto out;
	}
	if ((f = publish_load_feed(&o, name, &created, &e)) == NULL) {
		cli_error(cmd, &e, strcmp(e.code, "publish_missing_uri") ?
		    NULL : "give --uri URL, the address it will be served at");
		goto out;
	}
	for (i = optind; i < argc; i++)
		if (publish_add_image(f, &o, argv[i], now, &e) == -1) {
			cli_error(cmd, &e, "put images in the feed's directory "
			    "(or below it) so that hrefs stay relative");
			goto out;
		}
	if ((!created && feed_set_serial(f, f->serial + 1, &e) == -1) ||
	    feed_set_published(f, now, &e) == -1 ||
	    feed_set_expires(f, now + (time_t)o.expires_in, &e) == -1 ||
	    publish_write(&o, sk, f, &e) == -1) {
		cli_error(cmd, &e, NULL);
		goto out;
	}
	publish_report(&o, f, &pk, created, nimages);
	rc = CLI_EXIT_OK;
out:
	feed_free(f);
	sig_seckey_free(sk);
	return rc;
}

const struct cli_cmd cli_cmd_publish = {
	"publish",
	"--feed FEED.json --key SECKEY [--uri URL] [--name NAME]\n"
	"       [--summary TEXT] [--stability S] [--expires-in DURATION]\n"
	"       [--password-file FILE] [--force] [--json] [IMAGE...]",
	"add images to a feed, bump its serial and sign it",
	"  -F, --feed FEED.json      the feed to create or update\n"
	"  -s, --key SECKEY          the secret key to sign with\n"
	"  -u, --uri URL             where the feed will be served (required "
	"for a new feed)\n"
	"  -n, --name NAME           the feed's name (default: the first "
	"image's)\n"
	"  -m, --summary TEXT        one line about the unikernel (new feeds)\n"
	"  -S, --stability S         stable (default), testing, developer, "
	"buggy, insecure\n"
	"  -e, --expires-in DURATION how long the feed stays valid, e.g. 30d "
	"(default), 12h\n"
	"  -P, --password-file FILE  read the key's password from FILE "
	"(else UK_PASSWORD, else the terminal)\n"
	"  -f, --force               sign even if the feed was signed by "
	"another key\n"
	"  -j, --json                print the result as JSON\n"
	"  -h, --help                show this help\n"
	"\nImages must lie in the feed's directory or below it. With no "
	"IMAGE, an existing\nfeed is re-signed with a new serial and "
	"expiry.\n",
	exec_publish,
};
