/*
 * dhcp.c - the DHCP client (RFC 2131, options of RFC 2132): discovery,
 * the lease applied with net_configure(), renewal, rebinding, expiry and
 * release, on a UDP socket of the stack's own.  docs/net.md, "DHCP".
 */
#include <string.h>

#include "net-priv.h"

#define DHCP_SERVER_PORT	67
#define DHCP_CLIENT_PORT	68

/* The BOOTP message (RFC 2131 section 2, figure 1), then the cookie. */
#define BOOTP_OP	0
#define BOOTP_HTYPE	1
#define BOOTP_HLEN	2
#define BOOTP_XID	4
#define BOOTP_SECS	8
#define BOOTP_FLAGS	10
#define BOOTP_CIADDR	12
#define BOOTP_YIADDR	16
#define BOOTP_CHADDR	28
#define BOOTP_SNAME	44
#define BOOTP_FILE	108
#define BOOTP_COOKIE	236
#define BOOTP_OPTIONS	240
#define BOOTP_MIN	300	/* padded to BOOTP's size (RFC 1542 2.1) */

#define BOOTREQUEST	1
#define BOOTREPLY	2
#define HTYPE_ETHER	1
#define FLAG_BROADCAST	0x8000
#define DHCP_COOKIE	0x63825363	/* 99.130.83.99 */

#define OPT_PAD		0
#define OPT_MASK	1
#define OPT_ROUTER	3
#define OPT_REQUESTED	50
#define OPT_LEASE	51
#define OPT_OVERLOAD	52
#define OPT_TYPE	53
#define OPT_SERVER	54
#define OPT_PARAMS	55
#define OPT_MAX_SIZE	57
#define OPT_T1		58
#define OPT_T2		59
#define OPT_END		255

#define DHCPDISCOVER	1
#define DHCPOFFER	2
#define DHCPREQUEST	3
#define DHCPACK		5
#define DHCPNAK		6
#define DHCPRELEASE	7

#define LEASE_INFINITE	0xffffffffu

enum {
	DHCP_OFF,
	DHCP_SELECTING,		/* DISCOVER sent, waiting for an OFFER */
	DHCP_REQUESTING,	/* REQUEST for the offer taken sent */
	DHCP_BOUND,
	DHCP_RENEWING,		/* past T1: REQUESTs to our server */
	DHCP_REBINDING,		/* past T2: REQUESTs to any server */
	DHCP_RELEASING,		/* stopped; the RELEASE waits for ARP */
};

static const char *const state_names[] = {
	"off", "selecting", "requesting", "bound", "renewing", "rebinding",
	"releasing",
};

/* The options a reply is read for; any other is skipped. */
enum { O_MASK, O_ROUTER, O_LEASE, O_OVERLOAD, O_TYPE, O_SERVER, O_T1, O_T2,
	O_COUNT };
static const uint8_t opt_codes[O_COUNT] = {
	OPT_MASK, OPT_ROUTER, OPT_LEASE, OPT_OVERLOAD, OPT_TYPE, OPT_SERVER,
	OPT_T1, OPT_T2,
};

struct dhcp_opts {
	const uint8_t *val[O_COUNT];	/* NULL: absent */
	uint8_t len[O_COUNT];
};

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > RT_TIME_INFINITY - b ? RT_TIME_INFINITY : a + b;
}

