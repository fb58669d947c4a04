/*
 * test-netspec.c - unikerneld/netspec: the "network" member of a run as
 * the API takes it (every refusal with its code), forwards and the host
 * addresses a daemon allows, MACs derived from instance ids, the bridge's
 * subnet and pool, and the words appended to a guest's command line.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "netspec.h"
#include "tap.h"

static const struct jsonstrict_rules rules = {
	.max_depth = 8,
	.malformed = "bad_json",
	.too_deep = "bad_json",
	.not_object = "bad_request",
	.escaped_key = "bad_request",
	.duplicate_key = "bad_request",
	.too_many_keys = "bad_request",
	.unknown_key = "bad_request",
	.missing = "bad_request",
	.bad_type = "bad_request",
};

/* Parses the JSON text (net) as a "network" member under (pol). */
static int
parse(const char *net, const struct netspec_policy *pol, struct netspec *ns,
    struct err *e)
{
	json_object *o = NULL;
	int rc;

	err_clear(e);
	if (net != NULL && (o = json_tokener_parse(net)) == NULL) {
		err_set(e, "test", "bad test JSON %s", net);
		return -1;
	}
	rc = netspec_from_json(o, &rules, pol, ns, e);
	json_object_put(o);
	return rc;
}

static void
refused(const char *net, const struct netspec_policy *pol, const char *code,
    const char *prefix)
{
	struct netspec ns;
	struct err e;
	int rc = parse(net, pol, &ns, &e);

	if (!ok(rc == -1 && strcmp(e.code, code) == 0 &&
	    strncmp(e.msg, prefix, strlen(prefix)) == 0, "%s: %s", net, code))
		diag("rc %d [%s] %s", rc, e.code, e.msg);
}

static void
test_names(void)
{
	enum netspec_mode m;
	enum netspec_proto p;

	ok(netspec_mode_parse("bridge", &m) == 0 && m == NETSPEC_BRIDGE,
	    "mode bridge");
	ok(netspec_mode_parse("user", &m) == 0 && m == NETSPEC_USER,
	    "mode user");
	ok(netspec_mode_parse("Bridge", &m) == -1, "modes are lowercase");
	is_str(netspec_mode_name(NETSPEC_NONE), "none", "mode name none");
	ok(netspec_proto_parse("udp", &p) == 0 && p == NETSPEC_UDP, "udp");
	ok(netspec_proto_parse("sctp", &p) == -1, "sctp is refused");
}

static void
test_ip(void)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "010.0.0.1", "1.2.3.4 ",
		" 1.2.3.4", "1..3.4", "-1.2.3.4", "1.2.3.0004", "localhost",
		"1.2.3.4/24",
	};
	char buf[NETSPEC_IP_MAX];
	uint32_t ip = 0;
	size_t i;

	ok(netspec_ip_parse("10.213.0.1", &ip) == 0 && ip == 0x0ad50001u,
	    "10.213.0.1");
	ok(netspec_ip_parse("0.0.0.0", &ip) == 0 && ip == 0, "0.0.0.0");
	ok(netspec_ip_parse("255.255.255.255", &ip) == 0 && ip == 0xffffffffu,
	    "255.255.255.255");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(netspec_ip_parse(bad[i], &ip) == -1, "'%s' is refused",
		    bad[i]);
	netspec_ip_format(0x7f000001u, buf);
	is_str(buf, "127.0.0.1", "format 127.0.0.1");
}

