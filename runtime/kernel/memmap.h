/*
 * memmap.h - sets of physical address ranges, and the usable RAM of an
 * E820-style memory map.  Pure functions over caller-owned structures: the
 * host unit tests (tests/unit/test-rt-memmap.c) build them as they are.
 */
#ifndef RT_KERNEL_MEMMAP_H
#define RT_KERNEL_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#define RT_PAGE_SIZE	4096ULL
#define RT_RANGES_MAX	64

/* [start, end): start < end, both page-aligned inside a struct rt_ranges. */
struct rt_range {
	uint64_t start, end;
};

/* Sorted by address, disjoint and not touching (merged). */
struct rt_ranges {
	struct rt_range r[RT_RANGES_MAX];
	size_t n;
};

/* One entry of the PVH memory map (hvm_memmap_table_entry), E820 types. */
struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
#define HVM_MEMMAP_TYPE_RAM	1

void rt_ranges_init(struct rt_ranges *rs);

/*
 * Adds [start, end) shrunk inward to page boundaries, merging with what
 * it touches.  An empty range adds nothing.  Returns 0, or -RT_ENOMEM when
 * the set is full and the range could not be merged (it is then dropped,
 * the set unchanged: losing memory is safe, inventing it is not).
 */
int rt_ranges_add(struct rt_ranges *rs, uint64_t start, uint64_t end);

/*
 * Removes [start, end) grown outward to page boundaries.  Returns 0, or
 * -RT_ENOMEM when a split did not fit: the smaller piece is then dropped
 * too, so the set only ever shrinks.
 */
int rt_ranges_remove(struct rt_ranges *rs, uint64_t start, uint64_t end);

/* The number of bytes in the set. */
uint64_t rt_ranges_bytes(const struct rt_ranges *rs);

/*
 * Fills (ram) with the usable RAM of the (n) entries of (map): RAM entries
 * shrunk to whole pages and clipped below (limit), minus every other
 * entry (reserved, ACPI, unknown types) grown to whole pages, so that
 * overlapping or out-of-order maps never yield memory the map also
 * reserves.  Returns the number of entries skipped (their end overflows)
 * or dropped (the set was full); empty entries are ignored uncounted.
 */
unsigned rt_memmap_usable(const struct hvm_memmap_table_entry *map, size_t n,
    uint64_t limit, struct rt_ranges *ram);

#endif
