/*
 * acpi.c - just enough ACPI to power off and to route interrupts: find
 * the FADT and the MADT through the RSDP (from the start info, else the
 * BIOS area).  Power off takes the FADT's PM1a control block (or, on
 * hardware-reduced ACPI such as QEMU's microvm, its sleep-control
 * register) and the S5 sleep type from the DSDT's \_S5 package.  Device
 * interrupts (irq.c) take the IOAPICs and the ISA interrupt overrides of
 * the MADT, and a virtio-mmio device's interrupt from the DSDT.
 *
 * The tables are read only when needed, at an exit that nothing else
 * ended (QEMU's debug-exit device ends most), or when a driver wires its
 * interrupt: the firmware keeps them in memory the map reserves, out of
 * the heap's way.  They are read through the checked accessor, and every
 * length in them is checked before use.
 */
#include <string.h>

#include "../arch/x86_64/cpu.h"
#include "bootinfo.h"
#include "kernel.h"

#define HDR_LEN		36	/* the common table header */
#define FADT_DSDT	40	/* u32 */
#define FADT_PM1A_CNT	64	/* u32, an I/O port */
#define FADT_FLAGS	112	/* u32 */
#define FADT_X_DSDT	140	/* u64, ACPI 2.0+ */
#define FADT_SLEEP_CTL	244	/* generic address, ACPI 5.0+ */
#define FLAG_HW_REDUCED	(1u << 20)
#define GAS_MEMORY	0
#define GAS_IO		1
#define SLP_EN		(1u << 13)	/* PM1 control */
#define SLEEP_EN	(1u << 5)	/* sleep control register */
#define AML_NAME_OP	0x08
#define AML_PACKAGE_OP	0x12
#define AML_BYTE_PREFIX	0x0a
#define AML_ONE_OP	0x01
#define MADT_ENTRIES	44	/* after the APIC address and flags */
#define MADT_IOAPIC	1
#define MADT_OVERRIDE	2	/* interrupt source override */
#define RES_MEM32_FIXED	0x86	/* large resource descriptors */
#define RES_MEM32_FIXED_LEN 12
#define RES_EXT_IRQ	0x89
#define RES_EXT_IRQ_EDGE (1u << 1)
#define RES_EXT_IRQ_LOW	(1u << 2)

static uint64_t rsdp_given;
static uint16_t pm1a_cnt;
static int sleep_ctl_space = -1;	/* GAS_*, -1: none */
static uint64_t sleep_ctl_addr;
static unsigned s5_type;

static uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int
checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;
	uint32_t i;

	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

/* The table at (paddr) when it is readable, long enough, checksummed and
 * (sig) names it; its length in (*len). */
static const uint8_t *
table(uint64_t paddr, const char *sig, uint32_t *len)
{
	const uint8_t *h;

	if (paddr == 0 || (h = rt_guest_mem.map(rt_guest_mem.ctx, paddr,
	    HDR_LEN)) == NULL)
		return NULL;
	*len = rd32(h + 4);
	if ((sig != NULL && memcmp(h, sig, 4) != 0) || *len < HDR_LEN ||
	    (h = rt_guest_mem.map(rt_guest_mem.ctx, paddr, *len)) == NULL ||
	    !checksum_ok(h, *len))
		return NULL;
	return h;
}

/* "RSD PTR " on a 16-byte boundary of the BIOS area, checksummed. */
static uint64_t
find_rsdp(void)
{
	const uint8_t *p;
	uint64_t a;

	for (a = 0xe0000; a < 0x100000; a += 16) {
		p = rt_guest_mem.map(rt_guest_mem.ctx, a, 20);
		if (p != NULL && memcmp(p, "RSD PTR ", 8) == 0 &&
		    checksum_ok(p, 20))
			return a;
	}
	return 0;
}

/*
 * The tables used here, found once: the FADT and the MADT in the XSDT
 * (ACPI 2.0+) or the RSDT, and the DSDT the FADT names.  Each stays
 * NULL when missing or broken.
 */
static int looked;
static const uint8_t *fadt, *madt, *dsdt;
static uint32_t fadt_len, madt_len, dsdt_len;

