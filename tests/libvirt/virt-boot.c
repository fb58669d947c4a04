/*
 * virt-boot.c - boot one transient libvirt domain and wait for it to end,
 * by libvirt's lifecycle events (no polling).
 *
 *	virt-boot [-kv] [-t SECONDS] URI DOMAIN.XML
 *
 * Creates the domain DOMAIN.XML describes on URI (qemu:///system,
 * qemu:///embed?root=DIR, ...), paused, then lets it run; waits until it
 * has stopped, or has crashed if its <on_crash> is preserve, and prints
 * the lifecycle event that ended the wait as one line, in lower case:
 * "stopped shutdown", "stopped crashed", "crashed panicked", "stopped
 * failed"... (tests/libvirt/README.md says what each means for a
 * unikernel), or "timeout".
 *
 * The domain is started with VIR_DOMAIN_START_AUTODESTROY where the
 * driver allows it, so that it cannot outlive this program's connection;
 * otherwise (embed) this program destroys it on every path it controls.
 * -k keeps a domain preserved after a crash, for inspection (no
 * autodestroy); -v prints every lifecycle event of the domain on stderr;
 * -t sets the timeout (default 30 s), after which the domain is destroyed.
 *
 * Exit status: 0 the domain ended (however it ended: read the line),
 * 1 a libvirt or system error, 2 usage, 3 timeout or signal.
 *
 * This is also the seed of the daemon's libvirt backend: one connection,
 * one callback registered before the domain exists, a timer and a signal
 * pipe on the same event loop, and every libvirt object released on every
 * path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define PROG "virt-boot"
#define XML_MAX (1024 * 1024)	/* a domain XML larger than this is a mistake */

enum vb_status { VB_ENDED = 0, VB_ERROR = 1, VB_USAGE = 2, VB_TIMEOUT = 3 };

struct vboot {
	virConnectPtr conn;
	virDomainPtr dom;		/* NULL until created */
	unsigned char uuid[VIR_UUID_BUFLEN];
	int verbose;
	int preserve;		/* on_crash is preserve: a crash ends the wait */
	int ended;		/* the event that ended the wait has come */
	int event, detail;	/* that event */
	int timed_out, interrupted, conn_lost;
};

static int sig_pipe[2] = { -1, -1 };

/* Names of lifecycle events and their details, as virsh spells them. */
static const char *const started_names[] = {
	[VIR_DOMAIN_EVENT_STARTED_BOOTED] = "booted",
	[VIR_DOMAIN_EVENT_STARTED_MIGRATED] = "migrated",
	[VIR_DOMAIN_EVENT_STARTED_RESTORED] = "restored",
	[VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT] = "from-snapshot",
	[VIR_DOMAIN_EVENT_STARTED_WAKEUP] = "wakeup",
};
static const char *const suspended_names[] = {
	[VIR_DOMAIN_EVENT_SUSPENDED_PAUSED] = "paused",
	[VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED] = "migrated",
	[VIR_DOMAIN_EVENT_SUSPENDED_IOERROR] = "ioerror",
	[VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG] = "watchdog",
	[VIR_DOMAIN_EVENT_SUSPENDED_RESTORED] = "restored",
	[VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT] = "from-snapshot",
	[VIR_DOMAIN_EVENT_SUSPENDED_API_ERROR] = "api-error",
};
static const char *const resumed_names[] = {
	[VIR_DOMAIN_EVENT_RESUMED_UNPAUSED] = "unpaused",
	[VIR_DOMAIN_EVENT_RESUMED_MIGRATED] = "migrated",
	[VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT] = "from-snapshot",
};
static const char *const stopped_names[] = {
	[VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN] = "shutdown",
	[VIR_DOMAIN_EVENT_STOPPED_DESTROYED] = "destroyed",
	[VIR_DOMAIN_EVENT_STOPPED_CRASHED] = "crashed",
	[VIR_DOMAIN_EVENT_STOPPED_MIGRATED] = "migrated",
	[VIR_DOMAIN_EVENT_STOPPED_SAVED] = "saved",
	[VIR_DOMAIN_EVENT_STOPPED_FAILED] = "failed",
	[VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT] = "from-snapshot",
};
static const char *const shutdown_names[] = {
	[VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED] = "finished",
	[VIR_DOMAIN_EVENT_SHUTDOWN_GUEST] = "guest",
	[VIR_DOMAIN_EVENT_SHUTDOWN_HOST] = "host",
};
static const char *const crashed_names[] = {
	[VIR_DOMAIN_EVENT_CRASHED_PANICKED] = "panicked",
};

