/*
 * fileio.h - whole-file reads with a size cap, atomic writes, hex, SHA-256.
 *
 * Errors follow err.h.  Codes: "io_error" (open/read/write failed),
 * "file_too_large" (over the caller's cap), "out_of_memory".
 */
#ifndef COMMON_FILEIO_H
#define COMMON_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

/* Reads all of (path) into a new NUL-terminated buffer stored in (*out), its
 * length (without the NUL) in (*len).  Refuses files larger than (max) bytes.
 * The caller frees (*out) with free(). */
int fileio_read(const char *path, size_t max, char **out, size_t *len,
    struct err *e);

/* Writes (len) bytes of (data) to (path) atomically: a temporary file in the
 * same directory is written, fsync'd, given (mode) and renamed over (path),
 * then the directory is fsync'd.  On failure (path) is untouched and the
 * temporary file removed. */
int fileio_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct err *e);

/* Creates a temporary file next to (path) ("<path>.tmp.XXXXXX") and returns
 * its descriptor, its name in (tmp, tmpsz).  With fileio_commit() it lets
 * writers that stream produce files atomically too. */
int fileio_tmp_open(const char *path, char *tmp, size_t tmpsz, struct err *e);

/* fsyncs and closes (fd), sets (mode), renames (tmp) to (path) and fsyncs the
 * directory.  On failure unlinks (tmp).  Closes (fd) in every case. */
int fileio_commit(int fd, const char *tmp, const char *path, mode_t mode,
    struct err *e);

/* Writes all of (buf) to (fd), retrying short writes and EINTR. */
int fileio_write_all(int fd, const void *buf, size_t len, struct err *e);

/* Lowercase hex of (len) bytes into (out), which holds 2*len+1 bytes. */
void hex_encode(const uint8_t *in, size_t len, char *out);

/* Parses exactly 2*len hex digits (either case) into (out); -1 otherwise. */
int hex_decode(const char *in, uint8_t *out, size_t len);

/* SHA-256 of a buffer. */
void sha256_buf(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* SHA-256 of an open descriptor from its current offset to EOF; the number of
 * bytes hashed goes to (*size) when (size) is not NULL. */
int sha256_fd(int fd, uint8_t out[SHA256_LEN], uint64_t *size, struct err *e);

/* SHA-256 of a file. */
int sha256_file(const char *path, uint8_t out[SHA256_LEN], uint64_t *size,
    struct err *e);

#endif
