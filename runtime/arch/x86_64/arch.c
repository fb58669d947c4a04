/*
 * arch.c - descriptor tables and page protections (arch.h).  The tables
 * themselves are data built by pvh.S and runtime.ld; this loads them and
 * changes them later.
 */
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "cpu.h"

#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define PAGE		4096ULL
#define LARGE		(512 * PAGE)		/* a 2 MiB page */
#define IDENTITY_END	(4 * 512 * LARGE)	/* 4 GiB */

#define IDT_INTERRUPT_GATE	0x8e	/* present, ring 0, IF cleared */
#define TRAP_STUB_SIZE		16	/* traps.S */

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* pvh.S: the trap stubs, and the tables it builds. */
extern char rt_trap_stubs[];
extern struct idt_gate rt_idt[256];
extern const struct desc_ptr rt_idt_ptr;
extern uint64_t rt_pd[4 * 512];
extern uint64_t rt_pte_nx;

void
arch_set_gate(unsigned vector)
{
	struct idt_gate *g = &rt_idt[vector & 0xff];
	uint64_t handler = (uintptr_t)rt_trap_stubs +
	    (vector & 0xff) * TRAP_STUB_SIZE;

	g->offset_lo = (uint16_t)handler;
	g->selector = SEL_CODE;
	g->ist = 0;
	g->type = IDT_INTERRUPT_GATE;
	g->offset_mid = (uint16_t)(handler >> 16);
	g->offset_hi = (uint32_t)(handler >> 32);
	g->reserved = 0;
}

/* The IDT and the TSS are built by pvh.S and runtime.ld; load them. */
void
arch_init_traps(void)
{
	__asm__ volatile("lidt %0" : : "m"(rt_idt_ptr));
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

int
arch_map_on_fault(uint64_t addr, uint64_t error)
{
	uint64_t *e;

	/* Not-present faults only, above the first 2 MiB (whose holes are
	 * meant) and below 4 GiB. */
	if ((error & 1) != 0 || addr < LARGE || addr >= IDENTITY_END)
		return 0;
	e = &rt_pd[addr / LARGE];
	if (*e != 0)
		return 0;
	*e = (addr & ~(LARGE - 1)) | PTE_P | PTE_W | PTE_PS | rt_pte_nx;
	return 1;
}
