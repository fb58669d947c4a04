/*
 * test-image.c - the ELF PVH check on synthetic kernels, img_pack and
 * img_open on real files, and img_parse's refusals.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "image.h"
#include "tap.h"
#include "ustar.h"

/* ---- a synthetic kernel: one PT_LOAD at 1 MiB, one PT_NOTE ---- */

struct kopt {
	int bits;		/* 32 or 64 */
	unsigned machine, type, note_type, descsz, align;
	const char *owner;	/* 4 bytes with the NUL */
	uint64_t entry;
	int in_section;		/* the note only in a section, no PT_NOTE */
};

#define KLOAD 0x100000

static void
put(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static struct kopt
kdefault(int bits)
{
	struct kopt o = { bits, bits == 64 ? 62 : 3, 2, 18, bits == 64 ? 8 : 4,
		4, "Xen", KLOAD + 0x200, 0 };
	return o;
}

/* Program header (i) of type (t) over [off, off + size) at paddr (pa). */
static void
phdr(unsigned char *k, const struct kopt *o, int i, unsigned t, uint64_t off,
    uint64_t size, uint64_t pa)
{
	int w = o->bits / 8;
	unsigned char *p = k + (o->bits == 64 ? 64 + 56 * i : 52 + 32 * i);

	put(p, t, 4);
	if (o->bits == 64) {
		put(p + 8, off, 8);
		put(p + 16, pa, 8);
		put(p + 24, pa, 8);
		put(p + 32, size, 8);
		put(p + 40, size, 8);
		put(p + 48, o->align, 8);
	} else {
		put(p + 4, off, 4);
		put(p + 8, pa, 4);
		put(p + 12, pa, 4);
		put(p + 16, size, 4);
		put(p + 20, size, 4);
		put(p + 28, o->align, 4);
	}
	(void)w;
}

/* Section header (i) of the note, at 0x400. */
static void
shdr(unsigned char *k, const struct kopt *o, uint64_t off, uint64_t size)
{
	unsigned char *p = k + 0x400 + (o->bits == 64 ? 64 : 40);

	put(p + 4, 7, 4);	/* SHT_NOTE */
	if (o->bits == 64) {
		put(p + 24, off, 8);
		put(p + 32, size, 8);
		put(p + 48, o->align, 8);
	} else {
		put(p + 16, off, 4);
		put(p + 20, size, 4);
		put(p + 32, o->align, 4);
	}
}

static void
ehdr(unsigned char *k, const struct kopt *o)
{
	int is64 = o->bits == 64;

	memcpy(k, "\177ELF", 4);
	k[4] = is64 ? 2 : 1;
	k[5] = 1;
	k[6] = 1;
	put(k + 16, o->type, 2);
	put(k + 18, o->machine, 2);
	put(k + 20, 1, 4);
	put(k + 24, o->entry, is64 ? 8 : 4);
	put(k + (is64 ? 32 : 28), is64 ? 64 : 52, is64 ? 8 : 4);	/* phoff */
	put(k + (is64 ? 40 : 32), 0x400, is64 ? 8 : 4);		/* shoff */
	put(k + (is64 ? 52 : 40), is64 ? 64 : 52, 2);		/* ehsize */
	put(k + (is64 ? 54 : 42), is64 ? 56 : 32, 2);
	put(k + (is64 ? 56 : 44), 2, 2);			/* phnum */
	put(k + (is64 ? 58 : 46), is64 ? 64 : 40, 2);
	put(k + (is64 ? 60 : 48), 2, 2);			/* shnum */
}

/* Builds the kernel into (k), 0x500 bytes; returns its size. */
static size_t
mkkernel(unsigned char *k, const struct kopt *o)
{
	unsigned char *n = k + 0x100;

	memset(k, 0, 0x500);
	ehdr(k, o);
	phdr(k, o, 0, 1, 0, 0x400, KLOAD);
	put(n, 4, 4);
	put(n + 4, o->descsz, 4);
	put(n + 8, o->note_type, 4);
	memcpy(n + 12, o->owner, 4);
	put(n + 16, o->entry, o->descsz < 8 ? o->descsz : 8);
	if (o->in_section)
		phdr(k, o, 1, 6, 0, 0, 0);	/* PT_PHDR, not a note */
	else
		phdr(k, o, 1, 4, 0x100, 16 + o->descsz, 0);
	shdr(k, o, 0x100, 16 + o->descsz);
	memcpy(k + 0x200, "\xfa\xf4", 2);	/* cli; hlt */
	return 0x500;
}

static const char *
elf_code(const unsigned char *k, size_t len)
{
	static struct err e;
	struct elf_pvh pvh;

	err_clear(&e);
	return elf_check_pvh(k, len, &pvh, &e) == 0 ? "ok" : e.code;
}

static void
test_elf_good(void)
{
	unsigned char k[0x500];
	struct elf_pvh pvh;
	struct kopt o;
	size_t n;

	o = kdefault(64);
	n = mkkernel(k, &o);
	ok(elf_check_pvh(k, n, &pvh, NULL) == 0 && pvh.bits == 64 &&
	    pvh.entry == KLOAD + 0x200, "ELF64, 8-byte note");
	o.descsz = 4;
	n = mkkernel(k, &o);
	is_str(elf_code(k, n), "ok", "ELF64, 4-byte note");
	o = kdefault(32);
	n = mkkernel(k, &o);
	ok(elf_check_pvh(k, n, &pvh, NULL) == 0 && pvh.bits == 32,
	    "ELF32 i386");
	o = kdefault(64);
	o.in_section = 1;
	n = mkkernel(k, &o);
	is_str(elf_code(k, n), "ok", "note found through sections only");
	o = kdefault(64);
	o.align = 8;
	n = mkkernel(k, &o);
	is_str(elf_code(k, n), "ok", "8-aligned note segment");
}

static void
expect_elf(const char *what, struct kopt o, const char *code)
{
	unsigned char k[0x500];
	size_t n = mkkernel(k, &o);

	is_str(elf_code(k, n), code, what);
}

static void
test_elf_refusals(void)
{
	unsigned char k[0x500];
	struct kopt o;
	size_t n;

	is_str(elf_code((const unsigned char *)"#!/bin/sh\n", 10),
	    "elf_not_elf", "a script");
	is_str(elf_code((const unsigned char *)"\177EL", 3), "elf_not_elf",
	    "3 bytes");
	o = kdefault(64);
	o.machine = 40;
	expect_elf("ARM machine", o, "elf_not_x86");
	o = kdefault(64);
	o.machine = 3;
	expect_elf("ELF64 claiming i386", o, "elf_not_x86");
	o = kdefault(32);
	o.machine = 62;
	expect_elf("ELF32 claiming x86_64", o, "elf_not_x86");
	o = kdefault(64);
	o.type = 3;
	expect_elf("ET_DYN", o, "elf_not_executable");
	o.type = 1;
	expect_elf("ET_REL", o, "elf_not_executable");
	o = kdefault(64);
	o.note_type = 17;
	expect_elf("other Xen note only", o, "elf_no_pvh_note");
	o = kdefault(64);
	o.owner = "Xe\0";
	expect_elf("other owner", o, "elf_no_pvh_note");
	o = kdefault(64);
	o.descsz = 2;
	expect_elf("2-byte descriptor", o, "elf_bad_pvh_note");
	o = kdefault(64);
	o.entry = 0x5000000;
	expect_elf("entry outside PT_LOAD", o, "elf_bad_pvh_note");
	o = kdefault(64);
	o.entry = 0x100000000ULL;
	expect_elf("entry above 4 GiB", o, "elf_bad_pvh_note");

	o = kdefault(64);
	n = mkkernel(k, &o);
	is_str(elf_code(k, 40), "elf_truncated", "header cut");
	is_str(elf_code(k, 100), "elf_truncated", "program headers cut");
	is_str(elf_code(k, 0x110), "elf_truncated", "note cut");
	k[5] = 2;
	is_str(elf_code(k, n), "elf_not_x86", "big-endian");
	k[5] = 1;
	k[4] = 3;
	is_str(elf_code(k, n), "elf_not_x86", "class 3");
	mkkernel(k, &o);
	put(k + 54, 55, 2);
	is_str(elf_code(k, n), "elf_malformed", "odd phentsize");
	mkkernel(k, &o);
	put(k + 56, 0, 2);
	is_str(elf_code(k, n), "elf_malformed", "no program headers");
	mkkernel(k, &o);
	put(k + 32, (uint64_t)-8, 8);
	is_str(elf_code(k, n), "elf_truncated", "phoff wraps around");
	mkkernel(k, &o);
	put(k + 0x100, 0xfffffff0u, 4);
	is_str(elf_code(k, n), "elf_truncated", "huge namesz");
	mkkernel(k, &o);
	put(k + 0x104, 0xfffffff0u, 4);
	is_str(elf_code(k, n), "elf_truncated", "huge descsz");
	mkkernel(k, &o);
	put(k + 64 + 56 + 8, (uint64_t)-1, 8);
	is_str(elf_code(k, n), "elf_truncated", "note offset wraps");
}

/* ---- pack and open ---- */

static char dir[] = "/tmp/test-image.XXXXXX";
static char kpath[512], rdpath[512], outpath[512];

static int
write_file(const char *path, const void *p, size_t n)
{
	return fileio_write_atomic(path, p, n, 0644, NULL);
}

static int
no_temp_files(void)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int clean = 1;

	while ((d = readdir(dp)) != NULL)
		if (strstr(d->d_name, ".tmp.") != NULL)
			clean = 0;
	closedir(dp);
	return clean;
}

