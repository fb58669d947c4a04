/*
 * backend-libvirt.c - guests as transient libvirt domains, on any URI
 * (qemu:///system, qemu:///embed?root=DIR, qemu+ssh://...).
 *
 * Threads.  libvirt dispatches events from its default event loop, which
 * one thread per process runs for ever (started by the first open).  Its
 * callbacks here only record what happened, under the backend's lock, and
 * wake the backend's own watcher thread, which does everything that may
 * block: reading console trailers, calling the daemon's listener,
 * destroying a guest whose vCPUs stopped, reconnecting.  So neither the
 * listener nor a libvirt call ever runs on the event loop's thread, where
 * a call into the embedded driver, whose monitors that loop serves,
 * could wait on itself.
 *
 * How libvirt's lifecycle events become backend events, and why:
 * docs/daemon.md, "The libvirt backend"; what each event means for our
 * runtime was measured in tests/libvirt/README.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "backend.h"
#include "libvirt-xml.h"
#include "trailer.h"

/* How long a guest may stay paused by nobody's request before it counts
 * as failed: a pvpanic crash pauses it for a moment before libvirt's
 * "crashed" event, a KVM internal error for ever. */
#define PAUSE_GRACE_MS 2000
/* Reconnecting after libvirtd went away: 1 s, doubling, at most 30 s. */
#define RECONNECT_MIN_MS 1000
#define RECONNECT_MAX_MS 30000

/* How long stop and kill wait for libvirt's stopped event. */
#define STOP_EVENT_MS 10000
/* How long a start waits for libvirt to forget the domain's last run. */
#define CREATE_RETRY_MS 5000
#define CREATE_RETRY_STEP_MS 50

enum end_kind {
	END_STOPPED,	/* libvirt's stopped event: (detail) */
	END_VANISHED,	/* gone while the connection was lost */
	END_FAILED,	/* the watcher gave up on it: (reason) */
};

/* A guest's end, queued by the event loop for the watcher. */
struct end {
	struct end *next;
	char uuid[LVXML_UUID_LEN + 1];
	unsigned long gen;	/* which of the guests with that UUID */
	enum end_kind kind;
	int detail;
	int crashed;		/* libvirt said "crashed" before */
	char reason[160];	/* why the watcher destroyed it, or "" */
};

/*
 * A guest under watch.  Only touched under (b->lock).  An instance keeps
 * its UUID across restarts, so an entry whose end is queued may share it
 * with the next one: (gen) tells them apart, and events go to the one
 * not (ended).
 */
struct guest {
	struct guest *next;
	char uuid[LVXML_UUID_LEN + 1];		/* the handle */
	unsigned long gen;
	char console[LVXML_PATH_MAX];		/* "" if unknown */
	int stopping;	/* stop or kill asked: its end is STOPPED */
	int crashed;	/* libvirt's "crashed" event came */
	int ended;	/* its end is queued: later events are ignored */
	long long pause_at; /* a pause to check at this time (ms), or 0 */
	char fail[160];	/* the watcher destroys it because of this */
};

struct backend {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* wakes the watcher */
	struct backend_listener listener;
	struct lvxml_config conf;
	char domtype[8];		/* "kvm" or "qemu" */

	virConnectPtr conn;		/* NULL while reconnecting */
	int lifecycle_id;		/* -1 when not registered */
	int close_cb;			/* a close callback is registered */
	int conn_lost;			/* the close callback came */

	int refs;	/* the owner's, the watcher's, the callbacks' */
	int closing;
	pthread_t watcher;
	unsigned long gen;		/* of the last guest watched */
	struct guest *guests;
	struct end *ends, **ends_tail;
};

static pthread_once_t loop_once = PTHREAD_ONCE_INIT;
static int loop_ok;
static char loop_error[ERR_MSG_MAX];

static void
quiet_errors(void *opaque, virErrorPtr err)
{
	/* A library never prints; errors are read with virGetLastError. */
	(void)opaque;
	(void)err;
}

static void *
event_loop(void *arg)
{
	(void)arg;
	for (;;) {
		/* Fails only on a broken poll(); do not spin if it does. */
		if (virEventRunDefaultImpl() < 0)
			usleep(100 * 1000);
	}
	return NULL;
}

/*
 * Once per process: libvirt's default event loop and the thread that
 * runs it.  It must exist before the first connection (the embedded
 * driver requires it) and is never stopped: libvirt cannot unregister it.
 */
static void
loop_init(void)
{
	pthread_attr_t attr;
	pthread_t t;

	virSetErrorFunc(NULL, quiet_errors);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
		snprintf(loop_error, sizeof(loop_error), "libvirt: %s",
		    virGetLastErrorMessage());
		return;
	}
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
	    pthread_create(&t, &attr, event_loop, NULL) != 0) {
		snprintf(loop_error, sizeof(loop_error),
		    "cannot start libvirt's event loop thread");
		return;
	}
	pthread_attr_destroy(&attr);
	loop_ok = 1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
lv_err(struct err *e, const char *code, const char *what)
{
	return err_set(e, code, "%s: %s", what, virGetLastErrorMessage());
}

/* Whether libvirt's last error in this thread says the domain is gone
 * or not running. */
