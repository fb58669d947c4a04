/*
 * rt-libc-headers.c - the runtime libc's public headers compiled on the
 * host, where the host's own libc headers cannot be seen, for
 * test-rt-libc: their constants (compared there against the host's,
 * which are Linux's) and their assert().  This also checks that the
 * headers compile together without warnings.
 */
#include "../../runtime/libc/include/assert.h"
#include "../../runtime/libc/include/ctype.h"
#include "../../runtime/libc/include/errno.h"
#include "../../runtime/libc/include/limits.h"
#include "../../runtime/libc/include/stdio.h"
#include "../../runtime/libc/include/stdlib.h"
#include "../../runtime/libc/include/string.h"

#include "rt-libc-test.h"

const struct rt_libc_const rt_libc_errnos[] = {
	RT_LIBC_ERRNOS(RT_LIBC_CONST)
	{ NULL, 0, 0 }
};

const struct rt_libc_const rt_libc_limits[] = {
	RT_LIBC_LIMITS(RT_LIBC_CONST)
	{ NULL, 0, 0 }
};

int *
rt_libc_errno_address(void)
{
	return &errno;
}

static_assert(sizeof(long) == 8, "static_assert from assert.h");

int
rt_libc_assert_line(void)
{
	return __LINE__ + 6;	/* the assert() below */
}

void
rt_libc_assert_positive(int v)
{
	assert(v > 0);
}

#define NDEBUG
#include "../../runtime/libc/include/assert.h"

/* Under NDEBUG, assert() must not even evaluate its argument. */
void
rt_libc_assert_ndebug(int *counter)
{
	assert(++*counter < 0);
	(void)counter;
}
