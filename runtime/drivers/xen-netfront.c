/*
 * xen-netfront.c - Xen's paravirtual network device, the frontend half
 * (xen/include/public/io/netif.h), behind the netdev contract (netdev.h);
 * the backend is netback in a driver domain (dom0 here).
 *
 * The handshake is xenbus' (runtime/xen/xenbus.h): read the device's
 * backend, backend-id and mac under device/vif/N, wait for the backend to
 * be in InitWait, grant it a transmit and a receive ring (one page each)
 * and give it an event channel, write the keys below, switch to Connected
 * and wait for the backend to be Connected too.
 *
 * Negotiated: request-rx-copy (the backend copies into pages we grant,
 * the only mode Linux's netback has), feature-rx-notify (we send the
 * event channel when we post receive pages), feature-no-csum-offload
 * (frames reach us with their checksums done, as the stack expects).
 * Not: scatter-gather, GSO, checksum offload, multicast control, several
 * queues, split event channels.  So a frame is one slot of one page each
 * way, and the MTU is 1500 (what netback allows a frontend without
 * feature-sg).
 *
 * Receive: every slot of the receive ring (256) holds a page, granted
 * read-write, whose response comes back in the same slot (netif.h
 * promises it to frontends that, like Linux's, ignore the id).  Taking a
 * frame ends the page's grant (the backend can no longer write while we
 * copy), copies the frame out and grants the page again in the same
 * slot, so the ring stays full.  Transmit: each frame is copied into one
 * of 64 pages, granted read-only for the request and taken back at its
 * response.  A backend that answers what it was not asked, or keeps a
 * page it said it was done with, breaks the device: it stops (send says
 * -RT_ENODEV, recv 0) rather than trust the backend further.
 *
 * Polled, like virtio-net: the event channel is masked and bound to no
 * upcall; the event loop asks whether the receive ring has responses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netdev.h"

#include "../kernel/kernel.h"
#include "../kernel/memmap.h"
#include "../xen/xenbus.h"

#define NF_RING_SIZE	256	/* slots in either ring (below) */
#define NF_TX_BUFS	64	/* frames in flight to the backend */
#define NF_MTU		1500
#define NF_WAIT_NS	(10 * RT_NSEC_PER_SEC)	/* per handshake step */
#define NF_DOMID_MAX	0x7fefu	/* below Xen's reserved ids */

/* netif.h: rx response flags, extra-info flags, response status */
#define NF_RXF_MORE_DATA	(1u << 2)
#define NF_RXF_EXTRA_INFO	(1u << 3)
#define NF_EXTRA_FLAG_MORE	1u

/* io/ring.h: the indexes run free; slot = index % size */
struct nf_ring_hdr {
	uint32_t req_prod, req_event;
	uint32_t rsp_prod, rsp_event;
	uint8_t pad[48];
};

struct nf_tx_req {
	uint32_t gref;
	uint16_t offset;
	uint16_t flags;
	uint16_t id;
	uint16_t size;
};

struct nf_tx_rsp {
	uint16_t id;
	int16_t status;
};

union nf_tx_slot {
	struct nf_tx_req req;
	struct nf_tx_rsp rsp;
};

struct nf_rx_req {
	uint16_t id;
	uint16_t pad;
	uint32_t gref;
};

struct nf_rx_rsp {
	uint16_t id;
	uint16_t offset;
	uint16_t flags;
	int16_t status;		/* > 0: the frame's length */
};

struct nf_rx_extra {		/* overlays a response after NF_RXF_EXTRA_INFO */
	uint8_t type;
	uint8_t flags;
	uint16_t data[3];
};

union nf_rx_slot {
	struct nf_rx_req req;
	struct nf_rx_rsp rsp;
	struct nf_rx_extra extra;
};

struct nf_tx_sring {
	struct nf_ring_hdr h;
	union nf_tx_slot ring[NF_RING_SIZE];
};

struct nf_rx_sring {
	struct nf_ring_hdr h;
	union nf_rx_slot ring[NF_RING_SIZE];
};

_Static_assert(sizeof(struct nf_ring_hdr) == 64, "ring header");
_Static_assert(sizeof(union nf_tx_slot) == 12, "tx slot");
_Static_assert(sizeof(union nf_rx_slot) == 8, "rx slot");
/* A ring has as many slots as fit its page after the header, rounded
 * down to a power of two: 336 and 504, so 256 both. */
