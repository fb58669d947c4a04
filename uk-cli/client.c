/*
 * client.c - HTTP/1.1 to unikerneld over its unix socket (client.h).
 *
 * One connection per request ("Connection: close"): connect, write the
 * request, read the reply through http-reply.c's parser until it ends.  A
 * reply goes to a buffer (client_call(), and every error) or, once its
 * status says 2xx, to the caller's callback (client_stream()).  The socket
 * is non-blocking and every wait is a poll(), which ends early on a signal
 * and, with a cancel flag, at least every CLIENT_CANCEL_POLL_MS.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "fileio.h"
#include "http-reply.h"

#define CLIENT_SOCKET_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define CLIENT_CONNECT_TIMEOUT 10L	/* seconds */
#define CLIENT_CANCEL_POLL_MS 200	/* how often the cancel flag is read */
#define CLIENT_BACKLOG_WAIT_MS 20	/* between connects to a full queue */
#define CLIENT_METHOD_MAX 16
#define CLIENT_READ_SIZE 16384

struct client {
	char socket[CLIENT_SOCKET_MAX];
	volatile sig_atomic_t *cancel;
	long status;
	json_object *details;
	char code[CLIENT_CODE_MAX];
};

/* Why the body callback refused more. */
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
	struct http_reply reply;
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
	const char *path = client_socket_path(socket);
	struct client *c;

	if (path[0] == '\0' || strlen(path) >= CLIENT_SOCKET_MAX) {
		err_set(e, ERR_INVALID, "socket path '%s' is empty or longer "
		    "than %zu bytes", path, CLIENT_SOCKET_MAX - 1);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
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
		    strerror(errnum), how);
	}
}

static int
broke(struct client *c, const char *why, struct err *e)
{
	return err_set(e, "daemon_disconnected", "the connection to "
	    "unikerneld (%s) broke: %s", c->socket, why);
}

/* Why the body callback stopped the reply (x->stop != XFER_GOING). */
static int
stop_error(struct xfer *x, struct err *e)
{
	switch (x->stop) {
	case XFER_GOING:
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
		break;
	}
	return err_set(e, ERR_NOMEM, "out of memory for a reply");
}

/* --- the reply's body --- */

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

/* The parser's body callback: 0 to go on, -1 with (x->stop) set. */
static int
xfer_body(void *arg, const char *p, size_t len)
{
	struct xfer *x = arg;
	int r;

	if (!x->checked) {
		x->c->status = x->reply.status;
		x->streaming = x->fn != NULL && x->c->status >= 200 &&
		    x->c->status < 300;
		x->checked = 1;
	}
	if (!x->streaming)
		return buf_append(x, p, len, CLIENT_REPLY_MAX);
	if (x->mode == CLIENT_STREAM_CHUNKS) {
		r = x->fn(x->arg, p, len, &x->fe);
		if (r == CLIENT_STREAM_NEXT)
			return 0;
		x->stop = r == CLIENT_STREAM_STOP ? XFER_STOPPED :
		    XFER_FN_FAILED;
		return -1;
	}
	if (buf_append(x, p, len, CLIENT_LINE_MAX) == -1 || give_lines(x) == -1)
		return -1;
	return 0;
}

/* --- the connection --- */

static int
cancelled(const struct client *c)
{
	return c->cancel != NULL && *c->cancel != 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until (fd) has one of (events), or (deadline) (now_ms(), 0: none)
 * passes.  0: ready (or an error or hangup that the next call on (fd)
 * tells); 1: the deadline passed; -1: the cancel flag was raised
 * ("interrupted" in (e)) or poll() failed.
 */
static int
wait_fd(struct client *c, int fd, short events, long long deadline,
    struct err *e)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int ms, n;

	for (;;) {
		if (cancelled(c))
			return err_set(e, "interrupted", "interrupted");
		ms = c->cancel != NULL ? CLIENT_CANCEL_POLL_MS : -1;
		if (deadline != 0) {
			if ((left = deadline - now_ms()) <= 0)
				return 1;
			if (ms < 0 || left < ms)
				ms = (int)left;
		}
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n == -1 && errno == ENOMEM)
			return err_set(e, ERR_NOMEM, "out of memory in poll()");
		if (n == -1 && errno != EINTR)
			return broke(c, strerror(errno), e);
	}
}

