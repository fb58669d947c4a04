/*
 * backend-qemu.c - guests as qemu-system-x86_64 processes (microvm by
 * default), each under a small shim that is its parent, watched over
 * pidfds and QMP from one thread (docs/daemon.md, "The qemu backend").
 *
 * A guest's files, all in its run_dir:
 *   qmp.sock	QMP: the backend listens, QEMU inherits the socket
 *   qemu.pid	QEMU's -pidfile
 *   qemu.log	QEMU's (and the shim's) stdout and stderr
 *   qemu.cmdline	the command line, shell-quoted, for people
 *   guest.info	what adopt() needs besides the handle: console, offset
 *   status	written by the shim when QEMU ended (qemu-shim.h)
 *
 * The handle is "QEMU_PID:SHIM_PID:RUN_DIR".
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "backend.h"
#include "hostnet.h"
#include "qemu-shim.h"
#include "trailer.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef QEMU_SHIM_PATH
#define QEMU_SHIM_PATH "/usr/local/libexec/unikerneld/qemu-shim"
#endif

#define QMP_BUF		4096	/* a QMP message; longer ones are dropped */
#define QUIT_KILL_MS	3000	/* from quit (or SIGTERM) to SIGKILL */
#define PANIC_KILL_MS	5000	/* for a panicked guest to exit */
#define SPAWN_MS	10000	/* for the shim to report, at most */
#define LOG_QUOTE	300	/* bytes of qemu.log quoted in a reason */

extern char **environ;

enum tag {
	TAG_WAKE,
	TAG_SHIM,	/* the shim's pidfd: the guest ended */
	TAG_QMP,
};

struct guest {
	struct guest *next;
	uint64_t id;			/* in the epoll tags */
	char handle[BACKEND_HANDLE_MAX];
	char run_dir[PATH_MAX];
	char console[PATH_MAX];
	off_t console_off;		/* where this run's output begins */
	pid_t qemu_pid, shim_pid;
	int shim_fd, qemu_fd;		/* pidfds; qemu_fd -1 once gone */
	int qmp_fd;			/* -1 when none */
	size_t qmp_len;
	int adopted, greeted, reported_running, panicked, stopping, killed;
	int64_t term_at, kill_at;	/* CLOCK_MONOTONIC ms, 0: none */
	char shutdown_reason[32];	/* from QMP's SHUTDOWN event */
	char qmp_buf[QMP_BUF];
};

struct backend {
	struct backend_listener listener;
	char binary[PATH_MAX];
	char shim[PATH_MAX];
	char bios[PATH_MAX];
	char run_root[PATH_MAX];
	char accel[8];
	char cpu[64];
	char machine[32];
	char version[64];
	int major, minor;

	pthread_mutex_t lock;		/* guests and their state */
	struct guest *guests;
	uint64_t next_id;
	int closing;
	int epfd, wakefd;
	pthread_t thread;
};

/* ---- small helpers ---- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
pidfd_open_pid(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int
pidfd_signal(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static uint64_t
tag(uint64_t id, enum tag t)
{
	return id << 2 | (uint64_t)t;
}

/* Copies (src) into (dst); -1 if it does not fit. */
static int
copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* (dir)/(name) into (out), PATH_MAX bytes. */
static int
join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

/* Reads at most (size - 1) bytes of (path) into (buf), NUL-terminated. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return -1;
	do
		n = read(fd, buf, size - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static int
write_small(const char *path, const char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
	    0644);
	if (fd == -1)
		return -1;
	n = write(fd, buf, len);
	if (close(fd) == -1 || n != (ssize_t)len)
		return -1;
	return 0;
}

/* A descriptor moved to 16 or above (CLOEXEC), so that posix_spawn's
 * dup2s onto 0..4 never overwrite a source; closes (fd). */
static int
fd_high(int fd)
{
	int hi;

	if (fd < 0)
		return -1;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, 16);
	close(fd);
	return hi;
}

/* ---- the argument vector ---- */

struct argv {
	char **v;
	size_t n, cap;
	int failed;
};

