/*
 * string.c - memory and string functions.
 *
 * In the guest these are memcpy, strlen and the rest (aliases.c), and the
 * compiler emits calls to memcpy, memmove, memset and memcmp on its own.
 * An optimiser that recognises a copy or fill loop turns it into a call
 * to memcpy or memset, which here would be a call to itself.
 * -ffreestanding stops GCC 12 and clang 14 from doing that; NOLIBCALL
 * makes sure of it whatever the flags.  On x86_64 the bulk copy and fill
 * are the string instructions: a few bytes of code, and on CPUs with ERMS
 * the fastest way too.
 */
#include "rtlibc.h"

#if defined(__clang__)
#define NOLIBCALL	__attribute__((no_builtin))
#elif defined(__GNUC__)
#define NOLIBCALL	__attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NOLIBCALL
#endif

/* RTL_NO_ASM builds the portable loops on x86_64 too, so they are tested. */
#if defined(__x86_64__) && !defined(RTL_NO_ASM)
#define STRING_ASM	1
#else
#define STRING_ASM	0
#endif

/* Copy forward, byte by byte in effect: right for overlap with dst < src. */
NOLIBCALL static void
copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
#if STRING_ASM
	__asm__ volatile("rep movsb"
	    : "+D"(d), "+S"(s), "+c"(n)
	    :
	    : "memory");
#else
	while (n-- > 0)
		*d++ = *s++;
#endif
}

/*
 * Backwards, for overlap with dst > src.  Not "std; rep movsb": that is
 * slow on most CPUs, and an interrupt taken with the direction flag set
 * would run its handler against the ABI's promise that it is clear.
 */
NOLIBCALL static void
copy_backward(unsigned char *d, const unsigned char *s, size_t n)
{
	d += n;
	s += n;
	while (n-- > 0)
		*--d = *--s;
}

void *
rtl_memcpy(void *dst, const void *src, size_t n)
{
	copy_forward(dst, src, n);
	return dst;
}

void *
rtl_memmove(void *dst, const void *src, size_t n)
{
	/* Integers, since (src) and (dst) may point into different objects. */
	uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;

	if (d - s >= n)		/* dst below src, or no overlap at all */
		copy_forward(dst, src, n);
	else
		copy_backward(dst, src, n);
	return dst;
}

NOLIBCALL void *
rtl_memset(void *dst, int c, size_t n)
{
#if STRING_ASM
	void *d = dst;

	__asm__ volatile("rep stosb"
	    : "+D"(d), "+c"(n)
	    : "a"(c)
	    : "memory");
#else
	unsigned char *d = dst;

	while (n-- > 0)
		*d++ = (unsigned char)c;
#endif
	return dst;
}

NOLIBCALL int
rtl_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n > 0; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

/*
 * memchr and strlen are "repne scasb" on x86_64: one instruction however
 * long the string, where a loop is five a byte.  That matters where the
 * hypervisor runs guest kernel code instruction by instruction
 * (docs/runtime.md): the formatter scans its format with them.
 */
NOLIBCALL void *
rtl_memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
#if STRING_ASM
	int found;

	if (n == 0)
		return NULL;
	__asm__ volatile("repne scasb"
	    : "+D"(p), "+c"(n), "=@ccz"(found)
	    : "a"(c)
	    : "memory");
	return found ? (void *)(uintptr_t)(p - 1) : NULL;
#else
	for (; n > 0; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)(uintptr_t)p;
	return NULL;
#endif
}

NOLIBCALL size_t
rtl_strlen(const char *s)
{
	const char *p = s;
#if STRING_ASM
	size_t n = SIZE_MAX;

	__asm__ volatile("repne scasb"
	    : "+D"(p), "+c"(n)
	    : "a"(0)
	    : "memory", "cc");
	return (size_t)(p - s) - 1;
#else
	while (*p != '\0')
		p++;
	return (size_t)(p - s);
#endif
}

NOLIBCALL size_t
rtl_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

int
rtl_strcmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p != '\0' && *p == *q)
		p++, q++;
	return *p - *q;
}

int
rtl_strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; n > 0; n--, p++, q++)
		if (*p != *q || *p == '\0')
			return *p - *q;
	return 0;
}

char *
rtl_strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)(uintptr_t)s;
		if (*s == '\0')
			return NULL;
	}
}

char *
rtl_strrchr(const char *s, int c)
{
	const char *found = NULL;

	for (;; s++) {
		if (*s == (char)c)
			found = s;
		if (*s == '\0')
			return (char *)(uintptr_t)found;
	}
}

/* The simple quadratic search: the runtime's strings are short. */
char *
rtl_strstr(const char *hay, const char *needle)
{
	size_t n = rtl_strlen(needle);

	for (; *hay != '\0' || n == 0; hay++)
		if (rtl_strncmp(hay, needle, n) == 0)
			return (char *)(uintptr_t)hay;
	return NULL;
}

/* The bytes of (set) as a bitmap, so that spans are linear. */
static void
byte_set(uint64_t map[4], const char *set)
{
	const unsigned char *p = (const unsigned char *)set;

	map[0] = map[1] = map[2] = map[3] = 0;
	for (; *p != '\0'; p++)
		map[*p >> 6] |= (uint64_t)1 << (*p & 63);
}

static int
in_set(const uint64_t map[4], unsigned char c)
{
	return (map[c >> 6] >> (c & 63)) & 1;
}

size_t
rtl_strspn(const char *s, const char *accept)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t map[4];

	byte_set(map, accept);
	while (*p != '\0' && in_set(map, *p))
		p++;
	return (size_t)(p - (const unsigned char *)s);
}

size_t
rtl_strcspn(const char *s, const char *reject)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t map[4];

	byte_set(map, reject);
	while (*p != '\0' && !in_set(map, *p))
		p++;
	return (size_t)(p - (const unsigned char *)s);
}

char *
rtl_strtok_r(char *s, const char *delim, char **save)
{
	char *tok;

	if (s == NULL && (s = *save) == NULL)
		return NULL;
	s += rtl_strspn(s, delim);
	if (*s == '\0') {
		*save = NULL;
		return NULL;
	}
	tok = s;
	s += rtl_strcspn(s, delim);
	if (*s != '\0')
		*s++ = '\0';
	else
		s = NULL;
	*save = s;
	return tok;
}

size_t
rtl_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = rtl_strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		rtl_memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

size_t
rtl_strlcat(char *dst, const char *src, size_t size)
{
	size_t used = rtl_strnlen(dst, size);

	/* No NUL within (size): nothing can be appended, say so. */
	if (used == size)
		return size + rtl_strlen(src);
	return used + rtl_strlcpy(dst + used, src, size - used);
}