_Static_assert((RT_PAGE_SIZE - 64) / 12 >= NF_RING_SIZE &&
    (RT_PAGE_SIZE - 64) / 12 < 2 * NF_RING_SIZE, "tx ring size");
_Static_assert((RT_PAGE_SIZE - 64) / 8 >= NF_RING_SIZE &&
    (RT_PAGE_SIZE - 64) / 8 < 2 * NF_RING_SIZE, "rx ring size");
_Static_assert(NF_TX_BUFS <= NF_RING_SIZE, "tx requests fit the ring");

struct netfront {
	struct netdev nd;
	volatile struct nf_tx_sring *tx;
	volatile struct nf_rx_sring *rx;
	uint8_t *rx_buf;		/* a page per receive slot */
	uint8_t *tx_buf;		/* a page per transmit buffer */
	uint32_t tx_prod, tx_pushed, tx_cons;	/* requests made, published; */
	uint32_t rx_prod, rx_pushed, rx_cons;	/* responses taken */
	uint32_t rx_ref[NF_RING_SIZE];	/* each receive page's grant */
	uint32_t tx_ref[NF_TX_BUFS];	/* each transmit page's, in flight */
	uint16_t tx_free[NF_TX_BUFS];	/* a stack of free transmit pages */
	uint8_t tx_busy[NF_TX_BUFS];
	unsigned tx_nfree;
	uint8_t rx_extra;		/* the next slot is extra info */
	uint8_t rx_more;		/* the next slot continues a frame */
	uint8_t broken;
	uint16_t backend_id;
	uint32_t port;
	char fe[32];			/* device/vif/N */
	char be[96];			/* the backend's directory */
	struct rt_poll_source wake;
};
_Static_assert(sizeof(struct netfront) <= RT_PAGE_SIZE, "a page");

/* The backend did what the protocol does not allow: stop. */
static void
nf_break(struct netfront *v, const char *what)
{
	if (!v->broken)
		rt_log("xen-netfront: %s: %s; device stopped", v->fe, what);
	v->broken = 1;
}

/*
 * Publishes requests up to (prod) in the ring of header (h) and sends the
 * event channel if the backend asked to hear of them (req_event).
 */
static void
nf_push(struct netfront *v, volatile struct nf_ring_hdr *h, uint32_t prod,
    uint32_t *pushed)
{
	uint32_t old = *pushed;

	if (prod == old)
		return;
	/* the slots before the index that publishes them */
	__atomic_store_n(&h->req_prod, prod, __ATOMIC_RELEASE);
	*pushed = prod;
	/* the index out before req_event is read */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if ((uint32_t)(prod - h->req_event) < (uint32_t)(prod - old))
		xen_evtchn_send(v->port);
}

/* Grants receive slot (slot)'s page and posts it there. */
static int
nf_rx_post(struct netfront *v, uint32_t slot)
{
	volatile struct nf_rx_req *req;
	int ref;

	ref = xen_gnttab_grant(v->backend_id, v->rx_buf + slot * RT_PAGE_SIZE,
	    0);
	if (ref < 0)
		return ref;
	v->rx_ref[slot] = (uint32_t)ref;
	req = &v->rx->ring[v->rx_prod % NF_RING_SIZE].req;
	req->id = (uint16_t)slot;
	req->pad = 0;
	req->gref = (uint32_t)ref;
	v->rx_prod++;
	return 0;
}

/* Takes back the transmit pages the backend is done with. */
static void
nf_tx_reclaim(struct netfront *v)
{
	struct nf_tx_rsp rsp;
	uint32_t prod;

	prod = __atomic_load_n(&v->tx->h.rsp_prod, __ATOMIC_ACQUIRE);
	if (prod - v->tx_cons > v->tx_prod - v->tx_cons) {
		nf_break(v, "more transmit responses than requests");
		return;
	}
	while (v->tx_cons != prod) {
		/* one read of the shared slot: the backend may change it */
		rsp = v->tx->ring[v->tx_cons % NF_RING_SIZE].rsp;
		v->tx_cons++;
		if (rsp.id >= NF_TX_BUFS || !v->tx_busy[rsp.id]) {
			nf_break(v, "a transmit response for no request");
			return;
		}
		if (xen_gnttab_end(v->tx_ref[rsp.id]) != 0) {
			nf_break(v, "a transmit page still in use");
			return;
		}
		v->tx_busy[rsp.id] = 0;
		v->tx_free[v->tx_nfree++] = rsp.id;
	}
}

