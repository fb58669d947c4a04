/*
 * backend-drive.c - drives the libvirt backend through its ops table
 * (backend_libvirt_ops), one step per argument, for
 * tests/integration/backend-libvirt.sh.
 *
 *	backend-drive [-d DIR] [-t SECONDS] URI STEP...
 *
 * URI is the backend's configuration string (libvirt-xml.h: a libvirt
 * URI and options).  Steps run in order on one "current" guest:
 *
 *	start NAME KERNEL CMDLINE  boots it (instance id: SHA-256 of NAME;
 *	                           console: DIR/NAME.console)
 *	console TEXT               waits until its console holds TEXT
 *	stop | kill                backend stop (grace 5 s) or kill
 *	end                        waits for its end; prints "exited N",
 *	                           "crashed: REASON", "stopped: REASON",
 *	                           "failed: REASON" or "timeout"
 *	quiet SECONDS              no event may come for that long; prints
 *	                           "quiet" or the event
 *	adopt [HANDLE]             prints "adopted" or the error code
 *	list                       prints "listed NAME" or "not listed"
 *	ready                      waits until the backend answers (list
 *	                           works: reconnected after libvirtd
 *	                           restarted)
 *	handle                     prints the handle
 *	close | reopen             closes or reopens the backend
 *	close-in-listener          the listener closes the backend when
 *	                           the next event comes (then "end")
 *	sh COMMAND                 /bin/sh -c COMMAND, with $DOMAIN (the
 *	                           domain's name), $HANDLE and $URI set
 *	bad-start                  a start that must fail; prints its code
 *
 * At the end the backend is closed (guests keep running) and any guest
 * that ended more than once makes the exit status 1.  Exit status: 0 all
 * steps ran, 1 a step failed (message on stderr), 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "fileio.h"

extern const struct backend_ops backend_libvirt_ops;

#define PROG "backend-drive"
#define MAX_EVENTS 64

struct event {
	char handle[BACKEND_HANDLE_MAX];
	enum backend_event_kind kind;
	int code;
	char reason[300];
	int seen;	/* consumed by a step */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct event events[MAX_EVENTS];
static int nevents;
/* The guests this process started or adopted, once per start. */
static char lives[MAX_EVENTS][BACKEND_HANDLE_MAX];
static int nlives;

static const struct backend_ops *ops = &backend_libvirt_ops;
static struct backend *be;
static int close_in_listener;	/* the listener closes (be) */
static const char *uri, *dir = ".";
static int timeout_s = 60;
static char handle[BACKEND_HANDLE_MAX], name[128], console[4096];

