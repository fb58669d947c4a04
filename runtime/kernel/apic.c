/*
 * apic.c - the local APIC, for its timer and for device interrupts (its
 * ID, their EOI): x2APIC (MSRs) when the CPU has it, else xAPIC (MMIO at
 * the base MSR_APIC_BASE names, identity-mapped).
 * The legacy 8259 PICs are masked so that nothing arrives through them:
 * a firmware may have left them on vectors 8..15, where an IRQ would look
 * like a double fault.
 *
 * The timer runs one-shot, in TSC-deadline mode when the CPU has it (no
 * rate to learn: the clock knows the TSC's), else counting down at the
 * APIC's own rate, measured against the clock at the first use.
 *
 * Boot only chooses the mode; the PICs and the APIC are set up when the
 * timer is first armed, which is before interrupts are first enabled
 * (timer.c: rt_poll() arms it, then halts with interrupts on), or when a
 * driver routes an interrupt here (apic_id()).  A kernel that never
 * waits never pays for the MSR writes and port I/O, each a VM exit.
 */
#include "../arch/x86_64/cpu.h"
#include "kernel.h"

#define REG_ID		0x020
#define REG_TPR		0x080
#define REG_EOI		0x0b0
#define REG_SVR		0x0f0
#define REG_LVT_TIMER	0x320
#define REG_LVT_LINT0	0x350
#define REG_TIMER_INIT	0x380
#define REG_TIMER_CUR	0x390
#define REG_TIMER_DIV	0x3e0

#define SVR_ENABLE	0x100
#define LVT_MASKED	0x10000
#define LVT_ONESHOT	0x00000
#define LVT_TSC_DEADLINE 0x40000
#define DIV_BY_1	0x0b

#define PIC1_DATA	0x21
#define PIC2_DATA	0xa1

#define CALIBRATE_NS	1000000ULL	/* 1 ms, once, if ever */

static int x2apic, tsc_deadline, ready;
static volatile uint32_t *mmio;
static uint64_t apic_hz;		/* one-shot mode: counts per second */

static uint32_t
apic_read(uint32_t reg)
{
	return x2apic ? (uint32_t)rdmsr(0x800 + (reg >> 4)) : mmio[reg / 4];
}

static void
apic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		mmio[reg / 4] = v;
}

void
apic_eoi(void)
{
	apic_write(REG_EOI, 0);
}

void
apic_init(void)
{
	x2apic = (rt_platform.cpuid1_ecx & CPUID1_ECX_X2APIC) != 0;
	tsc_deadline = clock_tsc_hz() != 0 &&
	    (rt_platform.cpuid1_ecx & CPUID1_ECX_TSC_DEADLINE) != 0;
}

/* The PICs masked, the local APIC on, its timer's vector and mode set. */
static void
apic_setup(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	ready = 1;
	if (rt_platform.id != RT_PLATFORM_XEN) {
		outb(PIC1_DATA, 0xff);
		outb(PIC2_DATA, 0xff);
	}
	/* Disabled to x2APIC in one step is not allowed: through xAPIC. */
	if ((base & MSR_APIC_BASE_ENABLE) == 0) {
		base |= MSR_APIC_BASE_ENABLE;
		wrmsr(MSR_APIC_BASE, base);
	}
	if (x2apic && (base & MSR_APIC_BASE_X2APIC) == 0) {
		base |= MSR_APIC_BASE_X2APIC;
		wrmsr(MSR_APIC_BASE, base);
	}
	mmio = (volatile uint32_t *)(uintptr_t)(base & 0xfffff000);

	apic_write(REG_TPR, 0);
	apic_write(REG_LVT_LINT0, LVT_MASKED);
	apic_write(REG_SVR, SVR_ENABLE | RT_VECTOR_SPURIOUS);
	apic_write(REG_LVT_TIMER, LVT_MASKED);
	apic_write(REG_LVT_TIMER, RT_VECTOR_TIMER |
	    (tsc_deadline ? LVT_TSC_DEADLINE : LVT_ONESHOT));
	if (!tsc_deadline)
		apic_write(REG_TIMER_DIV, DIV_BY_1);
}

/*
 * The timer's rate where the hypervisor fixes it: Xen's emulated local
 * APIC counts at 100 MHz (a 10 ns bus cycle), KVM's and QEMU's at 1 GHz.
 * Measuring it there is worse than knowing it: under Xen on TCG every
 * clock read traps, and calibrations came out anywhere from 0.4x to 1.5x.
 */
#define XEN_APIC_HZ	100000000ULL
#define QEMU_APIC_HZ	1000000000ULL

static uint64_t
known_hz(void)
{
	switch (rt_platform.id) {
	case RT_PLATFORM_XEN:
		return XEN_APIC_HZ;
	case RT_PLATFORM_KVM:
	case RT_PLATFORM_TCG:
		return QEMU_APIC_HZ;
	default:
		return 0;
	}
}

/* Counts of the APIC timer per second, from a free run of CALIBRATE_NS
 * against the monotonic clock (masked, so that it raises nothing). */
static uint64_t
calibrate(void)
{
	uint64_t t0, t1;
	uint32_t left;

	apic_write(REG_LVT_TIMER, LVT_MASKED | RT_VECTOR_TIMER);
	apic_write(REG_TIMER_INIT, 0xffffffff);
	t0 = rt_time_monotonic_ns();
	do {
		cpu_pause();
		t1 = rt_time_monotonic_ns();
	} while (t1 - t0 < CALIBRATE_NS);
	left = apic_read(REG_TIMER_CUR);
	apic_write(REG_TIMER_INIT, 0);
	apic_write(REG_LVT_TIMER, RT_VECTOR_TIMER | LVT_ONESHOT);
	if (left == 0)
		return 0;
	return (uint64_t)(0xffffffffu - left) * 1000000000ULL / (t1 - t0);
}

uint32_t
apic_id(void)
{
	if (!ready)
		apic_setup();
	/* xAPIC: the ID in bits 24..31; x2APIC: all 32 bits. */
	return x2apic ? apic_read(REG_ID) : apic_read(REG_ID) >> 24;
}

const char *
apic_timer_mode(void)
{
	return tsc_deadline ? "tsc-deadline" : x2apic ? "x2apic one-shot" :
	    "xapic one-shot";
}

void
apic_timer_arm(uint64_t deadline)
{
	uint64_t now, delta, count;

	if (!ready)
		apic_setup();
	if (deadline == RT_TIME_INFINITY) {
		if (tsc_deadline)
			wrmsr(MSR_TSC_DEADLINE, 0);
		else
			apic_write(REG_TIMER_INIT, 0);
		return;
	}
	now = rt_time_monotonic_ns();
	if (tsc_deadline) {
		/* A deadline already past fires at once: what we want. */
		wrmsr(MSR_TSC_DEADLINE, rdtsc() + (deadline > now ?
		    clock_ns_to_tsc(deadline - now) : 0));
		return;
	}
	if (apic_hz == 0 && (apic_hz = known_hz()) == 0 &&
	    (apic_hz = calibrate()) == 0)
		apic_hz = QEMU_APIC_HZ;
	/* At most a second at a time (the event loop waits again), which
	 * keeps the product in 64 bits and the count in 32 for any rate
	 * up to 4 GHz. */
	delta = deadline > now ? deadline - now : 0;
	if (delta > 1000000000ULL)
		delta = 1000000000ULL;
	count = delta * apic_hz / 1000000000ULL;
	if (count > 0xffffffffu)
		count = 0xffffffffu;
	apic_write(REG_TIMER_INIT, count > 0 ? (uint32_t)count : 1);
}
