/*
 * test-rt-libc - the runtime libc's string, character, number parsing,
 * errno and assert parts, built on the host from the guest's sources and
 * checked against the host's libc where the two must agree, and against
 * written-down answers where the host has no such function.  The
 * formatting has its own program, test-rt-libc-format.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtlibc.h"
#include "rt-libc-test.h"
#include "tap.h"

static int
sign(int v)
{
	return (v > 0) - (v < 0);
}

/* A pseudo-random byte sequence, the same on every run. */
static unsigned
rnd(void)
{
	static uint32_t x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* rtl_memcpy at every alignment and size up to 300, guards untouched. */
static void
test_memcpy(void)
{
	unsigned char src[320], dst[340], want[340];
	size_t n, so, d, i;
	int bad = 0, cases = 0;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)rnd();
	for (n = 0; n <= 300; n += n < 40 ? 1 : 13)
		for (so = 0; so < 8; so++)
			for (d = 0; d < 8; d++) {
				memset(dst, 0xa5, sizeof(dst));
				memset(want, 0xa5, sizeof(want));
				memcpy(want + 16 + d, src + so, n);
				if (rtl_memcpy(dst + 16 + d, src + so, n) !=
				    dst + 16 + d ||
				    memcmp(dst, want, sizeof(dst)) != 0)
					bad++;
				cases++;
			}
	ok(bad == 0, "memcpy: %d sizes and alignments, guards intact (%d bad)",
	    cases, bad);
	ok(rtl_memcpy(NULL, NULL, 0) == NULL, "memcpy: zero bytes");
}

/* Every overlap: dst before, after and on src, at many distances. */
static void
test_memmove(void)
{
	unsigned char buf[200], want[200];
	size_t n, s, d, i;
	int bad = 0, cases = 0;

	for (n = 0; n <= 70; n += n < 20 ? 1 : 7)
		for (s = 0; s < 60; s += 3)
			for (d = 0; d < 60; d++) {
				for (i = 0; i < sizeof(buf); i++)
					buf[i] = want[i] = (unsigned char)i;
				memmove(want + d, want + s, n);
				if (rtl_memmove(buf + d, buf + s, n) != buf + d ||
				    memcmp(buf, want, sizeof(buf)) != 0)
					bad++;
				cases++;
			}
	ok(bad == 0, "memmove: %d overlaps both ways (%d bad)", cases, bad);

	memcpy(buf, "abcdefgh", 8);
	rtl_memmove(buf + 1, buf, 7);
	ok(memcmp(buf, "aabcdefg", 8) == 0, "memmove: forward overlap by one");
	memcpy(buf, "abcdefgh", 8);
	rtl_memmove(buf, buf + 1, 7);
	ok(memcmp(buf, "bcdefghh", 8) == 0, "memmove: backward overlap by one");
	memcpy(buf, "abcdefgh", 8);
	rtl_memmove(buf, buf, 8);
	ok(memcmp(buf, "abcdefgh", 8) == 0, "memmove: onto itself");
	ok(rtl_memmove(buf, buf + 1, 0) == buf &&
	    memcmp(buf, "abcdefgh", 8) == 0, "memmove: zero bytes");
}

static void
test_memset(void)
{
	unsigned char buf[300];
	size_t n, o, i;
	int bad = 0;

	for (n = 0; n < 260; n += n < 20 ? 1 : 11)
		for (o = 0; o < 8; o++) {
			memset(buf, 0x11, sizeof(buf));
			if (rtl_memset(buf + o, 0xcd, n) != buf + o)
				bad++;
			for (i = 0; i < sizeof(buf); i++)
				if (buf[i] != (i >= o && i < o + n ? 0xcd : 0x11))
					bad++;
		}
	ok(bad == 0, "memset: sizes and alignments, nothing outside (%d bad)",
	    bad);
	rtl_memset(buf, 0x1ab, 4);
	ok(buf[0] == 0xab && buf[3] == 0xab, "memset: only the low byte of c");
	rtl_memset(buf, -1, 4);
	ok(buf[0] == 0xff && buf[3] == 0xff, "memset: -1 is 0xff");
	buf[0] = 7;
	rtl_memset(buf, 0, 0);
	ok(buf[0] == 7, "memset: zero bytes");
}

