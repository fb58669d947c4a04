/*
 * client.c - HTTP/1.1 to unikerneld over its unix socket (client.h).
 *
 * One curl easy handle per client, reset before each request, so that the
 * connection is kept between the requests of one command.  A reply goes to
 * a buffer (client_call(), and every error) or, once its status says 2xx,
 * to the caller's callback (client_stream()); the write callback learns the
 * status from curl before its first byte.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <curl/curl.h>

#include "client.h"
#include "fileio.h"

#define CLIENT_SOCKET_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define CLIENT_CONNECT_TIMEOUT 10L	/* seconds */

struct client {
	CURL *h;
	char socket[CLIENT_SOCKET_MAX];
	volatile sig_atomic_t *cancel;
	long status;
	json_object *details;
	char code[CLIENT_CODE_MAX];
	char curlerr[CURL_ERROR_SIZE];
};

/* Why the write callback refused more. */
enum xfer_stop {
	XFER_GOING,
	XFER_STOPPED,		/* the caller's callback said so */
	XFER_FN_FAILED,		/* the caller's callback failed: (fe) */
	XFER_TOO_LARGE,		/* over CLIENT_REPLY_MAX */
	XFER_LINE_TOO_LONG,	/* over CLIENT_LINE_MAX */
	XFER_NOMEM,
};

struct xfer {
	struct client *c;
	enum client_stream_mode mode;
	int (*fn)(void *arg, const char *data, size_t len, struct err *fe);
	void *arg;
	int checked;		/* the status was looked at */
	int streaming;		/* a 2xx reply for (fn) */
	enum xfer_stop stop;
	struct err fe;
	char *buf;		/* the reply, or the line not finished yet */
	size_t len, cap;
};

const char *
client_socket_path(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	env = getenv(CLIENT_SOCKET_ENV);
	if (env != NULL && env[0] != '\0')
		return env;
	return CLIENT_SOCKET_DEFAULT;
}

struct client *
client_new(const char *socket, struct err *e)
{
	static int curl_ready;
	const char *path = client_socket_path(socket);
	struct client *c;

	if (path[0] == '\0' || strlen(path) >= CLIENT_SOCKET_MAX) {
		err_set(e, ERR_INVALID, "socket path '%s' is empty or longer "
		    "than %zu bytes", path, CLIENT_SOCKET_MAX - 1);
		return NULL;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			err_set(e, ERR_NOMEM, "libcurl failed to start");
			return NULL;
		}
		curl_ready = 1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->h = curl_easy_init()) == NULL) {
		free(c);
		err_set(e, ERR_NOMEM, "out of memory for the client");
		return NULL;
	}
	snprintf(c->socket, sizeof(c->socket), "%s", path);
	return c;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->h);
	if (c->details != NULL)
		json_object_put(c->details);
	free(c);
}

const char *
client_socket(const struct client *c)
{
	return c->socket;
}

void
client_set_cancel(struct client *c, volatile sig_atomic_t *flag)
{
	c->cancel = flag;
}

long
client_status(const struct client *c)
{
	return c->status;
}

json_object *
client_details(const struct client *c)
{
	return c->details;
}

/* --- errors --- */

static int
code_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return 0;
	return i > 0 && i < CLIENT_CODE_MAX;
}

int
client_error_from_json(struct client *c, json_object *obj, struct err *e)
{
	json_object *code, *msg, *details;
	const char *m = "";
	size_t i;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "code", &code) ||
	    !json_object_is_type(code, json_type_string) ||
	    !code_valid(json_object_get_string(code)))
		return err_set(e, "daemon_bad_reply", "unikerneld sent an "
		    "error without a valid code");
	if (json_object_object_get_ex(obj, "message", &msg) &&
	    json_object_is_type(msg, json_type_string))
		m = json_object_get_string(msg);
	if (c->details != NULL)
		json_object_put(c->details);
	c->details = NULL;
	if (json_object_object_get_ex(obj, "details", &details) &&
	    json_object_is_type(details, json_type_object))
		c->details = json_object_get(details);
	snprintf(c->code, sizeof(c->code), "%s", json_object_get_string(code));
	if (e == NULL)
		return -1;
	e->code = c->code;
	snprintf(e->msg, sizeof(e->msg), "%s", m);
	for (i = 0; e->msg[i] != '\0'; i++)
		if ((unsigned char)e->msg[i] < 0x20 || e->msg[i] == 0x7f)
			e->msg[i] = ' ';
	return -1;
}

