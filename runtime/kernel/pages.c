/*
 * pages.c - the page allocator (pages.h).  First fit, taken from the top
 * of a run so that the run's header stays where it is; frees are merged
 * with their neighbours, so a guest that frees everything is left with
 * one run per range it added.  Fine for the handful of runs a unikernel
 * has; no attempt at O(1).
 */
#include "pages.h"
#include "rt.h"

#define PAGE	((uintptr_t)RT_PAGE_SIZE)

void
rt_pages_init(struct rt_pages *pa)
{
	pa->head = NULL;
	pa->free_pages = 0;
	rt_ranges_init(&pa->managed);
}

static uintptr_t
run_end(const struct rt_free_run *r)
{
	return (uintptr_t)r + r->npages * PAGE;
}

/*
 * Links the pages [p, p + n * PAGE), which must not overlap a free run,
 * into the sorted list and merges them with the runs they touch.
 */
static void
insert_run(struct rt_pages *pa, uintptr_t p, size_t n)
{
	struct rt_free_run **link = &pa->head, *prev = NULL, *r;

	while (*link != NULL && (uintptr_t)*link < p) {
		prev = *link;
		link = &(*link)->next;
	}
	if (prev != NULL && run_end(prev) == p) {
		prev->npages += n;
		r = prev;
	} else {
		r = (struct rt_free_run *)p;
		r->npages = n;
		r->next = *link;
		*link = r;
	}
	if (r->next != NULL && run_end(r) == (uintptr_t)r->next) {
		r->npages += r->next->npages;
		r->next = r->next->next;
	}
	pa->free_pages += n;
}

int
rt_pages_add(struct rt_pages *pa, uintptr_t start, uintptr_t end)
{
	size_t i;

	if (start > UINTPTR_MAX - (PAGE - 1))
		return 0;
	start = (start + PAGE - 1) & ~(PAGE - 1);
	end &= ~(PAGE - 1);
	if (start >= end)
		return 0;
	if (start == 0)		/* its first page would read as NULL */
		return -RT_EINVAL;
	for (i = 0; i < pa->managed.n; i++)
		if (start < pa->managed.r[i].end &&
		    end > pa->managed.r[i].start)
			return -RT_EINVAL;
	/* Changes nothing when it fails (memmap.h): no copy to roll back. */
	if (rt_ranges_add(&pa->managed, start, end) != 0)
		return -RT_ENOMEM;
	insert_run(pa, start, (end - start) / PAGE);
	return 0;
}

void *
rt_pages_alloc(struct rt_pages *pa, size_t n)
{
	struct rt_free_run **link, *r;

	if (n == 0 || n > pa->free_pages)
		return NULL;
	for (link = &pa->head; (r = *link) != NULL; link = &r->next) {
		if (r->npages < n)
			continue;
		r->npages -= n;
		if (r->npages == 0)
			*link = r->next;
		pa->free_pages -= n;
		return (void *)run_end(r);
	}
	return NULL;
}

/* 1 when [p, p + n * PAGE) lies inside one range that was added. */
static int
is_managed(const struct rt_pages *pa, uintptr_t p, size_t n)
{
	size_t i;

	for (i = 0; i < pa->managed.n; i++)
		if (p >= pa->managed.r[i].start && p < pa->managed.r[i].end)
			return n <= (pa->managed.r[i].end - p) / PAGE;
	return 0;
}

int
rt_pages_free(struct rt_pages *pa, void *ptr, size_t n)
{
	uintptr_t p = (uintptr_t)ptr, end;
	struct rt_free_run *r;

	if (n == 0 || (p & (PAGE - 1)) != 0 || !is_managed(pa, p, n))
		return -RT_EINVAL;
	end = p + n * PAGE;
	for (r = pa->head; r != NULL && (uintptr_t)r < end; r = r->next)
		if (run_end(r) > p)
			return -RT_EINVAL;
	insert_run(pa, p, n);
	return 0;
}
