/*
 * xenstore.c - a xenstore client over the ring page Xen names in
 * HVM_PARAM_STORE_PFN, and xenbus' state waits on top of it.
 *
 * One request at a time: the request (header, payload) goes into the req
 * ring, the event channel is sent, and replies are read from the rsp ring
 * until the one that carries our request's id.  Anything else there (a
 * watch event, which we never ask for; the late reply to a request that
 * timed out) is read and dropped, so the stream stays in step.  Every
 * wait for the daemon (room in req, bytes in rsp) blocks in SCHEDOP_poll
 * on the store's masked event channel with a deadline; a wait that ends
 * in the middle of a message leaves the rings out of step for good, and
 * the client then refuses every request (-RT_EINVAL).
 *
 * No transactions: a frontend writes only under its own device directory,
 * which nobody else writes until it says so through its state node,
 * written last; xenstored applies one connection's requests in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen.h"

#include "../kernel/kernel.h"
#include "rt.h"

#define XS_POLL_NS	(10 * RT_NSEC_PER_MSEC)	/* re-check this often */
#define XS_STATE_POLL_NS (5 * RT_NSEC_PER_MSEC)	/* xen_bus_wait_state */

static volatile struct xen_xs_ring *ring;
static uint32_t port;
static uint32_t next_id;
static int xs_error;		/* non-zero: no xenstore, or out of step */

static int
xs_init(void)
{
	uint64_t pfn, evtchn;

	if (ring != NULL || xs_error != 0)
		return xs_error;
	xs_error = -RT_ENODEV;
	/* the deadlines need Xen's clock, which needs shared info */
	if (!rt_platform.xen_up || xen_shared == NULL)
		return xs_error;
	if (xen_hvm_get_param(XEN_HVM_PARAM_STORE_PFN, &pfn) != 0 ||
	    xen_hvm_get_param(XEN_HVM_PARAM_STORE_EVTCHN, &evtchn) != 0)
		return xs_error;
	/* the core maps the first 4 GiB; Xen puts the page just below it */
	if (pfn == 0 || pfn >= (1ull << (32 - 12)) || evtchn == 0 ||
	    evtchn >= XEN_EVTCHN_WORDS * 64)
		return xs_error;
	ring = (volatile struct xen_xs_ring *)(uintptr_t)(pfn * XEN_PAGE_SIZE);
	port = (uint32_t)evtchn;
	xen_evtchn_mask(port);
	xs_error = 0;
	return 0;
}

/*
 * Waits until the daemon moves (*idx) away from (seen): 0, or
 * -RT_ETIMEDOUT at (deadline).  The notification first: the daemon may be
 * waiting for what we just wrote or for the room we just made.
 */
static int
xs_wait(volatile uint32_t *idx, uint32_t seen, uint64_t deadline)
{
	uint64_t now;

	xen_evtchn_send(port);
	for (;;) {
		xen_evtchn_clear(port);
		if (__atomic_load_n(idx, __ATOMIC_ACQUIRE) != seen)
			return 0;
		now = xen_clock_monotonic_ns();
		if (now >= deadline)
			return -RT_ETIMEDOUT;
		xen_evtchn_poll(port, now + XS_POLL_NS < deadline ?
		    now + XS_POLL_NS : deadline);
	}
}

/* How much of (len) bytes can go at free-running index (idx) of a ring
 * with (avail) bytes free or waiting, without wrapping. */
static uint32_t
xs_chunk(uint32_t idx, uint32_t avail, size_t len)
{
	uint32_t n = XEN_XS_RING_SIZE - idx % XEN_XS_RING_SIZE;

	if (n > avail)
		n = avail;
	return len < n ? (uint32_t)len : n;
}