static json_object *
parse_json(const char *buf, size_t len)
{
	json_tokener *tok;
	json_object *o;
	size_t end;

	if (len > CLIENT_REPLY_MAX || (tok = json_tokener_new()) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		for (end = json_tokener_get_parse_end(tok); end < len; end++)
			if (buf[end] != ' ' && buf[end] != '\n' &&
			    buf[end] != '\r' && buf[end] != '\t')
				break;
		if (end != len) {
			json_object_put(o);
			o = NULL;
		}
	} else if (o != NULL) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* A reply that is not 2xx, read whole in (x->buf). */
static int
error_reply(struct client *c, const struct xfer *x, struct err *e)
{
	json_object *o, *in;
	int rc;

	o = parse_json(x->buf != NULL ? x->buf : "", x->len);
	if (o == NULL || !json_object_object_get_ex(o, "error", &in)) {
		if (o != NULL)
			json_object_put(o);
		return err_set(e, "daemon_bad_reply", "unikerneld (%s) "
		    "answered HTTP %ld without an error object", c->socket,
		    c->status);
	}
	rc = client_error_from_json(c, in, e);
	json_object_put(o);
	return rc;
}

static int
unreachable(struct client *c, int errnum, struct err *e)
{
	const char *how = "start unikerneld (systemctl start unikerneld), or "
	    "name its socket with --socket or UK_SOCKET";

	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		return err_set(e, "daemon_unreachable", "cannot reach "
		    "unikerneld: no socket at %s; %s", c->socket, how);
	case ECONNREFUSED:
		return err_set(e, "daemon_unreachable", "cannot reach "
		    "unikerneld: nothing listens on %s (is it running?); %s",
		    c->socket, how);
	case EACCES:
	case EPERM:
		return err_set(e, "daemon_unreachable", "cannot reach "
		    "unikerneld on %s: permission denied; use an account the "
		    "socket admits (socket_group in unikerneld.conf(5))",
		    c->socket);
	default:
		return err_set(e, "daemon_unreachable", "cannot reach "
		    "unikerneld on %s: %s; is it running? %s", c->socket,
		    errnum != 0 ? strerror(errnum) : c->curlerr, how);
	}
}

/* A transfer that curl ended with (rc) != CURLE_OK. */
static int
transfer_error(struct client *c, struct xfer *x, CURLcode rc, struct err *e)
{
	long oserr = 0;

	switch (x->stop) {
	case XFER_STOPPED:
		return 0;
	case XFER_FN_FAILED:
		if (e != NULL)
			*e = x->fe;
		return -1;
	case XFER_TOO_LARGE:
		return err_set(e, "daemon_bad_reply", "the reply of unikerneld "
		    "is over %u bytes", CLIENT_REPLY_MAX);
	case XFER_LINE_TOO_LONG:
		return err_set(e, "daemon_bad_reply", "unikerneld sent a line "
		    "over %u bytes", CLIENT_LINE_MAX);
	case XFER_NOMEM:
		return err_set(e, ERR_NOMEM, "out of memory for a reply");
	case XFER_GOING:
		break;
	}
	switch (rc) {
	case CURLE_ABORTED_BY_CALLBACK:
		return err_set(e, "interrupted", "interrupted");
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(c->h, CURLINFO_OS_ERRNO, &oserr);
		return unreachable(c, (int)oserr, e);
	case CURLE_OPERATION_TIMEDOUT:
		if (c->status == 0)
			return err_set(e, "daemon_unreachable", "unikerneld "
			    "did not answer on %s within %ld s; is it "
			    "running?", c->socket, CLIENT_CONNECT_TIMEOUT);
		break;
	case CURLE_OUT_OF_MEMORY:
		return err_set(e, ERR_NOMEM, "out of memory in libcurl");
	default:
		break;
	}
	return err_set(e, "daemon_disconnected", "the connection to "
	    "unikerneld (%s) broke: %s", c->socket,
	    c->curlerr[0] != '\0' ? c->curlerr : curl_easy_strerror(rc));
}

