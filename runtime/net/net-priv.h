/*
 * net-priv.h - what the stack's files share and nobody else sees.
 */
#ifndef NET_PRIV_H
#define NET_PRIV_H

#include "net.h"

#define ETH_TYPE_IPV4	0x0800
#define ETH_TYPE_ARP	0x0806
#define ETH_TYPE_VLAN	0x8100
#define ETH_TYPE_QINQ	0x88a8

#define IP_HDR		20
#define IP_PROTO_ICMP	1
#define IP_PROTO_UDP	17
#define IP_BROADCAST	0xffffffffu
#define IP_TTL_OUT	64

#define UDP_HDR		8
#define ICMP_HDR	8

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

extern const uint8_t net_eth_broadcast[6];

/* An address a host may have, or send from (RFC 1122 3.2.1.3). */
int net_ip_is_host(uint32_t ip);
/* 255.255.255.255 or the configured subnet's broadcast address. */
int net_ip_is_broadcast(const struct net_stack *s, uint32_t ip);

/* config.c: whether (cfg) is one net_configure() accepts (0), or not
 * (-RT_EINVAL). */
int net_config_check(const struct net_config *cfg);

/* dhcp.c: the client's timers, (s)'s next deadline for them; forgetting
 * the client (net_fini()). */
uint64_t net_dhcp_poll(struct net_stack *s, uint64_t now);
void net_dhcp_fini(struct net_stack *s);

/* eth.c: counts, pads to NET_FRAME_MIN (in (frame), which must have room
 * when len is shorter) and hands (frame) to the driver. */
int net_eth_send(struct net_stack *s, uint8_t *frame, size_t len);

/* arp.c */
int net_arp_input(struct net_stack *s, const uint8_t *pkt, size_t len,
    uint64_t now);
/* Sends the frame in s->tx, (len) bytes whose Ethernet header lacks its
 * destination, to the next hop (hop): now, or once ARP has resolved it. */
int net_arp_output(struct net_stack *s, uint32_t hop, size_t len,
    uint64_t now);
void net_arp_announce(struct net_stack *s);
void net_arp_flush(struct net_stack *s);
uint64_t net_arp_poll(struct net_stack *s, uint64_t now);

/* ip.c: the IPv4 packet of (payload) bytes of (proto) already at
 * s->tx + 34, to (dst); fills both headers and routes it. */
int net_ip_output(struct net_stack *s, uint32_t dst, uint8_t proto,
    size_t payload, uint64_t now);
int net_ip_input(struct net_stack *s, const uint8_t *pkt, size_t len,
    uint64_t now);
/* An ICMP destination unreachable (code) about the IPv4 packet (pkt). */
void net_icmp_unreachable(struct net_stack *s, uint8_t code,
    const uint8_t *pkt, size_t len, uint64_t now);

/* udp.c: (pkt) is the IPv4 packet, (ihl) its header length. */
int net_udp_input(struct net_stack *s, const uint8_t *pkt, size_t ihl,
    size_t len, uint64_t now);
/* The pseudo-header's partial sum (RFC 768). */
uint32_t net_udp_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
    size_t len);

#endif
