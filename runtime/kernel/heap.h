/*
 * heap.h - malloc's engine: size classes in single pages, large blocks as
 * runs of pages, on top of the page allocator (pages.h).  Pure code, so
 * tests/unit/test-rt-alloc.c runs it on the host; kernel/malloc.c makes
 * malloc(), free(), calloc() and realloc() of it for the guest.
 *
 * Every block is 16-byte aligned.  Each page the heap takes starts with a
 * 64-byte header whose magic mixes in the page's address; small blocks are
 * tracked in a bitmap there, never in the blocks themselves, so writing
 * past a freed block cannot corrupt the heap's own lists.  free() checks
 * the header, the block's place and its bit, which catches double frees
 * and pointers the heap never handed out (not every one: a large block's
 * later pages hold the caller's bytes, which could, by a 1 in 2^64 chance,
 * look like a header).
 */
#ifndef RT_KERNEL_HEAP_H
#define RT_KERNEL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "pages.h"

#define RT_HEAP_CLASSES	15
#define RT_HEAP_SMALL_MAX	2016	/* larger blocks take whole pages */

struct rt_slab;

struct rt_heap {
	struct rt_pages *pages;
	struct rt_slab *partial[RT_HEAP_CLASSES];	/* pages with room */
	size_t pages_used;
};

void rt_heap_init(struct rt_heap *h, struct rt_pages *pa);

/* A block of at least (size) bytes (a distinct one for 0), or NULL. */
void *rt_heap_alloc(struct rt_heap *h, size_t size);

/* (n) * (size) zeroed bytes, or NULL, also when the product overflows. */
void *rt_heap_calloc(struct rt_heap *h, size_t n, size_t size);

/*
 * ISO C's realloc: NULL (p) allocates; otherwise a block of (size) bytes
 * holding the first bytes of (p), which is freed if the block moved.  On
 * failure returns NULL and leaves (p) as it was, with (*err) 0 when memory
 * was short and -RT_EINVAL when (p) is not a block of this heap.  A size of
 * 0 keeps (p) as a block of at least 0 bytes; it is not freed.
 */
void *rt_heap_realloc(struct rt_heap *h, void *p, size_t size, int *err);

/* Frees (p) (NULL does nothing).  Returns 0, or -RT_EINVAL and changes
 * nothing when (p) is not a live block of this heap. */
int rt_heap_free(struct rt_heap *h, void *p);

/* The usable size of the live block (p), or 0 when it is not one. */
size_t rt_heap_block_size(const struct rt_heap *h, const void *p);

#endif
