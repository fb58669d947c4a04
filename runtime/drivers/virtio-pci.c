/*
 * virtio-pci.c - the virtio-pci transport (virtio 1.2, 4.1), modern and
 * legacy, on PCI bus 0 through configuration mechanism 1 (ports
 * 0xcf8/0xcfc, what QEMU's pc and q35 have).  Only bus 0 is scanned:
 * QEMU puts -device on it unless told otherwise.
 *
 * A modern device (ID 0x1040 and up), or a transitional one (0x1000 to
 * 0x103f, QEMU's default) that has the modern capabilities, is driven
 * through its structures (common configuration, notifications, ISR,
 * device configuration) found through vendor-specific capabilities.  A
 * transitional device without them (QEMU's disable-modern=on) is driven
 * through its legacy I/O BAR (4.1.4.10, the virtio 0.9.5 layout): 32
 * feature bits, queues of the device's own size given by page frame
 * number.  The firmware assigns the BARs (SeaBIOS does, qboot does not:
 * then the driver does, bar_assign() and io_bar()); a structure in a BAR
 * above 4 GiB, beyond the identity map, is refused.
 *
 * Interrupts: MSI-X when the device has it (QEMU's does, unless
 * vectors=0): table entry 0 is a message to this CPU, and every queue
 * uses it; configuration changes raise nothing.  Else INTx, through the
 * IOAPIC, routed as the chipset routes it (intx_gsi()), not by the
 * interrupt line register: qboot writes one there that does not match
 * QEMU's wiring.  INTx is level-triggered; reading the ISR status
 * acknowledges it and drops the line.
 */
#include <stdio.h>
#include <string.h>

#include "virtio.h"

#include "../arch/x86_64/cpu.h"

#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc

#define PCI_VENDOR_ID	0x00
#define PCI_COMMAND	0x04
#define PCI_STATUS	0x06
#define PCI_HEADER_TYPE	0x0e
#define PCI_BAR0	0x10
#define PCI_SUBSYS_ID	0x2e
#define PCI_CAP_PTR	0x34
#define PCI_INT_PIN	0x3d

#define PCI_COMMAND_IO		0x1
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_COMMAND_INTX_OFF	0x400
#define PCI_STATUS_CAPS		0x10
#define PCI_CAP_VENDOR		0x09
#define PCI_CAP_MSIX		0x11

/* The MSI-X capability and table (PCI 3.0, 6.8.2). */
#define MSIX_CTRL		2
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASK		0x4000
#define MSIX_TABLE		4
#define MSIX_ENTRY_ADDR		0
#define MSIX_ENTRY_DATA		8
#define MSIX_ENTRY_CTRL		12	/* bit 0: masked */

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_CAP_COMMON	1
#define VIRTIO_PCI_CAP_NOTIFY	2
#define VIRTIO_PCI_CAP_ISR	3
#define VIRTIO_PCI_CAP_DEVICE	4

/* Common configuration (4.1.4.3). */
#define COMMON_DFSELECT		0x00
#define COMMON_DF		0x04
#define COMMON_GFSELECT		0x08
#define COMMON_GF		0x0c
#define COMMON_MSIX_CONFIG	0x10
#define COMMON_STATUS		0x14
#define COMMON_Q_SELECT		0x16
#define COMMON_Q_SIZE		0x18
#define COMMON_Q_MSIX		0x1a
#define COMMON_Q_ENABLE		0x1c
#define COMMON_Q_NOFF		0x1e
#define COMMON_Q_DESC		0x20
#define COMMON_Q_DRIVER		0x28
#define COMMON_Q_DEVICE		0x30

/* The legacy interface, in the I/O BAR (4.1.4.10): the device
 * configuration follows the MSI-X registers only while MSI-X is on. */
#define LEGACY_DF		0
#define LEGACY_GF		4
#define LEGACY_Q_PFN		8
#define LEGACY_Q_SIZE		12
#define LEGACY_Q_SELECT		14
#define LEGACY_Q_NOTIFY		16
#define LEGACY_STATUS		18
#define LEGACY_ISR		19
#define LEGACY_MSIX_CONFIG	20
#define LEGACY_Q_MSIX		22
#define LEGACY_CONFIG		20
#define LEGACY_CONFIG_MSIX	24

static uint32_t
cfg_addr(unsigned bdf, unsigned off)
{
	return 0x80000000u | (uint32_t)bdf << 8 | (off & 0xfc);
}

