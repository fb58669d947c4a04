/*
 * tapdhcp - the runtime's network stack on a Linux tap, with its DHCP
 * client: for tests/integration/net-dhcp.sh, which runs it inside a
 * network namespace of its own against a real DHCP server.
 *
 *   tapdhcp IFNAME [SECONDS [MAC]]
 *
 * Attaches to the tap IFNAME (made with `ip tuntap add ... mode tap`, or
 * made here), starts the client and prints, one line each, what happens:
 *   bound A.B.C.D/N gw G.H.I.J lease L server S.T.U.V
 *   state renewing|rebinding|selecting...
 *   renewed lease L expires-in E
 *   lost A.B.C.D
 * and answers ARP and ICMP echo meanwhile.  After SECONDS (default: until
 * killed), or on SIGTERM or SIGINT, it stops the client, which releases
 * the lease when it has one, prints "released" (or "stopped" when it had
 * none) and exits 0.  Exit 1 when
 * the tap cannot be had.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RT_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static const char *
ipstr(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
	    (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

static int
prefix_len(uint32_t mask)
{
	int n = 0;

	while (mask & 0x80000000u) {
		n++;
		mask <<= 1;
	}
	return n;
}

static int
tap_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "tapdhcp: /dev/net/tun: %s\n", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tapdhcp: TUNSETIFF %s: %s\n", name,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
tap_transmit(void *arg, const void *frame, size_t len)
{
	int fd = *(int *)arg;

	if (write(fd, frame, len) != (ssize_t)len)
		return -RT_EAGAIN;
	return 0;
}

static void
on_dhcp(struct net_stack *s, void *arg, int bound,
    const struct net_config *cfg)
{
	struct net_dhcp_info info;
	char a[16], g[16], sv[16];

	(void)arg;
	if (!bound) {
		printf("lost %s\n", ipstr(cfg->ip, a));
		return;
	}
	net_dhcp_info(s, &info);
	printf("bound %s/%d gw %s lease %u server %s\n", ipstr(cfg->ip, a),
	    prefix_len(cfg->netmask), ipstr(cfg->gateway, g), info.lease_s,
	    ipstr(info.server, sv));
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* Prints what changed in the client since (*last). */
static void
report(struct net_stack *s, struct net_dhcp_info *last, uint64_t now)
{
	struct net_dhcp_info i;

	net_dhcp_info(s, &i);
	if (strcmp(i.state, last->state) != 0)
		printf("state %s\n", i.state);
	if (i.acks > 1 && i.acks != last->acks)
		printf("renewed lease %u expires-in %llu\n", i.lease_s,
		    (unsigned long long)((i.expiry - now) / RT_NSEC_PER_SEC));
	*last = i;
}

/* Reads and hands the stack every frame waiting on (fd). */
static void
drain(struct net_stack *s, int fd)
{
	uint8_t frame[NET_FRAME_MAX + 64];
	ssize_t n;

	while ((n = read(fd, frame, sizeof(frame))) > 0)
		net_input(s, frame, (size_t)n, mono_ns());
}

int
main(int argc, char **argv)
{
	static struct net_stack st;
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x4e, 0x00, 0x01 };
	struct net_dhcp_info last;
	struct sigaction sa;
	uint64_t seed = 0, end = RT_TIME_INFINITY, stop_by = 0, now, next;
	int fd, stopping = 0, bound = 0;

	if (argc < 2 || argc > 4 || (argc == 4 && parse_mac(argv[3], mac))) {
		fprintf(stderr, "usage: tapdhcp IFNAME [SECONDS [MAC]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((fd = tap_open(argv[1])) < 0)
		return 1;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = mono_ns();
	now = mono_ns();
	if (argc >= 3)
		end = now + strtoull(argv[2], NULL, 10) * RT_NSEC_PER_SEC;
	if (net_init(&st, mac, tap_transmit, &fd) != 0) {
		fprintf(stderr, "tapdhcp: net_init failed\n");
		return 1;
	}
	net_seed(&st, seed);
	if (net_dhcp_start(&st, on_dhcp, NULL, now) != 0) {
		fprintf(stderr, "tapdhcp: net_dhcp_start failed\n");
		return 1;
	}
	net_dhcp_info(&st, &last);
	printf("state %s\n", last.state);
	next = net_poll(&st, now);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t wake = next < end ? next : end;
		int ms = 1000;

		now = mono_ns();
		if (wake <= now)
			ms = 0;
		else if (wake - now < 1000 * RT_NSEC_PER_MSEC)
			ms = (int)((wake - now + RT_NSEC_PER_MSEC - 1) /
			    RT_NSEC_PER_MSEC);
		if (poll(&p, 1, ms) < 0 && errno != EINTR) {
			perror("tapdhcp: poll");
			return 1;
		}
		if (p.revents & POLLIN)
			drain(&st, fd);
		now = mono_ns();
		next = net_poll(&st, now);
		report(&st, &last, now);
		if (!stopping && (quit || now >= end)) {
			stopping = 1;
			bound = strcmp(last.state, "bound") == 0 ||
			    strcmp(last.state, "renewing") == 0 ||
			    strcmp(last.state, "rebinding") == 0;
			net_dhcp_stop(&st, now);
			stop_by = now + 5 * RT_NSEC_PER_SEC;
			end = RT_TIME_INFINITY;
			next = net_poll(&st, now);
			report(&st, &last, now);
		}
		if (stopping && (strcmp(last.state, "off") == 0 ||
		    now >= stop_by))
			break;
	}
	/* "released": the RELEASE left, or ARP gave up on the server. */
	printf("%s\n", bound && strcmp(last.state, "off") == 0 ? "released" :
	    "stopped");
	net_fini(&st);
	close(fd);
	return 0;
}
