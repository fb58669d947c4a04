/*
 * pages.h - the page allocator: runs of free 4 KiB pages, kept in the
 * free pages themselves, sorted by address and merged on free.  Pure code
 * over caller-provided memory, so tests/unit/test-rt-alloc.c runs it on
 * the host over a buffer.
 *
 * Memory handed to rt_pages_add() belongs to the allocator until
 * rt_pages_alloc() hands pages out; those belong to the caller until it
 * gives them back with rt_pages_free(), with the same count.
 */
#ifndef RT_KERNEL_PAGES_H
#define RT_KERNEL_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "memmap.h"

/* The first page of every free run. */
struct rt_free_run {
	struct rt_free_run *next;
	size_t npages;
};

struct rt_pages {
	struct rt_free_run *head;	/* lowest address first */
	size_t free_pages;
	struct rt_ranges managed;	/* what rt_pages_add() gave */
};

void rt_pages_init(struct rt_pages *pa);

/*
 * Gives [start, end) to the allocator, shrunk inward to whole pages.
 * Returns 0, -RT_EINVAL when it overlaps memory already given, or
 * -RT_ENOMEM when the allocator cannot track another range.
 */
int rt_pages_add(struct rt_pages *pa, uintptr_t start, uintptr_t end);

/* (n) contiguous pages, page-aligned, or NULL (also for n == 0). */
void *rt_pages_alloc(struct rt_pages *pa, size_t n);

/*
 * Gives back the (n) pages at (p).  Returns 0, or -RT_EINVAL (and changes
 * nothing) when they were not all handed out: misaligned, outside what
 * was added, or overlapping free pages (a double free).
 */
int rt_pages_free(struct rt_pages *pa, void *p, size_t n);

#endif
