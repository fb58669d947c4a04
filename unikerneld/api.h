/*
 * api.h - unikerneld's REST API (docs/api.md): a libmicrohttpd server, a
 * table of routes, one table from error codes to HTTP statuses.
 *
 * The server listens on the unix socket of the configuration (made here:
 * bound, given its owner and mode, refused when another daemon answers on
 * it, a stale one replaced) and, when `listen` is set, on TCP, where every
 * request must carry "Authorization: Bearer <token>".  Each connection has
 * a thread of its own, so a handler may block (a console followed, the
 * event stream) without holding up other requests.
 *
 * Routes: {method, pattern, handler}.  A pattern is a path whose segments
 * may be "{name}" captures, each matching one non-empty segment.  The
 * server answers 404 when no pattern matches the path and 405 (with
 * Allow) when patterns match but not the method; HEAD is served as GET.
 * Request bodies are capped at API_BODY_MAX (413 body_too_large) and, when
 * not empty, must be one JSON object read by common/jsonstrict.h (400
 * bad_json / bad_request); an empty body is taken as {}.
 *
 * Handlers run in the connection's thread.  They answer with one of the
 * api_reply_*() calls and return 0, or return -1 without a reply (the
 * client then gets 500 internal_error).  Every error reaches the client as
 * {"error":{"code":"...","message":"..."}} with the status api_status()
 * gives for the code.
 *
 * The client's identity on the unix socket comes from the socket's peer
 * credentials (SO_PEERCRED), never from the request; it is logged with
 * each request and handlers may read it with api_peer().
 *
 * Errors of api_start() follow err.h: "api_socket_in_use" (another daemon
 * answers on the socket or holds its lock), "api_socket" (the socket could
 * not be made), "api_listen" (the TCP address), "api_tls", "api_start"
 * (libmicrohttpd refused), "out_of_memory".
 */
#ifndef UNIKERNELD_API_H
#define UNIKERNELD_API_H

#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "conf.h"
#include "err.h"
#include "jsonstrict.h"

#define API_VERSION 1		/* the "1" of /v1 */
#define API_BODY_MAX (64 * 1024)

struct api;		/* the server */
struct api_request;	/* one request, valid while its handler runs */

struct api_route {
	const char *method;	/* "GET", "POST", "DELETE" */
	const char *pattern;	/* "/v1/instances/{name}/start" */
	int (*fn)(struct api_request *req);
};

/* The routes api.c serves by itself (version and health), terminated by a
 * row with a NULL method; the daemon's table is ukd_routes[] (routes.h). */
extern const struct api_route api_routes[];
int api_route_version(struct api_request *req);
int api_route_health(struct api_request *req);

struct api_params {
	const struct config *cfg;	/* kept; must outlive the server */
	const struct api_route *routes;	/* NULL: api_routes */
	/* The built-in backends for /v1/version, NULL-terminated; NULL for
	 * none. */
	const char *const *backends;
	void *arg;			/* for handlers: api_arg() */
	/* Where the server's messages go (a request per line at LOG_DEBUG,
	 * failed ones at LOG_INFO, problems at LOG_WARNING or LOG_ERR);
	 * called from any thread.  NULL: nowhere. */
	void (*log)(int prio, const char *msg);
};

/* Makes the sockets and starts serving.  On failure nothing is left
 * behind (a stale socket found on the way may have been removed). */
int api_start(const struct api_params *p, struct api **out, struct err *e);

/* Stops serving: streams end, open connections are closed and their
 * threads joined, then the unix socket is removed.  NULL is a no-op. */
void api_stop(struct api *api);

/* Where a client connected from. */
struct api_peer {
	int local;		/* 1: the unix socket, uid/gid/pid valid */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char addr[64];		/* "unix", "127.0.0.1:4321", "[::1]:80" */
};

/* For handlers.  Strings are valid while the handler runs. */
const char *api_method(const struct api_request *req);
const char *api_path(const struct api_request *req);
/* The value captured by "{name}" in the route's pattern, or NULL. */
const char *api_capture(const struct api_request *req, const char *name);
/* A query argument ("?tail=10"), or NULL. */
const char *api_query(const struct api_request *req, const char *name);
/* The body as a JSON object, borrowed from the request ({} when empty). */
json_object *api_body(const struct api_request *req);
const struct api_peer *api_peer(const struct api_request *req);
void *api_arg(const struct api_request *req);

/* Codes for a handler's own checks of the body with jsonstrict_member()
 * and jsonstrict_check_keys(): all "bad_request". */
extern const struct jsonstrict_rules api_body_rules;

/* Answers (obj) as JSON with (status); takes (obj) over in every case.
 * Returns 0, or -1 when out of memory. */
int api_reply_json(struct api_request *req, unsigned status,
    json_object *obj);

/* Answers a copy of (len) bytes of (body) as (type) with (status), e.g.
 * a JSON document serialised before.  Returns 0, or -1 when out of
 * memory. */
int api_reply_body(struct api_request *req, unsigned status,
    const char *type, const char *body, size_t len);

/* Answers (e) as {"error":{...}} with api_status(e->code).  Returns 0. */
int api_reply_error(struct api_request *req, const struct err *e);

/* Like api_reply_error() with a "details" member in the error object
 * (docs/api.md: unknown_key and key_not_trusted_for_domain carry one):
 * {"error":{"code":...,"message":...,"details":{...}}}.  Takes (details)
 * over in every case; NULL gives the same reply as api_reply_error().
 * Returns 0. */
int api_reply_error_details(struct api_request *req, const struct err *e,
    json_object *details);

/* The same from a code and a printf-style message. */
int api_reply_errorf(struct api_request *req, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * A response whose length is not known in advance (a console followed,
 * the event stream), sent with chunked encoding.  (produce) is called in
 * the connection's thread to fill (buf) with up to (max) bytes and returns:
 *   > 0			that many bytes were written;
 *   API_STREAM_END		the response is complete;
 *   API_STREAM_AGAIN		nothing yet: it waited up to about a second
 *				for something to send (it must wait, or the
 *				thread spins), and will be asked again
 *				unless the client left or the server stops;
 *   API_STREAM_ERROR		cut the response short.
 * (release), if not NULL, is called with (arg) once the response is done
 * with, also when this call fails.  Returns 0, or -1 when out of memory.
 */
#define API_STREAM_END 0
#define API_STREAM_ERROR (-1)
#define API_STREAM_AGAIN (-2)
int api_reply_stream(struct api_request *req, unsigned status,
    const char *content_type,
    ssize_t (*produce)(void *arg, char *buf, size_t max), void *arg,
    void (*release)(void *arg));

/* The HTTP status for an error code: one table in api.c, 500 for codes it
 * does not know. */
unsigned api_status(const char *code);

/* The handler of routes not written yet: 501 not_implemented. */
int api_not_implemented(struct api_request *req);

#endif
