/*
 * cpu.h - x86_64 instructions the runtime needs, as inline functions:
 * CPUID, MSRs, port I/O, the TSC, control registers, halting.  Shared by
 * runtime/kernel/ and runtime/xen/; nothing here has state.
 */
#ifndef RT_ARCH_CPU_H
#define RT_ARCH_CPU_H

#include <stdint.h>

/* Model-specific registers the runtime touches. */
#define MSR_EFER		0xc0000080
#define MSR_EFER_NXE		(1u << 11)
#define MSR_APIC_BASE		0x1b
#define MSR_APIC_BASE_ENABLE	(1u << 11)
#define MSR_APIC_BASE_X2APIC	(1u << 10)
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01

/* CPUID.1 feature bits (ECX, EDX) and CPUID.0x80000001 (EDX). */
#define CPUID1_ECX_X2APIC	(1u << 21)
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)
#define CPUID1_ECX_HYPERVISOR	(1u << 31)
#define CPUID1_EDX_APIC		(1u << 9)
#define CPUID80000001_EDX_NX	(1u << 20)

struct cpuid {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid
cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid r;

	__asm__ volatile("cpuid"
	    : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
	    : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t
rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void
wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
	    :
	    : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	    : "memory");
}

static inline uint8_t
inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void
outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* (n) bytes of (buf) to (port) in one instruction: a hypervisor that
 * exits to its device model hands it the whole string at once (KVM
 * does), where a loop of outb would exit once a byte. */
static inline void
outsb(uint16_t port, const void *buf, unsigned long n)
{
	__asm__ volatile("rep outsb"
	    : "+S"(buf), "+c"(n)
	    : "d"(port)
	    : "memory");
}

static inline void
outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void
outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t
inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t
inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Not serialising: callers that time a code path accept a few cycles of
 * slop rather than pay for LFENCE or RDTSCP on every clock read. */
static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#define DEFINE_CR(n)						\
static inline uint64_t						\
read_cr##n(void)						\
{								\
	uint64_t v;						\
								\
	__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));	\
	return v;						\
}								\
static inline void						\
write_cr##n(uint64_t v)						\
{								\
	__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); \
}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void
cpu_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void
irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/*
 * Enables interrupts and halts in one step: STI holds interrupts off for
 * one more instruction, so an interrupt that became pending before the
 * STI still wakes the HLT instead of being taken (and lost) in between.
 * Interrupts are off again on return.
 */
static inline void
cpu_wait_irq(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* Stops this CPU for good. */
__attribute__((noreturn)) static inline void
cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

#endif
