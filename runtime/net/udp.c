/*
 * udp.c - UDP (RFC 768): sockets bound to a port, checksums both ways,
 * port unreachable for the rest.
 */
#include <string.h>

#include "net-priv.h"

#define ICMP_PORT_UNREACH	3
#define EPHEMERAL_FIRST		49152

uint32_t
net_udp_pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	uint8_t ph[12];

	put32(ph, src);
	put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)len);
	return net_cksum_add(0, ph, sizeof(ph));
}

static struct net_udp *
udp_lookup(const struct net_stack *s, uint16_t port)
{
	for (struct net_udp *u = s->udp; u != NULL; u = u->net_next)
		if (u->net_port == port)
			return u;
	return NULL;
}

int
net_udp_input(struct net_stack *s, const uint8_t *pkt, size_t ihl,
    size_t len, uint64_t now)
{
	const uint8_t *u = pkt + ihl;
	size_t n = len - ihl, ulen;
	uint32_t src = get32(pkt + 12), dst = get32(pkt + 16);
	struct net_udp *sock;

	if (n < UDP_HDR)
		return NET_RX_UDP_SHORT;
	ulen = get16(u + 4);
	if (ulen < UDP_HDR || ulen > n)
		return NET_RX_UDP_LEN;
	/* 0: the sender computed none (RFC 768). */
	if (get16(u + 6) != 0 && net_cksum_add(net_udp_pseudo(src, dst,
	    IP_PROTO_UDP, ulen), u, ulen) != 0xffff)
		return NET_RX_UDP_CKSUM;
	sock = udp_lookup(s, get16(u + 2));
	if (sock == NULL) {
		/* Never an ICMP error about a broadcast (RFC 1122 3.2.2). */
		if (!net_ip_is_broadcast(s, dst))
			net_icmp_unreachable(s, ICMP_PORT_UNREACH, pkt, len,
			    now);
		return NET_RX_UDP_NO_PORT;
	}
	sock->net_fn(sock, sock->net_arg, src, get16(u), dst, u + UDP_HDR,
	    ulen - UDP_HDR);
	return NET_RX_UDP;
}

static int
udp_bound(const struct net_stack *s, const struct net_udp *sock)
{
	for (struct net_udp *u = s->udp; u != NULL; u = u->net_next)
		if (u == sock)
			return 1;
	return 0;
}

/* A free port of 49152-65535, or 0 when all are taken. */
static uint16_t
udp_ephemeral(struct net_stack *s)
{
	for (unsigned i = 0; i < 65536 - EPHEMERAL_FIRST; i++) {
		uint16_t p = s->next_ephemeral;

		s->next_ephemeral = p == 65535 ? EPHEMERAL_FIRST :
		    (uint16_t)(p + 1);
		if (udp_lookup(s, p) == NULL)
			return p;
	}
	return 0;
}

int
net_udp_bind(struct net_stack *s, struct net_udp *sock, uint16_t port,
    net_udp_fn *fn, void *arg)
{
	if (sock == NULL || fn == NULL || udp_bound(s, sock))
		return -RT_EINVAL;
	if (port == 0 && (port = udp_ephemeral(s)) == 0)
		return -RT_EADDRINUSE;
	if (udp_lookup(s, port) != NULL)
		return -RT_EADDRINUSE;
	sock->net_port = port;
	sock->net_fn = fn;
	sock->net_arg = arg;
	sock->net_next = s->udp;
	s->udp = sock;
	return 0;
}

uint16_t
net_udp_port(const struct net_udp *sock)
{
	return sock->net_port;
}

int
net_udp_unbind(struct net_stack *s, struct net_udp *sock)
{
	for (struct net_udp **pp = &s->udp; *pp != NULL;
	    pp = &(*pp)->net_next) {
		if (*pp == sock) {
			*pp = sock->net_next;
			sock->net_next = NULL;
			return 0;
		}
	}
	return -RT_ENOENT;
}

int
net_udp_send(struct net_stack *s, struct net_udp *sock, uint32_t dst_ip,
    uint16_t dst_port, const void *data, size_t len, uint64_t now_ns)
{
	uint8_t *u = s->tx + NET_ETH_HDR + IP_HDR;
	size_t ulen = UDP_HDR + len;
	uint16_t sum;

	if (sock == NULL || !udp_bound(s, sock) || dst_ip == 0 ||
	    dst_port == 0)
		return -RT_EINVAL;
	if (len > NET_UDP_MAX)
		return -RT_EMSGSIZE;
	put16(u, sock->net_port);
	put16(u + 2, dst_port);
	put16(u + 4, (uint16_t)ulen);
	put16(u + 6, 0);
	if (len)
		memcpy(u + UDP_HDR, data, len);
	sum = net_cksum_finish(net_cksum_add(net_udp_pseudo(s->cfg.ip, dst_ip,
	    IP_PROTO_UDP, ulen), u, ulen));
	/* 0 would say "no checksum": its other form, all ones, goes out. */
	put16(u + 6, sum == 0 ? 0xffff : sum);
	return net_ip_output(s, dst_ip, IP_PROTO_UDP, ulen, now_ns);
}
