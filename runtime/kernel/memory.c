/*
 * memory.c - the guest's memory: the RAM the memory map lists, less the
 * kernel image, page 0 and the boot module, goes to the page allocator;
 * the heap (malloc and friends, malloc.c) draws on it.
 */
#include "../arch/x86_64/arch.h"
#include "heap.h"
#include "kernel.h"
#include "pages.h"

struct rt_pages rt_pages;
struct rt_heap rt_heap;

void
memory_init(struct rt_bootinfo *bi)
{
	struct rt_ranges *ram = &bi->ram;
	size_t i;
	int lost = 0;

	lost |= rt_ranges_remove(ram, 0, RT_PAGE_SIZE);
	lost |= rt_ranges_remove(ram, (uintptr_t)_rt_image_start,
	    (uintptr_t)_rt_image_end);
	if (bi->has_module && bi->module_size > 0)
		lost |= rt_ranges_remove(ram, bi->module_paddr,
		    bi->module_paddr + bi->module_size);
	if (lost != 0)
		rt_log("warning: memory map too fragmented, some RAM unused");
	rt_pages_init(&rt_pages);
	for (i = 0; i < ram->n; i++)
		if (rt_pages_add(&rt_pages, ram->r[i].start,
		    ram->r[i].end) != 0)
			rt_log("warning: RAM at %#lx..%#lx unused",
			    (unsigned long)ram->r[i].start,
			    (unsigned long)ram->r[i].end);
	rt_heap_init(&rt_heap, &rt_pages);
}

size_t
memory_heap_free(void)
{
	return rt_pages.free_pages * RT_PAGE_SIZE;
}
