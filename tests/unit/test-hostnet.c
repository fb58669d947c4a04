/*
 * test-hostnet.c - unikerneld/hostnet: the bridge and the taps, made with
 * rtnetlink in a network namespace of the test's own (unshare), so that
 * nothing reaches the host's links: the bridge made, addressed and up, and
 * left alone once it exists; a tap on it with its MTU, answered by the
 * bridge's ARP through the tap's descriptor, gone once that is closed; a
 * name in use, a link that is not a bridge, bad names, and a user without
 * CAP_NET_ADMIN.  Skips unless run as root.
 */
#include "config.h"

#include <net/if.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostnet.h"
#include "tap.h"

#define BR_ADDR 0x0ad50001u	/* 10.213.0.1 */

static int
is_code(int rc, const struct err *e, const char *code, const char *name)
{
	int good = rc == -1 && strcmp(e->code, code) == 0;

	if (!ok(good, "%s: %s", name, code))
		diag("rc %d [%s] %s", rc, e->code, e->msg);
	return good;
}

/* How many IPv4 addresses (name) has, and whether (addr)/(prefix) is one. */
static int
addresses(const char *name, uint32_t addr, unsigned prefix, int *found)
{
	struct ifaddrs *ifa, *p;
	const struct sockaddr_in *a, *m;
	int n = 0;

	*found = 0;
	if (getifaddrs(&ifa) == -1)
		return -1;
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr == NULL || p->ifa_addr->sa_family != AF_INET ||
		    strcmp(p->ifa_name, name) != 0)
			continue;
		n++;
		a = (const struct sockaddr_in *)(void *)p->ifa_addr;
		m = (const struct sockaddr_in *)(void *)p->ifa_netmask;
		if (ntohl(a->sin_addr.s_addr) == addr && m != NULL &&
		    ntohl(m->sin_addr.s_addr) == (0xffffffffu << (32 - prefix)))
			*found = 1;
	}
	freeifaddrs(ifa);
	return n;
}

/* Asks through the tap (fd) who has (ip); 1 when the answer comes. */
static int
arp_through(int fd, uint32_t ip)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	uint8_t f[64], in[2048];
	uint32_t sip = htonl(ip + 1), tip = htonl(ip);
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;
	int tries;

	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08, f[13] = 0x06;		/* ARP */
	f[14] = 0, f[15] = 1;			/* Ethernet */
	f[16] = 0x08, f[17] = 0;		/* IPv4 */
	f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;	/* request */
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, &sip, 4);
	memcpy(f + 38, &tip, 4);
	for (tries = 0; tries < 3; tries++) {
		if (write(fd, f, 60) != 60)
			return 0;
		while (poll(&pfd, 1, 1000) == 1) {
			n = read(fd, in, sizeof(in));
			if (n >= 42 && in[12] == 0x08 && in[13] == 0x06 &&
			    in[21] == 2 && memcmp(in, mac, 6) == 0 &&
			    memcmp(in + 28, &tip, 4) == 0)
				return 1;
		}
	}
	return 0;
}

/* The MAC of link (name) in this namespace (SIOCGIFHWADDR: sysfs would
 * show the namespace it was mounted in). */
static int
hwaddr(const char *name, uint8_t mac[6])
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	rc = s >= 0 ? ioctl(s, SIOCGIFHWADDR, &ifr) : -1;
	if (s >= 0)
		close(s);
	if (rc == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return rc;
}

