/*
 * trailer.h - what a guest's console log says of its end: the runtime's
 * last line "=== rt: exit N ===" or "=== rt: crash (REASON) ===" (the
 * exit protocol of docs/runtime.md).  Backends whose platform cannot carry
 * the exit code (libvirt, Xen) learn it here.
 */
#ifndef UNIKERNELD_TRAILER_H
#define UNIKERNELD_TRAILER_H

#include <stddef.h>

#include "err.h"

enum trailer_kind {
	TRAILER_NONE,	/* no trailer: the guest ended without saying how */
	TRAILER_EXIT,	/* (code) is its exit code, 0..255 */
	TRAILER_CRASH,	/* (reason) says what crashed */
};

struct trailer {
	enum trailer_kind kind;
	int code;
	char reason[128];
};

/* Reads the last non-empty line of the (len) bytes at (buf) (CR, LF and
 * NUL tolerated) into (t).  Never fails: a text without a trailer is
 * TRAILER_NONE. */
void trailer_parse(const char *buf, size_t len, struct trailer *t);

/* The same on the end (at most the last 4 KiB) of the file (path).
 * Fails only with "io_error". */
int trailer_read(const char *path, struct trailer *t, struct err *e);

#endif