__attribute__((format(printf, 2, 3))) static void
argv_add(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	char **v, *s;

	if (a->failed)
		return;
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 48;
		v = realloc(a->v, a->cap * sizeof(*v));
		if (v == NULL) {
			a->failed = 1;
			return;
		}
		a->v = v;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1) {
		a->failed = 1;
		s = NULL;
	}
	va_end(ap);
	if (s == NULL)
		return;
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void
argv_free(struct argv *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* (s) with every comma doubled, as QEMU's option values need; NULL on
 * ENOMEM.  The caller frees. */
static char *
qemu_escape(const char *s)
{
	size_t n = 0, i;
	char *out, *p;

	for (i = 0; s[i] != '\0'; i++)
		n += s[i] == ',' ? 2 : 1;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (p = out; *s != '\0'; s++) {
		if (*s == ',')
			*p++ = ',';
		*p++ = *s;
	}
	*p = '\0';
	return out;
}

/* The guest's network device: user networking with its forwards, or the
 * tap QEMU inherits as SHIM_FD_NET; the NIC the machine has a bus for
 * (microvm: virtio-mmio; pc and q35: PCI). */
static void
net_argv(const struct backend *b, const struct backend_net *net,
    struct argv *a)
{
	const struct netspec_forward *f;
	char mac[NETSPEC_MAC_MAX], *fw = NULL, *p;
	size_t i;

	if (net->mode == NETSPEC_NONE)
		return;
	netspec_mac_format(net->mac, mac);
	argv_add(a, "-netdev");
	if (net->mode == NETSPEC_BRIDGE) {
		argv_add(a, "tap,id=n0,fd=%d", SHIM_FD_NET);
	} else {
		for (i = 0; i < net->nforwards && !a->failed; i++) {
			f = &net->forwards[i];
			p = fw;
			if (asprintf(&fw, "%s,hostfwd=%s:%s:%u-:%u",
			    p != NULL ? p : "", netspec_proto_name(f->proto),
			    f->host_ip, (unsigned)f->host_port,
			    (unsigned)f->guest_port) == -1) {
				fw = NULL;
				a->failed = 1;
			}
			free(p);
		}
		argv_add(a, "user,id=n0,restrict=%s%s", net->outbound ? "off" :
		    "on", fw != NULL ? fw : "");
		free(fw);
	}
	argv_add(a, "-device");
	argv_add(a, "%s,netdev=n0,mac=%s", strcmp(b->machine, "microvm") == 0 ?
	    "virtio-net-device" : "virtio-net-pci", mac);
}

static int
build_argv(const struct backend *b, const struct backend_spec *spec,
    struct argv *a)
{
	char *name, *console;
	int kvm = strcmp(b->accel, "kvm") == 0;

	name = qemu_escape(spec->name);
	console = qemu_escape(spec->console_log);
	if (name == NULL || console == NULL) {
		free(name);
		free(console);
		return -1;
	}
	argv_add(a, "%s", b->binary);
	argv_add(a, "-name");
	argv_add(a, "guest=%s", name);
	argv_add(a, "-M");
	argv_add(a, "%s", b->machine);
	if (b->bios[0] != '\0') {
		argv_add(a, "-bios");
		argv_add(a, "%s", b->bios);
	}
	argv_add(a, "-accel");
	argv_add(a, "%s", b->accel);
	argv_add(a, "-cpu");
	argv_add(a, "%s", b->cpu[0] != '\0' ? b->cpu : kvm ? "qemu64" : "max");
	if (spec->memory_mib > 0) {
		argv_add(a, "-m");
		argv_add(a, "%" PRIu32, spec->memory_mib);
	}
	if (spec->vcpus > 0) {
		argv_add(a, "-smp");
		argv_add(a, "%" PRIu32, spec->vcpus);
	}
	argv_add(a, "-nodefaults");
	argv_add(a, "-no-user-config");
	argv_add(a, "-display");
	argv_add(a, "none");
	/* A reset (a triple fault) ends QEMU instead of booting again. */
	argv_add(a, "-no-reboot");
	argv_add(a, "-chardev");
	argv_add(a, "file,id=con,path=%s,append=on", console);
	argv_add(a, "-serial");
	argv_add(a, "chardev:con");
	argv_add(a, "-device");
	argv_add(a, "isa-debug-exit,iobase=0xf4,iosize=4");
	argv_add(a, "-device");
	argv_add(a, "pvpanic");
	/* QEMU's default for a guest panic is to shut down at once, which
	 * would end the guest with status 0 before its debug-exit write (255);
	 * "none" keeps the GUEST_PANICKED event and lets the runtime finish. */
	if (b->major >= 6) {
		argv_add(a, "-action");
		argv_add(a, "panic=none");
	}
	net_argv(b, &spec->net, a);
	argv_add(a, "-chardev");
	argv_add(a, "socket,id=qmp,fd=%d,server=on,wait=off", SHIM_FD_QMP);
	argv_add(a, "-mon");
	argv_add(a, "chardev=qmp,mode=control");
	argv_add(a, "-pidfile");
	argv_add(a, "qemu.pid");
	argv_add(a, "-kernel");
	argv_add(a, "%s", spec->kernel);
	if (spec->initrd != NULL) {
		argv_add(a, "-initrd");
		argv_add(a, "%s", spec->initrd);
	}
	if (spec->cmdline != NULL && spec->cmdline[0] != '\0') {
		argv_add(a, "-append");
		argv_add(a, "%s", spec->cmdline);
	}
	free(name);
	free(console);
	return a->failed ? -1 : 0;
}

/* The command line as a shell would take it, for run_dir/qemu.cmdline. */
static int
write_cmdline(const char *path, char *const *v)
{
	FILE *f;
	const char *p;
	int plain;

	f = fopen(path, "we");
	if (f == NULL)
		return -1;
	for (; *v != NULL; v++) {
		plain = (*v)[0] != '\0';
		for (p = *v; *p != '\0' && plain; p++)
			plain = isalnum((unsigned char)*p) ||
			    strchr("-_=,.:/+@%", *p) != NULL;
		if (plain) {
			fputs(*v, f);
		} else {
			fputc('\'', f);
			for (p = *v; *p != '\0'; p++)
				if (*p == '\'')
					fputs("'\\''", f);
				else
					fputc(*p, f);
			fputc('\'', f);
		}
		fputc(v[1] != NULL ? ' ' : '\n', f);
	}
	return fclose(f) == EOF ? -1 : 0;
}

/* ---- QMP ---- */

/* The address of (run_dir)/qmp.sock; through /proc/self/fd/(dirfd) when
 * the path is too long for sun_path. */
static int
qmp_addr(const char *run_dir, int dirfd, struct sockaddr_un *sun)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/qmp.sock",
	    run_dir);
	if (n > 0 && (size_t)n < sizeof(sun->sun_path))
		return 0;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path),
	    "/proc/self/fd/%d/qmp.sock", dirfd);
	return n > 0 && (size_t)n < sizeof(sun->sun_path) ? 0 : -1;
}

/* A listening (listen) or connected socket on (run_dir)/qmp.sock. */
static int
qmp_socket(const char *run_dir, int listen_, int *out, struct err *e)
{
	struct sockaddr_un sun;
	int dirfd, fd, rc, saved;

	*out = -1;
	dirfd = open(run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd == -1)
		return err_errno(e, ERR_IO, errno, "%s", run_dir);
	if (qmp_addr(run_dir, dirfd, &sun) == -1) {
		close(dirfd);
		return err_set(e, ERR_INVALID, "%s: path too long", run_dir);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    (listen_ ? 0 : SOCK_NONBLOCK), 0);
	if (fd == -1) {
		saved = errno;
		close(dirfd);
		return err_errno(e, ERR_IO, saved, "socket");
	}
	if (listen_) {
		(void)unlinkat(dirfd, "qmp.sock", 0);
		rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
		if (rc == 0)
			rc = listen(fd, 4);
	} else {
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	}
	saved = errno;
	close(dirfd);
	if (rc == -1) {
		close(fd);
		return err_errno(e, ERR_IO, saved, "%s/qmp.sock", run_dir);
	}
	*out = fd;
	return 0;
}