static uint32_t
cfg_read32(unsigned bdf, unsigned off)
{
	outl(PCI_ADDR, cfg_addr(bdf, off));
	return inl(PCI_DATA);
}

static uint16_t
cfg_read16(unsigned bdf, unsigned off)
{
	outl(PCI_ADDR, cfg_addr(bdf, off));
	return inw((uint16_t)(PCI_DATA + (off & 2)));
}

static uint8_t
cfg_read8(unsigned bdf, unsigned off)
{
	outl(PCI_ADDR, cfg_addr(bdf, off));
	return inb((uint16_t)(PCI_DATA + (off & 3)));
}

static void
cfg_write32(unsigned bdf, unsigned off, uint32_t v)
{
	outl(PCI_ADDR, cfg_addr(bdf, off));
	outl(PCI_DATA, v);
}

static void
cfg_write16(unsigned bdf, unsigned off, uint16_t v)
{
	outl(PCI_ADDR, cfg_addr(bdf, off));
	outw((uint16_t)(PCI_DATA + (off & 2)), v);
}

#define REG(d, off, type)	(*(volatile type *)((d)->common + (off)))

static uint64_t
pci_features(struct virtio_dev *d)
{
	uint64_t f;

	REG(d, COMMON_DFSELECT, uint32_t) = 1;
	f = (uint64_t)REG(d, COMMON_DF, uint32_t) << 32;
	REG(d, COMMON_DFSELECT, uint32_t) = 0;
	return f | REG(d, COMMON_DF, uint32_t);
}

static void
pci_set_features(struct virtio_dev *d, uint64_t f)
{
	REG(d, COMMON_GFSELECT, uint32_t) = 1;
	REG(d, COMMON_GF, uint32_t) = (uint32_t)(f >> 32);
	REG(d, COMMON_GFSELECT, uint32_t) = 0;
	REG(d, COMMON_GF, uint32_t) = (uint32_t)f;
}

static uint8_t
pci_status(struct virtio_dev *d)
{
	return REG(d, COMMON_STATUS, uint8_t);
}

static void
pci_set_status(struct virtio_dev *d, uint8_t s)
{
	REG(d, COMMON_STATUS, uint8_t) = s;
}

static uint8_t
pci_config8(struct virtio_dev *d, unsigned off)
{
	return *(volatile uint8_t *)(d->device_cfg + off);
}

static unsigned
pci_queue_max(struct virtio_dev *d, unsigned index)
{
	REG(d, COMMON_Q_SELECT, uint16_t) = (uint16_t)index;
	if (REG(d, COMMON_Q_ENABLE, uint16_t) != 0)
		return 0;
	return REG(d, COMMON_Q_SIZE, uint16_t);
}

static void
set64(struct virtio_dev *d, unsigned off, uint64_t v)
{
	REG(d, off, uint32_t) = (uint32_t)v;
	REG(d, off + 4, uint32_t) = (uint32_t)(v >> 32);
}

static void
pci_queue_enable(struct virtio_dev *d, struct virtq *q)
{
	REG(d, COMMON_Q_SELECT, uint16_t) = q->index;
	REG(d, COMMON_Q_SIZE, uint16_t) = q->size;
	set64(d, COMMON_Q_DESC, (uintptr_t)q->desc);
	set64(d, COMMON_Q_DRIVER, (uintptr_t)q->avail);
	set64(d, COMMON_Q_DEVICE, (uintptr_t)q->used);
	q->notify_off = REG(d, COMMON_Q_NOFF, uint16_t);
	if (d->msix) {
		/* The device answers VIRTIO_NO_VECTOR when it refuses. */
		REG(d, COMMON_Q_MSIX, uint16_t) = 0;
		if (REG(d, COMMON_Q_MSIX, uint16_t) != 0)
			d->irq_wired = 0;
	}
	REG(d, COMMON_Q_ENABLE, uint16_t) = 1;
}

static void
pci_notify(struct virtio_dev *d, struct virtq *q)
{
	*(volatile uint16_t *)(d->notify_base +
	    (uintptr_t)q->notify_off * d->notify_mult) = q->index;
}

/* The legacy interface's registers, in I/O space at d->regs. */
static uint16_t
port(struct virtio_dev *d, unsigned off)
{
	return (uint16_t)(d->regs + off);
}

static uint64_t
legacy_features(struct virtio_dev *d)
{
	return inl(port(d, LEGACY_DF));
}

static void
legacy_set_features(struct virtio_dev *d, uint64_t f)
{
	outl(port(d, LEGACY_GF), (uint32_t)f);
}

