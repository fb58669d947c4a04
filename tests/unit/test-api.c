/* The API server with a route table of its own, over a private unix
 * socket: captures, queries, bodies, peer credentials, the status table,
 * chunked streams (and a stop while one is waiting), stale and busy
 * sockets. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "tap.h"

static char dir[] = "/tmp/test-api.XXXXXX";
static struct config cfg;

static struct {
	uid_t uid;
	pid_t pid;
	int local;
} seen;

static int
h_caps(struct api_request *req)
{
	const char *tail = api_query(req, "tail");

	return api_reply_errorf(req, "store_not_found", "a=%s b=%s tail=%s",
	    api_capture(req, "a"), api_capture(req, "b"),
	    tail != NULL ? tail : "(none)");
}

static int
h_echo(struct api_request *req)
{
	const struct api_peer *p = api_peer(req);

	seen.uid = p->uid;
	seen.pid = p->pid;
	seen.local = p->local;
	return api_reply_json(req, 200, json_object_get(api_body(req)));
}

static int
h_fails(struct api_request *req)
{
	return -1;
}

static int
h_silent(struct api_request *req)
{
	return 0;
}

static int
h_member(struct api_request *req)
{
	json_object *v;
	struct err e;

	if (jsonstrict_member(api_body(req), "n", "n", json_type_int, 1,
	    &api_body_rules, &v, &e) == -1)
		return api_reply_error(req, &e);
	return api_reply_json(req, 201, json_object_new_object());
}

struct counter {
	int n;
};

static ssize_t
produce_three(void *arg, char *buf, size_t max)
{
	struct counter *c = arg;

	switch (c->n++) {
	case 0:
		memcpy(buf, "one\n", 4);
		return 4;
	case 1:
		usleep(50 * 1000);
		return API_STREAM_AGAIN;
	case 2:
		memcpy(buf, "two\n", 4);
		return 4;
	default:
		return API_STREAM_END;
	}
}

static int released;

static void
release_counter(void *arg)
{
	free(arg);
	__atomic_add_fetch(&released, 1, __ATOMIC_SEQ_CST);
}

static int
h_stream(struct api_request *req)
{
	struct counter *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	return api_reply_stream(req, 200, "text/plain", produce_three, c,
	    release_counter);
}

static ssize_t
produce_forever(void *arg, char *buf, size_t max)
{
	struct counter *c = arg;

	if (c->n++ == 0) {
		memcpy(buf, "start\n", 6);
		return 6;
	}
	usleep(100 * 1000);
	return API_STREAM_AGAIN;
}

static int
h_forever(struct api_request *req)
{
	struct counter *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	return api_reply_stream(req, 200, "text/plain", produce_forever, c,
	    release_counter);
}

static const struct api_route routes[] = {
	{ "GET", "/t/{a}/x/{b}", h_caps },
	{ "POST", "/echo", h_echo },
	{ "PUT", "/echo", h_echo },
	{ "GET", "/fails", h_fails },
	{ "GET", "/silent", h_silent },
	{ "POST", "/member", h_member },
	{ "GET", "/stream", h_stream },
	{ "GET", "/forever", h_forever },
	{ "GET", "/nyi", api_not_implemented },
	{ NULL, NULL, NULL },
};

struct resp {
	int status;
	char head[4096];
	char body[70000];
};

static int
connect_unix(const char *path)
{
	struct sockaddr_un sun;
	struct timeval tv = { 10, 0 };
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Undoes chunked encoding in place, if the head says so. */
static void
dechunk(struct resp *r)
{
	char *in = r->body, *out = r->body, *end;
	unsigned long n;

	if (strstr(r->head, "chunked") == NULL)
		return;
	for (;;) {
		n = strtoul(in, &end, 16);
		if (end == in || (end = strstr(end, "\r\n")) == NULL)
			break;
		in = end + 2;
		if (n == 0)
			break;
		memmove(out, in, n);
		out += n;
		in += n + 2;
	}
	*out = '\0';
}

