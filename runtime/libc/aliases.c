/*
 * aliases.c - the standard names of the libc functions, for the guest
 * only (on the host they would collide with the host's libc).
 *
 * Kernel code calls these through runtime/libc/include/, and the compiler
 * emits calls to memcpy, memmove, memset and memcmp by itself, so they
 * must be real symbols.  Each is a wrapper that compiles to one jump:
 * symbol aliases would need the definitions in this file, and would then
 * keep the rtl_ sources from building on the host.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtlibc.h"

#if !defined(__STDC_HOSTED__) || __STDC_HOSTED__
#error "aliases.c is for the freestanding build (-ffreestanding)"
#endif

void *
memcpy(void *dst, const void *src, size_t n)
{
	return rtl_memcpy(dst, src, n);
}

void *
memmove(void *dst, const void *src, size_t n)
{
	return rtl_memmove(dst, src, n);
}

void *
memset(void *dst, int c, size_t n)
{
	return rtl_memset(dst, c, n);
}

int
memcmp(const void *a, const void *b, size_t n)
{
	return rtl_memcmp(a, b, n);
}

void *
memchr(const void *s, int c, size_t n)
{
	return rtl_memchr(s, c, n);
}

size_t
strlen(const char *s)
{
	return rtl_strlen(s);
}

size_t
strnlen(const char *s, size_t max)
{
	return rtl_strnlen(s, max);
}

int
strcmp(const char *a, const char *b)
{
	return rtl_strcmp(a, b);
}

int
strncmp(const char *a, const char *b, size_t n)
{
	return rtl_strncmp(a, b, n);
}

char *
strchr(const char *s, int c)
{
	return rtl_strchr(s, c);
}

char *
strrchr(const char *s, int c)
{
	return rtl_strrchr(s, c);
}

char *
strstr(const char *hay, const char *needle)
{
	return rtl_strstr(hay, needle);
}

size_t
strspn(const char *s, const char *accept)
{
	return rtl_strspn(s, accept);
}

size_t
strcspn(const char *s, const char *reject)
{
	return rtl_strcspn(s, reject);
}

char *
strtok_r(char *s, const char *delim, char **save)
{
	return rtl_strtok_r(s, delim, save);
}

size_t
strlcpy(char *dst, const char *src, size_t size)
{
	return rtl_strlcpy(dst, src, size);
}

size_t
strlcat(char *dst, const char *src, size_t size)
{
	return rtl_strlcat(dst, src, size);
}

int
vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return rtl_vsnprintf(buf, size, fmt, ap);
}

int
snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rtl_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}

long
strtol(const char *s, char **end, int base)
{
	return rtl_strtol(s, end, base);
}

unsigned long
strtoul(const char *s, char **end, int base)
{
	return rtl_strtoul(s, end, base);
}

long long
strtoll(const char *s, char **end, int base)
{
	return rtl_strtoll(s, end, base);
}

unsigned long long
strtoull(const char *s, char **end, int base)
{
	return rtl_strtoull(s, end, base);
}

int
abs(int v)
{
	return rtl_abs(v);
}

long
labs(long v)
{
	return rtl_labs(v);
}

long long
llabs(long long v)
{
	return rtl_llabs(v);
}

int
isalnum(int c)
{
	return rtl_isalnum(c);
}

int
isalpha(int c)
{
	return rtl_isalpha(c);
}

int
iscntrl(int c)
{
	return rtl_iscntrl(c);
}

int
isdigit(int c)
{
	return rtl_isdigit(c);
}

int
isgraph(int c)
{
	return rtl_isgraph(c);
}

int
islower(int c)
{
	return rtl_islower(c);
}

int
isprint(int c)
{
	return rtl_isprint(c);
}

int
ispunct(int c)
{
	return rtl_ispunct(c);
}

int
isspace(int c)
{
	return rtl_isspace(c);
}

int
isupper(int c)
{
	return rtl_isupper(c);
}

int
isxdigit(int c)
{
	return rtl_isxdigit(c);
}

int
tolower(int c)
{
	return rtl_tolower(c);
}

int
toupper(int c)
{
	return rtl_toupper(c);
}
