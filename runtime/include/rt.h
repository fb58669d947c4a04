/*
 * rt.h - the interface between a unikernel application and the runtime.
 * This header is the whole of it; docs/runtime.md describes the rest.
 *
 * The application defines rt_main() and links with libruntime.a and
 * runtime/runtime.ld.  Besides this header it may use the small libc in
 * runtime/libc/include (<string.h>, <stdio.h> for snprintf, <stdlib.h> for
 * strtol and the heap, <ctype.h>, <assert.h>, <errno.h>).
 *
 * RULES, for every call below unless its comment says otherwise:
 *
 * Errors.  A call that can fail returns an int: 0 (or a count) on success,
 *   or a negative RT_E* code on failure, and then it has changed nothing.
 *   The codes are Linux's errno numbers, negated, so they read the same as
 *   <errno.h>.  A call that returns void cannot fail.  Misuse that cannot
 *   be reported (a pointer to memory the guest does not have) crashes the
 *   guest, as any wild access does.
 *
 * Ownership.  What the runtime hands the application (struct rt_info, the
 *   strings and the boot module it points to) is the runtime's, read-only,
 *   and valid until the guest ends.  What the application passes in is
 *   borrowed for the duration of the call, except a struct rt_timer, which
 *   the runtime holds from rt_timer_set() until its callback starts or
 *   rt_timer_cancel() returns.
 *
 * Concurrency.  One CPU, one thread, no preemption.  Interrupts only wake
 *   the CPU; callbacks run only inside rt_poll(), rt_run() and
 *   rt_sleep_ns(), on the caller's stack, never from an interrupt.  So the
 *   application needs no locks, and a callback may call anything here,
 *   including rt_poll() again.
 *
 * Time.  Times are uint64_t nanoseconds.  Monotonic time counts from an
 *   unspecified origin at or before boot and never goes backwards; a
 *   deadline is a monotonic time.  RT_TIME_INFINITY is a deadline that
 *   never comes.
 *
 * Memory.  malloc(), calloc(), realloc() and free() (<stdlib.h>) are the
 *   runtime's heap, over the RAM the loader listed less the kernel image
 *   and the boot module.  Blocks are 16-byte aligned; NULL means memory is
 *   short, or a size computation (calloc's n * size) would overflow.
 *   malloc(0) returns a distinct block; realloc(p, 0) keeps (p) and
 *   returns it.  No memory is shared with the host.
 *
 * Stack.  32 KiB, shared by the application, its callbacks and the
 *   runtime, with an unmapped guard page below it: overflowing it crashes
 *   the guest with a report, it never silently corrupts memory.
 *
 * Ending.  The guest ends when rt_main() returns (its value is the exit
 *   code), when rt_exit() is called, or on a crash: a CPU exception,
 *   rt_panic(), a failed assert(), or free() of a pointer the heap did not
 *   hand out.  How the host learns which, and the exit code, is the exit
 *   protocol of docs/runtime.md.
 */
#ifndef RT_H
#define RT_H

#include <stddef.h>
#include <stdint.h>

#define RT_ENOENT	2
#define RT_EAGAIN	11
#define RT_ENOMEM	12
#define RT_ENODEV	19
#define RT_EINVAL	22
#define RT_ENOSYS	38
#define RT_ETIMEDOUT	110

#define RT_TIME_INFINITY	UINT64_MAX
#define RT_NSEC_PER_SEC		1000000000ULL
#define RT_NSEC_PER_MSEC	1000000ULL
#define RT_NSEC_PER_USEC	1000ULL

