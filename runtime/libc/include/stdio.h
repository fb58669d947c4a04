/*
 * stdio.h - formatted output into buffers (runtime/libc/format.c), for
 * code built freestanding.
 *
 * There are no streams: the runtime core prints to its console with
 * rtl_vformat(), declared with the rules of the conversions in rtlibc.h.
 * snprintf() always NUL-terminates when (size) > 0 and returns the length
 * the whole output would have had; no floating point.
 */
#ifndef RTL_STDIO_H
#define RTL_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#include "../rtlibc.h"

int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
