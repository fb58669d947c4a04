/*
 * test-httpd.c - the httpd kernel's archive index (site.c) and HTTP code
 * (http.c), built for the host.  Archives are written here block by block
 * from the ustar layout; tests/integration/httpd.sh serves one GNU tar
 * made, under QEMU.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "rt.h"
#include "site.h"
#include "tap.h"

struct tar {
	unsigned char buf[64 * 512];
	size_t len;
};

/* Appends a header for (name) ((prefix) may be NULL), type (type), and
 * (size) bytes of (data); (bad_sum) corrupts the checksum. */
static void
tar_add(struct tar *t, const char *prefix, const char *name, char type,
    const char *data, size_t size, int bad_sum)
{
	unsigned char *h = t->buf + t->len;
	unsigned sum = 0;

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 108, "0000000", 7);
	memcpy(h + 116, "0000000", 7);
	snprintf((char *)h + 124, 12, "%011zo", size);
	memcpy(h + 136, "14524772040", 11);	/* 1700000800 */
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (prefix != NULL)
		memcpy(h + 345, prefix, strlen(prefix));
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum + (bad_sum ? 1 : 0));
	t->len += 512;
	if (size > 0) {
		memcpy(t->buf + t->len, data, size);
		t->len += (size + 511) / 512 * 512;
	}
}

static void
tar_end(struct tar *t)
{
	memset(t->buf + t->len, 0, 1024);
	t->len += 1024;
}

static const char index_html[] = "<!doctype html><title>hi</title>";
static const char css[] = "body { color: black }";

static void
make_site(struct tar *t)
{
	memset(t, 0, sizeof(*t));
	tar_add(t, NULL, "./", '5', NULL, 0, 0);
	tar_add(t, NULL, "./index.html", '0', index_html, strlen(index_html),
	    0);
	tar_add(t, NULL, "css/", '5', NULL, 0, 0);
	tar_add(t, NULL, "css/site.css", '0', css, strlen(css), 0);
	tar_add(t, "docs/deep", "page.html", '0', "deep", 4, 0);
	tar_add(t, NULL, "docs/deep/index.html", '\0', "idx", 3, 0);
	tar_end(t);
}

