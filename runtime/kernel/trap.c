/*
 * trap.c - every vector lands here (arch/x86_64/traps.S).  Interrupts go
 * to their handler (the timer's, Xen's, or a device's through irq.c); a
 * CPU exception is a crash: its report names the vector, the error code,
 * CR2 and every register, then a stack trace, then the crash protocol
 * (exit.c) tells the host.
 */
#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "kernel.h"
#include "platform.h"

static const char *const exception_name[32] = {
	"divide error", "debug", "non-maskable interrupt", "breakpoint",
	"overflow", "bound range exceeded", "invalid opcode",
	"device not available", "double fault", "coprocessor segment overrun",
	"invalid TSS", "segment not present", "stack-segment fault",
	"general protection fault", "page fault", "reserved 15",
	"x87 floating-point error", "alignment check", "machine check",
	"SIMD floating-point error", "virtualization exception",
	"control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27",
	"hypervisor injection", "VMM communication", "security exception",
	"reserved 31",
};

/* The page-fault error code, in words. */
static void
print_pf_error(uint64_t e)
{
	rt_printf(" (%s, %s, %s%s)", e & 1 ? "protection" : "not present",
	    e & 2 ? "write" : "read", e & 4 ? "user" : "kernel",
	    e & 16 ? ", instruction fetch" : "");
}

static void
print_registers(const struct rt_trapframe *tf)
{
	rt_printf("rt:   rip %016lx  rsp %016lx  rflags %08lx  cs %lx  "
	    "ss %lx\n", tf->rip, tf->rsp, tf->rflags, tf->cs, tf->ss);
	rt_printf("rt:   rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n",
	    tf->rax, tf->rbx, tf->rcx, tf->rdx);
	rt_printf("rt:   rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n",
	    tf->rsi, tf->rdi, tf->rbp, tf->r8);
	rt_printf("rt:   r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n",
	    tf->r9, tf->r10, tf->r11, tf->r12);
	rt_printf("rt:   r13 %016lx  r14 %016lx  r15 %016lx\n",
	    tf->r13, tf->r14, tf->r15);
	rt_printf("rt:   cr0 %016lx  cr2 %016lx  cr3 %016lx  cr4 %016lx\n",
	    read_cr0(), read_cr2(), read_cr3(), read_cr4());
}

__attribute__((noreturn)) static void
exception(const struct rt_trapframe *tf)
{
	uint64_t cr2 = read_cr2(), guard = (uintptr_t)_rt_stack_guard;
	const char *name = exception_name[tf->vector];
	int overflow;

	/* A fault in the guard page, or a double fault that one caused
	 * (pushing the page fault's frame hit the guard page too). */
	overflow = (tf->vector == VEC_PF || tf->vector == VEC_DF) &&
	    cr2 >= guard && cr2 < guard + 4096;
	if (crash_begin())
		crash_end(overflow ? "stack overflow" : name);
	rt_printf("rt: crash: %s (vector %lu) at rip %#lx, error code %#lx",
	    name, tf->vector, tf->rip, tf->error);
	if (tf->vector == VEC_PF)
		print_pf_error(tf->error);
	else if ((tf->error & 2) != 0 && tf->error < 0x10000)
		rt_printf(" (IDT vector %lu, which no handler serves)",
		    tf->error >> 3);
	rt_printf("\n");
	if (tf->vector == VEC_PF || overflow)
		rt_printf("rt: faulting address (cr2) %#lx%s\n", cr2,
		    overflow ? ": the stack guard page, a stack overflow" : "");
	print_registers(tf);
	crash_backtrace(tf->rip, tf->rbp);
	crash_end(overflow ? "stack overflow" : name);
}

void
rt_trap(struct rt_trapframe *tf)
{
	static unsigned unexpected;

	if (tf->vector == VEC_PF && arch_map_on_fault(read_cr2(), tf->error))
		return;
	if (tf->vector < VEC_FIRST_IRQ)
		exception(tf);
	switch (tf->vector) {
	case RT_VECTOR_TIMER:
		timer_interrupt();
		apic_eoi();
		return;
	case RT_VECTOR_XEN_UPCALL:
		xen_upcall();
		apic_eoi();
		return;
	case RT_VECTOR_SPURIOUS:
		return;		/* the APIC wants no EOI for it */
	default:
		/* A device's: its handlers acknowledge it, before the EOI
		 * lets a level-triggered input raise it again. */
		if (irq_dispatch((unsigned)tf->vector)) {
			apic_eoi();
			return;
		}
		/* No device of ours raises it: note it, once, and go on. */
		if (unexpected++ == 0)
			rt_log("warning: unexpected interrupt, vector %lu",
			    tf->vector);
		apic_eoi();
	}
}
