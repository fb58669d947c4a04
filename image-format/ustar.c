#include "config.h"

#include <string.h>

#include "fileio.h"
#include "ustar.h"

/* Field offsets and widths of a ustar header block (POSIX.1-1988). */
#define H_NAME 0
#define H_NAME_LEN 100
#define H_MODE 100
#define H_UID 108
#define H_GID 116
#define H_SIZE 124
#define H_MTIME 136
#define H_CHKSUM 148
#define H_TYPE 156
#define H_MAGIC 257
#define H_UNAME 265
#define H_GNAME 297
#define H_DEVMAJOR 329
#define H_DEVMINOR 337
#define H_PREFIX 345
#define H_PREFIX_LEN 155

#define H_ID_LEN 8 /* magic and version, compared together */
static const char magic_posix[H_ID_LEN] = { 'u', 's', 't', 'a', 'r', '\0',
	'0', '0' };
static const char magic_gnu[H_ID_LEN] = { 'u', 's', 't', 'a', 'r', ' ', ' ',
	'\0' };

static int
is_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/*
 * Octal digits, optionally led by spaces and ended by NUL or space, as
 * POSIX writes them.  GNU's base-256 form (high bit set) is refused: no
 * field of an entry we accept needs it.
 */
static int
parse_octal(const unsigned char *f, size_t w, const char *what,
    uint64_t *out, struct err *e)
{
	size_t i = 0, digits = 0;
	uint64_t v = 0;

	while (i < w && f[i] == ' ')
		i++;
	for (; i < w && f[i] >= '0' && f[i] <= '7'; i++, digits++)
		v = v << 3 | (uint64_t)(f[i] - '0');
	for (; i < w; i++)
		if (f[i] != '\0' && f[i] != ' ')
			break;
	if (digits == 0 || i != w)
		return err_set(e, "ustar_bad_octal",
		    "header field '%s' is not an octal number", what);
	*out = v;
	return 0;
}

static unsigned long
header_sum(const unsigned char *h)
{
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i < USTAR_BLOCK; i++)
		sum += i >= H_CHKSUM && i < H_CHKSUM + 8 ? ' ' : h[i];
	return sum;
}

static int
check_numbers(const unsigned char *h, uint64_t *size, struct err *e)
{
	static const struct {
		size_t off, len;
		const char *name;
	} f[] = {
		{ H_MODE, 8, "mode" },
		{ H_UID, 8, "uid" },
		{ H_GID, 8, "gid" },
		{ H_MTIME, 12, "mtime" },
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (parse_octal(h + f[i].off, f[i].len, f[i].name, &v, e) == -1)
			return -1;
	return parse_octal(h + H_SIZE, 12, "size", size, e);
}

static int
check_type(unsigned char t, const char *name, struct err *e)
{
	if (t == '0' || t == '\0')
		return 0;
	if (t == '1')
		return err_set(e, "ustar_hardlink", "%s: is a hard link", name);
	if (t == '2')
		return err_set(e, "ustar_symlink", "%s: is a symbolic link", name);
	if (t == 'x' || t == 'g')
		return err_set(e, "ustar_unsupported_header",
		    "%s: pax extended header ('%c') not supported", name, t);
	if (t >= 'A' && t <= 'Z')
		return err_set(e, "ustar_unsupported_header",
		    "%s: GNU/vendor extension header ('%c') not supported%s",
		    name, t, t == 'L' || t == 'K' ? " (long name)" : "");
	return err_set(e, "ustar_not_regular",
	    "%s: not a regular file (type '%c')", name,
	    t >= ' ' && t < 0x7f ? t : '?');
}

/* Copies a field that is NUL-terminated unless it fills its whole width. */
static size_t
field_str(const unsigned char *f, size_t w, char *out)
{
	size_t n = 0;

	while (n < w && f[n] != '\0') {
		out[n] = (char)f[n];
		n++;
	}
	out[n] = '\0';
	return n;
}

static int
read_name(const unsigned char *h, int posix, char name[USTAR_PATH_MAX],
    struct err *e)
{
	char part[H_NAME_LEN + 1];
	size_t n = 0;

	/* In GNU headers the prefix area holds other fields (atime...). */
	if (posix && h[H_PREFIX] != '\0') {
		n = field_str(h + H_PREFIX, H_PREFIX_LEN, name);
		name[n++] = '/';
	}
	field_str(h + H_NAME, H_NAME_LEN, part);
	memcpy(name + n, part, strlen(part) + 1);
	if (part[0] == '\0')
		return err_set(e, "ustar_bad_header", "entry with an empty name");
	return 0;
}

static int
check_name(const char *name, struct err *e)
{
	const char *p;

	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(e, "ustar_bad_header",
			    "entry name with a control character");
	if (name[0] == '/')
		return err_set(e, "ustar_absolute_path",
		    "%s: absolute entry name", name);
	for (p = name;; p++) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return err_set(e, "ustar_path_traversal",
			    "%s: entry name with a '..' component", name);
		if ((p = strchr(p, '/')) == NULL)
			return 0;
	}
}