static uint8_t
legacy_status(struct virtio_dev *d)
{
	return inb(port(d, LEGACY_STATUS));
}

static void
legacy_set_status(struct virtio_dev *d, uint8_t s)
{
	outb(port(d, LEGACY_STATUS), s);
}

static uint8_t
legacy_config8(struct virtio_dev *d, unsigned off)
{
	return inb(port(d, (d->msix ? LEGACY_CONFIG_MSIX : LEGACY_CONFIG) +
	    off));
}

static unsigned
legacy_queue_max(struct virtio_dev *d, unsigned index)
{
	outw(port(d, LEGACY_Q_SELECT), (uint16_t)index);
	if (inl(port(d, LEGACY_Q_PFN)) != 0)
		return 0;
	return inw(port(d, LEGACY_Q_SIZE));
}

static void
legacy_queue_enable(struct virtio_dev *d, struct virtq *q)
{
	outw(port(d, LEGACY_Q_SELECT), q->index);
	if (d->msix) {
		outw(port(d, LEGACY_Q_MSIX), 0);
		if (inw(port(d, LEGACY_Q_MSIX)) != 0)
			d->irq_wired = 0;
	}
	outl(port(d, LEGACY_Q_PFN), (uint32_t)((uintptr_t)q->desc /
	    RT_PAGE_SIZE));
}

static void
legacy_notify(struct virtio_dev *d, struct virtq *q)
{
	outw(port(d, LEGACY_Q_NOTIFY), q->index);
}

/*
 * Gives memory BAR (bar) of (bdf), which the firmware left unassigned
 * (qboot assigns none), an address in [PCI_WINDOW_START, PCI_WINDOW_END):
 * above the RAM QEMU puts below 4 GiB on pc (at most 3.5 GiB) and q35 (at
 * most 2.75 GiB, then its ECAM window), below the IOAPIC.  A bump allocator:
 * nothing there is ever given back.  Returns the address, or 0.
 */
