/*
 * bootinfo.h - what the PVH loader tells the kernel (struct hvm_start_info,
 * Xen's public arch-x86/hvm/start_info.h, version 1), read through one
 * checked accessor and turned into a struct the runtime can trust.
 *
 * Pure functions over caller-owned structures: tests/unit/test-rt-memmap.c
 * runs them on the host against crafted start infos.
 */
#ifndef RT_KERNEL_BOOTINFO_H
#define RT_KERNEL_BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

#include "memmap.h"
#include "rt.h"

#define HVM_START_MAGIC_VALUE	0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	/* Version 1 and later. */
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
#define HVM_START_INFO_V0_SIZE	40

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

/*
 * The one way to read guest-physical memory: (map) returns a pointer to
 * [paddr, paddr + len) when every byte of it may be read, else NULL.
 * (len) is never 0.  Readability must not change inside a page.
 */
struct rt_physmem {
	const void *(*map)(void *ctx, uint64_t paddr, uint64_t len);
	void *ctx;
};

/* Loader input the parser refused or cut, for a warning at boot. */
#define RT_BI_CMDLINE_CUT	0x01	/* longer than RT_CMDLINE_MAX - 1 */
#define RT_BI_CMDLINE_BAD	0x02	/* unreadable: taken as empty */
#define RT_BI_MODULE_BAD	0x04	/* unreadable, overflowing: ignored */
#define RT_BI_NO_MEMMAP		0x08	/* version 0, or no table */
#define RT_BI_MEMMAP_BAD	0x10	/* table unreadable: no memory known */
#define RT_BI_MEMMAP_ENTRIES	0x20	/* some entries skipped or dropped */

#define RT_MODULE_CMDLINE_MAX	256
#define RT_MEMMAP_ENTRIES_MAX	128

struct rt_bootinfo {
	uint32_t version;
	unsigned problems;		/* RT_BI_* */
	int has_module;
	uint64_t module_paddr;		/* readable for module_size bytes */
	uint64_t module_size;
	uint64_t rsdp_paddr;		/* 0 when not given */
	/* The large members last: the parser resets only what it must. */
	struct rt_ranges ram;		/* usable RAM below the limit */
	char cmdline[RT_CMDLINE_MAX];
	char module_cmdline[RT_MODULE_CMDLINE_MAX];
};

/*
 * Reads the start info at (si_paddr) through (pm) into (bi).  RAM above
 * (limit) is left out.  Returns 0 (with bi->problems saying what was
 * refused), or -RT_EINVAL when there is no readable start info with the
 * right magic: (bi) then holds an empty command line, no module and no
 * RAM, so that the caller can still boot and say why.
 */
int rt_bootinfo_parse(const struct rt_physmem *pm, uint64_t si_paddr,
    uint64_t limit, struct rt_bootinfo *bi);

#endif
