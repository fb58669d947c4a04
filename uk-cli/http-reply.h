/*
 * http-reply.h - a push parser of one HTTP/1.x reply, as unikerneld sends
 * them to uk (client.c): the status line and headers, then a body framed
 * by Content-Length, by chunked transfer coding, or by the end of the
 * connection.  No socket here: the bytes are fed as they arrive, in
 * pieces of any size, and the body goes to a callback without a copy.
 *
 * The daemon is local but not trusted to be well-formed: every line is
 * bounded, the header section too (HTTP_REPLY_HEAD_MAX, the trailers
 * apart), numbers are checked for overflow, and anything outside RFC 9112
 * that uk does not need (obsolete line folding, bare LF or CR, transfer
 * codings other than chunked, Content-Length next to Transfer-Encoding,
 * Content-Lengths that disagree, 101) makes the reply malformed.
 */
#ifndef UK_CLI_HTTP_REPLY_H
#define UK_CLI_HTTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_REPLY_HEAD_MAX (64u * 1024)	/* status line + headers */
#define HTTP_REPLY_LINE_MAX 8192u		/* one line, CRLF included */

/* What http_reply_feed() and http_reply_end() return. */
#define HTTP_REPLY_MORE 0	/* every byte taken, the reply goes on */
#define HTTP_REPLY_DONE 1	/* the reply is complete */
#define HTTP_REPLY_BAD (-1)	/* malformed: (why) says how */
#define HTTP_REPLY_STOPPED (-2)	/* the body callback asked to stop */
#define HTTP_REPLY_CUT (-3)	/* the input ended before the reply did */

struct http_reply {
	/* The body as it arrives, (len) > 0, in order; not 0 to stop. */
	int (*body)(void *arg, const char *data, size_t len);
	void *arg;
	/* The final status (100-599) once the headers are read, else 0. */
	int status;
	/* Why the reply is malformed or cut: a static string, else NULL. */
	const char *why;

	/* The rest is the parser's. */
	int state;
	int code;		/* the status of the head being read */
	int http10;		/* HTTP/1.0 */
	int has_length, chunked;
	uint64_t length;	/* Content-Length */
	uint64_t left;		/* of the body or of the chunk */
	size_t head_bytes;	/* of the header or trailer section */
	int got_any;		/* a byte was fed */
	size_t linelen;
	char line[HTTP_REPLY_LINE_MAX + 1];
};

/* Ready for a reply whose body goes to (body) with (arg); (body) may be
 * NULL to drop it. */
void http_reply_init(struct http_reply *r,
    int (*body)(void *arg, const char *data, size_t len), void *arg);

/*
 * (len) more bytes of the reply.  (*used), when not NULL, gets how many
 * were taken: all of them with HTTP_REPLY_MORE; those up to the reply's
 * end with HTTP_REPLY_DONE (what follows is not the reply's); those up to
 * the stop with HTTP_REPLY_STOPPED.  Once the reply is done, malformed or
 * stopped, every later call returns the same and takes nothing.
 */
int http_reply_feed(struct http_reply *r, const char *data, size_t len,
    size_t *used);

/* The input ended (the peer closed): HTTP_REPLY_DONE when that ends the
 * reply (a body framed by the connection, or a reply already done), else
 * HTTP_REPLY_CUT with (why) set, or what the parser already returned
 * (malformed, stopped). */
int http_reply_end(struct http_reply *r);

#endif