static int
lv_gone(void)
{
	int code = virGetLastErrorCode();

	return code == VIR_ERR_NO_DOMAIN || code == VIR_ERR_OPERATION_INVALID;
}

static void
b_unref_locked(struct backend *b, int *last)
{
	*last = --b->refs == 0;
}

static void
b_free(struct backend *b)
{
	struct guest *g;
	struct end *x;

	while ((g = b->guests) != NULL) {
		b->guests = g->next;
		free(g);
	}
	while ((x = b->ends) != NULL) {
		b->ends = x->next;
		free(x);
	}
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* A callback's reference is released when libvirt frees the callback:
 * after that libvirt never calls it again. */
static void
b_unref(void *opaque)
{
	struct backend *b = opaque;
	int last;

	pthread_mutex_lock(&b->lock);
	b_unref_locked(b, &last);
	pthread_mutex_unlock(&b->lock);
	if (last)
		b_free(b);
}

/* The live (not ended) guest with (uuid). */
static struct guest *
guest_find(struct backend *b, const char *uuid)
{
	struct guest *g;

	for (g = b->guests; g != NULL; g = g->next)
		if (!g->ended && strcmp(g->uuid, uuid) == 0)
			return g;
	return NULL;
}

static struct guest *
guest_find_gen(struct backend *b, const char *uuid, unsigned long gen)
{
	struct guest *g;

	for (g = b->guests; g != NULL; g = g->next)
		if (g->gen == gen && strcmp(g->uuid, uuid) == 0)
			return g;
	return NULL;
}

/* Adds (g) to the watched guests; the caller holds the lock. */
static void
guest_add(struct backend *b, struct guest *g)
{
	g->gen = ++b->gen;
	g->next = b->guests;
	b->guests = g;
}

static void
guest_remove(struct backend *b, struct guest *g)
{
	struct guest **pp;

	for (pp = &b->guests; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			free(g);
			return;
		}
	}
}

/* Queues the end of (g), once; the caller holds the lock. */
static void
end_queue(struct backend *b, struct guest *g, enum end_kind kind, int detail,
    const char *reason)
{
	struct end *x;

	if (g->ended)
		return;
	g->ended = 1;
	g->pause_at = 0;
	pthread_cond_broadcast(&b->cond);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return;	/* lost: the daemon's reconcile finds it */
	memcpy(x->uuid, g->uuid, sizeof(x->uuid));
	x->gen = g->gen;
	x->kind = kind;
	x->detail = detail;
	x->crashed = g->crashed;
	snprintf(x->reason, sizeof(x->reason), "%s",
	    reason != NULL ? reason : g->fail);
	*b->ends_tail = x;
	b->ends_tail = &x->next;
}

/* Runs on libvirt's event loop: records, never blocks. */
static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
    void *opaque)
{
	struct backend *b = opaque;
	char uuid[VIR_UUID_STRING_BUFLEN];
	struct guest *g;

	(void)conn;
	if (virDomainGetUUIDString(dom, uuid) < 0)
		return 0;
	pthread_mutex_lock(&b->lock);
	if (b->closing || (g = guest_find(b, uuid)) == NULL)
		goto out;
	switch (event) {
	case VIR_DOMAIN_EVENT_SUSPENDED:
		/* Ours while it starts, an operator's, or the vCPUs could
		 * not go on: the watcher looks at the state in a moment. */
		g->pause_at = now_ms() + PAUSE_GRACE_MS;
		pthread_cond_broadcast(&b->cond);
		break;
	case VIR_DOMAIN_EVENT_RESUMED:
		g->pause_at = 0;
		break;
	case VIR_DOMAIN_EVENT_CRASHED:
		/*
		 * pvpanic.  The end is reported with libvirt's stopped event,
		 * which follows at once (on_crash is destroy): once the
		 * daemon hears of it, the domain is gone and the instance
		 * can start again under the same UUID.  A domain that stays
		 * crashed (another on_crash) is destroyed by the watcher.
		 */
		g->crashed = 1;
		g->pause_at = now_ms() + PAUSE_GRACE_MS;
		pthread_cond_broadcast(&b->cond);
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
		end_queue(b, g, END_STOPPED, detail, NULL);
		break;
	default:
		/* started, shutdown (a stopped event follows), defined... */
		break;
	}
out:
	pthread_mutex_unlock(&b->lock);
	return 0;
}

/* Runs on libvirt's event loop when the connection is lost (libvirtd
 * stopped or restarted): the watcher reconnects. */
static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct backend *b = opaque;

	(void)conn;
	(void)reason;
	pthread_mutex_lock(&b->lock);
	b->conn_lost = 1;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/* The connection with a reference for the caller (virConnectClose drops
 * it), or NULL with "backend_unavailable" while there is none. */
static virConnectPtr
conn_get(struct backend *b, struct err *e)
{
	virConnectPtr c;

	pthread_mutex_lock(&b->lock);
	c = b->conn_lost ? NULL : b->conn;
	if (c != NULL)
		virConnectRef(c);
	pthread_mutex_unlock(&b->lock);
	if (c == NULL)
		err_set(e, "backend_unavailable", "libvirt: the connection to "
		    "%s is lost, reconnecting", b->conf.uri);
	return c;
}

