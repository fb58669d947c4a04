/*
 * test-client.c - uk's side of the daemon's API without a daemon: the
 * client (uk-cli/client.c) against a missing socket, a stale one and a
 * fake server on a unix socket that answers canned replies; the pieces of
 * uk-cli/remote.c (sizes, ages, the progress bar, uk run's exit status);
 * `uk run`'s command line and request body.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "remote.h"
#include "tap.h"

extern const struct cli_cmd cli_cmd_run;

static char dir[] = "/tmp/test-client.XXXXXX";
static char sock_path[108];

/* --- a fake daemon: one canned reply per connection --- */

struct fake {
	int lfd;
	const char *reply;	/* the whole HTTP response */
	char request[16384];	/* what the client sent */
	size_t reqlen;
	pthread_t th;
};

static void *
fake_serve(void *arg)
{
	struct fake *f = arg;
	size_t need = 0, off = 0;
	char *hdr_end, *cl;
	ssize_t n;
	int fd;

	if ((fd = accept(f->lfd, NULL, NULL)) == -1)
		return NULL;
	f->reqlen = 0;
	for (;;) {
		n = read(fd, f->request + f->reqlen,
		    sizeof(f->request) - 1 - f->reqlen);
		if (n <= 0)
			break;
		f->reqlen += (size_t)n;
		f->request[f->reqlen] = '\0';
		if ((hdr_end = strstr(f->request, "\r\n\r\n")) == NULL)
			continue;
		off = (size_t)(hdr_end - f->request) + 4;
		cl = strcasestr(f->request, "Content-Length:");
		need = cl != NULL && cl < hdr_end ?
		    (size_t)strtoul(cl + 15, NULL, 10) : 0;
		if (f->reqlen >= off + need)
			break;
	}
	if (write(fd, f->reply, strlen(f->reply)) < 0)
		diag("fake: write: %s", strerror(errno));
	close(fd);
	return NULL;
}

static void
fake_start(struct fake *f, const char *reply)
{
	f->reply = reply;
	f->reqlen = 0;
	f->request[0] = '\0';
	pthread_create(&f->th, NULL, fake_serve, f);
}

static void
fake_wait(struct fake *f)
{
	pthread_join(f->th, NULL);
}

