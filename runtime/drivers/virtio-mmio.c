/*
 * virtio-mmio.c - the virtio-mmio transport, version 2 (virtio 1.2, 4.2.2)
 * and the legacy version 1 (4.2.4).
 *
 * Where devices are: QEMU's microvm lists them on the kernel command line
 * ("virtio_mmio.device=512@0xfeb00e00:12") only when it has no ACPI
 * (-M microvm,acpi=off); with ACPI, its default, they are in the DSDT
 * alone.  Rather than interpret AML, the driver then looks at microvm's
 * fixed transport slots, 512 bytes each from 0xfeb00000, for the magic
 * value.  Version 1 (legacy), QEMU 7.2's default, is driven too.
 *
 * The interrupt is an IOAPIC input (GSI): the command line word's IRQ,
 * else the one the DSDT's resource template for the device names
 * (acpi.c).  It is level-triggered, active high, as QEMU's device holds
 * the line while InterruptStatus is not zero; the handler writes that
 * back to InterruptACK, which drops it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio.h"

#define MMIO_MAGIC		0x000
#define MMIO_VERSION		0x004
#define MMIO_DEVICE_ID		0x008
#define MMIO_DEVICE_FEATURES	0x010
#define MMIO_DEVICE_FEATURES_SEL 0x014
#define MMIO_DRIVER_FEATURES	0x020
#define MMIO_DRIVER_FEATURES_SEL 0x024
#define MMIO_QUEUE_SEL		0x030
#define MMIO_QUEUE_NUM_MAX	0x034
#define MMIO_QUEUE_NUM		0x038
#define MMIO_QUEUE_READY	0x044
#define MMIO_QUEUE_NOTIFY	0x050
#define MMIO_INTERRUPT_STATUS	0x060
#define MMIO_INTERRUPT_ACK	0x064
#define MMIO_LEGACY_PAGE_SIZE 0x028
#define MMIO_LEGACY_ALIGN	0x03c
#define MMIO_LEGACY_PFN		0x040
#define MMIO_STATUS		0x070
#define MMIO_QUEUE_DESC		0x080
#define MMIO_QUEUE_DRIVER	0x090
#define MMIO_QUEUE_DEVICE	0x0a0
#define MMIO_CONFIG		0x100

#define MMIO_MAGIC_VALUE	0x74726976	/* "virt" */
#define MMIO_SIZE_MIN		0x200
#define MMIO_BASE_MIN		0x100000UL	/* not over RAM we run in */

#define MICROVM_BASE		0xfeb00000UL
#define MICROVM_SLOTS		24

static uint32_t
rd(struct virtio_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->regs + off);
}

static void
wr(struct virtio_dev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->regs + off) = v;
}

static void
wr64(struct virtio_dev *d, unsigned off, uint64_t v)
{
	wr(d, off, (uint32_t)v);
	wr(d, off + 4, (uint32_t)(v >> 32));
}