/* Opens (b->conf.uri) and registers the callbacks; the lock is not held. */
static virConnectPtr
conn_open(struct backend *b, int *lifecycle_id, int *close_cb, struct err *e)
{
	virConnectPtr c;
	int id;

	*lifecycle_id = -1;
	*close_cb = 0;
	if ((c = virConnectOpen(b->conf.uri)) == NULL) {
		lv_err(e, "backend_unavailable", b->conf.uri);
		return NULL;
	}
	pthread_mutex_lock(&b->lock);
	b->refs++;	/* released by the callback's free function */
	pthread_mutex_unlock(&b->lock);
	id = virConnectDomainEventRegisterAny(c, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), b, b_unref);
	if (id < 0) {
		lv_err(e, "backend_unavailable", "registering for lifecycle "
		    "events");
		b_unref(b);
		virConnectClose(c);
		return NULL;
	}
	*lifecycle_id = id;
	/* A libvirtd that hangs is noticed like one that went away (not
	 * supported by the embedded driver, which cannot hang apart). */
	virConnectSetKeepAlive(c, 5, 3);
	/*
	 * No free function, so no reference: libvirt "registers" a close
	 * callback on drivers that cannot lose their connection (embed)
	 * without keeping it, and would never free it.  Where it is kept,
	 * unregistering waits for a call in progress, and none follows.
	 */
	if (virConnectRegisterCloseCallback(c, on_close, b, NULL) == 0)
		*close_cb = 1;
	return c;
}

/* Undoes conn_open(); the lifecycle callback's free function drops its
 * reference. */
static void
conn_close(virConnectPtr c, int lifecycle_id, int close_cb)
{
	if (c == NULL)
		return;
	if (lifecycle_id >= 0)
		virConnectDomainEventDeregisterAny(c, lifecycle_id);
	if (close_cb)
		virConnectUnregisterCloseCallback(c, on_close);
	virConnectClose(c);
}

/* The guest's domain, or NULL with "backend_no_such_guest". */
static virDomainPtr
dom_get(virConnectPtr c, const char *handle, struct err *e)
{
	virDomainPtr d;

	if (strlen(handle) != LVXML_UUID_LEN) {
		err_set(e, "backend_no_such_guest", "libvirt: '%s' is not a "
		    "domain UUID", handle);
		return NULL;
	}
	if ((d = virDomainLookupByUUIDString(c, handle)) == NULL) {
		if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
			err_set(e, "backend_no_such_guest", "libvirt: no "
			    "domain %s", handle);
		else
			lv_err(e, "backend_unavailable", handle);
	}
	return d;
}

/* Reads the trailer of (console) into (t); TRAILER_NONE when unknown. */
static void
read_trailer(const char *console, struct trailer *t)
{
	struct err e;

	memset(t, 0, sizeof(*t));
	t->kind = TRAILER_NONE;
	if (console[0] == '\0' || trailer_read(console, t, &e) < 0)
		t->kind = TRAILER_NONE;
}

static const char *
stopped_detail(int detail)
{
	switch (detail) {
	case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
		return "shutdown";
	case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
		return "destroyed";
	case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
		return "crashed";
	case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
		return "migrated";
	case VIR_DOMAIN_EVENT_STOPPED_SAVED:
		return "saved";
	case VIR_DOMAIN_EVENT_STOPPED_FAILED:
		return "failed";
	case VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT:
		return "from-snapshot";
	default:
		return "?";
	}
}

/*
 * What (x) means for the daemon, the trailer of the guest's console
 * (console) read where it says more than libvirt can.  (stopping): the
 * daemon asked for the end.  Fills (ev), whose reason lives in (why).
 */
static void
end_map(const struct end *x, int stopping, const char *console,
    struct backend_event *ev, char *why, size_t whysz)
{
	struct trailer t;