static void
qmp_send(struct guest *g, const char *cmd)
{
	char buf[128];
	int n;

	if (g->qmp_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "{\"execute\":\"%s\"}\r\n", cmd);
	(void)send(g->qmp_fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* One QMP message; sets (*running) when the greeting says the guest runs
 * and the daemon has not heard so yet. */
static void
qmp_message(struct guest *g, const char *line, int *running)
{
	struct json_object *o, *v, *data, *reason;
	const char *ev;

	o = json_tokener_parse(line);
	if (o == NULL)
		return;
	if (json_object_object_get_ex(o, "QMP", &v)) {
		/* QEMU greets before it loads the kernel, which may fail;
		 * commands wait for its main loop, so the guest runs once
		 * query-status answers. */
		g->greeted = 1;
		qmp_send(g, "qmp_capabilities");
		qmp_send(g, "query-status");
	} else if (json_object_object_get_ex(o, "return", &v) &&
	    json_object_object_get_ex(v, "running", &data)) {
		if (json_object_get_boolean(data) && !g->adopted &&
		    !g->reported_running)
			*running = g->reported_running = 1;
	} else if (json_object_object_get_ex(o, "event", &v) &&
	    (ev = json_object_get_string(v)) != NULL) {
		if (strcmp(ev, "GUEST_PANICKED") == 0) {
			g->panicked = 1;
			if (g->kill_at == 0)
				g->kill_at = now_ms() + PANIC_KILL_MS;
		} else if (strcmp(ev, "SHUTDOWN") == 0 &&
		    json_object_object_get_ex(o, "data", &data) &&
		    json_object_object_get_ex(data, "reason", &reason)) {
			(void)copy_str(g->shutdown_reason,
			    sizeof(g->shutdown_reason),
			    json_object_get_string(reason));
		}
	}
	json_object_put(o);
}

/* Reads what QMP has sent and handles each complete message. */
static void
qmp_input(struct backend *b, struct guest *g, int *running)
{
	char *nl;
	ssize_t n;
	size_t len;

	while (g->qmp_fd >= 0) {
		if (g->qmp_len == sizeof(g->qmp_buf) - 1)
			g->qmp_len = 0;		/* too long: dropped */
		n = recv(g->qmp_fd, g->qmp_buf + g->qmp_len,
		    sizeof(g->qmp_buf) - 1 - g->qmp_len, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* QEMU is ending; the shim's pidfd tells the rest. */
			(void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, g->qmp_fd,
			    NULL);
			close_fd(&g->qmp_fd);
			g->greeted = 0;
			return;
		}
		g->qmp_len += (size_t)n;
		g->qmp_buf[g->qmp_len] = '\0';
		while ((nl = strchr(g->qmp_buf, '\n')) != NULL) {
			*nl = '\0';
			qmp_message(g, g->qmp_buf, running);
			len = g->qmp_len - (size_t)(nl + 1 - g->qmp_buf);
			memmove(g->qmp_buf, nl + 1, len + 1);
			g->qmp_len = len;
		}
	}
}

/* ---- guests ---- */

static struct guest *
find_id(struct backend *b, uint64_t id)
{
	struct guest *g;

	for (g = b->guests; g != NULL; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

static struct guest *
find_handle(struct backend *b, const char *handle)
{
	struct guest *g;

	for (g = b->guests; g != NULL; g = g->next)
		if (strcmp(g->handle, handle) == 0)
			return g;
	return NULL;
}

static void
wake(struct backend *b)
{
	uint64_t one = 1;

	(void)write(b->wakefd, &one, sizeof(one));
}

static void
guest_free(struct guest *g)
{
	close_fd(&g->shim_fd);
	close_fd(&g->qemu_fd);
	close_fd(&g->qmp_fd);
	free(g);
}

/* Puts (g) under watch; called with the lock held. */
static int
guest_watch(struct backend *b, struct guest *g, struct err *e)
{
	struct epoll_event ev;

	g->id = ++b->next_id;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = tag(g->id, TAG_SHIM);
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, g->shim_fd, &ev) == -1)
		return err_errno(e, "backend_start_failed", errno, "epoll");
	if (g->qmp_fd >= 0) {
		ev.data.u64 = tag(g->id, TAG_QMP);
		if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, g->qmp_fd, &ev) == -1)
			close_fd(&g->qmp_fd);	/* the pidfd suffices */
	}
	g->next = b->guests;
	b->guests = g;
	return 0;
}

/* Reads this run's console (from g->console_off) for its trailer. */
static void
read_trailer(const struct guest *g, struct trailer *t)
{
	char buf[4096];
	struct stat st;
	off_t off;
	ssize_t n;
	int fd;

	trailer_parse("", 0, t);
	fd = open(g->console, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == 0) {
		off = g->console_off <= st.st_size ? g->console_off : 0;
		if (st.st_size - off > (off_t)sizeof(buf))
			off = st.st_size - (off_t)sizeof(buf);
		n = pread(fd, buf, sizeof(buf), off);
		if (n > 0)
			trailer_parse(buf, (size_t)n, t);
	}
	close(fd);
}

/* The last line of qemu.log that is not a warning, or "". */
static void
read_qemu_error(const struct guest *g, char *out, size_t size)
{
	char path[PATH_MAX], buf[4096], *line, *save = NULL;

	out[0] = '\0';
	if (join(path, g->run_dir, "qemu.log") == -1 ||
	    read_small(path, buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save))
		if (strstr(line, "warning:") == NULL && line[0] != '\0')
			snprintf(out, size, "%.*s", LOG_QUOTE, line);
}

/* What the shim wrote: 'e' with the exit status, 's' with the signal, or
 * 0 when there is no status. */
