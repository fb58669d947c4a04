/*
 * test-rt-alloc.c - the runtime's page allocator and heap
 * (runtime/kernel/pages.c, heap.c), on the host over an aligned buffer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "pages.h"
#include "rt.h"
#include "tap.h"

#define PAGE	4096
#define NPAGES	256

static unsigned char *arena;

static uintptr_t
at(size_t page)
{
	return (uintptr_t)arena + page * PAGE;
}

static size_t
count_runs(const struct rt_pages *pa)
{
	const struct rt_free_run *r;
	size_t n = 0;

	for (r = pa->head; r != NULL; r = r->next)
		n++;
	return n;
}

static void
test_pages(void)
{
	struct rt_pages pa;
	void *a, *b, *c, *all;

	rt_pages_init(&pa);
	ok(rt_pages_alloc(&pa, 1) == NULL, "empty allocator: NULL");
	ok(rt_pages_add(&pa, at(0) + 1, at(16) + 100) == 0 &&
	    pa.free_pages == 15, "added range shrunk to whole pages");
	ok(rt_pages_add(&pa, at(8), at(9)) == -RT_EINVAL,
	    "overlapping add refused");
	ok(rt_pages_add(&pa, at(32), at(64)) == 0 && pa.free_pages == 47,
	    "second range");
	ok(rt_pages_add(&pa, 0, 3 * PAGE) == -RT_EINVAL,
	    "page 0 refused: it would read as NULL");
	ok(rt_pages_add(&pa, at(100), at(100) + 10) == 0 &&
	    pa.free_pages == 47, "less than a page: nothing added");

	ok(rt_pages_alloc(&pa, 0) == NULL, "0 pages: NULL");
	a = rt_pages_alloc(&pa, 4);
	ok(a != NULL && ((uintptr_t)a & (PAGE - 1)) == 0 &&
	    (uintptr_t)a >= at(1) && (uintptr_t)a + 4 * PAGE <= at(16),
	    "4 pages, aligned, from the first range");
	memset(a, 0xaa, 4 * PAGE);
	b = rt_pages_alloc(&pa, 20);
	ok(b != NULL && (uintptr_t)b >= at(32) && (uintptr_t)b < at(64),
	    "20 pages: only the second range has them");
	memset(b, 0xbb, 20 * PAGE);
	ok(rt_pages_alloc(&pa, 40) == NULL, "too many: NULL");
	is_int((long long)pa.free_pages, 47 - 24, "free count");

	ok(rt_pages_free(&pa, (char *)a + 1, 4) == -RT_EINVAL,
	    "misaligned free refused");
	ok(rt_pages_free(&pa, (void *)at(200), 1) == -RT_EINVAL,
	    "free outside the managed ranges refused");
	ok(rt_pages_free(&pa, (void *)at(14), 4) == -RT_EINVAL,
	    "free running past a range refused");
	ok(rt_pages_free(&pa, a, 4) == 0, "free");
	ok(rt_pages_free(&pa, a, 4) == -RT_EINVAL, "double free refused");
	ok(rt_pages_free(&pa, (char *)a - PAGE, 2) == -RT_EINVAL,
	    "free overlapping free pages refused");
	ok(rt_pages_free(&pa, b, 20) == 0, "free the rest");
	is_int((long long)pa.free_pages, 47, "all free again");
	is_int((long long)count_runs(&pa), 2, "merged back: one run per range");

	all = rt_pages_alloc(&pa, 32);
	ok(all == (void *)at(32), "the whole second range in one piece");
	c = rt_pages_alloc(&pa, 15);
	ok(c == (void *)at(1), "the whole first range in one piece");
	ok(pa.free_pages == 0 && pa.head == NULL &&
	    rt_pages_alloc(&pa, 1) == NULL, "exhausted");
	/* Free in pieces, out of order: they must merge into one run. */
	rt_pages_free(&pa, (char *)all + 8 * PAGE, 8);
	rt_pages_free(&pa, all, 4);
	rt_pages_free(&pa, (char *)all + 24 * PAGE, 8);
	rt_pages_free(&pa, (char *)all + 4 * PAGE, 4);
	rt_pages_free(&pa, (char *)all + 16 * PAGE, 8);
	ok(count_runs(&pa) == 1 && pa.free_pages == 32,
	    "pieces freed out of order merge into one run");
}

/* A deterministic generator, so failures reproduce. */
static uint32_t seed = 12345;

static uint32_t
rnd(void)
{
	seed = seed * 1103515245 + 12345;
	return seed >> 8;
}