	ev->exit_code = -1;
	if (stopping) {
		ev->kind = BACKEND_EVENT_STOPPED;
		snprintf(why, whysz, "stopped by unikerneld");
		return;
	}
	if (x->kind == END_FAILED || (x->reason[0] != '\0' && !x->crashed)) {
		ev->kind = BACKEND_EVENT_FAILED;
		snprintf(why, whysz, "%s", x->reason);
		return;
	}
	read_trailer(console, &t);
	if (x->crashed || (x->kind == END_STOPPED &&
	    x->detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED)) {
		/* pvpanic: the runtime wrote its trailer just before. */
		ev->kind = BACKEND_EVENT_CRASHED;
		snprintf(why, whysz, "crashed (%s)", t.kind == TRAILER_CRASH ?
		    t.reason : "pvpanic, no console trailer");
		return;
	}
	if (x->kind == END_VANISHED) {
		if (t.kind == TRAILER_EXIT) {
			ev->kind = BACKEND_EVENT_EXITED;
			ev->exit_code = t.code;
			snprintf(why, whysz, "exited with %d while libvirt "
			    "could not be reached", t.code);
		} else if (t.kind == TRAILER_CRASH) {
			ev->kind = BACKEND_EVENT_CRASHED;
			snprintf(why, whysz, "crashed (%s) while libvirt "
			    "could not be reached", t.reason);
		} else {
			ev->kind = BACKEND_EVENT_FAILED;
			snprintf(why, whysz, "vanished while libvirt could not "
			    "be reached, without a console trailer");
		}
		return;
	}
	switch (x->detail) {
	case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
		/* ACPI S5 poweroff, or a reset (on_reboot is destroy): the
		 * trailer tells which, and carries the exit code. */
		if (t.kind == TRAILER_EXIT) {
			ev->kind = BACKEND_EVENT_EXITED;
			ev->exit_code = t.code;
			snprintf(why, whysz, "exited with %d", t.code);
		} else if (t.kind == TRAILER_CRASH) {
			ev->kind = BACKEND_EVENT_CRASHED;
			snprintf(why, whysz, "crashed (%s)", t.reason);
		} else {
			ev->kind = BACKEND_EVENT_EXITED;
			snprintf(why, whysz, "no trailer: the guest powered "
			    "off or reset without saying how it ended");
		}
		break;
	case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
		ev->kind = BACKEND_EVENT_STOPPED;
		snprintf(why, whysz, "destroyed outside unikerneld");
		break;
	case VIR_DOMAIN_EVENT_STOPPED_FAILED:
		/* QEMU ended without telling libvirt why: isa-debug-exit, a
		 * QEMU crash, or an end nobody watched (the embedded driver
		 * reconnecting to a dead QEMU).  The trailer may know. */
		if (t.kind == TRAILER_EXIT) {
			ev->kind = BACKEND_EVENT_EXITED;
			ev->exit_code = t.code;
			snprintf(why, whysz, "exited with %d (libvirt: stopped "
			    "failed)", t.code);
		} else if (t.kind == TRAILER_CRASH) {
			ev->kind = BACKEND_EVENT_CRASHED;
			snprintf(why, whysz, "crashed (%s)", t.reason);
		} else {
			ev->kind = BACKEND_EVENT_FAILED;
			snprintf(why, whysz, "QEMU ended without telling "
			    "libvirt why (libvirt: stopped failed)");
		}
		break;
	default:
		ev->kind = BACKEND_EVENT_FAILED;
		snprintf(why, whysz, "left this host (libvirt: stopped %s)",
		    stopped_detail(x->detail));
		break;
	}
}

/* Reports (x) to the daemon and forgets its guest.  Watcher thread. */
static void
end_report(struct backend *b, struct end *x)
{
	struct backend_event ev;
	struct guest *g;
	char console[LVXML_PATH_MAX], why[300];
	int stopping;

	pthread_mutex_lock(&b->lock);
	if ((g = guest_find_gen(b, x->uuid, x->gen)) == NULL) {
		pthread_mutex_unlock(&b->lock);
		return;	/* its start failed: the caller was told */
	}
	stopping = g->stopping;
	memcpy(console, g->console, sizeof(console));
	guest_remove(b, g);
	pthread_mutex_unlock(&b->lock);

	memset(&ev, 0, sizeof(ev));
	ev.handle = x->uuid;
	end_map(x, stopping, console, &ev, why, sizeof(why));
	ev.reason = why;
	b->listener.fn(b->listener.arg, &ev);
}

/*
 * A guest has been paused, or crashed, for PAUSE_GRACE_MS without
 * libvirt ending it.  An operator's pause (or libvirt's own, for a
 * snapshot...) is left alone.  vCPUs stopped by the hypervisor (KVM
 * internal error: "paused (unknown)" for ever) and a crashed domain that
 * libvirt keeps are destroyed, as nothing else would ever end them; the
 * stopped event then reports them, failed or crashed.  Watcher thread.
 */
static void
pause_check(struct backend *b, const char *uuid)
{
	virConnectPtr c;
	virDomainPtr d;
	struct guest *g;
	char why[160];
	int state, reason, doomed = 0;

	if ((c = conn_get(b, NULL)) == NULL)
		return;	/* checked again after the reconnect */
	if ((d = virDomainLookupByUUIDString(c, uuid)) == NULL ||
	    virDomainGetState(d, &state, &reason, 0) < 0)
		goto out;	/* gone: its stopped event tells */
	why[0] = '\0';
	if (state == VIR_DOMAIN_CRASHED) {
		doomed = 1;
	} else if (state == VIR_DOMAIN_PAUSED) {
		switch (reason) {
		case VIR_DOMAIN_PAUSED_UNKNOWN:
			snprintf(why, sizeof(why), "the guest's vCPUs stopped "
			    "(libvirt: paused, unknown: a KVM internal "
			    "error?); destroyed");
			doomed = 1;
			break;
		case VIR_DOMAIN_PAUSED_IOERROR:
		case VIR_DOMAIN_PAUSED_WATCHDOG:
		case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
			snprintf(why, sizeof(why), "the hypervisor paused the "
			    "guest (libvirt: paused, reason %d); destroyed",
			    reason);
			doomed = 1;
			break;
		case VIR_DOMAIN_PAUSED_CRASHED:
			doomed = 1;
			break;
		default:
			break;	/* user, migration, snapshot: not ours */
		}
		if (reason == VIR_DOMAIN_PAUSED_CRASHED)
			state = VIR_DOMAIN_CRASHED;
	}
	if (!doomed)
		goto out;
	pthread_mutex_lock(&b->lock);
	if ((g = guest_find(b, uuid)) != NULL) {
		if (state == VIR_DOMAIN_CRASHED)
			g->crashed = 1;
		else
			snprintf(g->fail, sizeof(g->fail), "%s", why);
	}
	pthread_mutex_unlock(&b->lock);
	if (virDomainDestroy(d) < 0 && !lv_gone()) {
		/* Still there, paused: report it anyway, once. */
		pthread_mutex_lock(&b->lock);
		if ((g = guest_find(b, uuid)) != NULL)
			end_queue(b, g, END_FAILED, 0, g->crashed ?
			    "crashed, and libvirt could not destroy it" : why);
		pthread_mutex_unlock(&b->lock);
	}
out:
	if (d != NULL)
		virDomainFree(d);
	virConnectClose(c);
}

