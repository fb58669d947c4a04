/*
 * elf.h - is this buffer a kernel we can boot through PVH?
 *
 * Accepts little-endian x86 ELF executables (ELFCLASS64 with EM_X86_64, or
 * ELFCLASS32 with EM_386) that carry a PVH entry note: an ELF note owned by
 * "Xen" of type XEN_ELFNOTE_PHYS32_ENTRY (18) whose 4- or 8-byte descriptor
 * is the 32-bit physical entry address.  Notes are looked for in PT_NOTE
 * segments, then in SHT_NOTE sections.  Every offset and size read from the
 * buffer is bounds- and overflow-checked before use; nothing is copied.
 *
 * Errors follow err.h.  Codes:
 *   elf_not_elf         no ELF magic (too short to hold one included)
 *   elf_not_x86         not little-endian x86_64/i386, or class and
 *                       machine disagree
 *   elf_not_executable  an ELF, but not ET_EXEC (an object file, a library)
 *   elf_truncated       a header, table or note lies past the end
 *   elf_malformed       inconsistent headers (sizes, version, alignment,
 *                       no loadable segment)
 *   elf_no_pvh_note     no Xen note of type 18
 *   elf_bad_pvh_note    the note exists but its descriptor is not 4 or 8
 *                       bytes, or its address is not in a loadable segment
 *                       below 4 GiB
 */
#ifndef IMAGE_FORMAT_ELF_H
#define IMAGE_FORMAT_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ELF_XEN_NOTE_PHYS32_ENTRY 18

struct elf_pvh {
	int bits;		/* 32 or 64, the ELF class */
	uint64_t entry;		/* PVH entry point, a physical address */
};

/* Checks the kernel in (buf, len); on success fills (out) when not NULL. */
int elf_check_pvh(const void *buf, size_t len, struct elf_pvh *out,
    struct err *e);

#endif
