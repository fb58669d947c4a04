/*
 * test-rt-memmap.c - the runtime's range sets, memory-map sanitising and
 * PVH start info parsing (runtime/kernel/memmap.c, bootinfo.c), on the
 * host, against crafted maps and start infos in a fake physical memory.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootinfo.h"
#include "memmap.h"
#include "tap.h"

#define K	1024ULL
#define M	(1024ULL * 1024)
#define G	(1024ULL * M)

/* Ranges as "start-end,..." in hex, to compare whole sets at once. */
static const char *
show(const struct rt_ranges *rs)
{
	static char buf[2048];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < rs->n && off < sizeof(buf) - 64; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "%s%llx-%llx", i ? "," : "",
		    (unsigned long long)rs->r[i].start,
		    (unsigned long long)rs->r[i].end);
	return buf;
}

static void
test_ranges(void)
{
	struct rt_ranges rs;
	unsigned i;
	int rc;

	rt_ranges_init(&rs);
	is_str(show(&rs), "", "empty set");
	rt_ranges_add(&rs, 0x5000, 0x8000);
	rt_ranges_add(&rs, 0x1000, 0x2000);
	is_str(show(&rs), "1000-2000,5000-8000", "kept sorted");
	rt_ranges_add(&rs, 0x2000, 0x3000);
	is_str(show(&rs), "1000-3000,5000-8000", "touching ranges merge");
	rt_ranges_add(&rs, 0x2800, 0x6000);
	is_str(show(&rs), "1000-8000", "a bridging range merges three");
	rt_ranges_add(&rs, 0x10001, 0x11fff);
	is_str(show(&rs), "1000-8000", "less than a page inside: nothing");
	rt_ranges_add(&rs, 0x10001, 0x13001);
	is_str(show(&rs), "1000-8000,11000-13000", "shrunk inward to pages");
	rt_ranges_add(&rs, 0x9000, 0x9000);
	rt_ranges_add(&rs, 0xa000, 0x9000);
	is_str(show(&rs), "1000-8000,11000-13000",
	    "empty and reversed: nothing");
	ok(rt_ranges_add(&rs, UINT64_MAX - 10, UINT64_MAX) == 0 && rs.n == 2,
	    "near the top of the address space: no overflow");
	is_int((long long)rt_ranges_bytes(&rs), 0x9000, "bytes counted");

	rt_ranges_remove(&rs, 0x3000, 0x4000);
	is_str(show(&rs), "1000-3000,4000-8000,11000-13000", "hole splits");
	rt_ranges_remove(&rs, 0x7fff, 0x11001);
	is_str(show(&rs), "1000-3000,4000-7000,12000-13000",
	    "removal grows outward to pages, spans ranges");
	rt_ranges_remove(&rs, 0, UINT64_MAX);
	is_str(show(&rs), "", "remove everything (end rounding no overflow)");

	/* A full set: a split that does not fit keeps the bigger piece. */
	rt_ranges_init(&rs);
	for (i = 0; i < RT_RANGES_MAX; i++)
		rt_ranges_add(&rs, (uint64_t)i * 0x10000,
		    (uint64_t)i * 0x10000 + 0x8000);
	is_int((long long)rs.n, RT_RANGES_MAX, "set filled");
	ok(rt_ranges_add(&rs, 0x7fff0000, 0x7fff1000) == -RT_ENOMEM,
	    "add to a full set refused");
	ok(rt_ranges_add(&rs, 0x8000, 0x9000) == 0 && rs.r[0].end == 0x9000,
	    "merging into a full set still works");
	rc = rt_ranges_remove(&rs, 0x2000, 0x3000);
	ok(rc == -RT_ENOMEM && rs.r[0].start == 0x3000 &&
	    rs.r[0].end == 0x9000 && rs.n == RT_RANGES_MAX,
	    "split in a full set drops the smaller piece");
}

static unsigned
usable(const struct hvm_memmap_table_entry *map, size_t n, uint64_t limit,
    struct rt_ranges *ram)
{
	return rt_memmap_usable(map, n, limit, ram);
}

