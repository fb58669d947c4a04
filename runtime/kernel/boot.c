/*
 * boot.c - the start-up sequence in C, from the PVH entry (pvh.S) to
 * rt_main(), and the checked accessor through which everything the loader
 * hands over is read.  Nothing is printed on a normal boot: every byte on
 * the console is a VM exit, and the application says what it wants said.
 */
#include <string.h>

#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "bootinfo.h"
#include "kernel.h"
#include "platform.h"

#define IDENTITY_LIMIT	(1ULL << 32)	/* what pvh.S maps */

static const void *
guest_map(void *ctx, uint64_t paddr, uint64_t len)
{
	uint64_t guard = (uintptr_t)_rt_stack_guard;

	(void)ctx;
	if (paddr < RT_PAGE_SIZE || len == 0 || paddr >= IDENTITY_LIMIT ||
	    len > IDENTITY_LIMIT - paddr)
		return NULL;
	if (paddr < guard + RT_PAGE_SIZE && paddr + len > guard)
		return NULL;
	return (const void *)(uintptr_t)paddr;
}

const struct rt_physmem rt_guest_mem = { guest_map, NULL };

static void
report_problems(int parsed, const struct rt_bootinfo *bi)
{
	static const struct {
		unsigned bit;
		const char *what;
	} msg[] = {
		{ RT_BI_CMDLINE_CUT, "command line cut to 4095 bytes" },
		{ RT_BI_CMDLINE_BAD, "command line unreadable, ignored" },
		{ RT_BI_MODULE_BAD, "boot module unreadable, ignored" },
		{ RT_BI_NO_MEMMAP, "no memory map (start info version 0)" },
		{ RT_BI_MEMMAP_BAD, "memory map unreadable" },
		{ RT_BI_MEMMAP_ENTRIES, "memory map entries skipped" },
	};
	size_t i;

	if (parsed == 0 && bi->problems == 0 && bi->ram.n != 0)
		return;
	if (parsed != 0) {
		rt_log("warning: no valid PVH start info: no command line, "
		    "no memory");
		return;
	}
	for (i = 0; i < sizeof(msg) / sizeof(msg[0]); i++)
		if ((bi->problems & msg[i].bit) != 0)
			rt_log("warning: %s", msg[i].what);
	if (bi->ram.n == 0)
		rt_log("warning: no RAM known: malloc() will return NULL");
}

/*
 * Boot stages: the TSC as each ends, for the command-line option
 * "rt.bootstages", which prints them before rt_main() (bench/boot reads
 * them).  A stamp is three instructions, cheap enough to keep.  The
 * first stage, from the first instruction to long mode, is pvh.S's.
 */
enum { ST_ENTRY, ST_TRAPS, ST_PLATFORM, ST_BOOTINFO, ST_CLOCK, ST_MEMORY,
    ST_INFO, ST_N };
static const char *const stage_name[ST_N] = { "entry", "traps",
    "platform", "bootinfo", "clock", "memory", "info" };
static uint32_t stage_lo[ST_N], stage_hi[ST_N];

#define STAMP(i) __asm__ volatile("rdtsc; movl %%eax, %0; movl %%edx, %1" \
    : "=m"(stage_lo[i]), "=m"(stage_hi[i]) : : "eax", "edx")

static uint64_t
stage_tsc(unsigned i)
{
	return i == ST_ENTRY ? rt_boot_tsc_long :
	    (uint64_t)stage_hi[i] << 32 | stage_lo[i];
}

int
cmdline_has_word(const char *cmdline, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = cmdline; (p = strstr(p, word)) != NULL; p += n)
		if ((p == cmdline || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
	return 0;
}

static void
print_stages(void)
{
	uint64_t prev = rt_boot_tsc, ns;
	unsigned i;

	for (i = 0; i < ST_N; i++) {
		ns = clock_tsc_to_ns(stage_tsc(i) - prev);
		rt_log("boot stage %-9s %6llu.%llu us", stage_name[i],
		    (unsigned long long)(ns / 1000),
		    (unsigned long long)(ns % 1000 / 100));
		prev = stage_tsc(i);
	}
	ns = clock_tsc_to_ns(prev - rt_boot_tsc);
	rt_log("boot stage %-9s %6llu.%llu us", "total",
	    (unsigned long long)(ns / 1000),
	    (unsigned long long)(ns % 1000 / 100));
}

void
rt_boot(uint32_t si_paddr)
{
	static struct rt_bootinfo bi;
	static struct rt_info info;
	int parsed;

	arch_init_traps();
	STAMP(ST_TRAPS);
	platform_detect();
	STAMP(ST_PLATFORM);
	parsed = rt_bootinfo_parse(&rt_guest_mem, si_paddr, IDENTITY_LIMIT,
	    &bi);
	if (rt_platform.id == RT_PLATFORM_XEN)
		rt_platform.xen_up = xen_init(rt_platform.leaf, parsed == 0 ?
		    (const struct hvm_start_info *)(uintptr_t)si_paddr :
		    NULL) == 0;
	report_problems(parsed, &bi);
	STAMP(ST_BOOTINFO);
	clock_init();
	STAMP(ST_CLOCK);
	acpi_init(bi.rsdp_paddr);
	memory_init(&bi);
	apic_init();
	STAMP(ST_MEMORY);

	info.platform = rt_platform.name;
	info.cmdline = bi.cmdline;
	if (bi.has_module) {
		info.module = bi.module_size > 0 ?
		    (const void *)(uintptr_t)bi.module_paddr : "";
		info.module_size = bi.module_size;
	}
	info.module_cmdline = bi.module_cmdline;
	info.clock = clock_source();
	info.timer = apic_timer_mode();
	info.heap_free = memory_heap_free();
	STAMP(ST_INFO);
	if (clock_tsc_hz() != 0)
		info.boot_ns = clock_tsc_to_ns(stage_tsc(ST_INFO) -
		    rt_boot_tsc);
	if (cmdline_has_word(bi.cmdline, "rt.bootstages"))
		print_stages();
	rt_exit(rt_main(&info));
}
