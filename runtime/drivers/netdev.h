/*
 * netdev.h - the frame-level contract between a network device driver
 * and whoever owns the device (a TCP/IP stack, or a test kernel).  It
 * knows Ethernet frames and nothing of any protocol above them.
 *
 * RULES, as rt.h's: calls that can fail return a negative RT_E* code and
 * change nothing; what is passed in is borrowed for the call.  A device
 * found by netdev_probe() is the runtime's and lives until the guest
 * ends; its owner is whoever probed it, and only the owner calls the
 * functions below with it (one CPU, no threads, no locks).
 *
 * Frames are whole Ethernet frames without the FCS: destination, source,
 * EtherType, payload; at most netdev_frame_max(dev) bytes (MTU + 14).
 *
 * Waking.  Receiving is drained by the owner: netdev_recv() until it
 * returns 0.  A device with frames waiting makes rt_poll() return (it
 * counts as one event), so an owner that calls netdev_recv() after every
 * rt_poll() sees every frame; so does a device whose transmit ring has
 * room again after netdev_send() said -RT_EAGAIN.  The device's
 * interrupt wakes the halted CPU for that (dev->irq says how it is
 * wired); a device whose interrupt could not be wired, or any device
 * when the command line has the word "rt.netpoll", is polled instead:
 * the event loop asks it at least every millisecond while it waits
 * (docs/runtime.md, Network devices).  Either way the owner does the
 * same.
 */
#ifndef RT_DRIVERS_NETDEV_H
#define RT_DRIVERS_NETDEV_H

#include <stddef.h>
#include <stdint.h>

#define NETDEV_ETH_HLEN	14

struct netdev;

/* Counters since the device was probed, for diagnostics and tests. */
struct netdev_stats {
	uint64_t interrupts;		/* the device raised (0: polled) */
	uint64_t polls;			/* the event loop asked it for
					 * frames: once per rt_poll() and
					 * once per wake-up while it waits */
};

/* What a driver provides; the functions below call these.  (stats) may
 * be NULL: the counters then read 0. */
struct netdev_ops {
	int (*send)(struct netdev *dev, const void *frame, size_t len);
	size_t (*recv)(struct netdev *dev, void *buf, size_t max);
	int (*pending)(struct netdev *dev);
	void (*stats)(struct netdev *dev, struct netdev_stats *st);
};

/* Filled in by the driver; the owner reads it, never writes it. */
struct netdev {
	const struct netdev_ops *ops;
	void *priv;			/* the driver's */
	const char *driver;		/* "virtio-net", "xen-netfront" */
	const char *transport;		/* "virtio-mmio", "virtio-pci",
					 * "virtio-pci (legacy)", "xenbus" */
	/* How the device wakes the CPU: "msi-x", "ioapic gsi N"; NULL
	 * when it is polled.  For diagnostics: do not parse it. */
	const char *irq;
	uint8_t mac[6];			/* as the host assigned it */
	uint16_t mtu;			/* payload bytes, 1500 unless told */
};

/*
 * Finds the first network device, sets it up and stores it in (*devp).
 * (cmdline) is the kernel's command line (rt_info.cmdline): on QEMU's
 * microvm without ACPI the virtio-mmio devices are listed there.  The
 * device is returned once: a second call finds the next one.  Returns 0,
 * -RT_ENODEV when there is none (or none left), -RT_ENOMEM when its rings
 * could not be allocated, -RT_EINVAL when the device refused the driver
 * (its features, its queues), or -RT_ETIMEDOUT when it did not answer
 * in time (a Xen backend that never connects).
 */
int netdev_probe(const char *cmdline, struct netdev **devp);

/* The largest frame (dev) sends and receives: MTU plus the header. */
static inline size_t
netdev_frame_max(const struct netdev *dev)
{
	return (size_t)dev->mtu + NETDEV_ETH_HLEN;
}

/*
 * Queues the frame of (len) bytes at (frame) for sending; the bytes are
 * copied, so (frame) may be reused at once.  Returns 0, -RT_EAGAIN when
 * the transmit ring is full (try again after an rt_poll()), -RT_EINVAL
 * when (len) is below 14 or above netdev_frame_max(dev), or -RT_ENODEV
 * when the device has stopped for good (a Xen backend that broke the
 * protocol; netdev_recv() then returns 0).
 */
static inline int
netdev_send(struct netdev *dev, const void *frame, size_t len)
{
	return dev->ops->send(dev, frame, len);
}

/*
 * Takes the oldest received frame: copies at most (max) bytes of it to
 * (buf) and returns its length, or 0 when none is waiting.  A frame
 * longer than (max) is cut (the return value is then above (max)); a
 * (max) of netdev_frame_max(dev) never cuts.
 */
static inline size_t
netdev_recv(struct netdev *dev, void *buf, size_t max)
{
	return dev->ops->recv(dev, buf, max);
}

/* Non-zero when netdev_recv() has a frame to return. */
static inline int
netdev_pending(struct netdev *dev)
{
	return dev->ops->pending(dev);
}

/* Fills (*st) with (dev)'s counters. */
static inline void
netdev_stats(struct netdev *dev, struct netdev_stats *st)
{
	st->interrupts = st->polls = 0;
	if (dev->ops->stats != NULL)
		dev->ops->stats(dev, st);
}

#endif
