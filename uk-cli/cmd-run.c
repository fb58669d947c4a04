/*
 * uk run: asks unikerneld to run a feed's unikernel (POST
 * /v1/instances?progress=1), shows the progress on stderr, then follows the
 * guest's console on stdout until it has ended and exits with its status.
 *
 * The exit status is the guest's, so that `uk run` composes like the
 * program it runs; uk's own failures are 125, as with env(1) and
 * container runners, and the other ends are 128 + a signal's number
 * (remote.h).  An unknown key is offered for trust once, and only to a
 * person (stdin and stderr terminals): POST /v1/keys, then the run again.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "manifest.h"
#include "remote.h"
#include "version.h"

#define RUN_NAME_MAX 63		/* the daemon's instance names */

static const struct option run_longopts[] = {
	{ "name", required_argument, NULL, 'n' },
	{ "backend", required_argument, NULL, 'b' },
	{ "memory", required_argument, NULL, 'm' },
	{ "vcpus", required_argument, NULL, 'c' },
	{ "version", required_argument, NULL, 'v' },
	{ "stability", required_argument, NULL, 's' },
	{ "restart", required_argument, NULL, 'r' },
	{ "cmdline", required_argument, NULL, 'k' },
	{ "network", required_argument, NULL, 'N' },
	{ "publish", required_argument, NULL, 'p' },
	{ "detach", no_argument, NULL, 'd' },
	{ "socket", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* [A-Za-z0-9][A-Za-z0-9_.-]*, at most RUN_NAME_MAX: as the daemon. */
static int
name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (i > 0 && (s[i] == '_' || s[i] == '.' || s[i] == '-'))))
			return 0;
	return i > 0 && i <= RUN_NAME_MAX;
}

static int
parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A port, 1..65535, all digits. */
static int
parse_port(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = v;
	return 0;
}

int
run_publish_parse(const char *s, struct run_publish *p, char *why,
    size_t whysz)
{
	const char *slash = strchr(s, '/'), *end, *c1, *c2, *host;
	struct in_addr a;
	size_t n;

	memset(p, 0, sizeof(*p));
	p->proto = "tcp";
	end = slash != NULL ? slash : s + strlen(s);
	if (slash != NULL) {
		if (strcmp(slash + 1, "tcp") == 0 ||
		    strcmp(slash + 1, "udp") == 0) {
			p->proto = slash + 1;
		} else {
			snprintf(why, whysz, "the protocol after '/' is "
			    "neither tcp nor udp");
			return -1;
		}
	}
	c1 = memchr(s, ':', (size_t)(end - s));
	c2 = c1 != NULL ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
	if (c1 == NULL || (c2 != NULL && memchr(c2 + 1, ':',
	    (size_t)(end - c2 - 1)) != NULL)) {
		snprintf(why, whysz, "not [IP:]HOST:GUEST[/tcp|/udp]");
		return -1;
	}
	host = s;
	if (c2 != NULL) {
		n = (size_t)(c1 - s);
		if (n == 0 || n >= sizeof(p->host_ip)) {
			snprintf(why, whysz, "the host address is not a dotted "
			    "IPv4 address");
			return -1;
		}
		memcpy(p->host_ip, s, n);
		p->host_ip[n] = '\0';
		if (inet_pton(AF_INET, p->host_ip, &a) != 1) {
			snprintf(why, whysz, "the host address '%s' is not a "
			    "dotted IPv4 address", p->host_ip);
			return -1;
		}
		host = c1 + 1;
		c1 = c2;
	}
	if (parse_port(host, (size_t)(c1 - host), &p->host) == -1) {
		snprintf(why, whysz, "the host port '%.*s' is not a number "
		    "from 1 to 65535", (int)(c1 - host), host);
		return -1;
	}
	if (parse_port(c1 + 1, (size_t)(end - c1 - 1), &p->guest) == -1) {
		snprintf(why, whysz, "the guest port '%.*s' is not a number "
		    "from 1 to 65535", (int)(end - c1 - 1), c1 + 1);
		return -1;
	}
	return 0;
}

