/*
 * console.c - rt_console_write() and printing: COM1, or Xen's PV console
 * once Xen is set up.  Formatting is the libc's rtl_vformat(); its pieces
 * are gathered in a small buffer so that the device is written in runs,
 * not a VM exit per conversion.
 */
#include <stdarg.h>
#include <string.h>

#include "../arch/x86_64/cpu.h"
#include "../libc/rtlibc.h"
#include "kernel.h"
#include "platform.h"

/* Xen's debug port: where the console goes when Xen could not be set up,
 * for `xl dmesg` to show why. */
#define XEN_DEBUG_PORT	0xe9

void
rt_console_write(const char *buf, size_t len)
{
	size_t i;

	if (rt_platform.id != RT_PLATFORM_XEN) {
		serial_write(buf, len);
	} else if (rt_platform.xen_up) {
		xen_console_write(buf, len);
	} else {
		for (i = 0; i < len; i++)
			outb(XEN_DEBUG_PORT, (uint8_t)buf[i]);
	}
}

struct sink {
	char buf[128];
	size_t n;
};

static void
sink_put(void *arg, const char *s, size_t n)
{
	struct sink *k = arg;
	size_t take;

	while (n > 0) {
		if (k->n == sizeof(k->buf)) {
			rt_console_write(k->buf, k->n);
			k->n = 0;
		}
		take = sizeof(k->buf) - k->n;
		if (take > n)
			take = n;
		memcpy(k->buf + k->n, s, take);
		k->n += take;
		s += take;
		n -= take;
	}
}

/* Prints (prefix), (fmt) formatted, and (suffix) in as few writes as
 * the buffer allows. */
static int
print(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	struct sink k;
	int n;

	k.n = 0;
	sink_put(&k, prefix, strlen(prefix));
	n = rtl_vformat(sink_put, &k, fmt, ap);
	sink_put(&k, suffix, strlen(suffix));
	if (k.n > 0)
		rt_console_write(k.buf, k.n);
	return n < 0 ? -RT_EINVAL : n;
}

int
console_vprintf(const char *fmt, va_list ap)
{
	return print("", fmt, ap, "");
}

int
rt_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = print("", fmt, ap, "");
	va_end(ap);
	return n;
}

void
rt_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print("rt: ", fmt, ap, "\n");
	va_end(ap);
}