/* --- the transfer --- */

static int
buf_append(struct xfer *x, const char *p, size_t len, size_t max)
{
	size_t ncap;
	char *nb;

	if (len > max - x->len) {
		x->stop = x->streaming ? XFER_LINE_TOO_LONG : XFER_TOO_LARGE;
		return -1;
	}
	if (x->len + len + 1 > x->cap) {
		ncap = x->cap ? x->cap : 4096;
		while (ncap < x->len + len + 1)
			ncap *= 2;
		if ((nb = realloc(x->buf, ncap)) == NULL) {
			x->stop = XFER_NOMEM;
			return -1;
		}
		x->buf = nb;
		x->cap = ncap;
	}
	memcpy(x->buf + x->len, p, len);
	x->len += len;
	x->buf[x->len] = '\0';
	return 0;
}

/* Hands (x->fn) one line (NUL-terminated at (len)).  Returns -1 to stop. */
static int
give_line(struct xfer *x, char *line, size_t len)
{
	int r;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	if (len == 0)
		return 0;
	r = x->fn(x->arg, line, len, &x->fe);
	if (r == CLIENT_STREAM_NEXT)
		return 0;
	x->stop = r == CLIENT_STREAM_STOP ? XFER_STOPPED : XFER_FN_FAILED;
	return -1;
}

/* Every complete line in (x->buf) to (x->fn); keeps the rest. */
static int
give_lines(struct xfer *x)
{
	size_t start = 0;
	char *nl;

	while (start < x->len &&
	    (nl = memchr(x->buf + start, '\n', x->len - start)) != NULL) {
		if (give_line(x, x->buf + start, (size_t)(nl - x->buf) -
		    start) == -1)
			return -1;
		start = (size_t)(nl - x->buf) + 1;
	}
	memmove(x->buf, x->buf + start, x->len - start);
	x->len -= start;
	return 0;
}

static size_t
xfer_write(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	int r;

	if (!x->checked) {
		curl_easy_getinfo(x->c->h, CURLINFO_RESPONSE_CODE,
		    &x->c->status);
		x->streaming = x->fn != NULL && x->c->status >= 200 &&
		    x->c->status < 300;
		x->checked = 1;
	}
	if (!x->streaming)
		return buf_append(x, p, len, CLIENT_REPLY_MAX) == 0 ? len : 0;
	if (x->mode == CLIENT_STREAM_CHUNKS) {
		if (len == 0)
			return 0;
		r = x->fn(x->arg, p, len, &x->fe);
		if (r == CLIENT_STREAM_NEXT)
			return len;
		x->stop = r == CLIENT_STREAM_STOP ? XFER_STOPPED :
		    XFER_FN_FAILED;
		return 0;
	}
	if (buf_append(x, p, len, CLIENT_LINE_MAX) == -1 || give_lines(x) == -1)
		return 0;
	return len;
}

static int
xfer_info(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	const struct client *c = arg;

	return c->cancel != NULL && *c->cancel != 0;
}

static int
perform(struct client *c, const char *method, const char *path,
    json_object *body, struct xfer *x, struct err *e)
{
	char url[CLIENT_PATH_MAX + 32];
	struct curl_slist *hdrs = NULL, *h;
	const char *text = NULL;
	CURLcode rc;
	int ret = 0;

	if (path[0] != '/' || strlen(path) > CLIENT_PATH_MAX)
		return err_set(e, ERR_INVALID, "bad request path '%.64s'",
		    path);
	snprintf(url, sizeof(url), "http://localhost%s", path);
	c->status = 0;
	c->code[0] = '\0';
	c->curlerr[0] = '\0';
	if (c->details != NULL)
		json_object_put(c->details);
	c->details = NULL;
	if (strcmp(method, "POST") == 0 || body != NULL) {
		text = body != NULL ? json_object_to_json_string_ext(body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) :
		    "";
		if ((h = curl_slist_append(hdrs, "Content-Type: "
		    "application/json")) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		hdrs = h;
	}
	/* No "Expect: 100-continue" round trip. */
	if ((h = curl_slist_append(hdrs, "Expect:")) == NULL) {
		curl_slist_free_all(hdrs);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	hdrs = h;
	curl_easy_reset(c->h);
	curl_easy_setopt(c->h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->curlerr);
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "uk/" PACKAGE_VERSION);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT, CLIENT_CONNECT_TIMEOUT);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, xfer_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, xfer_info);
	curl_easy_setopt(c->h, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, c->cancel != NULL ? 0L : 1L);
	if (text != NULL) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(text));
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, text);
	}
	if (strcmp(method, "GET") == 0 && text == NULL)
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") != 0)
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(c->h);
	if (c->status == 0)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &c->status);
	if (rc != CURLE_OK)
		ret = transfer_error(c, x, rc, e);
	else if (c->status < 200 || c->status > 299)
		ret = error_reply(c, x, e);
	curl_slist_free_all(hdrs);
	return ret;
}