static void
test_json(void)
{
	static const char *const both[] = { "127.0.0.1", "192.0.2.7" };
	static const char *const any[] = { "0.0.0.0", "127.0.0.1" };
	const struct netspec_policy pboth = { both, 2 }, pany = { any, 2 };
	char many[4096];
	struct netspec ns;
	struct err e;
	size_t i, len;

	ok(parse(NULL, NULL, &ns, &e) == 0 && ns.mode == NETSPEC_NONE &&
	    ns.nforwards == 0, "no network: mode none");
	ok(parse("{}", NULL, &ns, &e) == 0 && ns.mode == NETSPEC_NONE,
	    "{}: mode none");
	ok(parse("{\"mode\":\"bridge\"}", NULL, &ns, &e) == 0 &&
	    ns.mode == NETSPEC_BRIDGE, "mode bridge");
	ok(parse("{\"mode\":\"user\"}", NULL, &ns, &e) == 0 &&
	    ns.mode == NETSPEC_USER && ns.nforwards == 0,
	    "mode user without forwards");
	ok(parse("{\"forwards\":[{\"host\":8080,\"guest\":80}]}", NULL, &ns,
	    &e) == 0 && ns.mode == NETSPEC_USER && ns.nforwards == 1 &&
	    ns.forwards[0].proto == NETSPEC_TCP &&
	    ns.forwards[0].host_port == 8080 &&
	    ns.forwards[0].guest_port == 80 &&
	    strcmp(ns.forwards[0].host_ip, "127.0.0.1") == 0,
	    "forwards imply user; tcp and 127.0.0.1 by default");
	ok(parse("{\"mode\":\"user\",\"forwards\":[{\"host\":5353,"
	    "\"guest\":53,\"proto\":\"udp\"},{\"host\":5353,\"guest\":53}]}",
	    NULL, &ns, &e) == 0 && ns.nforwards == 2 &&
	    ns.forwards[0].proto == NETSPEC_UDP,
	    "the same port for tcp and udp");
	ok(parse("{\"forwards\":[{\"host\":8080,\"guest\":80},{\"host\":8081,"
	    "\"guest\":80}]}", NULL, &ns, &e) == 0,
	    "two host ports to one guest port");
	ok(parse("{\"forwards\":[{\"host\":8080,\"guest\":80,\"host_ip\":"
	    "\"192.0.2.7\"},{\"host\":8080,\"guest\":81}]}", &pboth, &ns,
	    &e) == 0, "one port on two allowed addresses");

	refused("{\"mode\":\"nat\"}", NULL, "network_mode_unknown",
	    "network.mode: ");
	refused("{\"mode\":7}", NULL, "bad_request", "network.mode");
	refused("[]", NULL, "bad_request", "network: ");
	refused("{\"mode\":\"user\",\"ports\":[]}", NULL, "bad_request",
	    "network");
	refused("{\"mode\":\"bridge\",\"forwards\":[{\"host\":8080,"
	    "\"guest\":80}]}", NULL, "network_forward_mode",
	    "network.forwards: ");
	refused("{\"mode\":\"none\",\"forwards\":[{\"host\":8080,"
	    "\"guest\":80}]}", NULL, "network_forward_mode",
	    "network.forwards: ");
	refused("{\"forwards\":[{\"host\":0,\"guest\":80}]}", NULL,
	    "network_forward_invalid", "network.forwards[0].host: ");
	refused("{\"forwards\":[{\"host\":8080,\"guest\":65536}]}", NULL,
	    "network_forward_invalid", "network.forwards[0].guest: ");
	refused("{\"forwards\":[{\"host\":-80,\"guest\":80}]}", NULL,
	    "network_forward_invalid", "network.forwards[0].host: ");
	refused("{\"forwards\":[{\"host\":\"8080\",\"guest\":80}]}", NULL,
	    "bad_request", "network.forwards[0].host");
	refused("{\"forwards\":[{\"host\":80.5,\"guest\":80}]}", NULL,
	    "bad_request", "network.forwards[0].host");
	refused("{\"forwards\":[{\"guest\":80}]}", NULL, "bad_request",
	    "network.forwards[0].host");
	refused("{\"forwards\":[{\"host\":8080,\"guest\":80,\"proto\":"
	    "\"sctp\"}]}", NULL, "network_forward_invalid",
	    "network.forwards[0].proto: ");
	refused("{\"forwards\":[{\"host\":8080,\"guest\":80,\"hostip\":"
	    "\"127.0.0.1\"}]}", NULL, "bad_request", "network.forwards[0]");
	refused("{\"forwards\":[8080]}", NULL, "bad_request",
	    "network.forwards[0]: ");
	refused("{\"forwards\":{\"host\":8080}}", NULL, "bad_request",
	    "network.forwards");
	refused("{\"forwards\":[{\"host\":8080,\"guest\":80,\"host_ip\":"
	    "\"localhost\"}]}", NULL, "network_forward_invalid",
	    "network.forwards[0].host_ip: ");
	refused("{\"forwards\":[{\"host\":8080,\"guest\":80,\"host_ip\":"
	    "\"0.0.0.0\"}]}", NULL, "network_host_ip_refused",
	    "network.forwards[0].host_ip: 0.0.0.0 is not one");
	refused("{\"forwards\":[{\"host\":8080,\"guest\":80,\"host_ip\":"
	    "\"192.0.2.8\"}]}", &pboth, "network_host_ip_refused",
	    "network.forwards[0].host_ip: ");
	refused("{\"forwards\":[{\"host\":8080,\"guest\":80},{\"host\":9090,"
	    "\"guest\":90},{\"host\":8080,\"guest\":81}]}", NULL,
	    "network_forward_duplicate", "network.forwards[2]: tcp port 8080");
	refused("{\"forwards\":[{\"host\":8080,\"guest\":80,\"host_ip\":"
	    "\"0.0.0.0\"},{\"host\":8080,\"guest\":81}]}", &pany,
	    "network_forward_duplicate", "network.forwards[1]: ");

	len = (size_t)snprintf(many, sizeof(many), "{\"forwards\":[");
	for (i = 0; i < NETSPEC_FORWARDS_MAX + 1; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
		    "%s{\"host\":%zu,\"guest\":80}", i ? "," : "", 1000 + i);
	snprintf(many + len, sizeof(many) - len, "]}");
	refused(many, NULL, "network_too_many_forwards", "network.forwards: ");
	/* exactly the limit passes */
	len = (size_t)snprintf(many, sizeof(many), "{\"forwards\":[");
	for (i = 0; i < NETSPEC_FORWARDS_MAX; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
		    "%s{\"host\":%zu,\"guest\":80}", i ? "," : "", 1000 + i);
	snprintf(many + len, sizeof(many) - len, "]}");
	ok(parse(many, NULL, &ns, &e) == 0 &&
	    ns.nforwards == NETSPEC_FORWARDS_MAX, "%d forwards pass",
	    NETSPEC_FORWARDS_MAX);
}