static int
check_header(const unsigned char *h, struct ustar_entry *ent, struct err *e)
{
	uint64_t sum;
	int posix;

	posix = memcmp(h + H_MAGIC, magic_posix, H_ID_LEN) == 0;
	if (!posix && memcmp(h + H_MAGIC, magic_gnu, H_ID_LEN) != 0)
		return err_set(e, "ustar_bad_magic",
		    "header at offset %llu is not a ustar header",
		    (unsigned long long)ent->hdr_offset);
	if (parse_octal(h + H_CHKSUM, 8, "chksum", &sum, e) == -1)
		return -1;
	if (sum != header_sum(h))
		return err_set(e, "ustar_bad_checksum",
		    "header at offset %llu: bad checksum",
		    (unsigned long long)ent->hdr_offset);
	if (read_name(h, posix, ent->name, e) == -1 ||
	    check_name(ent->name, e) == -1 ||
	    check_type(h[H_TYPE], ent->name, e) == -1)
		return -1;
	if (check_numbers(h, &ent->size, e) == -1)
		return err_prefix(e, "%s", ent->name);
	return 0;
}

void
ustar_reader_init(struct ustar_reader *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->done = 0;
}

/* At a zero block: the second one must follow, then nothing but zeros. */
static int
read_end(struct ustar_reader *r, struct err *e)
{
	size_t pos = r->pos + USTAR_BLOCK;

	if (r->len - pos < USTAR_BLOCK)
		return err_set(e, "ustar_truncated",
		    "archive ends after one end-of-archive block");
	if (!is_zero(r->buf + pos, r->len - pos))
		return err_set(e, "ustar_trailing_garbage",
		    "non-zero data after the end-of-archive block at offset %zu",
		    r->pos);
	return 0;
}

static int
read_data(struct ustar_reader *r, struct ustar_entry *ent, struct err *e)
{
	size_t avail = r->len - r->pos - USTAR_BLOCK;
	size_t pad = ustar_padding(ent->size);

	if (ent->size > avail || pad > avail - ent->size)
		return err_set(e, "ustar_truncated",
		    "%s: %llu bytes of data run past the end of the archive",
		    ent->name, (unsigned long long)ent->size);
	ent->offset = r->pos + USTAR_BLOCK;
	if (!is_zero(r->buf + ent->offset + ent->size, pad))
		return err_set(e, "ustar_bad_padding",
		    "%s: non-zero padding after the data", ent->name);
	r->pos = (size_t)(ent->offset + ent->size + pad);
	return 0;
}

