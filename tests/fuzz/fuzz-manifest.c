/*
 * fuzz-manifest.c - libFuzzer target for manifest.json: whatever parses must
 * serialize, and the serialized form must parse back to the same bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m, m2;
	struct err e;
	char *out, *out2;
	size_t len, len2;

	if (manifest_parse((const char *)data, size, &m, &e) == -1)
		return 0;
	if (manifest_serialize(&m, &out, &len, &e) == -1)
		abort();
	if (manifest_parse(out, len, &m2, &e) == -1 ||
	    manifest_serialize(&m2, &out2, &len2, &e) == -1 || len != len2 ||
	    memcmp(out, out2, len) != 0)
		abort();
	free(out);
	free(out2);
	return 0;
}
