/*
 * timer.c - one-shot timers and the event loop (rt.h).
 *
 * Armed timers sit in one list sorted by deadline (equal deadlines in the
 * order they were set).  rt_poll() takes the timers due at its start off
 * that list, onto a "firing" list, and runs them; timers set meanwhile
 * wait for the next round, so a callback that re-arms itself for "now"
 * cannot keep rt_poll() from returning.  rt_timer_cancel() looks in both
 * lists, which is what keeps its promise for a timer that is due but has
 * not started yet.
 *
 * Interrupts only end the CPU's halt: the handler does nothing but the
 * EOI, so nothing here runs in interrupt context.
 */
#include "kernel.h"
#include "../arch/x86_64/cpu.h"

static struct rt_timer *armed;
static struct rt_timer *firing;
static struct rt_poll_source *sources;

/* Takes (t) out of (*list); 1 if it was there. */
static int
unlink_from(struct rt_timer **list, struct rt_timer *t)
{
	struct rt_timer **link;

	for (link = list; *link != NULL; link = &(*link)->rt_next) {
		if (*link == t) {
			*link = t->rt_next;
			t->rt_next = NULL;
			return 1;
		}
	}
	return 0;
}

int
rt_timer_set(struct rt_timer *t, uint64_t deadline, rt_timer_fn *fn,
    void *arg)
{
	struct rt_timer **link;

	if (t == NULL || fn == NULL || deadline == RT_TIME_INFINITY)
		return -RT_EINVAL;
	if (!unlink_from(&armed, t))
		unlink_from(&firing, t);
	t->rt_deadline = deadline;
	t->rt_fn = fn;
	t->rt_arg = arg;
	for (link = &armed; *link != NULL && (*link)->rt_deadline <= deadline;
	    link = &(*link)->rt_next)
		continue;
	t->rt_next = *link;
	*link = t;
	return 0;
}

int
rt_timer_cancel(struct rt_timer *t)
{
	if (t == NULL)
		return -RT_ENOENT;
	return unlink_from(&armed, t) || unlink_from(&firing, t) ? 0 :
	    -RT_ENOENT;
}

/* Runs the callbacks of the timers due now; returns how many ran. */
static int
run_due(void)
{
	struct rt_timer *t, **tail;
	uint64_t now = rt_time_monotonic_ns();
	int n = 0;

	/* Move the due prefix onto the end of the firing list: an
	 * rt_poll() nested in a callback finds the rest of its round
	 * there, and runs it. */
	if (armed != NULL && armed->rt_deadline <= now) {
		for (tail = &firing; *tail != NULL; tail = &(*tail)->rt_next)
			continue;
		*tail = armed;
		while (armed != NULL && armed->rt_deadline <= now) {
			tail = &armed->rt_next;
			armed = armed->rt_next;
		}
		*tail = NULL;
	}
	while ((t = firing) != NULL) {
		firing = t->rt_next;
		t->rt_next = NULL;
		t->rt_fn(t, t->rt_arg);
		n++;
	}
	return n;
}

void
timer_interrupt(void)
{
	/* Waking the CPU was the point; rt_poll() does the rest. */
}

void
rt_poll_source_add(struct rt_poll_source *s)
{
	s->next = sources;
	sources = s;
}

/*
 * Asks every source: how many have something for their owner, plus the
 * events the servicing ones handled.  (*next) becomes the earliest time a
 * servicing source wants to run again, and (*polled) whether any source
 * must be asked again without an interrupt.
 */
static int
sources_run(uint64_t *next, int *polled)
{
	struct rt_poll_source *s;
	uint64_t now = rt_time_monotonic_ns(), when;
	int n = 0;

	*next = RT_TIME_INFINITY;
	*polled = 0;
	for (s = sources; s != NULL; s = s->next) {
		if (s->polled)
			*polled = 1;
		if (s->service != NULL) {
			when = RT_TIME_INFINITY;
			n += s->service(s->arg, now, &when);
			if (when < *next)
				*next = when;
		} else if (s->ready(s->arg) != 0) {
			n++;
		}
	}
	return n;
}

int
rt_poll(uint64_t deadline)
{
	uint64_t next, now, snext;
	int n, polled;

	if ((n = run_due()) > 0)
		return n;
	for (;;) {
		if (sources != NULL && (n = sources_run(&snext, &polled)) > 0)
			return n + run_due();
		next = armed != NULL && armed->rt_deadline < deadline ?
		    armed->rt_deadline : deadline;
		if (sources != NULL && snext < next)
			next = snext;
		if ((now = rt_time_monotonic_ns()) >= next)
			break;
		/* Polled devices: wake up to ask them again. */
		if (sources != NULL && polled &&
		    next - now > RT_POLL_INTERVAL_NS)
			apic_timer_arm(now + RT_POLL_INTERVAL_NS);
		else
			apic_timer_arm(next);
		cpu_wait_irq();
	}
	n = run_due();
	if (sources != NULL)
		n += sources_run(&snext, &polled);
	return n;
}

void
rt_sleep_ns(uint64_t ns)
{
	uint64_t now = rt_time_monotonic_ns();
	uint64_t deadline = ns > RT_TIME_INFINITY - 1 - now ?
	    RT_TIME_INFINITY - 1 : now + ns;

	while (rt_time_monotonic_ns() < deadline)
		rt_poll(deadline);
}

/* 1 when a source does work of its own (a network stack is up). */
static int
sources_serviced(void)
{
	for (struct rt_poll_source *s = sources; s != NULL; s = s->next)
		if (s->service != NULL)
			return 1;
	return 0;
}

int
rt_run(void)
{
	while (armed != NULL || firing != NULL || sources_serviced())
		rt_poll(RT_TIME_INFINITY);
	return 0;
}
