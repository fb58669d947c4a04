/*
 * test-backend-qemu.c - the qemu backend (backend.h) against real QEMU and
 * the runtime's kernels: exit codes, crashes, stop and kill, start
 * failures, adoption after the "daemon" went away, list, ten guests at
 * once, and guest networks: netprobe on user networking (microvm, pc and
 * q35), forwards on 127.0.0.1 and a port in use, and, as root in a
 * network namespace of its own, a tap on a bridge the test makes.  KVM where /dev/kvm exists; else TCG, and the test is skipped only
 * when TCG cannot boot hello either.
 *
 * Environment: top_builddir (the kernels and unikerneld/qemu-shim);
 * TEST_QEMU_ACCEL=tcg tries TCG where KVM exists.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
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

#include "backend.h"
#include "hostnet.h"
#include "tap.h"

extern const struct backend_ops backend_qemu_ops;
static const struct backend_ops *ops = &backend_qemu_ops;

#define WAIT_MS 30000
#define MAX_EVENTS 256
#define NGUESTS 10
#define QUIT_MS 2500	/* stop then quit, well under the SIGKILL */

struct event {
	enum backend_event_kind kind;
	char handle[BACKEND_HANDLE_MAX];
	int code;
	char reason[512];
	int64_t at;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct event ev[MAX_EVENTS];
	int n;
} got = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { { 0 } }, 0 };

static char top[1024], tmp[1024], uri[4096];
static char k_hello[1100], k_crash[1100], k_loop[1100], k_probe[1100];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
listener_fn(void *arg, const struct backend_event *ev)
{
	struct event *e;

	(void)arg;
	pthread_mutex_lock(&got.lock);
	if (got.n < MAX_EVENTS) {
		e = &got.ev[got.n++];
		e->kind = ev->kind;
		snprintf(e->handle, sizeof(e->handle), "%s", ev->handle);
		e->code = ev->exit_code;
		snprintf(e->reason, sizeof(e->reason), "%s", ev->reason);
		e->at = now_ms();
	}
	pthread_cond_broadcast(&got.cond);
	pthread_mutex_unlock(&got.lock);
}

static const struct backend_listener listener = { listener_fn, NULL };

static const char *
kind_name(int kind)
{
	static const char *names[] = { "RUNNING", "EXITED", "CRASHED",
		"STOPPED", "FAILED" };

	return kind >= 0 && kind < 5 ? names[kind] : "?";
}

/* The first event of (handle): its end when (end), else RUNNING; waits
 * up to (ms).  A copy, or a zeroed one with kind -1. */
static struct event
wait_event(const char *handle, int end, int ms)
{
	struct event r;
	struct timespec ts;
	int i;

	memset(&r, 0, sizeof(r));
	r.kind = (enum backend_event_kind)-1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&got.lock);
	for (;;) {
		for (i = 0; i < got.n; i++)
			if (strcmp(got.ev[i].handle, handle) == 0 &&
			    (got.ev[i].kind != BACKEND_EVENT_RUNNING) == end) {
				r = got.ev[i];
				goto out;
			}
		if (pthread_cond_timedwait(&got.cond, &got.lock, &ts) != 0)
			break;
	}
out:
	pthread_mutex_unlock(&got.lock);
	return r;
}

static int
count_events(const char *handle, int end)
{
	int i, n = 0;

	pthread_mutex_lock(&got.lock);
	for (i = 0; i < got.n; i++)
		if (strcmp(got.ev[i].handle, handle) == 0 &&
		    (got.ev[i].kind != BACKEND_EVENT_RUNNING) == end)
			n++;
	pthread_mutex_unlock(&got.lock);
	return n;
}

static int
is_end(struct event ev, enum backend_event_kind kind, int code,
    const char *name)
{
	int cond = (int)ev.kind == (int)kind &&
	    (kind != BACKEND_EVENT_EXITED || ev.code == code);

	if (!ok(cond, "%s", name))
		diag("got %s (code %d): %s; want %s (code %d)",
		    (int)ev.kind == -1 ? "nothing" : kind_name((int)ev.kind),
		    ev.code, ev.reason, kind_name((int)kind), code);
	return cond;
}

