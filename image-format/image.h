/*
 * image.h - unikernel images (.ukimg): pack one, open and validate one.
 *
 * An image is a ustar archive (ustar.h) of, in this order and nothing else:
 *   manifest.json  the manifest (manifest.h), first so that a streaming
 *                  reader learns the format, sizes and digests before the
 *                  large entries
 *   kernel         an x86 ELF with a PVH entry note (elf.h)
 *   initrd         optional, handed to the guest as its first boot module
 * docs/image-format.md describes the format for people; uk-image(5) too.
 *
 * All validation of an image happens in img_parse(), which img_open() and
 * img_pack() (on what it wrote) both use: a caller holding a struct img or a
 * filled struct img_view may trust every field.
 *
 * Errors follow err.h.  Besides the codes of ustar.h, manifest.h (message
 * prefixed "manifest.json: ") and elf.h ("kernel: "), and "io_error",
 * "out_of_memory", "invalid_argument":
 *   img_too_large        the file is over IMG_SIZE_MAX
 *   img_unknown_entry    an entry other than manifest.json, kernel, initrd
 *   img_missing_entry    no manifest.json or kernel, or the manifest lists
 *                        an initrd the archive lacks
 *   img_entry_order      entries not in the order above
 *   img_entry_too_large  an entry over its limit (IMG_*_MAX)
 *   img_unlisted_entry   an initrd the manifest does not list
 *   img_size_mismatch    an entry's size differs from the manifest's
 *   img_digest_mismatch  an entry's SHA-256 differs from the manifest's
 *   img_input_changed    (img_pack) an input file changed while packing
 */
#ifndef IMAGE_FORMAT_IMAGE_H
#define IMAGE_FORMAT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "elf.h"
#include "err.h"
#include "fileio.h"
#include "manifest.h"

#define IMG_MANIFEST_MAX ((uint64_t)MANIFEST_MAX_SIZE)
#define IMG_KERNEL_MAX MANIFEST_KERNEL_MAX
#define IMG_INITRD_MAX MANIFEST_INITRD_MAX
/* The entries, and 1 MiB for headers, padding and tar's end-of-archive
 * records (GNU tar pads to 10 KiB, more with a larger blocking factor). */
#define IMG_SIZE_MAX \
	(IMG_MANIFEST_MAX + IMG_KERNEL_MAX + IMG_INITRD_MAX + (1ULL << 20))

enum img_entry_id {
	IMG_ENTRY_MANIFEST,
	IMG_ENTRY_KERNEL,
	IMG_ENTRY_INITRD,
	IMG_NENTRIES
};

struct img_entry {
	int present;
	uint64_t offset;	/* of the data, from the start of the file */
	uint64_t size;
	const unsigned char *data;	/* inside the parsed buffer */
	uint8_t sha256[SHA256_LEN];	/* equal to the manifest's */
};

/* Everything img_parse() learnt; pointers point into the parsed buffer. */
struct img_view {
	struct manifest manifest;
	struct img_entry entry[IMG_NENTRIES];	/* by enum img_entry_id */
	struct elf_pvh kernel;	/* ELF class and PVH entry address */
};

/* "manifest.json", "kernel", "initrd". */
const char *img_entry_name(enum img_entry_id id);

/* Validates the image in (buf, len) completely and describes it in (v).
 * (buf) is not copied: (v)'s data pointers are valid while (buf) is. */
int img_parse(const void *buf, size_t len, struct img_view *v, struct err *e);

struct img;	/* an open, validated image: a read-only mapping and its view */

/*
 * Maps the file (path) read-only and validates it with img_parse().  Returns
 * NULL on failure.  The caller releases the result with img_close().  The
 * file must not be truncated while open (the daemon's cache files are
 * written once and renamed into place; they are not).
 */
struct img *img_open(const char *path, struct err *e);

/* The same on an open descriptor, which stays the caller's to close (it may
 * be closed at once); (name) is used in messages. */
struct img *img_open_fd(int fd, const char *name, struct err *e);

const struct img_view *img_view(const struct img *img);

/* The size of the whole file in bytes. */
uint64_t img_size(const struct img *img);

/* SHA-256 of the whole file, what feeds pin; computed on the first call. */
void img_sha256(struct img *img, uint8_t out[SHA256_LEN]);

/* Unmaps and frees (img); NULL is allowed. */
void img_close(struct img *img);

struct img_pack_opts {
	const char *kernel;	/* path, required */
	const char *initrd;	/* path, or NULL for none */
	const char *out;	/* path of the image to write, required */
	const char *name;	/* manifest fields, checked by manifest_validate */
	const char *version;
	const char *cmdline;	/* NULL for "" */
	uint32_t memory_mib;
	uint32_t vcpus;
	uint32_t net;
	int console;
	unsigned platforms;	/* MANIFEST_PLATFORM_* */
};

struct img_pack_result {
	struct manifest manifest;	/* as written */
	uint64_t size;			/* of the image file */
	uint8_t sha256[SHA256_LEN];	/* of the image file */
};

/*
 * Writes the image described by (o) to (o->out) atomically: into a
 * temporary file next to it that is validated with img_parse(), then
 * renamed.  On failure (o->out) is untouched and no temporary file is left.
 * The same inputs always give the same bytes.  (res) may be NULL.
 */
int img_pack(const struct img_pack_opts *o, struct img_pack_result *res,
    struct err *e);

#endif