static int
connect_timeout(struct client *c, struct err *e)
{
	return err_set(e, "daemon_unreachable", "unikerneld did not answer "
	    "on %s within %ld s; is it running?", c->socket,
	    CLIENT_CONNECT_TIMEOUT);
}

/* Connects (fd) to the daemon: 0, or -1 with (e) set. */
static int
connect_daemon(struct client *c, int fd, struct err *e)
{
	long long deadline = now_ms() + CLIENT_CONNECT_TIMEOUT * 1000;
	struct sockaddr_un sa;
	socklen_t sl = sizeof(int);
	int rc, soerr = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, c->socket, strlen(c->socket) + 1);
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		if (errno != EAGAIN)
			break;
		/* The daemon's listen queue is full: again, a bit later. */
		if (cancelled(c))
			return err_set(e, "interrupted", "interrupted");
		if (now_ms() >= deadline)
			return connect_timeout(c, e);
		poll(NULL, 0, CLIENT_BACKLOG_WAIT_MS);
	}
	if (errno != EINPROGRESS && errno != EINTR)
		return unreachable(c, errno, e);
	/* Under way: done when the socket is writable. */
	if ((rc = wait_fd(c, fd, POLLOUT, deadline, e)) == 1)
		return connect_timeout(c, e);
	if (rc == -1)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
		soerr = errno;
	return soerr == 0 ? 0 : unreachable(c, soerr, e);
}

/* A connected non-blocking socket to the daemon in (*fdp). */
static int
open_socket(struct client *c, int *fdp, struct err *e)
{
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return unreachable(c, errno, e);
	if (connect_daemon(c, fd, e) == -1) {
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

/* Writes (len) bytes of (p).  0, or the errno that stopped it, or -1 with
 * (e) set (interrupted). */
static int
send_all(struct client *c, int fd, const char *p, size_t len, struct err *e)
{
	ssize_t n;

	while (len > 0) {
		if (cancelled(c))
			return err_set(e, "interrupted", "interrupted");
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == -1 && (errno == EAGAIN ||
		    errno == EWOULDBLOCK)) {
			if (wait_fd(c, fd, POLLOUT, 0, e) == -1)
				return -1;
		} else if (n == -1 && errno != EINTR) {
			return errno > 0 ? errno : EIO;
		}
	}
	return 0;
}

/* Reads the reply into (x->reply) until it ends.  (senderr): the errno of
 * a request that could not be written whole (0: none), the reason when no
 * reply came either. */
static int
receive(struct client *c, int fd, struct xfer *x, int senderr, struct err *e)
{
	char buf[CLIENT_READ_SIZE];
	ssize_t n;
	int rc = HTTP_REPLY_MORE;

	while (rc == HTTP_REPLY_MORE) {
		if (cancelled(c))
			return err_set(e, "interrupted", "interrupted");
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			rc = http_reply_feed(&x->reply, buf, (size_t)n, NULL);
		} else if (n == 0) {
			rc = http_reply_end(&x->reply);
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(c, fd, POLLIN, 0, e) == -1)
				return -1;
		} else if (errno != EINTR) {
			if (!x->reply.got_any && senderr != 0)
				return broke(c, strerror(senderr), e);
			return broke(c, strerror(errno), e);
		}
		if (x->reply.status != 0)
			c->status = x->reply.status;
	}
	switch (rc) {
	case HTTP_REPLY_DONE:
		return 0;
	case HTTP_REPLY_STOPPED:
		return stop_error(x, e);
	case HTTP_REPLY_BAD:
		return err_set(e, "daemon_bad_reply", "unikerneld (%s) sent a "
		    "malformed HTTP reply: %s", c->socket, x->reply.why);
	default:
		if (!x->reply.got_any && senderr != 0)
			return broke(c, strerror(senderr), e);
		return broke(c, x->reply.why, e);
	}
}

