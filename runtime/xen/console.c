/*
 * console.c - the PV console: the output half of the ring page whose frame
 * and event channel Xen gives as HVM parameters, read in dom0 by
 * xenconsoled (which logs it, or hands it to `xl console`).
 *
 * We produce (out_prod), the backend consumes (out_cons); both indexes run
 * free and wrap, and the ring holds out_prod - out_cons bytes.  When the
 * ring is full we wait for the backend with interrupts off, by polling the
 * console's event channel (masked, so that it never raises an upcall), and
 * give up after CONS_WAIT_NS: the crash path writes here too, and a guest
 * whose console nobody reads must still get to its shutdown.
 */
#include "xen.h"

#include "rt.h"

#define CONS_WAIT_NS	1000000000ull	/* how long a full ring may stay full */
#define CONS_POLL_NS	10000000ull	/* re-check at least this often */
#define CONS_YIELDS	1000		/* without a clock: SCHEDOP_yields */

static volatile struct xen_cons_ring *ring;
static uint32_t port;
/* The backend left the ring full for CONS_WAIT_NS: write what fits, do
 * not wait again until it has consumed something. */
static int stalled;
static uint32_t stalled_cons;

int
xen_console_init(void)
{
	uint64_t pfn, evtchn;
	long rc;

	if ((rc = xen_hvm_get_param(XEN_HVM_PARAM_CONSOLE_PFN, &pfn)) != 0)
		return (int)rc;
	if ((rc = xen_hvm_get_param(XEN_HVM_PARAM_CONSOLE_EVTCHN, &evtchn)) != 0)
		return (int)rc;
	/* the core maps the first 4 GiB; Xen puts the page just below it */
	if (pfn == 0 || pfn >= (1ull << (32 - 12)) || evtchn == 0 ||
	    evtchn >= XEN_EVTCHN_WORDS * 64)
		return -RT_ENODEV;
	ring = (volatile struct xen_cons_ring *)(uintptr_t)(pfn * XEN_PAGE_SIZE);
	port = (uint32_t)evtchn;
	return 0;
}

/* Called by xen_clock_init() once shared info is there to mask the port. */
void
xen_console_mask(void)
{
	if (ring != NULL)
		xen_evtchn_mask(port);
}

/*
 * Waits until the backend has moved out_cons past (cons); returns 0 if it
 * did, -1 if it did not in time.
 */
static int
wait_for_backend(uint32_t cons)
{
	uint64_t now, deadline, until;
	int i;

	xen_evtchn_send(port);
	if (xen_shared == NULL) {
		for (i = 0; i < CONS_YIELDS; i++) {
			if (__atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE) != cons)
				return 0;
			(void)xen_hypercall3(XEN_HC_SCHED_OP, XEN_SCHEDOP_YIELD,
			    0, 0);
		}
		return -1;
	}
	now = xen_clock_monotonic_ns();
	deadline = now + CONS_WAIT_NS;
	for (;;) {
		xen_evtchn_clear(port);
		if (__atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE) != cons)
			return 0;
		if (now >= deadline)
			return -1;
		until = now + CONS_POLL_NS < deadline ? now + CONS_POLL_NS :
		    deadline;
		xen_evtchn_poll(port, until);
		now = xen_clock_monotonic_ns();
	}
}

void
xen_console_write(const char *buf, size_t len)
{
	uint32_t prod, cons, used, i, n;

	if (ring == NULL)
		return;
	while (len > 0) {
		cons = __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);
		prod = ring->out_prod;
		used = prod - cons;
		if (used > XEN_CONS_OUT_SIZE)
			return;		/* the backend broke the ring: drop */
		if (stalled && cons != stalled_cons)
			stalled = 0;
		if (used == XEN_CONS_OUT_SIZE) {
			if (stalled || wait_for_backend(cons) != 0) {
				stalled = 1;
				stalled_cons = cons;
				return;
			}
			continue;
		}
		n = XEN_CONS_OUT_SIZE - used;
		if (n > len)
			n = (uint32_t)len;
		for (i = 0; i < n; i++)
			ring->out[(prod + i) % XEN_CONS_OUT_SIZE] = buf[i];
		/* the bytes before the index that publishes them */
		__atomic_store_n(&ring->out_prod, prod + n, __ATOMIC_RELEASE);
		buf += n;
		len -= n;
	}
	xen_evtchn_send(port);
}
