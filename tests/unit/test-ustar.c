/* test-ustar.c - the ustar writer's bytes and each refusal of the reader. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "tap.h"
#include "ustar.h"

struct ar {
	unsigned char buf[64 * 1024];
	size_t len;
};

static void
fix_sum(unsigned char *h)
{
	unsigned long sum = 0;
	size_t i;

	memset(h + 148, ' ', 8);
	for (i = 0; i < USTAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06lo", sum);
	h[155] = ' ';
}

/* Appends an entry; returns its header so tests can damage it. */
static unsigned char *
add(struct ar *a, const char *name, const char *data)
{
	unsigned char *h = a->buf + a->len;
	size_t n = strlen(data);

	if (ustar_header(h, name, n, NULL) == -1)
		abort();
	memcpy(h + USTAR_BLOCK, data, n);
	a->len += USTAR_BLOCK + n + ustar_padding(n);
	return h;
}

static void
finish(struct ar *a)
{
	memset(a->buf + a->len, 0, 2 * USTAR_BLOCK);
	a->len += 2 * USTAR_BLOCK;
}

static void
two(struct ar *a)
{
	memset(a, 0, sizeof(*a));
	add(a, "manifest.json", "{}\n");
	add(a, "kernel", "KERNEL DATA");
}

static const char *
parse_code(const struct ar *a)
{
	static struct err e;
	struct ustar_entry ents[8];
	size_t n;

	err_clear(&e);
	if (ustar_parse(a->buf, a->len, ents, 8, &n, &e) == 0)
		return "ok";
	return e.code;
}

static void
test_writer(void)
{
	unsigned char h[USTAR_BLOCK];
	struct err e;

	ok(ustar_header(h, "kernel", 5488, NULL) == 0, "header written");
	is_str((char *)h, "kernel", "name field");
	ok(memcmp(h + 100, "0000644\0", 8) == 0, "mode 0644");
	ok(memcmp(h + 108, "0000000\0" "0000000\0", 16) == 0, "uid/gid 0");
	ok(memcmp(h + 124, "00000012560\0", 12) == 0, "size in octal");
	ok(memcmp(h + 136, "00000000000\0", 12) == 0, "mtime 0");
	ok(h[156] == '0', "regular file type");
	ok(memcmp(h + 257, "ustar\0" "00", 8) == 0, "POSIX magic");
	is_str((char *)h + 265, "root", "uname root");
	is_str((char *)h + 297, "root", "gname root");
	ok(h[155] == ' ' && h[154] == '\0', "checksum layout");
	is_int((long long)ustar_padding(0), 0, "padding of 0");
	is_int((long long)ustar_padding(1), 511, "padding of 1");
	is_int((long long)ustar_padding(512), 0, "padding of 512");
	err_clear(&e);
	ok(ustar_header(h, "", 1, &e) == -1, "empty name refused");
	is_str(e.code, ERR_INVALID, "... invalid_argument");
	ok(ustar_header(h, "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789"
	    "01234567890123456789", 1, &e) == -1, "100-byte name refused");
	ok(ustar_header(h, "big", USTAR_SIZE_MAX + 1, &e) == -1,
	    "size over 8 GiB refused");
}

static void
test_fd_writer(void)
{
	char path[] = "/tmp/test-ustar.XXXXXX";
	struct ustar_entry ents[4];
	char *buf;
	size_t len, n;
	int fd;

	if ((fd = mkstemp(path)) == -1)
		abort();
	ok(ustar_write_header(fd, "a", 3, NULL) == 0 &&
	    write(fd, "abc", 3) == 3 && ustar_write_padding(fd, 3, NULL) == 0 &&
	    ustar_write_end(fd, NULL) == 0, "fd writer");
	close(fd);
	ok(fileio_read(path, 1 << 20, &buf, &len, NULL) == 0, "read back");
	is_int((long long)len, 4 * USTAR_BLOCK, "header, block, two ends");
	ok(ustar_parse(buf, len, ents, 4, &n, NULL) == 0 && n == 1 &&
	    ents[0].size == 3 && memcmp(buf + ents[0].offset, "abc", 3) == 0,
	    "fd-written archive parses");
	free(buf);
	unlink(path);
}

