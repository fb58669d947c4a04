/*
 * backend-libxl.c - Xen PVH guests through libxl (docs/daemon.md, "The
 * libxl backend").
 *
 * One libxl context per backend, and one thread of ours that runs
 * libxl's event loop (libxl_osevent_beforepoll/afterpoll around poll(2))
 * together with the guests' consoles and a wake-up pipe.  libxl hands its
 * events to event_occurs() on whatever thread is inside libxl at the
 * time; that only queues them for our thread, which reads the shutdown
 * reason, the console trailer, destroys the domain and tells the daemon.
 *
 * Locks: (b->lock) guards the guest list, every guest's fields and the
 * event queue.  It is never held while calling libxl (libxl may call
 * event_occurs(), which takes it, with its own locks held: rule (a) of
 * libxl_event.h) nor while calling the listener.
 */
#include "config.h"

#include "libxl-config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libxl_utils.h>

#include "backend.h"
#include "trailer.h"

/* A console log is rotated to PATH.1 when it would grow past this. */
#define CONSOLE_MAX (1024 * 1024)
/* After a shutdown, the console is read until its last line is a
 * trailer, or it has been quiet this long, or at most SETTLE_MAX_MS:
 * xenconsoled drains the guest's ring a little after the guest stopped. */
#define SETTLE_QUIET_MS 300
#define SETTLE_MAX_MS 3000
/* How long start() waits for xenconsoled to publish the console's pty. */
#define TTY_WAIT_MS 5000
#define TAIL_MAX 512	/* console bytes kept for the trailer check */

struct guest {
	struct guest *next;
	uint64_t gid;			/* libxl's for_user of our events */
	uint32_t domid;
	char handle[BACKEND_HANDLE_MAX];
	char *console_log;		/* NULL: an adopted guest without one */
	int cons_fd;			/* the console's pty, or -1 */
	int log_fd;			/* console_log, or -1 */
	size_t log_size;
	char tail[TAIL_MAX];		/* the last console bytes */
	size_t tail_len;
	libxl_evgen_domain_death *evgen;
	bool stopping;			/* stop or kill asked for its end */
	bool shutdown;			/* Xen said it shut down */
	int event_reason;		/* the reason libxl's event gave */
	bool dead;			/* the domain is gone */
	bool reported;			/* the daemon has been told */
	bool destroying;		/* libxl_domain_destroy asked for */
	struct timespec settle_end;	/* shutdown: read the console until */
	struct timespec last_data;	/* when the console last gave bytes */
	struct timespec kill_at;	/* stop: destroy then (if set) */
	bool kill_armed;
};

enum xlev_type {
	XLEV_RUNNING,	/* ours: start() unpaused the guest */
	XLEV_SHUTDOWN,	/* libxl's DOMAIN_SHUTDOWN */
	XLEV_DEATH,	/* libxl's DOMAIN_DEATH */
	XLEV_OTHER,
};

struct xlev {				/* what the event thread is told */
	struct xlev *next;
	enum xlev_type type;
	uint64_t gid;
	int reason;
};

/* libxl's logger: keeps the first error since an operation began for our
 * error messages (the first is the cause; libxl's later ones say what
 * gave up because of it) and, with "log=PATH", writes everything from
 * XTL_DETAIL up to PATH. */
struct xllog {
	xentoollog_logger vtable;	/* first: libxl sees only this */
	pthread_mutex_t lock;
	char first[ERR_MSG_MAX / 2];
	FILE *file;
};

/* A PV shutdown request in flight (libxl_domain_shutdown, asynchronous:
 * libxl waits up to a minute for the guest to acknowledge it). */
struct xlop {
	struct xlop *next;
	struct backend *b;
	libxl_asyncop_how how;
	bool aborted;
};

struct backend {
	struct xllog log;
	libxl_ctx *ctx;
	struct backend_listener listener;
	libxl_event_hooks event_hooks;		/* must outlive ctx */
	libxl_childproc_hooks child_hooks;	/* likewise */
	pthread_t thread;
	bool thread_running;
	int wake[2];
	pthread_mutex_t lock;
	struct guest *guests;
	struct xlev *queue, **queue_tail;
	uint64_t next_gid;
	struct xlop *ops;		/* shutdown requests in flight */
	pthread_cond_t ops_done;
	bool quit;
	bool disaster;
	char disaster_msg[160];
};

/* ---- helpers ---- */

static void
now_mono(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static void
ts_add_ms(struct timespec *ts, long ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Milliseconds from (a) to (b), rounded up, at least 0. */
static long
ms_until(const struct timespec *a, const struct timespec *b)
{
	long long ns = (long long)(b->tv_sec - a->tv_sec) * 1000000000LL +
	    (b->tv_nsec - a->tv_nsec);

	if (ns <= 0)
		return 0;
	return (long)((ns + 999999) / 1000000);
}

static bool
ts_reached(const struct timespec *now, const struct timespec *t)
{
	return now->tv_sec > t->tv_sec ||
	    (now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec);
}

static void
wake(struct backend *b)
{
	ssize_t n;

	/* a full pipe already wakes the thread */
	do
		n = write(b->wake[1], "x", 1);
	while (n == -1 && errno == EINTR);
}

static void
drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- libxl's logger ---- */

/* Our names: xtl_level_to_string() would pull in libxentoollog, which
 * pkg-config's xenlight does not link. */
static const char *
level_name(xentoollog_level level)
{
	switch (level) {
	case XTL_DEBUG:
		return "debug";
	case XTL_VERBOSE:
		return "verbose";
	case XTL_DETAIL:
		return "detail";
	case XTL_PROGRESS:
		return "progress";
	case XTL_INFO:
		return "info";
	case XTL_NOTICE:
		return "notice";
	case XTL_WARN:
		return "warning";
	case XTL_ERROR:
		return "error";
	case XTL_CRITICAL:
		return "critical";
	default:
		return "log";
	}
}

__attribute__((format(printf, 5, 0))) static void
xllog_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *format, va_list ap)
{
	struct xllog *l = (struct xllog *)lg;
	char msg[ERR_MSG_MAX / 2];
	size_t n;

	if (level < XTL_ERROR && (l->file == NULL || level < XTL_DETAIL))
		return;
	vsnprintf(msg, sizeof(msg), format, ap);
	if (errnoval >= 0 && (n = strlen(msg)) < sizeof(msg) - 1)
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnoval));
	pthread_mutex_lock(&l->lock);
	if (level >= XTL_ERROR && l->first[0] == '\0')
		snprintf(l->first, sizeof(l->first), "%s", msg);
	if (l->file != NULL) {
		fprintf(l->file, "%s: %s: %s\n", level_name(level),
		    context != NULL ? context : "libxl", msg);
		fflush(l->file);
	}
	pthread_mutex_unlock(&l->lock);
}

