/*
 * arch.c - descriptor tables and page protections (arch.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "cpu.h"

#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define PTE_NX		(1ULL << 63)
#define PAGE		4096ULL
#define LARGE		(512 * PAGE)		/* a 2 MiB page */
#define IDENTITY_END	(4 * 512 * LARGE)	/* 4 GiB */

#define IDT_INTERRUPT_GATE	0x8e	/* present, ring 0, IF cleared */
#define IST_FAULT		1	/* TSS IST slot for #DF, NMI, #MC */
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

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char rt_trap_stubs[];
extern uint64_t rt_gdt[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));

static void
idt_set(unsigned v, unsigned ist)
{
	struct idt_gate *g = &idt[v];
	uint64_t handler = (uintptr_t)rt_trap_stubs + v * TRAP_STUB_SIZE;

	g->offset_lo = (uint16_t)handler;
	g->selector = SEL_CODE;
	g->ist = (uint8_t)ist;
	g->type = IDT_INTERRUPT_GATE;
	g->offset_mid = (uint16_t)(handler >> 16);
	g->offset_hi = (uint32_t)(handler >> 32);
	g->reserved = 0;
}

/* The 16-byte TSS descriptor in GDT slots 3 and 4 (SEL_TSS). */
static void
gdt_set_tss(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;

	rt_gdt[SEL_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
	    0x89ULL << 40 |		/* present, 64-bit TSS, available */
	    ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	rt_gdt[SEL_TSS / 8 + 1] = base >> 32;
}

void
arch_set_gate(unsigned vector)
{
	idt_set(vector & 0xff, 0);
}

void
arch_init_traps(void)
{
	struct desc_ptr idtr;
	unsigned v, ist;

	tss.ist[IST_FAULT - 1] = (uint64_t)(uintptr_t)_rt_ist_top;
	tss.iomap_base = sizeof(tss);	/* no I/O bitmap */
	gdt_set_tss();
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));

	/* The exceptions and the runtime's own vectors (0xf0 and up); a
	 * driver that wants another vector fills its gate with
	 * arch_set_gate().  Any other vector raises a #NP that names it. */
	for (v = 0; v < 256; v++) {
		if (v >= VEC_FIRST_IRQ && v < VEC_RUNTIME)
			continue;
		ist = v == VEC_DF || v == VEC_NMI || v == VEC_MC;
		idt_set(v, ist ? IST_FAULT : 0);
	}
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint64_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/* The real page tables: built here, then switched to in one go, because
 * some hypervisors trap every write to a page table that is in use. */
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4 * 512] __attribute__((aligned(4096)));
static uint64_t pt0[512] __attribute__((aligned(4096)));
static uint64_t pd_nx;

/* Sets the flags of the 4 KiB pages of [start, end) in the first 2 MiB. */
static void
low_pages(uint64_t start, uint64_t end, uint64_t flags)
{
	uint64_t a;

	for (a = start; a < end; a += PAGE)
		pt0[a / PAGE] = a | flags;
}

int
arch_init_paging(void)
{
	uint64_t nx = 0;
	unsigned i;

	if (cpuid(0x80000000, 0).eax >= 0x80000001 &&
	    (cpuid(0x80000001, 0).edx & CPUID80000001_EDX_NX) != 0) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | MSR_EFER_NXE);
		nx = PTE_NX;
	}
	pml4[0] = (uintptr_t)pdpt | PTE_P | PTE_W;
	for (i = 0; i < 4; i++)
		pdpt[i] = (uintptr_t)&pd[i * 512] | PTE_P | PTE_W;
	/* Beyond the first 2 MiB, 2 MiB pages are mapped at their first
	 * touch (arch_map_on_fault()). */
	pd[0] = (uintptr_t)pt0 | PTE_P | PTE_W;
	pd_nx = nx;
	low_pages(PAGE, LARGE, PTE_P | PTE_W | nx);
	low_pages((uintptr_t)_rt_image_start, (uintptr_t)_rt_text_end, PTE_P);
	low_pages((uintptr_t)_rt_text_end, (uintptr_t)_rt_rodata_end,
	    PTE_P | nx);
	low_pages((uintptr_t)_rt_hypercall_start, (uintptr_t)_rt_hypercall_end,
	    PTE_P);
	pt0[0] = 0;				/* NULL */
	pt0[(uintptr_t)_rt_stack_guard / PAGE] = 0;
	write_cr3((uintptr_t)pml4);
	return nx != 0;
}

int
arch_map_on_fault(uint64_t addr, uint64_t error)
{
	uint64_t *e;

	/* Not-present faults only, above the first 2 MiB (whose holes are
	 * meant) and below 4 GiB. */
	if ((error & 1) != 0 || addr < LARGE || addr >= IDENTITY_END)
		return 0;
	e = &pd[addr / LARGE];
	if (*e != 0)
		return 0;
	*e = (addr & ~(LARGE - 1)) | PTE_P | PTE_W | PTE_PS | pd_nx;
	return 1;
}
