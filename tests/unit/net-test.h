/*
 * net-test.h - what the network stack's unit tests (test-net, test-tcp)
 * share: a transmitted frame compared with the one expected, byte for
 * byte, as one TAP test point that shows every differing byte.  Include
 * after tap.h.
 */
#ifndef TESTS_NET_TEST_H
#define TESTS_NET_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Frame (i) of the (nsent) sent, (got) of (got_len) bytes, against
 * (want) of (len).  (got) is not read unless i < nsent. */
__attribute__((unused)) static int
frame_matches(int i, int nsent, const uint8_t *got, size_t got_len,
    const uint8_t *want, size_t len, const char *name)
{
	int good = i < nsent && got_len == len && memcmp(got, want, len) == 0;

	if (!ok(good, "%s", name)) {
		if (i >= nsent) {
			diag("only %d frames sent", nsent);
			return 0;
		}
		diag("length %zu, want %zu", got_len, len);
		for (size_t j = 0; j < len && j < got_len; j++)
			if (got[j] != want[j])
				diag("byte %zu: 0x%02x, want 0x%02x", j, got[j],
				    want[j]);
	}
	return good;
}

#endif
