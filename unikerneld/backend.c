#include "config.h"

#include <string.h>

#include "backend.h"

extern const struct backend_ops backend_qemu_ops;
#ifdef HAVE_LIBVIRT
extern const struct backend_ops backend_libvirt_ops;
#endif
#ifdef HAVE_LIBXL
extern const struct backend_ops backend_libxl_ops;
#endif

/* The default backend comes first: qemu where KVM exists (docs/daemon.md). */
const struct backend_ops *const backend_all[] = {
	&backend_qemu_ops,
#ifdef HAVE_LIBVIRT
	&backend_libvirt_ops,
#endif
#ifdef HAVE_LIBXL
	&backend_libxl_ops,
#endif
	NULL,
};

const struct backend_ops *
backend_find(const char *name)
{
	size_t i;

	for (i = 0; backend_all[i] != NULL; i++)
		if (strcmp(backend_all[i]->name, name) == 0)
			return backend_all[i];
	return NULL;
}

int
backend_net_check(const struct backend_ops *ops, const struct netspec *ns,
    struct err *e)
{
	switch (ns->mode) {
	case NETSPEC_USER:
		if (!(ops->net & BACKEND_NET_USER))
			return err_set(e, "network_unsupported", "the %s "
			    "backend has no user networking; use --network "
			    "bridge", ops->name);
		if (ns->nforwards > 0 && !(ops->net & BACKEND_NET_FORWARDS))
			return err_set(e, "network_unsupported", "the %s "
			    "backend cannot forward ports from the host "
			    "(docs/daemon.md); use --network bridge, or the "
			    "qemu backend", ops->name);
		return 0;
	case NETSPEC_BRIDGE:
		if (!(ops->net & BACKEND_NET_BRIDGE))
			return err_set(e, "network_unsupported", "the %s "
			    "backend cannot put guests on a bridge", ops->name);
		return 0;
	default:
		return 0;
	}
}
