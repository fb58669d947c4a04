/*
 * test-tcp - the network stack's TCP (runtime/net/tcp*.c) on the host,
 * with a fake clock: crafted segments in, what the stack transmits
 * checked field by field (byte for byte for RSTs and SYN-ACKs), then two
 * stacks wired back to back moving megabytes through loss, duplication
 * and reordering.
 *
 * The expected frames below were written out from RFC 9293's and RFC
 * 791's layouts with a separate implementation (Python's struct and a
 * ones'-complement sum of its own); checksums of what the stack sends
 * are verified with this file's own RFC 1071 routine, never the stack's.
 *
 * Addresses: we are 52:54:00:12:34:56, 10.0.2.15/24; the peer whose
 * segments are crafted is 52:55:0a:00:02:02, 10.0.2.2.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "tap.h"
#include "net-test.h"

/* ---- expected frames ---- */
/* RST|ACK for a SYN (seq 0x01020304) from 10.0.2.2:40000 to port 81. */
static const uint8_t rst_syn_want[60] = {
	0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x40, 0x06,
	0x62, 0xc0, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x51,
	0x9c, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x05, 0x50, 0x14,
	0x00, 0x00, 0xf7, 0x27, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* RST for an ACK (ack 0xa0b0c0d0) to port 81: its sequence number. */
static const uint8_t rst_ack_want[60] = {
	0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x40, 0x06,
	0x62, 0xc0, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x51,
	0x9c, 0x40, 0xa0, 0xb0, 0xc0, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x50, 0x04,
	0x00, 0x00, 0x99, 0xbd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* SYN-ACK from port 80 to 40001 answering Linux's SYN (seq 0x11223344,
 * linux_syn_opts): MSS 1460, NOP NOP SACK-permitted, NOP NOP timestamps
 * (TSecr the SYN's TSval 0x00010203), NOP, shift 1 (64 KiB), window 65535.
 * Its sequence number (bytes 38-41) is the stack's ISN, its TSval (66-69)
 * the stack's clock, and the TCP checksum (50-51) depends on both: they
 * are filled in before comparing. */
static const uint8_t synack_want[78] = {
	0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x40, 0x06,
	0x62, 0xa8, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x50,
	0x9c, 0x41, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x45, 0xb0, 0x12,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01,
	0x04, 0x02, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x02, 0x03, 0x01, 0x03, 0x03, 0x01,
};
/* The same to port 40002 for a SYN without window scale: MSS only. */
static const uint8_t synack_nows_want[60] = {
	0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x06,
	0x62, 0xbc, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x50,
	0x9c, 0x42, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x45, 0x60, 0x12,
	0xff, 0xff, 0x9f, 0x0c, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x00, 0x00,
};
/* Linux's SYN options: MSS 1460, SACK permitted, timestamps, NOP, WS 7. */
static const uint8_t linux_syn_opts[20] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01, 0x02, 0x03,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

#define SEC	RT_NSEC_PER_SEC
#define MS	RT_NSEC_PER_MSEC
#define T0	(1000 * SEC)	/* the fake clock's start: not 0, on purpose */
#define SYN	0x02
#define FIN	0x01
#define RST	0x04
#define PSH	0x08
#define ACK	0x10

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint32_t our_ip = 0x0a00020f, peer_ip = 0x0a000202;

/* ---- the reference checksum, RFC 1071 as plainly as it can be ---- */
static uint16_t
ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2) {
		uint32_t w = (uint32_t)p[i] << 8;

		if (i + 1 < len)
			w |= p[i + 1];
		sum += w;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

/* The TCP checksum of the IPv4 packet (ip) as it should be. */
static uint16_t
ref_tcp_cksum(const uint8_t *ip, size_t tcplen)
{
	uint8_t ph[12];
	uint8_t *seg = malloc(tcplen);
	uint16_t sum;

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(tcplen >> 8);
	ph[11] = (uint8_t)tcplen;
	memcpy(seg, ip + 20, tcplen);
	seg[16] = seg[17] = 0;
	sum = (uint16_t)~ref_sum(seg, tcplen, ref_sum(ph, 12, 0));
	free(seg);
	return sum;
}

/* ---- a driver that keeps what is transmitted ---- */
#define SINK_MAX	512
struct sink {
	int n;
	size_t len[SINK_MAX];
	uint8_t frame[SINK_MAX][NET_FRAME_MAX];
};

static struct net_stack st;
static struct sink sink;

static int
sink_transmit(void *arg, const void *frame, size_t len)
{
	struct sink *k = arg;

	if (k->n < SINK_MAX && len <= NET_FRAME_MAX) {
		memcpy(k->frame[k->n], frame, len);
		k->len[k->n] = len;
	}
	k->n++;
	return 0;
}

/* A sent segment, parsed; valid when the frame is TCP/IPv4 from us to
 * the peer with both checksums right by the reference. */
struct seg {
	int valid;
	uint16_t sport, dport, wnd;
	uint32_t seq, ack;
	uint8_t flags;
	size_t dlen, optlen;
	const uint8_t *data, *opt;
};

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static struct seg
seg_at(int i)
{
	struct seg g;
	const uint8_t *f, *ip, *th;
	size_t tot;

	memset(&g, 0, sizeof(g));
	if (i >= sink.n || i >= SINK_MAX)
		return g;
	f = sink.frame[i];
	ip = f + 14;
	th = ip + 20;
	if (f[12] != 0x08 || f[13] != 0 || ip[0] != 0x45 || ip[9] != 6 ||
	    memcmp(f, peer_mac, 6) != 0 || memcmp(f + 6, our_mac, 6) != 0)
		return g;
	tot = (size_t)(ip[2] << 8 | ip[3]);
	if (tot < 40 || tot + 14 > sink.len[i] || ref_sum(ip, 20, 0) != 0xffff)
		return g;
	if ((uint16_t)(th[16] << 8 | th[17]) != ref_tcp_cksum(ip, tot - 20))
		return g;
	g.sport = (uint16_t)(th[0] << 8 | th[1]);
	g.dport = (uint16_t)(th[2] << 8 | th[3]);
	g.seq = get32(th + 4);
	g.ack = get32(th + 8);
	g.flags = th[13];
	g.wnd = (uint16_t)(th[14] << 8 | th[15]);
	g.opt = th + 20;
	g.optlen = (size_t)(th[12] >> 4) * 4 - 20;
	g.data = th + 20 + g.optlen;
	g.dlen = tot - 40 - g.optlen;
	g.valid = 1;
	return g;
}

/* ---- crafted input ---- */

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* An Ethernet frame carrying TCP from 10.0.2.2:(sport) to us. */
static size_t
mk_frame(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opt,
    size_t optlen, const void *data, size_t dlen)
{
	uint8_t *ip = f + 14, *th = ip + 20;
	size_t tcplen = 20 + optlen + dlen, len = 14 + 20 + tcplen;

	memset(f, 0, len < 60 ? 60 : len);
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	put16(ip + 2, (uint32_t)(20 + tcplen));
	put16(ip + 4, 1);
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, peer_ip);
	put32(ip + 16, our_ip);
	put16(ip + 10, (uint16_t)~ref_sum(ip, 20, 0));
	put16(th, sport);
	put16(th + 2, dport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (uint8_t)((20 + optlen) / 4 << 4);
	th[13] = flags;
	put16(th + 14, wnd);
	if (optlen)
		memcpy(th + 20, opt, optlen);
	if (dlen)
		memcpy(th + 20 + optlen, data, dlen);
	put16(th + 16, ref_tcp_cksum(ip, tcplen));
	return len < 60 ? 60 : len;
}

/* The crafted peer of one connection: what it sends next, what it has. */
struct peer {
	uint16_t port, our_port;
	uint32_t seq, ack;
	uint16_t wnd;
};

static int
peer_send(struct peer *p, uint8_t flags, const void *data, size_t dlen,
    uint64_t now)
{
	static uint8_t f[NET_FRAME_MAX + 64];
	size_t len = mk_frame(f, p->port, p->our_port, p->seq, p->ack, flags,
	    p->wnd, NULL, 0, data, dlen);

	p->seq += (uint32_t)dlen + (flags & SYN ? 1 : 0) +
	    (flags & FIN ? 1 : 0);
	return net_input(&st, f, len, now);
}

/* The same, at an explicit sequence number, (p) unchanged. */
static int
peer_send_at(struct peer *p, uint32_t seq, uint8_t flags, const void *data,
    size_t dlen, uint64_t now)
{
	static uint8_t f[NET_FRAME_MAX + 64];
	size_t len = mk_frame(f, p->port, p->our_port, seq, p->ack, flags,
	    p->wnd, NULL, 0, data, dlen);

	return net_input(&st, f, len, now);
}

static void
learn_peer(uint64_t now)
{
	uint8_t f[60];

	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	f[15] = 1;
	f[16] = 0x08;
	f[18] = 6;
	f[19] = 4;
	f[21] = 1;
	memcpy(f + 22, peer_mac, 6);
	put32(f + 28, peer_ip);
	put32(f + 38, our_ip);
	net_input(&st, f, 60, now);
}

/* A configured stack that knows the peer's MAC, an empty sink. */
static void
setup(void)
{
	struct net_config cfg;

	net_fini(&st);
	memset(&sink, 0, sizeof(sink));
	if (net_init(&st, our_mac, sink_transmit, &sink) != 0 ||
	    net_config_parse(&cfg, "ip=10.0.2.15/24 gw=10.0.2.1") != 0 ||
	    net_configure(&st, &cfg, T0) != 0)
		abort();
	net_seed(&st, 0x0123456789abcdefull);
	learn_peer(T0);
	sink.n = 0;
	st.ip_id = 0;
}

static void
expect_rx(int got, int want, const char *name)
{
	if (!ok(got == want, "%s: %s", name, net_rx_name(want)))
		diag("got %s", net_rx_name(got));
}

static int
frame_is(int i, const uint8_t *want, size_t len, const char *name)
{
	int k = i < SINK_MAX ? i : 0;

	return frame_matches(i < SINK_MAX ? i : sink.n, sink.n,
	    sink.frame[k], sink.len[k], want, len, name);
}

/* ---- an application that records what happens ---- */
struct app {
	struct net_tcp *c;
	int accepted, connected, readable, writable, closed, err;
	int autoread;		/* read everything in readable() */
	int eof;
	size_t got;
	uint8_t buf[1 << 16];
};

static struct app app;

static void
app_readable(struct net_tcp *c, void *arg)
{
	struct app *a = arg;
	long n;

	a->readable++;
	if (!a->autoread)
		return;
	while ((n = net_tcp_recv(&st, c, a->buf + a->got % sizeof(a->buf),
	    sizeof(a->buf) - a->got % sizeof(a->buf), T0)) > 0)
		a->got += (size_t)n;
	if (n == 0)
		a->eof = 1;
}

static void
app_writable(struct net_tcp *c, void *arg)
{
	((struct app *)arg)->writable++;
}

static void
app_connected(struct net_tcp *c, void *arg)
{
	((struct app *)arg)->connected++;
}

static void
app_closed(struct net_tcp *c, void *arg, int err)
{
	struct app *a = arg;

	a->closed++;
	a->err = err;
	a->c = NULL;
}

static const struct net_tcp_ops app_ops = {
	.connected = app_connected,
	.readable = app_readable,
	.writable = app_writable,
	.closed = app_closed,
};

static void
app_accept(struct net_tcp_listener *l, void *arg, struct net_tcp *c)
{
	struct app *a = arg;

	a->accepted++;
	a->c = c;
	net_tcp_set_ops(c, &app_ops, a);
}

static void
app_reset(int autoread)
{
	memset(&app, 0, sizeof(app));
	app.autoread = autoread;
}

static struct net_tcp_info
info(const struct net_tcp *c)
{
	struct net_tcp_info i;

	net_tcp_info(c, &i);
	return i;
}

/*
 * An established connection, through the listener on port 80, with the
 * crafted peer (port (pport), window scale (ws) or none when < 0, its window
 * field (wnd)); the peer's state in (p), our ISN returned.
 */
static struct net_tcp_listener lis;

static uint32_t
establish(struct peer *p, uint16_t pport, int ws, uint16_t wnd, uint64_t now)
{
	static uint8_t f[128];
	uint8_t opt[8] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 0 };
	size_t len;
	struct seg g;

	opt[7] = (uint8_t)(ws < 0 ? 0 : ws);
	memset(p, 0, sizeof(*p));
	p->port = pport;
	p->our_port = 80;
	p->seq = 0x11223344;
	p->wnd = wnd;
	sink.n = 0;
	len = mk_frame(f, pport, 80, p->seq, 0, SYN, 64240, opt,
	    ws < 0 ? 4 : 8, NULL, 0);
	net_input(&st, f, len, now);
	p->seq++;
	g = seg_at(0);
	p->ack = g.seq + 1;
	peer_send(p, ACK, NULL, 0, now);
	sink.n = 0;
	return g.seq;
}

static void
listen_fresh(void)
{
	memset(&lis, 0, sizeof(lis));
	if (net_tcp_listen(&st, &lis, 80, 8, app_accept, &app) != 0)
		abort();
}

/* ---- segments to nobody, and the SYN-ACK ---- */

static void
test_closed_port(void)
{
	static uint8_t f[128];
	size_t len;
	const struct net_stats *s = net_stats(&st);

	setup();
	len = mk_frame(f, 40000, 81, 0x01020304, 0, SYN, 64240, NULL, 0, NULL,
	    0);
	expect_rx(net_input(&st, f, len, T0), NET_RX_TCP_NO_CONN,
	    "SYN to a closed port");
	frame_is(0, rst_syn_want, sizeof(rst_syn_want),
	    "RST|ACK bytes: seq 0, ack SEG.SEQ + 1");

	st.ip_id = 0;
	len = mk_frame(f, 40000, 81, 5, 0xa0b0c0d0, ACK, 64240, NULL, 0,
	    "xyz", 3);
	expect_rx(net_input(&st, f, len, T0), NET_RX_TCP_NO_CONN,
	    "ACK to a closed port");
	frame_is(1, rst_ack_want, sizeof(rst_ack_want),
	    "RST bytes: seq SEG.ACK");

	len = mk_frame(f, 40000, 81, 5, 0, RST, 0, NULL, 0, NULL, 0);
	expect_rx(net_input(&st, f, len, T0), NET_RX_TCP_NO_CONN,
	    "RST to a closed port");
	is_int(sink.n, 2, "no RST answers an RST");

	/* Drops before any lookup. */
	len = mk_frame(f, 40000, 81, 5, 0, SYN, 0, NULL, 0, NULL, 0);
	f[14 + 20 + 17] ^= 1;
	expect_rx(net_input(&st, f, len, T0), NET_RX_TCP_CKSUM, "bad checksum");
	len = mk_frame(f, 40000, 81, 5, 0, SYN, 0, NULL, 0, NULL, 0);
	f[14 + 20 + 12] = 0xf0;	/* data offset 60, past the segment */
	expect_rx(net_input(&st, f, len, T0), NET_RX_TCP_SHORT,
	    "data offset past the packet");
	f[14 + 20 + 12] = 0x40;	/* data offset 16 */
	expect_rx(net_input(&st, f, len, T0), NET_RX_TCP_SHORT,
	    "data offset under 20");
	len = mk_frame(f, 40000, 81, 5, 0, SYN, 0, NULL, 0, NULL, 0);
	f[14 + 19] = 0xff;	/* to 10.0.2.255: the subnet's broadcast */
	put16(f + 24, 0);
	put16(f + 24, (uint16_t)~ref_sum(f + 14, 20, 0));
	expect_rx(net_input(&st, f, len, T0), NET_RX_TCP_BAD_ADDR,
	    "to a broadcast address");
	is_int(sink.n, 2, "none of them answered");
	is_int((long long)s->rx[NET_RX_TCP_NO_CONN], 3, "counted");
}

static void
test_synack(void)
{
	static uint8_t f[128], want[80];
	size_t len;
	struct seg g;
	struct net_tcp_info i;

	setup();
	app_reset(1);
	listen_fresh();
	is_int(net_tcp_listen(&st, &lis, 81, 1, app_accept, &app), -RT_EINVAL,
	    "listen twice");
	{
		struct net_tcp_listener l2;

		memset(&l2, 0, sizeof(l2));
		is_int(net_tcp_listen(&st, &l2, 80, 1, app_accept, &app),
		    -RT_EADDRINUSE, "port taken");
		is_int(net_tcp_listen(&st, &l2, 0, 1, app_accept, &app),
		    -RT_EINVAL, "port 0");
		is_int(net_tcp_listen(&st, &l2, 82, 0, app_accept, &app),
		    -RT_EINVAL, "backlog 0");
		is_int(net_tcp_unlisten(&st, &l2, T0), -RT_ENOENT,
		    "unlisten what does not listen");
	}

	len = mk_frame(f, 40001, 80, 0x11223344, 0, SYN, 64240, linux_syn_opts,
	    sizeof(linux_syn_opts), NULL, 0);
	expect_rx(net_input(&st, f, len, T0), NET_RX_TCP_SYN,
	    "Linux's SYN to a listener");
	g = seg_at(0);
	ok(g.valid && g.flags == (SYN | ACK) && g.ack == 0x11223345,
	    "SYN-ACK, acknowledging the SYN");
	memcpy(want, synack_want, sizeof(synack_want));
	put32(want + 38, g.seq);
	if (g.valid && g.optlen == 24)
		memcpy(want + 66, g.opt + 12, 4);	/* our clock's TSval */
	put16(want + 50, ref_tcp_cksum(want + 14, 44));
	frame_is(0, want, sizeof(synack_want),
	    "SYN-ACK bytes: MSS 1460, SACK-permitted, timestamps echoing "
	    "the SYN's, NOP, WS 1, window 65535");

	/* Without window scale in the SYN, none in the SYN-ACK. */
	st.ip_id = 0;
	len = mk_frame(f, 40002, 80, 0x11223344, 0, SYN, 64240,
	    linux_syn_opts, 4, NULL, 0);
	expect_rx(net_input(&st, f, len, T0), NET_RX_TCP_SYN, "SYN, MSS only");
	g = seg_at(1);
	memcpy(want, synack_nows_want, sizeof(synack_nows_want));
	put32(want + 38, g.seq);
	put16(want + 50, ref_tcp_cksum(want + 14, 24));
	frame_is(1, want, sizeof(synack_nows_want), "SYN-ACK bytes: MSS only");

	/* The handshake completes: the ACK, scaled by 7 from now on. */
	{
		struct peer p = { 40001, 80, 0x11223345, 0, 502 };

		p.ack = seg_at(0).seq + 1;
		expect_rx(peer_send(&p, ACK, NULL, 0, T0 + 10 * MS),
		    NET_RX_TCP, "the handshake's ACK");
		is_int(app.accepted, 1, "accept callback");
		ok(app.c != NULL, "with the connection");
		if (app.c == NULL)
			return;
		i = info(app.c);
		is_str(i.state, "ESTABLISHED", "ESTABLISHED");
		ok(i.mss == 1448 && i.snd_wscale == 7 && i.rcv_wscale == 1,
		    "MSS 1460 less the 12 bytes of timestamps, shifts 7 and 1");
		is_int((long long)i.snd_wnd, 502 << 7, "peer's window scaled");
		is_int((long long)i.srtt_ns, 10 * MS,
		    "RTT sampled from the handshake");
		ok(i.local_port == 80 && i.remote_port == 40001 &&
		    i.remote_ip == peer_ip && i.local_ip == our_ip,
		    "addresses");
	}
	/* The other: no options at all means MSS 536 and no scaling. */
	{
		struct peer p = { 40003, 80, 7, 0, 1000 };
		struct net_tcp *c;

		sink.n = 0;
		expect_rx(peer_send(&p, SYN, NULL, 0, T0), NET_RX_TCP_SYN,
		    "SYN without options");
		g = seg_at(0);
		ok(g.valid && g.optlen == 4, "SYN-ACK with MSS only");
		p.ack = g.seq + 1;
		peer_send(&p, ACK, NULL, 0, T0);
		c = app.c;
		i = info(c);
		ok(i.mss == 536 && i.snd_wscale == 0 && i.rcv_wscale == 0 &&
		    i.snd_wnd == 1000, "MSS 536, no scaling");
	}
}

/* ---- timestamps (RFC 7323) and SACK (RFC 2018) ---- */

/* The option (kind) of segment (g): its bytes from the kind on, or NULL. */
static const uint8_t *
seg_opt(const struct seg *g, uint8_t kind)
{
	size_t i = 0;

	while (i < g->optlen && g->opt[i] != 0) {
		if (g->opt[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= g->optlen || g->opt[i + 1] < 2)
			return NULL;
		if (g->opt[i] == kind)
			return g->opt + i;
		i += g->opt[i + 1];
	}
	return NULL;
}

/* A segment of the peer's at (seq) with a timestamps option. */
static int
peer_send_ts(struct peer *p, uint32_t seq, uint32_t tsval, uint32_t tsecr,
    const void *data, size_t dlen, uint64_t now)
{
	static uint8_t f[NET_FRAME_MAX + 64];
	uint8_t o[12] = { 1, 1, 8, 10 };
	size_t len;

	put32(o + 4, tsval);
	put32(o + 8, tsecr);
	len = mk_frame(f, p->port, p->our_port, seq, p->ack, ACK, p->wnd, o,
	    sizeof(o), data, dlen);
	return net_input(&st, f, len, now);
}

static void
test_ts_sack(void)
{
	static uint8_t f[128], data[4000];
	struct peer p = { 40020, 80, 0x11223344, 0, 1000 };
	const uint8_t *ts, *sk;
	struct seg g;
	uint32_t our_ts, a;
	uint64_t now = T0;
	size_t len;
	const uint32_t TB = 0x00020000;	/* above the SYN's TSval */

	setup();
	app_reset(1);
	listen_fresh();
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 5);
	len = mk_frame(f, p.port, 80, p.seq, 0, SYN, 64240, linux_syn_opts,
	    sizeof(linux_syn_opts), NULL, 0);
	net_input(&st, f, len, now);
	g = seg_at(0);
	ts = seg_opt(&g, 8);
	ok(ts != NULL && seg_opt(&g, 4) != NULL,
	    "a SYN with timestamps and SACK-permitted gets both back");
	if (ts == NULL)
		return;
	our_ts = get32(ts + 2);
	p.seq++;
	p.ack = g.seq + 1;
	peer_send_ts(&p, p.seq, 0x00010204, our_ts, NULL, 0, now);
	if (app.c == NULL) {
		ok(0, "established");
		return;
	}
	sink.n = 0;

	/* Every segment of ours carries the option: TSval our clock in
	 * milliseconds (advancing), TSecr the peer's latest in order. */
	peer_send_ts(&p, p.seq, TB + 100, our_ts, data, 1448, now);
	peer_send_ts(&p, p.seq + 1448, TB + 101, our_ts, data + 1448, 1448,
	    now + 5 * MS);
	p.seq += 2 * 1448;
	g = seg_at(0);
	ts = seg_opt(&g, 8);
	ok(sink.n == 1 && g.ack == p.seq && ts != NULL && ts[1] == 10 &&
	    g.optlen == 12, "two full segments: an ACK with 12 bytes of "
	    "options, the timestamps");
	if (ts == NULL)
		return;
	is_int(get32(ts + 6), TB + 100, "TSecr: the first segment's TSval "
	    "(the one our last ACK pointed into)");
	is_int((long long)(get32(ts + 2) - our_ts), 5,
	    "TSval: our clock, 5 ms after the SYN-ACK's");
	ok(seg_opt(&g, 5) == NULL, "no SACK blocks with nothing held");

	/* Past a gap: SACK blocks, the latest arrival's first. */
	sink.n = 0;
	a = p.seq;
	peer_send_ts(&p, a + 1000, TB + 200, our_ts, data + 1000, 500, now);
	g = seg_at(0);
	sk = seg_opt(&g, 5);
	ok(sink.n == 1 && g.ack == a && sk != NULL && sk[1] == 10 &&
	    get32(sk + 2) == a + 1000 && get32(sk + 6) == a + 1500,
	    "a segment past a gap: a duplicate ACK with its SACK block");
	ts = seg_opt(&g, 8);
	ok(ts != NULL && get32(ts + 6) == TB + 100,
	    "... echoing TS.Recent still, not its own TSval");
	peer_send_ts(&p, a + 3000, TB + 201, our_ts, data + 3000, 400, now);
	g = seg_at(1);
	sk = seg_opt(&g, 5);
	ok(sink.n == 2 && sk != NULL && sk[1] == 18 &&
	    get32(sk + 2) == a + 3000 && get32(sk + 6) == a + 3400 &&
	    get32(sk + 10) == a + 1000 && get32(sk + 14) == a + 1500,
	    "another past a second gap: two blocks, the latest first");
	peer_send_ts(&p, a, TB + 300, our_ts, data, 1000, now);
	g = seg_at(2);
	sk = seg_opt(&g, 5);
	ts = seg_opt(&g, 8);
	ok(sink.n == 3 && g.ack == a + 1500 && sk != NULL && sk[1] == 10 &&
	    get32(sk + 2) == a + 3000,
	    "the first gap filled: ACK to the next hole, one block left");
	ok(ts != NULL && get32(ts + 6) == TB + 300,
	    "... echoing the TSval of the segment that filled it");
	peer_send_ts(&p, a + 1500, TB + 301, our_ts, data + 1500, 1448, now);
	peer_send_ts(&p, a + 2948, TB + 302, our_ts, data + 2948, 52, now);
	g = seg_at(sink.n - 1);
	ok(g.ack == a + 3400 && seg_opt(&g, 5) == NULL, "all in: no block");
	ok(app.got == 2 * 1448 + 3400 && memcmp(app.buf + 2 * 1448, data,
	    3400) == 0, "the bytes, in order");
	p.seq = a + 3400;

	/* What we send: at most MSS less the option per segment. */
	sink.n = 0;
	is_int(net_tcp_send(&st, app.c, data, 3000, 0, now), 3000,
	    "3000 bytes sent");
	ok(sink.n == 3 && seg_at(0).dlen == 1448 && seg_at(1).dlen == 1448 &&
	    seg_at(2).dlen == 104 && seg_at(0).optlen == 12,
	    "in segments of 1448 bytes, each with the timestamps");
}

/* ---- a new address ends the connections on the old one ---- */

static void
test_readdress(void)
{
	struct peer p, q;
	struct net_config cfg;
	uint64_t now = T0;
	struct net_tcp *held;

	setup();
	app_reset(1);
	listen_fresh();
	establish(&p, 40030, 7, 1000, now);
	held = app.c;
	ok(held != NULL, "a connection the application holds");

	/* The same address again (a DHCP renewal): nothing ends. */
	if (net_config_parse(&cfg, "ip=10.0.2.15/24 gw=10.0.2.1") != 0)
		abort();
	is_int(net_configure(&st, &cfg, now), 0, "the same address again");
	net_poll(&st, now);
	ok(app.closed == 0 && app.c == held, "... the connection goes on");

	/* Unconfigured (a lease lost): kept, for the address may return. */
	memset(&cfg, 0, sizeof(cfg));
	is_int(net_configure(&st, &cfg, now), 0, "unconfigured");
	net_poll(&st, now);
	ok(app.closed == 0 && app.c == held, "... the connection is kept");

	/* Another address: the connection ends, told from net_poll(). */
	if (net_config_parse(&cfg, "ip=10.0.2.16/24 gw=10.0.2.1") != 0)
		abort();
	is_int(net_configure(&st, &cfg, now), 0, "a new address");
	is_int(app.closed, 0, "no callback inside net_configure()");
	net_poll(&st, now);
	ok(app.closed == 1 && app.err == -RT_EADDRNOTAVAIL,
	    "closed callback from net_poll(): -RT_EADDRNOTAVAIL");
	ok(net_poll(&st, now) == RT_TIME_INFINITY, "no timer left");

	/* The listener stays, on the new address. */
	if (net_config_parse(&cfg, "ip=10.0.2.15/24 gw=10.0.2.1") != 0 ||
	    net_configure(&st, &cfg, now) != 0)
		abort();
	learn_peer(now);	/* the ARP cache went with the address */
	establish(&q, 40031, 7, 1000, now);
	ok(app.c != NULL && app.accepted == 2, "the listener still accepts");
}

/* ---- no callback inside the application's own calls ---- */

static int in_call, reentered, echoed;

/* Echo what can be read, counting any callback that comes while one of
 * this application's own net_tcp_*() calls is still running. */
static void
r_echo(struct net_tcp *c)
{
	uint8_t buf[256];
	long n;

	in_call++;
	while ((n = net_tcp_recv(&st, c, buf, sizeof(buf), T0)) > 0)
		if (net_tcp_send(&st, c, buf, (size_t)n, 0, T0) == n)
			echoed += (int)n;
	in_call--;
}

static void
r_readable(struct net_tcp *c, void *arg)
{
	reentered += in_call > 0;
	r_echo(c);
}

static const struct net_tcp_ops r_ops = { .readable = r_readable };

static void
r_accept(struct net_tcp_listener *l, void *arg, struct net_tcp *c)
{
	reentered += in_call > 0;
	net_tcp_set_ops(c, &r_ops, NULL);
	r_echo(c);
}

static void
test_reentry(void)
{
	struct net_tcp_listener l;
	struct peer p = { 40050, 81, 0x5000, 0, 65535 };
	struct seg g;

	setup();
	memset(&l, 0, sizeof(l));
	net_tcp_listen(&st, &l, 81, 4, r_accept, NULL);
	peer_send(&p, SYN, NULL, 0, T0);
	p.ack = seg_at(0).seq + 1;
	sink.n = 0;
	/* The handshake's ACK brings data: accept and readable are both
	 * due, and accept's send must not run readable inside it. */
	expect_rx(peer_send(&p, ACK | PSH, "hello", 5, T0), NET_RX_TCP,
	    "the handshake's ACK with data");
	is_int(reentered, 0, "no callback inside the application's calls");
	g = seg_at(0);
	ok(echoed == 5 && sink.n == 1 && g.dlen == 5 &&
	    memcmp(g.data, "hello", 5) == 0, "echoed once");
	net_tcp_unlisten(&st, &l, T0);
}

/* ---- the receive side: delayed ACKs, reassembly, windows ---- */

static void
test_receive(void)
{
	struct peer p;
	uint8_t data[3000];
	struct seg g;
	uint64_t now = T0, next;

	setup();
	app_reset(1);
	listen_fresh();
	establish(&p, 40010, 7, 1000, now);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);

	expect_rx(peer_send(&p, ACK | PSH, data, 100, now), NET_RX_TCP,
	    "100 bytes");
	ok(app.readable == 1 && app.got == 100 &&
	    memcmp(app.buf, data, 100) == 0, "readable, and read");
	is_int(sink.n, 0, "no ACK at once (delayed)");
	next = net_poll(&st, now);
	ok(next == now + NET_TCP_DELACK_NS, "deadline: the delayed ACK");
	net_poll(&st, next - 1);
	is_int(sink.n, 0, "not before");
	net_poll(&st, next);
	g = seg_at(0);
	ok(sink.n == 1 && g.valid && g.flags == ACK && g.ack == p.seq &&
	    g.dlen == 0, "the delayed ACK, 40 ms later");
	/* The right edge moves by an MSS at least (SWS avoidance): still
	 * the SYN-ACK's 65535 from its first byte, scaled by 1. */
	is_int(g.wnd, (65535 - 100) >> 1, "window: the same right edge");
	ok(net_poll(&st, next) == RT_TIME_INFINITY, "no timer left");

	now = next;
	sink.n = 0;
	peer_send(&p, ACK, data, 1460, now);
	is_int(sink.n, 0, "one full segment: ACK delayed");
	peer_send(&p, ACK, data + 1460, 1460, now);
	g = seg_at(0);
	ok(sink.n == 1 && g.ack == p.seq, "the second: ACKed at once");

	/* Out of order: the later segment first. */
	sink.n = 0;
	app.got = 0;
	{
		uint32_t a = p.seq;

		expect_rx(peer_send_at(&p, a + 1000, ACK, data + 1000, 1000,
		    now), NET_RX_TCP, "a segment past a gap");
		g = seg_at(0);
		ok(sink.n == 1 && g.ack == a, "duplicate ACK at once");
		is_int((long long)app.got, 0, "nothing readable yet");
		peer_send_at(&p, a + 2500, ACK, data + 2500, 500, now);
		peer_send_at(&p, a + 2200, ACK, data + 2200, 200, now);
		ok(sink.n == 3 && seg_at(2).ack == a, "more past the gap: "
		    "duplicate ACKs");
		expect_rx(peer_send_at(&p, a, ACK, data, 1000, now),
		    NET_RX_TCP, "the gap filled");
		g = seg_at(3);
		ok(sink.n == 4 && g.ack == a + 2000, "ACK at once, to the "
		    "next hole");
		ok(app.got == 2000 && memcmp(app.buf, data, 2000) == 0,
		    "reassembled, in order");
		peer_send_at(&p, a + 2000, ACK, data + 2000, 500, now);
		g = seg_at(4);
		ok(sink.n == 5 && g.ack == a + 3000, "the last hole: all 3000");
		ok(app.got == 3000 && memcmp(app.buf, data, 3000) == 0,
		    "all of it, in order");
		p.seq = a + 3000;
	}

	/* Old data again: ACKed at once, not delivered twice. */
	sink.n = 0;
	expect_rx(peer_send_at(&p, p.seq - 1000, ACK, data, 1000, now),
	    NET_RX_TCP_WINDOW, "a duplicate segment");
	ok(sink.n == 1 && seg_at(0).ack == p.seq, "ACKed");
	is_int((long long)app.got, 3000, "not delivered again");
	/* Overlapping: the new part only. */
	peer_send_at(&p, p.seq - 10, ACK, data, 30, now);
	ok(app.got == 3020 && memcmp(app.buf + 3000, data + 10, 20) == 0,
	    "overlap trimmed");
	p.seq += 20;
	/* A bare ACK from the window's right edge: a peer that filled our
	 * window sends them from there (Linux does); taken. */
	expect_rx(peer_send_at(&p, p.seq + 65536, ACK, NULL, 0, now),
	    NET_RX_TCP, "bare ACK at the right edge");
	expect_rx(peer_send_at(&p, p.seq + 65537, ACK, NULL, 0, now),
	    NET_RX_TCP_WINDOW, "one past it");
	/* Far past the window. */
	sink.n = 0;
	expect_rx(peer_send_at(&p, p.seq + 200000, ACK, data, 10, now),
	    NET_RX_TCP_WINDOW, "past the window");
	ok(sink.n == 1 && seg_at(0).ack == p.seq, "answered with an ACK");
	/* No ACK flag. */
	expect_rx(peer_send(&p, 0, data, 10, now), NET_RX_TCP_FLAGS,
	    "data without ACK");
	p.seq -= 10;

	/* A delayed ACK whose peer must be asked for by ARP again (its
	 * entry expired): the ARP retry is the next deadline. */
	now += NET_ARP_TTL_NS + SEC;
	sink.n = 0;
	peer_send(&p, ACK, data, 10, now);
	next = net_poll(&st, now + NET_TCP_DELACK_NS);
	ok(sink.n == 1 && sink.frame[0][12] == 0x08 &&
	    sink.frame[0][13] == 0x06, "the delayed ACK waits for ARP");
	ok(next == now + NET_TCP_DELACK_NS + NET_ARP_RETRY_NS,
	    "net_poll(): the ARP retry is next");
}

