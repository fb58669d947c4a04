/*
 * fuzz-net - the network stack (runtime/net/) fed arbitrary frames.
 *
 * Input: one mode byte (bit 0: leave the stack unconfigured, so that only
 * what DHCP will need gets through), then records of
 *   [1 byte: clock advance, in 50 ms steps][2 bytes: length, big-endian]
 *   [length bytes: an Ethernet frame]
 * until the input runs out (a short last record takes what is left).  A
 * UDP echo socket on port 7 answers from inside its callback, and one on
 * port 9 sends to an unresolved address, so replies, ARP queueing,
 * retries and expiry all run.  Invariants: every transmitted frame is an
 * Ethernet frame no longer than NET_FRAME_MAX (MTU + 14); each input is
 * counted exactly once; deadlines lie in the future; net_fini() leaves
 * nothing allocated (LeakSanitizer checks).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct net_stack st;
static struct net_udp echo, other;
static uint64_t now;
static unsigned sent;

static int
sink(void *arg, const void *frame, size_t len)
{
	const uint8_t *f = frame;

	assert(len >= NET_ETH_HDR && len <= NET_FRAME_MAX);
	assert((f[6] & 1) == 0);	/* from our own, unicast, MAC */
	sent++;
	/* Now and then a driver that is out of buffers. */
	return (sent % 17) == 0 ? -RT_EAGAIN : 0;
}

static void
on_echo(struct net_udp *sock, void *arg, uint32_t src_ip, uint16_t src_port,
    uint32_t dst_ip, const void *d, size_t len)
{
	int r = net_udp_send(&st, sock, src_ip, src_port, d, len, now);

	assert(r <= 0);
}

static void
on_other(struct net_udp *sock, void *arg, uint32_t src_ip, uint16_t src_port,
    uint32_t dst_ip, const void *d, size_t len)
{
	/* Somewhere on the subnet that may never answer ARP. */
	net_udp_send(&st, sock, 0x0a000200 | (len & 0xff), 9, d,
	    len > 64 ? 64 : len, now);
}

static void
check_counters(const struct net_stats *s, uint64_t frames)
{
	uint64_t sum = 0;

	for (int i = 0; i < NET_RX_COUNT; i++)
		sum += s->rx[i];
	assert(sum == s->rx_frames && s->rx_frames == frames);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct net_config cfg;
	uint64_t frames = 0;

	if (size < 1)
		return 0;
	now = 1000 * RT_NSEC_PER_SEC;
	sent = 0;
	if (net_init(&st, mac, sink, NULL) != 0)
		abort();
	if ((data[0] & 1) == 0) {
		if (net_config_parse(&cfg,
		    "ip=10.0.2.15/24 gw=10.0.2.2") != 0 ||
		    net_configure(&st, &cfg, now) != 0)
			abort();
	}
	memset(&echo, 0, sizeof(echo));
	memset(&other, 0, sizeof(other));
	if (net_udp_bind(&st, &echo, 7, on_echo, NULL) != 0 ||
	    net_udp_bind(&st, &other, 9, on_other, NULL) != 0)
		abort();
	data++;
	size--;
	while (size > 0) {
		size_t len = size >= 3 ? (size_t)(data[1] << 8 | data[2]) : 0;
		uint64_t next;
		int r;

		now += (uint64_t)data[0] * 50 * RT_NSEC_PER_MSEC;
		data += size >= 3 ? 3 : size;
		size -= size >= 3 ? 3 : size;
		if (len > size)
			len = size;
		/* A copy of exactly (len) bytes, so ASan sees any overread. */
		{
			uint8_t *f = malloc(len ? len : 1);

			assert(f != NULL);
			memcpy(f, data, len);
			r = net_input(&st, f, len, now);
			free(f);
		}
		assert(r >= 0 && r < NET_RX_COUNT);
		frames++;
		check_counters(net_stats(&st), frames);
		next = net_poll(&st, now);
		assert(next > now);
		data += len;
		size -= len;
	}
	/* Let every ARP wait run out: retries, then the give-up. */
	for (int i = 0; i <= NET_ARP_TRIES; i++) {
		now += NET_ARP_RETRY_NS;
		net_poll(&st, now);
	}
	assert(net_poll(&st, now) == RT_TIME_INFINITY);
	{
		const struct net_stats *s = net_stats(&st);

		assert(s->tx[NET_TX_SENT] + s->tx[NET_TX_DRIVER] == sent);
	}
	net_udp_unbind(&st, &echo);
	net_udp_unbind(&st, &other);
	net_fini(&st);
	return 0;
}
