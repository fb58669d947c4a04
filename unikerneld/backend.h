/*
 * backend.h - how unikerneld drives a hypervisor: one table of operations
 * per backend (qemu, libvirt, libxl), chosen at run time by name.
 *
 * Contract, once for the whole header:
 * - Operations return 0 on success and -1 on failure with a stable code in
 *   (e) (err.h), e.g. "backend_unavailable", "backend_start_failed",
 *   "backend_no_such_guest".  Nothing here prints or exits.
 * - A backend owns the guests it starts; it names each by a handle, a
 *   short NUL-terminated string (BACKEND_HANDLE_MAX) that stays valid
 *   across daemon restarts (a pid and a socket path for qemu, a domain
 *   UUID for libvirt, a domid and UUID for libxl), so that the daemon can
 *   store it and adopt the guest again after it was restarted or killed.
 * - Lifecycle changes reach the daemon as events, never by polling: the
 *   backend calls (listener->fn) from a thread of its own, at most once per
 *   guest for its end (exited / crashed / failed / vanished).  The daemon
 *   takes its own lock in the callback; a backend holds none of its locks
 *   while calling it.
 * - Optional members may be NULL; their comment says so.
 */
#ifndef UNIKERNELD_BACKEND_H
#define UNIKERNELD_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "netspec.h"

#define BACKEND_HANDLE_MAX 256

/* The guest's network device (docs/daemon.md, "Guest networks"). */
struct backend_net {
	enum netspec_mode mode;		/* NETSPEC_NONE: no device */
	uint8_t mac[6];			/* netspec_mac() of the instance */
	/* user: forwards from the host (QEMU's hostfwd) */
	const struct netspec_forward *forwards;
	size_t nforwards;
	int outbound;			/* user: the guest may reach out of
					 * the host (QEMU restrict=off) */
	/* bridge: the daemon's bridge, made already (hostnet.h), and for a
	 * backend that makes its own tap (qemu) that tap's name */
	const char *bridge;
	const char *tap;
};

/* What to boot: everything comes from the verified image and the daemon's
 * state directory; paths are absolute. */
struct backend_spec {
	const char *name;		/* instance name, unique per daemon */
	const char *id;			/* instance id, 32 hex digits */
	const char *kernel;		/* the kernel ELF, extracted from the image */
	const char *initrd;		/* boot module, or NULL */
	const char *cmdline;		/* "" when none */
	uint32_t memory_mib;
	uint32_t vcpus;
	const char *console_log;	/* the guest's console goes here */
	const char *run_dir;		/* private per-instance directory */
	struct backend_net net;		/* zero: no network device */
};

/* What a backend can give a guest (struct backend_ops, net). */
#define BACKEND_NET_USER	0x1	/* user networking */
#define BACKEND_NET_FORWARDS	0x2	/* ... with forwards from the host */
#define BACKEND_NET_BRIDGE	0x4	/* a device on the daemon's bridge */

enum backend_event_kind {
	BACKEND_EVENT_RUNNING,	/* the guest started (optional to report) */
	BACKEND_EVENT_EXITED,	/* the guest ended by itself: exit_code */
	BACKEND_EVENT_CRASHED,	/* the guest crashed (pvpanic, Xen crash) */
	BACKEND_EVENT_STOPPED,	/* ended because the daemon stopped it */
	BACKEND_EVENT_FAILED,	/* the hypervisor failed: reason */
};

struct backend_event {
	enum backend_event_kind kind;
	const char *handle;
	int exit_code;		/* EXITED: 0..255, or -1 when the platform
				 * cannot carry it (the console trailer,
				 * docs/runtime.md, then has it) */
	const char *reason;	/* human words, never NULL */
};

struct backend_listener {
	void (*fn)(void *arg, const struct backend_event *ev);
	void *arg;
};

struct backend;	/* a backend's own state, opaque to the daemon */

struct backend_ops {
	const char *name;	/* "qemu", "libvirt", "libxl" */
	unsigned net;		/* BACKEND_NET_*: the network modes it has */

	/* Makes the backend's state from its part of the configuration
	 * (uri: the libvirt URI, the qemu binary...; NULL for defaults) and
	 * checks it can work here (binary present, /dev/kvm, connection).
	 * Events for every guest go to (listener). */
	int (*open)(const char *uri, const struct backend_listener *listener,
	    struct backend **out, struct err *e);

	/* Boots (spec); on success (handle) names the guest. */
	int (*start)(struct backend *b, const struct backend_spec *spec,
	    char handle[BACKEND_HANDLE_MAX], struct err *e);

	/* Asks the guest to stop, then ends it after (grace_ms); the end is
	 * reported as BACKEND_EVENT_STOPPED. */
	int (*stop)(struct backend *b, const char *handle, unsigned grace_ms,
	    struct err *e);

	/* Ends the guest at once (also BACKEND_EVENT_STOPPED). */
	int (*kill)(struct backend *b, const char *handle, struct err *e);

	/* Takes (handle) of a guest started before the daemon restarted
	 * back under supervision: returns 0 if it is still running (its end
	 * will be reported), -1 with "backend_no_such_guest" if it is gone. */
	int (*adopt)(struct backend *b, const char *handle, struct err *e);

	/* Optional: calls (fn) for every guest this backend runs that the
	 * daemon started (by their run_dir/name prefix), to find strays. */
	int (*list)(struct backend *b,
	    void (*fn)(void *arg, const char *handle, const char *name),
	    void *arg, struct err *e);

	/* Releases (b); running guests keep running. */
	void (*close)(struct backend *b);
};

/* The compiled-in backends, NULL-terminated, and one by name (NULL when
 * unknown or not built). */
extern const struct backend_ops *const backend_all[];
const struct backend_ops *backend_find(const char *name);

/* Whether (ops) can give a guest the network (ns): 0, or -1 with
 * "network_unsupported" saying what the backend lacks. */
int backend_net_check(const struct backend_ops *ops, const struct netspec *ns,
    struct err *e);

#endif
