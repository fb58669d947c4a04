/*
 * netprobe.c - a test kernel for the network drivers: finds the first
 * network device, prints its driver, transport and MAC, asks by ARP who
 * has the gateway, and prints the MAC of the reply.  The addresses are
 * those of the command line's "ip=A/N gw=G" words (runtime/net/net.h:
 * what unikerneld gives a guest on its bridge), else 10.0.2.15 asking for
 * 10.0.2.2, QEMU's user-mode gateway, which answers.  Exits 0 on a reply,
 * 1 with a message when there is no device, no reply within 2 s, or the
 * words are malformed.  It speaks Ethernet and ARP only, through
 * netdev.h; of the stack it uses only the parser of those words.
 */
#include <string.h>

#include "net.h"
#include "netdev.h"
#include "rt.h"

#define ETH_P_ARP	0x0806
#define ARP_REQUEST	1
#define ARP_REPLY	2
#define FRAME_MIN	60	/* Ethernet's minimum, without the FCS */

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

int
rt_main(const struct rt_info *info)
{
	static uint8_t frame[2048];
	struct netdev *dev;
	uint64_t deadline;
	size_t len;
	int r;

	if (addresses(info->cmdline) < 0)
		return 1;
	if ((r = netdev_probe(info->cmdline, &dev)) == -RT_ENODEV) {
		rt_printf("netprobe: no network device\n");
		return 1;
	} else if (r != 0) {
		rt_printf("netprobe: network device unusable (error %d)\n", r);
		return 1;
	}
	rt_printf("netprobe: %s on %s, mtu %u\n", dev->driver, dev->transport,
	    dev->mtu);
	print_mac("our mac", dev->mac);
	rt_printf("netprobe: %u.%u.%u.%u asks for %u.%u.%u.%u\n", our_ip[0],
	    our_ip[1], our_ip[2], our_ip[3], gw_ip[0], gw_ip[1], gw_ip[2],
	    gw_ip[3]);
	len = arp_request(frame, dev->mac);
	if ((r = netdev_send(dev, frame, len)) != 0) {
		rt_printf("netprobe: send failed (error %d)\n", r);
		return 1;
	}
	deadline = rt_time_monotonic_ns() + 2 * RT_NSEC_PER_SEC;
	while (rt_time_monotonic_ns() < deadline) {
		while ((len = netdev_recv(dev, frame, sizeof frame)) > 0)
			if (len <= sizeof frame &&
			    is_reply(frame, len, dev->mac)) {
				rt_printf("netprobe: %u.%u.%u.%u is at "
				    "%02x:%02x:%02x:%02x:%02x:%02x\n",
				    gw_ip[0], gw_ip[1], gw_ip[2], gw_ip[3],
				    frame[22], frame[23], frame[24], frame[25],
				    frame[26], frame[27]);
				return 0;
			}
		rt_poll(deadline);
	}
	rt_printf("netprobe: no ARP reply from %u.%u.%u.%u within 2 s\n",
	    gw_ip[0], gw_ip[1], gw_ip[2], gw_ip[3]);
	return 1;
}