/* splitmix64 over the state net_seed() and the MAC gave. */
static uint64_t
dhcp_random(struct net_dhcp *d)
{
	uint64_t z = (d->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * RFC 2131 4.1: 4 s before the first retransmission, doubling up to
 * 64 s, each randomised by a uniform -1..+1 s.  (sent) is how many
 * messages went before this wait, counting the one just sent.
 */
static uint64_t
dhcp_backoff(struct net_dhcp *d, unsigned sent)
{
	unsigned shift = sent < 2 ? 0 : sent > 5 ? 4 : sent - 1;
	uint64_t jitter = dhcp_random(d) % (2 * RT_NSEC_PER_SEC + 1);

	return (4ull << shift) * RT_NSEC_PER_SEC - RT_NSEC_PER_SEC + jitter;
}

/* RFC 2131 4.4.5: retry after half the time left until (until), at
 * least NET_DHCP_RETRY_MIN_NS, and never past (until). */
static uint64_t
dhcp_halfway(uint64_t now, uint64_t until)
{
	uint64_t left = until > now ? until - now : 0, wait = left / 2;

	if (wait < NET_DHCP_RETRY_MIN_NS)
		wait = NET_DHCP_RETRY_MIN_NS;
	return wait < left ? now + wait : until;
}

/* ---- messages out ---- */

static uint8_t *
opt_put32(uint8_t *o, uint8_t code, uint32_t v)
{
	o[0] = code;
	o[1] = 4;
	put32(o + 2, v);
	return o + 6;
}

/* A client message of (type) in (m), BOOTP_MIN bytes or more; its length. */
static size_t
dhcp_build(struct net_stack *s, uint8_t *m, int type, uint64_t now)
{
	static const uint8_t params[] = { OPT_PARAMS, 5, OPT_MASK, OPT_ROUTER,
	    OPT_LEASE, OPT_T1, OPT_T2 };
	struct net_dhcp *d = &s->dhcp;
	uint8_t *o = m + BOOTP_OPTIONS;
	uint64_t secs = (now - d->began) / RT_NSEC_PER_SEC;

	memset(m, 0, BOOTP_MIN);
	m[BOOTP_OP] = BOOTREQUEST;
	m[BOOTP_HTYPE] = HTYPE_ETHER;
	m[BOOTP_HLEN] = 6;
	put32(m + BOOTP_XID, d->xid);
	/* RFC 2131 table 5: secs 0 in a RELEASE. */
	if (type != DHCPRELEASE)
		put16(m + BOOTP_SECS, secs > 0xffff ? 0xffff : (uint16_t)secs);
	/* Unconfigured, the stack takes only broadcasts (ip.c): ask for
	 * them.  Configured (renewing, rebinding, releasing), ciaddr is the
	 * address the server answers to. */
	if (s->cfg.ip == 0)
		put16(m + BOOTP_FLAGS, FLAG_BROADCAST);
	put32(m + BOOTP_CIADDR, s->cfg.ip);
	memcpy(m + BOOTP_CHADDR, s->mac, 6);
	put32(m + BOOTP_COOKIE, DHCP_COOKIE);
	*o++ = OPT_TYPE;
	*o++ = 1;
	*o++ = (uint8_t)type;
	/* RFC 2131 table 5: the requested address and the server only when
	 * taking an offer; the server alone in a RELEASE. */
	if (type == DHCPREQUEST && d->state == DHCP_REQUESTING) {
		o = opt_put32(o, OPT_REQUESTED, d->lease.ip);
		o = opt_put32(o, OPT_SERVER, d->server);
	}
	if (type == DHCPRELEASE)
		o = opt_put32(o, OPT_SERVER, d->server);
	if (type != DHCPRELEASE) {
		memcpy(o, params, sizeof(params));
		o += sizeof(params);
		/* What one frame carries: fragments are dropped (ip.c). */
		*o++ = OPT_MAX_SIZE;
		*o++ = 2;
		put16(o, NET_UDP_MAX);
		o += 2;
	}
	*o++ = OPT_END;
	return (size_t)(o - m) < BOOTP_MIN ? BOOTP_MIN : (size_t)(o - m);
}

/* Sends a message of (type) to (dst).  A failure is left to the
 * retransmission timer. */
static void
dhcp_send(struct net_stack *s, int type, uint32_t dst, uint64_t now)
{
	uint8_t m[BOOTP_MIN];

	net_udp_send(s, &s->dhcp.sock, dst, DHCP_SERVER_PORT, m,
	    dhcp_build(s, m, type, now), now);
}

/* ---- replies in ---- */

/* Reads the options in (p), (len) bytes, into (o).  -1 when one runs
 * past the field, one we read appears twice, or no END closes them. */
static int
opt_parse(struct dhcp_opts *o, const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t code = p[i], n;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return 0;
		if (i + 2 > len || i + 2 + p[i + 1] > len)
			return -1;
		n = p[i + 1];
		for (int k = 0; k < O_COUNT; k++) {
			if (opt_codes[k] != code)
				continue;
			/* RFC 3396 would join repeats; none of ours needs
			 * it, so a repeat is a forgery or a bug. */
			if (o->val[k] != NULL)
				return -1;
			o->val[k] = p + i + 2;
			o->len[k] = n;
		}
		i += 2 + (size_t)n;
	}
	return -1;
}

/* A 4-byte option: 1 with its value, 0 when absent, -1 when its length
 * is wrong. */
static int
opt32(const struct dhcp_opts *o, int k, uint32_t *v)
{
	if (o->val[k] == NULL)
		return 0;
	if (o->len[k] != 4)
		return -1;
	*v = get32(o->val[k]);
	return 1;
}

/* The mask of (ip)'s class (RFC 791's A, B and C), for a server that
 * sends none. */
static uint32_t
natural_mask(uint32_t ip)
{
	if ((ip >> 31) == 0)
		return 0xff000000u;
	if ((ip >> 30) == 2)
		return 0xffff0000u;
	return 0xffffff00u;
}

/* The lease of an OFFER or ACK into (r): 0, or -1 when it is no lease a
 * host could take. */
static int
lease_parse(struct net_dhcp_reply *r, const uint8_t *m, const struct dhcp_opts *o)
{
	struct net_config *c = &r->cfg;
	uint32_t router;
	int has;

	if (opt32(o, O_LEASE, &r->lease_s) != 1 ||
	    r->lease_s < NET_DHCP_LEASE_MIN)
		return -1;
	if (opt32(o, O_T1, &r->t1_s) < 0 || opt32(o, O_T2, &r->t2_s) < 0)
		return -1;
	c->ip = get32(m + BOOTP_YIADDR);
	if ((has = opt32(o, O_MASK, &c->netmask)) < 0)
		return -1;
	if (!has)
		c->netmask = natural_mask(c->ip);
	/* A host address of a sound subnet, not the server's own. */
	if (!net_ip_is_host(c->ip) || c->ip == r->server ||
	    net_config_check(c) < 0)
		return -1;
	if (o->val[O_ROUTER] != NULL) {
		if (o->len[O_ROUTER] < 4 || o->len[O_ROUTER] % 4 != 0)
			return -1;
		/* The first router, when it is on the subnet; else none. */
		router = get32(o->val[O_ROUTER]);
		c->gateway = router;
		if (net_config_check(c) < 0)
			c->gateway = 0;
	}
	return 0;
}

/*
 * Checks the reply (m), (len) bytes, field by field (RFC 2131 section 2,
 * 4.3.1's table 3) and fills (r): 0, or -1 for anything that is not a
 * sound OFFER, ACK or NAK to this client's current transaction.
 */
static int
dhcp_parse(const struct net_stack *s, const uint8_t *m, size_t len,
    struct net_dhcp_reply *r)
{
	struct dhcp_opts o;
	uint32_t v;

	memset(&o, 0, sizeof(o));
	memset(r, 0, sizeof(*r));
	if (len < BOOTP_OPTIONS || m[BOOTP_OP] != BOOTREPLY ||
	    m[BOOTP_HTYPE] != HTYPE_ETHER || m[BOOTP_HLEN] != 6 ||
	    get32(m + BOOTP_XID) != s->dhcp.xid ||
	    memcmp(m + BOOTP_CHADDR, s->mac, 6) != 0 ||
	    get32(m + BOOTP_COOKIE) != DHCP_COOKIE)
		return -1;
	if (opt_parse(&o, m + BOOTP_OPTIONS, len - BOOTP_OPTIONS) < 0)
		return -1;
	/* Option overload (RFC 2132 9.3): more options in file, then sname. */
	if (o.val[O_OVERLOAD] != NULL) {
		if (o.len[O_OVERLOAD] != 1)
			return -1;
		v = o.val[O_OVERLOAD][0];
		if (v < 1 || v > 3)
			return -1;
		if ((v & 1) && opt_parse(&o, m + BOOTP_FILE,
		    BOOTP_COOKIE - BOOTP_FILE) < 0)
			return -1;
		if ((v & 2) && opt_parse(&o, m + BOOTP_SNAME,
		    BOOTP_FILE - BOOTP_SNAME) < 0)
			return -1;
	}
	if (o.val[O_TYPE] == NULL || o.len[O_TYPE] != 1)
		return -1;
	r->type = o.val[O_TYPE][0];
	if (r->type != DHCPOFFER && r->type != DHCPACK && r->type != DHCPNAK)
		return -1;
	/* Every OFFER, ACK and NAK names its server (table 3). */
	if (opt32(&o, O_SERVER, &r->server) != 1 ||
	    !net_ip_is_host(r->server))
		return -1;
	if (r->type == DHCPNAK)
		return 0;
	return lease_parse(r, m, &o);
}

/* ---- the state machine ---- */

/* A new transaction (xid) in (state), its first message yet to go. */
static void
dhcp_exchange(struct net_stack *s, int state, uint64_t now)
{
	struct net_dhcp *d = &s->dhcp;

	d->state = state;
	d->xid = (uint32_t)dhcp_random(d);
	d->reply.type = 0;
	d->requested = now;
	d->tries = 0;
}

/* INIT: a new transaction, and its DISCOVER. */
static void
dhcp_discover(struct net_stack *s, uint64_t now)
{
	struct net_dhcp *d = &s->dhcp;

	dhcp_exchange(s, DHCP_SELECTING, now);
	d->began = now;
	d->server = 0;
	memset(&d->lease, 0, sizeof(d->lease));
	d->lease_s = d->t1_s = d->t2_s = 0;
	d->t1 = d->t2 = d->expiry = RT_TIME_INFINITY;
	dhcp_send(s, DHCPDISCOVER, IP_BROADCAST, now);
	d->tries = 1;
	d->deadline = now + dhcp_backoff(d, d->tries);
}

/* The lease is gone (expired, or refused): unconfigure, start again,
 * then tell the application. */
static void
dhcp_lose(struct net_stack *s, uint64_t now)
{
	struct net_dhcp *d = &s->dhcp;
	struct net_config none, lost = s->cfg;

	memset(&none, 0, sizeof(none));
	net_configure(s, &none, now);
	dhcp_discover(s, now);
	if (d->fn != NULL)
		d->fn(s, d->arg, 0, &lost);
}

/* A lease granted by the ACK (r), counted from (base), the time of the
 * REQUEST it answers: applied, timers set, the application told when
 * anything changed. */
static void
dhcp_bind(struct net_stack *s, const struct net_dhcp_reply *r, uint64_t base,
    uint64_t now)
{
	struct net_dhcp *d = &s->dhcp;
	uint32_t l = r->lease_s, t1, t2;
	int changed = s->cfg.ip != r->cfg.ip ||
	    s->cfg.netmask != r->cfg.netmask ||
	    s->cfg.gateway != r->cfg.gateway;

	/* T2 before the end, T1 not after T2; else RFC 2131 4.4.5's 0.875
	 * and 0.5 of the lease. */
	t2 = r->t2_s != 0 && r->t2_s < l ? r->t2_s : l - l / 8;
	t1 = r->t1_s != 0 && r->t1_s <= t2 ? r->t1_s : l / 2;
	if (t1 > t2)
		t1 = t2;
	if (changed && net_configure(s, &r->cfg, now) < 0) {
		dhcp_discover(s, now);	/* lease_parse() makes it unreachable */
		return;
	}
	d->state = DHCP_BOUND;
	d->acks++;
	d->server = r->server;
	d->lease = r->cfg;
	d->lease_s = l;
	if (l == LEASE_INFINITE) {
		d->t1_s = d->t2_s = 0;
		d->t1 = d->t2 = d->expiry = RT_TIME_INFINITY;
	} else {
		d->t1_s = t1;
		d->t2_s = t2;
		d->t1 = add_sat(base, t1 * RT_NSEC_PER_SEC);
		d->t2 = add_sat(base, t2 * RT_NSEC_PER_SEC);
		d->expiry = add_sat(base, l * RT_NSEC_PER_SEC);
	}
	d->deadline = d->t1;
	if (changed && d->fn != NULL)
		d->fn(s, d->arg, 1, &s->cfg);
}

/* Whether the valid reply (r) is one the state waits for. */
static int
dhcp_wanted(const struct net_stack *s, const struct net_dhcp_reply *r)
{
	const struct net_dhcp *d = &s->dhcp;

	switch (d->state) {
	case DHCP_SELECTING:
		return r->type == DHCPOFFER;
	case DHCP_REQUESTING:
		return r->server == d->server && (r->type == DHCPNAK ||
		    (r->type == DHCPACK && r->cfg.ip == d->lease.ip));
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		/* Renewing asks our server; rebinding, any server. */
		if (d->state == DHCP_RENEWING && r->server != d->server)
			return 0;
		return r->type == DHCPNAK ||
		    (r->type == DHCPACK && r->cfg.ip == s->cfg.ip);
	default:
		return 0;
	}
}

/* Acts on (r), which dhcp_wanted() let through. */
static void
dhcp_act(struct net_stack *s, const struct net_dhcp_reply *r, uint64_t now)
{
	struct net_dhcp *d = &s->dhcp;

	if (r->type == DHCPOFFER) {
		/* The first valid offer: request it, same transaction. */
		d->state = DHCP_REQUESTING;
		d->server = r->server;
		d->lease = r->cfg;
		d->requested = now;
		dhcp_send(s, DHCPREQUEST, IP_BROADCAST, now);
		d->tries = 1;
		d->deadline = now + dhcp_backoff(d, d->tries);
	} else if (r->type == DHCPACK) {
		dhcp_bind(s, r, d->requested, now);
	} else if (d->state == DHCP_REQUESTING) {
		dhcp_discover(s, now);
	} else {
		dhcp_lose(s, now);
	}
}

static void
dhcp_input(struct net_udp *sock, void *arg, uint32_t src_ip,
    uint16_t src_port, uint32_t dst_ip, const void *data, size_t len)
{
	struct net_stack *s = arg;
	struct net_dhcp *d = &s->dhcp;
	struct net_dhcp_reply r;

	(void)sock;
	(void)src_ip;
	(void)dst_ip;
	/* Servers and relays answer from port 67 (RFC 2131 4.1). */
	if (src_port != DHCP_SERVER_PORT || dhcp_parse(s, data, len, &r) < 0)
		d->rejected++;
	else if (d->reply.type != 0 || !dhcp_wanted(s, &r))
		d->unexpected++;
	else
		d->reply = r;	/* for net_poll(), which knows the time */
}

/* The stopped client's address goes, once its RELEASE has left. */
static void
dhcp_released(struct net_stack *s, uint64_t now)
{
	struct net_config none;

	memset(&none, 0, sizeof(none));
	net_configure(s, &none, now);
	s->dhcp.state = DHCP_OFF;
}

/* Whether a frame towards (ip) waits in the ARP cache for its next hop
 * (ip.c's choice of it, repeated). */
static int
dhcp_arp_waiting(const struct net_stack *s, uint32_t ip)
{
	uint32_t m = s->cfg.netmask;
	uint32_t hop = (ip & m) == (s->cfg.ip & m) ? ip : s->cfg.gateway;

	for (int i = 0; i < NET_ARP_ENTRIES && hop != 0; i++)
		if (s->arp[i].ip == hop && s->arp[i].nqueue > 0)
			return 1;
	return 0;
}

/* One due timer of the current state. */
static void
dhcp_timer(struct net_stack *s, uint64_t now)
{
	struct net_dhcp *d = &s->dhcp;

	switch (d->state) {
	case DHCP_SELECTING:
		dhcp_send(s, DHCPDISCOVER, IP_BROADCAST, now);
		d->deadline = now + dhcp_backoff(d, ++d->tries);
		break;
	case DHCP_REQUESTING:
		/* RFC 2131 3.1, step 5: unanswered, back to INIT. */
		if (d->tries >= NET_DHCP_REQUEST_TRIES) {
			dhcp_discover(s, now);
			break;
		}
		dhcp_send(s, DHCPREQUEST, IP_BROADCAST, now);
		d->deadline = now + dhcp_backoff(d, ++d->tries);
		break;
	/* A new state due now: the caller's loop comes back at once. */
	case DHCP_BOUND:
		d->began = now;		/* rebinding goes on from here */
		dhcp_exchange(s, DHCP_RENEWING, now);
		d->deadline = now;
		break;
	case DHCP_RENEWING:
		if (now >= d->t2) {
			dhcp_exchange(s, DHCP_REBINDING, now);
			d->deadline = now;
			break;
		}
		dhcp_send(s, DHCPREQUEST, d->server, now);
		d->tries++;
		d->deadline = dhcp_halfway(now, d->t2);
		break;
	case DHCP_REBINDING:
		if (now >= d->expiry) {
			dhcp_lose(s, now);
			break;
		}
		dhcp_send(s, DHCPREQUEST, IP_BROADCAST, now);
		d->tries++;
		d->deadline = dhcp_halfway(now, d->expiry);
		break;
	case DHCP_RELEASING:
		dhcp_released(s, now);
		break;
	}
}

uint64_t
net_dhcp_poll(struct net_stack *s, uint64_t now)
{
	struct net_dhcp *d = &s->dhcp;
	struct net_dhcp_reply r = d->reply;

	if (r.type != 0) {
		d->reply.type = 0;
		dhcp_act(s, &r, now);
	}
	if (d->state == DHCP_RELEASING && !dhcp_arp_waiting(s, d->server))
		dhcp_released(s, now);
	/* Each turn moves on (a clock that jumped past T1, T2 and the
	 * expiry at once takes three); a callback may stop the client. */
	while (d->state != DHCP_OFF && d->deadline <= now)
		dhcp_timer(s, now);
	return d->state == DHCP_OFF ? RT_TIME_INFINITY : d->deadline;
}

void
net_dhcp_fini(struct net_stack *s)
{
	s->dhcp.state = DHCP_OFF;
}

int
net_dhcp_start(struct net_stack *s, net_dhcp_fn *fn, void *arg,
    uint64_t now_ns)
{
	struct net_dhcp *d = &s->dhcp;
	const uint8_t *mac = s->mac;
	int r;

	if (d->state == DHCP_RELEASING)
		dhcp_released(s, now_ns);
	if (d->state != DHCP_OFF || s->cfg.ip != 0)
		return -RT_EINVAL;
	memset(d, 0, sizeof(*d));
	if ((r = net_udp_bind(s, &d->sock, DHCP_CLIENT_PORT, dhcp_input,
	    s)) < 0)
		return r;
	d->fn = fn;
	d->arg = arg;
	/* Unseeded, stacks on one link still differ by their MAC. */
	d->rng = s->seed ^ ((uint64_t)mac[0] << 40 | (uint64_t)mac[1] << 32 |
	    (uint64_t)mac[2] << 24 | (uint64_t)mac[3] << 16 |
	    (uint64_t)mac[4] << 8 | mac[5]);
	dhcp_discover(s, now_ns);
	return 0;
}

int
net_dhcp_stop(struct net_stack *s, uint64_t now_ns)
{
	struct net_dhcp *d = &s->dhcp;
	int bound = d->state == DHCP_BOUND || d->state == DHCP_RENEWING ||
	    d->state == DHCP_REBINDING;

	if (d->state == DHCP_OFF || d->state == DHCP_RELEASING)
		return -RT_ENOENT;
	d->reply.type = 0;
	if (bound) {
		d->xid = (uint32_t)dhcp_random(d);
		d->began = now_ns;
		dhcp_send(s, DHCPRELEASE, d->server, now_ns);
	}
	net_udp_unbind(s, &d->sock);
	d->state = DHCP_OFF;
	if (!bound)
		return 0;
	/* RFC 2131 4.4.6: the address is not ours once released; but the
	 * RELEASE waiting for ARP needs it a little longer. */
	if (dhcp_arp_waiting(s, d->server)) {
		d->state = DHCP_RELEASING;
		d->deadline = now_ns + NET_ARP_TRIES * NET_ARP_RETRY_NS;
	} else {
		dhcp_released(s, now_ns);
	}
	return 0;
}

void
net_dhcp_info(const struct net_stack *s, struct net_dhcp_info *info)
{
	const struct net_dhcp *d = &s->dhcp;

	memset(info, 0, sizeof(*info));
	info->state = d->state >= 0 && d->state <= DHCP_RELEASING ?
	    state_names[d->state] : "?";
	info->server = d->server;
	info->cfg = d->lease;
	info->lease_s = d->lease_s;
	info->t1_s = d->t1_s;
	info->t2_s = d->t2_s;
	info->t1 = d->t1;
	info->t2 = d->t2;
	info->expiry = d->expiry;
	info->deadline = d->state == DHCP_OFF ? RT_TIME_INFINITY : d->deadline;
	info->acks = d->acks;
	info->rejected = d->rejected;
	info->unexpected = d->unexpected;
}
