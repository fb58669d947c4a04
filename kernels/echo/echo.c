/*
 * echo.c - a test kernel for the network stack: the classic small
 * services over TCP and UDP on the runtime's stack (rt.h, "Network").
 *
 *   TCP 7   echo: every byte comes back (RFC 862)
 *   UDP 7   echo: every datagram comes back
 *   TCP 9   sink: reads to the end, then answers "BYTES CRC32\n" (CRC-32
 *           as zlib computes it, 8 hex digits) and closes: the peer
 *           checks that what arrived is what it sent
 *   TCP 19  source: reads a line "N\n", sends N bytes, byte i being
 *           i % 251, and closes
 *
 * Command line: the network words of rt_net_up() (ip=, gw=, mac=; DHCP
 * without them), "tcpbuf=BYTES" for each connection's receive and send
 * buffers, and "quiet" to print no line per connection.  It prints
 * "echo: ready" once listening, and serves until it is killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "rt.h"

enum service { ECHO, SINK, SOURCE };

struct conn {
	enum service what;
	struct net_tcp *c;
	uint64_t bytes;		/* received (sink), left to send (source) */
	uint64_t sent;		/* source: bytes sent so far */
	uint32_t crc;
	char line[24];		/* source: the request line */
	size_t nline;
	int closing;
	size_t npend, off;	/* echo: read, not yet taken by send */
	uint8_t pend[16384];
};

static struct net_stack *stack;
static int quiet;
static uint32_t crc_table[256];