static void
test_zero_window_receive(void)
{
	struct net_tcp_config cfg = { 4096, 4096, 16, 0 };
	struct peer p;
	uint8_t data[4096], out[4096];
	struct seg g;
	uint64_t now = T0;

	setup();
	app_reset(0);
	is_int(net_tcp_configure(&st, &cfg), 0, "4 KiB buffers");
	cfg.rcvbuf = 100;
	is_int(net_tcp_configure(&st, &cfg), -RT_EINVAL, "100 B: too small");
	cfg.rcvbuf = 4096;
	cfg.max_conns = 0;
	is_int(net_tcp_configure(&st, &cfg), -RT_EINVAL, "max_conns 0");
	cfg.max_conns = 16;
	cfg.msl_ns = 500 * RT_NSEC_PER_USEC;
	is_int(net_tcp_configure(&st, &cfg), -RT_EINVAL, "MSL under 1 ms");
	cfg.msl_ns = 0;
	listen_fresh();
	establish(&p, 40020, -1, 8192, now);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	peer_send(&p, ACK, data, 1460, now);
	peer_send(&p, ACK, data + 1460, 1460, now);
	peer_send(&p, ACK, data + 2920, 4096 - 2920, now);
	now += NET_TCP_DELACK_NS;
	net_poll(&st, now);
	g = seg_at(sink.n - 1);
	ok(g.valid && g.ack == p.seq && g.wnd == 0, "buffer full: window 0");
	is_int((long long)net_tcp_readable(app.c), 4096, "4096 readable");

	/* A zero-window probe: not taken, answered. */
	sink.n = 0;
	expect_rx(peer_send_at(&p, p.seq, ACK, "x", 1, now), NET_RX_TCP,
	    "a window probe");
	g = seg_at(0);
	ok(sink.n == 1 && g.ack == p.seq && g.wnd == 0,
	    "answered: still closed");

	/* Reading a little does not open it (SWS avoidance); more does. */
	sink.n = 0;
	is_int(net_tcp_recv(&st, app.c, out, 100, now), 100, "read 100");
	is_int(sink.n, 0, "no window update for 100 bytes");
	is_int(net_tcp_recv(&st, app.c, out + 100, sizeof(out) - 100, now),
	    3996, "read the rest");
	ok(memcmp(out, data, 4096) == 0, "the bytes");
	g = seg_at(0);
	ok(sink.n == 1 && g.wnd == 4096 && g.ack == p.seq,
	    "window update: 4096");
	is_int(net_tcp_recv(&st, app.c, out, 10, now), -RT_EAGAIN,
	    "nothing more: EAGAIN");
	peer_send(&p, ACK, data, 10, now);
	is_int(app.readable, 2, "readable() again after EAGAIN");
}

