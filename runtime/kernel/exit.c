/*
 * exit.c - how the guest ends: the exit and crash protocol of
 * docs/runtime.md (console trailer, then whatever the platform offers to
 * tell the host), rt_panic(), and the libc's assertion hook.
 */
#include <stdarg.h>

#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "../libc/rtlibc.h"
#include "kernel.h"
#include "platform.h"

#define DEBUG_EXIT_PORT	0xf4	/* QEMU isa-debug-exit: status 2 * v + 1 */
#define DEBUG_EXIT_MAX	126	/* 127 (status 255) means a crash */
#define DEBUG_EXIT_CRASH 127
#define PVPANIC_PORT	0x505
#define PVPANIC_PANICKED 1

#define TRACE_MAX	32

static int crashing;

void
rt_exit(int code)
{
	code &= 0xff;
	irq_disable();
	rt_printf("=== rt: exit %d ===\n", code);
	if (rt_platform.id == RT_PLATFORM_XEN) {
		xen_shutdown(0);
	} else {
		serial_flush();
		outl(DEBUG_EXIT_PORT, (uint32_t)(code < DEBUG_EXIT_MAX ? code :
		    DEBUG_EXIT_MAX));
		acpi_poweroff();
	}
	cpu_halt_forever();
}

int
crash_begin(void)
{
	irq_disable();
	return crashing++ > 0;
}

void
crash_end(const char *reason)
{
	rt_printf("=== rt: crash (%s) ===\n", reason);
	if (rt_platform.id == RT_PLATFORM_XEN) {
		xen_shutdown(1);
	} else {
		serial_flush();
		/* pvpanic first: debug-exit ends QEMU on the spot. */
		outb(PVPANIC_PORT, PVPANIC_PANICKED);
		outl(DEBUG_EXIT_PORT, DEBUG_EXIT_CRASH);
	}
	cpu_halt_forever();
}

/* 1 when [p, p + 16) is on one of the runtime's stacks. */
static int
on_stack(uint64_t p)
{
	uintptr_t lo = (uintptr_t)_rt_stack_bottom;
	uintptr_t hi = (uintptr_t)_rt_stack_top;
	uintptr_t ist_lo = (uintptr_t)_rt_ist_bottom;
	uintptr_t ist_hi = (uintptr_t)_rt_ist_top;

	return (p >= lo && p + 16 <= hi) || (p >= ist_lo && p + 16 <= ist_hi);
}

static void
print_same(unsigned n, uint64_t pc)
{
	rt_printf("rt:   (%u more frames of %#lx)\n", n, (unsigned long)pc);
}

/*
 * Prints (pc) unless 0, then follows the frame-pointer chain from (rbp):
 * each frame holds the caller's rbp, then the return address.  Only
 * frames on a runtime stack and moving up it are followed, so a corrupt
 * chain ends the trace instead of faulting again.
 */
void
crash_backtrace(uint64_t pc, uint64_t rbp)
{
	const uint64_t *frame;
	uint64_t last = 0;
	unsigned i, same = 0;

	rt_printf("rt: stack trace (addr2line -e KERNEL.elf):\n");
	if (pc != 0)
		rt_printf("rt:   %#lx\n", (unsigned long)pc);
	for (i = 0; rbp != 0; i++) {
		if ((rbp & 7) != 0 || !on_stack(rbp)) {
			rt_printf("rt:   (frame pointer %#lx is off the "
			    "stack)\n", (unsigned long)rbp);
			break;
		}
		frame = (const uint64_t *)(uintptr_t)rbp;
		if (frame[1] == 0)
			break;
		/* A recursion prints once, with a count. */
		if (frame[1] == last) {
			same++;
		} else if (i < TRACE_MAX) {
			if (same > 0)
				print_same(same, last);
			same = 0;
			last = frame[1];
			rt_printf("rt:   %#lx\n", (unsigned long)last);
		}
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
	if (same > 0)
		print_same(same, last);
	if (i > TRACE_MAX)
		rt_printf("rt:   (%u frames in all)\n", i);
}

void
rt_panic(const char *fmt, ...)
{
	va_list ap;

	if (!crash_begin()) {
		rt_printf("rt: panic: ");
		va_start(ap, fmt);
		console_vprintf(fmt, ap);
		va_end(ap);
		rt_printf("\n");
		crash_backtrace(0, (uintptr_t)__builtin_frame_address(0));
	}
	crash_end("panic");
}

void
rtl_assert_fail(const char *expr, const char *file, int line,
    const char *func)
{
	if (!crash_begin()) {
		rt_printf("rt: assertion failed: %s, in %s at %s:%d\n", expr,
		    func, file, line);
		crash_backtrace(0, (uintptr_t)__builtin_frame_address(0));
	}
	crash_end("assert");
}