/* A unix stream socket bound to (path), or -1. */
static int
unix_bound(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
fake_open(struct fake *f)
{
	if ((f->lfd = unix_bound(sock_path)) == -1 || listen(f->lfd, 4) == -1)
		return -1;
	return 0;
}

/* client_call() of (c) answered by (f) with (reply). */
static int
fake_call(struct fake *f, struct client *c, const char *reply,
    const char *method, const char *path, json_object *body,
    json_object **out, struct err *e)
{
	int rc;

	fake_start(f, reply);
	err_clear(e);
	rc = client_call(c, method, path, body, out, e);
	fake_wait(f);
	return rc;
}

/* --- the socket's path --- */

static void
test_socket_path(void)
{
	struct client *c;
	struct err e;
	char longp[200];

	unsetenv(CLIENT_SOCKET_ENV);
	is_str(client_socket_path(NULL), CLIENT_SOCKET_DEFAULT,
	    "default socket /run/unikerneld.sock");
	setenv(CLIENT_SOCKET_ENV, "/tmp/env.sock", 1);
	is_str(client_socket_path(NULL), "/tmp/env.sock", "UK_SOCKET next");
	is_str(client_socket_path("/tmp/opt.sock"), "/tmp/opt.sock",
	    "--socket first");
	setenv(CLIENT_SOCKET_ENV, "", 1);
	is_str(client_socket_path(NULL), CLIENT_SOCKET_DEFAULT,
	    "an empty UK_SOCKET is not set");
	unsetenv(CLIENT_SOCKET_ENV);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	err_clear(&e);
	ok((c = client_new(longp, &e)) == NULL, "a socket path over 107 "
	    "bytes is refused");
	is_str(e.code, ERR_INVALID, "... invalid_argument");
	client_free(c);
}

/* --- no daemon --- */

static void
test_unreachable(void)
{
	char missing[100];
	struct client *c;
	json_object *out = NULL;
	struct err e;
	int fd;

	snprintf(missing, sizeof(missing), "%s/none.sock", dir);
	c = client_new(missing, NULL);
	err_clear(&e);
	ok(client_call(c, "GET", "/v1/instances", NULL, &out, &e) == -1 &&
	    out == NULL, "no socket: the call fails");
	is_str(e.code, "daemon_unreachable", "... daemon_unreachable");
	ok(strstr(e.msg, missing) != NULL, "... the message names the "
	    "socket: %s", e.msg);
	ok(strstr(e.msg, "start unikerneld") != NULL, "... and says to start "
	    "unikerneld");
	is_int(client_status(c), 0, "... no HTTP status");
	client_free(c);

	/* A socket file nobody listens on: a daemon that died. */
	snprintf(missing, sizeof(missing), "%s/stale.sock", dir);
	ok((fd = unix_bound(missing)) != -1, "stale socket made");
	c = client_new(missing, NULL);
	err_clear(&e);
	ok(client_stream(c, "GET", "/v1/events", NULL, CLIENT_STREAM_LINES,
	    NULL, NULL, &e) == -1, "stale socket: the stream fails");
	is_str(e.code, "daemon_unreachable", "... daemon_unreachable");
	ok(strstr(e.msg, missing) != NULL && strstr(e.msg, "nothing listens")
	    != NULL, "... nothing listens on it: %s", e.msg);
	client_free(c);
	close(fd);
}

/* --- replies --- */

static const char ok_list[] = "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 16\r\n\r\n{\"instances\":[]}";
static const char created[] = "HTTP/1.1 201 Created\r\n"
    "Content-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 17\r\n\r\n{\"name\":\"hello\"}\n";
static const char not_found[] = "HTTP/1.1 404 Not Found\r\n"
    "Content-Type: application/json\r\nConnection: close\r\n\r\n"
    "{\"error\":{\"code\":\"store_not_found\",\"message\":\"no instance "
    "'x'\\nreally\"}}";
static const char unknown_key[] = "HTTP/1.1 403 Forbidden\r\n"
    "Content-Type: application/json\r\nConnection: close\r\n\r\n"
    "{\"error\":{\"code\":\"unknown_key\",\"message\":\"key 54E3CB008D82A207 "
    "is not in the trust store\",\"details\":{\"keyid\":\"54E3CB008D82A207\","
    "\"domain\":\"example.org\",\"pubkey\":\"RWQkey\"}}}";
static const char not_json[] = "HTTP/1.1 500 Internal Server Error\r\n"
    "Content-Type: text/plain\r\nConnection: close\r\n\r\noops";
static const char lines[] = "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/x-ndjson\r\nConnection: close\r\n\r\n"
    "{\"event\":\"feed\"}\n\n{\"event\":\"cached\"}\r\n{\"event\":\"running\"}";
static const char console[] = "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\nConnection: close\r\n\r\n"
    "Hello from the guest\nexit=3\n";

struct collected {
	int n;
	char last[256];
	size_t bytes;
	int stop_after;		/* 0: never */
	int fail_at;		/* 0: never */
};

static int
collect(void *arg, const char *data, size_t len, struct err *fe)
{
	struct collected *col = arg;

	col->n++;
	col->bytes += len;
	snprintf(col->last, sizeof(col->last), "%.*s", (int)len, data);
	if (col->fail_at != 0 && col->n == col->fail_at)
		return err_set(fe, "test_failure", "the callback failed");
	if (col->stop_after != 0 && col->n == col->stop_after)
		return CLIENT_STREAM_STOP;
	return CLIENT_STREAM_NEXT;
}

/* client_stream() of (c) into (col), answered by (f) with (reply). */
static int
fake_stream(struct fake *f, struct client *c, const char *reply,
    const char *method, const char *path, int mode, struct collected *col,
    struct err *e)
{
	int rc;

	fake_start(f, reply);
	err_clear(e);
	rc = client_stream(c, method, path, NULL, mode, collect, col, e);
	fake_wait(f);
	return rc;
}

static void
test_replies(struct fake *f, struct client *c)
{
	json_object *out, *body;
	struct collected col;
	struct err e;

	ok(fake_call(f, c, ok_list, "GET", "/v1/instances", NULL, &out,
	    &e) == 0, "200 with JSON: 0");
	ok(out != NULL && json_object_object_get_ex(out, "instances", NULL),
	    "... the JSON");
	json_object_put(out);
	is_int(client_status(c), 200, "... status 200");
	ok(strncmp(f->request, "GET /v1/instances HTTP/1.1\r\n", 28) == 0,
	    "... sent GET /v1/instances");

	body = json_object_new_object();
	json_object_object_add(body, "feed",
	    json_object_new_string("http://x/h.json"));
	ok(fake_call(f, c, created, "POST", "/v1/feeds", body, &out, &e) ==
	    0 && strcmp(remote_str(out, "name"), "hello") == 0,
	    "201 with JSON: 0 and the object");
	json_object_put(out);
	json_object_put(body);
	ok(strncmp(f->request, "POST /v1/feeds HTTP/1.1\r\n", 25) == 0 &&
	    strstr(f->request, "Content-Type: application/json\r\n") != NULL,
	    "... sent POST with Content-Type: application/json");
	ok(strstr(f->request, "\r\n\r\n{\"feed\":\"http://x/h.json\"}") !=
	    NULL, "... and the body, slashes unescaped");

	ok(fake_call(f, c, created, "POST", "/v1/instances/a/stop", NULL, NULL,
	    &e) == 0, "POST without a body");
	ok(strstr(f->request, "Content-Length: 0\r\n") != NULL,
	    "... sends Content-Length: 0");

	ok(fake_call(f, c, created, "DELETE", "/v1/keys?keyid=AB", NULL, NULL,
	    &e) == 0, "DELETE");
	ok(strncmp(f->request, "DELETE /v1/keys?keyid=AB HTTP/1.1", 33) == 0,
	    "... sent DELETE with its query");

	ok(fake_call(f, c, not_found, "GET", "/v1/instances/x", NULL, &out,
	    &e) == -1 && out == NULL, "404 with an error object: -1");
	is_str(e.code, "store_not_found", "... the daemon's code");
	is_str(e.msg, "no instance 'x' really", "... its message, on one line");
	is_int(client_status(c), 404, "... status 404");
	ok(client_details(c) == NULL, "... no details");

	ok(fake_call(f, c, unknown_key, "POST", "/v1/instances", NULL, NULL,
	    &e) == -1, "403 unknown_key: -1");
	is_str(e.code, "unknown_key", "... unknown_key");
	is_str(remote_str(client_details(c), "pubkey"), "RWQkey",
	    "... details.pubkey kept");
	is_str(remote_str(client_details(c), "domain"), "example.org",
	    "... details.domain kept");

	ok(fake_call(f, c, not_json, "GET", "/v1/version", NULL, NULL, &e) ==
	    -1, "500 without JSON: -1");
	is_str(e.code, "daemon_bad_reply", "... daemon_bad_reply");
	ok(client_details(c) == NULL, "... the last details are gone");

	col = (struct collected){ 0 };
	ok(fake_stream(f, c, lines, "POST", "/v1/instances?progress=1",
	    CLIENT_STREAM_LINES, &col, &e) == 0, "NDJSON stream: 0");
	is_int(col.n, 3, "... three lines (the empty one skipped)");
	is_str(col.last, "{\"event\":\"running\"}", "... the last one without "
	    "its newline");

	col = (struct collected){ .stop_after = 1 };
	ok(fake_stream(f, c, lines, "GET", "/v1/events", CLIENT_STREAM_LINES,
	    &col, &e) == 0 && col.n == 1,
	    "a callback that stops: 0 after one line");

	col = (struct collected){ .fail_at = 2 };
	ok(fake_stream(f, c, lines, "GET", "/v1/events", CLIENT_STREAM_LINES,
	    &col, &e) == -1, "a callback that fails: -1");
	is_str(e.code, "test_failure", "... with the callback's error");

	col = (struct collected){ 0 };
	ok(fake_stream(f, c, not_found, "GET",
	    "/v1/instances/x/console?follow=1", CLIENT_STREAM_CHUNKS, &col,
	    &e) == -1 && col.n == 0,
	    "a stream answered 404: -1, the callback never called");
	is_str(e.code, "store_not_found", "... the daemon's code");

	col = (struct collected){ 0 };
	ok(fake_stream(f, c, console, "GET", "/v1/instances/x/console",
	    CLIENT_STREAM_CHUNKS, &col, &e) == 0, "a console stream: 0");
	is_int((long long)col.bytes, 28, "... every byte");
}

/* --- paths, ids --- */

static void
test_paths(void)
{
	char out[64];
	struct err e;
	char id[CLIENT_FEED_ID_LEN + 1];

	ok(client_path(out, sizeof(out), "/v1/instances/", "hello-2.a_b~",
	    "/stop", NULL) == 0, "a plain name");
	is_str(out, "/v1/instances/hello-2.a_b~/stop", "... kept as it is");
	ok(client_path(out, sizeof(out), "/v1/instances/", "a b/c?d%",
	    NULL, NULL) == 0, "a name with reserved characters");
	is_str(out, "/v1/instances/a%20b%2Fc%3Fd%25", "... percent-encoded");
	ok(client_path(out, sizeof(out), "/v1/keys?keyid=AB&domain=",
	    "*.example.org", NULL, NULL) == 0, "a query value");
	is_str(out, "/v1/keys?keyid=AB&domain=%2A.example.org",
	    "... encoded too");
	err_clear(&e);
	ok(client_path(out, 20, "/v1/instances/", "toolongname", NULL, &e) ==
	    -1, "a path over its buffer is refused");
	is_str(e.code, ERR_INVALID, "... invalid_argument");
	client_feed_id("https://example.org/feeds/hello.json", id);
	is_str(id, "00d44f33d503f3ad", "feed id: 16 hex digits of SHA-256");
	client_feed_id("http://127.0.0.1:8000/hello.json", id);
	is_str(id, "680d93c7c66663fb", "feed id of another URL");
}

/* --- formats --- */

static void
test_formats(void)
{
	char buf[128];

	remote_size(500, buf, sizeof(buf));
	is_str(buf, "500 B", "size 500");
	remote_size(1023, buf, sizeof(buf));
	is_str(buf, "1023 B", "size 1023");
	remote_size(1536, buf, sizeof(buf));
	is_str(buf, "1.5 KiB", "size 1536");
	remote_size(40448, buf, sizeof(buf));
	is_str(buf, "40 KiB", "size 40448 (the hello image)");
	remote_size(10239, buf, sizeof(buf));
	is_str(buf, "10 KiB", "size 10239 rounds to 10 KiB");
	remote_size(10ULL << 20, buf, sizeof(buf));
	is_str(buf, "10 MiB", "size 10 MiB");
	remote_size(3ULL << 30, buf, sizeof(buf));
	is_str(buf, "3.0 GiB", "size 3 GiB");

	remote_age(45, buf, sizeof(buf));
	is_str(buf, "45s", "age 45s");
	remote_age(312, buf, sizeof(buf));
	is_str(buf, "5m12s", "age 5m12s");
	remote_age(7500, buf, sizeof(buf));
	is_str(buf, "2h05m", "age 2h05m");
	remote_age(3 * 86400 + 4 * 3600 + 59, buf, sizeof(buf));
	is_str(buf, "3d04h", "age 3d04h");
	remote_age(-5, buf, sizeof(buf));
	is_str(buf, "0s", "a negative age is 0s");

	remote_progress(buf, sizeof(buf), 20224, 40448, 80);
	is_str(buf, "downloading [####################--------------------]"
	    "  50% 20 KiB / 40 KiB", "progress 50%, 80 columns: 40 cells");
	ok(strlen(buf) < 80, "... fits the line");
	remote_progress(buf, sizeof(buf), 20224, 40448, 50);
	is_str(buf, "downloading [#######-------]  50% 20 KiB / 40 KiB",
	    "progress 50%, 50 columns: the bar shrinks");
	ok(strlen(buf) < 50, "... fits the line");
	remote_progress(buf, sizeof(buf), 1, 40448, 20);
	is_str(buf, "downloading [----------]   0% 1 B / 40 KiB",
	    "a narrow terminal keeps 10 cells");
	remote_progress(buf, sizeof(buf), 50000, 40448, 0);
	is_str(buf, "downloading [########################################]"
	    " 100% 40 KiB / 40 KiB", "more than the total: 100%");
	remote_progress(buf, sizeof(buf), 1536, 0, 80);
	is_str(buf, "downloading 1.5 KiB", "no total: the bytes only");
	remote_progress(buf, 16, 20224, 40448, 80);
	is_int((long long)strlen(buf), 15, "a short buffer: cut, terminated");
}

/* --- uk run's exit status --- */

static int
exit_of(const char *json)
{
	json_object *o = json_tokener_parse(json);
	int rc = remote_exit_status(o);

	json_object_put(o);
	return rc;
}

static void
test_exit_status(void)
{
	is_int(exit_of("{\"state\":\"exited\",\"exit_code\":0}"), 0,
	    "exited 0: 0");
	is_int(exit_of("{\"state\":\"exited\",\"exit_code\":3}"), 3,
	    "exited 3: 3");
	is_int(exit_of("{\"state\":\"exited\",\"exit_code\":255}"), 255,
	    "exited 255: 255");
	is_int(exit_of("{\"state\":\"exited\",\"exit_code\":null}"), 125,
	    "exited without an exit code: 125");
	is_int(exit_of("{\"state\":\"exited\",\"exit_code\":300}"), 125,
	    "an exit code out of range: 125");
	is_int(exit_of("{\"state\":\"crashed\",\"reason\":\"page fault\"}"),
	    134, "crashed: 134");
	is_int(exit_of("{\"state\":\"stopped\"}"), 143, "stopped: 143");
	is_int(exit_of("{\"state\":\"failed\",\"reason\":\"qemu died\"}"),
	    125, "failed: 125");
	is_int(exit_of("{\"state\":\"running\"}"), -1, "running: not ended");
	is_int(exit_of("{\"state\":\"stopping\"}"), -1, "stopping: not ended");
	is_int(exit_of("{}"), -1, "no state: not ended");
}

/* --- uk run's command line --- */

/* run_parse_args() of "run" and (args), NULL after the last (30 at the
 * most). */
static int
parse_args(struct run_opts *o, const char *const *args)
{
	char *argv[32];
	int argc = 0, rc, out, null;

	argv[argc++] = (char *)"run";
	while (args[argc - 1] != NULL && argc < 31) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	/* --help prints on stdout, where TAP goes. */
	fflush(stdout);
	out = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDOUT_FILENO);
	rc = run_parse_args(&cli_cmd_run, argc, argv, o);
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	close(out);
	close(null);
	return rc;
}

