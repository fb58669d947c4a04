/*
 * cache.c - the content-addressed image cache (cache.h): downloads land in
 * tmp/, are verified (size, SHA-256, img_open()) and renamed into sha256/.
 * One download per digest: a table of the downloads in flight, under the
 * cache's mutex, where later callers for the same digest wait.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "image.h"

/* A download in flight, shared by every call that asked for its digest. */
struct inflight {
	struct inflight *next;
	char sha256[SHA256_HEX_LEN + 1];
	int listed;		/* in the table, where callers find it */
	unsigned users;		/* calls holding it, downloader included */
	int done;		/* rc and err are final */
	int rc;
	struct err err;
	uint64_t bytes, total;	/* the last progress report */
	unsigned long seq;	/* bumped by each report */
};

struct cache {
	char root[PATH_MAX];
	char shadir[PATH_MAX];
	char tmpdir[PATH_MAX];
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* a download reported progress or ended */
	struct inflight *inflight;
};

/* The downloader's progress callback: tells the waiters, then its own
 * caller. */
struct relay {
	struct cache *c;
	struct inflight *f;
	const struct fetch_progress *user;	/* may be NULL */
	int user_stopped;
};

static int
check_hex(const char *sha256, struct err *e)
{
	size_t i;

	for (i = 0; sha256 != NULL && i < SHA256_HEX_LEN; i++)
		if (!((sha256[i] >= '0' && sha256[i] <= '9') ||
		    (sha256[i] >= 'a' && sha256[i] <= 'f')))
			break;
	if (sha256 == NULL || i != SHA256_HEX_LEN || sha256[i] != '\0')
		return err_set(e, ERR_INVALID, "'%.80s' is not a SHA-256 (64 "
		    "lowercase hex digits)", sha256 != NULL ? sha256 : "");
	return 0;
}

static int
mkdir_p(const char *path, struct err *e)
{
	char buf[PATH_MAX], ch;
	struct stat st;
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return err_set(e, ERR_INVALID, "bad cache directory '%.80s'",
		    path);
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		ch = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return err_errno(e, ERR_IO, errno, "mkdir %s", buf);
		buf[i] = ch;
	}
	if (stat(path, &st) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_IO, "%s: not a directory", path);
	return 0;
}

/* Removes what a crash left in tmp/: nothing there is anyone's yet. */
static int
empty_tmp(const char *dir, struct err *e)
{
	struct dirent *d;
	DIR *dp;
	int rc = 0;

	if ((dp = opendir(dir)) == NULL)
		return err_errno(e, ERR_IO, errno, "%s", dir);
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dp), d->d_name, 0) == -1 &&
		    errno != ENOENT) {
			rc = err_errno(e, ERR_IO, errno, "removing %s/%s", dir,
			    d->d_name);
			break;
		}
	}
	closedir(dp);
	return rc;
}

struct cache *
cache_open(const char *root, struct err *e)
{
	struct cache *c;

	if (root == NULL) {
		err_set(e, ERR_INVALID, "no cache directory");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	if ((size_t)snprintf(c->root, sizeof(c->root), "%s", root) >=
	    sizeof(c->root) - 80) {
		err_set(e, ERR_INVALID, "%.80s...: path too long", root);
		goto fail;
	}
	snprintf(c->shadir, sizeof(c->shadir), "%s/sha256", root);
	snprintf(c->tmpdir, sizeof(c->tmpdir), "%s/tmp", root);
	if (mkdir_p(c->root, e) == -1 || mkdir_p(c->shadir, e) == -1 ||
	    mkdir_p(c->tmpdir, e) == -1 || empty_tmp(c->tmpdir, e) == -1)
		goto fail;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	return c;
fail:
	free(c);
	return NULL;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

int
cache_path(const struct cache *c, const char *sha256, char *path,
    size_t pathsz, struct err *e)
{
	if (check_hex(sha256, e) == -1)
		return -1;
	if ((size_t)snprintf(path, pathsz, "%s/%s", c->shadir, sha256) >=
	    pathsz)
		return err_set(e, ERR_INVALID, "path buffer too small");
	return 0;
}

/* Is the image there?  Without the lock: a file appears by rename, so
 * it is either absent or complete. */
static int
lookup(const struct cache *c, const char *sha256, uint64_t size,
    const char *path, struct err *e)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return err_set(e, "image_not_cached", "image %s is not "
			    "in the cache", sha256);
		return err_errno(e, ERR_IO, errno, "%s", path);
	}
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_IO, "%s: not a regular file", path);
	if (size != 0 && (uint64_t)st.st_size != size)
		return err_set(e, "image_not_cached", "image %s in the cache "
		    "has %lld bytes, not %" PRIu64, sha256,
		    (long long)st.st_size, size);
	return 0;
}

