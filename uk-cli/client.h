/*
 * client.h - uk's side of unikerneld's REST API (docs/api.md): HTTP/1.1
 * over the daemon's unix socket, one connection per request, the replies
 * read by http-reply.h's parser.
 *
 * Contract, once for the whole header:
 * - Functions return 0 on success and -1 on failure with (e) set (err.h);
 *   nothing here prints or exits.
 * - Codes of the client itself:
 *     daemon_unreachable   nothing answers on the socket (no daemon, a
 *                          stale socket, no permission); the message names
 *                          the socket and says how to start unikerneld
 *     daemon_bad_reply     the answer is not what docs/api.md says (not
 *                          JSON, an error without an error object, a line
 *                          over CLIENT_LINE_MAX, a reply over
 *                          CLIENT_REPLY_MAX, malformed HTTP)
 *     daemon_disconnected  the connection broke in the middle of a reply
 *     interrupted          the cancel flag (client_set_cancel()) was raised
 *     invalid_argument     a socket path or a path segment too long
 *     out_of_memory
 *   plus every code the daemon answers with ({"error":{"code","message",
 *   "details"}}).  Those are not static strings: (e)->code then points into
 *   the client and stays valid until its next request or client_free();
 *   client_details() has the error's "details" object, if it had one.
 * - Messages from the daemon are kept as they are, except that control
 *   characters become spaces, so that a message stays one line.
 * - A struct client is for one thread.
 */
#ifndef UK_CLI_CLIENT_H
#define UK_CLI_CLIENT_H

#include <signal.h>
#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

#define CLIENT_SOCKET_DEFAULT "/run/unikerneld.sock"
#define CLIENT_SOCKET_ENV "UK_SOCKET"
#define CLIENT_REPLY_MAX (16u * 1024 * 1024)	/* a JSON reply */
#define CLIENT_LINE_MAX (1024u * 1024)		/* one NDJSON line */
#define CLIENT_PATH_MAX 2048			/* a request's path */
#define CLIENT_CODE_MAX 64			/* a daemon's error code */

/* A feed's id in the API: the first 16 hex digits of the SHA-256 of its
 * URI, as the daemon computes it. */
#define CLIENT_FEED_ID_LEN 16

struct client;

/* The socket to use: (opt) when not NULL (--socket), else $UK_SOCKET when
 * set and not empty, else CLIENT_SOCKET_DEFAULT.  Borrowed strings. */
const char *client_socket_path(const char *opt);

/* A client of the daemon on the socket client_socket_path(socket) says.
 * Nothing connects yet.  NULL with (e) set: invalid_argument (a path
 * longer than a unix socket's), out_of_memory. */
struct client *client_new(const char *socket, struct err *e);

/* Closes the connection and frees (c); NULL is a no-op. */
void client_free(struct client *c);

/* The socket's path, as given to client_new() after defaults. */
const char *client_socket(const struct client *c);

/* Requests under way end, within about a second, with "interrupted" once
 * (*flag) is not zero; a signal handler may set it.  NULL: never. */
void client_set_cancel(struct client *c, volatile sig_atomic_t *flag);

/* The HTTP status of the last reply, 0 when there was none. */
long client_status(const struct client *c);

/* The "details" object of the last error (borrowed, valid until the next
 * request or client_free()), or NULL. */
json_object *client_details(const struct client *c);

/*
 * (method) (path) with (body), if not NULL, as a JSON request body (only
 * read).  A 2xx reply: 0 and its JSON in (*out), which the caller releases
 * with json_object_put(); (out) may be NULL to drop it.  Any other status:
 * -1 with the daemon's error in (e).
 */
int client_call(struct client *c, const char *method, const char *path,
    json_object *body, json_object **out, struct err *e);

/* How client_stream() hands a reply over. */
enum client_stream_mode {
	CLIENT_STREAM_LINES,	/* one call per line without its newline,
				 * NUL-terminated; empty lines skipped; a last
				 * line without a newline counts */
	CLIENT_STREAM_CHUNKS,	/* each piece as it arrives, not terminated */
};

/* What a stream callback returns. */
#define CLIENT_STREAM_NEXT 0	/* go on */
#define CLIENT_STREAM_STOP 1	/* end the request there: not an error */

/*
 * A request whose 2xx reply is a stream (NDJSON, a console): (fn) is
 * called from within as the reply arrives, with (arg), and returns
 * CLIENT_STREAM_NEXT, CLIENT_STREAM_STOP, or -1 after setting (fe) to make
 * client_stream() fail with that error.  A reply that is not 2xx is read
 * whole and fails as client_call() does; (fn) never sees it.  Returns 0
 * when the stream ended or (fn) stopped it.
 */
int client_stream(struct client *c, const char *method, const char *path,
    json_object *body, enum client_stream_mode mode,
    int (*fn)(void *arg, const char *data, size_t len, struct err *fe),
    void *arg, struct err *e);

/* An {"code","message","details"?} object, as the daemon sends inside
 * errors and progress lines, into (e) as a failed request would set it
 * (the code kept in (c), the details with client_details()).  Returns -1;
 * daemon_bad_reply when (obj) is not such an object. */
int client_error_from_json(struct client *c, json_object *obj,
    struct err *e);

/* (prefix) + (seg) percent-encoded as one path segment (or query value) +
 * (suffix) into (out): "/v1/instances/" "a b" "/stop" gives
 * "/v1/instances/a%20b/stop".  (seg) and (suffix) may be NULL.  Every byte
 * but A-Z a-z 0-9 - . _ ~ is encoded.  invalid_argument when it does not
 * fit (outsz). */
int client_path(char *out, size_t outsz, const char *prefix, const char *seg,
    const char *suffix, struct err *e);

/* The id of the feed (uri): CLIENT_FEED_ID_LEN lowercase hex digits. */
void client_feed_id(const char *uri, char id[CLIENT_FEED_ID_LEN + 1]);

#endif
