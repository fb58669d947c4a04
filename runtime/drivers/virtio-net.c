/*
 * virtio-net.c - the virtio network device (virtio 1.2, 5.1) behind the
 * netdev contract (netdev.h), on either transport.
 *
 * Features: VERSION_1 (required, except on a legacy transport), MAC and
 * STATUS; no MTU, checksum or segmentation offloads, no mergeable
 * buffers, one queue pair.  So every frame is one buffer of the header
 * (12 bytes, 10 on legacy; all zero: nothing to offload) and the frame.
 * The receive queue is kept full of 2 KiB buffers, each put back as soon
 * as its frame is copied out; transmit buffers are 2 KiB too, one per
 * descriptor, and the descriptors the device has not given back are the
 * only ones not on the free list.
 *
 * Interrupts: only while the CPU waits.  The event loop asks the device
 * (vnet_ready) before it halts: when nothing is there, the receive
 * queue (and the transmit queue, while a send waits for room) is asked
 * to interrupt at its next used buffer and looked at once more, which
 * closes the race with a buffer used before the device saw the request;
 * when something is, both are told to be quiet again.  So a busy guest
 * costs the host no interrupt per frame (which, on a nested KVM, doubled
 * the time QEMU took to answer a frame), and a waiting one is woken at
 * the first.  Transmit descriptors are otherwise taken back at the next
 * send.  When the transport cannot wire the interrupt, or the command
 * line says "rt.netpoll", the queues stay quiet and the device is
 * polled.
 */
#include <string.h>

#include "netdev.h"
#include "virtio.h"

#include "../arch/x86_64/cpu.h"
#include "../kernel/kernel.h"
#include "../kernel/memmap.h"

#define NET_F_MAC	5
#define NET_F_STATUS	16

#define NET_CFG_MAC	0

#define NET_HDR_LEN	12		/* with VERSION_1, num_buffers too */
#define NET_HDR_LEN_LEGACY 10		/* legacy, without MRG_RXBUF */
#define NET_BUF_SIZE	2048
#define NET_QUEUE_MAX	128

#define RXQ	0
#define TXQ	1

struct vnet {
	struct netdev nd;
	struct virtio_dev vd;
	struct virtq rx, tx;
	uint8_t *rx_buf, *tx_buf;	/* NET_BUF_SIZE per descriptor */
	uint16_t tx_free[VIRTQ_SIZE_MAX];	/* a stack of descriptors */
	unsigned tx_nfree;
	size_t hdr_len;			/* the device's header */
	int tx_blocked;			/* a send found the ring full */
	uint64_t polls;
	struct rt_poll_source wake;
};

/* Gives rx descriptor (id) back to the device, its whole buffer. */
static void
rx_post(struct vnet *v, uint16_t id)
{
	volatile struct virtq_desc *d = &v->rx.desc[id];

	d->addr = (uintptr_t)(v->rx_buf + (size_t)id * NET_BUF_SIZE);
	d->len = NET_BUF_SIZE;
	d->flags = VIRTQ_DESC_F_WRITE;
	d->next = 0;
	virtq_publish(&v->rx, id);
}

/* Takes back the transmit descriptors the device is done with. */
static void
tx_reclaim(struct vnet *v)
{
	uint16_t id;
	uint32_t len;

	while (virtq_take_used(&v->tx, &id, &len))
		if (id < v->tx.size && v->tx_nfree < v->tx.size)
			v->tx_free[v->tx_nfree++] = id;
}

static int
vnet_send(struct netdev *nd, const void *frame, size_t len)
{
	struct vnet *v = nd->priv;
	volatile struct virtq_desc *d;
	uint8_t *buf;
	uint16_t id;

	if (len < NETDEV_ETH_HLEN || len > netdev_frame_max(nd))
		return -RT_EINVAL;
	tx_reclaim(v);
	if (v->tx_nfree == 0) {
		v->tx_blocked = 1;	/* vnet_ready() watches for room */
		return -RT_EAGAIN;
	}
	if (v->tx_blocked) {
		v->tx_blocked = 0;
		virtq_interrupts(&v->tx, 0);
	}
	id = v->tx_free[--v->tx_nfree];
	buf = v->tx_buf + (size_t)id * NET_BUF_SIZE;
	memset(buf, 0, v->hdr_len);
	memcpy(buf + v->hdr_len, frame, len);
	d = &v->tx.desc[id];
	d->addr = (uintptr_t)buf;
	d->len = (uint32_t)(v->hdr_len + len);
	d->flags = 0;
	d->next = 0;
	virtq_publish(&v->tx, id);
	virtq_kick(&v->tx);
	return 0;
}

static size_t
vnet_recv(struct netdev *nd, void *buf, size_t max)
{
	struct vnet *v = nd->priv;
	uint16_t id;
	uint32_t len;
	size_t flen;

	/* Entries the device got wrong (an id it was not given, a length
	 * beyond the buffer) are skipped; a bad id cannot be reposted. */
	while (virtq_take_used(&v->rx, &id, &len)) {
		if (id >= v->rx.size)
			continue;
		if (len <= v->hdr_len || len > NET_BUF_SIZE) {
			rx_post(v, id);
			virtq_kick(&v->rx);
			continue;
		}
		flen = len - v->hdr_len;
		memcpy(buf, v->rx_buf + (size_t)id * NET_BUF_SIZE + v->hdr_len,
		    flen < max ? flen : max);
		rx_post(v, id);
		virtq_kick(&v->rx);
		return flen;
	}
	return 0;
}

