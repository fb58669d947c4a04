/*
 * ukd.c - the daemon's core (ukd.h): per-thread store connections, the
 * change generation, backends opened on first use, and the feed checks
 * against the store (fetch, feedcheck, accept).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "feedcheck.h"
#include "fetch.h"
#include "fileio.h"
#include "supervise.h"
#include "ukd.h"

#define UKD_MAX_BACKENDS 8
#define UKD_SIG_MAX (64u * 1024)	/* a .minisig file */
#define UKD_PUBKEY_MAX 4096u		/* a uk.pub file */

struct ukd_slot {
	struct ukd *d;
	const struct backend_ops *ops;
	struct backend *b;
	struct backend_listener listener;
};

struct ukd {
	const struct config *cfg;
	void (*log)(int prio, const char *msg);
	char db[CONFIG_PATH_MAX + 32];
	struct cache *cache;
	struct sup *sup;
	time_t started;

	pthread_key_t store_key;
	struct store *own_store;	/* the opening thread's, closed last */

	pthread_mutex_t mu;		/* gen, cgen, backends, answer */
	pthread_cond_t cv;
	uint64_t gen;
	uint64_t cgen;			/* consoles written */
	char *answer;			/* ukd_cache_put() */
	size_t answer_len;
	uint64_t answer_gen;
	struct ukd_slot slots[UKD_MAX_BACKENDS];
	size_t nslots;
};

void
ukd_logf(struct ukd *d, int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (d->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->log(prio, msg);
}

const struct config *
ukd_config(const struct ukd *d)
{
	return d->cfg;
}

struct cache *
ukd_cache(struct ukd *d)
{
	return d->cache;
}

struct sup *
ukd_sup(struct ukd *d)
{
	return d->sup;
}

int64_t
ukd_uptime(const struct ukd *d)
{
	return (int64_t)(time(NULL) - d->started);
}

static void
store_key_close(void *p)
{
	store_close(p);
}

struct store *
ukd_store(struct ukd *d, struct err *e)
{
	struct store *st = pthread_getspecific(d->store_key);

	if (st != NULL)
		return st;
	if (store_open(d->db, &st, e) == -1)
		return NULL;
	if (pthread_setspecific(d->store_key, st) != 0) {
		store_close(st);
		err_set(e, ERR_NOMEM, "no room for a store connection");
		return NULL;
	}
	return st;
}

/* ---- generations ---- */

uint64_t
ukd_generation(struct ukd *d)
{
	uint64_t g;

	pthread_mutex_lock(&d->mu);
	g = d->gen;
	pthread_mutex_unlock(&d->mu);
	return g;
}

/* Waits until (*gen) or, when (cgen) is not NULL, (*cgen) is behind the
 * counters, or (timeout_ms) passed; both are updated. */
static void
wait_counters(struct ukd *d, uint64_t *gen, uint64_t *cgen,
    unsigned timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&d->mu);
	while (d->gen == *gen && (cgen == NULL || d->cgen == *cgen) &&
	    pthread_cond_timedwait(&d->cv, &d->mu, &ts) != ETIMEDOUT)
		;
	*gen = d->gen;
	if (cgen != NULL)
		*cgen = d->cgen;
	pthread_mutex_unlock(&d->mu);
}

uint64_t
ukd_wait(struct ukd *d, uint64_t seen, unsigned timeout_ms)
{
	wait_counters(d, &seen, NULL, timeout_ms);
	return seen;
}

