/*
 * assert.h - assert() for code built freestanding.  A failed assertion
 * calls rtl_assert_fail(), which the runtime core provides and which
 * reports a crash; with NDEBUG defined, assert() evaluates nothing.
 *
 * No include guard, as ISO C says: each inclusion redefines assert()
 * according to NDEBUG at that point.
 */
#include "../rtlibc.h"

#undef assert
#ifdef NDEBUG
#define assert(e)	((void)0)
#else
#define assert(e)	((e) ? (void)0 : \
	rtl_assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

#if !defined(static_assert) && __STDC_VERSION__ >= 201112L && \
    __STDC_VERSION__ < 202311L
#define static_assert	_Static_assert
#endif