static void
xllog_destroy(xentoollog_logger *lg)
{
	(void)lg;	/* ours lives in struct backend */
}

/* libxl's first error message since xllog_clear(), or (dflt). */
static void
xllog_first(struct backend *b, char *buf, size_t size, const char *dflt)
{
	pthread_mutex_lock(&b->log.lock);
	snprintf(buf, size, "%s",
	    b->log.first[0] != '\0' ? b->log.first : dflt);
	b->log.first[0] = '\0';
	pthread_mutex_unlock(&b->log.lock);
}

static void
xllog_clear(struct backend *b)
{
	pthread_mutex_lock(&b->log.lock);
	b->log.first[0] = '\0';
	pthread_mutex_unlock(&b->log.lock);
}

/* err_set() with libxl's rc and its first logged error appended. */
static int
xl_fail(struct backend *b, struct err *e, const char *code, int rc,
    const char *what)
{
	char first[ERR_MSG_MAX / 2];

	xllog_first(b, first, sizeof(first), "no message from libxl");
	return err_set(e, code, "%s failed (%s): %s", what,
	    libxl_error_to_string((libxl_error)rc) != NULL ?
	    libxl_error_to_string((libxl_error)rc) : "error", first);
}

/* ---- libxl's event callbacks (any thread inside libxl) ---- */

static void
event_occurs(void *user, libxl_event *event)
{
	struct backend *b = user;
	struct xlev *x;

	x = calloc(1, sizeof(*x));
	pthread_mutex_lock(&b->lock);
	if (x != NULL) {
		x->gid = event->for_user;
		if (event->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) {
			x->type = XLEV_SHUTDOWN;
			x->reason = event->u.domain_shutdown.shutdown_reason;
		} else if (event->type == LIBXL_EVENT_TYPE_DOMAIN_DEATH)
			x->type = XLEV_DEATH;
		else
			x->type = XLEV_OTHER;	/* nothing else is enabled */
		*b->queue_tail = x;
		b->queue_tail = &x->next;
	} else if (!b->disaster) {
		/* an event lost: treated as libxl losing them */
		b->disaster = true;
		snprintf(b->disaster_msg, sizeof(b->disaster_msg),
		    "out of memory queueing a libxl event");
	}
	pthread_mutex_unlock(&b->lock);
	libxl_event_free(b->ctx, event);
	wake(b);
}

static void
event_disaster(void *user, libxl_event_type type, const char *msg,
    int errnoval)
{
	struct backend *b = user;

	/* no libxl calls allowed here: the thread does the rest */
	pthread_mutex_lock(&b->lock);
	if (!b->disaster) {
		b->disaster = true;
		snprintf(b->disaster_msg, sizeof(b->disaster_msg), "%s%s%s",
		    msg, errnoval > 0 ? ": " : "",
		    errnoval > 0 ? strerror(errnoval) : "");
	}
	pthread_mutex_unlock(&b->lock);
	(void)type;
	wake(b);
}

/* ---- guests ---- */