/* Copies (len) bytes of (data) into the request ring. */
static int
xs_put(const void *data, size_t len, uint64_t deadline)
{
	const char *p = data;
	uint32_t cons, prod, n;
	int r;

	while (len > 0) {
		cons = __atomic_load_n(&ring->req_cons, __ATOMIC_ACQUIRE);
		prod = ring->req_prod;
		if (prod - cons > XEN_XS_RING_SIZE)
			return -RT_EINVAL;	/* the daemon broke the ring */
		if (prod - cons == XEN_XS_RING_SIZE) {
			if ((r = xs_wait(&ring->req_cons, cons, deadline)) != 0)
				return r;
			continue;
		}
		n = xs_chunk(prod, XEN_XS_RING_SIZE - (prod - cons), len);
		memcpy((char *)ring->req + prod % XEN_XS_RING_SIZE, p, n);
		/* the bytes before the index that publishes them */
		__atomic_store_n(&ring->req_prod, prod + n, __ATOMIC_RELEASE);
		p += n;
		len -= n;
	}
	return 0;
}

/* Takes (len) bytes out of the reply ring into (data), or drops them when
 * (data) is NULL. */
static int
xs_get(void *data, size_t len, uint64_t deadline)
{
	char *p = data;
	uint32_t cons, prod, n;
	int r;

	while (len > 0) {
		prod = __atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE);
		cons = ring->rsp_cons;
		if (prod - cons > XEN_XS_RING_SIZE)
			return -RT_EINVAL;
		if (prod == cons) {
			if ((r = xs_wait(&ring->rsp_prod, prod, deadline)) != 0)
				return r;
			continue;
		}
		n = xs_chunk(cons, prod - cons, len);
		if (p != NULL) {
			memcpy(p, (const char *)ring->rsp + cons % XEN_XS_RING_SIZE,
			    n);
			p += n;
		}
		/* the bytes are read before the daemon may overwrite them */
		__atomic_store_n(&ring->rsp_cons, cons + n, __ATOMIC_RELEASE);
		len -= n;
	}
	return 0;
}

/* xenstored's error names (xs_wire.h) as RT_E* codes. */
static int
xs_errno(const char *name)
{
	static const struct {
		const char *name;
		int code;
	} map[] = {
		{ "ENOENT", -RT_ENOENT }, { "EAGAIN", -RT_EAGAIN },
		{ "ENOMEM", -RT_ENOMEM }, { "ENOSPC", -RT_ENOMEM },
		{ "ENOSYS", -RT_ENOSYS },
	};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(name, map[i].name) == 0)
			return map[i].code;
	return -RT_EINVAL;
}

/*
 * One request of (type) whose payload is (a) of (alen) bytes then (b) of
 * (blen); the reply's payload goes to (reply) of (size) bytes.  Returns
 * the reply's length, or an error.
 */
static int
xs_request(uint32_t type, const void *a, size_t alen, const void *b,
    size_t blen, char *reply, size_t size)
{
	struct xen_xs_msg m = {
		.type = type,
		.len = (uint32_t)(alen + blen),
	};
	uint64_t deadline;
	char err[16];
	int r;

	if ((r = xs_init()) != 0)
		return r;
	if (alen + blen > XEN_XS_PAYLOAD_MAX)
		return -RT_EINVAL;
	m.req_id = ++next_id;
	deadline = xen_clock_monotonic_ns() + XEN_STORE_TIMEOUT_NS;
	/* Out of step if it stops half-way: only a broken daemon can. */
	if ((r = xs_put(&m, sizeof m, deadline)) != 0 ||
	    (r = xs_put(a, alen, deadline)) != 0 ||
	    (r = xs_put(b, blen, deadline)) != 0)
		goto broken;
	xen_evtchn_send(port);
	for (;;) {
		/* Nothing of the reply read yet: a timeout here leaves the
		 * stream in step (the late reply is dropped by its id). */
		if (__atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE) ==
		    ring->rsp_cons &&
		    (r = xs_wait(&ring->rsp_prod, ring->rsp_cons, deadline)) != 0)
			return r;
		if ((r = xs_get(&m, sizeof m, deadline)) != 0)
			goto broken;
		if (m.len > XEN_XS_PAYLOAD_MAX) {
			r = -RT_EINVAL;
			goto broken;
		}
		if (m.req_id != next_id || m.type == XEN_XS_WATCH_EVENT) {
			if ((r = xs_get(NULL, m.len, deadline)) != 0)
				goto broken;
			continue;
		}
		break;
	}
	if (m.type == XEN_XS_ERROR) {
		memset(err, 0, sizeof err);
		if ((r = xs_get(err, m.len < sizeof err - 1 ? m.len :
		    sizeof err - 1, deadline)) != 0 ||
		    (m.len > sizeof err - 1 &&
		    (r = xs_get(NULL, m.len - (sizeof err - 1), deadline)) != 0))
			goto broken;
		return xs_errno(err);
	}
	if (m.type != type) {
		r = -RT_EINVAL;
		goto broken;
	}
	if (m.len > size) {
		if ((r = xs_get(NULL, m.len, deadline)) != 0)
			goto broken;
		return -RT_EINVAL;
	}
	if ((r = xs_get(reply, m.len, deadline)) != 0)
		goto broken;
	return (int)m.len;
