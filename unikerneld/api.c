#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "api.h"
#include "fileio.h"

#define API_MAX_CAPTURES 4
#define API_PATH_MAX 1024	/* longer paths match no route */
#define API_CONN_LIMIT 1024	/* a thread each */
#define API_CONN_TIMEOUT 120	/* seconds a connection may sit idle */
#define API_STREAM_BLOCK 16384
#define API_TLS_FILE_MAX (1024 * 1024)

/*
 * HTTP statuses by error code: the one table.  Rows ending in '*' match
 * every code with that prefix; the first row that matches wins, so exact
 * codes come before the prefixes that would cover them.  Unknown codes
 * are 500.
 */
static const struct {
	const char *code;
	unsigned status;
} status_table[] = {
	/* the request itself */
	{ "bad_request", 400 },
	{ "bad_json", 400 },
	{ "invalid_argument", 400 },
	{ "version_invalid", 400 },
	{ "range_invalid", 400 },
	{ "trust_pattern_invalid", 400 },
	{ "uri_malformed", 400 },
	{ "uri_unsupported_scheme", 400 },
	{ "fetch_bad_url", 400 },
	{ "unauthorized", 401 },
	{ "not_found", 404 },
	{ "method_not_allowed", 405 },
	{ "body_too_large", 413 },
	/* trust: the daemon refuses on the host's own policy */
	{ "forbidden", 403 },
	{ "unknown_key", 403 },
	{ "key_not_trusted_for_domain", 403 },
	{ "sig_*", 403 },
	/* what the daemon holds */
	{ "store_not_found", 404 },
	{ "store_exists", 409 },
	{ "store_conflict", 409 },
	{ "store_bad_transition", 409 },
	{ "image_in_use", 409 },
	{ "feed_in_use", 409 },
	{ "instance_active", 409 },
	{ "instance_busy", 409 },
	{ "key_last_domain", 409 },
	{ "feed_rollback", 409 },
	{ "feed_equivocation", 409 },
	{ "store_busy", 503 },
	{ "backend_unavailable", 503 },
	{ "backend_unknown", 400 },
	{ "stop_timeout", 504 },
	{ "shutting_down", 503 },
	/* guest networks (netspec.h, hostnet.h) */
	{ "network_mode_unknown", 400 },
	{ "network_forward_invalid", 400 },
	{ "network_forward_duplicate", 400 },
	{ "network_too_many_forwards", 400 },
	{ "network_forward_mode", 400 },
	{ "network_unsupported", 400 },
	{ "network_host_ip_refused", 403 },
	{ "network_pool_exhausted", 409 },
	{ "network_port_in_use", 409 },
	{ "network_bridge_conflict", 409 },
	{ "network_not_permitted", 503 },
	/* what came from elsewhere: the documents are refused... */
	{ "feed_*", 422 },
	{ "manifest_*", 422 },
	{ "img_*", 422 },
	{ "ustar_*", 422 },
	{ "elf_*", 422 },
	{ "select_no_match", 422 },
	/* ...or could not be had */
	{ "fetch_timeout", 504 },
	{ "fetch_*", 502 },
	{ "not_implemented", 501 },
};

struct api_listener {
	struct api *api;
	struct MHD_Daemon *mhd;
	int fd;			/* ours; MHD has a dup of it */
	int tcp;		/* requests need the bearer token */
};

struct api {
	const struct config *cfg;
	const struct api_route *routes;
	const char *const *backends;
	void *arg;
	void (*log)(int prio, const char *msg);
	time_t started;
	int stopping;		/* __atomic */

	struct api_listener local, tcp;
	int lock_fd;
	char lock_path[CONFIG_PATH_MAX + 8];
	int sock_made;		/* the socket file is ours to remove */
	dev_t sock_dev;
	ino_t sock_ino;

	uint8_t token_hash[SHA256_LEN];
	char *tls_cert, *tls_key;
};

struct api_request {
	struct api *api;
	struct api_listener *l;
	struct MHD_Connection *conn;
	const char *method;	/* MHD's, live as long as the request */
	char path[API_PATH_MAX];
	char qpath[256];	/* path, quoted for messages */
	const struct api_route *route;
	int ncaps;
	const char *cap_name[API_MAX_CAPTURES];
	size_t cap_name_len[API_MAX_CAPTURES];
	const char *cap_value[API_MAX_CAPTURES];
	char capbuf[API_PATH_MAX];

