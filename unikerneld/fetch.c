/*
 * fetch.c - libcurl downloads (fetch.h): one easy handle per call, bytes
 * counted and hashed as they arrive, each failure mapped to its own code
 * and judged transient or not.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "fetch.h"

/* One call's transfer state, shared by its attempts. */
struct xfer {
	CURL *h;
	const struct fetch_opts *o;
	const char *url;		/* of the current attempt */
	uint64_t max;			/* more is fetch_too_large */
	uint64_t expect;		/* fetch_file: the exact size, else 0 */
	int fd;				/* fetch_file: the target, or -1 */
	char *buf;			/* fetch_mem's target */
	size_t cap;
	EVP_MD_CTX *md;			/* fetch_file: SHA-256 so far */
	uint64_t done;			/* bytes of this attempt */
	int seen_length;		/* the announced length was checked */
	struct timespec last;		/* of the last progress call */
	int reported;			/* a progress call happened */
	struct err stop;		/* why a callback stopped it */
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static CURLcode fetch_global_rc;

static void
fetch_global_init(void)
{
	fetch_global_rc = curl_global_init(CURL_GLOBAL_ALL);
}

int
fetch_init(struct err *e)
{
	pthread_once(&fetch_once, fetch_global_init);
	if (fetch_global_rc != CURLE_OK)
		return err_set(e, "fetch_failed", "libcurl did not initialise: "
		    "%s", curl_easy_strerror(fetch_global_rc));
	return 0;
}

void
fetch_opts_init(struct fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_ms = 10 * 1000;
	o->timeout_ms = 15 * 60 * 1000;
	o->low_speed_bytes = 1024;
	o->low_speed_secs = 30;
	o->retries = 3;
	o->backoff_ms = 500;
	o->backoff_max_ms = 30 * 1000;
	o->progress_interval_ms = 250;
}

/* Appends printf-style text to (e)'s message, keeping its code. */
__attribute__((format(printf, 2, 3))) static void
err_append(struct err *e, const char *fmt, ...)
{
	size_t len = strlen(e->msg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg + len, sizeof(e->msg) - len, fmt, ap);
	va_end(ap);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static int
url_scheme_ok(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	    strncasecmp(url, "https://", 8) == 0 ||
	    strncasecmp(url, "file://", 7) == 0;
}

/* The Content-Length of the response, 0 when none. */
static uint64_t
xfer_announced(const struct xfer *x)
{
	curl_off_t cl = -1;

	if (curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
	    &cl) != CURLE_OK || cl < 0)
		return 0;
	return (uint64_t)cl;
}

/* A body that announces its length is judged before its first byte is
 * kept: a short one cannot become the image, a long one would be cut.
 * (An empty body never reaches here; its size is judged at the end.) */
static int
xfer_check_length(struct xfer *x)
{
	uint64_t cl;

	x->seen_length = 1;
	if (x->expect == 0 || (cl = xfer_announced(x)) == 0 ||
	    cl == x->expect)
		return 0;
	if (cl > x->expect)
		return err_set(&x->stop, "fetch_too_large", "%s announces %"
		    PRIu64 " bytes, more than the %" PRIu64 " expected",
		    x->url, cl, x->expect);
	return err_set(&x->stop, "fetch_size_mismatch", "%s announces %"
	    PRIu64 " bytes, not the %" PRIu64 " expected", x->url, cl,
	    x->expect);
}

static size_t
xfer_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb, cap;
	char *nb;

	if (!x->seen_length && xfer_check_length(x) == -1)
		return 0;
	if (len > x->max - x->done) {
		err_set(&x->stop, "fetch_too_large", "%s: more than the %"
		    PRIu64 " bytes %s", x->url, x->max, x->expect ?
		    "expected" : "allowed");
		return 0;
	}
	if (x->fd != -1) {
		if (fileio_write_all(x->fd, data, len, &x->stop) == -1)
			return 0;
		EVP_DigestUpdate(x->md, data, len);
	} else {
		if (x->done + len + 1 > x->cap) {
			cap = x->cap ? x->cap : 64 * 1024;
			while (cap < x->done + len + 1)
				cap *= 2;
			if (cap > x->max + 1)
				cap = x->max + 1;
			if ((nb = realloc(x->buf, cap)) == NULL) {
				err_set(&x->stop, ERR_NOMEM, "out of memory");
				return 0;
			}
			x->buf = nb;
			x->cap = cap;
		}
		memcpy(x->buf + x->done, data, len);
	}
	x->done += len;
	return len;
}

static uint64_t
xfer_total(const struct xfer *x)
{
	return x->expect != 0 ? x->expect : xfer_announced(x);
}

/* libcurl calls this often, data or not; it is rate-limited here so that
 * a slow consumer (a client's progress bar) sees a few calls a second. */
static int
xfer_info(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = arg;
	const struct fetch_progress *p = &x->o->progress;

	if (x->reported && ms_since(&x->last) < x->o->progress_interval_ms)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &x->last);
	x->reported = 1;
	if (p->fn(p->arg, x->done, xfer_total(x)) != 0) {
		err_set(&x->stop, "fetch_aborted", "%s: download cancelled",
		    x->url);
		return 1;
	}
	return 0;
}

