/*
 * bootinfo.c - the PVH start info, sanitised (bootinfo.h).  Everything the
 * loader hands over is read here and nowhere else, through one accessor,
 * and every address and size is checked for overflow before it is used.
 */
#include <stddef.h>
#include <string.h>

#include "bootinfo.h"

_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) ==
    HVM_START_INFO_V0_SIZE, "version 1 fields follow version 0's");

/*
 * Copies (len) bytes at (paddr) into (dst); 0, or -1 if unreadable.  The
 * tables are copied rather than read in place because loaders do not
 * always align them (qboot's module list sits at a 4-byte boundary).
 */
static int
copy_in(const struct rt_physmem *pm, uint64_t paddr, void *dst, size_t len)
{
	const void *p = pm->map(pm->ctx, paddr, len);

	if (p == NULL)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

/*
 * Copies the NUL-terminated string at (paddr) into (dst) of (max) bytes,
 * reading a page at a time since readability is page-granular.  Returns
 * 0, RT_BI_CMDLINE_CUT when it did not fit, or RT_BI_CMDLINE_BAD when it
 * runs into unreadable memory (dst is then "").
 */
static unsigned
copy_string(const struct rt_physmem *pm, uint64_t paddr, char *dst,
    size_t max)
{
	const char *p, *nul;
	uint64_t a, chunk;
	size_t n = 0;

	while (n < max - 1) {
		if (paddr > UINT64_MAX - n)
			break;
		a = paddr + n;
		chunk = RT_PAGE_SIZE - (a & (RT_PAGE_SIZE - 1));
		if (chunk > max - 1 - n)
			chunk = max - 1 - n;
		if ((p = pm->map(pm->ctx, a, chunk)) == NULL)
			break;
		/* memchr and memcpy, not a loop: string instructions in the
		 * guest (runtime/libc/string.c). */
		if ((nul = memchr(p, '\0', chunk)) != NULL) {
			memcpy(dst + n, p, (size_t)(nul - p) + 1);
			return 0;
		}
		memcpy(dst + n, p, chunk);
		n += chunk;
	}
	if (n < max - 1) {
		dst[0] = '\0';
		return RT_BI_CMDLINE_BAD;
	}
	dst[max - 1] = '\0';
	return RT_BI_CMDLINE_CUT;
}

static void
parse_module(const struct rt_physmem *pm, const struct hvm_start_info *si,
    struct rt_bootinfo *bi)
{
	struct hvm_modlist_entry m;

	if (si->nr_modules == 0 || si->modlist_paddr == 0)
		return;
	if (copy_in(pm, si->modlist_paddr, &m, sizeof(m)) != 0 ||
	    m.paddr > UINT64_MAX - m.size ||
	    (m.size > 0 && pm->map(pm->ctx, m.paddr, m.size) == NULL)) {
		bi->problems |= RT_BI_MODULE_BAD;
		return;
	}
	bi->has_module = 1;
	bi->module_paddr = m.paddr;
	bi->module_size = m.size;
	/* A module's command line is a nicety: a bad one is left empty. */
	if (m.cmdline_paddr != 0 &&
	    copy_string(pm, m.cmdline_paddr, bi->module_cmdline,
	    sizeof(bi->module_cmdline)) == RT_BI_CMDLINE_BAD)
		bi->module_cmdline[0] = '\0';
}

static void
parse_memmap(const struct rt_physmem *pm, const struct hvm_start_info *si,
    uint64_t limit, struct rt_bootinfo *bi)
{
	struct hvm_memmap_table_entry map[RT_MEMMAP_ENTRIES_MAX];
	uint32_t n = si->memmap_entries;

	if (si->version < 1 || si->memmap_paddr == 0 || n == 0) {
		bi->problems |= RT_BI_NO_MEMMAP;
		return;
	}
	if (n > RT_MEMMAP_ENTRIES_MAX) {
		bi->problems |= RT_BI_MEMMAP_ENTRIES;
		n = RT_MEMMAP_ENTRIES_MAX;
	}
	if (copy_in(pm, si->memmap_paddr, map, n * sizeof(map[0])) != 0) {
		bi->problems |= RT_BI_MEMMAP_BAD;
		return;
	}
	if (rt_memmap_usable(map, n, limit, &bi->ram) != 0)
		bi->problems |= RT_BI_MEMMAP_ENTRIES;
}

int
rt_bootinfo_parse(const struct rt_physmem *pm, uint64_t si_paddr,
    uint64_t limit, struct rt_bootinfo *bi)
{
	struct hvm_start_info si;

	/* Not memset(bi): its buffers are 5 KiB, and every byte costs boot
	 * time where the hypervisor emulates the guest (docs/runtime.md). */
	memset(bi, 0, offsetof(struct rt_bootinfo, ram));
	rt_ranges_init(&bi->ram);
	bi->cmdline[0] = '\0';
	bi->module_cmdline[0] = '\0';
	/* Version 0 has only the first fields: read no further than them
	 * until the version says there is more. */
	if (copy_in(pm, si_paddr, &si, HVM_START_INFO_V0_SIZE) != 0 ||
	    si.magic != HVM_START_MAGIC_VALUE)
		return -RT_EINVAL;
	si.memmap_paddr = 0;
	si.memmap_entries = 0;
	if (si.version >= 1 && copy_in(pm, si_paddr + HVM_START_INFO_V0_SIZE,
	    &si.memmap_paddr, sizeof(si) - HVM_START_INFO_V0_SIZE) != 0)
		return -RT_EINVAL;
	bi->version = si.version;
	bi->rsdp_paddr = si.rsdp_paddr;
	if (si.cmdline_paddr != 0)
		bi->problems |= copy_string(pm, si.cmdline_paddr, bi->cmdline,
		    sizeof(bi->cmdline));
	parse_module(pm, &si, bi);
	parse_memmap(pm, &si, limit, bi);
	return 0;
}