static void
test_memcmp_memchr(void)
{
	unsigned char a[64], b[64];
	int bad = 0, i, j;

	for (i = 0; i < 2000; i++) {
		size_t n = rnd() % 64;

		for (j = 0; j < 64; j++)
			a[j] = b[j] = (unsigned char)rnd();
		if (n > 0 && rnd() % 4 != 0)
			b[rnd() % n] = (unsigned char)rnd();
		if (sign(rtl_memcmp(a, b, n)) != sign(memcmp(a, b, n)))
			bad++;
	}
	ok(bad == 0, "memcmp: 2000 random pairs agree with the host's");
	ok(rtl_memcmp("\x80", "\x7f", 1) > 0, "memcmp: bytes are unsigned");
	ok(rtl_memcmp("abc", "abd", 2) == 0, "memcmp: only n bytes");
	ok(rtl_memcmp(NULL, NULL, 0) == 0, "memcmp: zero bytes");

	memcpy(a, "hello\0world\xe9", 12);
	ok(rtl_memchr(a, 'o', 12) == a + 4, "memchr: first match");
	ok(rtl_memchr(a, 'w', 12) == a + 6, "memchr: past a NUL");
	ok(rtl_memchr(a, '\0', 12) == a + 5, "memchr: NUL");
	ok(rtl_memchr(a, 0xe9, 12) == a + 11, "memchr: high byte as int");
	ok(rtl_memchr(a, -23, 12) == a + 11, "memchr: high byte as char");
	ok(rtl_memchr(a, 'h' + 256, 12) == a, "memchr: c as unsigned char");
	ok(rtl_memchr(a, 'w', 6) == NULL, "memchr: not within n");
	ok(rtl_memchr(a, 'h', 0) == NULL, "memchr: zero bytes");
}

static void
test_strlen(void)
{
	ok(rtl_strlen("") == 0, "strlen: empty");
	ok(rtl_strlen("abc") == 3, "strlen: abc");
	ok(rtl_strlen("ab\0cd") == 2, "strlen: stops at NUL");
	ok(rtl_strnlen("abc", 10) == 3, "strnlen: shorter than max");
	ok(rtl_strnlen("abc", 3) == 3, "strnlen: exactly max");
	ok(rtl_strnlen("abcdef", 2) == 2, "strnlen: cut at max");
	ok(rtl_strnlen("abc", 0) == 0, "strnlen: max 0");
	/* strnlen must not read past max: a buffer without a NUL. */
	{
		char nonul[4] = { 'w', 'x', 'y', 'z' };

		ok(rtl_strnlen(nonul, 4) == 4, "strnlen: no NUL within max");
	}
}

static void
test_strcmp(void)
{
	static const char *const s[] = { "", "a", "b", "ab", "abc", "abd",
		"abcd", "ABC", "\x80", "\x7f", "a\xff", "a\x01", "zz", "z" };
	size_t i, j, n;
	int bad = 0;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		for (j = 0; j < sizeof(s) / sizeof(s[0]); j++) {
			if (sign(rtl_strcmp(s[i], s[j])) !=
			    sign(strcmp(s[i], s[j])))
				bad++;
			for (n = 0; n < 6; n++)
				if (sign(rtl_strncmp(s[i], s[j], n)) !=
				    sign(strncmp(s[i], s[j], n)))
					bad++;
		}
	ok(bad == 0, "strcmp, strncmp: all pairs agree with the host's");
	ok(rtl_strcmp("\x80", "\x7f") > 0, "strcmp: bytes are unsigned");
	ok(rtl_strncmp("abcX", "abcY", 3) == 0, "strncmp: only n bytes");
	ok(rtl_strncmp("ab", "ab", 100) == 0, "strncmp: stops at NUL");
	ok(rtl_strncmp("x", "y", 0) == 0, "strncmp: n 0");
}