int
cache_get(struct cache *c, const char *sha256, uint64_t size, char *path,
    size_t pathsz, struct err *e)
{
	if (cache_path(c, sha256, path, pathsz, e) == -1)
		return -1;
	return lookup(c, sha256, size, path, e);
}

/* Takes (f) out of the table, so that later calls start afresh.  Lock
 * held. */
static void
unlist(struct cache *c, struct inflight *f)
{
	struct inflight **pp;

	if (!f->listed)
		return;
	for (pp = &c->inflight; *pp != f; pp = &(*pp)->next)
		continue;
	*pp = f->next;
	f->listed = 0;
}

/* Drops a call's hold on (f); the last one, always after the download
 * ended, frees it.  Lock held. */
static void
release(struct cache *c, struct inflight *f)
{
	if (f->done)
		unlist(c, f);
	if (--f->users == 0 && !f->listed)
		free(f);
}

static int
relay_progress(void *arg, uint64_t done, uint64_t total)
{
	struct relay *r = arg;
	struct cache *c = r->c;
	int stop;

	pthread_mutex_lock(&c->lock);
	r->f->bytes = done;
	r->f->total = total;
	r->f->seq++;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (r->user == NULL || r->user->fn == NULL || r->user_stopped)
		return 0;
	if (r->user->fn(r->user->arg, done, total) == 0)
		return 0;
	/* Stop only a download nobody else waits for; taking it out of the
	 * table first, so that nobody starts waiting for it now. */
	pthread_mutex_lock(&c->lock);
	stop = r->f->users == 1;
	if (stop)
		unlist(c, r->f);
	else
		r->user_stopped = 1;
	pthread_mutex_unlock(&c->lock);
	return stop;
}

/* Waits for another call's download of the same digest.  Lock held. */
static int
wait_for(struct cache *c, struct inflight *f, const struct fetch_opts *o,
    struct err *e)
{
	const struct fetch_progress *p = o != NULL ? &o->progress : NULL;
	unsigned long seen = 0;
	uint64_t bytes, total;
	int stop;

	while (!f->done) {
		pthread_cond_wait(&c->cond, &c->lock);
		if (f->done || p == NULL || p->fn == NULL || f->seq == seen)
			continue;
		seen = f->seq;
		bytes = f->bytes;
		total = f->total;
		pthread_mutex_unlock(&c->lock);
		stop = p->fn(p->arg, bytes, total);
		pthread_mutex_lock(&c->lock);
		if (stop)
			return err_set(e, "fetch_aborted", "waiting for the "
			    "download of image %s: cancelled", f->sha256);
	}
	if (f->rc == -1) {
		if (e != NULL)
			*e = f->err;
		return -1;
	}
	if (p != NULL && p->fn != NULL) {
		total = f->total;
		pthread_mutex_unlock(&c->lock);
		p->fn(p->arg, total, total);
		pthread_mutex_lock(&c->lock);
	}
	return 0;
}

/* Fetches, validates and renames into place: the downloader's part. */
static int
download(struct cache *c, struct inflight *f, const char *const *urls,
    size_t nurls, uint64_t size, const struct fetch_opts *opts,
    const char *path, struct err *e)
{
	char tmp[PATH_MAX];
	uint8_t digest[SHA256_LEN];
	struct fetch_opts o;
	struct relay r;
	struct err ie;
	struct img *img;
	int fd;

	if (hex_decode(f->sha256, digest, SHA256_LEN) == -1)
		return err_set(e, ERR_INVALID, "bad digest %s", f->sha256);
	if (opts != NULL)
		o = *opts;
	else
		fetch_opts_init(&o);
	r.c = c;
	r.f = f;
	r.user = opts != NULL ? &opts->progress : NULL;
	r.user_stopped = 0;
	o.progress.fn = relay_progress;
	o.progress.arg = &r;
	if (fetch_file(urls, nurls, c->tmpdir, size, digest, &o, tmp,
	    sizeof(tmp), NULL, e) == -1)
		return -1;
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) == -1) {
		err_errno(e, ERR_IO, errno, "%s", tmp);
		unlink(tmp);
		return -1;
	}
	/* A digest only says the bytes are the publisher's; whether they
	 * are an image the daemon can boot is checked once, here. */
	err_clear(&ie);
	if ((img = img_open_fd(fd, tmp, &ie)) == NULL) {
		err_set(e, "image_invalid", "image %s matches its digest but "
		    "is not a valid image: [%s] %s", f->sha256, ie.code,
		    ie.msg);
		close(fd);
		unlink(tmp);
		return -1;
	}
	img_close(img);
	return fileio_commit(fd, tmp, path, 0644, e);
}

