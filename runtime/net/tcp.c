/*
 * tcp.c - TCP (RFC 9293): connections and their lifetime, the calls of
 * net.h's TCP section, lookup, timers, initial sequence numbers (RFC 6528)
 * and ephemeral ports (RFC 6056).  Segments arrive in tcp-in.c and leave
 * from tcp-out.c; docs/net.md, "TCP", has the design.
 *
 * Connections are freed only when no TCP call is on the C stack
 * (tcp_enter/tcp_leave count them): a callback may close or abort any
 * connection, including the one whose segment is being processed, so
 * the code that called it must still be able to look at it afterwards.
 * Callbacks run only from net_input() and net_poll() (tcp_events), never
 * from the calls below: an application that sends from its readable()
 * must not find readable() running again inside its own send.
 */
#include <stdlib.h>
#include <string.h>

#include "net-priv.h"

#define EPHEMERAL_FIRST		49152
#define EPHEMERAL_COUNT		(65536 - EPHEMERAL_FIRST)
#define RTO_CLOCK_G_NS		RT_NSEC_PER_MSEC	/* RFC 6298's G */
#define RTO_SYN_BACKOFF_NS	(3 * RT_NSEC_PER_SEC)	/* RFC 6298 5.7 */

static const struct net_tcp_ops no_ops;

static const char *const state_names[] = {
	[TCP_CLOSED] = "CLOSED",
	[TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECEIVED] = "SYN_RECEIVED",
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_FIN_WAIT_1] = "FIN_WAIT_1",
	[TCP_FIN_WAIT_2] = "FIN_WAIT_2",
	[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_CLOSING] = "CLOSING",
	[TCP_LAST_ACK] = "LAST_ACK",
	[TCP_TIME_WAIT] = "TIME_WAIT",
};

void
tcp_ring_write(uint8_t *ring, uint32_t size, uint32_t pos,
    const uint8_t *data, uint32_t n)
{
	uint32_t first = size - pos < n ? size - pos : n;

	memcpy(ring + pos, data, first);
	if (n > first)
		memcpy(ring, data + first, n - first);
}

void
tcp_ring_read(const uint8_t *ring, uint32_t size, uint32_t pos, uint8_t *out,
    uint32_t n)
{
	uint32_t first = size - pos < n ? size - pos : n;

	memcpy(out, ring + pos, first);
	if (n > first)
		memcpy(out + first, ring, n - first);
}

/* ---- keyed hashing: SipHash-2-4 of two 64-bit words ---- */

static uint64_t
rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);	\
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);	\
} while (0)

/* The key is the stack's seed: whoever does not know it cannot predict
 * sequence numbers or ports (RFC 6528, RFC 6056), nor the hash buckets. */