static const struct {
	const char *name;
	const char *const *details;
	size_t ndetails;
} event_names[] = {
#define EV(e, n, d) [e] = { n, d, sizeof(d) / sizeof(d[0]) }
#define EV0(e, n) [e] = { n, NULL, 0 }
	EV0(VIR_DOMAIN_EVENT_DEFINED, "defined"),
	EV0(VIR_DOMAIN_EVENT_UNDEFINED, "undefined"),
	EV(VIR_DOMAIN_EVENT_STARTED, "started", started_names),
	EV(VIR_DOMAIN_EVENT_SUSPENDED, "suspended", suspended_names),
	EV(VIR_DOMAIN_EVENT_RESUMED, "resumed", resumed_names),
	EV(VIR_DOMAIN_EVENT_STOPPED, "stopped", stopped_names),
	EV(VIR_DOMAIN_EVENT_SHUTDOWN, "shutdown", shutdown_names),
	EV0(VIR_DOMAIN_EVENT_PMSUSPENDED, "pmsuspended"),
	EV(VIR_DOMAIN_EVENT_CRASHED, "crashed", crashed_names),
#undef EV
#undef EV0
};

/* Writes "EVENT DETAIL" into buf; numbers stand in for names unknown here. */
static void
event_str(int event, int detail, char *buf, size_t sz)
{
	const char *en = NULL, *dn = NULL;
	size_t ne = sizeof(event_names) / sizeof(event_names[0]);

	if (event >= 0 && (size_t)event < ne) {
		en = event_names[event].name;
		if (detail >= 0 && (size_t)detail < event_names[event].ndetails)
			dn = event_names[event].details[detail];
	}
	if (en && dn)
		snprintf(buf, sz, "%s %s", en, dn);
	else if (en)
		snprintf(buf, sz, "%s %d", en, detail);
	else
		snprintf(buf, sz, "event-%d %d", event, detail);
}

static void
quiet_errors(void *opaque, virErrorPtr err)
{
	/* Errors are reported where they matter, with virGetLastErrorMessage. */
}

static void
lv_error(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, virGetLastErrorMessage());
}

static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
    void *opaque)
{
	struct vboot *vb = opaque;
	unsigned char uuid[VIR_UUID_BUFLEN];
	char what[64];

	/*
	 * The callback watches every domain on the connection, because ours
	 * has no handle before it exists.  The event loop only dispatches
	 * while vboot_wait() runs it, after vb->uuid is known.
	 */
	if (vb->dom == NULL || virDomainGetUUID(dom, uuid) < 0 ||
	    memcmp(uuid, vb->uuid, sizeof(uuid)) != 0)
		return 0;
	event_str(event, detail, what, sizeof(what));
	if (vb->verbose)
		fprintf(stderr, PROG ": event %s\n", what);
	if (vb->ended)
		return 0;
	if (event == VIR_DOMAIN_EVENT_STOPPED ||
	    (event == VIR_DOMAIN_EVENT_CRASHED && vb->preserve)) {
		vb->ended = 1;
		vb->event = event;
		vb->detail = detail;
	}
	return 0;
}

static void
on_timeout(int timer, void *opaque)
{
	struct vboot *vb = opaque;

	vb->timed_out = 1;
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct vboot *vb = opaque;

	vb->conn_lost = 1;
}