/* ---- backlog and max_conns ---- */

static void
test_backlog(void)
{
	struct net_tcp_listener l;
	struct peer p[4];
	const struct net_stats *s = net_stats(&st);
	uint64_t now = T0;

	setup();
	app_reset(1);
	memset(&l, 0, sizeof(l));
	is_int(net_tcp_listen(&st, &l, 80, 2, app_accept, &app), 0,
	    "listen, backlog 2");
	for (int i = 0; i < 3; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].port = (uint16_t)(41000 + i);
		p[i].our_port = 80;
		p[i].seq = 1000u * (unsigned)i;
		p[i].wnd = 65535;
	}
	expect_rx(peer_send(&p[0], SYN, NULL, 0, now), NET_RX_TCP_SYN, "SYN 1");
	expect_rx(peer_send(&p[1], SYN, NULL, 0, now), NET_RX_TCP_SYN, "SYN 2");
	expect_rx(peer_send(&p[2], SYN, NULL, 0, now), NET_RX_TCP_BACKLOG,
	    "SYN 3: backlog full");
	p[2].seq--;
	is_int(sink.n, 2, "two SYN-ACKs, nothing for the third");
	is_int((long long)s->rx[NET_RX_TCP_BACKLOG], 1, "counted");
	p[0].ack = seg_at(0).seq + 1;
	peer_send(&p[0], ACK, NULL, 0, now);
	is_int(app.accepted, 1, "first accepted");
	expect_rx(peer_send(&p[2], SYN, NULL, 0, now), NET_RX_TCP_SYN,
	    "SYN 3 again: room now");
	is_int(l.net_half_open, 2, "two half-open");

	/* A lost SYN-ACK: the SYN again gets it again. */
	sink.n = 0;
	p[1].seq--;
	expect_rx(peer_send(&p[1], SYN, NULL, 0, now), NET_RX_TCP,
	    "retransmitted SYN");
	ok(sink.n == 1 && seg_at(0).flags == (SYN | ACK), "SYN-ACK again");

	/* Half-open ones give up after NET_TCP_SYNACK_TRIES SYN-ACKs. */
	sink.n = 0;
	{
		uint64_t t = now, next;
		int rounds = 0;

		while ((next = net_poll(&st, t)) != RT_TIME_INFINITY &&
		    rounds < 20) {
			t = next;
			rounds++;
		}
		is_int(sink.n, 2 * (NET_TCP_SYNACK_TRIES - 1),
		    "SYN-ACKs retransmitted, 4 each");
		ok(t == now + 31 * SEC, "given up after 1+2+4+8+16 s");
		is_int(l.net_half_open, 0, "no half-open left");
		is_int(st.tcp.nconns, 1, "the accepted one remains");
	}

	/* max_conns: full, then the oldest TIME_WAIT makes room. */
	{
		struct net_tcp_config cfg = { 65536, 65536, 1, 0 };
		struct peer q = { 41010, 80, 500, 0, 65535 };

		net_tcp_configure(&st, &cfg);
		sink.n = 0;
		expect_rx(peer_send(&q, SYN, NULL, 0, now), NET_RX_TCP_FULL,
		    "max_conns reached: SYN dropped");
		is_int(sink.n, 0, "nothing sent");
		/* Close the one we have into TIME_WAIT. */
		net_tcp_close(&st, app.c, now);
		p[0].ack++;	/* our FIN */
		peer_send(&p[0], ACK | FIN, NULL, 0, now);
		is_int(st.tcp.nconns, 1, "in TIME_WAIT");
		q.seq--;
		expect_rx(peer_send(&q, SYN, NULL, 0, now), NET_RX_TCP_SYN,
		    "SYN: the TIME_WAIT is reused");
		is_int(st.tcp.nconns, 1, "still one connection");
	}
	net_tcp_unlisten(&st, &l, now);
	is_int(st.tcp.nconns, 0, "unlisten resets the half-open one");
}

