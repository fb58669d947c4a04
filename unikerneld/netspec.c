/*
 * netspec.c - an instance's guest network, checked in one place
 * (netspec.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "netspec.h"

static const char *const mode_names[] = { "none", "user", "bridge" };
static const char *const proto_names[] = { "tcp", "udp" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The index of (s) among the (n) (names), or -1. */
static int
name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
netspec_mode_name(enum netspec_mode m)
{
	return (unsigned)m < NELEM(mode_names) ? mode_names[m] : "?";
}

int
netspec_mode_parse(const char *s, enum netspec_mode *m)
{
	int i = name_index(mode_names, NELEM(mode_names), s);

	if (i >= 0)
		*m = (enum netspec_mode)i;
	return i >= 0 ? 0 : -1;
}

const char *
netspec_proto_name(enum netspec_proto p)
{
	return (unsigned)p < NELEM(proto_names) ? proto_names[p] : "?";
}

int
netspec_proto_parse(const char *s, enum netspec_proto *p)
{
	int i = name_index(proto_names, NELEM(proto_names), s);

	if (i >= 0)
		*p = (enum netspec_proto)i;
	return i >= 0 ? 0 : -1;
}

int
netspec_ip_parse(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	unsigned b, n;
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return -1;
		/* no leading zero: QEMU reads "010" as octal (inet_aton) */
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -1;
		for (b = 0, n = 0; *s >= '0' && *s <= '9' && n < 4; s++, n++)
			b = b * 10 + (unsigned)(*s - '0');
		if (n == 0 || n > 3 || b > 255)
			return -1;
		v = v << 8 | b;
	}
	if (*s != '\0')
		return -1;
	*ip = v;
	return 0;
}

