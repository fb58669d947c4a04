/*
 * eth.c - the stack's entry points and Ethernet II: which frames are
 * ours, and the counters.
 */
#include <string.h>

#include "net-priv.h"

const uint8_t net_eth_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static const char *const rx_names[NET_RX_COUNT] = {
	[NET_RX_ARP_REQUEST] = "arp-request",
	[NET_RX_ARP_REPLY] = "arp-reply",
	[NET_RX_ARP_OTHER] = "arp-other",
	[NET_RX_ICMP_ECHO] = "icmp-echo",
	[NET_RX_UDP] = "udp",
	[NET_RX_UDP_NO_PORT] = "udp-no-port",
	[NET_RX_TCP] = "tcp",
	[NET_RX_TCP_SYN] = "tcp-syn",
	[NET_RX_TCP_NO_CONN] = "tcp-no-conn",
	[NET_RX_ETH_SHORT] = "eth-short",
	[NET_RX_ETH_LONG] = "eth-long",
	[NET_RX_ETH_NOT_OURS] = "eth-not-ours",
	[NET_RX_ETH_VLAN] = "eth-vlan",
	[NET_RX_ETH_TYPE] = "eth-type",
	[NET_RX_UNCONFIGURED] = "unconfigured",
	[NET_RX_ARP_MALFORMED] = "arp-malformed",
	[NET_RX_ARP_CONFLICT] = "arp-conflict",
	[NET_RX_IP_SHORT] = "ip-short",
	[NET_RX_IP_VERSION] = "ip-version",
	[NET_RX_IP_IHL] = "ip-ihl",
	[NET_RX_IP_LEN] = "ip-len",
	[NET_RX_IP_CKSUM] = "ip-cksum",
	[NET_RX_IP_TTL] = "ip-ttl",
	[NET_RX_IP_FRAG] = "ip-frag",
	[NET_RX_IP_NOT_OURS] = "ip-not-ours",
	[NET_RX_IP_BAD_SRC] = "ip-bad-src",
	[NET_RX_IP_PROTO] = "ip-proto",
	[NET_RX_ICMP_SHORT] = "icmp-short",
	[NET_RX_ICMP_CKSUM] = "icmp-cksum",
	[NET_RX_ICMP_IGNORED] = "icmp-ignored",
	[NET_RX_UDP_SHORT] = "udp-short",
	[NET_RX_UDP_LEN] = "udp-len",
	[NET_RX_UDP_CKSUM] = "udp-cksum",
	[NET_RX_TCP_SHORT] = "tcp-short",
	[NET_RX_TCP_CKSUM] = "tcp-cksum",
	[NET_RX_TCP_BAD_ADDR] = "tcp-bad-addr",
	[NET_RX_TCP_BACKLOG] = "tcp-backlog",
	[NET_RX_TCP_FULL] = "tcp-full",
	[NET_RX_TCP_WINDOW] = "tcp-window",
	[NET_RX_TCP_BAD_ACK] = "tcp-bad-ack",
	[NET_RX_TCP_BAD_RST] = "tcp-bad-rst",
	[NET_RX_TCP_BAD_SYN] = "tcp-bad-syn",
	[NET_RX_TCP_FLAGS] = "tcp-flags",
};

static const char *const tx_names[NET_TX_COUNT] = {
	[NET_TX_SENT] = "sent",
	[NET_TX_DRIVER] = "driver",
	[NET_TX_NO_ROUTE] = "no-route",
	[NET_TX_ARP_FULL] = "arp-full",
	[NET_TX_QUEUE_FULL] = "queue-full",
	[NET_TX_NOMEM] = "nomem",
	[NET_TX_ARP_TIMEOUT] = "arp-timeout",
	[NET_TX_ICMP_LIMITED] = "icmp-limited",
	[NET_TX_FLUSHED] = "flushed",
	[NET_TX_TCP_LIMITED] = "tcp-limited",
};

const char *
net_rx_name(int reason)
{
	return reason >= 0 && reason < NET_RX_COUNT ? rx_names[reason] : "?";
}

const char *
net_tx_name(int reason)
{
	return reason >= 0 && reason < NET_TX_COUNT ? tx_names[reason] : "?";
}

int
net_init(struct net_stack *s, const uint8_t mac[6],
    net_transmit_fn *transmit, void *arg)
{
	static const uint8_t zero[6];

	if (mac == NULL || transmit == NULL || (mac[0] & 1) != 0 ||
	    memcmp(mac, zero, 6) == 0)
		return -RT_EINVAL;
	memset(s, 0, sizeof(*s));
	memcpy(s->mac, mac, 6);
	s->transmit = transmit;
	s->transmit_arg = arg;
	s->next_ephemeral = 49152;
	s->icmp_tokens = NET_ICMP_BURST;
	net_tcp_init(s);
	return 0;
}

void
net_fini(struct net_stack *s)
{
	net_tcp_fini(s);
	net_arp_flush(s);
	net_dhcp_fini(s);
	s->udp = NULL;
}

const uint8_t *
net_mac(const struct net_stack *s)
{
	return s->mac;
}

const struct net_stats *
net_stats(const struct net_stack *s)
{
	return &s->stats;
}

int
net_eth_send(struct net_stack *s, uint8_t *frame, size_t len)
{
	int r;

	if (len < NET_FRAME_MIN) {
		memset(frame + len, 0, NET_FRAME_MIN - len);
		len = NET_FRAME_MIN;
	}
	if ((r = s->transmit(s->transmit_arg, frame, len)) < 0) {
		s->stats.tx[NET_TX_DRIVER]++;
		return r;
	}
	s->stats.tx[NET_TX_SENT]++;
	return 0;
}

static int
eth_input(struct net_stack *s, const uint8_t *f, size_t len, uint64_t now)
{
	uint16_t type;

	if (len < NET_ETH_HDR)
		return NET_RX_ETH_SHORT;
	if (len > NET_FRAME_MAX)
		return NET_RX_ETH_LONG;
	if (memcmp(f, s->mac, 6) != 0 && memcmp(f, net_eth_broadcast, 6) != 0)
		return NET_RX_ETH_NOT_OURS;
	type = get16(f + 12);
	if (type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ)
		return NET_RX_ETH_VLAN;
	if (type == ETH_TYPE_ARP)
		return net_arp_input(s, f + NET_ETH_HDR, len - NET_ETH_HDR,
		    now);
	if (type == ETH_TYPE_IPV4)
		return net_ip_input(s, f + NET_ETH_HDR, len - NET_ETH_HDR,
		    now);
	return NET_RX_ETH_TYPE;
}

int
net_input(struct net_stack *s, const void *frame, size_t len,
    uint64_t now_ns)
{
	int r = eth_input(s, frame, len, now_ns);

	s->stats.rx_frames++;
	s->stats.rx[r]++;
	return r;
}

uint64_t
net_poll(struct net_stack *s, uint64_t now_ns)
{
	/* DHCP first: what it sends may start an ARP timer. */
	uint64_t next = net_dhcp_poll(s, now_ns), t = net_arp_poll(s, now_ns);

	if (t < next)
		next = t;
	t = net_tcp_poll(s, now_ns);
	return t < next ? t : next;
}

void
net_seed(struct net_stack *s, uint64_t seed)
{
	s->seed = seed;
}
