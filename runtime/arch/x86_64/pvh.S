/*
 * pvh.S - the PVH entry point: ELF notes for the loaders, then 32-bit
 * protected mode to long mode and into C (kernel/boot.c); and the tables
 * the CPU reads (page tables, GDT, IDT, TSS), built here by the assembler
 * and the linker (runtime.ld), not at run time.
 *
 * PVH enters at the PHYS32_ENTRY address in 32-bit protected mode, paging
 * off, flat CS/DS/ES/SS, interrupts off, with %ebx holding the physical
 * address of struct hvm_start_info; GDTR, IDTR and the stack are ours to
 * set up.
 *
 * Why so little runs here: some hypervisors run guest kernel code
 * instruction by instruction (this machine's nested KVM does, at about
 * 2 us an instruction; docs/runtime.md), so every instruction before
 * rt_main() is boot time.  The tables are therefore data in the image,
 * which the loader copies for free; the code only adjusts the handful of
 * page table entries that depend on the layout, before paging is on (a
 * write to a live page table is a trap under shadow paging).  .bss is not
 * zeroed here: an ELF loader zero-fills what a PT_LOAD segment has beyond
 * its file bytes (QEMU again at every reset, Xen's libelf), and a loop
 * over it cost 2.3 ms.
 */
#include "arch.h"

#define XEN_ELFNOTE_LOADER		8
#define XEN_ELFNOTE_PHYS32_ENTRY	18

#define PTE_P		0x001
#define PTE_W		0x002
#define PTE_PS		0x080
#define PTE_NX_HI	0x80000000	/* bit 63, in the entry's upper half */
#define CR0_PE		0x00000001
#define CR0_WP		0x00010000
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define EFER_LME	0x00000100
#define EFER_NXE	0x00000800
#define CPUID_NX_BIT	20		/* CPUID 0x80000001 EDX */
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

/*
 * protect FIRST, PAGES, exec=, maybe_none=: makes the PAGES entries of
 * rt_pt0 from address FIRST on read-only, and executable when exec is 1
 * (clearing the upper half clears NX; addresses are below 4 GiB).  32-bit.
 */
.macro protect first, pages, exec, maybe_none=0
	mov $\first, %edi
	mov $\pages, %ecx
	.if \maybe_none
	jecxz 2f
	.endif
1:	andl $~PTE_W, (%edi)
	.if \exec
	movl $0, 4(%edi)
	.endif
	add $8, %edi
	loop 1b
2:
.endm

	.section .text.boot, "ax"
	.code32
	.globl rt_pvh_start
	.type rt_pvh_start, @function
rt_pvh_start:
	rdtsc				/* boot time counts from here */
	mov %eax, rt_boot_tsc
	mov %edx, rt_boot_tsc + 4
	mov %ebx, %esi			/* hvm_start_info: CPUID clobbers %ebx */
	cld

	/* NX when the CPU has it (EFER.NXE); if not, the NX bits go from
	 * the page table (a reserved bit there would fault).  Leaf
	 * 0x80000001 exists: it is where long mode is announced. */
	mov $EFER_LME, %ebp		/* EFER bits to set */
	mov $0x80000001, %eax
	cpuid
	bt $CPUID_NX_BIT, %edx
	jnc 1f
	or $EFER_NXE, %ebp
	jmp 3f
1:	mov $rt_pt0 + 4, %edi
	mov $512, %ecx
2:	movl $0, (%edi)
	add $8, %edi
	loop 2b
	movl $0, rt_pte_nx + 4
3:
	/* The first 2 MiB's page table (rt_pt0, below) maps every page
	 * read-write and non-executable but page 0; here the layout's
	 * pages get their protection: text and the hypercall page
	 * read-only and executable, read-only data read-only, the stack
	 * guard page unmapped.  runtime.ld computes where and how many. */
	protect _rt_pte_text, _rt_text_pages, exec=1
	protect _rt_pte_rodata, _rt_rodata_pages, exec=0
	protect _rt_pte_hypercall, _rt_hypercall_pages, exec=1, maybe_none=1
	movl $0, _rt_pte_guard
	movl $0, _rt_pte_guard + 4
	/* The upper tables are .bss (zero): link them.  The first 4 GiB
	 * beyond 2 MiB are mapped on first touch (arch_map_on_fault()). */
	movl $rt_pdpt + PTE_P + PTE_W, rt_pml4
	movl $rt_pd + PTE_P + PTE_W, rt_pdpt
	movl $rt_pd + 0x1000 + PTE_P + PTE_W, rt_pdpt + 8
	movl $rt_pd + 0x2000 + PTE_P + PTE_W, rt_pdpt + 16
	movl $rt_pd + 0x3000 + PTE_P + PTE_W, rt_pdpt + 24
	movl $rt_pt0 + PTE_P + PTE_W, rt_pd

	/* PAE, long mode (and NX), paging (with write protection for ring
	 * 0), and caches on: PVH leaves CR0.CD as the firmware had it,
	 * which may be the reset value, and a hypervisor that honours the
	 * guest's memory types then runs every access uncached. */
	mov $rt_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $MSR_EFER_ASM, %ecx
	rdmsr
	or %ebp, %eax
	wrmsr
	mov %cr0, %eax
	and $~(CR0_CD + CR0_NW), %eax
	or $CR0_PG + CR0_WP + CR0_PE, %eax
	mov %eax, %cr0

	lgdt rt_gdt_ptr
	ljmp $SEL_CODE, $1f

	.code64