static void
test_strchr(void)
{
	const char *s = "a/b/c\xe9";

	ok(rtl_strchr(s, '/') == s + 1, "strchr: first");
	ok(rtl_strrchr(s, '/') == s + 3, "strrchr: last");
	ok(rtl_strchr(s, 'q') == NULL, "strchr: none");
	ok(rtl_strrchr(s, 'q') == NULL, "strrchr: none");
	ok(rtl_strchr(s, '\0') == s + 6, "strchr: NUL is the end");
	ok(rtl_strrchr(s, '\0') == s + 6, "strrchr: NUL is the end");
	ok(rtl_strchr(s, 0xe9) == s + 5, "strchr: high byte as int");
	ok(rtl_strchr(s, -23) == s + 5, "strchr: high byte as char");
	ok(rtl_strrchr(s, 'a') == s, "strrchr: at the start");
	ok(rtl_strchr("", 'a') == NULL, "strchr: empty string");
}

static void
test_strstr(void)
{
	static const char *const c[][2] = {
		{ "hello", "" }, { "", "" }, { "", "a" }, { "hello", "hello" },
		{ "hello", "hello!" }, { "hello", "ll" }, { "hello", "lo" },
		{ "hello", "o" }, { "hello", "h" }, { "hello", "x" },
		{ "aaab", "aab" }, { "abababc", "ababc" }, { "abc", "c\xe9" },
		{ "a\xe9z", "\xe9z" }, { "mississippi", "issip" },
		{ "mississippi", "ssippix" },
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (rtl_strstr(c[i][0], c[i][1]) != strstr(c[i][0], c[i][1])) {
			diag("strstr(\"%s\", \"%s\")", c[i][0], c[i][1]);
			bad++;
		}
	ok(bad == 0, "strstr: %zu cases agree with the host's",
	    sizeof(c) / sizeof(c[0]));
}

static void
test_strspn(void)
{
	static const char *const s[] = { "", "abc", "  \tx y", "xyz",
		"\xe9\xe9z", "a,b;c", "zzz" };
	static const char *const set[] = { "", "a", "cba", " \t", "xyz",
		"\xe9", ",;", "z" };
	size_t i, j;
	int bad = 0;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		for (j = 0; j < sizeof(set) / sizeof(set[0]); j++)
			if (rtl_strspn(s[i], set[j]) != strspn(s[i], set[j]) ||
			    rtl_strcspn(s[i], set[j]) != strcspn(s[i], set[j]))
				bad++;
	ok(bad == 0, "strspn, strcspn: all pairs agree with the host's");
}

/* Tokens of (in) split at (delim), joined with '|'. */
static void
tokens(const char *in, const char *delim, const char *want)
{
	char buf[64], got[128] = "", *save = (char *)"junk", *t;

	snprintf(buf, sizeof(buf), "%s", in);
	for (t = rtl_strtok_r(buf, delim, &save); t != NULL;
	    t = rtl_strtok_r(NULL, delim, &save)) {
		if (got[0] != '\0')
			strcat(got, "|");
		strcat(got, t);
	}
	is_str(got, want, in);
}

static void
test_strtok(void)
{
	char buf[16] = "a=b,c", *save, *t;

	tokens("a,b,c", ",", "a|b|c");
	tokens(",,a,,b,", ",", "a|b");
	tokens(",,,", ",", "");
	tokens("", ",", "");
	tokens("abc", ",", "abc");
	tokens("  a \t b  ", " \t", "a|b");
	tokens("a,b", "", "a,b");
	/* The delimiters may change from call to call. */
	t = rtl_strtok_r(buf, "=", &save);
	is_str(t, "a", "strtok_r: key");
	t = rtl_strtok_r(NULL, ",", &save);
	is_str(t, "b", "strtok_r: value, other delimiter");
	t = rtl_strtok_r(NULL, ",", &save);
	is_str(t, "c", "strtok_r: last");
	ok(rtl_strtok_r(NULL, ",", &save) == NULL &&
	    rtl_strtok_r(NULL, ",", &save) == NULL,
	    "strtok_r: NULL after the end, and again");
}

static void
test_strlcpy(void)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	ok(rtl_strlcpy(buf, "abc", sizeof(buf)) == 3 &&
	    strcmp(buf, "abc") == 0, "strlcpy: fits");
	ok(rtl_strlcpy(buf, "abcdefghij", sizeof(buf)) == 10 &&
	    strcmp(buf, "abcdefg") == 0, "strlcpy: truncated, terminated");
	ok(rtl_strlcpy(buf, "abcdefg", sizeof(buf)) == 7 &&
	    strcmp(buf, "abcdefg") == 0, "strlcpy: exactly fits");
	memset(buf, 'x', sizeof(buf));
	ok(rtl_strlcpy(buf, "abc", 1) == 3 && buf[0] == '\0' && buf[1] == 'x',
	    "strlcpy: size 1");
	ok(rtl_strlcpy(NULL, "abc", 0) == 3, "strlcpy: size 0, NULL dst");
	ok(rtl_strlcpy(buf, "", sizeof(buf)) == 0 && buf[0] == '\0',
	    "strlcpy: empty");

	strcpy(buf, "ab");
	ok(rtl_strlcat(buf, "cd", sizeof(buf)) == 4 &&
	    strcmp(buf, "abcd") == 0, "strlcat: fits");
	ok(rtl_strlcat(buf, "efghij", sizeof(buf)) == 10 &&
	    strcmp(buf, "abcdefg") == 0, "strlcat: truncated, terminated");
	ok(rtl_strlcat(buf, "z", sizeof(buf)) == 8 &&
	    strcmp(buf, "abcdefg") == 0, "strlcat: already full");
	memset(buf, 'x', sizeof(buf));
	ok(rtl_strlcat(buf, "abc", sizeof(buf)) == sizeof(buf) + 3 &&
	    buf[7] == 'x', "strlcat: no NUL within size, left alone");
	ok(rtl_strlcat(NULL, "abc", 0) == 3, "strlcat: size 0");
	strcpy(buf, "ab");
	ok(rtl_strlcat(buf, "", sizeof(buf)) == 2 && strcmp(buf, "ab") == 0,
	    "strlcat: empty");
}