	char *body;
	size_t body_len, body_cap;
	int too_large;
	json_object *json;

	struct api_peer peer;
	struct timespec t0;

	struct MHD_Response *resp;	/* the reply, until queued */
	unsigned status;
	const char *code;	/* static: the error code of the reply */
	int queued;
};

/* What the server reads of a request body: malformed JSON is "bad_json",
 * JSON the API does not take is "bad_request". */
static const struct jsonstrict_rules body_rules = {
	.max_depth = 8,
	.malformed = "bad_json",
	.too_deep = "bad_json",
	.not_object = "bad_request",
	.escaped_key = "bad_request",
	.duplicate_key = "bad_request",
	.too_many_keys = "bad_request",
	.unknown_key = "bad_request",
	.missing = "bad_request",
	.bad_type = "bad_request",
};

const struct jsonstrict_rules api_body_rules = {
	.max_depth = 8,
	.malformed = "bad_request",
	.too_deep = "bad_request",
	.not_object = "bad_request",
	.escaped_key = "bad_request",
	.duplicate_key = "bad_request",
	.too_many_keys = "bad_request",
	.unknown_key = "bad_request",
	.missing = "bad_request",
	.bad_type = "bad_request",
};

__attribute__((format(printf, 3, 4))) static void
api_logf(struct api *api, int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (api->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api->log(prio, msg);
}

__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct api *api = cls;
	char msg[1024];
	size_t n;

	if (api->log == NULL)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	api->log(LOG_WARNING, msg);
}

static int
api_is_stopping(const struct api *api)
{
	return __atomic_load_n(&api->stopping, __ATOMIC_ACQUIRE);
}

unsigned
api_status(const char *code)
{
	size_t i, n;

	if (code == NULL)
		return 500;
	for (i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
		n = strlen(status_table[i].code);
		if (status_table[i].code[n - 1] == '*') {
			if (strncmp(code, status_table[i].code, n - 1) == 0)
				return status_table[i].status;
		} else if (strcmp(code, status_table[i].code) == 0)
			return status_table[i].status;
	}
	return 500;
}

/* ---- replies ---- */

static void
set_reply(struct api_request *req, unsigned status, struct MHD_Response *r,
    const char *code)
{
	if (req->resp != NULL)
		MHD_destroy_response(req->resp);
	req->resp = r;
	req->status = status;
	req->code = code;
}

/* (len) bytes of (buf), which it takes, with a Content-Type. */
static int
reply_buf(struct api_request *req, unsigned status, char *buf, size_t len,
    const char *type, const char *code)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return -1;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) !=
	    MHD_YES || MHD_add_response_header(r,
	    MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES) {
		MHD_destroy_response(r);
		return -1;
	}
	set_reply(req, status, r, code);
	return 0;
}

static int
reply_json_code(struct api_request *req, unsigned status, json_object *obj,
    const char *code)
{
	const char *s;
	char *buf;
	size_t len;
	int rc = -1;

	if (obj == NULL)
		return -1;
	s = json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL) {
		len = strlen(s);
		if ((buf = malloc(len + 1)) != NULL) {
			memcpy(buf, s, len);
			buf[len] = '\n';
			rc = reply_buf(req, status, buf, len + 1,
			    "application/json", code);
		}
	}
	json_object_put(obj);
	return rc;
}

int
api_reply_json(struct api_request *req, unsigned status, json_object *obj)
{
	return reply_json_code(req, status, obj, NULL);
}

int
api_reply_body(struct api_request *req, unsigned status, const char *type,
    const char *body, size_t len)
{
	char *buf;

	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	memcpy(buf, body, len);
	return reply_buf(req, status, buf, len, type, NULL);
}

/* {"error":{"code":..,"message":..[,"details":..]}}, taking (details)
 * over; the last resort when even that cannot be made is a reply without
 * a body. */
static int
reply_error(struct api_request *req, unsigned status, const char *code,
    const char *msg, json_object *details)
{
	json_object *o, *in;
	struct MHD_Response *r;

	if ((o = json_object_new_object()) != NULL &&
	    (in = json_object_new_object()) != NULL) {
		json_object_object_add(o, "error", in);
		json_object_object_add(in, "code",
		    json_object_new_string(code));
		json_object_object_add(in, "message",
		    json_object_new_string(msg));
		if (details != NULL)
			json_object_object_add(in, "details", details);
	} else {
		if (o != NULL)
			json_object_put(o);
		if (details != NULL)
			json_object_put(details);
		o = NULL;
	}
	if (reply_json_code(req, status, o, code) == 0)
		return 0;
	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (r != NULL)
		set_reply(req, status, r, code);
	return 0;
}