static uint64_t
now(void)
{
	return rt_time_monotonic_ns();
}

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t
crc_add(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
finish(struct conn *k)
{
	net_tcp_close(stack, k->c, now());
	free(k);
}

/* Echo: moves what was received into the send buffer.  What send did
 * not take waits in k->pend, and reading stops (the peer's window
 * shrinks) until writable() says the send buffer has room: send's
 * -RT_EAGAIN or short count is what arms that callback. */
static void
echo_pump(struct conn *k)
{
	long n;

	for (;;) {
		while (k->off < k->npend) {
			n = net_tcp_send(stack, k->c, k->pend + k->off,
			    k->npend - k->off, 0, now());
			if (n == -RT_EAGAIN)
				return;
			if (n < 0) {
				net_tcp_abort(stack, k->c, now());
				free(k);
				return;
			}
			k->off += (size_t)n;
		}
		k->off = k->npend = 0;
		n = net_tcp_recv(stack, k->c, k->pend, sizeof k->pend, now());
		if (n == -RT_EAGAIN)
			return;
		if (n <= 0) {
			finish(k);
			return;
		}
		k->npend = (size_t)n;
	}
}

static void
sink_read(struct conn *k)
{
	static uint8_t buf[16384];
	char reply[32];
	long n;

	while ((n = net_tcp_recv(stack, k->c, buf, sizeof buf, now())) > 0) {
		k->bytes += (uint64_t)n;
		k->crc = crc_add(k->crc, buf, (size_t)n);
	}
	if (n == 0 && !k->closing) {
		int len = snprintf(reply, sizeof reply, "%llu %08x\n",
		    (unsigned long long)k->bytes, k->crc);

		k->closing = 1;
		if (!quiet)
			rt_printf("echo: sink got %s", reply);
		net_tcp_send(stack, k->c, reply, (size_t)len, 0, now());
		finish(k);
	} else if (n < 0 && n != -RT_EAGAIN) {
		finish(k);
	}
}

/* Source: fills the send buffer with the pattern until N bytes went. */
static void
source_fill(struct conn *k)
{
	static uint8_t pattern[251 * 64];
	static int made;
	long m;

	if (!made) {
		for (size_t i = 0; i < sizeof pattern; i++)
			pattern[i] = (uint8_t)(i % 251);
		made = 1;
	}
	while (k->bytes > 0) {
		size_t off = (size_t)(k->sent % 251);
		size_t n = sizeof pattern - off;

		if (n > k->bytes)
			n = (size_t)k->bytes;
		m = net_tcp_send(stack, k->c, pattern + off, n, 0, now());
		if (m == -RT_EAGAIN)
			return;
		if (m < 0) {
			finish(k);
			return;
		}
		k->bytes -= (uint64_t)m;
		k->sent += (uint64_t)m;
	}
	if (!k->closing) {
		k->closing = 1;
		if (!quiet)
			rt_printf("echo: source sent %llu\n",
			    (unsigned long long)k->sent);
		finish(k);
	}
}

static void
source_read(struct conn *k)
{
	char c;
	long n;

	while (!k->closing && k->bytes == 0 &&
	    (n = net_tcp_recv(stack, k->c, &c, 1, now())) > 0) {
		if (c == '\n') {
			k->line[k->nline] = '\0';
			k->bytes = strtoull(k->line, NULL, 10);
			if (k->bytes == 0) {
				finish(k);
				return;
			}
			source_fill(k);
			return;
		}
		if (k->nline + 1 >= sizeof k->line) {
			finish(k);
			return;
		}
		k->line[k->nline++] = c;
	}
}

static void
on_readable(struct net_tcp *c, void *arg)
{
	struct conn *k = arg;

	(void)c;
	if (k->what == ECHO)
		echo_pump(k);
	else if (k->what == SINK)
		sink_read(k);
	else
		source_read(k);
}

static void
on_writable(struct net_tcp *c, void *arg)
{
	struct conn *k = arg;

	(void)c;
	if (k->what == ECHO)
		echo_pump(k);
	else if (k->what == SOURCE && k->bytes > 0)
		source_fill(k);
}

static void
on_closed(struct net_tcp *c, void *arg, int err)
{
	(void)c;
	if (!quiet)
		rt_printf("echo: connection ended (%d)\n", err);
	free(arg);
}

static const struct net_tcp_ops ops = {
	.readable = on_readable,
	.writable = on_writable,
	.closed = on_closed,
};

static void
on_accept(struct net_tcp_listener *l, void *arg, struct net_tcp *c)
{
	struct conn *k = calloc(1, sizeof(*k));
	struct net_tcp_info ti;

	(void)l;
	if (k == NULL) {
		net_tcp_abort(stack, c, now());
		return;
	}
	k->what = (enum service)(uintptr_t)arg;
	k->c = c;
	if (!quiet) {
		net_tcp_info(c, &ti);
		rt_printf("echo: %s connection from %u.%u.%u.%u:%u mss %u\n",
		    k->what == ECHO ? "echo" : k->what == SINK ? "sink" :
		    "source", ti.remote_ip >> 24, ti.remote_ip >> 16 & 255,
		    ti.remote_ip >> 8 & 255, ti.remote_ip & 255, ti.remote_port,
		    ti.mss);
	}
	net_tcp_set_ops(c, &ops, k);
	on_readable(c, k);
}

static void
on_datagram(struct net_udp *sock, void *arg, uint32_t src_ip,
    uint16_t src_port, uint32_t dst_ip, const void *data, size_t len)
{
	(void)arg;
	(void)dst_ip;
	net_udp_send(stack, sock, src_ip, src_port, data, len, now());
}

/* The number of the word "name=N" on the command line, or (def). */
static unsigned long
word_value(const char *cmdline, const char *name, unsigned long def)
{
	const char *v = rt_cmdline_get(cmdline, name);

	return v != NULL && *v >= '0' && *v <= '9' ? strtoul(v, NULL, 10) :
	    def;
}

int
rt_main(const struct rt_info *info)
{
	static struct net_tcp_listener l_echo, l_sink, l_source;
	static struct net_udp u_echo;
	struct net_tcp_config tc;
	struct rt_net_info ni;
	int r;

	crc_init();
	quiet = rt_cmdline_get(info->cmdline, "quiet") != NULL;
	r = rt_net_up(info, 10 * RT_NSEC_PER_SEC, &stack, &ni);
	if (r == -RT_ENODEV) {
		rt_printf("echo: no network device\n");
		return 1;
	} else if (r < 0) {
		rt_printf("echo: network not up (error %d)\n", r);
		return 1;
	}
	rt_printf("echo: %s on %s, %02x:%02x:%02x:%02x:%02x:%02x, "
	    "%u.%u.%u.%u netmask %08x gateway %u.%u.%u.%u%s\n", ni.driver,
	    ni.transport, ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3],
	    ni.mac[4], ni.mac[5], ni.ip >> 24, ni.ip >> 16 & 255,
	    ni.ip >> 8 & 255, ni.ip & 255, ni.netmask, ni.gateway >> 24,
	    ni.gateway >> 16 & 255, ni.gateway >> 8 & 255, ni.gateway & 255,
	    ni.dhcp ? " (dhcp)" : "");
	tc.rcvbuf = tc.sndbuf = word_value(info->cmdline, "tcpbuf",
	    NET_TCP_RCVBUF);
	tc.max_conns = NET_TCP_MAX_CONNS;
	if ((r = net_tcp_configure(stack, &tc)) < 0) {
		rt_printf("echo: bad tcpbuf= (error %d)\n", r);
		return 1;
	}
	if (net_tcp_listen(stack, &l_echo, 7, 64, on_accept,
	    (void *)(uintptr_t)ECHO) < 0 ||
	    net_tcp_listen(stack, &l_sink, 9, 64, on_accept,
	    (void *)(uintptr_t)SINK) < 0 ||
	    net_tcp_listen(stack, &l_source, 19, 64, on_accept,
	    (void *)(uintptr_t)SOURCE) < 0 ||
	    net_udp_bind(stack, &u_echo, 7, on_datagram, NULL) < 0) {
		rt_printf("echo: cannot listen\n");
		return 1;
	}
	rt_printf("echo: ready\n");
	return rt_run();
}
