/*
 * test-net - the network stack (runtime/net/) on the host: crafted frames
 * in, the frames it transmits checked byte for byte, with a fake clock.
 *
 * The expected frames below were written out from the layouts of RFC 826
 * (ARP), RFC 791 (IPv4), RFC 792 (ICMP) and RFC 768 (UDP), with their
 * checksums computed by a separate implementation (Python's struct and a
 * ones'-complement sum of its own), never by the stack under test; the
 * checksum routine is also checked against the reference one here and
 * against RFC 1071's worked example.
 *
 * Addresses: we are 52:54:00:12:34:56, 10.0.2.15/24; the gateway is
 * 52:55:0a:00:02:02, 10.0.2.2; another host 52:54:00:aa:bb:03, 10.0.2.3.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "tap.h"

/* ---- the expected and input frames ---- */
static const uint8_t garp_want[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
	0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t arp_req_in[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x55,
	0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t arp_reply_want[60] = {
	0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x52, 0x54,
	0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x02, 0x0f, 0x52, 0x55, 0x0a, 0x00,
	0x02, 0x02, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t arp_req_h3_want[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
	0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0a, 0x00, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t arp_reply_h3_in[60] = {
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x03,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x52, 0x54,
	0x00, 0xaa, 0xbb, 0x03, 0x0a, 0x00, 0x02, 0x03, 0x52, 0x54, 0x00, 0x12,
	0x34, 0x56, 0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t echo_in[60] = {
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x24, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01,
	0x62, 0xc8, 0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00, 0x02, 0x0f, 0x08, 0x00,
	0x54, 0x35, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
	0x67, 0x68, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t echo_want[60] = {
	0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
	0x62, 0xc9, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x00,
	0x5c, 0x35, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
	0x67, 0x68, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t udp_in[60] = {
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x20, 0x00, 0x02, 0x00, 0x00, 0x40, 0x11,
	0x62, 0xbb, 0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00, 0x02, 0x0f, 0x13, 0x88,
	0x00, 0x07, 0x00, 0x0c, 0xf5, 0x65, 0x70, 0x69, 0x6e, 0x67, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t udp_h3_want[60] = {
	0x52, 0x54, 0x00, 0xaa, 0xbb, 0x03, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
	0x62, 0xbb, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x03, 0x00, 0x07,
	0x13, 0x88, 0x00, 0x0d, 0x90, 0x61, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t udp9_in[60] = {
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x20, 0x00, 0x03, 0x00, 0x00, 0x40, 0x11,
	0x62, 0xba, 0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00, 0x02, 0x0f, 0x13, 0x88,
	0x00, 0x09, 0x00, 0x0c, 0xf5, 0x63, 0x70, 0x69, 0x6e, 0x67, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t unreach_want[70] = {
	0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
	0x62, 0xb5, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02, 0x03, 0x03,
	0xf3, 0xfb, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x20, 0x00, 0x03,
	0x00, 0x00, 0x40, 0x11, 0x62, 0xba, 0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00,
	0x02, 0x0f, 0x13, 0x88, 0x00, 0x09, 0x00, 0x0c, 0xf5, 0x63,
};
static const uint8_t udp_gw_want[60] = {
	0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
	0x5e, 0xb2, 0x0a, 0x00, 0x02, 0x0f, 0x08, 0x08, 0x08, 0x08, 0x00, 0x07,
	0x00, 0x35, 0x00, 0x09, 0x72, 0x81, 0x71, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

#define SEC	RT_NSEC_PER_SEC
#define T0	(1000 * SEC)	/* the fake clock's start: not 0, on purpose */

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint32_t our_ip = 0x0a00020f, peer_ip = 0x0a000202,
    h3_ip = 0x0a000203;

/* ---- a driver that keeps what is transmitted ---- */
#define SINK_MAX	64
struct sink {
	int n;
	size_t len[SINK_MAX];
	uint8_t frame[SINK_MAX][NET_FRAME_MAX];
	int fail;		/* transmit refuses frames */
	size_t longest;
};

static int
sink_transmit(void *arg, const void *frame, size_t len)
{
	struct sink *k = arg;

	if (len > k->longest)
		k->longest = len;
	if (k->fail)
		return -RT_EAGAIN;
	if (k->n < SINK_MAX && len <= NET_FRAME_MAX) {
		memcpy(k->frame[k->n], frame, len);
		k->len[k->n] = len;
	}
	k->n++;
	return 0;
}

static struct net_stack st;
static struct sink sink;

/* A configured stack with an empty sink (the gratuitous ARP dropped). */
static void
setup(void)
{
	struct net_config cfg;

	net_fini(&st);
	memset(&sink, 0, sizeof(sink));
	if (net_init(&st, our_mac, sink_transmit, &sink) != 0 ||
	    net_config_parse(&cfg,
	    "console=ttyS0 ip=10.0.2.15/24 gw=10.0.2.2") != 0 ||
	    net_configure(&st, &cfg, T0) != 0)
		abort();
	sink.n = 0;
}

static int
frame_is(int i, const uint8_t *want, size_t len, const char *name)
{
	int good = i < sink.n && sink.len[i] == len &&
	    memcmp(sink.frame[i], want, len) == 0;

	if (!ok(good, "%s", name)) {
		if (i >= sink.n) {
			diag("only %d frames sent", sink.n);
			return 0;
		}
		diag("length %zu, want %zu", sink.len[i], len);
		for (size_t j = 0; j < len && j < sink.len[i]; j++)
			if (sink.frame[i][j] != want[j])
				diag("byte %zu: 0x%02x, want 0x%02x", j,
				    sink.frame[i][j], want[j]);
	}
	return good;
}

static void
input(const uint8_t *f, size_t len, uint64_t now, int want, const char *name)
{
	int r = net_input(&st, f, len, now);

	if (!ok(r == want, "%s: %s", name, net_rx_name(want)))
		diag("got %s", net_rx_name(r));
}

/* The gateway's MAC learned, as from its ARP request for us. */
static void
learn_peer(uint64_t now)
{
	net_input(&st, arp_req_in, sizeof(arp_req_in), now);
	sink.n = 0;
}

static int
counters_consistent(void)
{
	const struct net_stats *s = net_stats(&st);
	uint64_t sum = 0;

	for (int i = 0; i < NET_RX_COUNT; i++)
		sum += s->rx[i];
	return sum == s->rx_frames;
}

/* ---- the checksum, against a reference ---- */

/* RFC 1071's definition, as plainly as it can be written. */
static uint16_t
ref_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		uint32_t w = (uint32_t)p[i] << 8;

		if (i + 1 < len)
			w |= p[i + 1];
		sum += w;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static void
test_cksum(void)
{
	/* RFC 1071 section 3: the sum of these is ddf2. */
	static const uint8_t rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
	    0xf6, 0xf7 };
	/* A header with a known good checksum (b861). */
	static const uint8_t hdr[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00,
	    0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01,
	    0xc0, 0xa8, 0x00, 0xc7 };
	static uint8_t buf[3001];
	unsigned seed = 1;
	int bad = 0;

	is_int(net_cksum_add(0, rfc1071, sizeof(rfc1071)), 0xddf2,
	    "RFC 1071 example sum");
	is_int(net_cksum_finish(net_cksum_add(0, rfc1071, 8)), 0x220d,
	    "RFC 1071 example checksum");
	is_int(net_cksum_finish(net_cksum_add(0, hdr, sizeof(hdr))), 0xb861,
	    "IPv4 header checksum");
	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = (uint8_t)(seed >> 16);
	}
	for (size_t len = 0; len <= sizeof(buf); len += 1 + len / 7) {
		size_t half = (len / 2) & ~(size_t)1;
		uint32_t s = net_cksum_add(net_cksum_add(0, buf, half),
		    buf + half, len - half);

		if (net_cksum_finish(net_cksum_add(0, buf, len)) !=
		    ref_cksum(buf, len) || net_cksum_finish(s) !=
		    ref_cksum(buf, len))
			bad++;
	}
	is_int(bad, 0, "checksum = reference, whole and in two pieces");
	memset(buf, 0xff, sizeof(buf));
	is_int(net_cksum_finish(net_cksum_add(0, buf, sizeof(buf))),
	    ref_cksum(buf, sizeof(buf)), "checksum of all ones");
}

/* ---- configuration ---- */

static void
test_config(void)
{
	struct net_config c;

	is_int(net_config_parse(&c, "a=b ip=10.0.2.15/24 gw=10.0.2.2 x"), 0,
	    "parse ip= gw=");
	ok(c.ip == our_ip && c.netmask == 0xffffff00 && c.gateway == peer_ip &&
	    !c.has_mac, "parsed values");
	is_int(net_config_parse(&c, "mac=02:00:AA:bb:cc:0d ip=192.168.1.9/16"),
	    0, "parse mac=");
	ok(c.has_mac && c.mac[0] == 2 && c.mac[2] == 0xaa && c.mac[5] == 0x0d &&
	    c.netmask == 0xffff0000 && c.gateway == 0, "parsed mac");
	is_int(net_config_parse(&c, "quiet"), 0, "no ip=: fine");
	is_int((long long)c.ip, 0, "no ip=: unconfigured");
	is_int(net_config_parse(&c, "ip=10.0.2.15"), -RT_EINVAL, "no prefix");
	is_int(net_config_parse(&c, "ip=10.0.2.256/24"), -RT_EINVAL, "octet");
	is_int(net_config_parse(&c, "ip=10.0.2/24"), -RT_EINVAL, "3 octets");
	is_int(net_config_parse(&c, "ip=10.0.2.15/33"), -RT_EINVAL, "/33");
	is_int(net_config_parse(&c, "ip=10.0.2.15/24x"), -RT_EINVAL, "junk");
	is_int(net_config_parse(&c, "ip=10.0.2.255/24"), -RT_EINVAL,
	    "subnet broadcast");
	is_int(net_config_parse(&c, "ip=127.0.0.1/8"), -RT_EINVAL, "loopback");
	is_int(net_config_parse(&c, "ip=224.0.0.1/4"), -RT_EINVAL, "multicast");
	is_int(net_config_parse(&c, "ip=10.0.2.15/24 gw=10.0.3.1"), -RT_EINVAL,
	    "gateway off the subnet");
	is_int(net_config_parse(&c, "gw=10.0.2.1"), -RT_EINVAL,
	    "gateway without ip");
	is_int(net_config_parse(&c, "mac=01:00:5e:00:00:01"), -RT_EINVAL,
	    "multicast mac");
	is_int(net_config_parse(&c, "mac=02:00:00:00:00"), -RT_EINVAL,
	    "short mac");
	is_int(net_config_parse(&c, "ip=10.0.2.15/32"), 0, "/32");
	is_int(net_config_parse(&c, "ip=10.0.2.15/24 ip=dhcp"), 0,
	    "ip=dhcp after a static address");
	ok(c.ip == 0 && c.netmask == 0, "ip=dhcp: unconfigured");
	is_int(net_config_parse(&c, "ip=dhcpx"), -RT_EINVAL, "ip=dhcpx");
	is_int(net_config_parse(&c, "ip=dhcp gw=10.0.2.2"), -RT_EINVAL,
	    "ip=dhcp with a gateway");
}

/* ---- ARP ---- */

static int never_n;

static void
never(struct net_udp *sock, void *arg, uint32_t src_ip, uint16_t src_port,
    uint32_t dst_ip, const void *data, size_t len)
{
	never_n++;
}

static void
test_arp(void)
{
	struct net_config cfg;
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x77 };

	net_fini(&st);
	memset(&sink, 0, sizeof(sink));
	is_int(net_init(&st, our_mac, sink_transmit, &sink), 0, "init");
	input(arp_req_in, sizeof(arp_req_in), T0, NET_RX_UNCONFIGURED,
	    "ARP before configuration");
	is_int(sink.n, 0, "no answer unconfigured");
	net_config_parse(&cfg, "ip=10.0.2.15/24 gw=10.0.2.2");
	is_int(net_configure(&st, &cfg, T0), 0, "configure");
	frame_is(0, garp_want, sizeof(garp_want), "gratuitous ARP bytes");

	setup();
	input(arp_req_in, sizeof(arp_req_in), T0, NET_RX_ARP_REQUEST,
	    "ARP request for us");
	frame_is(0, arp_reply_want, sizeof(arp_reply_want), "ARP reply bytes");
	/* A request for someone else: no answer. */
	{
		uint8_t f[60];

		memcpy(f, arp_req_in, 60);
		f[41] = 0x63;	/* target 10.0.2.99 */
		sink.n = 0;
		input(f, 60, T0, NET_RX_ARP_OTHER, "ARP for another");
		is_int(sink.n, 0, "not answered");
		memcpy(f, arp_req_in, 60);
		f[20] = 0;
		f[21] = 3;	/* op 3 */
		input(f, 60, T0, NET_RX_ARP_MALFORMED, "ARP bad op");
		input(f, 14 + 27, T0, NET_RX_ARP_MALFORMED, "ARP truncated");
		memcpy(f, arp_req_in, 60);
		memcpy(f + 22, other, 6);
		f[31] = 0x0f;	/* sender 10.0.2.15: us */
		input(f, 60, T0, NET_RX_ARP_CONFLICT, "ARP conflict");
	}

	/* Resolution: the datagram waits, then leaves. */
	setup();
	{
		struct net_udp u;
		uint64_t next;

		memset(&u, 0, sizeof(u));
		net_udp_bind(&st, &u, 7, never,
		    NULL);
		is_int(net_udp_send(&st, &u, h3_ip, 5000, "hello", 5, T0), 0,
		    "send to an unresolved address");
		is_int(sink.n, 1, "one frame");
		frame_is(0, arp_req_h3_want, sizeof(arp_req_h3_want),
		    "ARP request bytes");
		next = net_poll(&st, T0);
		ok(next == T0 + NET_ARP_RETRY_NS, "next deadline: the retry");
		net_poll(&st, T0 + NET_ARP_RETRY_NS);
		is_int(sink.n, 2, "retried after a second");
		frame_is(1, arp_req_h3_want, sizeof(arp_req_h3_want),
		    "retry bytes");
		input(arp_reply_h3_in, sizeof(arp_reply_h3_in),
		    T0 + NET_ARP_RETRY_NS + 5, NET_RX_ARP_REPLY, "ARP reply");
		frame_is(2, udp_h3_want, sizeof(udp_h3_want),
		    "queued datagram sent after resolution");
		ok(net_poll(&st, T0 + 2 * SEC) == RT_TIME_INFINITY,
		    "no deadline once resolved");
		is_int(net_udp_send(&st, &u, h3_ip, 5000, "hello", 5,
		    T0 + 3 * SEC), 0, "send again");
		is_int(sink.n, 4, "straight out, no ARP");
		net_udp_unbind(&st, &u);
	}

	/* Give-up after NET_ARP_TRIES, and the queue's bound. */
	setup();
	{
		struct net_udp u;
		const struct net_stats *s = net_stats(&st);
		int r = 0;

		memset(&u, 0, sizeof(u));
		net_udp_bind(&st, &u, 7, never,
		    NULL);
		for (int i = 0; i < NET_ARP_QUEUE; i++)
			r |= net_udp_send(&st, &u, h3_ip, 5000, "x", 1, T0);
		is_int(r, 0, "NET_ARP_QUEUE datagrams wait");
		is_int(net_udp_send(&st, &u, h3_ip, 5000, "x", 1, T0),
		    -RT_ENOBUFS, "one more: queue full");
		is_int((long long)s->tx[NET_TX_QUEUE_FULL], 1, "counted");
		for (int i = 1; i <= NET_ARP_TRIES; i++)
			net_poll(&st, T0 + (uint64_t)i * NET_ARP_RETRY_NS);
		is_int(sink.n, NET_ARP_TRIES, "NET_ARP_TRIES requests");
		is_int((long long)s->tx[NET_TX_ARP_TIMEOUT], NET_ARP_QUEUE,
		    "waiting datagrams dropped, counted");
		ok(net_poll(&st, T0 + 10 * SEC) == RT_TIME_INFINITY,
		    "nothing left to wait for");

		/* The cache's bound: every entry pending. */
		setup();
		net_udp_bind(&st, &u, 7, never,
		    NULL);
		r = 0;
		for (uint32_t i = 0; i < NET_ARP_ENTRIES; i++)
			r |= net_udp_send(&st, &u, 0x0a000220 + i, 1, "x", 1,
			    T0);
		is_int(r, 0, "NET_ARP_ENTRIES addresses pending");
		is_int(net_udp_send(&st, &u, 0x0a000240, 1, "x", 1, T0),
		    -RT_ENOBUFS, "one more: cache full");
		is_int((long long)net_stats(&st)->tx[NET_TX_ARP_FULL], 1,
		    "counted");
		net_udp_unbind(&st, &u);
	}

	/* Expiry with the fake clock. */
	setup();
	{
		struct net_udp u;

		memset(&u, 0, sizeof(u));
		net_udp_bind(&st, &u, 7, never,
		    NULL);
		learn_peer(T0);
		net_udp_send(&st, &u, peer_ip, 5000, "x", 1,
		    T0 + NET_ARP_TTL_NS - 1);
		ok(sink.n == 1 && sink.frame[0][13] == 0x00,
		    "just before expiry: the datagram itself");
		net_udp_send(&st, &u, peer_ip, 5000, "x", 1,
		    T0 + NET_ARP_TTL_NS);
		ok(sink.n == 2 && sink.frame[1][12] == 0x08 &&
		    sink.frame[1][13] == 0x06 && sink.frame[1][0] == 0xff,
		    "at expiry: an ARP request instead");
		net_udp_unbind(&st, &u);
	}
}

/* ---- ICMP ---- */

static void
test_icmp(void)
{
	uint8_t f[128];

	setup();
	learn_peer(T0);
	input(echo_in, sizeof(echo_in), T0, NET_RX_ICMP_ECHO, "echo request");
	frame_is(0, echo_want, sizeof(echo_want), "echo reply bytes");
	if (sink.n > 0)
		is_int(ref_cksum(sink.frame[0] + 34, 16), 0,
		    "reply's ICMP checksum, by the reference");

	memcpy(f, echo_in, sizeof(echo_in));
	f[36] ^= 1;
	input(f, sizeof(echo_in), T0, NET_RX_ICMP_CKSUM, "ICMP bad checksum");
	memcpy(f, echo_in, sizeof(echo_in));
	f[34] = 13;	/* timestamp */
	f[36] = (uint8_t)(f[36] - 5);	/* keeps the sum: 8 -> 13 */
	input(f, sizeof(echo_in), T0, NET_RX_ICMP_IGNORED, "ICMP timestamp");
	is_int(sink.n, 1, "only the one reply");
}

/* ---- UDP ---- */

static int got_n;
static size_t got_len;
static char got[64];
static uint32_t got_src;
static uint16_t got_port;

static void
on_udp(struct net_udp *sock, void *arg, uint32_t src_ip, uint16_t src_port,
    uint32_t dst_ip, const void *data, size_t len)
{
	got_n++;
	got_len = len;
	got_src = src_ip;
	got_port = src_port;
	memcpy(got, data, len < sizeof(got) ? len : sizeof(got));
}

/* Sets the IPv4 header checksum of the frame (f) by the reference. */
static void
fix_ip(uint8_t *f)
{
	size_t ihl = (size_t)(f[14] & 0xf) * 4;

	f[24] = f[25] = 0;
	if (ihl >= 20 && ihl <= 60) {
		uint16_t c = ref_cksum(f + 14, ihl);

		f[24] = (uint8_t)(c >> 8);
		f[25] = (uint8_t)c;
	}
}

static void
test_udp(void)
{
	struct net_udp u, v;
	uint8_t f[128];
	const struct net_stats *s = net_stats(&st);

	setup();
	learn_peer(T0);
	memset(&u, 0, sizeof(u));
	memset(&v, 0, sizeof(v));
	is_int(net_udp_bind(&st, &u, 7, on_udp, NULL), 0, "bind 7");
	is_int(net_udp_bind(&st, &v, 7, on_udp, NULL), -RT_EADDRINUSE,
	    "bind 7 twice");
	is_int(net_udp_bind(&st, &v, 0, on_udp, NULL), 0, "bind ephemeral");
	ok(net_udp_port(&v) >= 49152, "ephemeral port %u", net_udp_port(&v));
	is_int(net_udp_bind(&st, &v, 0, on_udp, NULL), -RT_EINVAL,
	    "bind a bound socket");

	got_n = 0;
	input(udp_in, sizeof(udp_in), T0, NET_RX_UDP, "datagram to port 7");
	ok(got_n == 1 && got_len == 4 && memcmp(got, "ping", 4) == 0 &&
	    got_src == peer_ip && got_port == 5000,
	    "delivered, with its source");
	memcpy(f, udp_in, sizeof(udp_in));
	f[41] ^= 0x40;
	input(f, sizeof(udp_in), T0, NET_RX_UDP_CKSUM, "UDP bad checksum");
	f[40] = f[41] = 0;
	input(f, sizeof(udp_in), T0, NET_RX_UDP, "UDP without checksum");
	memcpy(f, udp_in, sizeof(udp_in));
	f[39] = 40;	/* UDP length past the IP packet */
	input(f, sizeof(udp_in), T0, NET_RX_UDP_LEN, "UDP length too long");
	f[39] = 7;
	input(f, sizeof(udp_in), T0, NET_RX_UDP_LEN, "UDP length under 8");
	is_int(got_n, 2, "only the good ones delivered");

	/* Port unreachable, with its rate limit. */
	sink.n = 0;
	input(udp9_in, sizeof(udp9_in), T0, NET_RX_UDP_NO_PORT, "port 9");
	frame_is(0, unreach_want, sizeof(unreach_want),
	    "port unreachable bytes");
	if (sink.n > 0)
		is_int(ref_cksum(sink.frame[0] + 34, 36), 0,
		    "its ICMP checksum, by the reference");
	for (int i = 0; i < 3 * NET_ICMP_BURST; i++)
		net_input(&st, udp9_in, sizeof(udp9_in), T0 + 1);
	is_int(sink.n, NET_ICMP_BURST, "at most NET_ICMP_BURST at once");
	ok(s->tx[NET_TX_ICMP_LIMITED] == 2 * NET_ICMP_BURST + 1,
	    "the rest counted as limited");
	net_input(&st, udp9_in, sizeof(udp9_in), T0 + NET_ICMP_INTERVAL_NS);
	is_int(sink.n, NET_ICMP_BURST + 1, "one more after the interval");

	/* Sending: off-link through the gateway. */
	sink.n = 0;
	net_udp_unbind(&st, &u);
	memset(&u, 0, sizeof(u));
	net_udp_bind(&st, &u, 7, on_udp, NULL);
	/* The IP identification counts per packet: reset it to compare. */
	st.ip_id = 0;
	is_int(net_udp_send(&st, &u, 0x08080808, 53, "q", 1, T0), 0,
	    "send to 8.8.8.8");
	frame_is(0, udp_gw_want, sizeof(udp_gw_want),
	    "through the gateway, bytes");
	is_int(net_udp_send(&st, &u, peer_ip, 1, f, NET_UDP_MAX + 1, T0),
	    -RT_EMSGSIZE, "too long");
	is_int(net_udp_send(&st, &v, 0, 1, "x", 1, T0), -RT_EINVAL, "to 0");
	net_udp_unbind(&st, &v);
	is_int(net_udp_send(&st, &v, peer_ip, 1, "x", 1, T0), -RT_EINVAL,
	    "unbound socket");
	is_int(net_udp_unbind(&st, &v), -RT_ENOENT, "unbind twice");
	sink.fail = 1;
	is_int(net_udp_send(&st, &u, peer_ip, 1, "x", 1, T0), -RT_EAGAIN,
	    "driver's error returned");
	is_int((long long)s->tx[NET_TX_DRIVER], 1, "and counted");
	sink.fail = 0;
	net_udp_unbind(&st, &u);

	/* Without a gateway, off-link is unreachable. */
	{
		struct net_config c;

		net_config_parse(&c, "ip=10.0.2.15/24");
		net_configure(&st, &c, T0);
		net_udp_bind(&st, &u, 7, on_udp, NULL);
		is_int(net_udp_send(&st, &u, 0x08080808, 53, "q", 1, T0),
		    -RT_ENETUNREACH, "no gateway: no route");
		net_udp_unbind(&st, &u);
	}
}

/* ---- every drop, counted ---- */

static void
test_drops(void)
{
	struct net_udp u;
	uint8_t f[NET_FRAME_MAX + 8];
	const struct net_stats *s = net_stats(&st);
	size_t n = sizeof(udp_in);

	setup();
	learn_peer(T0);
	memset(&u, 0, sizeof(u));
	net_udp_bind(&st, &u, 7, on_udp, NULL);

	input(udp_in, 10, T0, NET_RX_ETH_SHORT, "truncated Ethernet");
	memset(f, 0, sizeof(f));
	memcpy(f, udp_in, n);
	input(f, NET_FRAME_MAX + 1, T0, NET_RX_ETH_LONG, "too long");
	input(udp_in, 14 + 19, T0, NET_RX_IP_SHORT, "truncated IPv4 header");
	input(udp_in, 14 + 30, T0, NET_RX_IP_LEN, "truncated IPv4 packet");

	memcpy(f, udp_in, n);
	f[0] = 0x52;
	f[5] = 0x57;
	input(f, n, T0, NET_RX_ETH_NOT_OURS, "wrong MAC");
	f[0] = 0x01;	/* multicast */
	input(f, n, T0, NET_RX_ETH_NOT_OURS, "multicast MAC");

	memcpy(f, udp_in, n);
	f[12] = 0x81;
	f[13] = 0x00;
	input(f, n, T0, NET_RX_ETH_VLAN, "VLAN tag");
	f[12] = 0x86;
	f[13] = 0xdd;
	input(f, n, T0, NET_RX_ETH_TYPE, "IPv6");

	memcpy(f, udp_in, n);
	f[25] ^= 1;
	input(f, n, T0, NET_RX_IP_CKSUM, "bad IPv4 checksum");

	memcpy(f, udp_in, n);
	f[14] = 0x65;
	fix_ip(f);
	input(f, n, T0, NET_RX_IP_VERSION, "version 6 in an IPv4 frame");
	f[14] = 0x44;
	fix_ip(f);
	input(f, n, T0, NET_RX_IP_IHL, "IHL 4");
	f[14] = 0x4f;
	input(f, n, T0, NET_RX_IP_IHL, "IHL 15: past the packet");

	memcpy(f, udp_in, n);
	f[16] = 0;
	f[17] = 19;
	fix_ip(f);
	input(f, n, T0, NET_RX_IP_LEN, "total length under the header");

	memcpy(f, udp_in, n);
	f[20] = 0x20;	/* more fragments */
	fix_ip(f);
	input(f, n, T0, NET_RX_IP_FRAG, "first fragment");
	f[20] = 0x00;
	f[21] = 0x10;	/* offset 128 */
	fix_ip(f);
	input(f, n, T0, NET_RX_IP_FRAG, "later fragment");
	f[20] = 0x40;	/* don't fragment: whole */
	f[21] = 0;
	fix_ip(f);
	input(f, n, T0, NET_RX_UDP, "DF set: a whole datagram");

	memcpy(f, udp_in, n);
	f[22] = 0;
	fix_ip(f);
	input(f, n, T0, NET_RX_IP_TTL, "TTL 0");

	memcpy(f, udp_in, n);
	f[33] = 99;
	fix_ip(f);
	input(f, n, T0, NET_RX_IP_NOT_OURS, "wrong IP");
	f[33] = 255;	/* subnet broadcast: ours; UDP sum changes though */
	fix_ip(f);
	f[40] = f[41] = 0;
	input(f, n, T0, NET_RX_UDP, "subnet broadcast delivered");

	memcpy(f, udp_in, n);
	f[26] = 127;
	fix_ip(f);
	input(f, n, T0, NET_RX_IP_BAD_SRC, "loopback source");
	memcpy(f, udp_in, n);
	f[23] = 47;	/* GRE */
	fix_ip(f);
	input(f, n, T0, NET_RX_IP_PROTO, "GRE, not spoken");

	/* Options are skipped: four NOPs, IHL 6. */
	memset(f, 0, sizeof(f));
	memcpy(f, udp_in, 34);
	memset(f + 34, 1, 4);
	memcpy(f + 38, udp_in + 34, n - 34);
	f[14] = 0x46;
	f[17] = (uint8_t)(f[17] + 4);
	fix_ip(f);
	got_n = 0;
	input(f, n + 4, T0, NET_RX_UDP, "IPv4 options skipped");
	ok(got_n == 1 && got_len == 4 && memcmp(got, "ping", 4) == 0,
	    "and the data intact");
	/* Ethernet padding beyond the total length is ignored. */
	memset(f, 0xee, sizeof(f));
	memcpy(f, udp_in, n);
	got_n = 0;
	input(f, n + 20, T0, NET_RX_UDP, "padded frame");
	ok(got_n == 1 && got_len == 4, "padding not delivered");

	memcpy(f, echo_in, sizeof(echo_in));
	input(f, 14 + 20 + 7, T0, NET_RX_IP_LEN, "ICMP cut by the frame");
	f[17] = 27;
	fix_ip(f);
	input(f, sizeof(echo_in), T0, NET_RX_ICMP_SHORT, "ICMP too short");
	memcpy(f, udp_in, n);
	f[17] = 27;
	fix_ip(f);
	input(f, n, T0, NET_RX_UDP_SHORT, "UDP too short");

	ok(counters_consistent(), "counters sum to the frames received");
	/* TCP's drops are test-tcp's. */
	for (int i = NET_RX_ETH_SHORT; i <= NET_RX_UDP_CKSUM; i++)
		if (i != NET_RX_UNCONFIGURED && i != NET_RX_ARP_MALFORMED &&
		    i != NET_RX_ARP_CONFLICT && i != NET_RX_ICMP_CKSUM &&
		    i != NET_RX_ICMP_IGNORED && i != NET_RX_UDP_LEN &&
		    i != NET_RX_UDP_CKSUM)
			ok(s->rx[i] > 0, "%s seen here", net_rx_name(i));
	net_udp_unbind(&st, &u);
}

/* ---- unconfigured: what DHCP will need ---- */

static void
test_unconfigured(void)
{
	struct net_udp u;
	uint8_t f[64];
	const uint8_t pseudo_tail[4] = { 0, 17, 0, 12 };
	uint8_t ph[12];
	uint16_t c;

	net_fini(&st);
	memset(&sink, 0, sizeof(sink));
	net_init(&st, our_mac, sink_transmit, &sink);
	memset(&u, 0, sizeof(u));
	is_int(net_udp_bind(&st, &u, 68, on_udp, NULL), 0, "bind 68");
	/* 10.0.2.2:67 -> 255.255.255.255:68, "dhcp", built by hand. */
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, udp_in + 6, 8);		/* source MAC, IPv4 */
	memcpy(f + 14, udp_in + 14, 12);	/* version... protocol */
	f[17] = 32;				/* total length 20 + 12 */
	memcpy(f + 26, udp_in + 26, 4);		/* source 10.0.2.2 */
	memset(f + 30, 0xff, 4);
	fix_ip(f);
	f[35] = 67;
	f[37] = 68;
	f[39] = 12;
	memcpy(f + 42, "dhcp", 4);
	memcpy(ph, f + 26, 8);
	memcpy(ph + 8, pseudo_tail, 4);
	{
		uint8_t all[24];

		memcpy(all, ph, 12);
		memcpy(all + 12, f + 34, 12);
		c = ref_cksum(all, sizeof(all));
	}
	f[40] = (uint8_t)(c >> 8);
	f[41] = (uint8_t)c;
	got_n = 0;
	input(f, 60, T0, NET_RX_UDP, "unconfigured: UDP broadcast delivered");
	ok(got_n == 1 && got_len == 4 && memcmp(got, "dhcp", 4) == 0,
	    "its data");
	input(udp_in, sizeof(udp_in), T0, NET_RX_UNCONFIGURED,
	    "unconfigured: unicast dropped");
	input(echo_in, sizeof(echo_in), T0, NET_RX_UNCONFIGURED,
	    "unconfigured: echo dropped");
	is_int(net_udp_send(&st, &u, 0xffffffff, 67, "disc", 4, T0), 0,
	    "unconfigured: send to 255.255.255.255");
	ok(sink.n == 1 && memcmp(sink.frame[0], f, 6) == 0 &&
	    memcmp(sink.frame[0] + 26, "\0\0\0\0\xff\xff\xff\xff", 8) == 0,
	    "from 0.0.0.0, to the broadcast MAC");
	if (sink.n == 1)
		is_int(ref_cksum(sink.frame[0] + 14, 20), 0,
		    "its IPv4 checksum, by the reference");
	is_int(net_udp_send(&st, &u, peer_ip, 67, "x", 1, T0), -RT_ENETUNREACH,
	    "unconfigured: unicast has no route");
	net_udp_unbind(&st, &u);
}

int
main(void)
{
	test_cksum();
	test_config();
	test_arp();
	test_icmp();
	test_udp();
	test_drops();
	test_unconfigured();
	is_int(never_n, 0, "no datagram for the sending-only sockets");
	for (int i = 0; i < NET_RX_COUNT; i++)
		ok(strcmp(net_rx_name(i), "?") != 0, "rx %d named", i);
	net_fini(&st);
	return tap_done();
}
