/*
 * heap.c - size-class heap over pages (heap.h).
 *
 * The classes divide the 4032 bytes after a page's header with nothing
 * left over, all multiples of 16.  A class page with every block free is
 * given back to the page allocator unless it is its class's only page
 * with room, which keeps a free/malloc pair from taking a page each time.
 */
#include <string.h>

#include "heap.h"
#include "rt.h"

#define PAGE		((uintptr_t)RT_PAGE_SIZE)
#define HDR		64
#define SLAB_MAGIC	0x736c616272746865ULL
#define LARGE_MAGIC	0x6c61726765727468ULL

static const uint16_t class_size[RT_HEAP_CLASSES] = {
	16, 32, 48, 64, 96, 128, 192, 256, 336, 448, 576, 672, 1008, 1344,
	2016,
};

struct rt_slab {
	uint64_t magic;
	struct rt_slab *next, *prev;	/* the class's pages with room */
	uint16_t cls, size, nobj, nfree;
	uint64_t used[4];		/* bit set: block handed out */
};

struct large {
	uint64_t magic;
	size_t npages;
};

_Static_assert(sizeof(struct rt_slab) == HDR, "slab header size");
_Static_assert((RT_PAGE_SIZE - HDR) / 16 <= 4 * 64, "bitmap size");

void
rt_heap_init(struct rt_heap *h, struct rt_pages *pa)
{
	memset(h, 0, sizeof(*h));
	h->pages = pa;
}

static int
size_class(size_t size)
{
	int c;

	for (c = 0; c < RT_HEAP_CLASSES; c++)
		if (size <= class_size[c])
			return c;
	return -1;
}

static void
partial_link(struct rt_heap *h, struct rt_slab *s)
{
	s->prev = NULL;
	s->next = h->partial[s->cls];
	if (s->next != NULL)
		s->next->prev = s;
	h->partial[s->cls] = s;
}

static void
partial_unlink(struct rt_heap *h, struct rt_slab *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		h->partial[s->cls] = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static struct rt_slab *
slab_new(struct rt_heap *h, int c)
{
	struct rt_slab *s;
	unsigned i;

	if ((s = rt_pages_alloc(h->pages, 1)) == NULL)
		return NULL;
	h->pages_used++;
	memset(s, 0, sizeof(*s));
	s->magic = SLAB_MAGIC ^ (uintptr_t)s;
	s->cls = (uint16_t)c;
	s->size = class_size[c];
	s->nobj = s->nfree = (uint16_t)((PAGE - HDR) / s->size);
	/* Bits past the last block read as taken, so a search never finds
	 * them. */
	for (i = s->nobj; i < 4 * 64; i++)
		s->used[i / 64] |= 1ULL << (i % 64);
	partial_link(h, s);
	return s;
}

static void *
slab_alloc(struct rt_heap *h, int c)
{
	struct rt_slab *s = h->partial[c];
	unsigned w, bit;

	if (s == NULL && (s = slab_new(h, c)) == NULL)
		return NULL;
	for (w = 0; ~s->used[w] == 0; w++)
		continue;
	bit = (unsigned)__builtin_ctzll(~s->used[w]);
	s->used[w] |= 1ULL << bit;
	if (--s->nfree == 0)
		partial_unlink(h, s);
	return (char *)s + HDR + (size_t)(w * 64 + bit) * s->size;
}

static void *
large_alloc(struct rt_heap *h, size_t size)
{
	struct large *l;
	size_t n;

	if (size > SIZE_MAX - HDR - PAGE)
		return NULL;
	n = (size + HDR + PAGE - 1) / PAGE;
	if ((l = rt_pages_alloc(h->pages, n)) == NULL)
		return NULL;
	h->pages_used += n;
	l->magic = LARGE_MAGIC ^ (uintptr_t)l;
	l->npages = n;
	return (char *)l + HDR;
}

void *
rt_heap_alloc(struct rt_heap *h, size_t size)
{
	int c = size_class(size);

	return c >= 0 ? slab_alloc(h, c) : large_alloc(h, size);
}

void *
rt_heap_calloc(struct rt_heap *h, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if ((p = rt_heap_alloc(h, n * size)) != NULL)
		memset(p, 0, n * size);
	return p;
}

/*
 * What (p) is: a small block (*slab and *index set), a large block
 * (*large set), or neither (returns 0).
 */
static int
classify(const void *p, struct rt_slab **slab, unsigned *index,
    struct large **large)
{
	uintptr_t a = (uintptr_t)p, page = a & ~(PAGE - 1), off;
	struct rt_slab *s = (struct rt_slab *)page;

	*slab = NULL;
	*large = NULL;
	if (p == NULL || a - page < HDR)
		return 0;
	if (s->magic == (SLAB_MAGIC ^ page)) {
		off = a - page - HDR;
		if (off % s->size != 0 || off / s->size >= s->nobj)
			return 0;
		*index = (unsigned)(off / s->size);
		if ((s->used[*index / 64] & 1ULL << (*index % 64)) == 0)
			return 0;
		*slab = s;
		return 1;
	}
	if (((struct large *)page)->magic == (LARGE_MAGIC ^ page) &&
	    a - page == HDR) {
		*large = (struct large *)page;
		return 1;
	}
	return 0;
}

size_t
rt_heap_block_size(const struct rt_heap *h, const void *p)
{
	struct rt_slab *s;
	struct large *l;
	unsigned i;

	(void)h;
	if (!classify(p, &s, &i, &l))
		return 0;
	return s != NULL ? s->size : l->npages * PAGE - HDR;
}

static void
slab_free(struct rt_heap *h, struct rt_slab *s, unsigned i)
{
	s->used[i / 64] &= ~(1ULL << (i % 64));
	if (s->nfree++ == 0)
		partial_link(h, s);
	if (s->nfree == s->nobj && (s->prev != NULL || s->next != NULL)) {
		partial_unlink(h, s);
		s->magic = 0;
		rt_pages_free(h->pages, s, 1);
		h->pages_used--;
	}
}

int
rt_heap_free(struct rt_heap *h, void *p)
{
	struct rt_slab *s;
	struct large *l;
	unsigned i;

	if (p == NULL)
		return 0;
	if (!classify(p, &s, &i, &l))
		return -RT_EINVAL;
	if (s != NULL) {
		slab_free(h, s, i);
		return 0;
	}
	l->magic = 0;
	h->pages_used -= l->npages;
	return rt_pages_free(h->pages, l, l->npages);
}

void *
rt_heap_realloc(struct rt_heap *h, void *p, size_t size, int *err)
{
	size_t have;
	void *q;

	*err = 0;
	if (p == NULL)
		return rt_heap_alloc(h, size);
	if ((have = rt_heap_block_size(h, p)) == 0) {
		*err = -RT_EINVAL;
		return NULL;
	}
	/* Keep the block unless it is too small, or a large block that
	 * would waste pages. */
	if (size <= have && (have <= RT_HEAP_SMALL_MAX || size > have / 2))
		return p;
	if ((q = rt_heap_alloc(h, size)) == NULL)
		return NULL;
	memcpy(q, p, size < have ? size : have);
	rt_heap_free(h, p);
	return q;
}
