/*
 * fuzz-dhcp - the DHCP client (runtime/net/dhcp.c) in a stack fed
 * arbitrary frames and clock steps.
 *
 * Input: one mode byte (bit 0: the callback stops the client when told
 * of a lease), then records of
 *   [1 byte: clock step: under 0x80 that many 100 ms, else (b & 0x7f)
 *    minutes][1 byte: what][2 bytes: length, big-endian][length bytes]
 * until the input runs out.  "What" bits: 0, the bytes are a DHCP
 * message, which the harness wraps in Ethernet, IPv4 and UDP from
 * 10.0.2.2:67 with good checksums (else they are a whole Ethernet
 * frame); 1, to the client's address rather than 255.255.255.255;
 * 2, with the client's current xid and our MAC written into them, so
 * that the checks after those are reached; 3, from port 68; 4, an ARP
 * reply from 10.0.2.2 goes in first; 5, the client is stopped and
 * started again first.
 *
 * Invariants: every frame sent is an Ethernet frame of 14 to
 * NET_FRAME_MAX bytes, and every DHCP message sent a BOOTREQUEST with
 * the cookie, padded to 300 bytes, from 0.0.0.0 while unconfigured; each
 * input is counted exactly once; deadlines lie ahead; the stack has the
 * lease's address exactly while the client is bound, renewing or
 * rebinding; T1 <= T2 <= expiry; net_fini() leaves nothing allocated
 * (LeakSanitizer checks).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "net/frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SERVER	0x0a000202u

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t srv_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

static struct net_stack st;
static uint64_t now;
static unsigned sent;
static int stop_in_callback;

static int
sink(void *arg, const void *frame, size_t len)
{
	const uint8_t *f = frame;

	(void)arg;
	assert(len >= NET_ETH_HDR && len <= NET_FRAME_MAX);
	assert(memcmp(f + 6, our_mac, 6) == 0);
	/* A DHCP message: what RFC 2131 says a client's looks like. */
	if (len >= 42 && f[12] == 0x08 && f[13] == 0 && f[23] == 17 &&
	    f[34] == 0 && f[35] == 68) {
		assert(f[36] == 0 && f[37] == 67);
		assert(len >= 42 + 300);
		assert(f[42] == 1 && f[43] == 1 && f[44] == 6);
		assert(frame_get32(f + 42 + 236) == 0x63825363);
		assert(memcmp(f + 42 + 28, our_mac, 6) == 0);
		if (st.cfg.ip == 0)
			assert(frame_get32(f + 26) == 0 && frame_get32(f + 30) == 0xffffffffu);
	}
	sent++;
	return (sent % 23) == 0 ? -RT_EAGAIN : 0;
}

static void
on_dhcp(struct net_stack *s, void *arg, int bound,
    const struct net_config *cfg)
{
	(void)arg;
	if (bound)
		assert(cfg->ip != 0 && s->cfg.ip == cfg->ip);
	else
		assert(cfg->ip != 0 && s->cfg.ip == 0);
	if (stop_in_callback)
		net_dhcp_stop(s, now);
}

/* The DHCP message (m), (len) bytes, from the server, into (f). */
static size_t
wrap(uint8_t *f, const uint8_t *m, size_t len, int what)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t dst = (what & 2) && st.cfg.ip ? st.cfg.ip : 0xffffffffu;
	uint8_t *b = f + 42;

	memcpy(b, m, len);
	if ((what & 4) && len >= 34) {
		frame_put32(b + 4, st.dhcp.xid);
		memcpy(b + 28, our_mac, 6);
	}
	return frame_udp(f, srv_mac, dst == 0xffffffffu ? bcast : our_mac,
	    SERVER, dst, (what & 8) ? 68 : 67, 68, 0, len);
}

static void
arp_from_server(void)
{
	uint8_t f[60];

	frame_arp_reply(f, srv_mac, SERVER, our_mac, st.cfg.ip);
	net_input(&st, f, sizeof(f), now);
}

static void
check(uint64_t frames)
{
	const struct net_stats *s = net_stats(&st);
	struct net_dhcp_info i;
	uint64_t sum = 0;
	int bound;

	for (int k = 0; k < NET_RX_COUNT; k++)
		sum += s->rx[k];
	assert(sum == s->rx_frames && s->rx_frames == frames);
	net_dhcp_info(&st, &i);
	bound = strcmp(i.state, "bound") == 0 ||
	    strcmp(i.state, "renewing") == 0 ||
	    strcmp(i.state, "rebinding") == 0;
	if (bound)
		assert(st.cfg.ip != 0 && st.cfg.ip == i.cfg.ip &&
		    i.t1 <= i.t2 && i.t2 <= i.expiry && i.lease_s >=
		    NET_DHCP_LEASE_MIN);
	else if (strcmp(i.state, "releasing") != 0)
		assert(st.cfg.ip == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t f[NET_FRAME_MAX];
	uint64_t frames = 0, next;

	if (size < 1)
		return 0;
	now = 1000 * RT_NSEC_PER_SEC;
	sent = 0;
	stop_in_callback = data[0] & 1;
	if (net_init(&st, our_mac, sink, NULL) != 0)
		abort();
	net_seed(&st, 0x5eed);
	if (net_dhcp_start(&st, on_dhcp, NULL, now) != 0)
		abort();
	data++;
	size--;
	while (size >= 4) {
		size_t len = (size_t)(data[2] << 8 | data[3]), flen;
		int what = data[1], r;
		uint8_t *copy;

		now += data[0] < 0x80 ? data[0] * 100 * RT_NSEC_PER_MSEC :
		    (uint64_t)(data[0] & 0x7f) * 60 * RT_NSEC_PER_SEC;
		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		if (what & 0x20) {
			net_dhcp_stop(&st, now);
			/* It may still be releasing: start cuts it short. */
			assert(net_dhcp_start(&st, on_dhcp, NULL, now) == 0);
		}
		if (what & 0x10) {
			arp_from_server();
			frames++;
		}
		if (what & 1) {
			if (len > NET_UDP_MAX)
				len = NET_UDP_MAX;
			flen = wrap(f, data, len, what);
		} else {
			/* Longer is dropped as eth-long all the same. */
			flen = len > NET_FRAME_MAX + 1 ? NET_FRAME_MAX + 1 : len;
		}
		/* A copy of exactly the frame, so ASan sees any overread. */
		copy = malloc(flen ? flen : 1);
		assert(copy != NULL);
		memcpy(copy, (what & 1) ? f : data, flen);
		r = net_input(&st, copy, flen, now);
		assert(r >= 0 && r < NET_RX_COUNT);
		free(copy);
		frames++;
		next = net_poll(&st, now);
		assert(next > now);
		check(frames);
		data += len;
		size -= len;
	}
	/* Stop (a RELEASE may wait for ARP), then let every timer run out. */
	net_dhcp_stop(&st, now);
	for (int i = 0; i <= NET_ARP_TRIES + 1; i++) {
		now += NET_ARP_RETRY_NS;
		net_poll(&st, now);
	}
	assert(net_poll(&st, now) == RT_TIME_INFINITY);
	assert(st.cfg.ip == 0);
	{
		const struct net_stats *s = net_stats(&st);

		assert(s->tx[NET_TX_SENT] + s->tx[NET_TX_DRIVER] == sent);
	}
	net_fini(&st);
	return 0;
}
