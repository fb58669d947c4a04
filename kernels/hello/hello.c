/*
 * hello.c - the runtime's example kernel: it greets, names its platform,
 * shows its command line and the size (and byte sum) of its boot module,
 * and exits with the code the command line gives as "exit=N" (0 without
 * one), so that tests can see the code reach the host.
 */
#include <stdlib.h>
#include <string.h>

#include "rt.h"

/* The value of "exit=N" as a whole word of (cmdline): 0..255, else -1. */
static int
exit_code(const char *cmdline)
{
	const char *p;
	char *end;
	long v;

	for (p = cmdline; (p = strstr(p, "exit=")) != NULL; p += 5) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		v = strtol(p + 5, &end, 10);
		if (end == p + 5 || (*end != '\0' && *end != ' ') || v < 0 ||
		    v > 255)
			return -1;
		return (int)v;
	}
	return 0;
}

/* The sum of the module's bytes: shows it arrived whole, cheaply. */
static unsigned long
byte_sum(const unsigned char *p, size_t n)
{
	unsigned long sum = 0;

	while (n-- > 0)
		sum += *p++;
	return sum;
}

int
rt_main(const struct rt_info *info)
{
	int code = exit_code(info->cmdline);

	rt_printf("Hello, world! This is hello on %s.\n"
	    "hello: command line \"%s\"\n", info->platform, info->cmdline);
	if (info->module != NULL)
		rt_printf("hello: boot module of %zu bytes, byte sum %lu\n",
		    info->module_size, byte_sum(info->module,
		    info->module_size));
	else
		rt_printf("hello: no boot module\n");
	rt_printf("hello: booted in %llu us, %zu KiB free, clock %s, "
	    "timer %s\n", (unsigned long long)(info->boot_ns /
	    RT_NSEC_PER_USEC), info->heap_free / 1024, info->clock,
	    info->timer);
	if (code < 0) {
		rt_printf("hello: exit= wants a number from 0 to 255\n");
		code = 2;
	}
	return code;
}
