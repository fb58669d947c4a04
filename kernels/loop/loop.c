/*
 * loop.c - a kernel that never exits: a timer prints a heartbeat line
 * every second, with the monotonic and wall-clock times, while the CPU is
 * halted in between.  For the tests of a guest that must be stopped from
 * outside.  "beats=N" on the command line makes it exit after N beats.
 */
#include <stdlib.h>
#include <string.h>

#include "rt.h"

static struct rt_timer beat;
static uint64_t next_beat;
static unsigned long beats, max_beats;

static void
heartbeat(struct rt_timer *t, void *arg)
{
	uint64_t wall = rt_time_wall_ns();

	(void)arg;
	beats++;
	rt_printf("loop: heartbeat %lu at %llu ms, wall clock %llu s\n", beats,
	    (unsigned long long)(rt_time_monotonic_ns() / RT_NSEC_PER_MSEC),
	    (unsigned long long)(wall / RT_NSEC_PER_SEC));
	if (max_beats != 0 && beats >= max_beats)
		return;
	/* From the last deadline, not from now: no drift, however late
	 * the callback runs. */
	next_beat += RT_NSEC_PER_SEC;
	rt_timer_set(t, next_beat, heartbeat, NULL);
}

int
rt_main(const struct rt_info *info)
{
	const char *p = strstr(info->cmdline, "beats=");

	if (p != NULL)
		max_beats = strtoul(p + 6, NULL, 10);
	next_beat = rt_time_monotonic_ns();
	rt_printf("loop: started on %s at %llu ms\n", info->platform,
	    (unsigned long long)(next_beat / RT_NSEC_PER_MSEC));
	next_beat += RT_NSEC_PER_SEC;
	rt_timer_set(&beat, next_beat, heartbeat, NULL);
	rt_run();
	rt_printf("loop: %lu beats, done\n", beats);
	return 0;
}
