/*
 * version.h - 0install version numbers and ranges.
 *
 * A version is a dotted list of decimal integers, optionally followed by
 * modifiers, each "-" + one of "pre", "rc", "post" or nothing, + an optional
 * dotted list:   1   1.2.3   1.2-pre   1.2-rc1   1.2-post3.1   1.2-4
 * Order: 1.2-pre < 1.2-pre1 < 1.2-rc < 1.2 < 1.2-1 < 1.2-post < 1.3
 * (a missing modifier sorts between rc and post, as in 0install).
 *
 * A range is one or more alternatives separated by "|"; each is one of
 *   V         exactly V
 *   !V        anything but V
 *   A..!B     A <= v < B  (either side may be empty: "1.2..", "..!2.0")
 *   >=V  >V  <=V  <V
 * Spaces around tokens are ignored.
 *
 * Errors use err.h with the codes "version_invalid" and "range_invalid";
 * the message names the offending text.
 */
#ifndef IMAGE_FORMAT_VERSION_H
#define IMAGE_FORMAT_VERSION_H

#include "err.h"

#define VERSION_MAX_LEN 64	/* longest accepted version string */
#define RANGE_MAX_LEN 256	/* longest accepted range string */

/* 0 when (s) is a valid version, else -1 with "version_invalid". */
int version_check(const char *s, struct err *e);

/* <0, 0, >0 as (a) sorts before, equal to, after (b).  Both must have
 * passed version_check(); invalid strings sort before every valid one. */
int version_compare(const char *a, const char *b);

struct version_range;	/* opaque */

/* Parses (s) into a new range; NULL with "range_invalid" on error.
 * Free with version_range_free(). */
struct version_range *version_range_parse(const char *s, struct err *e);

/* 1 when (v) is inside (r), else 0 (also for invalid versions). */
int version_range_match(const struct version_range *r, const char *v);

void version_range_free(struct version_range *r);

#endif
