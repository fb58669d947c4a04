/*
 * ustar.h - a deterministic POSIX ustar writer and a strict reader.
 *
 * The reader works on a buffer (an mmap'd image, or fuzzer input) and never
 * copies data: entries are described by their offset and size in that
 * buffer.  It accepts what the image format needs and nothing more: regular
 * files with short relative names, in POSIX ustar ("ustar\0" "00") or GNU
 * ("ustar  \0") headers, followed by the two zero end-of-archive blocks and
 * optionally more zero padding (GNU tar pads to 10240-byte records).
 *
 * Errors follow err.h.  Codes, each for one way an archive can be wrong:
 *   ustar_truncated          a header or data runs past the end of the
 *                            buffer, or the end-of-archive blocks are missing
 *   ustar_bad_magic          a header is neither POSIX ustar nor GNU tar
 *   ustar_bad_checksum       a header's checksum does not match
 *   ustar_bad_octal          a numeric field is not octal digits (GNU
 *                            base-256 numbers included)
 *   ustar_bad_header         another malformed header (e.g. an empty name)
 *   ustar_unsupported_header pax ('x', 'g') or GNU ('L', 'K', 'S', ...)
 *                            extension headers
 *   ustar_hardlink           a hard link entry
 *   ustar_symlink            a symbolic link entry
 *   ustar_not_regular        a directory, device, fifo or other non-file
 *   ustar_absolute_path      a name starting with '/'
 *   ustar_path_traversal     a name with a ".." component
 *   ustar_bad_padding        non-zero bytes between an entry's data and
 *                            the next block
 *   ustar_duplicate_entry    two entries with the same name (ustar_parse)
 *   ustar_too_many_entries   more entries than the caller allows (ustar_parse)
 *   ustar_trailing_garbage   non-zero bytes after the end-of-archive blocks
 * The writer fails with "invalid_argument" (name too long or empty, size
 * over the ustar limit) and "io_error".
 */
#ifndef IMAGE_FORMAT_USTAR_H
#define IMAGE_FORMAT_USTAR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define USTAR_BLOCK 512
#define USTAR_NAME_MAX 100	/* the name field; prefixes are never written */
#define USTAR_PATH_MAX 257	/* prefix '/' name NUL, read side */
#define USTAR_SIZE_MAX 077777777777ULL	/* 11 octal digits: 8 GiB - 1 */

struct ustar_entry {
	char name[USTAR_PATH_MAX];	/* NUL-terminated, validated */
	uint64_t hdr_offset;	/* of the header block in the buffer */
	uint64_t offset;	/* of the data in the buffer */
	uint64_t size;		/* of the data; the data lies inside the buffer */
};

/* A cursor over an archive in memory.  Fill it with ustar_reader_init(); it
 * holds no resources, and (buf) must outlive it. */
struct ustar_reader {
	const unsigned char *buf;
	size_t len;
	size_t pos;
	int done;
};

void ustar_reader_init(struct ustar_reader *r, const void *buf, size_t len);

/*
 * Reads the next entry into (ent).  Returns 1 with an entry, 0 at a valid end
 * of archive (after checking that only zeros follow), -1 on error.  After 0
 * or -1, further calls return the same without reading.
 */
int ustar_next(struct ustar_reader *r, struct ustar_entry *ent,
    struct err *e);

/*
 * Reads the whole archive in (buf, len) into (ents), which holds (max)
 * entries; their number goes to (*n).  Refuses duplicate names and more than
 * (max) entries, besides everything ustar_next() refuses.
 */
int ustar_parse(const void *buf, size_t len, struct ustar_entry *ents,
    size_t max, size_t *n, struct err *e);

/*
 * Fills (hdr) with the header of a regular file (name) of (size) bytes as
 * this project writes every entry: mode 0644, uid and gid 0, owner and group
 * "root", mtime 0, POSIX ustar magic.  (name) must be 1 to USTAR_NAME_MAX - 1
 * bytes.
 */
int ustar_header(unsigned char hdr[USTAR_BLOCK], const char *name,
    uint64_t size, struct err *e);

/* Bytes of zero padding that follow (size) bytes of data. */
size_t ustar_padding(uint64_t size);

/* Writes the header for (name, size) to (fd).  The caller then writes
 * exactly (size) bytes of data and ustar_write_padding(fd, size). */
int ustar_write_header(int fd, const char *name, uint64_t size,
    struct err *e);

int ustar_write_padding(int fd, uint64_t size, struct err *e);

/* Writes the end of archive: two zero blocks. */
int ustar_write_end(int fd, struct err *e);

#endif