/* Whether (s) is one of the NULL-terminated (words). */
static int
one_of(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

/* Checks one option's value; returns -1 to go on, else the exit status. */
static int
run_option(const struct cli_cmd *cmd, int c, char **argv, struct run_opts *o)
{
	static const char *const restarts[] = {
		"no", "on-failure", "always", NULL,
	};
	static const char *const modes[] = { "none", "user", "bridge", NULL };
	struct version_range *range;
	enum feed_stability stab;
	char why[128];
	struct err e;

	switch (c) {
	case 'n':
		if (!name_valid(optarg))
			return cli_usage(cmd, "--name: '%s' is not 1 to %d "
			    "letters, digits, '_', '.' or '-' starting with a "
			    "letter or digit", optarg, RUN_NAME_MAX);
		o->name = optarg;
		return -1;
	case 'b':
		if (optarg[0] == '\0')
			return cli_usage(cmd, "--backend: empty");
		o->backend = optarg;
		return -1;
	case 'm':
		if (parse_count(optarg, FEED_MEMORY_MAX, &o->memory_mib) == -1)
			return cli_usage(cmd, "--memory: '%s' is not a number "
			    "of MiB from 1 to %u", optarg, FEED_MEMORY_MAX);
		return -1;
	case 'c':
		if (parse_count(optarg, MANIFEST_VCPUS_MAX, &o->vcpus) == -1)
			return cli_usage(cmd, "--vcpus: '%s' is not a number "
			    "from 1 to %d", optarg, MANIFEST_VCPUS_MAX);
		return -1;
	case 'v':
		err_clear(&e);
		if ((range = version_range_parse(optarg, &e)) == NULL)
			return cli_usage(cmd, "--version: %s", e.msg);
		version_range_free(range);
		o->version = optarg;
		return -1;
	case 's':
		if (feed_stability_parse(optarg, &stab) == -1)
			return cli_usage(cmd, "--stability: '%s' is not "
			    "stable, testing, developer, buggy or insecure",
			    optarg);
		o->stability = optarg;
		return -1;
	case 'r':
		if (!one_of(optarg, restarts))
			return cli_usage(cmd, "--restart: '%s' is not no, "
			    "on-failure or always", optarg);
		o->restart = optarg;
		return -1;
	case 'k':
		if (strlen(optarg) > MANIFEST_CMDLINE_MAX)
			return cli_usage(cmd, "--cmdline: over %d bytes",
			    MANIFEST_CMDLINE_MAX);
		o->cmdline = optarg;
		return -1;
	case 'N':
		if (!one_of(optarg, modes))
			return cli_usage(cmd, "--network: '%s' is not none, "
			    "user or bridge", optarg);
		o->network = optarg;
		return -1;
	case 'p':
		if (o->npublish == RUN_PUBLISH_MAX)
			return cli_usage(cmd, "--publish: at most %d forwards",
			    RUN_PUBLISH_MAX);
		if (run_publish_parse(optarg, &o->publish[o->npublish], why,
		    sizeof(why)) == -1)
			return cli_usage(cmd, "--publish: bad port forward "
			    "\"%s\": %s", optarg, why);
		o->npublish++;
		return -1;
	case 'd':
		o->detach = 1;
		return -1;
	case 'S':
		if (optarg[0] == '\0')
			return cli_usage(cmd, "--socket: empty");
		o->socket = optarg;
		return -1;
	case 'h':
		return cli_help(cmd, stdout);
	default:
		return cli_bad_option(cmd, c, argv);
	}
}

int
run_parse_args(const struct cli_cmd *cmd, int argc, char **argv,
    struct run_opts *o)
{
	int c, r;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":dhp:", run_longopts, NULL)) !=
	    -1)
		if ((r = run_option(cmd, c, argv, o)) != -1)
			return r;
	if (o->npublish > 0 && o->network != NULL &&
	    strcmp(o->network, "user") != 0)
		return cli_usage(cmd, "--publish forwards ports to user "
		    "networking, not to --network %s", o->network);
	if (optind >= argc)
		return cli_usage(cmd, "no feed URL given");
	if (optind + 1 != argc)
		return cli_usage(cmd, "one feed URL only ('%s' is more)",
		    argv[optind + 1]);
	if (argv[optind][0] == '\0')
		return cli_usage(cmd, "the feed URL is empty");
	o->url = argv[optind];
	return -1;
}