static void
bump(struct ukd *d, uint64_t *counter)
{
	pthread_mutex_lock(&d->mu);
	(*counter)++;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void
ukd_notify(struct ukd *d)
{
	bump(d, &d->gen);
}

uint64_t
ukd_console_generation(struct ukd *d)
{
	uint64_t g;

	pthread_mutex_lock(&d->mu);
	g = d->cgen;
	pthread_mutex_unlock(&d->mu);
	return g;
}

void
ukd_console_notify(struct ukd *d)
{
	bump(d, &d->cgen);
}

void
ukd_wait_console(struct ukd *d, uint64_t *gen, uint64_t *cgen,
    unsigned timeout_ms)
{
	wait_counters(d, gen, cgen, timeout_ms);
}

int
ukd_cache_get(struct ukd *d, uint64_t gen, char **out, size_t *len)
{
	int rc = 0;

	pthread_mutex_lock(&d->mu);
	if (d->answer != NULL && d->answer_gen == gen && d->gen == gen) {
		if ((*out = malloc(d->answer_len)) == NULL)
			rc = -1;
		else {
			memcpy(*out, d->answer, d->answer_len);
			*len = d->answer_len;
			rc = 1;
		}
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

void
ukd_cache_put(struct ukd *d, uint64_t gen, const char *buf, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		return;
	memcpy(copy, buf, len);
	pthread_mutex_lock(&d->mu);
	/* kept only if nothing changed while it was made */
	if (d->gen == gen) {
		free(d->answer);
		d->answer = copy;
		d->answer_len = len;
		d->answer_gen = gen;
		copy = NULL;
	}
	pthread_mutex_unlock(&d->mu);
	free(copy);
}

/* ---- paths ---- */

int
ukd_instance_path(const struct ukd *d, const char *id, const char *suffix,
    char *out, size_t outsz, struct err *e)
{
	int n;

	n = snprintf(out, outsz, "%s/instances/%s%s%s", d->cfg->state_dir, id,
	    suffix != NULL ? "/" : "", suffix != NULL ? suffix : "");
	if (n < 0 || (size_t)n >= outsz)
		return err_set(e, ERR_INVALID, "state_dir %s: path too long",
		    d->cfg->state_dir);
	return 0;
}

static int
feed_path(const struct ukd *d, const char *uri, char *out, size_t outsz,
    struct err *e)
{
	char id[UKD_FEED_ID_LEN + 1];
	int n;

	ukd_feed_id(uri, id);
	n = snprintf(out, outsz, "%s/feeds/%s.json", d->cfg->state_dir, id);
	if (n < 0 || (size_t)n >= outsz)
		return err_set(e, ERR_INVALID, "state_dir %s: path too long",
		    d->cfg->state_dir);
	return 0;
}

/* ---- backends ---- */

static void
slot_event(void *arg, const struct backend_event *ev)
{
	struct ukd_slot *s = arg;

	if (s->d->sup != NULL)
		sup_backend_event(s->d->sup, s->ops->name, ev);
}

/* The configuration's string for a backend's open(). */
static const char *
backend_uri(const struct ukd *d, const char *name)
{
	if (strcmp(name, "libvirt") == 0 && d->cfg->libvirt_uri[0] != '\0')
		return d->cfg->libvirt_uri;
	if (strcmp(name, "qemu") == 0 && d->cfg->qemu[0] != '\0')
		return d->cfg->qemu;
	return NULL;
}

int
ukd_backend(struct ukd *d, const char *name, const struct backend_ops **ops,
    struct backend **b, struct err *e)
{
	const struct backend_ops *o;
	struct ukd_slot *s;
	size_t i;
	int rc = 0;

	if ((o = backend_find(name)) == NULL)
		return err_set(e, "backend_unknown", "no backend \"%s\" in this "
		    "unikerneld (built in: see GET /v1/version)", name);
	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->nslots; i++)
		if (d->slots[i].ops == o)
			break;
	if (i == d->nslots) {
		if (d->nslots == UKD_MAX_BACKENDS) {
			rc = err_set(e, "backend_unavailable", "too many backends");
			goto out;
		}
		s = &d->slots[i];
		s->d = d;
		s->ops = o;
		s->listener.fn = slot_event;
		s->listener.arg = s;
		/* opened under the lock: a second caller waits for the
		 * first one's result rather than opening it twice */
		if (o->open(backend_uri(d, name), &s->listener, &s->b, e) == -1) {
			if (e != NULL && strcmp(e->code, "backend_unavailable") != 0)
				err_prefix(e, "backend %s", name);
			rc = -1;
			goto out;
		}
		d->nslots++;
		ukd_logf(d, LOG_INFO, "backend %s opened", name);
	}
	*ops = d->slots[i].ops;
	*b = d->slots[i].b;
out:
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* ---- feeds ---- */

void
ukd_feed_id(const char *uri, char id[UKD_FEED_ID_LEN + 1])
{
	uint8_t h[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	sha256_buf(uri, strlen(uri), h);
	hex_encode(h, SHA256_LEN, hex);
	memcpy(id, hex, UKD_FEED_ID_LEN);
	id[UKD_FEED_ID_LEN] = '\0';
}

void
ukd_feed_result_free(struct ukd_feed_result *r)
{
	feed_free(r->feed);
	r->feed = NULL;
}

void
ukd_fetch_opts(const struct ukd *d, struct fetch_opts *o)
{
	fetch_opts_init(o);
	o->retries = d->cfg->fetch_retries;
	if (d->cfg->fetch_timeout != 0)
		o->timeout_ms = (long)d->cfg->fetch_timeout * 1000;
}

/* The publisher's key next to the feed, or -1 when there is none. */
static int
fetch_offered(const struct ukd *d, const char *url, struct sig_pubkey *pk)
{
	char pkurl[FEED_URL_MAX + 16];
	struct fetch_opts o;
	const char *urls[1];
	char *buf = NULL;
	size_t len;
	int rc = -1;

	if (feedcheck_pubkey_url(url, pkurl, sizeof(pkurl), NULL) == -1)
		return -1;
	ukd_fetch_opts(d, &o);
	o.retries = 0;
	urls[0] = pkurl;
	if (fetch_mem(urls, 1, UKD_PUBKEY_MAX, &o, &buf, &len, NULL, NULL) == 0)
		rc = sig_pubkey_parse(buf, len, pk, NULL);
	free(buf);
	return rc;
}

static json_object *
key_details(const struct feedcheck_result *res, const struct sig_pubkey *pk)
{
	char b64[SIG_PUBKEY_B64_LEN + 1];
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "keyid", json_object_new_string(res->keyid));
	json_object_object_add(o, "domain",
	    json_object_new_string(res->domain));
	if (res->offered_signed && pk != NULL) {
		sig_pubkey_base64(pk, b64);
		json_object_object_add(o, "pubkey", json_object_new_string(b64));
	}
	return o;
}

/* Checks the fetched bytes against the store's trust and state. */
static int
feed_check(struct ukd *d, struct store *st, const char *url, const char *feed,
    size_t feed_len, const char *sig, size_t sig_len,
    struct feedcheck_result *res, json_object **details, struct err *e)
{
	struct trust_key *keys = NULL;
	struct store_feed_state prev;
	struct feedcheck_input in;
	struct sig_pubkey offered;
	struct err e2;
	size_t nkeys = 0;
	int have_prev, rc;

	if (store_trust_load(st, &keys, &nkeys, e) == -1)
		return -1;
	have_prev = store_feed_state(st, url, &prev, &e2) == 0;
	if (!have_prev && strcmp(e2.code, "store_not_found") != 0) {
		*e = e2;
		store_trust_free(keys);
		return -1;
	}
	memset(&in, 0, sizeof(in));
	in.url = url;
	in.feed = feed;
	in.feed_len = feed_len;
	in.sig = sig;
	in.sig_len = sig_len;
	in.keys = keys;
	in.nkeys = nkeys;
	in.prev = have_prev ? &prev.trust : NULL;
	in.now = (int64_t)time(NULL);
	rc = feedcheck_verify(&in, res, e);
	if (rc == -1 && (strcmp(e->code, "unknown_key") == 0 ||
	    strcmp(e->code, "key_not_trusted_for_domain") == 0)) {
		/* again with the publisher's key, for a message that
		 * spells it out and for the client's prompt */
		if (fetch_offered(d, url, &offered) == 0) {
			in.offered = &offered;
			rc = feedcheck_verify(&in, res, e);
		}
		if (rc == -1 && details != NULL)
			*details = key_details(res,
			    in.offered != NULL ? &offered : NULL);
	}
	store_trust_free(keys);
	return rc;
}

int
ukd_feed_update(struct ukd *d, const char *url, struct ukd_feed_result *r,
    json_object **details, struct err *e)
{
	char sigurl[FEED_URL_MAX + 16], path[CONFIG_PATH_MAX + 64];
	struct feedcheck_result res;
	struct store_feed sf;
	struct fetch_opts o;
	const char *urls[1];
	char *feed = NULL, *sig = NULL;
	size_t feed_len, sig_len;
	enum trust_serial_result verdict;
	struct store *st;
	struct err e2;
	int followed, rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&res, 0, sizeof(res));
	if (details != NULL)
		*details = NULL;
	if ((st = ukd_store(d, e)) == NULL)
		return -1;
	if (strlen(url) > FEED_URL_MAX)
		return err_set(e, "uri_malformed", "feed URL longer than %u "
		    "bytes", FEED_URL_MAX);
	followed = store_feed_get(st, url, &sf, &e2) == 0;
	if (followed)
		store_feed_free(&sf);
	else if (strcmp(e2.code, "store_not_found") != 0) {
		*e = e2;
		return -1;
	}

	ukd_fetch_opts(d, &o);
	urls[0] = url;
	snprintf(sigurl, sizeof(sigurl), "%s.minisig", url);
	if (fetch_mem(urls, 1, FEED_MAX_SIZE, &o, &feed, &feed_len, NULL, e)
	    == -1) {
		err_prefix(e, "feed");
		goto fail;
	}
	urls[0] = sigurl;
	if (fetch_mem(urls, 1, UKD_SIG_MAX, &o, &sig, &sig_len, NULL, e) == -1) {
		err_prefix(e, "feed signature");
		goto fail;
	}
	if (feed_check(d, st, url, feed, feed_len, sig, sig_len, &res, details,
	    e) == -1)
		goto fail;

	if (!followed) {
		if (store_feed_add(st, url, e) == -1 &&
		    strcmp(e->code, "store_exists") != 0)
			goto fail;
		r->added = 1;
	}
	if (store_feed_accept(st, url, res.feed->serial, res.sha256,
	    (int64_t)res.feed->expires, &verdict, e) == -1) {
		if (r->added)
			(void)store_feed_remove(st, url, NULL);
		r->added = 0;
		goto fail;
	}
	/* the document, for selections and updates without a fetch: kept
	 * again only when it is another one (or was lost) */
	if (feed_path(d, url, path, sizeof(path), e) == -1 ||
	    ((!res.unchanged || access(path, F_OK) == -1) &&
	    fileio_write_atomic(path, feed, feed_len, 0600, e) == -1))
		ukd_logf(d, LOG_WARNING, "keeping feed %s: %s", url, e->msg);
	(void)store_feed_fetched(st, url, NULL, NULL, NULL);
	r->feed = res.feed;
	res.feed = NULL;
	memcpy(r->keyid, res.keyid, sizeof(r->keyid));
	memcpy(r->domain, res.domain, sizeof(r->domain));
	memcpy(r->reason, res.reason, sizeof(r->reason));
	r->unchanged = res.unchanged;
	ukd_logf(d, LOG_INFO, "feed %s: serial %llu accepted%s; %s", url,
	    (unsigned long long)r->feed->serial,
	    r->unchanged ? " (unchanged)" : "", r->reason);
	err_clear(e);
	rc = 0;
	goto out;
fail:
	if (followed)
		(void)store_feed_fetched(st, url, e->code, e->msg, NULL);
	ukd_logf(d, LOG_INFO, "feed %s refused: %s [%s]", url, e->msg,
	    e->code);
out:
	feed_free(res.feed);
	free(feed);
	free(sig);
	ukd_notify(d);
	return rc;
}

int
ukd_feed_load(struct ukd *d, const char *uri, struct feed **out,
    struct err *e)
{
	char path[CONFIG_PATH_MAX + 64];
	char *buf;
	size_t len;
	int rc;

	if (feed_path(d, uri, path, sizeof(path), e) == -1)
		return -1;
	if (fileio_read(path, FEED_MAX_SIZE, &buf, &len, e) == -1) {
		if (access(path, F_OK) == -1 && errno == ENOENT)
			return err_set(e, "store_not_found", "no feed accepted "
			    "from %s", uri);
		return -1;
	}
	rc = feed_parse(buf, len, out, e);
	free(buf);
	return rc;
}

/* ---- images ---- */

/* rm -r of a directory of plain files (the unpacked images, an instance's
 * directory: one level of subdirectories at most is handled by recursion). */
int
ukd_remove_tree(const char *path)
{
	char sub[CONFIG_PATH_MAX + 600];
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int rc = 0;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    de->d_name) >= sizeof(sub) || ukd_remove_tree(sub) == -1)
			rc = -1;
	}
	closedir(dir);
	if (rmdir(path) == -1 && errno != ENOENT)
		rc = -1;
	return rc;
}

