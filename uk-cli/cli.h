/*
 * cli.h - the table of `uk` subcommands and what they share.
 *
 * Each subcommand lives in its own cmd-<name>.c and defines one
 * `const struct cli_cmd cli_cmd_<name>`; main.c lists them in a table.
 * Adding a command is adding a file and a row.
 *
 * Exit status: 0 success, 1 the operation failed (the message says why),
 * 2 the command line was wrong.
 */
#ifndef UK_CLI_CLI_H
#define UK_CLI_CLI_H

#include <stdio.h>

#include <json-c/json.h>

#include "err.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli_cmd {
	const char *name;	/* "pack" */
	const char *synopsis;	/* what follows "uk pack" in usage lines */
	const char *summary;	/* one line for `uk --help` */
	const char *help;	/* the options, one per line, for `uk pack --help` */
	int (*exec)(const struct cli_cmd *cmd, int argc, char **argv);
};

/* Set by commands given --json: errors then also go to stdout as
 * {"error":{"code":...,"message":...}} so that scripts can read them. */
extern int cli_json;

/* Prints the usage of (cmd) to (f). Returns CLI_EXIT_OK. */
int cli_help(const struct cli_cmd *cmd, FILE *f);

/* Reports a command-line mistake with the usage line; returns CLI_EXIT_USAGE. */
int cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reports what getopt_long() (run with opterr = 0 and an optstring that
 * starts with ':') refused: (c) is the '?' or ':' it returned, (argv) the
 * command's.  Returns CLI_EXIT_USAGE. */
int cli_bad_option(const struct cli_cmd *cmd, int c, char **argv);

/* Reports (e) as "uk NAME: message [code]", then the hint if not NULL
 * ("hint: ..."); returns CLI_EXIT_FAIL. */
int cli_error(const struct cli_cmd *cmd, const struct err *e,
    const char *hint_fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prints (obj) as pretty JSON with a newline and releases it. */
void cli_json_print(json_object *obj);

/*
 * Passwords for secret keys.  The source, in order: the file named by
 * (file) when not NULL (first line, without its newline); the environment
 * variable UK_PASSWORD; the terminal (/dev/tty, echo off), asking twice when
 * (confirm) is set.  Fails with "password_unavailable" when none can be had
 * (no terminal, e.g. under CI) and "password_mismatch" when the two entries
 * differ.  (buf) receives the NUL-terminated password; the caller wipes it
 * with sodium_memzero() after use.
 */
int cli_password(const char *prompt, int confirm, const char *file,
    char *buf, size_t bufsz, struct err *e);

struct sig_seckey;

/* The default secret key, $HOME/.uk/uk.key, into (out); with (create_dir)
 * $HOME/.uk is made (mode 0700) when missing. */
int cli_default_seckey(char *out, size_t outsz, int create_dir,
    struct err *e);

/* Loads the secret key (path), or the default one when NULL, into locked
 * memory; its password, only if it is encrypted, comes as cli_password()
 * says.  Release (*out) with sig_seckey_free(). */
int cli_seckey_load(const char *path, const char *password_file,
    struct sig_seckey **out, struct err *e);

/* What to tell a user whose key failed to load with (e), or NULL. */
const char *cli_seckey_hint(const struct err *e);

/* Parses "30d", "12h", "90m", "45s" or a bare number of seconds. */
int cli_parse_duration(const char *s, long long *secs);

#endif
