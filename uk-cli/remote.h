/*
 * remote.h - what the `uk` commands that talk to unikerneld share: opening
 * the client (client.h) and reporting its failures, reading the API's JSON
 * (docs/api.md), tables, and the formats of sizes, ages and the download
 * progress bar; and `uk run`'s pieces that the unit tests reach.
 *
 * Nothing here exits.  The formatting functions are pure: they write into
 * the caller's buffer, always NUL-terminated, cut when it is short.
 */
#ifndef UK_CLI_REMOTE_H
#define UK_CLI_REMOTE_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "cli.h"
#include "client.h"

/* The exit status of `uk run` (docs in man/uk.1, EXIT STATUS). */
#define RUN_EXIT_FAILED 125	/* uk's own failure, or the guest failed */
#define RUN_EXIT_DETACHED 130	/* Ctrl-C while following the console */
#define RUN_EXIT_CRASHED 134	/* the guest crashed (128 + SIGABRT) */
#define RUN_EXIT_STOPPED 143	/* the guest was stopped (128 + SIGTERM) */

/* A client of the socket (socket) (NULL: client_socket_path()), or NULL
 * after reporting why with cli_error(). */
struct client *remote_open(const struct cli_cmd *cmd, const char *socket);

/*
 * Command lines of the commands that talk to unikerneld: the options of
 * (opts) (terminated by a NULL name), then --socket PATH, --json when
 * (json), -h/--help; (min) to (max) operands (max < 0: no limit), called
 * (what) in messages.  Returns -1 to go on with (a) filled, else the exit
 * status: CLI_EXIT_OK after --help, CLI_EXIT_USAGE after a mistake.
 * --json sets cli_json.
 */
struct remote_opt {
	const char *name;	/* the long name, "force" */
	char letter;		/* its short form, 'f', or 0 */
	int *flag;		/* a flag: set to 1; or */
	const char **value;	/* takes a value, stored here (the last one
				 * given wins); or */
	const char **list;	/* takes a value, repeatable: appended to
				 * (list), at most (maxlist), count in
				 * (*nlist) */
	size_t *nlist, maxlist;
};
struct remote_args {
	const char *socket;	/* --socket, or NULL */
	char **operands;
	int noperands;
};
#define REMOTE_OPTS_MAX 12
int remote_parse(const struct cli_cmd *cmd, int argc, char **argv,
    const struct remote_opt *opts, int json, int min, int max,
    const char *what, struct remote_args *a);

/* Members of an API object: a string (NULL when absent, null or of another
 * type), an integer (-1 when absent, null or of another type, else 0 with
 * (*out) set), an object (NULL unless it is one). */
const char *remote_str(json_object *o, const char *key);
int remote_int(json_object *o, const char *key, int64_t *out);
json_object *remote_obj(json_object *o, const char *key);

/* The array member (key) of a list reply such as {"instances":[...]},
 * borrowed, or NULL after setting daemon_bad_reply in (e). */
json_object *remote_list(json_object *reply, const char *key,
    struct err *e);

/* (s) for a terminal: copied into (buf) with control characters as '?',
 * cut to fit; "-" for NULL.  Returns (buf). */
const char *remote_clean(const char *s, char *buf, size_t bufsz);

/* The strings of the array (arr) joined with ", " into (buf), cut to
 * fit, control characters as '?'; "-" when it has none.  Returns (buf). */
const char *remote_join(json_object *arr, char *buf, size_t bufsz);

/* 500 B, 1.5 KiB, 40 KiB, 12 MiB: binary units, one decimal below 10. */
void remote_size(uint64_t bytes, char *buf, size_t bufsz);

/* A span of seconds: 45s, 5m12s, 2h05m, 3d04h (negative as 0s). */
void remote_age(int64_t secs, char *buf, size_t bufsz);

/* A Unix time as local "YYYY-MM-DD HH:MM", "-" for (t) < 0. */
void remote_date(int64_t t, char *buf, size_t bufsz);

/* Cells of an API object's integer member (key), into (buf); each returns
 * (buf).  remote_num_of: the number, "-" without one.  remote_date_of: the
 * time as remote_date() writes it.  remote_ago_of: the span from that time
 * to (now), "5m12s ago"; (none) without one. */
const char *remote_num_of(json_object *o, const char *key, char *buf,
    size_t bufsz);
const char *remote_date_of(json_object *o, const char *key, char *buf,
    size_t bufsz);
const char *remote_ago_of(json_object *o, const char *key, int64_t now,
    const char *none, char *buf, size_t bufsz);

