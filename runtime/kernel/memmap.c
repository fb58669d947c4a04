/*
 * memmap.c - range sets and memory-map sanitising (memmap.h).  The map
 * comes from the host or a firmware; it is trusted to describe the guest,
 * not to be tidy, so every entry is checked and the result is built so
 * that no byte a reserved entry names can end up usable.
 */
#include <string.h>

#include "memmap.h"
#include "rt.h"

#define PAGE_MASK	(RT_PAGE_SIZE - 1)

void
rt_ranges_init(struct rt_ranges *rs)
{
	rs->n = 0;
}

static void
ranges_delete(struct rt_ranges *rs, size_t i)
{
	memmove(&rs->r[i], &rs->r[i + 1], (rs->n - i - 1) * sizeof(rs->r[0]));
	rs->n--;
}

static void
ranges_insert(struct rt_ranges *rs, size_t i, uint64_t start, uint64_t end)
{
	if (i < rs->n)		/* appending, the usual case, moves nothing */
		memmove(&rs->r[i + 1], &rs->r[i],
		    (rs->n - i) * sizeof(rs->r[0]));
	rs->r[i].start = start;
	rs->r[i].end = end;
	rs->n++;
}

int
rt_ranges_add(struct rt_ranges *rs, uint64_t start, uint64_t end)
{
	size_t i;

	if (start > UINT64_MAX - PAGE_MASK)
		return 0;
	start = (start + PAGE_MASK) & ~PAGE_MASK;
	end &= ~PAGE_MASK;
	if (start >= end)
		return 0;
	/* The first range that ends at or after (start) may touch it. */
	for (i = 0; i < rs->n && rs->r[i].end < start; i++)
		continue;
	if (i == rs->n || rs->r[i].start > end) {
		if (rs->n == RT_RANGES_MAX)
			return -RT_ENOMEM;
		ranges_insert(rs, i, start, end);
		return 0;
	}
	/* Merge into r[i], then swallow the ranges the new end reaches. */
	if (start < rs->r[i].start)
		rs->r[i].start = start;
	if (end > rs->r[i].end)
		rs->r[i].end = end;
	while (i + 1 < rs->n && rs->r[i + 1].start <= rs->r[i].end) {
		if (rs->r[i + 1].end > rs->r[i].end)
			rs->r[i].end = rs->r[i + 1].end;
		ranges_delete(rs, i + 1);
	}
	return 0;
}

/* Takes [start, end) out of the ranges from r[i] on. */
__attribute__((noinline)) static int
ranges_cut(struct rt_ranges *rs, size_t i, uint64_t start, uint64_t end)
{
	struct rt_range *r;
	int rc = 0;

	while (i < rs->n) {
		r = &rs->r[i];
		if (r->end <= start || r->start >= end) {
			i++;
		} else if (r->start >= start && r->end <= end) {
			ranges_delete(rs, i);
		} else if (r->start < start && r->end > end) {
			/* A hole in the middle: two pieces. */
			if (rs->n < RT_RANGES_MAX) {
				ranges_insert(rs, i + 1, end, r->end);
				r->end = start;
			} else if (start - r->start >= r->end - end) {
				r->end = start;
				rc = -RT_ENOMEM;
			} else {
				r->start = end;
				rc = -RT_ENOMEM;
			}
			i++;
		} else if (r->start < start) {
			r->end = start;
			i++;
		} else {
			r->start = end;
			i++;
		}
	}
	return rc;
}

int
rt_ranges_remove(struct rt_ranges *rs, uint64_t start, uint64_t end)
{
	size_t i;

	start &= ~PAGE_MASK;
	end = end > UINT64_MAX - PAGE_MASK ? UINT64_MAX & ~PAGE_MASK :
	    (end + PAGE_MASK) & ~PAGE_MASK;
	if (start >= end)
		return 0;
	/* Most removals (a memory map's reserved entries) touch nothing:
	 * find that out in a tight loop before the general one, since
	 * where the hypervisor emulates the guest every instruction of the
	 * boot counts (docs/runtime.md). */
	for (i = 0; i < rs->n; i++)
		if (rs->r[i].end > start && rs->r[i].start < end)
			return ranges_cut(rs, i, start, end);
	return 0;
}

uint64_t
rt_ranges_bytes(const struct rt_ranges *rs)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < rs->n; i++)
		total += rs->r[i].end - rs->r[i].start;
	return total;
}

/*
 * 1 with the end of (e) in (*end) when (e) names a range, 0 when it is
 * empty (harmless), -1 when its end overflows (broken).
 */
static int
entry_end(const struct hvm_memmap_table_entry *e, uint64_t *end)
{
	if (e->size == 0)
		return 0;
	if (e->addr > UINT64_MAX - e->size)
		return -1;
	*end = e->addr + e->size;
	return 1;
}

unsigned
rt_memmap_usable(const struct hvm_memmap_table_entry *map, size_t n,
    uint64_t limit, struct rt_ranges *ram)
{
	unsigned skipped = 0;
	uint64_t end;
	size_t i;

	rt_ranges_init(ram);
	for (i = 0; i < n; i++) {
		switch (entry_end(&map[i], &end)) {
		case -1:
			skipped++;
			continue;
		case 0:
			continue;
		}
		if (map[i].type != HVM_MEMMAP_TYPE_RAM || map[i].addr >= limit)
			continue;
		if (rt_ranges_add(ram, map[i].addr,
		    end < limit ? end : limit) != 0)
			skipped++;
	}
	/* Reserved wins over RAM wherever two entries overlap. */
	for (i = 0; i < n; i++)
		if (map[i].type != HVM_MEMMAP_TYPE_RAM &&
		    entry_end(&map[i], &end) == 1 &&
		    rt_ranges_remove(ram, map[i].addr, end) != 0)
			skipped++;
	return skipped;
}
