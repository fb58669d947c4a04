#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "ustar.h"

/* More than the three entries an image may hold, so that a fourth gets the
 * clearer img_unknown_entry before ustar_too_many_entries. */
#define ARCHIVE_ENTRIES_MAX 8

static const struct {
	const char *name;
	uint64_t max;
} entry_spec[IMG_NENTRIES] = {
	[IMG_ENTRY_MANIFEST] = { "manifest.json", IMG_MANIFEST_MAX },
	[IMG_ENTRY_KERNEL] = { "kernel", IMG_KERNEL_MAX },
	[IMG_ENTRY_INITRD] = { "initrd", IMG_INITRD_MAX },
};

struct img {
	unsigned char *map;
	size_t len;
	struct img_view view;
	int have_sha256;
	uint8_t sha256[SHA256_LEN];
};

const char *
img_entry_name(enum img_entry_id id)
{
	return id < IMG_NENTRIES ? entry_spec[id].name : "?";
}

/* ---- validation ---- */

static int
entry_id(const char *name)
{
	int id;

	for (id = 0; id < IMG_NENTRIES; id++)
		if (strcmp(name, entry_spec[id].name) == 0)
			return id;
	return -1;
}

/* Names, limits and order of the archive's entries into (v). */
static int
map_entries(const unsigned char *buf, const struct ustar_entry *ents,
    size_t n, struct img_view *v, struct err *e)
{
	int id, prev = -1, order_ok = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((id = entry_id(ents[i].name)) == -1)
			return err_set(e, "img_unknown_entry",
			    "unknown entry '%s' (an image holds only "
			    "manifest.json, kernel and initrd)", ents[i].name);
		if (ents[i].size > entry_spec[id].max)
			return err_set(e, "img_entry_too_large",
			    "%s: %llu bytes, over the limit of %llu",
			    ents[i].name, (unsigned long long)ents[i].size,
			    (unsigned long long)entry_spec[id].max);
		order_ok &= id > prev;
		prev = id;
		v->entry[id].present = 1;
		v->entry[id].offset = ents[i].offset;
		v->entry[id].size = ents[i].size;
		v->entry[id].data = buf + ents[i].offset;
	}
	for (id = 0; id <= IMG_ENTRY_KERNEL; id++)
		if (!v->entry[id].present)
			return err_set(e, "img_missing_entry",
			    "no '%s' in the archive", entry_spec[id].name);
	if (!order_ok)
		return err_set(e, "img_entry_order", "entries out of order "
		    "(manifest.json first, then kernel, then initrd)");
	return 0;
}

static int
check_entry(struct img_entry *ent, const struct manifest_entry *want,
    const char *name, struct err *e)
{
	if (want->present && !ent->present)
		return err_set(e, "img_missing_entry",
		    "the manifest lists '%s' but the archive has none", name);
	if (!want->present && ent->present)
		return err_set(e, "img_unlisted_entry",
		    "'%s' is in the archive but not in the manifest", name);
	if (!ent->present)
		return 0;
	if (ent->size != want->size)
		return err_set(e, "img_size_mismatch",
		    "%s: %llu bytes, the manifest says %llu", name,
		    (unsigned long long)ent->size,
		    (unsigned long long)want->size);
	sha256_buf(ent->data, (size_t)ent->size, ent->sha256);
	if (memcmp(ent->sha256, want->sha256, SHA256_LEN) != 0)
		return err_set(e, "img_digest_mismatch",
		    "%s: SHA-256 differs from the manifest's", name);
	return 0;
}

int
img_parse(const void *buf, size_t len, struct img_view *v, struct err *e)
{
	struct ustar_entry ents[ARCHIVE_ENTRIES_MAX];
	struct img_entry *ment;
	size_t n;

	memset(v, 0, sizeof(*v));
	if (len > IMG_SIZE_MAX)
		return err_set(e, "img_too_large",
		    "image of %zu bytes, over the limit of %llu", len,
		    (unsigned long long)IMG_SIZE_MAX);
	if (ustar_parse(buf, len, ents, ARCHIVE_ENTRIES_MAX, &n, e) == -1 ||
	    map_entries(buf, ents, n, v, e) == -1)
		goto fail;
	ment = &v->entry[IMG_ENTRY_MANIFEST];
	if (manifest_parse((const char *)ment->data, (size_t)ment->size,
	    &v->manifest, e) == -1) {
		err_prefix(e, "manifest.json");
		goto fail;
	}
	sha256_buf(ment->data, (size_t)ment->size, ment->sha256);
	if (check_entry(&v->entry[IMG_ENTRY_KERNEL], &v->manifest.kernel,
	    "kernel", e) == -1 ||
	    check_entry(&v->entry[IMG_ENTRY_INITRD], &v->manifest.initrd,
	    "initrd", e) == -1)
		goto fail;
	if (elf_check_pvh(v->entry[IMG_ENTRY_KERNEL].data,
	    (size_t)v->entry[IMG_ENTRY_KERNEL].size, &v->kernel, e) == -1) {
		err_prefix(e, "kernel");
		goto fail;
	}
	return 0;
fail:
	memset(v, 0, sizeof(*v));
	return -1;
}