static void
find_tables(void)
{
	const uint8_t *rsdp, *sdt;
	uint32_t sdt_len, i, width;
	uint64_t entry, paddr = rsdp_given;

	if (looked)
		return;
	looked = 1;
	if (paddr == 0)
		paddr = find_rsdp();
	if (paddr == 0 || (rsdp = rt_guest_mem.map(rt_guest_mem.ctx, paddr,
	    36)) == NULL || memcmp(rsdp, "RSD PTR ", 8) != 0 ||
	    !checksum_ok(rsdp, 20))
		return;
	if (rsdp[15] >= 2 && (sdt = table(rd64(rsdp + 24), "XSDT",
	    &sdt_len)) != NULL)
		width = 8;
	else if ((sdt = table(rd32(rsdp + 16), "RSDT", &sdt_len)) != NULL)
		width = 4;
	else
		return;
	for (i = HDR_LEN; i + width <= sdt_len; i += width) {
		entry = width == 8 ? rd64(sdt + i) : rd32(sdt + i);
		if (fadt == NULL)
			fadt = table(entry, "FACP", &fadt_len);
		if (madt == NULL)
			madt = table(entry, "APIC", &madt_len);
	}
	if (fadt == NULL)
		return;
	paddr = fadt_len >= FADT_X_DSDT + 8 ? rd64(fadt + FADT_X_DSDT) : 0;
	if (paddr == 0)
		paddr = rd32(fadt + FADT_DSDT);
	dsdt = table(paddr, "DSDT", &dsdt_len);
}

/*
 * The first element of the package named _S5_ in the DSDT's AML: the
 * sleep type for S5.  A byte search, as every small kernel does, with
 * the bytes around it checked: NameOp before the name, PackageOp after.
 */
static int
find_s5(const uint8_t *aml, uint32_t len, unsigned *type)
{
	uint32_t i, j;

	for (i = HDR_LEN + 1; i + 9 <= len; i++) {
		if (memcmp(aml + i, "_S5_", 4) != 0 ||
		    (aml[i - 1] != AML_NAME_OP &&
		    !(aml[i - 1] == '\\' && aml[i - 2] == AML_NAME_OP)) ||
		    aml[i + 4] != AML_PACKAGE_OP)
			continue;
		/* PkgLength: its first byte's top two bits count the bytes
		 * that follow; then NumElements, then the first element. */
		j = i + 5 + 1 + (aml[i + 5] >> 6) + 1;
		if (j + 1 >= len)
			return -1;
		if (aml[j] == AML_BYTE_PREFIX)
			*type = aml[j + 1];
		else if (aml[j] <= AML_ONE_OP)
			*type = aml[j];
		else
			return -1;
		return 0;
	}
	return -1;
}

void
acpi_init(uint64_t rsdp_paddr)
{
	rsdp_given = rsdp_paddr;
}

static void
parse_tables(void)
{
	find_tables();
	if (fadt == NULL)
		return;
	if (dsdt == NULL || find_s5(dsdt, dsdt_len, &s5_type) != 0)
		s5_type = 0;
	if (fadt_len >= FADT_FLAGS + 4 &&
	    (rd32(fadt + FADT_FLAGS) & FLAG_HW_REDUCED) != 0) {
		if (fadt_len >= FADT_SLEEP_CTL + 12 &&
		    rd64(fadt + FADT_SLEEP_CTL + 4) != 0) {
			sleep_ctl_space = fadt[FADT_SLEEP_CTL];
			sleep_ctl_addr = rd64(fadt + FADT_SLEEP_CTL + 4);
		}
	} else if (fadt_len >= FADT_PM1A_CNT + 4) {
		pm1a_cnt = (uint16_t)rd32(fadt + FADT_PM1A_CNT);
	}
}

void
acpi_poweroff(void)
{
	uint8_t v;

	parse_tables();
	v = (uint8_t)((s5_type & 7) << 2 | SLEEP_EN);
	if (pm1a_cnt != 0)
		outw(pm1a_cnt, (uint16_t)((s5_type & 7) << 10 | SLP_EN));
	if (sleep_ctl_space == GAS_IO && sleep_ctl_addr <= 0xffff)
		outb((uint16_t)sleep_ctl_addr, v);
	else if (sleep_ctl_space == GAS_MEMORY && rt_guest_mem.map(
	    rt_guest_mem.ctx, sleep_ctl_addr, 1) != NULL)
		*(volatile uint8_t *)(uintptr_t)sleep_ctl_addr = v;
}