/* (path) contains (s). */
static int
file_has(const char *path, const char *s)
{
	char buf[65536];
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

static pid_t
handle_pid(const char *handle)
{
	return (pid_t)atoi(handle);
}

static int
alive(pid_t pid)
{
	return pid > 0 && kill(pid, 0) == 0;
}

struct guest {
	char name[64];
	char run_dir[1200];
	char console[1300];
	char handle[BACKEND_HANDLE_MAX];
};

static int
start_net(struct backend *b, struct guest *g, const char *name,
    const char *kernel, const char *cmdline, const struct backend_net *net,
    struct err *e)
{
	struct backend_spec spec;

	memset(&spec, 0, sizeof(spec));
	if (net != NULL)
		spec.net = *net;
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(g->run_dir, sizeof(g->run_dir), "%s/%s", tmp, name);
	snprintf(g->console, sizeof(g->console), "%s/%s.console", tmp, name);
	spec.name = g->name;
	spec.id = "0123456789abcdef0123456789abcdef";
	spec.kernel = kernel;
	spec.cmdline = cmdline;
	spec.memory_mib = 16;
	spec.vcpus = 1;
	spec.console_log = g->console;
	spec.run_dir = g->run_dir;
	err_clear(e);
	return ops->start(b, &spec, g->handle, e);
}

static int
start(struct backend *b, struct guest *g, const char *name,
    const char *kernel, const char *cmdline, struct err *e)
{
	return start_net(b, g, name, kernel, cmdline, NULL, e);
}

static struct backend *
open_backend(const char *u)
{
	struct backend *b = NULL;
	struct err e;

	err_clear(&e);
	if (ops->open(u, &listener, &b, &e) == -1)
		diag("open: %s: %s", e.code, e.msg);
	return b;
}

/* Without /dev/kvm, TCG must boot hello, else there is nothing to test. */
static void
skip_unless_bootable(void)
{
	struct backend *b;
	struct guest g;
	struct event ev;
	struct err e;

	if (access("/dev/kvm", F_OK) == 0)
		return;
	b = open_backend(uri);
	if (b == NULL || start(b, &g, "probe", k_hello, "exit=3", &e) == -1 ||
	    (ev = wait_event(g.handle, 1, WAIT_MS),
	    ev.kind != BACKEND_EVENT_EXITED || ev.code != 3)) {
		printf("1..0 # SKIP no /dev/kvm and TCG does not boot hello\n");
		exit(0);
	}
	ops->close(b);
}

static void
test_open(void)
{
	struct backend *b = NULL;
	char u[4200];
	struct err e;

	err_clear(&e);
	ok(ops->open("colour=blue", &listener, &b, &e) == -1 && b == NULL,
	    "open: an unknown key is refused");
	is_str(e.code, "invalid_argument", "open: invalid_argument");
	ok(strstr(e.msg, "colour") != NULL, "open: the key is named");
	ok(ops->open("accel=xen", &listener, &b, &e) == -1,
	    "open: accel=xen is refused");
	ok(ops->open("binary=/nonexistent/qemu", &listener, &b, &e) == -1,
	    "open: a missing binary is refused");
	is_str(e.code, "backend_unavailable", "open: backend_unavailable");
	ok(ops->open("binary=/bin/true", &listener, &b, &e) == -1 &&
	    strstr(e.msg, "not a QEMU") != NULL, "open: a binary that is not "
	    "QEMU is refused");
	ok(ops->open("shim=/nonexistent/qemu-shim", &listener, &b, &e) == -1,
	    "open: a missing shim is refused");
	is_str(e.code, "backend_unavailable", "open: backend_unavailable");
	if (access("/dev/kvm", F_OK) != 0) {
		snprintf(u, sizeof(u), "%s,accel=kvm", uri);
		ok(ops->open(u, &listener, &b, &e) == -1,
		    "open: accel=kvm without /dev/kvm is refused");
	}
}

static void
test_exits(struct backend *b)
{
	struct guest g;
	struct event ev, run;
	struct err e;
	char path[1300];

	ok(start(b, &g, "hello3", k_hello, "exit=3 greeting=hi", &e) == 0,
	    "hello exit=3: started");
	if (e.code[0] != '\0')
		diag("%s: %s", e.code, e.msg);
	diag("handle %s", g.handle);
	ok(strstr(g.handle, g.run_dir) != NULL, "the handle names the run_dir");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_EXITED, 3, "hello exit=3: EXITED with code 3");
	run = wait_event(g.handle, 0, 0);
	ok(run.kind == BACKEND_EVENT_RUNNING && run.at <= ev.at,
	    "hello exit=3: RUNNING came first");
	ok(file_has(g.console, "Hello, world! This is hello on "),
	    "hello exit=3: the greeting is in the console log");
	ok(file_has(g.console, "=== rt: exit 3 ==="),
	    "hello exit=3: and the trailer");
	snprintf(path, sizeof(path), "%s/status", g.run_dir);
	ok(file_has(path, "exited 7"), "hello exit=3: the shim saw status 7");
	snprintf(path, sizeof(path), "%s/qemu.cmdline", g.run_dir);
	ok(file_has(path, "-M microvm") &&
	    file_has(path, "isa-debug-exit,iobase=0xf4,iosize=4"),
	    "qemu.cmdline has the command line");
	ok(!alive(handle_pid(g.handle)), "hello exit=3: QEMU is gone");

	ok(start(b, &g, "hello0", k_hello, "exit=0", &e) == 0,
	    "hello exit=0: started");
	is_end(wait_event(g.handle, 1, WAIT_MS), BACKEND_EVENT_EXITED, 0,
	    "hello exit=0: EXITED with code 0 (QEMU status 1)");

	ok(start(b, &g, "hello200", k_hello, "exit=200", &e) == 0,
	    "hello exit=200: started");
	is_end(wait_event(g.handle, 1, WAIT_MS), BACKEND_EVENT_EXITED, 200,
	    "hello exit=200: EXITED with code 200 (the trailer's, not 126)");

	/* The console is appended to: a second run in the same files must
	 * not be read as the first. */
	ok(start(b, &g, "hello200", k_hello, "exit=17", &e) == 0,
	    "hello again in the same run_dir: started");
	is_end(wait_event(g.handle, 1, WAIT_MS), BACKEND_EVENT_EXITED, 17,
	    "hello again: EXITED with its own code 17");
	ok(file_has(g.console, "=== rt: exit 200 ===") &&
	    file_has(g.console, "=== rt: exit 17 ==="),
	    "hello again: the console log kept both runs");

	ok(start(b, &g, "crash", k_crash, "", &e) == 0, "crash: started");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_CRASHED, 0, "crash: CRASHED");
	is_str(ev.reason, "crashed: page fault", "crash: the reason");
	ok(file_has(g.console, "rt: crash: page fault (vector 14)") &&
	    file_has(g.console, "rt:   rip "),
	    "crash: the register dump is in the console log");

	ok(start(b, &g, "crash-ud", k_crash, "crash=ud", &e) == 0,
	    "crash=ud: started");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_CRASHED, 0, "crash=ud: CRASHED");
	is_str(ev.reason, "crashed: invalid opcode", "crash=ud: the reason");
}

