/*
 * clock.c - time: the monotonic clock, the TSC rate, and the wall clock.
 *
 * Sources, best first:
 *   Xen       the pvclock in shared info (runtime/xen/), via platform.h
 *   kvmclock  KVM's pvclock (MSR_KVM_SYSTEM_TIME_NEW), when CPUID says so
 *   TSC       at a rate from CPUID (leaf 0x15, or a hypervisor's timing
 *             leaf 0x40000010), else measured against the PIT at boot
 *
 * The TSC source counts from the kernel's first instruction; the others
 * from when the hypervisor started the VM.  The wall clock is read once,
 * at the first rt_time_wall_ns(), and then advances with the monotonic
 * clock.
 */
#include <string.h>

#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "kernel.h"
#include "platform.h"

#define NSEC		1000000000ULL
#define PIT_HZ		1193182ULL
#define PIT_CH0		0x40
#define PIT_CMD		0x43
#define PIT_TICKS	2386	/* 2 ms: 0.1% at worst from the I/O slop */

enum source { SRC_NONE, SRC_XEN, SRC_KVM, SRC_TSC };

static enum source source;
static uint64_t tsc_hz;
static uint64_t tsc_to_ns_mul;	/* ns = ticks * mul >> 32 */
static uint64_t ns_to_tsc_mul;	/* ticks = ns * mul >> 24 */
static uint64_t last_ns;	/* the clock never goes backwards */
static const char *source_name = "none";

static volatile struct rt_pvclock kvm_time __attribute__((aligned(64)));
static volatile struct {
	uint32_t version, sec, nsec;
} kvm_wall __attribute__((aligned(16)));

uint64_t
rt_pvclock_read(const volatile struct rt_pvclock *pv)
{
	uint64_t tsc, stamp, sys, delta;
	uint32_t version, mul;
	int8_t shift;

	do {
		version = pv->version;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		stamp = pv->tsc_timestamp;
		sys = pv->system_time;
		mul = pv->tsc_to_system_mul;
		shift = pv->tsc_shift;
		tsc = rdtsc();
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((version & 1) != 0 || version != pv->version);
	/* RDTSC is not ordered with the loads; a stamp newer than our TSC
	 * reads as no time passed rather than as centuries. */
	delta = tsc > stamp ? tsc - stamp : 0;
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return sys + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t
rt_pvclock_tsc_hz(const volatile struct rt_pvclock *pv)
{
	uint64_t q;
	int8_t shift = pv->tsc_shift;

	if (pv->tsc_to_system_mul == 0 || shift > 31 || shift < -31)
		return 0;
	q = (NSEC << 32) / pv->tsc_to_system_mul;
	return shift >= 0 ? q >> shift : q << -shift;
}

static void
set_tsc_hz(uint64_t hz)
{
	tsc_hz = hz;
	if (hz == 0)
		return;
	tsc_to_ns_mul = (NSEC << 32) / hz;
	ns_to_tsc_mul = (hz << 24) / NSEC;
}

uint64_t
clock_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t
clock_tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * tsc_to_ns_mul) >> 32);
}