static int
read_status(const char *run_dir, int *value)
{
	char path[PATH_MAX], buf[64];

	*value = -1;
	if (join(path, run_dir, SHIM_STATUS_FILE) == -1 ||
	    read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	if (sscanf(buf, "exited %d", value) == 1)
		return 'e';
	if (sscanf(buf, "signal %d", value) == 1)
		return 's';
	return 0;
}

/* How (g) ended, from the shim's status, the console trailer, QMP and
 * qemu.log (docs/daemon.md has the table). */
static void
classify(const struct guest *g, struct backend_event *ev, char *reason,
    size_t size)
{
	struct trailer t;
	char qerr[LOG_QUOTE + 1];
	int kind, s, code;

	kind = read_status(g->run_dir, &s);
	read_trailer(g, &t);
	ev->exit_code = -1;
	if (g->stopping) {
		ev->kind = BACKEND_EVENT_STOPPED;
		snprintf(reason, size, "%s by the daemon",
		    g->killed ? "killed" : "stopped");
		return;
	}
	ev->kind = BACKEND_EVENT_FAILED;
	if (kind == 0) {
		snprintf(reason, size, "the qemu shim ended without a status "
		    "(killed?), and QEMU with it");
		return;
	}
	if (kind == 's') {
		snprintf(reason, size, "QEMU was killed by signal %d", s);
		return;
	}
	if (s == 255 || g->panicked || t.kind == TRAILER_CRASH) {
		ev->kind = BACKEND_EVENT_CRASHED;
		if (t.kind == TRAILER_CRASH)
			snprintf(reason, size, "crashed: %s", t.reason);
		else if (g->panicked)
			snprintf(reason, size, "crashed: the guest panicked");
		else
			snprintf(reason, size, "crashed (QEMU status 255)");
		return;
	}
	if (s % 2 == 1) {
		/* debug-exit: 2 * min(code, 126) + 1; the trailer has codes
		 * above 126 exactly. */
		code = (s - 1) / 2;
		if (t.kind == TRAILER_EXIT && code == 126 && t.code >= 126)
			code = t.code;
		read_qemu_error(g, qerr, sizeof(qerr));
		if (s == 1 && t.kind == TRAILER_NONE && qerr[0] != '\0') {
			snprintf(reason, size, "QEMU failed (status 1): %s",
			    qerr);
			return;
		}
		ev->kind = BACKEND_EVENT_EXITED;
		ev->exit_code = code;
		snprintf(reason, size, "exited with code %d", code);
		return;
	}
	if (s == 0 && t.kind == TRAILER_EXIT) {
		ev->kind = BACKEND_EVENT_EXITED;	/* ACPI poweroff */
		ev->exit_code = t.code;
		snprintf(reason, size, "exited with code %d (powered off)",
		    t.code);
		return;
	}
	if (s == 0 && strcmp(g->shutdown_reason, "guest-reset") == 0) {
		ev->kind = BACKEND_EVENT_CRASHED;
		snprintf(reason, size, "crashed: the guest reset itself");
		return;
	}
	if (s == 0 && strcmp(g->shutdown_reason, "guest-shutdown") == 0) {
		ev->kind = BACKEND_EVENT_EXITED;
		ev->exit_code = 0;
		snprintf(reason, size, "powered off without a trailer");
		return;
	}
	read_qemu_error(g, qerr, sizeof(qerr));
	snprintf(reason, size, "QEMU ended with status %d%s%s%s%s", s,
	    g->shutdown_reason[0] ? " (" : "", g->shutdown_reason,
	    g->shutdown_reason[0] ? ")" : "", qerr[0] ? ": " : "");
	if (qerr[0] != '\0')
		snprintf(reason + strlen(reason), size - strlen(reason), "%s",
		    qerr);
}

static void
emit(struct backend *b, enum backend_event_kind kind, const char *handle,
    int code, const char *reason)
{
	struct backend_event ev;

	ev.kind = kind;
	ev.handle = handle;
	ev.exit_code = code;
	ev.reason = reason;
	b->listener.fn(b->listener.arg, &ev);
}

/* The shim ended, so QEMU did: report it, once, and forget the guest. */
static void
guest_ended(struct backend *b, uint64_t id)
{
	struct backend_event ev;
	struct guest *g, **pp;
	char reason[512];
	int running = 0;

	pthread_mutex_lock(&b->lock);
	for (pp = &b->guests; *pp != NULL && (*pp)->id != id;
	    pp = &(*pp)->next)
		continue;
	g = *pp;
	if (g == NULL) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	/* QMP's last words first: the greeting, GUEST_PANICKED, SHUTDOWN. */
	qmp_input(b, g, &running);
	*pp = g->next;
	(void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, g->shim_fd, NULL);
	if (g->qmp_fd >= 0)
		(void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, g->qmp_fd, NULL);
	pthread_mutex_unlock(&b->lock);

	if (running)
		emit(b, BACKEND_EVENT_RUNNING, g->handle, -1, "running");
	classify(g, &ev, reason, sizeof(reason));
	emit(b, ev.kind, g->handle, ev.exit_code, reason);
	guest_free(g);
}

static void
guest_qmp(struct backend *b, uint64_t id)
{
	char handle[BACKEND_HANDLE_MAX];
	struct guest *g;
	int running = 0;

	pthread_mutex_lock(&b->lock);
	g = find_id(b, id);
	if (g != NULL) {
		qmp_input(b, g, &running);
		memcpy(handle, g->handle, sizeof(handle));
	}
	pthread_mutex_unlock(&b->lock);
	if (running)
		emit(b, BACKEND_EVENT_RUNNING, handle, -1, "running");
}

/* Deadlines of stop() and of panicked guests; returns the epoll timeout
 * until the next one (-1: none).  Called with the lock held. */
static int
run_timers(struct backend *b)
{
	struct guest *g;
	int64_t now = now_ms(), next = -1;

	for (g = b->guests; g != NULL; g = g->next) {
		if (g->term_at != 0 && now >= g->term_at) {
			g->term_at = 0;
			if (g->greeted)
				qmp_send(g, "quit");
			else if (g->qemu_fd >= 0)
				(void)pidfd_signal(g->qemu_fd, SIGTERM);
			g->kill_at = now + QUIT_KILL_MS;
		}
		if (g->kill_at != 0 && now >= g->kill_at) {
			g->kill_at = 0;
			if (g->qemu_fd >= 0)
				(void)pidfd_signal(g->qemu_fd, SIGKILL);
		}
		if (g->term_at != 0 && (next == -1 || g->term_at < next))
			next = g->term_at;
		if (g->kill_at != 0 && (next == -1 || g->kill_at < next))
			next = g->kill_at;
	}
	if (next == -1)
		return -1;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static void *
watcher(void *arg)
{
	struct backend *b = arg;
	struct epoll_event evs[32];
	uint64_t junk;
	int i, n, timeout;

	for (;;) {
		pthread_mutex_lock(&b->lock);
		if (b->closing) {
			pthread_mutex_unlock(&b->lock);
			return NULL;
		}
		timeout = run_timers(b);
		pthread_mutex_unlock(&b->lock);

		n = epoll_wait(b->epfd, evs, 32, timeout);
		for (i = 0; i < n; i++) {
			switch ((enum tag)(evs[i].data.u64 & 3)) {
			case TAG_WAKE:
				(void)read(b->wakefd, &junk, sizeof(junk));
				break;
			case TAG_SHIM:
				guest_ended(b, evs[i].data.u64 >> 2);
				break;
			case TAG_QMP:
				guest_qmp(b, evs[i].data.u64 >> 2);
				break;
			}
		}
	}
}

/* ---- open ---- */

/* (name) found on $PATH (or as it is when it has a slash) into (out). */
static int
find_binary(const char *name, char *out)
{
	const char *path, *p, *end;
	int n;

	if (strchr(name, '/') != NULL)
		return copy_str(out, PATH_MAX, name) == 0 &&
		    access(out, X_OK) == 0 ? 0 : -1;
	path = getenv("PATH");
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		n = snprintf(out, PATH_MAX, "%.*s/%s", (int)(end - p), p, name);
		if (n > 0 && n < PATH_MAX && access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* Runs `binary -version` and reads "QEMU emulator version X.Y.Z". */
static int
probe_version(struct backend *b, struct err *e)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { b->binary, (char *)"-version", NULL };
	char buf[256], *v, *nl;
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int pfd[2], st, rc;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		return err_errno(e, "backend_unavailable", errno, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, b->binary, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		return err_errno(e, "backend_unavailable", rc, "%s", b->binary);
	}
	while (got < sizeof(buf) - 1) {
		n = read(pfd[0], buf + got, sizeof(buf) - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		continue;
	v = strstr(buf, "version ");
	if (v == NULL || sscanf(v, "version %d.%d", &b->major, &b->minor) != 2)
		return err_set(e, "backend_unavailable",
		    "%s -version: not a QEMU (\"%.60s\")", b->binary, buf);
	v += 8;
	nl = strpbrk(v, " \n");
	snprintf(b->version, sizeof(b->version), "%.*s",
	    (int)(nl != NULL ? nl - v : (ptrdiff_t)strlen(v)), v);
	return 0;
}

/* The shim: given, else next to the running program, else installed. */
static int
find_shim(struct backend *b, struct err *e)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (b->shim[0] != '\0') {
		if (access(b->shim, X_OK) == 0)
			return 0;
		return err_errno(e, "backend_unavailable", errno, "%s",
		    b->shim);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (join(b->shim, self, "qemu-shim") == 0 &&
			    access(b->shim, X_OK) == 0)
				return 0;
		}
	}
	(void)copy_str(b->shim, sizeof(b->shim), QEMU_SHIM_PATH);
	if (access(b->shim, X_OK) == 0)
		return 0;
	return err_errno(e, "backend_unavailable", errno, "%s", b->shim);
}

/* "key=value,key=value": binary, accel, cpu, machine, bios, shim,
 * run_root (docs/daemon.md). */
static int
parse_uri(struct backend *b, const char *uri, struct err *e)
{
	static const struct {
		const char *key;
		size_t off, size;
	} keys[] = {
#define KEY(k, f) { k, offsetof(struct backend, f), \
	sizeof(((struct backend *)0)->f) }
		KEY("binary", binary), KEY("accel", accel), KEY("cpu", cpu),
		KEY("machine", machine), KEY("bios", bios), KEY("shim", shim),
		KEY("run_root", run_root),
#undef KEY
	};
	char *copy, *item, *save = NULL, *eq;
	size_t i;
	int rc = 0;

	if (uri == NULL || uri[0] == '\0')
		return 0;
	copy = strdup(uri);
	if (copy == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	    item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (eq == NULL) {
			rc = err_set(e, ERR_INVALID, "qemu backend: \"%s\" is "
			    "not key=value", item);
			break;
		}
		*eq = '\0';
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(item, keys[i].key) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			rc = err_set(e, ERR_INVALID, "qemu backend: unknown "
			    "key \"%s\" (binary, accel, cpu, machine, bios, "
			    "shim, run_root)", item);
		else if (copy_str((char *)b + keys[i].off, keys[i].size,
		    eq + 1) == -1)
			rc = err_set(e, ERR_INVALID, "qemu backend: %s: value "
			    "too long", item);
	}
	free(copy);
	if (rc == 0 && strcmp(b->accel, "kvm") != 0 &&
	    strcmp(b->accel, "tcg") != 0 && strcmp(b->accel, "auto") != 0)
		rc = err_set(e, ERR_INVALID, "qemu backend: accel=%s: not "
		    "kvm, tcg or auto", b->accel);
	return rc;
}

static int
qemu_probe(struct backend *b, const char *uri, struct err *e)
{
	char name[PATH_MAX];
	int fd;

	(void)copy_str(b->binary, sizeof(b->binary), "qemu-system-x86_64");
	(void)copy_str(b->accel, sizeof(b->accel), "auto");
	(void)copy_str(b->machine, sizeof(b->machine), "microvm");
	if (parse_uri(b, uri, e) == -1)
		return -1;
	(void)copy_str(name, sizeof(name), b->binary);
	if (find_binary(name, b->binary) == -1)
		return err_set(e, "backend_unavailable", "%s: not found or "
		    "not executable", name);
	if (probe_version(b, e) == -1 || find_shim(b, e) == -1)
		return -1;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	if (strcmp(b->accel, "auto") == 0)
		(void)copy_str(b->accel, sizeof(b->accel), fd >= 0 ? "kvm" :
		    "tcg");
	else if (strcmp(b->accel, "kvm") == 0 && fd < 0)
		return err_errno(e, "backend_unavailable", errno, "/dev/kvm");
	return 0;
}

static int
qemu_open(const char *uri, const struct backend_listener *listener,
    struct backend **out, struct err *e)
{
	struct epoll_event ev;
	struct backend *b;
	int rc;

	*out = NULL;
	if (listener == NULL || listener->fn == NULL)
		return err_set(e, ERR_INVALID, "qemu backend: no listener");
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	b->listener = *listener;
	b->epfd = b->wakefd = -1;
	if (qemu_probe(b, uri, e) == -1) {
		free(b);
		return -1;
	}
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	b->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = tag(0, TAG_WAKE);
	if (b->epfd == -1 || b->wakefd == -1 ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->wakefd, &ev) == -1) {
		err_errno(e, "backend_unavailable", errno, "epoll");
		goto fail;
	}
	pthread_mutex_init(&b->lock, NULL);
	rc = pthread_create(&b->thread, NULL, watcher, b);
	if (rc != 0) {
		pthread_mutex_destroy(&b->lock);
		err_errno(e, "backend_unavailable", rc, "pthread_create");
		goto fail;
	}
	*out = b;
	return 0;
fail:
	close_fd(&b->epfd);
	close_fd(&b->wakefd);
	free(b);
	return -1;
}

static void
qemu_close(struct backend *b)
{
	struct guest *g;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->closing = 1;
	pthread_mutex_unlock(&b->lock);
	wake(b);
	pthread_join(b->thread, NULL);
	while ((g = b->guests) != NULL) {
		b->guests = g->next;
		guest_free(g);	/* the guest runs on, under its shim */
	}
	close_fd(&b->epfd);
	close_fd(&b->wakefd);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* ---- start ---- */

/* 1 when a QEMU holds the lock on (run_dir)/qemu.pid, which it keeps
 * while it runs: a second start there would take over its files. */
static int
run_dir_busy(const char *run_dir)
{
	char path[PATH_MAX];
	int fd, busy;

	if (join(path, run_dir, "qemu.pid") == -1)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return 0;
	busy = lockf(fd, F_TEST, 0) == -1 &&
	    (errno == EACCES || errno == EAGAIN);
	close(fd);
	return busy;
}

/* Files of a new run in (run_dir); the console's size goes to (*off). */
static int
prepare_run_dir(const struct backend_spec *spec, char *const *argv,
    off_t *off, int *logfd, struct err *e)
{
	char path[PATH_MAX], info[PATH_MAX * 2 + 64];
	struct stat st;
	int n;

	if (mkdir(spec->run_dir, 0700) == -1 && errno != EEXIST)
		return err_errno(e, "backend_start_failed", errno, "%s",
		    spec->run_dir);
	if (run_dir_busy(spec->run_dir))
		return err_set(e, "backend_start_failed", "%s: a QEMU still "
		    "runs there", spec->run_dir);
	*off = stat(spec->console_log, &st) == 0 ? st.st_size : 0;
	if (join(path, spec->run_dir, SHIM_STATUS_FILE) == -1)
		return err_set(e, ERR_INVALID, "%s: path too long",
		    spec->run_dir);
	(void)unlink(path);
	n = snprintf(info, sizeof(info), "name=%s\nconsole=%s\n"
	    "console_offset=%lld\n", spec->name, spec->console_log,
	    (long long)*off);
	if (n < 0 || (size_t)n >= sizeof(info) ||
	    join(path, spec->run_dir, "guest.info") == -1 ||
	    write_small(path, info, (size_t)n) == -1)
		return err_errno(e, "backend_start_failed", errno,
		    "%s/guest.info", spec->run_dir);
	if (join(path, spec->run_dir, "qemu.cmdline") == -1 ||
	    write_cmdline(path, argv) == -1)
		return err_errno(e, "backend_start_failed", errno,
		    "%s/qemu.cmdline", spec->run_dir);
	if (join(path, spec->run_dir, "qemu.log") == -1)
		return -1;
	*logfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOCTTY | O_APPEND, 0644);
	if (*logfd == -1)
		return err_errno(e, "backend_start_failed", errno, "%s", path);
	return 0;
}

/* What the guest's network needs before QEMU runs: each forward's host
 * port free (QEMU would only fail after start() returned), the tap made
 * and on the bridge (*netfd). */
static int
net_prepare(const struct backend_spec *spec, int *netfd, struct err *e)
{
	const struct backend_net *net = &spec->net;
	size_t i;

	*netfd = -1;
	switch (net->mode) {
	case NETSPEC_NONE:
		return 0;
	case NETSPEC_USER:
		for (i = 0; i < net->nforwards; i++)
			if (hostnet_port_check(&net->forwards[i], e) == -1)
				return -1;
		return 0;
	case NETSPEC_BRIDGE:
		if (net->bridge == NULL || net->tap == NULL)
			return err_set(e, ERR_INVALID, "qemu backend: bridge "
			    "mode without a bridge or a tap name");
		return hostnet_tap_open(net->tap, net->bridge, netfd, e);
	}
	return err_set(e, ERR_INVALID, "qemu backend: unknown network mode");
}

static int
check_spec(const struct backend_spec *spec, struct err *e)
{
	if (spec->name == NULL || spec->kernel == NULL ||
	    spec->console_log == NULL || spec->run_dir == NULL ||
	    spec->run_dir[0] != '/')
		return err_set(e, ERR_INVALID, "qemu backend: incomplete spec");
	if (access(spec->kernel, R_OK) == -1)
		return err_errno(e, "backend_start_failed", errno, "kernel %s",
		    spec->kernel);
	if (spec->initrd != NULL && access(spec->initrd, R_OK) == -1)
		return err_errno(e, "backend_start_failed", errno, "initrd %s",
		    spec->initrd);
	return 0;
}

/* Reads the shim's messages until it hangs up (QEMU was exec'd) or
 * SPAWN_MS pass: the pids, answered once both pidfds are open, and any
 * failure. */
static int
handshake(struct backend *b, struct guest *g, int fd, struct err *e)
{
	struct shim_msg m;
	struct pollfd pfd;
	int64_t deadline = now_ms() + SPAWN_MS;
	int rc, exec_errno = 0, shim_errno = 0, pidfd_errno = 0, got = 0;
	ssize_t r;

	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		rc = poll(&pfd, 1, (int)(deadline - now_ms()));
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc <= 0)
			break;
		r = recv(fd, &m, sizeof(m), 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (r != sizeof(m))
			continue;
		if (m.kind == SHIM_MSG_PIDS && !got) {
			got = 1;
			g->shim_pid = m.a;
			g->qemu_pid = m.b;
			g->shim_fd = pidfd_open_pid(g->shim_pid);
			if (g->shim_fd < 0)
				pidfd_errno = errno;
			g->qemu_fd = pidfd_open_pid(g->qemu_pid);
			if (g->qemu_fd < 0)
				pidfd_errno = errno;
			(void)send(fd, &m, sizeof(m), MSG_NOSIGNAL);
		} else if (m.kind == SHIM_MSG_EXEC) {
			exec_errno = m.a;
		} else if (m.kind == SHIM_MSG_ERROR) {
			shim_errno = m.a;
		}
	}
	if (exec_errno != 0)
		return err_errno(e, "backend_start_failed", exec_errno,
		    "cannot run %s", b->binary);
	if (shim_errno != 0)
		return err_errno(e, "backend_start_failed", shim_errno,
		    "%s", b->shim);
	if (!got)
		return err_set(e, "backend_start_failed", "%s did not report",
		    b->shim);
	if (pidfd_errno != 0) {
		if (g->qemu_fd >= 0)
			(void)pidfd_signal(g->qemu_fd, SIGKILL);
		return err_errno(e, "backend_start_failed", pidfd_errno,
		    "pidfd_open");
	}
	return 0;
}

