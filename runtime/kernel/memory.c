/*
 * memory.c - the guest's memory: the RAM the memory map lists, less the
 * kernel image, page 0 and the boot module, goes to the page allocator;
 * the heap (malloc and friends, malloc.c) draws on it.  Both are built at
 * their first use, not at boot: a kernel that never allocates never pays
 * for it, and where the hypervisor emulates the guest that was a third of
 * the boot (docs/runtime.md).
 */
#include "../arch/x86_64/arch.h"
#include "heap.h"
#include "kernel.h"
#include "pages.h"

#include <string.h>

static struct rt_pages rt_pages;
static struct rt_heap rt_heap;
static const struct rt_ranges *pending;	/* RAM not handed over yet */
static size_t boot_free;		/* its bytes */

void
memory_init(struct rt_bootinfo *bi)
{
	struct rt_ranges *ram = &bi->ram;
	int lost = 0;

	lost |= rt_ranges_remove(ram, 0, RT_PAGE_SIZE);
	lost |= rt_ranges_remove(ram, (uintptr_t)_rt_image_start,
	    (uintptr_t)_rt_image_end);
	if (bi->has_module && bi->module_size > 0)
		lost |= rt_ranges_remove(ram, bi->module_paddr,
		    bi->module_paddr + bi->module_size);
	if (lost != 0)
		rt_log("warning: memory map too fragmented, some RAM unused");
	pending = ram;
	boot_free = rt_ranges_bytes(ram);
}

struct rt_heap *
memory_heap(void)
{
	size_t i;

	if (pending == NULL)
		return &rt_heap;
	rt_pages_init(&rt_pages);
	for (i = 0; i < pending->n; i++)
		if (rt_pages_add(&rt_pages, pending->r[i].start,
		    pending->r[i].end) != 0)
			rt_log("warning: RAM at %#lx..%#lx unused",
			    (unsigned long)pending->r[i].start,
			    (unsigned long)pending->r[i].end);
	pending = NULL;
	rt_heap_init(&rt_heap, &rt_pages);
	return &rt_heap;
}

size_t
memory_heap_free(void)
{
	/* The ranges are whole pages, apart and not at 0, and no more than
	 * the allocator tracks: it will take them all. */
	return pending != NULL ? boot_free : rt_pages.free_pages * RT_PAGE_SIZE;
}

void *
memory_pages_alloc(size_t n)
{
	void *p;

	memory_heap();
	if ((p = rt_pages_alloc(&rt_pages, n)) != NULL)
		memset(p, 0, n * RT_PAGE_SIZE);
	return p;
}