/* ---- FIN, RST, TIME_WAIT ---- */

static void
test_close(void)
{
	struct peer p;
	struct seg g;
	uint32_t isn;
	uint64_t now = T0, t;
	struct net_tcp *c;

	/* Passive close: the peer's FIN, then ours. */
	setup();
	app_reset(1);
	listen_fresh();
	isn = establish(&p, 40100, 7, 1000, now);
	expect_rx(peer_send(&p, ACK | FIN, NULL, 0, now), NET_RX_TCP,
	    "peer's FIN");
	g = seg_at(0);
	ok(sink.n == 1 && g.flags == ACK && g.ack == p.seq,
	    "ACKed at once");
	ok(app.eof && app.readable == 1, "readable(), recv() 0");
	is_str(info(app.c).state, "CLOSE_WAIT", "CLOSE_WAIT");
	is_int(net_tcp_send(&st, app.c, "bye", 3, 0, now), 3,
	    "sending still works");
	g = seg_at(1);
	ok(g.valid && g.dlen == 3 && g.seq == isn + 1 &&
	    memcmp(g.data, "bye", 3) == 0 && (g.flags & PSH), "the data");
	net_tcp_close(&st, app.c, now);
	g = seg_at(2);
	ok(g.valid && g.flags == (FIN | ACK) && g.seq == isn + 4,
	    "close: our FIN after the data");
	is_int(st.tcp.nconns, 1, "LAST_ACK");
	p.ack = isn + 5;
	expect_rx(peer_send(&p, ACK, NULL, 0, now), NET_RX_TCP,
	    "our FIN ACKed");
	is_int(st.tcp.nconns, 0, "freed");
	ok(net_poll(&st, now) == RT_TIME_INFINITY, "no timer");

	/* Active close: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT. */
	app_reset(1);
	isn = establish(&p, 40101, 7, 1000, now);
	net_tcp_close(&st, app.c, now);
	g = seg_at(0);
	ok(sink.n == 1 && g.flags == (FIN | ACK) && g.seq == isn + 1,
	    "close: FIN");
	p.ack = isn + 2;
	peer_send(&p, ACK, NULL, 0, now);
	ok(net_poll(&st, now) == now + NET_TCP_FIN_WAIT2_NS,
	    "FIN_WAIT_2, given up on after a while");
	t = now + SEC;
	expect_rx(peer_send(&p, ACK | FIN, NULL, 0, t), NET_RX_TCP,
	    "peer's FIN");
	g = seg_at(1);
	ok(sink.n == 2 && g.flags == ACK && g.ack == p.seq, "ACKed");
	ok(net_poll(&st, t) == t + 2 * NET_TCP_MSL_NS, "TIME_WAIT: 2 MSL");
	t += 10 * SEC;
	expect_rx(peer_send_at(&p, p.seq - 1, ACK | FIN, NULL, 0, t),
	    NET_RX_TCP_WINDOW, "the FIN again");
	ok(sink.n == 3 && seg_at(2).ack == p.seq, "ACKed again");
	ok(net_poll(&st, t) == t + 2 * NET_TCP_MSL_NS, "2 MSL from it");
	net_poll(&st, t + 2 * NET_TCP_MSL_NS - 1);
	is_int(st.tcp.nconns, 1, "still there just before");
	ok(net_poll(&st, t + 2 * NET_TCP_MSL_NS) == RT_TIME_INFINITY &&
	    st.tcp.nconns == 0, "gone at 2 MSL");

	/* An orphan whose peer never sends its FIN. */
	app_reset(1);
	isn = establish(&p, 40102, 7, 1000, now);
	net_tcp_close(&st, app.c, now);
	p.ack = isn + 2;
	peer_send(&p, ACK, NULL, 0, now);
	net_poll(&st, now + NET_TCP_FIN_WAIT2_NS);
	is_int(st.tcp.nconns, 0, "FIN_WAIT_2 orphan given up");

	/* Simultaneous close: CLOSING. */
	app_reset(1);
	isn = establish(&p, 40103, 7, 1000, now);
	c = app.c;
	is_int(net_tcp_shutdown(&st, c, now), 0, "shutdown");
	is_int(net_tcp_shutdown(&st, c, now), 0, "shutdown again: no-op");
	is_int(sink.n, 1, "one FIN");
	is_str(info(c).state, "FIN_WAIT_1", "FIN_WAIT_1");
	is_int(net_tcp_send(&st, c, "x", 1, 0, now), -RT_EPIPE,
	    "send after shutdown");
	is_int((long long)net_tcp_writable(c), 0, "not writable");
	peer_send(&p, ACK, "late", 4, now);
	ok(app.got == 4 && memcmp(app.buf, "late", 4) == 0,
	    "receiving goes on");
	peer_send(&p, ACK | FIN, NULL, 0, now);
	is_str(info(c).state, "CLOSING", "FIN crossed ours: CLOSING");
	p.ack = isn + 2;
	peer_send(&p, ACK, NULL, 0, now);
	is_str(info(c).state, "TIME_WAIT", "then TIME_WAIT");
	ok(app.eof, "end of stream seen");
	net_tcp_close(&st, c, now);
	net_poll(&st, now + 2 * NET_TCP_MSL_NS);
	is_int(st.tcp.nconns, 0, "gone");

	/* Close with unread data: RST. */
	app_reset(0);
	sink.n = 0;
	isn = establish(&p, 40104, 7, 1000, now);
	peer_send(&p, ACK, "unread", 6, now);
	sink.n = 0;
	net_tcp_close(&st, app.c, now);
	g = seg_at(0);
	ok(sink.n == 1 && (g.flags & RST) && g.seq == isn + 1 &&
	    g.ack == p.seq, "close with unread data: RST");
	is_int(st.tcp.nconns, 0, "freed at once");
	is_int(app.closed, 0, "no closed() after close");

	/* Data for an orphan: RST. */
	app_reset(1);
	isn = establish(&p, 40105, 7, 1000, now);
	net_tcp_close(&st, app.c, now);
	peer_send(&p, ACK, "more", 4, now);
	g = seg_at(1);
	ok(sink.n == 2 && (g.flags & RST), "data after close: RST");
	is_int(st.tcp.nconns, 0, "freed");

	/* Abort. */
	app_reset(1);
	isn = establish(&p, 40106, 7, 1000, now);
	net_tcp_abort(&st, app.c, now);
	g = seg_at(0);
	ok(sink.n == 1 && g.flags == (RST | ACK) && g.seq == isn + 1,
	    "abort: RST");
	ok(st.tcp.nconns == 0 && app.closed == 0, "freed, no callback");
}

