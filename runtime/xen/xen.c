/*
 * xen.c - finding Xen, the hypercall page, HVM parameters, event channels
 * and ending the domain; xen_init() sets up the console (console.c) and
 * the clock (clock.c).  runtime/kernel/platform.h says when the core calls
 * which hook, and in what context.
 */
#include "xen.h"

#include "../arch/x86_64/cpu.h"
#include "rt.h"

/*
 * Xen writes its stubs into this page by guest-physical address when we
 * name it in its MSR, so our own page tables only need it executable.
 */
uint8_t xen_hypercall_page[XEN_PAGE_SIZE]
    __attribute__((aligned(XEN_PAGE_SIZE), section(XEN_HYPERCALL_SECTION)));
static int hypercalls_ready;

/*
 * Xen's leaves are at 0x40000000, or at 0x40000100 when it offers Viridian
 * (Hyper-V) leaves first.  Linux scans 256 bases; we look at those two,
 * because under KVM every CPUID is a VM exit and this runs on every boot.
 */
#define XEN_CPUID_BASES	2

uint32_t
xen_detect(void)
{
	uint32_t i, leaf;
	struct cpuid r;

	for (i = 0; i < XEN_CPUID_BASES; i++) {
		leaf = XEN_CPUID_FIRST + i * XEN_CPUID_STEP;
		r = cpuid(leaf, 0);
		if (r.ebx == XEN_SIG_EBX && r.ecx == XEN_SIG_ECX &&
		    r.edx == XEN_SIG_EDX &&
		    r.eax >= leaf + XEN_LEAF_HYPERCALL)
			return leaf;
	}
	return 0;
}

static int
hypercall_page_init(uint32_t leaf)
{
	struct cpuid r = cpuid(leaf + XEN_LEAF_HYPERCALL, 0);

	/* EAX: how many pages Xen wants; it always accepts the first alone */
	if (r.eax < 1)
		return -RT_ENODEV;
	wrmsr(r.ebx, (uint64_t)(uintptr_t)xen_hypercall_page);
	/* Xen fills the page at once; an empty stub 0 means it did not. */
	if (xen_hypercall_page[0] == 0)
		return -RT_ENODEV;
	hypercalls_ready = 1;
	return 0;
}

long
xen_hvm_get_param(uint32_t index, uint64_t *value)
{
	struct xen_hvm_param p = {
		.domid = XEN_DOMID_SELF,
		.index = index,
	};
	long rc;

	rc = xen_hypercall2(XEN_HC_HVM_OP, XEN_HVMOP_GET_PARAM, &p);
	if (rc == 0)
		*value = p.value;
	return rc;
}

int
xen_init(uint32_t leaf, const struct hvm_start_info *si)
{
	int rc;

	(void)si;
	if ((rc = hypercall_page_init(leaf)) != 0)
		return rc;
	/* the console first: it works without shared info, if less well */
	if ((rc = xen_console_init()) != 0)
		return rc;
	return xen_clock_init(leaf);
}

void
xen_shutdown(int crash)
{
	struct xen_sched_shutdown s = {
		.reason = crash ? XEN_SHUTDOWN_CRASH : XEN_SHUTDOWN_POWEROFF,
	};

	if (!hypercalls_ready)
		return;
	/* does not return when Xen accepts: the vCPU is never run again */
	(void)xen_hypercall2(XEN_HC_SCHED_OP, XEN_SCHEDOP_SHUTDOWN, &s);
}

void
xen_evtchn_send(uint32_t port)
{
	struct xen_evtchn_send s = { .port = port };

	(void)xen_hypercall2(XEN_HC_EVENT_CHANNEL_OP, XEN_EVTCHNOP_SEND, &s);
}

#define PORT_WORD(port)	((port) / 64 % XEN_EVTCHN_WORDS)
#define PORT_BIT(port)	((uint64_t)1 << (port) % 64)

void
xen_evtchn_mask(uint32_t port)
{
	if (xen_shared != NULL)
		__atomic_fetch_or(&xen_shared->evtchn_mask[PORT_WORD(port)],
		    PORT_BIT(port), __ATOMIC_SEQ_CST);
}

void
xen_evtchn_clear(uint32_t port)
{
	if (xen_shared != NULL)
		__atomic_fetch_and(&xen_shared->evtchn_pending[PORT_WORD(port)],
		    ~PORT_BIT(port), __ATOMIC_SEQ_CST);
}

int
xen_evtchn_pending(uint32_t port)
{
	if (xen_shared == NULL)
		return 0;
	return (__atomic_load_n(&xen_shared->evtchn_pending[PORT_WORD(port)],
	    __ATOMIC_ACQUIRE) & PORT_BIT(port)) != 0;
}

int
xen_evtchn_alloc_unbound(uint16_t remote, uint32_t *port)
{
	struct xen_evtchn_alloc_unbound a = {
		.dom = XEN_DOMID_SELF,
		.remote_dom = remote,
	};
	long rc;

	if (!hypercalls_ready || xen_shared == NULL)
		return -RT_ENODEV;
	rc = xen_hypercall2(XEN_HC_EVENT_CHANNEL_OP, XEN_EVTCHNOP_ALLOC_UNBOUND,
	    &a);
	if (rc != 0)
		return rc == -XEN_ENOSPC ? -RT_ENOMEM : (int)rc;
	/* the 2-level ABI reaches 4096 ports; Xen gives no others to it */
	if (a.port >= XEN_EVTCHN_WORDS * 64) {
		xen_evtchn_close(a.port);
		return -RT_ENOMEM;
	}
	/* masked: no upcall is registered, the driver polls */
	xen_evtchn_mask(a.port);
	*port = a.port;
	return 0;
}

void
xen_evtchn_close(uint32_t port)
{
	struct xen_evtchn_send c = { .port = port };

	(void)xen_hypercall2(XEN_HC_EVENT_CHANNEL_OP, XEN_EVTCHNOP_CLOSE, &c);
}

void
xen_evtchn_poll(uint32_t port, uint64_t deadline_ns)
{
	uint32_t ports[1] = { port };
	struct xen_sched_poll p = {
		.ports = (uint64_t)(uintptr_t)ports,
		.nr_ports = 1,
		.timeout = deadline_ns,
	};

	(void)xen_hypercall2(XEN_HC_SCHED_OP, XEN_SCHEDOP_POLL, &p);
}

/*
 * The upcall vector is not registered (the core's local APIC timer serves
 * under Xen too, and the console polls its port), so this runs only if a
 * later user registers it: acknowledge every pending port so that Xen can
 * deliver the next edge.
 */
void
xen_upcall(void)
{
	volatile struct xen_vcpu_info *vi;
	uint64_t sel, pending;
	unsigned int w;

	if (xen_shared == NULL)
		return;
	vi = &xen_shared->vcpu_info[0];
	vi->evtchn_upcall_pending = 0;
	sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	while (sel != 0) {
		w = (unsigned int)__builtin_ctzll(sel);
		sel &= sel - 1;
		pending = xen_shared->evtchn_pending[w] &
		    ~xen_shared->evtchn_mask[w];
		__atomic_fetch_and(&xen_shared->evtchn_pending[w], ~pending,
		    __ATOMIC_SEQ_CST);
	}
}