static struct guest *
find_gid(struct backend *b, uint64_t gid)
{
	struct guest *g;

	for (g = b->guests; g != NULL; g = g->next)
		if (g->gid == gid)
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
unlink_guest(struct backend *b, struct guest *g)
{
	struct guest **pp;

	for (pp = &b->guests; *pp != NULL; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			return;
		}
}

static void
free_guest(struct guest *g)
{
	if (g->cons_fd != -1)
		close(g->cons_fd);
	if (g->log_fd != -1)
		close(g->log_fd);
	free(g->console_log);
	free(g);
}

static struct guest *
new_guest(void)
{
	struct guest *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->cons_fd = -1;
	g->log_fd = -1;
	return g;
}

/* ---- consoles ---- */

/*
 * The console: xenconsoled serves each guest's PV console on a pty whose
 * path it publishes in xenstore; we read it and copy it to the console
 * log.  The domain is created paused, so nothing is missed: the pty is
 * open before the guest's first instruction.
 */
static int
console_open(struct backend *b, struct guest *g, struct err *e)
{
	struct termios tio;
	struct timespec t0, now;
	char *tty = NULL;
	int rc, fd, waited = 0;

	now_mono(&t0);
	for (;;) {
		rc = libxl_console_get_tty(b->ctx, g->domid, 0,
		    LIBXL_CONSOLE_TYPE_PV, &tty);
		if (rc == 0 && tty != NULL && tty[0] != '\0')
			break;
		free(tty);
		tty = NULL;
		now_mono(&now);
		if (ms_until(&t0, &now) >= TTY_WAIT_MS)
			return err_set(e, "backend_start_failed",
			    "xenconsoled published no console for domain "
			    "%" PRIu32 " within %d ms (is xenconsoled "
			    "running?)", g->domid, TTY_WAIT_MS);
		/* xenconsoled reacts to the new domain within
		 * milliseconds; libxl has no event for it */
		usleep(waited < 10 ? 10000 : 50000);
		waited++;
	}
	fd = open(tty, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		err_errno(e, "backend_start_failed", errno,
		    "cannot open the console %s of domain %" PRIu32, tty,
		    g->domid);
		free(tty);
		return -1;
	}
	free(tty);
	/* byte for byte, as xenconsoled itself sets it */
	if (tcgetattr(fd, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(fd, TCSANOW, &tio);
	}
	g->cons_fd = fd;
	return 0;
}

static int
log_open(struct guest *g, bool truncate, struct err *e)
{
	struct stat st;
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY;

	if (g->console_log == NULL)
		return 0;
	g->log_fd = open(g->console_log, flags | (truncate ? O_TRUNC : 0),
	    0640);
	if (g->log_fd == -1)
		return err_errno(e, ERR_IO, errno, "cannot open %s",
		    g->console_log);
	g->log_size = fstat(g->log_fd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

/* Appends (buf, n) to the log, rotating it to PATH.1 first when it would
 * grow past CONSOLE_MAX, so that the trailer is always in PATH. */
static void
log_write(struct guest *g, const char *buf, size_t n)
{
	char old[XLCFG_PATH_MAX + 2];
	ssize_t w;

	if (g->log_fd == -1)
		return;
	if (g->log_size + n > CONSOLE_MAX && g->log_size > 0) {
		snprintf(old, sizeof(old), "%s.1", g->console_log);
		close(g->log_fd);
		g->log_fd = -1;
		if (rename(g->console_log, old) == 0 ||
		    truncate(g->console_log, 0) == 0)
			log_open(g, true, NULL);
		if (g->log_fd == -1)
			return;
	}
	while (n > 0) {
		w = write(g->log_fd, buf, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* a full disk loses console, not guests */
		buf += w;
		n -= (size_t)w;
		g->log_size += (size_t)w;
	}
}

static void
tail_add(struct guest *g, const char *buf, size_t n)
{
	if (n >= TAIL_MAX) {
		memcpy(g->tail, buf + n - TAIL_MAX, TAIL_MAX);
		g->tail_len = TAIL_MAX;
		return;
	}
	if (g->tail_len + n > TAIL_MAX) {
		size_t drop = g->tail_len + n - TAIL_MAX;

		memmove(g->tail, g->tail + drop, g->tail_len - drop);
		g->tail_len -= drop;
	}
	memcpy(g->tail + g->tail_len, buf, n);
	g->tail_len += n;
}

/* Copies what the console has to the log.  Under b->lock. */
static void
console_pump(struct guest *g)
{
	char buf[4096];
	ssize_t n;

	while (g->cons_fd != -1) {
		n = read(g->cons_fd, buf, sizeof(buf));
		if (n > 0) {
			log_write(g, buf, (size_t)n);
			tail_add(g, buf, (size_t)n);
			now_mono(&g->last_data);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		/* EOF or EIO: xenconsoled closed the pty (domain gone) */
		close(g->cons_fd);
		g->cons_fd = -1;
	}
}

/* Whether the console has said all it will: its last line is a
 * trailer, or it has been quiet long enough after a full line.  Under
 * b->lock. */
static bool
console_settled(struct guest *g, const struct timespec *now)
{
	struct trailer t;
	struct timespec quiet = g->last_data;

	if (g->cons_fd == -1 || ts_reached(now, &g->settle_end))
		return true;
	trailer_parse(g->tail, g->tail_len, &t);
	if (t.kind != TRAILER_NONE && g->tail_len > 0 &&
	    g->tail[g->tail_len - 1] == '\n')
		return true;
	ts_add_ms(&quiet, SETTLE_QUIET_MS);
	return ts_reached(now, &quiet) &&
	    (g->tail_len == 0 || g->tail[g->tail_len - 1] == '\n');
}

/* ---- the event thread's work ---- */

static void
report(struct backend *b, const struct backend_event *ev)
{
	if (b->listener.fn != NULL)
		b->listener.fn(b->listener.arg, ev);
}

/*
 * A guest that shut down and whose console has settled: why it ended
 * (Xen's shutdown reason, the trailer for the code), destroy the domain,
 * then tell the daemon, so that it may start the instance again under
 * the same name at once.  Called without the lock.
 */
static void
finish(struct backend *b, uint64_t gid)
{
	struct backend_event ev;
	struct trailer t;
	libxl_dominfo info;
	struct guest *g;
	char reason[384], handle[BACKEND_HANDLE_MAX];
	char *log = NULL;
	uint32_t domid;
	int shut, why, stopping, dead, rc;

	pthread_mutex_lock(&b->lock);
	if ((g = find_gid(b, gid)) == NULL || g->reported) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	console_pump(g);
	if (g->log_fd != -1) {
		close(g->log_fd);
		g->log_fd = -1;
	}
	g->reported = true;
	domid = g->domid;
	shut = g->shutdown;
	why = g->event_reason;
	stopping = g->stopping;
	dead = g->dead;
	snprintf(handle, sizeof(handle), "%s", g->handle);
	if (g->console_log != NULL)
		log = strdup(g->console_log);
	g->destroying = true;
	pthread_mutex_unlock(&b->lock);

	/* Xen's own record of the reason, the event's if it is gone */
	if (!dead) {
		libxl_dominfo_init(&info);
		if (libxl_domain_info(b->ctx, &info, domid) == 0 &&
		    info.shutdown) {
			shut = 1;
			why = info.shutdown_reason;
		}
		libxl_dominfo_dispose(&info);
	}
	t.kind = TRAILER_NONE;
	if (log != NULL && trailer_read(log, &t, NULL) == -1)
		t.kind = TRAILER_NONE;
	free(log);
	xlcfg_outcome(stopping, shut, why, &t, &ev, reason, sizeof(reason));
	if (!dead && (rc = libxl_domain_destroy(b->ctx, domid, NULL)) != 0 &&
	    rc != ERROR_DOMAIN_NOTFOUND && ev.kind != BACKEND_EVENT_FAILED) {
		/* a guest left behind: say so rather than hide it */
		char last[ERR_MSG_MAX / 2];

		xllog_first(b, last, sizeof(last), "no message from libxl");
		snprintf(reason, sizeof(reason),
		    "could not destroy the domain: %s", last);
		ev.kind = BACKEND_EVENT_FAILED;
		ev.exit_code = -1;
		ev.reason = reason;
	}
	ev.handle = handle;
	report(b, &ev);
}

/* The domain is gone: the end is reported if it was not, the guest
 * forgotten.  Called without the lock. */
static void
forget(struct backend *b, uint64_t gid)
{
	struct guest *g;
	bool report_it;

	pthread_mutex_lock(&b->lock);
	if ((g = find_gid(b, gid)) == NULL) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	g->dead = true;
	report_it = !g->reported;
	pthread_mutex_unlock(&b->lock);
	if (report_it)
		finish(b, gid);

	pthread_mutex_lock(&b->lock);
	if ((g = find_gid(b, gid)) == NULL) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	unlink_guest(b, g);
	pthread_mutex_unlock(&b->lock);
	if (g->evgen != NULL)
		libxl_evdisable_domain_death(b->ctx, g->evgen);
	free_guest(g);
}

/* Guest (gid) has shut down for (reason): its console is read until it
 * settles, then finish() ends it. */
static void
mark_shutdown(struct backend *b, uint64_t gid, int reason)
{
	struct timespec now;
	struct guest *g;

	now_mono(&now);
	pthread_mutex_lock(&b->lock);
	if ((g = find_gid(b, gid)) != NULL && !g->shutdown) {
		g->shutdown = true;
		g->event_reason = reason;
		/* quiet time counts from the shutdown at the earliest */
		g->last_data = now;
		g->settle_end = now;
		ts_add_ms(&g->settle_end, SETTLE_MAX_MS);
	}
	pthread_mutex_unlock(&b->lock);
}

/* Queues (x) for the event thread. */
static void
queue_event(struct backend *b, struct xlev *x)
{
	pthread_mutex_lock(&b->lock);
	*b->queue_tail = x;
	b->queue_tail = &x->next;
	pthread_mutex_unlock(&b->lock);
	wake(b);
}

static void
report_running(struct backend *b, uint64_t gid)
{
	struct backend_event ev;
	struct guest *g;
	char handle[BACKEND_HANDLE_MAX];

	pthread_mutex_lock(&b->lock);
	if ((g = find_gid(b, gid)) == NULL || g->reported || g->shutdown) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	snprintf(handle, sizeof(handle), "%s", g->handle);
	pthread_mutex_unlock(&b->lock);
	ev.kind = BACKEND_EVENT_RUNNING;
	ev.handle = handle;
	ev.exit_code = -1;
	ev.reason = "running";
	report(b, &ev);
}

static void
handle_event(struct backend *b, const struct xlev *x)
{
	switch (x->type) {
	case XLEV_RUNNING:
		report_running(b, x->gid);
		break;
	case XLEV_SHUTDOWN:
		mark_shutdown(b, x->gid, x->reason);
		break;
	case XLEV_DEATH:
		forget(b, x->gid);
		break;
	case XLEV_OTHER:
		break;
	}
}

/* libxl lost events (or we lost one): every guest is failed and
 * destroyed rather than left unsupervised. */
static void
handle_disaster(struct backend *b)
{
	struct backend_event ev;
	struct guest *g;
	char reason[256], handle[BACKEND_HANDLE_MAX];
	uint32_t domid;

	for (;;) {
		pthread_mutex_lock(&b->lock);
		for (g = b->guests; g != NULL && g->reported; g = g->next)
			;
		if (g == NULL) {
			pthread_mutex_unlock(&b->lock);
			return;
		}
		g->reported = true;
		g->destroying = true;
		domid = g->domid;
		snprintf(handle, sizeof(handle), "%s", g->handle);
		snprintf(reason, sizeof(reason),
		    "libxl lost its events (%s): guest destroyed",
		    b->disaster_msg);
		pthread_mutex_unlock(&b->lock);
		libxl_domain_destroy(b->ctx, domid, NULL);
		ev.kind = BACKEND_EVENT_FAILED;
		ev.handle = handle;
		ev.exit_code = -1;
		ev.reason = reason;
		report(b, &ev);
	}
}

/* Settled consoles and expired stop graces; returns the poll timeout. */
static int
timers(struct backend *b)
{
	struct timespec now, soon;
	struct guest *g;
	uint64_t gid;
	uint32_t domid;
	long wait, t;

	for (;;) {
		now_mono(&now);
		wait = -1;
		gid = 0;
		domid = 0;
		pthread_mutex_lock(&b->lock);
		for (g = b->guests; g != NULL; g = g->next) {
			if (g->reported)
				continue;
			if (g->shutdown) {
				console_pump(g);
				if (console_settled(g, &now)) {
					gid = g->gid;
					break;
				}
				/* the next check: quiet time or the end */
				soon = g->last_data;
				ts_add_ms(&soon, SETTLE_QUIET_MS);
				t = ms_until(&now, &soon);
				if (t == 0 || ms_until(&now, &g->settle_end) < t)
					t = ms_until(&now, &g->settle_end);
				if (t < 10)
					t = 10;
			} else if (g->kill_armed && !g->destroying) {
				if (ts_reached(&now, &g->kill_at)) {
					g->destroying = true;
					domid = g->domid;
					break;
				}
				t = ms_until(&now, &g->kill_at);
			} else
				continue;
			if (wait == -1 || t < wait)
				wait = t;
		}
		pthread_mutex_unlock(&b->lock);
		if (gid != 0)
			finish(b, gid);
		else if (domid != 0)
			libxl_domain_destroy(b->ctx, domid, NULL);
		else
			return wait > 60000 ? 60000 : (int)wait;
	}
}

/* The descriptors the thread polls: [0] the wake-up pipe, then the
 * consoles (gids[i] names the guest of fds[i]), then libxl's. */
struct pollset {
	struct pollfd *fds;
	uint64_t *gids;
	size_t cap;
};

/* Room for (want) descriptors; -1 if there is no memory for it. */
static int
pollset_fit(struct pollset *ps, size_t want)
{
	struct pollfd *fds;
	uint64_t *gids;

	if (ps->cap >= want)
		return 0;
	if ((fds = realloc(ps->fds, want * sizeof(*fds))) != NULL)
		ps->fds = fds;
	if ((gids = realloc(ps->gids, want * sizeof(*gids))) != NULL)
		ps->gids = gids;
	if (fds == NULL || gids == NULL)
		return -1;
	ps->cap = want;
	return 0;
}

/* The pipe and the consoles into (ps); how many. */
static size_t
pollset_ours(struct backend *b, struct pollset *ps)
{
	struct guest *g;
	size_t n = 1;

	pthread_mutex_lock(&b->lock);
	for (g = b->guests; g != NULL; g = g->next)
		n++;
	/* libxl wants a few more: xenstore, its pipes, evtchn */
	if (pollset_fit(ps, n + 8) == -1) {
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	ps->fds[0].fd = b->wake[0];
	ps->fds[0].events = POLLIN;
	n = 1;
	for (g = b->guests; g != NULL; g = g->next) {
		if (g->cons_fd == -1)
			continue;
		ps->fds[n].fd = g->cons_fd;
		ps->fds[n].events = POLLIN;
		ps->gids[n] = g->gid;
		n++;
	}
	pthread_mutex_unlock(&b->lock);
	return n;
}

/* Runs what the queue holds; false when the backend is closing. */
static bool
run_queue(struct backend *b)
{
	struct xlev *x;
	bool disaster;

	for (;;) {
		pthread_mutex_lock(&b->lock);
		if ((x = b->queue) != NULL) {
			b->queue = x->next;
			if (b->queue == NULL)
				b->queue_tail = &b->queue;
		}
		pthread_mutex_unlock(&b->lock);
		if (x == NULL)
			break;
		handle_event(b, x);
		free(x);
	}
	pthread_mutex_lock(&b->lock);
	if (b->quit) {
		pthread_mutex_unlock(&b->lock);
		return false;
	}
	disaster = b->disaster;
	pthread_mutex_unlock(&b->lock);
	if (disaster)
		handle_disaster(b);
	return true;
}

static void *
event_thread(void *arg)
{
	struct backend *b = arg;
	struct pollset ps = { NULL, NULL, 0 };
	struct timeval tv;
	struct guest *g;
	size_t n, i;
	int nxl, timeout, rc;
	sigset_t all;

	/* signals are the daemon's business */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	while (run_queue(b)) {
		timeout = timers(b);
		if ((n = pollset_ours(b, &ps)) == 0) {
			usleep(100000);	/* no memory: it will come back */
			continue;
		}
		gettimeofday(&tv, NULL);
		nxl = (int)(ps.cap - n);
		rc = libxl_osevent_beforepoll(b->ctx, &nxl, ps.fds + n,
		    &timeout, tv);
		if (rc == ERROR_BUFFERFULL) {
			pollset_fit(&ps, n + (size_t)nxl);
			continue;
		}
		if (rc != 0)
			nxl = 0;
		if (poll(ps.fds, n + (size_t)nxl, timeout) == -1 &&
		    errno != EINTR)
			usleep(10000);
		gettimeofday(&tv, NULL);
		if (rc == 0)
			libxl_osevent_afterpoll(b->ctx, nxl, ps.fds + n, tv);
		if (ps.fds[0].revents & POLLIN)
			drain(b->wake[0]);
		pthread_mutex_lock(&b->lock);
		for (i = 1; i < n; i++)
			if (ps.fds[i].revents != 0 &&
			    (g = find_gid(b, ps.gids[i])) != NULL &&
			    g->cons_fd == ps.fds[i].fd)
				console_pump(g);
		pthread_mutex_unlock(&b->lock);
	}
	free(ps.fds);
	free(ps.gids);
	return NULL;
}

/* ---- the operations ---- */

/* "log=PATH" is the only option: libxl's messages go to PATH. */
static int
parse_uri(const char *uri, const char **logpath, struct err *e)
{
	*logpath = NULL;
	if (uri == NULL || uri[0] == '\0')
		return 0;
	if (strncmp(uri, "log=", 4) == 0 && uri[4] == '/') {
		*logpath = uri + 4;
		return 0;
	}
	return err_set(e, ERR_INVALID,
	    "libxl backend: unknown option \"%s\" (only log=/ABSOLUTE/PATH)",
	    uri);
}

static void xl_close(struct backend *b);

static int
xl_open(const char *uri, const struct backend_listener *listener,
    struct backend **out, struct err *e)
{
	struct backend *b;
	const char *logpath;
	char last[ERR_MSG_MAX / 2];
	int rc;

	*out = NULL;
	if (parse_uri(uri, &logpath, e) == -1)
		return -1;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	b->log.vtable.vmessage = xllog_vmessage;
	b->log.vtable.destroy = xllog_destroy;
	pthread_mutex_init(&b->log.lock, NULL);
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->ops_done, NULL);
	b->wake[0] = b->wake[1] = -1;
	b->queue_tail = &b->queue;
	b->next_gid = 1;
	if (listener != NULL)
		b->listener = *listener;
	if (logpath != NULL &&
	    (b->log.file = fopen(logpath, "ae")) == NULL) {
		err_errno(e, ERR_IO, errno, "cannot open %s", logpath);
		goto fail;
	}
	rc = libxl_ctx_alloc(&b->ctx, LIBXL_VERSION, 0, &b->log.vtable);
	if (rc != 0) {
		b->ctx = NULL;
		xllog_first(b, last, sizeof(last), "no message from libxl");
		err_set(e, "backend_unavailable",
		    "cannot reach Xen through libxl (%s): the libxl backend "
		    "needs root in a Xen dom0 with xenstored and xenconsoled "
		    "running", last);
		goto fail;
	}
	/* libxl reaps only its own children (it has none for a PVH guest
	 * without devices); the daemon's other children are its own */
	b->child_hooks.chldowner =
	    libxl_sigchld_owner_libxl_always_selective_reap;
	libxl_childproc_setmode(b->ctx, &b->child_hooks, b);
	b->event_hooks.event_occurs_mask = LIBXL_EVENTMASK_ALL;
	b->event_hooks.event_occurs = event_occurs;
	b->event_hooks.disaster = event_disaster;
	libxl_event_register_callbacks(b->ctx, &b->event_hooks, b);
	if (pipe2(b->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		err_errno(e, ERR_IO, errno, "pipe");
		goto fail;
	}
	if ((rc = pthread_create(&b->thread, NULL, event_thread, b)) != 0) {
		err_errno(e, ERR_NOMEM, rc, "cannot start libxl's event thread");
		goto fail;
	}
	b->thread_running = true;
	*out = b;
	return 0;
fail:
	xl_close(b);
	return -1;
}

/*
 * Publishes (g) and asks for its shutdown and death events.  On success
 * (g) belongs to the event thread, which frees it when the domain dies:
 * the caller names it by (*gid) from then on.  On failure (g) is the
 * caller's again.
 */
static int
watch(struct backend *b, struct guest *g, uint64_t *gid, struct err *e)
{
	libxl_evgen_domain_death *evgen = NULL;
	uint32_t domid = g->domid;
	int rc;

	pthread_mutex_lock(&b->lock);
	g->gid = *gid = b->next_gid++;
	g->next = b->guests;
	b->guests = g;
	pthread_mutex_unlock(&b->lock);
	rc = libxl_evenable_domain_death(b->ctx, domid, *gid, &evgen);
	pthread_mutex_lock(&b->lock);
	if (rc != 0) {
		unlink_guest(b, g);
		pthread_mutex_unlock(&b->lock);
		return xl_fail(b, e, "backend_start_failed", rc,
		    "libxl_evenable_domain_death");
	}
	/* no death event before this: the domain is paused, or ours */
	g->evgen = evgen;
	pthread_mutex_unlock(&b->lock);
	wake(b);	/* poll its console too */
	return 0;
}

static int
xl_start(struct backend *b, const struct backend_spec *spec,
    char handle[BACKEND_HANDLE_MAX], struct err *e)
{
	libxl_domain_config cfg;
	struct guest *g = NULL;
	char record[XLCFG_PATH_MAX + 32];
	struct xlev *x;
	uint64_t gid = 0;
	uint32_t domid = 0;
	bool created = false, watched = false;
	int rc;

	libxl_domain_config_init(&cfg);
	if (xlcfg_build(spec, &cfg, e) == -1 ||
	    xlcfg_userdata(spec, record, sizeof(record), e) == -1)
		goto fail;
	/* what libxl would only say as "cannot (re-)build domain" */
	if (access(spec->kernel, R_OK) == -1) {
		err_errno(e, "backend_start_failed", errno,
		    "cannot read the kernel %s", spec->kernel);
		goto fail;
	}
	if (cfg.b_info.ramdisk != NULL &&
	    access(cfg.b_info.ramdisk, R_OK) == -1) {
		err_errno(e, "backend_start_failed", errno,
		    "cannot read the boot module %s", cfg.b_info.ramdisk);
		goto fail;
	}
	if ((g = new_guest()) == NULL ||
	    (g->console_log = strdup(spec->console_log)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (log_open(g, true, e) == -1)
		goto fail;
	xllog_clear(b);
	/* created paused: we unpause once its console is ours */
	rc = libxl_domain_create_new(b->ctx, &cfg, &domid, NULL, NULL);
	if (rc != 0) {
		xl_fail(b, e, "backend_start_failed", rc,
		    "creating the Xen domain");
		goto fail;
	}
	created = true;
	g->domid = domid;
	xlcfg_handle(domid, &cfg.c_info.uuid, g->handle);
	rc = libxl_userdata_store(b->ctx, domid, XLCFG_USERDATA_ID,
	    (const uint8_t *)record, (int)strlen(record));
	if (rc != 0) {
		xl_fail(b, e, "backend_start_failed", rc,
		    "libxl_userdata_store");
		goto fail;
	}
	if (console_open(b, g, e) == -1)
		goto fail;
	snprintf(handle, BACKEND_HANDLE_MAX, "%s", g->handle);
	if (watch(b, g, &gid, e) == -1)
		goto fail;
	watched = true;
	rc = libxl_domain_unpause(b->ctx, domid, NULL);
	if (rc != 0) {
		xl_fail(b, e, "backend_start_failed", rc,
		    "libxl_domain_unpause");
		goto fail;
	}
	libxl_domain_config_dispose(&cfg);
	/* RUNNING from the event thread too, never from the caller's */
	if ((x = calloc(1, sizeof(*x))) != NULL) {
		x->type = XLEV_RUNNING;
		x->gid = gid;
		queue_event(b, x);
	}
	return 0;
fail:
	libxl_domain_config_dispose(&cfg);
	if (watched) {
		/* the event thread's now: its death reports nothing */
		pthread_mutex_lock(&b->lock);
		if ((g = find_gid(b, gid)) != NULL) {
			g->reported = true;
			g->destroying = true;
		}
		pthread_mutex_unlock(&b->lock);
		libxl_domain_destroy(b->ctx, domid, NULL);
		return -1;
	}
	if (created)
		libxl_domain_destroy(b->ctx, domid, NULL);
	if (g != NULL)
		free_guest(g);
	return -1;
}

/* Marks the guest of (handle) as being stopped; its domid in (*domid).
 * -1 with "backend_no_such_guest" when it is not ours or has ended. */
static int
mark_stopping(struct backend *b, const char *handle, uint32_t *domid,
    struct err *e)
{
	struct guest *g;

	pthread_mutex_lock(&b->lock);
	g = find_handle(b, handle);
	if (g == NULL || g->reported || g->dead) {
		pthread_mutex_unlock(&b->lock);
		return err_set(e, "backend_no_such_guest",
		    "no running Xen guest %s", handle);
	}
	g->stopping = true;
	*domid = g->domid;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static int
destroy_now(struct backend *b, const char *handle, uint32_t domid,
    struct err *e)
{
	struct guest *g;
	int rc;

	pthread_mutex_lock(&b->lock);
	if ((g = find_handle(b, handle)) != NULL)
		g->destroying = true;
	pthread_mutex_unlock(&b->lock);
	rc = libxl_domain_destroy(b->ctx, domid, NULL);
	if (rc != 0 && rc != ERROR_DOMAIN_NOTFOUND)
		return xl_fail(b, e, "backend_failed", rc,
		    "libxl_domain_destroy");
	return 0;
}

static void
unlink_op(struct backend *b, struct xlop *op)
{
	struct xlop **pp;

	for (pp = &b->ops; *pp != NULL; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
}

/* The end of a PV shutdown request (any thread inside libxl).  Its
 * result does not matter: the grace timer ends the guest anyway. */
static void
shutdown_done(libxl_ctx *ctx, int rc, void *arg)
{
	struct xlop *op = arg;
	struct backend *b = op->b;

	(void)ctx;
	(void)rc;
	pthread_mutex_lock(&b->lock);
	unlink_op(b, op);
	pthread_cond_broadcast(&b->ops_done);
	pthread_mutex_unlock(&b->lock);
	free(op);
}

/*
 * A PV shutdown request (xenstore control/shutdown), then the domain is
 * destroyed after (grace_ms) by the event thread.  Our runtime has no
 * watch on control/shutdown, so the request goes unanswered and libxl
 * would wait a minute for it: it runs asynchronously.  A guest that
 * powers off within the grace ends STOPPED all the same.
 */
static int
xl_stop(struct backend *b, const char *handle, unsigned grace_ms,
    struct err *e)
{
	struct guest *g;
	struct xlop *op;
	uint32_t domid;
	int rc;

	xllog_clear(b);
	if (mark_stopping(b, handle, &domid, e) == -1)
		return -1;
	if (grace_ms == 0 || (op = calloc(1, sizeof(*op))) == NULL)
		return destroy_now(b, handle, domid, e);
	op->b = b;
	op->how.callback = shutdown_done;
	op->how.u.for_callback = op;
	pthread_mutex_lock(&b->lock);
	op->next = b->ops;
	b->ops = op;
	if ((g = find_handle(b, handle)) != NULL) {
		now_mono(&g->kill_at);
		ts_add_ms(&g->kill_at, (long)grace_ms);
		g->kill_armed = true;
	}
	pthread_mutex_unlock(&b->lock);
	wake(b);
	/* op may be gone when this returns 0: shutdown_done() frees it */
	rc = libxl_domain_shutdown(b->ctx, domid, &op->how);
	if (rc != 0) {
		/* not started, so no callback: no PV control at all */
		pthread_mutex_lock(&b->lock);
		unlink_op(b, op);
		pthread_mutex_unlock(&b->lock);
		free(op);
		return destroy_now(b, handle, domid, e);
	}
	return 0;
}

static int
xl_kill(struct backend *b, const char *handle, struct err *e)
{
	uint32_t domid;

	if (mark_stopping(b, handle, &domid, e) == -1)
		return -1;
	return destroy_now(b, handle, domid, e);
}

static int
xl_adopt(struct backend *b, const char *handle, struct err *e)
{
	libxl_dominfo info;
	libxl_uuid uuid;
	struct guest *g;
	uint8_t *data = NULL;
	char path[XLCFG_PATH_MAX];
	uint64_t gid;
	uint32_t domid;
	int rc, len = 0;
	bool same;

	xllog_clear(b);
	if (xlcfg_handle_parse(handle, &domid, &uuid, e) == -1)
		return -1;
	pthread_mutex_lock(&b->lock);
	g = find_handle(b, handle);
	pthread_mutex_unlock(&b->lock);
	if (g != NULL)
		return 0;	/* ours already */

	libxl_dominfo_init(&info);
	rc = libxl_domain_info(b->ctx, &info, domid);
	same = rc == 0 && libxl_uuid_compare(&info.uuid, &uuid) == 0 &&
	    !info.dying;
	libxl_dominfo_dispose(&info);
	if (rc != 0 && rc != ERROR_DOMAIN_NOTFOUND)
		return xl_fail(b, e, "backend_failed", rc, "libxl_domain_info");
	if (!same)
		return err_set(e, "backend_no_such_guest",
		    "Xen domain %" PRIu32 " of %s is gone", domid, handle);

	if ((g = new_guest()) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	g->domid = domid;
	snprintf(g->handle, sizeof(g->handle), "%s", handle);
	/* the console log's path, recorded with the domain at start; a
	 * domain without it is still supervised, without its console */
	rc = libxl_userdata_retrieve(b->ctx, domid, XLCFG_USERDATA_ID, &data,
	    &len);
	if (rc == 0 && data != NULL && len > 0 &&
	    xlcfg_userdata_parse((const char *)data, (size_t)len, path,
		sizeof(path), NULL) == 0)
		g->console_log = strdup(path);
	free(data);
	if (log_open(g, false, NULL) == -1)
		g->log_fd = -1;
	/* the pty keeps what the guest wrote while nobody read it; without
	 * one (xenconsoled restarted?) the guest is supervised all the same */
	if (console_open(b, g, NULL) == -1)
		g->cons_fd = -1;
	if (watch(b, g, &gid, e) == -1) {
		free_guest(g);
		return -1;
	}
	/* libxl reports the shutdown of a domain that shut down before
	 * its death events were enabled only at the next @releaseDomain;
	 * Xen's record says it now */
	libxl_dominfo_init(&info);
	if (libxl_domain_info(b->ctx, &info, domid) == 0 && info.shutdown) {
		mark_shutdown(b, gid, info.shutdown_reason);
		wake(b);
	}
	libxl_dominfo_dispose(&info);
	return 0;
}

static int
xl_list(struct backend *b,
    void (*fn)(void *arg, const char *handle, const char *name), void *arg,
    struct err *e)
{
	libxl_dominfo *doms;
	char handle[BACKEND_HANDLE_MAX];
	char *name;
	int n, i;

	if ((doms = libxl_list_domain(b->ctx, &n)) == NULL)
		return xl_fail(b, e, "backend_failed", ERROR_FAIL,
		    "libxl_list_domain");
	for (i = 0; i < n; i++) {
		if (doms[i].domid == 0 || doms[i].dying)
			continue;
		name = libxl_domid_to_name(b->ctx, doms[i].domid);
		if (name != NULL &&
		    strncmp(name, XLCFG_PREFIX, strlen(XLCFG_PREFIX)) == 0 &&
		    name[strlen(XLCFG_PREFIX)] != '\0') {
			xlcfg_handle(doms[i].domid, &doms[i].uuid, handle);
			fn(arg, handle, name + strlen(XLCFG_PREFIX));
		}
		free(name);
	}
	libxl_dominfo_list_free(doms, n);
	return 0;
}

/* Aborts the shutdown requests in flight and waits (5 s at most) for
 * them to end, which they do in the event thread; -1 if some did not. */
static int
ops_finish(struct backend *b)
{
	libxl_asyncop_how how;
	struct timespec until;
	struct xlop *op;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&b->lock);
	while (b->ops != NULL) {
		for (op = b->ops; op != NULL && op->aborted; op = op->next)
			;
		if (op != NULL) {
			op->aborted = true;
			how = op->how;
			pthread_mutex_unlock(&b->lock);
			libxl_ao_abort(b->ctx, &how);
			pthread_mutex_lock(&b->lock);
			continue;
		}
		if (pthread_cond_timedwait(&b->ops_done, &b->lock, &until) ==
		    ETIMEDOUT) {
			rc = b->ops != NULL ? -1 : 0;
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

static void
xl_close(struct backend *b)
{
	struct guest *g;
	struct xlev *x;
	bool leak_ctx = false;

	if (b == NULL)
		return;
	if (b->thread_running && ops_finish(b) == -1)
		leak_ctx = true;
	if (b->thread_running) {
		pthread_mutex_lock(&b->lock);
		b->quit = true;
		pthread_mutex_unlock(&b->lock);
		wake(b);
		pthread_join(b->thread, NULL);
	}
	/* the guests keep running; a new backend adopts them */
	while ((g = b->guests) != NULL) {
		b->guests = g->next;
		if (g->evgen != NULL)
			libxl_evdisable_domain_death(b->ctx, g->evgen);
		free_guest(g);
	}
	/* a request libxl would not give up: its ao still uses the context */
	if (b->ctx != NULL && !leak_ctx)
		libxl_ctx_free(b->ctx);
	while ((x = b->queue) != NULL) {
		b->queue = x->next;
		free(x);
	}
	if (b->wake[0] != -1)
		close(b->wake[0]);
	if (b->wake[1] != -1)
		close(b->wake[1]);
	if (b->log.file != NULL)
		fclose(b->log.file);
	if (leak_ctx)
		return;	/* the ao's callback would find (b) gone */
	pthread_cond_destroy(&b->ops_done);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->log.lock);
	free(b);
}

const struct backend_ops backend_libxl_ops = {
	.name = "libxl",
	.net = BACKEND_NET_BRIDGE,	/* Xen has no user networking */
	.open = xl_open,
	.start = xl_start,
	.stop = xl_stop,
	.kill = xl_kill,
	.adopt = xl_adopt,
	.list = xl_list,
	.close = xl_close,
};
