#!/bin/sh
# The runtime libc builds freestanding: no host headers (-nostdinc), no
# SSE or x87, with the tree's warnings as errors, at -O0, -O2 and -Os,
# with $CC and with gcc and clang where installed.  Together its objects
# need nothing from outside (a loop the optimiser turned into a call to
# memset would show here), and a kernel-like file using every public
# header needs only the hooks the runtime core provides.
. "$top_srcdir/tests/lib.sh"

libc=$top_srcdir/runtime/libc
srcs="string.c format.c strtol.c ctype.c errno.c aliases.c"
warn="-Wall -Wextra -Wshadow -Wimplicit-fallthrough -Wformat=2
	-Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wcast-align
	-Wwrite-strings -Wundef -Wvla -Wnull-dereference -Wdouble-promotion
	-Werror"
# What the core must define: the assert hook and the heap.
hooks="calloc free malloc realloc rtl_assert_fail"

# A kernel's view: every header, every function, and code for which the
# compiler emits memcpy and memset calls of its own.
cat >"$TMP/user.c" <<'EOF'
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct big {
	char	b[512];
};

int user(struct big *out, const struct big *in, char **argv);

int
user(struct big *out, const struct big *in, char **argv)
{
	struct big zero = { { 0 } };
	char buf[64], *save, *t;
	long n;
	int r = 0;

	*out = *in;
	if (argv[0] == NULL)
		*out = zero;
	errno = 0;
	n = strtol(argv[1], NULL, 0);
	if (errno == ERANGE || n > INT_MAX)
		return -1;
	r += (int)strtoul(argv[1], NULL, 10) + (int)strtoll(argv[1], NULL, 8) +
	    (int)strtoull(argv[1], NULL, 16) + abs(r) + (int)labs(n) +
	    (int)llabs(n);
	r += snprintf(buf, sizeof(buf), "%s=%ld %p", argv[0], n, (void *)buf);
	for (t = strtok_r(buf, " =", &save); t != NULL;
	    t = strtok_r(NULL, " =", &save))
		r += (int)strlen(t) + (int)strnlen(t, 3);
	r += memcmp(in->b, out->b, 8) + strcmp(argv[0], argv[1]) +
	    strncmp(argv[0], argv[1], 2);
	r += memchr(in->b, 'x', 9) != NULL;
	r += strchr(argv[0], '=') != NULL;
	r += strrchr(argv[0], '=') != NULL;
	r += strstr(argv[0], "ab") != NULL;
	r += (int)strspn(argv[0], "abc") + (int)strcspn(argv[0], "xyz");
	r += (int)strlcpy(out->b, argv[0], 8) + (int)strlcat(out->b, "!", 8);
	memmove(out->b + 1, out->b, 16);
	memset(out->b, 0, 4);
	memcpy(out->b, in->b, 3);
	r += isalnum(r) + isalpha(r) + iscntrl(r) + isdigit(r) + isgraph(r) +
	    islower(r) + isprint(r) + ispunct(r) + isspace(r) + isupper(r) +
	    isxdigit(r) + tolower(r) + toupper(r);
	free(realloc(calloc(2, 3), 9));
	free(malloc(4));
	assert(r != 7);
	return r;
}

static int
vsum(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
vsum(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}

int user2(void);

int
user2(void)
{
	char b[8];

	return vsum(b, sizeof(b), "%d", 1);
}
EOF

undefined() {	# undefined OBJECT: its undefined symbols, one line
	nm -u "$1" | awk '{ print $NF }' | sort | tr '\n' ' ' | sed 's/ $//'
}

seen=""
for cc in "${CC:-cc}" gcc clang; do
	command -v "${cc%% *}" >/dev/null 2>&1 || continue
	# The same compiler under two names is tried once.
	id=$($cc --version 2>/dev/null | head -1)
	case "$seen" in *"|$id|"*) continue ;; esac
	seen="$seen|$id|"
	inc=$($cc -print-file-name=include)
	nofp=-mgeneral-regs-only
	$cc $nofp -x c -c -o /dev/null /dev/null 2>/dev/null ||
		nofp="-mno-sse -mno-mmx -mno-80387"
	for opt in -O0 -O2 -Os; do
		flags="-std=gnu11 $opt -m64 -ffreestanding -nostdinc -isystem $inc
			-I$libc/include -fno-stack-protector -mno-red-zone $nofp
			-fno-pic $warn"
		dir=$TMP/${cc%% *}$opt
		mkdir -p "$dir"
		for f in $srcs; do
			ok "${cc%% *} $opt: $f builds freestanding, no warnings" \
				$cc $flags -c "$libc/$f" -o "$dir/${f%.c}.o"
		done
		ok "${cc%% *} $opt: a kernel's use of the headers builds" \
			$cc $flags -c "$TMP/user.c" -o "$dir/user.o"
		(cd "$dir" && ld -r -o libc.o string.o format.o strtol.o \
			ctype.o errno.o aliases.o && ld -r -o all.o libc.o user.o) \
			>/dev/null 2>&1
		is "${cc%% *} $opt: the libc needs nothing from outside" \
			"$(undefined "$dir/libc.o")" ""
		is "${cc%% *} $opt: with a kernel, only the core's hooks" \
			"$(undefined "$dir/all.o")" "$hooks"
	done
done
done_testing
