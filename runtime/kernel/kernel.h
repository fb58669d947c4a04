/*
 * kernel.h - interfaces between the files of runtime/kernel/.  The
 * application sees rt.h; Xen sees platform.h; this is everything else.
 */
#ifndef RT_KERNEL_KERNEL_H
#define RT_KERNEL_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "bootinfo.h"
#include "rt.h"

/* platform.c: which hypervisor, found once at boot from CPUID. */
enum rt_platform_id {
	RT_PLATFORM_NONE,
	RT_PLATFORM_TCG,
	RT_PLATFORM_KVM,
	RT_PLATFORM_XEN,
};

struct rt_platform {
	enum rt_platform_id id;
	const char *name;		/* rt_info.platform */
	uint32_t leaf;			/* CPUID base of its leaves, or 0 */
	uint32_t kvm_features;		/* CPUID leaf + 1, EAX, on KVM */
	int xen_up;			/* xen_init() succeeded */
	uint32_t cpuid1_ecx;		/* CPUID.1:ECX, asked once */
};
extern struct rt_platform rt_platform;

#define KVM_FEATURE_CLOCKSOURCE2	(1u << 3)

void platform_detect(void);

/* console.c: where rt_console_write() goes, and printing for the runtime. */
__attribute__((format(printf, 1, 0))) int console_vprintf(const char *fmt,
    va_list ap);

/* serial.c: COM1, a 16550, set up at the first write. */
void serial_write(const char *buf, size_t len);
/* Waits until the last byte has left the UART: before the guest ends. */
void serial_flush(void);

/* clock.c: the monotonic clock and the TSC.  clock_init() picks the
 * source (kvmclock, Xen, or the TSC calibrated against the PIT). */
void clock_init(void);
uint64_t clock_tsc_hz(void);			/* 0 if unknown */
uint64_t clock_tsc_to_ns(uint64_t ticks);	/* 0 if the rate is unknown */
uint64_t clock_ns_to_tsc(uint64_t ns);		/* saturates */
const char *clock_source(void);

/* apic.c: the local APIC and its timer; the legacy PICs masked.
 * apic_init() picks the timer's mode (after clock_init()); the hardware
 * is set up at the first apic_timer_arm(). */
void apic_init(void);
/* Arms the one-shot timer to interrupt at or a little after (deadline),
 * or disarms it for RT_TIME_INFINITY. */
void apic_timer_arm(uint64_t deadline);
void apic_eoi(void);
const char *apic_timer_mode(void);
/* This CPU's APIC ID, for routing interrupts to it; sets the APIC up
 * (and masks the PICs) if the timer has not yet. */
uint32_t apic_id(void);
#define RT_VECTOR_TIMER		0xf0
#define RT_VECTOR_SPURIOUS	0xff

/* timer.c: the interrupt side of the event loop. */
void timer_interrupt(void);

/*
 * timer.c: event sources of the event loop (runtime/drivers/, the
 * network glue in runtime/net/rtnet.c).  While any is registered,
 * rt_poll() asks each before it halts; it wakes at least every
 * RT_POLL_INTERVAL_NS to ask again while any source has (polled) set
 * (a device whose interrupts are not wired).
 *
 * A source has either (ready) or (service):
 * - (ready)(arg) answers non-zero when the source has something for its
 *   owner, which makes rt_poll() return, counted as one event; it must
 *   not call rt_poll().
 * - (service)(arg, now, &next) does the source's work itself (drains a
 *   device into a stack, runs its timers and the callbacks they call) and
 *   returns how many events it handled, which rt_poll() adds to its count;
 *   it stores in (*next) when it wants to be called again even if nothing
 *   arrives (RT_TIME_INFINITY: never).  It may call rt_timer_set() and
 *   anything but rt_poll(), rt_sleep_ns() and rt_run().
 * Both run with interrupts off.  The struct is the caller's, held from
 * rt_poll_source_add() on, for ever.
 */
struct rt_poll_source {
	struct rt_poll_source *next;	/* the runtime's */
	int (*ready)(void *arg);
	int (*service)(void *arg, uint64_t now, uint64_t *next);
	void *arg;
	int polled;			/* no interrupt: wake to ask */
};
#define RT_POLL_INTERVAL_NS	RT_NSEC_PER_MSEC
void rt_poll_source_add(struct rt_poll_source *s);