static void
test_roundtrip(void)
{
	struct ustar_reader r;
	struct ustar_entry ents[4], ent;
	struct ar a;
	size_t n;

	two(&a);
	finish(&a);
	ok(ustar_parse(a.buf, a.len, ents, 4, &n, NULL) == 0, "parses");
	is_int((long long)n, 2, "two entries");
	is_str(ents[0].name, "manifest.json", "first name");
	is_int((long long)ents[0].offset, 512, "first data offset");
	is_int((long long)ents[1].size, 11, "second size");
	ok(memcmp(a.buf + ents[1].offset, "KERNEL DATA", 11) == 0,
	    "second data");
	is_int((long long)ents[1].hdr_offset, 1024, "second header offset");
	ustar_reader_init(&r, a.buf, a.len);
	ok(ustar_next(&r, &ent, NULL) == 1 && ustar_next(&r, &ent, NULL) == 1 &&
	    ustar_next(&r, &ent, NULL) == 0 && ustar_next(&r, &ent, NULL) == 0,
	    "reader: two entries, then end, end again");
	/* GNU tar pads the archive to 10240-byte records with zeros. */
	memset(a.buf + a.len, 0, 10240 - a.len);
	a.len = 10240;
	is_str(parse_code(&a), "ok", "zero padding to a record accepted");
}

static void
test_gnu_and_prefix(void)
{
	struct ustar_entry ents[4];
	unsigned char *h;
	struct ar a;
	size_t n;

	memset(&a, 0, sizeof(a));
	h = add(&a, "kernel", "x");
	memcpy(h + 257, "ustar  \0", 8);
	memcpy(h + 345, "junk", 4);	/* GNU: atime, not a prefix */
	fix_sum(h);
	finish(&a);
	ok(ustar_parse(a.buf, a.len, ents, 4, &n, NULL) == 0 &&
	    strcmp(ents[0].name, "kernel") == 0, "GNU magic, prefix ignored");
	memset(&a, 0, sizeof(a));
	h = add(&a, "kernel", "x");
	memcpy(h + 345, "dir", 3);
	fix_sum(h);
	finish(&a);
	ok(ustar_parse(a.buf, a.len, ents, 4, &n, NULL) == 0 &&
	    strcmp(ents[0].name, "dir/kernel") == 0, "POSIX prefix joined");
	memset(&a, 0, sizeof(a));
	h = add(&a, "kernel", "x");
	memcpy(h + 124, "   1\0       ", 12);
	fix_sum(h);
	finish(&a);
	is_str(parse_code(&a), "ok", "size with leading spaces");
}

static void
expect_header(const char *what, size_t off, const void *bytes, size_t n,
    const char *code)
{
	unsigned char *h;
	struct ar a;

	memset(&a, 0, sizeof(a));
	add(&a, "manifest.json", "{}");
	h = add(&a, "kernel", "data");
	memcpy(h + off, bytes, n);
	if (off != 148)	/* damaging the checksum field itself */
		fix_sum(h);
	finish(&a);
	is_str(parse_code(&a), code, what);
}