static void
test_heap_basic(void)
{
	struct rt_pages pa;
	struct rt_heap h;
	unsigned char *p, *q, *r;
	size_t i, free0;
	int err, bad;

	rt_pages_init(&pa);
	rt_pages_add(&pa, at(0), at(NPAGES));
	rt_heap_init(&h, &pa);
	free0 = pa.free_pages;

	p = rt_heap_alloc(&h, 0);
	q = rt_heap_alloc(&h, 0);
	ok(p != NULL && q != NULL && p != q, "malloc(0): distinct blocks");
	ok(rt_heap_free(&h, p) == 0 && rt_heap_free(&h, q) == 0, "freed");

	bad = 0;
	for (i = 1; i <= 3 * PAGE; i += 7) {
		p = rt_heap_alloc(&h, i);
		if (p == NULL || ((uintptr_t)p & 15) != 0 ||
		    rt_heap_block_size(&h, p) < i)
			bad++;
		memset(p, 0x5a, i);
		if (rt_heap_free(&h, p) != 0)
			bad++;
	}
	ok(bad == 0, "sizes 1..12288: 16-aligned, big enough, freed");

	p = rt_heap_alloc(&h, 100);
	ok(rt_heap_free(&h, p + 16) == -RT_EINVAL,
	    "free inside a block refused");
	ok(rt_heap_free(&h, p + 1) == -RT_EINVAL,
	    "free of an odd address refused");
	ok(rt_heap_free(&h, p) == 0, "free");
	ok(rt_heap_free(&h, p) == -RT_EINVAL, "double free refused");
	ok(rt_heap_free(&h, (void *)at(NPAGES - 1)) == -RT_EINVAL,
	    "page the heap never used refused");
	ok(rt_heap_free(&h, NULL) == 0, "free(NULL) does nothing");
	p = rt_heap_alloc(&h, 10000);
	ok(rt_heap_free(&h, p + PAGE) == -RT_EINVAL,
	    "pointer into a large block's second page refused");
	ok(rt_heap_free(&h, p) == 0 && rt_heap_free(&h, p) == -RT_EINVAL,
	    "large block: free, then double free refused");

	ok(rt_heap_calloc(&h, SIZE_MAX / 2 + 2, 2) == NULL,
	    "calloc: n * size overflow gives NULL");
	ok(rt_heap_calloc(&h, 1, SIZE_MAX) == NULL, "calloc: huge gives NULL");
	ok(rt_heap_alloc(&h, SIZE_MAX) == NULL &&
	    rt_heap_alloc(&h, SIZE_MAX - 70) == NULL,
	    "malloc near SIZE_MAX gives NULL (no wrap)");
	p = rt_heap_alloc(&h, 500);
	memset(p, 0xff, 500);
	rt_heap_free(&h, p);
	q = rt_heap_calloc(&h, 50, 10);
	for (bad = 0, i = 0; i < 500; i++)
		bad |= q[i];
	ok(q == p && bad == 0, "calloc zeroes a reused block");
	rt_heap_free(&h, q);

	p = rt_heap_realloc(&h, NULL, 10, &err);
	memcpy(p, "0123456789", 10);
	q = rt_heap_realloc(&h, p, 12, &err);
	ok(q == p, "realloc within the block's class keeps it");
	r = rt_heap_realloc(&h, q, 5000, &err);
	ok(r != NULL && r != q && memcmp(r, "0123456789", 10) == 0,
	    "realloc larger moves and copies");
	ok(rt_heap_free(&h, q) == -RT_EINVAL, "the old block was freed");
	q = rt_heap_realloc(&h, r, 20, &err);
	ok(q != r && memcmp(q, "0123456789", 10) == 0,
	    "realloc of a large block to a small size moves it");
	ok(rt_heap_realloc(&h, q, 0, &err) == q,
	    "realloc to 0 keeps the block");
	ok(rt_heap_realloc(&h, q + 16, 10, &err) == NULL && err == -RT_EINVAL,
	    "realloc of a foreign pointer: NULL, -RT_EINVAL");
	ok(rt_heap_realloc(&h, q, SIZE_MAX, &err) == NULL && err == 0 &&
	    rt_heap_block_size(&h, q) != 0,
	    "realloc that cannot be met: NULL, block kept");
	rt_heap_free(&h, q);

	ok(h.pages_used <= RT_HEAP_CLASSES && pa.free_pages + h.pages_used ==
	    free0, "after freeing all: at most one kept page per class");
}

#define SLOTS	400

static void
test_heap_stress(void)
{
	static unsigned char *slot[SLOTS];
	static size_t len[SLOTS];
	struct rt_pages pa;
	struct rt_heap h;
	size_t i, j, nulls = 0, corrupt = 0, free0;

	/* 64 pages: tight enough that some allocations fail. */
	rt_pages_init(&pa);
	rt_pages_add(&pa, at(0), at(64));
	rt_heap_init(&h, &pa);
	free0 = pa.free_pages;
	for (i = 0; i < 20000; i++) {
		j = rnd() % SLOTS;
		if (slot[j] != NULL) {
			for (size_t k = 0; k < len[j]; k++)
				if (slot[j][k] != (unsigned char)(j + k))
					corrupt++;
			if (rt_heap_free(&h, slot[j]) != 0)
				corrupt++;
			slot[j] = NULL;
			continue;
		}
		len[j] = rnd() % 8 == 0 ? rnd() % 9000 : rnd() % 600;
		if ((slot[j] = rt_heap_alloc(&h, len[j])) == NULL) {
			nulls++;
			continue;
		}
		for (size_t k = 0; k < len[j]; k++)
			slot[j][k] = (unsigned char)(j + k);
	}
	ok(corrupt == 0, "20000 random operations: no block overwrote another");
	ok(nulls > 0, "some allocations failed for want of memory (%zu)",
	    nulls);
	for (j = 0; j < SLOTS; j++)
		if (slot[j] != NULL && rt_heap_free(&h, slot[j]) != 0)
			corrupt++;
	ok(corrupt == 0 && pa.free_pages + h.pages_used == free0 &&
	    h.pages_used <= RT_HEAP_CLASSES, "everything freed, pages back");

	/* Exhaustion on a fresh heap: 2 blocks per page of class 2016. */
	rt_pages_init(&pa);
	rt_pages_add(&pa, at(0), at(64));
	rt_heap_init(&h, &pa);
	for (i = 0; rt_heap_alloc(&h, 2000) != NULL; i++)
		continue;
	ok(i == 2 * 64 && pa.free_pages == 0,
	    "heap exhausted cleanly after %zu blocks", i);
	ok(rt_heap_alloc(&h, 16) == NULL && rt_heap_alloc(&h, 5000) == NULL,
	    "then NULL for every size");
}

int
main(void)
{
	arena = aligned_alloc(PAGE, (size_t)NPAGES * PAGE);
	if (arena == NULL)
		return 99;
	test_pages();
	test_heap_basic();
	test_heap_stress();
	free(arena);
	return tap_done();
}
