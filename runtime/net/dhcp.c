/*
 * dhcp.c - the DHCP client (RFC 2131).
 */
#include "net-priv.h"

/* Placeholder until the client lands. */
int
net_dhcp_start(struct net_stack *s, net_dhcp_fn *fn, void *arg,
    uint64_t now_ns)
{
	(void)s;
	(void)fn;
	(void)arg;
	(void)now_ns;
	return -RT_ENOSYS;
}
