/*
 * site.h - the files httpd serves: an index over a ustar archive (the
 * kernel's boot module), read in place.  Plain C over memory, built into
 * the kernel and, for the unit tests and the fuzzer, on the host.
 *
 * The archive is outside input: site_load() checks every header (its
 * checksum, octal fields, sizes within the archive, names) and refuses the
 * whole archive on the first bad one, naming it.  Regular files are
 * served; directories are implied by the files under them; pax headers
 * ("x", "g") and GNU long names ("L") are refused, as are links and
 * devices: make the archive with `tar --format=ustar` of plain files.
 */
#ifndef HTTPD_SITE_H
#define HTTPD_SITE_H

#include <stddef.h>
#include <stdint.h>

#define SITE_NAME_MAX	257	/* prefix (155) "/" name (100) NUL */
#define SITE_FILES_MAX	65536

struct site_file {
	char name[SITE_NAME_MAX];	/* "index.html", "css/site.css" */
	const uint8_t *data;
	size_t size;
	uint64_t mtime;			/* seconds since the epoch */
};

struct site {
	struct site_file *files;	/* malloc'ed */
	size_t nfiles;
	uint32_t *slots;		/* hash table: index + 1, 0 empty */
	size_t nslots;			/* a power of two */
	uint64_t bytes;			/* sum of the files' sizes */
};

/*
 * Indexes the archive (tar), (len) bytes.  Returns 0, or -1 with a
 * message in (err) ((errmax) bytes) naming the entry and what is wrong.
 * An empty archive (no files) is valid.
 */
int site_load(struct site *s, const void *tar, size_t len, char *err,
    size_t errmax);

/* Frees what site_load() allocated. */
void site_free(struct site *s);

/* The file named (name), (len) bytes (no leading "/"), or NULL. */
const struct site_file *site_find(const struct site *s, const char *name,
    size_t len);

#endif