static int
vnet_pending(struct netdev *nd)
{
	struct vnet *v = nd->priv;

	return virtq_has_used(&v->rx);
}

/* Frames waiting, or room again for a send that found none. */
static int
vnet_work(struct vnet *v)
{
	return virtq_has_used(&v->rx) ||
	    (v->tx_blocked && virtq_has_used(&v->tx));
}

/* The event loop's question, asked before every halt: see the top. */
static int
vnet_ready(void *arg)
{
	struct vnet *v = ((struct netdev *)arg)->priv;

	v->polls++;
	if (!vnet_work(v)) {
		if (!v->vd.irq_wired)
			return 0;
		if (!virtq_arm(&v->rx) &&
		    !(v->tx_blocked && virtq_arm(&v->tx)))
			return 0;
	}
	if (v->vd.irq_wired) {
		virtq_interrupts(&v->rx, 0);
		virtq_interrupts(&v->tx, 0);
	}
	return 1;
}

static void
vnet_stats(struct netdev *nd, struct netdev_stats *st)
{
	struct vnet *v = nd->priv;

	st->interrupts = v->vd.interrupts;
	st->polls = v->polls;
}

static const struct netdev_ops vnet_ops = {
	.send = vnet_send,
	.recv = vnet_recv,
	.pending = vnet_pending,
	.stats = vnet_stats,
};

/* Negotiates, wires the interrupt unless (polled), reads the
 * configuration, sets up both queues: 0 or an RT_E* code, the device
 * then marked FAILED. */
static int
vnet_start(struct vnet *v, int polled)
{
	struct virtio_dev *d = &v->vd;
	uint64_t f;
	unsigned i;
	int r;

	f = virtio_negotiate(d, 1ULL << VIRTIO_F_VERSION_1 |
	    1ULL << NET_F_MAC | 1ULL << NET_F_STATUS);
	if (f == 0)
		return -RT_EINVAL;
	/* Before the configuration is read: enabling MSI-X moves a
	 * legacy PCI device's. */
	if (!polled)
		virtio_irq_setup(d);
	v->hdr_len = d->t->legacy ? NET_HDR_LEN_LEGACY : NET_HDR_LEN;
	if ((f & 1ULL << NET_F_MAC) != 0) {
		for (i = 0; i < 6; i++)
			v->nd.mac[i] = d->t->config8(d, NET_CFG_MAC + i);
	} else {
		/* Locally administered, unicast, from the TSC. */
		uint64_t t = rdtsc();

		v->nd.mac[0] = 0x02;
		for (i = 1; i < 6; i++, t >>= 8)
			v->nd.mac[i] = (uint8_t)t;
	}
	/* Without VIRTIO_NET_F_MTU the device sends at most 1514-byte
	 * frames, which the buffers hold with the header. */
	v->nd.mtu = 1500;
	if ((r = virtq_init(d, &v->rx, RXQ, NET_QUEUE_MAX)) != 0 ||
	    (r = virtq_init(d, &v->tx, TXQ, NET_QUEUE_MAX)) != 0)
		goto fail;
	v->rx_buf = memory_pages_alloc(v->rx.size * NET_BUF_SIZE /
	    RT_PAGE_SIZE);
	v->tx_buf = memory_pages_alloc(v->tx.size * NET_BUF_SIZE /
	    RT_PAGE_SIZE);
	if (v->rx_buf == NULL || v->tx_buf == NULL) {
		r = -RT_ENOMEM;
		goto fail;
	}
	for (i = 0; i < v->rx.size; i++)
		rx_post(v, (uint16_t)i);
	for (i = 0; i < v->tx.size; i++)
		v->tx_free[i] = (uint16_t)(v->tx.size - 1 - i);
	v->tx_nfree = v->tx.size;
	virtio_driver_ok(d);
	virtq_kick(&v->rx);
	return 0;
fail:
	virtio_fail(d);
	return r;
}

/*
 * The next virtio-net device, PCI first, then MMIO; (found) counts those
 * handed out already.  Xen guests have no such devices (netfront is
 * another driver) and no I/O ports to probe with.
 */
int
virtio_net_probe(const char *cmdline, struct netdev **devp)
{
	static unsigned pci_found, mmio_found;
	struct virtio_dev vd;
	struct vnet *v;
	int r;

	if (rt_platform.id == RT_PLATFORM_XEN)
		return -RT_ENODEV;
	memset(&vd, 0, sizeof vd);
	if (virtio_pci_find(VIRTIO_ID_NET, pci_found, &vd) == 0)
		pci_found++;
	else if (virtio_mmio_find(cmdline, VIRTIO_ID_NET, mmio_found, &vd) == 0)
		mmio_found++;
	else
		return -RT_ENODEV;
	/* A vnet is a few hundred bytes; a page keeps it with the rest. */
	if ((v = memory_pages_alloc(1)) == NULL)
		return -RT_ENOMEM;
	v->vd = vd;
	v->nd.ops = &vnet_ops;
	v->nd.priv = v;
	v->nd.driver = "virtio-net";
	v->nd.transport = vd.t->name;
	if ((r = vnet_start(v, cmdline_has_word(cmdline, "rt.netpoll"))) != 0)
		return r;
	v->nd.irq = v->vd.irq_wired ? v->vd.irq_name : NULL;
	v->wake.ready = vnet_ready;
	v->wake.arg = &v->nd;
	v->wake.polled = !v->vd.irq_wired;
	rt_poll_source_add(&v->wake);
	*devp = &v->nd;
	return 0;
}