/* "network": the mode asked, and the forwards; the daemon checks them
 * against its own rules (forward_addresses...). */
static json_object *
run_network(const struct run_opts *o)
{
	json_object *n = json_object_new_object(), *arr, *f;
	const struct run_publish *p;
	size_t i;

	if (o->network != NULL)
		json_object_object_add(n, "mode",
		    json_object_new_string(o->network));
	if (o->npublish == 0)
		return n;
	arr = json_object_new_array();
	for (i = 0; i < o->npublish; i++) {
		p = &o->publish[i];
		f = json_object_new_object();
		json_object_object_add(f, "host",
		    json_object_new_int((int32_t)p->host));
		json_object_object_add(f, "guest",
		    json_object_new_int((int32_t)p->guest));
		json_object_object_add(f, "proto",
		    json_object_new_string(p->proto));
		if (p->host_ip[0] != '\0')
			json_object_object_add(f, "host_ip",
			    json_object_new_string(p->host_ip));
		json_object_array_add(arr, f);
	}
	json_object_object_add(n, "forwards", arr);
	return n;
}

json_object *
run_request(const struct run_opts *o)
{
	json_object *b = json_object_new_object();

	json_object_object_add(b, "feed", json_object_new_string(o->url));
	if (o->name != NULL)
		json_object_object_add(b, "name",
		    json_object_new_string(o->name));
	if (o->backend != NULL)
		json_object_object_add(b, "backend",
		    json_object_new_string(o->backend));
	if (o->memory_mib > 0)
		json_object_object_add(b, "memory_mib",
		    json_object_new_int64(o->memory_mib));
	if (o->vcpus > 0)
		json_object_object_add(b, "vcpus",
		    json_object_new_int64(o->vcpus));
	if (o->version != NULL)
		json_object_object_add(b, "version",
		    json_object_new_string(o->version));
	if (o->stability != NULL)
		json_object_object_add(b, "stability",
		    json_object_new_string(o->stability));
	if (o->restart != NULL)
		json_object_object_add(b, "restart",
		    json_object_new_string(o->restart));
	if (o->cmdline != NULL)
		json_object_object_add(b, "cmdline",
		    json_object_new_string(o->cmdline));
	if (o->network != NULL || o->npublish > 0)
		json_object_object_add(b, "network", run_network(o));
	return b;
}

/* --- the progress stream --- */

struct run_state {
	struct client *c;
	int tty;		/* stderr is a terminal: draw the bar */
	unsigned width;		/* its columns */
	int bar;		/* a download line is on stderr */
	int bar_done;		/* ... and it reached 100% */
	json_object *instance;	/* from "running" */
	int failed;		/* an "error" line, or the request failed */
	struct err err;		/* what failed; its code in (code) */
	char code[CLIENT_CODE_MAX];
	json_object *details;	/* the error's details, held */
};

static void
state_reset(struct run_state *st)
{
	if (st->instance != NULL)
		json_object_put(st->instance);
	if (st->details != NULL)
		json_object_put(st->details);
	st->instance = st->details = NULL;
	st->failed = st->bar = st->bar_done = 0;
	err_clear(&st->err);
}

/* Keeps (e) and the client's details past the next request. */
static void
state_fail(struct run_state *st, const struct err *e)
{
	json_object *d = client_details(st->c);

	st->failed = 1;
	st->err = *e;
	snprintf(st->code, sizeof(st->code), "%s", e->code);
	st->err.code = st->code;
	if (st->details != NULL)
		json_object_put(st->details);
	st->details = d != NULL ? json_object_get(d) : NULL;
}

static void
end_bar(struct run_state *st)
{
	if (st->bar)
		fputc('\n', stderr);
	st->bar = 0;
}

static void
show_feed(json_object *o)
{
	char url[FEED_URL_MAX + 1], key[32], dom[256];
	int64_t serial = 0;

	remote_int(o, "serial", &serial);
	fprintf(stderr, "feed %s: serial %lld, signed by key %s, trusted for "
	    "domain %s\n", remote_clean(remote_str(o, "url"), url, sizeof(url)),
	    (long long)serial, remote_clean(remote_str(o, "key"), key,
	    sizeof(key)), remote_clean(remote_str(o, "domain"), dom,
	    sizeof(dom)));
}

