/*
 * fuzz-net - the network stack (runtime/net/) fed arbitrary frames.
 *
 * Input: one mode byte, then records of
 *   [1 byte: clock advance, in 50 ms steps][2 bytes: length, big-endian]
 *   [length bytes: an Ethernet frame]
 * until the input runs out (a short last record takes what is left).
 * Mode bits: 0 leaves the stack unconfigured, so that only what DHCP will
 * need gets through; 1 opens a TCP connection to 10.0.2.2:1234 that
 * sends once connected; 2 shrinks TCP's buffers to 1 KiB, max_conns to 4
 * and the MSL to 1 ms; 3 gives the listener a backlog of 1.
 *
 * A UDP echo socket on port 7 answers from inside its callback, and one
 * on port 9 sends to an unresolved address, so replies, ARP queueing,
 * retries and expiry all run.  A TCP listener on port 7 echoes what it
 * reads, and by the first byte of each read may also shut the
 * connection down ('s'), close it ('c') or abort it ('a'); the peer's
 * FIN closes it.  The stack is not seeded, so its initial sequence
 * numbers depend only on the clock, and the fuzzer's comparison tracing
 * can find the acknowledgment numbers that complete handshakes.
 *
 * Invariants: every transmitted frame is an Ethernet frame no longer
 * than NET_FRAME_MAX (MTU + 14); each input is counted exactly once;
 * deadlines lie in the future; the connections never outnumber
 * max_conns; the TCP calls keep their contracts; once the input is over
 * every timer runs out; net_fini() leaves nothing allocated
 * (LeakSanitizer checks).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct net_stack st;
static struct net_udp echo, other;
static struct net_tcp_listener tcp_echo;
static struct net_tcp *active;
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

/* ---- TCP: an echo service, and an active connection ---- */

static void
t_echo_readable(struct net_tcp *c, void *arg)
{
	uint8_t buf[1500];
	long n, w;

	while ((n = net_tcp_recv(&st, c, buf, sizeof(buf), now)) > 0) {
		assert((size_t)n <= sizeof(buf));
		w = net_tcp_send(&st, c, buf, (size_t)n, buf[0] & 1 ?
		    NET_TCP_MORE : 0, now);
		assert(w == -RT_EAGAIN || w == -RT_EPIPE || (w > 0 && w <= n));
		assert(net_tcp_writable(c) <= 64 * 1024);
		switch (buf[0]) {
		case 's':
			assert(net_tcp_shutdown(&st, c, now) == 0);
			break;
		case 'c':
			net_tcp_close(&st, c, now);
			return;
		case 'a':
			net_tcp_abort(&st, c, now);
			return;
		default:
			break;
		}
	}
	if (n == 0) {
		net_tcp_close(&st, c, now);
		return;
	}
	assert(n == -RT_EAGAIN);
}

static void
t_echo_writable(struct net_tcp *c, void *arg)
{
	assert(net_tcp_writable(c) > 0);
}

static void
t_echo_closed(struct net_tcp *c, void *arg, int err)
{
	assert(err == -RT_ECONNRESET || err == -RT_ETIMEDOUT ||
	    err == -RT_ECONNREFUSED);
}

static const struct net_tcp_ops echo_ops = {
	.readable = t_echo_readable,
	.writable = t_echo_writable,
	.closed = t_echo_closed,
};

static void
t_accept(struct net_tcp_listener *l, void *arg, struct net_tcp *c)
{
	struct net_tcp_info i;

	net_tcp_info(c, &i);
	assert(strcmp(i.state, "ESTABLISHED") == 0 ||
	    strcmp(i.state, "CLOSE_WAIT") == 0);
	assert(i.local_port == 7 && i.mss >= 64 && i.mss <= NET_MTU - 40);
	net_tcp_set_ops(c, &echo_ops, NULL);
}

static void
t_active_connected(struct net_tcp *c, void *arg)
{
	long w = net_tcp_send(&st, c, "GET / HTTP/1.0\r\n\r\n", 18, 0, now);

	assert(w > 0 || w == -RT_EAGAIN);
}

static void
t_active_readable(struct net_tcp *c, void *arg)
{
	uint8_t buf[512];
	long n;

	while ((n = net_tcp_recv(&st, c, buf, sizeof(buf), now)) > 0)
		;
	if (n == 0) {
		net_tcp_close(&st, c, now);
		active = NULL;
	}
}

static void
t_active_closed(struct net_tcp *c, void *arg, int err)
{
	assert(c == active);
	active = NULL;
}

static const struct net_tcp_ops active_ops = {
	.connected = t_active_connected,
	.readable = t_active_readable,
	.closed = t_active_closed,
};

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
	uint64_t frames = 0, next;
	unsigned max_conns;

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
	if (data[0] & 4) {
		struct net_tcp_config tc = { 1024, 1024, 4, RT_NSEC_PER_MSEC };

		if (net_tcp_configure(&st, &tc) != 0)
			abort();
	}
	max_conns = data[0] & 4 ? 4 : NET_TCP_MAX_CONNS;
	memset(&tcp_echo, 0, sizeof(tcp_echo));
	if (net_tcp_listen(&st, &tcp_echo, 7, data[0] & 8 ? 1 : 16, t_accept,
	    NULL) != 0)
		abort();
	active = NULL;
	if (data[0] & 2) {
		int r = net_tcp_connect(&st, &active, 0x0a000202, 1234,
		    &active_ops, NULL, now);

		assert(r == 0 || (r == -RT_ENETUNREACH && (data[0] & 1)));
		if (r != 0)
			active = NULL;
	}
	data++;
	size--;
	while (size > 0) {
		size_t len = size >= 3 ? (size_t)(data[1] << 8 | data[2]) : 0;
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
		assert(st.tcp.nconns <= max_conns);
		if (active != NULL) {
			struct net_tcp_info i;

			net_tcp_info(active, &i);
			assert(i.remote_port == 1234 && i.local_port >= 49152);
		}
		next = net_poll(&st, now);
		assert(next > now);
		data += len;
		size -= len;
	}
	/* Let every timer run out: ARP's retries and give-ups, TCP's
	 * retransmissions, probes, FIN_WAIT_2 and TIME_WAIT. */
	for (int i = 0; i < 100000 &&
	    (next = net_poll(&st, now)) != RT_TIME_INFINITY; i++) {
		assert(next > now);
		now = next;
	}
	assert(net_poll(&st, now) == RT_TIME_INFINITY);
	{
		const struct net_stats *s = net_stats(&st);

		assert(s->tx[NET_TX_SENT] + s->tx[NET_TX_DRIVER] == sent);
	}
	net_udp_unbind(&st, &echo);
	net_udp_unbind(&st, &other);
	assert(net_tcp_unlisten(&st, &tcp_echo, now) == 0);
	/* Connections the application still holds: net_fini() frees them. */
	net_fini(&st);
	active = NULL;
	return 0;
}
