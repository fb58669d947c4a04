/*
 * netdev.c - finding network devices: each driver's probe in turn, the
 * first that has a device wins.  Adding a driver is adding a row.  Each
 * says -RT_ENODEV at once on a platform it does not serve: virtio-net
 * under Xen, netfront elsewhere.
 */
#include "netdev.h"
#include "virtio.h"
#include "../xen/xenbus.h"

#include "rt.h"

static int (*const probes[])(const char *cmdline, struct netdev **devp) = {
	virtio_net_probe,
	xen_netfront_probe,
};

int
netdev_probe(const char *cmdline, struct netdev **devp)
{
	size_t i;
	int r, first = -RT_ENODEV;

	for (i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		if ((r = probes[i](cmdline, devp)) == 0)
			return 0;
		if (first == -RT_ENODEV)
			first = r;
	}
	return first;
}
