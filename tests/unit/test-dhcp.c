/*
 * test-dhcp - the DHCP client (runtime/net/dhcp.c) on the host, against a
 * server scripted here frame by frame, with a fake clock.
 *
 * What the client sends is compared byte for byte with messages this
 * file lays out from RFC 2131 section 2 (figure 1, tables 3 and 5) and
 * RFC 2132's options, wrapped in IPv4 and UDP headers whose checksums are
 * computed by tests/net/frames.h, a plain sum of its own, never by the
 * stack.  The
 * server's replies are built the same way; each validation rule gets a
 * reply that breaks it and nothing else.
 *
 * Addresses: we are 52:54:00:12:34:56; the server 192.168.7.1 at
 * 52:55:c0:a8:07:01 offers 192.168.7.50/24 with router 192.168.7.254; a
 * second server is 192.168.7.3.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "net/frames.h"
#include "tap.h"

#define SEC	RT_NSEC_PER_SEC
#define T0	(5000 * SEC)	/* the fake clock's start: not 0, on purpose */

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t srv_mac[6] = { 0x52, 0x55, 0xc0, 0xa8, 0x07, 0x01 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define SRV	0xc0a80701u
#define SRV2	0xc0a80703u
#define YIADDR	0xc0a80732u
#define ROUTER	0xc0a807feu
#define MASK	0xffffff00u
#define BCAST	0xffffffffu
#define LEASE	3600u

/* Option types and codes (RFC 2132), as the test writes them. */
enum { DISCOVER = 1, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE };

/* ---- a driver that keeps what is transmitted ---- */
#define WIRE_MAX	64
static struct {
	int n;
	size_t len[WIRE_MAX];
	uint8_t frame[WIRE_MAX][NET_FRAME_MAX];
} wire;

static uint32_t sent_xid;	/* the last DHCP message's */

static int
wire_transmit(void *arg, const void *frame, size_t len)
{
	const uint8_t *f = frame;

	(void)arg;
	if (len >= 42 + 240 && f[23] == 17 && f[35] == 68 && f[37] == 67)
		sent_xid = (uint32_t)f[46] << 24 | (uint32_t)f[47] << 16 |
		    (uint32_t)f[48] << 8 | f[49];
	if (wire.n < WIRE_MAX) {
		memcpy(wire.frame[wire.n], frame, len);
		wire.len[wire.n] = len;
	}
	wire.n++;
	return 0;
}

static struct net_stack st;
static uint64_t now;
static uint64_t next;		/* what the last net_poll() returned */

/* The callback's record. */
static int cb_n, cb_bound, cb_stop;
static struct net_config cb_cfg;

static void
on_dhcp(struct net_stack *s, void *arg, int bound,
    const struct net_config *cfg)
{
	(void)arg;
	cb_n++;
	cb_bound = bound;
	cb_cfg = *cfg;
	if (cb_stop)
		net_dhcp_stop(s, now);
}

static struct net_dhcp_info
info(void)
{
	struct net_dhcp_info i;

	net_dhcp_info(&st, &i);
	return i;
}

static void
poll_at(uint64_t t)
{
	now = t;
	next = net_poll(&st, now);
}

/* A fresh stack (seeded with (seed)), client started at T0. */
static void
start(uint64_t seed)
{
	net_fini(&st);
	memset(&wire, 0, sizeof(wire));
	if (net_init(&st, our_mac, wire_transmit, NULL) != 0)
		abort();
	net_seed(&st, seed);
	cb_n = cb_bound = cb_stop = 0;
	now = T0;
	if (net_dhcp_start(&st, on_dhcp, NULL, now) != 0)
		abort();
	next = net_poll(&st, now);
}

/* ---- what the client sent, decoded by the test ---- */

struct sent {
	const uint8_t *f;
	size_t len;
	const uint8_t *b;	/* the BOOTP message */
	size_t blen;
};

/* Frame (i) as a DHCP message from port 68 to 67; 0, or -1. */
static int
decode(int i, struct sent *m)
{
	const uint8_t *f;

	if (i < 0 || i >= wire.n || i >= WIRE_MAX)
		return -1;
	f = wire.frame[i];
	m->f = f;
	m->len = wire.len[i];
	if (m->len < 42 + 240 || f[12] != 0x08 || f[13] != 0 || f[23] != 17 ||
	    f[34] != 0 || f[35] != 68 || f[36] != 0 || f[37] != 67)
		return -1;
	m->b = f + 42;
	m->blen = (size_t)(f[38] << 8 | f[39]) - 8;
	return 0;
}

/* The last DHCP message sent, or -1. */
static int
last_msg(struct sent *m)
{
	for (int i = wire.n - 1; i >= 0; i--)
		if (decode(i, m) == 0)
			return i;
	return -1;
}

static const uint8_t *
find_opt(const struct sent *m, uint8_t code, size_t *len)
{
	size_t i = 240;

	while (i < m->blen && m->b[i] != 255) {
		if (m->b[i] == 0) {
			i++;
			continue;
		}
		if (i + 2 > m->blen)
			break;
		if (m->b[i] == code) {
			*len = m->b[i + 1];
			return m->b + i + 2;
		}
		i += 2 + (size_t)m->b[i + 1];
	}
	return NULL;
}

static int
msg_type(const struct sent *m)
{
	size_t n = 0;
	const uint8_t *v = find_opt(m, 53, &n);

	return v != NULL && n == 1 ? v[0] : -1;
}

static uint32_t
cur_xid(void)
{
	return sent_xid;
}

/*
 * Frame (i) must equal, byte for byte, the client message laid out here
 * from RFC 2131 figure 1: the (opts) given (END included), zero-padded
 * to BOOTP's 300 bytes; (xid) and the IPv4 identification are the
 * frame's own (they are the stack's to choose).
 */
static int
check_client(int i, const char *name, const uint8_t *dmac, uint32_t src,
    uint32_t dst, unsigned secs, unsigned flags, uint32_t ciaddr,
    const uint8_t *opts, size_t optlen)
{
	uint8_t want[NET_FRAME_MAX];
	uint8_t *b = want + 42;
	size_t blen = 240 + optlen < 300 ? 300 : 240 + optlen, len;
	struct sent m;
	int good;

	if (decode(i, &m) < 0) {
		ok(0, "%s: a DHCP message (frame %d of %d)", name, i, wire.n);
		return 0;
	}
	memset(b, 0, blen);
	b[0] = 1;			/* op: BOOTREQUEST */
	b[1] = 1;			/* htype: Ethernet */
	b[2] = 6;			/* hlen */
	memcpy(b + 4, m.b + 4, 4);	/* xid */
	frame_put16(b + 8, secs);
	frame_put16(b + 10, flags);
	frame_put32(b + 12, ciaddr);
	memcpy(b + 28, our_mac, 6);	/* chaddr, then 10 zeroes */
	frame_put32(b + 236, 0x63825363);	/* the magic cookie */
	memcpy(b + 240, opts, optlen);
	len = frame_udp(want, our_mac, dmac, src, dst, 68, 67,
	    (unsigned)(m.f[18] << 8 | m.f[19]), blen);
	good = m.len == len && memcmp(m.f, want, len) == 0;
	if (!ok(good, "%s: bytes as RFC 2131 lays them out", name)) {
		diag("length %zu, want %zu", m.len, len);
		for (size_t j = 0; j < len && j < m.len; j++)
			if (m.f[j] != want[j])
				diag("byte %zu: 0x%02x, want 0x%02x", j,
				    m.f[j], want[j]);
	}
	return good;
}

/* ---- the scripted server's replies ---- */

struct ropt {
	uint8_t code, len, claim;	/* claim: a false length byte */
	uint8_t v[64];
};

struct reply {
	uint8_t op, htype, hlen;
	uint32_t xid, yiaddr, cookie;
	uint8_t chaddr[16];
	uint8_t sname[64], file[128];
	struct ropt opt[16];
	int nopt, no_end;
	size_t cut;		/* non-zero: the message cut to this */
	uint32_t src, dst;
	unsigned sport;
	const uint8_t *dmac;
};

static struct ropt *
opt_find(struct reply *r, uint8_t code)
{
	for (int i = 0; i < r->nopt; i++)
		if (r->opt[i].code == code)
			return &r->opt[i];
	return NULL;
}

/* Option (code), which the reply must have. */
static struct ropt *
opt_get(struct reply *r, uint8_t code)
{
	struct ropt *o = opt_find(r, code);

	if (o == NULL)
		abort();
	return o;
}

/* Sets option (code) to (len) bytes of (v), replacing it or appending. */
static void
opt_set(struct reply *r, uint8_t code, uint8_t len, const void *v)
{
	struct ropt *o = opt_find(r, code);

	if (o == NULL)
		o = &r->opt[r->nopt++];
	o->code = code;
	o->len = len;
	o->claim = 0;
	memcpy(o->v, v, len);
}

static void
opt_set32(struct reply *r, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	frame_put32(b, v);
	opt_set(r, code, 4, b);
}

static void
opt_del(struct reply *r, uint8_t code)
{
	struct ropt *o = opt_find(r, code);

	if (o != NULL) {
		*o = r->opt[r->nopt - 1];
		r->nopt--;
	}
}

/* A sound reply of (type) to the client's current transaction. */
static void
reply_init(struct reply *r, int type)
{
	uint8_t t = (uint8_t)type;

	memset(r, 0, sizeof(*r));
	r->op = 2;
	r->htype = 1;
	r->hlen = 6;
	r->xid = cur_xid();
	r->yiaddr = type == NAK ? 0 : YIADDR;
	r->cookie = 0x63825363;
	memcpy(r->chaddr, our_mac, 6);
	r->src = SRV;
	r->dst = BCAST;
	r->sport = 67;
	r->dmac = bcast_mac;
	opt_set(r, 53, 1, &t);
	opt_set32(r, 54, SRV);
	if (type != NAK) {
		opt_set32(r, 51, LEASE);
		opt_set32(r, 1, MASK);
		opt_set32(r, 3, ROUTER);
	}
}

/* A reply of (type) from (server), unicast to the lease's address, as
 * servers answer a client that has one. */
static void
reply_to_lease(struct reply *r, int type, uint32_t server)
{
	reply_init(r, type);
	r->src = server;
	opt_set32(r, 54, server);
	r->dst = YIADDR;
	r->dmac = our_mac;
}

static size_t
reply_frame(const struct reply *r, uint8_t *f)
{
	uint8_t *b = f + 42;
	size_t n = 240;

	memset(b, 0, 240);
	b[0] = r->op;
	b[1] = r->htype;
	b[2] = r->hlen;
	frame_put32(b + 4, r->xid);
	frame_put32(b + 16, r->yiaddr);
	memcpy(b + 28, r->chaddr, 16);
	memcpy(b + 44, r->sname, 64);
	memcpy(b + 108, r->file, 128);
	frame_put32(b + 236, r->cookie);
	for (int i = 0; i < r->nopt; i++) {
		const struct ropt *o = &r->opt[i];

		b[n++] = o->code;
		b[n++] = o->claim ? o->claim : o->len;
		memcpy(b + n, o->v, o->len);
		n += o->len;
	}
	if (!r->no_end)
		b[n++] = 255;
	if (r->cut)
		n = r->cut;
	return frame_udp(f, srv_mac, r->dmac, r->src, r->dst, r->sport, 68, 7, n);
}

/* Delivers (r) at the current time and polls, as an event loop does. */
static int
deliver(const struct reply *r)
{
	uint8_t f[NET_FRAME_MAX];
	size_t len = reply_frame(r, f);
	int rx = net_input(&st, f, len, now);

	next = net_poll(&st, now);
	return rx;
}

static void
send_reply(int type)
{
	struct reply r;

	reply_init(&r, type);
	deliver(&r);
}

/* An ARP reply from the server (from (ip), at srv_mac) to us. */
static void
arp_reply_from(uint32_t ip)
{
	uint8_t f[60];

	frame_arp_reply(f, srv_mac, ip, our_mac, YIADDR);
	net_input(&st, f, sizeof(f), now);
	next = net_poll(&st, now);
}

/* An echo request from the server to (dst): what net_input() made of
 * it tells whether the stack has that address. */
static int
echo_to(uint32_t dst)
{
	uint8_t f[NET_FRAME_MAX], *icmp = f + 34;
	uint16_t c;

	memset(icmp, 0, 8);
	icmp[0] = 8;
	frame_put16(icmp + 4, 0x1234);
	c = frame_cksum(icmp, 8, NULL, 0);
	frame_put16(icmp + 2, c);
	/* frame_udp() would write UDP's header over it: IPv4 by hand. */
	memcpy(f, our_mac, 6);
	memcpy(f + 6, srv_mac, 6);
	frame_put16(f + 12, 0x0800);
	memset(f + 14, 0, 20);
	f[14] = 0x45;
	frame_put16(f + 16, 28);
	f[22] = 64;
	f[23] = 1;
	frame_put32(f + 26, SRV);
	frame_put32(f + 30, dst);
	c = frame_cksum(f + 14, 20, NULL, 0);
	frame_put16(f + 24, c);
	return net_input(&st, f, 60, now);
}

static void
nop_udp(struct net_udp *sock, void *arg, uint32_t src_ip, uint16_t src_port,
    uint32_t dst_ip, const void *data, size_t len)
{
	(void)sock;
	(void)arg;
	(void)src_ip;
	(void)src_port;
	(void)dst_ip;
	(void)data;
	(void)len;
}

/* A datagram from an application's socket to (dst):9. */
static int
send_udp(uint32_t dst)
{
	struct net_udp u;
	int r;

	memset(&u, 0, sizeof(u));
	if (net_udp_bind(&st, &u, 0, nop_udp, NULL) != 0)
		abort();
	r = net_udp_send(&st, &u, dst, 9, "x", 1, now);
	net_udp_unbind(&st, &u);
	return r;
}

/* Started, offered, requested, acknowledged: bound at T0. */
static void
bind_at_t0(uint64_t seed)
{
	start(seed);
	send_reply(OFFER);
	send_reply(ACK);
	if (strcmp(info().state, "bound") != 0)
		abort();
	wire.n = 0;
	cb_n = 0;
}

/* ---- the tests ---- */

static const uint8_t params[] = { 55, 5, 1, 3, 51, 58, 59, 57, 2, 0x05, 0xc0 };

/* Options 53 (type), 55 and 57 and END: a DISCOVER's, or a REQUEST's
 * when renewing or rebinding (no 50, no 54: table 5). */
static size_t
plain_opts(uint8_t *o, int type)
{
	size_t n = 0;

	o[n++] = 53;
	o[n++] = 1;
	o[n++] = (uint8_t)type;
	memcpy(o + n, params, sizeof(params));
	n += sizeof(params);
	o[n++] = 255;
	return n;
}

static void
test_discover_request(void)
{
	uint8_t o[64];
	size_t n;
	uint32_t xid;
	struct net_dhcp_info i;

	start(1);
	is_int(wire.n, 1, "start: one frame at once");
	is_str(info().state, "selecting", "selecting");
	/* DISCOVER: broadcast, from 0.0.0.0, the broadcast flag, our
	 * chaddr, options 53, 55, 57 (table 5). */
	n = plain_opts(o, DISCOVER);
	check_client(0, "DISCOVER", bcast_mac, 0, BCAST, 0, 0x8000, 0, o, n);
	ok(next >= T0 + 3 * SEC && next <= T0 + 5 * SEC,
	    "first retransmission in 4 s +-1 (%.3f s)",
	    (double)(next - T0) / SEC);
	xid = cur_xid();

	/* The OFFER waits for the poll; the REQUEST then goes out. */
	{
		struct reply r;
		uint8_t f[NET_FRAME_MAX];
		size_t len;

		now = T0 + 2 * SEC;
		reply_init(&r, OFFER);
		len = reply_frame(&r, f);
		is_int(net_input(&st, f, len, now), NET_RX_UDP,
		    "OFFER delivered to port 68");
		is_int(wire.n, 1, "nothing sent before the poll");
		next = net_poll(&st, now);
	}
	is_int(wire.n, 2, "REQUEST at the poll");
	n = 0;
	o[n++] = 53;
	o[n++] = 1;
	o[n++] = REQUEST;
	o[n++] = 50;
	o[n++] = 4;
	frame_put32(o + n, YIADDR);
	n += 4;
	o[n++] = 54;
	o[n++] = 4;
	frame_put32(o + n, SRV);
	n += 4;
	memcpy(o + n, params, sizeof(params));
	n += sizeof(params);
	o[n++] = 255;
	check_client(1, "REQUEST (selecting)", bcast_mac, 0, BCAST, 2, 0x8000,
	    0, o, n);
	is_int(cur_xid(), xid, "REQUEST: the OFFER's transaction");
	is_str(info().state, "requesting", "requesting");
	ok(next >= now + 3 * SEC && next <= now + 5 * SEC,
	    "REQUEST retransmitted in 4 s +-1");

	/* ACK: the stack takes the lease. */
	now = T0 + 3 * SEC;
	is_int(echo_to(YIADDR), NET_RX_UNCONFIGURED, "before the ACK: no address");
	wire.n = 0;
	send_reply(ACK);
	i = info();
	is_str(i.state, "bound", "ACK: bound");
	is_int(cb_n, 1, "callback told once");
	ok(cb_bound == 1 && cb_cfg.ip == YIADDR && cb_cfg.netmask == MASK &&
	    cb_cfg.gateway == ROUTER, "callback: bound, with the lease");
	ok(i.cfg.ip == YIADDR && i.server == SRV && i.lease_s == LEASE &&
	    i.acks == 1, "info: the lease and its server");
	/* Times count from the REQUEST (2 s), not the ACK (3 s). */
	ok(i.t1 == T0 + 2 * SEC + 1800 * SEC &&
	    i.t2 == T0 + 2 * SEC + 3150 * SEC &&
	    i.expiry == T0 + 2 * SEC + 3600 * SEC,
	    "T1 0.5, T2 0.875 of the lease, from the REQUEST");
	ok(next == i.t1, "next deadline: T1");
	/* net_configure()'s effects: the announcement, then answers. */
	ok(wire.n == 1 && wire.frame[0][12] == 0x08 &&
	    wire.frame[0][13] == 0x06 && frame_get32(wire.frame[0] + 28) == YIADDR &&
	    frame_get32(wire.frame[0] + 38) == YIADDR, "gratuitous ARP for the lease");
	is_int(echo_to(YIADDR), NET_RX_ICMP_ECHO, "echo to the lease answered");
	/* The router is the gateway: off-link traffic asks ARP for it. */
	wire.n = 0;
	is_int(send_udp(0x08080808), 0, "send off-link");
	ok(wire.n == 1 && wire.frame[0][13] == 0x06 &&
	    frame_get32(wire.frame[0] + 38) == ROUTER, "ARP for the router");
}

static int
is_arp_request_for(int i, uint32_t ip)
{
	return i < wire.n && wire.frame[i][12] == 0x08 &&
	    wire.frame[i][13] == 0x06 && wire.frame[i][21] == 1 &&
	    frame_get32(wire.frame[i] + 38) == ip;
}

static void
test_renew(void)
{
	uint8_t o[64];
	size_t n = plain_opts(o, REQUEST);
	uint64_t t1;
	uint32_t xid;
	struct net_dhcp_info i;
	struct reply r;

	bind_at_t0(2);
	t1 = info().t1;
	xid = cur_xid();
	ok(t1 == T0 + 1800 * SEC, "T1 at half the lease");
	poll_at(t1 - 1);
	is_int(wire.n, 0, "nothing before T1");
	poll_at(t1);
	is_str(info().state, "renewing", "T1: renewing");
	ok(wire.n == 1 && is_arp_request_for(0, SRV),
	    "the unicast REQUEST first asks ARP for the server");
	arp_reply_from(SRV);
	check_client(1, "REQUEST (renewing), unicast to the server", srv_mac,
	    YIADDR, SRV, 0, 0, YIADDR, o, n);
	ok(cur_xid() != xid, "a new transaction");
	ok(info().deadline == t1 + 675 * SEC,
	    "retry after half the time to T2");

	/* The ACK, unicast to us: lease extended from the REQUEST. */
	now = t1 + SEC;
	reply_to_lease(&r, ACK, SRV);
	wire.n = 0;
	is_int(deliver(&r), NET_RX_UDP, "renewal ACK delivered (unicast)");
	i = info();
	is_str(i.state, "bound", "renewed: bound");
	ok(i.t1 == t1 + 1800 * SEC && i.expiry == t1 + LEASE * SEC,
	    "renewed lease counts from the renewing REQUEST");
	is_int((long long)i.acks, 2, "two ACKs");
	is_int(cb_n, 0, "nothing changed: no callback");
	is_int(wire.n, 0, "nor reconfiguration (no gratuitous ARP)");

	/* A renewal that moves the router is applied and told. */
	poll_at(i.t1);
	arp_reply_from(SRV);
	now += SEC;
	reply_to_lease(&r, ACK, SRV);
	opt_set32(&r, 3, ROUTER - 1);
	deliver(&r);
	ok(cb_n == 1 && cb_bound == 1 && cb_cfg.gateway == ROUTER - 1,
	    "new router: callback with it");
	ok(is_arp_request_for(wire.n - 1, YIADDR),
	    "and the stack reconfigured (gratuitous ARP)");
}

static void
test_rebind(void)
{
	uint8_t o[64];
	size_t n = plain_opts(o, REQUEST);
	uint64_t t1, t2, prev, want;
	int good = 1, steps = 0;
	struct net_dhcp_info i;
	struct reply r;

	bind_at_t0(3);
	t1 = info().t1;
	t2 = info().t2;
	/* RENEWING retries: half the time left, at least 60 s, up to T2. */
	poll_at(t1);
	prev = t1;
	while (strcmp(info().state, "renewing") == 0 && steps++ < 20) {
		uint64_t d = info().deadline, left = t2 - prev, wait = left / 2;

		if (wait < 60 * SEC)
			wait = 60 * SEC;
		want = wait < left ? prev + wait : t2;
		if (d != want) {
			diag("retry %d at %+.3f s, want %+.3f s", steps,
			    (double)(d - t1) / SEC,
			    (double)(want - t1) / SEC);
			good = 0;
		}
		prev = d;
		/* ARP's retries for the unicast ones come between. */
		do
			poll_at(next < d ? next : d);
		while (now < d);
	}
	ok(good && steps == 6, "renewing retries by RFC 2131 4.4.5 (%d)",
	    steps);
	is_str(info().state, "rebinding", "T2: rebinding");
	check_client(wire.n - 1, "REQUEST (rebinding), broadcast", bcast_mac,
	    YIADDR, BCAST, 1350, 0, YIADDR, o, n);
	ok(info().deadline == t2 + 225 * SEC,
	    "retry after half the time to expiry");

	/* Any server may answer now. */
	now = t2 + 10 * SEC;
	reply_to_lease(&r, ACK, SRV2);
	deliver(&r);
	i = info();
	ok(strcmp(i.state, "bound") == 0 && i.server == SRV2,
	    "rebound, to the server that answered");
	ok(i.expiry == t2 + LEASE * SEC, "lease from the rebinding REQUEST");

	/* While renewing, only our server's ACK counts. */
	poll_at(i.t1);
	arp_reply_from(SRV2);
	reply_to_lease(&r, ACK, SRV);
	deliver(&r);
	ok(strcmp(info().state, "renewing") == 0 &&
	    info().unexpected == 1, "renewing: another server's ACK ignored");
}

static void
test_expiry(void)
{
	int steps = 0;
	uint64_t expiry;
	uint32_t xid;
	struct sent m;

	bind_at_t0(4);
	expiry = info().expiry;
	xid = cur_xid();
	/* No server answers; poll at each deadline. */
	while (strcmp(info().state, "selecting") != 0 && steps++ < 60)
		poll_at(next);
	ok(now == expiry, "lost exactly at expiry (%+.3f s)",
	    ((double)now - (double)expiry) / SEC);
	ok(cb_n == 1 && cb_bound == 0 && cb_cfg.ip == YIADDR,
	    "callback: lost, with the old lease");
	is_int(echo_to(YIADDR), NET_RX_UNCONFIGURED, "stack unconfigured");
	ok(last_msg(&m) == wire.n - 1 && msg_type(&m) == DISCOVER &&
	    frame_get32(m.f + 26) == 0 && frame_get32(m.f + 30) == BCAST,
	    "DISCOVER again, from 0.0.0.0");
	ok(cur_xid() != xid, "with a new transaction");
	ok(next > now && next <= now + 5 * SEC, "and its back-off");
	is_int((long long)info().cfg.ip, 0, "info: no lease");

	/* A clock that jumps past T1, T2 and the expiry at once. */
	bind_at_t0(5);
	poll_at(info().expiry + 10 * SEC);
	is_str(info().state, "selecting", "jump past expiry: selecting");
	ok(cb_n == 1 && cb_bound == 0, "loss told once");
	ok(next > now, "deadline ahead after the jump");
	ok(last_msg(&m) >= 0 && msg_type(&m) == DISCOVER, "DISCOVER sent");
	is_int(echo_to(YIADDR), NET_RX_UNCONFIGURED, "unconfigured");
}

static void
test_nak(void)
{
	uint32_t xid;
	struct reply r;
	struct sent m;

	start(6);
	send_reply(OFFER);
	xid = cur_xid();
	wire.n = 0;
	reply_init(&r, NAK);
	r.src = SRV2;
	opt_set32(&r, 54, SRV2);
	deliver(&r);
	ok(strcmp(info().state, "requesting") == 0 && wire.n == 0,
	    "NAK from another server: ignored");
	send_reply(NAK);
	is_str(info().state, "selecting", "NAK: back to selecting");
	ok(wire.n == 1 && decode(0, &m) == 0 && msg_type(&m) == DISCOVER,
	    "DISCOVER at once");
	ok(cur_xid() != xid, "new transaction");
	is_int(cb_n, 0, "never bound: no callback");

	bind_at_t0(7);
	poll_at(info().t1);
	arp_reply_from(SRV);
	wire.n = 0;
	now += SEC;
	reply_to_lease(&r, NAK, SRV);
	deliver(&r);
	is_str(info().state, "selecting", "NAK while renewing: selecting");
	ok(cb_n == 1 && cb_bound == 0, "lease lost, told");
	is_int(echo_to(YIADDR), NET_RX_UNCONFIGURED, "stack unconfigured");
	ok(last_msg(&m) >= 0 && msg_type(&m) == DISCOVER, "DISCOVER sent");
}

/* The first wait of a client seeded with (seed), and its xid. */
static uint64_t
first_wait(uint64_t seed, uint32_t *xid)
{
	start(seed);
	*xid = cur_xid();
	return next - T0;
}

static void
test_backoff(void)
{
	static const unsigned base[] = { 4, 8, 16, 32, 64, 64, 64 };
	uint64_t prev, w[8];
	uint32_t xid, x[8];
	int good = 1, quiet = 1, same = 1, distinct = 1;

	start(8);
	xid = cur_xid();
	prev = T0;
	for (int k = 0; k < 7; k++) {
		uint64_t gap = next - prev;
		struct sent m;
		int before;

		if (gap < (base[k] - 1) * SEC || gap > (base[k] + 1) * SEC) {
			diag("wait %d: %.3f s, want %u +-1", k,
			    (double)gap / SEC, base[k]);
			good = 0;
		}
		prev = next;
		before = wire.n;
		poll_at(prev - 1);
		quiet &= wire.n == before;
		poll_at(prev);
		if (wire.n != before + 1 || last_msg(&m) != before ||
		    msg_type(&m) != DISCOVER || frame_get32(m.b + 4) != xid ||
		    (m.b[8] << 8 | m.b[9]) != (int)((now - T0) / SEC)) {
			diag("retransmission %d: %d frames, type %d", k,
			    wire.n - before, msg_type(&m));
			good = 0;
		}
	}
	ok(good, "DISCOVER retransmitted after 4, 8, 16, 32, 64, 64, 64 s "
	    "+-1, same xid, secs counting");
	ok(quiet, "nothing a nanosecond early");

	for (int k = 0; k < 8; k++) {
		w[k] = first_wait((uint64_t)k * 0x1000193 + 11, &x[k]);
		for (int j = 0; j < k; j++)
			distinct &= x[j] != x[k];
		if (k > 0)
			same &= w[k] == w[0];
	}
	ok(!same, "the first wait varies with the seed");
	ok(distinct, "so does the xid");
	{
		uint32_t x2;

		ok(first_wait(11, &x2) == w[0] && x2 == x[0],
		    "one seed, one sequence");
	}

	/* REQUEST: NET_DHCP_REQUEST_TRIES in all, then discovery again. */
	start(9);
	send_reply(OFFER);
	xid = cur_xid();
	prev = now;
	good = 1;
	for (int k = 0; k < NET_DHCP_REQUEST_TRIES; k++) {
		uint64_t gap = next - prev;
		struct sent m;

		if (gap < (base[k] - 1) * SEC || gap > (base[k] + 1) * SEC)
			good = 0;
		prev = next;
		poll_at(prev);
		if (last_msg(&m) < 0 || (k < NET_DHCP_REQUEST_TRIES - 1 &&
		    (msg_type(&m) != REQUEST || frame_get32(m.b + 4) != xid)))
			good = 0;
	}
	ok(good, "REQUEST retransmitted after 4, 8, 16, 32 s +-1, then 64");
	{
		struct sent m;

		ok(last_msg(&m) >= 0 && msg_type(&m) == DISCOVER &&
		    frame_get32(m.b + 4) != xid && strcmp(info().state,
		    "selecting") == 0, "unanswered: discovery again");
	}
}

/* Breaks rule (k) of an OFFER; its name, or NULL past the last. */
static const char *
breaking(struct reply *r, int k)
{
	static const uint8_t dup_type[] = { 2 }, two[] = { 2, 2 };
	struct ropt *o;

	switch (k) {
	case 0: r->op = 1; return "op BOOTREQUEST";
	case 1: r->htype = 6; return "htype 6";
	case 2: r->hlen = 16; return "hlen 16";
	case 3: r->xid ^= 1; return "another xid";
	case 4: r->chaddr[5] ^= 1; return "another chaddr";
	case 5: r->cookie ^= 0x100; return "magic cookie";
	case 6: r->cut = 239; r->nopt = 0; return "cut before the cookie ends";
	case 7: r->no_end = 1; return "no END option";
	case 8:
		r->no_end = 1;
		opt_get(r, 3)->claim = 200;
		return "an option past the end";
	case 9: opt_del(r, 53); return "no message type";
	case 10: opt_set(r, 53, 2, two); return "message type length 2";
	case 11: *opt_get(r, 53)->v = DECLINE; return "message type DECLINE";
	case 12: *opt_get(r, 53)->v = 9; return "message type 9";
	case 13: opt_del(r, 54); return "no server identifier";
	case 14: opt_get(r, 54)->len = 3; return "server identifier length 3";
	case 15: opt_set32(r, 54, 0); return "server identifier 0.0.0.0";
	case 16: opt_set32(r, 54, BCAST); return "server identifier broadcast";
	case 17: opt_set32(r, 54, 0x7f000001); return "server identifier loopback";
	case 18: opt_del(r, 51); return "no lease time";
	case 19: opt_get(r, 51)->len = 2; return "lease time length 2";
	case 20:
		opt_set32(r, 51, NET_DHCP_LEASE_MIN - 1);
		return "lease under NET_DHCP_LEASE_MIN";
	case 21: opt_get(r, 1)->len = 3; return "mask length 3";
	case 22: opt_set32(r, 1, 0xff00ff00); return "mask not contiguous";
	case 23: r->yiaddr = 0; return "yiaddr 0";
	case 24: r->yiaddr = BCAST; return "yiaddr broadcast";
	case 25: r->yiaddr = 0xe0000005; return "yiaddr multicast";
	case 26: r->yiaddr = 0x7f000002; return "yiaddr loopback";
	case 27: r->yiaddr = 0xc0a807ff; return "yiaddr the subnet's broadcast";
	case 28: r->yiaddr = 0xc0a80700; return "yiaddr the subnet's network";
	case 29: r->yiaddr = SRV; return "yiaddr the server's";
	case 30:
		o = &r->opt[r->nopt++];
		o->code = 53;
		o->len = 1;
		memcpy(o->v, dup_type, 1);
		return "message type twice";
	case 31: opt_get(r, 3)->len = 5; return "router length 5";
	case 32: opt_get(r, 58)->len = 3; return "T1 length 3";
	case 33: r->sport = 68; return "from port 68";
	case 34: opt_set(r, 52, 1, "\x04"); return "overload 4";
	case 35:
		opt_set(r, 52, 1, "\x01");
		memset(r->file, 6, sizeof(r->file));	/* no END in file */
		return "overload: file without END";
	case 36: opt_set(r, 52, 2, two); return "overload length 2";
	case 37: opt_set32(r, 51, 0); return "lease 0";
	default: return NULL;
	}
}

static void
test_rejects(void)
{
	struct reply r;
	const char *name;
	uint64_t rejected;
	int n;

	start(10);
	for (int k = 0; (reply_init(&r, OFFER), opt_set32(&r, 58, 100),
	    name = breaking(&r, k)) != NULL; k++) {
		rejected = info().rejected;
		n = wire.n;
		deliver(&r);
		ok(info().rejected == rejected + 1 && wire.n == n &&
		    strcmp(info().state, "selecting") == 0,
		    "rejected: %s", name);
	}
	/* Each rule broken alone: the same OFFER unbroken is taken. */
	reply_init(&r, OFFER);
	opt_set32(&r, 58, 100);
	deliver(&r);
	is_str(info().state, "requesting", "the sound OFFER is taken");
	is_int((long long)info().unexpected, 0, "none counted unexpected");

	/* A NAK is checked too. */
	reply_init(&r, NAK);
	opt_del(&r, 54);
	deliver(&r);
	is_str(info().state, "requesting", "NAK without server: ignored");
	reply_init(&r, ACK);
	r.xid ^= 0x80000000;
	deliver(&r);
	is_str(info().state, "requesting", "ACK for another xid: ignored");
}

static void
test_accepts(void)
{
	struct reply r;
	struct net_dhcp_info i;
	uint8_t *f;

	/* A router outside the subnet is no gateway. */
	start(11);
	send_reply(OFFER);
	reply_init(&r, ACK);
	opt_set32(&r, 3, 0x0a000001);
	deliver(&r);
	ok(strcmp(info().state, "bound") == 0 && cb_cfg.gateway == 0,
	    "router off the subnet: bound, no gateway");
	/* Several routers: the first. */
	start(12);
	send_reply(OFFER);
	reply_init(&r, ACK);
	opt_set(&r, 3, 8, "\xc0\xa8\x07\x02\xc0\xa8\x07\x03");
	deliver(&r);
	ok(cb_cfg.gateway == 0xc0a80702, "two routers: the first");
	/* No mask: the address's class. */
	start(13);
	reply_init(&r, OFFER);
	r.yiaddr = 0x0a010203;
	opt_del(&r, 1);
	deliver(&r);
	reply_init(&r, ACK);
	r.yiaddr = 0x0a010203;
	opt_del(&r, 1);
	deliver(&r);
	ok(cb_n == 1 && cb_cfg.ip == 0x0a010203 &&
	    cb_cfg.netmask == 0xff000000 && cb_cfg.gateway == 0,
	    "no mask: class A's /8 (and the router off it ignored)");
	/* Options overloaded into file and sname, pads, unknown options. */
	start(14);
	send_reply(OFFER);
	reply_init(&r, ACK);
	opt_del(&r, 51);
	opt_del(&r, 1);
	opt_set(&r, 52, 1, "\x03");
	opt_set(&r, 6, 4, "\x01\x01\x01\x01");
	f = r.file;
	*f++ = 0;
	*f++ = 51;
	*f++ = 4;
	frame_put32(f, 600);
	f += 4;
	*f++ = 252;
	*f++ = 0;
	*f = 255;
	f = r.sname;
	*f++ = 1;
	*f++ = 4;
	frame_put32(f, 0xffff0000);
	f[4] = 255;
	deliver(&r);
	i = info();
	ok(strcmp(i.state, "bound") == 0 && i.lease_s == 600 &&
	    cb_cfg.netmask == 0xffff0000,
	    "overloaded options read from file and sname");
	/* T1 and T2 as given; absurd ones replaced. */
	start(15);
	send_reply(OFFER);
	reply_init(&r, ACK);
	opt_set32(&r, 58, 100);
	opt_set32(&r, 59, 200);
	deliver(&r);
	i = info();
	ok(i.t1_s == 100 && i.t2_s == 200 && i.t1 == T0 + 100 * SEC &&
	    i.t2 == T0 + 200 * SEC, "T1 and T2 from options 58 and 59");
	start(16);
	send_reply(OFFER);
	reply_init(&r, ACK);
	opt_set32(&r, 58, 3200);
	opt_set32(&r, 59, LEASE);
	deliver(&r);
	i = info();
	ok(i.t1_s == 1800 && i.t2_s == 3150,
	    "T2 not before the expiry, T1 after T2: defaults");
	/* An infinite lease sets no timer. */
	start(17);
	send_reply(OFFER);
	reply_init(&r, ACK);
	opt_set32(&r, 51, 0xffffffff);
	deliver(&r);
	ok(strcmp(info().state, "bound") == 0 && next == RT_TIME_INFINITY &&
	    info().expiry == RT_TIME_INFINITY, "infinite lease: no deadline");
	/* Valid but not awaited. */
	start(18);
	send_reply(ACK);
	ok(strcmp(info().state, "selecting") == 0 && info().unexpected == 1,
	    "ACK while selecting: unexpected");
	send_reply(OFFER);
	send_reply(OFFER);
	ok(strcmp(info().state, "requesting") == 0 && info().unexpected == 2,
	    "OFFER while requesting: unexpected");
	reply_init(&r, ACK);
	r.yiaddr = YIADDR + 1;
	deliver(&r);
	reply_init(&r, ACK);
	r.src = SRV2;
	opt_set32(&r, 54, SRV2);
	deliver(&r);
	ok(strcmp(info().state, "requesting") == 0 && info().unexpected == 4,
	    "ACK for another address, or from another server: unexpected");
	/* Two offers before a poll: the first. */
	start(19);
	{
		uint8_t fr[NET_FRAME_MAX];
		size_t len;
		struct sent m;
		size_t n = 0;
		const uint8_t *v;

		reply_init(&r, OFFER);
		r.src = SRV2;
		opt_set32(&r, 54, SRV2);
		len = reply_frame(&r, fr);
		net_input(&st, fr, len, now);
		reply_init(&r, OFFER);
		len = reply_frame(&r, fr);
		net_input(&st, fr, len, now);
		poll_at(now);
		ok(last_msg(&m) >= 0 && msg_type(&m) == REQUEST &&
		    (v = find_opt(&m, 54, &n)) != NULL && n == 4 &&
		    frame_get32(v) == SRV2, "two offers: the first is requested");
	}
}

static void
test_stop(void)
{
	uint8_t o[] = { 53, 1, RELEASE, 54, 4, 0xc0, 0xa8, 0x07, 0x01, 255 };
	struct net_udp u;

	net_fini(&st);
	net_init(&st, our_mac, wire_transmit, NULL);
	is_int(net_dhcp_stop(&st, T0), -RT_ENOENT, "stop: not running");
	memset(&u, 0, sizeof(u));
	net_udp_bind(&st, &u, 68, nop_udp, NULL);
	is_int(net_dhcp_start(&st, NULL, NULL, T0), -RT_EADDRINUSE,
	    "start: port 68 taken");
	net_udp_unbind(&st, &u);
	is_int(net_dhcp_start(&st, NULL, NULL, T0), 0, "start, no callback");
	is_int(net_dhcp_start(&st, NULL, NULL, T0), -RT_EINVAL, "start twice");
	is_int(net_dhcp_stop(&st, T0), 0, "stop while selecting");
	is_str(info().state, "off", "off");
	is_int(net_udp_bind(&st, &u, 68, nop_udp, NULL), 0, "port 68 free");
	net_udp_unbind(&st, &u);
	{
		struct net_config c;

		net_config_parse(&c, "ip=10.0.0.5/24");
		net_configure(&st, &c, T0);
		is_int(net_dhcp_start(&st, NULL, NULL, T0), -RT_EINVAL,
		    "start on a configured stack");
	}

	/* Bound, the server's MAC known: the RELEASE leaves at once. */
	bind_at_t0(20);
	arp_reply_from(SRV);
	wire.n = 0;
	now += SEC;
	is_int(net_dhcp_stop(&st, now), 0, "stop when bound");
	check_client(0, "RELEASE", srv_mac, YIADDR, SRV, 0, 0, YIADDR, o,
	    sizeof(o));
	is_str(info().state, "off", "off at once");
	is_int(echo_to(YIADDR), NET_RX_UNCONFIGURED, "address given up");
	is_int(cb_n, 0, "stop calls no callback");
	is_int(net_dhcp_stop(&st, now), -RT_ENOENT, "stop twice");

	/* Not known: the address stays until ARP lets the RELEASE go. */
	bind_at_t0(21);
	now += SEC;
	net_dhcp_stop(&st, now);
	ok(wire.n == 1 && is_arp_request_for(0, SRV), "RELEASE waits for ARP");
	is_str(info().state, "releasing", "releasing");
	is_int(echo_to(YIADDR), NET_RX_ICMP_ECHO, "address still answers");
	is_int(net_dhcp_stop(&st, now), -RT_ENOENT, "stop while releasing");
	arp_reply_from(SRV);
	check_client(1, "RELEASE after ARP", srv_mac, YIADDR, SRV, 0, 0,
	    YIADDR, o, sizeof(o));
	is_str(info().state, "off", "then off");
	is_int(echo_to(YIADDR), NET_RX_UNCONFIGURED, "and unconfigured");

	/* ARP never answers: given up after NET_ARP_TRIES seconds. */
	bind_at_t0(22);
	net_dhcp_stop(&st, now);
	poll_at(now + NET_ARP_TRIES * NET_ARP_RETRY_NS - 1);
	is_str(info().state, "releasing", "releasing until ARP gives up");
	poll_at(now + 1);
	ok(strcmp(info().state, "off") == 0 && echo_to(YIADDR) ==
	    NET_RX_UNCONFIGURED, "then off, unconfigured");
	ok(next == RT_TIME_INFINITY, "no deadline left");

	/* Starting again cuts a release short. */
	bind_at_t0(23);
	net_dhcp_stop(&st, now);
	is_int(net_dhcp_start(&st, on_dhcp, NULL, now), 0,
	    "start while releasing");
	ok(strcmp(info().state, "selecting") == 0 &&
	    echo_to(YIADDR) == NET_RX_UNCONFIGURED, "unconfigured, selecting");

	/* A callback that stops the client. */
	start(24);
	cb_stop = 1;
	send_reply(OFFER);
	send_reply(ACK);
	ok(cb_n == 1 && cb_bound == 1 &&
	    strcmp(info().state, "releasing") == 0,
	    "stopped from the callback: releasing");
	poll_at(now + 10 * SEC);
	is_str(info().state, "off", "and off");

	/* net_fini() forgets a running client. */
	start(25);
	net_fini(&st);
	net_init(&st, our_mac, wire_transmit, NULL);
	is_str(info().state, "off", "net_fini: off");
}

static void
test_counters(void)
{
	const struct net_stats *s = net_stats(&st);
	uint64_t sum = 0;

	for (int i = 0; i < NET_RX_COUNT; i++)
		sum += s->rx[i];
	ok(sum == s->rx_frames, "counters sum to the frames received");
}

int
main(void)
{
	test_discover_request();
	test_renew();
	test_rebind();
	test_expiry();
	test_nak();
	test_backoff();
	test_rejects();
	test_counters();
	test_accepts();
	test_stop();
	net_fini(&st);
	return tap_done();
}
