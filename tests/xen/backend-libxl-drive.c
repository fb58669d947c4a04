/*
 * backend-libxl-drive - the libxl backend for real: run inside dom0 of
 * Xen (tests/integration/backend-libxl.sh puts it there through the
 * harness's dom0 hook, tests/xen/README.md), it drives the backend through
 * its ops table only, as the daemon does, and prints TAP.
 *
 * usage: backend-libxl-drive DIR
 *   DIR/kernels/{hello,crash,loop}.elf and DIR/kernels/module.bin are the
 *   guests; consoles go to DIR/consoles/NAME.log, libxl's log to
 *   DIR/libxl.log.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "tap.h"

extern const struct backend_ops backend_libxl_ops;
static const struct backend_ops *ops = &backend_libxl_ops;

/* ---- events, as the daemon would receive them ---- */

#define EVENTS_MAX 256

struct got {
	enum backend_event_kind kind;
	char handle[BACKEND_HANDLE_MAX];
	int exit_code;
	char reason[256];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct got events[EVENTS_MAX];
static int nevents;

static void
on_event(void *arg, const struct backend_event *ev)
{
	struct got *g;

	(void)arg;
	pthread_mutex_lock(&lock);
	if (nevents < EVENTS_MAX) {
		g = &events[nevents++];
		g->kind = ev->kind;
		snprintf(g->handle, sizeof(g->handle), "%s", ev->handle);
		g->exit_code = ev->exit_code;
		snprintf(g->reason, sizeof(g->reason), "%s", ev->reason);
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static const struct backend_listener listener = { on_event, NULL };

static const char *
kind_name(enum backend_event_kind k)
{
	switch (k) {
	case BACKEND_EVENT_RUNNING:
		return "RUNNING";
	case BACKEND_EVENT_EXITED:
		return "EXITED";
	case BACKEND_EVENT_CRASHED:
		return "CRASHED";
	case BACKEND_EVENT_STOPPED:
		return "STOPPED";
	case BACKEND_EVENT_FAILED:
		return "FAILED";
	}
	return "?";
}

/* The end of (handle) within (secs), copied to (out); -1 on timeout.
 * RUNNING events are skipped. */
static int
wait_end(const char *handle, int secs, struct got *out)
{
	struct timespec until;
	int i, rc = -1;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs;
	pthread_mutex_lock(&lock);
	for (;;) {
		for (i = 0; i < nevents; i++)
			if (strcmp(events[i].handle, handle) == 0 &&
			    events[i].kind != BACKEND_EVENT_RUNNING) {
				*out = events[i];
				rc = 0;
				goto done;
			}
		if (pthread_cond_timedwait(&cond, &lock, &until) == ETIMEDOUT)
			break;
	}
done:
	pthread_mutex_unlock(&lock);
	return rc;
}

/* How many ends were reported for (handle). */
static int
count_ends(const char *handle)
{
	int i, n = 0;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nevents; i++)
		if (strcmp(events[i].handle, handle) == 0 &&
		    events[i].kind != BACKEND_EVENT_RUNNING)
			n++;
	pthread_mutex_unlock(&lock);
	return n;
}

/* Whether (handle) was reported RUNNING exactly once, before its end. */
static int
running_first(const char *handle)
{
	int i, running = 0, ok_order = 1;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nevents; i++) {
		if (strcmp(events[i].handle, handle) != 0)
			continue;
		if (events[i].kind == BACKEND_EVENT_RUNNING)
			running++;
		else if (running == 0)
			ok_order = 0;
	}
	pthread_mutex_unlock(&lock);
	return running == 1 && ok_order;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- guests ---- */

static const char *dir;

struct guest {
	char name[64], id[33], kernel[512], initrd[512], console[512];
	char cmdline[256];
	char handle[BACKEND_HANDLE_MAX];
	struct backend_spec spec;
};

static void
guest_init(struct guest *g, const char *name, const char *kernel,
    const char *cmdline, uint32_t mib)
{
	static unsigned serial;

	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	/* an id of our own, distinct per guest and per run */
	snprintf(g->id, sizeof(g->id), "%08lx%08x%016x", (long)time(NULL),
	    ++serial, (unsigned)getpid());
	snprintf(g->kernel, sizeof(g->kernel), "%s/kernels/%s", dir, kernel);
	snprintf(g->console, sizeof(g->console), "%s/consoles/%s.log", dir,
	    name);
	snprintf(g->cmdline, sizeof(g->cmdline), "%s", cmdline);
	g->spec.name = g->name;
	g->spec.id = g->id;
	g->spec.kernel = g->kernel;
	g->spec.initrd = NULL;
	g->spec.cmdline = g->cmdline;
	g->spec.memory_mib = mib;
	g->spec.vcpus = 1;
	g->spec.console_log = g->console;
	g->spec.run_dir = dir;
}

static void
guest_module(struct guest *g)
{
	snprintf(g->initrd, sizeof(g->initrd), "%s/kernels/module.bin", dir);
	g->spec.initrd = g->initrd;
}

/* The console log of (g), read whole (at most 64 KiB). */
static char *
console(const struct guest *g)
{
	static char buf[65536];
	FILE *f;
	size_t n = 0;

	buf[0] = '\0';
	if ((f = fopen(g->console, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int
console_has(const struct guest *g, const char *s)
{
	return strstr(console(g), s) != NULL;
}

/* Waits up to (secs) for (s) on the console of (g). */
static int
console_wait(const struct guest *g, const char *s, int secs)
{
	int i;

	for (i = 0; i < secs * 10; i++) {
		if (console_has(g, s))
			return 1;
		usleep(100000);
	}
	return 0;
}

static int
start(struct backend *b, struct guest *g)
{
	struct err e;

	err_clear(&e);
	if (ops->start(b, &g->spec, g->handle, &e) == 0) {
		diag("%s started as %s", g->name, g->handle);
		return 0;
	}
	diag("start %s: [%s] %s", g->name, e.code, e.msg);
	return -1;
}

/* ---- list ---- */

struct seen {
	int n;
	char handles[8][BACKEND_HANDLE_MAX];
	char names[8][64];
};

static void
on_list(void *arg, const char *handle, const char *name)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->handles[s->n], BACKEND_HANDLE_MAX, "%s", handle);
		snprintf(s->names[s->n], 64, "%s", name);
	}
	s->n++;
}

static int
listed(struct backend *b, const char *name, char *handle)
{
	struct seen s = { 0 };
	struct err e;
	int i;

	if (ops->list(b, on_list, &s, &e) == -1) {
		diag("list: [%s] %s", e.code, e.msg);
		return -1;
	}
	for (i = 0; i < s.n && i < 8; i++)
		if (strcmp(s.names[i], name) == 0) {
			if (handle != NULL)
				snprintf(handle, BACKEND_HANDLE_MAX, "%s",
				    s.handles[i]);
			return 1;
		}
	return 0;
}

static void
show_end(const char *what, const struct got *g)
{
	diag("%s: %s, exit code %d, \"%s\"", what, kind_name(g->kind),
	    g->exit_code, g->reason);
}

/* ---- the tests ---- */

struct starter {
	struct backend *b;
	struct guest g;
	int rc;
};

static void *
start_thread(void *arg)
{
	struct starter *s = arg;

	s->rc = start(s->b, &s->g);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct backend *b = NULL, *b2 = NULL;
	struct guest hello, small, crash, loop, loop2, again, adoptee, late;
	struct guest bad, missing;
	struct starter par[3];
	pthread_t th[3];
	char uri[600], path[600], handle[BACKEND_HANDLE_MAX];
	struct timespec t0;
	struct got end;
	struct err e;
	int i, n;

	if (argc != 2) {
		fprintf(stderr, "usage: backend-libxl-drive DIR\n");
		return 2;
	}
	dir = argv[1];
	snprintf(path, sizeof(path), "%s/consoles", dir);
	mkdir(path, 0755);
	snprintf(uri, sizeof(uri), "log=%s/libxl.log", dir);

	err_clear(&e);
	if (!ok(ops->open(uri, &listener, &b, &e) == 0, "open")) {
		diag("[%s] %s", e.code, e.msg);
		printf("Bail out! the libxl backend does not open in dom0\n");
		return 1;
	}

	/* hello: exit code from the trailer, after Xen's poweroff */
	guest_init(&hello, "hello", "hello.elf", "exit=3 from the backend", 32);
	guest_module(&hello);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(start(b, &hello) == 0, "hello: starts");
	diag("hello: start() took %ld ms", ms_since(&t0));
	ok(wait_end(hello.handle, 60, &end) == 0, "hello: its end reported");
	diag("hello: its end reported %ld ms after start()", ms_since(&t0));
	show_end("hello", &end);
	ok(running_first(hello.handle), "hello: RUNNING once, before its end");
	ok(end.kind == BACKEND_EVENT_EXITED && end.exit_code == 3,
	    "hello: EXITED with code 3");
	ok(console_has(&hello, "This is hello on xen."),
	    "hello: console captured from its first line");
	ok(console_has(&hello, "hello: boot module of 12345 bytes"),
	    "hello: the boot module reached the guest");
	ok(console_has(&hello, "=== rt: exit 3 ===\n"),
	    "hello: console captured to its trailer");
	ok(listed(b, "hello", NULL) == 0, "hello: domain destroyed after");

	/* the same name again at once: the old domain is gone */
	guest_init(&again, "hello", "hello.elf", "exit=0", 32);
	ok(start(b, &again) == 0, "hello again under the same name: starts");
	ok(wait_end(again.handle, 60, &end) == 0 &&
	    end.kind == BACKEND_EVENT_EXITED && end.exit_code == 0,
	    "hello again: EXITED with code 0");
	ok(!console_has(&again, "exit 3"),
	    "hello again: a fresh console log");

	/* the smallest guest */
	guest_init(&small, "small", "hello.elf", "exit=5", 2);
	ok(start(b, &small) == 0, "hello in 2 MiB: starts");
	ok(wait_end(small.handle, 60, &end) == 0 &&
	    end.kind == BACKEND_EVENT_EXITED && end.exit_code == 5,
	    "hello in 2 MiB: EXITED with code 5");
	show_end("small", &end);

	/* crash: Xen's reason crash, named by the trailer */
	guest_init(&crash, "crash", "crash.elf", "", 32);
	ok(start(b, &crash) == 0, "crash: starts");
	ok(wait_end(crash.handle, 60, &end) == 0 &&
	    end.kind == BACKEND_EVENT_CRASHED, "crash: CRASHED");
	show_end("crash", &end);
	ok(strstr(end.reason, "page fault") != NULL,
	    "crash: reason from the trailer (page fault)");
	ok(console_has(&crash, "=== rt: crash (page fault) ==="),
	    "crash: console has the crash trailer");

	/* loop: runs until stopped; our runtime ignores a PV shutdown
	 * request, so stop() destroys it (at once, or after the grace) */
	guest_init(&loop, "loop", "loop.elf", "", 32);
	ok(start(b, &loop) == 0, "loop: starts");
	ok(console_wait(&loop, "loop: heartbeat 1 ", 30),
	    "loop: beats on its console while running");
	ok(running_first(loop.handle), "loop: RUNNING reported");
	ok(listed(b, "loop", handle) == 1 && strcmp(handle, loop.handle) == 0,
	    "loop: list names it with its handle");
	ok(count_ends(loop.handle) == 0, "loop: no end reported while running");
	err_clear(&e);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(ops->stop(b, loop.handle, 1500, &e) == 0, "loop: stop");
	diag("loop: stop() took %ld ms", ms_since(&t0));
	ok(wait_end(loop.handle, 30, &end) == 0 &&
	    end.kind == BACKEND_EVENT_STOPPED, "loop: STOPPED");
	n = (int)ms_since(&t0);
	ok(n >= 1400 && n < 10000,
	    "loop: STOPPED after its 1.5 s grace (%d ms)", n);
	show_end("loop", &end);
	err_clear(&e);
	ok(ops->stop(b, loop.handle, 0, &e) == -1 &&
	    strcmp(e.code, "backend_no_such_guest") == 0,
	    "loop: stopping it again: backend_no_such_guest");

	guest_init(&loop2, "loop2", "loop.elf", "", 32);
	ok(start(b, &loop2) == 0, "loop2: starts");
	ok(console_wait(&loop2, "loop: started", 30), "loop2: running");
	err_clear(&e);
	ok(ops->kill(b, loop2.handle, &e) == 0, "loop2: kill");
	ok(wait_end(loop2.handle, 30, &end) == 0 &&
	    end.kind == BACKEND_EVENT_STOPPED, "loop2: STOPPED");

	/* refusals leave no domain behind */
	guest_init(&bad, "bad", "hello.elf", "a\x1b" "b", 32);
	err_clear(&e);
	ok(ops->start(b, &bad.spec, bad.handle, &e) == -1 &&
	    strcmp(e.code, "invalid_argument") == 0,
	    "bad command line: invalid_argument");
	guest_init(&missing, "missing", "no-such.elf", "", 32);
	err_clear(&e);
	ok(ops->start(b, &missing.spec, missing.handle, &e) == -1 &&
	    strcmp(e.code, "backend_start_failed") == 0,
	    "missing kernel: backend_start_failed");
	diag("missing kernel: %s", e.msg);
	ok(listed(b, "missing", NULL) == 0 && listed(b, "bad", NULL) == 0,
	    "no domain left by a failed start");

	/* three at once, from three threads */
	for (i = 0; i < 3; i++) {
		char name[16], cmd[16];

		snprintf(name, sizeof(name), "par%d", i);
		snprintf(cmd, sizeof(cmd), "exit=%d", 10 + i);
		par[i].b = b;
		guest_init(&par[i].g, name, "hello.elf", cmd, 16);
		pthread_create(&th[i], NULL, start_thread, &par[i]);
	}
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (i = 0, n = 0; i < 3; i++) {
		int w = par[i].rc == 0 ? wait_end(par[i].g.handle, 60, &end) :
		    -2;

		if (w == 0 && end.kind == BACKEND_EVENT_EXITED &&
		    end.exit_code == 10 + i)
			n++;
		else	/* which one, and how, for the next failure */
			diag("par%d: start rc %d, wait %d, kind %d, code %d", i,
			    par[i].rc, w, w == 0 ? (int)end.kind : -1,
			    w == 0 ? end.exit_code : -1);
	}
	is_int(n, 3, "three started at once: each EXITED with its code");

	/* adopt: a running guest outlives its backend */
	guest_init(&adoptee, "adoptee", "loop.elf", "", 32);
	ok(start(b, &adoptee) == 0, "adoptee: starts");
	ok(console_wait(&adoptee, "loop: started", 30), "adoptee: running");
	/* and one that ends while no backend watches it */
	guest_init(&late, "late", "loop.elf", "beats=2", 32);
	ok(start(b, &late) == 0, "late: starts (two beats, then exit 0)");
	ops->close(b);
	b = NULL;
	ok(count_ends(adoptee.handle) == 0 && count_ends(late.handle) == 0,
	    "close reports nothing");
	sleep(4);	/* late powers off meanwhile, preserved */
	err_clear(&e);
	if (!ok(ops->open(uri, &listener, &b2, &e) == 0, "open again"))
		diag("[%s] %s", e.code, e.msg);
	if (b2 == NULL)
		return tap_done();
	ok(listed(b2, "adoptee", handle) == 1 &&
	    strcmp(handle, adoptee.handle) == 0,
	    "the new backend lists the adoptee");
	err_clear(&e);
	ok(ops->adopt(b2, adoptee.handle, &e) == 0, "adoptee: adopted");
	err_clear(&e);
	ok(ops->adopt(b2, adoptee.handle, &e) == 0,
	    "adoptee: adopting it twice is harmless");
	ok(console_wait(&adoptee, "loop: heartbeat 6 ", 30),
	    "adoptee: console still captured after adoption");
	err_clear(&e);
	ok(ops->adopt(b2, late.handle, &e) == 0,
	    "late: adopted though it has shut down");
	ok(wait_end(late.handle, 30, &end) == 0 &&
	    end.kind == BACKEND_EVENT_EXITED,
	    "late: its poweroff reported after adoption: EXITED");
	show_end("late", &end);
	ok(end.exit_code == 0, "late: exit code 0 (trailer read after the "
	    "restart)");
	err_clear(&e);
	ok(ops->stop(b2, adoptee.handle, 0, &e) == 0, "adoptee: stop");
	ok(wait_end(adoptee.handle, 30, &end) == 0 &&
	    end.kind == BACKEND_EVENT_STOPPED, "adoptee: STOPPED");
	err_clear(&e);
	ok(ops->adopt(b2, adoptee.handle, &e) == -1 &&
	    strcmp(e.code, "backend_no_such_guest") == 0,
	    "adopting a destroyed guest: backend_no_such_guest");
	err_clear(&e);
	ok(ops->adopt(b2, "77:01234567-89ab-cdef-0123-456789abcdef", &e) == -1 &&
	    strcmp(e.code, "backend_no_such_guest") == 0,
	    "adopting an unknown domain: backend_no_such_guest");
	err_clear(&e);
	ok(ops->adopt(b2, "not a handle", &e) == -1 &&
	    strcmp(e.code, "invalid_argument") == 0,
	    "adopting a malformed handle: invalid_argument");

	/* each guest's end reported exactly once */
	n = 0;
	n += count_ends(hello.handle) == 1;
	n += count_ends(again.handle) == 1;
	n += count_ends(small.handle) == 1;
	n += count_ends(crash.handle) == 1;
	n += count_ends(loop.handle) == 1;
	n += count_ends(loop2.handle) == 1;
	n += count_ends(adoptee.handle) == 1;
	n += count_ends(late.handle) == 1;
	is_int(n, 8, "every end reported exactly once");
	ok(listed(b2, "adoptee", NULL) == 0 && listed(b2, "late", NULL) == 0 &&
	    listed(b2, "loop", NULL) == 0, "no domain of ours left");
	ops->close(b2);
	return tap_done();
}