static void
on_event(void *arg, const struct backend_event *ev)
{
	struct event *x;

	(void)arg;
	pthread_mutex_lock(&lock);
	if (nevents < MAX_EVENTS) {
		x = &events[nevents++];
		snprintf(x->handle, sizeof(x->handle), "%s", ev->handle);
		x->kind = ev->kind;
		x->code = ev->exit_code;
		snprintf(x->reason, sizeof(x->reason), "%s", ev->reason);
	}
	if (close_in_listener == 1) {
		/* The contract allows it; (be) is not used meanwhile: main()
		 * waits in "end". */
		ops->close(be);
		close_in_listener = 2;
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static const struct backend_listener listener = { on_event, NULL };

/* Notes that the current guest was started or adopted. */
static void
started(void)
{
	if (nlives < MAX_EVENTS)
		snprintf(lives[nlives++], BACKEND_HANDLE_MAX, "%s", handle);
}

static void
print_event(const struct event *x)
{
	switch (x->kind) {
	case BACKEND_EVENT_EXITED:
		printf("exited %d\n", x->code);
		fprintf(stderr, PROG ": exited: %s\n", x->reason);
		break;
	case BACKEND_EVENT_CRASHED:
		printf("crashed: %s\n", x->reason);
		break;
	case BACKEND_EVENT_STOPPED:
		printf("stopped: %s\n", x->reason);
		break;
	case BACKEND_EVENT_FAILED:
		printf("failed: %s\n", x->reason);
		break;
	case BACKEND_EVENT_RUNNING:
		printf("running\n");
		break;
	}
	fflush(stdout);
}

/* Waits (secs) for an unseen event of the current guest; NULL on
 * timeout.  Called with (lock) held. */
static struct event *
next_event(int secs)
{
	struct timespec ts;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	for (;;) {
		for (i = 0; i < nevents; i++) {
			if (!events[i].seen &&
			    strcmp(events[i].handle, handle) == 0) {
				events[i].seen = 1;
				return &events[i];
			}
		}
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT)
			return NULL;
	}
}

static int
step_end(void)
{
	struct event *x;

	pthread_mutex_lock(&lock);
	x = next_event(timeout_s);
	if (x == NULL)
		printf("timeout\n");
	else
		print_event(x);
	fflush(stdout);
	pthread_mutex_unlock(&lock);
	return x == NULL ? -1 : 0;
}

static int
step_quiet(int secs)
{
	struct event *x;

	pthread_mutex_lock(&lock);
	x = next_event(secs);
	if (x == NULL)
		printf("quiet\n");
	else
		print_event(x);
	fflush(stdout);
	pthread_mutex_unlock(&lock);
	return 0;
}

static int
step_start(const char *n, const char *kernel, const char *cmdline)
{
	struct backend_spec spec;
	uint8_t sum[SHA256_LEN];
	char id[2 * SHA256_LEN + 1];
	struct err e;

	snprintf(name, sizeof(name), "%s", n);
	snprintf(console, sizeof(console), "%s/%s.console", dir, n);
	sha256_buf(n, strlen(n), sum);
	hex_encode(sum, 16, id);
	memset(&spec, 0, sizeof(spec));
	spec.name = name;
	spec.id = id;
	spec.kernel = kernel;
	spec.cmdline = cmdline;
	spec.memory_mib = 32;
	spec.vcpus = 1;
	spec.console_log = console;
	spec.run_dir = dir;
	if (ops->start(be, &spec, handle, &e) < 0) {
		fprintf(stderr, PROG ": start %s: [%s] %s\n", n, e.code, e.msg);
		return -1;
	}
	started();
	return 0;
}

static int
step_bad_start(void)
{
	struct backend_spec spec;
	char h[BACKEND_HANDLE_MAX];
	struct err e;

	memset(&spec, 0, sizeof(spec));
	spec.name = "bad";
	spec.id = "00000000000000000000000000000000";
	spec.kernel = "/nonexistent/kernel.elf";
	spec.cmdline = "";
	spec.memory_mib = 32;
	spec.vcpus = 1;
	spec.console_log = "/nonexistent/console";
	spec.run_dir = "/nonexistent";
	if (ops->start(be, &spec, h, &e) == 0) {
		printf("started\n");
		return -1;
	}
	printf("%s\n", e.code);
	fprintf(stderr, PROG ": bad start: %s\n", e.msg);
	return 0;
}

static int
step_console(const char *text)
{
	char *buf;
	size_t len;
	int i;

	for (i = 0; i < timeout_s * 10; i++) {
		if (fileio_read(console, 1 << 20, &buf, &len, NULL) == 0) {
			if (strstr(buf, text) != NULL) {
				free(buf);
				return 0;
			}
			free(buf);
		}
		usleep(100 * 1000);
	}
	fprintf(stderr, PROG ": '%s' not on %s's console\n", text, name);
	return -1;
}

static void
on_listed(void *arg, const char *h, const char *n)
{
	char *found = arg;

	if (strcmp(h, handle) == 0)
		snprintf(found, 128, "%s", n);
}

/* Prints the name the backend lists the current guest under. */
static int
step_list(void)
{
	char found[128] = "";
	struct err e;

	if (ops->list(be, on_listed, found, &e) < 0) {
		fprintf(stderr, PROG ": list: [%s] %s\n", e.code, e.msg);
		return -1;
	}
	if (found[0] != '\0')
		printf("listed %s\n", found);
	else
		printf("not listed\n");
	return 0;
}

static void
on_any(void *arg, const char *h, const char *n)
{
	(void)arg;
	(void)h;
	(void)n;
}

static int
step_ready(void)
{
	struct err e;
	int i;

	for (i = 0; i < timeout_s * 5; i++) {
		if (ops->list(be, on_any, NULL, &e) == 0)
			return 0;
		usleep(200 * 1000);
	}
	fprintf(stderr, PROG ": ready: [%s] %s\n", e.code, e.msg);
	return -1;
}

static int
step_open(void)
{
	struct err e;

	if (ops->open(uri, &listener, &be, &e) < 0) {
		fprintf(stderr, PROG ": open %s: [%s] %s\n", uri, e.code,
		    e.msg);
		return -1;
	}
	return 0;
}

static int
step_sh(const char *cmd)
{
	char domain[256];
	int st;

	snprintf(domain, sizeof(domain), "uk-%s", name);
	if (setenv("DOMAIN", domain, 1) < 0 || setenv("HANDLE", handle, 1) < 0)
		return -1;
	fflush(stdout);
	st = system(cmd);
	if (st != 0) {
		fprintf(stderr, PROG ": '%s' failed (%d)\n", cmd, st);
		return -1;
	}
	return 0;
}

/* Whether a guest ended more often than it was started or adopted (the
 * contract: once per guest at most). */
static int
duplicates(void)
{
	int i, j, ends, starts, dup = 0;

	usleep(300 * 1000);	/* time for a stray second report */
	pthread_mutex_lock(&lock);
	for (i = 0; i < nevents; i++) {
		ends = starts = 0;
		for (j = 0; j < nevents; j++)
			ends += strcmp(events[i].handle, events[j].handle) == 0;
		for (j = 0; j < nlives; j++)
			starts += strcmp(events[i].handle, lives[j]) == 0;
		if (ends > starts) {
			fprintf(stderr, PROG ": %s ended %d times, started "
			    "%d\n", events[i].handle, ends, starts);
			dup = 1;
		}
	}
	pthread_mutex_unlock(&lock);
	return dup;
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-d dir] [-t seconds] uri step...\n");
	exit(2);
}

