/*
 * stdlib.h - number parsing (runtime/libc/strtol.c) and the heap, for
 * code built freestanding.
 *
 * The strtol family follows ISO C: clamped results and errno ERANGE on
 * overflow, (*end) at the first unused byte or at (s) when there are no
 * digits (rtlibc.h).  malloc, calloc, realloc and free are the runtime
 * core's heap (docs/runtime.md); they return NULL when memory is short
 * or a size computation would overflow.  There is no exit(): kernels
 * return from main or call the runtime's exit.
 */
#ifndef RTL_STDLIB_H
#define RTL_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS	0
#define EXIT_FAILURE	1

long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
int abs(int v);
long labs(long v);
long long llabs(long long v);

void *malloc(size_t size) __attribute__((malloc, alloc_size(1)));
void *calloc(size_t n, size_t size) __attribute__((malloc, alloc_size(1, 2)));
void *realloc(void *p, size_t size) __attribute__((alloc_size(2)));
void free(void *p);

#endif