/* Spawns the shim with QEMU's (qargv) in a new session; on success the
 * pids and pidfds are in (g). */
static int
spawn(struct backend *b, struct guest *g, char **qargv, int logfd,
    int qmpfd, int netfd, struct err *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char **argv;
	size_t n;
	int sv[2], nullfd, rc, st;
	pid_t pid;

	for (n = 0; qargv[n] != NULL; n++)
		continue;
	argv = calloc(n + 3, sizeof(*argv));
	if (argv == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	argv[0] = b->shim;
	argv[1] = g->run_dir;
	memcpy(argv + 2, qargv, (n + 1) * sizeof(*argv));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		free(argv);
		return err_errno(e, "backend_start_failed", errno,
		    "socketpair");
	}
	nullfd = fd_high(open("/dev/null", O_RDONLY | O_CLOEXEC));
	sv[1] = fd_high(sv[1]);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, nullfd, 0);
	posix_spawn_file_actions_adddup2(&fa, logfd, 1);
	posix_spawn_file_actions_adddup2(&fa, logfd, 2);
	posix_spawn_file_actions_adddup2(&fa, sv[1], SHIM_FD_CTL);
	posix_spawn_file_actions_adddup2(&fa, qmpfd, SHIM_FD_QMP);
	if (netfd >= 0)
		posix_spawn_file_actions_adddup2(&fa, netfd, SHIM_FD_NET);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
	rc = nullfd < 0 || sv[1] < 0 ? EMFILE :
	    posix_spawn(&pid, b->shim, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(argv);
	close_fd(&nullfd);
	close_fd(&sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return err_errno(e, "backend_start_failed", rc, "%s", b->shim);
	}
	/* The first process forks the shim proper and exits (ECHILD when
	 * the daemon ignores SIGCHLD: also fine). */
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		continue;
	rc = handshake(b, g, sv[0], e);
	close(sv[0]);
	return rc;
}

