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
#define IP_PROTO_TCP	6
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
/* The pseudo-header's partial sum (RFC 768); TCP's is the same. */
uint32_t net_udp_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
    size_t len);

/* ---- TCP (tcp.c, tcp-in.c, tcp-out.c) ---- */

#define TCP_HDR		20
#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10

/* RFC 9293 3.3.2's states; LISTEN is a struct net_tcp_listener. */
enum tcp_state {
	TCP_CLOSED,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

/* Sequence numbers compare modulo 2^32 (RFC 9293 3.4). */
static inline int
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline int
seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

#define seq_gt(a, b)	seq_lt(b, a)
#define seq_geq(a, b)	seq_leq(b, a)

/* Flags of a connection (c->flags). */
#define TF_APP		0x0001	/* the application holds it */
#define TF_DEAD		0x0002	/* unhashed, freed at depth 0 */
#define TF_FIN_QUEUED	0x0004	/* shut down: a FIN follows the data */
#define TF_FIN_RCVD	0x0008	/* the peer's FIN is in (rcv_nxt past it) */
#define TF_RFIN		0x0010	/* a FIN seen ahead of a gap, at rfin_seq */
#define TF_MORE		0x0020	/* NET_TCP_MORE: hold a short segment */
#define TF_WANT_READ	0x0040	/* tell readable() of the next data */
#define TF_WANT_WRITE	0x0080	/* tell writable() of room */
#define TF_RECOVERY	0x0100	/* in NewReno fast recovery */
#define TF_PERSIST	0x0200	/* probing a zero window */
#define TF_ACK_NOW	0x0400	/* an ACK must leave before returning */
#define TF_TIMING	0x0800	/* an RTT sample runs (rtt_seq) */
#define TF_WSCALE	0x1000	/* both sides sent window scale */
#define TF_SYN_BACKOFF	0x2000	/* the SYN was retransmitted: RFC 6298 5.7 */
#define TF_PARTIAL	0x4000	/* a partial ACK seen in this recovery */
#define TF_ORPHAN	0x8000	/* net_tcp_close()d: new data gets an RST */
#define TF_PTO		0x10000	/* the timer is the loss probe's */
#define TF_PROBED	0x20000	/* a loss probe went since the last ACK */
#define TF_TS		0x40000	/* both sides sent timestamps (RFC 7323) */
#define TF_SACK		0x80000	/* both sides sent SACK-permitted (RFC 2018) */

/* Events gathered while a segment is processed, called after it. */
#define TE_CONNECTED	0x01
#define TE_ACCEPT	0x02
#define TE_READABLE	0x04
#define TE_WRITABLE	0x08
#define TE_CLOSED	0x10

#define TCP_OOO_MAX	8	/* out-of-order ranges kept per connection */
#define TCP_TS_SPACE	12	/* NOP, NOP, the timestamps option */
#define TCP_HDR_MAX	60	/* the header with 40 bytes of options */
/* Option kinds (RFC 9293 3.1, RFC 7323, RFC 2018). */
#define TCP_OPT_EOL	0
#define TCP_OPT_NOP	1
#define TCP_OPT_MSS	2
#define TCP_OPT_WSCALE	3
#define TCP_OPT_SACK_OK	4
#define TCP_OPT_SACK	5
#define TCP_OPT_TS	8

struct tcp_range {
	uint32_t start, end;	/* sequence numbers, [start, end) */
};

/*
 * One connection (docs/net.md, "TCP", has the layout).  The buffers are
 * rings: the receive ring holds the unread bytes from rcv_nxt - rlen on,
 * then room where out-of-order data lands at its own offset; the send
 * ring holds the bytes from sbase (snd_una, past the SYN) to the last
 * one queued.
 */
struct net_tcp {
	struct net_tcp *next, *prev;	/* s->tcp.conns */
	struct net_tcp *hnext;		/* s->tcp.hash[] chain */
	struct net_tcp_listener *listener;	/* SYN_RECEIVED from it */
	const struct net_tcp_ops *ops;
	void *arg;
	uint32_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
	uint8_t state;			/* enum tcp_state */
	uint8_t events;			/* TE_* waiting to be called */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t dupacks, tries, probes, nooo, chal_tokens;
	unsigned flags;			/* TF_* */
	int close_err;			/* for TE_CLOSED */
	uint32_t mss;			/* we send at most, bytes */
	uint32_t rcv_mss;		/* largest segment received */

	/* Sending (RFC 9293 3.3.1), congestion control (RFC 5681, 6582). */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	uint32_t snd_wnd, max_snd_wnd;
	uint32_t cwnd, ssthresh, ca_acked, recover, rtt_seq;
	/* Receiving. */
	uint32_t irs, rcv_nxt, rcv_adv, rfin_seq, delack_bytes;
	uint32_t last_ack_sent;		/* RCV.NXT in our last ACK */
	uint32_t ts_recent;		/* RFC 7323 TS.Recent */
	uint32_t ts_offset;		/* added to our millisecond clock */
	uint32_t sack_seq;		/* the latest out-of-order arrival */
	uint32_t ts_rtt_seq;		/* a TSecr sample once past this */