static void
on_signal_fd(int watch, int fd, int events, void *opaque)
{
	struct vboot *vb = opaque;
	char c;

	while (read(fd, &c, 1) == 1)
		;
	vb->interrupted = 1;
}

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	/* If the pipe is full, a wake-up is pending already. */
	if (write(sig_pipe[1], &c, 1) < 0) {
	}
	errno = saved;
}

/* Reads the whole of path into a NUL-terminated string, or NULL. */
static char *
read_file(const char *path)
{
	FILE *f;
	char *buf;
	size_t len;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(XML_MAX + 1)) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		fclose(f);
		return NULL;
	}
	len = fread(buf, 1, XML_MAX + 1, f);
	if (ferror(f) || len > XML_MAX) {
		fprintf(stderr, PROG ": %s: %s\n", path,
		    ferror(f) ? "read error" : "larger than 1 MiB");
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/*
 * Whether the domain keeps its crashed state (on_crash preserve) instead
 * of being stopped by libvirt: then the crash event is the last one.
 * libvirt formats the element canonically, so a substring test is exact.
 */
static int
crash_preserved(virDomainPtr dom, int *preserve)
{
	char *xml;

	if ((xml = virDomainGetXMLDesc(dom, 0)) == NULL) {
		lv_error("reading the domain's XML");
		return -1;
	}
	*preserve = strstr(xml, "<on_crash>preserve</on_crash>") != NULL;
	free(xml);
	return 0;
}

static int
signals_init(void)
{
	struct sigaction sa;
	int i;

	if (pipe(sig_pipe) < 0) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++) {
		if (fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK) < 0 ||
		    fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC) < 0) {
			fprintf(stderr, PROG ": fcntl: %s\n", strerror(errno));
			return -1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0) {
		fprintf(stderr, PROG ": sigaction: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Whether the connection is to an embedded driver (qemu:///embed?root=),
 * which refuses VIR_DOMAIN_START_AUTODESTROY (libvirt 9.0: "not supported
 * for embedded drivers yet").  Its domains are this process's children
 * anyway; main() destroys them on every path it controls.
 */
static int
conn_embedded(virConnectPtr conn)
{
	char *uri;
	int embedded;

	if ((uri = virConnectGetURI(conn)) == NULL)
		return 0;
	embedded = strstr(uri, ":///embed") != NULL;
	free(uri);
	return embedded;
}

/* Creates the domain; the lifecycle callback is already registered. */
static int
vboot_start(struct vboot *vb, const char *xml, int keep)
{
	unsigned int flags = VIR_DOMAIN_START_PAUSED;
	int state, reason;

	if (!keep && !conn_embedded(vb->conn))
		flags |= VIR_DOMAIN_START_AUTODESTROY;
	if ((vb->dom = virDomainCreateXML(vb->conn, xml, flags)) == NULL) {
		lv_error("creating the domain");
		return -1;
	}
	if (virDomainGetUUID(vb->dom, vb->uuid) < 0) {
		lv_error("reading the domain's UUID");
		return -1;
	}
	if (crash_preserved(vb->dom, &vb->preserve) < 0)
		return -1;
	/*
	 * Created paused, so that the guest cannot end while libvirt is still
	 * setting it up: a guest that makes QEMU exit at once (isa-debug-exit)
	 * failed virDomainCreateXML itself with "qemu unexpectedly closed the
	 * monitor".  The resume may fail the same way; then the domain is no
	 * longer paused (it is gone), and its events tell how it ended.
	 */
	if (virDomainResume(vb->dom) < 0 &&
	    virDomainGetState(vb->dom, &state, &reason, 0) == 0 &&
	    state == VIR_DOMAIN_PAUSED) {
		lv_error("starting the domain's CPUs");
		return -1;
	}
	return 0;
}

/* Runs the event loop until the domain ends, time runs out or a signal. */
static int
vboot_wait(struct vboot *vb, int timeout_ms)
{
	int timer, watch = -1, rc = -1;

	if ((timer = virEventAddTimeout(timeout_ms, on_timeout, vb, NULL)) < 0) {
		lv_error("adding a timer");
		return -1;
	}
	watch = virEventAddHandle(sig_pipe[0], VIR_EVENT_HANDLE_READABLE,
	    on_signal_fd, vb, NULL);
	if (watch < 0) {
		lv_error("watching the signal pipe");
		goto out;
	}
	while (!vb->ended && !vb->timed_out && !vb->interrupted &&
	    !vb->conn_lost) {
		if (virEventRunDefaultImpl() < 0) {
			lv_error("running the event loop");
			goto out;
		}
	}
	rc = 0;
out:
	if (watch >= 0)
		virEventRemoveHandle(watch);
	virEventRemoveTimeout(timer);
	return rc;
}

/* Destroys the domain if it still runs; a domain already gone is fine. */
static void
vboot_destroy(struct vboot *vb)
{
	int state, reason;

	if (vb->dom == NULL || virDomainGetState(vb->dom, &state, &reason,
	    0) < 0)
		return;
	if (state != VIR_DOMAIN_SHUTOFF && virDomainDestroy(vb->dom) < 0)
		lv_error("destroying the domain");
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-kv] [-t seconds] uri domain.xml\n");
	exit(VB_USAGE);
}

int
main(int argc, char **argv)
{
	struct vboot vb;
	char *xml = NULL, *end, what[64];
	int ch, keep = 0, cb = -1, close_cb = 0, status = VB_ERROR;
	long timeout_s = 30;

	memset(&vb, 0, sizeof(vb));
	while ((ch = getopt(argc, argv, "kt:v")) != -1) {
		switch (ch) {
		case 'k':
			keep = 1;
			break;
		case 't':
			errno = 0;
			timeout_s = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || timeout_s < 1 ||
			    timeout_s > INT_MAX / 1000)
				usage();
			break;
		case 'v':
			vb.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();

	virSetErrorFunc(NULL, quiet_errors);
	if ((xml = read_file(argv[optind + 1])) == NULL)
		return VB_ERROR;
	if (signals_init() < 0)
		goto out;
	/* The embedded driver needs the event loop before the connection. */
	if (virEventRegisterDefaultImpl() < 0) {
		lv_error("registering the event loop");
		goto out;
	}
	if ((vb.conn = virConnectOpen(argv[optind])) == NULL) {
		lv_error(argv[optind]);
		goto out;
	}
	if (virConnectRegisterCloseCallback(vb.conn, on_close, &vb, NULL) == 0)
		close_cb = 1;	/* drivers without one (embed) just can't lose it */
	cb = virConnectDomainEventRegisterAny(vb.conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
	    &vb, NULL);
	if (cb < 0) {
		lv_error("registering for lifecycle events");
		goto out;
	}
	if (vboot_start(&vb, xml, keep) < 0 ||
	    vboot_wait(&vb, (int)timeout_s * 1000) < 0)
		goto out;

	if (vb.ended) {
		event_str(vb.event, vb.detail, what, sizeof(what));
		printf("%s\n", what);
		status = VB_ENDED;
		if (vb.event == VIR_DOMAIN_EVENT_CRASHED && !keep)
			vboot_destroy(&vb);
	} else if (vb.conn_lost) {
		fprintf(stderr, PROG ": lost the connection to %s\n",
		    argv[optind]);
	} else {
		printf("%s\n", vb.timed_out ? "timeout" : "interrupted");
		fprintf(stderr, PROG ": %s; destroying the domain\n",
		    vb.timed_out ? "timed out" : "interrupted");
		vboot_destroy(&vb);
		status = VB_TIMEOUT;
	}
out:
	if (vb.dom && status == VB_ERROR && !vb.conn_lost)
		vboot_destroy(&vb);
	if (vb.dom)
		virDomainFree(vb.dom);
	if (cb >= 0)
		virConnectDomainEventDeregisterAny(vb.conn, cb);
	if (close_cb)
		virConnectUnregisterCloseCallback(vb.conn, on_close);
	if (vb.conn)
		virConnectClose(vb.conn);
	if (sig_pipe[0] >= 0) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
	}
	free(xml);
	if (fflush(stdout) != 0)
		status = VB_ERROR;
	return status;
}