/* ---- open ---- */

struct img *
img_open_fd(int fd, const char *name, struct err *e)
{
	struct stat st;
	struct img *img;

	if (fstat(fd, &st) == -1)
		return err_errno(e, ERR_IO, errno, "%s", name), NULL;
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_IO, "%s: not a regular file", name), NULL;
	if ((uint64_t)st.st_size > IMG_SIZE_MAX)
		return err_set(e, "img_too_large",
		    "%s: %lld bytes, over the limit of %llu", name,
		    (long long)st.st_size, (unsigned long long)IMG_SIZE_MAX),
		    NULL;
	if ((img = calloc(1, sizeof(*img))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory"), NULL;
	img->len = (size_t)st.st_size;
	/* mmap refuses length 0; an empty file fails img_parse() anyway. */
	if (img->len > 0 && (img->map = mmap(NULL, img->len, PROT_READ,
	    MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		err_errno(e, ERR_IO, errno, "%s: mmap", name);
		img->map = NULL;
		goto fail;
	}
	if (img_parse(img->map != NULL ? img->map : (unsigned char *)"",
	    img->len, &img->view, e) == -1) {
		err_prefix(e, "%s", name);
		goto fail;
	}
	return img;
fail:
	img_close(img);
	return NULL;
}

struct img *
img_open(const char *path, struct err *e)
{
	struct img *img;
	int fd;

	/* O_NONBLOCK: a fifo must be refused, not waited on. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path), NULL;
	img = img_open_fd(fd, path, e);
	close(fd);
	return img;
}

const struct img_view *
img_view(const struct img *img)
{
	return &img->view;
}

uint64_t
img_size(const struct img *img)
{
	return img->len;
}

void
img_sha256(struct img *img, uint8_t out[SHA256_LEN])
{
	if (!img->have_sha256) {
		sha256_buf(img->map != NULL ? img->map : (unsigned char *)"",
		    img->len, img->sha256);
		img->have_sha256 = 1;
	}
	memcpy(out, img->sha256, SHA256_LEN);
}

void
img_close(struct img *img)
{
	if (img == NULL)
		return;
	if (img->map != NULL)
		munmap(img->map, img->len);
	free(img);
}

/* ---- pack ---- */

struct pack_input {
	char *kernel;		/* whole kernel, from fileio_read() */
	size_t kernel_len;
	int initrd_fd;		/* -1 without initrd */
};

static int
copy_str(char *dst, size_t dstsz, const char *src, const char *code,
    const char *what, struct err *e)
{
	if (src == NULL || strlen(src) >= dstsz)
		return err_set(e, code, "%s is missing or too long", what);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int
fill_manifest(const struct img_pack_opts *o, struct manifest *m,
    struct err *e)
{
	memset(m, 0, sizeof(*m));
	if (copy_str(m->name, sizeof(m->name), o->name, "manifest_bad_name",
	    "name", e) == -1 ||
	    copy_str(m->version, sizeof(m->version), o->version,
	    "manifest_bad_version", "version", e) == -1 ||
	    copy_str(m->cmdline, sizeof(m->cmdline),
	    o->cmdline != NULL ? o->cmdline : "", "manifest_bad_cmdline",
	    "cmdline", e) == -1)
		return -1;
	m->platforms = o->platforms;
	m->memory_mib = o->memory_mib;
	m->vcpus = o->vcpus;
	m->net = o->net;
	m->console = o->console;
	return 0;
}

static int
load_kernel(const char *path, struct pack_input *in, struct manifest *m,
    struct err *e)
{
	if (fileio_read(path, IMG_KERNEL_MAX, &in->kernel, &in->kernel_len,
	    e) == -1) {
		if (e != NULL && strcmp(e->code, "file_too_large") == 0)
			return err_set(e, "img_entry_too_large",
			    "kernel %s is over the limit of %llu bytes", path,
			    (unsigned long long)IMG_KERNEL_MAX);
		return -1;
	}
	if (elf_check_pvh(in->kernel, in->kernel_len, NULL, e) == -1)
		return err_prefix(e, "%s", path);
	m->kernel.present = 1;
	m->kernel.size = in->kernel_len;
	sha256_buf(in->kernel, in->kernel_len, m->kernel.sha256);
	return 0;
}

static int
load_initrd(const char *path, struct pack_input *in, struct manifest *m,
    struct err *e)
{
	struct stat st;

	if ((in->initrd_fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) ==
	    -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	if (fstat(in->initrd_fd, &st) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	/* Read twice (digest, then copy): a pipe would not survive that. */
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_IO, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > IMG_INITRD_MAX)
		return err_set(e, "img_entry_too_large",
		    "initrd %s: %lld bytes, over the limit of %llu", path,
		    (long long)st.st_size, (unsigned long long)IMG_INITRD_MAX);
	if (sha256_fd(in->initrd_fd, m->initrd.sha256, &m->initrd.size, e) ==
	    -1)
		return err_prefix(e, "%s", path);
	if (m->initrd.size > IMG_INITRD_MAX)
		return err_set(e, "img_input_changed", "%s grew while packing",
		    path);
	m->initrd.present = 1;
	return 0;
}

static int
copy_fd(int out, int in, uint64_t size, const char *path, struct err *e)
{
	enum { CHUNK = 1 << 20 };
	unsigned char *buf;
	ssize_t r;
	int rc = -1;

	if (lseek(in, 0, SEEK_SET) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	if ((buf = malloc(CHUNK)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	while (size > 0) {
		r = read(in, buf, size < CHUNK ? (size_t)size : CHUNK);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err_errno(e, ERR_IO, errno, "%s", path);
			goto out;
		}
		if (r == 0) {
			err_set(e, "img_input_changed",
			    "%s shrank while packing", path);
			goto out;
		}
		if (fileio_write_all(out, buf, (size_t)r, e) == -1)
			goto out;
		size -= (uint64_t)r;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

static int
write_entry(int fd, const char *name, const void *data, uint64_t size,
    struct err *e)
{
	if (ustar_write_header(fd, name, size, e) == -1 ||
	    fileio_write_all(fd, data, (size_t)size, e) == -1 ||
	    ustar_write_padding(fd, size, e) == -1)
		return -1;
	return 0;
}

static int
write_image(int fd, const struct img_pack_opts *o, const struct pack_input *in,
    const struct manifest *m, struct err *e)
{
	char *json;
	size_t json_len;
	int rc;

	if (manifest_serialize(m, &json, &json_len, e) == -1)
		return -1;
	rc = write_entry(fd, "manifest.json", json, json_len, e);
	free(json);
	if (rc == -1 || write_entry(fd, "kernel", in->kernel, in->kernel_len,
	    e) == -1)
		return -1;
	if (m->initrd.present &&
	    (ustar_write_header(fd, "initrd", m->initrd.size, e) == -1 ||
	    copy_fd(fd, in->initrd_fd, m->initrd.size, o->initrd, e) == -1 ||
	    ustar_write_padding(fd, m->initrd.size, e) == -1))
		return -1;
	return ustar_write_end(fd, e);
}

/* Validates what was written, as any reader will; a digest that no longer
 * matches means an input changed between hashing and copying. */
static int
verify_image(int fd, const char *out, struct img_pack_result *res,
    struct err *e)
{
	struct img *img;

	if ((img = img_open_fd(fd, out, e)) == NULL) {
		if (e != NULL && (strcmp(e->code, "img_digest_mismatch") == 0 ||
		    strcmp(e->code, "img_size_mismatch") == 0))
			e->code = "img_input_changed";
		return -1;
	}
	if (res != NULL) {
		res->manifest = img->view.manifest;
		res->size = img_size(img);
		img_sha256(img, res->sha256);
	}
	img_close(img);
	return 0;
}

/* The user's fields are checked before large inputs are read and hashed;
 * a stand-in kernel entry satisfies manifest_validate() meanwhile. */
static int
check_fields(const struct manifest *m, struct err *e)
{
	struct manifest t = *m;

	t.kernel.present = 1;
	t.kernel.size = 1;
	return manifest_validate(&t, e);
}

static int
prepare(const struct img_pack_opts *o, struct pack_input *in,
    struct manifest *m, struct err *e)
{
	if (o->kernel == NULL || o->out == NULL)
		return err_set(e, ERR_INVALID, "kernel and output are required");
	if (fill_manifest(o, m, e) == -1 || check_fields(m, e) == -1)
		return -1;
	if (load_kernel(o->kernel, in, m, e) == -1)
		return -1;
	if (o->initrd != NULL && load_initrd(o->initrd, in, m, e) == -1)
		return -1;
	return 0;
}

int
img_pack(const struct img_pack_opts *o, struct img_pack_result *res,
    struct err *e)
{
	struct pack_input in = { NULL, 0, -1 };
	struct manifest m;
	char tmp[4096];
	int fd = -1, rc = -1;

	if (prepare(o, &in, &m, e) == -1)
		goto out;
	if ((fd = fileio_tmp_open(o->out, tmp, sizeof(tmp), e)) == -1)
		goto out;
	if (write_image(fd, o, &in, &m, e) == -1) {
		err_prefix(e, "writing %s", o->out);
		goto discard;
	}
	if (verify_image(fd, o->out, res, e) == -1)
		goto discard;
	rc = fileio_commit(fd, tmp, o->out, 0644, e);
	goto out;
discard:
	close(fd);
	unlink(tmp);
out:
	free(in.kernel);
	if (in.initrd_fd != -1)
		close(in.initrd_fd);
	return rc;
}