static struct img_pack_opts
popts(void)
{
	struct img_pack_opts o = { kpath, NULL, outpath, "test", "1.0", NULL,
		16, 1, 0, 1, MANIFEST_PLATFORMS_ALL };
	return o;
}

static void
test_pack_open(void)
{
	struct img_pack_opts o = popts();
	struct img_pack_result res;
	uint8_t sha[SHA256_LEN], fsha[SHA256_LEN];
	const struct img_view *v;
	struct img *img;
	struct err e;
	char *a, *b;
	size_t alen, blen;

	err_clear(&e);
	ok(img_pack(&o, &res, &e) == 0, "pack without initrd");
	if (e.code[0])
		diag("%s [%s]", e.msg, e.code);
	ok((img = img_open(outpath, &e)) != NULL, "open it");
	if (img == NULL)
		return;
	v = img_view(img);
	is_str(v->manifest.name, "test", "manifest name");
	ok(v->entry[IMG_ENTRY_MANIFEST].offset == 512, "manifest first");
	ok(v->entry[IMG_ENTRY_KERNEL].present &&
	    v->entry[IMG_ENTRY_KERNEL].size == 0x500, "kernel entry");
	ok(!v->entry[IMG_ENTRY_INITRD].present, "no initrd");
	is_int((long long)v->kernel.entry, KLOAD + 0x200, "PVH entry");
	img_sha256(img, sha);
	sha256_file(outpath, fsha, NULL, NULL);
	ok(memcmp(sha, fsha, SHA256_LEN) == 0 &&
	    memcmp(sha, res.sha256, SHA256_LEN) == 0, "whole-file sha256");
	is_int((long long)img_size(img), (long long)res.size, "size");
	img_close(img);
	fileio_read(outpath, 1 << 20, &a, &alen, NULL);
	ok(img_pack(&o, NULL, NULL) == 0, "pack again");
	fileio_read(outpath, 1 << 20, &b, &blen, NULL);
	ok(alen == blen && memcmp(a, b, alen) == 0, "byte-identical");
	free(a);
	free(b);
	o.initrd = rdpath;
	ok(img_pack(&o, NULL, NULL) == 0 &&
	    (img = img_open(outpath, NULL)) != NULL, "pack with initrd");
	ok(img != NULL && img_view(img)->entry[IMG_ENTRY_INITRD].size == 1000 &&
	    memcmp(img_view(img)->entry[IMG_ENTRY_INITRD].data, "RRRR", 4) == 0,
	    "initrd entry");
	img_close(img);
	ok(no_temp_files(), "no temporary files left");
}