/* What the runtime knows at start-up, handed to rt_main(). */
struct rt_info {
	/* "kvm", "xen", "tcg" (QEMU's emulator) or "none" (no hypervisor
	 * the runtime recognises). */
	const char *platform;
	/* The kernel command line, NUL-terminated; "" when there is none.
	 * At most RT_CMDLINE_MAX - 1 bytes: a longer one is cut there.  The
	 * runtime reads words of it too: "rt.bootstages", which prints the
	 * boot's stages before rt_main(), and "rt.netpoll", which has
	 * network devices polled instead of interrupting (docs/runtime.md). */
	const char *cmdline;
	/* The first boot module (an initrd), or NULL and 0 when there is
	 * none; module_cmdline is "" when the loader gave none. */
	const void *module;
	size_t module_size;
	const char *module_cmdline;
	/* Where monotonic time comes from: "kvmclock", "xen-pvclock", "tsc"
	 * (rate from CPUID) or "tsc (PIT-calibrated)"; and how the CPU is
	 * woken for timers: "tsc-deadline", "x2apic one-shot" or "xapic
	 * one-shot".  For diagnostics: do not parse them. */
	const char *clock;
	const char *timer;
	/* Bytes of memory the heap had free when rt_main() was called. */
	size_t heap_free;
	/* Time from the kernel's first instruction to the call of
	 * rt_main(), measured with the TSC; 0 if the TSC rate is unknown. */
	uint64_t boot_ns;
};

#define RT_CMDLINE_MAX	4096

/*
 * Provided by the application: called once, after the runtime is set up,
 * with (info).  Its return value is the exit code, as for rt_exit().
 */
int rt_main(const struct rt_info *info);

/*
 * The value of the word "(key)=value" of the command line (cmdline): a
 * pointer just past the "=", to a value that ends at the next space or
 * the end; for a bare word "(key)" a pointer to its end (an empty
 * value); NULL when there is no such word.  A later word wins.
 */
const char *rt_cmdline_get(const char *cmdline, const char *key);

/*
 * Ends the guest with exit code (code) modulo 256: the console gets the
 * trailer "=== rt: exit N ===" and the host the code where it can carry
 * it (docs/runtime.md).  Never returns.
 */
__attribute__((noreturn)) void rt_exit(int code);

/*
 * Ends the guest as a crash: prints "rt: panic: " and the message (fmt)
 * formats as printf() would, a stack trace and the trailer
 * "=== rt: crash (panic) ===".  Never returns.
 */
__attribute__((noreturn, format(printf, 1, 2))) void rt_panic(
    const char *fmt, ...);

/*
 * Writes (len) bytes of (buf) to the console: COM1 on KVM, QEMU and bare
 * hardware, the PV console on Xen.  Returns when the bytes have left the
 * guest; the runtime adds nothing (write "\n" yourself).
 */
void rt_console_write(const char *buf, size_t len);

/*
 * Formats (fmt) as printf() would, with the conversions of the runtime's
 * libc (no floating point: docs/runtime.md), and writes the result to the
 * console as it is produced.  Returns the number of bytes written, or
 * -RT_EINVAL when the output would pass INT_MAX bytes (what was produced
 * until then has been written).
 */
__attribute__((format(printf, 1, 2))) int rt_printf(const char *fmt, ...);

/*
 * Monotonic time now (see RULES), from kvmclock or Xen's pvclock when the
 * hypervisor has them, else from the TSC calibrated at boot.
 */
uint64_t rt_time_monotonic_ns(void);

/*
 * Wall-clock time now, in nanoseconds since 1970-01-01 00:00:00 UTC, or 0
 * when the platform has no wall clock.  Read from kvmclock or Xen at the
 * first call, else from the CMOS real-time clock (whole seconds), then
 * advanced with the monotonic clock: it does not follow later changes of
 * the host's clock.
 */
uint64_t rt_time_wall_ns(void);

/*
 * One-shot timers.  The application owns the struct (static, on the heap
 * or on a stack frame that outlives the timer); its members are the
 * runtime's.  A timer is armed from rt_timer_set() until its callback
 * starts or rt_timer_cancel(); the callback gets (t) and the (arg) given
 * to rt_timer_set(), and may set the timer again.
 */
struct rt_timer;
typedef void rt_timer_fn(struct rt_timer *t, void *arg);

