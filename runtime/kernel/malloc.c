/*
 * malloc.c - ISO C's allocation functions for the guest, on the heap of
 * memory.c.  A free() or realloc() of a pointer the heap never handed out
 * (or handed out and took back) is a crash, reported at once, rather than
 * a corruption found much later.
 */
#include <stdlib.h>

#include "heap.h"
#include "kernel.h"

void *
malloc(size_t size)
{
	return rt_heap_alloc(memory_heap(), size);
}

void *
calloc(size_t n, size_t size)
{
	return rt_heap_calloc(memory_heap(), n, size);
}

void *
realloc(void *p, size_t size)
{
	void *q;
	int err;

	q = rt_heap_realloc(memory_heap(), p, size, &err);
	if (err != 0)
		rt_panic("realloc(%p): not a live heap block", p);
	return q;
}

void
free(void *p)
{
	if (rt_heap_free(memory_heap(), p) != 0)
		rt_panic("free(%p): not a live heap block", p);
}
