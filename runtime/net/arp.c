/*
 * arp.c - ARP (RFC 826) for IPv4 over Ethernet: a small cache whose
 * entries expire, packets waiting per unresolved address, retries, and
 * the gratuitous request that announces our address.
 */
#include <stdlib.h>
#include <string.h>

#include "net-priv.h"

#define ARP_LEN		28
#define ARP_REQUEST	1
#define ARP_REPLY	2

static void
arp_send(struct net_stack *s, uint16_t op, const uint8_t *dst_mac,
    const uint8_t *tha, uint32_t tpa)
{
	uint8_t f[NET_FRAME_MIN];
	uint8_t *a = f + NET_ETH_HDR;

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, s->mac, 6);
	put16(f + 12, ETH_TYPE_ARP);
	put16(a, 1);			/* Ethernet */
	put16(a + 2, ETH_TYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, s->mac, 6);
	put32(a + 14, s->cfg.ip);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	net_eth_send(s, f, NET_ETH_HDR + ARP_LEN);
}

static void
arp_request(struct net_stack *s, uint32_t ip)
{
	static const uint8_t unknown[6];

	arp_send(s, ARP_REQUEST, net_eth_broadcast, unknown, ip);
}

void
net_arp_announce(struct net_stack *s)
{
	/* RFC 5227's announcement: a request for our own address. */
	arp_request(s, s->cfg.ip);
}

static void
entry_clear(struct net_stack *s, struct net_arp_entry *e, int reason)
{
	for (int i = 0; i < e->nqueue; i++) {
		free(e->queue[i].frame);
		s->stats.tx[reason]++;
	}
	memset(e, 0, sizeof(*e));
}

void
net_arp_flush(struct net_stack *s)
{
	for (int i = 0; i < NET_ARP_ENTRIES; i++)
		entry_clear(s, &s->arp[i], NET_TX_FLUSHED);
}

