/*
 * http.c - the request parser and response of http.h.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive comparison of (n) bytes. */
static int
ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* RFC 9110 5.6.2 token characters. */
static int
tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Does the comma-separated list (v), (n) bytes, hold the token (t)? */
static int
list_has(const char *v, size_t n, const char *t)
{
	size_t tl = strlen(t), i = 0;

	while (i < n) {
		size_t j;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (j = i; j < n && v[j] != ','; j++)
			continue;
		size_t e = j;
		while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - i == tl && ieq(v + i, t, tl))
			return 1;
		i = j;
	}
	return 0;
}

/* The request target (t), (n) bytes, into r->path: origin-form only,
 * percent-decoded, the query dropped; no NUL, no "." or ".." segment. */
static int
parse_target(const char *t, size_t n, struct http_request *r)
{
	size_t i, o = 0;
	char *p = r->path;

	if (n == 0 || t[0] != '/')
		return -400;
	for (i = 1; i < n && t[i] != '?' && t[i] != '#'; i++) {
		int c = (unsigned char)t[i];

		if (c <= 0x20 || c >= 0x7f)
			return -400;
		if (c == '%') {
			int hi = i + 2 < n ? hexval(t[i + 1]) : -1;
			int lo = hi < 0 ? -1 : hexval(t[i + 2]);

			if (lo < 0)
				return -400;
			c = hi << 4 | lo;
			/* No control byte may reach a name or a header
			 * (a Location with CR LF would split the reply). */
			if (c < 0x20 || c == 0x7f)
				return -400;
			i += 2;
		}
		if (o + 1 >= HTTP_PATH_MAX)
			return -404;	/* longer than any name we have */
		p[o++] = (char)c;
	}
	p[o] = '\0';
	r->path_len = o;
	r->dir = o == 0 || p[o - 1] == '/';
	/* "." and ".." segments and empty ones ("a//b") name nothing we
	 * serve: refused rather than resolved. */
	for (const char *seg = p; *seg != '\0';) {
		size_t sl = strcspn(seg, "/");

		if ((sl == 1 && seg[0] == '.') ||
		    (sl == 2 && seg[0] == '.' && seg[1] == '.') ||
		    (sl == 0 && seg[0] == '/'))
			return -400;
		seg += sl + (seg[sl] == '/');
	}
	return 0;
}

int
http_parse(const char *buf, size_t len, struct http_request *r)
{
	const char *end, *p, *line_end, *sp1, *sp2;
	size_t head, body = 0, scan = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	int conn_close = 0, conn_keep = 0, have_len = 0, rc;

	/* RFC 9112 2.2: empty lines before a request are ignored. */
	p = buf;
	while ((size_t)(p - buf) + 1 < scan && p[0] == '\r' && p[1] == '\n')
		p += 2;
	end = NULL;
	for (size_t i = (size_t)(p - buf); i + 3 < scan; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' &&
		    buf[i + 2] == '\r' && buf[i + 3] == '\n') {
			end = buf + i + 4;
			break;
		}
	if (end == NULL)
		return len >= HTTP_HEAD_MAX ? -431 : 0;
	head = (size_t)(end - buf);

	/* The request line: method SP target SP HTTP/1.x CRLF */
	line_end = memchr(p, '\r', (size_t)(end - p));
	sp1 = memchr(p, ' ', (size_t)(line_end - p));
	if (sp1 == NULL || sp1 == p)
		return -400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1));
	if (sp2 == NULL)
		return -400;
	for (const char *m = p; m < sp1; m++)
		if (!tchar((unsigned char)*m))
			return -400;
	if (line_end - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/", 5) != 0 ||
	    sp2[6] < '0' || sp2[6] > '9' || sp2[7] != '.' || sp2[8] < '0' ||
	    sp2[8] > '9')
		return -400;
	if (sp2[6] != '1' || (sp2[8] != '0' && sp2[8] != '1'))
		return -505;
	memset(r, 0, sizeof(*r));
	r->minor = sp2[8] - '0';
	if (sp1 - p == 3 && memcmp(p, "GET", 3) == 0)
		r->method = HTTP_GET;
	else if (sp1 - p == 4 && memcmp(p, "HEAD", 4) == 0)
		r->method = HTTP_HEAD;
	else
		r->method = HTTP_OTHER;
	if ((rc = parse_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), r)) < 0) {
		/* A path too long to be ours is still a request to answer:
		 * 404, not a broken connection. */
		if (rc != -404)
			return rc;
		r->path[0] = '\0';
		r->path_len = (size_t)-1;
	}

	/* Header fields: name ":" OWS value OWS CRLF */
	for (p = line_end + 2; p < end - 2; p = line_end + 2) {
		const char *colon, *v, *ve;
		size_t nl;

		line_end = memchr(p, '\r', (size_t)(end - p));
		if (line_end[1] != '\n')
			return -400;
		colon = memchr(p, ':', (size_t)(line_end - p));
		if (colon == NULL || colon == p)
			return -400;	/* also obs-fold, which starts with SP */
		for (const char *c = p; c < colon; c++)
			if (!tchar((unsigned char)*c))
				return -400;
		for (v = colon + 1; v < line_end && (*v == ' ' || *v == '\t');
		    v++)
			continue;
		for (ve = line_end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			continue;
		for (const char *c = v; c < ve; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return -400;
		nl = (size_t)(colon - p);
		if (nl == 10 && ieq(p, "connection", 10)) {
			conn_close |= list_has(v, (size_t)(ve - v), "close");
			conn_keep |= list_has(v, (size_t)(ve - v),
			    "keep-alive");
		} else if (nl == 14 && ieq(p, "content-length", 14)) {
			uint64_t n = 0;

			if (ve == v || have_len)
				return -400;
			for (const char *c = v; c < ve; c++) {
				if (*c < '0' || *c > '9')
					return -400;
				/* Saturates: any huge length is just large. */
				if (n <= HTTP_BODY_MAX)
					n = n * 10 + (uint64_t)(*c - '0');
			}
			if (n > HTTP_BODY_MAX)
				return -413;
			body = (size_t)n;
			have_len = 1;
		} else if (nl == 17 && ieq(p, "transfer-encoding", 17)) {
			return -501;
		}
	}
	r->keep_alive = r->minor == 1 ? !conn_close : conn_keep && !conn_close;
	if (len - head < body)
		return 0;
	r->length = head + body;
	return (int)r->length;
}

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "xml", "application/xml" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "woff2", "font/woff2" },
	{ "woff", "font/woff" },
	{ "wasm", "application/wasm" },
	{ "pdf", "application/pdf" },
};

