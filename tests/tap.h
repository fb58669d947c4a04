/*
 * tap.h - a minimal TAP producer for the C unit tests (automake's
 * tap-driver.sh reads it).  Header-only: each test program includes it once.
 *
 *   ok(cond, "name %d", i);      one test point
 *   is_str(got, want, "name");   string equality, shows both on failure
 *   is_int(got, want, "name");
 *   return tap_done();           prints the plan, exit status 0/1
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

__attribute__((unused)) static int
is_str(const char *got, const char *want, const char *name)
{
	int cond = got != NULL && want != NULL ? strcmp(got, want) == 0 :
	    got == want;

	if (!ok(cond, "%s", name))
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return cond;
}

__attribute__((unused)) static int
is_int(long long got, long long want, const char *name)
{
	int cond = got == want;

	if (!ok(cond, "%s", name))
		printf("#   got:  %lld\n#   want: %lld\n", got, want);
	return cond;
}

__attribute__((format(printf, 1, 2), unused)) static void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

__attribute__((unused)) static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
