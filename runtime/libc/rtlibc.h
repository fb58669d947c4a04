/*
 * rtlibc.h - the runtime's small libc under its own names (rtl_).
 *
 * The sources in runtime/libc/ define only rtl_ symbols and include only
 * this header, which in turn includes only headers the compiler provides.
 * So the same files build freestanding for the guest and on the host for
 * the unit tests, next to the host's libc without a clash.  In the guest,
 * aliases.c gives each function its standard name and the headers in
 * runtime/libc/include/ declare those (docs/runtime.md, "libc").
 *
 * Rules, stated once:
 * - Semantics are ISO C's in the "C" locale (ASCII), unless a comment says
 *   otherwise; no floating point anywhere.
 * - Nothing here allocates, prints or stops the guest.
 * - rtl_errno is set only where ISO C says errno is set (numbers out of
 *   range, bad base) and on formatting errors (RTL_EOVERFLOW); it is never
 *   cleared.  The guest has one CPU and no threads, so it is a plain int.
 *
 * The rest of the runtime provides one hook: rtl_assert_fail(), below.
 */
#ifndef RTLIBC_H
#define RTLIBC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* errno values the libc itself sets; the same numbers as Linux. */
#define RTL_EINVAL	22
#define RTL_ERANGE	34
#define RTL_EOVERFLOW	75

extern int rtl_errno;

/*
 * Called by a failed assert(): (expr) is the text of the expression,
 * (file), (line) and (func) where it is.  Provided by the runtime core,
 * which reports a crash; it must not return.
 */
void rtl_assert_fail(const char *expr, const char *file, int line,
    const char *func) __attribute__((noreturn));

/* string.c */
void *rtl_memcpy(void *dst, const void *src, size_t n);
void *rtl_memmove(void *dst, const void *src, size_t n);
void *rtl_memset(void *dst, int c, size_t n);
int rtl_memcmp(const void *a, const void *b, size_t n);
void *rtl_memchr(const void *s, int c, size_t n);
size_t rtl_strlen(const char *s);
size_t rtl_strnlen(const char *s, size_t max);
int rtl_strcmp(const char *a, const char *b);
int rtl_strncmp(const char *a, const char *b, size_t n);
char *rtl_strchr(const char *s, int c);
char *rtl_strrchr(const char *s, int c);
char *rtl_strstr(const char *hay, const char *needle);
size_t rtl_strspn(const char *s, const char *accept);
size_t rtl_strcspn(const char *s, const char *reject);
char *rtl_strtok_r(char *s, const char *delim, char **save);
/*
 * Copy or append (src) into (dst) of (size) bytes, always NUL-terminated
 * when (size) > 0 (and for rtl_strlcat when (dst) holds a string within
 * (size)).  They return the length of the string they tried to create,
 * so a result >= (size) means it was truncated.
 */
size_t rtl_strlcpy(char *dst, const char *src, size_t size);
size_t rtl_strlcat(char *dst, const char *src, size_t size);

/* ctype.c: take an int that is EOF (-1) or an unsigned char's value. */
int rtl_isalnum(int c);
int rtl_isalpha(int c);
int rtl_iscntrl(int c);
int rtl_isdigit(int c);
int rtl_isgraph(int c);
int rtl_islower(int c);
int rtl_isprint(int c);
int rtl_ispunct(int c);
int rtl_isspace(int c);
int rtl_isupper(int c);
int rtl_isxdigit(int c);
int rtl_tolower(int c);
int rtl_toupper(int c);

/*
 * strtol.c: ISO C's strtol family.  An optional "0x" prefix in base 16
 * and base 0; "0b" is not a prefix.  On overflow the result is clamped
 * and rtl_errno set to RTL_ERANGE; with no digits it is 0 and (*end) is
 * (s); a (base) other than 0 or 2..36 gives 0, RTL_EINVAL and (*end) (s).
 * (end) may be NULL.
 */
long rtl_strtol(const char *s, char **end, int base);
unsigned long rtl_strtoul(const char *s, char **end, int base);
long long rtl_strtoll(const char *s, char **end, int base);
unsigned long long rtl_strtoull(const char *s, char **end, int base);
/* The absolute value; the most negative value is returned unchanged. */
int rtl_abs(int v);
long rtl_labs(long v);
long long rtl_llabs(long long v);

/*
 * format.c: printf-style formatting without floating point.
 *
 * Conversions d i u o x X c s p %, flags - + space 0 #, width and
 * precision (numbers or *), length modifiers hh h l ll z j t.  A NULL
 * string prints as "(null)" (cut by the precision like any string); %p
 * prints as "0x" and lower-case hex, NULL as "0x0".
 *
 * A directive this code does not handle (floating point, %n, wide
 * characters, a truncated "%...") is written out as it stands, and so is
 * the rest of the format after it: without knowing what that directive
 * would have consumed, any later one could read the wrong argument.
 *
 * rtl_vformat() hands the output to (put) in pieces of (n) bytes, not
 * NUL-terminated, passing (arg) through; it returns the number of bytes
 * produced, or -1 with rtl_errno RTL_EOVERFLOW when a width, precision or
 * the total does not fit in an int.  (ap) is consumed as by vprintf().
 *
 * rtl_vsnprintf() and rtl_snprintf() write at most (size) bytes into
 * (buf), always NUL-terminated when (size) > 0, and return the length the
 * whole output would have had (or -1 as above); (buf) may be NULL when
 * (size) is 0.
 */
int rtl_vformat(void (*put)(void *arg, const char *s, size_t n), void *arg,
    const char *fmt, va_list ap);
int rtl_format(void (*put)(void *arg, const char *s, size_t n), void *arg,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int rtl_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int rtl_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