/* Without CAP_NET_ADMIN (as nobody): bridge and tap refused. */
static void
test_unprivileged(void)
{
	pid_t pid;
	int st = 0, fd;
	struct err e;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(3);
		err_clear(&e);
		int created;
		if (hostnet_bridge_ensure("ukbrnobody", BR_ADDR, 24, &created,
		    &e) != -1 || strcmp(e.code, "network_not_permitted") != 0)
			_exit(1);
		err_clear(&e);
		if (hostnet_tap_open("uknobody", "ukbr0", &fd, &e) != -1 ||
		    strcmp(e.code, "network_not_permitted") != 0)
			_exit(2);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
	ok(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "as nobody: bridge and tap are network_not_permitted (child %d)",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Forwards' host ports: free, in use (TCP and UDP), not this host's. */
static void
test_ports(void)
{
	struct netspec_forward f = { NETSPEC_TCP, "127.0.0.1", 0, 80 };
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int t, u;
	struct err e;

	t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!ok(t >= 0 && u >= 0 && bind(t, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0 && listen(t, 1) == 0 &&
	    getsockname(t, (struct sockaddr *)&sin, &len) == 0 &&
	    bind(u, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "ports: a TCP listener and a UDP socket on one port"))
		return;
	f.host_port = ntohs(sin.sin_port);
	is_code(hostnet_port_check(&f, &e), &e, "network_port_in_use",
	    "ports: the TCP port");
	f.proto = NETSPEC_UDP;
	is_code(hostnet_port_check(&f, &e), &e, "network_port_in_use",
	    "ports: the UDP port");
	close(t);
	close(u);
	ok(hostnet_port_check(&f, &e) == 0, "ports: free once closed (udp)");
	f.proto = NETSPEC_TCP;
	ok(hostnet_port_check(&f, &e) == 0, "ports: free once closed (tcp)");
	snprintf(f.host_ip, sizeof(f.host_ip), "192.0.2.1");
	is_code(hostnet_port_check(&f, &e), &e, "network_setup_failed",
	    "ports: an address this host does not have");
}

int
main(void)
{
	struct hostnet_link br, l;
	struct ifreq ifr;
	uint8_t mac0[6], mac1[6];
	int created = -1, fd, fd2, raw, found, n;
	struct err e;

	if (geteuid() != 0) {
		test_ports();
		ok(1, "bridges and taps # SKIP needs root (a network "
		    "namespace)");
		return tap_done();
	}
	test_ports();
	if (unshare(CLONE_NEWNET) == -1) {
		ok(1, "bridges and taps # SKIP unshare(CLONE_NEWNET): %s",
		    strerror(errno));
		return tap_done();
	}

	err_clear(&e);
	is_int(hostnet_link_get("ukbr0", &br, &e), 0, "no bridge at first");
	if (!ok(hostnet_bridge_ensure("ukbr0", BR_ADDR, 24, &created, &e) ==
	    0, "the bridge is made"))
		diag("[%s] %s", e.code, e.msg);
	is_int(created, 1, "  created");
	ok(hostnet_link_get("ukbr0", &br, &e) == 1 && br.is_bridge && br.up,
	    "  a bridge, up");
	n = addresses("ukbr0", BR_ADDR, 24, &found);
	ok(n == 1 && found, "  with 10.213.0.1/24 (%d addresses)", n);
	ok(hwaddr("ukbr0", mac0) == 0 && (mac0[0] & 3) == 2,
	    "  with a MAC of its own, unicast, locally administered");
	ok(hostnet_bridge_ensure("ukbr0", 0x0a630001u, 16, &created, &e) == 0 &&
	    created == 0, "once it exists, it is left as it is");
	n = addresses("ukbr0", BR_ADDR, 24, &found);
	ok(n == 1 && found, "  its address unchanged (%d addresses)", n);

	if (!ok(hostnet_tap_open("uktest0", "ukbr0", &fd, &e) == 0 && fd >= 0,
	    "a tap on the bridge"))
		diag("[%s] %s", e.code, e.msg);
	memset(&l, 0, sizeof(l));
	n = hostnet_link_get("uktest0", &l, &e);
	ok(n == 1 && !l.is_bridge && l.master == br.index && l.up &&
	    l.mtu == br.mtu && l.mtu >= 68, "  enslaved to it, up, with its "
	    "MTU (%u)", l.mtu);
	ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "  its descriptor is close-on-exec");
	ok(arp_through(fd, BR_ADDR), "  the bridge answers ARP through it");
	is_code(hostnet_tap_open("uktest0", "ukbr0", &fd2, &e), &e,
	    "network_setup_failed", "the same tap again while in use");
	ok(fd2 == -1, "  no descriptor");
	ok(hwaddr("ukbr0", mac1) == 0 && memcmp(mac0, mac1, 6) == 0,
	    "  the bridge's MAC did not change with a port");
	close(fd);
	is_int(hostnet_link_get("uktest0", &l, &e), 0,
	    "the tap is gone once its descriptor is closed");
	ok(hwaddr("ukbr0", mac1) == 0 && memcmp(mac0, mac1, 6) == 0,
	    "  nor without it again");

	is_code(hostnet_tap_open("uktest1", "nosuchbr", &fd, &e), &e,
	    "network_setup_failed", "a tap on a bridge that does not exist");
	is_int(hostnet_link_get("uktest1", &l, &e), 0, "  leaves no tap");

	raw = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "notabridge");
	ok(raw >= 0 && ioctl(raw, TUNSETIFF, &ifr) == 0,
	    "a tap called notabridge");
	is_code(hostnet_bridge_ensure("notabridge", BR_ADDR, 24, &created, &e),
	    &e, "network_bridge_conflict", "a bridge of that name");
	is_code(hostnet_tap_open("uktest2", "notabridge", &fd, &e), &e,
	    "network_setup_failed", "a tap on a link that is no bridge");
	close(raw);

	is_code(hostnet_bridge_ensure("", BR_ADDR, 24, &created, &e), &e,
	    ERR_INVALID, "an empty name");
	is_code(hostnet_tap_open("uk0123456789abcd", "ukbr0", &fd, &e), &e,
	    ERR_INVALID, "a name of 16 characters");
	test_unprivileged();
	return tap_done();
}