static void
show_selected(json_object *o)
{
	char name[128], ver[128], sha[16], size[32];
	int64_t bytes = 0;

	remote_clean(remote_str(o, "sha256"), sha, 13);
	remote_int(o, "size", &bytes);
	remote_size(bytes > 0 ? (uint64_t)bytes : 0, size, sizeof(size));
	fprintf(stderr, "selected %s %s (sha256 %s\xe2\x80\xa6, %s)\n",
	    remote_clean(remote_str(o, "name"), name, sizeof(name)),
	    remote_clean(remote_str(o, "version"), ver, sizeof(ver)), sha,
	    size);
}

static void
show_download(struct run_state *st, json_object *o)
{
	char line[256];
	int64_t done = 0, total = 0;

	if (!st->tty || st->bar_done)
		return;
	remote_int(o, "done", &done);
	remote_int(o, "total", &total);
	remote_progress(line, sizeof(line), done > 0 ? (uint64_t)done : 0,
	    total > 0 ? (uint64_t)total : 0, st->width);
	fprintf(stderr, "\r%s\033[K", line);
	st->bar = 1;
	if (total > 0 && done >= total) {
		end_bar(st);
		st->bar_done = 1;
	}
}

static int
run_line(void *arg, const char *line, size_t len, struct err *fe)
{
	struct run_state *st = arg;
	char a[128], b[128];
	const char *ev;
	json_object *o;
	struct err e;

	if ((o = json_tokener_parse(line)) == NULL)
		return err_set(fe, "daemon_bad_reply", "unikerneld sent a "
		    "progress line that is not JSON");
	if ((ev = remote_str(o, "event")) == NULL)
		ev = "";
	if (strcmp(ev, "download") == 0) {
		show_download(st, o);
		json_object_put(o);
		return CLIENT_STREAM_NEXT;
	}
	end_bar(st);
	if (strcmp(ev, "feed") == 0) {
		show_feed(o);
	} else if (strcmp(ev, "selected") == 0) {
		show_selected(o);
	} else if (strcmp(ev, "cached") == 0) {
		fputs("image cached\n", stderr);
	} else if (strcmp(ev, "starting") == 0) {
		fprintf(stderr, "booting %s on %s\n", remote_clean(
		    remote_str(o, "name"), a, sizeof(a)), remote_clean(
		    remote_str(o, "backend"), b, sizeof(b)));
	} else if (strcmp(ev, "running") == 0 &&
	    remote_obj(o, "instance") != NULL) {
		if (st->instance != NULL)
			json_object_put(st->instance);
		st->instance = json_object_get(remote_obj(o, "instance"));
	} else if (strcmp(ev, "error") == 0) {
		err_clear(&e);
		client_error_from_json(st->c, remote_obj(o, "error"), &e);
		state_fail(st, &e);
	}
	/* Other events are newer than this uk: passed over. */
	json_object_put(o);
	return CLIENT_STREAM_NEXT;
}

/* "uk run: message [CODE]", as every other command words its errors
 * (scripts and tests match the code in brackets). */
static int
run_fail(const struct err *e)
{
	const char *code = e->code[0] ? e->code : "error";

	fprintf(stderr, "uk run: %s [%s]\n", e->msg, code);
	return RUN_EXIT_FAILED;
}

/* POST /v1/instances?progress=1: 0 with (st->instance), or -1 with
 * (st->err). */
static int
run_create(struct run_state *st, json_object *body)
{
	struct err e;

	state_reset(st);
	err_clear(&e);
	/* An "error" line says more than the connection breaking after. */
	if (client_stream(st->c, "POST", "/v1/instances?progress=1", body,
	    CLIENT_STREAM_LINES, run_line, st, &e) == -1 && !st->failed)
		state_fail(st, &e);
	end_bar(st);
	if (!st->failed && st->instance == NULL) {
		err_set(&e, "daemon_disconnected", "unikerneld ended the "
		    "progress of the run before the instance ran");
		state_fail(st, &e);
	}
	return st->failed ? -1 : 0;
}

/*
 * After unknown_key: asks whether to trust the key the daemon found next
 * to the feed, and trusts it.  1: trusted, run again; 0: not offered or
 * declined; -1: trusting it failed (reported).
 */
