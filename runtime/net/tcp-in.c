/*
 * tcp-in.c - TCP's input: segment checks, the state machine of RFC 9293
 * 3.10.7 with RFC 5961's stricter RST, SYN and ACK checks, ACK
 * processing with RFC 5681/6582 congestion control, and the receive side
 * (in-order data, out-of-order ranges reassembled in the ring, delayed
 * ACKs, FIN).
 */
#include <string.h>

#include "net-priv.h"

#define TCP_MSS_DEFAULT		536	/* without the option (RFC 9293) */
#define TCP_MSS_FLOOR		64	/* a smaller one is not believed */
#define TCP_CWND_MAX		((uint32_t)1 << 30)
#define TCP_DUPTHRESH		3	/* RFC 5681 3.2 */
#define TCP_REORDER_MIN_NS	RT_NSEC_PER_MSEC

/* One received segment, its fields in host order. */
struct tcp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t wnd;			/* the raw field */
	const uint8_t *data;
	uint32_t dlen;
	int has_mss, has_ws, has_ts, has_sack_ok;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
};

/* RFC 9293 3.1: the options we use (MSS, window scale, SACK-permitted,
 * timestamps); the rest (the peer's SACK blocks among them: our sender
 * does not use them), and anything malformed from there on, are
 * skipped. */
static void
tcp_options(const uint8_t *o, size_t n, struct tcp_seg *g)
{
	size_t i = 0;

	while (i < n && o[i] != TCP_OPT_EOL) {
		size_t len;

		if (o[i] == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || (len = o[i + 1]) < 2 || len > n - i)
			return;
		if (o[i] == TCP_OPT_MSS && len == 4) {
			g->has_mss = 1;
			g->mss = get16(o + i + 2);
		} else if (o[i] == TCP_OPT_WSCALE && len == 3) {
			g->has_ws = 1;
			g->ws = o[i + 2];
		} else if (o[i] == TCP_OPT_SACK_OK && len == 2) {
			g->has_sack_ok = 1;
		} else if (o[i] == TCP_OPT_TS && len == 10) {
			g->has_ts = 1;
			g->tsval = get32(o + i + 2);
			g->tsecr = get32(o + i + 6);
		}
		i += len;
	}
}

/* What the peer's SYN says: its MSS, window scale, first window. */
static void
tcp_take_syn(struct net_tcp *c, const struct tcp_seg *g)
{
	uint32_t mss = g->has_mss ? g->mss : TCP_MSS_DEFAULT;

	if (mss > NET_TCP_MSS)
		mss = NET_TCP_MSS;
	if (mss < TCP_MSS_FLOOR)
		mss = TCP_MSS_FLOOR;
	c->mss = mss;
	c->rcv_mss = mss;
	if (g->has_ws) {
		/* RFC 7323 2.3: a shift over 14 is taken as 14. */
		c->flags |= TF_WSCALE;
		c->snd_wscale = g->ws > 14 ? 14 : g->ws;
	} else {
		c->flags &= ~TF_WSCALE;
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	/* Our SYN offers timestamps and SACK; a SYN-ACK takes what the
	 * peer's SYN offered.  Timestamps cost every segment 12 bytes of
	 * the MSS (RFC 6691). */
	c->flags &= ~(TF_TS | TF_SACK);
	if (g->has_sack_ok)
		c->flags |= TF_SACK;
	if (g->has_ts) {
		c->flags |= TF_TS;
		c->ts_recent = g->tsval;
		c->mss -= TCP_TS_SPACE;
		c->rcv_mss = c->mss;
	}
	c->irs = g->seq;
	c->rcv_nxt = g->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->last_ack_sent = c->rcv_nxt;
	/* Never scaled in a SYN (RFC 7323 2.2). */
	c->snd_wnd = c->max_snd_wnd = g->wnd;
	c->snd_wl1 = g->seq;
}

/* ---- ACK processing ---- */

static void
tcp_fin_acked(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		tcp_set_state(s, c, TCP_FIN_WAIT_2, now);
		break;
	case TCP_CLOSING:
		tcp_set_state(s, c, TCP_TIME_WAIT, now);
		break;
	case TCP_LAST_ACK:
		tcp_drop(s, c, 0);
		break;
	default:
		break;
	}
}