static void
test_rst(void)
{
	struct peer p;
	struct seg g;
	const struct net_stats *s = net_stats(&st);
	uint64_t now = T0;
	uint32_t isn;

	setup();
	app_reset(1);
	listen_fresh();
	isn = establish(&p, 40200, 7, 1000, now);
	expect_rx(peer_send_at(&p, p.seq + 100, RST, NULL, 0, now),
	    NET_RX_TCP_BAD_RST, "RST in the window, not at RCV.NXT");
	g = seg_at(0);
	ok(sink.n == 1 && g.flags == ACK && g.ack == p.seq,
	    "challenge ACK (RFC 5961 3.2)");
	expect_rx(peer_send_at(&p, p.seq + 1000000, RST, NULL, 0, now),
	    NET_RX_TCP_BAD_RST, "RST outside the window");
	is_int(sink.n, 1, "ignored");
	expect_rx(peer_send_at(&p, p.seq - 1, SYN, NULL, 0, now),
	    NET_RX_TCP_BAD_SYN, "SYN on an established connection");
	ok(sink.n == 2 && seg_at(1).ack == p.seq, "challenge ACK (4.2)");
	{
		struct peer q = p;

		q.ack = isn + 100;
		expect_rx(peer_send(&q, ACK, NULL, 0, now), NET_RX_TCP_BAD_ACK,
		    "ACK of what was never sent");
		ok(sink.n == 3 && seg_at(2).flags == ACK,
		    "challenge ACK (5.2)");
	}
	for (int i = 0; i < 10; i++)
		peer_send_at(&p, p.seq + 100, RST, NULL, 0, now);
	is_int(sink.n, 3 + NET_TCP_CHALLENGE_BURST - 3,
	    "challenge ACKs limited");
	ok(s->tx[NET_TX_TCP_LIMITED] > 0, "the rest counted");
	peer_send_at(&p, p.seq + 100, RST, NULL, 0, now + SEC);
	is_int(sink.n, 3 + NET_TCP_CHALLENGE_BURST - 2, "one more later");
	is_str(info(app.c).state, "ESTABLISHED", "still established");
	expect_rx(peer_send_at(&p, p.seq, RST, NULL, 0, now), NET_RX_TCP,
	    "RST at RCV.NXT");
	ok(app.closed == 1 && app.err == -RT_ECONNRESET,
	    "closed(-ECONNRESET)");
	is_int(st.tcp.nconns, 0, "freed");
}

/* ---- active open, RTO ---- */

static struct net_tcp *
connect_to(struct peer *p, uint64_t now)
{
	struct net_tcp *c = NULL;

	memset(p, 0, sizeof(*p));
	p->port = 7000;
	p->seq = 5000;
	p->wnd = 65535;
	sink.n = 0;
	if (net_tcp_connect(&st, &c, peer_ip, 7000, &app_ops, &app, now) != 0)
		return NULL;
	p->our_port = seg_at(0).sport;
	p->ack = seg_at(0).seq + 1;
	return c;
}

/* The peer's SYN-ACK: MSS 1460, no window scale. */
static void
synack(struct peer *p, uint64_t now)
{
	static uint8_t f[128];
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
	size_t len = mk_frame(f, p->port, p->our_port, p->seq, p->ack,
	    SYN | ACK, p->wnd, mss, 4, NULL, 0);

	p->seq++;
	net_input(&st, f, len, now);
}