/* How many arguments (step) takes, -1 if unknown. */
static int
step_args(const char *step)
{
	static const struct {
		const char *name;
		int args;
	} steps[] = {
		{ "start", 3 }, { "console", 1 }, { "stop", 0 }, { "kill", 0 },
		{ "end", 0 }, { "quiet", 1 }, { "adopt", -2 }, { "list", 0 },
		{ "handle", 0 }, { "close", 0 }, { "reopen", 0 }, { "sh", 1 },
		{ "bad-start", 0 }, { "ready", 0 }, { "close-in-listener", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(step, steps[i].name) == 0)
			return steps[i].args;
	return -1;
}

int
main(int argc, char **argv)
{
	struct err e;
	const char *s;
	char *end;
	int ch, i, n, rc = 0;

	while ((ch = getopt(argc, argv, "d:t:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 't':
			timeout_s = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || timeout_s < 1 || timeout_s > 3600)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	uri = argv[optind++];
	for (i = optind; i < argc; i += n + 1) {	/* all checked first */
		n = step_args(argv[i]);
		if (n == -2)	/* adopt: an optional handle */
			n = i + 1 < argc && strlen(argv[i + 1]) == 36 ? 1 : 0;
		if (n < 0 || i + n >= argc)
			usage();
	}
	if (setenv("URI", uri, 1) < 0 || step_open() < 0)
		return 1;
	for (i = optind; i < argc && rc == 0; i += n + 1) {
		s = argv[i];
		n = step_args(s);
		if (n == -2)
			n = i + 1 < argc && strlen(argv[i + 1]) == 36 ? 1 : 0;
		if (be == NULL && strcmp(s, "reopen") != 0 &&
		    strcmp(s, "sh") != 0 && strcmp(s, "handle") != 0) {
			fprintf(stderr, PROG ": %s: the backend is closed\n",
			    s);
			rc = -1;
			break;
		}
		if (be != NULL && strcmp(s, "reopen") == 0) {
			fprintf(stderr, PROG ": reopen: not closed\n");
			rc = -1;
			break;
		}
		if (strcmp(s, "start") == 0) {
			rc = step_start(argv[i + 1], argv[i + 2], argv[i + 3]);
		} else if (strcmp(s, "console") == 0) {
			rc = step_console(argv[i + 1]);
		} else if (strcmp(s, "stop") == 0 || strcmp(s, "kill") == 0) {
			rc = s[0] == 's' ? ops->stop(be, handle, 5000, &e) :
			    ops->kill(be, handle, &e);
			if (rc < 0)
				fprintf(stderr, PROG ": %s: [%s] %s\n", s,
				    e.code, e.msg);
		} else if (strcmp(s, "end") == 0) {
			rc = step_end();
			pthread_mutex_lock(&lock);
			if (close_in_listener == 2)
				be = NULL;
			pthread_mutex_unlock(&lock);
		} else if (strcmp(s, "quiet") == 0) {
			rc = step_quiet(atoi(argv[i + 1]));
		} else if (strcmp(s, "adopt") == 0) {
			if (n == 1)
				snprintf(handle, sizeof(handle), "%s",
				    argv[i + 1]);
			if (ops->adopt(be, handle, &e) == 0) {
				started();
				printf("adopted\n");
			} else {
				printf("%s\n", e.code);
				fprintf(stderr, PROG ": adopt: %s\n", e.msg);
			}
		} else if (strcmp(s, "list") == 0) {
			rc = step_list();
		} else if (strcmp(s, "handle") == 0) {
			printf("%s\n", handle);
		} else if (strcmp(s, "close") == 0) {
			ops->close(be);
			be = NULL;
		} else if (strcmp(s, "reopen") == 0) {
			rc = step_open();
		} else if (strcmp(s, "sh") == 0) {
			rc = step_sh(argv[i + 1]);
		} else if (strcmp(s, "close-in-listener") == 0) {
			pthread_mutex_lock(&lock);
			close_in_listener = 1;
			pthread_mutex_unlock(&lock);
		} else if (strcmp(s, "ready") == 0) {
			rc = step_ready();
		} else if (strcmp(s, "bad-start") == 0) {
			rc = step_bad_start();
		}
		fflush(stdout);
	}
	if (duplicates())
		rc = -1;
	if (be != NULL)
		ops->close(be);
	return rc == 0 ? 0 : 1;
}