/* An ACK that acknowledges new data (RFC 9293 3.10.7.4, fifth step). */
static void
tcp_new_ack(struct net_stack *s, struct net_tcp *c, uint32_t ack,
    uint64_t now)
{
	uint32_t acked = ack - c->snd_una, n = 0;
	int partial = 0;

	if ((c->flags & TF_TIMING) && seq_gt(ack, c->rtt_seq)) {
		tcp_rto_sample(c, now - c->rtt_start);
		c->flags &= ~TF_TIMING;
	}
	if (seq_gt(ack, c->sbase)) {
		n = ack - c->sbase < c->slen ? ack - c->sbase : c->slen;
		c->shead = ring_pos(c->ssize, c->shead, n);
		c->slen -= n;
		c->sbase += n;
		c->bytes_sent += n;
	}
	c->snd_una = ack;
	if (seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	c->tries = 0;
	c->flags &= ~TF_PROBED;
	if (c->flags & TF_RECOVERY) {
		if (seq_geq(ack, c->recover)) {
			/* Full ACK (RFC 6582 3.2 step 3). */
			uint32_t flight = c->snd_max - c->snd_una;

			flight = flight > c->mss ? flight : c->mss;
			c->cwnd = c->ssthresh < flight + c->mss ? c->ssthresh :
			    flight + c->mss;
			c->flags &= ~(TF_RECOVERY | TF_PARTIAL);
			c->dupacks = 0;
		} else {
			/* Partial ACK: the next hole, at once; deflate by
			 * what was acknowledged, plus one MSS (step 4). */
			tcp_fast_resend(s, c, now);
			c->rexmit_at = now;
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			if (acked >= c->mss)
				c->cwnd += c->mss;
			if (c->cwnd < c->mss)
				c->cwnd = c->mss;
			partial = 1;
		}
	} else {
		c->dupacks = 0;
		if (c->cwnd < c->ssthresh) {
			/* Slow start, counting bytes (RFC 3465, L = 2). */
			c->cwnd += acked < 2 * c->mss ? acked : 2 * c->mss;
		} else {
			c->ca_acked += acked;
			if (c->ca_acked >= c->cwnd) {
				c->ca_acked -= c->cwnd;
				c->cwnd += c->mss;
			}
		}
		if (c->cwnd > TCP_CWND_MAX)
			c->cwnd = TCP_CWND_MAX;
	}
	/* RFC 6298 5.2, 5.3; RFC 6582: the first partial ACK only. */
	if (c->snd_una == c->snd_max) {
		c->timer_at = RT_TIME_INFINITY;
		c->flags &= ~TF_PTO;
	} else if (!partial || !(c->flags & TF_PARTIAL)) {
		tcp_arm_rto(s, c, now);
	}
	if (partial)
		c->flags |= TF_PARTIAL;
	if (n > 0 && (c->flags & TF_WANT_WRITE) &&
	    (c->slen <= c->ssize / 2)) {
		c->flags &= ~TF_WANT_WRITE;
		c->events |= TE_WRITABLE;
	}
	if ((c->flags & TF_FIN_QUEUED) && c->slen == 0 &&
	    c->snd_una == c->sbase + 1)
		tcp_fin_acked(s, c, now);
}

/* Data queued and not yet sent, bytes. */
static uint32_t
tcp_unsent(const struct net_tcp *c)
{
	uint32_t end = c->sbase + c->slen;

	return seq_lt(c->snd_max, end) ? end - c->snd_max : 0;
}

/*
 * A duplicate ACK.  The third starts fast retransmit and NewReno
 * recovery (RFC 5681 3.2, RFC 6582 3.2); fewer do when fewer than four
 * segments are out and nothing new could make more (RFC 5827's early
 * retransmit).  In recovery each inflates the window; and one that
 * comes longer than an SRTT (and a reordering allowance) after the hole
 * was sent again says that this copy was lost too: it goes again rather
 * than wait for the RTO (the inference RACK, RFC 8985, makes from time).
 */
static void
tcp_dupack(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	uint32_t half, segs, thresh = TCP_DUPTHRESH;

	if (c->dupacks < 255)
		c->dupacks++;
	if (c->flags & TF_RECOVERY) {
		uint64_t reo = c->srtt / 4 > TCP_REORDER_MIN_NS ? c->srtt / 4 :
		    TCP_REORDER_MIN_NS;

		if (c->cwnd < TCP_CWND_MAX)
			c->cwnd += c->mss;
		if (c->srtt != 0 && now - c->rexmit_at > c->srtt + reo) {
			tcp_fast_resend(s, c, now);
			c->rexmit_at = now;
		}
		return;
	}
	segs = (c->snd_max - c->snd_una + c->mss - 1) / c->mss;
	if (segs >= 2 && segs < 4 && (tcp_unsent(c) == 0 ||
	    c->snd_max - c->snd_una + c->mss > c->snd_wnd))
		thresh = segs - 1;
	/* Not for losses of what was sent before the last recovery or
	 * timeout: the ACK must cover more than recover (RFC 6582 4). */
	if (c->dupacks != thresh || seq_lt(c->snd_una, c->recover))
		return;
	half = (c->snd_max - c->snd_una) / 2;
	c->ssthresh = half > 2 * c->mss ? half : 2 * c->mss;
	c->recover = c->snd_max;
	c->flags = (c->flags | TF_RECOVERY) & ~TF_PARTIAL;
	c->fast_retransmits++;
	tcp_fast_resend(s, c, now);
	c->rexmit_at = now;
	c->cwnd = c->ssthresh + 3 * c->mss;
}

/*
 * The ACK field of a segment on a synchronized connection.  Returns 0 to
 * go on with the segment, or the drop it was (an ACK answered it).
 */
static int
tcp_ack(struct net_stack *s, struct net_tcp *c, const struct tcp_seg *g,
    uint64_t now)
{
	uint32_t ack = g->ack, wnd = g->wnd << c->snd_wscale;

	/* RFC 5961 5.2: from SND.UNA - MAX.SND.WND to SND.MAX only. */
	if (seq_gt(ack, c->snd_max) ||
	    seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
		tcp_challenge_ack(s, c, now);
		return NET_RX_TCP_BAD_ACK;
	}
	/* RFC 5681 2's duplicate, but for its condition (e), an unchanged
	 * window: Linux's moves by a few bytes between its duplicate ACKs
	 * as its application reads (FreeBSD drops (e) too, with SACK). */
	/* RFC 7323 4.1: where Karn's rule leaves no timed segment (the
	 * ACK covers retransmissions), the echoed timestamp still times
	 * the round trip; once a flight, as RFC 6298's gains expect.
	 * Without it a backed-off RTO stays backed off for as long as
	 * every flight has a loss. */
	if (seq_gt(ack, c->snd_una) && !(c->flags & TF_TIMING) &&
	    (c->flags & TF_TS) && g->has_ts && g->tsecr != 0 &&
	    seq_gt(ack, c->ts_rtt_seq)) {
		uint32_t r = tcp_ts_now(c, now) - g->tsecr;

		if (r <= NET_TCP_RTO_MAX_NS / RT_NSEC_PER_MSEC)
			tcp_rto_sample(c, (uint64_t)r * RT_NSEC_PER_MSEC);
		c->ts_rtt_seq = c->snd_max;
	}
	if (seq_gt(ack, c->snd_una))
		tcp_new_ack(s, c, ack, now);
	else if (ack == c->snd_una && g->dlen == 0 &&
	    !(g->flags & (TCP_SYN | TCP_FIN)) && wnd != 0 &&
	    c->snd_max != c->snd_una && !(c->flags & TF_PERSIST))
		tcp_dupack(s, c, now);
	if (c->flags & TF_DEAD || c->state == TCP_CLOSED)
		return 0;
	/* RFC 9293 3.10.7.4: the window from the newest segment only. */
	if (seq_lt(c->snd_wl1, g->seq) || (c->snd_wl1 == g->seq &&
	    seq_leq(c->snd_wl2, ack))) {
		c->snd_wnd = wnd;
		c->snd_wl1 = g->seq;
		c->snd_wl2 = ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
	}
	if (c->flags & TF_PERSIST) {
		c->probes = 0;		/* the peer is there */
		if (c->snd_wnd > 0) {
			c->flags &= ~TF_PERSIST;
			c->tries = 0;
			c->timer_at = RT_TIME_INFINITY;
			if (c->snd_max != c->snd_una)
				tcp_arm_rto(s, c, now);
		} else if (seq_gt(c->snd_nxt, c->snd_una)) {
			c->snd_nxt = c->snd_una;	/* the probe bounced */
		}
	}
	return 0;
}

/* ---- receiving ---- */

static void
tcp_readable(struct net_tcp *c)
{
	if (c->flags & TF_WANT_READ) {
		c->flags &= ~TF_WANT_READ;
		c->events |= TE_READABLE;
	}
}

static void
tcp_fin_in(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	c->rcv_nxt++;
	c->flags = (c->flags | TF_FIN_RCVD | TF_ACK_NOW) & ~TF_RFIN;
	tcp_readable(c);
	switch (c->state) {
	case TCP_ESTABLISHED:
		tcp_set_state(s, c, TCP_CLOSE_WAIT, now);
		break;
	case TCP_FIN_WAIT_1:
		tcp_set_state(s, c, TCP_CLOSING, now);
		break;
	case TCP_FIN_WAIT_2:
		tcp_set_state(s, c, TCP_TIME_WAIT, now);
		break;
	default:
		break;
	}
}

/*
 * Notes [seq, seq + len) as held past a gap: ranges stay sorted and
 * disjoint, touching ones merge.  0, or -1 when a new range would not
 * fit (the data is then dropped; the peer sends it again).
 */
static int
tcp_ooo_add(struct net_tcp *c, uint32_t seq, uint32_t len)
{
	uint32_t end = seq + len;
	int i, j;

	for (i = 0; i < c->nooo && seq_lt(c->ooo[i].end, seq); i++)
		;
	if (i == c->nooo || seq_lt(end, c->ooo[i].start)) {
		if (c->nooo == TCP_OOO_MAX)
			return -1;
		memmove(&c->ooo[i + 1], &c->ooo[i],
		    (size_t)(c->nooo - i) * sizeof(c->ooo[0]));
		c->ooo[i].start = seq;
		c->ooo[i].end = end;
		c->nooo++;
		return 0;
	}
	/* Overlaps or touches range i, maybe more after it. */
	if (seq_lt(seq, c->ooo[i].start))
		c->ooo[i].start = seq;
	for (j = i + 1; j < c->nooo && seq_leq(c->ooo[j].start, end); j++)
		;
	if (seq_lt(end, c->ooo[j - 1].end))
		end = c->ooo[j - 1].end;
	if (seq_lt(c->ooo[i].end, end))
		c->ooo[i].end = end;
	memmove(&c->ooo[i + 1], &c->ooo[j],
	    (size_t)(c->nooo - j) * sizeof(c->ooo[0]));
	c->nooo = (uint8_t)(c->nooo - (j - i - 1));
	return 0;
}

/*
 * Segment text and FIN, already trimmed to the window (RFC 9293
 * 3.10.7.4, seventh and eighth steps).  In order: into the ring, then
 * whatever waited past the gap joins it.  Out of order: into the ring at
 * its place, and an immediate duplicate ACK (RFC 5681 4.2).
 */
static void
tcp_data(struct net_stack *s, struct net_tcp *c, uint32_t seq,
    const uint8_t *data, uint32_t dlen, int fin, uint64_t now)
{
	uint32_t base = ring_pos(c->rsize, c->rhead, c->rlen);

	if (seq != c->rcv_nxt) {
		if (dlen > 0 && tcp_ooo_add(c, seq, dlen) == 0) {
			tcp_ring_write(c->rbuf, c->rsize, ring_pos(c->rsize,
			    base, seq - c->rcv_nxt), data, dlen);
			c->sack_seq = seq;	/* the first SACK block's */
		}
		if (fin) {
			c->flags |= TF_RFIN;
			c->rfin_seq = seq + dlen;
		}
		c->flags |= TF_ACK_NOW;
		return;
	}
	if (dlen > 0) {
		tcp_ring_write(c->rbuf, c->rsize, base, data, dlen);
		c->rcv_nxt += dlen;
		c->rlen += dlen;
		c->bytes_received += dlen;
		c->delack_bytes += dlen;
		if (dlen > c->rcv_mss)
			c->rcv_mss = dlen;
		tcp_readable(c);
	}
	if (c->nooo > 0 && seq_leq(c->ooo[0].start, c->rcv_nxt)) {
		int k = 0;

		while (k < c->nooo && seq_leq(c->ooo[k].start, c->rcv_nxt)) {
			if (seq_gt(c->ooo[k].end, c->rcv_nxt)) {
				uint32_t more = c->ooo[k].end - c->rcv_nxt;

				c->rcv_nxt += more;
				c->rlen += more;
				c->bytes_received += more;
			}
			k++;
		}
		memmove(&c->ooo[0], &c->ooo[k],
		    (size_t)(c->nooo - k) * sizeof(c->ooo[0]));
		c->nooo = (uint8_t)(c->nooo - k);
		c->flags |= TF_ACK_NOW;	/* a gap filled: say so at once */
		tcp_readable(c);
	}
	if (fin || ((c->flags & TF_RFIN) && c->rcv_nxt == c->rfin_seq))
		tcp_fin_in(s, c, now);
	else if (c->delack_bytes >= 2 * c->rcv_mss)
		c->flags |= TF_ACK_NOW;	/* every second full segment */
	else if (dlen > 0 && c->delack_at == RT_TIME_INFINITY)
		tcp_delack(s, c, now + NET_TCP_DELACK_NS);
}

/* ---- the states ---- */

/* SYN_SENT (RFC 9293 3.10.7.3). */
static int
tcp_syn_sent(struct net_stack *s, struct net_tcp *c, const struct tcp_seg *g,
    const uint8_t *pkt, const uint8_t *th, uint32_t seg_len, uint64_t now)
{
	if ((g->flags & TCP_ACK) && (seq_leq(g->ack, c->iss) ||
	    seq_gt(g->ack, c->snd_max))) {
		if (!(g->flags & TCP_RST))
			tcp_reset_reply(s, pkt, th, seg_len, now);
		return NET_RX_TCP_BAD_ACK;
	}
	if (g->flags & TCP_RST) {
		if (!(g->flags & TCP_ACK))
			return NET_RX_TCP_BAD_RST;
		tcp_drop(s, c, -RT_ECONNREFUSED);
		return NET_RX_TCP;
	}
	if (!(g->flags & TCP_SYN))
		return NET_RX_TCP_FLAGS;
	tcp_take_syn(c, g);
	if (!(g->flags & TCP_ACK)) {
		/* Simultaneous open: our SYN again, now with an ACK. */
		tcp_set_state(s, c, TCP_SYN_RECEIVED, now);
		tcp_xmit(s, c, c->iss, 0, TCP_SYN | TCP_ACK, now);
		return NET_RX_TCP;
	}
	if ((c->flags & TF_TIMING) && seq_gt(g->ack, c->rtt_seq))
		tcp_rto_sample(c, now - c->rtt_start);
	c->flags &= ~TF_TIMING;
	c->snd_una = g->ack;
	c->snd_wl2 = g->ack;
	tcp_set_state(s, c, TCP_ESTABLISHED, now);
	c->events |= TE_CONNECTED;
	/* Data or a FIN on the SYN-ACK is not taken: the peer resends it
	 * once our ACK tells it where we are. */
	c->flags |= TF_ACK_NOW;
	return NET_RX_TCP;
}

/* SYN_RECEIVED's ACK: the handshake completes (RFC 9293 3.10.7.4). */
static int
tcp_syn_received(struct net_stack *s, struct net_tcp *c,
    const struct tcp_seg *g, const uint8_t *pkt, const uint8_t *th,
    uint32_t seg_len, uint64_t now)
{
	if (!seq_lt(c->snd_una, g->ack) || seq_gt(g->ack, c->snd_max)) {
		tcp_reset_reply(s, pkt, th, seg_len, now);
		return NET_RX_TCP_BAD_ACK;
	}
	if ((c->flags & TF_TIMING) && seq_gt(g->ack, c->rtt_seq))
		tcp_rto_sample(c, now - c->rtt_start);
	c->flags &= ~TF_TIMING;
	c->snd_una = g->ack;
	c->snd_wnd = g->wnd << c->snd_wscale;
	if (c->snd_wnd > c->max_snd_wnd)
		c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = g->seq;
	c->snd_wl2 = g->ack;
	tcp_set_state(s, c, TCP_ESTABLISHED, now);
	c->events |= c->listener != NULL ? TE_ACCEPT : TE_CONNECTED;
	return 0;
}

/*
 * RFC 9293 3.10.7.4's acceptability test, against the room we have; but
 * an empty segment may sit at the window's right edge itself (as Linux
 * allows): a peer that filled our window sends its ACKs from there, and
 * their acknowledgments must not be lost.
 */
static int
tcp_acceptable(const struct net_tcp *c, uint32_t seq, uint32_t seg_len,
    uint32_t wnd)
{
	if (seg_len == 0)
		return wnd == 0 ? seq == c->rcv_nxt :
		    seq_geq(seq, c->rcv_nxt) && seq_leq(seq, c->rcv_nxt + wnd);
	if (wnd == 0)
		return 0;
	return (seq_geq(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + wnd)) ||
	    (seq_geq(seq + seg_len - 1, c->rcv_nxt) &&
	    seq_lt(seq + seg_len - 1, c->rcv_nxt + wnd));
}

static int
tcp_segment(struct net_stack *s, struct net_tcp *c, struct tcp_seg *g,
    const uint8_t *pkt, const uint8_t *th, uint64_t now)
{
	uint32_t seg_len = g->dlen + (g->flags & TCP_SYN ? 1 : 0) +
	    (g->flags & TCP_FIN ? 1 : 0);
	uint32_t wnd = c->rbuf != NULL ? tcp_space(c) : 0;
	uint32_t seq = g->seq, dlen = g->dlen;
	const uint8_t *data = g->data;
	int fin = g->flags & TCP_FIN, r;

	if (c->state == TCP_SYN_SENT)
		return tcp_syn_sent(s, c, g, pkt, th, seg_len, now);
	/* RFC 5961 3.2: only an RST at exactly RCV.NXT resets; one
	 * elsewhere in the window gets a challenge ACK. */
	if (g->flags & TCP_RST) {
		if (seq == c->rcv_nxt) {
			tcp_drop(s, c, c->state == TCP_TIME_WAIT ? 0 :
			    c->state == TCP_SYN_RECEIVED ? -RT_ECONNREFUSED :
			    -RT_ECONNRESET);
			return NET_RX_TCP;
		}
		if (tcp_acceptable(c, seq, 0, wnd > 0 ? wnd : 1))
			tcp_challenge_ack(s, c, now);
		return NET_RX_TCP_BAD_RST;
	}
	if (g->flags & TCP_SYN) {
		/* A retransmitted SYN: our SYN-ACK was lost. */
		if (c->state == TCP_SYN_RECEIVED && seq == c->irs &&
		    !(g->flags & TCP_ACK)) {
			tcp_xmit(s, c, c->iss, 0, TCP_SYN | TCP_ACK, now);
			return NET_RX_TCP;
		}
		tcp_challenge_ack(s, c, now);	/* RFC 5961 4.2 */
		return NET_RX_TCP_BAD_SYN;
	}
	if (!tcp_acceptable(c, seq, seg_len, wnd) &&
	    !(wnd == 0 && seq == c->rcv_nxt)) {
		if (c->state == TCP_TIME_WAIT && fin)
			tcp_timer(s, c, now + 2 * s->tcp.cfg.msl_ns);
		/* Data gets its ACK always (the peer's retransmission
		 * waits for it); bare ACKs only within the limit. */
		if (seg_len > 0)
			tcp_send_ack(s, c, now);
		else
			tcp_challenge_ack(s, c, now);
		return NET_RX_TCP_WINDOW;
	}
	/* RFC 7323 4.3: the timestamp to echo is the one of the segment
	 * that our last ACK's number points into (or earlier), so that the
	 * peer's RTT sample covers our delayed ACKs; and a newer one
	 * only.  (PAWS, 5.3, is not done: at our rates sequence numbers do
	 * not wrap within a segment's lifetime.) */
	if ((c->flags & TF_TS) && g->has_ts &&
	    seq_geq(g->tsval, c->ts_recent) && seq_leq(seq, c->last_ack_sent))
		c->ts_recent = g->tsval;
	/* Trim to the window: what we have, and what has no room. */
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t cut = c->rcv_nxt - seq;

		if (cut > dlen) {
			cut = dlen;
			fin = 0;	/* an old FIN, already counted */
		}
		data += cut;
		dlen -= cut;
		seq += cut;
	}
	if (seq_gt(seq + dlen, c->rcv_nxt + wnd)) {
		dlen = seq_gt(c->rcv_nxt + wnd, seq) ?
		    c->rcv_nxt + wnd - seq : 0;
		fin = 0;
	}
	/* What was cut off is news to the peer: a duplicate, or a probe of
	 * our closed window; either waits for our ACK. */
	if (dlen != g->dlen || (fin == 0) != !(g->flags & TCP_FIN))
		c->flags |= TF_ACK_NOW;
	if (!(g->flags & TCP_ACK))
		return NET_RX_TCP_FLAGS;
	if (c->state == TCP_SYN_RECEIVED) {
		if ((r = tcp_syn_received(s, c, g, pkt, th, seg_len, now)) != 0)
			return r;
	} else if ((r = tcp_ack(s, c, g, now)) != 0) {
		return r;
	}
	if ((c->flags & TF_DEAD) || c->state == TCP_CLOSED)
		return NET_RX_TCP;
	/* No urgent data: the pointer is ignored, the bytes are data. */
	if (dlen == 0 && !fin)
		return NET_RX_TCP;
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		if ((c->flags & TF_ORPHAN) && dlen > 0) {
			/* Nobody will read it (RFC 9293 3.10.4). */
			tcp_send_rst(s, c, c->snd_max, now);
			tcp_drop(s, c, 0);
			break;
		}
		tcp_data(s, c, seq, data, dlen, fin, now);
		break;
	default:
		/* CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT: past the
		 * peer's FIN there is nothing to take. */
		break;
	}
	return NET_RX_TCP;
}