static int
nf_send(struct netdev *nd, const void *frame, size_t len)
{
	struct netfront *v = nd->priv;
	volatile struct nf_tx_req *req;
	uint8_t *page;
	uint16_t b;
	int ref;

	if (len < NETDEV_ETH_HLEN || len > netdev_frame_max(nd))
		return -RT_EINVAL;
	if (!v->broken)
		nf_tx_reclaim(v);
	if (v->broken)
		return -RT_ENODEV;
	if (v->tx_nfree == 0)
		return -RT_EAGAIN;
	b = v->tx_free[v->tx_nfree - 1];
	page = v->tx_buf + b * RT_PAGE_SIZE;
	memcpy(page, frame, len);
	if ((ref = xen_gnttab_grant(v->backend_id, page, 1)) < 0)
		return -RT_EAGAIN;	/* grants of other devices in the way */
	v->tx_nfree--;
	v->tx_busy[b] = 1;
	v->tx_ref[b] = (uint32_t)ref;
	req = &v->tx->ring[v->tx_prod % NF_RING_SIZE].req;
	req->gref = (uint32_t)ref;
	req->offset = 0;
	req->flags = 0;		/* one slot, checksums done */
	req->id = b;
	req->size = (uint16_t)len;
	v->tx_prod++;
	nf_push(v, &v->tx->h, v->tx_prod, &v->tx_pushed);
	return 0;
}

/*
 * Takes the response in the next receive slot and gives the slot its
 * page back; a frame in one slot, with nothing extra, is copied to (buf)
 * and its length returned in (*len).  Returns 1 for a frame, 0 for a slot
 * that held none (an error status, a piece of a frame we did not ask to
 * get in pieces), -1 when the device broke.
 */
static int
nf_rx_take(struct netfront *v, void *buf, size_t max, size_t *len)
{
	volatile union nf_rx_slot *s;
	struct nf_rx_rsp rsp;
	uint32_t slot = v->rx_cons % NF_RING_SIZE;
	int first, frame = 0;

	s = &v->rx->ring[slot];
	/* the page first: from here on the backend cannot write to it */
	if (xen_gnttab_end(v->rx_ref[slot]) != 0) {
		nf_break(v, "a receive page still in use");
		return -1;
	}
	v->rx_cons++;
	if (v->rx_extra) {
		v->rx_extra = (s->extra.flags & NF_EXTRA_FLAG_MORE) != 0;
	} else {
		rsp = s->rsp;
		first = !v->rx_more;
		v->rx_extra = (rsp.flags & NF_RXF_EXTRA_INFO) != 0;
		v->rx_more = (rsp.flags & NF_RXF_MORE_DATA) != 0;
		if (first && !v->rx_extra && !v->rx_more && rsp.id == slot &&
		    rsp.status > 0 &&
		    rsp.offset + (uint32_t)rsp.status <= RT_PAGE_SIZE) {
			*len = (size_t)rsp.status;
			memcpy(buf, v->rx_buf + slot * RT_PAGE_SIZE + rsp.offset,
			    *len < max ? *len : max);
			frame = 1;
		}
	}
	if (nf_rx_post(v, slot) != 0) {
		nf_break(v, "no grant for a receive page");
		return -1;
	}
	return frame;
}

static size_t
nf_recv(struct netdev *nd, void *buf, size_t max)
{
	struct netfront *v = nd->priv;
	uint32_t prod;
	size_t len = 0;
	int r = 0;

	if (v->broken)
		return 0;
	prod = __atomic_load_n(&v->rx->h.rsp_prod, __ATOMIC_ACQUIRE);
	if (prod - v->rx_cons > v->rx_prod - v->rx_cons) {
		nf_break(v, "more receive responses than requests");
		return 0;
	}
	while (r == 0 && v->rx_cons != prod)
		r = nf_rx_take(v, buf, max, &len);
	if (r >= 0)
		nf_push(v, &v->rx->h, v->rx_prod, &v->rx_pushed);
	return r > 0 ? len : 0;
}