static int
offer_trust(struct run_state *st)
{
	const char *pubkey = remote_str(st->details, "pubkey");
	const char *domain = remote_str(st->details, "domain");
	const char *keyid = remote_str(st->details, "keyid");
	char answer[16], k[32], d[256];
	json_object *body, *doms;
	struct err e;

	if (strcmp(st->err.code, "unknown_key") != 0 || pubkey == NULL ||
	    domain == NULL || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return 0;
	remote_clean(keyid != NULL ? keyid : pubkey, k, sizeof(k));
	remote_clean(domain, d, sizeof(d));
	fprintf(stderr, "Trust key %s for %s? [y/N] ", k, d);
	fflush(stderr);
	if (fgets(answer, sizeof(answer), stdin) == NULL ||
	    (strcmp(answer, "y\n") != 0 && strcmp(answer, "Y\n") != 0 &&
	    strcmp(answer, "yes\n") != 0))
		return 0;
	body = json_object_new_object();
	doms = json_object_new_array();
	json_object_array_add(doms, json_object_new_string(domain));
	json_object_object_add(body, "pubkey", json_object_new_string(pubkey));
	json_object_object_add(body, "domains", doms);
	err_clear(&e);
	if (client_call(st->c, "POST", "/v1/keys", body, NULL, &e) == -1) {
		json_object_put(body);
		run_fail(&e);
		return -1;
	}
	json_object_put(body);
	fprintf(stderr, "trusted key %s for %s\n", k, d);
	return 1;
}

static volatile sig_atomic_t run_interrupted;

static void
on_sigint(int sig)
{
	run_interrupted = 1;
}

static int
run_console(void *arg, const char *data, size_t len, struct err *fe)
{
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) == EOF)
		return err_errno(fe, ERR_IO, errno, "writing the console");
	return CLIENT_STREAM_NEXT;
}

/* The instance (name) once the daemon has it ended: its exit status
 * (remote_exit_status()), RUN_EXIT_FAILED after reporting a failure. */
static int
run_result(struct client *c, const char *name)
{
	char path[CLIENT_PATH_MAX], why[ERR_MSG_MAX];
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	json_object *inst = NULL;
	const char *state = NULL;
	int tries, status = -1;
	int64_t code;
	struct err e;

	err_clear(&e);
	if (client_path(path, sizeof(path), "/v1/instances/", name, NULL,
	    &e) == -1)
		return run_fail(&e);
	/* The console ends when the guest has; give its state a moment to
	 * say so too. */
	for (tries = 0; tries < 10 && status == -1; tries++) {
		if (inst != NULL) {
			json_object_put(inst);
			nanosleep(&pause, NULL);
		}
		if (client_call(c, "GET", path, NULL, &inst, &e) == -1)
			return run_fail(&e);
		status = remote_exit_status(inst);
	}
	state = remote_str(inst, "state");
	remote_clean(remote_str(inst, "reason"), why, sizeof(why));
	if (status == -1) {
		err_set(&e, "daemon_disconnected", "the console of %s ended "
		    "while it is %s", name, state != NULL ? state : "unknown");
		status = run_fail(&e);
	} else if (strcmp(state, "crashed") == 0 ||
	    strcmp(state, "failed") == 0) {
		fprintf(stderr, "uk run: %s %s: %s\n", name, state, why);
	} else if (strcmp(state, "exited") == 0 &&
	    remote_int(inst, "exit_code", &code) == -1) {
		fprintf(stderr, "uk run: %s exited without an exit code\n",
		    name);
	}
	json_object_put(inst);
	return status;
}

/* Follows the console of (name) to its end: the exit status. */
static int
run_follow(struct client *c, const char *name)
{
	struct sigaction sa, old;
	char path[CLIENT_PATH_MAX];
	struct err e;
	int rc;

	err_clear(&e);
	if (client_path(path, sizeof(path), "/v1/instances/", name,
	    "/console?follow=1", &e) == -1)
		return run_fail(&e);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;	/* no SA_RESTART: the client's wait must see it */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	client_set_cancel(c, &run_interrupted);
	rc = client_stream(c, "GET", path, NULL, CLIENT_STREAM_CHUNKS,
	    run_console, NULL, &e);
	client_set_cancel(c, NULL);
	sigaction(SIGINT, &old, NULL);
	if (rc == 0)
		return run_result(c, name);
	if (strcmp(e.code, "interrupted") != 0)
		return run_fail(&e);
	fprintf(stderr, "\nuk: detached; %s keeps running (uk stop %s)\n",
	    name, name);
	return RUN_EXIT_DETACHED;
}

