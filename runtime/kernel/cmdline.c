/*
 * cmdline.c - finding a word of the kernel command line (rt.h).
 */
#include <string.h>

#include "rt.h"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

const char *
rt_cmdline_get(const char *cmdline, const char *key)
{
	size_t n = strlen(key);
	const char *found = NULL;

	for (const char *p = cmdline; *p != '\0'; p++) {
		if (p != cmdline && !is_space(p[-1]))
			continue;
		if (strncmp(p, key, n) != 0)
			continue;
		if (p[n] == '=')
			found = p + n + 1;
		else if (p[n] == '\0' || is_space(p[n]))
			found = p + n;
	}
	return found;
}