/*
 * The MADT's entries of (type) in turn: (*off) is where to look from
 * (0 to start), and the entry found is returned with its length checked
 * to be at least (min); NULL at the end.
 */
static const uint8_t *
madt_next(unsigned type, unsigned min, uint32_t *off)
{
	const uint8_t *e;

	find_tables();
	if (madt == NULL)
		return NULL;
	if (*off == 0)
		*off = MADT_ENTRIES;
	while (*off + 2 <= madt_len) {
		e = madt + *off;
		if (e[1] < 2 || *off + e[1] > madt_len)
			return NULL;
		*off += e[1];
		if (e[0] == type && e[1] >= min)
			return e;
	}
	return NULL;
}

int
acpi_ioapics(struct acpi_ioapic *out, int max)
{
	const uint8_t *e;
	uint32_t off = 0;
	int n = 0;

	while (n < max && (e = madt_next(MADT_IOAPIC, 12, &off)) != NULL) {
		out[n].addr = rd32(e + 4);
		out[n].gsi_base = rd32(e + 8);
		n++;
	}
	return n;
}

/* The IRQ_* flags of MPS INTI flags (f), over those in (*flags) where
 * (f) says "conforms to the bus". */
static void
inti_flags(unsigned f, unsigned *flags)
{
	if ((f & 3) == 1)
		*flags &= ~IRQ_LOW;
	else if ((f & 3) == 3)
		*flags |= IRQ_LOW;
	if ((f >> 2 & 3) == 1)
		*flags &= ~IRQ_LEVEL;
	else if ((f >> 2 & 3) == 3)
		*flags |= IRQ_LEVEL;
}

void
acpi_isa_irq(unsigned irq, unsigned *gsi, unsigned *flags)
{
	const uint8_t *e;
	uint32_t off = 0;

	*gsi = irq;
	while ((e = madt_next(MADT_OVERRIDE, 10, &off)) != NULL) {
		if (e[2] == 0 && e[3] == irq) {		/* bus 0, ISA */
			*gsi = rd32(e + 4);
			inti_flags((unsigned)e[8] | (unsigned)e[9] << 8, flags);
			return;
		}
	}
}

/*
 * Interpreting AML is more than a small kernel should do; resource
 * templates, though, are plain bytes inside it (a Buffer), and a device
 * with registers at (base) has a Memory32Fixed descriptor naming (base),
 * which QEMU's microvm follows with the device's Extended Interrupt
 * descriptor.  So: find the one, read the other, check every length.
 */
int
acpi_mmio_irq(uint64_t base, unsigned *gsi, unsigned *flags)
{
	const uint8_t *p, *q;
	uint32_t i, len;

	find_tables();
	if (dsdt == NULL || base > 0xffffffffu)
		return -RT_ENOENT;
	for (i = HDR_LEN; i + RES_MEM32_FIXED_LEN + 9 <= dsdt_len; i++) {
		p = dsdt + i;
		if (p[0] != RES_MEM32_FIXED || p[1] != 9 || p[2] != 0 ||
		    rd32(p + 4) != base)
			continue;
		q = p + RES_MEM32_FIXED_LEN;
		len = (uint32_t)q[1] | (uint32_t)q[2] << 8;
		if (q[0] != RES_EXT_IRQ || len < 6 || q[4] < 1 ||
		    i + RES_MEM32_FIXED_LEN + 3 + len > dsdt_len)
			continue;
		*gsi = rd32(q + 5);
		*flags = (q[3] & RES_EXT_IRQ_EDGE) != 0 ? IRQ_EDGE : IRQ_LEVEL;
		if ((q[3] & RES_EXT_IRQ_LOW) != 0)
			*flags |= IRQ_LOW;
		return 0;
	}
	return -RT_ENOENT;
}
