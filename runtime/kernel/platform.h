/*
 * platform.h - the hooks through which the runtime core (runtime/kernel/)
 * drives Xen (runtime/xen/).  The core owns boot, memory, the event loop,
 * the local APIC and the exit and crash protocol (docs/runtime.md); the
 * Xen code owns everything that talks to Xen.
 *
 * The core defines every hook as a weak default (kernel/platform-stubs.c)
 * that says "not Xen", so a runtime without runtime/xen/ links and runs;
 * the Xen code's ordinary (strong) definitions replace them.  Kernels link
 * libruntime.a whole (--whole-archive, then --gc-sections), which is what
 * makes a strong definition in the archive win over the weak one.
 *
 * Context of every hook, unless its comment says otherwise: one CPU, ring 0,
 * interrupts off, paging on with the first 4 GiB identity-mapped (virtual
 * address == physical address, write-back; beyond the first 2 MiB a page
 * is mapped at its first touch, by the page-fault handler, so any address
 * below 4 GiB just works), exceptions reported, on the boot stack (32 KiB,
 * shared with the application), no SSE or x87.  There is no heap when the
 * first hooks run: pages the Xen code needs (hypercall page, shared info)
 * are static, page-aligned objects in its .bss.  The core maps .bss
 * non-executable, except the section ".bss.xen_hypercall_page", which
 * runtime/runtime.ld gathers on pages of their own that are mapped
 * read-only and executable (Xen fills the page through guest-physical
 * memory, so the guest never needs to write it).
 *
 * Order of calls:
 *   xen_detect()          once the CPU's tables are set, before any output
 *   xen_init()            once, only if xen_detect() returned a leaf
 *   xen_console_write()   from then on, any number of times
 *   xen_clock_*()         after xen_init() returned 0
 *   xen_upcall()          in interrupt context, see below
 *   xen_shutdown()        last
 */
#ifndef RT_KERNEL_PLATFORM_H
#define RT_KERNEL_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

struct hvm_start_info;

/*
 * Returns the CPUID leaf base (0x40000000 + n * 0x100) at which the
 * "XenVMMXenVMM" signature was found, or 0 when not running on Xen.  Must
 * not print (there is no console yet) and must have no side effects.
 */
uint32_t xen_detect(void);

/*
 * Sets Xen up: hypercall page (from (leaf) + 2), shared info, console ring
 * and event channel.  (si) is the PVH start info the core has already
 * checked (magic and version), for what the Xen code may want of it.
 * Returns 0, or a negative RT_E* code (rt.h); on failure the core carries
 * on as platform "xen" without a console, and still calls xen_shutdown().
 */
int xen_init(uint32_t leaf, const struct hvm_start_info *si);

/*
 * Writes (len) bytes of (buf) to the PV console and returns when they are
 * in the ring and the backend was notified.  Also called on the crash path
 * (from an exception handler, interrupts off), so it must not sleep on an
 * interrupt: when the ring is full it polls, and it must not wait for ever
 * (give up after a bound and drop the rest).
 */
void xen_console_write(const char *buf, size_t len);

/*
 * Monotonic time in nanoseconds from Xen's pvclock (vCPU 0's
 * vcpu_time_info in shared info), never going backwards between calls.
 * rt_pvclock_read() below does the arithmetic.  Called with interrupts on
 * or off.
 */
uint64_t xen_clock_monotonic_ns(void);

/*
 * Wall-clock time now, in nanoseconds since the Unix epoch, from shared
 * info's wc_* fields plus system time; 0 if Xen does not provide it.
 */
uint64_t xen_clock_wall_ns(void);

/*
 * The TSC frequency in Hz (from the pvclock scale, or CPUID leaf
 * (leaf) + 3), or 0 if unknown.  The core arms the local APIC timer in
 * TSC-deadline mode with it and converts boot-time TSC stamps.
 */
uint64_t xen_clock_tsc_hz(void);

/*
 * Called in interrupt context when vector RT_VECTOR_XEN_UPCALL fires (the
 * Xen code registers that vector with HVMOP_set_evtchn_upcall_vector if it
 * wants event-channel upcalls).  The core sends the local APIC its EOI
 * after this returns; the hook must not.  Interrupts are taken only while
 * the core halts the CPU in its event loop, never inside other hooks.
 */
#define RT_VECTOR_XEN_UPCALL 0xf3
void xen_upcall(void);

/*
 * Ends the domain: SCHEDOP_shutdown with SHUTDOWN_crash when (crash) is
 * non-zero, SHUTDOWN_poweroff otherwise.  The core has already written
 * the console trailer.  Returns only if Xen refused; the core then halts.
 */
void xen_shutdown(int crash);

/*
 * Offered by the core to the platform code: the pvclock arithmetic shared
 * by kvmclock and Xen (same 32-byte layout, the version field odd while
 * the host updates it).  Returns the time in nanoseconds that the
 * structure describes now, from the TSC.
 */
struct rt_pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};
uint64_t rt_pvclock_read(const volatile struct rt_pvclock *pv);

/* The TSC frequency in Hz that a pvclock scale describes. */
uint64_t rt_pvclock_tsc_hz(const volatile struct rt_pvclock *pv);

#endif