/* Back under watch after a reconnect: what happened to each guest while
 * no events came.  Watcher thread, lock not held. */
static void
reconcile(struct backend *b, virConnectPtr c)
{
	char (*uuids)[LVXML_UUID_LEN + 1] = NULL;
	struct guest *g;
	virDomainPtr d;
	size_t n = 0, i;
	int state, reason;

	pthread_mutex_lock(&b->lock);
	for (g = b->guests; g != NULL; g = g->next)
		n++;
	if (n > 0 && (uuids = calloc(n, sizeof(*uuids))) != NULL) {
		for (i = 0, g = b->guests; g != NULL; g = g->next, i++)
			memcpy(uuids[i], g->uuid, sizeof(uuids[i]));
	} else {
		n = 0;
	}
	pthread_mutex_unlock(&b->lock);

	for (i = 0; i < n; i++) {
		state = VIR_DOMAIN_SHUTOFF;
		d = virDomainLookupByUUIDString(c, uuids[i]);
		if (d != NULL && virDomainGetState(d, &state, &reason, 0) < 0 &&
		    !lv_gone()) {
			virDomainFree(d);
			continue;	/* lost again: the next reconnect */
		}
		if (d == NULL && !lv_gone())
			continue;
		pthread_mutex_lock(&b->lock);
		if ((g = guest_find(b, uuids[i])) != NULL) {
			if (state == VIR_DOMAIN_SHUTOFF ||
			    state == VIR_DOMAIN_NOSTATE)
				end_queue(b, g, END_VANISHED, 0, NULL);
			else if (state != VIR_DOMAIN_RUNNING)
				g->pause_at = now_ms();	/* have a look */
		}
		pthread_mutex_unlock(&b->lock);
		if (d != NULL)
			virDomainFree(d);
	}
	free(uuids);
}

