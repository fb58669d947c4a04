/*
 * fuzz-httpd.c - libFuzzer target for the httpd kernel's parsers of
 * outside input: the site archive (site.c) and HTTP requests (http.c).
 * The first byte picks which; the rest is the input.
 *
 * What must hold.  Archive: a loaded site's files all lie inside the
 * input and are found by their own names; sizes add up; a refusal says
 * why.  Request: what http_parse() consumes is never more than it was
 * given; the same bytes fed with one more byte give the same answer
 * (a whole request stays whole: nothing depends on what follows it); a
 * response head always ends with an empty line and names the status it
 * reports; a path never holds a control byte or a ".." segment.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_site(const uint8_t *data, size_t size)
{
	struct site s;
	char err[200];
	uint64_t total = 0;

	if (site_load(&s, data, size, err, sizeof err) < 0) {
		if (err[0] == '\0')
			abort();
		return;
	}
	for (size_t i = 0; i < s.nfiles; i++) {
		const struct site_file *f = &s.files[i], *g;

		if (f->data < data || f->size > size ||
		    f->data + f->size > data + size)
			abort();
		g = site_find(&s, f->name, strlen(f->name));
		/* A later file of the same name wins: same name, found. */
		if (g == NULL || strcmp(g->name, f->name) != 0)
			abort();
		if (strstr(f->name, "..") != NULL && (strcmp(f->name, "..") ==
		    0 || strncmp(f->name, "../", 3) == 0 ||
		    strstr(f->name, "/../") != NULL))
			abort();
		total += f->size;
	}
	if (total != s.bytes)
		abort();
	site_free(&s);
}

static void
check_response(const struct http_response *o)
{
	char status[8];

	if (o->head_len < 4 || strcmp(o->head + o->head_len - 4,
	    "\r\n\r\n") != 0)
		abort();
	memcpy(status, o->head + 9, 3);
	status[3] = '\0';
	if (atoi(status) != o->status)
		abort();
}

static void
fuzz_request(const uint8_t *data, size_t size)
{
	static struct site empty;
	struct http_request r, r2;
	struct http_response o;
	char *buf = malloc(size + 1);
	int n, n2;

	if (buf == NULL)
		return;
	memcpy(buf, data, size);
	buf[size] = 'x';
	n = http_parse(buf, size, &r);
	if (n > (int)size)
		abort();
	if (n > 0) {
		for (size_t i = 0; i < r.path_len && r.path_len != (size_t)-1;
		    i++)
			if ((unsigned char)r.path[i] < 0x20)
				abort();
		if (r.path_len != (size_t)-1 && (strstr(r.path, "/../") ||
		    strncmp(r.path, "../", 3) == 0))
			abort();
		http_respond(&empty, &r, 0, "Thu, 01 Jan 1970 00:00:00 GMT",
		    &o);
		check_response(&o);
		n2 = http_parse(buf, size + 1, &r2);
		if (n2 != n || r2.keep_alive != r.keep_alive ||
		    strcmp(r2.path, r.path) != 0)
			abort();
	} else if (n < 0) {
		http_respond(&empty, NULL, -n, NULL, &o);
		check_response(&o);
		if (!o.close)
			abort();
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_site(data + 1, size - 1);
	else
		fuzz_request(data + 1, size - 1);
	return 0;
}