static uint64_t
mmio_features(struct virtio_dev *d)
{
	uint64_t f;

	wr(d, MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(d, MMIO_DEVICE_FEATURES) << 32;
	wr(d, MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd(d, MMIO_DEVICE_FEATURES);
}

static void
mmio_set_features(struct virtio_dev *d, uint64_t f)
{
	wr(d, MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(d, MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, MMIO_DRIVER_FEATURES, (uint32_t)f);
}

static uint8_t
mmio_status(struct virtio_dev *d)
{
	return (uint8_t)rd(d, MMIO_STATUS);
}

static void
mmio_set_status(struct virtio_dev *d, uint8_t s)
{
	wr(d, MMIO_STATUS, s);
}

static uint8_t
mmio_config8(struct virtio_dev *d, unsigned off)
{
	return *(volatile uint8_t *)(d->regs + MMIO_CONFIG + off);
}

static unsigned
mmio_queue_max(struct virtio_dev *d, unsigned index)
{
	wr(d, MMIO_QUEUE_SEL, index);
	if (rd(d, MMIO_QUEUE_READY) != 0)
		return 0;
	return rd(d, MMIO_QUEUE_NUM_MAX);
}

static void
mmio_queue_enable(struct virtio_dev *d, struct virtq *q)
{
	wr(d, MMIO_QUEUE_SEL, q->index);
	wr(d, MMIO_QUEUE_NUM, q->size);
	wr64(d, MMIO_QUEUE_DESC, (uintptr_t)q->desc);
	wr64(d, MMIO_QUEUE_DRIVER, (uintptr_t)q->avail);
	wr64(d, MMIO_QUEUE_DEVICE, (uintptr_t)q->used);
	wr(d, MMIO_QUEUE_READY, 1);
}

static void
mmio_notify(struct virtio_dev *d, struct virtq *q)
{
	wr(d, MMIO_QUEUE_NOTIFY, q->index);
}

static int
mmio_irq_setup(struct virtio_dev *d)
{
	unsigned gsi, flags = IRQ_LEVEL | IRQ_HIGH;
	int r;

	if (d->gsi >= 0)
		acpi_isa_irq((unsigned)d->gsi, &gsi, &flags);
	else if (acpi_mmio_irq(d->regs, &gsi, &flags) != 0)
		return -RT_ENODEV;
	if ((r = irq_attach_gsi(gsi, flags, &d->irq)) < 0)
		return r;
	snprintf(d->irq_name, sizeof d->irq_name, "ioapic gsi %u", gsi);
	return 0;
}

static int
mmio_irq_ack(struct virtio_dev *d)
{
	uint32_t st = rd(d, MMIO_INTERRUPT_STATUS);

	if (st != 0)
		wr(d, MMIO_INTERRUPT_ACK, st);
	return st != 0;
}

/* Version 1 (legacy, virtio 1.2 4.2.4): what QEMU 7.2's microvm gives
 * unless -global virtio-mmio.force-legacy=false. */
static unsigned
legacy_queue_max(struct virtio_dev *d, unsigned index)
{
	wr(d, MMIO_QUEUE_SEL, index);
	if (rd(d, MMIO_LEGACY_PFN) != 0)
		return 0;
	return rd(d, MMIO_QUEUE_NUM_MAX);
}

static void
legacy_queue_enable(struct virtio_dev *d, struct virtq *q)
{
	wr(d, MMIO_LEGACY_PAGE_SIZE, RT_PAGE_SIZE);
	wr(d, MMIO_QUEUE_SEL, q->index);
	wr(d, MMIO_QUEUE_NUM, q->size);
	wr(d, MMIO_LEGACY_ALIGN, RT_PAGE_SIZE);
	wr(d, MMIO_LEGACY_PFN, (uint32_t)((uintptr_t)q->desc / RT_PAGE_SIZE));
}

static const struct virtio_transport mmio_legacy_transport = {
	.name = "virtio-mmio (legacy)",
	.legacy = 1,
	.features = mmio_features,
	.set_features = mmio_set_features,
	.status = mmio_status,
	.set_status = mmio_set_status,
	.config8 = mmio_config8,
	.queue_max = legacy_queue_max,
	.queue_enable = legacy_queue_enable,
	.notify = mmio_notify,
	.irq_setup = mmio_irq_setup,
	.irq_ack = mmio_irq_ack,
};

static const struct virtio_transport mmio_transport = {
	.name = "virtio-mmio",
	.features = mmio_features,
	.set_features = mmio_set_features,
	.status = mmio_status,
	.set_status = mmio_set_status,
	.config8 = mmio_config8,
	.queue_max = mmio_queue_max,
	.queue_enable = mmio_queue_enable,
	.notify = mmio_notify,
	.irq_setup = mmio_irq_setup,
	.irq_ack = mmio_irq_ack,
};

/* 1 when a device of type (device_id) answers at (base). */
static int
mmio_match(uintptr_t base, uint32_t device_id, struct virtio_dev *d)
{
	uint32_t version;

	d->t = &mmio_transport;
	d->regs = base;
	if (rd(d, MMIO_MAGIC) != MMIO_MAGIC_VALUE)
		return 0;
	if (rd(d, MMIO_DEVICE_ID) != device_id)
		return 0;
	if ((version = rd(d, MMIO_VERSION)) == 1)
		d->t = &mmio_legacy_transport;
	else if (version != 2)
		return 0;
	d->device_id = device_id;
	return 1;
}

/*
 * Reads the virtio_mmio.device word at (p) ("SIZE@ADDR[:IRQ]", SIZE with
 * an optional K or M) into (*base) and (*irq) (-1 when it names none):
 * 0, or -1 when it is malformed or its window is not a transport's below
 * 4 GiB.
 */
static int
parse_device(const char *p, uintptr_t *base, int *irq)
{
	unsigned long size, b, n;
	char *end;

	size = strtoul(p, &end, 0);
	if (*end == 'K' || *end == 'k')
		size <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		size <<= 20, end++;
	if (*end != '@')
		return -1;
	p = end + 1;
	b = strtoul(p, &end, 0);
	if (end == p || (*end != ':' && *end != ' ' && *end != '\0'))
		return -1;
	if (size < MMIO_SIZE_MIN || b < MMIO_BASE_MIN ||
	    b >= 0x100000000UL - MMIO_SIZE_MIN || (b & 3) != 0)
		return -1;
	*irq = -1;
	if (*end == ':') {
		p = end + 1;
		n = strtoul(p, &end, 0);
		if (end == p || (*end != ' ' && *end != '\0') || n > 255)
			return -1;
		*irq = (int)n;
	}
	*base = b;
	return 0;
}

int
virtio_mmio_find(const char *cmdline, uint32_t device_id, unsigned skip,
    struct virtio_dev *d)
{
	static const char word[] = "virtio_mmio.device=";
	const char *p;
	uintptr_t base;
	unsigned i;
	int listed = 0, irq;

	for (p = cmdline; (p = strstr(p, word)) != NULL; p += sizeof word - 1) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		listed = 1;
		if (parse_device(p + sizeof word - 1, &base, &irq) != 0) {
			rt_log("virtio-mmio: bad device word on the command line");
			continue;
		}
		if (mmio_match(base, device_id, d) && skip-- == 0) {
			d->gsi = irq;
			return 0;
		}
	}
	if (listed)
		return -RT_ENODEV;
	for (i = 0; i < MICROVM_SLOTS; i++)
		if (mmio_match(MICROVM_BASE + i * MMIO_SIZE_MIN, device_id, d) &&
		    skip-- == 0) {
			d->gsi = -1;
			return 0;
		}
	return -RT_ENODEV;
}
