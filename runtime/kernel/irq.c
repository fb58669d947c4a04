/*
 * irq.c - device interrupts (kernel.h): vectors for drivers, the IOAPIC
 * inputs routed to them, and the messages (MSI, MSI-X) that raise them.
 *
 * Vectors 0x30..0xef are handed out in order, one to each GSI and each
 * message, and never taken back: a driver wires its device once.  Below
 * 0x30 is where a firmware may have left the PICs' vectors; from 0xf0 on
 * are the runtime's own (timer, Xen, spurious).
 *
 * The IOAPICs are the MADT's.  Without ACPI (QEMU's microvm with
 * acpi=off, which lists its devices on the command line instead) they
 * are the MP table's, which the firmware writes for that case; with
 * neither, there is no IOAPIC to route through and irq_attach_gsi()
 * says so: the driver then polls its device.  Every input and message
 * goes to this CPU in physical destination mode with fixed delivery, so
 * an APIC ID above 255 (x2APIC without interrupt remapping) cannot be
 * named; on one CPU under QEMU it is 0.
 *
 * Nothing here runs a driver's code outside its acknowledgement: see
 * struct rt_irq.  Registers are reached through the identity map, as
 * every MMIO register in the runtime is.
 */
#include <string.h>

#include "../arch/x86_64/arch.h"
#include "kernel.h"

#define VECTOR_FIRST	0x30
#define VECTOR_END	VEC_RUNTIME
#define IOAPIC_MAX	8
#define ROUTES_MAX	32

/* IOAPIC registers (82093AA datasheet): an index, then a window. */
#define IOREGSEL	0
#define IOWIN		4		/* in 32-bit words: offset 0x10 */
#define IOAPIC_VER	0x01
#define IOAPIC_REDIR	0x10		/* two registers per input */
#define REDIR_LOW	(1u << 13)
#define REDIR_LEVEL	(1u << 15)

#define MSI_ADDR	0xfee00000u	/* destination ID in bits 12..19 */

/* The MP specification's tables (version 1.4). */
#define MP_FLOAT_LEN	16
#define MP_HDR_LEN	44
#define MP_CPU		0		/* entry types: a processor's */
#define MP_IOAPIC	2		/* is 20 bytes, the others 8 */
#define MP_IOAPIC_USABLE 1
#define IOAPIC_DEFAULT	0xfec00000u

struct ioapic {
	volatile uint32_t *regs;
	uint32_t gsi_base, inputs;
};

static struct rt_irq *handlers[VECTOR_END - VECTOR_FIRST];
static unsigned next_vector = VECTOR_FIRST;
static struct ioapic ioapics[IOAPIC_MAX];
static int nioapics = -1;		/* -1: not looked for yet */
static struct {
	unsigned gsi, vector;
} routes[ROUTES_MAX];
static unsigned nroutes;

static uint32_t
ioapic_read(const struct ioapic *a, uint32_t reg)
{
	a->regs[IOREGSEL] = reg;
	return a->regs[IOWIN];
}

static void
ioapic_write(const struct ioapic *a, uint32_t reg, uint32_t v)
{
	a->regs[IOREGSEL] = reg;
	a->regs[IOWIN] = v;
}

static int
checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	while (len-- > 0)
		sum = (uint8_t)(sum + *p++);
	return sum == 0;
}

/* The MP floating pointer in [from, to), or NULL. */
static const uint8_t *
mp_search(uint64_t from, uint64_t to)
{
	const uint8_t *p;

	for (; from + MP_FLOAT_LEN <= to; from += 16) {
		p = rt_guest_mem.map(rt_guest_mem.ctx, from, MP_FLOAT_LEN);
		if (p != NULL && memcmp(p, "_MP_", 4) == 0 && p[8] == 1 &&
		    checksum_ok(p, MP_FLOAT_LEN))
			return p;
	}
	return NULL;
}

/*
 * The IOAPICs of the MP table, at most (max) into (out), their GSI bases
 * left for the caller (the table numbers inputs per IOAPIC, in order).
 * The floating pointer is in the last KiB of base memory, where qboot
 * writes it, or in the BIOS ROM (the EBDA's pointer lives in page 0,
 * which the runtime leaves unmapped).
 */