static int
xfer_setup(struct xfer *x, struct err *e)
{
	const struct fetch_opts *o = x->o;
	CURL *h;

	if ((h = x->h = curl_easy_init()) == NULL)
		return err_set(e, ERR_NOMEM, "curl_easy_init failed");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_USERAGENT, o->user_agent != NULL ?
	    o->user_agent : "unikerneld/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o->low_speed_secs);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, xfer_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	if (o->progress.fn != NULL) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_info);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	return 0;
}

/* Empties the target for a new attempt. */
static int
xfer_reset(struct xfer *x, struct err *e)
{
	x->done = 0;
	x->seen_length = 0;
	x->reported = 0;
	x->errbuf[0] = '\0';
	err_clear(&x->stop);
	if (x->fd == -1)
		return 0;
	if (ftruncate(x->fd, 0) == -1 || lseek(x->fd, 0, SEEK_SET) == -1)
		return err_errno(e, ERR_IO, errno, "emptying the download");
	if (EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1)
		return err_set(e, ERR_IO, "SHA-256 unavailable in libcrypto");
	return 0;
}

static const char *
xfer_why(const struct xfer *x, CURLcode rc)
{
	return x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc);
}

/* What a failed transfer means.  (*retry): the same URL may work later;
 * (*fatal): no other URL can help either. */
static int
xfer_error(struct xfer *x, CURLcode rc, int *retry, int *fatal,
    struct err *e)
{
	const char *url = x->url;
	long status = 0;
	char *eff = NULL;

	switch (rc) {
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		if (x->stop.code[0] == '\0')
			break;
		*e = x->stop;
		*fatal = strcmp(e->code, "fetch_too_large") != 0 &&
		    strcmp(e->code, "fetch_size_mismatch") != 0;
		return -1;
	case CURLE_FILESIZE_EXCEEDED:
		/* libcurl refused the Content-Length before keeping it. */
		return err_set(e, "fetch_too_large", "%s announces more than "
		    "the %" PRIu64 " bytes %s", url, x->max, x->expect ?
		    "expected" : "allowed");
	case CURLE_HTTP_RETURNED_ERROR:
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &eff);
		*retry = status == 408 || status == 429 || status >= 500;
		return err_set(e, "fetch_http_status", "HTTP %ld from %s",
		    status, eff != NULL ? eff : url);
	case CURLE_OPERATION_TIMEDOUT:
		*retry = 1;
		return err_set(e, "fetch_timeout", "%s: %s", url,
		    xfer_why(x, rc));
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		*retry = 1;
		return err_set(e, "fetch_connect", "%s: %s", url,
		    xfer_why(x, rc));
	case CURLE_PARTIAL_FILE:
		*retry = 1;
		return err_set(e, "fetch_truncated", "%s: the transfer ended "
		    "after %" PRIu64 " of the %" PRIu64 " bytes announced",
		    url, x->done, xfer_announced(x));
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		*retry = 1;
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return err_set(e, "fetch_bad_url", "%s: %s", url,
		    xfer_why(x, rc));
	case CURLE_FILE_COULDNT_READ_FILE:
		return err_set(e, "fetch_file_unreadable", "%s: %s", url,
		    xfer_why(x, rc));
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return err_set(e, "fetch_tls", "%s: %s", url, xfer_why(x, rc));
	case CURLE_OUT_OF_MEMORY:
		*fatal = 1;
		return err_set(e, ERR_NOMEM, "%s: out of memory", url);
	default:
		break;
	}
	return err_set(e, "fetch_failed", "%s: %s", url, xfer_why(x, rc));
}

/* One attempt at (url). */
static int
xfer_once(struct xfer *x, const char *url, const uint8_t *sha256,
    int *retry, int *fatal, struct err *e)
{
	uint8_t got[SHA256_LEN];
	char a[SHA256_HEX_LEN + 1], b[SHA256_HEX_LEN + 1];
	unsigned int n = SHA256_LEN;
	CURLcode rc;

	*retry = *fatal = 0;
	x->url = url;
	if (!url_scheme_ok(url))
		return err_set(e, "fetch_bad_url", "'%s' is not an http, "
		    "https or file URL", url);
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	if ((rc = curl_easy_perform(x->h)) != CURLE_OK)
		return xfer_error(x, rc, retry, fatal, e);
	if (x->expect == 0)
		return 0;
	if (x->done != x->expect)
		return err_set(e, "fetch_size_mismatch", "%s: %" PRIu64
		    " bytes, not the %" PRIu64 " expected", url, x->done,
		    x->expect);
	EVP_DigestFinal_ex(x->md, got, &n);
	if (memcmp(got, sha256, SHA256_LEN) != 0) {
		hex_encode(got, SHA256_LEN, a);
		hex_encode(sha256, SHA256_LEN, b);
		return err_set(e, "fetch_digest_mismatch", "%s: sha256 %s, "
		    "not the %s expected", url, a, b);
	}
	return 0;
}