int
client_call(struct client *c, const char *method, const char *path,
    json_object *body, json_object **out, struct err *e)
{
	struct xfer x;
	json_object *o;
	int rc;

	if (out != NULL)
		*out = NULL;
	memset(&x, 0, sizeof(x));
	x.c = c;
	if ((rc = perform(c, method, path, body, &x, e)) == 0) {
		if ((o = parse_json(x.buf != NULL ? x.buf : "", x.len)) ==
		    NULL)
			rc = err_set(e, "daemon_bad_reply", "unikerneld (%s) "
			    "answered %s %s with something that is not JSON",
			    c->socket, method, path);
		else if (out != NULL)
			*out = o;
		else
			json_object_put(o);
	}
	free(x.buf);
	return rc;
}

int
client_stream(struct client *c, const char *method, const char *path,
    json_object *body, enum client_stream_mode mode,
    int (*fn)(void *arg, const char *data, size_t len, struct err *fe),
    void *arg, struct err *e)
{
	struct xfer x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.mode = mode;
	x.fn = fn;
	x.arg = arg;
	err_clear(&x.fe);
	rc = perform(c, method, path, body, &x, e);
	/* The last line may come without its newline. */
	if (rc == 0 && x.streaming && mode == CLIENT_STREAM_LINES &&
	    x.stop == XFER_GOING && x.len > 0 &&
	    give_line(&x, x.buf, x.len) == -1 && x.stop == XFER_FN_FAILED) {
		if (e != NULL)
			*e = x.fe;
		rc = -1;
	}
	free(x.buf);
	return rc;
}

/* --- paths and ids --- */

int
client_path(char *out, size_t outsz, const char *prefix, const char *seg,
    const char *suffix, struct err *e)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0, need;
	const unsigned char *s;

	if (prefix == NULL)
		prefix = "";
	if ((need = strlen(prefix)) >= outsz)
		goto toolong;
	memcpy(out, prefix, need);
	n = need;
	for (s = (const unsigned char *)(seg != NULL ? seg : ""); *s; s++) {
		int plain = (*s >= 'A' && *s <= 'Z') ||
		    (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '.' || *s == '_' || *s == '~';

		if (n + (plain ? 1 : 3) >= outsz)
			goto toolong;
		if (plain) {
			out[n++] = (char)*s;
		} else {
			out[n++] = '%';
			out[n++] = hex[*s >> 4];
			out[n++] = hex[*s & 15];
		}
	}
	if (suffix != NULL) {
		if (n + strlen(suffix) >= outsz)
			goto toolong;
		memcpy(out + n, suffix, strlen(suffix));
		n += strlen(suffix);
	}
	out[n] = '\0';
	return 0;
toolong:
	if (outsz > 0)
		out[0] = '\0';
	return err_set(e, ERR_INVALID, "'%.64s' makes a request path over "
	    "%zu bytes", seg != NULL ? seg : prefix, outsz - 1);
}

void
client_feed_id(const char *uri, char id[CLIENT_FEED_ID_LEN + 1])
{
	uint8_t digest[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	sha256_buf(uri, strlen(uri), digest);
	hex_encode(digest, SHA256_LEN, hex);
	memcpy(id, hex, CLIENT_FEED_ID_LEN);
	id[CLIENT_FEED_ID_LEN] = '\0';
}