static void
test_ctype(void)
{
	static const struct {
		const char	*name;
		int		(*rt)(int);
		int		(*host)(int);
	} f[] = {
		{ "isalnum", rtl_isalnum, isalnum },
		{ "isalpha", rtl_isalpha, isalpha },
		{ "iscntrl", rtl_iscntrl, iscntrl },
		{ "isdigit", rtl_isdigit, isdigit },
		{ "isgraph", rtl_isgraph, isgraph },
		{ "islower", rtl_islower, islower },
		{ "isprint", rtl_isprint, isprint },
		{ "ispunct", rtl_ispunct, ispunct },
		{ "isspace", rtl_isspace, isspace },
		{ "isupper", rtl_isupper, isupper },
		{ "isxdigit", rtl_isxdigit, isxdigit },
	};
	size_t i;
	int c, bad;

	/* The host runs in the "C" locale: no setlocale() call here. */
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		for (bad = 0, c = EOF; c <= UCHAR_MAX; c++)
			if (!f[i].rt(c) != !f[i].host(c))
				bad++;
		ok(bad == 0, "%s: EOF and 0..255 as in the C locale", f[i].name);
	}
	for (bad = 0, c = EOF; c <= UCHAR_MAX; c++)
		if (rtl_toupper(c) != toupper(c) || rtl_tolower(c) != tolower(c))
			bad++;
	ok(bad == 0, "toupper, tolower: EOF and 0..255 as in the C locale");
	ok(!rtl_isalpha(-23) && !rtl_isspace(-128) && rtl_toupper(-23) == -23,
	    "ctype: a negative char is in no class");
}