static uint64_t
tcp_siphash(const struct net_stack *s, uint64_t m0, uint64_t m1)
{
	uint64_t k0 = s->seed, k1 = s->seed ^ 0x5bd1e9955bd1e995ull;
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k1 ^ 0x7465646279746573ull;
	const uint64_t m[3] = { m0, m1, (uint64_t)16 << 56 };

	for (int i = 0; i < 3; i++) {
		v3 ^= m[i];
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * RFC 6528: ISN = M + F(4-tuple, secret), M a clock ticking every 4 us,
 * so that a new incarnation of a connection starts above the old one.
 */
static uint32_t
tcp_isn(const struct net_stack *s, uint32_t lip, uint16_t lport,
    uint32_t rip, uint16_t rport, uint64_t now)
{
	uint64_t f = tcp_siphash(s, (uint64_t)lip << 32 | rip,
	    (uint64_t)lport << 16 | rport);

	return (uint32_t)(now / 4000) + (uint32_t)f;
}

static unsigned
tcp_bucket(const struct net_stack *s, uint32_t rip, uint16_t rport,
    uint16_t lport)
{
	uint32_t h = rip ^ ((uint32_t)rport << 16 | lport) ^
	    (uint32_t)(s->seed >> 17);

	/* A multiply-xorshift mix: cheap, and keyed by the seed above. */
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h & (NET_TCP_HASH - 1);
}

/* ---- the per-stack state ---- */

void
net_tcp_init(struct net_stack *s)
{
	s->tcp.cfg.rcvbuf = NET_TCP_RCVBUF;
	s->tcp.cfg.sndbuf = NET_TCP_SNDBUF;
	s->tcp.cfg.max_conns = NET_TCP_MAX_CONNS;
	s->tcp.cfg.msl_ns = NET_TCP_MSL_NS;
}

static void
tcp_free(struct net_stack *s, struct net_tcp *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->tcp.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c->rbuf);
	free(c);
}

void
net_tcp_fini(struct net_stack *s)
{
	while (s->tcp.conns != NULL)
		tcp_free(s, s->tcp.conns);
	memset(s->tcp.hash, 0, sizeof(s->tcp.hash));
	s->tcp.listeners = NULL;
	s->tcp.nconns = 0;
	s->tcp.ndead = 0;
	free(s->tcp.heap);
	s->tcp.heap = NULL;
	s->tcp.heap_cap = 0;
}

void
net_tcp_readdress(struct net_stack *s, uint64_t now)
{
	struct net_tcp *c;

	tcp_enter(s);
	for (c = s->tcp.conns; c != NULL; c = c->next) {
		if (c->local_ip == s->cfg.ip || c->state == TCP_CLOSED ||
		    (c->flags & TF_DEAD))
			continue;
		tcp_drop(s, c, -RT_EADDRNOTAVAIL);
		/* A connection the application holds stays, CLOSED, for
		 * its closed callback: net_poll() runs it now. */
		if (!(c->flags & TF_DEAD))
			tcp_timer(s, c, now);
	}
	tcp_leave(s);
}

void
tcp_enter(struct net_stack *s)
{
	s->tcp.depth++;
}

void
tcp_leave(struct net_stack *s)
{
	struct net_tcp *c, *next;

	if (--s->tcp.depth > 0 || s->tcp.ndead == 0)
		return;
	for (c = s->tcp.conns; c != NULL; c = next) {
		next = c->next;
		if (c->flags & TF_DEAD)
			tcp_free(s, c);
	}
	s->tcp.ndead = 0;
}

int
net_tcp_configure(struct net_stack *s, const struct net_tcp_config *cfg)
{
	const size_t lo = 1024, hi = (size_t)1 << 30;

	if (cfg == NULL || cfg->rcvbuf < lo || cfg->rcvbuf > hi ||
	    cfg->sndbuf < lo || cfg->sndbuf > hi || cfg->max_conns < 1 ||
	    cfg->max_conns > 65535 || (cfg->msl_ns != 0 &&
	    (cfg->msl_ns < RT_NSEC_PER_MSEC ||
	    cfg->msl_ns > 120 * RT_NSEC_PER_SEC)))
		return -RT_EINVAL;
	s->tcp.cfg = *cfg;
	if (cfg->msl_ns == 0)
		s->tcp.cfg.msl_ns = NET_TCP_MSL_NS;
	return 0;
}

/* ---- lookup ---- */

struct net_tcp *
tcp_lookup(struct net_stack *s, uint32_t rip, uint16_t rport, uint16_t lport)
{
	struct net_tcp *c = s->tcp.hash[tcp_bucket(s, rip, rport, lport)];

	for (; c != NULL; c = c->hnext)
		if (c->remote_ip == rip && c->remote_port == rport &&
		    c->local_port == lport)
			return c;
	return NULL;
}

struct net_tcp_listener *
tcp_listener(struct net_stack *s, uint16_t port)
{
	for (struct net_tcp_listener *l = s->tcp.listeners; l != NULL;
	    l = l->net_next)
		if (l->net_port == port)
			return l;
	return NULL;
}

static void
tcp_hash_insert(struct net_stack *s, struct net_tcp *c)
{
	struct net_tcp **b = &s->tcp.hash[tcp_bucket(s, c->remote_ip,
	    c->remote_port, c->local_port)];

	c->hnext = *b;
	*b = c;
}

static void
tcp_hash_remove(struct net_stack *s, struct net_tcp *c)
{
	struct net_tcp **pp = &s->tcp.hash[tcp_bucket(s, c->remote_ip,
	    c->remote_port, c->local_port)];

	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			c->hnext = NULL;
			return;
		}
	}
}

/* ---- timers: a binary heap of the live connections ----
 *
 * Keyed by the earlier of a connection's two timers.  A key only ever
 * lags behind by being too early: tcp_timer() and tcp_delack() move a
 * connection up at once when they bring its time forward, while timers
 * cancelled or pushed back are noticed when the connection reaches the
 * top (net_tcp_poll), so that an ACK that restarts the RTO costs no heap
 * work at all, and the top, once checked, is exact.
 */