int
api_reply_error_details(struct api_request *req, const struct err *e,
    json_object *details)
{
	const char *code = e != NULL && e->code != NULL && e->code[0] != '\0' ?
	    e->code : "internal_error";

	return reply_error(req, api_status(code), code,
	    e != NULL ? e->msg : "", details);
}

int
api_reply_error(struct api_request *req, const struct err *e)
{
	return api_reply_error_details(req, e, NULL);
}

int
api_reply_errorf(struct api_request *req, const char *code,
    const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return reply_error(req, api_status(code), code, msg, NULL);
}

/* ---- streams ---- */

struct api_stream {
	struct api *api;
	int fd;			/* the connection: did the client go? */
	ssize_t (*produce)(void *arg, char *buf, size_t max);
	void *arg;
	void (*release)(void *arg);
};

/* The client hung up (or the connection broke) while nothing was sent. */
static int
peer_gone(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	if (fd < 0)
		return 0;
	return poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_stream *s = cls;
	ssize_t n;

	for (;;) {
		if (api_is_stopping(s->api))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		n = s->produce(s->arg, buf, max);
		if (n > 0)
			return n > (ssize_t)max ? (ssize_t)max : n;
		if (n == API_STREAM_END)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (n != API_STREAM_AGAIN || peer_gone(s->fd))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void
stream_free(void *cls)
{
	struct api_stream *s = cls;

	if (s->release != NULL)
		s->release(s->arg);
	free(s);
}

static int
connection_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci != NULL ? ci->connect_fd : -1;
}

int
api_reply_stream(struct api_request *req, unsigned status,
    const char *content_type,
    ssize_t (*produce)(void *arg, char *buf, size_t max), void *arg,
    void (*release)(void *arg))
{
	struct api_stream *s;
	struct MHD_Response *r;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		if (release != NULL)
			release(arg);
		return -1;
	}
	s->api = req->api;
	s->fd = connection_fd(req->conn);
	s->produce = produce;
	s->arg = arg;
	s->release = release;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
	    API_STREAM_BLOCK, stream_read, s, stream_free);
	if (r == NULL) {
		stream_free(s);
		return -1;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    content_type) != MHD_YES || MHD_add_response_header(r,
	    MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES) {
		MHD_destroy_response(r);
		return -1;
	}
	set_reply(req, status, r, NULL);
	return 0;
}

/* ---- what handlers read ---- */

const char *
api_method(const struct api_request *req)
{
	return req->method;
}

const char *
api_path(const struct api_request *req)
{
	return req->path;
}

const char *
api_capture(const struct api_request *req, const char *name)
{
	size_t len = strlen(name);
	int i;

	for (i = 0; i < req->ncaps; i++)
		if (req->cap_name_len[i] == len &&
		    memcmp(req->cap_name[i], name, len) == 0)
			return req->cap_value[i];
	return NULL;
}

const char *
api_query(const struct api_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

json_object *
api_body(const struct api_request *req)
{
	return req->json;
}

const struct api_peer *
api_peer(const struct api_request *req)
{
	return &req->peer;
}

void *
api_arg(const struct api_request *req)
{
	return req->api->arg;
}

/* ---- the routes implemented here ---- */

int
api_route_version(struct api_request *req)
{
	const char *const *b;
	json_object *o, *arr;

	if ((o = json_object_new_object()) == NULL)
		return -1;
	if ((arr = json_object_new_array()) == NULL) {
		json_object_put(o);
		return -1;
	}
	for (b = req->api->backends; b != NULL && *b != NULL; b++)
		json_object_array_add(arr, json_object_new_string(*b));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "api", json_object_new_int(API_VERSION));
	json_object_object_add(o, "backends", arr);
	return api_reply_json(req, 200, o);
}

int
api_route_health(struct api_request *req)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return -1;
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "uptime_seconds",
	    json_object_new_int64((int64_t)(time(NULL) - req->api->started)));
	return api_reply_json(req, 200, o);
}

int
api_not_implemented(struct api_request *req)
{
	return api_reply_errorf(req, "not_implemented",
	    "%s %s is not implemented yet", req->route->method,
	    req->route->pattern);
}

