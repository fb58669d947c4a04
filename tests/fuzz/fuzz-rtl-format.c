/*
 * fuzz-rtl-format - the runtime libc's formatting and number parsing
 * (runtime/libc/format.c, strtol.c) against glibc.  The first input byte
 * picks a mode:
 *   0  one integer directive built from the input (flags, width and
 *      precision, literal or '*', length, conversion, value, buffer size):
 *      same return value and bytes as glibc's snprintf;
 *   1  the rest as a string and a base for the strtol family: same value,
 *      end and errno as glibc; and numbers printed by rtl_snprintf read
 *      back by rtl_strto* to the same value;
 *   2  the rest as a format string with only zero arguments behind it:
 *      no crash, no sanitizer report, and the counted, returned and
 *      stored lengths agree.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtlibc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT	1024

#include "../rt-format-helpers.h"

/* (v) typed for length (len) and signedness (sig), after two ints. */
#define CALL(f, b, n, fmt, len, sig, x1, x2, v)				\
	(len == 'l' ? (sig ? f(b, n, fmt, x1, x2, (long)(v)) :		\
	    f(b, n, fmt, x1, x2, (unsigned long)(v))) :			\
	len == 'L' ? (sig ? f(b, n, fmt, x1, x2, (long long)(v)) :	\
	    f(b, n, fmt, x1, x2, (unsigned long long)(v))) :		\
	len == 'z' ? (sig ? f(b, n, fmt, x1, x2, (ptrdiff_t)(v)) :	\
	    f(b, n, fmt, x1, x2, (size_t)(v))) :			\
	len == 'j' ? (sig ? f(b, n, fmt, x1, x2, (intmax_t)(v)) :	\
	    f(b, n, fmt, x1, x2, (uintmax_t)(v))) :			\
	len == 't' ? f(b, n, fmt, x1, x2, (ptrdiff_t)(v)) :		\
	(sig ? f(b, n, fmt, x1, x2, (int)(v)) :				\
	    f(b, n, fmt, x1, x2, (unsigned)(v))))

static uint64_t
take(const uint8_t **d, size_t *n, size_t bytes)
{
	uint64_t v = 0;

	for (; bytes > 0 && *n > 0; bytes--, (*d)++, (*n)--)
		v = v << 8 | **d;
	return v;
}

static void
integer(const uint8_t *d, size_t n)
{
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "z",
		"j", "t" };
	static const char lenc[] = { 0, 'H', 'h', 'l', 'L', 'z', 'j', 't' };
	static const char convs[] = "diuoxX";
	unsigned flags = (unsigned)take(&d, &n, 1);
	unsigned wb = (unsigned)take(&d, &n, 2), pb = (unsigned)take(&d, &n, 2);
	unsigned lb = (unsigned)take(&d, &n, 1) % 8;
	char conv = convs[take(&d, &n, 1) % 6];
	uint64_t v = take(&d, &n, 8);
	size_t size = (size_t)take(&d, &n, 2) % (OUT + 1);
	char fmt[64], dir[40], h[OUT], r[OUT];
	int x[2] = { 0, 0 }, stars = 0, sig = conv == 'd' || conv == 'i';
	int hn, rn;
	size_t k = 0, i;

	dir[k++] = '%';
	for (i = 0; i < 5; i++)
		if (flags & (1u << i))
			dir[k++] = "-+ 0#"[i];
	/* Widths and precisions up to 600, or '*' with -600..600. */
	if (wb & 0x8000) {
		dir[k++] = '*';
		x[stars++] = (int)(wb % 1201) - 600;
	} else if (wb & 0x4000)
		k += (size_t)snprintf(dir + k, sizeof(dir) - k, "%u", wb % 601);
	if (pb & 0x8000) {
		dir[k++] = '.';
		dir[k++] = '*';
		x[stars++] = (int)(pb % 1201) - 600;
	} else if (pb & 0x4000)
		k += (size_t)snprintf(dir + k, sizeof(dir) - k, ".%u", pb % 601);
	dir[k] = '\0';
	/* Arguments are always (x1, x2, v): "%.0d" of 0 prints nothing
	 * and soaks up the ints no '*' takes. */
	snprintf(fmt, sizeof(fmt), "%s[%s%s%c]", stars == 0 ? "%.0d%.0d" :
	    stars == 1 ? "%.0d" : "", dir, lens[lb], conv);
	if (stars == 1) {
		x[1] = x[0];
		x[0] = 0;
	}
	hn = CALL(host_fmt, h, size, fmt, lenc[lb], sig, x[0], x[1], v);
	rn = CALL(rtl_fmt, r, size, fmt, lenc[lb], sig, x[0], x[1], v);
	if (hn != rn || (size > 0 && strcmp(h, r) != 0)) {
		fprintf(stderr, "%s: host %d '%s', rtl %d '%s'\n", fmt, hn,
		    size > 0 ? h : "", rn, size > 0 ? r : "");
		abort();
	}
}