static uint64_t
tcp_earliest(const struct net_tcp *c)
{
	return c->timer_at < c->delack_at ? c->timer_at : c->delack_at;
}

static void
heap_set(struct net_stack *s, unsigned i, struct net_tcp *c)
{
	s->tcp.heap[i] = c;
	c->heap_idx = i;
}

static void
heap_up(struct net_stack *s, unsigned i)
{
	struct net_tcp *c = s->tcp.heap[i];

	while (i > 0 && s->tcp.heap[(i - 1) / 2]->heap_key > c->heap_key) {
		heap_set(s, i, s->tcp.heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(s, i, c);
}

static void
heap_down(struct net_stack *s, unsigned i)
{
	struct net_tcp *c = s->tcp.heap[i];
	unsigned n = s->tcp.nconns;

	for (;;) {
		unsigned k = 2 * i + 1;

		if (k >= n)
			break;
		if (k + 1 < n &&
		    s->tcp.heap[k + 1]->heap_key < s->tcp.heap[k]->heap_key)
			k++;
		if (s->tcp.heap[k]->heap_key >= c->heap_key)
			break;
		heap_set(s, i, s->tcp.heap[k]);
		i = k;
	}
	heap_set(s, i, c);
}

/* Room for one more connection in the heap: 0 or -RT_ENOMEM. */
static int
heap_reserve(struct net_stack *s)
{
	struct net_tcp **h;
	unsigned cap;

	if (s->tcp.nconns < s->tcp.heap_cap)
		return 0;
	cap = s->tcp.heap_cap < 16 ? 16 : 2 * s->tcp.heap_cap;
	if ((h = malloc(cap * sizeof(*h))) == NULL)
		return -RT_ENOMEM;
	if (s->tcp.nconns > 0)
		memcpy(h, s->tcp.heap, s->tcp.nconns * sizeof(*h));
	free(s->tcp.heap);
	s->tcp.heap = h;
	s->tcp.heap_cap = cap;
	return 0;
}

/* (c) counted in s->tcp.nconns already, at the heap's end. */
static void
heap_insert(struct net_stack *s, struct net_tcp *c)
{
	c->heap_key = tcp_earliest(c);
	heap_set(s, s->tcp.nconns - 1, c);
	heap_up(s, c->heap_idx);
}

/* (c) out; s->tcp.nconns not yet decremented. */
static void
heap_remove(struct net_stack *s, struct net_tcp *c)
{
	unsigned i = c->heap_idx, last = s->tcp.nconns - 1;

	if (i != last) {
		heap_set(s, i, s->tcp.heap[last]);
		s->tcp.nconns--;
		heap_down(s, i);
		heap_up(s, s->tcp.heap[i]->heap_idx);
		s->tcp.nconns++;
	}
}

static void
heap_earlier(struct net_stack *s, struct net_tcp *c, uint64_t at)
{
	if (at < c->heap_key) {
		c->heap_key = at;
		heap_up(s, c->heap_idx);
	}
}

void
tcp_timer(struct net_stack *s, struct net_tcp *c, uint64_t at)
{
	c->timer_at = at;
	if (!(c->flags & TF_DEAD))
		heap_earlier(s, c, at);
}

void
tcp_delack(struct net_stack *s, struct net_tcp *c, uint64_t at)
{
	c->delack_at = at;
	if (!(c->flags & TF_DEAD))
		heap_earlier(s, c, at);
}

/* ---- a connection's life ---- */

/* Unhashed and counted out at once; freed at depth 0 (tcp_leave). */
static void
tcp_kill(struct net_stack *s, struct net_tcp *c)
{
	if (c->flags & TF_DEAD)
		return;
	if (c->state == TCP_SYN_RECEIVED && c->listener != NULL)
		c->listener->net_half_open--;
	c->listener = NULL;
	c->state = TCP_CLOSED;
	c->flags = (c->flags | TF_DEAD) & ~TF_APP;
	c->events = 0;
	c->timer_at = c->delack_at = RT_TIME_INFINITY;
	tcp_hash_remove(s, c);
	heap_remove(s, c);
	s->tcp.nconns--;
	s->tcp.ndead++;
}

/* Frees the buffers of a connection nobody will read or write again. */
static void
tcp_release(struct net_tcp *c)
{
	free(c->rbuf);
	c->rbuf = c->sbuf = NULL;
	c->rsize = c->rhead = c->rlen = 0;
	c->ssize = c->shead = c->slen = 0;
	c->nooo = 0;
}

/* When max_conns is reached, the oldest TIME_WAIT nobody holds goes. */
static int
tcp_reuse_time_wait(struct net_stack *s)
{
	struct net_tcp *oldest = NULL;

	for (struct net_tcp *c = s->tcp.conns; c != NULL; c = c->next)
		if (c->state == TCP_TIME_WAIT && !(c->flags & (TF_APP |
		    TF_DEAD)) && (oldest == NULL ||
		    c->timer_at < oldest->timer_at))
			oldest = c;
	if (oldest == NULL)
		return 0;
	tcp_kill(s, oldest);
	return 1;
}

static uint8_t
tcp_wscale_for(uint32_t rcvbuf)
{
	uint8_t shift = 0;

	while (shift < 14 && (rcvbuf >> shift) > 65535)
		shift++;
	return shift;
}

static struct net_tcp *
tcp_alloc(struct net_stack *s, int *err)
{
	struct net_tcp *c;
	uint32_t rsize = (uint32_t)s->tcp.cfg.rcvbuf;
	uint32_t ssize = (uint32_t)s->tcp.cfg.sndbuf;

	if (s->tcp.nconns >= s->tcp.cfg.max_conns &&
	    !tcp_reuse_time_wait(s)) {
		*err = -RT_ENOBUFS;
		return NULL;
	}
	if (heap_reserve(s) != 0 || (c = malloc(sizeof(*c))) == NULL) {
		*err = -RT_ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	/* One allocation for both rings: one free, one failure point. */
	if ((c->rbuf = malloc((size_t)rsize + ssize)) == NULL) {
		free(c);
		*err = -RT_ENOMEM;
		return NULL;
	}
	c->sbuf = c->rbuf + rsize;
	c->rsize = rsize;
	c->ssize = ssize;
	c->rcv_wscale = tcp_wscale_for(rsize);
	c->ops = &no_ops;
	c->flags = TF_WANT_READ;
	c->rto = NET_TCP_RTO_INIT_NS;
	c->ssthresh = (uint32_t)1 << 30;	/* "arbitrarily high" (5681) */
	c->timer_at = c->delack_at = RT_TIME_INFINITY;
	c->chal_tokens = NET_TCP_CHALLENGE_BURST;
	c->next = s->tcp.conns;
	if (c->next != NULL)
		c->next->prev = c;
	s->tcp.conns = c;
	s->tcp.nconns++;
	heap_insert(s, c);
	return c;
}

/* The send side's sequence numbers start at (iss); the SYN is (iss). */
static void
tcp_init_seq(struct net_tcp *c, uint32_t iss)
{
	c->iss = iss;
	c->snd_una = c->snd_nxt = c->snd_max = iss;
	c->sbase = iss + 1;
	c->recover = iss;
	c->ts_rtt_seq = iss;
}

/* A connection to (rip):(rport) from our (lport), its ISN chosen, in the
 * lookup table; NULL with *err when max_conns or memory says no. */
static struct net_tcp *
tcp_new(struct net_stack *s, uint32_t rip, uint16_t rport, uint16_t lport,
    uint64_t now, int *err)
{
	struct net_tcp *c = tcp_alloc(s, err);

	if (c == NULL)
		return NULL;
	c->local_ip = s->cfg.ip;
	c->remote_ip = rip;
	c->local_port = lport;
	c->remote_port = rport;
	tcp_init_seq(c, tcp_isn(s, c->local_ip, lport, rip, rport, now));
	/* A timestamp clock offset per connection (RFC 7323, privacy), so that
	 * our clock is not read off the option. */
	c->ts_offset = (uint32_t)tcp_siphash(s, (uint64_t)rip << 32 |
	    c->local_ip, ~((uint64_t)rport << 16 | lport));
	tcp_hash_insert(s, c);
	return c;
}

struct net_tcp *
tcp_passive(struct net_stack *s, struct net_tcp_listener *l, uint32_t rip,
    uint16_t rport, uint16_t lport, uint64_t now, int *why)
{
	struct net_tcp *c;
	int err;

	if (l->net_half_open >= l->net_backlog) {
		*why = NET_RX_TCP_BACKLOG;
		return NULL;
	}
	if ((c = tcp_new(s, rip, rport, lport, now, &err)) == NULL) {
		*why = NET_RX_TCP_FULL;
		return NULL;
	}
	c->state = TCP_SYN_RECEIVED;
	c->listener = l;
	l->net_half_open++;
	return c;
}

int
tcp_send_syn(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	int r;

	/* The handshake gives the first RTT sample, unless retransmitted. */
	c->flags |= TF_TIMING;
	c->rtt_seq = c->iss;
	c->rtt_start = now;
	r = tcp_xmit(s, c, c->iss, 0, c->state == TCP_SYN_SENT ? TCP_SYN :
	    TCP_SYN | TCP_ACK, now);
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->tries = 1;
	tcp_timer(s, c, now + c->rto);
	return r;
}

void
tcp_set_state(struct net_stack *s, struct net_tcp *c, int state,
    uint64_t now)
{
	if (c->state == TCP_SYN_RECEIVED && c->listener != NULL)
		c->listener->net_half_open--;	/* kept for TE_ACCEPT */
	c->state = (uint8_t)state;
	switch (state) {
	case TCP_ESTABLISHED:
		/* RFC 6928's initial window; one segment after a lost SYN
		 * (RFC 5681 3.1), and RFC 6298 5.7's 3 s RTO. */
		c->cwnd = c->flags & TF_SYN_BACKOFF ? c->mss :
		    c->mss * 10 < 14600 ? c->mss * 10 :
		    (c->mss * 2 > 14600 ? c->mss * 2 : 14600);
		if ((c->flags & TF_SYN_BACKOFF) && c->rto < RTO_SYN_BACKOFF_NS)
			c->rto = RTO_SYN_BACKOFF_NS;
		c->tries = 0;
		c->timer_at = RT_TIME_INFINITY;
		break;
	case TCP_FIN_WAIT_2:
		/* Nothing left to send: only an orphan times out here. */
		tcp_timer(s, c, c->flags & TF_ORPHAN ?
		    now + NET_TCP_FIN_WAIT2_NS : RT_TIME_INFINITY);
		break;
	case TCP_TIME_WAIT:
		c->delack_at = RT_TIME_INFINITY;
		c->flags &= ~(TF_TIMING | TF_PERSIST);
		tcp_timer(s, c, now + 2 * s->tcp.cfg.msl_ns);
		if (!(c->flags & TF_APP))
			tcp_release(c);
		break;
	default:
		break;
	}
}

void
tcp_drop(struct net_stack *s, struct net_tcp *c, int err)
{
	if (c->state == TCP_SYN_RECEIVED && c->listener != NULL) {
		c->listener->net_half_open--;
		c->listener = NULL;
	}
	c->state = TCP_CLOSED;
	c->timer_at = c->delack_at = RT_TIME_INFINITY;
	c->flags &= ~(TF_TIMING | TF_PERSIST | TF_ACK_NOW);
	if (!(c->flags & TF_APP)) {
		tcp_kill(s, c);
		return;
	}
	/* The application learns it from its closed callback, or from
	 * recv's 0 and send's EPIPE when the close was orderly. */
	c->flags |= TF_FIN_QUEUED;
	if (err != 0) {
		c->events = TE_CLOSED;
		c->close_err = err;
	}
}

/* Calls the events gathered on (c), in the order they happened. */
void
tcp_events(struct net_stack *s, struct net_tcp *c)
{
	while (c->events != 0 && !(c->flags & TF_DEAD)) {
		const struct net_tcp_ops *ops = c->ops;

		if (c->events & TE_CLOSED) {
			int app = c->flags & TF_APP;

			c->flags &= ~TF_APP;
			c->events = 0;
			if (app && ops->closed != NULL)
				ops->closed(c, c->arg, c->close_err);
			tcp_kill(s, c);
			return;
		}
		if (c->events & TE_ACCEPT) {
			struct net_tcp_listener *l = c->listener;

			c->events &= (uint8_t)~TE_ACCEPT;
			c->listener = NULL;
			c->flags |= TF_APP;
			if (l != NULL)
				l->net_fn(l, l->net_arg, c);
			continue;
		}
		if (!(c->flags & TF_APP)) {
			c->events = 0;
			return;
		}
		if (c->events & TE_CONNECTED) {
			c->events &= (uint8_t)~TE_CONNECTED;
			if (ops->connected != NULL)
				ops->connected(c, c->arg);
		} else if (c->events & TE_WRITABLE) {
			c->events &= (uint8_t)~TE_WRITABLE;
			if (ops->writable != NULL)
				ops->writable(c, c->arg);
			else
				c->flags |= TF_WANT_WRITE;
		} else if (c->events & TE_READABLE) {
			c->events &= (uint8_t)~TE_READABLE;
			if (ops->readable != NULL)
				ops->readable(c, c->arg);
			else
				c->flags |= TF_WANT_READ;
		}
	}
}

/* RFC 6298 2.2-2.4, in nanoseconds; the minimum is ours (net.h). */
void
tcp_rto_sample(struct net_tcp *c, uint64_t r)
{
	uint64_t rto;

	/* Longer than the longest RTO: a clock read out of order (a
	 * stale time against a fresh start), not a round trip. */
	if (r > NET_TCP_RTO_MAX_NS)
		return;
	if (r == 0)
		r = 1;
	if (c->srtt == 0) {
		c->srtt = r;
		c->rttvar = r / 2;
	} else {
		uint64_t d = c->srtt > r ? c->srtt - r : r - c->srtt;

		c->rttvar = (3 * c->rttvar + d) / 4;
		c->srtt = (7 * c->srtt + r) / 8;
	}
	rto = c->srtt + (4 * c->rttvar > RTO_CLOCK_G_NS ? 4 * c->rttvar :
	    RTO_CLOCK_G_NS);
	if (rto < NET_TCP_RTO_MIN_NS)
		rto = NET_TCP_RTO_MIN_NS;
	if (rto > NET_TCP_RTO_MAX_NS)
		rto = NET_TCP_RTO_MAX_NS;
	c->rto = rto;
}

/* Room in the receive ring past rcv_nxt: what may arrive now. */
uint32_t
tcp_space(const struct net_tcp *c)
{
	return c->rsize - c->rlen;
}

/* ---- timers ---- */

uint64_t
net_tcp_poll(struct net_stack *s, uint64_t now)
{
	uint64_t next = RT_TIME_INFINITY;

	tcp_enter(s);
	while (s->tcp.nconns > 0) {
		struct net_tcp *c = s->tcp.heap[0];
		uint64_t at = tcp_earliest(c);

		if (at != c->heap_key) {
			/* Pushed back since it was keyed: put it right. */
			c->heap_key = at;
			heap_down(s, 0);
			continue;
		}
		if (at > now) {
			next = at;
			break;
		}
		/* Both handlers move their timer past (now). */
		if (c->delack_at <= now)
			tcp_send_ack(s, c, now);
		if (c->timer_at <= now) {
			c->timer_at = RT_TIME_INFINITY;
			tcp_timeout(s, c, now);
		}
		tcp_events(s, c);
	}
	tcp_leave(s);
	return next;
}

/* ---- listeners ---- */

int
net_tcp_listen(struct net_stack *s, struct net_tcp_listener *l,
    uint16_t port, unsigned backlog, net_tcp_accept_fn *fn, void *arg)
{
	if (l == NULL || fn == NULL || port == 0 || backlog < 1 ||
	    backlog > 65535)
		return -RT_EINVAL;
	for (struct net_tcp_listener *p = s->tcp.listeners; p != NULL;
	    p = p->net_next)
		if (p == l)
			return -RT_EINVAL;
	if (tcp_listener(s, port) != NULL)
		return -RT_EADDRINUSE;
	l->net_port = port;
	l->net_backlog = backlog;
	l->net_half_open = 0;
	l->net_fn = fn;
	l->net_arg = arg;
	l->net_next = s->tcp.listeners;
	s->tcp.listeners = l;
	return 0;
}

int
net_tcp_unlisten(struct net_stack *s, struct net_tcp_listener *l,
    uint64_t now_ns)
{
	struct net_tcp_listener **pp;

	for (pp = &s->tcp.listeners; *pp != NULL && *pp != l;
	    pp = &(*pp)->net_next)
		;
	if (*pp == NULL)
		return -RT_ENOENT;
	*pp = l->net_next;
	l->net_next = NULL;
	tcp_enter(s);
	for (struct net_tcp *c = s->tcp.conns; c != NULL; c = c->next) {
		if (c->listener != l || (c->flags & TF_DEAD))
			continue;
		/* In the handshake, or established and not yet accepted. */
		tcp_send_rst(s, c, c->snd_max, now_ns);
		c->flags &= ~TF_APP;
		tcp_drop(s, c, 0);
	}
	tcp_leave(s);
	return 0;
}

/* ---- active open ---- */

/* RFC 6056's third algorithm: a keyed offset per destination, then a
 * counter, so that ports are unpredictable yet rarely reused soon. */
static uint16_t
tcp_ephemeral(struct net_stack *s, uint32_t rip, uint16_t rport)
{
	uint32_t off = (uint32_t)tcp_siphash(s, (uint64_t)s->cfg.ip << 32 |
	    rip, (uint64_t)rport | (uint64_t)1 << 32);

	for (unsigned i = 0; i < EPHEMERAL_COUNT; i++) {
		uint16_t port = (uint16_t)(EPHEMERAL_FIRST +
		    (off + s->tcp.next_port++) % EPHEMERAL_COUNT);

		if (tcp_lookup(s, rip, rport, port) == NULL &&
		    tcp_listener(s, port) == NULL)
			return port;
	}
	return 0;
}

int
net_tcp_connect(struct net_stack *s, struct net_tcp **cp, uint32_t ip,
    uint16_t port, const struct net_tcp_ops *ops, void *arg, uint64_t now_ns)
{
	struct net_tcp *c;
	uint16_t lport;
	int r;

	if (cp == NULL || ops == NULL || ip == 0 || port == 0 ||
	    !net_ip_is_host(ip) || net_ip_is_broadcast(s, ip) ||
	    (ip == s->cfg.ip && ip != 0))
		return -RT_EINVAL;
	if (s->cfg.ip == 0)
		return -RT_ENETUNREACH;
	if ((lport = tcp_ephemeral(s, ip, port)) == 0)
		return -RT_EADDRINUSE;
	tcp_enter(s);
	if ((c = tcp_new(s, ip, port, lport, now_ns, &r)) == NULL) {
		tcp_leave(s);
		return r;
	}
	c->ops = ops;
	c->arg = arg;
	c->flags |= TF_APP;
	c->state = TCP_SYN_SENT;
	c->mss = NET_TCP_MSS;
	if ((r = tcp_send_syn(s, c, now_ns)) == -RT_ENETUNREACH) {
		c->flags &= ~TF_APP;
		tcp_kill(s, c);
		tcp_leave(s);
		return r;
	}
	*cp = c;
	tcp_leave(s);
	return 0;
}

void
net_tcp_set_ops(struct net_tcp *c, const struct net_tcp_ops *ops, void *arg)
{
	c->ops = ops != NULL ? ops : &no_ops;
	c->arg = arg;
}

/* ---- data ---- */

static int
tcp_synchronized(const struct net_tcp *c)
{
	return c->state != TCP_SYN_SENT && c->state != TCP_SYN_RECEIVED;
}

long
net_tcp_recv(struct net_stack *s, struct net_tcp *c, void *buf, size_t max,
    uint64_t now_ns)
{
	uint32_t n, edge;

	if (!tcp_synchronized(c))
		return -RT_ENOTCONN;
	n = c->rlen < max ? c->rlen : (uint32_t)max;
	if (n == 0) {
		if (c->flags & TF_FIN_RCVD || c->state == TCP_CLOSED)
			return 0;
		c->flags |= TF_WANT_READ;
		return -RT_EAGAIN;
	}
	tcp_ring_read(c->rbuf, c->rsize, c->rhead, buf, n);
	c->rhead = ring_pos(c->rsize, c->rhead, n);
	c->rlen -= n;
	/* A window update when the right edge moved by two segments or
	 * half the buffer (RFC 9293 3.8.6.2.2's SWS avoidance). */
	edge = c->rcv_nxt + tcp_space(c);
	if ((c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
	    c->state == TCP_FIN_WAIT_2) && !(c->flags & TF_FIN_RCVD) &&
	    seq_geq(edge, c->rcv_adv + (2 * NET_TCP_MSS < c->rsize / 2 ?
	    2 * NET_TCP_MSS : c->rsize / 2))) {
		tcp_enter(s);
		c->flags |= TF_ACK_NOW;
		tcp_output(s, c, now_ns);
		tcp_leave(s);
	}
	return (long)n;
}

size_t
net_tcp_readable(const struct net_tcp *c)
{
	return c->rlen;
}

static int
tcp_can_send(const struct net_tcp *c)
{
	return !(c->flags & TF_FIN_QUEUED) && (c->state == TCP_ESTABLISHED ||
	    c->state == TCP_CLOSE_WAIT);
}

long
net_tcp_send(struct net_stack *s, struct net_tcp *c, const void *data,
    size_t len, int flags, uint64_t now_ns)
{
	uint32_t room, n;

	if (!tcp_synchronized(c))
		return -RT_ENOTCONN;
	if (!tcp_can_send(c))
		return -RT_EPIPE;
	room = c->ssize - c->slen;
	n = len < room ? (uint32_t)len : room;
	if (n < len)
		c->flags |= TF_WANT_WRITE;
	if (n == 0 && len > 0)
		return -RT_EAGAIN;
	tcp_ring_write(c->sbuf, c->ssize, ring_pos(c->ssize, c->shead,
	    c->slen), data, n);
	c->slen += n;
	if (flags & NET_TCP_MORE)
		c->flags |= TF_MORE;
	else
		c->flags &= ~TF_MORE;
	tcp_enter(s);
	tcp_output(s, c, now_ns);
	tcp_leave(s);
	return (long)n;
}

size_t
net_tcp_writable(const struct net_tcp *c)
{
	return tcp_can_send(c) ? c->ssize - c->slen : 0;
}

/* Queues the FIN: ESTABLISHED goes to FIN_WAIT_1, CLOSE_WAIT to LAST_ACK
 * (RFC 9293 3.10.4); it leaves after the data. */
static void
tcp_queue_fin(struct net_stack *s, struct net_tcp *c, uint64_t now)
{
	if (!tcp_can_send(c))
		return;
	c->flags = (c->flags | TF_FIN_QUEUED) & ~TF_MORE;
	tcp_set_state(s, c, c->state == TCP_ESTABLISHED ? TCP_FIN_WAIT_1 :
	    TCP_LAST_ACK, now);
	tcp_output(s, c, now);
}

int
net_tcp_shutdown(struct net_stack *s, struct net_tcp *c, uint64_t now_ns)
{
	if (!tcp_synchronized(c))
		return -RT_ENOTCONN;
	tcp_enter(s);
	tcp_queue_fin(s, c, now_ns);
	tcp_leave(s);
	return 0;
}

void
net_tcp_close(struct net_stack *s, struct net_tcp *c, uint64_t now_ns)
{
	tcp_enter(s);
	c->flags = (c->flags & ~(TF_APP | TF_WANT_READ | TF_WANT_WRITE)) |
	    TF_ORPHAN;
	c->events = 0;
	switch (c->state) {
	case TCP_SYN_SENT:
	case TCP_CLOSED:
		tcp_drop(s, c, 0);
		break;
	case TCP_TIME_WAIT:
		tcp_release(c);
		break;
	default:
		if (c->rlen > 0 || c->state == TCP_SYN_RECEIVED) {
			/* Unread data would be lost silently: say so. */
			tcp_send_rst(s, c, c->snd_max, now_ns);
			tcp_drop(s, c, 0);
			break;
		}
		tcp_queue_fin(s, c, now_ns);
		if (c->state == TCP_FIN_WAIT_2)
			tcp_timer(s, c, now_ns + NET_TCP_FIN_WAIT2_NS);
		break;
	}
	tcp_leave(s);
}

void
net_tcp_abort(struct net_stack *s, struct net_tcp *c, uint64_t now_ns)
{
	tcp_enter(s);
	c->flags &= ~TF_APP;
	c->events = 0;
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
		tcp_send_rst(s, c, c->snd_max, now_ns);
		break;
	default:
		break;
	}
	tcp_drop(s, c, 0);
	tcp_leave(s);
}

void
net_tcp_info(const struct net_tcp *c, struct net_tcp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->local_ip = c->local_ip;
	info->remote_ip = c->remote_ip;
	info->local_port = c->local_port;
	info->remote_port = c->remote_port;
	info->state = c->state < sizeof(state_names) / sizeof(state_names[0]) ?
	    state_names[c->state] : "?";
	info->mss = c->mss;
	info->snd_wscale = c->snd_wscale;
	info->rcv_wscale = c->rcv_wscale;
	info->cwnd = c->cwnd;
	info->ssthresh = c->ssthresh;
	info->snd_wnd = c->snd_wnd;
	info->rcv_wnd = c->rbuf != NULL ? tcp_space(c) : 0;
	info->srtt_ns = c->srtt;
	info->rto_ns = c->rto;
	info->retransmits = c->retransmits;
	info->fast_retransmits = c->fast_retransmits;
	info->timeouts = c->timeouts;
	info->loss_probes = c->loss_probes;
	info->bytes_sent = c->bytes_sent;
	info->bytes_received = c->bytes_received;
}
