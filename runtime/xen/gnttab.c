/*
 * gnttab.c - the grant table, version 1: how this domain lets a backend
 * (dom0's netback) use one of its pages.
 *
 * A PVH guest cannot use GNTTABOP_setup_table's answer (machine frames,
 * which only a PV guest's page tables can map); it asks Xen with
 * XENMEM_add_to_physmap (XENMAPSPACE_grant_table) to put each frame of
 * its table at a guest frame of its choosing, as it does for shared info.
 * Those guest frames are pages from the page allocator, contiguous, so
 * the table is one array; the RAM that was there goes back to Xen.
 * Asking for a frame beyond the table's size makes Xen grow the table.
 * The table is set up at the first grant: a kernel that never grants
 * never gives up the pages.
 *
 * Free references sit on a stack (a page of 16-bit entries); whether a
 * reference is granted is the entry's own type, which only we write.
 */
#include "xen.h"

#include "../kernel/kernel.h"
#include "rt.h"

/* 4 frames: 2040 grants; a netfront uses 2 + 256 + 64 (xen-netfront.c). */
#define GNT_FRAMES	4
#define GNT_PER_FRAME	(XEN_PAGE_SIZE / sizeof(struct xen_grant_entry))
#define GNT_MAX		(GNT_FRAMES * GNT_PER_FRAME)

static volatile struct xen_grant_entry *table;
static uint32_t nr_entries;		/* in the frames Xen mapped */
static uint16_t *free_refs;		/* a stack of free references */
static uint32_t nr_free;
static int init_error;			/* set when set-up failed: give up */

_Static_assert(GNT_MAX <= 65536, "references fit the free stack's entries");
_Static_assert(GNT_MAX * sizeof(uint16_t) <= XEN_PAGE_SIZE, "one page");

static int
gnttab_init(void)
{
	struct xen_add_to_physmap xatp = {
		.domid = XEN_DOMID_SELF,
		.space = XEN_XENMAPSPACE_GRANT_TABLE,
	};
	void *frames;
	uint32_t i, n;

	if (table != NULL)
		return 0;
	if (init_error != 0)
		return init_error;
	init_error = -RT_ENODEV;
	if (!rt_platform.xen_up)
		return init_error;
	init_error = -RT_ENOMEM;
	frames = memory_pages_alloc(GNT_FRAMES);
	free_refs = memory_pages_alloc(1);
	if (frames == NULL || free_refs == NULL)
		return init_error;
	/* As many frames as Xen lets us have, up to GNT_FRAMES; at least one. */
	for (n = 0; n < GNT_FRAMES; n++) {
		xatp.idx = n;
		xatp.gpfn = (uint64_t)(uintptr_t)frames / XEN_PAGE_SIZE + n;
		if (xen_hypercall2(XEN_HC_MEMORY_OP, XEN_XENMEM_ADD_TO_PHYSMAP,
		    &xatp) != 0)
			break;
	}
	if (n == 0) {
		init_error = -RT_ENODEV;
		return init_error;
	}
	nr_entries = n * GNT_PER_FRAME;
	/* lowest references on top: they are the first handed out */
	for (i = nr_entries; i > XEN_GNTTAB_RESERVED; i--)
		free_refs[nr_free++] = (uint16_t)(i - 1);
	table = frames;
	init_error = 0;
	return 0;
}

int
xen_gnttab_grant(uint16_t domid, const void *page, int readonly)
{
	volatile struct xen_grant_entry *e;
	uintptr_t addr = (uintptr_t)page;
	uint32_t ref;
	int r;

	if ((r = gnttab_init()) != 0)
		return r;
	if (addr % XEN_PAGE_SIZE != 0 || addr >= 1ULL << 32)
		return -RT_EINVAL;
	if (nr_free == 0)
		return -RT_ENOMEM;
	ref = free_refs[--nr_free];
	e = &table[ref];
	e->domid = domid;
	e->frame = (uint32_t)(addr / XEN_PAGE_SIZE);
	/* Xen may act on the entry as soon as the type is there: last */
	__atomic_store_n(&e->flags, (uint16_t)(XEN_GTF_PERMIT_ACCESS |
	    (readonly ? XEN_GTF_READONLY : 0)), __ATOMIC_RELEASE);
	return (int)ref;
}

int
xen_gnttab_end(uint32_t ref)
{
	volatile struct xen_grant_entry *e;
	uint16_t flags;

	if (table == NULL || ref < XEN_GNTTAB_RESERVED || ref >= nr_entries)
		return -RT_EINVAL;
	e = &table[ref];
	flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	/*
	 * Xen sets GTF_reading/GTF_writing while the page is mapped or being
	 * copied, with a compare-and-exchange too: ours only succeeds when
	 * neither is set, and from then on Xen refuses the reference.
	 */
	do {
		if ((flags & XEN_GTF_TYPE_MASK) != XEN_GTF_PERMIT_ACCESS)
			return -RT_EINVAL;
		if ((flags & (XEN_GTF_READING | XEN_GTF_WRITING)) != 0)
			return -RT_EAGAIN;
	} while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
	e->frame = 0;
	free_refs[nr_free++] = (uint16_t)ref;
	return 0;
}
