/*
 * netprobe.c - a test kernel for the network drivers: finds the first
 * network device, prints its driver, transport, how it wakes the CPU
 * (its interrupt, or polled) and MAC, asks by ARP who has the gateway,
 * and prints the MAC of the reply.  The addresses are those of the
 * command line's "ip=A/N gw=G" words (runtime/net/net.h: what unikerneld
 * gives a guest on its bridge), else 10.0.2.15 asking for 10.0.2.2,
 * QEMU's user-mode gateway, which answers.  Exits 0 on a reply, 1 with a
 * message when there is no device, no reply within 2 s, or the words are
 * malformed.  It speaks Ethernet and ARP only, through netdev.h; of the
 * stack it uses only the parser of those words.
 *
 * Two command line words measure (runtime-net.sh): "rtt=N" then times
 * N more requests, one at a time, from the send to the reply seen, and
 * prints the least, the median and the most; "wait=MS" then waits in
 * rt_poll() for the next frame, at most MS milliseconds, and prints how
 * long that took, how often the event loop woke to ask the device
 * meanwhile and how many interrupts the device raised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "netdev.h"
#include "rt.h"

#define ETH_P_ARP	0x0806
#define ARP_REQUEST	1
#define ARP_REPLY	2
#define FRAME_MIN	60	/* Ethernet's minimum, without the FCS */
#define RTT_MAX		100

static uint8_t our_ip[4] = { 10, 0, 2, 15 };
static uint8_t gw_ip[4] = { 10, 0, 2, 2 };

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Our address and the gateway's from ip= and gw=, when given. */
static int
addresses(const char *cmdline)
{
	struct net_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (net_config_parse(&cfg, cmdline) < 0) {
		rt_printf("netprobe: malformed ip=, gw= or mac= words\n");
		return -1;
	}
	if (cfg.ip == 0)
		return 0;
	if (cfg.gateway == 0) {
		rt_printf("netprobe: ip= without gw=: nobody to ask\n");
		return -1;
	}
	put32(our_ip, cfg.ip);
	put32(gw_ip, cfg.gateway);
	return 0;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void
print_mac(const char *what, const uint8_t *m)
{
	rt_printf("netprobe: %s %02x:%02x:%02x:%02x:%02x:%02x\n", what, m[0],
	    m[1], m[2], m[3], m[4], m[5]);
}

/* An ARP request for (gw_ip) from (mac), (our_ip): a broadcast frame. */
static size_t
arp_request(uint8_t *f, const uint8_t *mac)
{
	uint8_t *a = f + 14;

	memset(f, 0, FRAME_MIN);
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, ETH_P_ARP);
	put16(a, 1);			/* Ethernet */
	put16(a + 2, 0x0800);		/* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, ARP_REQUEST);
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, our_ip, 4);
	/* target hardware address: zero, unknown */
	memcpy(a + 24, gw_ip, 4);
	return FRAME_MIN;
}

/* 1 when (f) of (len) bytes is the gateway's ARP reply to us. */
static int
is_reply(const uint8_t *f, size_t len, const uint8_t *mac)
{
	const uint8_t *a = f + 14;

	return len >= 42 && get16(f + 12) == ETH_P_ARP &&
	    memcmp(f, mac, 6) == 0 && get16(a) == 1 &&
	    get16(a + 2) == 0x0800 && a[4] == 6 && a[5] == 4 &&
	    get16(a + 6) == ARP_REPLY && memcmp(a + 14, gw_ip, 4) == 0 &&
	    memcmp(a + 18, mac, 6) == 0 && memcmp(a + 24, our_ip, 4) == 0;
}

/* Waits until (deadline) for the gateway's reply, draining the rest:
 * 1 when it came. */
static int
wait_reply(struct netdev *dev, uint8_t *frame, size_t max, uint64_t deadline)
{
	size_t len;

	for (;;) {
		while ((len = netdev_recv(dev, frame, max)) > 0)
			if (len <= max && is_reply(frame, len, dev->mac))
				return 1;
		if (rt_time_monotonic_ns() >= deadline)
			return 0;
		rt_poll(deadline);
	}
}