static void
test_stop(struct backend *b)
{
	struct guest g, h;
	struct event ev;
	struct err e;
	int64_t t0;
	pid_t pid;

	ok(start(b, &g, "loop-stop", k_loop, "", &e) == 0, "loop: started");
	ev = wait_event(g.handle, 0, WAIT_MS);
	ok(ev.kind == BACKEND_EVENT_RUNNING, "loop: RUNNING");
	pid = handle_pid(g.handle);
	for (t0 = now_ms(); now_ms() - t0 < WAIT_MS &&
	    !file_has(g.console, "loop: heartbeat");)
		usleep(50 * 1000);
	ok(file_has(g.console, "loop: heartbeat"), "loop: it beats");
	t0 = now_ms();
	ok(ops->stop(b, g.handle, 700, &e) == 0, "loop: stop, 700 ms grace");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_STOPPED, 0, "loop: STOPPED");
	ok(ev.at - t0 >= 650 && ev.at - t0 < 5000,
	    "loop: ended after the grace period (%lld ms)",
	    (long long)(ev.at - t0));
	ok(!alive(pid), "loop: QEMU is gone");
	ok(ops->stop(b, g.handle, 0, &e) == -1, "stop of an ended guest fails");
	is_str(e.code, "backend_no_such_guest", "... backend_no_such_guest");

	ok(start(b, &g, "loop-kill", k_loop, "", &e) == 0, "loop: started");
	ok(wait_event(g.handle, 0, WAIT_MS).kind == BACKEND_EVENT_RUNNING,
	    "loop: RUNNING");
	t0 = now_ms();
	ok(ops->kill(b, g.handle, &e) == 0, "loop: kill");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_STOPPED, 0, "loop: killed: STOPPED");
	ok(ev.at - t0 < 2000, "loop: killed at once (%lld ms)",
	    (long long)(ev.at - t0));
	ok(ops->kill(b, g.handle, &e) == -1 &&
	    strcmp(e.code, "backend_no_such_guest") == 0,
	    "kill of an ended guest: backend_no_such_guest");
	ok(ops->kill(b, "12:34:/nowhere", &e) == -1 &&
	    strcmp(e.code, "backend_no_such_guest") == 0,
	    "kill of an unknown handle: backend_no_such_guest");

	/* A second start in a run_dir whose QEMU still runs is refused,
	 * and the first keeps its files. */
	ok(start(b, &g, "loop-twice", k_loop, "", &e) == 0, "loop: started");
	ok(wait_event(g.handle, 0, WAIT_MS).kind == BACKEND_EVENT_RUNNING,
	    "loop: RUNNING");
	memcpy(&h, &g, sizeof(h));
	ok(start(b, &h, "loop-twice", k_loop, "", &e) == -1 &&
	    strcmp(e.code, "backend_start_failed") == 0 &&
	    strstr(e.msg, "still runs") != NULL,
	    "a second start in the same run_dir fails: %s", e.msg);
	t0 = now_ms();
	ok(ops->stop(b, g.handle, 0, &e) == 0, "the first stops");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_STOPPED, 0, "... STOPPED");
	ok(ev.at - t0 < QUIT_MS, "... through QMP quit, not SIGKILL");

	/* stop with no grace at all */
	ok(start(b, &g, "loop-stop0", k_loop, "", &e) == 0, "loop: started");
	ok(ops->stop(b, g.handle, 0, &e) == 0, "loop: stop, no grace");
	is_end(wait_event(g.handle, 1, WAIT_MS), BACKEND_EVENT_STOPPED, 0,
	    "loop: STOPPED");
}