static void
test_rto(void)
{
	struct peer p;
	struct seg g;
	struct net_tcp *c = NULL;
	struct net_tcp_info i;
	uint64_t now = T0, t, next;
	uint32_t isn;
	int bad = 0;

	setup();
	app_reset(1);
	is_int(net_tcp_connect(&st, &c, 0, 7000, &app_ops, &app, now),
	    -RT_EINVAL, "connect to 0");
	is_int(net_tcp_connect(&st, &c, peer_ip, 0, &app_ops, &app, now),
	    -RT_EINVAL, "connect to port 0");
	is_int(net_tcp_connect(&st, &c, peer_ip, 7, NULL, &app, now),
	    -RT_EINVAL, "connect without ops");
	is_int(net_tcp_connect(&st, &c, 0x0a0002ff, 7, &app_ops, &app, now),
	    -RT_EINVAL, "connect to a broadcast address");
	is_int(net_tcp_connect(&st, &c, our_ip, 7, &app_ops, &app, now),
	    -RT_EINVAL, "connect to ourselves");
	is_int(sink.n, 0, "nothing sent");

	/* The SYN and its back-off: 1, 2, 4, 8, 16, 32 s, then give up. */
	c = connect_to(&p, now);
	g = seg_at(0);
	ok(c != NULL && g.valid && g.flags == SYN && g.optlen == 24 &&
	    memcmp(g.opt, "\x02\x04\x05\xb4\x01\x01\x04\x02\x01\x01"
	    "\x08\x0a", 12) == 0 &&
	    memcmp(g.opt + 16, "\0\0\0\0\x01\x03\x03\x01", 8) == 0,
	    "SYN with MSS 1460, SACK-permitted, timestamps echoing 0, "
	    "window scale 1");
	ok(g.sport >= 49152 && g.wnd == 65535, "ephemeral port, window");
	t = now;
	for (int k = 0; k < NET_TCP_SYN_TRIES - 1; k++) {
		next = net_poll(&st, t);
		if (next != t + (SEC << k)) {
			bad++;
			diag("SYN %d: deadline +%llu ns", k + 2,
			    (unsigned long long)(next - t));
		}
		t = next;
		net_poll(&st, t);
	}
	is_int(bad, 0, "SYN retransmitted after 1, 2, 4, 8, 16 s");
	is_int(sink.n, NET_TCP_SYN_TRIES, "NET_TCP_SYN_TRIES SYNs");
	ok(seg_at(5).seq == g.seq && seg_at(5).flags == SYN, "the same SYN");
	next = net_poll(&st, t);
	ok(next == t + 32 * SEC, "then 32 s");
	net_poll(&st, next);
	ok(app.closed == 1 && app.err == -RT_ETIMEDOUT,
	    "closed(-ETIMEDOUT) after 63 s");
	is_int(st.tcp.nconns, 0, "freed");

	/* Refused. */
	app_reset(1);
	c = connect_to(&p, now);
	expect_rx(peer_send(&p, RST | ACK, NULL, 0, now), NET_RX_TCP,
	    "RST|ACK for our SYN");
	ok(app.closed == 1 && app.err == -RT_ECONNREFUSED,
	    "closed(-ECONNREFUSED)");

	/* RTT 100 ms: SRTT 100, RTTVAR 50, RTO 300 ms (RFC 6298 2.2). */
	app_reset(1);
	c = connect_to(&p, now);
	isn = p.ack - 1;
	t = now + 100 * MS;
	synack(&p, t);
	is_int(app.connected, 1, "connected()");
	g = seg_at(1);
	ok(g.flags == ACK && g.ack == p.seq && g.seq == isn + 1,
	    "the handshake's ACK");
	i = info(c);
	ok(i.srtt_ns == 100 * MS && i.rto_ns == 300 * MS,
	    "SRTT 100 ms, RTO 300 ms");
	sink.n = 0;
	is_int(net_tcp_send(&st, c, app.buf, 1000, 0, t), 1000, "send 1000");
	ok(sink.n == 1 && seg_at(0).dlen == 1000, "sent at once");
	next = net_poll(&st, t);
	ok(next == t + 300 * MS, "RTO in 300 ms");
	net_poll(&st, next);
	g = seg_at(1);
	ok(sink.n == 2 && g.seq == isn + 1 && g.dlen == 1000,
	    "retransmitted");
	i = info(c);
	ok(i.rto_ns == 600 * MS && i.timeouts == 1, "RTO backed off: 600 ms");
	t = next;
	next = net_poll(&st, t);
	ok(next == t + 600 * MS, "next in 600 ms");
	net_poll(&st, next);
	ok(sink.n == 3 && info(c).rto_ns == 1200 * MS, "then 1.2 s");
	/* Karn: the ACK of a retransmitted segment gives no sample. */
	p.ack = isn + 1001;
	peer_send(&p, ACK, NULL, 0, next + 50 * MS);
	i = info(c);
	ok(i.srtt_ns == 100 * MS && i.rto_ns == 1200 * MS,
	    "Karn: no sample, back-off kept");
	t = next + 100 * MS;
	net_tcp_send(&st, c, app.buf, 1000, 0, t);
	p.ack += 1000;
	peer_send(&p, ACK, NULL, 0, t + 50 * MS);
	i = info(c);
	ok(i.srtt_ns == 93750 * RT_NSEC_PER_USEC && i.rto_ns ==
	    293750 * RT_NSEC_PER_USEC, "a fresh sample: SRTT 93.75 ms, "
	    "RTO 293.75 ms");
	ok(net_poll(&st, t + 50 * MS) == RT_TIME_INFINITY,
	    "all acknowledged: no timer");

	/* Back-off up to 60 s, give-up after NET_TCP_RETRIES.  The peer
	 * still answers ARP (its cache entry would expire meanwhile). */
	t += SEC;
	sink.n = 0;
	net_tcp_send(&st, c, app.buf, 10, 0, t);
	{
		uint64_t wait = info(c).rto_ns, want = wait;
		int n = 0, segs = 0;

		bad = 0;
		while ((next = net_poll(&st, t)) != RT_TIME_INFINITY &&
		    n < 40) {
			if (next - t != want) {
				bad++;
				diag("wait %d: %llu ns, want %llu", n,
				    (unsigned long long)(next - t),
				    (unsigned long long)want);
			}
			want = 2 * want < NET_TCP_RTO_MAX_NS ? 2 * want :
			    NET_TCP_RTO_MAX_NS;
			t = next;
			learn_peer(t);
			n++;
		}
		for (int k = 0; k < sink.n; k++)
			segs += seg_at(k).valid;
		is_int(segs, 1 + NET_TCP_RETRIES, "NET_TCP_RETRIES "
		    "retransmissions");
		is_int(bad, 0, "each wait twice the last, up to 60 s");
		ok(wait == 293750 * RT_NSEC_PER_USEC && want ==
		    NET_TCP_RTO_MAX_NS, "from the RTO to the maximum");
		ok(app.closed == 1 && app.err == -RT_ETIMEDOUT,
		    "closed(-ETIMEDOUT)");
	}

	/* A 1 ms RTT: RTO at its 200 ms floor. */
	app_reset(1);
	t += SEC;
	learn_peer(t);
	c = connect_to(&p, t);
	synack(&p, t + MS);
	ok(c != NULL && info(c).srtt_ns == MS &&
	    info(c).rto_ns == NET_TCP_RTO_MIN_NS, "RTO floor 200 ms");
	if (c != NULL)
		net_tcp_abort(&st, c, t + MS);
}

/* ---- fast retransmit, NewReno, limited transmit, probes ---- */

/* The highest sequence number sent so far, past its data. */
static uint32_t
sent_end(void)
{
	uint32_t end = 0;

	for (int k = 0; k < sink.n && k < SINK_MAX; k++) {
		struct seg g = seg_at(k);

		if (g.valid && (end == 0 ||
		    (int32_t)(g.seq + g.dlen - end) > 0))
			end = g.seq + (uint32_t)g.dlen;
	}
	return end;
}

/* Whether a frame from (from) on carries (seq) with data. */
static int
sent_seq(int from, uint32_t seq)
{
	for (int k = from; k < sink.n && k < SINK_MAX; k++) {
		struct seg g = seg_at(k);

		if (g.valid && g.seq == seq && g.dlen > 0)
			return 1;
	}
	return 0;
}

static void
test_fast_retransmit(void)
{
	static uint8_t data[30 * 1460];
	struct peer p;
	struct net_tcp_info i;
	uint32_t isn, base, cwnd;
	uint64_t now = T0;
	struct seg g;
	int bad = 0, n;

	setup();
	app_reset(1);
	listen_fresh();
	isn = establish(&p, 40300, -1, 65535, now);
	base = isn + 1;
	for (size_t k = 0; k < sizeof(data); k++)
		data[k] = (uint8_t)(k * 13);
	is_int(net_tcp_send(&st, app.c, data, sizeof(data), 0, now),
	    (long long)sizeof(data), "queue 30 segments");
	is_int(sink.n, 10, "initial window: 10 segments (RFC 6928)");
	for (int k = 0; k < 10; k++) {
		g = seg_at(k);
		if (!g.valid || g.seq != base + (uint32_t)k * 1460 ||
		    g.dlen != 1460 ||
		    memcmp(g.data, data + k * 1460, 1460) != 0)
			bad++;
	}
	is_int(bad, 0, "in order, full-sized, the right bytes");
	p.ack = base + 1460;
	peer_send(&p, ACK, NULL, 0, now);
	is_int(sink.n, 12, "slow start: one ACK, two more");
	peer_send(&p, ACK, NULL, 0, now);
	ok(sink.n == 13 && seg_at(12).seq == base + 12 * 1460,
	    "first duplicate: a new segment (RFC 3042 limited transmit)");
	peer_send(&p, ACK, NULL, 0, now);
	ok(sink.n == 14 && seg_at(13).seq == base + 13 * 1460,
	    "second: another");
	peer_send(&p, ACK, NULL, 0, now);
	g = seg_at(14);
	ok(sink.n == 15 && g.seq == base + 1460 && g.dlen == 1460,
	    "third: the missing segment again");
	i = info(app.c);
	ok(i.fast_retransmits == 1 && i.ssthresh == 13 * 1460 / 2 &&
	    i.cwnd == i.ssthresh + 3 * 1460, "ssthresh FlightSize/2, "
	    "cwnd ssthresh + 3 MSS");
	cwnd = (uint32_t)i.cwnd;
	peer_send(&p, ACK, NULL, 0, now);
	is_int((long long)info(app.c).cwnd, (long long)cwnd + 1460,
	    "each further one inflates cwnd");
	for (int k = 0; k < 3; k++)
		peer_send(&p, ACK, NULL, 0, now);
	is_int(sink.n, 15, "no room for a segment yet");
	peer_send(&p, ACK, NULL, 0, now);
	g = seg_at(15);
	ok(sink.n == 16 && g.seq == base + 14 * 1460 && g.dlen == 1460,
	    "then new data, during recovery");
	/* Partial ACK: 2-4 arrived, 5 was lost too. */
	p.ack = base + 4 * 1460;
	peer_send(&p, ACK, NULL, 0, now);
	g = seg_at(16);
	ok(sink.n == 18 && g.seq == base + 4 * 1460 && g.dlen == 1460,
	    "partial ACK: the next hole at once (RFC 6582)");
	ok(seg_at(17).seq == base + 15 * 1460,
	    "and the deflated window's new data");
	is_int((long long)info(app.c).fast_retransmits, 1,
	    "still one fast retransmit");
	/* Duplicates go on more than an SRTT after: that copy was lost. */
	n = sink.n;
	peer_send(&p, ACK, NULL, 0, now + 100 * RT_NSEC_PER_USEC);
	ok(!sent_seq(n, base + 4 * 1460), "a duplicate soon after: nothing "
	    "sent again");
	n = sink.n;
	peer_send(&p, ACK, NULL, 0, now + 5 * MS);
	ok(sent_seq(n, base + 4 * 1460), "5 ms later: the hole again");
	/* Full ACK: out of recovery. */
	p.ack = sent_end();
	sink.n = 0;
	peer_send(&p, ACK, NULL, 0, now + 6 * MS);
	i = info(app.c);
	ok(i.cwnd == 2 * 1460 && i.ssthresh == 13 * 1460 / 2,
	    "full ACK: cwnd min(ssthresh, FlightSize + MSS)");
	ok(sink.n == 2 && seg_at(0).seq == p.ack, "sending goes on");
	ok(i.retransmits == 3 && i.timeouts == 0, "three retransmissions, "
	    "no timeout");
}

