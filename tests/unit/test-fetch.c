/*
 * test-fetch.c - fetch.h and cache.h against a real HTTP server on
 * 127.0.0.1 that the test starts (tests/http/server.py): good downloads,
 * each failure with its code, retries with back-off, mirrors, file: URLs,
 * progress, one download for two callers, and nothing left behind after a
 * failure.  No traffic leaves 127.0.0.1.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "fetch.h"
#include "image.h"
#include "tap.h"

/* Short enough that every path made from them fits in PATH_MAX. */
static char tmpdir[1024], www[1100], logpath[1100];
static char base[64];		/* "http://127.0.0.1:PORT" */
static pid_t server_pid = -1;
static unsigned tag;		/* makes each request's query unique */

/* The files served. */
struct file {
	const char *name;
	uint64_t size;
	uint8_t sha[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
};
static struct file img, notimg, bigf, small;

static void
bail(const char *what)
{
	printf("Bail out! %s\n", what);
	if (server_pid > 0)
		kill(server_pid, SIGTERM);
	exit(1);
}

static void
stop_server(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = -1;
	}
}

static void
start_server(void)
{
	char script[PATH_MAX], line[32];
	const char *top = getenv("top_srcdir");
	int pfd[2];
	ssize_t n;
	size_t len = 0;

	snprintf(script, sizeof(script), "%s/tests/http/server.py",
	    top != NULL ? top : "..");
	if (pipe(pfd) == -1)
		bail("pipe");
	if ((server_pid = fork()) == -1)
		bail("fork");
	if (server_pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execlp("python3", "python3", script, www, logpath,
		    (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (len < sizeof(line) - 1 &&
	    (n = read(pfd[0], line + len, sizeof(line) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(line, '\n', len) != NULL)
			break;
	}
	close(pfd[0]);
	line[len] = '\0';
	if (atoi(line) <= 0)
		bail("the test server did not start");
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", atoi(line));
}

/* How many requests the server logged whose line contains (needle). */
static int
requests(const char *needle)
{
	char line[2048];
	FILE *fp;
	int n = 0;

	if ((fp = fopen(logpath, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(fp);
	return n;
}

/* "BASE/PATH?t=N" (or "&t=N" when PATH has a query); the tag goes to
 * (t) for requests(). */
static const char *
url(char *buf, size_t sz, const char *path, char *t, size_t tsz)
{
	++tag;
	snprintf(buf, sz, "%s/%s%ct=%u", base, path,
	    strchr(path, '?') != NULL ? '&' : '?', tag);
	/* The tag ends the logged line: "t=1" must not match "t=12". */
	snprintf(t, tsz, "t=%u\n", tag);
	return buf;
}

static int
count_dir(const char *dir)
{
	struct dirent *d;
	DIR *dp;
	int n = 0;

	if ((dp = opendir(dir)) == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
write_random(const char *name, size_t size, struct file *f)
{
	char path[PATH_MAX + 32];
	unsigned char *buf;
	struct err e;
	size_t i;

	if ((buf = malloc(size)) == NULL)
		bail("malloc");
	for (i = 0; i < size; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	snprintf(path, sizeof(path), "%s/%s", www, name);
	if (fileio_write_atomic(path, buf, size, 0644, &e) == -1)
		bail(e.msg);
	f->name = name;
	f->size = size;
	sha256_buf(buf, size, f->sha);
	hex_encode(f->sha, SHA256_LEN, f->hex);
	free(buf);
}

static void
setup(void)
{
	struct img_pack_opts o;
	struct img_pack_result r;
	const char *kernel = getenv("FLOOR_ELF");
	char out[PATH_MAX + 32];
	struct err e;

	if (kernel == NULL || access(kernel, R_OK) == -1) {
		printf("1..0 # SKIP FLOOR_ELF (the floor kernel) is not "
		    "built\n");
		exit(0);
	}
	if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP python3 is not available\n");
		exit(0);
	}
	/* The test's traffic stays on 127.0.0.1, whatever the environment
	 * says about proxies. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	snprintf(tmpdir, sizeof(tmpdir), "%s/ukfetch.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp");
	snprintf(www, sizeof(www), "%s/www", tmpdir);
	snprintf(logpath, sizeof(logpath), "%s/server.log", tmpdir);
	mkdir(www, 0755);

	memset(&o, 0, sizeof(o));
	snprintf(out, sizeof(out), "%s/hello.ukimg", www);
	o.kernel = kernel;
	o.out = out;
	o.name = "floor";
	o.version = "1.0";
	o.memory_mib = 2;
	o.vcpus = 1;
	o.console = 1;
	o.platforms = MANIFEST_PLATFORM_KVM;
	if (img_pack(&o, &r, &e) == -1) {
		printf("# [%s] %s\n", e.code, e.msg);
		bail("img_pack");
	}
	img.name = "hello.ukimg";
	img.size = r.size;
	memcpy(img.sha, r.sha256, SHA256_LEN);
	hex_encode(img.sha, SHA256_LEN, img.hex);
	write_random("notimg.bin", 100000, &notimg);
	write_random("big.bin", 2 << 20, &bigf);
	write_random("feed.json", 3000, &small);
	start_server();
}

static void
opts_fast(struct fetch_opts *o)
{
	fetch_opts_init(o);
	o->retries = 2;
	o->backoff_ms = 20;
	o->connect_timeout_ms = 2000;
	o->timeout_ms = 20000;
}

/* The call returned (rc); it must have failed with (code).  Shows the
 * message either way, so that the log reads as a list of refusals. */
static int
refused(int rc, const struct err *e, const char *code, const char *name)
{
	int good = rc == -1 && strcmp(e->code, code) == 0;

	if (!ok(good, "%s: [%s]", name, code))
		diag("rc %d [%s] %s", rc, rc == -1 ? e->code : "", e->msg);
	else
		diag("%s", e->msg);
	return good;
}

/* ---- fetch_mem ---- */

static int
mem(const char *u, size_t max, const struct fetch_opts *o, size_t *len,
    struct err *e)
{
	const char *urls[1] = { u };
	char *buf = NULL;
	int rc;

	rc = fetch_mem(urls, 1, max, o, &buf, len, NULL, e);
	if (rc == -1 && buf != NULL) {
		diag("a failed fetch_mem returned a buffer");
		rc = 0;
	}
	free(buf);
	return rc;
}

/* A port nothing listens on. */
static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int sock, port;

	sock = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sock == -1 || bind(sock, (struct sockaddr *)&sa, sizeof(sa)) ==
	    -1 || getsockname(sock, (struct sockaddr *)&sa, &salen) == -1)
		bail("socket");
	port = ntohs(sa.sin_port);
	close(sock);
	return port;
}

static void
test_mem_errors(void)
{
	static const struct {
		const char *url, *code;
	} bad[] = {
		{ "ftp://127.0.0.1/feed.json", "fetch_bad_url" },
		{ "gopher://127.0.0.1/", "fetch_bad_url" },
		{ "no url at all", "fetch_bad_url" },
		{ "http://", "fetch_bad_url" },
	};
	char u[256], t[32], path[PATH_MAX], *buf;
	struct fetch_opts o;
	struct err e;
	size_t len, i;
	double t0, dt;
	int rc;

	opts_fast(&o);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(mem(bad[i].url, 1 << 20, &o, &len, &e), &e, bad[i].code,
		    bad[i].url);
	snprintf(path, sizeof(path), "file://%s/nothere.json", www);
	refused(mem(path, 1 << 20, &o, &len, &e), &e,
	    "fetch_file_unreadable", "a missing file");
	snprintf(path, sizeof(path), "redirect-file%s/feed.json", www);
	refused(mem(url(u, sizeof(u), path, t, sizeof(t)), 1 << 20, &o, &len,
	    &e), &e, "fetch_bad_url", "a redirect to a file: URL");

	/* Timeouts: a total one, then the low-speed limit. */
	o.retries = 0;
	o.timeout_ms = 700;
	url(u, sizeof(u), "slow/feed.json?chunk=1&interval=0.2", t, sizeof(t));
	t0 = now_s();
	refused(mem(u, 1 << 20, &o, &len, &e), &e, "fetch_timeout",
	    "a trickle, over the total timeout");
	dt = now_s() - t0;
	ok(dt < 5, "gave up after %.2f s", dt);
	o.timeout_ms = 0;
	o.low_speed_bytes = 1000;
	o.low_speed_secs = 1;
	url(u, sizeof(u), "slow/feed.json?chunk=1&interval=0.2", t, sizeof(t));
	refused(mem(u, 1 << 20, &o, &len, &e), &e, "fetch_timeout",
	    "a trickle, below the low-speed limit");

	opts_fast(&o);
	o.retries = 1;
	url(u, sizeof(u), "truncate/feed.json", t, sizeof(t));
	refused(mem(u, 1 << 20, &o, &len, &e), &e, "fetch_truncated",
	    "a truncated body");
	is_int(requests(t), 2, "a truncated transfer is retried");
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/feed.json", closed_port());
	refused(mem(u, 1 << 20, &o, &len, &e), &e, "fetch_connect",
	    "connection refused");
	rc = fetch_mem(NULL, 0, 1 << 20, &o, &buf, &len, NULL, &e);
	refused(rc, &e, "invalid_argument", "no URL");
}

static void
test_mem(void)
{
	char u[256], u2[256], t[32], t2[32], *buf = NULL, path[PATH_MAX];
	const char *urls[2];
	struct fetch_opts o;
	size_t len, used;
	struct err e;
	double t0, dt;
	int rc;

	opts_fast(&o);
	urls[0] = url(u, sizeof(u), "feed.json", t, sizeof(t));
	ok(fetch_mem(urls, 1, 1 << 20, &o, &buf, &len, &used, &e) == 0 &&
	    len == small.size && used == 0 && buf[len] == '\0',
	    "fetch_mem: a file over http");
	free(buf);

	refused(mem(url(u, sizeof(u), "feed.json", t, sizeof(t)), 1000, &o,
	    &len, &e), &e, "fetch_too_large", "over the cap, announced");
	url(u, sizeof(u), "big/feed.json?extra=100000&nolength=1", t,
	    sizeof(t));
	refused(mem(u, 50000, &o, &len, &e), &e, "fetch_too_large",
	    "over the cap, unannounced");

	url(u, sizeof(u), "missing.json", t, sizeof(t));
	if (refused(mem(u, 1 << 20, &o, &len, &e), &e, "fetch_http_status",
	    "404"))
		ok(strstr(e.msg, "404") != NULL && strstr(e.msg, u) != NULL,
		    "the message has the status and the URL");
	is_int(requests(t), 1, "404 is not retried");
	url(u, sizeof(u), "status/403/99/feed.json", t, sizeof(t));
	refused(mem(u, 1 << 20, &o, &len, &e), &e, "fetch_http_status", "403");
	is_int(requests(t), 1, "403 is not retried");

	o.backoff_ms = 100;
	url(u, sizeof(u), "status/503/2/feed.json", t, sizeof(t));
	t0 = now_s();
	ok(mem(u, 1 << 20, &o, &len, &e) == 0 && len == small.size,
	    "503 twice, then the file: retried");
	dt = now_s() - t0;
	is_int(requests(t), 3, "three requests");
	ok(dt >= 0.3, "back-off 100 ms then 200 ms: waited %.3f s", dt);
	o.backoff_ms = 10;
	url(u, sizeof(u), "status/500/99/feed.json", t, sizeof(t));
	if (refused(mem(u, 1 << 20, &o, &len, &e), &e, "fetch_http_status",
	    "500 for ever"))
		ok(strstr(e.msg, "(3 attempts)") != NULL,
		    "the message counts the attempts");
	is_int(requests(t), 3, "1 + 2 retries");

	/* Mirrors: the first fails, the second serves. */
	snprintf(u2, sizeof(u2), "http://127.0.0.1:%d/feed.json",
	    closed_port());
	urls[0] = u2;
	urls[1] = url(u, sizeof(u), "feed.json", t, sizeof(t));
	ok(fetch_mem(urls, 2, 1 << 20, &o, &buf, &len, &used, &e) == 0 &&
	    used == 1 && len == small.size, "mirror fallback, used = 1");
	free(buf);
	urls[0] = url(u2, sizeof(u2), "missing.json", t2, sizeof(t2));
	urls[1] = url(u, sizeof(u), "nothere.json", t, sizeof(t));
	buf = NULL;
	rc = fetch_mem(urls, 2, 1 << 20, &o, &buf, &len, &used, &e);
	if (refused(rc, &e, "fetch_http_status", "every mirror fails"))
		ok(strstr(e.msg, "2 URLs failed") != NULL,
		    "the message says how many URLs failed");

	snprintf(path, sizeof(path), "file://%s/feed.json", www);
	ok(mem(path, 1 << 20, &o, &len, &e) == 0 && len == small.size,
	    "a file: URL");
	ok(mem(url(u, sizeof(u), "redirect/feed.json", t, sizeof(t)), 1 << 20,
	    &o, &len, &e) == 0 && len == small.size,
	    "an http redirect is followed");
	test_mem_errors();
}

/* ---- fetch_file ---- */

struct prog {
	int calls;
	uint64_t last, total;
	int backwards;
	int stop_after;		/* >0: ask to stop at that call */
};

static int
on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct prog *p = arg;

	p->calls++;
	if (done < p->last)
		p->backwards = 1;
	p->last = done;
	p->total = total;
	return p->stop_after > 0 && p->calls >= p->stop_after;
}

static int
file(const char *u, const char *dir, uint64_t size, const uint8_t *sha,
    const struct fetch_opts *o, struct err *e)
{
	const char *urls[1] = { u };
	char tmp[PATH_MAX];
	int rc;

	rc = fetch_file(urls, 1, dir, size, sha, o, tmp, sizeof(tmp), NULL, e);
	if (rc == -1 && tmp[0] != '\0') {
		diag("a failed fetch_file named a file");
		rc = 0;
	}
	if (rc == 0)
		unlink(tmp);
	return rc;
}

static void
test_file(void)
{
	char dir[1200], u[512], t[32], tmp[PATH_MAX];
	const char *urls[1];
	struct fetch_opts o;
	struct prog p;
	struct stat st;
	size_t used;
	struct err e;
	uint8_t wrong[SHA256_LEN];

	snprintf(dir, sizeof(dir), "%s/dl", tmpdir);
	mkdir(dir, 0755);
	opts_fast(&o);
	urls[0] = url(u, sizeof(u), "hello.ukimg", t, sizeof(t));
	ok(fetch_file(urls, 1, dir, img.size, img.sha, &o, tmp, sizeof(tmp),
	    &used, &e) == 0 && stat(tmp, &st) == 0 &&
	    (uint64_t)st.st_size == img.size && strstr(tmp, img.hex) != NULL,
	    "fetch_file: the image, verified, in %s", tmp);
	unlink(tmp);

	memcpy(wrong, img.sha, SHA256_LEN);
	wrong[0] ^= 1;
	url(u, sizeof(u), "hello.ukimg", t, sizeof(t));
	refused(file(u, dir, img.size, wrong, &o, &e), &e,
	    "fetch_digest_mismatch", "another digest");
	is_int(requests(t), 1, "a digest mismatch is not retried");
	url(u, sizeof(u), "hello.ukimg", t, sizeof(t));
	refused(file(u, dir, img.size + 1, img.sha, &o, &e), &e,
	    "fetch_size_mismatch", "shorter than expected");
	url(u, sizeof(u), "hello.ukimg", t, sizeof(t));
	refused(file(u, dir, img.size - 1, img.sha, &o, &e), &e,
	    "fetch_too_large", "longer than expected, announced");
	url(u, sizeof(u), "big/big.bin?extra=50000000&nolength=1", t,
	    sizeof(t));
	refused(file(u, dir, bigf.size, bigf.sha, &o, &e), &e,
	    "fetch_too_large", "longer than expected, unannounced");
	url(u, sizeof(u), "big/big.bin?extra=100000", t, sizeof(t));
	ok(file(u, dir, bigf.size, bigf.sha, &o, &e) == 0, "more bytes than "
	    "announced: only the announced ones are read, and verified");
	is_int(count_dir(dir), 0, "nothing left in the directory");

	/* Progress, rate-limited: 2 MiB in 64 KiB chunks over ~1.6 s. */
	memset(&p, 0, sizeof(p));
	o.progress.fn = on_progress;
	o.progress.arg = &p;
	o.progress_interval_ms = 200;
	url(u, sizeof(u), "slow/big.bin?chunk=65536&interval=0.05", t,
	    sizeof(t));
	ok(file(u, dir, bigf.size, bigf.sha, &o, &e) == 0,
	    "a slow download with progress");
	ok(p.calls >= 3 && p.calls <= 15, "progress called %d times, not "
	    "for every chunk", p.calls);
	ok(!p.backwards && p.last == bigf.size && p.total == bigf.size,
	    "progress goes forward and ends at the total");

	memset(&p, 0, sizeof(p));
	p.stop_after = 2;
	url(u, sizeof(u), "slow/big.bin?chunk=65536&interval=0.05", t,
	    sizeof(t));
	refused(file(u, dir, bigf.size, bigf.sha, &o, &e), &e,
	    "fetch_aborted", "the progress callback stops it");
	is_int(requests(t), 1, "and it is not retried");
	is_int(count_dir(dir), 0, "nothing left in the directory");
}

/* ---- the cache ---- */

static char cachedir[1100], shadir[1200], tmpcache[1200];

static int
cache_empty(void)
{
	return count_dir(shadir) == 0 && count_dir(tmpcache) == 0;
}

static void
test_cache_failures(struct cache *c)
{
	static const struct {
		const char *path, *code, *name;
		const struct file *f;
		int size_delta;
	} fails[] = {
		{ "hello.ukimg", "fetch_digest_mismatch", "digest mismatch",
		    &notimg, 0 },
		{ "truncate/hello.ukimg", "fetch_truncated", "truncated", &img,
		    0 },
		{ "hello.ukimg", "fetch_too_large", "too large", &img, -1 },
		{ "big/hello.ukimg?extra=10000000&nolength=1",
		    "fetch_too_large", "too large, unannounced", &img, 0 },
		{ "missing.ukimg", "fetch_http_status", "404", &img, 0 },
		{ "status/500/99/hello.ukimg", "fetch_http_status", "500",
		    &img, 0 },
		{ "notimg.bin", "image_invalid", "not an image", &notimg, 0 },
	};
	char u[512], t[32], path[PATH_MAX + 128], name[80];
	const char *urls[1];
	struct fetch_opts o;
	struct err e;
	size_t i;
	uint64_t size;

	opts_fast(&o);
	o.retries = 1;
	for (i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
		urls[0] = url(u, sizeof(u), fails[i].path, t, sizeof(t));
		size = fails[i].f == &notimg && strcmp(fails[i].code,
		    "fetch_digest_mismatch") == 0 ? img.size :
		    fails[i].f->size + (uint64_t)(int64_t)fails[i].size_delta;
		snprintf(name, sizeof(name), "cache: %s", fails[i].name);
		refused(cache_fetch(c, urls, 1, size, fails[i].f->hex, &o, path,
		    sizeof(path), &e), &e, fails[i].code, name);
		ok(cache_empty(), "cache: nothing in images/ after: %s",
		    fails[i].name);
	}
}

struct racer {
	struct cache *c;
	const char *url;
	const struct file *f;
	int rc;
	struct err e;
	char path[PATH_MAX + 128];
	struct prog p;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct fetch_opts o;

	opts_fast(&o);
	o.progress.fn = on_progress;
	o.progress.arg = &r->p;
	r->rc = cache_fetch(r->c, &r->url, 1, r->f->size, r->f->hex, &o,
	    r->path, sizeof(r->path), &r->e);
	return NULL;
}

static void
test_cache_race(struct cache *c)
{
	struct racer r[2];
	pthread_t th[2];
	char u[512], t[32];
	int i;

	/* The delay keeps the first download open while the second asks. */
	url(u, sizeof(u), "hello.ukimg?delay=0.5", t, sizeof(t));
	memset(r, 0, sizeof(r));
	for (i = 0; i < 2; i++) {
		r[i].c = c;
		r[i].url = u;
		r[i].f = &img;
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ok(r[0].rc == 0 && r[1].rc == 0 && strcmp(r[0].path, r[1].path) == 0,
	    "two threads, one digest: both get the image");
	is_int(requests(t), 1, "with one HTTP request");
	ok(r[0].p.calls > 0 && r[1].p.calls > 0 && r[0].p.last == img.size &&
	    r[1].p.last == img.size, "both saw progress to the end");
	is_int(count_dir(shadir), 1, "one image in the cache");

	/* A shared failure: both get it, from one request. */
	url(u, sizeof(u), "notimg.bin?delay=0.5", t, sizeof(t));
	memset(r, 0, sizeof(r));
	for (i = 0; i < 2; i++) {
		r[i].c = c;
		r[i].url = u;
		r[i].f = &bigf;		/* notimg.bin is not big.bin */
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ok(r[0].rc == -1 && r[1].rc == -1 &&
	    strcmp(r[0].e.code, r[1].e.code) == 0 &&
	    strcmp(r[0].e.msg, r[1].e.msg) == 0, "a failed shared download: "
	    "both get [%s]", r[0].e.code);
	is_int(requests(t), 1, "from one HTTP request");
	ok(count_dir(tmpcache) == 0, "nothing in images/tmp");
}

static void
test_cache(void)
{
	char u[512], u2[512], t[32], t2[32], path[PATH_MAX + 128],
	    stale[PATH_MAX + 32], fileurl[PATH_MAX + 32];
	const char *urls[2];
	struct cache_entry *list;
	struct fetch_opts o;
	struct cache *c;
	struct err e;
	size_t n;

	snprintf(cachedir, sizeof(cachedir), "%s/state/images", tmpdir);
	snprintf(shadir, sizeof(shadir), "%s/sha256", cachedir);
	snprintf(tmpcache, sizeof(tmpcache), "%s/tmp", cachedir);
	ok((c = cache_open(cachedir, &e)) != NULL && cache_empty(),
	    "cache_open makes images/sha256 and images/tmp");
	cache_close(c);
	snprintf(stale, sizeof(stale), "%s/abc.tmp.123456", tmpcache);
	fileio_write_atomic(stale, "x", 1, 0600, &e);
	ok((c = cache_open(cachedir, &e)) != NULL && cache_empty(),
	    "cache_open removes stale downloads");
	if (c == NULL)
		bail(e.msg);

	ok(cache_get(c, img.hex, img.size, path, sizeof(path), &e) == -1 &&
	    strcmp(e.code, "image_not_cached") == 0, "cache_get: not there");
	test_cache_failures(c);

	opts_fast(&o);
	urls[0] = url(u, sizeof(u), "hello.ukimg", t, sizeof(t));
	ok(cache_fetch(c, urls, 1, img.size, img.hex, &o, path, sizeof(path),
	    &e) == 0, "cache_fetch: the image");
	ok(strcmp(path + strlen(path) - SHA256_HEX_LEN, img.hex) == 0 &&
	    strncmp(path, shadir, strlen(shadir)) == 0,
	    "named images/sha256/<hex>");
	ok(count_dir(shadir) == 1 && count_dir(tmpcache) == 0,
	    "and nothing else in the cache");
	ok(cache_get(c, img.hex, img.size, path, sizeof(path), &e) == 0,
	    "cache_get finds it");
	ok(cache_get(c, img.hex, img.size + 1, path, sizeof(path), &e) == -1 &&
	    strcmp(e.code, "image_not_cached") == 0, "not with another size");
	urls[0] = url(u, sizeof(u), "hello.ukimg", t, sizeof(t));
	ok(cache_fetch(c, urls, 1, img.size, img.hex, &o, path, sizeof(path),
	    &e) == 0 && requests(t) == 0, "a second cache_fetch: no request");
	ok(cache_list(c, &list, &n, &e) == 0 && n == 1 &&
	    strcmp(list[0].sha256, img.hex) == 0 && list[0].size == img.size,
	    "cache_list");
	free(list);
	ok(cache_remove(c, img.hex, &e) == 0 && cache_empty(), "cache_remove");
	ok(cache_remove(c, img.hex, &e) == -1 &&
	    strcmp(e.code, "image_not_cached") == 0, "twice: image_not_cached");
	ok(cache_get(c, "ABC", 0, path, sizeof(path), &e) == -1 &&
	    strcmp(e.code, "invalid_argument") == 0, "a bad digest");

	/* Mirrors and file: URLs. */
	urls[0] = url(u2, sizeof(u2), "missing.ukimg", t2, sizeof(t2));
	urls[1] = url(u, sizeof(u), "hello.ukimg", t, sizeof(t));
	ok(cache_fetch(c, urls, 2, img.size, img.hex, &o, path, sizeof(path),
	    &e) == 0 && requests(t2) == 1 && requests(t) == 1,
	    "cache_fetch: the mirror after a 404");
	cache_remove(c, img.hex, &e);
	snprintf(fileurl, sizeof(fileurl), "file://%s/hello.ukimg", www);
	urls[0] = fileurl;
	ok(cache_fetch(c, urls, 1, img.size, img.hex, &o, path, sizeof(path),
	    &e) == 0 && count_dir(shadir) == 1, "cache_fetch: a file: URL");
	cache_remove(c, img.hex, &e);

	test_cache_race(c);
	cache_close(c);
}

int
main(void)
{
	char cmd[PATH_MAX + 16];
	int rc;

	setup();
	test_mem();
	test_file();
	test_cache();
	stop_server();
	rc = tap_done();
	if (rc == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	} else {
		diag("files kept in %s", tmpdir);
	}
	return rc;
}