static void
test_failures(struct backend *b)
{
	struct backend *b2;
	struct guest g;
	struct event ev;
	struct err e;
	char bad[1200], u[8192];
	FILE *f;

	ok(start(b, &g, "nokernel", "/nonexistent/kernel.elf", "", &e) == -1,
	    "a missing kernel: start fails");
	is_str(e.code, "backend_start_failed", "... backend_start_failed");
	ok(strstr(e.msg, "/nonexistent/kernel.elf") != NULL,
	    "... and names it (%s)", e.msg);

	snprintf(bad, sizeof(bad), "%s/not-a-kernel", tmp);
	f = fopen(bad, "w");
	fprintf(f, "this is not a kernel\n");
	fclose(f);
	ok(start(b, &g, "badkernel", bad, "", &e) == 0,
	    "a kernel QEMU cannot load: started");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_FAILED, 0, "... FAILED");
	ok(strstr(ev.reason, "QEMU failed (status 1): ") != NULL &&
	    strstr(ev.reason, "kernel") != NULL,
	    "... with QEMU's message: %s", ev.reason);
	ok(count_events(g.handle, 0) == 0, "... and no RUNNING");

	/* A QEMU that was there at open() but is gone at start(). */
	snprintf(bad, sizeof(bad), "%s/fake-qemu", tmp);
	f = fopen(bad, "w");
	fprintf(f, "#!/bin/sh\necho QEMU emulator version 9.1.0\n");
	fclose(f);
	chmod(bad, 0755);
	snprintf(u, sizeof(u), "%s,binary=%s", uri, bad);
	b2 = open_backend(u);
	ok(b2 != NULL, "a fake QEMU passes the probe");
	unlink(bad);
	if (b2 != NULL) {
		ok(start(b2, &g, "noqemu", k_hello, "", &e) == -1 &&
		    strcmp(e.code, "backend_start_failed") == 0 &&
		    strstr(e.msg, "cannot run") != NULL &&
		    strstr(e.msg, "No such file") != NULL,
		    "... and start fails at once when it is gone: %s", e.msg);
		ops->close(b2);
	}
}

static void
test_adopt(void)
{
	struct backend *a, *b;
	struct guest g, h;
	struct event ev;
	struct err e;
	struct stat st0, st1;
	pid_t pid;

	a = open_backend(uri);
	if (!ok(a != NULL, "adopt: first backend"))
		return;
	ok(start(a, &g, "loop-adopt", k_loop, "", &e) == 0,
	    "adopt: loop started");
	ok(wait_event(g.handle, 0, WAIT_MS).kind == BACKEND_EVENT_RUNNING,
	    "adopt: RUNNING");
	ok(start(a, &h, "hello-away", k_hello, "exit=5", &e) == 0,
	    "adopt: hello exit=5 started");
	ops->close(a);		/* the daemon "dies" */
	pid = handle_pid(g.handle);
	usleep(1500 * 1000);
	ok(alive(pid), "adopt: the guest outlived its backend");
	stat(g.console, &st0);
	ok(count_events(h.handle, 1) == 0,
	    "adopt: nothing reported after close");

	b = open_backend(uri);
	if (!ok(b != NULL, "adopt: second backend"))
		return;
	ok(ops->adopt(b, g.handle, &e) == 0, "adopt: the loop is adopted");
	if (e.code[0] != '\0')
		diag("%s: %s", e.code, e.msg);
	ok(ops->adopt(b, g.handle, &e) == 0, "adopt: twice is once");
	usleep(1200 * 1000);
	stat(g.console, &st1);
	ok(st1.st_size > st0.st_size, "adopt: it still beats (%lld > %lld)",
	    (long long)st1.st_size, (long long)st0.st_size);
	ok(ops->kill(b, g.handle, &e) == 0, "adopt: kill through the new "
	    "backend");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_STOPPED, 0, "adopt: STOPPED");
	ok(!alive(pid), "adopt: QEMU is gone");
	ok(count_events(g.handle, 1) == 1, "adopt: one end event");

	ok(ops->adopt(b, g.handle, &e) == -1, "adopt of a dead handle fails");
	is_str(e.code, "backend_no_such_guest", "... backend_no_such_guest");
	ok(ops->adopt(b, h.handle, &e) == -1,
	    "adopt of a guest that ended while unwatched fails");
	ok(strstr(e.msg, "exited with code 5") != NULL, "... saying how it "
	    "ended: %s", e.msg);
	ok(ops->adopt(b, "nonsense", &e) == -1 &&
	    strcmp(e.code, "backend_no_such_guest") == 0,
	    "adopt of a bad handle: backend_no_such_guest");
	ok(ops->adopt(b, "1:1:/tmp", &e) == -1 &&
	    strcmp(e.code, "backend_no_such_guest") == 0,
	    "adopt of a live process that is not ours: "
	    "backend_no_such_guest");

	/* adopted, then ending by itself: its exit code still arrives */
	a = open_backend(uri);
	ok(start(a, &g, "loop-beats", k_loop, "beats=2", &e) == 0,
	    "adopt: loop beats=2 started");
	ops->close(a);
	ok(ops->adopt(b, g.handle, &e) == 0, "adopt: adopted");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_EXITED, 0, "adopt: it exits by itself: "
	    "EXITED 0");
	ok(count_events(g.handle, 0) <= 1, "adopt: no second RUNNING");
	ops->close(b);
}