/* The default table: what api.c serves by itself (the daemon passes
 * ukd_routes[], routes.c). */
const struct api_route api_routes[] = {
	{ "GET", "/v1/version", api_route_version },
	{ "GET", "/v1/health", api_route_health },
	{ NULL, NULL, NULL },
};

/* ---- routing ---- */

/* Whether (path) fits (pattern); with (req), the captures are kept. */
static int
route_match(const char *pattern, const char *path, struct api_request *req)
{
	const char *p = pattern, *s = path, *pe, *se;
	size_t used = 0, plen, slen;
	int n = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = p + strcspn(p, "/");
		se = s + strcspn(s, "/");
		plen = (size_t)(pe - p);
		slen = (size_t)(se - s);
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0 || n == API_MAX_CAPTURES)
				return 0;
			if (req != NULL) {
				req->cap_name[n] = p + 1;
				req->cap_name_len[n] = plen - 2;
				memcpy(req->capbuf + used, s, slen);
				req->capbuf[used + slen] = '\0';
				req->cap_value[n] = req->capbuf + used;
				used += slen + 1;
			}
			n++;
		} else if (plen != slen || memcmp(p, s, plen) != 0)
			return 0;
		p = pe;
		s = se;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	if (req != NULL)
		req->ncaps = n;
	return 1;
}

/* The path for messages and logs: MHD has already undone %-escapes, so
 * it may hold newlines or terminal controls. */
static const char *
request_path_quoted(struct api_request *req)
{
	if (req->qpath[0] == '\0')
		jsonstrict_quote(req->path, req->qpath, sizeof(req->qpath));
	return req->qpath;
}

/* Finds the route of (req); else replies 404, or 405 with Allow. */
static int
route_find(struct api_request *req)
{
	const struct api_route *r;
	const char *m = strcmp(req->method, "HEAD") == 0 ? "GET" :
	    req->method;
	char allow[128] = "";
	int matched = 0;

	for (r = req->api->routes; r->method != NULL; r++) {
		if (!route_match(r->pattern, req->path, NULL))
			continue;
		if (strcmp(r->method, m) == 0) {
			route_match(r->pattern, req->path, req);
			req->route = r;
			return 0;
		}
		matched = 1;
		if (strstr(allow, r->method) == NULL &&
		    strlen(allow) + strlen(r->method) + 8 < sizeof(allow)) {
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, r->method);
			if (strcmp(r->method, "GET") == 0)
				strcat(allow, ", HEAD");
		}
	}
	if (!matched)
		return api_reply_errorf(req, "not_found",
		    "no such resource: %s", request_path_quoted(req)), -1;
	api_reply_errorf(req, "method_not_allowed",
	    "%s is not allowed on %s (allowed: %s)", req->method,
	    request_path_quoted(req), allow);
	if (req->resp != NULL)
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_ALLOW,
		    allow);
	return -1;
}

/* ---- requests ---- */