broken:
	xs_error = -RT_EINVAL;
	return r;
}

int
xen_store_read(const char *path, char *buf, size_t size)
{
	int n;

	if (size == 0)
		return -RT_EINVAL;
	n = xs_request(XEN_XS_READ, path, strlen(path) + 1, NULL, 0, buf,
	    size - 1);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return memchr(buf, '\0', (size_t)n) == NULL ? n : -RT_EINVAL;
}

int
xen_store_read_uint(const char *path, unsigned long max, unsigned long *value)
{
	char buf[24], *end;
	unsigned long v;
	int n;

	if ((n = xen_store_read(path, buf, sizeof buf)) < 0)
		return n;
	if (n == 0 || buf[0] < '0' || buf[0] > '9')
		return -RT_EINVAL;
	v = strtoul(buf, &end, 10);
	if (*end != '\0' || v > max)
		return -RT_EINVAL;
	*value = v;
	return 0;
}

int
xen_store_write(const char *path, const char *value)
{
	char ok[8];
	int n;

	n = xs_request(XEN_XS_WRITE, path, strlen(path) + 1, value,
	    strlen(value), ok, sizeof ok);
	return n < 0 ? n : 0;
}

int
xen_store_directory(const char *path, char *buf, size_t size)
{
	int n;

	n = xs_request(XEN_XS_DIRECTORY, path, strlen(path) + 1, NULL, 0, buf,
	    size);
	if (n < 0)
		return n;
	/* names, each NUL-terminated: the last byte must be one */
	return n > 0 && buf[n - 1] != '\0' ? -RT_EINVAL : n;
}

int
xen_bus_wait_state(const char *dir, enum xen_bus_state want,
    uint64_t timeout_ns, enum xen_bus_state *state)
{
	char path[128];
	unsigned long v;
	uint64_t now, deadline;
	int r;

	if ((size_t)snprintf(path, sizeof path, "%s/state", dir) >= sizeof path)
		return -RT_EINVAL;
	if ((r = xs_init()) != 0)
		return r;
	deadline = xen_clock_monotonic_ns() + timeout_ns;
	for (;;) {
		if ((r = xen_store_read_uint(path, XEN_BUS_RECONFIGURED,
		    &v)) != 0)
			return r;
		*state = (enum xen_bus_state)v;
		if (v == want || (v > want && v < XEN_BUS_CLOSING))
			return 0;
		if (v == XEN_BUS_CLOSING || v == XEN_BUS_CLOSED)
			return -RT_EINVAL;
		now = xen_clock_monotonic_ns();
		if (now >= deadline)
			return -RT_ETIMEDOUT;
		/* a sleep: nothing signals the store's port unasked */
		xen_evtchn_poll(port, now + XS_STATE_POLL_NS < deadline ?
		    now + XS_STATE_POLL_NS : deadline);
	}
}