static int
qemu_start(struct backend *b, const struct backend_spec *spec,
    char handle[BACKEND_HANDLE_MAX], struct err *e)
{
	struct argv a = { 0 };
	struct guest *g;
	int logfd = -1, qmpfd = -1, netfd = -1, n, rc = -1;

	handle[0] = '\0';
	if (check_spec(spec, e) == -1)
		return -1;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	g->shim_fd = g->qemu_fd = g->qmp_fd = -1;
	if (copy_str(g->run_dir, sizeof(g->run_dir), spec->run_dir) == -1 ||
	    copy_str(g->console, sizeof(g->console), spec->console_log) == -1 ||
	    strlen(spec->run_dir) + 24 >= BACKEND_HANDLE_MAX) {
		err_set(e, ERR_INVALID, "%s: path too long", spec->run_dir);
		goto out;
	}
	if (build_argv(b, spec, &a) == -1) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (net_prepare(spec, &netfd, e) == -1 ||
	    prepare_run_dir(spec, a.v, &g->console_off, &logfd, e) == -1)
		goto out;
	if (qmp_socket(spec->run_dir, 1, &qmpfd, e) == -1) {
		err_prefix(e, "QMP");
		e->code = "backend_start_failed";
		goto out;
	}
	logfd = fd_high(logfd);
	qmpfd = fd_high(qmpfd);
	if (netfd >= 0 && (netfd = fd_high(netfd)) < 0) {
		err_errno(e, "backend_start_failed", errno, "fcntl");
		goto out;
	}
	if (logfd < 0 || qmpfd < 0) {
		err_errno(e, "backend_start_failed", errno, "fcntl");
		goto out;
	}
	if (spawn(b, g, a.v, logfd, qmpfd, netfd, e) == -1)
		goto out;
	/* Connected before our copy of the listener closes: QEMU accepts
	 * it from the backlog once its main loop runs. */
	if (qmp_socket(spec->run_dir, 0, &g->qmp_fd, NULL) == -1)
		g->qmp_fd = -1;
	n = snprintf(g->handle, sizeof(g->handle), "%d:%d:%s",
	    (int)g->qemu_pid, (int)g->shim_pid, g->run_dir);
	if (n < 0 || (size_t)n >= sizeof(g->handle)) {
		(void)pidfd_signal(g->qemu_fd, SIGKILL);
		err_set(e, ERR_INVALID, "%s: path too long", spec->run_dir);
		goto out;
	}
	pthread_mutex_lock(&b->lock);
	rc = guest_watch(b, g, e);
	pthread_mutex_unlock(&b->lock);
	if (rc == -1) {
		(void)pidfd_signal(g->qemu_fd, SIGKILL);
		goto out;
	}
	memcpy(handle, g->handle, BACKEND_HANDLE_MAX);
	g = NULL;
out:
	close_fd(&logfd);
	close_fd(&qmpfd);
	close_fd(&netfd);	/* QEMU holds the tap now, or nobody: gone */
	argv_free(&a);
	if (g != NULL)
		guest_free(g);
	return rc;
}