static void
backoff_sleep(const struct fetch_opts *o, unsigned attempt)
{
	struct timespec ts;
	long ms = o->backoff_ms;
	unsigned i;

	for (i = 0; i < attempt && ms < o->backoff_max_ms; i++)
		ms *= 2;
	if (ms > o->backoff_max_ms)
		ms = o->backoff_max_ms;
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* Every URL in turn, each retried while its failure is transient. */
static int
xfer_run(struct xfer *x, const char *const *urls, size_t nurls,
    const uint8_t *sha256, size_t *used, struct err *e)
{
	const struct fetch_progress *p = &x->o->progress;
	unsigned attempt;
	int retry, fatal;
	struct err last;
	size_t i;

	err_clear(&last);
	for (i = 0; i < nurls; i++) {
		for (attempt = 0;; attempt++) {
			if (xfer_reset(x, &last) == -1)
				goto fail;
			if (xfer_once(x, urls[i], sha256, &retry, &fatal,
			    &last) == 0) {
				if (used != NULL)
					*used = i;
				if (p->fn != NULL)
					p->fn(p->arg, x->done, x->done);
				return 0;
			}
			if (fatal)
				goto fail;
			if (!retry || attempt >= x->o->retries)
				break;
			backoff_sleep(x->o, attempt);
		}
		if (attempt > 0)
			err_append(&last, " (%u attempts)", attempt + 1);
	}
	if (nurls > 1)
		err_prefix(&last, "%zu URLs failed, the last", nurls);
fail:
	if (e != NULL)
		*e = last;
	return -1;
}

static int
check_urls(const char *const *urls, size_t nurls, struct err *e)
{
	size_t i;

	if (urls == NULL || nurls == 0 || nurls > FETCH_MAX_URLS)
		return err_set(e, ERR_INVALID, "between 1 and %d URLs, not %zu",
		    FETCH_MAX_URLS, urls == NULL ? 0 : nurls);
	for (i = 0; i < nurls; i++)
		if (urls[i] == NULL)
			return err_set(e, ERR_INVALID, "URL %zu is NULL", i);
	return 0;
}

int
fetch_mem(const char *const *urls, size_t nurls, size_t max,
    const struct fetch_opts *opts, char **out, size_t *len, size_t *used,
    struct err *e)
{
	struct fetch_opts defaults;
	struct xfer x;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (check_urls(urls, nurls, e) == -1 || fetch_init(e) == -1)
		return -1;
	if (max == 0 || max >= SIZE_MAX / 2)
		return err_set(e, ERR_INVALID, "fetch_mem: bad size cap %zu",
		    max);
	if (opts == NULL) {
		fetch_opts_init(&defaults);
		opts = &defaults;
	}
	memset(&x, 0, sizeof(x));
	x.o = opts;
	x.fd = -1;
	x.max = max;
	if (xfer_setup(&x, e) == -1)
		goto out;
	if (xfer_run(&x, urls, nurls, NULL, used, e) == -1)
		goto out;
	if (x.buf == NULL && (x.buf = malloc(1)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	x.buf[x.done] = '\0';
	*out = x.buf;
	*len = (size_t)x.done;
	x.buf = NULL;
	rc = 0;
out:
	free(x.buf);
	curl_easy_cleanup(x.h);
	return rc;
}

int
fetch_file(const char *const *urls, size_t nurls, const char *dir,
    uint64_t size, const uint8_t sha256[SHA256_LEN],
    const struct fetch_opts *opts, char *tmp, size_t tmpsz, size_t *used,
    struct err *e)
{
	char hex[SHA256_HEX_LEN + 1], base[4096];
	struct fetch_opts defaults;
	struct xfer x;
	int rc = -1;

	if (tmpsz > 0)
		tmp[0] = '\0';
	if (check_urls(urls, nurls, e) == -1 || fetch_init(e) == -1)
		return -1;
	if (size == 0 || dir == NULL || sha256 == NULL)
		return err_set(e, ERR_INVALID, "fetch_file: no size, directory "
		    "or digest");
	if (opts == NULL) {
		fetch_opts_init(&defaults);
		opts = &defaults;
	}
	hex_encode(sha256, SHA256_LEN, hex);
	if ((size_t)snprintf(base, sizeof(base), "%s/%s", dir, hex) >=
	    sizeof(base))
		return err_set(e, ERR_INVALID, "%s: path too long", dir);
	memset(&x, 0, sizeof(x));
	x.o = opts;
	x.max = x.expect = size;
	if ((x.fd = fileio_tmp_open(base, tmp, tmpsz, e)) == -1) {
		if (tmpsz > 0)
			tmp[0] = '\0';
		return -1;
	}
	if ((x.md = EVP_MD_CTX_new()) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (xfer_setup(&x, e) == -1 ||
	    xfer_run(&x, urls, nurls, sha256, used, e) == -1)
		goto out;
	rc = close(x.fd);
	x.fd = -1;
	if (rc == -1)
		err_errno(e, ERR_IO, errno, "close %s", tmp);
out:
	if (x.fd != -1)
		close(x.fd);
	if (rc == -1) {
		unlink(tmp);
		tmp[0] = '\0';
	}
	EVP_MD_CTX_free(x.md);
	curl_easy_cleanup(x.h);
	return rc;
}