/* (ts) = now + (ms) on the monotonic clock the condition variable uses. */
static void
deadline(struct timespec *ts, long long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* The connection was lost: reopens it, with back-off, until it works or
 * the backend closes.  Watcher thread, called and returning with the
 * lock held. */
static void
reconnect(struct backend *b)
{
	virConnectPtr old = b->conn, c;
	int old_id = b->lifecycle_id, old_cb = b->close_cb, id, cb;
	long long delay = RECONNECT_MIN_MS;
	struct timespec ts;

	b->conn = NULL;
	b->lifecycle_id = -1;
	b->close_cb = 0;
	pthread_mutex_unlock(&b->lock);
	conn_close(old, old_id, old_cb);
	pthread_mutex_lock(&b->lock);
	while (!b->closing) {
		pthread_mutex_unlock(&b->lock);
		c = conn_open(b, &id, &cb, NULL);
		pthread_mutex_lock(&b->lock);
		if (c != NULL) {
			if (b->closing) {
				pthread_mutex_unlock(&b->lock);
				conn_close(c, id, cb);
				pthread_mutex_lock(&b->lock);
				break;
			}
			b->conn = c;
			b->lifecycle_id = id;
			b->close_cb = cb;
			b->conn_lost = 0;
			pthread_mutex_unlock(&b->lock);
			reconcile(b, c);
			pthread_mutex_lock(&b->lock);
			return;
		}
		deadline(&ts, delay);
		if (!b->closing)
			pthread_cond_timedwait(&b->cond, &b->lock, &ts);
		delay = delay * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS :
		    delay * 2;
	}
}

static void *
watcher(void *arg)
{
	struct backend *b = arg;
	struct end *x;
	struct guest *g;
	struct timespec ts;
	char uuid[LVXML_UUID_LEN + 1];
	long long now, next;

	pthread_mutex_lock(&b->lock);
	while (!b->closing) {
		if (b->conn_lost) {
			reconnect(b);
			continue;
		}
		if ((x = b->ends) != NULL) {
			if ((b->ends = x->next) == NULL)
				b->ends_tail = &b->ends;
			pthread_mutex_unlock(&b->lock);
			end_report(b, x);
			free(x);
			pthread_mutex_lock(&b->lock);
			continue;
		}
		now = now_ms();
		next = 0;
		uuid[0] = '\0';
		for (g = b->guests; g != NULL; g = g->next) {
			if (g->pause_at == 0 || g->ended)
				continue;
			if (g->pause_at <= now) {
				g->pause_at = 0;
				memcpy(uuid, g->uuid, sizeof(uuid));
				break;
			}
			if (next == 0 || g->pause_at < next)
				next = g->pause_at;
		}
		if (uuid[0] != '\0') {
			pthread_mutex_unlock(&b->lock);
			pause_check(b, uuid);
			pthread_mutex_lock(&b->lock);
			continue;
		}
		if (next == 0) {
			pthread_cond_wait(&b->cond, &b->lock);
			continue;
		}
		deadline(&ts, next - now);
		pthread_cond_timedwait(&b->cond, &b->lock, &ts);
	}
	pthread_mutex_unlock(&b->lock);
	b_unref(b);
	return NULL;
}

/* Whether (uri) names this host (no host part): only then can the
 * loader's presence be checked here. */
static int
uri_is_local(const char *uri)
{
	const char *p = strstr(uri, "://");

	return p != NULL && p[3] == '/';
}

/* kvm when the connection's host has it, else qemu (TCG). */
static void
probe_domtype(struct backend *b, virConnectPtr c)
{
	char *caps;

	if (b->conf.domtype[0] != '\0') {
		snprintf(b->domtype, sizeof(b->domtype), "%s",
		    b->conf.domtype);
		return;
	}
	caps = virConnectGetDomainCapabilities(c, NULL, "x86_64",
	    b->conf.machine, "kvm", 0);
	snprintf(b->domtype, sizeof(b->domtype), "%s", caps ? "kvm" : "qemu");
	free(caps);
}

static int
lv_open(const char *uri, const struct backend_listener *listener,
    struct backend **out, struct err *e)
{
	struct backend *b;
	pthread_condattr_t ca;
	virConnectPtr c;
	int id, cb, last;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return err_set(e, ERR_NOMEM, "libvirt backend: out of memory");
	if (lvxml_config_parse(uri, &b->conf, e) < 0) {
		free(b);
		return -1;
	}
	if (uri_is_local(b->conf.uri) && b->conf.loader[0] != '\0' &&
	    access(b->conf.loader, R_OK) < 0) {
		err_errno(e, "backend_unavailable", errno, "libvirt backend: "
		    "loader %s (install qemu-system-x86 for qboot, or give "
		    "loader= for libvirt's default firmware)", b->conf.loader);
		free(b);
		return -1;
	}
	pthread_once(&loop_once, loop_init);
	if (!loop_ok) {
		err_set(e, "backend_unavailable", "%s", loop_error);
		free(b);
		return -1;
	}
	b->listener = *listener;
	b->refs = 1;
	b->lifecycle_id = -1;
	b->ends_tail = &b->ends;
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);

	if ((c = conn_open(b, &id, &cb, e)) == NULL)
		goto fail;
	probe_domtype(b, c);
	b->conn = c;
	b->lifecycle_id = id;
	b->close_cb = cb;
	b->refs++;	/* the watcher's, dropped when it ends */
	if (pthread_create(&b->watcher, NULL, watcher, b) != 0) {
		err_set(e, "backend_unavailable", "libvirt backend: cannot "
		    "start its thread");
		b->refs--;
		b->conn = NULL;
		conn_close(c, id, cb);
		goto fail;
	}
	*out = b;
	return 0;
fail:
	pthread_mutex_lock(&b->lock);
	b_unref_locked(b, &last);
	pthread_mutex_unlock(&b->lock);
	if (last)
		b_free(b);
	return -1;
}

/*
 * virDomainCreateXML, paused.  libvirt sends a domain's stopped event
 * before it has forgotten the domain, and until then refuses another with
 * its UUID or name ("already being started", "already being removed"):
 * an instance started again as soon as its end is reported (a restart,
 * stop then start) waits for that, up to CREATE_RETRY_MS.  Only while no
 * running domain has the UUID: then the refusal is meant.
 */
static virDomainPtr
create(virConnectPtr c, const char *xml, const char *uuid, struct err *e)
{
	virDomainPtr d, old;
	long long until = now_ms() + CREATE_RETRY_MS;
	int code, active;

	for (;;) {
		if ((d = virDomainCreateXML(c, xml, VIR_DOMAIN_START_PAUSED)))
			return d;
		code = virGetLastErrorCode();
		lv_err(e, "backend_start_failed", "libvirt: creating the "
		    "domain");
		if ((code != VIR_ERR_OPERATION_FAILED &&
		    code != VIR_ERR_OPERATION_INVALID) || now_ms() >= until)
			return NULL;
		active = 0;
		if ((old = virDomainLookupByUUIDString(c, uuid)) != NULL) {
			active = virDomainIsActive(old) != 0;
			virDomainFree(old);
		}
		if (active)
			return NULL;
		usleep(CREATE_RETRY_STEP_MS * 1000);
	}
}

/*
 * Empties the console log of a guest created paused, before its first
 * byte: libvirt opened it for appending (append='on', so that the daemon
 * can move a full log aside), so the last run's output, and its trailer,
 * would otherwise still be there when this run's end is read.  Nothing
 * to do when the file is not here (a remote URI: the log is that host's).
 */
static void
console_empty(const char *path)
{
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return;
	(void)!ftruncate(fd, 0);
	close(fd);
}

