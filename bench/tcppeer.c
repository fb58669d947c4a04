/*
 * tcppeer.c - the TCP throughput peer of bench/http: the sink and source
 * services of kernels/echo, for Linux, and the client that times them.
 * bench/http runs the server inside its Linux guest (compiled static,
 * into the guest's initramfs by bench/linux-guest) and the client in the
 * host's network namespace, against that guest and against the echo
 * kernel alike, so that both are measured by the same code.
 *
 *   tcppeer serve
 *       TCP 9, sink: reads to the end, answers "BYTES CRC32\n" and closes;
 *       TCP 19, source: reads a line "N\n", sends N bytes, byte i being
 *       i % 251, and closes.  A child per connection.  The CRC-32 is the
 *       byte-at-a-time table the echo kernel uses, so that the two sinks
 *       do the same work per byte.
 *   tcppeer sink HOST BYTES [PORT]
 *   tcppeer source HOST BYTES [PORT]
 *       one transfer each way, checked (the sink's CRC-32; the source's
 *       bytes), timed from before connect() to the end of the answer.
 *       The client sends the source's pattern too, and works out its
 *       CRC-32 before the clock starts: the time is the peer's and the
 *       network's, not this side's.
 *       Prints "MODE BYTES bytes SECONDS s MBIT Mbit/s" and exits 0, or
 *       what went wrong and exits 1.  HOST is an IPv4 address.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF	(128 * 1024)
#define PERIOD	251

static uint32_t crc_table[8][256];
static unsigned char buf[BUF];
static unsigned char pattern[BUF + PERIOD];	/* byte i is i % 251 */

static void
init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (int t = 1; t < 8; t++)
		for (int i = 0; i < 256; i++)
			crc_table[t][i] = crc_table[0][crc_table[t - 1][i] &
			    0xff] ^ (crc_table[t - 1][i] >> 8);
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (unsigned char)(i % PERIOD);
}

/* The server's CRC: a byte at a time, as the echo kernel's. */
static uint32_t
crc_add(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n-- > 0)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The client's: eight bytes at a time, and before the clock starts. */
static uint32_t
crc_add8(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][lo >> 8 & 0xff] ^
		    crc_table[5][lo >> 16 & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][p[4]] ^ crc_table[2][p[5]] ^
		    crc_table[1][p[6]] ^ crc_table[0][p[7]];
	}
	while (n-- > 0)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The CRC-32 of the first (total) bytes of the pattern. */
static uint32_t
pattern_crc(uint64_t total)
{
	uint64_t done = 0;
	uint32_t crc = 0;

	while (done < total) {
		size_t k = total - done < BUF ? (size_t)(total - done) : BUF;

		crc = crc_add8(crc, pattern + done % PERIOD, k);
		done += k;
	}
	return crc;
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- server ---- */

static void
serve_sink(int fd)
{
	uint64_t bytes = 0;
	uint32_t crc = 0;
	char line[40];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		crc = crc_add(crc, buf, (size_t)n);
		bytes += (uint64_t)n;
	}
	n = snprintf(line, sizeof line, "%" PRIu64 " %08" PRIx32 "\n", bytes,
	    crc);
	(void)write_all(fd, (unsigned char *)line, (size_t)n);
}

static void
serve_source(int fd)
{
	char line[24];
	size_t used = 0;
	uint64_t left, sent = 0;
	ssize_t n;

	while (used < sizeof line - 1 && memchr(line, '\n', used) == NULL) {
		n = read(fd, line + used, sizeof line - 1 - used);
		if (n <= 0)
			return;
		used += (size_t)n;
	}
	line[used] = '\0';
	left = strtoull(line, NULL, 10);
	while (left > 0) {
		size_t off = (size_t)(sent % PERIOD);
		size_t k = left < BUF ? (size_t)left : BUF;

		if (write_all(fd, pattern + off, k) < 0)
			return;
		sent += k;
		left -= k;
	}
}