static void
expect_pack(const char *what, struct img_pack_opts o, const char *code)
{
	struct err e;

	unlink(outpath);
	err_clear(&e);
	ok(img_pack(&o, NULL, &e) == -1 && strcmp(e.code, code) == 0,
	    "pack refuses %s [%s]", what, code);
	if (strcmp(e.code, code) != 0)
		diag("got %s: %s", e.code, e.msg);
	ok(access(outpath, F_OK) == -1 && no_temp_files(),
	    "... and leaves no file");
}

static void
test_pack_refusals(void)
{
	struct img_pack_opts o;
	char notpvh[512];
	unsigned char k[0x500];
	struct kopt ko = kdefault(64);

	snprintf(notpvh, sizeof(notpvh), "%s/notpvh", dir);
	ko.note_type = 1;
	write_file(notpvh, k, mkkernel(k, &ko));
	o = popts();
	o.kernel = notpvh;
	expect_pack("a kernel without PVH note", o, "elf_no_pvh_note");
	o.kernel = rdpath;
	expect_pack("a data file as kernel", o, "elf_not_elf");
	o.kernel = "/nonexistent/kernel";
	expect_pack("a missing kernel", o, ERR_IO);
	o = popts();
	o.name = "Bad Name";
	expect_pack("a bad name", o, "manifest_bad_name");
	o = popts();
	o.version = "1..";
	expect_pack("a bad version", o, "manifest_bad_version");
	o = popts();
	o.memory_mib = 0;
	expect_pack("0 MiB", o, "manifest_out_of_range");
	o = popts();
	o.cmdline = "a\nb";
	expect_pack("a newline in cmdline", o, "manifest_bad_cmdline");
	o = popts();
	o.initrd = dir;
	expect_pack("a directory as initrd", o, ERR_IO);
}