static int
lv_start(struct backend *b, const struct backend_spec *spec,
    char handle[BACKEND_HANDLE_MAX], struct err *e)
{
	struct lvxml_opts o = { b->domtype, b->conf.machine, b->conf.loader };
	char uuid[LVXML_UUID_LEN + 1], *xml = NULL;
	virConnectPtr c = NULL;
	virDomainPtr d = NULL;
	struct guest *g;
	unsigned long gen;
	int state, reason, rc = -1;

	if (lvxml_domain(spec, &o, &xml, e) < 0 ||
	    lvxml_uuid(spec->id, uuid, e) < 0) {
		free(xml);
		return err_prefix(e, "libvirt: instance %s",
		    spec->name ? spec->name : "?");
	}
	/* Watched before it exists: it may end before the create returns. */
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		free(xml);
		return err_set(e, ERR_NOMEM, "libvirt: out of memory");
	}
	memcpy(g->uuid, uuid, sizeof(g->uuid));
	snprintf(g->console, sizeof(g->console), "%s", spec->console_log);
	pthread_mutex_lock(&b->lock);
	if (guest_find(b, uuid) != NULL) {
		pthread_mutex_unlock(&b->lock);
		free(g);
		free(xml);
		return err_set(e, "backend_start_failed", "libvirt: instance "
		    "%s (%s) is running already", spec->name, uuid);
	}
	guest_add(b, g);
	gen = g->gen;
	pthread_mutex_unlock(&b->lock);

	if ((c = conn_get(b, e)) == NULL)
		goto out;
	/*
	 * Paused first: a guest that ends at once made virDomainCreateXML
	 * itself fail while libvirt was still setting it up
	 * (tests/libvirt/README.md).  No autodestroy: guests outlive the
	 * daemon, which adopts them again.
	 */
	if ((d = create(c, xml, uuid, e)) == NULL)
		goto out;
	console_empty(spec->console_log);
	/* If the resume fails because the guest already ended, its events
	 * say how; only a guest still paused is a failed start. */
	if (virDomainResume(d) < 0 &&
	    virDomainGetState(d, &state, &reason, 0) == 0 &&
	    state == VIR_DOMAIN_PAUSED) {
		lv_err(e, "backend_start_failed", "libvirt: starting the "
		    "domain's vCPUs");
		virDomainDestroy(d);
		goto out;
	}
	snprintf(handle, BACKEND_HANDLE_MAX, "%s", uuid);
	rc = 0;
out:
	if (rc < 0) {
		pthread_mutex_lock(&b->lock);
		if ((g = guest_find_gen(b, uuid, gen)) != NULL)
			guest_remove(b, g);
		pthread_mutex_unlock(&b->lock);
	}
	if (d != NULL)
		virDomainFree(d);
	if (c != NULL)
		virConnectClose(c);
	free(xml);
	return rc;
}

/*
 * Puts the running domain (d) under watch unless it is already; reads
 * its console log's path from our metadata.  Returns 0, or -1 with
 * "backend_no_such_guest" when it is not running or not one of ours.
 */
static int
watch(struct backend *b, virDomainPtr d, const char *uuid, struct err *e)
{
	struct guest *g;
	unsigned long gen;
	char *meta;
	int state, reason;

	pthread_mutex_lock(&b->lock);
	g = guest_find(b, uuid);
	pthread_mutex_unlock(&b->lock);
	if (g != NULL)
		return 0;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return err_set(e, ERR_NOMEM, "libvirt: out of memory");
	memcpy(g->uuid, uuid, sizeof(g->uuid));
	meta = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, LVXML_NS,
	    0);
	if (meta == NULL || lvxml_attr(meta, "console", g->console,
	    sizeof(g->console)) < 0) {
		free(meta);
		free(g);
		return err_set(e, "backend_no_such_guest", "libvirt: domain "
		    "%s was not started by unikerneld (no metadata)", uuid);
	}
	free(meta);
	pthread_mutex_lock(&b->lock);
	if (guest_find(b, uuid) != NULL) {	/* another thread was first */
		pthread_mutex_unlock(&b->lock);
		free(g);
		return 0;
	}
	guest_add(b, g);
	gen = g->gen;
	pthread_mutex_unlock(&b->lock);

	/* Watched first, then looked at: an end between the two cannot be
	 * missed. */
	if (virDomainGetState(d, &state, &reason, 0) < 0)
		state = VIR_DOMAIN_SHUTOFF;
	pthread_mutex_lock(&b->lock);
	if ((g = guest_find_gen(b, uuid, gen)) == NULL || g->ended) {
		pthread_mutex_unlock(&b->lock);
		return 0;	/* its end is reported, or will be */
	}
	if (state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_NOSTATE) {
		guest_remove(b, g);
		pthread_mutex_unlock(&b->lock);
		return err_set(e, "backend_no_such_guest", "libvirt: domain %s "
		    "is not running", uuid);
	}
	if (state != VIR_DOMAIN_RUNNING) {
		g->pause_at = now_ms();	/* paused or crashed: look now */
		pthread_cond_broadcast(&b->cond);
	}
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static int
lv_adopt(struct backend *b, const char *handle, struct err *e)
{
	virConnectPtr c;
	virDomainPtr d;
	int rc;

	if ((c = conn_get(b, e)) == NULL)
		return -1;
	if ((d = dom_get(c, handle, e)) == NULL) {
		virConnectClose(c);
		return -1;
	}
	rc = watch(b, d, handle, e);
	virDomainFree(d);
	virConnectClose(c);
	return rc;
}