/* glibc from 2.38 reads "0b" in C23 mode; the runtime never does. */
static int
binary_prefix(const char *s, int base)
{
	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (*s == '+' || *s == '-')
		s++;
	return (base == 0 || base == 2) && s[0] == '0' &&
	    (s[1] == 'b' || s[1] == 'B');
}

#define COMPARE(rfn, hfn, s, base) do {					\
	char *re_, *he_;						\
	unsigned long long rv_, hv_;					\
	int rerr_, herr_;						\
	rtl_errno = errno = 0;						\
	rv_ = (unsigned long long)rfn(s, &re_, base);			\
	rerr_ = rtl_errno;						\
	hv_ = (unsigned long long)hfn(s, &he_, base);			\
	herr_ = errno;							\
	if (rv_ != hv_ || re_ != he_ || rerr_ != herr_) {		\
		fprintf(stderr, "%s(\"%s\", %d): %llu+%td/%d, host "	\
		    "%llu+%td/%d\n", #hfn, s, base, rv_, re_ - s, rerr_,	\
		    hv_, he_ - s, herr_);				\
		abort();						\
	}								\
} while (0)

static void
roundtrip(const char *s)
{
	char buf[64], *end;
	long long v = rtl_strtoll(s, NULL, 0);
	unsigned long long u = (unsigned long long)v;

	rtl_snprintf(buf, sizeof(buf), "%lld", v);
	if (rtl_strtoll(buf, &end, 10) != v || *end != '\0')
		abort();
	rtl_snprintf(buf, sizeof(buf), "%#llx", u);
	if (rtl_strtoull(buf, &end, 0) != u || *end != '\0')
		abort();
	rtl_snprintf(buf, sizeof(buf), "%#llo", u);
	if (rtl_strtoull(buf, &end, 0) != u || *end != '\0')
		abort();
}

static void
numbers(const uint8_t *d, size_t n)
{
	char s[80];
	int base = (int)take(&d, &n, 1) % 40 - 1;	/* -1..38 */
	char *end;

	if (n >= sizeof(s))
		n = sizeof(s) - 1;
	memcpy(s, d, n);
	s[n] = '\0';
	if (base < 0 || base == 1 || base > 36) {
		rtl_errno = 0;
		if (rtl_strtol(s, &end, base) != 0 || end != s ||
		    rtl_errno != RTL_EINVAL)
			abort();
		return;
	}
	roundtrip(s);
	if (binary_prefix(s, base))
		return;
	COMPARE(rtl_strtol, strtol, s, base);
	COMPARE(rtl_strtoul, strtoul, s, base);
	COMPARE(rtl_strtoll, strtoll, s, base);
	COMPARE(rtl_strtoull, strtoull, s, base);
}

#define Z16 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L

/*
 * Any format: the 16 zero arguments passed cover it if it has at most 16
 * '%' and '*' together; runs of digits are kept short so that widths
 * stay small.
 */
static void
any_format(const uint8_t *d, size_t n)
{
	char fmt[256], buf[64];
	size_t i, len = 0, total = 0, digits = 0;
	int uses = 0, r1, r2;

	for (i = 0; i < n && len < sizeof(fmt) - 1; i++) {
		char c = (char)d[i];

		if (c == '\0')
			continue;
		digits = c >= '0' && c <= '9' ? digits + 1 : 0;
		if (digits > 3)
			continue;
		if ((c == '%' || c == '*') && ++uses > 16)
			break;
		fmt[len++] = c;
	}
	fmt[len] = '\0';
	r1 = count_fmt(&total, fmt, Z16);
	r2 = rtl_fmt(buf, sizeof(buf), fmt, Z16);
	if (r1 < 0 || r1 != r2 || (size_t)r1 != total)
		abort();
	if (buf[(size_t)r2 < sizeof(buf) ? (size_t)r2 : sizeof(buf) - 1] !=
	    '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		integer(data + 1, size - 1);
		break;
	case 1:
		numbers(data + 1, size - 1);
		break;
	default:
		any_format(data + 1, size - 1);
		break;
	}
	return 0;
}
