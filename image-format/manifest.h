/*
 * manifest.h - the manifest.json of an image: parse, validate, serialize.
 *
 * A manifest lives in a fixed-size struct the caller owns (on the stack or
 * inside another struct): nothing here allocates except
 * manifest_serialize(), whose output the caller frees.
 *
 * Format 1 (docs/image-format.md, uk-image(5)):
 *   { "format": 1, "name": "...", "version": "...", "arch": "x86_64",
 *     "boot": "pvh", "platforms": ["kvm", "xen"], "memory": MiB,
 *     "vcpus": N, "devices": { "net": N, "console": bool },
 *     "cmdline": "...",
 *     "entries": { "kernel": { "size": N, "sha256": "hex" },
 *                  "initrd": { "size": N, "sha256": "hex" } } }
 * Every key is required except entries.initrd.  Unknown keys are refused:
 * a key this reader does not know may carry a requirement (a device, a
 * feature) that ignoring would silently break; the schema grows by bumping
 * "format".  Duplicate keys are refused too, so that no two JSON parsers can
 * read one manifest differently.
 *
 * Errors follow err.h.  Codes:
 *   manifest_too_large          over MANIFEST_MAX_SIZE bytes
 *   manifest_invalid_json       not one UTF-8 JSON object (NUL bytes,
 *                               trailing data, nesting over 8 included)
 *   manifest_unsupported_format "format" is a number other than 1
 *   manifest_unknown_key        a key not in the schema (or written with
 *                               escape sequences)
 *   manifest_duplicate_key      a key given twice in one object
 *   manifest_missing_key        a required key is absent
 *   manifest_bad_type           a value of the wrong JSON type
 *   manifest_out_of_range       memory, vcpus, devices.net or a size out of
 *                               its range
 *   manifest_bad_name           name not [a-z0-9][a-z0-9._-]{0,63}
 *   manifest_bad_version        version refused by version_check()
 *   manifest_bad_arch           arch other than "x86_64"
 *   manifest_bad_boot           boot other than "pvh"
 *   manifest_bad_platforms      empty, unknown or repeated platform
 *   manifest_bad_cmdline        over 2048 bytes, control characters or
 *                               invalid UTF-8
 *   manifest_bad_digest         sha256 not 64 lowercase hex digits
 * plus "out_of_memory".
 */
#ifndef IMAGE_FORMAT_MANIFEST_H
#define IMAGE_FORMAT_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fileio.h"
#include "version.h"

#define MANIFEST_FORMAT 1
#define MANIFEST_MAX_SIZE (64 * 1024)
#define MANIFEST_NAME_MAX 64
#define MANIFEST_CMDLINE_MAX 2048
#define MANIFEST_MEMORY_MAX 65536	/* MiB */
#define MANIFEST_VCPUS_MAX 64
#define MANIFEST_NET_MAX 8
/* Entry size caps; the image reader enforces the same (image.h). */
#define MANIFEST_KERNEL_MAX (64ULL * 1024 * 1024)
#define MANIFEST_INITRD_MAX (1024ULL * 1024 * 1024)

/* Platforms, as a bit mask. */
#define MANIFEST_PLATFORM_KVM 0x1u
#define MANIFEST_PLATFORM_XEN 0x2u
#define MANIFEST_PLATFORMS_ALL (MANIFEST_PLATFORM_KVM | MANIFEST_PLATFORM_XEN)

struct manifest_entry {
	int present;		/* 0: no such entry (only initrd may lack) */
	uint64_t size;
	uint8_t sha256[SHA256_LEN];
};

struct manifest {
	char name[MANIFEST_NAME_MAX + 1];
	char version[VERSION_MAX_LEN + 1];
	unsigned platforms;	/* MANIFEST_PLATFORM_* bits, not 0 */
	uint32_t memory_mib;	/* 1..MANIFEST_MEMORY_MAX */
	uint32_t vcpus;		/* 1..MANIFEST_VCPUS_MAX */
	uint32_t net;		/* 0..MANIFEST_NET_MAX interfaces */
	int console;		/* 0 or 1 */
	char cmdline[MANIFEST_CMDLINE_MAX + 1];
	struct manifest_entry kernel;	/* present is always 1 */
	struct manifest_entry initrd;
};
/* arch ("x86_64"), boot ("pvh") and format (1) have one possible value in
 * format 1, so the struct does not carry them. */

/*
 * Parses and validates the (len) bytes at (buf), which need not be
 * NUL-terminated, into (m).  On failure (m) is left zeroed.
 */
int manifest_parse(const char *buf, size_t len, struct manifest *m,
    struct err *e);

/* Checks every field of (m) against the rules above; what manifest_parse()
 * and manifest_serialize() both rely on. */
int manifest_validate(const struct manifest *m, struct err *e);

/*
 * Validates (m) and writes it as pretty JSON, keys in the fixed order shown
 * above, with a trailing newline, into a new NUL-terminated buffer (*out) of
 * (*len) bytes; the caller frees it.  The same manifest always gives the
 * same bytes, independent of the JSON library's version.
 */
int manifest_serialize(const struct manifest *m, char **out, size_t *len,
    struct err *e);

/* "kvm", "xen", "kvm,xen" into MANIFEST_PLATFORM_* bits; -1 when (s) names
 * anything else, names one twice or is empty. */
int manifest_platforms_parse(const char *s, unsigned *out);

#endif
