/*
 * hostnet.c - the bridge and the taps (hostnet.h), through rtnetlink
 * requests built here: one socket per call, each request acknowledged
 * before the next.
 */
#include "config.h"

#include <net/if.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostnet.h"

#define NL_BUF 4096

/* A request being built: one message, attributes appended. */
struct nlreq {
	union {
		struct nlmsghdr h;
		char buf[NL_BUF];
	} u;
	int overflow;
};

static void *
nl_begin(struct nlreq *r, int type, int flags, size_t famlen)
{
	static uint32_t seq;

	memset(r, 0, sizeof(*r));
	r->u.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(famlen);
	r->u.h.nlmsg_type = (uint16_t)type;
	r->u.h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	r->u.h.nlmsg_seq = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
	return NLMSG_DATA(&r->u.h);
}

static struct rtattr *
nl_attr(struct nlreq *r, int type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(r->u.h.nlmsg_len);
	struct rtattr *a;

	if (at + RTA_SPACE(len) > sizeof(r->u.buf)) {
		r->overflow = 1;
		return NULL;
	}
	a = (struct rtattr *)(void *)(r->u.buf + at);
	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(a), data, len);
	r->u.h.nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
	return a;
}

static void
nl_attr_u32(struct nlreq *r, int type, uint32_t v)
{
	nl_attr(r, type, &v, sizeof(v));
}

static void
nl_attr_str(struct nlreq *r, int type, const char *s)
{
	nl_attr(r, type, s, strlen(s) + 1);
}

/* Ends the nest (a) begun with nl_attr(r, type, NULL, 0). */
static void
nl_nest_end(struct nlreq *r, struct rtattr *a)
{
	if (a != NULL)
		a->rta_len = (unsigned short)(r->u.buf + r->u.h.nlmsg_len -
		    (char *)a);
}

static int
nl_fail(struct err *e, int errnum, const char *what)
{
	if (errnum == EPERM || errnum == EACCES)
		return err_errno(e, "network_not_permitted", errnum, "%s (it "
		    "needs CAP_NET_ADMIN: run unikerneld as root)", what);
	return err_errno(e, "network_setup_failed", errnum, "%s", what);
}

/*
 * The uapi's NLMSG_NEXT, IFLA_RTA and RTA_NEXT cast a char pointer to
 * the header type, which clang's -Wcast-align refuses; these step the
 * same aligned lengths through void.  The kernel aligns every message
 * and attribute to 4 bytes, and the buffers here are unions with
 * struct nlmsghdr, so the results are aligned.
 */
static struct nlmsghdr *
nl_next(struct nlmsghdr *h, ssize_t *left)
{
	size_t step = NLMSG_ALIGN(h->nlmsg_len);

	*left -= (ssize_t)step;
	return (struct nlmsghdr *)(void *)((char *)h + step);
}

static const struct rtattr *
rta_at(const void *base, size_t off)
{
	return (const struct rtattr *)(const void *)((const char *)base + off);
}

static const struct rtattr *
rta_next(const struct rtattr *a, int *left)
{
	*left -= (int)RTA_ALIGN(a->rta_len);
	return rta_at(a, RTA_ALIGN(a->rta_len));
}

/*
 * Sends (r) and reads the answer: the kernel's error (0 is the
 * acknowledgement) into (*kerr), or, for a request that returns data, the
 * message into (reply) (NL_BUF bytes).  -1 only when netlink itself
 * failed.
 */
static int
nl_talk(struct nlreq *r, int *kerr, char *reply, struct err *e,
    const char *what)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr h;
		char buf[NL_BUF];
	} in;
	struct nlmsghdr *h;
	ssize_t n;
	int fd, rc = -1;

	*kerr = 0;
	if (r->overflow)
		return err_set(e, "network_setup_failed", "%s: netlink "
		    "request too long", what);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd == -1)
		return nl_fail(e, errno, what);
	if (sendto(fd, r->u.buf, r->u.h.nlmsg_len, 0,
	    (struct sockaddr *)&kernel, sizeof(kernel)) == -1) {
		nl_fail(e, errno, what);
		goto out;
	}
	for (;;) {
		do
			n = recv(fd, in.buf, sizeof(in.buf), 0);
		while (n == -1 && errno == EINTR);
		if (n == -1) {
			nl_fail(e, errno, what);
			goto out;
		}
		for (h = &in.h; NLMSG_OK(h, (size_t)n); h = nl_next(h, &n)) {
			if (h->nlmsg_seq != r->u.h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *ne = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ne))) {
					err_set(e, "network_setup_failed",
					    "%s: a short netlink error", what);
					goto out;
				}
				*kerr = -ne->error;
				rc = 0;
				goto out;
			}
			if (reply != NULL && h->nlmsg_len <= NL_BUF) {
				memcpy(reply, h, h->nlmsg_len);
				rc = 0;
				goto out;
			}
		}
	}