/* pc and q35 with qboot, when it is installed. */
static void
test_machines(void)
{
	static const char *const machines[] = { "pc", "q35" };
	static const char qboot[] = "/usr/share/qemu/qboot.rom";
	struct backend_net net;
	struct backend *b;
	struct guest g;
	struct event ev;
	struct err e;
	char u[8192], name[32], what[64], path[1300];
	size_t i;

	if (access(qboot, R_OK) != 0) {
		ok(1, "pc and q35 # SKIP %s not installed", qboot);
		return;
	}
	for (i = 0; i < 2; i++) {
		snprintf(u, sizeof(u), "%s,machine=%s,bios=%s", uri,
		    machines[i], qboot);
		b = open_backend(u);
		if (!ok(b != NULL, "%s: backend", machines[i]))
			continue;
		snprintf(name, sizeof(name), "%s-hello", machines[i]);
		ok(start(b, &g, name, k_hello, "exit=4", &e) == 0,
		    "%s: hello started", machines[i]);
		ev = wait_event(g.handle, 1, WAIT_MS);
		snprintf(what, sizeof(what), "%s: hello EXITED 4", machines[i]);
		is_end(ev, BACKEND_EVENT_EXITED, 4, what);
		snprintf(name, sizeof(name), "%s-crash", machines[i]);
		ok(start(b, &g, name, k_crash, "", &e) == 0,
		    "%s: crash started", machines[i]);
		ev = wait_event(g.handle, 1, WAIT_MS);
		snprintf(what, sizeof(what), "%s: crash CRASHED", machines[i]);
		is_end(ev, BACKEND_EVENT_CRASHED, 0, what);
		memset(&net, 0, sizeof(net));
		net.mode = NETSPEC_USER;
		netspec_mac("0123456789abcdef0123456789abcdef", net.mac);
		snprintf(name, sizeof(name), "%s-probe", machines[i]);
		ok(access(k_probe, R_OK) == 0 && start_net(b, &g, name,
		    k_probe, "", &net, &e) == 0, "%s: netprobe started",
		    machines[i]);
		ev = wait_event(g.handle, 1, WAIT_MS);
		snprintf(what, sizeof(what), "%s: netprobe on virtio-pci "
		    "EXITED 0", machines[i]);
		is_end(ev, BACKEND_EVENT_EXITED, 0, what);
		snprintf(path, sizeof(path), "%s/qemu.cmdline", g.run_dir);
		ok(file_has(path, "-device virtio-net-pci,netdev=n0,mac=") &&
		    file_has(g.console, "netprobe: virtio-net on virtio-pci"),
		    "%s: the NIC is virtio-net-pci", machines[i]);
		ops->close(b);
	}
}

/* kill -9 of the "daemon" itself: a child process that started a guest
 * dies; the guest runs on and this process adopts it. */
static void
test_daemon_killed(void)
{
	struct backend *b;
	struct guest g;
	struct event ev;
	struct err e;
	struct stat st0, st1;
	int pfd[2], status;
	pid_t child, qemu;
	ssize_t n;

	if (pipe(pfd) == -1)
		return;
	child = fork();
	if (child == 0) {
		close(pfd[0]);
		b = open_backend(uri);
		if (b == NULL || start(b, &g, "loop-orphan", k_loop, "",
		    &e) == -1)
			_exit(1);
		(void)!write(pfd[1], &g, sizeof(g));
		for (;;)
			pause();
	}
	close(pfd[1]);
	n = read(pfd[0], &g, sizeof(g));
	close(pfd[0]);
	if (!ok(n == (ssize_t)sizeof(g), "kill -9: the daemon started a "
	    "guest")) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		return;
	}
	usleep(300 * 1000);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	qemu = handle_pid(g.handle);
	usleep(1500 * 1000);
	ok(alive(qemu), "kill -9: the guest outlived the daemon");
	stat(g.console, &st0);
	b = open_backend(uri);
	if (!ok(b != NULL, "kill -9: a new backend"))
		return;
	ok(ops->adopt(b, g.handle, &e) == 0, "kill -9: the guest is adopted");
	usleep(1200 * 1000);
	stat(g.console, &st1);
	ok(st1.st_size > st0.st_size, "kill -9: it still beats");
	ok(ops->stop(b, g.handle, 100, &e) == 0, "kill -9: stop");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_STOPPED, 0, "kill -9: STOPPED");
	ok(!alive(qemu), "kill -9: QEMU is gone");
	ops->close(b);
}