/* An HTTP method: upper-case letters. */
static int
method_valid(const char *m)
{
	size_t i;

	for (i = 0; m[i] != '\0'; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return 0;
	return i > 0 && i <= CLIENT_METHOD_MAX;
}

/* A request's path: '/' then printable ASCII without spaces. */
static int
path_valid(const char *path)
{
	size_t i;

	if (path[0] != '/')
		return 0;
	for (i = 0; path[i] != '\0'; i++)
		if ((unsigned char)path[i] <= 0x20 ||
		    (unsigned char)path[i] >= 0x7f || i >= CLIENT_PATH_MAX)
			return 0;
	return 1;
}

static int
perform(struct client *c, const char *method, const char *path,
    json_object *body, struct xfer *x, struct err *e)
{
	char head[CLIENT_PATH_MAX + CLIENT_METHOD_MAX + 256];
	const char *text = NULL;
	size_t textlen = 0;
	int fd = -1, n, rc, senderr;

	if (!path_valid(path))
		return err_set(e, ERR_INVALID, "bad request path '%.64s'",
		    path);
	if (!method_valid(method))
		return err_set(e, ERR_INVALID, "bad request method '%.16s'",
		    method);
	c->status = 0;
	c->code[0] = '\0';
	if (c->details != NULL)
		json_object_put(c->details);
	c->details = NULL;
	if (strcmp(method, "POST") == 0 || body != NULL) {
		text = body != NULL ? json_object_to_json_string_ext(body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) :
		    "";
		if (text == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		textlen = strlen(text);
		n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n"
		    "Host: localhost\r\nUser-Agent: uk/" PACKAGE_VERSION "\r\n"
		    "Accept: */*\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    method, path, textlen);
	} else {
		n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n"
		    "Host: localhost\r\nUser-Agent: uk/" PACKAGE_VERSION "\r\n"
		    "Accept: */*\r\nConnection: close\r\n\r\n", method, path);
	}
	if (n < 0 || (size_t)n >= sizeof(head))
		return err_set(e, ERR_INVALID, "bad request path '%.64s'",
		    path);
	if (open_socket(c, &fd, e) == -1)
		return -1;
	http_reply_init(&x->reply, xfer_body, x);
	/* A reply may come before the whole request is written (a body the
	 * daemon refuses at once): it is read all the same. */
	if ((senderr = send_all(c, fd, head, (size_t)n, e)) == 0 &&
	    textlen > 0)
		senderr = send_all(c, fd, text, textlen, e);
	if (senderr == -1)
		rc = -1;
	else
		rc = receive(c, fd, x, senderr, e);
	close(fd);
	if (rc == 0 && x->stop == XFER_GOING &&
	    (c->status < 200 || c->status > 299))
		rc = error_reply(c, x, e);
	return rc;
}

int
client_call(struct client *c, const char *method, const char *path,
    json_object *body, json_object **out, struct err *e)
{
	struct xfer *x;
	json_object *o;
	int rc;

	if (out != NULL)
		*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory for a reply");
	x->c = c;
	if ((rc = perform(c, method, path, body, x, e)) == 0) {
		if ((o = parse_json(x->buf != NULL ? x->buf : "", x->len)) ==
		    NULL)
			rc = err_set(e, "daemon_bad_reply", "unikerneld (%s) "
			    "answered %s %s with something that is not JSON",
			    c->socket, method, path);
		else if (out != NULL)
			*out = o;
		else
			json_object_put(o);
	}
	free(x->buf);
	free(x);
	return rc;
}

int
client_stream(struct client *c, const char *method, const char *path,
    json_object *body, enum client_stream_mode mode,
    int (*fn)(void *arg, const char *data, size_t len, struct err *fe),
    void *arg, struct err *e)
{
	struct xfer *x;
	int rc;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory for a reply");
	x->c = c;
	x->mode = mode;
	x->fn = fn;
	x->arg = arg;
	err_clear(&x->fe);
	rc = perform(c, method, path, body, x, e);
	/* The last line may come without its newline. */
	if (rc == 0 && x->streaming && mode == CLIENT_STREAM_LINES &&
	    x->stop == XFER_GOING && x->len > 0 &&
	    give_line(x, x->buf, x->len) == -1 && x->stop == XFER_FN_FAILED) {
		if (e != NULL)
			*e = x->fe;
		rc = -1;
	}
	free(x->buf);
	free(x);
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