/* The value of word "(name)=N" of (cmdline), or 0. */
static unsigned long
word_value(const char *cmdline, const char *name)
{
	const char *v = rt_cmdline_get(cmdline, name);

	return v != NULL ? strtoul(v, NULL, 10) : 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* (n) requests, one at a time, each timed from its send to its reply. */
static int
measure_rtt(struct netdev *dev, uint8_t *frame, size_t max, unsigned n)
{
	static uint64_t rtt[RTT_MAX];
	uint64_t t0;
	size_t len;
	unsigned i, j;

	if (n > RTT_MAX)
		n = RTT_MAX;
	for (i = 0; i < n; i++) {
		len = arp_request(frame, dev->mac);
		t0 = rt_time_monotonic_ns();
		if (netdev_send(dev, frame, len) != 0 ||
		    !wait_reply(dev, frame, max, t0 + RT_NSEC_PER_SEC)) {
			rt_printf("netprobe: round trip %u: no reply\n", i);
			return 1;
		}
		rtt[i] = rt_time_monotonic_ns() - t0;
	}
	/* Insertion sort: n is small. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && cmp_u64(&rtt[j - 1], &rtt[j]) > 0; j--) {
			t0 = rtt[j];
			rtt[j] = rtt[j - 1];
			rtt[j - 1] = t0;
		}
	rt_printf("netprobe: arp round trip over %u: min %lu us, median %lu "
	    "us, max %lu us\n", n, (unsigned long)(rtt[0] / 1000),
	    (unsigned long)(rtt[n / 2] / 1000),
	    (unsigned long)(rtt[n - 1] / 1000));
	return 0;
}

/* Waits at most (ms) milliseconds for a frame, with nothing else due:
 * how long, how often the event loop woke to ask the device, and how
 * many interrupts the device raised. */
static void
measure_wait(struct netdev *dev, uint8_t *frame, size_t max, unsigned long ms)
{
	struct netdev_stats a, b;
	uint64_t t0, deadline;
	int got = 0;

	while (netdev_recv(dev, frame, max) > 0)
		continue;
	rt_printf("netprobe: waiting up to %lu ms for a frame\n", ms);
	netdev_stats(dev, &a);
	t0 = rt_time_monotonic_ns();
	deadline = t0 + ms * RT_NSEC_PER_MSEC;
	while (!got && rt_time_monotonic_ns() < deadline) {
		rt_poll(deadline);
		got = netdev_recv(dev, frame, max) > 0;
	}
	netdev_stats(dev, &b);
	if (got)
		rt_printf("netprobe: frame after %lu ms",
		    (unsigned long)((rt_time_monotonic_ns() - t0) /
		    RT_NSEC_PER_MSEC));
	else
		rt_printf("netprobe: no frame in %lu ms", ms);
	rt_printf(": %lu wake-ups, %lu interrupts\n",
	    (unsigned long)(b.polls - a.polls),
	    (unsigned long)(b.interrupts - a.interrupts));
}

int
rt_main(const struct rt_info *info)
{
	static uint8_t frame[2048];
	struct netdev *dev;
	uint64_t t0, t1, deadline;
	unsigned long n;
	size_t len;
	int r;

	if (addresses(info->cmdline) < 0)
		return 1;
	t0 = rt_time_monotonic_ns();
	if ((r = netdev_probe(info->cmdline, &dev)) == -RT_ENODEV) {
		rt_printf("netprobe: no network device\n");
		return 1;
	} else if (r != 0) {
		rt_printf("netprobe: network device unusable (error %d)\n", r);
		return 1;
	}
	rt_printf("netprobe: %s on %s, mtu %u\n", dev->driver, dev->transport,
	    dev->mtu);
	if (dev->irq != NULL)
		rt_printf("netprobe: interrupts (%s)\n", dev->irq);
	else
		rt_printf("netprobe: polled\n");
	print_mac("our mac", dev->mac);
	rt_printf("netprobe: %u.%u.%u.%u asks for %u.%u.%u.%u\n", our_ip[0],
	    our_ip[1], our_ip[2], our_ip[3], gw_ip[0], gw_ip[1], gw_ip[2],
	    gw_ip[3]);
	t1 = rt_time_monotonic_ns();
	len = arp_request(frame, dev->mac);
	if ((r = netdev_send(dev, frame, len)) != 0) {
		rt_printf("netprobe: send failed (error %d)\n", r);
		return 1;
	}
	deadline = rt_time_monotonic_ns() + 2 * RT_NSEC_PER_SEC;
	if (!wait_reply(dev, frame, sizeof frame, deadline)) {
		rt_printf("netprobe: no ARP reply from %u.%u.%u.%u within "
		    "2 s\n", gw_ip[0], gw_ip[1], gw_ip[2], gw_ip[3]);
		return 1;
	}
	{
		char what[32];

		snprintf(what, sizeof what, "%u.%u.%u.%u is at", gw_ip[0],
		    gw_ip[1], gw_ip[2], gw_ip[3]);
		print_mac(what, frame + 22);
	}
	rt_printf("netprobe: probe took %llu us, the reply %llu us\n",
	    (unsigned long long)(t1 - t0) / 1000,
	    (unsigned long long)(rt_time_monotonic_ns() - t1) / 1000);
	if ((n = word_value(info->cmdline, "rtt")) > 0 &&
	    measure_rtt(dev, frame, sizeof frame, (unsigned)n) != 0)
		return 1;
	if ((n = word_value(info->cmdline, "wait")) > 0)
		measure_wait(dev, frame, sizeof frame, n);
	return 0;
}
