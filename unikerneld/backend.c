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