static void
test_memmap(void)
{
	/* What QEMU's microvm gives with 16 MiB. */
	static const struct hvm_memmap_table_entry qemu[] = {
		{ 0, 0x9fc00, 1, 0 },
		{ 0x9fc00, 0x400, 2, 0 },
		{ 0xf0000, 0x10000, 2, 0 },
		{ 0x100000, 15 * M, 1, 0 },
		{ 0xfeffc000, 0x4000, 2, 0 },
	};
	static const struct hvm_memmap_table_entry messy[] = {
		{ 4 * M, 4 * M, 1, 0 },		/* out of order */
		{ 1 * M, 2 * M, 1, 0 },
		{ 2 * M, 3 * M, 1, 0 },		/* overlaps the one before */
		{ 5 * M + 100, 10, 2, 0 },	/* reserved inside RAM */
		{ 6 * M, M, 99, 0 },		/* unknown type: reserved */
		{ 7 * M, 0, 2, 0 },		/* empty reserved: no effect */
		{ 9 * M, 0, 1, 0 },		/* empty RAM */
		{ UINT64_MAX - 10, 100, 1, 0 },	/* end overflows */
		{ 16 * M, UINT64_MAX, 2, 0 },	/* end overflows too */
	};
	static const struct hvm_memmap_table_entry high[] = {
		{ 1 * M, 3 * G - 1 * M, 1, 0 },
		{ 4 * G, 4 * G, 1, 0 },
	};
	static const struct hvm_memmap_table_entry reserved_first[] = {
		{ 0x100000, 0x1000, 2, 0 },
		{ 0, 2 * M, 1, 0 },
	};
	struct rt_ranges ram;

	is_int(usable(qemu, 5, 4 * G, &ram), 0, "QEMU map: nothing skipped");
	is_str(show(&ram), "0-9f000,100000-1000000",
	    "QEMU map: low RAM cut before the EBDA page");
	is_int(usable(messy, 9, 4 * G, &ram), 2, "messy map: two skipped");
	is_str(show(&ram), "100000-500000,501000-600000,700000-800000",
	    "messy map: merged, reserved and unknown punched out");
	usable(high, 2, 4 * G, &ram);
	is_str(show(&ram), "100000-c0000000", "RAM above the limit left out");
	usable(high, 2, 2 * G + 12345, &ram);
	is_str(show(&ram), "100000-80003000", "RAM clipped at the limit");
	usable(reserved_first, 2, 4 * G, &ram);
	is_str(show(&ram), "0-100000,101000-200000",
	    "a reserved entry before the RAM it is in still wins");
	is_int(usable(NULL, 0, 4 * G, &ram), 0, "empty map");
	ok(ram.n == 0, "empty map: no RAM");
}

/* A fake guest: physical [0, PHYS) with page 0 and page HOLE unreadable. */
#define PHYS	(64 * K)
#define HOLE	(32 * K)
static unsigned char *phys;

static const void *
fake_map(void *ctx, uint64_t paddr, uint64_t len)
{
	(void)ctx;
	if (len == 0 || paddr < 4096 || paddr > PHYS || len > PHYS - paddr)
		return NULL;
	if (paddr < HOLE + 4096 && paddr + len > HOLE)
		return NULL;
	return phys + paddr;
}

static const struct rt_physmem pm = { fake_map, NULL };

/* Places a start info at 0x1000 and its tables after it. */
static struct hvm_start_info *
fresh(void)
{
	struct hvm_start_info *si = (void *)(phys + 0x1000);
	struct hvm_memmap_table_entry *mm = (void *)(phys + 0x6000);
	struct hvm_modlist_entry *mod = (void *)(phys + 0x1200);

	memset(phys, 0, PHYS);
	si->magic = HVM_START_MAGIC_VALUE;
	si->version = 1;
	si->cmdline_paddr = 0x1300;
	strcpy((char *)phys + 0x1300, "exit=3 hello");
	si->nr_modules = 1;
	si->modlist_paddr = 0x1200;
	mod->paddr = 0x4000;
	mod->size = 0x1234;
	mod->cmdline_paddr = 0x1400;
	strcpy((char *)phys + 0x1400, "initrd");
	si->memmap_paddr = 0x6000;
	si->memmap_entries = 2;
	mm[0].addr = 0;
	mm[0].size = 0x9fc00;
	mm[0].type = 1;
	mm[1].addr = 0x100000;
	mm[1].size = 0x100000;
	mm[1].type = 1;
	return si;
}