/* The download line of `uk run` for a terminal (width) columns wide (0:
 * 80): "downloading [######----]  60% 24 KiB / 40 KiB"; the bar takes what
 * the width leaves, 10 to 40 cells.  Without a (total):
 * "downloading 24 KiB". */
void remote_progress(char *buf, size_t bufsz, uint64_t done, uint64_t total,
    unsigned width);

/* `uk run`'s exit status for an instance that has ended: exited, its
 * exit_code (0..255; RUN_EXIT_FAILED when unknown); crashed,
 * RUN_EXIT_CRASHED; stopped, RUN_EXIT_STOPPED; failed, RUN_EXIT_FAILED.
 * -1 for any other state (it has not ended). */
int remote_exit_status(json_object *instance);

/* A table printed with columns as wide as their widest cell; cells are
 * copied, control characters shown as '?'. */
#define REMOTE_TABLE_COLS 8
struct remote_table {
	size_t ncols, nrows, cap;
	char **cells;		/* nrows * ncols, the header row first */
	size_t width[REMOTE_TABLE_COLS];
};
void remote_table_init(struct remote_table *t, size_t ncols,
    const char *const *header);
/* Adds a row of (t->ncols) cells (NULL shows as "-"); -1 out of memory. */
int remote_table_add(struct remote_table *t, const char *const *cells);
/* Prints (t) to (f) and frees its rows. */
void remote_table_print(struct remote_table *t, FILE *f);

/*
 * `uk image ls`, `uk trust ls`, `uk feed ls`, `uk ps`: the command line
 * (remote_parse() with (opts), --json, no operand), GET (path), then the
 * array (key) of the reply: with --json as the API has it, else a table
 * headed (header), a row added by (row) per element.  Returns the exit
 * status.
 */
struct remote_ls {
	const char *path;	/* "/v1/images" */
	const char *key;	/* "images" */
	const char *header[REMOTE_TABLE_COLS];	/* NULL after the last */
	/* Adds the row of (item) to (t), (now) being the time of the
	 * listing; -1 out of memory. */
	int (*row)(struct remote_table *t, json_object *item, int64_t now);
};
int remote_ls(const struct cli_cmd *cmd, int argc, char **argv,
    const struct remote_opt *opts, const struct remote_ls *ls);

/*
 * `uk image|trust|feed SUBCOMMAND ...`: runs the one of (subs) (NULL
 * after the last) whose name ends in " SUBCOMMAND" with argv from
 * SUBCOMMAND on.  Without one, or with -h/--help, prints the usage of
 * (cmd).  Returns the exit status.
 */
int remote_subcommand(const struct cli_cmd *cmd, int argc, char **argv,
    const struct cli_cmd *const *subs);

/* The --socket and -h lines of the commands' help, their descriptions
 * after (pad), the spaces that line them up with the other options'. */
#define REMOTE_SOCKET_HELP(pad) \
	"  --socket PATH" pad "unikerneld's socket (default: $UK_SOCKET, " \
	"else\n"                                                           \
	"               " pad "/run/unikerneld.sock)\n"                     \
	"  -h, --help   " pad "show this help\n"

/* --- uk run (cmd-run.c) --- */

#define RUN_PUBLISH_MAX 32	/* -p forwards, as the daemon takes */

/* One -p [IP:]HOST:GUEST[/tcp|/udp]. */
struct run_publish {
	char host_ip[16];	/* "" for the daemon's default, 127.0.0.1 */
	unsigned host, guest;	/* 1..65535 */
	const char *proto;	/* "tcp" or "udp" */
};

/* Parses (s) into (p); -1 with the reason in (why) when it is no
 * forward. */
int run_publish_parse(const char *s, struct run_publish *p, char *why,
    size_t whysz);

struct run_opts {
	const char *url;
	const char *name;
	const char *backend;
	const char *version;	/* a version range */
	const char *stability;
	const char *restart;	/* no, on-failure, always */
	const char *cmdline;
	const char *socket;
	const char *network;	/* none, user, bridge; NULL: the daemon's
				 * choice (user with -p, else none) */
	struct run_publish publish[RUN_PUBLISH_MAX];
	size_t npublish;
	long memory_mib;	/* 0: the feed's */
	long vcpus;		/* 0: the image's */
	int detach;
};

/* Parses `uk run`'s (argc, argv) (argv[0] is "run") into (o), checking
 * every value it can without the daemon.  Returns -1 to go on, else the
 * exit status: CLI_EXIT_OK after --help, CLI_EXIT_USAGE after a
 * mistake (reported on stderr). */
int run_parse_args(const struct cli_cmd *cmd, int argc, char **argv,
    struct run_opts *o);

/* The body of POST /v1/instances for (o): only what was given. */
json_object *run_request(const struct run_opts *o);

#endif