struct rt_timer {
	struct rt_timer *rt_next;	/* the runtime's */
	uint64_t rt_deadline;
	rt_timer_fn *rt_fn;
	void *rt_arg;
};

/*
 * Arms (t) to call (fn)(t, (arg)) once the monotonic time reaches
 * (deadline); a deadline already past fires at the next rt_poll().  An
 * armed (t) is moved to the new deadline.  Timers due at the same time
 * fire in the order they were set.  Returns 0, or -RT_EINVAL when (t) or
 * (fn) is NULL or (deadline) is RT_TIME_INFINITY.
 */
int rt_timer_set(struct rt_timer *t, uint64_t deadline, rt_timer_fn *fn,
    void *arg);

/*
 * Disarms (t).  Returns 0 if it was armed, -RT_ENOENT if it was not (its
 * callback has started, or it was never set); (t) may then be reused or
 * freed.  (t) need not be initialised: the runtime looks it up, it does
 * not trust its members.
 */
int rt_timer_cancel(struct rt_timer *t);

/*
 * The event loop.  Runs the callbacks of the timers that are due; if none
 * was, halts the CPU until the next timer, an event, or (deadline),
 * whichever is first, and runs what became due.  Returns the number of
 * callbacks run (0 when (deadline) passed first), plus one for each
 * network device that has frames waiting (such a device also ends the
 * wait, woken by its interrupt).  It never spins: the CPU is halted
 * with interrupts on while it waits (with a polled device, it wakes
 * every millisecond to ask it: docs/runtime.md, "Network devices").
 */
int rt_poll(uint64_t deadline);

/*
 * Sleeps for (ns) nanoseconds, halted: rt_poll() until the monotonic time
 * has advanced by (ns), so callbacks due meanwhile run inside it.
 */
void rt_sleep_ns(uint64_t ns);

/*
 * Runs the event loop until there is nothing left that could run a
 * callback (no armed timer and no network stack up: rt_net_up()), then
 * returns 0.  A kernel with its network up serves until rt_exit().
 */
int rt_run(void);

/*
 * Network.  The runtime's TCP/IP stack (runtime/net/net.h, whose calls
 * an application makes with the stack below and rt_time_monotonic_ns()
 * as their time) on the guest's first network device: virtio-net on KVM
 * and QEMU, netfront on Xen.  rt_net_up() brings it up once; from then on
 * the event loop drives it: received frames, the stack's timers and the
 * callbacks of its sockets run inside rt_poll(), and rt_run() serves
 * until rt_exit().  docs/net.md describes the stack, docs/runtime.md
 * ("Network") this binding.
 */
struct net_stack;

/* What rt_net_up() found and set, for the application to print. */
struct rt_net_info {
	const char *driver;		/* "virtio-net", "xen-netfront" */
	const char *transport;		/* "virtio-pci", "virtio-mmio"... */
	uint8_t mac[6];
	uint32_t ip, netmask, gateway;	/* host byte order, 0: none */
	int dhcp;			/* 1: the address is a DHCP lease */
};

/*
 * Finds the first network device and starts the stack on it, configured
 * from the command line's words "ip=A.B.C.D/N", "gw=A.B.C.D" and
 * "mac=xx:xx:xx:xx:xx:xx"; without "ip=" (or with "ip=dhcp") it asks
 * DHCP and waits, running the event loop, at most (timeout_ns) for a
 * lease.  Stores the stack in (*sp) and, when (ni) is not NULL, what it
 * set in (*ni).  Returns 0; -RT_ETIMEDOUT when no lease came in time (the
 * stack is up and the client keeps asking: *sp and *ni are set);
 * -RT_ENODEV without a device; -RT_EINVAL for a malformed word on the
 * command line, or when the network is already up; or the driver's
 * error.
 */
int rt_net_up(const struct rt_info *info, uint64_t timeout_ns,
    struct net_stack **sp, struct rt_net_info *ni);

#endif
