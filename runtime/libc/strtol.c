/*
 * strtol.c - number parsing: the strtol family and abs.
 *
 * One parser collects the magnitude as a uintmax_t and whether it
 * overflowed; each function then clamps to its own type's range, so the
 * range rules are written once per signedness rather than per type.
 */
#include "rtlibc.h"

#define LLONG_MAX_	__LONG_LONG_MAX__
#define LLONG_MIN_	(-LLONG_MAX_ - 1)
#define ULLONG_MAX_	(LLONG_MAX_ * 2ULL + 1)
#define LONG_MAX_	__LONG_MAX__
#define LONG_MIN_	(-LONG_MAX_ - 1)
#define ULONG_MAX_	(LONG_MAX_ * 2UL + 1)

struct number {
	uintmax_t	mag;		/* the digits' value, if !over */
	int		neg;		/* a minus sign came first */
	int		over;		/* more than a uintmax_t holds */
};

/* The value of digit (c) in bases up to 36; 36 for a non-digit. */
static unsigned
digit(int c)
{
	if (rtl_isdigit(c))
		return (unsigned)(c - '0');
	if (rtl_islower(c))
		return (unsigned)(c - 'a' + 10);
	if (rtl_isupper(c))
		return (unsigned)(c - 'A' + 10);
	return 36;
}

/*
 * Parse (s) in (base) into (num) and set (*end).  Returns -1 if (base) is
 * invalid, else 0, also when there are no digits (then *end is s).
 */
static int
parse(const char *s, char **end, int base, struct number *num)
{
	const char *p = s;
	int any = 0;
	unsigned d;

	num->mag = 0;
	num->neg = num->over = 0;
	if (base < 0 || base == 1 || base > 36) {
		rtl_errno = RTL_EINVAL;
		if (end != NULL)
			*end = (char *)(uintptr_t)s;
		return -1;
	}
	while (rtl_isspace(*p))
		p++;
	if (*p == '-' || *p == '+')
		num->neg = *p++ == '-';
	/* "0x" is a prefix only if a hex digit follows; else "0" is the number. */
	if ((base == 0 || base == 16) && p[0] == '0' &&
	    (p[1] == 'x' || p[1] == 'X') && rtl_isxdigit(p[2])) {
		p += 2;
		base = 16;
	} else if (base == 0)
		base = *p == '0' ? 8 : 10;
	for (; (d = digit(*p)) < (unsigned)base; p++) {
		any = 1;
		if (num->mag > (UINTMAX_MAX - d) / (unsigned)base)
			num->over = 1;
		else
			num->mag = num->mag * (unsigned)base + d;
	}
	if (end != NULL)
		*end = (char *)(uintptr_t)(any ? p : s);
	return 0;
}

/* (s) as a number in [min, max], clamped with RTL_ERANGE. */
static long long
to_signed(const char *s, char **end, int base, long long min, long long max)
{
	struct number n;
	/* The most negative magnitude, without overflowing in the negation. */
	uintmax_t limit;

	if (parse(s, end, base, &n) == -1)
		return 0;
	limit = n.neg ? (uintmax_t)-(min + 1) + 1 : (uintmax_t)max;
	if (n.over || n.mag > limit) {
		rtl_errno = RTL_ERANGE;
		return n.neg ? min : max;
	}
	if (n.neg)
		return n.mag == limit ? min : -(long long)n.mag;
	return (long long)n.mag;
}

/*
 * (s) as a number up to (max), a power of two less one.  As ISO C says, a
 * minus sign negates in the unsigned type: "-1" is (max).
 */
static unsigned long long
to_unsigned(const char *s, char **end, int base, unsigned long long max)
{
	struct number n;

	if (parse(s, end, base, &n) == -1)
		return 0;
	if (n.over || n.mag > max) {
		rtl_errno = RTL_ERANGE;
		return max;
	}
	return n.neg ? (0 - n.mag) & max : n.mag;
}

long
rtl_strtol(const char *s, char **end, int base)
{
	return (long)to_signed(s, end, base, LONG_MIN_, LONG_MAX_);
}

unsigned long
rtl_strtoul(const char *s, char **end, int base)
{
	return (unsigned long)to_unsigned(s, end, base, ULONG_MAX_);
}

long long
rtl_strtoll(const char *s, char **end, int base)
{
	return to_signed(s, end, base, LLONG_MIN_, LLONG_MAX_);
}

unsigned long long
rtl_strtoull(const char *s, char **end, int base)
{
	return to_unsigned(s, end, base, ULLONG_MAX_);
}

/* Through the unsigned type, so that the most negative value cannot trap. */
int
rtl_abs(int v)
{
	return v < 0 ? (int)(0U - (unsigned)v) : v;
}

long
rtl_labs(long v)
{
	return v < 0 ? (long)(0UL - (unsigned long)v) : v;
}

long long
rtl_llabs(long long v)
{
	return v < 0 ? (long long)(0ULL - (unsigned long long)v) : v;
}
