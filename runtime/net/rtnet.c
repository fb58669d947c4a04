/*
 * rtnet.c - the network for applications (rt.h, "Network"): the first
 * network device, the runtime's TCP/IP stack on it, and the event loop
 * feeding one into the other.
 *
 * The stack is one static struct net_stack: one interface per guest is
 * all DESIGN §7 asks for.  It is driven from an rt_poll_source whose
 * service() runs inside rt_poll(): it drains the device into net_input()
 * (callbacks of sockets run there), then runs the stack's timers with
 * net_poll() and hands their next deadline to the event loop, which halts
 * until then or until the device wakes it.  Calls the application makes
 * outside a callback (a send from its own timer) may move the stack's
 * deadline: service() runs again before every halt, so it is seen.
 *
 * Only here, never in libnet-host.a: it is the part that touches the
 * device, the clock and the CPU.
 */
#include <string.h>

#include "rt.h"
#include "net.h"
#include "../drivers/netdev.h"
#include "../kernel/kernel.h"
#include "../arch/x86_64/cpu.h"

/* Frames taken from the device per service() call: the event loop's
 * timers get their turn at least this often under a flood. */
#define RX_BATCH	64
/* How long a full transmit ring may be waited for before the frame is
 * given up (counted by the stack as a driver drop). */
#define TX_WAIT_NS	(2 * RT_NSEC_PER_MSEC)

static struct net_stack stack;
static struct netdev *dev;
static struct rt_poll_source source;
static uint8_t rx_frame[NET_FRAME_MAX];
static int up;

static int
transmit(void *arg, const void *frame, size_t len)
{
	uint64_t until = 0;
	int r;

	(void)arg;
	/* A full ring empties as the host takes frames: wait a little,
	 * as a lost frame would cost TCP a retransmission timeout. */
	while ((r = netdev_send(dev, frame, len)) == -RT_EAGAIN) {
		uint64_t now = rt_time_monotonic_ns();

		if (until == 0)
			until = now + TX_WAIT_NS;
		else if (now >= until)
			break;
		cpu_pause();
	}
	return r;
}

static int
service(void *arg, uint64_t now, uint64_t *next)
{
	size_t len;
	int n = 0;

	(void)arg;
	(void)now;
	/* The time of each frame, not the loop's: callbacks inside
	 * net_input() pass the stack fresher times (a send starts an RTT
	 * sample), and a later frame of the batch must not come earlier. */
	while (n < RX_BATCH &&
	    (len = netdev_recv(dev, rx_frame, sizeof rx_frame)) > 0) {
		/* A frame longer than any we accept was cut: the stack
		 * counts it as too long from its length. */
		net_input(&stack, rx_frame, len > sizeof rx_frame ?
		    NET_FRAME_MAX + 1 : len, rt_time_monotonic_ns());
		n++;
	}
	*next = net_poll(&stack, rt_time_monotonic_ns());
	return n;
}

/* Unpredictable enough for ISNs and transaction IDs: RDRAND when the CPU
 * has it, mixed with the TSC and the MAC. */
static uint64_t
seed(const uint8_t mac[6])
{
	uint64_t s = rdtsc(), r = 0;
	unsigned char ok = 0;

	if (cpuid(1, 0).ecx & (1u << 30)) {
		for (int i = 0; i < 10 && !ok; i++)
			__asm__ volatile("rdrand %0; setc %1"
			    : "=r"(r), "=qm"(ok));
	}
	for (int i = 0; i < 6; i++)
		s = (s ^ mac[i]) * 0x100000001b3ULL;
	return s ^ r;
}

static int dhcp_bound;

static void
dhcp_event(struct net_stack *s, void *arg, int bound,
    const struct net_config *cfg)
{
	(void)s;
	(void)arg;
	(void)cfg;
	dhcp_bound = bound;
}

static void
fill_info(struct rt_net_info *ni, int dhcp)
{
	memset(ni, 0, sizeof(*ni));
	ni->driver = dev->driver;
	ni->transport = dev->transport;
	memcpy(ni->mac, net_mac(&stack), 6);
	ni->ip = stack.cfg.ip;
	ni->netmask = stack.cfg.netmask;
	ni->gateway = stack.cfg.gateway;
	ni->dhcp = dhcp;
}

int
rt_net_up(const struct rt_info *info, uint64_t timeout_ns,
    struct net_stack **sp, struct rt_net_info *ni)
{
	struct net_config cfg;
	uint64_t deadline, now;
	int r, dhcp = 0;

	if (up)
		return -RT_EINVAL;
	if (net_config_parse(&cfg, info->cmdline) < 0)
		return -RT_EINVAL;
	if ((r = netdev_probe(info->cmdline, &dev)) < 0)
		return r;
	if ((r = net_init(&stack, dev->mac, transmit, NULL)) < 0)
		return r;
	net_seed(&stack, seed(dev->mac));
	now = rt_time_monotonic_ns();
	/* An address, or only a MAC (the address then comes from DHCP). */
	if ((cfg.ip != 0 || cfg.has_mac) &&
	    (r = net_configure(&stack, &cfg, now)) < 0)
		return r;
	source.service = service;
	rt_poll_source_add(&source);
	up = 1;
	if (cfg.ip == 0) {
		dhcp = 1;
		if ((r = net_dhcp_start(&stack, dhcp_event, NULL, now)) < 0)
			return r;
		deadline = timeout_ns > RT_TIME_INFINITY - 1 - now ?
		    RT_TIME_INFINITY - 1 : now + timeout_ns;
		while (!dhcp_bound && rt_time_monotonic_ns() < deadline)
			rt_poll(deadline);
	}
	*sp = &stack;
	if (ni != NULL)
		fill_info(ni, dhcp);
	return dhcp && !dhcp_bound ? -RT_ETIMEDOUT : 0;
}
