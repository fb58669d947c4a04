/*
 * virtio-pci.c - the modern virtio-pci transport (virtio 1.2, 4.1): the
 * device's structures (common configuration, notifications, device
 * configuration) are found through vendor-specific capabilities in PCI
 * configuration space, which is read through ports 0xcf8/0xcfc
 * (configuration mechanism 1, what QEMU's pc and q35 have).  Only bus 0
 * is scanned: QEMU puts -device on it unless told otherwise.
 *
 * A transitional device (ID 0x1000-0x103f, QEMU's default on pc) is
 * driven through its modern capabilities, never its legacy I/O BAR.  The
 * firmware assigns the BARs (SeaBIOS does, qboot does not: then the
 * driver does, bar_assign()); a structure in a BAR above 4 GiB, beyond
 * the identity map, is refused.
 */
#include "virtio.h"

#include "../arch/x86_64/cpu.h"
#include "../kernel/kernel.h"

#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc

#define PCI_VENDOR_ID	0x00
#define PCI_COMMAND	0x04
#define PCI_STATUS	0x06
#define PCI_HEADER_TYPE	0x0e
#define PCI_BAR0	0x10
#define PCI_SUBSYS_ID	0x2e
#define PCI_CAP_PTR	0x34

#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_STATUS_CAPS		0x10
#define PCI_CAP_VENDOR		0x09

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_CAP_COMMON	1
#define VIRTIO_PCI_CAP_NOTIFY	2
#define VIRTIO_PCI_CAP_DEVICE	4

/* Common configuration (4.1.4.3). */
#define COMMON_DFSELECT		0x00
#define COMMON_DF		0x04
#define COMMON_GFSELECT		0x08
#define COMMON_GF		0x0c
#define COMMON_STATUS		0x14
#define COMMON_Q_SELECT		0x16
#define COMMON_Q_SIZE		0x18
#define COMMON_Q_ENABLE		0x1c
#define COMMON_Q_NOFF		0x1e
#define COMMON_Q_DESC		0x20
#define COMMON_Q_DRIVER		0x28
#define COMMON_Q_DEVICE		0x30

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
	REG(d, COMMON_Q_ENABLE, uint16_t) = 1;
}

static void
pci_notify(struct virtio_dev *d, struct virtq *q)
{
	*(volatile uint16_t *)(d->notify_base +
	    (uintptr_t)q->notify_off * d->notify_mult) = q->index;
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
};

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

/* Fills (d) from the virtio capabilities of (bdf): 1, or 0 when a
 * structure the driver needs is missing or out of reach. */
static int
read_caps(unsigned bdf, struct virtio_dev *d)
{
	unsigned ptr, n, type, bar;
	uint32_t off, len;
	uintptr_t w;

	d->common = d->notify_base = d->device_cfg = 0;
	if ((cfg_read16(bdf, PCI_STATUS) & PCI_STATUS_CAPS) == 0)
		return 0;
	ptr = cfg_read8(bdf, PCI_CAP_PTR) & 0xfc;
	/* At most 48 capabilities fit in the 192 bytes: a loop in the
	 * list ends there. */
	for (n = 0; ptr >= 0x40 && n < 48; n++) {
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
		}
		ptr = cfg_read8(bdf, ptr + 1) & 0xfc;
	}
	return d->common != 0 && d->notify_base != 0 && d->device_cfg != 0;
}

/* 1 when (bdf) is a virtio device of type (device_id). */
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
	    cfg_read16(bdf, PCI_SUBSYS_ID) == device_id;
}

int
virtio_pci_find(uint32_t device_id, unsigned skip, struct virtio_dev *d)
{
	unsigned slot, fn, nfn, bdf;

	/* No host bridge at 00:00.0: no PCI (microvm), or no mechanism 1. */
	if ((cfg_read32(0, PCI_VENDOR_ID) & 0xffff) == 0xffff)
		return -RT_ENODEV;
	for (slot = 0; slot < 32; slot++) {
		nfn = (cfg_read8(slot << 3, PCI_HEADER_TYPE) & 0x80) != 0 ? 8 : 1;
		for (fn = 0; fn < nfn; fn++) {
			bdf = slot << 3 | fn;
			if (!is_virtio(bdf, device_id))
				continue;
			if (!read_caps(bdf, d)) {
				rt_log("virtio-pci: device 00:%02x.%u: no modern "
				    "capabilities below 4 GiB", slot, fn);
				continue;
			}
			if (skip-- != 0)
				continue;
			cfg_write16(bdf, PCI_COMMAND, cfg_read16(bdf,
			    PCI_COMMAND) | PCI_COMMAND_MEMORY |
			    PCI_COMMAND_MASTER);
			d->t = &pci_transport;
			d->device_id = device_id;
			return 0;
		}
	}
	return -RT_ENODEV;
}