static int
listen_on(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof one) < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(fd, 16) < 0) {
		fprintf(stderr, "tcppeer: port %u: %s\n", port,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

static int
serve(void)
{
	struct pollfd p[2] = { { .fd = listen_on(9), .events = POLLIN },
	    { .fd = listen_on(19), .events = POLLIN } };

	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	signal(SIGPIPE, SIG_IGN);
	printf("tcppeer: serving sink on 9, source on 19\n");
	fflush(stdout);
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tcppeer: poll");
			return 1;
		}
		for (int i = 0; i < 2; i++) {
			int c;

			if (!(p[i].revents & POLLIN))
				continue;
			c = accept(p[i].fd, NULL, NULL);
			if (c < 0)
				continue;
			if (fork() == 0) {
				close(p[0].fd);
				close(p[1].fd);
				if (i == 0)
					serve_sink(c);
				else
					serve_source(c);
				close(c);
				_exit(0);
			}
			close(c);
		}
	}
}

/* ---- client ---- */

static int
connect_to(const char *host, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	int fd;

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "tcppeer: %s is not an IPv4 address\n", host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		fprintf(stderr, "tcppeer: connect %s:%u: %s\n", host, port,
		    strerror(errno));
		return -1;
	}
	return fd;
}

static int
client_sink(int fd, uint64_t total, uint32_t crc)
{
	char want[40], got[40];
	uint64_t sent = 0;
	size_t used = 0;
	ssize_t n;

	while (sent < total) {
		size_t off = (size_t)(sent % PERIOD);
		size_t k = total - sent < BUF ? (size_t)(total - sent) : BUF;

		if (write_all(fd, pattern + off, k) < 0) {
			fprintf(stderr, "tcppeer: sink: write after %" PRIu64
			    " bytes: %s\n", sent, strerror(errno));
			return -1;
		}
		sent += k;
	}
	shutdown(fd, SHUT_WR);
	while (used < sizeof got - 1 &&
	    (n = read(fd, got + used, sizeof got - 1 - used)) > 0)
		used += (size_t)n;
	got[used] = '\0';
	got[strcspn(got, "\r\n")] = '\0';
	snprintf(want, sizeof want, "%" PRIu64 " %08" PRIx32, total, crc);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "tcppeer: sink: peer says \"%s\", sent \"%s\"\n",
		    got, want);
		return -1;
	}
	return 0;
}

static int
client_source(int fd, uint64_t total)
{
	char line[24];
	uint64_t got = 0;
	ssize_t n;

	n = snprintf(line, sizeof line, "%" PRIu64 "\n", total);
	if (write_all(fd, (unsigned char *)line, (size_t)n) < 0)
		return -1;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "tcppeer: source: read after %" PRIu64
			    " bytes: %s\n", got, strerror(errno));
			return -1;
		}
		if (memcmp(buf, pattern + got % PERIOD, (size_t)n) != 0) {
			fprintf(stderr, "tcppeer: source: wrong bytes in %" PRIu64
			    "..%" PRIu64 "\n", got, got + (uint64_t)n);
			return -1;
		}
		got += (uint64_t)n;
	}
	if (got != total) {
		fprintf(stderr, "tcppeer: source: %" PRIu64 " bytes, want %"
		    PRIu64 "\n", got, total);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t total;
	uint32_t crc = 0;
	double t0, t;
	int fd, r, sink;

	init();
	if (argc == 2 && strcmp(argv[1], "serve") == 0)
		return serve();
	if ((argc != 4 && argc != 5) || (strcmp(argv[1], "sink") != 0 &&
	    strcmp(argv[1], "source") != 0)) {
		fprintf(stderr, "usage: tcppeer serve\n"
		    "       tcppeer sink|source HOST BYTES [PORT]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sink = strcmp(argv[1], "sink") == 0;
	total = strtoull(argv[3], NULL, 10);
	if (sink)
		crc = pattern_crc(total);
	t0 = now();
	fd = connect_to(argv[2], (uint16_t)(argc == 5 ? atoi(argv[4]) :
	    sink ? 9 : 19));
	if (fd < 0)
		return 1;
	r = sink ? client_sink(fd, total, crc) : client_source(fd, total);
	close(fd);
	if (r < 0)
		return 1;
	t = now() - t0;
	printf("%s %" PRIu64 " bytes %.3f s %.1f Mbit/s\n", argv[1], total, t,
	    (double)total * 8 / t / 1e6);
	return 0;
}
