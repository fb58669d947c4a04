/*
 * ip.c - IPv4 (RFC 791, with RFC 1122's checks), dispatch to UDP and
 * TCP, and the little of ICMP (RFC 792) we do: echo replies and port
 * unreachables.
 */
#include <string.h>

#include "net-priv.h"

#define ICMP_ECHO_REPLY		0
#define ICMP_UNREACH		3
#define ICMP_ECHO_REQUEST	8

#define IP_OFF_MASK		0x1fff
#define IP_MF			0x2000

int
net_ip_is_broadcast(const struct net_stack *s, uint32_t ip)
{
	uint32_t m = s->cfg.netmask;

	if (ip == IP_BROADCAST)
		return 1;
	return s->cfg.ip != 0 && m < 0xfffffffeu && ip == (s->cfg.ip | ~m);
}

/* The next hop towards (dst), or 0 when there is none. */
static uint32_t
ip_route(const struct net_stack *s, uint32_t dst)
{
	uint32_t m = s->cfg.netmask;

	if (dst == IP_BROADCAST)
		return dst;
	if (s->cfg.ip == 0)
		return 0;
	if ((dst & m) == (s->cfg.ip & m))
		return dst;
	return s->cfg.gateway;
}

int
net_ip_output(struct net_stack *s, uint32_t dst, uint8_t proto,
    size_t payload, uint64_t now)
{
	uint8_t *f = s->tx, *ip = s->tx + NET_ETH_HDR;
	uint32_t hop = ip_route(s, dst);

	if (hop == 0) {
		s->stats.tx[NET_TX_NO_ROUTE]++;
		return -RT_ENETUNREACH;
	}
	memcpy(f + 6, s->mac, 6);
	put16(f + 12, ETH_TYPE_IPV4);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(IP_HDR + payload));
	put16(ip + 4, s->ip_id++);
	put16(ip + 6, 0);	/* may be fragmented on the way */
	ip[8] = IP_TTL_OUT;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, s->cfg.ip);
	put32(ip + 16, dst);
	put16(ip + 10, net_cksum_finish(net_cksum_add(0, ip, IP_HDR)));
	return net_arp_output(s, hop, NET_ETH_HDR + IP_HDR + payload, now);
}

/* One token per NET_ICMP_INTERVAL_NS, at most NET_ICMP_BURST saved. */
static int
icmp_allowed(struct net_stack *s, uint64_t now)
{
	if (now > s->icmp_refill) {
		uint64_t n = (now - s->icmp_refill) / NET_ICMP_INTERVAL_NS;

		if (n >= NET_ICMP_BURST - s->icmp_tokens) {
			s->icmp_tokens = NET_ICMP_BURST;
			s->icmp_refill = now;
		} else {
			s->icmp_tokens += (uint32_t)n;
			s->icmp_refill += n * NET_ICMP_INTERVAL_NS;
		}
	}
	if (s->icmp_tokens == 0)
		return 0;
	s->icmp_tokens--;
	return 1;
}

void
net_icmp_unreachable(struct net_stack *s, uint8_t code, const uint8_t *pkt,
    size_t len, uint64_t now)
{
	uint8_t *icmp = s->tx + NET_ETH_HDR + IP_HDR;
	size_t quote = (size_t)(pkt[0] & 0xf) * 4 + 8;

	if (!icmp_allowed(s, now)) {
		s->stats.tx[NET_TX_ICMP_LIMITED]++;
		return;
	}
	/* RFC 792: the header and the first 64 bits of the data. */
	if (quote > len)
		quote = len;
	icmp[0] = ICMP_UNREACH;
	icmp[1] = code;
	memset(icmp + 2, 0, 6);
	memcpy(icmp + ICMP_HDR, pkt, quote);
	put16(icmp + 2, net_cksum_finish(net_cksum_add(0, icmp,
	    ICMP_HDR + quote)));
	net_ip_output(s, get32(pkt + 12), IP_PROTO_ICMP, ICMP_HDR + quote, now);
}

static int
icmp_input(struct net_stack *s, const uint8_t *pkt, size_t ihl, size_t len,
    uint64_t now)
{
	const uint8_t *icmp = pkt + ihl;
	uint8_t *out = s->tx + NET_ETH_HDR + IP_HDR;
	size_t n = len - ihl;

	if (n < ICMP_HDR)
		return NET_RX_ICMP_SHORT;
	if (net_cksum_add(0, icmp, n) != 0xffff)
		return NET_RX_ICMP_CKSUM;
	if (icmp[0] != ICMP_ECHO_REQUEST || icmp[1] != 0 ||
	    get32(pkt + 16) != s->cfg.ip)
		return NET_RX_ICMP_IGNORED;
	/* The reply: same identifier, sequence and data (RFC 792). */
	memcpy(out, icmp, n);
	out[0] = ICMP_ECHO_REPLY;
	put16(out + 2, 0);
	put16(out + 2, net_cksum_finish(net_cksum_add(0, out, n)));
	net_ip_output(s, get32(pkt + 12), IP_PROTO_ICMP, n, now);
	return NET_RX_ICMP_ECHO;
}

/* Whether the header of (pkt), (len) bytes, is sound: 0 or a drop. */
static int
ip_check(const uint8_t *pkt, size_t len, size_t *ihl, size_t *tot)
{
	if (len < IP_HDR)
		return NET_RX_IP_SHORT;
	if (pkt[0] >> 4 != 4)
		return NET_RX_IP_VERSION;
	*ihl = (size_t)(pkt[0] & 0xf) * 4;
	if (*ihl < IP_HDR || *ihl > len)
		return NET_RX_IP_IHL;
	*tot = get16(pkt + 2);
	if (*tot < *ihl || *tot > len)
		return NET_RX_IP_LEN;
	if (net_cksum_add(0, pkt, *ihl) != 0xffff)
		return NET_RX_IP_CKSUM;
	if (pkt[8] == 0)
		return NET_RX_IP_TTL;
	if (get16(pkt + 6) & (IP_MF | IP_OFF_MASK))
		return NET_RX_IP_FRAG;
	return 0;
}

int
net_ip_input(struct net_stack *s, const uint8_t *pkt, size_t len,
    uint64_t now)
{
	size_t ihl = 0, tot = 0;
	uint32_t src, dst;
	int r = ip_check(pkt, len, &ihl, &tot);

	if (r != 0)
		return r;
	/* Past (tot) is the Ethernet padding; options are skipped. */
	src = get32(pkt + 12);
	dst = get32(pkt + 16);
	if (s->cfg.ip == 0 && (dst != IP_BROADCAST || pkt[9] != IP_PROTO_UDP))
		return NET_RX_UNCONFIGURED;
	if (dst != s->cfg.ip && !net_ip_is_broadcast(s, dst))
		return NET_RX_IP_NOT_OURS;
	if (!net_ip_is_host(src) || net_ip_is_broadcast(s, src))
		return NET_RX_IP_BAD_SRC;
	switch (pkt[9]) {
	case IP_PROTO_ICMP:
		return icmp_input(s, pkt, ihl, tot, now);
	case IP_PROTO_UDP:
		return net_udp_input(s, pkt, ihl, tot, now);
	case IP_PROTO_TCP:
		return net_tcp_input(s, pkt, ihl, tot, now);
	default:
		return NET_RX_IP_PROTO;
	}
}