struct list_seen {
	char handles[4][BACKEND_HANDLE_MAX];
	char names[4][64];
	int n;
};

static void
list_fn(void *arg, const char *handle, const char *name)
{
	struct list_seen *s = arg;

	if (s->n < 4) {
		snprintf(s->handles[s->n], BACKEND_HANDLE_MAX, "%s", handle);
		snprintf(s->names[s->n], 64, "%s", name);
	}
	s->n++;
}

static void
test_list(void)
{
	struct backend *b;
	struct list_seen s;
	struct guest g[2];
	struct err e;
	char u[8192];
	int i, found;

	snprintf(u, sizeof(u), "%s,run_root=%s", uri, tmp);
	b = open_backend(u);
	if (!ok(b != NULL, "list: backend"))
		return;
	ok(start(b, &g[0], "list-a", k_loop, "", &e) == 0 &&
	    start(b, &g[1], "list-b", k_loop, "", &e) == 0,
	    "list: two loops started");
	for (i = 0; i < 2; i++)
		wait_event(g[i].handle, 0, WAIT_MS);
	memset(&s, 0, sizeof(s));
	ok(ops->list(b, list_fn, &s, &e) == 0, "list: runs");
	is_int(s.n, 2, "list: two guests under run_root");
	for (i = 0, found = 0; i < s.n && i < 4; i++)
		found += (strcmp(s.handles[i], g[0].handle) == 0 &&
		    strcmp(s.names[i], "list-a") == 0) ||
		    (strcmp(s.handles[i], g[1].handle) == 0 &&
		    strcmp(s.names[i], "list-b") == 0);
	is_int(found, 2, "list: their handles and names");
	for (i = 0; i < 2; i++) {
		ops->kill(b, g[i].handle, &e);
		wait_event(g[i].handle, 1, WAIT_MS);
	}
	memset(&s, 0, sizeof(s));
	ok(ops->list(b, list_fn, &s, &e) == 0 && s.n == 0,
	    "list: none once they ended");
	ops->close(b);
}

struct starter {
	struct backend *b;
	struct guest g;
	int i, rc;
	struct err e;
};

static void *
starter(void *arg)
{
	struct starter *s = arg;
	char name[32], cmdline[32];

	snprintf(name, sizeof(name), "many-%d", s->i);
	snprintf(cmdline, sizeof(cmdline), "exit=%d", 10 + s->i);
	s->rc = start(s->b, &s->g, name, k_hello, cmdline, &s->e);
	return NULL;
}

static void
test_many(struct backend *b)
{
	struct starter s[NGUESTS];
	pthread_t t[NGUESTS];
	struct event ev;
	int i, started = 0, right = 0, greeted = 0;
	int64_t t0 = now_ms();

	for (i = 0; i < NGUESTS; i++) {
		s[i].b = b;
		s[i].i = i;
		pthread_create(&t[i], NULL, starter, &s[i]);
	}
	for (i = 0; i < NGUESTS; i++) {
		pthread_join(t[i], NULL);
		started += s[i].rc == 0;
		if (s[i].rc != 0)
			diag("many-%d: %s: %s", i, s[i].e.code, s[i].e.msg);
	}
	is_int(started, NGUESTS, "10 guests at once: all started");
	for (i = 0; i < NGUESTS; i++) {
		if (s[i].rc != 0)
			continue;
		ev = wait_event(s[i].g.handle, 1, WAIT_MS);
		if (ev.kind == BACKEND_EVENT_EXITED && ev.code == 10 + i)
			right++;
		else
			diag("many-%d: %s %d %s", i, kind_name((int)ev.kind),
			    ev.code, ev.reason);
		greeted += file_has(s[i].g.console, "Hello, world!");
	}
	is_int(right, NGUESTS, "10 guests at once: each EXITED with its code");
	is_int(greeted, NGUESTS, "10 guests at once: each console has its "
	    "greeting");
	diag("10 guests: %lld ms", (long long)(now_ms() - t0));
}

/* A TCP port on 127.0.0.1 nobody listens on now, with a listener on it
 * kept in (*fd) when (keep). */
