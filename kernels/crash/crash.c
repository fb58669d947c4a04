/*
 * crash.c - a kernel that crashes on purpose, for the tests of the crash
 * report and of how hosts see a crash.  "crash=HOW" on the command line
 * picks the way (default: pf):
 *   pf      write to an unmapped address (a page fault)
 *   ud      an invalid instruction
 *   stack   unbounded recursion into the stack guard page
 *   panic   rt_panic()
 *   assert  a failed assert()
 *   free    free() of a pointer malloc() never returned
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

/* Volatile, so that the compiler neither sees through the bad address nor
 * proves the recursion endless (it would warn about both). */
static volatile uintptr_t bad_address = 0x10;
static volatile int depth_max = 1 << 30;

/* Each call keeps a frame alive and its buffer in use, so the compiler can
 * neither turn the recursion into a loop nor drop the buffer. */
__attribute__((noinline)) static int
recurse(volatile char *prev, int depth)
{
	volatile char buf[256];

	if (depth > depth_max)
		return 0;
	buf[0] = (char)depth;
	buf[255] = prev != NULL ? prev[0] : 0;
	return recurse(buf, depth + 1) + buf[255];
}

static const char *
how(const char *cmdline)
{
	const char *p = strstr(cmdline, "crash=");

	return p != NULL ? p + 6 : "pf";
}

static int
is(const char *how_, const char *name)
{
	size_t n = strlen(name);

	return strncmp(how_, name, n) == 0 &&
	    (how_[n] == '\0' || how_[n] == ' ');
}

int
rt_main(const struct rt_info *info)
{
	const char *h = how(info->cmdline);
	int x = 1;

	rt_printf("crash: crashing on purpose (%.10s) on %s\n", h,
	    info->platform);
	if (is(h, "ud"))
		__builtin_trap();
	if (is(h, "stack"))
		return recurse(NULL, 0);
	if (is(h, "panic"))
		rt_panic("on purpose, x = %d", x);
	if (is(h, "assert"))
		assert(x == 2);
	if (is(h, "free"))
		free(&x);
	*(volatile int *)bad_address = 42;
	return 0;
}
