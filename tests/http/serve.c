/*
 * serve - a static file server on 127.0.0.1 for tests that run where there
 * is no python (dom0 of tests/xen/), built on libmicrohttpd.
 *
 * usage: serve [-p PORT] [-w PORTFILE] [-l LOGFILE] DIR
 *
 * Binds 127.0.0.1:PORT (default 0: a port the kernel picks) and serves the
 * regular files under DIR until SIGTERM or SIGINT: GET and HEAD only (405
 * with Allow otherwise), 404 for what is not a regular file under DIR
 * (paths with a ".." segment included), every reply with Content-Length.
 * Once it listens, the port is written to PORTFILE (atomically: a
 * temporary file renamed) when -w is given, else printed on stdout.  With
 * -l each request is appended to LOGFILE as "METHOD PATH STATUS", so that
 * a test can count requests.
 *
 * Exit status: 0 after a signal, 1 when it cannot serve, 2 on a usage
 * mistake.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

static const char *root;
static int root_fd = -1;
static FILE *log_file;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void
usage(FILE *f)
{
	fprintf(f, "usage: serve [-p PORT] [-w PORTFILE] [-l LOGFILE] DIR\n");
}

static void
log_request(const char *method, const char *url, unsigned status)
{
	if (log_file == NULL)
		return;
	pthread_mutex_lock(&log_mu);
	fprintf(log_file, "%s %s %u\n", method, url, status);
	fflush(log_file);
	pthread_mutex_unlock(&log_mu);
}

/* A path is served when it is absolute and has no "." or ".." segment and
 * no empty one (no "//"): what stays under DIR without resolving. */
static int
path_ok(const char *url)
{
	const char *s = url, *seg;
	size_t n;

	if (s[0] != '/' || s[1] == '\0')
		return 0;
	while (*s == '/') {
		seg = ++s;
		while (*s != '/' && *s != '\0')
			s++;
		n = (size_t)(s - seg);
		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
	}
	return *s == '\0';
}

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned status, const char *text,
    const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static const char *
content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot != NULL && strcmp(dot, ".json") == 0)
		return "application/json";
	if (dot != NULL && (strcmp(dot, ".txt") == 0 ||
	    strcmp(dot, ".pub") == 0 || strcmp(dot, ".minisig") == 0))
		return "text/plain";
	return "application/octet-stream";
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	static int first;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct stat sb;
	int fd;

	(void)cls;
	(void)version;
	(void)upload_data;
	/* the first call only announces the request: answer on the second,
	 * once any body was read (and thrown away) */
	if (*con_cls == NULL) {
		*con_cls = &first;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		log_request(method, url, MHD_HTTP_METHOD_NOT_ALLOWED);
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n", "GET, HEAD");
	}
	if (!path_ok(url) ||
	    (fd = openat(root_fd, url + 1, O_RDONLY | O_CLOEXEC | O_NOCTTY))
	    == -1) {
		log_request(method, url, MHD_HTTP_NOT_FOUND);
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		log_request(method, url, MHD_HTTP_NOT_FOUND);
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
	}
	/* libmicrohttpd sends Content-Length from the size, closes (fd)
	 * with the response, and leaves the body out for HEAD */
	if ((r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd))
	    == NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    content_type(url));
	log_request(method, url, MHD_HTTP_OK);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static int
write_port(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *portfile = NULL, *logfile = NULL;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct MHD_Daemon *d;
	sigset_t sigs;
	unsigned long port = 0;
	char *end;
	int ch, fd, one = 1, sig;

	while ((ch = getopt(argc, argv, "hl:p:w:")) != -1) {
		switch (ch) {
		case 'l':
			logfile = optarg;
			break;
		case 'p':
			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' ||
			    errno != 0 || port > 65535) {
				fprintf(stderr, "serve: -p %s: not a port\n",
				    optarg);
				return 2;
			}
			break;
		case 'w':
			portfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	root = argv[optind];
	if ((root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "serve: %s: %s\n", root, strerror(errno));
		return 1;
	}
	if (logfile != NULL && (log_file = fopen(logfile, "a")) == NULL) {
		fprintf(stderr, "serve: %s: %s\n", logfile, strerror(errno));
		return 1;
	}

	/* our own socket: bound before the port is told, so that a client
	 * that reads the port can connect at once */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) == -1) {
		fprintf(stderr, "serve: 127.0.0.1:%lu: %s\n", port,
		    strerror(errno));
		return 1;
	}

	/* signals are the main thread's, taken by sigwait() */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL, NULL,
	    handle, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "serve: libmicrohttpd did not start\n");
		return 1;
	}
	port = ntohs(sa.sin_port);
	if (portfile != NULL) {
		if (write_port(portfile, (unsigned)port) == -1) {
			fprintf(stderr, "serve: %s: %s\n", portfile,
			    strerror(errno));
			MHD_stop_daemon(d);
			return 1;
		}
	} else {
		printf("%lu\n", port);
		fflush(stdout);
	}
	while (sigwait(&sigs, &sig) != 0)
		;
	MHD_stop_daemon(d);
	close(root_fd);
	if (log_file != NULL)
		fclose(log_file);
	return 0;
}