static unsigned
free_port(int keep, int *fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned port = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(s, 1) == 0 && getsockname(s, (struct sockaddr *)&sin,
	    &len) == 0)
		port = ntohs(sin.sin_port);
	if (keep && s >= 0)
		*fd = s;
	else if (s >= 0)
		close(s);
	return port;
}

/* Whether 127.0.0.1:(port) accepts a TCP connection. */
static int
connects(unsigned port)
{
	struct sockaddr_in sin;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = s >= 0 && connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	if (s >= 0)
		close(s);
	return rc;
}

/* User networking: netprobe ARPs slirp's gateway with the MAC it was
 * given; forwards listen on 127.0.0.1 while the guest runs, and a port in
 * use is refused before QEMU starts. */
static void
test_user_net(struct backend *b)
{
	struct netspec_forward fw[2] = {
		{ NETSPEC_TCP, "127.0.0.1", 0, 80 },
		{ NETSPEC_UDP, "127.0.0.1", 0, 53 },
	};
	struct backend_net net;
	char path[1300], want[128];
	struct guest g;
	struct event ev;
	struct err e;
	unsigned port;
	int busy = -1;

	memset(&net, 0, sizeof(net));
	net.mode = NETSPEC_USER;
	netspec_mac("0123456789abcdef0123456789abcdef", net.mac);
	ok(start_net(b, &g, "probe-user", k_probe, "", &net, &e) == 0,
	    "user: netprobe started");
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_EXITED, 0, "user: netprobe EXITED 0");
	ok(file_has(g.console, "netprobe: our mac 02:3e:b1:bd:43:99"),
	    "user: the guest has the MAC derived from its id");
	ok(file_has(g.console, "netprobe: 10.0.2.2 is at "),
	    "user: slirp's gateway answered");
	snprintf(path, sizeof(path), "%s/qemu.cmdline", g.run_dir);
	ok(file_has(path, "-netdev user,id=n0,restrict=on -device "
	    "virtio-net-device,netdev=n0,mac=02:3e:b1:bd:43:99"),
	    "user: restricted user networking, virtio-mmio's NIC");

	port = free_port(0, NULL);
	fw[0].host_port = (uint16_t)port;
	fw[1].host_port = (uint16_t)port;
	net.forwards = fw;
	net.nforwards = 2;
	net.outbound = 1;
	ok(start_net(b, &g, "loop-user", k_loop, "", &net, &e) == 0,
	    "user: loop with forwards started");
	if (e.code[0] != '\0')
		diag("%s: %s", e.code, e.msg);
	snprintf(path, sizeof(path), "%s/qemu.cmdline", g.run_dir);
	snprintf(want, sizeof(want), "restrict=off,hostfwd=tcp:127.0.0.1:%u-"
	    ":80,hostfwd=udp:127.0.0.1:%u-:53", port, port);
	ok(file_has(path, want), "user: the forwards on QEMU's command line");
	wait_event(g.handle, 0, WAIT_MS);
	ok(connects(port), "user: 127.0.0.1:%u accepts while the guest runs",
	    port);
	ok(ops->kill(b, g.handle, &e) == 0, "user: killed");
	is_end(wait_event(g.handle, 1, WAIT_MS), BACKEND_EVENT_STOPPED, 0,
	    "user: STOPPED");
	ok(!connects(port), "user: the forward went with the guest");

	port = free_port(1, &busy);
	fw[0].host_port = (uint16_t)port;
	net.nforwards = 1;
	ok(start_net(b, &g, "loop-busy", k_loop, "", &net, &e) == -1 &&
	    strcmp(e.code, "network_port_in_use") == 0,
	    "user: a port in use: network_port_in_use");
	ok(strstr(e.msg, "tcp port") != NULL, "  %s", e.msg);
	snprintf(path, sizeof(path), "%s/qemu.cmdline", g.run_dir);
	ok(access(path, F_OK) == -1 && errno == ENOENT,
	    "  before anything of a guest was made");
	if (busy >= 0)
		close(busy);
}

/* Bridge mode, in a network namespace of this thread's own (the last
 * test: the guests it starts use it): the tap on the daemon's bridge, and
 * netprobe's ARP from the address on its command line answered by the
 * bridge. */