/* ---- img_parse refusals on archives built by hand ---- */

struct ar {
	unsigned char buf[80 * 1024];
	size_t len;
};

static void
add(struct ar *a, const char *name, const void *data, size_t n)
{
	ustar_header(a->buf + a->len, name, n, NULL);
	memcpy(a->buf + a->len + USTAR_BLOCK, data, n);
	a->len += USTAR_BLOCK + n + ustar_padding(n);
}

static void
add_manifest(struct ar *a, const void *kernel, size_t klen, const void *rd,
    size_t rdlen, const char *tweak)
{
	struct manifest m;
	char *json;
	size_t len;

	memset(&m, 0, sizeof(m));
	strcpy(m.name, "t");
	strcpy(m.version, "1");
	m.platforms = MANIFEST_PLATFORMS_ALL;
	m.memory_mib = m.vcpus = 1;
	m.kernel.present = 1;
	m.kernel.size = klen;
	sha256_buf(kernel, klen, m.kernel.sha256);
	if (rd != NULL) {
		m.initrd.present = 1;
		m.initrd.size = rdlen;
		sha256_buf(rd, rdlen, m.initrd.sha256);
	}
	if (tweak != NULL && strcmp(tweak, "size") == 0)
		m.kernel.size++;
	if (tweak != NULL && strcmp(tweak, "digest") == 0)
		m.kernel.sha256[0] ^= 1;
	manifest_serialize(&m, &json, &len, NULL);
	add(a, "manifest.json", json, len);
	free(json);
}

static const char *
img_code(struct ar *a)
{
	static struct err e;
	struct img_view v;

	memset(a->buf + a->len, 0, 2 * USTAR_BLOCK);
	err_clear(&e);
	return img_parse(a->buf, a->len + 2 * USTAR_BLOCK, &v, &e) == 0 ?
	    "ok" : e.code;
}