static void
copy(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* One request on a new connection; the whole response in (r). */
static int
request(const char *req, size_t len, struct resp *r)
{
	char buf[sizeof(r->head) + sizeof(r->body)], *sep;
	size_t n = 0;
	ssize_t got;
	int fd;

	memset(r, 0, sizeof(*r));
	if ((fd = connect_unix(cfg.socket)) == -1)
		return -1;
	if (write(fd, req, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	while (n < sizeof(buf) - 1 &&
	    (got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)got;
	close(fd);
	buf[n] = '\0';
	if ((sep = strstr(buf, "\r\n\r\n")) == NULL)
		return -1;
	*sep = '\0';
	copy(r->head, sizeof(r->head), buf);
	copy(r->body, sizeof(r->body), sep + 4);
	if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1)
		return -1;
	dechunk(r);
	return 0;
}

static int
get(const char *method, const char *path, const char *body, struct resp *r)
{
	char req[2048];
	int n;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", method, path,
	    body != NULL ? strlen(body) : 0, body != NULL ? body : "");
	return request(req, (size_t)n, r);
}

static int
has_code(const struct resp *r, const char *code)
{
	char want[128];

	snprintf(want, sizeof(want), "{\"error\":{\"code\":\"%s\",", code);
	return strncmp(r->body, want, strlen(want)) == 0;
}

static void
test_routes(void)
{
	struct resp r;

	ok(get("GET", "/t/one/x/two?tail=5", NULL, &r) == 0 &&
	    r.status == 404 && has_code(&r, "store_not_found") &&
	    strstr(r.body, "a=one b=two tail=5") != NULL,
	    "captures, a query argument, store_not_found is 404");
	ok(get("GET", "/t/one/x/", NULL, &r) == 0 && r.status == 404 &&
	    has_code(&r, "not_found"), "an empty capture matches nothing");
	ok(get("GET", "/t/one/x/two/three", NULL, &r) == 0 &&
	    r.status == 404, "a longer path matches nothing");
	ok(get("GET", "/nope", NULL, &r) == 0 && r.status == 404 &&
	    has_code(&r, "not_found") &&
	    strstr(r.head, "application/json") != NULL,
	    "an unknown path: 404 with the error JSON");
	ok(get("DELETE", "/echo", NULL, &r) == 0 && r.status == 405 &&
	    has_code(&r, "method_not_allowed") &&
	    strstr(r.head, "Allow: POST, PUT") != NULL,
	    "a wrong method: 405 with Allow");
	ok(get("POST", "/stream", NULL, &r) == 0 && r.status == 405 &&
	    strstr(r.head, "Allow: GET, HEAD") != NULL,
	    "Allow names HEAD with GET");
	ok(get("HEAD", "/t/a/x/b", NULL, &r) == 0 && r.status == 404 &&
	    r.body[0] == '\0', "HEAD is served as GET, without a body");
	ok(get("GET", "/nyi", NULL, &r) == 0 && r.status == 501 &&
	    has_code(&r, "not_implemented"), "api_not_implemented: 501");
	ok(get("GET", "/fails", NULL, &r) == 0 && r.status == 500 &&
	    has_code(&r, "internal_error"), "a handler failing: 500");
	ok(get("GET", "/silent", NULL, &r) == 0 && r.status == 500 &&
	    has_code(&r, "internal_error"), "a handler not replying: 500");
}

static void
test_bodies(void)
{
	char *big, req[256];
	struct resp r;
	size_t n;
	int hl;

	ok(get("POST", "/echo", "{\"a\":[1,2,{\"b\":null}]}", &r) == 0 &&
	    r.status == 200 && strcmp(r.body, "{\"a\":[1,2,{\"b\":null}]}\n") ==
	    0, "a JSON object body reaches the handler");
	ok(seen.local && seen.uid == getuid() && seen.pid == getpid(),
	    "the peer's uid and pid from SO_PEERCRED");
	ok(get("POST", "/echo", NULL, &r) == 0 && r.status == 200 &&
	    strcmp(r.body, "{}\n") == 0, "an empty body is {}");
	ok(get("POST", "/echo", "{\"a\":", &r) == 0 && r.status == 400 &&
	    has_code(&r, "bad_json"), "truncated JSON: 400 bad_json");
	ok(get("POST", "/echo", "[1,2]", &r) == 0 && r.status == 400 &&
	    has_code(&r, "bad_request"), "an array: 400 bad_request");
	ok(get("POST", "/echo", "{\"a\":1,\"a\":2}", &r) == 0 &&
	    r.status == 400 && has_code(&r, "bad_request"),
	    "a duplicate key: 400 bad_request");
	ok(get("POST", "/echo", "{\"a\":1} x", &r) == 0 && r.status == 400 &&
	    has_code(&r, "bad_json"), "text after the object: bad_json");
	ok(get("POST", "/echo",
	    "{\"a\":[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", &r) == 0 &&
	    r.status == 400 && has_code(&r, "bad_json"), "too deep: bad_json");
	ok(get("POST", "/member", "{\"n\":\"x\"}", &r) == 0 &&
	    r.status == 400 && has_code(&r, "bad_request"),
	    "api_body_rules: a member of the wrong type is bad_request");
	ok(get("POST", "/member", "{\"n\":3}", &r) == 0 && r.status == 201,
	    "api_body_rules: a good member");

	/* Announced too large: refused before the body is read. */
	n = API_BODY_MAX + 1;
	big = malloc(n + 256);
	hl = snprintf(big, 256, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n", n);
	memset(big + hl, ' ', n);
	ok(request(big, (size_t)hl, &r) == 0 && r.status == 413 &&
	    has_code(&r, "body_too_large"),
	    "Content-Length over 64 KiB: 413 body_too_large");
	/* Chunked, so only counted as it comes. */
	hl = snprintf(big, 256, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n",
	    n);
	memset(big + hl, ' ', n);
	memcpy(big + hl + n, "\r\n0\r\n\r\n", 7);
	ok(request(big, (size_t)hl + n + 7, &r) == 0 && r.status == 413 &&
	    has_code(&r, "body_too_large"),
	    "a chunked body over 64 KiB: 413 body_too_large");
	free(big);
	snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\n{\"a\r\n5\r\n\":1}\r\n0\r\n\r\n");
	ok(request(req, strlen(req), &r) == 0 && r.status == 200 &&
	    strcmp(r.body, "{\"a\":1}\n") == 0, "a chunked body in pieces");
}

static void
test_stream(void)
{
	struct resp r;

	released = 0;
	ok(get("GET", "/stream", NULL, &r) == 0 && r.status == 200 &&
	    strstr(r.head, "Transfer-Encoding: chunked") != NULL &&
	    strcmp(r.body, "one\ntwo\n") == 0,
	    "a stream, chunked, across API_STREAM_AGAIN");
	usleep(100 * 1000);
	is_int(__atomic_load_n(&released, __ATOMIC_SEQ_CST), 1,
	    "the stream's release ran");
}

static void
test_status_table(void)
{
	static const struct {
		const char *code;
		unsigned status;
	} t[] = {
		{ "bad_request", 400 }, { "bad_json", 400 },
		{ "body_too_large", 413 }, { "unauthorized", 401 },
		{ "not_found", 404 }, { "store_not_found", 404 },
		{ "unknown_key", 403 }, { "sig_invalid", 403 },
		{ "key_not_trusted_for_domain", 403 },
		{ "image_in_use", 409 }, { "store_exists", 409 },
		{ "feed_rollback", 409 }, { "feed_expired", 422 },
		{ "manifest_bad_arch", 422 }, { "select_no_match", 422 },
		{ "fetch_connect", 502 }, { "fetch_http_status", 502 },
		{ "fetch_timeout", 504 }, { "not_implemented", 501 },
		{ "store_busy", 503 }, { "store_io", 500 },
		{ "out_of_memory", 500 }, { "no_such_code_at_all", 500 },
		{ "fetch", 500 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(api_status(t[i].code), t[i].status, t[i].code);
	is_int(api_status(""), 500, "an empty code");
	is_int(api_status(NULL), 500, "NULL");
}

static void
test_stop_while_streaming(struct api *api)
{
	struct timespec t0, t1;
	char buf[256];
	size_t m;
	ssize_t n;
	int fd;
	const char *req = "GET /forever HTTP/1.1\r\nHost: x\r\n\r\n";

	released = 0;
	fd = connect_unix(cfg.socket);
	ok(fd != -1 && write(fd, req, strlen(req)) == (ssize_t)strlen(req),
	    "a client follows a stream");
	m = 0;
	buf[0] = '\0';
	while (strstr(buf, "start") == NULL && m < sizeof(buf) - 1 &&
	    (n = read(fd, buf + m, sizeof(buf) - 1 - m)) > 0) {
		m += (size_t)n;
		buf[m] = '\0';
	}
	ok(strstr(buf, "start") != NULL, "the stream has begun");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	api_stop(api);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(t1.tv_sec - t0.tv_sec < 5, "api_stop ends a waiting stream "
	    "(%lds)", (long)(t1.tv_sec - t0.tv_sec));
	is_int(__atomic_load_n(&released, __ATOMIC_SEQ_CST), 1,
	    "its release ran");
	ok(access(cfg.socket, F_OK) == -1 && errno == ENOENT,
	    "api_stop removed the socket");
	close(fd);
}

static void
test_sockets(void)
{
	struct api_params p = { &cfg, routes, NULL, NULL, NULL };
	struct sockaddr_un sun;
	struct api *a, *b;
	struct stat st;
	struct err e;
	int fd;

	/* A socket nobody listens on is stale. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, cfg.socket);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "a stale socket is left behind");
	close(fd);
	err_clear(&e);
	if (!ok(api_start(&p, &a, &e) == 0, "api_start replaces it"))
		diag("%s [%s]", e.msg, e.code);
	ok(stat(cfg.socket, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 0777) == 0640, "the socket has the mode asked");
	err_clear(&e);
	ok(api_start(&p, &b, &e) == -1 &&
	    strcmp(e.code, "api_socket_in_use") == 0,
	    "a second server on the socket is refused");
	ok(access(cfg.socket, F_OK) == 0, "and leaves the first one's socket");
	api_stop(a);

	fd = open(cfg.socket, O_WRONLY | O_CREAT, 0600);
	close(fd);
	err_clear(&e);
	ok(api_start(&p, &b, &e) == -1 && strcmp(e.code, "api_socket") == 0,
	    "a regular file where the socket goes is refused");
	ok(stat(cfg.socket, &st) == 0 && S_ISREG(st.st_mode),
	    "and not removed");
	unlink(cfg.socket);
}

int
main(void)
{
	struct api_params p = { &cfg, routes, NULL, NULL, NULL };
	struct api *api;
	struct err e;
	char cmd[300];

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	config_defaults(&cfg);
	snprintf(cfg.socket, sizeof(cfg.socket), "%s/api.sock", dir);
	cfg.socket_mode = 0640;
	err_clear(&e);
	if (api_start(&p, &api, &e) == -1) {
		printf("Bail out! api_start: %s [%s]\n", e.msg, e.code);
		return 1;
	}
	test_routes();
	test_bodies();
	test_stream();
	test_status_table();
	test_stop_while_streaming(api);
	test_sockets();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return tap_done();
}