static void
test_mac(void)
{
	uint8_t a[6], b[6], c[6];
	char s[NETSPEC_MAC_MAX], tap[NETSPEC_IFNAME_MAX];

	netspec_mac("0123456789abcdef0123456789abcdef", a);
	netspec_mac("0123456789abcdef0123456789abcdef", b);
	netspec_mac("ffffffffffffffffffffffffffffffff", c);
	netspec_mac_format(a, s);
	/* 02 and the first five bytes of SHA-256("0123...cdef") */
	is_str(s, "02:3e:b1:bd:43:99", "the MAC of an id");
	ok(memcmp(a, b, 6) == 0, "the same id, the same MAC");
	ok(memcmp(a, c, 6) != 0, "another id, another MAC");
	netspec_mac_format(c, s);
	is_str(s, "02:35:23:02:48:9b", "the MAC of another id");
	ok((a[0] & 1) == 0 && (a[0] & 2) == 2 && (c[0] & 3) == 2,
	    "unicast and locally administered");
	netspec_tap_name("0123456789abcdef0123456789abcdef", tap);
	is_str(tap, "uk0123456789ab", "the tap's name");
}

static void
test_subnet(void)
{
	static const char *const bad[] = {
		"10.213.0.1", "/24", "10.213.0.0/24", "10.213.0.255/24",
		"10.213.0.1/31", "10.213.0.1/7", "10.213.0.1/24x",
		"10.213.0.1/", "10.213.0.300/24", "10.213.0.1/024000",
	};
	struct netspec_subnet sn;
	uint32_t first, last;
	struct err e;
	size_t i;

	ok(netspec_subnet_parse("10.213.0.1/24", &sn, &e) == 0 &&
	    sn.addr == 0x0ad50001u && sn.prefix == 24, "10.213.0.1/24");
	netspec_pool(&sn, &first, &last);
	ok(first == 0x0ad50001u && last == 0x0ad500feu,
	    "the pool is the subnet's hosts");
	ok(!netspec_in_pool(&sn, 0x0ad50001u), "the bridge's own is not");
	ok(netspec_in_pool(&sn, 0x0ad50002u) && netspec_in_pool(&sn,
	    0x0ad500feu), ".2 and .254 are");
	ok(!netspec_in_pool(&sn, 0x0ad500ffu) && !netspec_in_pool(&sn,
	    0x0ad50000u) && !netspec_in_pool(&sn, 0x0ad50102u),
	    "broadcast, network and outside are not");
	ok(netspec_subnet_parse("192.168.77.254/30", &sn, &e) == 0,
	    "a /30");
	netspec_pool(&sn, &first, &last);
	ok(first == 0xc0a84dfdu && last == 0xc0a84dfeu && !netspec_in_pool(
	    &sn, last) && netspec_in_pool(&sn, first),
	    "a /30 leaves one guest address");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		ok(netspec_subnet_parse(bad[i], &sn, &e) == -1 &&
		    strcmp(e.code, ERR_INVALID) == 0, "'%s' is refused",
		    bad[i]);
	}
}

static void
test_cmdline(void)
{
	char out[64];
	struct err e;

	ok(netspec_cmdline("exit=3", 0x0ad50002u, 24, 0x0ad50001u, 4095, out,
	    sizeof(out), &e) == 0, "cmdline with words");
	is_str(out, "exit=3 ip=10.213.0.2/24 gw=10.213.0.1",
	    "the words follow the image's");
	ok(netspec_cmdline("", NETSPEC_USER_ADDR, NETSPEC_USER_PREFIX,
	    NETSPEC_USER_GATEWAY, 4095, out, sizeof(out), &e) == 0, "alone");
	is_str(out, "ip=10.0.2.15/24 gw=10.0.2.2", "user mode's words");
	ok(netspec_cmdline("a b", 0, 0, 0, 4095, out, sizeof(out), &e) == 0,
	    "no address");
	is_str(out, "a b", "no address, no words");
	ok(netspec_cmdline("0123456789", 0x0ad50002u, 24, 0x0ad50001u, 20,
	    out, sizeof(out), &e) == -1 && strcmp(e.code, ERR_INVALID) == 0,
	    "over the runtime's limit: refused");
}

int
main(void)
{
	test_names();
	test_ip();
	test_json();
	test_mac();
	test_subnet();
	test_cmdline();
	return tap_done();
}