int
ukd_image_remove(struct ukd *d, const char *sha256, struct err *e)
{
	char path[CONFIG_PATH_MAX + 128];
	struct store *st;
	struct err e2;

	if ((st = ukd_store(d, e)) == NULL)
		return -1;
	if (store_image_remove(st, sha256, e) == -1)
		return -1;
	if (cache_remove(d->cache, sha256, &e2) == -1 &&
	    strcmp(e2.code, "image_not_cached") != 0)
		ukd_logf(d, LOG_WARNING, "removing image %s: %s", sha256,
		    e2.msg);
	snprintf(path, sizeof(path), "%s/images/unpacked/%s",
	    d->cfg->state_dir, sha256);
	if (ukd_remove_tree(path) == -1)
		ukd_logf(d, LOG_WARNING, "removing %s: %s", path,
		    strerror(errno));
	ukd_logf(d, LOG_INFO, "image %s removed", sha256);
	ukd_notify(d);
	return 0;
}

/* ---- opening ---- */

int
ukd_open(const struct ukd_params *p, struct ukd **out, struct err *e)
{
	char path[CONFIG_PATH_MAX + 32];
	struct ukd *d;
	int fd;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return err_set(e, ERR_NOMEM, "no memory for the daemon");
	d->cfg = p->cfg;
	d->log = p->log;
	d->started = time(NULL);
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if (pthread_key_create(&d->store_key, store_key_close) != 0) {
		free(d);
		return err_set(e, ERR_NOMEM, "no thread key for the store");
	}
	snprintf(d->db, sizeof(d->db), "%s/unikerneld.db", p->cfg->state_dir);
	/* the database is the daemon's alone (SQLite gives its -wal and
	 * -shm files the database's mode): made 0600 before SQLite would
	 * make it with the umask's */
	if ((fd = open(d->db, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600))
	    != -1) {
		(void)fchmod(fd, 0600);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/images", p->cfg->state_dir);
	if (fetch_init(e) == -1 ||
	    (d->own_store = ukd_store(d, e)) == NULL ||
	    (d->cache = cache_open(path, e)) == NULL ||
	    sup_open(d, &d->sup, e) == -1) {
		ukd_close(d);
		return -1;
	}
	sup_reconcile(d->sup);
	*out = d;
	return 0;
}

void
ukd_close(struct ukd *d)
{
	size_t i;

	if (d == NULL)
		return;
	sup_close(d->sup);
	d->sup = NULL;
	for (i = 0; i < d->nslots; i++)
		d->slots[i].ops->close(d->slots[i].b);
	cache_close(d->cache);
	if (d->own_store != NULL) {
		pthread_setspecific(d->store_key, NULL);
		store_close(d->own_store);
	}
	pthread_key_delete(d->store_key);
	free(d->answer);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
