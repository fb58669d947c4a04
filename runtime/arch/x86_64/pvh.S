/*
 * pvh.S - the PVH entry point: ELF notes for the loaders, then 32-bit
 * protected mode to long mode and into C (kernel/boot.c).
 *
 * PVH enters at the PHYS32_ENTRY address in 32-bit protected mode, paging
 * off, flat CS/DS/ES/SS, interrupts off, with %ebx holding the physical
 * address of struct hvm_start_info; GDTR, IDTR and the stack are ours to
 * set up.  The boot page tables map only the first 2 MiB; arch.c replaces
 * them before anything else runs.
 */
#include "arch.h"

#define XEN_ELFNOTE_LOADER		8
#define XEN_ELFNOTE_PHYS32_ENTRY	18

#define PTE_P		0x001
#define PTE_W		0x002
#define PTE_PS		0x080
#define CR0_PE		0x00000001
#define CR0_WP		0x00010000
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define EFER_LME	0x00000100
#define MSR_EFER_ASM	0xc0000080

/* An ELF note owned by "Xen": type, then the descriptor's bytes. */
.macro xen_note type, desc_start, desc_end
	.balign 4
	.long 4				/* namesz: "Xen\0" */
	.long \desc_end - \desc_start	/* descsz */
	.long \type
	.asciz "Xen"
.endm

	.section .note.Xen, "a", @note
	/* Xen's ELF loader wants a loader name besides the entry point. */
	xen_note XEN_ELFNOTE_LOADER, 1f, 2f
1:	.asciz "generic"
2:	xen_note XEN_ELFNOTE_PHYS32_ENTRY, 3f, 4f
	/* 8 bytes: QEMU reads a whole word from the note of an ELF64. */
3:	.quad rt_pvh_start
4:	.balign 4

	.section .text.boot, "ax"
	.code32
	.globl rt_pvh_start
	.type rt_pvh_start, @function
rt_pvh_start:
	rdtsc				/* boot time counts from here */
	mov %eax, %esi
	mov %edx, %ebp
	cld

	/*
	 * As little as possible before long mode: some hypervisors emulate
	 * 32-bit code instruction by instruction (PVM does).  Three zeroed
	 * pages map the first 2 MiB, where the kernel is, with one large
	 * page; arch.c builds the real tables at full speed.
	 */
	mov $rt_boot_pml4, %edi
	mov $3 * 4096 / 4, %ecx
	xor %eax, %eax
	rep stosl
	movl $rt_boot_pdpt + PTE_P + PTE_W, rt_boot_pml4
	movl $rt_boot_pd + PTE_P + PTE_W, rt_boot_pdpt
	movl $PTE_P + PTE_W + PTE_PS, rt_boot_pd

	/* PAE, long mode, paging (with write protection for ring 0), and
	 * caches on: PVH leaves CR0.CD as the firmware had it, which may be
	 * the reset value, and a hypervisor that honours the guest's memory
	 * types then runs every access uncached. */
	mov $rt_boot_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $MSR_EFER_ASM, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	and $~(CR0_CD + CR0_NW), %eax
	or $CR0_PG + CR0_WP + CR0_PE, %eax
	mov %eax, %cr0

	lgdt rt_gdt_ptr
	ljmp $SEL_CODE, $1f

	.code64
1:	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	/* Zero .bss, now at full speed.  The loader should have; a stale
	 * page table or timer list would be fatal. */
	mov $_rt_bss_start, %edi
	mov $_rt_bss_end, %ecx
	sub %edi, %ecx
	shr $3, %ecx
	rep stosq
	mov %esi, %eax
	shl $32, %rbp
	or %rbp, %rax
	mov %rax, rt_boot_tsc
	mov $_rt_stack_top, %esp
	xor %ebp, %ebp			/* ends stack traces */
	mov %ebx, %edi			/* zero-extends: hvm_start_info */
	call rt_boot
	ud2
	.size rt_pvh_start, . - rt_pvh_start

	.data
	.balign 16
	.globl rt_gdt
rt_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* SEL_CODE: 64-bit code, ring 0 */
	.quad 0x00cf92000000ffff	/* SEL_DATA: data, ring 0 */
	.quad 0, 0			/* SEL_TSS: filled by arch.c */
rt_gdt_end:
	.balign 8
rt_gdt_ptr:
	.word rt_gdt_end - rt_gdt - 1
	.quad rt_gdt

	.balign 8
	.globl rt_boot_tsc
rt_boot_tsc:
	.quad 0

	/* Outside .bss: they are live while .bss is zeroed. */
	.section .boot_pagetables, "aw", @nobits
	.balign 4096
rt_boot_pml4:
	.skip 4096
rt_boot_pdpt:
	.skip 4096
rt_boot_pd:
	.skip 4096

	.section .note.GNU-stack, "", @progbits