static void
test_early_retransmit(void)
{
	struct peer p;
	struct net_tcp_info i;
	uint32_t isn;
	uint64_t now = T0, next;
	uint8_t data[5 * 1460];

	/* Three segments and nothing more to send: two duplicates do. */
	setup();
	app_reset(1);
	listen_fresh();
	isn = establish(&p, 40310, -1, 65535, now);
	memset(data, 'e', sizeof(data));
	net_tcp_send(&st, app.c, data, 3 * 1460, 0, now);
	is_int(sink.n, 3, "three segments");
	peer_send(&p, ACK, NULL, 0, now);
	is_int(sink.n, 3, "one duplicate: nothing to send");
	peer_send(&p, ACK, NULL, 0, now);
	ok(sink.n == 4 && seg_at(3).seq == isn + 1,
	    "the second: retransmitted (RFC 5827 early retransmit)");

	/* The loss probe: no ACK at all for a while. */
	setup();
	app_reset(1);
	listen_fresh();
	isn = establish(&p, 40311, -1, 65535, now);
	i = info(app.c);
	net_tcp_send(&st, app.c, data, 5 * 1460, 0, now);
	next = net_poll(&st, now);
	ok(next == now + 10 * MS, "five segments out: a probe in "
	    "max(2 SRTT, 10 ms)");
	net_poll(&st, next);
	ok(sink.n == 6 && seg_at(5).seq == isn + 1 && seg_at(5).dlen == 1460,
	    "the probe: the first segment again");
	i = info(app.c);
	ok(i.loss_probes == 1 && i.timeouts == 0 && i.cwnd == 14600,
	    "cwnd untouched");
	ok(net_poll(&st, next) == next + i.rto_ns, "then the RTO");
	/* The RTO pulls snd_nxt back; bare ACKs still say SND.MAX, or a
	 * peer holding all of it would drop them unread. */
	net_poll(&st, next + i.rto_ns);
	ok(sink.n == 7 && seg_at(6).seq == isn + 1 && info(app.c).timeouts == 1,
	    "the RTO: the first segment again");
	peer_send_at(&p, p.seq + 100, ACK, "ooo", 3, next + i.rto_ns);
	{
		struct seg a = seg_at(7);

		ok(sink.n == 8 && a.dlen == 0 && a.seq == isn + 1 + 5 * 1460,
		    "a bare ACK after it: seq SND.MAX, not SND.NXT");
	}
	next += i.rto_ns;
	p.ack = isn + 1 + 5 * 1460;
	peer_send(&p, ACK, NULL, 0, next + MS);
	ok(net_poll(&st, next + MS) == RT_TIME_INFINITY, "ACKed: no timer");

	/* One segment out: no probe before a delayed ACK could come
	 * (SRTT + 200 ms); the RTO, backed off still, is later here. */
	sink.n = 0;
	net_tcp_send(&st, app.c, data, 100, 0, next + 2 * MS);
	i = info(app.c);
	ok(i.rto_ns > i.srtt_ns + 200 * MS && net_poll(&st, next + 2 * MS) ==
	    next + 2 * MS + i.srtt_ns + 200 * MS,
	    "one segment out: a probe only after SRTT + 200 ms");
}

/* ---- zero window: the persist timer ---- */

static void
test_persist(void)
{
	struct peer p;
	struct seg g;
	uint32_t isn;
	uint64_t now = T0, t, next, rto;
	char msg[500];

	setup();
	app_reset(1);
	listen_fresh();
	isn = establish(&p, 40400, -1, 65535, now);
	memset(msg, 'z', sizeof(msg));
	msg[0] = 'a';
	net_tcp_send(&st, app.c, "0123456789", 10, 0, now);
	p.ack = isn + 11;
	p.wnd = 0;
	peer_send(&p, ACK, NULL, 0, now);
	sink.n = 0;
	is_int(net_tcp_send(&st, app.c, msg, sizeof(msg), 0, now), 500,
	    "queued against a zero window");
	is_int(sink.n, 0, "nothing sent");
	rto = info(app.c).rto_ns;
	next = net_poll(&st, now);
	ok(next == now + rto, "persist timer: one RTO");
	net_poll(&st, next);
	g = seg_at(0);
	ok(sink.n == 1 && g.seq == isn + 11 && g.dlen == 1 && g.data[0] == 'a',
	    "a one-byte probe");
	t = next;
	peer_send(&p, ACK, NULL, 0, t);
	next = net_poll(&st, t);
	ok(next == t + 2 * rto, "still closed: twice as long");
	net_poll(&st, next);
	g = seg_at(1);
	ok(sink.n == 2 && g.seq == isn + 11 && g.dlen == 1, "probe again");
	t = next;
	peer_send(&p, ACK, NULL, 0, t);
	ok(net_poll(&st, t) == t + 4 * rto, "four times");
	is_int((long long)info(app.c).fast_retransmits, 0,
	    "probe answers are no duplicate ACKs");
	sink.n = 0;
	p.wnd = 65535;
	peer_send(&p, ACK, NULL, 0, t);
	g = seg_at(0);
	ok(sink.n == 1 && g.seq == isn + 11 && g.dlen == 500 &&
	    g.data[0] == 'a', "window open: everything leaves");
}

/* ---- two stacks back to back ----
 *
 * Each stack's transmit callback puts the frame on a wire towards the
 * other, to arrive (delay) later, unless the wire's deterministic
 * generator loses it, duplicates it or holds it back so that later
 * frames overtake it.  Applications at both ends send a pattern and
 * check what they read against it byte by byte and with a checksum.
 */
struct wframe {
	struct wframe *next;
	uint64_t at;
	size_t len;
	uint8_t data[NET_FRAME_MAX];
};

struct wire {
	struct wframe *head;
	struct net_stack *to;
	uint64_t rng;
	unsigned loss, dup, reorder;	/* per 1000 frames */
	uint64_t delay;
	unsigned long frames, lost, duped, reordered;
};

static uint64_t wnow;

static uint32_t
wire_rand(struct wire *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (uint32_t)(w->rng % 1000);
}

static void
wire_put(struct wire *w, const void *frame, size_t len, uint64_t at)
{
	struct wframe *f = malloc(sizeof(*f)), **pp;

	if (f == NULL)
		abort();
	memcpy(f->data, frame, len);
	f->len = len;
	f->at = at;
	for (pp = &w->head; *pp != NULL && (*pp)->at <= at; pp = &(*pp)->next)
		;
	f->next = *pp;
	*pp = f;
}

static int
wire_transmit(void *arg, const void *frame, size_t len)
{
	struct wire *w = arg;
	uint64_t at = wnow + w->delay;

	w->frames++;
	if (len < 14 || len > NET_FRAME_MAX)
		abort();
	if (wire_rand(w) < w->loss) {
		w->lost++;
		return 0;
	}
	if (wire_rand(w) < w->reorder) {
		w->reordered++;
		at += 3 * w->delay;
	}
	wire_put(w, frame, len, at);
	if (wire_rand(w) < w->dup) {
		w->duped++;
		wire_put(w, frame, len, at + w->delay / 4);
	}
	return 0;
}

/* Delivers what is due; 1 when something was. */
static int
wire_deliver(struct wire *w)
{
	int any = 0;

	while (w->head != NULL && w->head->at <= wnow) {
		struct wframe *f = w->head;

		w->head = f->next;
		net_input(w->to, f->data, f->len, wnow);
		free(f);
		any = 1;
	}
	return any;
}

static void
wire_flush(struct wire *w)
{
	while (w->head != NULL) {
		struct wframe *f = w->head;

		w->head = f->next;
		free(f);
	}
}

/* One direction's bytes: a pattern of the offset and the direction. */
static uint8_t
pattern(uint64_t off, unsigned dir)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull + dir;

	return (uint8_t)((x >> 40) ^ (off & 7) * 37);
}

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

#define FNV0	0xcbf29ce484222325ull

struct xfer {
	struct net_stack *s;
	struct net_tcp *c;
	unsigned dir;		/* what this end sends: pattern(., dir) */
	uint64_t to_send, sent, received, bad;
	uint64_t hash_sent, hash_recv;
	size_t slow;		/* > 0: read so much per millisecond only */
	int eof, shut, given_back, closed, err;
	struct net_tcp_info last;
};

static void
xfer_pump_send(struct xfer *x)
{
	uint8_t buf[16384];

	while (x->sent < x->to_send && x->c != NULL) {
		size_t n = x->to_send - x->sent < sizeof(buf) ?
		    (size_t)(x->to_send - x->sent) : sizeof(buf);
		long r;

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(x->sent + i, x->dir);
		r = net_tcp_send(x->s, x->c, buf, n, 0, wnow);
		if (r <= 0)
			return;
		x->hash_sent = fnv(x->hash_sent, buf, (size_t)r);
		x->sent += (uint64_t)r;
	}
	if (x->sent == x->to_send && !x->shut && x->c != NULL) {
		x->shut = 1;
		net_tcp_shutdown(x->s, x->c, wnow);
	}
}