/* Strings for the strtol family; each is tried in every base below. */
static const char *const numbers[] = {
	"", " ", "0", "1", "-1", "+1", "--1", "+-1", "- 1", "42", "  42",
	"\t\n\v\f\r 42", "42abc", "-0", "+0", "007", "08", "0x", "0X",
	"0x1f", "0X1F", "0xg", "-0x10", "+0x10", " 0x10", "0x-1", "x10",
	"0b101", "1010", "z", "Z", "zz", "-zz", "1e10", "123456789",
	"2147483647", "2147483648", "-2147483648", "-2147483649",
	"4294967295", "4294967296", "9223372036854775807",
	"9223372036854775808", "-9223372036854775808",
	"-9223372036854775809", "18446744073709551615",
	"18446744073709551616", "-18446744073709551615",
	"-18446744073709551616", "99999999999999999999999999",
	"-99999999999999999999999999", "0x7fffffffffffffff",
	"0x8000000000000000", "0xffffffffffffffff", "0x10000000000000000",
	"-0x8000000000000000", "-0x8000000000000001",
	"01777777777777777777777", "02000000000000000000000",
	"1777777777777777777777", "0777", "-0777", "0778", "09",
	"1y2p0ij32e8e7", "1y2p0ij32e8e8", "3w5e11264sgsf", "3w5e11264sgsg",
	"11111111111111111111111111111111111111111111111111111111111111111",
	"1111111111111111111111111111111111111111111111111111111111111111",
	"\xe9", "1\xe9", "000000000000000000000000000000000000000000000001",
};

static const int bases[] = { 0, 2, 8, 10, 16, 36, 3, 7, 11, 35 };

/* One parse: value, end offset and errno from the rt and host versions. */
struct parse {
	unsigned long long	v;
	long			end;
	int			err;
};

#define PARSE(out, fn, s, base) do {					\
	char *end_ = NULL;						\
	(out).err = 0;							\
	errno = rtl_errno = 0;						\
	(out).v = (unsigned long long)fn((s), &end_, (base));		\
	(out).err = errno != 0 ? errno : rtl_errno;			\
	(out).end = (long)(end_ - (s));					\
} while (0)

static int
same(const struct parse *a, const struct parse *b)
{
	return a->v == b->v && a->end == b->end && a->err == b->err;
}

static void
test_strtol_vs_host(void)
{
	struct parse r, h;
	size_t i, j;
	int bad = 0, cases = 0;

	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		for (j = 0; j < sizeof(bases) / sizeof(bases[0]); j++) {
			const char *s = numbers[i];
			int b = bases[j];

			/* C23 hosts read "0b"; the runtime does not (below). */
			if (strncmp(s, "0b", 2) == 0 && (b == 0 || b == 2))
				continue;
			PARSE(r, rtl_strtol, s, b);
			PARSE(h, strtol, s, b);
			bad += !same(&r, &h);
			PARSE(r, rtl_strtoul, s, b);
			PARSE(h, strtoul, s, b);
			bad += !same(&r, &h);
			PARSE(r, rtl_strtoll, s, b);
			PARSE(h, strtoll, s, b);
			bad += !same(&r, &h);
			PARSE(r, rtl_strtoull, s, b);
			PARSE(h, strtoull, s, b);
			if (!same(&r, &h))
				diag("strtoull(\"%s\", %d): %llu+%ld/%d, host "
				    "%llu+%ld/%d", s, b, r.v, r.end, r.err, h.v,
				    h.end, h.err);
			bad += !same(&r, &h);
			cases += 4;
		}
	ok(bad == 0, "strtol family: %d parses agree with the host's in value, "
	    "end and errno (%d bad)", cases, bad);
}