static void
test_parse_refusals(void)
{
	static unsigned char big[MANIFEST_MAX_SIZE + 1];
	unsigned char k[0x500], rd[100];
	struct kopt ko = kdefault(64);
	static struct ar a;

	mkkernel(k, &ko);
	memset(rd, 'r', sizeof(rd));
	memset(&a, 0, sizeof(a));
	add_manifest(&a, k, sizeof(k), rd, sizeof(rd), NULL);
	add(&a, "kernel", k, sizeof(k));
	add(&a, "initrd", rd, sizeof(rd));
	is_str(img_code(&a), "ok", "hand-built image with initrd");
	add(&a, "extra", "x", 1);
	is_str(img_code(&a), "img_unknown_entry", "an extra entry");

	memset(&a, 0, sizeof(a));
	add(&a, "kernel", k, sizeof(k));
	is_str(img_code(&a), "img_missing_entry", "no manifest");
	memset(&a, 0, sizeof(a));
	add_manifest(&a, k, sizeof(k), NULL, 0, NULL);
	is_str(img_code(&a), "img_missing_entry", "no kernel");
	memset(&a, 0, sizeof(a));
	add(&a, "kernel", k, sizeof(k));
	add_manifest(&a, k, sizeof(k), NULL, 0, NULL);
	is_str(img_code(&a), "img_entry_order", "kernel before manifest");
	memset(&a, 0, sizeof(a));
	add_manifest(&a, k, sizeof(k), rd, sizeof(rd), NULL);
	add(&a, "initrd", rd, sizeof(rd));
	add(&a, "kernel", k, sizeof(k));
	is_str(img_code(&a), "img_entry_order", "initrd before kernel");
	memset(&a, 0, sizeof(a));
	add_manifest(&a, k, sizeof(k), rd, sizeof(rd), NULL);
	add(&a, "kernel", k, sizeof(k));
	is_str(img_code(&a), "img_missing_entry", "listed initrd absent");
	memset(&a, 0, sizeof(a));
	add_manifest(&a, k, sizeof(k), NULL, 0, NULL);
	add(&a, "kernel", k, sizeof(k));
	add(&a, "initrd", rd, sizeof(rd));
	is_str(img_code(&a), "img_unlisted_entry", "unlisted initrd");
	memset(&a, 0, sizeof(a));
	add_manifest(&a, k, sizeof(k), NULL, 0, "size");
	add(&a, "kernel", k, sizeof(k));
	is_str(img_code(&a), "img_size_mismatch", "kernel size differs");
	memset(&a, 0, sizeof(a));
	add_manifest(&a, k, sizeof(k), NULL, 0, "digest");
	add(&a, "kernel", k, sizeof(k));
	is_str(img_code(&a), "img_digest_mismatch", "kernel digest differs");
	memset(&a, 0, sizeof(a));
	add(&a, "manifest.json", "{\"format\": 2}", 13);
	add(&a, "kernel", k, sizeof(k));
	is_str(img_code(&a), "manifest_unsupported_format", "format 2");
	memset(&a, 0, sizeof(a));
	add(&a, "manifest.json", big, sizeof(big));
	is_str(img_code(&a), "img_entry_too_large", "manifest over 64 KiB");
	memset(&a, 0, sizeof(a));
	ko.note_type = 3;
	mkkernel(k, &ko);
	add_manifest(&a, k, sizeof(k), NULL, 0, NULL);
	add(&a, "kernel", k, sizeof(k));
	is_str(img_code(&a), "elf_no_pvh_note", "consistent but not PVH");
}

static void
test_open_errors(void)
{
	struct err e;

	err_clear(&e);
	ok(img_open(dir, &e) == NULL && strcmp(e.code, ERR_IO) == 0,
	    "a directory is refused");
	ok(img_open("/nonexistent.ukimg", &e) == NULL &&
	    strcmp(e.code, ERR_IO) == 0, "a missing file");
	write_file(outpath, "", 0);
	ok(img_open(outpath, &e) == NULL &&
	    strcmp(e.code, "ustar_truncated") == 0, "an empty file");
	ok(strstr(e.msg, outpath) != NULL, "message names the file");
	unlink(outpath);
	is_str(img_entry_name(IMG_ENTRY_INITRD), "initrd", "entry name");
}

int
main(void)
{
	unsigned char k[0x500], rd[1000];
	struct kopt o = kdefault(64);
	char cmd[600];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(kpath, sizeof(kpath), "%s/kernel.elf", dir);
	snprintf(rdpath, sizeof(rdpath), "%s/initrd", dir);
	snprintf(outpath, sizeof(outpath), "%s/out.ukimg", dir);
	write_file(kpath, k, mkkernel(k, &o));
	memset(rd, 'R', sizeof(rd));
	write_file(rdpath, rd, sizeof(rd));

	test_elf_good();
	test_elf_refusals();
	test_pack_open();
	test_pack_refusals();
	test_parse_refusals();
	test_open_errors();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return tap_done();
}
