/*
 * site.c - the ustar index of site.h.
 *
 * A ustar header is a 512-byte block: name[100] at 0, mode, uid, gid,
 * size[12] at 124 and mtime[12] at 136 in octal, chksum[8] at 148 (the
 * sum of the header's bytes with the checksum field read as spaces),
 * typeflag at 156, magic "ustar" at 257, prefix[155] at 345.  Data
 * follows, padded to 512 bytes; two zero blocks end the archive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site.h"

#define BLOCK	512

/* Gives back what (s) holds and says why, naming the entry (name) when
 * there is one: every refusal of site_load() ends here. */
static int
fail(struct site *s, char *err, size_t errmax, const char *what,
    const char *name)
{
	site_free(s);
	snprintf(err, errmax, "%s%s%s", name[0] ? name : "",
	    name[0] ? ": " : "", what);
	return -1;
}

/* An octal field of (n) bytes: digits, then NULs or spaces. */
static int
octal(const uint8_t *f, size_t n, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	while (i < n && f[i] == ' ')
		i++;
	if (i == n || f[i] < '0' || f[i] > '7')
		return -1;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (*v >> 60)
			return -1;
		*v = *v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != '\0' && f[i] != ' ')
			return -1;
	return 0;
}

static int
zero_block(const uint8_t *b)
{
	for (size_t i = 0; i < BLOCK; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* Copies the NUL-padded field (f) of (n) bytes; -1 if not printable. */
static int
field(char *dst, const uint8_t *f, size_t n)
{
	size_t i;

	for (i = 0; i < n && f[i] != '\0'; i++) {
		if (f[i] < 0x20 || f[i] == 0x7f)
			return -1;
		dst[i] = (char)f[i];
	}
	dst[i] = '\0';
	return (int)i;
}

/* Builds the served name from prefix and name: no leading "./" or "/",
 * no empty, "." or ".." segment; a directory's trailing "/" is kept. */
static int
entry_name(char *out, const uint8_t *h)
{
	char name[101], prefix[156], full[SITE_NAME_MAX];
	const char *p;
	int nl, pl;

	if ((nl = field(name, h, 100)) < 0 ||
	    (pl = memcmp(h + 257, "ustar", 5) == 0 ?
	    field(prefix, h + 345, 155) : 0) < 0)
		return -1;
	if (pl > 0)
		snprintf(full, sizeof full, "%s/%s", prefix, name);
	else
		memcpy(full, name, (size_t)nl + 1);
	p = full;
	while (p[0] == '/' || (p[0] == '.' && p[1] == '/'))
		p += p[0] == '/' ? 1 : 2;
	for (const char *seg = p; *seg != '\0';) {
		size_t n = strcspn(seg, "/");

		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.') ||
		    (n == 0 && seg[n] == '/'))
			return -1;
		seg += n + (seg[n] == '/');
	}
	memmove(out, p, strlen(p) + 1);
	return 0;
}

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int
index_files(struct site *s)
{
	size_t want = 16;

	while (want < s->nfiles * 2)
		want <<= 1;
	s->slots = calloc(want, sizeof(*s->slots));
	if (s->slots == NULL)
		return -1;
	s->nslots = want;
	for (size_t i = 0; i < s->nfiles; i++) {
		const char *n = s->files[i].name;
		size_t j = hash(n, strlen(n)) & (want - 1);

		while (s->slots[j] != 0) {
			/* A later entry of the same name replaces the
			 * earlier one, as tar's extraction would. */
			if (strcmp(s->files[s->slots[j] - 1].name, n) == 0)
				break;
			j = (j + 1) & (want - 1);
		}
		s->slots[j] = (uint32_t)i + 1;
	}
	return 0;
}

int
site_load(struct site *s, const void *tar, size_t len, char *err,
    size_t errmax)
{
	const uint8_t *a = tar;
	size_t off = 0, cap = 0;
	char name[SITE_NAME_MAX];

	memset(s, 0, sizeof(*s));
	for (;;) {
		const uint8_t *h = a + off;
		uint64_t size, mtime, sum, want = 0;

		name[0] = '\0';
		if (len - off < BLOCK) {
			return fail(s, err, errmax, "archive ends inside a "
			    "header (no end-of-archive blocks)", "");
		}
		if (zero_block(h))
			break;
		if (entry_name(name, h) < 0) {
			return fail(s, err, errmax, "bad file name (not "
			    "printable, or a \".\", \"..\" or empty segment)",
			    "");
		}
		if (octal(h + 148, 8, &sum) < 0) {
			return fail(s, err, errmax, "bad header checksum field",
			    name);
		}
		for (size_t i = 0; i < BLOCK; i++)
			want += i >= 148 && i < 156 ? ' ' : h[i];
		if (want != sum) {
			return fail(s, err, errmax, "header checksum mismatch",
			    name);
		}
		if (octal(h + 124, 12, &size) < 0 ||
		    octal(h + 136, 12, &mtime) < 0) {
			return fail(s, err, errmax, "bad size or mtime field",
			    name);
		}
		off += BLOCK;
		if (size > len - off) {
			return fail(s, err, errmax, "file data runs past the "
			    "end of the archive", name);
		}
		switch (h[156]) {
		case '0':
		case '\0':
			if (name[0] == '\0' || name[strlen(name) - 1] == '/') {
				return fail(s, err, errmax, "a regular file "
				    "named as a directory", name);
			}
			if (s->nfiles == SITE_FILES_MAX) {
				return fail(s, err, errmax, "too many files",
				    "");
			}
			if (s->nfiles == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct site_file *f = realloc(s->files,
				    ncap * sizeof(*f));

				if (f == NULL) {
					return fail(s, err, errmax,
					    "out of memory", "");
				}
				s->files = f;
				cap = ncap;
			}
			memcpy(s->files[s->nfiles].name, name,
			    strlen(name) + 1);
			s->files[s->nfiles].data = a + off;
			s->files[s->nfiles].size = (size_t)size;
			s->files[s->nfiles].mtime = mtime;
			s->nfiles++;
			s->bytes += size;
			break;
		case '5':
			break;
		default:
			return fail(s, err, errmax, "not a regular file nor a "
			    "directory (links, devices, pax and GNU headers "
			    "are refused)", name);
		}
		/* Data is padded to whole blocks; the padding may be
		 * missing only at the very end, which the next header
		 * check refuses. */
		size = (size + BLOCK - 1) / BLOCK * BLOCK;
		off = size > len - off ? len : off + (size_t)size;
	}
	if (index_files(s) < 0) {
		return fail(s, err, errmax, "out of memory", "");
	}
	return 0;
}

void
site_free(struct site *s)
{
	free(s->files);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

const struct site_file *
site_find(const struct site *s, const char *name, size_t len)
{
	size_t j;

	if (s->nslots == 0)
		return NULL;
	j = hash(name, len) & (s->nslots - 1);
	while (s->slots[j] != 0) {
		const struct site_file *f = &s->files[s->slots[j] - 1];

		if (strncmp(f->name, name, len) == 0 && f->name[len] == '\0')
			return f;
		j = (j + 1) & (s->nslots - 1);
	}
	return NULL;
}