uint64_t
clock_ns_to_tsc(uint64_t ns)
{
	unsigned __int128 t = ((unsigned __int128)ns * ns_to_tsc_mul) >> 24;

	return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

const char *
clock_source(void)
{
	return source_name;
}

/* The TSC rate from CPUID, or 0: leaf 0x15 (crystal clock and ratio) on
 * Intel, or the timing leaf (EAX: TSC kHz) that KVM and VMware offer. */
static uint64_t
tsc_hz_cpuid(void)
{
	struct cpuid r;

	if (cpuid(0, 0).eax >= 0x15) {
		r = cpuid(0x15, 0);
		if (r.eax != 0 && r.ebx != 0 && r.ecx != 0)
			return (uint64_t)r.ecx * r.ebx / r.eax;
	}
	if (rt_platform.leaf != 0 &&
	    cpuid(rt_platform.leaf, 0).eax >= rt_platform.leaf + 0x10) {
		r = cpuid(rt_platform.leaf + 0x10, 0);
		return (uint64_t)r.eax * 1000;
	}
	return 0;
}

/* PIT channel 0's count, latched. */
static unsigned
pit_count(void)
{
	unsigned lo;

	outb(PIT_CMD, 0x00);		/* latch channel 0 */
	lo = inb(PIT_CH0);
	return lo | (unsigned)inb(PIT_CH0) << 8;
}

/*
 * The TSC rate, from TSC ticks over PIT_TICKS of PIT channel 0 counting
 * down (mode 2) and read back by latching, or 0 when no PIT counts.
 * Channel 0, not the usual channel 2: channel 2's gate is in port 0x61,
 * which QEMU's microvm does not have.  Its interrupt stays masked.
 */
static uint64_t
tsc_hz_pit(void)
{
	unsigned c0, c, spins;
	uint64_t t0, t1;

	outb(PIT_CMD, 0x34);		/* channel 0, lo/hi byte, mode 2 */
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);		/* 65536 */
	/* Start on an edge of the count, not somewhere inside a tick. */
	c0 = pit_count();
	for (spins = 0; (c = pit_count()) == c0; spins++)
		if (spins > 100000)
			return 0;	/* nothing counts: no PIT */
	t0 = rdtsc();
	c0 = c;
	do {
		c = pit_count();
		t1 = rdtsc();
		if (++spins > 10000000)
			return 0;
	} while (((c0 - c) & 0xffff) < PIT_TICKS);
	/* Mode 0 raises its output once and then stays quiet, where mode 2
	 * would keep the host's PIT emulation ticking for nothing. */
	outb(PIT_CMD, 0x30);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
	return (t1 - t0) * PIT_HZ / ((c0 - c) & 0xffff);
}

void
clock_init(void)
{
	uint64_t hz;

	if (rt_platform.id == RT_PLATFORM_XEN && rt_platform.xen_up) {
		source = SRC_XEN;
		source_name = "xen-pvclock";
		set_tsc_hz(xen_clock_tsc_hz());
		return;
	}
	if (rt_platform.id == RT_PLATFORM_KVM &&
	    (rt_platform.kvm_features & KVM_FEATURE_CLOCKSOURCE2) != 0) {
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uintptr_t)&kvm_time | 1);
		if (kvm_time.tsc_to_system_mul != 0) {
			source = SRC_KVM;
			source_name = "kvmclock";
			set_tsc_hz(rt_pvclock_tsc_hz(&kvm_time));
			return;
		}
	}
	source = SRC_TSC;
	source_name = "tsc";
	if ((hz = tsc_hz_cpuid()) == 0 && (hz = tsc_hz_pit()) != 0)
		source_name = "tsc (PIT-calibrated)";
	if (hz < 1000000) {
		/* Nothing to measure against: keep time, if badly. */
		rt_log("warning: TSC rate unknown; assuming 1 GHz");
		hz = NSEC;
	}
	set_tsc_hz(hz);
}

uint64_t
rt_time_monotonic_ns(void)
{
	uint64_t now;

	switch (source) {
	case SRC_XEN:
		now = xen_clock_monotonic_ns();
		break;
	case SRC_KVM:
		now = rt_pvclock_read(&kvm_time);
		break;
	case SRC_TSC:
		now = clock_tsc_to_ns(rdtsc() - rt_boot_tsc);
		break;
	default:
		now = 0;
	}
	/* One CPU, and interrupt handlers do not read the clock: no race. */
	if (now < last_ns)
		return last_ns;
	last_ns = now;
	return now;
}

/* CMOS real-time clock */
#define CMOS_ADDR	0x70
#define CMOS_DATA	0x71

