/*
 * fuzz-feed - the feed parser must never crash, and whatever it accepts
 * must serialize, parse back equal, and serialize to the same bytes.
 * Selection and href resolution run on accepted feeds too.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct select_result res;

static void
exercise(const struct feed *f)
{
	struct select_policy p;
	char out[2 * FEED_URL_MAX + 2];
	size_t i;

	select_policy_init(&p);
	select_run(f, &p, &res, NULL);
	p.stability = FEED_INSECURE;
	p.platform = FEED_PLATFORM_XEN;
	select_run(f, &p, &res, NULL);
	for (i = 0; i < f->nimpls; i++)
		if (feed_resolve_href(f->uri, f->impls[i].image.href, out,
		    sizeof(out), NULL) == -1)
			abort();	/* a valid feed's href must resolve */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed *f = NULL, *g = NULL;
	char *a = NULL, *b = NULL;
	size_t alen, blen;
	struct err e;

	if (feed_parse((const char *)data, size, &f, &e) == -1)
		return 0;
	if (feed_serialize(f, &a, &alen, &e) == -1)
		abort();
	if (feed_parse(a, alen, &g, &e) == -1 || !feed_equal(f, g))
		abort();
	if (feed_serialize(g, &b, &blen, &e) == -1 || alen != blen ||
	    memcmp(a, b, alen) != 0)
		abort();
	exercise(f);
	free(a);
	free(b);
	feed_free(f);
	feed_free(g);
	return 0;
}