/* run_parse_args() of "run" and (args), NULL after the last, any
 * number. */
static int
run_many(struct run_opts *o, const char *const *args)
{
	char *argv[2 * RUN_PUBLISH_MAX + 8];
	int argc = 0;

	argv[argc++] = (char *)"run";
	while (args[argc - 1] != NULL &&
	    argc < (int)(sizeof(argv) / sizeof(argv[0])) - 1) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	return run_parse_args(&cli_cmd_run, argc, argv, o);
}

/* parse_args() of the arguments after (o), up to a NULL. */
static int
parse(struct run_opts *o, ...)
{
	const char *args[31];
	va_list ap;
	int n = 0;

	va_start(ap, o);
	while ((args[n] = va_arg(ap, const char *)) != NULL && n < 30)
		n++;
	va_end(ap);
	args[n] = NULL;
	return parse_args(o, args);
}

static void
test_run_args(void)
{
	/* Command lines refused before the daemon is asked: status 2. */
	static const struct {
		const char *args[6];
		const char *what;
	} refused[] = {
		{ { "-p", "80:x", "u" }, "-p 80:x: 2" },
		{ { "-p", "80", "u" }, "-p 80: 2" },
		{ { "-p", "0:80", "u" }, "-p 0:80: 2" },
		{ { "-p", "80:65536", "u" }, "-p 80:65536: 2" },
		{ { "-p", "1.2.3:80:80", "u" }, "-p with a bad address: 2" },
		{ { "-p", "localhost:80:80", "u" }, "-p with a host name: 2" },
		{ { "-p", "80:80/sctp", "u" }, "-p 80:80/sctp: 2" },
		{ { "-p", "1.2.3.4:80:80:80", "u" }, "-p with four parts: 2" },
		{ { "-p", ":80", "u" }, "-p :80: 2" },
		{ { "--network", "nat", "u" }, "--network nat: 2" },
		{ { "--network", "bridge", "-p", "80:80", "u" },
		    "-p with --network bridge: 2" },
		{ { NULL }, "no URL: 2" },
		{ { "a", "b" }, "two URLs: 2" },
		{ { "--restart", "sometimes", "u" }, "--restart sometimes: 2" },
		{ { "--memory", "0", "u" }, "--memory 0: 2" },
		{ { "--memory", "12x", "u" }, "--memory 12x: 2" },
		{ { "--vcpus", "65", "u" }, "--vcpus 65: 2" },
		{ { "--stability", "rock", "u" }, "--stability rock: 2" },
		{ { "--version", "..!", "u" }, "a bad --version range: 2" },
		{ { "--name", "-x", "u" }, "--name starting with '-': 2" },
		{ { "--name", "a/b", "u" }, "--name with '/': 2" },
		{ { "--bogus", "u" }, "an unknown option: 2" },
		{ { "-x", "u" }, "an unknown short option: 2" },
		{ { "u", "--name" }, "an option without its value: 2" },
		{ { "" }, "an empty URL: 2" },
	};
	struct run_opts o;
	json_object *b;
	size_t i;

	is_int(parse(&o, "http://h/f.json", NULL), -1, "run URL: goes on");
	b = run_request(&o);
	is_str(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), "{\"feed\":\"http://h/f.json\"}",
	    "... the body has only the feed");
	json_object_put(b);
	ok(!o.detach && o.socket == NULL, "... attached, default socket");

	is_int(parse(&o, "--name", "web-1", "--backend", "libvirt",
	    "--memory", "64", "--vcpus", "2", "--version", ">=1.2",
	    "--stability", "testing", "--restart", "on-failure", "--cmdline",
	    "exit=3", "-d", "--socket", "/tmp/s.sock", "http://h/f.json",
	    NULL), -1, "every option");
	b = run_request(&o);
	is_str(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), "{\"feed\":\"http://h/f.json\","
	    "\"name\":\"web-1\",\"backend\":\"libvirt\",\"memory_mib\":64,"
	    "\"vcpus\":2,\"version\":\">=1.2\",\"stability\":\"testing\","
	    "\"restart\":\"on-failure\",\"cmdline\":\"exit=3\"}",
	    "... all in the body, as docs/api.md names them");
	json_object_put(b);
	ok(o.detach && strcmp(o.socket, "/tmp/s.sock") == 0,
	    "... detached, the socket given");
	is_int(parse(&o, "http://h/f.json", "--detach", NULL), -1,
	    "options after the URL");
	ok(o.detach, "... --detach");

	is_int(parse(&o, "-p", "8080:80", "u", NULL), -1, "-p 8080:80");
	b = run_request(&o);
	is_str(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), "{\"feed\":\"u\",\"network\":"
	    "{\"forwards\":[{\"host\":8080,\"guest\":80,\"proto\":\"tcp\"}]}}",
	    "... forwards, the mode and address left to the daemon");
	json_object_put(b);
	is_int(parse(&o, "--network", "user", "-p", "127.0.0.1:5353:53/udp",
	    "--publish", "9090:90/tcp", "u", NULL), -1, "two forwards, user");
	b = run_request(&o);
	is_str(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), "{\"feed\":\"u\",\"network\":"
	    "{\"mode\":\"user\",\"forwards\":[{\"host\":5353,\"guest\":53,"
	    "\"proto\":\"udp\",\"host_ip\":\"127.0.0.1\"},{\"host\":9090,"
	    "\"guest\":90,\"proto\":\"tcp\"}]}}", "... in order, as given");
	json_object_put(b);
	is_int(parse(&o, "--network", "bridge", "u", NULL), -1,
	    "--network bridge");
	b = run_request(&o);
	is_str(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), "{\"feed\":\"u\",\"network\":"
	    "{\"mode\":\"bridge\"}}", "... the mode alone");
	json_object_put(b);
	{
		const char *many[2 * RUN_PUBLISH_MAX + 4];
		char ports[RUN_PUBLISH_MAX + 1][16];
		size_t k;

		for (k = 0; k <= RUN_PUBLISH_MAX; k++) {
			snprintf(ports[k], sizeof(ports[k]), "%zu:80",
			    1000 + k);
			many[2 * k] = "-p";
			many[2 * k + 1] = ports[k];
		}
		many[2 * RUN_PUBLISH_MAX + 2] = "u";
		many[2 * RUN_PUBLISH_MAX + 3] = NULL;
		is_int(run_many(&o, many), CLI_EXIT_USAGE,
		    "33 forwards: 2");
		many[2 * RUN_PUBLISH_MAX] = "u";
		many[2 * RUN_PUBLISH_MAX + 1] = NULL;
		is_int(run_many(&o, many), -1, "32 forwards: go on");
		is_int((long long)o.npublish, RUN_PUBLISH_MAX, "... all kept");
	}

	is_int(parse(&o, "--help", NULL), CLI_EXIT_OK, "--help: 0");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		is_int(parse_args(&o, refused[i].args), CLI_EXIT_USAGE,
		    refused[i].what);
}

