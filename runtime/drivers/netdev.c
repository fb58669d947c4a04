/*
 * netdev.c - finding network devices: each driver's probe in turn, the
 * first that has a device wins.  Adding a driver (netfront for Xen) is
 * adding a row.
 */
#include "netdev.h"
#include "virtio.h"

#include "rt.h"

static int (*const probes[])(const char *cmdline, struct netdev **devp) = {
	virtio_net_probe,
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