/*
 * stop and kill: destroys the domain, gracefully (QEMU gets SIGTERM and
 * libvirt waits for it) when (graceful), then plainly (SIGKILL).  Returns
 * once libvirt's stopped event has come (or after STOP_EVENT_MS), so
 * that the instance can start again under the same UUID at once.
 */
static int
destroy(struct backend *b, const char *handle, int graceful, struct err *e)
{
	virConnectPtr c;
	virDomainPtr d;
	struct guest *g;
	struct timespec ts;
	unsigned long gen = 0;
	int rc = -1;

	if ((c = conn_get(b, e)) == NULL)
		return -1;
	if ((d = dom_get(c, handle, e)) == NULL)
		goto out;
	/* A guest not adopted yet is watched now, so that its end is
	 * reported like any other. */
	if (watch(b, d, handle, e) < 0)
		goto out;
	pthread_mutex_lock(&b->lock);
	if ((g = guest_find(b, handle)) != NULL) {
		g->stopping = 1;
		gen = g->gen;
	}
	pthread_mutex_unlock(&b->lock);
	if (graceful && virDomainDestroyFlags(d,
	    VIR_DOMAIN_DESTROY_GRACEFUL) == 0)
		rc = 0;
	else if (virDomainDestroy(d) == 0 || lv_gone())
		rc = 0;	/* or it ended by itself: events tell */
	else
		lv_err(e, "backend_stop_failed", "libvirt: destroying the "
		    "domain");
	if (rc == 0 && gen != 0) {
		deadline(&ts, STOP_EVENT_MS);
		pthread_mutex_lock(&b->lock);
		while ((g = guest_find_gen(b, handle, gen)) != NULL &&
		    !g->ended && !b->closing &&
		    pthread_cond_timedwait(&b->cond, &b->lock, &ts) == 0)
			;
		pthread_mutex_unlock(&b->lock);
	}
out:
	if (d != NULL)
		virDomainFree(d);
	virConnectClose(c);
	return rc;
}

/*
 * There is no asking our runtime to stop: it has no ACPI power button
 * handler (docs/runtime.md), so virDomainShutdown would only make every
 * stop wait out (grace_ms) for nothing.  The grace it gets is QEMU's:
 * SIGTERM first, SIGKILL only if libvirt's wait for it runs out; none
 * when (grace_ms) is 0.
 */
static int
lv_stop(struct backend *b, const char *handle, unsigned grace_ms,
    struct err *e)
{
	return destroy(b, handle, grace_ms > 0, e);
}

static int
lv_kill(struct backend *b, const char *handle, struct err *e)
{
	return destroy(b, handle, 0, e);
}

static int
lv_list(struct backend *b,
    void (*fn)(void *arg, const char *handle, const char *name), void *arg,
    struct err *e)
{
	virConnectPtr c;
	virDomainPtr *doms = NULL;
	char uuid[VIR_UUID_STRING_BUFLEN];
	const char *name;
	int i, n;

	if ((c = conn_get(b, e)) == NULL)
		return -1;
	n = virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0) {
		lv_err(e, "backend_unavailable", "libvirt: listing domains");
		virConnectClose(c);
		return -1;
	}
	for (i = 0; i < n; i++) {
		name = virDomainGetName(doms[i]);
		if (name != NULL && strncmp(name, LVXML_PREFIX,
		    strlen(LVXML_PREFIX)) == 0 &&
		    virDomainGetUUIDString(doms[i], uuid) == 0)
			fn(arg, uuid, name + strlen(LVXML_PREFIX));
		virDomainFree(doms[i]);
	}
	free(doms);
	virConnectClose(c);
	return 0;
}

/*
 * After it returns the listener is never called again (from the listener
 * itself: once that call returns).  The state goes when the watcher has
 * ended and libvirt has released the lifecycle callback.
 */
static void
lv_close(struct backend *b)
{
	virConnectPtr c;
	int id, cb, last;

	pthread_mutex_lock(&b->lock);
	b->closing = 1;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	if (pthread_equal(pthread_self(), b->watcher))
		pthread_detach(b->watcher);	/* called by the listener */
	else
		pthread_join(b->watcher, NULL);

	pthread_mutex_lock(&b->lock);
	c = b->conn;
	id = b->lifecycle_id;
	cb = b->close_cb;
	b->conn = NULL;
	pthread_mutex_unlock(&b->lock);
	conn_close(c, id, cb);

	pthread_mutex_lock(&b->lock);
	b_unref_locked(b, &last);
	pthread_mutex_unlock(&b->lock);
	if (last)
		b_free(b);
}

const struct backend_ops backend_libvirt_ops = {
	.name = "libvirt",
	/* no forwards: libvirt 9.0 has them only through passt */
	.net = BACKEND_NET_USER | BACKEND_NET_BRIDGE,
	.open = lv_open,
	.start = lv_start,
	.stop = lv_stop,
	.kill = lv_kill,
	.adopt = lv_adopt,
	.list = lv_list,
	.close = lv_close,
};
