/*
 * httpd.c - a web server kernel: serves the files of the ustar archive
 * it was booted with (its boot module, `uk pack --initrd site.tar`) over
 * HTTP/1.1 on the runtime's TCP/IP stack.  http.c decides what to answer,
 * site.c finds the files; this file moves bytes between them and TCP.
 *
 * Command line: the network words of rt_net_up() (ip=, gw=, mac=; DHCP
 * without them), "port=N" (80), "tcpbuf=BYTES" (each connection's send
 * buffer; its receive buffer is smaller, requests being small),
 * "idle=SECONDS" before an idle connection is closed (30).
 *
 * Each connection has a request buffer of HTTP_HEAD_MAX + HTTP_BODY_MAX
 * bytes: what TCP received is read into it until a whole request is
 * there, answered, and dropped; pipelined requests are answered in
 * order, each once the previous one has gone into TCP's send buffer.  A
 * response's head (with an error page) is kept in the connection until
 * TCP has taken it; a file's body is sent straight from the archive in
 * the module, as the send buffer drains.  The number
 * of connections is bounded by the memory the heap has (docs/runtime.md,
 * "httpd").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "net.h"
#include "rt.h"
#include "site.h"

#define REQ_MAX		(HTTP_HEAD_MAX + HTTP_BODY_MAX)
#define RCVBUF		(16 * 1024)
#define SNDBUF		(64 * 1024)
#define RESERVE		(256 * 1024)	/* heap kept for the rest */
#define CONNS_MAX	4096

struct hconn {
	struct net_tcp *c;
	struct rt_timer idle;
	const uint8_t *body;		/* left to send of the current body */
	size_t body_left;
	size_t out_len, out_off;	/* the head (and error page) to send */
	char out[sizeof(((struct http_response *)0)->head) + 256];
	int close_after;		/* once the body has gone */
	int eof;			/* the peer sent its FIN */
	size_t used;			/* bytes in req */
	char req[REQ_MAX];
};

static struct net_stack *stack;
static struct site site;
static uint64_t idle_ns = 30 * RT_NSEC_PER_SEC;

static uint64_t
now(void)
{
	return rt_time_monotonic_ns();
}

static const char *
date_now(void)
{
	static char date[30];
	static uint64_t last = UINT64_MAX;
	uint64_t t = rt_time_wall_ns() / RT_NSEC_PER_SEC;

	if (t == 0)
		return NULL;
	if (t != last) {
		http_date(t, date);
		last = t;
	}
	return date;
}

static void
conn_free(struct hconn *h)
{
	rt_timer_cancel(&h->idle);
	free(h);
}

static void
conn_close(struct hconn *h)
{
	net_tcp_close(stack, h->c, now());
	conn_free(h);
}

static void
idle_expired(struct rt_timer *t, void *arg)
{
	struct hconn *h = arg;

	(void)t;
	conn_close(h);
}

static void
touch(struct hconn *h)
{
	rt_timer_set(&h->idle, now() + idle_ns, idle_expired, h);
}

/* Sends what the send buffer takes of the head, then of the body; 1
 * when all has gone, 0 when send said -RT_EAGAIN or took less (which
 * arms the writable callback), -1 when the connection failed. */