out:
	close(fd);
	return rc;
}

/* A request that only changes something: 0, or -1 naming (what). */
static int
nl_do(struct nlreq *r, struct err *e, const char *what)
{
	int kerr;

	if (nl_talk(r, &kerr, NULL, e, what) == -1)
		return -1;
	if (kerr != 0)
		return nl_fail(e, kerr, what);
	return 0;
}

static int
name_check(const char *name, struct err *e)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= IFNAMSIZ ||
	    strchr(name, '/') != NULL)
		return err_set(e, ERR_INVALID, "interface name \"%.20s\": 1 "
		    "to %d characters, no '/'", name != NULL ? name : "",
		    IFNAMSIZ - 1);
	return 0;
}

/* The attributes of an RTM_NEWLINK message (h) into (l). */
static void
link_parse(const struct nlmsghdr *h, struct hostnet_link *l)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *a, *b;
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	int blen;

	memset(l, 0, sizeof(*l));
	l->index = ifi->ifi_index;
	l->up = (ifi->ifi_flags & IFF_UP) != 0;
	for (a = rta_at(ifi, NLMSG_ALIGN(sizeof(*ifi))); RTA_OK(a, len);
	    a = rta_next(a, &len)) {
		if (a->rta_type == IFLA_MTU && RTA_PAYLOAD(a) >= 4)
			memcpy(&l->mtu, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= 4)
			memcpy(&l->master, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_LINKINFO) {
			blen = (int)RTA_PAYLOAD(a);
			for (b = RTA_DATA(a); RTA_OK(b, blen);
			    b = rta_next(b, &blen))
				if (b->rta_type == IFLA_INFO_KIND &&
				    RTA_PAYLOAD(b) >= 6 &&
				    strncmp(RTA_DATA(b), "bridge", 7) == 0)
					l->is_bridge = 1;
		}
	}
}