static int
mp_ioapics(struct acpi_ioapic *out, int max)
{
	const uint8_t *fp, *t, *e;
	uint32_t len, off, size;
	int n = 0;

	if ((fp = mp_search(0x9fc00, 0xa0000)) == NULL &&
	    (fp = mp_search(0xf0000, 0x100000)) == NULL)
		return 0;
	if (fp[11] != 0) {
		/* A default configuration: one IOAPIC, where it always is. */
		out[0].addr = IOAPIC_DEFAULT;
		return 1;
	}
	memcpy(&off, fp + 4, 4);
	if ((t = rt_guest_mem.map(rt_guest_mem.ctx, off, MP_HDR_LEN)) == NULL ||
	    memcmp(t, "PCMP", 4) != 0)
		return 0;
	len = (uint32_t)t[4] | (uint32_t)t[5] << 8;
	if (len < MP_HDR_LEN || (t = rt_guest_mem.map(rt_guest_mem.ctx, off,
	    len)) == NULL || !checksum_ok(t, len))
		return 0;
	/* By the table's length, not its entry count, which qboot leaves
	 * at 0 (Linux reads it this way too). */
	for (off = MP_HDR_LEN; off < len && n < max; off += size) {
		e = t + off;
		size = e[0] == MP_CPU ? 20 : 8;
		/* An unknown type: its size is unknown too. */
		if (e[0] > 4 || off + size > len)
			break;
		if (e[0] == MP_IOAPIC && (e[3] & MP_IOAPIC_USABLE) != 0)
			memcpy(&out[n++].addr, e + 4, 4);
	}
	return n;
}

/* Fills ioapics[] once: the MADT's, else the MP table's; each must
 * answer with a plausible version register. */
static void
find_ioapics(void)
{
	struct acpi_ioapic found[IOAPIC_MAX];
	uint32_t next_base = 0, ver;
	int i, n, from_mp = 0;

	if (nioapics >= 0)
		return;
	nioapics = 0;
	memset(found, 0, sizeof found);
	if ((n = acpi_ioapics(found, IOAPIC_MAX)) == 0) {
		n = mp_ioapics(found, IOAPIC_MAX);
		from_mp = 1;
	}
	for (i = 0; i < n; i++) {
		struct ioapic *a = &ioapics[nioapics];

		if (found[i].addr == 0 || (found[i].addr & 0xf) != 0 ||
		    found[i].addr > 0xffffffffu - 0x20)
			continue;
		a->regs = (volatile uint32_t *)(uintptr_t)found[i].addr;
		ver = ioapic_read(a, IOAPIC_VER);
		if (ver == 0xffffffffu || (ver & 0xff) == 0)
			continue;		/* nothing answers there */
		a->inputs = (ver >> 16 & 0xff) + 1;
		a->gsi_base = from_mp ? next_base : found[i].gsi_base;
		next_base = a->gsi_base + a->inputs;
		nioapics++;
	}
}

/* The next free vector, its gate opened and (h) its only handler. */
static int
vector_alloc(struct rt_irq *h)
{
	unsigned v;

	if (next_vector >= VECTOR_END)
		return -RT_ENOMEM;
	v = next_vector++;
	h->next = NULL;
	handlers[v - VECTOR_FIRST] = h;
	arch_set_gate(v);
	return (int)v;
}

int
irq_attach_gsi(unsigned gsi, unsigned flags, struct rt_irq *h)
{
	struct rt_irq **link;
	const struct ioapic *a = NULL;
	uint32_t dest, lo;
	unsigned i;
	int v;

	for (i = 0; i < nroutes; i++) {
		if (routes[i].gsi != gsi)
			continue;
		for (link = &handlers[routes[i].vector - VECTOR_FIRST];
		    *link != NULL; link = &(*link)->next)
			continue;
		h->next = NULL;
		*link = h;
		return (int)routes[i].vector;
	}
	find_ioapics();
	for (i = 0; i < (unsigned)nioapics; i++)
		if (gsi >= ioapics[i].gsi_base &&
		    gsi - ioapics[i].gsi_base < ioapics[i].inputs)
			a = &ioapics[i];
	if (a == NULL || (dest = apic_id()) > 0xff)
		return -RT_ENODEV;
	if (nroutes == ROUTES_MAX)
		return -RT_ENOMEM;
	if ((v = vector_alloc(h)) < 0)
		return v;
	routes[nroutes].gsi = gsi;
	routes[nroutes].vector = (unsigned)v;
	nroutes++;
	lo = (uint32_t)v | ((flags & IRQ_LEVEL) != 0 ? REDIR_LEVEL : 0) |
	    ((flags & IRQ_LOW) != 0 ? REDIR_LOW : 0);
	/* Destination first, then the low half, which unmasks. */
	i = gsi - a->gsi_base;
	ioapic_write(a, IOAPIC_REDIR + 2 * i + 1, dest << 24);
	ioapic_write(a, IOAPIC_REDIR + 2 * i, lo);
	return v;
}

int
irq_attach_msi(struct rt_irq *h, uint64_t *addr, uint32_t *data)
{
	uint32_t dest = apic_id();
	int v;

	if (dest > 0xff)
		return -RT_ENODEV;
	if ((v = vector_alloc(h)) < 0)
		return v;
	*addr = MSI_ADDR | dest << 12;
	*data = (uint32_t)v;		/* fixed, edge */
	return v;
}

int
irq_dispatch(unsigned vector)
{
	struct rt_irq *h;

	if (vector < VECTOR_FIRST || vector >= VECTOR_END ||
	    (h = handlers[vector - VECTOR_FIRST]) == NULL)
		return 0;
	for (; h != NULL; h = h->next)
		h->fn(h->arg);
	return 1;
}