static void
peer_read(struct api_request *req)
{
	const union MHD_ConnectionInfo *ci;
	struct api_peer *p = &req->peer;
	struct ucred uc;
	socklen_t len = sizeof(uc);
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr *sa;

	p->uid = (uid_t)-1;
	p->gid = (gid_t)-1;
	p->pid = -1;
	if (!req->l->tcp) {
		p->local = 1;
		strcpy(p->addr, "unix");
		if (getsockopt(connection_fd(req->conn), SOL_SOCKET,
		    SO_PEERCRED, &uc, &len) == 0 && len == sizeof(uc)) {
			p->uid = uc.uid;
			p->gid = uc.gid;
			p->pid = uc.pid;
		}
		return;
	}
	strcpy(p->addr, "?");
	ci = MHD_get_connection_info(req->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(p->addr, sizeof(p->addr), "%s:%u", host,
		    ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(p->addr, sizeof(p->addr), "[%s]:%u", host,
		    ntohs(sin6->sin6_port));
	}
}

/* "Authorization: Bearer <token>", compared in constant time (through
 * SHA-256, so that not even the length leaks). */
static int
authorized(struct api_request *req)
{
	const char *h, *t;
	uint8_t hash[SHA256_LEN];

	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	for (t = h + 7; *t == ' '; t++)
		;
	sha256_buf(t, strlen(t), hash);
	return CRYPTO_memcmp(hash, req->api->token_hash, SHA256_LEN) == 0;
}

static struct api_request *
request_new(struct api_listener *l, struct MHD_Connection *conn,
    const char *url, const char *method)
{
	struct api_request *req;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return NULL;
	req->api = l->api;
	req->l = l;
	req->conn = conn;
	req->method = method;
	clock_gettime(CLOCK_MONOTONIC, &req->t0);
	if (strlen(url) < sizeof(req->path))
		strcpy(req->path, url);
	else
		snprintf(req->path, sizeof(req->path), "%.*s...",
		    (int)sizeof(req->path) - 4, url);
	peer_read(req);
	return req;
}

/* What can be decided from the headers alone.  Returns 1 when a reply is
 * ready (an error), 0 to go on and read the body. */
static int
request_begin(struct api_request *req)
{
	const char *cl;
	unsigned long long n;
	char *end;

	if (req->l->tcp && !authorized(req)) {
		api_reply_errorf(req, "unauthorized",
		    "this listener needs \"Authorization: Bearer <token>\"");
		if (req->resp != NULL)
			MHD_add_response_header(req->resp,
			    MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			    "Bearer realm=\"unikerneld\"");
		return 1;
	}
	if (req->peer.local && req->peer.uid == (uid_t)-1) {
		api_reply_errorf(req, "internal_error",
		    "cannot read the client's credentials");
		return 1;
	}
	if (route_find(req) == -1)
		return 1;
	cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno == 0 && *end == '\0' && n > API_BODY_MAX) {
			api_reply_errorf(req, "body_too_large",
			    "the body is %llu bytes, over the limit of %d", n,
			    API_BODY_MAX);
			return 1;
		}
	}
	return 0;
}

static void
body_append(struct api_request *req, const char *data, size_t len)
{
	size_t cap;
	char *nb;

	if (req->too_large)
		return;
	if (len > API_BODY_MAX - req->body_len) {
		req->too_large = 1;
		return;
	}
	if (req->body_len + len > req->body_cap) {
		cap = req->body_cap ? req->body_cap : 1024;
		while (cap < req->body_len + len)
			cap *= 2;
		if ((nb = realloc(req->body, cap)) == NULL) {
			req->too_large = 1;	/* refused all the same */
			return;
		}
		req->body = nb;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, len);
	req->body_len += len;
}

/* The whole request is in: check the body, run the handler. */
static void
request_run(struct api_request *req)
{
	struct err e;
	int rc;

	if (req->too_large) {
		api_reply_errorf(req, "body_too_large",
		    "the body is over the limit of %d bytes", API_BODY_MAX);
		return;
	}
	err_clear(&e);
	if (req->body_len == 0)
		req->json = json_object_new_object();
	else
		req->json = jsonstrict_parse(req->body, req->body_len,
		    &body_rules, &e);
	if (req->json == NULL) {
		if (e.code[0] == '\0')
			err_set(&e, ERR_NOMEM, "out of memory");
		api_reply_error(req, &e);
		return;
	}
	rc = req->route->fn(req);
	if (req->resp == NULL || (rc == -1 && req->status < 400)) {
		if (rc != -1)
			api_logf(req->api, LOG_ERR, "%s %s: the handler gave "
			    "no reply", req->method, req->route->pattern);
		api_reply_errorf(req, "internal_error",
		    "%s %s failed", req->method, req->route->pattern);
	}
}

static enum MHD_Result
request_queue(struct api_request *req)
{
	enum MHD_Result r;

	req->queued = 1;
	if (req->resp == NULL)
		return MHD_NO;	/* out of memory: close the connection */
	r = MHD_queue_response(req->conn, req->status, req->resp);
	MHD_destroy_response(req->resp);
	req->resp = NULL;
	return r;
}

