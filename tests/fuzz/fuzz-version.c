/*
 * fuzz-version - version ordering must be a consistent total order and
 * ranges must agree with it.  The input is up to four lines: versions a,
 * b, c and a range.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PIECE 300

static int
sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Line (k) of the input, NUL-terminated, at most PIECE-1 bytes. */
static void
piece(const uint8_t *d, size_t n, int k, char *out)
{
	size_t i = 0, o = 0;

	for (; k > 0 && i < n; i++)
		if (d[i] == '\n')
			k--;
	for (; i < n && d[i] != '\n' && o < PIECE - 1; i++)
		out[o++] = d[i] == '\0' ? ' ' : (char)d[i];
	out[o] = '\0';
}

static void
check_order(const char *a, const char *b, const char *c)
{
	int ab = version_compare(a, b), ba = version_compare(b, a);

	if (sign(ab) != -sign(ba) || version_compare(a, a) != 0)
		abort();
	if (ab <= 0 && version_compare(b, c) <= 0 && version_compare(a, c) > 0)
		abort();	/* not transitive */
}

/* A range built from (a) with operator (op) must admit (b) exactly when
 * the comparison says so. */
static void
check_op(const char *op, const char *a, const char *b, int want)
{
	char text[PIECE + 8];
	struct version_range *r;

	snprintf(text, sizeof(text), "%s%s", op, a);
	if ((r = version_range_parse(text, NULL)) == NULL)
		abort();	/* every valid version makes a valid range */
	if (version_range_match(r, b) != want)
		abort();
	version_range_free(r);
}

static void
check_ranges(const char *a, const char *b)
{
	int c;

	if (version_check(a, NULL) == -1 || version_check(b, NULL) == -1)
		return;
	c = version_compare(b, a);
	check_op("", a, b, c == 0);
	check_op("!", a, b, c != 0);
	check_op(">=", a, b, c >= 0);
	check_op(">", a, b, c > 0);
	check_op("<=", a, b, c <= 0);
	check_op("<", a, b, c < 0);
	check_op("..!", a, b, c < 0);
}

static void
check_free_range(const char *text, const char *a, const char *b)
{
	struct version_range *r = version_range_parse(text, NULL);

	if (r == NULL)
		return;
	if (version_check(a, NULL) == 0 && version_check(b, NULL) == 0 &&
	    version_compare(a, b) == 0 &&
	    version_range_match(r, a) != version_range_match(r, b))
		abort();	/* equal versions, different answers */
	if (version_check(a, NULL) == -1 && version_range_match(r, a))
		abort();
	version_range_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a[PIECE], b[PIECE], c[PIECE], r[PIECE];

	piece(data, size, 0, a);
	piece(data, size, 1, b);
	piece(data, size, 2, c);
	piece(data, size, 3, r);
	check_order(a, b, c);
	check_ranges(a, b);
	check_free_range(r, a, b);
	return 0;
}