static void
xfer_maybe_close(struct xfer *x)
{
	if (x->eof && x->shut && !x->given_back && x->c != NULL) {
		net_tcp_info(x->c, &x->last);
		x->given_back = 1;
		net_tcp_close(x->s, x->c, wnow);
		x->c = NULL;
	}
}

static void
xfer_pump_recv(struct xfer *x, size_t budget)
{
	uint8_t buf[8192];
	long r;

	while (x->c != NULL && budget > 0) {
		r = net_tcp_recv(x->s, x->c, buf, budget < sizeof(buf) ?
		    budget : sizeof(buf), wnow);
		if (r == 0)
			x->eof = 1;
		if (r <= 0)
			break;
		for (long i = 0; i < r; i++)
			if (buf[i] != pattern(x->received + (uint64_t)i,
			    x->dir ^ 1))
				x->bad++;
		x->hash_recv = fnv(x->hash_recv, buf, (size_t)r);
		x->received += (uint64_t)r;
		budget -= (size_t)r;
	}
	xfer_maybe_close(x);
}

static void
x_connected(struct net_tcp *c, void *arg)
{
	xfer_pump_send(arg);
}

static void
x_readable(struct net_tcp *c, void *arg)
{
	struct xfer *x = arg;

	if (x->slow == 0)
		xfer_pump_recv(x, (size_t)-1);
}

static void
x_writable(struct net_tcp *c, void *arg)
{
	xfer_pump_send(arg);
	xfer_maybe_close(arg);
}

static void
x_closed(struct net_tcp *c, void *arg, int err)
{
	struct xfer *x = arg;

	x->closed = 1;
	x->err = err;
	x->c = NULL;
}

static const struct net_tcp_ops x_ops = {
	.connected = x_connected,
	.readable = x_readable,
	.writable = x_writable,
	.closed = x_closed,
};

#define MAX_XFERS	32
static struct net_stack sa, sb;
static struct wire ab, ba;
static struct xfer xs[MAX_XFERS], xc[MAX_XFERS];	/* server, client */
static int nx, naccepted;

static void
x_accept(struct net_tcp_listener *l, void *arg, struct net_tcp *c)
{
	struct xfer *x;

	if (naccepted >= nx) {
		net_tcp_abort(&sa, c, wnow);
		return;
	}
	x = &xs[naccepted++];
	x->c = c;
	net_tcp_set_ops(c, &x_ops, x);
	xfer_pump_send(x);
}

struct scenario {
	const char *name;
	int conns;
	uint64_t bytes;		/* each way, per connection */
	unsigned loss, dup, reorder;
	size_t rcvbuf, slow;	/* the server's buffer; its reading rate */
};

static void
run_scenario(const struct scenario *sc)
{
	static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
	static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
	struct net_config cfg;
	struct net_tcp_listener l;
	struct net_tcp_config tc = { NET_TCP_RCVBUF, NET_TCP_SNDBUF, 256, 0 };
	uint64_t start, limit, bad = 0, retrans = 0, fast = 0, tmo = 0;
	int done = 0, fine = 1, r;

	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));
	ab.to = &sb;
	ba.to = &sa;
	ab.rng = 0x1234567;
	ba.rng = 0x7654321;
	ab.delay = ba.delay = 500 * RT_NSEC_PER_USEC;
	ab.loss = ba.loss = sc->loss;
	ab.dup = ba.dup = sc->dup;
	ab.reorder = ba.reorder = sc->reorder;
	wnow = start = T0;
	if (net_init(&sa, mac_a, wire_transmit, &ab) != 0 ||
	    net_init(&sb, mac_b, wire_transmit, &ba) != 0 ||
	    net_config_parse(&cfg, "ip=10.0.3.1/24") != 0 ||
	    net_configure(&sa, &cfg, wnow) != 0 ||
	    net_config_parse(&cfg, "ip=10.0.3.2/24") != 0 ||
	    net_configure(&sb, &cfg, wnow) != 0)
		abort();
	net_seed(&sa, 1);
	net_seed(&sb, 2);
	tc.rcvbuf = sc->rcvbuf;
	net_tcp_configure(&sa, &tc);
	memset(xs, 0, sizeof(xs));
	memset(xc, 0, sizeof(xc));
	nx = sc->conns;
	naccepted = 0;
	memset(&l, 0, sizeof(l));
	net_tcp_listen(&sa, &l, 5001, 64, x_accept, NULL);
	for (int i = 0; i < nx; i++) {
		xs[i].s = &sa;
		xc[i].s = &sb;
		xs[i].dir = 0;
		xc[i].dir = 1;
		xs[i].to_send = xc[i].to_send = sc->bytes;
		xs[i].hash_sent = xs[i].hash_recv = FNV0;
		xc[i].hash_sent = xc[i].hash_recv = FNV0;
		xs[i].slow = sc->slow;
		r = net_tcp_connect(&sb, &xc[i].c, 0x0a000301, 5001, &x_ops,
		    &xc[i], wnow);
		if (r != 0) {
			diag("connect %d: %d", i, r);
			fine = 0;
		}
	}
	/* The accepted ones map to clients by their port. */
	limit = start + 3600 * SEC;
	while (!done && wnow < limit) {
		uint64_t next, t;

		wire_deliver(&ab);
		wire_deliver(&ba);
		if (sc->slow)
			for (int i = 0; i < naccepted; i++)
				xfer_pump_recv(&xs[i], sc->slow);
		next = net_poll(&sa, wnow);
		t = net_poll(&sb, wnow);
		next = t < next ? t : next;
		if (ab.head != NULL && ab.head->at < next)
			next = ab.head->at;
		if (ba.head != NULL && ba.head->at < next)
			next = ba.head->at;
		if (sc->slow && next > wnow + MS)
			next = wnow + MS;
		done = naccepted == nx;
		for (int i = 0; i < nx && done; i++)
			done = (xs[i].given_back || xs[i].closed) &&
			    (xc[i].given_back || xc[i].closed);
		if (next == RT_TIME_INFINITY)
			break;
		wnow = next > wnow ? next : wnow + 1;
	}
	ok(done, "%s: every transfer ended (%.1f s simulated)", sc->name,
	    (double)(wnow - start) / SEC);
	for (int i = 0; i < naccepted; i++) {
		struct xfer *s1 = &xs[i], *c1 = NULL;

		/* Its client: the one whose port the server sees. */
		for (int j = 0; j < nx; j++)
			if (xc[j].last.local_port == s1->last.remote_port)
				c1 = &xc[j];
		if (c1 == NULL || s1->closed || c1->closed ||
		    s1->received != sc->bytes || c1->received != sc->bytes ||
		    s1->hash_recv != c1->hash_sent ||
		    c1->hash_recv != s1->hash_sent || !s1->eof || !c1->eof) {
			fine = 0;
			diag("conn %d: got %llu/%llu, closed %d/%d (%d/%d)", i,
			    (unsigned long long)s1->received,
			    c1 ? (unsigned long long)c1->received : 0ull,
			    s1->closed, c1 ? c1->closed : -1, s1->err,
			    c1 ? c1->err : 0);
		}
		bad += s1->bad + (c1 ? c1->bad : 0);
		retrans += s1->last.retransmits + (c1 ? c1->last.retransmits :
		    0);
		fast += s1->last.fast_retransmits + (c1 ?
		    c1->last.fast_retransmits : 0);
		tmo += s1->last.timeouts + (c1 ? c1->last.timeouts : 0);
	}
	ok(fine && naccepted == nx, "%s: %d x %llu bytes each way, checksums "
	    "equal", sc->name, nx, (unsigned long long)sc->bytes);
	is_int((long long)bad, 0, "no byte differs from the pattern");
	diag("%s: frames %lu/%lu, lost %lu, duplicated %lu, reordered %lu; "
	    "retransmits %llu (fast %llu), timeouts %llu", sc->name,
	    ab.frames, ba.frames, ab.lost + ba.lost, ab.duped + ba.duped,
	    ab.reordered + ba.reordered, (unsigned long long)retrans,
	    (unsigned long long)fast, (unsigned long long)tmo);
	if (sc->loss + sc->reorder > 0)
		ok(retrans > 0, "%s: losses were repaired", sc->name);
	/* TIME_WAIT runs out; then nothing is left. */
	for (int k = 0; k < 4; k++) {
		wnow += NET_TCP_MSL_NS;
		wire_deliver(&ab);
		wire_deliver(&ba);
		net_poll(&sa, wnow);
		net_poll(&sb, wnow);
	}
	ok(sa.tcp.nconns == 0 && sb.tcp.nconns == 0 &&
	    sa.tcp.conns == NULL && sb.tcp.conns == NULL,
	    "%s: every connection freed after TIME_WAIT", sc->name);
	{
		const struct net_stats *st1 = net_stats(&sa);
		uint64_t sum = 0;

		for (int i = 0; i < NET_RX_COUNT; i++)
			sum += st1->rx[i];
		ok(sum == st1->rx_frames && st1->tx[NET_TX_SENT] ==
		    ab.frames, "%s: every frame counted once", sc->name);
	}
	net_tcp_unlisten(&sa, &l, wnow);
	wire_flush(&ab);
	wire_flush(&ba);
	net_fini(&sa);
	net_fini(&sb);
}

static void
test_back_to_back(void)
{
	static const struct scenario sc[] = {
		{ "clean", 1, 4 << 20, 0, 0, 0, NET_TCP_RCVBUF, 0 },
		{ "lossy", 1, 4 << 20, 20, 10, 50, NET_TCP_RCVBUF, 0 },
		{ "hostile", 2, 1 << 20, 100, 50, 200, NET_TCP_RCVBUF, 0 },
		{ "slow reader", 1, 1 << 20, 10, 0, 20, 8192, 2048 },
		{ "parallel", 24, 256 << 10, 20, 10, 50, 16384, 0 },
	};

	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++)
		run_scenario(&sc[i]);
}

int
main(void)
{
	test_closed_port();
	test_synack();
	test_reentry();
	test_receive();
	test_zero_window_receive();
	test_backlog();
	test_close();
	test_rst();
	test_rto();
	test_fast_retransmit();
	test_early_retransmit();
	test_persist();
	test_back_to_back();
	test_ts_sack();
	test_readdress();
	net_fini(&st);
	return tap_done();
}
