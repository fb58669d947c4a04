/*
 * config.c - static configuration from the kernel command line:
 * "ip=A.B.C.D/N gw=A.B.C.D mac=xx:xx:xx:xx:xx:xx".
 */
#include <string.h>

#include "net-priv.h"

/* A decimal number <= (max) at (*p), at most 3 digits; advances (*p). */
static int
parse_dec(const char **p, unsigned max, unsigned *out)
{
	unsigned v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9' && n < 3) {
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
		n++;
	}
	if (n == 0 || v > max || (**p >= '0' && **p <= '9'))
		return -RT_EINVAL;
	*out = v;
	return 0;
}

static int
parse_ip(const char **p, uint32_t *ip)
{
	uint32_t v = 0;
	unsigned b;

	for (int i = 0; i < 4; i++) {
		if (i > 0 && *(*p)++ != '.')
			return -RT_EINVAL;
		if (parse_dec(p, 255, &b) < 0)
			return -RT_EINVAL;
		v = v << 8 | b;
	}
	*ip = v;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
parse_mac(const char **p, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi, lo;

		if (i > 0 && *(*p)++ != ':')
			return -RT_EINVAL;
		hi = hexval((*p)[0]);
		lo = hi < 0 ? -1 : hexval((*p)[1]);
		if (lo < 0)
			return -RT_EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		*p += 2;
	}
	return 0;
}

static int
word_end(const char *p)
{
	return *p == '\0' || *p == ' ' || *p == '\t' || *p == '\n';
}

/* One word at (p) into (cfg): 1 if it was ours, 0 if not, or an error. */
static int
parse_word(struct net_config *cfg, const char *p)
{
	unsigned prefix;

	if (strncmp(p, "ip=dhcp", 7) == 0 && word_end(p + 7)) {
		/* Explicitly no static address: the stack waits for DHCP. */
		cfg->ip = 0;
		cfg->netmask = 0;
		return 1;
	} else if (strncmp(p, "ip=", 3) == 0) {
		p += 3;
		if (parse_ip(&p, &cfg->ip) < 0 || *p++ != '/' ||
		    parse_dec(&p, 32, &prefix) < 0)
			return -RT_EINVAL;
		cfg->netmask = prefix ? 0xffffffffu << (32 - prefix) : 0;
	} else if (strncmp(p, "gw=", 3) == 0) {
		p += 3;
		if (parse_ip(&p, &cfg->gateway) < 0)
			return -RT_EINVAL;
	} else if (strncmp(p, "mac=", 4) == 0) {
		p += 4;
		if (parse_mac(&p, cfg->mac) < 0)
			return -RT_EINVAL;
		cfg->has_mac = 1;
	} else {
		return 0;
	}
	return word_end(p) ? 1 : -RT_EINVAL;
}

int
net_ip_is_host(uint32_t ip)
{
	uint8_t top = (uint8_t)(ip >> 24);

	return ip != 0 && ip != IP_BROADCAST && top != 127 && top != 0 &&
	    top < 224;
}

static int
mac_is_unicast(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return (mac[0] & 1) == 0 && memcmp(mac, zero, 6) != 0;
}

int
net_config_check(const struct net_config *cfg)
{
	uint32_t m = cfg->netmask;

	if (cfg->has_mac && !mac_is_unicast(cfg->mac))
		return -RT_EINVAL;
	if (cfg->ip == 0)
		return cfg->gateway == 0 ? 0 : -RT_EINVAL;
	/* A contiguous mask, leaving the host a part that is neither all
	 * zeroes nor all ones (a /31 or /32 has no broadcast address). */
	if ((~m & (~m + 1)) != 0 || !net_ip_is_host(cfg->ip))
		return -RT_EINVAL;
	if (m < 0xfffffffeu && ((cfg->ip & ~m) == 0 ||
	    (cfg->ip & ~m) == ~m))
		return -RT_EINVAL;
	if (cfg->gateway != 0 && (!net_ip_is_host(cfg->gateway) ||
	    cfg->gateway == cfg->ip ||
	    (cfg->gateway & m) != (cfg->ip & m)))
		return -RT_EINVAL;
	return 0;
}

int
net_config_parse(struct net_config *cfg, const char *cmdline)
{
	struct net_config c;
	const char *p = cmdline;

	memset(&c, 0, sizeof(c));
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		if (parse_word(&c, p) < 0)
			return -RT_EINVAL;
		while (!word_end(p))
			p++;
	}
	if (net_config_check(&c) < 0)
		return -RT_EINVAL;
	*cfg = c;
	return 0;
}

int
net_configure(struct net_stack *s, const struct net_config *cfg,
    uint64_t now_ns)
{
	uint32_t old_ip = s->cfg.ip;

	if (net_config_check(cfg) < 0)
		return -RT_EINVAL;
	net_arp_flush(s);
	s->cfg = *cfg;
	if (cfg->ip != 0 && cfg->ip != old_ip)
		net_tcp_readdress(s, now_ns);
	if (cfg->has_mac)
		memcpy(s->mac, cfg->mac, 6);
	if (cfg->ip != 0)
		net_arp_announce(s);
	return 0;
}
