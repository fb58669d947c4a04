/*
 * hostnet.h - the host's side of guest networks (prefix hostnet_): the
 * daemon's bridge and the guests' taps, through rtnetlink (AF_NETLINK)
 * and /dev/net/tun.  Nothing here runs a program (no ip(8), no brctl).
 *
 * Contract, once for the whole header:
 * - Functions return 0 on success and -1 on failure with a stable code in
 *   (e) (err.h); (e) may be NULL.  Nothing here prints or exits.
 * - Codes:
 *     network_not_permitted	the kernel said EPERM or EACCES: creating
 *				a bridge or a tap needs CAP_NET_ADMIN
 *     network_bridge_conflict	a link of the bridge's name exists and is
 *				not a bridge
 *     network_setup_failed	any other refusal (the kernel's message;
 *				a tap name in use is EBUSY)
 *     network_port_in_use	hostnet_port_check(): a socket has the port
 *     invalid_argument		a name that is empty or too long for IFNAMSIZ
 * - Everything acts in the network namespace of the calling thread.
 * - Addresses are IPv4 in host byte order.
 */
#ifndef UNIKERNELD_HOSTNET_H
#define UNIKERNELD_HOSTNET_H

#include <stdint.h>

#include "err.h"
#include "netspec.h"

/* What the kernel says of one link. */
struct hostnet_link {
	int index;
	int is_bridge;		/* its kind is "bridge" */
	int up;			/* IFF_UP */
	int master;		/* the index of its bridge, 0: none */
	unsigned mtu;
};

/* (name) as it is now: 1 with (*l) when it exists, 0 when not, -1. */
int hostnet_link_get(const char *name, struct hostnet_link *l,
    struct err *e);

/*
 * Makes the bridge (name) with the address (addr)/(prefix) and brings it
 * up, unless it exists: a bridge that exists is left as it is (its
 * addresses, its state: the host's operator configured it), (*created) 0.
 * Two callers at once are fine: the second finds the first's bridge.
 */
int hostnet_bridge_ensure(const char *name, uint32_t addr, unsigned prefix,
    int *created, struct err *e);

/*
 * A tap (name) attached to the bridge (bridge), with the bridge's MTU, up,
 * as an open descriptor of /dev/net/tun in (*fd) (O_CLOEXEC) for the
 * hypervisor to read and write frames (no packet information header).
 * The tap is not persistent: it goes when the last descriptor is closed,
 * that is when the guest's QEMU ends.  On failure nothing is left.
 */
int hostnet_tap_open(const char *name, const char *bridge, int *fd,
    struct err *e);

/*
 * Whether the host port of forward (f) is free on its address: a socket
 * of its protocol is bound there (with SO_REUSEADDR for TCP, as QEMU's
 * forwards are) and closed again.  Codes: network_port_in_use,
 * network_not_permitted (a port below 1024 without
 * CAP_NET_BIND_SERVICE), network_setup_failed (not an address of this
 * host).  A check, not a reservation: the port may be taken after it.
 */
int hostnet_port_check(const struct netspec_forward *f, struct err *e);

#endif
