/*
 * fuzz-http-reply.c - libFuzzer target for uk's parser of unikerneld's
 * HTTP replies (uk-cli/http-reply.c).  The first byte of the input steers
 * (how the rest is cut into pieces, where a callback stops); the rest is
 * the reply as it would come off the socket.
 *
 * What must hold: the same outcome, status, body and end of the reply
 * whether the reply comes whole, in pieces of random sizes or a byte at a
 * time; a body never longer than the input; no body callback with nothing
 * or after it asked to stop; a stop that takes effect exactly when the
 * body reaches it; a finished parser that takes nothing more.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http-reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	char *body;
	size_t len, cap;
	size_t stop_at;		/* 0: never */
	int stopped;
};

struct outcome {
	int rc;
	int status;
	size_t used;		/* bytes taken up to the reply's end */
};

static int
on_body(void *arg, const char *p, size_t n)
{
	struct sink *s = arg;

	if (n == 0 || s->stopped || n > s->cap - s->len)
		abort();
	memcpy(s->body + s->len, p, n);
	s->len += n;
	if (s->stop_at != 0 && s->len >= s->stop_at) {
		s->stopped = 1;
		return 1;
	}
	return 0;
}

static uint32_t
next_rand(uint32_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	return *st;
}

/* Feeds (p, n) to a new parser in pieces: whole (step 0), of random sizes
 * from (seed) (step 1), a byte at a time (step 2). */
static void
run(const char *p, size_t n, int step, uint32_t seed, struct sink *s,
    struct outcome *o)
{
	struct http_reply *r;
	size_t off = 0, k, used;
	int rc = HTTP_REPLY_MORE;

	if ((r = malloc(sizeof(*r))) == NULL)
		abort();
	http_reply_init(r, on_body, s);
	o->used = 0;
	while (rc == HTTP_REPLY_MORE && off < n) {
		if (step == 0)
			k = n - off;
		else if (step == 1)
			k = 1 + next_rand(&seed) % 97;
		else
			k = 1;
		if (k > n - off)
			k = n - off;
		rc = http_reply_feed(r, p + off, k, &used);
		if (used > k || (rc == HTTP_REPLY_MORE && used != k))
			abort();
		off += used;
		o->used += used;
		if (rc == HTTP_REPLY_MORE && r->status != 0 &&
		    (r->status < 200 || r->status > 599))
			abort();
	}
	if (rc == HTTP_REPLY_MORE) {
		rc = http_reply_end(r);
		if (rc != HTTP_REPLY_DONE && rc != HTTP_REPLY_CUT)
			abort();
	}
	if ((rc == HTTP_REPLY_BAD || rc == HTTP_REPLY_CUT) && r->why == NULL)
		abort();
	if (rc == HTTP_REPLY_DONE && (r->status < 200 || r->status > 599))
		abort();
	/* Once it has ended, it stays so and takes nothing. */
	if (http_reply_feed(r, "x", 1, &used) != rc || used != 0 ||
	    http_reply_end(r) != rc)
		abort();
	o->rc = rc;
	o->status = r->status;
	free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink s[4];
	struct outcome o[4];
	const char *p = (const char *)data + 1;
	size_t n, i;
	int steps;

	if (size < 1)
		return 0;
	n = size - 1;
	steps = n <= 4096 ? 3 : 2;
	memset(s, 0, sizeof(s));
	for (i = 0; i < 4; i++) {
		s[i].cap = n;
		if ((s[i].body = malloc(n + 1)) == NULL)
			abort();
	}
	for (i = 0; i < (size_t)steps; i++)
		run(p, n, (int)i, 0x9e3779b9u ^ data[0], &s[i], &o[i]);
	for (i = 1; i < (size_t)steps; i++)
		if (o[i].rc != o[0].rc || o[i].status != o[0].status ||
		    s[i].len != s[0].len ||
		    memcmp(s[i].body, s[0].body, s[0].len) != 0 ||
		    (o[0].rc == HTTP_REPLY_DONE && o[i].used != o[0].used))
			abort();
	/* A callback that stops once it has (stop_at) bytes. */
	s[3].stop_at = 1 + data[0] % 64;
	run(p, n, 1, 0x12345678u ^ data[0], &s[3], &o[3]);
	if (s[3].len > s[0].len || memcmp(s[3].body, s[0].body, s[3].len) != 0)
		abort();
	if (s[0].len >= s[3].stop_at ? o[3].rc != HTTP_REPLY_STOPPED ||
	    s[3].len < s[3].stop_at : o[3].rc != o[0].rc)
		abort();
	for (i = 0; i < 4; i++)
		free(s[i].body);
	return 0;
}