static void
test_site(void)
{
	struct tar t;
	struct site s;
	const struct site_file *f;
	char err[200];

	make_site(&t);
	is_int(site_load(&s, t.buf, t.len, err, sizeof err), 0,
	    "a site loads");
	is_int((long long)s.nfiles, 4, "four files, directories implied");
	f = site_find(&s, "index.html", 10);
	ok(f != NULL && f->size == strlen(index_html) &&
	    memcmp(f->data, index_html, f->size) == 0, "index.html found, "
	    "\"./\" dropped, data in place");
	ok(f != NULL && f->mtime == 1700000800, "mtime read");
	ok(site_find(&s, "css/site.css", 12) != NULL, "css/site.css found");
	ok(site_find(&s, "docs/deep/page.html", 19) != NULL,
	    "prefix field joined to the name");
	ok(site_find(&s, "css", 3) == NULL, "a directory is not a file");
	ok(site_find(&s, "index.htm", 9) == NULL, "no prefix match");
	ok(site_find(&s, "index.html.x", 10) != NULL,
	    "length bounds the name, not NUL");
	is_int((long long)s.bytes, (long long)(strlen(index_html) +
	    strlen(css) + 7), "bytes summed");
	site_free(&s);

	memset(&t, 0, sizeof t);
	tar_end(&t);
	is_int(site_load(&s, t.buf, t.len, err, sizeof err), 0,
	    "an empty archive loads");
	ok(s.nfiles == 0 && site_find(&s, "x", 1) == NULL, "and has nothing");
	site_free(&s);

	/* Each refusal names what is wrong. */
	make_site(&t);
	is_int(site_load(&s, t.buf, t.len - 1024, err, sizeof err), -1,
	    "no end blocks: refused");
	ok(strstr(err, "ends inside a header") != NULL, "said: %s", err);
	memset(&t, 0, sizeof t);
	tar_add(&t, NULL, "a.html", '0', "x", 1, 1);
	tar_end(&t);
	is_int(site_load(&s, t.buf, t.len, err, sizeof err), -1,
	    "bad checksum: refused");
	ok(strstr(err, "a.html: header checksum mismatch") != NULL, "said: %s",
	    err);
	memset(&t, 0, sizeof t);
	tar_add(&t, NULL, "link", '2', NULL, 0, 0);
	tar_end(&t);
	is_int(site_load(&s, t.buf, t.len, err, sizeof err), -1,
	    "symlink: refused");
	ok(strstr(err, "link: not a regular file") != NULL, "said: %s", err);
	memset(&t, 0, sizeof t);
	tar_add(&t, NULL, "../etc/passwd", '0', "x", 1, 0);
	tar_end(&t);
	is_int(site_load(&s, t.buf, t.len, err, sizeof err), -1,
	    "\"..\" in a name: refused");
	memset(&t, 0, sizeof t);
	tar_add(&t, NULL, "big", '0', "x", 1, 0);
	/* claim 4 KiB of data the archive does not have */
	memcpy(t.buf + 124, "00000010000", 11);
	{
		unsigned sum = 0;

		memset(t.buf + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += t.buf[i];
		snprintf((char *)t.buf + 148, 8, "%06o", sum);
	}
	is_int(site_load(&s, t.buf, t.len, err, sizeof err), -1,
	    "data past the end: refused");
	ok(strstr(err, "big: file data runs past") != NULL, "said: %s", err);
}

static int
parse(const char *req, struct http_request *r)
{
	return http_parse(req, strlen(req), r);
}

static void
test_parse(void)
{
	struct http_request r;
	const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	    "HEAD /b/ HTTP/1.1\r\n\r\n";
	char big[HTTP_HEAD_MAX + 10];
	int n;

	n = parse("GET /index.html?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	is_int(n, 41, "GET: whole request length");
	ok(r.method == HTTP_GET && r.minor == 1 && r.keep_alive &&
	    strcmp(r.path, "index.html") == 0 && !r.dir,
	    "GET: method, version, keep-alive, path without query");
	n = parse(two, &r);
	is_int(n, 28, "pipelined: the first request only");
	is_int(parse(two + n, &r), 21, "then the second");
	ok(r.method == HTTP_HEAD && r.dir && strcmp(r.path, "b/") == 0,
	    "HEAD of a directory");
	is_int(parse("GET / HTTP/1.1\r\nHost: a\r\n", &r), 0,
	    "incomplete head: need more");
	is_int(parse("GET / HTTP/1.0\r\n\r\n", &r), 18, "HTTP/1.0");
	ok(!r.keep_alive, "1.0 closes by default");
	parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r);
	ok(r.keep_alive, "1.0 with keep-alive keeps");
	parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &r);
	ok(!r.keep_alive, "Connection: close in a list closes");
	parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n", &r);
	ok(r.dir && r.path_len == 0, "leading empty lines skipped");
	n = parse("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde", &r);
	is_int(n, 42, "a body is part of the request");
	is_int(parse("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", &r), 0,
	    "a partial body: need more");
	is_int(parse("GET / HTTP/1.1\r\nContent-Length: 99999\r\n\r\n", &r),
	    -413, "a body over the limit: 413");
	is_int(parse("GET / HTTP/1.1\r\nContent-Length: 1\r\n"
	    "Content-Length: 1\r\n\r\nx", &r), -400, "two Content-Lengths: 400");
	is_int(parse("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &r),
	    -400, "negative Content-Length: 400");
	is_int(parse("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
	    &r), -501, "Transfer-Encoding: 501");
	is_int(parse("GET / HTTP/2.0\r\n\r\n", &r), -505, "HTTP/2.0: 505");
	is_int(parse("GET / HTTX/1.1\r\n\r\n", &r), -400, "not HTTP: 400");
	is_int(parse("GET /\r\n\r\n", &r), -400, "no version: 400");
	is_int(parse("G(T / HTTP/1.1\r\n\r\n", &r), -400, "bad method: 400");
	is_int(parse("GET x HTTP/1.1\r\n\r\n", &r), -400, "not a path: 400");
	is_int(parse("GET /%zz HTTP/1.1\r\n\r\n", &r), -400, "bad %: 400");
	is_int(parse("GET /a%0d%0aSet-Cookie:x HTTP/1.1\r\n\r\n", &r), -400,
	    "encoded CR LF: 400");
	is_int(parse("GET /../x HTTP/1.1\r\n\r\n", &r), -400, "\"..\": 400");
	is_int(parse("GET /%2e%2e/x HTTP/1.1\r\n\r\n", &r), -400,
	    "encoded \"..\": 400");
	is_int(parse("GET /a//b HTTP/1.1\r\n\r\n", &r), -400,
	    "empty segment: 400");
	is_int(parse("GET / HTTP/1.1\r\nNo colon\r\n\r\n", &r), -400,
	    "header without colon: 400");
	is_int(parse("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", &r), -400,
	    "obs-fold: 400");
	is_int(parse("GET / HTTP/1.1\r\nA\x01: b\r\n\r\n", &r), -400,
	    "control in a name: 400");
	n = parse("GET /caf%C3%A9.html HTTP/1.1\r\n\r\n", &r);
	ok(n > 0 && strcmp(r.path, "caf\xc3\xa9.html") == 0,
	    "percent-decoded UTF-8");
	n = parse("DELETE /x HTTP/1.1\r\n\r\n", &r);
	ok(n > 0 && r.method == HTTP_OTHER, "other methods parse");
	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	is_int(http_parse(big, sizeof big, &r), -431, "a head over the "
	    "limit: 431");
	is_int(http_parse(big, HTTP_HEAD_MAX - 1, &r), 0,
	    "under the limit: need more");
}

/* The value of header (name) in (head), or "". */
static const char *
header(const struct http_response *resp, const char *name)
{
	static char v[300];
	const char *p = strstr(resp->head, name);
	size_t n;

	v[0] = '\0';
	if (p == NULL)
		return v;
	p += strlen(name);
	n = strcspn(p, "\r");
	snprintf(v, sizeof v, "%.*s", (int)n, p);
	return v;
}

static void
respond(const struct site *s, const char *req, struct http_response *o)
{
	struct http_request r;
	int n = parse(req, &r);

	if (n < 0)
		http_respond(s, NULL, -n, "Sun, 06 Nov 1994 08:49:37 GMT", o);
	else
		http_respond(s, &r, 0, "Sun, 06 Nov 1994 08:49:37 GMT", o);
}

static void
test_respond(void)
{
	struct tar t;
	struct site s;
	struct http_response o;
	char err[100], want[64];

	make_site(&t);
	site_load(&s, t.buf, t.len, err, sizeof err);
	respond(&s, "GET / HTTP/1.1\r\n\r\n", &o);
	is_int(o.status, 200, "/ is index.html");
	ok(o.file != NULL && o.file->size == strlen(index_html) &&
	    o.send_body && !o.close, "its file, a body, kept open");
	ok(strncmp(o.head, "HTTP/1.1 200 OK\r\n", 17) == 0,
	    "status line");
	is_str(header(&o, "Content-Type: "), "text/html; charset=utf-8",
	    "html type");
	snprintf(want, sizeof want, "%zu", strlen(index_html));
	is_str(header(&o, "Content-Length: "), want, "Content-Length");
	is_str(header(&o, "Date: "), "Sun, 06 Nov 1994 08:49:37 GMT", "Date");
	ok(o.head_len == strlen(o.head) &&
	    strcmp(o.head + o.head_len - 4, "\r\n\r\n") == 0,
	    "head ends with an empty line");
	respond(&s, "HEAD /css/site.css HTTP/1.1\r\n\r\n", &o);
	ok(o.status == 200 && !o.send_body, "HEAD: no body");
	is_str(header(&o, "Content-Type: "), "text/css; charset=utf-8",
	    "css type");
	snprintf(want, sizeof want, "%zu", strlen(css));
	is_str(header(&o, "Content-Length: "), want,
	    "HEAD: the length of the body it would have");
	respond(&s, "GET /nope.html HTTP/1.1\r\n\r\n", &o);
	ok(o.status == 404 && o.file == NULL && o.body_len > 0 &&
	    strstr(o.body, "404 Not Found") != NULL && !o.close,
	    "404 with a page, kept open");
	respond(&s, "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", &o);
	is_int(o.status, 405, "POST: 405");
	is_str(header(&o, "Allow: "), "GET, HEAD", "Allow header");
	respond(&s, "GET /docs/deep HTTP/1.1\r\n\r\n", &o);
	is_int(o.status, 301, "a directory without its slash: 301");
	is_str(header(&o, "Location: "), "/docs/deep/", "to the slash");
	respond(&s, "GET /docs/deep/ HTTP/1.1\r\n\r\n", &o);
	ok(o.status == 200 && o.file != NULL && o.file->size == 3,
	    "its index");
	respond(&s, "GET /../x HTTP/1.1\r\n\r\n", &o);
	ok(o.status == 400 && o.close, "400 closes");
	ok(strstr(o.head, "Connection: close\r\n") != NULL,
	    "and says so");
	respond(&s, "GET / HTTP/1.0\r\n\r\n", &o);
	ok(o.close && strstr(o.head, "Connection: close") != NULL,
	    "1.0 without keep-alive: close");
	respond(&s, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &o);
	ok(!o.close && strstr(o.head, "Connection: keep-alive") != NULL,
	    "1.0 with keep-alive: kept, and said");
	http_respond(&s, NULL, 431, NULL, &o);
	ok(o.status == 431 && o.close && strstr(o.head, "Date:") == NULL,
	    "431, no Date without a clock");
	is_str(http_content_type("a/b.PNG"), "image/png", "type by "
	    "extension, any case");
	is_str(http_content_type("a.d/b"), "application/octet-stream",
	    "a dot in a directory is no extension");
	site_free(&s);
}

static void
test_date(void)
{
	char d[30];

	http_date(784111777, d);
	is_str(d, "Sun, 06 Nov 1994 08:49:37 GMT", "RFC 9110's example date");
	http_date(0, d);
	is_str(d, "Thu, 01 Jan 1970 00:00:00 GMT", "the epoch");
	http_date(951782400, d);
	is_str(d, "Tue, 29 Feb 2000 00:00:00 GMT", "a leap day");
	http_date(4102444799ULL, d);
	is_str(d, "Thu, 31 Dec 2099 23:59:59 GMT", "end of 2099");
}

/* rt_cmdline_get(), which httpd reads its words with. */
static void
test_cmdline(void)
{
	const char *c = "port=8080 quiet xport=1 idle= port=81";

	is_str(rt_cmdline_get(c, "port"), "81", "a later word wins");
	ok(rt_cmdline_get(c, "quiet") != NULL &&
	    *rt_cmdline_get(c, "quiet") == ' ', "a bare word: empty value");
	is_str(rt_cmdline_get(c, "idle"), " port=81", "an empty value");
	ok(rt_cmdline_get(c, "xpor") == NULL, "no partial word");
	ok(rt_cmdline_get(c, "ort") == NULL, "only at a word's start");
	ok(rt_cmdline_get("", "port") == NULL, "empty command line");
}

int
main(void)
{
	test_cmdline();
	test_site();
	test_parse();
	test_respond();
	test_date();
	return tap_done();
}