static void
test_bootinfo(void)
{
	static struct rt_bootinfo bi;
	struct hvm_start_info *si;
	struct hvm_modlist_entry *mod;
	char *p;

	si = fresh();
	is_int(rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi), 0,
	    "good start info");
	is_int(bi.problems, 0, "no problems");
	is_str(bi.cmdline, "exit=3 hello", "command line");
	ok(bi.has_module && bi.module_paddr == 0x4000 &&
	    bi.module_size == 0x1234, "module");
	is_str(bi.module_cmdline, "initrd", "module command line");
	is_str(show(&bi.ram), "0-9f000,100000-200000", "memory map");

	memmove(phys + 0x1004, si, sizeof(*si));
	ok(rt_bootinfo_parse(&pm, 0x1004, 4 * G, &bi) == 0 &&
	    bi.problems == 0 && bi.has_module &&
	    strcmp(bi.cmdline, "exit=3 hello") == 0,
	    "misaligned start info read (loaders do not always align)");
	si = fresh();
	ok(rt_bootinfo_parse(&pm, 0, 4 * G, &bi) == -RT_EINVAL &&
	    bi.cmdline[0] == '\0' && bi.ram.n == 0 && !bi.has_module,
	    "unreadable start info: refused, empty result");
	ok(rt_bootinfo_parse(&pm, PHYS - 8, 4 * G, &bi) == -RT_EINVAL,
	    "start info running off memory refused");
	si->magic++;
	ok(rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi) == -RT_EINVAL,
	    "bad magic refused");

	si = fresh();
	si->version = 0;
	is_int(rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi), 0, "version 0");
	ok(bi.problems == RT_BI_NO_MEMMAP && bi.ram.n == 0 &&
	    strcmp(bi.cmdline, "exit=3 hello") == 0 && bi.has_module,
	    "version 0: no memory map read, the rest is");
	si = fresh();
	memmove(phys + PHYS - 40, si, 40);
	((struct hvm_start_info *)(void *)(phys + PHYS - 40))->version = 0;
	is_int(rt_bootinfo_parse(&pm, PHYS - 40, 4 * G, &bi), 0,
	    "version 0 at the very end of memory: only 40 bytes read");

	si = fresh();
	si->cmdline_paddr = HOLE - 4;
	memcpy(phys + HOLE - 4, "abcd", 4);
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == RT_BI_CMDLINE_BAD && bi.cmdline[0] == '\0',
	    "command line running into unreadable memory: empty");
	si = fresh();
	si->cmdline_paddr = 0x2000;
	memset(phys + 0x2000, 'x', 5000);
	phys[0x2000 + 5000] = '\0';
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == RT_BI_CMDLINE_CUT &&
	    strlen(bi.cmdline) == RT_CMDLINE_MAX - 1,
	    "long command line cut, NUL-terminated");
	si = fresh();
	p = (char *)phys + 0x2ff0;	/* crosses a page boundary */
	strcpy(p, "0123456789abcdefghij");
	si->cmdline_paddr = 0x2ff0;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	is_str(bi.cmdline, "0123456789abcdefghij", "command line across pages");
	si = fresh();
	si->cmdline_paddr = 0;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == 0 && bi.cmdline[0] == '\0', "no command line: empty");

	si = fresh();
	mod = (void *)(phys + 0x1200);
	mod->paddr = HOLE - 0x100;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == RT_BI_MODULE_BAD && !bi.has_module,
	    "module over unreadable memory ignored");
	mod->paddr = UINT64_MAX - 0x10;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == RT_BI_MODULE_BAD && !bi.has_module,
	    "module whose end overflows ignored");
	mod->paddr = 0x4000;
	mod->size = 0;
	mod->cmdline_paddr = 0;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == 0 && bi.has_module && bi.module_size == 0 &&
	    bi.module_cmdline[0] == '\0', "empty module kept, no command line");
	memmove(phys + 0x1204, mod, sizeof(*mod));
	si->modlist_paddr = 0x1204;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == 0 && bi.has_module && bi.module_paddr == 0x4000,
	    "misaligned module list read (qboot puts it at 4 bytes)");
	si->nr_modules = 0;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == 0 && !bi.has_module, "no modules");

	si = fresh();
	si->memmap_entries = 100000;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok((bi.problems & RT_BI_MEMMAP_ENTRIES) != 0 && bi.ram.n == 2,
	    "huge entry count capped, the rest read");
	si->memmap_entries = 0x0aaaaaab;	/* * 24 overflows 32 bits */
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.ram.n == 2, "entry count whose size overflows 32 bits capped");
	si->memmap_paddr = HOLE - 24;
	si->memmap_entries = 2;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == RT_BI_MEMMAP_BAD && bi.ram.n == 0,
	    "unreadable memory map: no RAM");
	si->memmap_paddr = 0;
	rt_bootinfo_parse(&pm, 0x1000, 4 * G, &bi);
	ok(bi.problems == RT_BI_NO_MEMMAP, "no memory map address");
}

int
main(void)
{
	phys = aligned_alloc(4096, PHYS);
	if (phys == NULL)
		return 99;
	test_ranges();
	test_memmap();
	test_bootinfo();
	free(phys);
	return tap_done();
}