#define PCI_WINDOW_START	0xe0000000ULL
#define PCI_WINDOW_END		0xfec00000ULL
static uint64_t
bar_assign(unsigned bdf, unsigned bar, int is64)
{
	static uint64_t next = PCI_WINDOW_START;
	unsigned reg = PCI_BAR0 + 4 * bar;
	uint16_t cmd = cfg_read16(bdf, PCI_COMMAND);
	uint32_t mask;
	uint64_t size, base;

	/* Sizing writes all ones: no decoding meanwhile. */
	cfg_write16(bdf, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	cfg_write32(bdf, reg, 0xffffffff);
	mask = cfg_read32(bdf, reg) & ~0xfu;
	size = mask != 0 ? (uint64_t)(~mask) + 1 : 0;
	base = (next + size - 1) & ~(size - 1);
	if (size == 0 || size > PCI_WINDOW_END - PCI_WINDOW_START ||
	    base + size > PCI_WINDOW_END)
		base = 0;
	cfg_write32(bdf, reg, (uint32_t)base);
	if (is64)
		cfg_write32(bdf, reg + 4, 0);
	cfg_write16(bdf, PCI_COMMAND, cmd);
	if (base != 0)
		next = base + size;
	return base;
}

/*
 * The address of (len) bytes at (off) in BAR (bar) of (bdf), or 0
 * when that BAR is not memory or not all below 4 GiB.  An unassigned BAR
 * is given an address.
 */
static uintptr_t
bar_window(unsigned bdf, unsigned bar, uint32_t off, uint32_t len)
{
	uint32_t lo;
	uint64_t base;

	if (bar > 5)
		return 0;
	lo = cfg_read32(bdf, PCI_BAR0 + 4 * bar);
	if ((lo & 1) != 0)
		return 0;			/* I/O space */
	base = lo & ~0xfULL;
	if ((lo & 6) == 4) {			/* 64-bit */
		if (bar == 5)
			return 0;
		base |= (uint64_t)cfg_read32(bdf, PCI_BAR0 + 4 * bar + 4) << 32;
	}
	if (base == 0)
		base = bar_assign(bdf, bar, (lo & 6) == 4);
	if (base == 0 || base + off + len > 0x100000000ULL ||
	    base + off + len < base)
		return 0;
	return (uintptr_t)(base + off);
}

/*
 * The I/O port base of BAR 0 of (bdf) (a legacy device's registers), or
 * 0 when it is not I/O space.  An unassigned one (qboot assigns none) is
 * given ports in [PCI_IO_START, PCI_IO_END), where firmwares put PCI's
 * and QEMU's pc and q35 have nothing else.  A bump allocator too.
 */
#define PCI_IO_START	0xc000u
#define PCI_IO_END	0x10000u
static uint16_t
io_bar(unsigned bdf)
{
	static uint32_t next = PCI_IO_START;
	uint32_t lo = cfg_read32(bdf, PCI_BAR0), mask, size, base;
	uint16_t cmd;

	if ((lo & 1) == 0)
		return 0;
	if ((lo & ~3u) != 0)
		return lo >> 16 == 0 ? (uint16_t)(lo & ~3u) : 0;
	cmd = cfg_read16(bdf, PCI_COMMAND);
	cfg_write16(bdf, PCI_COMMAND, cmd & ~PCI_COMMAND_IO);
	cfg_write32(bdf, PCI_BAR0, 0xffffffff);
	/* A device that decodes 16 bits reads the upper half as 0. */
	mask = (cfg_read32(bdf, PCI_BAR0) & ~3u) | 0xffff0000u;
	size = ~mask + 1;
	base = (next + size - 1) & ~(size - 1);
	if (size < 4 || size > 0x1000 || base + size > PCI_IO_END)
		base = 0;
	cfg_write32(bdf, PCI_BAR0, base);
	cfg_write16(bdf, PCI_COMMAND, cmd);
	if (base != 0)
		next = base + size;
	return (uint16_t)base;
}

/*
 * MSI-X: the capability's table (in a memory BAR, placed if the
 * firmware did not), entry 0 set to a message for a vector of our own
 * and unmasked, MSI-X enabled (which turns INTx off), configuration
 * changes given no vector.  0, or a negative RT_E* code with MSI-X left
 * off.
 */
static int
msix_setup(struct virtio_dev *d)
{
	unsigned cap = d->msix_cap;
	uint16_t ctrl;
	uint32_t table, data;
	uint64_t addr;
	uintptr_t entry;
	int r;

	if (cap == 0)
		return -RT_ENODEV;
	ctrl = cfg_read16(d->bdf, cap + MSIX_CTRL);
	table = cfg_read32(d->bdf, cap + MSIX_TABLE);
	if ((entry = bar_window(d->bdf, table & 7, table & ~7u, 16)) == 0)
		return -RT_ENODEV;
	if ((r = irq_attach_msi(&d->irq, &addr, &data)) < 0)
		return r;
	/* Masked as a whole while entry 0 changes. */
	cfg_write16(d->bdf, cap + MSIX_CTRL, ctrl | MSIX_CTRL_ENABLE |
	    MSIX_CTRL_MASK);
	*(volatile uint32_t *)(entry + MSIX_ENTRY_ADDR) = (uint32_t)addr;
	*(volatile uint32_t *)(entry + MSIX_ENTRY_ADDR + 4) =
	    (uint32_t)(addr >> 32);
	*(volatile uint32_t *)(entry + MSIX_ENTRY_DATA) = data;
	*(volatile uint32_t *)(entry + MSIX_ENTRY_CTRL) = 0;
	cfg_write16(d->bdf, cap + MSIX_CTRL, (ctrl | MSIX_CTRL_ENABLE) &
	    ~MSIX_CTRL_MASK);
	d->msix = 1;
	if (d->t->legacy)
		outw(port(d, LEGACY_MSIX_CONFIG), VIRTIO_NO_VECTOR);
	else
		REG(d, COMMON_MSIX_CONFIG, uint16_t) = VIRTIO_NO_VECTOR;
	strlcpy(d->irq_name, "msi-x", sizeof d->irq_name);
	return 0;
}

/*
 * The GSI that pin (pin) (1 for INTA) of (bdf) reaches, on the two
 * chipsets QEMU emulates, which the host bridge names; 0, or -RT_ENODEV
 * on another or where the route is unknown.  Both are QEMU's wiring,
 * which its DSDT's _PRT describes, read here from the chipset instead
 * of interpreting AML:
 * - i440FX and PIIX3 (pc): INTx of slot S is PIRQ (S - 1 + x) mod 4, A
 *   to D, and the PIIX3 (00:01.0) routes each PIRQ to the ISA IRQ in
 *   its route register (the firmware sets them: qboot to 10, 10, 11,
 *   11), which the MADT maps to a GSI;
 * - Q35 and ICH9 (q35): INTx of slot S below 25 is PIRQ E to H,
 *   4 + (S + x) mod 4, which the ICH9 wires to IOAPIC input 16 + PIRQ,
 *   whatever its ISA routing.  Slots 25 and up follow chipset registers
 *   the driver does not read: polled.
 * Level-triggered and active high: QEMU's lines are, and its MADT and
 * DSDT say so.
 */
#define PCI_ID_I440FX	0x12378086u
#define PCI_ID_PIIX3	0x70008086u
#define PCI_ID_Q35	0x29c08086u
#define PCI_ID_ICH9_LPC	0x29188086u
#define PIIX3_BDF	(1 << 3)
#define PIIX3_PIRQ_ROUTE 0x60
#define ICH9_LPC_BDF	(0x1f << 3)
static int
intx_gsi(unsigned bdf, unsigned pin, unsigned *gsi, unsigned *flags)
{
	uint32_t host = cfg_read32(0, PCI_VENDOR_ID);
	unsigned slot = bdf >> 3, x = pin - 1, route;

	*flags = IRQ_LEVEL | IRQ_HIGH;
	if (host == PCI_ID_I440FX &&
	    cfg_read32(PIIX3_BDF, PCI_VENDOR_ID) == PCI_ID_PIIX3) {
		route = cfg_read8(PIIX3_BDF, PIIX3_PIRQ_ROUTE +
		    ((slot + 3 + x) & 3));
		/* Bit 7: not routed; 0..2 are never a PCI interrupt. */
		if ((route & 0x80) != 0 || route < 3 || route >= 16)
			return -RT_ENODEV;
		acpi_isa_irq(route, gsi, flags);
		return 0;
	}
	if (host == PCI_ID_Q35 && slot < 25 &&
	    cfg_read32(ICH9_LPC_BDF, PCI_VENDOR_ID) == PCI_ID_ICH9_LPC) {
		*gsi = 16 + 4 + (slot + x) % 4;
		return 0;
	}
	return -RT_ENODEV;
}

/* INTx through the IOAPIC: 0, or a negative RT_E* code. */
static int
intx_setup(struct virtio_dev *d)
{
	unsigned pin = cfg_read8(d->bdf, PCI_INT_PIN);
	unsigned gsi, flags;
	int r;

	if (pin == 0 || pin > 4 || intx_gsi(d->bdf, pin, &gsi, &flags) != 0)
		return -RT_ENODEV;
	if ((r = irq_attach_gsi(gsi, flags, &d->irq)) < 0)
		return r;
	cfg_write16(d->bdf, PCI_COMMAND, cfg_read16(d->bdf, PCI_COMMAND) &
	    ~PCI_COMMAND_INTX_OFF);
	snprintf(d->irq_name, sizeof d->irq_name, "ioapic gsi %u", gsi);
	return 0;
}

static int
pci_irq_setup(struct virtio_dev *d)
{
	if (msix_setup(d) == 0)
		return 0;
	if (!d->t->legacy && d->isr == 0)
		return -RT_ENODEV;
	return intx_setup(d);
}

/* Reading the ISR status clears it, which drops INTx; with MSI-X there
 * is nothing to acknowledge. */
static int
pci_irq_ack(struct virtio_dev *d)
{
	if (d->msix)
		return 1;
	if (d->t->legacy)
		return inb(port(d, LEGACY_ISR)) != 0;
	return *(volatile uint8_t *)d->isr != 0;
}

static const struct virtio_transport pci_transport = {
	.name = "virtio-pci",
	.features = pci_features,
	.set_features = pci_set_features,
	.status = pci_status,
	.set_status = pci_set_status,
	.config8 = pci_config8,
	.queue_max = pci_queue_max,
	.queue_enable = pci_queue_enable,
	.notify = pci_notify,
	.irq_setup = pci_irq_setup,
	.irq_ack = pci_irq_ack,
};

static const struct virtio_transport pci_legacy_transport = {
	.name = "virtio-pci (legacy)",
	.legacy = 1,
	.fixed_queue_size = 1,
	.features = legacy_features,
	.set_features = legacy_set_features,
	.status = legacy_status,
	.set_status = legacy_set_status,
	.config8 = legacy_config8,
	.queue_max = legacy_queue_max,
	.queue_enable = legacy_queue_enable,
	.notify = legacy_notify,
	.irq_setup = pci_irq_setup,
	.irq_ack = pci_irq_ack,
};

/* Fills (d) from the capabilities of (bdf), virtio's and MSI-X: 1, or 0
 * when a structure the modern interface needs is missing or out of
 * reach. */
static int
read_caps(unsigned bdf, struct virtio_dev *d)
{
	unsigned ptr, n, type, bar;
	uint32_t off, len;
	uintptr_t w;

	d->common = d->notify_base = d->device_cfg = d->isr = 0;
	d->msix_cap = 0;
	if ((cfg_read16(bdf, PCI_STATUS) & PCI_STATUS_CAPS) == 0)
		return 0;
	ptr = cfg_read8(bdf, PCI_CAP_PTR) & 0xfc;
	/* At most 48 capabilities fit in the 192 bytes: a loop in the
	 * list ends there. */
	for (n = 0; ptr >= 0x40 && n < 48; n++) {
		if (cfg_read8(bdf, ptr) == PCI_CAP_MSIX && d->msix_cap == 0)
			d->msix_cap = ptr;
		if (cfg_read8(bdf, ptr) == PCI_CAP_VENDOR) {
			type = cfg_read8(bdf, ptr + 3);
			bar = cfg_read8(bdf, ptr + 4);
			off = cfg_read32(bdf, ptr + 8);
			len = cfg_read32(bdf, ptr + 12);
			w = bar_window(bdf, bar, off, len);
			if (type == VIRTIO_PCI_CAP_COMMON && d->common == 0 &&
			    len >= 0x38)
				d->common = w;
			else if (type == VIRTIO_PCI_CAP_NOTIFY &&
			    d->notify_base == 0 && len >= 2) {
				d->notify_base = w;
				d->notify_mult = cfg_read32(bdf, ptr + 16);
			} else if (type == VIRTIO_PCI_CAP_DEVICE &&
			    d->device_cfg == 0)
				d->device_cfg = w;
			else if (type == VIRTIO_PCI_CAP_ISR && d->isr == 0 &&
			    len >= 1)
				d->isr = w;
		}
		ptr = cfg_read8(bdf, ptr + 1) & 0xfc;
	}
	return d->common != 0 && d->notify_base != 0 && d->device_cfg != 0;
}

/* When (bdf) is a virtio device of type (device_id): 1 for a modern
 * device, 2 for a transitional one (which may be legacy only); else 0. */
static int
is_virtio(unsigned bdf, uint32_t device_id)
{
	uint32_t id = cfg_read32(bdf, PCI_VENDOR_ID);
	uint16_t dev = (uint16_t)(id >> 16);

	if ((id & 0xffff) != VIRTIO_PCI_VENDOR)
		return 0;
	if (dev == 0x1040 + device_id)
		return 1;
	return dev >= 0x1000 && dev <= 0x103f &&
	    cfg_read16(bdf, PCI_SUBSYS_ID) == device_id ? 2 : 0;
}

int
virtio_pci_find(uint32_t device_id, unsigned skip, struct virtio_dev *d)
{
	unsigned slot, fn, nfn, bdf;
	uint16_t cmd, io = 0;
	int kind, modern;

	/* No host bridge at 00:00.0: no PCI (microvm), or no mechanism 1. */
	if ((cfg_read32(0, PCI_VENDOR_ID) & 0xffff) == 0xffff)
		return -RT_ENODEV;
	for (slot = 0; slot < 32; slot++) {
		nfn = (cfg_read8(slot << 3, PCI_HEADER_TYPE) & 0x80) != 0 ? 8 : 1;
		for (fn = 0; fn < nfn; fn++) {
			bdf = slot << 3 | fn;
			if ((kind = is_virtio(bdf, device_id)) == 0)
				continue;
			modern = read_caps(bdf, d);
			if (!modern && (kind != 2 ||
			    (io = io_bar(bdf)) == 0)) {
				rt_log("virtio-pci: device 00:%02x.%u: neither "
				    "modern capabilities below 4 GiB nor a "
				    "legacy I/O BAR", slot, fn);
				continue;
			}
			if (skip-- != 0)
				continue;
			/* Memory for the modern structures and the MSI-X
			 * table, I/O for the legacy registers. */
			cmd = cfg_read16(bdf, PCI_COMMAND) |
			    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
			d->t = &pci_transport;
			if (!modern) {
				d->t = &pci_legacy_transport;
				d->regs = io;
				cmd |= PCI_COMMAND_IO;
			}
			cfg_write16(bdf, PCI_COMMAND, cmd);
			d->bdf = bdf;
			d->device_id = device_id;
			return 0;
		}
	}
	return -RT_ENODEV;
}
