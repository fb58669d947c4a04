/*
 * http.h - httpd's HTTP/1.1 (RFC 9110, 9112) without the network: parses
 * one request out of the bytes a connection received and decides the
 * response (status, headers, which file).  Plain C over memory, built
 * into the kernel and, for the unit tests and the fuzzer, on the host.
 *
 * What it speaks: GET and HEAD of the files of a site (site.h);
 * persistent connections (HTTP/1.1 unless "Connection: close", HTTP/1.0
 * only with "Connection: keep-alive"); pipelined requests, answered in
 * order.  What it refuses, with a status and closing the connection
 * where the request cannot be delimited: a malformed request line or
 * header (400), a request head over HTTP_HEAD_MAX (431), a body
 * announced over HTTP_BODY_MAX (413), Transfer-Encoding (501), a
 * version other than 1.0 and 1.1 (505).  Other methods get 405 with
 * "Allow: GET, HEAD", missing files 404.
 */
#ifndef HTTPD_HTTP_H
#define HTTPD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "site.h"

#define HTTP_HEAD_MAX	8192	/* request line and headers, bytes */
#define HTTP_BODY_MAX	1024	/* a body announced with GET: read, dropped */
#define HTTP_PATH_MAX	SITE_NAME_MAX

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_request {
	enum http_method method;
	int minor;		/* HTTP/1.(minor) */
	int keep_alive;		/* the connection may serve another */
	size_t length;		/* bytes of the request, head and body */
	char path[HTTP_PATH_MAX];	/* decoded, without "/" and query */
	size_t path_len;
	int dir;		/* the path ended in "/" (or was "/") */
};

/*
 * Parses the request at the start of (buf), (len) bytes.  Returns:
 *   > 0: a whole request of that many bytes, described in (*r);
 *   0:   not yet whole: read more (unless len >= HTTP_HEAD_MAX + the
 *        body, which returns 431 or 413 instead);
 *   < 0: minus the status to answer before closing (400, 413, 431, 501,
 *        505).
 * A path that is not found yet well formed is not an error here.
 */
int http_parse(const char *buf, size_t len, struct http_request *r);

struct http_response {
	int status;
	const struct site_file *file;	/* the body, or NULL */
	const char *body;		/* an error page, when no file */
	size_t body_len;
	int send_body;			/* 0 for HEAD */
	int close;			/* close after sending */
	size_t head_len;		/* bytes of (head) */
	char head[1280];		/* status line and headers */
};

/*
 * Decides the response to (r) from (site): the status, the file or
 * error page, and the head, with Date (the HTTP date (date), or none when
 * NULL), Server, Content-Type, Content-Length, Connection and, for 405,
 * Allow.  (status), when non-zero, is an error http_parse() returned
 * (made positive), answered without a request: (r) is then NULL.
 */
void http_respond(const struct site *site, const struct http_request *r,
    int status, const char *date, struct http_response *out);

/* The IMF-fixdate of (unix_seconds): "Sun, 06 Nov 1994 08:49:37 GMT"
 * into (buf), which must have 30 bytes. */
void http_date(uint64_t unix_seconds, char buf[30]);

/* The media type of a file name, from its extension. */
const char *http_content_type(const char *name);

#endif
