/*
 * err.h - the one error convention of the project's libraries.
 *
 * Library functions return 0 on success and -1 on failure (or NULL for
 * constructors) and describe the failure in a caller-supplied struct err.
 * The code is a stable identifier (a static string such as
 * "ustar_path_traversal") that tests, the REST layer and scripts may match;
 * the message is for people and may change.  Libraries never print and never
 * exit.
 *
 * (e) may be NULL everywhere: the error is then only returned.
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 512

struct err {
	const char *code;	/* static string, "" when no error was set */
	char msg[ERR_MSG_MAX];	/* human-readable, NUL-terminated */
};

/* Resets (e) to "no error". */
void err_clear(struct err *e);

/* Records (code) and a printf-style message in (e); returns -1 so callers can
 * write "return err_set(e, ...)". (code) must be a string literal. */
int err_set(struct err *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set() with ": strerror(errnum)" appended. */
int err_errno(struct err *e, const char *code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefixes the message already in (e) with printf-style context, keeping the
 * code: "reading feed.json: " + old message.  Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Generic codes shared by every module. */
#define ERR_NOMEM "out_of_memory"
#define ERR_IO "io_error"
#define ERR_INVALID "invalid_argument"

#endif