/* The live entry for (ip), forgetting it if it has expired. */
static struct net_arp_entry *
arp_find(struct net_stack *s, uint32_t ip, uint64_t now)
{
	for (int i = 0; i < NET_ARP_ENTRIES; i++) {
		struct net_arp_entry *e = &s->arp[i];

		if (e->ip != ip || ip == 0)
			continue;
		if (e->resolved && e->deadline <= now) {
			entry_clear(s, e, NET_TX_FLUSHED);
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* A free entry for (ip), or the resolved one that expires first; NULL
 * when every entry waits for a reply. */
static struct net_arp_entry *
arp_alloc(struct net_stack *s, uint32_t ip)
{
	struct net_arp_entry *victim = NULL;

	for (int i = 0; i < NET_ARP_ENTRIES; i++) {
		struct net_arp_entry *e = &s->arp[i];

		if (e->ip == 0) {
			victim = e;
			break;
		}
		if (e->resolved && (victim == NULL ||
		    e->deadline < victim->deadline))
			victim = e;
	}
	if (victim == NULL)
		return NULL;
	entry_clear(s, victim, NET_TX_FLUSHED);
	victim->ip = ip;
	return victim;
}

/* (e) has an address now: the packets that waited for it leave. */
static void
arp_resolve(struct net_stack *s, struct net_arp_entry *e,
    const uint8_t *mac, uint64_t now)
{
	memcpy(e->mac, mac, 6);
	e->resolved = 1;
	e->tries = 0;
	e->deadline = now + NET_ARP_TTL_NS;
	for (int i = 0; i < e->nqueue; i++) {
		memcpy(e->queue[i].frame, mac, 6);
		net_eth_send(s, e->queue[i].frame, e->queue[i].len);
		free(e->queue[i].frame);
	}
	e->nqueue = 0;
}

static int
mac_is_unicast(const uint8_t *mac)
{
	static const uint8_t zero[6];

	return (mac[0] & 1) == 0 && memcmp(mac, zero, 6) != 0;
}

int
net_arp_input(struct net_stack *s, const uint8_t *a, size_t len,
    uint64_t now)
{
	uint16_t op;
	const uint8_t *sha = a + 8;
	uint32_t spa, tpa;
	struct net_arp_entry *e;

	if (len < ARP_LEN || get16(a) != 1 || get16(a + 2) != ETH_TYPE_IPV4 ||
	    a[4] != 6 || a[5] != 4)
		return NET_RX_ARP_MALFORMED;
	op = get16(a + 6);
	if ((op != ARP_REQUEST && op != ARP_REPLY) || !mac_is_unicast(sha))
		return NET_RX_ARP_MALFORMED;
	if (s->cfg.ip == 0)
		return NET_RX_UNCONFIGURED;
	spa = get32(a + 14);
	tpa = get32(a + 24);
	if (spa == s->cfg.ip)
		return memcmp(sha, s->mac, 6) == 0 ? NET_RX_ARP_OTHER :
		    NET_RX_ARP_CONFLICT;
	/* RFC 826: update who we know, learn who asks us. */
	e = net_ip_is_host(spa) ? arp_find(s, spa, now) : NULL;
	if (e != NULL)
		arp_resolve(s, e, sha, now);
	if (tpa != s->cfg.ip)
		return NET_RX_ARP_OTHER;
	if (e == NULL && net_ip_is_host(spa) &&
	    (e = arp_alloc(s, spa)) != NULL)
		arp_resolve(s, e, sha, now);
	if (op == ARP_REPLY)
		return NET_RX_ARP_REPLY;
	arp_send(s, ARP_REPLY, sha, sha, spa);
	return NET_RX_ARP_REQUEST;
}

static int
arp_enqueue(struct net_stack *s, struct net_arp_entry *e, size_t len)
{
	uint8_t *copy;

	if (e->nqueue == NET_ARP_QUEUE) {
		s->stats.tx[NET_TX_QUEUE_FULL]++;
		return -RT_ENOBUFS;
	}
	/* Room for the padding net_eth_send() may add. */
	copy = malloc(len < NET_FRAME_MIN ? NET_FRAME_MIN : len);
	if (copy == NULL) {
		s->stats.tx[NET_TX_NOMEM]++;
		return -RT_ENOMEM;
	}
	memcpy(copy, s->tx, len);
	e->queue[e->nqueue].frame = copy;
	e->queue[e->nqueue].len = len;
	e->nqueue++;
	return 0;
}

int
net_arp_output(struct net_stack *s, uint32_t hop, size_t len, uint64_t now)
{
	struct net_arp_entry *e;
	int r;

	if (net_ip_is_broadcast(s, hop)) {
		memcpy(s->tx, net_eth_broadcast, 6);
		return net_eth_send(s, s->tx, len);
	}
	e = arp_find(s, hop, now);
	if (e != NULL && e->resolved) {
		memcpy(s->tx, e->mac, 6);
		return net_eth_send(s, s->tx, len);
	}
	if (e != NULL)
		return arp_enqueue(s, e, len);
	if ((e = arp_alloc(s, hop)) == NULL) {
		s->stats.tx[NET_TX_ARP_FULL]++;
		return -RT_ENOBUFS;
	}
	if ((r = arp_enqueue(s, e, len)) < 0) {
		e->ip = 0;
		return r;
	}
	arp_request(s, hop);
	e->tries = 1;
	e->deadline = now + NET_ARP_RETRY_NS;
	return 0;
}

uint64_t
net_arp_poll(struct net_stack *s, uint64_t now)
{
	uint64_t next = RT_TIME_INFINITY;

	/* Resolved entries expire when next looked up: no wake-up for them. */
	for (int i = 0; i < NET_ARP_ENTRIES; i++) {
		struct net_arp_entry *e = &s->arp[i];

		if (e->ip == 0 || e->resolved)
			continue;
		if (e->deadline <= now) {
			if (e->tries >= NET_ARP_TRIES) {
				entry_clear(s, e, NET_TX_ARP_TIMEOUT);
				continue;
			}
			arp_request(s, e->ip);
			e->tries++;
			e->deadline = now + NET_ARP_RETRY_NS;
		}
		if (e->deadline < next)
			next = e->deadline;
	}
	return next;
}