/* Written-down answers: (s) in (base) by rtl_strtol. */
static void
strtol_is(const char *s, int base, long v, long end, int err)
{
	struct parse r;

	PARSE(r, rtl_strtol, s, base);
	if (!ok(r.v == (unsigned long long)v && r.end == end && r.err == err,
	    "strtol(\"%s\", %d) is %ld, end +%ld, errno %d", s, base, v, end,
	    err))
		diag("got %lld, end +%ld, errno %d", (long long)r.v, r.end,
		    r.err);
}

static void
test_strtol(void)
{
	struct parse r;
	char *end;

	strtol_is("0x1A", 0, 26, 4, 0);
	strtol_is("0x1A", 16, 26, 4, 0);
	strtol_is("1A", 16, 26, 2, 0);
	strtol_is("0x1A", 10, 0, 1, 0);
	strtol_is("017", 0, 15, 3, 0);
	strtol_is("017", 10, 17, 3, 0);
	strtol_is("  -42z", 10, -42, 5, 0);
	strtol_is("0x", 16, 0, 1, 0);
	strtol_is("0xz", 0, 0, 1, 0);
	strtol_is("-", 10, 0, 0, 0);
	strtol_is("  +", 10, 0, 0, 0);
	strtol_is("abc", 10, 0, 0, 0);
	strtol_is("0b101", 0, 0, 1, 0);
	strtol_is("0b101", 2, 0, 1, 0);
	strtol_is("101", 2, 5, 3, 0);
	strtol_is("zZ", 36, 36 * 35 + 35, 2, 0);
	strtol_is("9223372036854775807", 10, LONG_MAX, 19, 0);
	strtol_is("9223372036854775808", 10, LONG_MAX, 19, ERANGE);
	strtol_is("-9223372036854775808", 10, LONG_MIN, 20, 0);
	strtol_is("-9223372036854775809", 10, LONG_MIN, 20, ERANGE);
	strtol_is("99999999999999999999x", 10, LONG_MAX, 20, ERANGE);
	strtol_is("12", 1, 0, 0, EINVAL);
	strtol_is("12", 37, 0, 0, EINVAL);
	strtol_is("12", -1, 0, 0, EINVAL);

	PARSE(r, rtl_strtoul, "-1", 10);
	ok(r.v == ULONG_MAX && r.end == 2 && r.err == 0,
	    "strtoul(\"-1\") is ULONG_MAX, no error");
	PARSE(r, rtl_strtoul, "18446744073709551616", 0);
	ok(r.v == ULONG_MAX && r.err == ERANGE, "strtoul: overflow");
	PARSE(r, rtl_strtoull, "-18446744073709551615", 0);
	ok(r.v == 1 && r.err == 0, "strtoull: -ULLONG_MAX is 1");
	ok(rtl_strtol("77", NULL, 8) == 63, "strtol: end may be NULL");
	rtl_errno = 0;
	ok(rtl_strtol("5", &end, 10) == 5 && rtl_errno == 0,
	    "strtol: success leaves errno alone");
	rtl_errno = 99;
	rtl_strtol("5", &end, 10);
	ok(rtl_errno == 99, "strtol: success does not clear errno");
}

static void
test_abs(void)
{
	ok(rtl_abs(5) == 5 && rtl_abs(-5) == 5 && rtl_abs(0) == 0, "abs");
	ok(rtl_abs(INT_MAX) == INT_MAX && rtl_abs(-INT_MAX) == INT_MAX,
	    "abs: INT_MAX");
	ok(rtl_abs(INT_MIN) == INT_MIN, "abs: INT_MIN stays, no trap");
	ok(rtl_labs(-7L) == 7 && rtl_labs(LONG_MIN) == LONG_MIN, "labs");
	ok(rtl_llabs(-7LL) == 7 && rtl_llabs(LLONG_MIN) == LLONG_MIN &&
	    rtl_llabs(LLONG_MAX) == LLONG_MAX, "llabs");
}

