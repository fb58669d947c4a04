/*
 * test-rt-libc-format - the runtime libc's formatting (format.c) against
 * the host's snprintf: written-down directives, then every combination of
 * flags, width, precision, length and conversion over a set of values,
 * then truncation, the sink interface and the errors.  Where the runtime
 * chose differently from glibc (NULL strings and pointers, directives it
 * does not handle) the answers are written down.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rtlibc.h"
#include "tap.h"

#define BUFSZ	512

/* host_fmt, rtl_fmt, count_fmt: unchecked, for formats built at run time
 * and directives the compiler would question but the test compares. */
#include "../rt-format-helpers.h"

/*
 * The same directive and arguments through the host's snprintf and
 * rtl_snprintf: same return value, same bytes (NULs included).  SAME_NL
 * does it unchecked.
 */
#define SAME_WITH(hf, rf, ...) do {					\
	char h_[BUFSZ], r_[BUFSZ];					\
	int hn_, rn_;							\
	memset(r_, 'Z', sizeof(r_));					\
	hn_ = hf(h_, sizeof(h_), __VA_ARGS__);				\
	rn_ = rf(r_, sizeof(r_), __VA_ARGS__);				\
	same_out(h_, hn_, r_, rn_, #__VA_ARGS__);			\
} while (0)
#define SAME(...)	SAME_WITH(snprintf, rtl_snprintf, __VA_ARGS__)
#define SAME_NL(...)	SAME_WITH(host_fmt, rtl_fmt, __VA_ARGS__)

static void
same_out(const char *h, int hn, const char *r, int rn, const char *what)
{
	size_t n = hn >= 0 && hn < BUFSZ ? (size_t)hn + 1 : BUFSZ;

	if (!ok(hn == rn && memcmp(h, r, n) == 0, "%s", what)) {
		diag("host %d '%s'", hn, h);
		diag("rtl  %d '%s'", rn, r);
	}
}

/*
 * rtl_snprintf's output must be (want), returning its length.  Through
 * rtl_fmt(), unchecked, since some of these the compiler would question.
 */