static unsigned
cmos_read(uint8_t reg)
{
	outb(CMOS_ADDR, reg);
	return inb(CMOS_DATA);
}

static unsigned
from_bcd(unsigned v, int binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0x0f);
}

static int
is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Seconds since the epoch of a UTC date, or 0 when it is not one. */
static uint64_t
epoch_seconds(unsigned y, unsigned mon, unsigned d, unsigned h, unsigned mi,
    unsigned s)
{
	static const unsigned short mdays[12] = { 31, 28, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };
	uint64_t days = 0;
	unsigned i, feb29 = is_leap(y) ? 1 : 0;

	if (y < 1970 || y > 2199 || mon < 1 || mon > 12 || d < 1 ||
	    d > mdays[mon - 1] + (mon == 2 ? feb29 : 0) || h > 23 ||
	    mi > 59 || s > 59)
		return 0;
	for (i = 1970; i < y; i++)
		days += is_leap(i) ? 366 : 365;
	for (i = 1; i < mon; i++)
		days += mdays[i - 1] + (i == 2 ? feb29 : 0);
	days += d - 1;
	return ((days * 24 + h) * 60 + mi) * 60 + s;
}

/* The date and time registers, read outside an update (the RTC sets
 * the update flag 244 us before it changes them). */
static void
cmos_regs(unsigned r[6])
{
	static const uint8_t regs[6] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09 };
	unsigned i;

	for (i = 0; i < 100000 && (cmos_read(0x0a) & 0x80) != 0; i++)
		continue;
	for (i = 0; i < 6; i++)
		r[i] = cmos_read(regs[i]);
}

/* The RTC's time in whole seconds since the epoch, or 0. */
static uint64_t
cmos_time(void)
{
	unsigned r[6], again[6], b, tries, hour, year;
	int binary, pm;

	for (tries = 0; tries < 10; tries++) {
		cmos_regs(r);
		cmos_regs(again);
		if (memcmp(r, again, sizeof(r)) == 0)
			break;
	}
	if ((b = cmos_read(0x0b)) == 0xff)
		return 0;			/* no RTC */
	binary = (b & 0x04) != 0;
	pm = (b & 0x02) == 0 && (r[2] & 0x80) != 0;
	hour = from_bcd(r[2] & 0x7f, binary);
	if ((b & 0x02) == 0)			/* 12-hour clock */
		hour = hour % 12 + (pm ? 12 : 0);
	/* No century register to trust: hosts live in 1970..2069. */
	year = from_bcd(r[5], binary);
	year += year >= 70 ? 1900 : 2000;
	return epoch_seconds(year, from_bcd(r[4], binary),
	    from_bcd(r[3], binary), hour, from_bcd(r[1], binary),
	    from_bcd(r[0], binary));
}

/* Wall-clock ns at monotonic time 0, from the platform; 0 if unknown. */
static uint64_t
wall_at_zero(void)
{
	uint64_t now, s;
	uint32_t version;

	switch (source) {
	case SRC_XEN:
		now = xen_clock_wall_ns();
		return now != 0 ? now - rt_time_monotonic_ns() : 0;
	case SRC_KVM:
		/* KVM writes the wall clock of system time 0 when asked. */
		wrmsr(MSR_KVM_WALL_CLOCK_NEW, (uintptr_t)&kvm_wall);
		do {
			version = kvm_wall.version;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s = kvm_wall.sec * NSEC + kvm_wall.nsec;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
		} while ((version & 1) != 0 || version != kvm_wall.version);
		return s;
	default:
		s = cmos_time();
		now = rt_time_monotonic_ns();
		return s * NSEC > now ? s * NSEC - now : 0;
	}
}

uint64_t
rt_time_wall_ns(void)
{
	static int asked;
	static uint64_t zero;

	if (!asked) {
		asked = 1;
		zero = wall_at_zero();
	}
	return zero != 0 ? zero + rt_time_monotonic_ns() : 0;
}