int
cache_fetch(struct cache *c, const char *const *urls, size_t nurls,
    uint64_t size, const char *sha256, const struct fetch_opts *opts,
    char *path, size_t pathsz, struct err *e)
{
	struct inflight *f;
	struct err de;
	int rc;

	if (cache_path(c, sha256, path, pathsz, e) == -1)
		return -1;
	pthread_mutex_lock(&c->lock);
	for (f = c->inflight; f != NULL; f = f->next)
		if (strcmp(f->sha256, sha256) == 0)
			break;
	if (f != NULL) {
		f->users++;
		rc = wait_for(c, f, opts, e);
		release(c, f);
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	/* Under the lock: a download ends by renaming before it leaves the
	 * table, so a digest absent from both is really not here. */
	if (lookup(c, sha256, size, path, NULL) == 0) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		pthread_mutex_unlock(&c->lock);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	memcpy(f->sha256, sha256, sizeof(f->sha256));
	f->users = 1;
	f->listed = 1;
	f->next = c->inflight;
	c->inflight = f;
	pthread_mutex_unlock(&c->lock);

	err_clear(&de);
	rc = download(c, f, urls, nurls, size, opts, path, &de);

	pthread_mutex_lock(&c->lock);
	f->rc = rc;
	f->err = de;
	f->done = 1;
	pthread_cond_broadcast(&c->cond);
	release(c, f);
	pthread_mutex_unlock(&c->lock);
	if (rc == -1 && e != NULL)
		*e = de;
	return rc;
}

int
cache_remove(struct cache *c, const char *sha256, struct err *e)
{
	char path[PATH_MAX];

	if (cache_path(c, sha256, path, sizeof(path), e) == -1)
		return -1;
	if (unlink(path) == -1) {
		if (errno == ENOENT)
			return err_set(e, "image_not_cached", "image %s is not "
			    "in the cache", sha256);
		return err_errno(e, ERR_IO, errno, "removing %s", path);
	}
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cache_entry *)a)->sha256,
	    ((const struct cache_entry *)b)->sha256);
}

int
cache_list(struct cache *c, struct cache_entry **out, size_t *n,
    struct err *e)
{
	struct cache_entry *v = NULL, *nv;
	size_t len = 0, cap = 0;
	struct dirent *d;
	struct stat st;
	DIR *dp;

	*out = NULL;
	*n = 0;
	if ((dp = opendir(c->shadir)) == NULL)
		return err_errno(e, ERR_IO, errno, "%s", c->shadir);
	while ((d = readdir(dp)) != NULL) {
		if (check_hex(d->d_name, NULL) == -1)
			continue;
		if (fstatat(dirfd(dp), d->d_name, &st, 0) == -1) {
			if (errno == ENOENT)	/* removed meanwhile */
				continue;
			err_errno(e, ERR_IO, errno, "%s/%s", c->shadir,
			    d->d_name);
			goto fail;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				err_set(e, ERR_NOMEM, "out of memory");
				goto fail;
			}
			v = nv;
		}
		memcpy(v[len].sha256, d->d_name, sizeof(v[len].sha256));
		v[len].size = (uint64_t)st.st_size;
		v[len].mtime = st.st_mtime;
		len++;
	}
	closedir(dp);
	if (len > 0)
		qsort(v, len, sizeof(*v), entry_cmp);
	*out = v;
	*n = len;
	return 0;
fail:
	closedir(dp);
	free(v);
	return -1;
}