static enum MHD_Result
api_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct api_listener *l = cls;
	struct api_request *req = *con_cls;

	if (req == NULL) {
		if ((req = request_new(l, conn, url, method)) == NULL)
			return MHD_NO;
		*con_cls = req;
		if (request_begin(req) == 0)
			return MHD_YES;	/* the body, if any, next */
		return request_queue(req);
	}
	if (req->queued) {
		*upload_data_size = 0;	/* answered: drop the rest */
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		body_append(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	request_run(req);
	return request_queue(req);
}

static void
api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api_request *req = *con_cls;
	struct api_peer *p;
	struct timespec t1;
	char who[128];
	double ms;

	if (req == NULL)
		return;
	*con_cls = NULL;
	p = &req->peer;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - req->t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - req->t0.tv_nsec) / 1e6;
	if (p->local)
		snprintf(who, sizeof(who), "uid=%ld gid=%ld pid=%ld",
		    (long)(int)p->uid, (long)(int)p->gid, (long)p->pid);
	else
		snprintf(who, sizeof(who), "%s", p->addr);
	api_logf(req->api, req->status >= 400 ? LOG_INFO : LOG_DEBUG,
	    "%s %s %s %u%s%s %.1fms%s", who, req->method,
	    request_path_quoted(req),
	    req->status, req->code != NULL ? " " : "",
	    req->code != NULL ? req->code : "", ms,
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" :
	    " (cut short)");
	if (req->resp != NULL)
		MHD_destroy_response(req->resp);
	if (req->json != NULL)
		json_object_put(req->json);
	free(req->body);
	free(req);
}

/* ---- sockets ---- */

/* Whether a server answers on the unix socket (path). */
static int
socket_answers(const char *path, int *err)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		*err = errno;
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	*err = errno;
	close(fd);
	return rc == 0;
}

/* A lock next to the socket keeps two daemons starting at once from each
 * taking the other's socket for stale. */