static unsigned
term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static int
exec_run(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct run_state st;
	struct run_opts o;
	json_object *body;
	char name[RUN_NAME_MAX + 1];
	struct err e;
	int rc, attempt, offered;

	if ((rc = run_parse_args(cmd, argc, argv, &o)) != -1)
		return rc;
	memset(&st, 0, sizeof(st));
	err_clear(&e);
	if ((st.c = client_new(o.socket, &e)) == NULL)
		return run_fail(&e);
	st.tty = isatty(STDERR_FILENO);
	st.width = st.tty ? term_width() : 80;
	body = run_request(&o);
	for (attempt = 0;; attempt++) {
		if (run_create(&st, body) == 0)
			break;
		offered = attempt == 0 ? offer_trust(&st) : 0;
		if (offered == 1)
			continue;
		rc = offered == -1 ? RUN_EXIT_FAILED : run_fail(&st.err);
		goto out;
	}
	if (remote_str(st.instance, "name") == NULL) {
		err_set(&e, "daemon_bad_reply", "the running instance has no "
		    "name");
		rc = run_fail(&e);
		goto out;
	}
	snprintf(name, sizeof(name), "%s", remote_str(st.instance, "name"));
	if (o.detach) {
		printf("%s\n", name);
		rc = CLI_EXIT_OK;
	} else {
		rc = run_follow(st.c, name);
	}
out:
	json_object_put(body);
	state_reset(&st);
	client_free(st.c);
	return rc;
}

const struct cli_cmd cli_cmd_run = {
	"run",
	"URL [--name N] [--backend B] [--memory MIB] [--vcpus N]\n"
	"    [--version RANGE] [--stability S]\n"
	"    [--restart no|on-failure|always] [--cmdline C]\n"
	"    [--network none|user|bridge] [-p|--publish [IP:]HOST:GUEST[/PROTO]]...\n"
	"    [-d|--detach] [--socket PATH]",
	"run a feed's unikernel through unikerneld and follow its console",
	"  --name N          the instance's name (default: the feed's, with "
	"-2, -3...\n"
	"                    when taken)\n"
	"  --backend B       qemu, libvirt or libxl (default: the daemon's)\n"
	"  --memory MIB      memory for the guest (default: what the image "
	"needs)\n"
	"  --vcpus N         virtual CPUs (default: the image's)\n"
	"  --version RANGE   versions to consider: 1.2..!2.0, >=1.2, ... "
	"(uk-feed(5))\n"
	"  --stability S     least stability admitted (default stable)\n"
	"  --restart POLICY  no (default), on-failure or always\n"
	"  --cmdline C       the guest's command line (default: the image's)\n"
	"  --network MODE    none (the default without -p), user (QEMU's user\n"
	"                    networking) or bridge (the daemon's bridge, an\n"
	"                    address from its pool)\n"
	"  -p, --publish [IP:]HOST:GUEST[/tcp|/udp]\n"
	"                    forward the host's port HOST on IP (default\n"
	"                    127.0.0.1) to the guest's port GUEST (tcp by\n"
	"                    default); repeatable; implies --network user\n"
	"  -d, --detach      print the instance's name once it runs and "
	"return\n"
	"  --socket PATH     unikerneld's socket (default: $UK_SOCKET, else\n"
	"                    /run/unikerneld.sock)\n"
	"  -h, --help        show this help\n"
	"\n"
	"The progress goes to stderr, the console to stdout until the guest "
	"ends;\n"
	"Ctrl-C stops following (the guest keeps running).  Exit status: the\n"
	"guest's exit code; 134 crashed, 143 stopped, 130 detached with "
	"Ctrl-C,\n"
	"125 the guest failed or uk run did (the message says why), 2 bad "
	"command\n"
	"line.\n",
	exec_run,
};