	uint8_t *rbuf, *sbuf;		/* one allocation, rbuf first */
	uint32_t rsize, rhead, rlen;	/* ring, first unread, in order */
	uint32_t ssize, shead, slen;	/* ring, at sbase, bytes queued */
	uint32_t sbase;
	struct tcp_range ooo[TCP_OOO_MAX];	/* sorted, disjoint */

	uint64_t rtt_start, srtt, rttvar, rto;	/* ns (RFC 6298) */
	uint64_t rexmit_at;		/* the head last resent, recovering */
	uint64_t timer_at;		/* RTO, probe, persist, TIME_WAIT... */
	uint64_t delack_at;
	uint64_t heap_key;		/* s->tcp.heap's: at most the earlier */
	unsigned heap_idx;
	uint64_t chal_refill;

	uint64_t retransmits, fast_retransmits, timeouts, loss_probes;
	uint64_t bytes_sent, bytes_received;
};

/* Our timestamp clock (RFC 7323 5.4, 1 ms ticks), offset per
 * connection. */
static inline uint32_t
tcp_ts_now(const struct net_tcp *c, uint64_t now)
{
	return (uint32_t)(now / RT_NSEC_PER_MSEC) + c->ts_offset;
}

/* Ring buffers: (pos) < (size), (n) <= (size). */
static inline uint32_t
ring_pos(uint32_t size, uint32_t a, uint32_t b)
{
	return a + b >= size ? a + b - size : a + b;
}

void tcp_ring_write(uint8_t *ring, uint32_t size, uint32_t pos,
    const uint8_t *data, uint32_t n);
void tcp_ring_read(const uint8_t *ring, uint32_t size, uint32_t pos,
    uint8_t *out, uint32_t n);

/* tcp.c */
void net_tcp_init(struct net_stack *s);
void net_tcp_fini(struct net_stack *s);
/* net_configure() gave the stack a new address: the connections on any
 * other end (net.h, net_configure). */
void net_tcp_readdress(struct net_stack *s, uint64_t now);
uint64_t net_tcp_poll(struct net_stack *s, uint64_t now);
void tcp_enter(struct net_stack *s);
void tcp_leave(struct net_stack *s);
struct net_tcp *tcp_lookup(struct net_stack *s, uint32_t rip,
    uint16_t rport, uint16_t lport);
struct net_tcp_listener *tcp_listener(struct net_stack *s, uint16_t port);
/* A connection in SYN_RECEIVED for (l), or NULL (backlog, max_conns,
 * memory: *why says which drop). */
struct net_tcp *tcp_passive(struct net_stack *s, struct net_tcp_listener *l,
    uint32_t rip, uint16_t rport, uint16_t lport, uint64_t now, int *why);
/* Our SYN (SYN_SENT) or SYN-ACK (SYN_RECEIVED), its timer started. */
int tcp_send_syn(struct net_stack *s, struct net_tcp *c, uint64_t now);
void tcp_set_state(struct net_stack *s, struct net_tcp *c, int state,
    uint64_t now);
/* The connection is over for the protocol: CLOSED, and freed once the
 * application has given it back (or now, when (err) is not 0 and it
 * holds it: the closed callback first). */
void tcp_drop(struct net_stack *s, struct net_tcp *c, int err);
void tcp_timer(struct net_stack *s, struct net_tcp *c, uint64_t at);
void tcp_delack(struct net_stack *s, struct net_tcp *c, uint64_t at);
void tcp_events(struct net_stack *s, struct net_tcp *c);
void tcp_rto_sample(struct net_tcp *c, uint64_t rtt);
uint32_t tcp_space(const struct net_tcp *c);

/* tcp-in.c: (pkt) is the IPv4 packet, (ihl) its header length. */
int net_tcp_input(struct net_stack *s, const uint8_t *pkt, size_t ihl,
    size_t len, uint64_t now);

/* tcp-out.c */
void tcp_output(struct net_stack *s, struct net_tcp *c, uint64_t now);
/* One segment of (c): (len) bytes of the send ring from (seq), (flags). */
int tcp_xmit(struct net_stack *s, struct net_tcp *c, uint32_t seq,
    uint32_t len, uint8_t flags, uint64_t now);
void tcp_send_ack(struct net_stack *s, struct net_tcp *c, uint64_t now);
/* The first unacknowledged segment again, without an RTT sample. */
void tcp_fast_resend(struct net_stack *s, struct net_tcp *c, uint64_t now);
/* An ACK for an unacceptable segment, at most so many per connection. */
void tcp_challenge_ack(struct net_stack *s, struct net_tcp *c, uint64_t now);
/* An RST for the segment (th) of (pkt) that nothing wanted (RFC 9293
 * 3.10.7.1). */
void tcp_reset_reply(struct net_stack *s, const uint8_t *pkt,
    const uint8_t *th, uint32_t seg_len, uint64_t now);
/* An RST from (c) to its peer, at (seq). */
void tcp_send_rst(struct net_stack *s, struct net_tcp *c, uint32_t seq,
    uint64_t now);
void tcp_timeout(struct net_stack *s, struct net_tcp *c, uint64_t now);
/* Data is out: the loss probe's timer, or the RTO's. */
void tcp_arm_rto(struct net_stack *s, struct net_tcp *c, uint64_t now);
uint64_t tcp_pto(const struct net_tcp *c);

#endif