static int
local_lock(struct api *api, struct err *e)
{
	const char *path = api->cfg->socket;

	snprintf(api->lock_path, sizeof(api->lock_path), "%s.lock", path);
	api->lock_fd = open(api->lock_path,
	    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (api->lock_fd == -1)
		return err_errno(e, "api_socket", errno, "%s", api->lock_path);
	if (flock(api->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			return err_set(e, "api_socket_in_use", "%s: another "
			    "unikerneld holds the lock %s", path,
			    api->lock_path);
		return err_errno(e, "api_socket", errno, "locking %s",
		    api->lock_path);
	}
	return 0;
}

/* Removes (path) if it is a socket no server answers on. */
static int
local_clear_stale(struct api *api, struct err *e)
{
	const char *path = api->cfg->socket;
	struct stat st;
	int answers, serr;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 :
		    err_errno(e, "api_socket", errno, "%s", path);
	if (!S_ISSOCK(st.st_mode))
		return err_set(e, "api_socket",
		    "%s exists and is not a socket; not removing it", path);
	answers = socket_answers(path, &serr);
	if (answers == 1)
		return err_set(e, "api_socket_in_use", "%s: another daemon "
		    "answers on it", path);
	if (answers == -1 || (serr != ECONNREFUSED && serr != ENOENT))
		return err_errno(e, "api_socket", serr, "probing %s", path);
	if (unlink(path) == -1 && errno != ENOENT)
		return err_errno(e, "api_socket", errno, "removing stale %s",
		    path);
	api_logf(api, LOG_NOTICE, "removed the stale socket %s", path);
	return 0;
}

static int
local_socket(struct api *api, struct err *e)
{
	const struct config *cfg = api->cfg;
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	if (local_lock(api, e) == -1 || local_clear_stale(api, e) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, cfg->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return err_errno(e, "api_socket", errno, "socket");
	/* Nobody may connect before the mode and owner are right. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1) {
		err_errno(e, "api_socket", errno, "bind %s", cfg->socket);
		close(fd);
		return -1;
	}
	api->sock_made = 1;
	if (lstat(cfg->socket, &st) == -1) {
		err_errno(e, "api_socket", errno, "%s", cfg->socket);
		goto fail;
	}
	api->sock_dev = st.st_dev;
	api->sock_ino = st.st_ino;
	if ((cfg->socket_uid != (uid_t)-1 || cfg->socket_gid != (gid_t)-1) &&
	    lchown(cfg->socket, cfg->socket_uid, cfg->socket_gid) == -1) {
		err_errno(e, "api_socket", errno, "chown %s", cfg->socket);
		goto fail;
	}
	if (chmod(cfg->socket, cfg->socket_mode) == -1) {
		err_errno(e, "api_socket", errno, "chmod %s", cfg->socket);
		goto fail;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		err_errno(e, "api_socket", errno, "listen %s", cfg->socket);
		goto fail;
	}
	api->local.fd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

static int
tcp_socket(struct api *api, struct err *e)
{
	const struct config *cfg = api->cfg;
	int fd, one = 1;

	fd = socket(cfg->listen_addr.ss_family,
	    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return err_errno(e, "api_listen", errno, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 || (cfg->listen_addr.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ==
	    -1)) {
		err_errno(e, "api_listen", errno, "setsockopt");
		goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&cfg->listen_addr,
	    cfg->listen_addrlen) == -1) {
		err_errno(e, "api_listen", errno, "listen on %s", cfg->listen);
		goto fail;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		err_errno(e, "api_listen", errno, "listen on %s", cfg->listen);
		goto fail;
	}
	api->tcp.fd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

static int
mhd_start(struct api *api, struct api_listener *l, struct err *e)
{
	struct MHD_OptionItem opts[12];
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	size_t n = 0;
	int fd;

	if ((fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return err_errno(e, "api_start", errno, "dup");
	/* The logger first, or MHD prints its earlier messages itself. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)mhd_log, api };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, fd,
	    NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)api_completed, l };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    API_CONN_TIMEOUT, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    API_CONN_LIMIT, NULL };
	if (l->tcp && api->tls_cert != NULL) {
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_MEM_KEY, 0, api->tls_key };
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_MEM_CERT, 0, api->tls_cert };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, api_access, l,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (l->mhd == NULL) {
		/* (fd) is not closed here: libmicrohttpd may have closed it
		 * already, and a second close could hit a descriptor that
		 * another thread has just been given. */
		return err_set(e, "api_start", "libmicrohttpd did not start "
		    "on %s", l->tcp ? api->cfg->listen : api->cfg->socket);
	}
	return 0;
}

static int
tls_load(struct api *api, struct err *e)
{
	const struct config *cfg = api->cfg;
	size_t len;

	if (cfg->tls_cert[0] == '\0')
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return err_set(e, "api_tls", "this libmicrohttpd was built "
		    "without TLS");
	if (fileio_read(cfg->tls_cert, API_TLS_FILE_MAX, &api->tls_cert, &len,
	    e) == -1 || fileio_read(cfg->tls_key, API_TLS_FILE_MAX,
	    &api->tls_key, &len, e) == -1) {
		e->code = "api_tls";
		return -1;
	}
	return 0;
}

static void
api_free(struct api *api)
{
	struct stat st;

	if (api->sock_made && lstat(api->cfg->socket, &st) == 0 &&
	    st.st_dev == api->sock_dev && st.st_ino == api->sock_ino)
		unlink(api->cfg->socket);
	if (api->local.fd != -1)
		close(api->local.fd);
	if (api->tcp.fd != -1)
		close(api->tcp.fd);
	if (api->lock_fd != -1)
		close(api->lock_fd);
	if (api->tls_key != NULL) {
		explicit_bzero(api->tls_key, strlen(api->tls_key));
		free(api->tls_key);
	}
	free(api->tls_cert);
	explicit_bzero(api->token_hash, sizeof(api->token_hash));
	free(api);
}

void
api_stop(struct api *api)
{
	if (api == NULL)
		return;
	__atomic_store_n(&api->stopping, 1, __ATOMIC_RELEASE);
	if (api->tcp.mhd != NULL)
		MHD_stop_daemon(api->tcp.mhd);
	if (api->local.mhd != NULL)
		MHD_stop_daemon(api->local.mhd);
	api_free(api);
}

int
api_start(const struct api_params *p, struct api **out, struct err *e)
{
	const struct config *cfg = p->cfg;
	struct api *api;

	*out = NULL;
	if ((api = calloc(1, sizeof(*api))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	api->cfg = cfg;
	api->routes = p->routes != NULL ? p->routes : api_routes;
	api->backends = p->backends;
	api->arg = p->arg;
	api->log = p->log;
	api->started = time(NULL);
	api->local = (struct api_listener){ api, NULL, -1, 0 };
	api->tcp = (struct api_listener){ api, NULL, -1, 1 };
	api->lock_fd = -1;
	if (cfg->listen_addrlen != 0 && cfg->token[0] == '\0') {
		err_set(e, "api_listen", "listen needs a token (token_file)");
		goto fail;
	}
	sha256_buf(cfg->token, strlen(cfg->token), api->token_hash);
	if (tls_load(api, e) == -1 || local_socket(api, e) == -1 ||
	    (cfg->listen_addrlen != 0 && tcp_socket(api, e) == -1))
		goto fail;
	if (mhd_start(api, &api->local, e) == -1 ||
	    (api->tcp.fd != -1 && mhd_start(api, &api->tcp, e) == -1))
		goto fail;
	*out = api;
	return 0;
fail:
	api_stop(api);
	return -1;
}