static void
test_header_refusals(void)
{
	expect_header("hard link", 156, "1", 1, "ustar_hardlink");
	expect_header("symlink", 156, "2", 1, "ustar_symlink");
	expect_header("char device", 156, "3", 1, "ustar_not_regular");
	expect_header("block device", 156, "4", 1, "ustar_not_regular");
	expect_header("directory", 156, "5", 1, "ustar_not_regular");
	expect_header("fifo", 156, "6", 1, "ustar_not_regular");
	expect_header("pax header", 156, "x", 1, "ustar_unsupported_header");
	expect_header("pax global header", 156, "g", 1,
	    "ustar_unsupported_header");
	expect_header("GNU long name", 156, "L", 1, "ustar_unsupported_header");
	expect_header("GNU long link", 156, "K", 1, "ustar_unsupported_header");
	expect_header("absolute name", 0, "/kernel", 8, "ustar_absolute_path");
	expect_header("'..' name", 0, "..\0", 3, "ustar_path_traversal");
	expect_header("'../' name", 0, "../kernel", 10, "ustar_path_traversal");
	expect_header("'a/../b' name", 0, "a/../b\0", 7, "ustar_path_traversal");
	expect_header("'a/..' name", 0, "a/..\0", 5, "ustar_path_traversal");
	expect_header("'..a' is a name", 0, "..a\0\0\0", 6, "ok");
	expect_header("empty name", 0, "\0", 1, "ustar_bad_header");
	expect_header("control char in name", 0, "ker\nel", 6,
	    "ustar_bad_header");
	expect_header("bad magic", 257, "ustax", 5, "ustar_bad_magic");
	expect_header("bad version", 263, "01", 2, "ustar_bad_magic");
	expect_header("size not octal", 124, "0000000008\0", 11,
	    "ustar_bad_octal");
	expect_header("size empty", 124, "\0\0\0\0\0\0\0\0\0\0\0\0", 12,
	    "ustar_bad_octal");
	expect_header("size base-256", 124, "\x80\0\0\0\0\0\0\0\0\0\0\4", 12,
	    "ustar_bad_octal");
	expect_header("mode not octal", 100, "06x4\0", 5, "ustar_bad_octal");
	expect_header("uid garbage", 108, "abc", 3, "ustar_bad_octal");
	expect_header("mtime garbage after", 136, "0 1", 3, "ustar_bad_octal");
	expect_header("checksum field not octal", 148, "zz", 2,
	    "ustar_bad_octal");
}

static void
test_archive_refusals(void)
{
	unsigned char *h;
	struct ar a;

	two(&a);
	h = a.buf + 512 + 512;
	h[0] = 'K';	/* checksum no longer matches */
	finish(&a);
	is_str(parse_code(&a), "ustar_bad_checksum", "bad checksum");

	two(&a);
	is_str(parse_code(&a), "ustar_truncated", "no end blocks");
	a.len += USTAR_BLOCK;
	is_str(parse_code(&a), "ustar_truncated", "one end block");
	a.len += USTAR_BLOCK;
	is_str(parse_code(&a), "ok", "two end blocks");
	a.len -= 2 * USTAR_BLOCK + 300;
	is_str(parse_code(&a), "ustar_truncated", "cut inside data");
	a.len = 700;
	is_str(parse_code(&a), "ustar_truncated", "cut inside a header");
	a.len = 0;
	is_str(parse_code(&a), "ustar_truncated", "empty buffer");

	two(&a);
	h = a.buf + 1024;
	memcpy(h + 124, "77777777777", 11);
	fix_sum(h);
	finish(&a);
	is_str(parse_code(&a), "ustar_truncated", "size past the end");

	two(&a);
	finish(&a);
	a.buf[a.len + 100] = 1;
	a.len += 512;
	is_str(parse_code(&a), "ustar_trailing_garbage", "garbage after end");

	two(&a);
	finish(&a);
	a.buf[a.len - 1] = 'x';
	is_str(parse_code(&a), "ustar_trailing_garbage",
	    "garbage in the second end block");

	two(&a);
	a.buf[1024 + 512 + 20] = 'x';	/* kernel's padding */
	finish(&a);
	is_str(parse_code(&a), "ustar_bad_padding", "non-zero padding");

	two(&a);
	add(&a, "kernel", "again");
	finish(&a);
	is_str(parse_code(&a), "ustar_duplicate_entry", "duplicate entry");

	memset(&a, 0, sizeof(a));
	for (int i = 0; i < 9; i++) {
		char name[8];
		snprintf(name, sizeof(name), "f%d", i);
		add(&a, name, "x");
	}
	finish(&a);
	is_str(parse_code(&a), "ustar_too_many_entries", "nine entries, max 8");
}

int
main(void)
{
	test_writer();
	test_fd_writer();
	test_roundtrip();
	test_gnu_and_prefix();
	test_header_refusals();
	test_archive_refusals();
	return tap_done();
}
