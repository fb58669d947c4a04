/*
 * xenbus.h - what runtime/xen/ offers the drivers of Xen's split devices
 * (runtime/drivers/xen-netfront.c): event channels, grant tables and the
 * xenstore client, the three things a frontend needs to meet its backend
 * (docs/runtime.md, Xen netfront).
 *
 * RULES, as rt.h's: calls that can fail return a negative RT_E* code;
 * what is passed in is borrowed for the call.  One CPU, no threads: none
 * of this may run in interrupt context, and every wait here is bounded and
 * blocks the vCPU in SCHEDOP_poll (interrupts off or on, no callbacks run).
 * All of it needs xen_init() to have succeeded (rt_platform.xen_up), and
 * says -RT_ENODEV otherwise.
 */
#ifndef RT_XEN_XENBUS_H
#define RT_XEN_XENBUS_H

#include <stddef.h>
#include <stdint.h>

#include "../kernel/platform.h"	/* xen_clock_monotonic_ns() */

/*
 * Event channels (2-level ABI, through the shared info page).  A port is
 * never bound to an upcall here: drivers poll (docs/runtime.md, Xen).
 */
void xen_evtchn_send(uint32_t port);
void xen_evtchn_mask(uint32_t port);
void xen_evtchn_clear(uint32_t port);
/* Non-zero when (port) is pending. */
int xen_evtchn_pending(uint32_t port);
/* Blocks until (port) is pending or the system time passes (deadline_ns)
 * (0: no deadline; Xen's system time, xen_clock_monotonic_ns()), with
 * interrupts on or off.  Clear the port, check what
 * you wait for, then poll: an event in between is not lost. */
void xen_evtchn_poll(uint32_t port, uint64_t deadline_ns);
/* A fresh port that domain (remote) may bind to, masked, in (*port).
 * Returns 0, or -RT_ENOMEM when Xen has no port left. */
int xen_evtchn_alloc_unbound(uint16_t remote, uint32_t *port);
void xen_evtchn_close(uint32_t port);

/*
 * Grant tables (version 1).  The table is mapped at the first grant: its
 * frames are put over pages taken from the page allocator.
 *
 * xen_gnttab_grant() lets domain (domid) use the page at (page) (page
 * aligned, below 4 GiB), read-only when (readonly) is non-zero, and
 * returns its grant reference (>= 0), or -RT_ENOMEM when every entry is
 * in use, -RT_EINVAL for an unaligned page.
 *
 * xen_gnttab_end() takes access away again and frees (ref): 0, or
 * -RT_EAGAIN when the other domain still has the page mapped or is copying
 * (the grant then stays as it was), or -RT_EINVAL when (ref) was not
 * granted.
 */
int xen_gnttab_grant(uint16_t domid, const void *page, int readonly);
int xen_gnttab_end(uint32_t ref);

/*
 * The xenstore client, through the ring page and event channel Xen names
 * in HVM_PARAM_STORE_PFN and HVM_PARAM_STORE_EVTCHN.  A (path) without a
 * leading '/' is relative to this domain's home, /local/domain/<domid>/.
 * Each request waits at most XEN_STORE_TIMEOUT_NS for its reply.
 * Requests are not in a transaction (docs/runtime.md says why none is
 * needed).  Errors: -RT_ENOENT (no such node), -RT_ETIMEDOUT (xenstored
 * did not answer in time), -RT_EAGAIN, -RT_ENOMEM, -RT_ENOSYS (xenstored's
 * EAGAIN, ENOMEM or ENOSPC, ENOSYS), -RT_EINVAL (any other refusal, a
 * (path) or value too long for the protocol, or a ring the daemon broke:
 * then every later request fails too), -RT_ENODEV (no xenstore).
 */
#define XEN_STORE_TIMEOUT_NS	(5 * 1000000000ULL)

/* Reads (path) into (buf) of (size) bytes, NUL-terminated, and returns its
 * length; -RT_EINVAL when the value does not fit (or holds a NUL). */
int xen_store_read(const char *path, char *buf, size_t size);
/* Reads (path) as a decimal number of at most (max) into (*value). */
int xen_store_read_uint(const char *path, unsigned long max,
    unsigned long *value);
/* Writes (value), a string, to (path), creating the node. */
int xen_store_write(const char *path, const char *value);
/* Lists (path)'s children into (buf) of (size) bytes: names, each
 * NUL-terminated, one after the other; returns the bytes used (0: none),
 * -RT_EINVAL when they do not fit. */
int xen_store_directory(const char *path, char *buf, size_t size);

/*
 * Xenbus (the xenstore conventions of split devices): a device's state
 * node holds one of these.
 */
enum xen_bus_state {
	XEN_BUS_UNKNOWN,
	XEN_BUS_INITIALISING,
	XEN_BUS_INIT_WAIT,
	XEN_BUS_INITIALISED,
	XEN_BUS_CONNECTED,
	XEN_BUS_CLOSING,
	XEN_BUS_CLOSED,
	XEN_BUS_RECONFIGURING,
	XEN_BUS_RECONFIGURED,
};

/*
 * Reads (dir)/state until it is (want) or later in the handshake, for at
 * most (timeout_ns), re-reading every few milliseconds (no watch is set),
 * and stores the last state read in (*state).  Returns 0 when it got
 * there, -RT_EINVAL when it went to Closing or Closed instead (when (want)
 * is earlier), -RT_ETIMEDOUT, or a read's error.
 */
int xen_bus_wait_state(const char *dir, enum xen_bus_state want,
    uint64_t timeout_ns, enum xen_bus_state *state);

/* Drivers on xenbus (runtime/drivers/), for netdev_probe() (netdev.h). */
struct netdev;
int xen_netfront_probe(const char *cmdline, struct netdev **devp);

#endif