static void
test_bridge_net(struct backend *b)
{
	struct hostnet_link br, l;
	struct backend_net net;
	char path[1300];
	struct guest g;
	struct event ev;
	struct err e;
	int created;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) == -1) {
		ok(1, "bridge # SKIP needs root for a network namespace");
		return;
	}
	if (!ok(hostnet_bridge_ensure("ukbr0", 0x0ad50001u, 24, &created,
	    &e) == 0 && hostnet_link_get("ukbr0", &br, &e) == 1,
	    "bridge: ukbr0 made"))
		return;
	memset(&net, 0, sizeof(net));
	net.mode = NETSPEC_BRIDGE;
	net.bridge = "ukbr0";
	net.tap = "uktestprobe";
	netspec_mac("ffffffffffffffffffffffffffffffff", net.mac);
	ok(start_net(b, &g, "probe-bridge", k_probe,
	    "ip=10.213.0.2/24 gw=10.213.0.1", &net, &e) == 0,
	    "bridge: netprobe started");
	if (e.code[0] != '\0')
		diag("%s: %s", e.code, e.msg);
	ev = wait_event(g.handle, 1, WAIT_MS);
	is_end(ev, BACKEND_EVENT_EXITED, 0, "bridge: netprobe EXITED 0");
	ok(file_has(g.console, "netprobe: 10.213.0.2 asks for 10.213.0.1"),
	    "bridge: it used the address on its command line");
	ok(file_has(g.console, "netprobe: 10.213.0.1 is at "),
	    "bridge: the bridge answered its ARP");
	ok(file_has(g.console, "netprobe: our mac 02:35:23:02:48:9b"),
	    "bridge: with the MAC derived from its id");
	snprintf(path, sizeof(path), "%s/qemu.cmdline", g.run_dir);
	ok(file_has(path, "-netdev tap,id=n0,fd=5 -device virtio-net-device,"
	    "netdev=n0,mac=02:35:23:02:48:9b"),
	    "bridge: QEMU got the tap as descriptor 5");
	is_int(hostnet_link_get("uktestprobe", &l, &e), 0,
	    "bridge: the tap ended with QEMU");

	net.tap = "uktestloop";
	ok(start_net(b, &g, "loop-bridge", k_loop, "", &net, &e) == 0,
	    "bridge: loop started");
	ok(hostnet_link_get("uktestloop", &l, &e) == 1 && l.master ==
	    br.index && l.up, "bridge: its tap is on the bridge, up");
	ok(ops->kill(b, g.handle, &e) == 0, "bridge: killed");
	wait_event(g.handle, 1, WAIT_MS);
	is_int(hostnet_link_get("uktestloop", &l, &e), 0,
	    "bridge: its tap is gone");
	net.bridge = "nosuchbridge";
	ok(start_net(b, &g, "loop-nobridge", k_loop, "", &net, &e) == -1 &&
	    strcmp(e.code, "network_setup_failed") == 0,
	    "bridge: a bridge that is not there is refused");
}

static void
test_once(void)
{
	int i, j, dup = 0;

	pthread_mutex_lock(&got.lock);
	for (i = 0; i < got.n; i++)
		for (j = i + 1; j < got.n; j++)
			dup += got.ev[i].kind != BACKEND_EVENT_RUNNING &&
			    got.ev[j].kind != BACKEND_EVENT_RUNNING &&
			    strcmp(got.ev[i].handle, got.ev[j].handle) == 0;
	pthread_mutex_unlock(&got.lock);
	is_int(dup, 0, "no guest ended twice");
}

int
main(void)
{
	struct backend *b;
	const char *t = getenv("top_builddir");
	const char *accel = getenv("TEST_QEMU_ACCEL");	/* kvm, tcg */
	char cmd[1100];

	signal(SIGPIPE, SIG_IGN);
	snprintf(top, sizeof(top), "%s", t != NULL ? t : ".");
	snprintf(k_hello, sizeof(k_hello), "%s/kernels/hello/hello.elf", top);
	snprintf(k_crash, sizeof(k_crash), "%s/kernels/crash/crash.elf", top);
	snprintf(k_loop, sizeof(k_loop), "%s/kernels/loop/loop.elf", top);
	snprintf(k_probe, sizeof(k_probe), "%s/kernels/netprobe/netprobe.elf",
	    top);
	snprintf(uri, sizeof(uri), "shim=%s/unikerneld/qemu-shim%s%s", top,
	    accel != NULL ? ",accel=" : "", accel != NULL ? accel : "");
	if (access(k_hello, R_OK) != 0) {
		printf("1..0 # SKIP %s not built\n", k_hello);
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/test-backend-qemu.XXXXXX");
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	skip_unless_bootable();
	diag("accel %s", accel != NULL ? accel :
	    access("/dev/kvm", F_OK) == 0 ? "kvm" : "tcg");

	test_open();
	b = open_backend(uri);
	if (ok(b != NULL, "open")) {
		test_exits(b);
		test_stop(b);
		test_failures(b);
		test_many(b);
		ops->close(b);
	}
	test_adopt();
	test_daemon_killed();
	test_machines();
	test_list();
	if (access(k_probe, R_OK) == 0 && (b = open_backend(uri)) != NULL) {
		test_user_net(b);
		test_bridge_net(b);
		ops->close(b);
	}
	test_once();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (tap_failed == 0 && system(cmd) != 0)
		diag("could not remove %s", tmp);
	return tap_done();
}