#define IS(want, ...) do {						\
	char r_[BUFSZ];							\
	int rn_ = rtl_fmt(r_, sizeof(r_), __VA_ARGS__);			\
	if (!ok(rn_ == (int)strlen(want) && strcmp(r_, want) == 0,	\
	    "%s is '%s'", #__VA_ARGS__, want))				\
		diag("got %d '%s'", rn_, r_);				\
} while (0)

static void
test_written(void)
{
	static const char sixteen[] = "0123456789abcdef";
	int n = 0;

	SAME("plain text");
	SAME("%s", "");
	SAME("%%");
	SAME("a%%b%%%%c");
	SAME("%d", 0);
	SAME("%d", 1);
	SAME("%d", -1);
	SAME("%d", INT_MAX);
	SAME("%d", INT_MIN);
	SAME("%i", INT_MIN);
	SAME("%u", UINT_MAX);
	SAME("%x", UINT_MAX);
	SAME("%X", 0xabcdefu);
	SAME("%o", UINT_MAX);
	SAME("%ld", LONG_MIN);
	SAME("%ld", LONG_MAX);
	SAME("%lu", ULONG_MAX);
	SAME("%lld", LLONG_MIN);
	SAME("%lld", LLONG_MAX);
	SAME("%llu", ULLONG_MAX);
	SAME("%llx", ULLONG_MAX);
	SAME("%llo", ULLONG_MAX);
	SAME("%#llo", ULLONG_MAX);
	SAME("%#llX", ULLONG_MAX);
	SAME_NL("%hhd", 255);
	SAME_NL("%hhd", 128);
	SAME_NL("%hhd", -129);
	SAME_NL("%hhu", -1);
	SAME_NL("%hhx", 0x1234);
	SAME_NL("%hd", 65535);
	SAME_NL("%hd", 32768);
	SAME_NL("%hu", -1);
	SAME_NL("%hx", 0x123456);
	SAME("%zu", (size_t)-1);
	SAME("%zd", (ptrdiff_t)-5);
	SAME("%zx", (size_t)0xdeadbeef);
	SAME("%jd", INTMAX_MIN);
	SAME("%ju", UINTMAX_MAX);
	SAME("%td", PTRDIFF_MIN);
	SAME("%td", (ptrdiff_t)-1);
	SAME("%tx", (ptrdiff_t)-1);
	SAME("%tu", (ptrdiff_t)-1);
	SAME("%5d", 42);
	SAME("%-5d|", 42);
	SAME("%05d", 42);
	SAME("%05d", -42);
	SAME("%+d", 42);
	SAME("%+d", 0);
	SAME("%+d", -42);
	SAME("% d", 42);
	SAME("% d", -42);
	SAME("%-+5d|", 42);
	SAME("%+05d", 42);
	SAME("% 05d", 42);
	SAME("%.3d", 7);
	SAME("%.3d", -7);
	SAME("%.0d", 0);
	SAME("%.0d|", 0);
	SAME("%5.0d|", 0);
	SAME("%-5.0d|", 0);
	SAME("%+.0d", 0);
	SAME("% .0d", 0);
	SAME("%.d", 0);
	SAME("%.d", 3);
	SAME("%8.3d", -7);
	SAME("%-8.3d|", -7);
	SAME_NL("%08.3d", -7);
	SAME_NL("%+08.3d", 7);
	SAME("%.10d", INT_MIN);
	SAME("%25d", INT_MIN);
	SAME("%-25d|", INT_MIN);
	SAME("%025d", INT_MIN);
	SAME("%025lld", LLONG_MIN);
	SAME("%+025lld", LLONG_MAX);
	SAME("%.30lld", LLONG_MIN);
	SAME("%#x", 0);
	SAME("%#x", 255);
	SAME("%#X", 255);
	SAME("%#o", 0);
	SAME("%#o", 8);
	SAME("%#.0o", 0);
	SAME("%#.0x", 0);
	SAME("%#.3o", 8);
	SAME("%#.4o", 8);
	SAME("%#5o", 8);
	SAME("%#05o", 8);
	SAME("%#-5o|", 8);
	SAME("%#10x", 0xbeef);
	SAME("%#010x", 0xbeef);
	SAME("%#-10x|", 0xbeef);
	SAME("%#.6x", 0xbeef);
	SAME("%#10.6x", 0xbeef);
	SAME_NL("%#010.6x", 0xbeef);
	SAME("%#08X", 0xbeef);
	SAME("%#llx", 1ULL << 63);
	SAME("%*d", 6, 42);
	SAME("%*d|", -6, 42);
	SAME("%-*d|", 6, 42);
	SAME("%-*d|", -6, 42);
	SAME("%.*d", 4, 42);
	SAME("%.*d", -4, 42);
	SAME("%.*d|", 0, 0);
	SAME("%*.*d|", 8, 4, -42);
	SAME("%*.*d|", -8, 4, -42);
	SAME("%0*d", 6, -42);
	SAME_NL("%0*.*d", 6, -1, -42);
	SAME("%c", 'a');
	SAME("%c", 0);
	SAME("%c", 0xe9);
	SAME("%c", 256 + 'b');
	SAME("%3c|", 'a');
	SAME("%-3c|", 'a');
	SAME("%*c|", -3, 'a');
	SAME("%s", "hello");
	SAME("%10s|", "hello");
	SAME("%-10s|", "hello");
	SAME("%.3s|", "hello");
	SAME("%.0s|", "hello");
	SAME("%.10s|", "hello");
	SAME("%8.3s|", "hello");
	SAME("%-8.3s|", "hello");
	SAME("%*.*s|", 8, 2, "hello");
	SAME("%*.*s|", -8, 2, "hello");
	SAME("%.*s|", -1, "hello");
	SAME("%.16s", sixteen);
	SAME("%s", "(null)");
	SAME("%p", (void *)0x1234);
	SAME("%p", (void *)-1);
	SAME("%20p|", (void *)0x1234);
	SAME("%-20p|", (void *)0x1234);
	SAME_NL("%020p|", (void *)0x1234);
	SAME("%p", (void *)&n);
	SAME("%d %s %x %c %%", -5, "mid", 0xff, 'z');
	SAME("%s=%d, %s=%u", "a", 1, "b", 2u);
	SAME("%d%d%d%d%d%d%d%d%d%d", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	SAME("%lld %d %lld %d %s", LLONG_MIN, -1, LLONG_MAX, INT_MIN, "end");
	SAME("%300d|", 1);
	SAME("%-300d|", 1);
	SAME("%.300d|", 1);
	SAME("%0300d|", -1);
	SAME("%300s|", "x");
	SAME("%*s|", 400, "");

	/* Where the runtime differs from glibc, on purpose. */
	IS("0x0", "%p", (void *)NULL);
	IS("  0x0|", "%5p|", (void *)NULL);
	IS("(null)", "%s", (char *)NULL);
	IS("    (null)|", "%10s|", (char *)NULL);
	IS("(nu|", "%.3s|", (char *)NULL);
	IS("0x1", "%+p", (void *)1);
}

/* (v) as the argument (len) and a signed or unsigned conversion expect. */
#define CALL(f, b, fmt, len, sig, v)					\
	(len == 'l' ? (sig ? f(b, BUFSZ, fmt, (long)(v)) :		\
	    f(b, BUFSZ, fmt, (unsigned long)(v))) :			\
	len == 'L' ? (sig ? f(b, BUFSZ, fmt, (long long)(v)) :		\
	    f(b, BUFSZ, fmt, (unsigned long long)(v))) :		\
	len == 'z' ? (sig ? f(b, BUFSZ, fmt, (ptrdiff_t)(v)) :		\
	    f(b, BUFSZ, fmt, (size_t)(v))) :				\
	len == 'j' ? (sig ? f(b, BUFSZ, fmt, (intmax_t)(v)) :		\
	    f(b, BUFSZ, fmt, (uintmax_t)(v))) :				\
	len == 't' ? f(b, BUFSZ, fmt, (ptrdiff_t)(v)) :			\
	(sig ? f(b, BUFSZ, fmt, (int)(v)) : f(b, BUFSZ, fmt, (unsigned)(v))))

static const unsigned long long values[] = {
	0, 1, 7, 8, 9, 10, 15, 16, 42, 99, 100, 127, 128, 255, 256, 4095,
	32767, 32768, 65535, 65536, 2147483647, 2147483648ULL, 4294967295ULL,
	4294967296ULL, 0x0123456789abcdefULL, 0x7fffffffffffffffULL,
	0x8000000000000000ULL, 0xfedcba9876543210ULL, -1ULL, -7ULL, -128ULL,
	-129ULL, -32768ULL, -32769ULL, -2147483648LL, -2147483649LL,
};

/*
 * Every flag set, width, precision and length with every integer
 * conversion and value; one test point per conversion and length.
 * Returns the number of directives compared.
 */
static long
test_matrix(char conv, const char *lenstr, char len)
{
	static const char *const widths[] = { "", "1", "6", "24" };
	static const char *const precs[] = { "", ".", ".0", ".1", ".5", ".25" };
	static const char flagc[] = "-+ 0#";
	int sig = conv == 'd' || conv == 'i', bad = 0;
	char fmt[32], flags[8], h[BUFSZ], r[BUFSZ];
	size_t w, p, v, i;
	unsigned f;
	long cases = 0;
	int hn, rn;

	for (f = 0; f < 32; f++) {
		for (i = 0, w = 0; i < 5; i++)
			if (f & (1u << i))
				flags[w++] = flagc[i];
		flags[w] = '\0';
		for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
			for (p = 0; p < sizeof(precs) / sizeof(precs[0]); p++) {
				snprintf(fmt, sizeof(fmt), "[%%%s%s%s%s%c]",
				    flags, widths[w], precs[p], lenstr, conv);
				for (v = 0; v < sizeof(values) /
				    sizeof(values[0]); v++) {
					hn = CALL(host_fmt, h, fmt, len, sig,
					    values[v]);
					rn = CALL(rtl_fmt, r, fmt, len, sig,
					    values[v]);
					cases++;
					if (hn == rn && strcmp(h, r) == 0)
						continue;
					if (bad++ < 5)
						diag("%s %llx: host '%s' rtl '%s'",
						    fmt, values[v], h, r);
				}
			}
	}
	ok(bad == 0, "%%%s%c: %ld combinations agree with the host's (%d bad)",
	    lenstr, conv, cases, bad);
	return cases;
}

static void
test_matrices(void)
{
	static const struct {
		const char	*str;
		char		 len;	/* for CALL: 'L' is ll */
	} lens[] = {
		{ "", 0 }, { "hh", 'H' }, { "h", 'h' }, { "l", 'l' },
		{ "ll", 'L' }, { "z", 'z' }, { "j", 'j' }, { "t", 't' },
	};
	static const char convs[] = "diuoxX";
	size_t c, l;
	long total = 0;

	for (c = 0; convs[c] != '\0'; c++)
		for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			total += test_matrix(convs[c], lens[l].str, lens[l].len);
	diag("%ld integer directives compared", total);
}

/* %s and %c under every flag set, width and precision. */
static void
test_string_matrix(void)
{
	static const char *const fmts[] = {
		"[%s]", "[%-s]", "[%0s]", "[%1s]", "[%5s]", "[%-5s]", "[%05s]",
		"[%12s]", "[%-12s]", "[%.0s]", "[%.1s]", "[%.5s]", "[%.20s]",
		"[%3.1s]", "[%-3.1s]", "[%12.5s]", "[%-12.5s]", "[%.s]",
		"[%c]", "[%-c]", "[%1c]", "[%4c]", "[%-4c]", "[%04c]",
	};
	static const char *const strs[] = { "", "a", "hello", "hello, world",
		"tab\there", "\xe9t\xe9" };
	char h[BUFSZ], r[BUFSZ];
	size_t i, j;
	int bad = 0, cases = 0, hn, rn;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		for (j = 0; j < sizeof(strs) / sizeof(strs[0]); j++) {
			if (strstr(fmts[i], "c]") != NULL) {
				hn = host_fmt(h, sizeof(h), fmts[i], strs[j][0]);
				rn = rtl_fmt(r, sizeof(r), fmts[i], strs[j][0]);
			} else {
				hn = host_fmt(h, sizeof(h), fmts[i], strs[j]);
				rn = rtl_fmt(r, sizeof(r), fmts[i], strs[j]);
			}
			cases++;
			if (hn != rn || memcmp(h, r, (size_t)hn + 1) != 0)
				bad++;
		}
	ok(bad == 0, "%%s, %%c: %d combinations agree with the host's", cases);
}

/* Every buffer size from 0 past the end: prefix kept, NUL, nothing more. */
static void
test_truncation(void)
{
	/* Each takes an int, a string and an int. */
	static const char *const fmts[] = { "%d|%s|%x", "%-8d|%10s|%#x!",
		"%d%.3s%5x" };
	char buf[64], want[64];
	size_t size, f;
	int bad = 0, r, w;

	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++)
		for (size = 0; size < 40; size++) {
			memset(buf, 'Z', sizeof(buf));
			memset(want, 'Z', sizeof(want));
			r = rtl_fmt(buf, size, fmts[f], -12345, "abcdef", 0xabc);
			w = host_fmt(want, size, fmts[f], -12345, "abcdef",
			    0xabc);
			if (r != w || memcmp(buf, want, sizeof(buf)) != 0)
				bad++;
		}
	ok(bad == 0, "snprintf: every size from 0 to 40 as the host's, bytes "
	    "past size untouched");
	ok(rtl_snprintf(NULL, 0, "%d-%s", 123, "abc") == 7,
	    "snprintf: NULL buffer, size 0, gives the length");
	memset(buf, 'Z', sizeof(buf));
	ok(rtl_snprintf(buf, 1, "abc") == 3 && buf[0] == '\0' && buf[1] == 'Z',
	    "snprintf: size 1 is just the NUL");
	ok(rtl_snprintf(buf, 4, "abc") == 3 && strcmp(buf, "abc") == 0,
	    "snprintf: exactly fits");
	ok(rtl_snprintf(buf, 3, "abc") == 3 && strcmp(buf, "ab") == 0,
	    "snprintf: one short");
	ok(rtl_snprintf(buf, 5, "%*d", 100000, 1) == 100000 &&
	    strcmp(buf, "    ") == 0, "snprintf: long padding, cut");
}

/* A sink that keeps what it is given and counts the calls. */
struct sink {
	char	buf[BUFSZ];
	size_t	len;
	int	calls, empty;
};

static void
sink_put(void *arg, const char *s, size_t n)
{
	struct sink *k = arg;

	k->calls++;
	if (n == 0)
		k->empty++;
	if (k->len + n < sizeof(k->buf)) {
		memcpy(k->buf + k->len, s, n);
		k->len += n;
	}
	k->buf[k->len] = '\0';
}

static void
test_sink(void)
{
	struct sink k = { "", 0, 0, 0 };
	size_t total = 0;
	int r;

	r = rtl_format(sink_put, &k, "a%sb%5dc%-3sd%%", "xy", -4, "z");
	is_str(k.buf, "axyb   -4cz  d%", "format: the pieces make the output");
	is_int(r, (int)k.len, "format: returns the length");
	ok(k.empty == 0, "format: never hands the sink an empty piece");
	k.len = 0;
	k.buf[0] = '\0';
	ok(rtl_format(sink_put, &k, "%s", "") == 0 && k.len == 0,
	    "format: empty output");
	ok(rtl_format(count_put, &total, "%1000000d", 1) == 1000000 &&
	    total == 1000000, "format: a million bytes of padding");
}

static void
test_errors(void)
{
	char buf[16];
	size_t total = 0;

	rtl_errno = 0;
	ok(rtl_fmt(buf, sizeof(buf), "%2147483648d", 1) == -1 &&
	    rtl_errno == EOVERFLOW, "width over INT_MAX: -1, EOVERFLOW");
	rtl_errno = 0;
	ok(rtl_fmt(buf, sizeof(buf), "%.2147483648d", 1) == -1 &&
	    rtl_errno == EOVERFLOW, "precision over INT_MAX: -1, EOVERFLOW");
	rtl_errno = 0;
	ok(rtl_fmt(buf, sizeof(buf), "%*d", INT_MIN, 1) == -1 &&
	    rtl_errno == EOVERFLOW, "width -INT_MIN: -1, EOVERFLOW");
	rtl_errno = 0;
	ok(rtl_snprintf(buf, sizeof(buf), "ab%*dcd", -3, 1) == 7 &&
	    rtl_errno == 0, "errno untouched on success");
	rtl_errno = 0;
	ok(count_fmt(&total, "%2147483647d%d", 1, 2) == -1 &&
	    rtl_errno == EOVERFLOW && total == 2147483648u,
	    "total over INT_MAX: -1, EOVERFLOW");
	rtl_errno = 0;
	ok(rtl_snprintf(buf, sizeof(buf), "%2147483646d", 1) == INT_MAX - 1 &&
	    rtl_errno == 0, "a total just under INT_MAX is fine");
	ok(rtl_snprintf(buf, sizeof(buf), "%2147483647d", 1) == INT_MAX,
	    "a total of INT_MAX is fine");
}

/*
 * Directives the runtime does not handle come out as they stand, and so
 * does everything after them, since the arguments can no longer be
 * trusted.  Formats built at run time keep the compiler from objecting.
 */
static void
unhandled(const char *fmt, const char *want)
{
	char buf[BUFSZ];
	int r = rtl_fmt(buf, sizeof(buf), fmt, 1, 2.5, 3, "s");

	if (!ok(r == (int)strlen(want) && strcmp(buf, want) == 0,
	    "'%s' is '%s'", fmt, want))
		diag("got %d '%s'", r, buf);
}

static void
test_unhandled(void)
{
	unhandled("%d %f %d", "1 %f %d");
	unhandled("%d %e|%s", "1 %e|%s");
	unhandled("%d %5.2Lf %s", "1 %5.2Lf %s");
	unhandled("%d %n %s", "1 %n %s");
	unhandled("%d %ls", "1 %ls");
	unhandled("%d %lc", "1 %lc");
	unhandled("%d %hs", "1 %hs");
	unhandled("%d %lp", "1 %lp");
	unhandled("%d %q %d", "1 %q %d");
	unhandled("%d %", "1 %");
	unhandled("%d %-5", "1 %-5");
	unhandled("%d %5.", "1 %5.");
	unhandled("%d %ll", "1 %ll");
	unhandled("%d %hh", "1 %hh");
	unhandled("%d %lll", "1 %lll");
	unhandled("abc%", "abc%");
	unhandled("%", "%");
}

int
main(void)
{
	test_written();
	test_matrices();
	test_string_matrix();
	test_truncation();
	test_sink();
	test_errors();
	test_unhandled();
	return tap_done();
}
