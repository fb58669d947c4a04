/*
 * platform-stubs.c - weak defaults for the hooks of platform.h: "not
 * Xen".  They let a runtime built without runtime/xen/ link and run; the
 * Xen code's own definitions replace them (kernels link libruntime.a
 * whole, so a strong definition anywhere in it wins).
 */
#include "platform.h"
#include "rt.h"

__attribute__((weak)) uint32_t
xen_detect(void)
{
	return 0;
}

__attribute__((weak)) int
xen_init(uint32_t leaf, const struct hvm_start_info *si)
{
	(void)leaf;
	(void)si;
	return -RT_ENOSYS;
}

__attribute__((weak)) void
xen_console_write(const char *buf, size_t len)
{
	(void)buf;
	(void)len;
}

__attribute__((weak)) uint64_t
xen_clock_monotonic_ns(void)
{
	return 0;
}

__attribute__((weak)) uint64_t
xen_clock_wall_ns(void)
{
	return 0;
}

__attribute__((weak)) uint64_t
xen_clock_tsc_hz(void)
{
	return 0;
}

__attribute__((weak)) void
xen_upcall(void)
{
}

__attribute__((weak)) void
xen_shutdown(int crash)
{
	(void)crash;
}
