/*
 * netspec.h - an instance's guest network as the API takes it and the
 * backends need it (prefix netspec_): the mode, port forwards, the MAC
 * derived from the instance id, the bridge's subnet and pool, and the
 * words a guest reads from its command line.  Pure functions: no store,
 * no sockets, no netlink (hostnet.h does the host's side).
 *
 * Contract, once for the whole header:
 * - Functions return 0 on success and -1 on failure with a stable code in
 *   (e) (err.h); (e) may be NULL.  Nothing here prints or exits.
 * - Codes (docs/api.md lists their HTTP statuses):
 *     network_mode_unknown	a mode that is none of none, user, bridge
 *     network_forward_invalid	a port outside 1..65535, a protocol other
 *				than tcp or udp, a host address that is not
 *				a dotted IPv4 address
 *     network_forward_duplicate	two forwards of one protocol on the
 *				same host port and address (0.0.0.0 meets
 *				every address)
 *     network_too_many_forwards	more than NETSPEC_FORWARDS_MAX
 *     network_forward_mode	forwards with a mode other than user
 *     network_host_ip_refused	a host address the daemon's
 *				forward_addresses does not list
 *     bad_request		a member of the wrong JSON type (the API's
 *				rule for every body)
 *     invalid_argument		anything else (a malformed subnet, a
 *				command line too long for the words)
 * - Addresses are IPv4 in host byte order (10.213.0.1 is 0x0ad50001).
 */
#ifndef UNIKERNELD_NETSPEC_H
#define UNIKERNELD_NETSPEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "err.h"
#include "jsonstrict.h"

#define NETSPEC_FORWARDS_MAX 32
#define NETSPEC_IP_MAX 16		/* "255.255.255.255" and its NUL */
#define NETSPEC_MAC_MAX 18		/* "02:xx:xx:xx:xx:xx" and its NUL */
#define NETSPEC_IFNAME_MAX 16		/* IFNAMSIZ */
#define NETSPEC_DEFAULT_HOST_IP "127.0.0.1"
/* user mode: what QEMU's slirp hands out (docs/daemon.md) */
#define NETSPEC_USER_ADDR 0x0a00020fu	/* 10.0.2.15 */
#define NETSPEC_USER_GATEWAY 0x0a000202u	/* 10.0.2.2 */
#define NETSPEC_USER_PREFIX 24

enum netspec_mode {
	NETSPEC_NONE,		/* no network device */
	NETSPEC_USER,		/* QEMU user networking, forwards on the host */
	NETSPEC_BRIDGE,		/* a tap (or vif) on the daemon's bridge */
};

enum netspec_proto {
	NETSPEC_TCP,
	NETSPEC_UDP,
};

struct netspec_forward {
	enum netspec_proto proto;
	char host_ip[NETSPEC_IP_MAX];	/* dotted, as given */
	uint16_t host_port;		/* 1..65535 */
	uint16_t guest_port;		/* 1..65535 */
};

/* What an instance asked for. */
struct netspec {
	enum netspec_mode mode;
	size_t nforwards;
	struct netspec_forward forwards[NETSPEC_FORWARDS_MAX];
};

/* The host addresses forwards may listen on (forward_addresses in
 * unikerneld.conf(5)); NULL stands for NETSPEC_DEFAULT_HOST_IP alone. */
struct netspec_policy {
	const char *const *host_ips;
	size_t nhost_ips;
};

/* Names as the API and the store write them ("none", "tcp"); the parsers
 * return 0, or -1 for an unknown name. */
const char *netspec_mode_name(enum netspec_mode m);
int netspec_mode_parse(const char *s, enum netspec_mode *m);
const char *netspec_proto_name(enum netspec_proto p);
int netspec_proto_parse(const char *s, enum netspec_proto *p);

/* A dotted IPv4 address, exactly four decimal numbers 0..255 without
 * leading zeros' ambiguity (no "010").  0 or -1. */
int netspec_ip_parse(const char *s, uint32_t *ip);
void netspec_ip_format(uint32_t ip, char out[NETSPEC_IP_MAX]);

/*
 * Checks (n) forwards for mode (mode) under (pol): ports, protocols,
 * addresses, duplicates, their number, that only user mode has them, and
 * that each host address is one (pol) lists.  Messages start with the
 * field, "network.forwards[2].host: ...".
 */
int netspec_check(const struct netspec *ns, const struct netspec_policy *pol,
    struct err *e);

/*
 * The "network" member of a POST /v1/instances body, (obj) (NULL when
 * absent), into (ns), checked with netspec_check() under (pol); JSON type
 * errors come with (r)'s codes.  {"mode", "forwards": [{"host", "guest",
 * "proto", "host_ip"}]}: proto defaults to tcp, host_ip to 127.0.0.1; the
 * mode to user when forwards are given, else none.
 */
int netspec_from_json(json_object *obj, const struct jsonstrict_rules *r,
    const struct netspec_policy *pol, struct netspec *ns, struct err *e);

/* The MAC of instance (id) (32 hex digits): 02 (locally administered,
 * unicast) and five bytes of the SHA-256 of the id, so the same on every
 * start and on every backend. */
void netspec_mac(const char *id, uint8_t mac[6]);

/* "02:3e:b1:bd:43:99"; inline, so that code that only writes a MAC (the
 * libxl backend, which runs where libcrypto may be missing) needs no
 * more of this module. */
static inline void
netspec_mac_format(const uint8_t mac[6], char out[NETSPEC_MAC_MAX])
{
	snprintf(out, NETSPEC_MAC_MAX, "%02x:%02x:%02x:%02x:%02x:%02x",
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* The tap device of instance (id) on the qemu backend: "uk" and the first
 * 12 hex digits of its id. */
void netspec_tap_name(const char *id, char out[NETSPEC_IFNAME_MAX]);

/* The bridge's address and prefix (bridge_address, "10.213.0.1/24"). */
struct netspec_subnet {
	uint32_t addr;		/* the bridge's own: the guests' gateway */
	unsigned prefix;	/* 8..30 */
};

/* Parses "A.B.C.D/N": N from 8 to 30, A.B.C.D a host of that subnet
 * (neither its network nor its broadcast address).  invalid_argument. */
int netspec_subnet_parse(const char *s, struct netspec_subnet *sn,
    struct err *e);

/* The guests' addresses: every host of the subnet but the bridge's own,
 * from (*first) to (*last); netspec_in_pool() says whether (ip) is one. */
void netspec_pool(const struct netspec_subnet *sn, uint32_t *first,
    uint32_t *last);
int netspec_in_pool(const struct netspec_subnet *sn, uint32_t ip);

/*
 * The guest's command line: (base) and, for an address, the words
 * "ip=A.B.C.D/N gw=G" appended (the runtime reads them, runtime/net/net.h;
 * a later word overrides an earlier one, so these win), into (out) of
 * (outsz) bytes.  (ip) 0 appends nothing.  invalid_argument when the
 * result would not fit in (max) bytes (the runtime's limit).
 */
int netspec_cmdline(const char *base, uint32_t ip, unsigned prefix,
    uint32_t gw, size_t max, char *out, size_t outsz, struct err *e);

#endif