/* LISTEN (RFC 9293 3.10.7.2). */
static int
tcp_listen_input(struct net_stack *s, struct net_tcp_listener *l,
    const struct tcp_seg *g, const uint8_t *pkt, const uint8_t *th,
    uint32_t seg_len, uint64_t now)
{
	struct net_tcp *c;
	int why = 0;

	if (g->flags & TCP_RST)
		return NET_RX_TCP_NO_CONN;
	if (g->flags & TCP_ACK) {
		tcp_reset_reply(s, pkt, th, seg_len, now);
		return NET_RX_TCP_NO_CONN;
	}
	if (!(g->flags & TCP_SYN))
		return NET_RX_TCP_NO_CONN;
	c = tcp_passive(s, l, get32(pkt + 12), g->sport, g->dport, now, &why);
	if (c == NULL)
		return why;
	/* Data on the SYN is not taken (no TCP Fast Open). */
	tcp_take_syn(c, g);
	tcp_send_syn(s, c, now);
	return NET_RX_TCP_SYN;
}

int
net_tcp_input(struct net_stack *s, const uint8_t *pkt, size_t ihl,
    size_t len, uint64_t now)
{
	const uint8_t *th = pkt + ihl;
	size_t n = len - ihl, doff;
	uint32_t src = get32(pkt + 12), dst = get32(pkt + 16), seg_len;
	struct tcp_seg g;
	struct net_tcp *c;
	struct net_tcp_listener *l;
	int r;

	if (n < TCP_HDR)
		return NET_RX_TCP_SHORT;
	doff = (size_t)(th[12] >> 4) * 4;
	if (doff < TCP_HDR || doff > n)
		return NET_RX_TCP_SHORT;
	if (net_ip_is_broadcast(s, dst) || src == s->cfg.ip)
		return NET_RX_TCP_BAD_ADDR;
	if (net_cksum_add(net_udp_pseudo(src, dst, IP_PROTO_TCP, n), th, n) !=
	    0xffff)
		return NET_RX_TCP_CKSUM;
	memset(&g, 0, sizeof(g));
	g.sport = get16(th);
	g.dport = get16(th + 2);
	g.seq = get32(th + 4);
	g.ack = get32(th + 8);
	g.flags = th[13];
	g.wnd = get16(th + 14);
	g.data = th + doff;
	g.dlen = (uint32_t)(n - doff);
	if (doff > TCP_HDR)
		tcp_options(th + TCP_HDR, doff - TCP_HDR, &g);
	seg_len = g.dlen + (g.flags & TCP_SYN ? 1 : 0) +
	    (g.flags & TCP_FIN ? 1 : 0);
	tcp_enter(s);
	c = tcp_lookup(s, src, g.sport, g.dport);
	l = tcp_listener(s, g.dport);
	/* A new SYN above a TIME_WAIT's sequence numbers starts a new
	 * incarnation (RFC 9293 3.10.7.4, RFC 6191). */
	if (c != NULL && c->state == TCP_TIME_WAIT && l != NULL &&
	    (g.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	    !(c->flags & TF_APP) && seq_gt(g.seq, c->rcv_nxt)) {
		tcp_drop(s, c, 0);
		c = NULL;
	}
	if (c != NULL) {
		r = tcp_segment(s, c, &g, pkt, th, now);
		tcp_output(s, c, now);
		tcp_events(s, c);
	} else if (l != NULL) {
		r = tcp_listen_input(s, l, &g, pkt, th, seg_len, now);
	} else {
		if (!(g.flags & TCP_RST))
			tcp_reset_reply(s, pkt, th, seg_len, now);
		r = NET_RX_TCP_NO_CONN;
	}
	tcp_leave(s);
	return r;
}