/* ---- stop, kill ---- */

static int
qemu_stop(struct backend *b, const char *handle, unsigned grace_ms,
    struct err *e)
{
	struct guest *g;
	int64_t at = now_ms() + grace_ms;

	pthread_mutex_lock(&b->lock);
	g = find_handle(b, handle);
	if (g == NULL) {
		pthread_mutex_unlock(&b->lock);
		return err_set(e, "backend_no_such_guest", "%s: no such guest",
		    handle);
	}
	/* The runtime has no ACPI power button yet; a later one may. */
	if (!g->stopping && g->greeted)
		qmp_send(g, "system_powerdown");
	g->stopping = 1;
	if (g->kill_at == 0 && (g->term_at == 0 || at < g->term_at))
		g->term_at = at;
	pthread_mutex_unlock(&b->lock);
	wake(b);
	return 0;
}

static int
qemu_kill(struct backend *b, const char *handle, struct err *e)
{
	struct guest *g;
	int rc = 0;

	pthread_mutex_lock(&b->lock);
	g = find_handle(b, handle);
	if (g == NULL) {
		rc = err_set(e, "backend_no_such_guest", "%s: no such guest",
		    handle);
	} else {
		g->stopping = g->killed = 1;
		if (g->qemu_fd >= 0 && pidfd_signal(g->qemu_fd, SIGKILL) ==
		    -1 && errno != ESRCH)
			rc = err_errno(e, ERR_IO, errno, "kill %d",
			    (int)g->qemu_pid);
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

/* ---- adopt, list ---- */

static int
parse_handle(const char *handle, pid_t *qemu, pid_t *shim, char *run_dir)
{
	char *end;
	long q, s;

	errno = 0;
	q = strtol(handle, &end, 10);
	if (*end != ':' || q <= 0 || q > INT_MAX || errno != 0)
		return -1;
	s = strtol(end + 1, &end, 10);
	if (*end != ':' || s <= 0 || s > INT_MAX || errno != 0 ||
	    end[1] != '/')
		return -1;
	*qemu = (pid_t)q;
	*shim = (pid_t)s;
	return copy_str(run_dir, PATH_MAX, end + 1);
}

/* 1 when (pid) runs (shim_path) on (run_dir): its argv[1] and cwd. */
static int
is_shim_of(pid_t pid, const char *shim_path, const char *run_dir)
{
	char path[64], buf[PATH_MAX * 2 + 2], cwd[PATH_MAX], real[PATH_MAX];
	ssize_t n;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	len = strlen(buf);
	if ((shim_path != NULL && strcmp(buf, shim_path) != 0) ||
	    len + 1 >= (size_t)n || strcmp(buf + len + 1, run_dir) != 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	n = readlink(path, cwd, sizeof(cwd) - 1);
	if (n <= 0 || realpath(run_dir, real) == NULL)
		return 0;
	cwd[n] = '\0';
	return strcmp(cwd, real) == 0;
}

/* The parent of (pid), from /proc/PID/stat, or -1. */
static pid_t
parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0 ||
	    (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* guest.info: the console and where this run's output begins. */
static int
read_info(struct guest *g, char *name, size_t namesz)
{
	char path[PATH_MAX], buf[PATH_MAX * 2 + 128], *line, *save = NULL;
	long long off = 0;

	if (join(path, g->run_dir, "guest.info") == -1 ||
	    read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "console=", 8) == 0)
			(void)copy_str(g->console, sizeof(g->console),
			    line + 8);
		else if (strncmp(line, "console_offset=", 15) == 0)
			off = strtoll(line + 15, NULL, 10);
		else if (name != NULL && strncmp(line, "name=", 5) == 0)
			snprintf(name, namesz, "%s", line + 5);
	}
	g->console_off = (off_t)off;
	return g->console[0] != '\0' ? 0 : -1;
}

/* Why an adopted guest is gone, for the error message. */
static int
gone(struct guest *g, struct err *e)
{
	struct backend_event ev;
	char reason[512];

	if (read_status(g->run_dir, &ev.exit_code) == 0)
		return err_set(e, "backend_no_such_guest", "%s: not running",
		    g->handle);
	(void)read_info(g, NULL, 0);
	classify(g, &ev, reason, sizeof(reason));
	return err_set(e, "backend_no_such_guest", "%s: not running; it "
	    "ended while unwatched: %s", g->handle, reason);
}

static int
qemu_adopt(struct backend *b, const char *handle, struct err *e)
{
	struct guest *g;
	int rc;

	pthread_mutex_lock(&b->lock);
	g = find_handle(b, handle);
	pthread_mutex_unlock(&b->lock);
	if (g != NULL)
		return 0;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	g->shim_fd = g->qemu_fd = g->qmp_fd = -1;
	g->adopted = 1;
	if (copy_str(g->handle, sizeof(g->handle), handle) == -1 ||
	    parse_handle(handle, &g->qemu_pid, &g->shim_pid, g->run_dir) ==
	    -1) {
		free(g);
		return err_set(e, "backend_no_such_guest", "%s: not a qemu "
		    "handle", handle);
	}
	/* pidfds first, then the checks, then still alive: what /proc said
	 * was said of the processes the pidfds hold. */
	g->shim_fd = pidfd_open_pid(g->shim_pid);
	g->qemu_fd = pidfd_open_pid(g->qemu_pid);
	if (g->qemu_fd >= 0 && parent_of(g->qemu_pid) != g->shim_pid)
		close_fd(&g->qemu_fd);
	if (g->shim_fd < 0 || !is_shim_of(g->shim_pid, NULL, g->run_dir) ||
	    pidfd_signal(g->shim_fd, 0) == -1 || read_info(g, NULL, 0) == -1) {
		rc = gone(g, e);
		guest_free(g);
		return rc;
	}
	if (g->qemu_fd >= 0 &&
	    qmp_socket(g->run_dir, 0, &g->qmp_fd, NULL) == -1)
		g->qmp_fd = -1;
	pthread_mutex_lock(&b->lock);
	if (find_handle(b, handle) != NULL) {
		pthread_mutex_unlock(&b->lock);
		guest_free(g);
		return 0;
	}
	rc = guest_watch(b, g, e);
	pthread_mutex_unlock(&b->lock);
	if (rc == -1)
		guest_free(g);
	return rc;
}

/* Guests of this backend's shim program, found in /proc; with run_root=,
 * only those whose run_dir is under it. */
static int
qemu_list(struct backend *b,
    void (*fn)(void *arg, const char *handle, const char *name), void *arg,
    struct err *e)
{
	char path[PATH_MAX], buf[PATH_MAX * 2 + 2], name[256];
	char handle[BACKEND_HANDLE_MAX];
	struct guest g;
	struct dirent *d;
	size_t root = strlen(b->run_root);
	pid_t shim, qemu;
	ssize_t len;
	DIR *dir;
	int n;

	dir = opendir("/proc");
	if (dir == NULL)
		return err_errno(e, ERR_IO, errno, "/proc");
	while ((d = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		shim = (pid_t)atoi(d->d_name);
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)shim);
		len = read_small(path, buf, sizeof(buf));
		if (len <= 0 || strcmp(buf, b->shim) != 0 ||
		    strlen(buf) + 1 >= (size_t)len)
			continue;
		memset(&g, 0, sizeof(g));
		if (copy_str(g.run_dir, sizeof(g.run_dir),
		    buf + strlen(buf) + 1) == -1 ||
		    (root > 0 && (strncmp(g.run_dir, b->run_root, root) != 0 ||
		    g.run_dir[root] != '/')) ||
		    !is_shim_of(shim, b->shim, g.run_dir) ||
		    join(path, g.run_dir, "qemu.pid") == -1 ||
		    read_small(path, buf, 32) <= 0)
			continue;
		qemu = (pid_t)atoi(buf);
		if (qemu <= 0 || parent_of(qemu) != shim)
			continue;
		name[0] = '\0';
		(void)read_info(&g, name, sizeof(name));
		n = snprintf(handle, sizeof(handle), "%d:%d:%s", (int)qemu,
		    (int)shim, g.run_dir);
		if (n > 0 && (size_t)n < sizeof(handle))
			fn(arg, handle, name);
	}
	closedir(dir);
	return 0;
}

const struct backend_ops backend_qemu_ops = {
	.name = "qemu",
	.net = BACKEND_NET_USER | BACKEND_NET_FORWARDS | BACKEND_NET_BRIDGE,
	.open = qemu_open,
	.start = qemu_start,
	.stop = qemu_stop,
	.kill = qemu_kill,
	.adopt = qemu_adopt,
	.list = qemu_list,
	.close = qemu_close,
};
