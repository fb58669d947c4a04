/*
 * virtio.h - virtio for the runtime's drivers: split virtqueues
 * (virtio.c) and the transports, virtio-mmio version 2 and legacy
 * version 1 (virtio-mmio.c), modern and legacy virtio-pci
 * (virtio-pci.c), behind one table of operations so that a device
 * driver (virtio-net.c) does not know which it has.
 *
 * Memory: rings and buffers come from memory_pages_alloc(), below 4 GiB
 * where virtual == physical, so an address is given to the device as
 * is.  Registers are below 4 GiB too (the transports refuse others) and
 * are reached through the identity map, which is write-back: harmless
 * only because the hypervisor traps every access to them.  x86 orders
 * stores with stores and loads with loads, so a compiler barrier
 * separates writing a ring entry from publishing its index; a full
 * fence separates publishing from reading the device's notification
 * flag.
 *
 * Interrupts: virtio_irq_setup() asks the transport to wire the
 * device's interrupt to a vector (MSI-X, or an IOAPIC input), whose
 * handler only acknowledges it (kernel.h, struct rt_irq); a queue raises
 * it when the device uses a buffer, unless virtq_interrupts() turned
 * that off, and virtq_arm() turns it on just before the CPU waits.  A
 * device whose interrupt is not wired is polled.
 */
#ifndef RT_DRIVERS_VIRTIO_H
#define RT_DRIVERS_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "../kernel/kernel.h"

/* Device status (virtio 1.2, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_FAILED		128

#define VIRTIO_F_VERSION_1		32
#define VIRTIO_ID_NET			1
#define VIRTIO_NO_VECTOR		0xffff	/* PCI: no MSI-X vector */

/* Split virtqueue layout (virtio 1.2, 2.7). */
#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY		1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

#define VIRTQ_SIZE_MAX	256	/* what one page per part holds */

struct virtio_dev;

struct virtq {
	struct virtio_dev *dev;
	uint16_t index;
	uint16_t size;			/* a power of 2 */
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	uint16_t avail_idx;		/* next to publish */
	uint16_t used_seen;		/* next used entry to take */
	uint16_t notify_off;		/* virtio-pci: this queue's */
};

/* A transport: the device's registers behind the operations of virtio
 * 1.2 chapter 3 (initialisation), 4.1 (PCI) and 4.2 (MMIO). */
struct virtio_transport {
	const char *name;
	/* A legacy (virtio 0.9.5) interface: 32 feature bits, no
	 * FEATURES_OK, a 10-byte net header.  Its queue layout is the
	 * modern one that virtq_init() uses anyway (4 KiB alignment). */
	int legacy;
	/* The device fixes its queues' sizes (legacy PCI): the driver
	 * cannot choose a smaller one. */
	int fixed_queue_size;
	uint64_t (*features)(struct virtio_dev *d);
	void (*set_features)(struct virtio_dev *d, uint64_t f);
	uint8_t (*status)(struct virtio_dev *d);
	void (*set_status)(struct virtio_dev *d, uint8_t s);
	uint8_t (*config8)(struct virtio_dev *d, unsigned off);
	/* The largest size of queue (index), 0 if it does not exist. */
	unsigned (*queue_max)(struct virtio_dev *d, unsigned index);
	/* Gives the device (q)'s size and rings and enables it; with
	 * MSI-X, the queue gets vector 0 (and if the device refuses it,
	 * d->irq_wired becomes 0). */
	void (*queue_enable)(struct virtio_dev *d, struct virtq *q);
	void (*notify)(struct virtio_dev *d, struct virtq *q);
	/* Wires the device's interrupt to d->irq, before the queues are
	 * enabled: 0, with d->irq_name saying how, or a negative RT_E*
	 * code (the device is then polled).  NULL: it cannot. */
	int (*irq_setup)(struct virtio_dev *d);
	/* In interrupt context: acknowledges the device's interrupt;
	 * 1 when it had raised it.  NULL: nothing to acknowledge. */
	int (*irq_ack)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_transport *t;
	uint32_t device_id;
	/* Addresses, as integers: registers are read at their own width. */
	uintptr_t regs;			/* mmio: the register block;
					 * legacy pci: the I/O port base */
	uintptr_t common;		/* pci: the capabilities' structures */
	uintptr_t notify_base;
	uintptr_t device_cfg;
	uintptr_t isr;
	uint32_t notify_mult;
	unsigned bdf;			/* pci: bus 0, device, function */
	unsigned msix_cap;		/* pci: its capability, 0: none */
	int msix;			/* pci: MSI-X enabled */
	int gsi;			/* mmio: from the command line, or -1 */
	/* Interrupts: the handler (virtio.c), how it is wired, how many
	 * the device raised. */
	struct rt_irq irq;
	int irq_wired;
	char irq_name[24];
	volatile uint64_t interrupts;
};

/* virtio-mmio.c: the first device of type (device_id) listed on
 * (cmdline) as "virtio_mmio.device=SIZE@ADDR[:IRQ]", else at QEMU
 * microvm's fixed slots; skips the first (skip) such devices.  0 or
 * -RT_ENODEV. */
int virtio_mmio_find(const char *cmdline, uint32_t device_id, unsigned skip,
    struct virtio_dev *d);

/* virtio-pci.c: the same on PCI bus 0, through ports 0xcf8/0xcfc:
 * modern through its capabilities, else legacy through its I/O BAR. */
int virtio_pci_find(uint32_t device_id, unsigned skip, struct virtio_dev *d);

/* virtio.c: initialisation up to FEATURES_OK with the features (want)
 * that the device offers; returns them, 0 when VERSION_1 was refused. */
uint64_t virtio_negotiate(struct virtio_dev *d, uint64_t want);
void virtio_driver_ok(struct virtio_dev *d);
void virtio_fail(struct virtio_dev *d);

/* Wires (d)'s interrupt (struct virtio_transport, irq_setup): 0, or a
 * negative RT_E* code when it stays polled. */
int virtio_irq_setup(struct virtio_dev *d);

/* A queue of at most (max) entries (a device that fixes the size gets
 * its own): rings allocated, zeroed and given to the device, its
 * interrupts off.  0, -RT_ENODEV, -RT_ENOMEM. */
int virtq_init(struct virtio_dev *d, struct virtq *q, unsigned index,
    unsigned max);

/* Asks the device to interrupt (on) or not when it uses a buffer of
 * (q): a hint, which the device may ignore either way. */
void virtq_interrupts(struct virtq *q, int on);

/* Before waiting for (q): asks the device to interrupt, then returns 1
 * when it has used a buffer already (maybe before it saw the request,
 * so that nothing was raised for it), else 0. */
int virtq_arm(struct virtq *q);

/* Makes descriptor (head) available to the device (not notified). */
void virtq_publish(struct virtq *q, uint16_t head);

/* Tells the device about what was published, unless it asked not. */
void virtq_kick(struct virtq *q);

/* Takes the next used entry into (*id), (*len): 1, or 0 if none. */
int virtq_take_used(struct virtq *q, uint16_t *id, uint32_t *len);

/* 1 when the device has used an entry not yet taken. */
int virtq_has_used(const struct virtq *q);

/* virtio-net.c: netdev_probe()'s (netdev.h) for virtio-net devices. */
struct netdev;
int virtio_net_probe(const char *cmdline, struct netdev **devp);

#endif