static int
nf_pending(struct netdev *nd)
{
	struct netfront *v = nd->priv;

	return !v->broken && __atomic_load_n(&v->rx->h.rsp_prod,
	    __ATOMIC_ACQUIRE) != v->rx_cons;
}

/*
 * The event loop's question.  The receive ring, not the event channel's
 * pending bit: the bit is also set by transmit completions and stays set
 * until cleared, so it would wake the loop for nothing; the ring's index
 * is shared memory too, as cheap to read, and exact.
 */
static int
nf_ready(void *arg)
{
	return nf_pending(arg);
}

static const struct netdev_ops nf_ops = {
	.send = nf_send,
	.recv = nf_recv,
	.pending = nf_pending,
};

/* (dir)/(key) into (buf), or -RT_EINVAL when it does not fit. */
static int
nf_path(char *buf, size_t size, const char *dir, const char *key)
{
	return (size_t)snprintf(buf, size, "%s/%s", dir, key) < size ? 0 :
	    -RT_EINVAL;
}

static int
nf_read(const char *dir, const char *key, char *buf, size_t size)
{
	char path[128];
	int r;

	if ((r = nf_path(path, sizeof path, dir, key)) != 0)
		return r;
	return xen_store_read(path, buf, size);
}

/* (n) in decimal to our (v->fe) (key). */
static int
nf_write(struct netfront *v, const char *key, unsigned long n)
{
	char path[128], value[24];
	int r;

	if ((r = nf_path(path, sizeof path, v->fe, key)) != 0)
		return r;
	snprintf(value, sizeof value, "%lu", n);
	return xen_store_write(path, value);
}

/* "00:16:3e:01:02:03" into (mac). */
static int
nf_parse_mac(const char *s, uint8_t *mac)
{
	char *end;
	unsigned long b;
	int i;

	for (i = 0; i < 6; i++, s = end + 1) {
		if (s[0] == '\0' || s[1] == '\0' || s[0] == '+' || s[0] == '-' ||
		    s[0] == ' ')
			return -RT_EINVAL;
		b = strtoul(s, &end, 16);
		if (end != s + 2 || b > 0xff || *end != (i < 5 ? ':' : '\0'))
			return -RT_EINVAL;
		mac[i] = (uint8_t)b;
	}
	return 0;
}

/* What the toolstack wrote for us under device/vif/N. */
static int
nf_read_config(struct netfront *v)
{
	char path[128], mac[24];
	unsigned long id;
	int r;

	if ((r = nf_path(path, sizeof path, v->fe, "backend-id")) != 0 ||
	    (r = xen_store_read_uint(path, NF_DOMID_MAX, &id)) != 0)
		return r;
	v->backend_id = (uint16_t)id;
	if ((r = nf_read(v->fe, "backend", v->be, sizeof v->be)) < 0)
		return r;
	if (v->be[0] != '/')
		return -RT_EINVAL;
	if ((r = nf_read(v->fe, "mac", mac, sizeof mac)) < 0)
		return r;
	return nf_parse_mac(mac, v->nd.mac);
}

/* The rings, their pages, the event channel: everything but xenstore. */
static int
nf_alloc(struct netfront *v)
{
	volatile struct nf_ring_hdr *h[2];
	int ref, i;
	uint32_t s;

	v->tx = memory_pages_alloc(1);
	v->rx = memory_pages_alloc(1);
	v->rx_buf = memory_pages_alloc(NF_RING_SIZE);
	v->tx_buf = memory_pages_alloc(NF_TX_BUFS);
	if (v->tx == NULL || v->rx == NULL || v->rx_buf == NULL ||
	    v->tx_buf == NULL)
		return -RT_ENOMEM;
	/* empty rings; tell us of the first response (we poll anyway) */
	h[0] = &v->tx->h;
	h[1] = &v->rx->h;
	for (i = 0; i < 2; i++)
		h[i]->req_event = h[i]->rsp_event = 1;
	for (s = 0; s < NF_TX_BUFS; s++)
		v->tx_free[s] = (uint16_t)(NF_TX_BUFS - 1 - s);
	v->tx_nfree = NF_TX_BUFS;
	for (s = 0; s < NF_RING_SIZE; s++)
		if ((ref = nf_rx_post(v, s)) != 0)
			return ref;
	/* published now, read by the backend when it connects */
	__atomic_store_n(&v->rx->h.req_prod, v->rx_prod, __ATOMIC_RELEASE);
	v->rx_pushed = v->rx_prod;
	return xen_evtchn_alloc_unbound(v->backend_id, &v->port);
}