void
netspec_ip_format(uint32_t ip, char out[NETSPEC_IP_MAX])
{
	snprintf(out, NETSPEC_IP_MAX, "%u.%u.%u.%u", ip >> 24,
	    (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* Is (ip) one of the addresses (pol) lets forwards listen on? */
static int
host_ip_allowed(const struct netspec_policy *pol, uint32_t ip)
{
	uint32_t a;
	size_t i;

	if (pol == NULL || pol->host_ips == NULL)
		return netspec_ip_parse(NETSPEC_DEFAULT_HOST_IP, &a) == 0 &&
		    a == ip;
	for (i = 0; i < pol->nhost_ips; i++)
		if (netspec_ip_parse(pol->host_ips[i], &a) == 0 && a == ip)
			return 1;
	return 0;
}

static void
policy_text(const struct netspec_policy *pol, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	if (pol == NULL || pol->host_ips == NULL) {
		snprintf(buf, size, "%s", NETSPEC_DEFAULT_HOST_IP);
		return;
	}
	for (i = 0; i < pol->nhost_ips && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i ? ", " : "", pol->host_ips[i]);
}

/* One forward on its own: (i) names it in messages. */
static int
forward_check(const struct netspec_forward *f, size_t i,
    const struct netspec_policy *pol, uint32_t *ip, struct err *e)
{
	char allowed[256];

	if (f->host_port == 0 || f->guest_port == 0)
		return err_set(e, "network_forward_invalid", "network."
		    "forwards[%zu].%s: 0 is not a port (1..65535)", i,
		    f->host_port == 0 ? "host" : "guest");
	if ((unsigned)f->proto >= NELEM(proto_names))
		return err_set(e, "network_forward_invalid", "network."
		    "forwards[%zu].proto: neither tcp nor udp", i);
	if (netspec_ip_parse(f->host_ip, ip) == -1)
		return err_set(e, "network_forward_invalid", "network."
		    "forwards[%zu].host_ip: \"%.20s\" is not a dotted IPv4 "
		    "address", i, f->host_ip);
	if (!host_ip_allowed(pol, *ip)) {
		policy_text(pol, allowed, sizeof(allowed));
		return err_set(e, "network_host_ip_refused", "network."
		    "forwards[%zu].host_ip: %s is not one of the addresses "
		    "forwards may listen on (%s); the daemon's "
		    "forward_addresses sets them", i, f->host_ip, allowed);
	}
	return 0;
}

int
netspec_check(const struct netspec *ns, const struct netspec_policy *pol,
    struct err *e)
{
	uint32_t ips[NETSPEC_FORWARDS_MAX];
	const struct netspec_forward *f, *g;
	size_t i, j;

	if ((unsigned)ns->mode >= NELEM(mode_names))
		return err_set(e, "network_mode_unknown", "network.mode: "
		    "none, user or bridge");
	if (ns->nforwards > NETSPEC_FORWARDS_MAX)
		return err_set(e, "network_too_many_forwards", "network."
		    "forwards: %zu forwards, more than %d", ns->nforwards,
		    NETSPEC_FORWARDS_MAX);
	if (ns->nforwards > 0 && ns->mode != NETSPEC_USER)
		return err_set(e, "network_forward_mode", "network.forwards: "
		    "port forwards need mode user, not %s",
		    netspec_mode_name(ns->mode));
	for (i = 0; i < ns->nforwards; i++) {
		f = &ns->forwards[i];
		if (forward_check(f, i, pol, &ips[i], e) == -1)
			return -1;
		for (j = 0; j < i; j++) {
			g = &ns->forwards[j];
			if (g->proto == f->proto && g->host_port ==
			    f->host_port && (ips[i] == ips[j] || ips[i] == 0 ||
			    ips[j] == 0))
				return err_set(e, "network_forward_duplicate",
				    "network.forwards[%zu]: %s port %u on %s "
				    "is forwarded already by network."
				    "forwards[%zu]", i,
				    netspec_proto_name(f->proto),
				    (unsigned)f->host_port, f->host_ip, j);
		}
	}
	return 0;
}

/* A port member, required, 1..65535. */
static int
port_member(json_object *o, const char *key, const char *field,
    const struct jsonstrict_rules *r, uint16_t *out, struct err *e)
{
	json_object *j;
	int64_t v;

	if (jsonstrict_member(o, key, field, json_type_int, 1, r, &j, e) == -1)
		return -1;
	v = json_object_get_int64(j);
	if (v < 1 || v > 65535)
		return err_set(e, "network_forward_invalid", "%s: %" PRId64
		    " is not a port (1..65535)", field, v);
	*out = (uint16_t)v;
	return 0;
}

static int
forward_from_json(json_object *o, size_t i, const struct jsonstrict_rules *r,
    struct netspec_forward *f, struct err *e)
{
	static const char *const keys[] = {
		"host", "guest", "proto", "host_ip", NULL,
	};
	char field[64], sub[80];
	json_object *j;
	const char *s;

	snprintf(field, sizeof(field), "network.forwards[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, r->bad_type, "%s: not an object", field);
	if (jsonstrict_check_keys(o, keys, field, r, e) == -1)
		return -1;
	snprintf(sub, sizeof(sub), "%s.host", field);
	if (port_member(o, "host", sub, r, &f->host_port, e) == -1)
		return -1;
	snprintf(sub, sizeof(sub), "%s.guest", field);
	if (port_member(o, "guest", sub, r, &f->guest_port, e) == -1)
		return -1;
	snprintf(sub, sizeof(sub), "%s.proto", field);
	if (jsonstrict_member(o, "proto", sub, json_type_string, 0, r, &j,
	    e) == -1)
		return -1;
	f->proto = NETSPEC_TCP;
	if (j != NULL && netspec_proto_parse(json_object_get_string(j),
	    &f->proto) == -1)
		return err_set(e, "network_forward_invalid", "%s: \"%.20s\" is "
		    "neither tcp nor udp", sub, json_object_get_string(j));
	snprintf(sub, sizeof(sub), "%s.host_ip", field);
	if (jsonstrict_member(o, "host_ip", sub, json_type_string, 0, r, &j,
	    e) == -1)
		return -1;
	s = j != NULL ? json_object_get_string(j) : NETSPEC_DEFAULT_HOST_IP;
	if (strlen(s) >= sizeof(f->host_ip))
		return err_set(e, "network_forward_invalid", "%s: \"%.20s...\" "
		    "is not a dotted IPv4 address", sub, s);
	memcpy(f->host_ip, s, strlen(s) + 1);
	return 0;
}

int
netspec_from_json(json_object *obj, const struct jsonstrict_rules *r,
    const struct netspec_policy *pol, struct netspec *ns, struct err *e)
{
	static const char *const keys[] = { "mode", "forwards", NULL };
	json_object *mode, *fw;
	size_t i, n;

	memset(ns, 0, sizeof(*ns));
	if (obj == NULL)
		return 0;
	if (!json_object_is_type(obj, json_type_object))
		return err_set(e, r->bad_type, "network: not an object");
	if (jsonstrict_check_keys(obj, keys, "network", r, e) == -1 ||
	    jsonstrict_member(obj, "mode", "network.mode", json_type_string,
	    0, r, &mode, e) == -1 ||
	    jsonstrict_member(obj, "forwards", "network.forwards",
	    json_type_array, 0, r, &fw, e) == -1)
		return -1;
	n = fw != NULL ? json_object_array_length(fw) : 0;
	if (n > NETSPEC_FORWARDS_MAX)
		return err_set(e, "network_too_many_forwards", "network."
		    "forwards: %zu forwards, more than %d", n,
		    NETSPEC_FORWARDS_MAX);
	for (i = 0; i < n; i++)
		if (forward_from_json(json_object_array_get_idx(fw, i), i, r,
		    &ns->forwards[i], e) == -1)
			return -1;
	ns->nforwards = n;
	if (mode != NULL) {
		if (netspec_mode_parse(json_object_get_string(mode),
		    &ns->mode) == -1)
			return err_set(e, "network_mode_unknown", "network."
			    "mode: \"%.20s\" is none of none, user, bridge",
			    json_object_get_string(mode));
	} else {
		ns->mode = n > 0 ? NETSPEC_USER : NETSPEC_NONE;
	}
	return netspec_check(ns, pol, e);
}

void
netspec_mac(const char *id, uint8_t mac[6])
{
	uint8_t h[SHA256_LEN];

	sha256_buf(id, strlen(id), h);
	mac[0] = 0x02;		/* locally administered, unicast */
	memcpy(mac + 1, h, 5);
}

void
netspec_tap_name(const char *id, char out[NETSPEC_IFNAME_MAX])
{
	snprintf(out, NETSPEC_IFNAME_MAX, "uk%.12s", id);
}

static uint32_t
mask_of(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int
netspec_subnet_parse(const char *s, struct netspec_subnet *sn,
    struct err *e)
{
	char ip[NETSPEC_IP_MAX];
	const char *slash;
	unsigned prefix = 0;
	uint32_t m;
	size_t n;

	if (s == NULL || (slash = strchr(s, '/')) == NULL ||
	    (n = (size_t)(slash - s)) >= sizeof(ip))
		return err_set(e, ERR_INVALID, "\"%.40s\": not ADDRESS/PREFIX "
		    "(10.213.0.1/24)", s != NULL ? s : "");
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (netspec_ip_parse(ip, &sn->addr) == -1)
		return err_set(e, ERR_INVALID, "\"%.40s\": %s is not a dotted "
		    "IPv4 address", s, ip);
	for (slash++; *slash >= '0' && *slash <= '9' && prefix < 100; slash++)
		prefix = prefix * 10 + (unsigned)(*slash - '0');
	if (*slash != '\0' || prefix < 8 || prefix > 30)
		return err_set(e, ERR_INVALID, "\"%.40s\": the prefix must be "
		    "a number from 8 to 30", s);
	m = mask_of(prefix);
	if ((sn->addr & ~m) == 0 || (sn->addr & ~m) == ~m)
		return err_set(e, ERR_INVALID, "\"%.40s\": the bridge needs a "
		    "host address of its subnet, not its network or broadcast "
		    "address", s);
	sn->prefix = prefix;
	return 0;
}

void
netspec_pool(const struct netspec_subnet *sn, uint32_t *first,
    uint32_t *last)
{
	uint32_t m = mask_of(sn->prefix);

	*first = (sn->addr & m) + 1;
	*last = (sn->addr | ~m) - 1;
}

int
netspec_in_pool(const struct netspec_subnet *sn, uint32_t ip)
{
	uint32_t first, last;

	netspec_pool(sn, &first, &last);
	return ip >= first && ip <= last && ip != sn->addr;
}

int
netspec_cmdline(const char *base, uint32_t ip, unsigned prefix,
    uint32_t gw, size_t max, char *out, size_t outsz, struct err *e)
{
	char a[NETSPEC_IP_MAX], g[NETSPEC_IP_MAX];
	int n;

	if (base == NULL)
		base = "";
	if (ip == 0) {
		n = snprintf(out, outsz, "%s", base);
	} else {
		netspec_ip_format(ip, a);
		netspec_ip_format(gw, g);
		n = snprintf(out, outsz, "%s%sip=%s/%u%s%s", base,
		    base[0] != '\0' ? " " : "", a, prefix, gw != 0 ? " gw=" :
		    "", gw != 0 ? g : "");
	}
	if (n < 0 || (size_t)n >= outsz || (size_t)n > max)
		return err_set(e, ERR_INVALID, "the command line with the "
		    "network's words is over %zu bytes", max);
	return 0;
}
