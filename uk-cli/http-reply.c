/*
 * http-reply.c - one HTTP/1.x reply, parsed as it arrives (http-reply.h).
 *
 * Lines (the status line, headers, chunk sizes, trailers) are gathered in
 * (r->line) up to their LF, whatever the pieces they come in; body bytes
 * go straight from the caller's buffer to the callback.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "http-reply.h"

enum {
	ST_STATUS,		/* the status line */
	ST_HEADER,		/* header lines, up to an empty one */
	ST_BODY_LENGTH,		/* (left) bytes of a Content-Length body */
	ST_BODY_EOF,		/* a body up to the end of the input */
	ST_CHUNK_SIZE,		/* a chunk-size line */
	ST_CHUNK_DATA,		/* (left) bytes of a chunk */
	ST_CHUNK_CR,		/* the CRLF after a chunk's data */
	ST_CHUNK_LF,
	ST_TRAILER,		/* trailer lines, up to an empty one */
	ST_DONE,
	ST_BAD,
	ST_STOPPED,
	ST_CUT,
};

void
http_reply_init(struct http_reply *r,
    int (*body)(void *arg, const char *data, size_t len), void *arg)
{
	memset(r, 0, offsetof(struct http_reply, line));
	r->line[0] = '\0';
	r->body = body;
	r->arg = arg;
	r->state = ST_STATUS;
}

static int
bad(struct http_reply *r, const char *why)
{
	r->state = ST_BAD;
	r->why = why;
	return HTTP_REPLY_BAD;
}

/* tchar of RFC 9110: the bytes of a header's name. */
static int
is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int
hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* (s, n) is (word), ASCII letters in any case. */
static int
same_word(const char *s, size_t n, const char *word)
{
	size_t i;
	char ch;

	if (n != strlen(word))
		return 0;
	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch != word[i])
			return 0;
	}
	return 1;
}

/*
 * Takes bytes from (p, n) at (*i) into (r->line) up to and with a LF.
 * 1: a whole line is there, its CRLF cut, NUL-terminated, (*len) long;
 * 0: every byte taken, no LF yet; HTTP_REPLY_BAD.  (head): the bytes
 * count in the header section.
 */
static int
take_line(struct http_reply *r, const char *p, size_t n, size_t *i,
    int head, size_t *len)
{
	const char *lf = memchr(p + *i, '\n', n - *i);
	size_t k = lf != NULL ? (size_t)(lf - (p + *i)) + 1 : n - *i;
	size_t j;
	unsigned char ch;

	if (k > HTTP_REPLY_LINE_MAX - r->linelen)
		return bad(r, "a line over 8192 bytes");
	if (head) {
		if (k > HTTP_REPLY_HEAD_MAX - r->head_bytes)
			return bad(r, "a header section over 64 KiB");
		r->head_bytes += k;
	}
	memcpy(r->line + r->linelen, p + *i, k);
	r->linelen += k;
	*i += k;
	if (lf == NULL)
		return 0;
	if (r->linelen < 2 || r->line[r->linelen - 2] != '\r')
		return bad(r, "a line ending in a bare LF");
	*len = r->linelen - 2;
	r->line[*len] = '\0';
	r->linelen = 0;
	for (j = 0; j < *len; j++) {
		ch = (unsigned char)r->line[j];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return bad(r, "a control character in a line");
	}
	return 1;
}

/* "HTTP/1.x NNN reason" */
static int
status_line(struct http_reply *r, const char *s, size_t n)
{
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !is_digit(s[7]) ||
	    s[8] != ' ' || !is_digit(s[9]) || !is_digit(s[10]) ||
	    !is_digit(s[11]) || (n > 12 && s[12] != ' '))
		return bad(r, "a malformed status line");
	if (s[9] < '1' || s[9] > '5')
		return bad(r, "a status out of 100-599");
	r->http10 = s[7] == '0';
	r->length = 0;
	r->has_length = 0;
	r->chunked = 0;
	r->status = 0;
	r->code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	r->state = ST_HEADER;
	return HTTP_REPLY_MORE;
}

/* "Name: value", of a header or, with (trailer), of a trailer. */
static int
header_line(struct http_reply *r, const char *s, size_t n, int trailer)
{
	size_t i = 0, vs, ve;
	uint64_t v = 0;
	unsigned d;

	if (s[0] == ' ' || s[0] == '\t')
		return bad(r, "a folded header line");
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0 || i == n || s[i] != ':')
		return bad(r, "a malformed header line");
	for (vs = i + 1; vs < n && (s[vs] == ' ' || s[vs] == '\t'); vs++)
		;
	for (ve = n; ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'); ve--)
		;
	if (trailer)
		return HTTP_REPLY_MORE;
	if (same_word(s, i, "content-length")) {
		if (vs == ve)
			return bad(r, "an empty Content-Length");
		for (; vs < ve; vs++) {
			if (!is_digit(s[vs]))
				return bad(r, "a Content-Length that is not "
				    "a number");
			d = (unsigned)(s[vs] - '0');
			if (v > (UINT64_MAX - d) / 10)
				return bad(r, "a Content-Length out of range");
			v = v * 10 + d;
		}
		if (r->has_length && r->length != v)
			return bad(r, "Content-Lengths that disagree");
		r->has_length = 1;
		r->length = v;
	} else if (same_word(s, i, "transfer-encoding")) {
		if (r->chunked)
			return bad(r, "Transfer-Encoding given twice");
		if (!same_word(s + vs, ve - vs, "chunked"))
			return bad(r, "a transfer coding other than chunked");
		r->chunked = 1;
	}
	return HTTP_REPLY_MORE;
}