int
hostnet_link_get(const char *name, struct hostnet_link *l, struct err *e)
{
	char what[64], reply[NL_BUF] __attribute__((aligned(8)));
	struct nlreq r;
	int kerr;

	if (name_check(name, e) == -1)
		return -1;
	snprintf(what, sizeof(what), "looking up %s", name);
	nl_begin(&r, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
	nl_attr_str(&r, IFLA_IFNAME, name);
	if (nl_talk(&r, &kerr, reply, e, what) == -1)
		return -1;
	if (kerr == ENODEV)
		return 0;
	if (kerr != 0)
		return nl_fail(e, kerr, what);
	if (((struct nlmsghdr *)(void *)reply)->nlmsg_type != RTM_NEWLINK)
		return err_set(e, "network_setup_failed", "%s: an unexpected "
		    "answer", what);
	link_parse((struct nlmsghdr *)(void *)reply, l);
	return 1;
}

/* Sets (index) up, with (master) (0: unchanged) and (mtu) (0: same). */
static int
link_set(int index, int master, unsigned mtu, struct err *e,
    const char *what)
{
	struct ifinfomsg *ifi;
	struct nlreq r;

	ifi = nl_begin(&r, RTM_NEWLINK, NLM_F_ACK, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (master > 0)
		nl_attr_u32(&r, IFLA_MASTER, (uint32_t)master);
	if (mtu > 0)
		nl_attr_u32(&r, IFLA_MTU, mtu);
	return nl_do(&r, e, what);
}

static void
link_delete(int index)
{
	struct ifinfomsg *ifi;
	struct nlreq r;

	ifi = nl_begin(&r, RTM_DELLINK, NLM_F_ACK, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	(void)nl_do(&r, NULL, "deleting a link");
}

static int
addr_add(int index, uint32_t addr, unsigned prefix, struct err *e,
    const char *what)
{
	uint32_t a = htonl(addr), mask, brd;
	struct ifaddrmsg *ifa;
	struct nlreq r;

	mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
	brd = htonl(addr | ~mask);
	ifa = nl_begin(&r, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE |
	    NLM_F_EXCL, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = (unsigned)index;
	nl_attr(&r, IFA_LOCAL, &a, 4);
	nl_attr(&r, IFA_ADDRESS, &a, 4);
	nl_attr(&r, IFA_BROADCAST, &brd, 4);
	return nl_do(&r, e, what);
}

int
hostnet_bridge_ensure(const char *name, uint32_t addr, unsigned prefix,
    int *created, struct err *e)
{
	char what[96];
	uint8_t mac[6];
	struct hostnet_link l;
	struct rtattr *info;
	struct ifinfomsg *ifi;
	struct nlreq r;
	int kerr, rc;

	*created = 0;
	if ((rc = hostnet_link_get(name, &l, e)) == -1)
		return -1;
	if (rc == 0) {
		snprintf(what, sizeof(what), "creating bridge %s", name);
		ifi = nl_begin(&r, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE |
		    NLM_F_EXCL, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		nl_attr_str(&r, IFLA_IFNAME, name);
		/* A MAC of its own: without one the bridge takes the lowest
		 * of its ports', and changes it when that guest leaves, under
		 * the other guests' ARP caches. */
		if (getrandom(mac, sizeof(mac), 0) != (ssize_t)sizeof(mac))
			return err_errno(e, "network_setup_failed", errno,
			    "a MAC for bridge %s", name);
		mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
		nl_attr(&r, IFLA_ADDRESS, mac, sizeof(mac));
		info = nl_attr(&r, IFLA_LINKINFO, NULL, 0);
		nl_attr_str(&r, IFLA_INFO_KIND, "bridge");
		nl_nest_end(&r, info);
		if (nl_talk(&r, &kerr, NULL, e, what) == -1)
			return -1;
		if (kerr != 0 && kerr != EEXIST)
			return nl_fail(e, kerr, what);
		if ((rc = hostnet_link_get(name, &l, e)) == -1)
			return -1;
		if (rc == 0)
			return err_set(e, "network_setup_failed", "bridge %s "
			    "vanished as it was made", name);
		/* EEXIST: another start made it first, and configures it */
		*created = kerr == 0;
	}
	if (!l.is_bridge)
		return err_set(e, "network_bridge_conflict", "%s exists and "
		    "is not a bridge; remove it or set bridge_name", name);
	if (!*created)
		return 0;
	snprintf(what, sizeof(what), "adding the address of bridge %s", name);
	if (addr_add(l.index, addr, prefix, e, what) == 0) {
		snprintf(what, sizeof(what), "bringing bridge %s up", name);
		if (link_set(l.index, 0, 0, e, what) == 0)
			return 0;
	}
	link_delete(l.index);
	*created = 0;
	return -1;
}

int
hostnet_tap_open(const char *name, const char *bridge, int *fd,
    struct err *e)
{
	struct hostnet_link br, tap;
	struct ifreq ifr;
	char what[96];
	int rc;

	*fd = -1;
	if (name_check(name, e) == -1)
		return -1;
	if ((rc = hostnet_link_get(bridge, &br, e)) == -1)
		return -1;
	if (rc == 0 || !br.is_bridge)
		return err_set(e, "network_setup_failed", "bridge %s: %s",
		    bridge, rc == 0 ? "no such bridge" : "not a bridge");
	if ((*fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) == -1)
		return nl_fail(e, errno, "/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	snprintf(what, sizeof(what), "creating tap %s", name);
	if (ioctl(*fd, TUNSETIFF, &ifr) == -1) {
		nl_fail(e, errno, what);
		goto fail;
	}
	if ((rc = hostnet_link_get(name, &tap, e)) != 1) {
		if (rc == 0)
			err_set(e, "network_setup_failed", "tap %s vanished",
			    name);
		goto fail;
	}
	snprintf(what, sizeof(what), "attaching tap %s to bridge %s", name,
	    bridge);
	if (link_set(tap.index, br.index, br.mtu, e, what) == -1)
		goto fail;
	return 0;
fail:
	close(*fd);	/* the tap goes with it: it is not persistent */
	*fd = -1;
	return -1;
}

int
hostnet_port_check(const struct netspec_forward *f, struct err *e)
{
	struct sockaddr_in sin;
	uint32_t ip;
	int fd, one = 1, rc = 0, saved;
	int tcp = f->proto == NETSPEC_TCP;

	if (netspec_ip_parse(f->host_ip, &ip) == -1)
		return err_set(e, ERR_INVALID, "forward: \"%.20s\" is not an "
		    "IPv4 address", f->host_ip);
	fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return err_errno(e, "network_setup_failed", errno, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(f->host_port);
	sin.sin_addr.s_addr = htonl(ip);
	if (tcp)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (tcp && listen(fd, 1) == -1)) {
		saved = errno;
		if (saved == EADDRINUSE)
			rc = err_set(e, "network_port_in_use", "%s port %u on "
			    "%s is in use on this host", netspec_proto_name(
			    f->proto), (unsigned)f->host_port, f->host_ip);
		else if (saved == EACCES || saved == EPERM)
			rc = err_errno(e, "network_not_permitted", saved, "%s "
			    "port %u on %s (ports below 1024 need "
			    "CAP_NET_BIND_SERVICE)", netspec_proto_name(
			    f->proto), (unsigned)f->host_port, f->host_ip);
		else
			rc = err_errno(e, "network_setup_failed", saved, "%s "
			    "port %u on %s", netspec_proto_name(f->proto),
			    (unsigned)f->host_port, f->host_ip);
	}
	close(fd);
	return rc;
}
