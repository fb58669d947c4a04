/*
 * fuzz-ustar.c - libFuzzer target for everything that reads an image from
 * outside: the ustar reader, the whole-image check (manifest, digests) and
 * the ELF PVH check, each fed the raw input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "elf.h"
#include "image.h"
#include "ustar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ustar_entry ents[8];
	struct img_view v;
	struct elf_pvh pvh;
	struct err e;
	size_t n, i;

	if (ustar_parse(data, size, ents, 8, &n, &e) == 0) {
		for (i = 0; i < n; i++)
			if (ents[i].offset + ents[i].size > size)
				abort();	/* the reader's promise */
	}
	if (img_parse(data, size, &v, &e) == 0 &&
	    v.entry[IMG_ENTRY_KERNEL].size == 0)
		abort();
	if (elf_check_pvh(data, size, &pvh, &e) == 0 && pvh.entry > UINT32_MAX)
		abort();
	return 0;
}