const char *
http_content_type(const char *name)
{
	const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');
	size_t el;

	if (dot == NULL || (slash != NULL && dot < slash))
		return "application/octet-stream";
	el = strlen(++dot);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].ext) == el && ieq(dot, types[i].ext, el))
			return types[i].type;
	return "application/octet-stream";
}

void
http_date(uint64_t t, char buf[30])
{
	static const char days[] = "ThuFriSatSunMonTueWed";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	uint64_t d = t / 86400, s = t % 86400;
	/* Civil date from days since 1970-01-01, with March as the first
	 * month of the year so that February's leap day comes last. */
	uint64_t z = d + 719468, era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 -
	    yoe / 100), mp = (5 * doy + 2) / 153;
	unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	unsigned mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);

	if (mon <= 2)
		y++;
	snprintf(buf, 30, "%.3s, %02u %.3s %04u %02u:%02u:%02u GMT",
	    days + d % 7 * 3, day, months + (mon - 1) * 3, (unsigned)y,
	    (unsigned)(s / 3600), (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

/* (path) percent-encoded where it is not a URI path character. */
static void
encode_path(char *out, size_t max, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)path;
	    *p != '\0' && o + 4 < max; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/!$&'()*+,;=:@",
		    *p) != NULL) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 301: return "Moved Permanently";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* Error pages: short, the status in words. */
static const char *
error_page(int status, size_t *len)
{
	static char page[128];
	int n = snprintf(page, sizeof page, "<!doctype html>\n<title>%d %s"
	    "</title>\n<h1>%d %s</h1>\n", status, reason(status), status,
	    reason(status));

	*len = (size_t)n;
	return page;
}

void
http_respond(const struct site *site, const struct http_request *r,
    int status, const char *date, struct http_response *out)
{
	char name[HTTP_PATH_MAX + 16], enc[HTTP_PATH_MAX * 3 + 4];
	char location[sizeof enc + 16];
	const char *type = "text/html; charset=utf-8";
	size_t length;
	int n;

	memset(out, 0, sizeof(*out));
	location[0] = '\0';
	out->send_body = 1;
	if (status != 0) {
		out->close = 1;
	} else {
		out->close = !r->keep_alive;
		out->send_body = r->method != HTTP_HEAD;
		if (r->method == HTTP_OTHER) {
			status = 405;
		} else if (r->path_len == (size_t)-1) {
			status = 404;
		} else {
			snprintf(name, sizeof name, "%s%s", r->path,
			    r->dir ? "index.html" : "");
			out->file = site_find(site, name, strlen(name));
			if (out->file != NULL) {
				status = 200;
				type = http_content_type(name);
			} else if (!r->dir &&
			    (snprintf(name, sizeof name, "%s/index.html",
			    r->path), site_find(site, name, strlen(name)))) {
				/* A directory named without its "/": relative
				 * links in its index need the slash. */
				status = 301;
				encode_path(enc, sizeof enc, r->path);
				snprintf(location, sizeof location,
				    "Location: /%s/\r\n", enc);
			} else {
				status = 404;
			}
		}
	}
	if (out->file != NULL) {
		length = out->file->size;
	} else {
		out->body = error_page(status, &out->body_len);
		length = out->body_len;
	}
	n = snprintf(out->head, sizeof out->head,
	    "HTTP/1.1 %d %s\r\n%s%s%sServer: uk-httpd\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s%s\r\n",
	    status, reason(status), date ? "Date: " : "", date ? date : "",
	    date ? "\r\n" : "", type, length,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "",
	    location[0] ? location : "",
	    out->close ? "Connection: close\r\n" :
	    (r != NULL && r->minor == 0 ? "Connection: keep-alive\r\n" : ""));
	out->status = status;
	out->head_len = n > 0 && (size_t)n < sizeof out->head ? (size_t)n :
	    sizeof out->head - 1;
}