/* The empty line after the headers. */
static int
head_end(struct http_reply *r)
{
	int code = r->code;

	if (code < 200) {
		/* 1xx: an interim reply, the real one follows. */
		if (code == 101)
			return bad(r, "101 Switching Protocols unasked");
		r->state = ST_STATUS;
		return HTTP_REPLY_MORE;
	}
	if (r->chunked && r->has_length)
		return bad(r, "both Content-Length and Transfer-Encoding");
	if (r->chunked && r->http10)
		return bad(r, "chunked transfer coding in HTTP/1.0");
	r->status = code;
	if (code == 204 || code == 304) {
		r->state = ST_DONE;
	} else if (r->chunked) {
		r->state = ST_CHUNK_SIZE;
	} else if (r->has_length) {
		r->left = r->length;
		r->state = r->length == 0 ? ST_DONE : ST_BODY_LENGTH;
	} else {
		r->state = ST_BODY_EOF;
	}
	return r->state == ST_DONE ? HTTP_REPLY_DONE : HTTP_REPLY_MORE;
}

/* "1a2b[;ext...]" */
static int
chunk_size_line(struct http_reply *r, const char *s, size_t n)
{
	uint64_t v = 0;
	size_t i, digits;
	int d;

	for (i = 0; i < n && (d = hex_value(s[i])) >= 0; i++) {
		if (v > (UINT64_MAX >> 4))
			return bad(r, "a chunk size out of range");
		v = v << 4 | (uint64_t)d;
	}
	if (i == 0)
		return bad(r, "a chunk size that is not hexadecimal");
	digits = i;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n ? s[i] != ';' : i != digits)
		return bad(r, "junk after a chunk size");
	/* Chunk extensions, if any, are passed over (control characters
	 * were refused with the line). */
	if (v == 0) {
		r->head_bytes = 0;
		r->state = ST_TRAILER;
	} else {
		r->left = v;
		r->state = ST_CHUNK_DATA;
	}
	return HTTP_REPLY_MORE;
}

/* A whole line (r->line, (len) long) in the state it ends. */
static int
line(struct http_reply *r, size_t len)
{
	switch (r->state) {
	case ST_STATUS:
		return status_line(r, r->line, len);
	case ST_HEADER:
		if (len == 0)
			return head_end(r);
		return header_line(r, r->line, len, 0);
	case ST_CHUNK_SIZE:
		return chunk_size_line(r, r->line, len);
	case ST_TRAILER:
		if (len == 0) {
			r->state = ST_DONE;
			return HTTP_REPLY_DONE;
		}
		return header_line(r, r->line, len, 1);
	default:
		return bad(r, "a line where none goes");
	}
}

/* (n) body bytes to the callback; HTTP_REPLY_STOPPED when it says so. */
static int
give(struct http_reply *r, const char *p, size_t n)
{
	if (n == 0 || r->body == NULL || r->body(r->arg, p, n) == 0)
		return HTTP_REPLY_MORE;
	r->state = ST_STOPPED;
	return HTTP_REPLY_STOPPED;
}

/* The result of a reply that has ended, one way or another. */
static int
final(const struct http_reply *r)
{
	switch (r->state) {
	case ST_DONE:
		return HTTP_REPLY_DONE;
	case ST_BAD:
		return HTTP_REPLY_BAD;
	case ST_STOPPED:
		return HTTP_REPLY_STOPPED;
	case ST_CUT:
		return HTTP_REPLY_CUT;
	default:
		return HTTP_REPLY_MORE;
	}
}

int
http_reply_feed(struct http_reply *r, const char *p, size_t n, size_t *used)
{
	size_t i = 0, k, len = 0;
	int rc = final(r);

	if (rc == HTTP_REPLY_MORE && n > 0)
		r->got_any = 1;
	while (rc == HTTP_REPLY_MORE && i < n) {
		switch (r->state) {
		case ST_STATUS:
		case ST_HEADER:
		case ST_CHUNK_SIZE:
		case ST_TRAILER:
			rc = take_line(r, p, n, &i, r->state != ST_CHUNK_SIZE,
			    &len);
			if (rc == 1)
				rc = line(r, len);
			break;
		case ST_BODY_LENGTH:
		case ST_CHUNK_DATA:
			k = n - i < r->left ? n - i : (size_t)r->left;
			r->left -= k;
			rc = give(r, p + i, k);
			i += k;
			if (rc == HTTP_REPLY_MORE && r->left == 0) {
				if (r->state == ST_BODY_LENGTH) {
					r->state = ST_DONE;
					rc = HTTP_REPLY_DONE;
				} else {
					r->state = ST_CHUNK_CR;
				}
			}
			break;
		case ST_BODY_EOF:
			rc = give(r, p + i, n - i);
			i = n;
			break;
		case ST_CHUNK_CR:
		case ST_CHUNK_LF:
			if (p[i] != (r->state == ST_CHUNK_CR ? '\r' : '\n')) {
				rc = bad(r, "a chunk not followed by CRLF");
				break;
			}
			i++;
			r->state = r->state == ST_CHUNK_CR ? ST_CHUNK_LF :
			    ST_CHUNK_SIZE;
			break;
		default:
			rc = final(r);
			break;
		}
	}
	if (used != NULL)
		*used = i;
	return rc;
}

int
http_reply_end(struct http_reply *r)
{
	switch (r->state) {
	case ST_BODY_EOF:
		r->state = ST_DONE;
		return HTTP_REPLY_DONE;
	case ST_DONE:
	case ST_BAD:
	case ST_STOPPED:
	case ST_CUT:
		return final(r);
	default:
		r->why = r->got_any ? "the reply ended before its end" :
		    "the connection closed without a reply";
		r->state = ST_CUT;
		return HTTP_REPLY_CUT;
	}
}