/* --- the other commands' command lines --- */

static const struct cli_cmd test_cmd = { "test", "", "", "", NULL };

static int
rparse(const struct remote_opt *opts, int json, int min, int max,
    struct remote_args *a, char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	cli_json = 0;
	return remote_parse(&test_cmd, argc, argv, opts, json, min, max,
	    "NAME", a);
}

static void
test_remote_args(void)
{
	const char *domains[2], *key = NULL;
	size_t ndomains = 0;
	int force = 0;
	const struct remote_opt opts[] = {
		{ "force", 'f', &force, NULL, NULL, NULL, 0 },
		{ "key", 'k', NULL, &key, NULL, NULL, 0 },
		{ "domain", 'd', NULL, NULL, domains, &ndomains, 2 },
		{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
	};
	char *a1[] = { (char *)"test", (char *)"-f", (char *)"--key",
		(char *)"K", (char *)"-d", (char *)"a", (char *)"x",
		(char *)"--domain", (char *)"b", (char *)"--socket",
		(char *)"/s", (char *)"--json", (char *)"y", NULL };
	char *a2[] = { (char *)"test", (char *)"-d", (char *)"a",
		(char *)"-d", (char *)"b", (char *)"-d", (char *)"c", NULL };
	char *a3[] = { (char *)"test", (char *)"--json", NULL };
	char *a4[] = { (char *)"test", (char *)"--socket", NULL };
	char *a5[] = { (char *)"test", NULL };
	char *a6[] = { (char *)"test", (char *)"a", (char *)"b", NULL };
	struct remote_args a;

	is_int(rparse(opts, 1, 1, -1, &a, a1), -1, "flags, values, a list, "
	    "--socket, --json, operands anywhere");
	ok(force && key != NULL && strcmp(key, "K") == 0, "... -f and --key");
	ok(ndomains == 2 && strcmp(domains[0], "a") == 0 &&
	    strcmp(domains[1], "b") == 0, "... two --domain");
	ok(a.socket != NULL && strcmp(a.socket, "/s") == 0 && cli_json,
	    "... --socket and --json");
	ok(a.noperands == 2 && strcmp(a.operands[0], "x") == 0 &&
	    strcmp(a.operands[1], "y") == 0, "... the operands");
	ndomains = 0;
	is_int(rparse(opts, 0, 0, -1, &a, a2), CLI_EXIT_USAGE,
	    "a list over its maximum: 2");
	is_int(rparse(NULL, 0, 0, 0, &a, a3), CLI_EXIT_USAGE,
	    "--json where it is not taken: 2");
	is_int(rparse(NULL, 1, 0, 0, &a, a4), CLI_EXIT_USAGE,
	    "--socket without its value: 2");
	is_int(rparse(NULL, 1, 1, 1, &a, a5), CLI_EXIT_USAGE,
	    "an operand missing: 2");
	is_int(rparse(NULL, 1, 1, 1, &a, a6), CLI_EXIT_USAGE,
	    "an operand too many: 2");
	is_int(rparse(NULL, 1, 1, 2, &a, a6), -1, "two operands where two "
	    "may be");
}

int
main(void)
{
	struct client *c;
	struct fake f;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/ukd.sock", dir);
	test_socket_path();
	test_unreachable();
	if (!ok(fake_open(&f) == 0, "fake daemon listens on %s", sock_path))
		return tap_done();
	c = client_new(sock_path, NULL);
	test_replies(&f, c);
	client_free(c);
	close(f.lfd);
	test_paths();
	test_formats();
	test_exit_status();
	test_run_args();
	test_remote_args();
	unlink(sock_path);
	snprintf(sock_path, sizeof(sock_path), "%s/stale.sock", dir);
	unlink(sock_path);
	rmdir(dir);
	return tap_done();
}