/*
 * irq.c: device interrupts.  A driver hands in a struct rt_irq (its
 * own, held for ever) and gets its interrupt delivered to a vector of
 * its own: from an IOAPIC input (a GSI) or as a message (MSI/MSI-X).
 * (fn)(arg) runs in interrupt context, interrupts off, before the EOI:
 * it may only acknowledge the device (so that a level-triggered line
 * drops) and count; the interrupt's purpose is to end the CPU's halt
 * in rt_poll(), which then asks the event sources.  Handlers of one
 * shared GSI all run, in the order they were attached.
 */
struct rt_irq {
	struct rt_irq *next;		/* the runtime's */
	void (*fn)(void *arg);
	void *arg;
};
/* Trigger mode and polarity of an IOAPIC input. */
#define IRQ_EDGE	0
#define IRQ_LEVEL	1
#define IRQ_HIGH	0
#define IRQ_LOW		2
/* Routes (gsi) with (flags) to a vector and (h): the vector, or
 * -RT_ENODEV when no IOAPIC that the firmware describes serves (gsi),
 * -RT_ENOMEM when the vectors are used up.  An input already routed
 * keeps its vector and flags; (h) joins its handlers. */
int irq_attach_gsi(unsigned gsi, unsigned flags, struct rt_irq *h);
/* A vector for (h), and the message address and data that raise it
 * (edge-triggered, fixed delivery, to this CPU): the vector, or
 * -RT_ENOMEM, or -RT_ENODEV when the APIC ID does not fit a message. */
int irq_attach_msi(struct rt_irq *h, uint64_t *addr, uint32_t *data);
/* trap.c calls it for a vector that is no exception: 1 when it is a
 * device's (its handlers have run), else 0.  The caller sends the EOI. */
int irq_dispatch(unsigned vector);

/* acpi.c: ACPI S5, for a clean poweroff on exit, and the interrupt
 * routing irq.c needs.  acpi_init() notes where the RSDP is (0: search
 * the BIOS area); the tables are found at the first call that needs
 * them.  acpi_poweroff() returns if there is no way to power off. */
void acpi_init(uint64_t rsdp_paddr);
void acpi_poweroff(void);
struct acpi_ioapic {
	uint32_t addr;			/* its registers */
	uint32_t gsi_base;		/* the GSI of its input 0 */
};
/* The IOAPICs of the MADT, at most (max) of them into (out): how many
 * (0 without ACPI or a MADT). */
int acpi_ioapics(struct acpi_ioapic *out, int max);
/* The GSI of ISA IRQ (irq) in (*gsi) and its IRQ_* flags in (*flags):
 * what the MADT's interrupt source overrides say, else (irq) itself,
 * and (*flags) keeps what the caller put there where they say nothing
 * (a trigger mode or polarity that conforms to the bus). */
void acpi_isa_irq(unsigned irq, unsigned *gsi, unsigned *flags);
/* The interrupt of the device whose registers start at (base), from the
 * DSDT's resource templates (a Memory32Fixed at (base), then an
 * Extended Interrupt): 0 and (*gsi), (*flags), or -RT_ENOENT. */
int acpi_mmio_irq(uint64_t base, unsigned *gsi, unsigned *flags);

/* boot.c: the one checked accessor to guest-physical memory (bootinfo.h):
 * readable is [4 KiB, 4 GiB) less the stack guard page. */
extern const struct rt_physmem rt_guest_mem;

/* memory.c: the page allocator and heap over the RAM the loader gave.
 * memory_init() takes what is not RAM for the heap out of (bi)'s RAM,
 * which must stay put: memory_heap() builds the allocator and the heap on
 * it at its first call. */
struct rt_heap;
void memory_init(struct rt_bootinfo *bi);
struct rt_heap *memory_heap(void);
size_t memory_heap_free(void);
/* (n) zeroed, contiguous pages from the page allocator, or NULL; never
 * given back.  Below 4 GiB, where virtual == physical: for device rings
 * and buffers (runtime/drivers/). */
void *memory_pages_alloc(size_t n);

/*
 * exit.c: the ends of the guest (docs/runtime.md, exit protocol).
 * crash_begin() stops interrupts and returns 0, or 1 when a crash is
 * already being reported (a fault inside the report): the caller then
 * skips straight to crash_end().
 */
int crash_begin(void);
__attribute__((noreturn)) void crash_end(const char *reason);
void crash_backtrace(uint64_t pc, uint64_t rbp);

/* boot.c: 1 when (word) is a whole word of the command line (cmdline). */
int cmdline_has_word(const char *cmdline, const char *word);

/* rt_log: "rt: " and a line, for the runtime's own messages. */
__attribute__((format(printf, 1, 2))) void rt_log(const char *fmt, ...);

#endif