/* The handshake (the comment at the top); 0 or an RT_E* code. */
static int
nf_start(struct netfront *v)
{
	enum xen_bus_state st;
	unsigned long copy;
	int tx_ref, rx_ref, r;
	char path[128];

	if ((r = nf_read_config(v)) != 0)
		return r;
	if ((r = xen_bus_wait_state(v->be, XEN_BUS_INIT_WAIT, NF_WAIT_NS,
	    &st)) != 0)
		return r;
	if ((r = nf_path(path, sizeof path, v->be, "feature-rx-copy")) != 0)
		return r;
	if (xen_store_read_uint(path, 1, &copy) != 0 || copy != 1)
		return -RT_EINVAL;	/* a backend that cannot copy */
	if ((r = nf_alloc(v)) != 0)
		return r;
	if ((tx_ref = xen_gnttab_grant(v->backend_id, (const void *)v->tx,
	    0)) < 0)
		return tx_ref;
	if ((rx_ref = xen_gnttab_grant(v->backend_id, (const void *)v->rx,
	    0)) < 0)
		return rx_ref;
	if ((r = nf_write(v, "tx-ring-ref", (unsigned long)tx_ref)) ||
	    (r = nf_write(v, "rx-ring-ref", (unsigned long)rx_ref)) ||
	    (r = nf_write(v, "event-channel", v->port)) ||
	    (r = nf_write(v, "request-rx-copy", 1)) ||
	    (r = nf_write(v, "feature-rx-notify", 1)) ||
	    (r = nf_write(v, "feature-no-csum-offload", 1)) ||
	    (r = nf_write(v, "feature-sg", 0)) ||
	    (r = nf_write(v, "state", XEN_BUS_CONNECTED)))
		return r;
	r = xen_bus_wait_state(v->be, XEN_BUS_CONNECTED, NF_WAIT_NS, &st);
	if (r != 0) {
		/* tell the backend to let go; the pages stay ours, granted */
		(void)nf_write(v, "state", XEN_BUS_CLOSED);
		return r;
	}
	/* the receive pages posted before the backend listened */
	xen_evtchn_send(v->port);
	return 0;
}

/* The smallest vif id above (last) in (list) of (len) bytes, or -1. */
static long
nf_next_id(const char *list, size_t len, long last)
{
	const char *p, *end = list + len;
	char *e;
	unsigned long id;
	long best = -1;

	for (p = list; p < end; p += strlen(p) + 1) {
		if (*p < '0' || *p > '9')
			continue;
		id = strtoul(p, &e, 10);
		if (*e != '\0' || id > 0xffff)
			continue;
		if ((long)id > last && (best < 0 || (long)id < best))
			best = (long)id;
	}
	return best;
}

/*
 * The next vif in this domain's device/vif/, by id.  (cmdline) is not
 * needed: xenstore lists the devices.
 */
int
xen_netfront_probe(const char *cmdline, struct netdev **devp)
{
	static long last = -1;		/* the last vif id tried */
	struct netfront *v;
	char list[512];
	long id;
	int r;

	(void)cmdline;
	if (rt_platform.id != RT_PLATFORM_XEN || !rt_platform.xen_up)
		return -RT_ENODEV;
	r = xen_store_directory("device/vif", list, sizeof list);
	if (r == -RT_ENOENT || r == 0)
		return -RT_ENODEV;
	if (r < 0)
		return r;
	if ((id = nf_next_id(list, (size_t)r, last)) < 0)
		return -RT_ENODEV;
	last = id;
	if ((v = memory_pages_alloc(1)) == NULL)
		return -RT_ENOMEM;
	snprintf(v->fe, sizeof v->fe, "device/vif/%ld", id);
	v->nd.ops = &nf_ops;
	v->nd.priv = v;
	v->nd.driver = "xen-netfront";
	v->nd.transport = "xenbus";
	v->nd.mtu = NF_MTU;
	if ((r = nf_start(v)) != 0)
		return r;
	v->wake.ready = nf_ready;
	v->wake.arg = &v->nd;
	v->wake.polled = 1;	/* no upcall: the loop must ask */
	rt_poll_source_add(&v->wake);
	*devp = &v->nd;
	return 0;
}