int
ustar_next(struct ustar_reader *r, struct ustar_entry *ent, struct err *e)
{
	const unsigned char *h;

	if (r->done)
		return r->done > 0 ? 0 : -1;
	r->done = -1;
	memset(ent, 0, sizeof(*ent));
	if (r->len - r->pos < USTAR_BLOCK)
		return err_set(e, "ustar_truncated",
		    r->pos == r->len ? "no end-of-archive blocks" :
		    "archive ends inside a header");
	h = r->buf + r->pos;
	if (is_zero(h, USTAR_BLOCK)) {
		if (read_end(r, e) == -1)
			return -1;
		r->done = 1;
		return 0;
	}
	ent->hdr_offset = r->pos;
	if (check_header(h, ent, e) == -1 || read_data(r, ent, e) == -1)
		return -1;
	r->done = 0;
	return 1;
}

int
ustar_parse(const void *buf, size_t len, struct ustar_entry *ents,
    size_t max, size_t *n, struct err *e)
{
	struct ustar_reader r;
	struct ustar_entry ent;
	size_t i;
	int rc;

	*n = 0;
	ustar_reader_init(&r, buf, len);
	while ((rc = ustar_next(&r, &ent, e)) == 1) {
		for (i = 0; i < *n; i++)
			if (strcmp(ents[i].name, ent.name) == 0)
				return err_set(e, "ustar_duplicate_entry",
				    "%s: appears twice in the archive", ent.name);
		if (*n == max)
			return err_set(e, "ustar_too_many_entries",
			    "more than %zu entries in the archive", max);
		ents[(*n)++] = ent;
	}
	return rc;
}

/* (w) - 1 octal digits and a NUL, as GNU tar writes ustar numbers. */
static void
put_octal(unsigned char *f, size_t w, uint64_t v)
{
	size_t i;

	f[w - 1] = '\0';
	for (i = w - 1; i > 0; i--, v >>= 3)
		f[i - 1] = (unsigned char)('0' + (v & 7));
}

int
ustar_header(unsigned char hdr[USTAR_BLOCK], const char *name, uint64_t size,
    struct err *e)
{
	size_t len = strlen(name);

	if (len == 0 || len >= USTAR_NAME_MAX)
		return err_set(e, ERR_INVALID, "entry name '%s': bad length",
		    name);
	if (size > USTAR_SIZE_MAX)
		return err_set(e, ERR_INVALID, "%s: too large for ustar", name);
	memset(hdr, 0, USTAR_BLOCK);
	memcpy(hdr + H_NAME, name, len);
	put_octal(hdr + H_MODE, 8, 0644);
	put_octal(hdr + H_UID, 8, 0);
	put_octal(hdr + H_GID, 8, 0);
	put_octal(hdr + H_SIZE, 12, size);
	put_octal(hdr + H_MTIME, 12, 0);
	hdr[H_TYPE] = '0';
	memcpy(hdr + H_MAGIC, magic_posix, H_ID_LEN);
	memcpy(hdr + H_UNAME, "root", 4);
	memcpy(hdr + H_GNAME, "root", 4);
	put_octal(hdr + H_DEVMAJOR, 8, 0);
	put_octal(hdr + H_DEVMINOR, 8, 0);
	/* Six digits, NUL, space: the historical layout every tar reads. */
	put_octal(hdr + H_CHKSUM, 7, header_sum(hdr));
	hdr[H_CHKSUM + 7] = ' ';
	return 0;
}

size_t
ustar_padding(uint64_t size)
{
	return (size_t)((USTAR_BLOCK - size % USTAR_BLOCK) % USTAR_BLOCK);
}

int
ustar_write_header(int fd, const char *name, uint64_t size, struct err *e)
{
	unsigned char hdr[USTAR_BLOCK];

	if (ustar_header(hdr, name, size, e) == -1)
		return -1;
	return fileio_write_all(fd, hdr, sizeof(hdr), e);
}

int
ustar_write_padding(int fd, uint64_t size, struct err *e)
{
	static const unsigned char zero[USTAR_BLOCK];

	return fileio_write_all(fd, zero, ustar_padding(size), e);
}

int
ustar_write_end(int fd, struct err *e)
{
	static const unsigned char zero[2 * USTAR_BLOCK];

	return fileio_write_all(fd, zero, sizeof(zero), e);
}
