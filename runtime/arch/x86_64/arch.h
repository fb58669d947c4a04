/*
 * arch.h - what runtime/arch/x86_64/ offers the runtime core: descriptor
 * tables and page protections, the trap frame, and the symbols the boot
 * code and the linker script (runtime.ld) define.
 */
#ifndef RT_ARCH_ARCH_H
#define RT_ARCH_ARCH_H

/* Segment selectors of the boot GDT (pvh.S). */
#define SEL_CODE	0x08
#define SEL_DATA	0x10
#define SEL_TSS		0x18

/* Exceptions the runtime names; 0..31 are the CPU's. */
#define VEC_NMI		2
#define VEC_DF		8
#define VEC_PF		14
#define VEC_MC		18
#define VEC_FIRST_IRQ	32
#define VEC_RUNTIME	0xf0	/* 0xf0..0xff: the runtime's own vectors */

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * Registers at a trap, as traps.S pushes them: general registers, then
 * the vector and the error code (0 where the CPU pushes none), then what
 * the CPU pushed.
 */
struct rt_trapframe {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Called by traps.S for every vector, interrupts off; in kernel/trap.c. */
void rt_trap(struct rt_trapframe *tf);

/* The C entry, in kernel/boot.c: (si_paddr) is where the PVH loader put
 * struct hvm_start_info; called on the boot stack, never returns. */
__attribute__((noreturn)) void rt_boot(uint32_t si_paddr);

/* The TSC at the kernel's first instruction, and when long mode was
 * reached (pvh.S). */
extern uint64_t rt_boot_tsc, rt_boot_tsc_long;

/* Linker script symbols: use their addresses. */
extern char _rt_image_start[], _rt_text_end[], _rt_rodata_end[];
extern char _rt_stack_guard[], _rt_stack_bottom[], _rt_stack_top[];
extern char _rt_ist_bottom[], _rt_ist_top[], _rt_image_end[];
extern char _rt_hypercall_start[], _rt_hypercall_end[];

/* Loads the IDT (exceptions and vectors 0xf0 and up) and the TSS, whose
 * IST1 serves #DF, NMI and #MC; pvh.S builds both. */
void arch_init_traps(void);

/* Opens (vector) of the IDT: its interrupts then reach rt_trap(). */
void arch_set_gate(unsigned vector);

/*
 * Called on a page fault at (addr) with the CPU's (error) code: maps the
 * 2 MiB page of (addr) if it lies in [2 MiB, 4 GiB) and is not mapped yet,
 * and returns 1 (retry the access), else 0 (a real fault).  Mapping on
 * first touch writes a handful of entries instead of 2048, which matters
 * under hypervisors that trap or emulate each write.
 */
int arch_map_on_fault(uint64_t addr, uint64_t error);

/*
 * The page tables are set before rt_boot() runs (pvh.S): the first 4 GiB
 * identity-mapped (beyond 2 MiB on first touch, above), page 0 and the
 * stack guard page left out, the image's text (and Xen's hypercall page)
 * read-only and executable, read-only data read-only, everything else
 * non-executable when the CPU has NX; CR0.WP makes read-only hold for the
 * kernel too.
 */

#endif /* !__ASSEMBLER__ */
#endif
