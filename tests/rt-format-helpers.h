/*
 * rt-format-helpers.h - the same format string and arguments through the
 * host's vsnprintf, rtl_vsnprintf and rtl_vformat, for the libc format
 * tests and the format fuzz target.  Header-only: include it once, after
 * <stdarg.h>, <stdio.h> and "rtlibc.h".  The formats are built at run time
 * or questioned by the compiler on purpose, hence no format attributes.
 */
#ifndef TESTS_RT_FORMAT_HELPERS_H
#define TESTS_RT_FORMAT_HELPERS_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int
host_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}

static int
rtl_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rtl_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}

/* Only counts the bytes produced. */
static void
count_put(void *arg, const char *s, size_t n)
{
	(void)s;
	*(size_t *)arg += n;
}

static int
count_fmt(size_t *total, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rtl_vformat(count_put, total, fmt, ap);
	va_end(ap);
	return r;
}
#pragma GCC diagnostic pop

#endif