/* The headers' constants against the host's, by name. */
static void
test_constants(void)
{
	static const struct rt_libc_const host_errnos[] = {
		RT_LIBC_ERRNOS(RT_LIBC_CONST)
	};
	static const struct rt_libc_const host_limits[] = {
		RT_LIBC_LIMITS(RT_LIBC_CONST)
	};
	size_t i;
	int bad;

	for (bad = 0, i = 0; rt_libc_errnos[i].name != NULL; i++)
		if (strcmp(rt_libc_errnos[i].name, host_errnos[i].name) != 0 ||
		    rt_libc_errnos[i].value != host_errnos[i].value) {
			diag("%s is %llu, host %llu", rt_libc_errnos[i].name,
			    rt_libc_errnos[i].value, host_errnos[i].value);
			bad++;
		}
	ok(bad == 0 && i == sizeof(host_errnos) / sizeof(host_errnos[0]),
	    "errno.h: %zu values are Linux's", i);
	ok(RTL_EINVAL == EINVAL && RTL_ERANGE == ERANGE &&
	    RTL_EOVERFLOW == EOVERFLOW, "rtlibc.h: errno values are Linux's");
	for (bad = 0, i = 0; rt_libc_limits[i].name != NULL; i++)
		if (rt_libc_limits[i].value != host_limits[i].value ||
		    rt_libc_limits[i].size != host_limits[i].size) {
			diag("%s is %llu (%zu bytes), host %llu (%zu bytes)",
			    rt_libc_limits[i].name, rt_libc_limits[i].value,
			    rt_libc_limits[i].size, host_limits[i].value,
			    host_limits[i].size);
			bad++;
		}
	ok(bad == 0 && i == sizeof(host_limits) / sizeof(host_limits[0]),
	    "limits.h: %zu values and types are the host's", i);
	ok(rt_libc_errno_address() == &rtl_errno, "errno.h: errno is rtl_errno");
}

/* The hook the runtime core provides; here it records and jumps back. */
static jmp_buf assert_jump;
static struct {
	const char	*expr, *file, *func;
	int		 line, calls;
} failed;

void
rtl_assert_fail(const char *expr, const char *file, int line,
    const char *func)
{
	failed.expr = expr;
	failed.file = file;
	failed.line = line;
	failed.func = func;
	failed.calls++;
	longjmp(assert_jump, 1);
}

static void
test_assert(void)
{
	const char *base;
	int counter = 0;

	if (setjmp(assert_jump) == 0)
		rt_libc_assert_positive(1);
	ok(failed.calls == 0, "assert: a true expression does not fail");
	if (setjmp(assert_jump) == 0)
		rt_libc_assert_positive(0);
	ok(failed.calls == 1, "assert: a false expression calls the hook");
	is_str(failed.expr, "v > 0", "assert: the expression's text");
	base = failed.file != NULL ? strrchr(failed.file, '/') : NULL;
	is_str(base != NULL ? base + 1 : failed.file, "rt-libc-headers.c",
	    "assert: the file");
	is_int(failed.line, rt_libc_assert_line(), "assert: the line");
	is_str(failed.func, "rt_libc_assert_positive", "assert: the function");
	rt_libc_assert_ndebug(&counter);
	ok(counter == 0 && failed.calls == 1,
	    "assert: NDEBUG neither evaluates nor fails");
}

int
main(void)
{
	test_memcpy();
	test_memmove();
	test_memset();
	test_memcmp_memchr();
	test_strlen();
	test_strcmp();
	test_strchr();
	test_strstr();
	test_strspn();
	test_strtok();
	test_strlcpy();
	test_ctype();
	test_strtol_vs_host();
	test_strtol();
	test_abs();
	test_constants();
	test_assert();
	return tap_done();
}
