/*
 * tcp-out.c - TCP's output: segments built in the stack's transmit
 * buffer, what the windows let leave (RFC 9293 3.8.6, RFC 5681), the
 * receive window we advertise (RFC 7323 scaling, SWS avoidance),
 * retransmission timeouts (RFC 6298), zero-window probes, resets.
 */
#include <string.h>

#include "net-priv.h"

#define TCP_PTO_MIN_NS		(10 * RT_NSEC_PER_MSEC)
#define TCP_PTO_DELACK_NS	(200 * RT_NSEC_PER_MSEC)	/* RFC 8985's
					 * worst-case delayed ACK */

/*
 * The window field for a segment of (c), and rcv_adv, the right edge it
 * shows.  The edge moves only by at least min(MSS, half the buffer) so
 * that the peer is not invited to send small segments (RFC 9293
 * 3.8.6.2.2).  Scaled windows round down, so the edge the peer sees may
 * sit up to 2^shift - 1 bytes below one shown before; the acceptability
 * test takes everything the ring has room for, so nothing sent into a
 * window we once showed is refused.
 */
static uint16_t
tcp_window(struct net_tcp *c, int syn)
{
	uint32_t space = c->rbuf != NULL ? tcp_space(c) : 0;
	uint32_t step = c->rsize / 2 < NET_TCP_MSS ? c->rsize / 2 : NET_TCP_MSS;
	uint32_t edge = c->rcv_nxt + space, win, field;

	if (seq_lt(edge, c->rcv_adv + step) && seq_geq(c->rcv_adv, c->rcv_nxt))
		edge = c->rcv_adv;
	else if (seq_lt(edge, c->rcv_adv + step))
		edge = c->rcv_nxt;
	win = edge - c->rcv_nxt;
	if (syn) {
		field = win > 65535 ? 65535 : win;
		win = field;
	} else {
		field = win >> c->rcv_wscale;
		if (field > 65535)
			field = 65535;
		win = field << c->rcv_wscale;
	}
	if (seq_gt(c->rcv_nxt + win, c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + win;
	return (uint16_t)field;
}

/* The timestamps option, after two NOPs (RFC 7323 3.2, Appendix A). */
static size_t
tcp_put_ts(uint8_t *o, const struct net_tcp *c, uint64_t now)
{
	o[0] = TCP_OPT_NOP;
	o[1] = TCP_OPT_NOP;
	o[2] = TCP_OPT_TS;
	o[3] = 10;
	put32(o + 4, tcp_ts_now(c, now));
	put32(o + 8, c->ts_recent);
	return TCP_TS_SPACE;
}

/*
 * RFC 2018 4: the out-of-order ranges as SACK blocks, the one holding
 * the latest arrival first, then the others from the lowest, as many as
 * (room) bytes of options take.  0 when there is nothing to say.
 */
static size_t
tcp_put_sack(uint8_t *o, const struct net_tcp *c, size_t room)
{
	size_t n = 0, max;
	int first = 0, i;

	if (room < 2 + 2 + 8 || c->nooo == 0)
		return 0;
	max = (room - 4) / 8;
	for (i = 0; i < c->nooo; i++)
		if (seq_geq(c->sack_seq, c->ooo[i].start) &&
		    seq_lt(c->sack_seq, c->ooo[i].end))
			first = i;
	o[0] = TCP_OPT_NOP;
	o[1] = TCP_OPT_NOP;
	o[2] = TCP_OPT_SACK;
	put32(o + 4, c->ooo[first].start);
	put32(o + 8, c->ooo[first].end);
	n = 1;
	for (i = 0; i < c->nooo && n < max; i++) {
		if (i == first)
			continue;
		put32(o + 4 + 8 * n, c->ooo[i].start);
		put32(o + 8 + 8 * n, c->ooo[i].end);
		n++;
	}
	o[3] = (uint8_t)(2 + 8 * n);
	return 4 + 8 * n;
}

/*
 * A SYN's options: MSS always; SACK-permitted, timestamps and window
 * scale on our SYN, and on a SYN-ACK those the peer's SYN had.
 */
static size_t
tcp_put_syn_opts(uint8_t *o, const struct net_tcp *c, uint64_t now)
{
	int active = c->state == TCP_SYN_SENT;
	size_t n = 4;

	o[0] = TCP_OPT_MSS;
	o[1] = 4;
	put16(o + 2, NET_TCP_MSS);
	if (active || (c->flags & TF_SACK)) {
		o[n] = TCP_OPT_NOP;
		o[n + 1] = TCP_OPT_NOP;
		o[n + 2] = TCP_OPT_SACK_OK;
		o[n + 3] = 2;
		n += 4;
	}
	/* On our SYN, TSecr is TS.Recent's 0: no SYN of the peer's yet. */
	if (active || (c->flags & TF_TS))
		n += tcp_put_ts(o + n, c, now);
	if (active || (c->flags & TF_WSCALE)) {
		o[n] = TCP_OPT_NOP;	/* so the next starts aligned */
		o[n + 1] = TCP_OPT_WSCALE;
		o[n + 2] = 3;
		o[n + 3] = c->rcv_wscale;
		n += 4;
	}
	return n;
}

int
tcp_xmit(struct net_stack *s, struct net_tcp *c, uint32_t seq, uint32_t len,
    uint8_t flags, uint64_t now)
{
	uint8_t *th = s->tx + NET_ETH_HDR + IP_HDR;
	size_t hl = TCP_HDR;
	uint32_t sum;

	put16(th, c->local_port);
	put16(th + 2, c->remote_port);
	put32(th + 4, seq);
	put32(th + 8, flags & TCP_ACK ? c->rcv_nxt : 0);
	th[13] = flags;
	put16(th + 14, tcp_window(c, flags & TCP_SYN));
	put32(th + 16, 0);		/* checksum, urgent pointer */
	if (flags & TCP_SYN) {
		hl += tcp_put_syn_opts(th + hl, c, now);
	} else {
		if (c->flags & TF_TS)
			hl += tcp_put_ts(th + hl, c, now);
		/* SACK blocks where the options and the MTU have room. */
		if ((c->flags & TF_SACK) && (flags & TCP_ACK)) {
			size_t room = TCP_HDR_MAX - hl, fits;

			fits = NET_MTU - IP_HDR > hl + len ?
			    NET_MTU - IP_HDR - hl - len : 0;
			if (fits < room)
				room = fits;
			hl += tcp_put_sack(th + hl, c, room);
		}
	}
	th[12] = (uint8_t)(hl / 4 << 4);
	if (len > 0)
		tcp_ring_read(c->sbuf, c->ssize, ring_pos(c->ssize, c->shead,
		    seq - c->sbase), th + hl, len);
	sum = net_cksum_add(net_udp_pseudo(s->cfg.ip, c->remote_ip,
	    IP_PROTO_TCP, hl + len), th, hl + len);
	put16(th + 16, net_cksum_finish(sum));
	if (flags & TCP_ACK) {
		c->delack_at = RT_TIME_INFINITY;
		c->delack_bytes = 0;
		c->flags &= ~TF_ACK_NOW;
		c->last_ack_sent = c->rcv_nxt;
	}
	return net_ip_output(s, c->remote_ip, IP_PROTO_TCP, hl + len, now);
}

/*
 * A bare ACK says SND.MAX, not SND.NXT: after a timeout pulled snd_nxt
 * back, the peer may hold everything up to snd_max, and a sequence
 * number below its RCV.NXT would make it drop the segment unread (as
 * FreeBSD's tcp_output says).  Only while probing a zero window is the
 * byte past snd_nxt one the peer did not take.
 */
void
tcp_send_ack(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	tcp_xmit(s, c, c->flags & TF_PERSIST ? c->snd_nxt : c->snd_max, 0,
	    TCP_ACK, now);
}

void
tcp_send_rst(struct net_stack *s, struct net_tcp *c, uint32_t seq,
    uint64_t now)
{
	tcp_xmit(s, c, seq, 0, TCP_RST | TCP_ACK, now);
}

/* RFC 5961 7: a limit per connection, so that neither an attacker nor
 * two confused peers can make us send ACKs without end. */
void
tcp_challenge_ack(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	if (now >= c->chal_refill + NET_TCP_CHALLENGE_NS) {
		uint64_t n = (now - c->chal_refill) / NET_TCP_CHALLENGE_NS;

		uint64_t room = NET_TCP_CHALLENGE_BURST - c->chal_tokens;

		c->chal_tokens = (uint8_t)(n >= room ?
		    NET_TCP_CHALLENGE_BURST : c->chal_tokens + n);
		c->chal_refill = now;
	}
	if (c->chal_tokens == 0) {
		s->stats.tx[NET_TX_TCP_LIMITED]++;
		return;
	}
	c->chal_tokens--;
	tcp_send_ack(s, c, now);
}

void
tcp_reset_reply(struct net_stack *s, const uint8_t *pkt, const uint8_t *th,
    uint32_t seg_len, uint64_t now)
{
	uint8_t *o = s->tx + NET_ETH_HDR + IP_HDR;
	uint32_t src = get32(pkt + 12);

	/* RFC 9293 3.10.7.1: take the sequence number from the ACK that
	 * provoked us, else acknowledge everything the segment held. */
	put16(o, get16(th + 2));
	put16(o + 2, get16(th));
	if (th[13] & TCP_ACK) {
		put32(o + 4, get32(th + 8));
		put32(o + 8, 0);
		o[13] = TCP_RST;
	} else {
		put32(o + 4, 0);
		put32(o + 8, get32(th + 4) + seg_len);
		o[13] = TCP_RST | TCP_ACK;
	}
	o[12] = TCP_HDR / 4 << 4;
	put16(o + 14, 0);
	put32(o + 16, 0);
	put16(o + 16, net_cksum_finish(net_cksum_add(net_udp_pseudo(
	    s->cfg.ip, src, IP_PROTO_TCP, TCP_HDR), o, TCP_HDR)));
	net_ip_output(s, src, IP_PROTO_TCP, TCP_HDR, now);
}

/* The FIN's sequence number, once queued: after the last byte. */
static uint32_t
tcp_fin_seq(const struct net_tcp *c)
{
	return c->sbase + c->slen;
}

/*
 * Sends again the first unacknowledged segment: at most an MSS of what
 * was sent from snd_una on, with the FIN when it was sent and fits.
 */
static void
tcp_resend(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	uint32_t sent = c->snd_max - c->snd_una, len, end;
	uint8_t flags = TCP_ACK;

	if (sent == 0)
		return;
	len = c->slen - (c->snd_una - c->sbase);
	if (len > sent)
		len = sent;
	if (len > c->mss)
		len = c->mss;
	if ((c->flags & TF_FIN_QUEUED) && c->snd_una + len == tcp_fin_seq(c) &&
	    seq_gt(c->snd_max, tcp_fin_seq(c)))
		flags |= TCP_FIN;
	end = c->snd_una + len + (flags & TCP_FIN ? 1 : 0);
	tcp_xmit(s, c, c->snd_una, len, flags, now);
	c->retransmits++;
	if (seq_lt(c->snd_nxt, end))
		c->snd_nxt = end;
}

void
tcp_fast_resend(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	/* Karn: a sample that may span the retransmission is not taken. */
	c->flags &= ~TF_TIMING;
	tcp_resend(s, c, now);
}

/* Whether a segment of (len) bytes at snd_nxt should leave now. */
static int
tcp_worth_sending(const struct net_tcp *c, uint32_t len, uint32_t unsent,
    uint32_t flight)
{
	if (len == c->mss)
		return 1;
	if (len == unsent)
		return !(c->flags & TF_MORE);
	/* A runt cut by a window: sender SWS avoidance (RFC 9293
	 * 3.8.6.2.1) waits while an ACK is due, unless it is at least half
	 * of the largest window seen. */
	return flight == 0 || len >= c->max_snd_wnd / 2;
}

/*
 * Sends what the windows allow: new data, the FIN, after a timeout the
 * rest again (go-back-N: snd_nxt was pulled back to snd_una), and an ACK
 * when one is due and nothing else carried it.
 */
void
tcp_output(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	int sent = 0, fresh = 0;
	uint64_t pto;

	if (c->flags & TF_DEAD)
		return;
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	case TCP_FIN_WAIT_2:
	case TCP_TIME_WAIT:
		if (c->flags & TF_ACK_NOW)
			tcp_send_ack(s, c, now);
		return;
	default:
		return;
	}
	for (;;) {
		uint32_t off = c->snd_nxt - c->sbase, unsent, len, flight, wnd;
		uint8_t flags = TCP_ACK;

		unsent = seq_leq(c->snd_nxt, tcp_fin_seq(c)) ?
		    c->slen - off : 0;
		flight = c->snd_nxt - c->snd_una;
		/* RFC 3042's limited transmit: a new segment for each of
		 * the first two duplicate ACKs, past cwnd. */
		wnd = c->cwnd + (c->flags & TF_RECOVERY || c->dupacks > 2 ? 0 :
		    c->dupacks * c->mss);
		if (c->snd_wnd < wnd)
			wnd = c->snd_wnd;
		len = wnd > flight ? wnd - flight : 0;
		if (len > unsent)
			len = unsent;
		if (len > c->mss)
			len = c->mss;
		if ((c->flags & TF_FIN_QUEUED) && len == unsent &&
		    seq_leq(c->snd_nxt, tcp_fin_seq(c)))
			flags |= TCP_FIN;
		if (len == 0 && !(flags & TCP_FIN))
			break;
		if (len > 0 && !(flags & TCP_FIN) &&
		    !tcp_worth_sending(c, len, unsent, flight))
			break;
		if (len > 0 && len == unsent)
			flags |= TCP_PSH;
		if (seq_lt(c->snd_nxt, c->snd_max)) {
			c->retransmits++;
		} else if (len > 0 && !(c->flags & TF_TIMING)) {
			c->flags |= TF_TIMING;
			c->rtt_seq = c->snd_nxt;
			c->rtt_start = now;
		}
		tcp_xmit(s, c, c->snd_nxt, len, flags, now);
		c->snd_nxt += len + (flags & TCP_FIN ? 1 : 0);
		if (seq_gt(c->snd_nxt, c->snd_max)) {
			c->snd_max = c->snd_nxt;
			fresh = 1;
		}
		if (c->timer_at == RT_TIME_INFINITY ||
		    (c->flags & TF_PERSIST)) {
			c->flags &= ~TF_PERSIST;
			tcp_arm_rto(s, c, now);
		}
		sent = 1;
		if (flags & TCP_FIN)
			break;
	}
	if (!sent && (c->flags & TF_ACK_NOW))
		tcp_send_ack(s, c, now);
	/* New data moves the loss probe (RFC 8985 7.2); it may come before
	 * an RTO, never push one back: that runs from the oldest segment. */
	if (fresh && (pto = tcp_pto(c)) != 0 &&
	    ((c->flags & TF_PTO) || now + pto < c->timer_at)) {
		c->flags |= TF_PTO;
		tcp_timer(s, c, now + pto);
	}
	/* A zero window with data waiting and nothing in flight: only a
	 * probe will learn when it opens (RFC 9293 3.8.6.1). */
	if (c->snd_wnd == 0 && c->snd_nxt == c->snd_una &&
	    seq_lt(c->snd_nxt, tcp_fin_seq(c)) && !(c->flags & TF_PERSIST)) {
		c->flags |= TF_PERSIST;
		c->tries = 0;
		c->probes = 0;
		tcp_timer(s, c, now + c->rto);
	}
}

/*
 * A loss probe in the spirit of RFC 8985's: when nothing was
 * acknowledged for max(2 SRTT, 10 ms), the first unacknowledged segment
 * goes again, once, without touching cwnd.  Without SACK the head is
 * the probe worth sending: it repairs a lost head or a lost
 * retransmission, and a receiver that holds back its ACKs (Linux does,
 * while its receive buffer is tight) answers a duplicate at once.  A
 * single segment out may just be waiting for a delayed ACK: its probe
 * waits that long more, and usually the RTO comes first.
 */
/* The loss probe's timeout, or 0 when none should go now. */
uint64_t
tcp_pto(const struct net_tcp *c)
{
	uint64_t pto;

	if ((c->flags & TF_PROBED) || c->srtt == 0 || c->tries != 0)
		return 0;
	pto = 2 * c->srtt > TCP_PTO_MIN_NS ? 2 * c->srtt : TCP_PTO_MIN_NS;
	if (c->snd_max - c->snd_una <= c->mss)
		pto = c->srtt + TCP_PTO_DELACK_NS;
	return pto < c->rto ? pto : 0;
}

void
tcp_arm_rto(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	uint64_t pto = tcp_pto(c);

	if (pto != 0) {
		c->flags |= TF_PTO;
		tcp_timer(s, c, now + pto);
	} else {
		c->flags &= ~TF_PTO;
		tcp_timer(s, c, now + c->rto);
	}
}

static uint64_t
tcp_backoff(const struct net_tcp *c, unsigned n)
{
	uint64_t t = c->rto;

	while (n-- > 0 && t < NET_TCP_RTO_MAX_NS)
		t *= 2;
	return t < NET_TCP_RTO_MAX_NS ? t : NET_TCP_RTO_MAX_NS;
}

/* The zero window is still closed: one byte past it (RFC 9293 3.8.6.1),
 * then twice as long a wait, up to the RTO's maximum. */
static void
tcp_probe(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	if (c->probes >= NET_TCP_RETRIES) {
		tcp_drop(s, c, -RT_ETIMEDOUT);
		return;
	}
	c->probes++;
	if (seq_lt(c->snd_nxt, tcp_fin_seq(c))) {
		tcp_xmit(s, c, c->snd_nxt, 1, TCP_ACK, now);
		c->snd_nxt++;
		if (seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
	}
	if (c->tries < 30)
		c->tries++;
	tcp_timer(s, c, now + tcp_backoff(c, c->tries));
}

void
tcp_timeout(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	uint32_t flight;

	switch (c->state) {
	case TCP_TIME_WAIT:
	case TCP_FIN_WAIT_2:
		tcp_drop(s, c, 0);
		return;
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		if (c->tries >= (c->state == TCP_SYN_SENT ? NET_TCP_SYN_TRIES :
		    NET_TCP_SYNACK_TRIES)) {
			tcp_drop(s, c, -RT_ETIMEDOUT);
			return;
		}
		c->rto = tcp_backoff(c, 1);
		c->flags = (c->flags | TF_SYN_BACKOFF) & ~TF_TIMING;
		c->tries++;
		c->timeouts++;
		c->retransmits++;
		tcp_xmit(s, c, c->iss, 0, c->state == TCP_SYN_SENT ? TCP_SYN :
		    TCP_SYN | TCP_ACK, now);
		tcp_timer(s, c, now + c->rto);
		return;
	case TCP_CLOSED:
		return;
	default:
		break;
	}
	if (c->flags & TF_PERSIST) {
		tcp_probe(s, c, now);
		return;
	}
	flight = c->snd_max - c->snd_una;
	if (flight == 0)
		return;
	if (c->flags & TF_PTO) {
		c->flags = (c->flags & ~TF_PTO) | TF_PROBED;
		c->loss_probes++;
		tcp_fast_resend(s, c, now);
		tcp_timer(s, c, now + c->rto);
		return;
	}
	if (c->tries >= NET_TCP_RETRIES) {
		tcp_drop(s, c, -RT_ETIMEDOUT);
		return;
	}
	/* RFC 5681 (4): ssthresh from the first timeout of a series only;
	 * RFC 6582: no fast retransmit for what was sent before it. */
	if (c->tries == 0) {
		uint32_t half = flight / 2;

		c->ssthresh = half > 2 * c->mss ? half : 2 * c->mss;
	}
	c->cwnd = c->mss;
	c->ca_acked = 0;
	c->dupacks = 0;
	c->recover = c->snd_max;
	c->flags &= ~(TF_RECOVERY | TF_PARTIAL | TF_TIMING);
	c->rto = tcp_backoff(c, 1);
	c->tries++;
	c->timeouts++;
	c->snd_nxt = c->snd_una;
	tcp_resend(s, c, now);
	tcp_timer(s, c, now + c->rto);
}
