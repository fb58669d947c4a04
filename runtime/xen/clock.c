/*
 * clock.c - time under Xen: the shared info page, mapped at a page of our
 * .bss, holds vCPU 0's pvclock (vcpu_time_info: Xen's system time, ns
 * since Xen booted, as a scale of this vCPU's TSC) and the wall clock at
 * system time 0 (wc_*).  The core does the pvclock arithmetic
 * (rt_pvclock_read).
 */
#include "xen.h"

#include "../arch/x86_64/cpu.h"
#include "rt.h"

volatile struct xen_shared_info *xen_shared;

/* Xen puts its shared info page at this frame; the RAM page that was
 * there goes back to Xen. */
static uint8_t shared_page[XEN_PAGE_SIZE]
    __attribute__((aligned(XEN_PAGE_SIZE)));
static uint64_t tsc_hz;
static uint64_t last_ns;	/* the clock never goes backwards */

int
xen_clock_init(uint32_t leaf)
{
	struct xen_add_to_physmap xatp = {
		.domid = XEN_DOMID_SELF,
		.space = XEN_XENMAPSPACE_SHARED_INFO,
		.idx = 0,
		.gpfn = (uint64_t)(uintptr_t)shared_page / XEN_PAGE_SIZE,
	};
	long rc;

	rc = xen_hypercall2(XEN_HC_MEMORY_OP, XEN_XENMEM_ADD_TO_PHYSMAP, &xatp);
	if (rc != 0)
		return (int)rc;
	xen_shared = (volatile struct xen_shared_info *)shared_page;
	xen_console_mask();
	tsc_hz = rt_pvclock_tsc_hz(&xen_shared->vcpu_info[0].time);
	if (tsc_hz == 0)
		tsc_hz = (uint64_t)cpuid(leaf + XEN_LEAF_TIME, 0).ecx * 1000;
	return 0;
}

uint64_t
xen_clock_monotonic_ns(void)
{
	uint64_t now, last;

	if (xen_shared == NULL)
		return 0;
	now = rt_pvclock_read(&xen_shared->vcpu_info[0].time);
	/* an interrupt may read the clock between our load and our store */
	last = __atomic_load_n(&last_ns, __ATOMIC_RELAXED);
	do {
		if (now <= last)
			return last;
	} while (!__atomic_compare_exchange_n(&last_ns, &last, now, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return now;
}

uint64_t
xen_clock_wall_ns(void)
{
	volatile struct xen_shared_info *s = xen_shared;
	uint32_t version, nsec;
	uint64_t sec;

	if (s == NULL)
		return 0;
	do {
		version = __atomic_load_n(&s->wc_version, __ATOMIC_ACQUIRE);
		sec = (uint64_t)s->wc_sec_hi << 32 | s->wc_sec;
		nsec = s->wc_nsec;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((version & 1) != 0 || version != s->wc_version);
	if (sec == 0 && nsec == 0)
		return 0;
	return sec * 1000000000ull + nsec + xen_clock_monotonic_ns();
}

uint64_t
xen_clock_tsc_hz(void)
{
	return tsc_hz;
}