1:	rdtsc				/* a boot stage ends: long mode */
	mov %eax, rt_boot_tsc_long
	mov %edx, rt_boot_tsc_long + 4
	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov $_rt_stack_top, %esp
	xor %ebp, %ebp			/* ends stack traces */
	mov %esi, %edi			/* zero-extends: hvm_start_info */
	call rt_boot
	ud2
	.size rt_pvh_start, . - rt_pvh_start

	.data
	.balign 16
rt_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* SEL_CODE: 64-bit code, ring 0 */
	.quad 0x00cf92000000ffff	/* SEL_DATA: data, ring 0 */
	.quad _rt_tss_desc_lo		/* SEL_TSS: rt_tss (runtime.ld) */
	.quad _rt_tss_desc_hi
rt_gdt_end:
	.balign 8
rt_gdt_ptr:
	.word rt_gdt_end - rt_gdt - 1
	.quad rt_gdt

	/* The TSS: only IST1 is used, the stack of #DF, NMI and #MC. */
	.balign 16
	.globl rt_tss
rt_tss:
	.long 0
	.quad 0, 0, 0			/* RSP0..2: no ring changes */
	.quad 0
	.quad _rt_ist_top		/* IST1 */
	.quad 0, 0, 0, 0, 0, 0		/* IST2..7 */
	.quad 0
	.word 0
	.word rt_tss_end - rt_tss	/* I/O bitmap base: none */
rt_tss_end:

	.balign 8
	.globl rt_idt_ptr
rt_idt_ptr:
	.word 256 * 16 - 1
	.quad rt_idt

	.balign 8
	.globl rt_boot_tsc, rt_boot_tsc_long, rt_pte_nx
rt_boot_tsc:				/* TSC at the first instruction */
	.quad 0
rt_boot_tsc_long:			/* TSC when long mode was reached */
	.quad 0
rt_pte_nx:				/* the NX bit, or 0 without NX */
	.quad PTE_NX_HI << 32

	/* First in .data (runtime.ld): it starts on a page. */
	.section .data.rt_tables, "aw"
	.balign 4096
	/* The first 2 MiB in 4 KiB pages: read-write, non-executable,
	 * page 0 unmapped; rt_pvh_start protects the image's pages. */
	.globl rt_pt0
rt_pt0:
	.quad 0
	page = 1
	.rept 511
	.quad page * 4096 + PTE_P + PTE_W + (PTE_NX_HI << 32)
	page = page + 1
	.endr

	/* The IDT: the exceptions (#DF, NMI and #MC on IST1) and the
	 * runtime's vectors 0xf0 and up go to their stubs (traps.S); other
	 * gates are empty until arch_set_gate() fills them.  runtime.ld
	 * computes the gate of vector 0 from the stubs' address. */
	.globl rt_idt
rt_idt:
	vector = 0
	.rept 256
	.if vector < VEC_FIRST_IRQ || vector >= VEC_RUNTIME
	.if vector == VEC_DF || vector == VEC_NMI || vector == VEC_MC
	.quad _rt_idt_gate_lo + vector * 16 + (1 << 32)
	.else
	.quad _rt_idt_gate_lo + vector * 16
	.endif
	.quad _rt_idt_gate_hi
	.else
	.quad 0, 0
	.endif
	vector = vector + 1
	.endr

	/* The upper page tables: zero but for the entries rt_pvh_start
	 * writes and those arch_map_on_fault() adds. */
	.section .bss.rt_pagetables, "aw", @nobits
	.balign 4096
	.globl rt_pml4, rt_pdpt, rt_pd
rt_pml4:
	.skip 4096
rt_pdpt:
	.skip 4096
rt_pd:
	.skip 4 * 4096

	.section .note.GNU-stack, "", @progbits