static int
send_pending(struct hconn *h)
{
	long n;

	while (h->out_off < h->out_len) {
		n = net_tcp_send(stack, h->c, h->out + h->out_off,
		    h->out_len - h->out_off, h->body_left > 0 ? NET_TCP_MORE :
		    0, now());
		if (n == -RT_EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		h->out_off += (size_t)n;
	}
	while (h->body_left > 0) {
		n = net_tcp_send(stack, h->c, h->body, h->body_left, 0, now());
		if (n == -RT_EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		h->body += n;
		h->body_left -= (size_t)n;
	}
	return 1;
}

/* Answers the whole requests in the buffer, one at a time, each once the
 * previous one has gone into the send buffer; 0, or -1 when the
 * connection was closed (and freed). */
static int
serve(struct hconn *h)
{
	static struct http_response resp;
	struct http_request r;
	int n;

	for (;;) {
		if ((n = send_pending(h)) < 0) {
			net_tcp_abort(stack, h->c, now());
			conn_free(h);
			return -1;
		}
		if (n == 0)
			return 0;
		if (h->close_after) {
			conn_close(h);
			return -1;
		}
		n = http_parse(h->req, h->used, &r);
		if (n == 0) {
			if (h->eof) {
				conn_close(h);
				return -1;
			}
			return 0;
		}
		if (n < 0)
			http_respond(&site, NULL, -n, date_now(), &resp);
		else
			http_respond(&site, &r, 0, date_now(), &resp);
		memcpy(h->out, resp.head, resp.head_len);
		h->out_len = resp.head_len;
		h->out_off = 0;
		if (resp.send_body && resp.file != NULL) {
			h->body = resp.file->data;
			h->body_left = resp.file->size;
		} else if (resp.send_body) {
			/* Error pages live in a static buffer the next
			 * response reuses: they go with the head. */
			memcpy(h->out + h->out_len, resp.body, resp.body_len);
			h->out_len += resp.body_len;
		}
		h->close_after = resp.close;
		if (n > 0) {
			memmove(h->req, h->req + n, h->used - (size_t)n);
			h->used -= (size_t)n;
		} else {
			h->used = 0;
		}
	}
}

/* Reads what TCP has into the request buffer, as far as it has room. */
static void
read_in(struct hconn *h)
{
	long n;

	while (!h->eof && h->used < sizeof h->req) {
		n = net_tcp_recv(stack, h->c, h->req + h->used,
		    sizeof h->req - h->used, now());
		if (n == -RT_EAGAIN)
			return;
		if (n <= 0)
			h->eof = 1;
		else
			h->used += (size_t)n;
	}
}

/* Reads and answers until one of the buffers stops us: a full request
 * buffer is read again once answering made room in it. */
static void
pump(struct hconn *h)
{
	int was_full;

	touch(h);
	do {
		read_in(h);
		was_full = h->used == sizeof h->req;
		if (serve(h) < 0)
			return;
	} while (was_full && h->used < sizeof h->req && !h->eof);
}

static void
on_readable(struct net_tcp *c, void *arg)
{
	(void)c;
	pump(arg);
}

static void
on_closed(struct net_tcp *c, void *arg, int err)
{
	(void)c;
	(void)err;
	conn_free(arg);
}

static const struct net_tcp_ops ops = {
	.readable = on_readable,
	.writable = on_readable,
	.closed = on_closed,
};

static void
on_accept(struct net_tcp_listener *l, void *arg, struct net_tcp *c)
{
	struct hconn *h = malloc(sizeof(*h));

	(void)l;
	(void)arg;
	if (h == NULL) {
		net_tcp_abort(stack, c, now());
		return;
	}
	h->c = c;
	h->body = NULL;
	h->body_left = 0;
	h->out_len = h->out_off = 0;
	h->close_after = h->eof = 0;
	h->used = 0;
	memset(&h->idle, 0, sizeof h->idle);
	net_tcp_set_ops(c, &ops, h);
	pump(h);
}

/* The number of the word "name=N" on the command line, or (def). */
static unsigned long
word_value(const char *cmdline, const char *name, unsigned long def)
{
	const char *v = rt_cmdline_get(cmdline, name);

	return v != NULL && *v >= '0' && *v <= '9' ? strtoul(v, NULL, 10) :
	    def;
}

int
rt_main(const struct rt_info *info)
{
	static struct net_tcp_listener listener;
	struct net_tcp_config tc;
	struct rt_net_info ni;
	char err[200];
	unsigned long port, per_conn, heap;
	int r;

	if (info->module == NULL) {
		rt_printf("httpd: no site: boot with a ustar archive as the "
		    "module (uk pack --initrd site.tar)\n");
		return 2;
	}
	if (site_load(&site, info->module, info->module_size, err,
	    sizeof err) < 0) {
		rt_printf("httpd: bad site archive: %s\n", err);
		return 2;
	}
	port = word_value(info->cmdline, "port", 80);
	idle_ns = word_value(info->cmdline, "idle", 30) * RT_NSEC_PER_SEC;
	if (port == 0 || port > 65535 || idle_ns == 0) {
		rt_printf("httpd: bad port= or idle=\n");
		return 2;
	}
	r = rt_net_up(info, 10 * RT_NSEC_PER_SEC, &stack, &ni);
	if (r == -RT_ENODEV) {
		rt_printf("httpd: no network device\n");
		return 1;
	} else if (r < 0) {
		rt_printf("httpd: network not up (error %d)\n", r);
		return 1;
	}
	tc.sndbuf = word_value(info->cmdline, "tcpbuf", SNDBUF);
	tc.rcvbuf = RCVBUF;
	/* What one connection may take: its buffers, ours and the
	 * structs; the heap left after the site's index decides how many
	 * connections fit. */
	per_conn = tc.sndbuf + tc.rcvbuf + sizeof(struct hconn) + 1024;
	heap = info->heap_free > RESERVE ? info->heap_free - RESERVE : 0;
	tc.max_conns = heap / per_conn > CONNS_MAX ? CONNS_MAX :
	    (unsigned)(heap / per_conn);
	if (tc.max_conns < 2 || (r = net_tcp_configure(stack, &tc)) < 0 ||
	    (r = net_tcp_listen(stack, &listener, (uint16_t)port, 128,
	    on_accept, NULL)) < 0) {
		rt_printf("httpd: cannot listen on port %lu (error %d, "
		    "memory for %u connections)\n", port, r, tc.max_conns);
		return 1;
	}
	rt_printf("httpd: %zu files (%llu bytes), %s on %s, "
	    "%02x:%02x:%02x:%02x:%02x:%02x, http://%u.%u.%u.%u:%lu/%s, "
	    "up to %u connections\n", site.nfiles,
	    (unsigned long long)site.bytes, ni.driver, ni.transport,
	    ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5],
	    ni.ip >> 24, ni.ip >> 16 & 255, ni.ip >> 8 & 255, ni.ip & 255,
	    port, ni.dhcp ? " (dhcp)" : "", tc.max_conns);
	return rt_run();
}
