/*
 * tapstack - the runtime's network stack (runtime/net/) as a Linux
 * process on a tap device, so that Linux's own TCP can talk to it
 * (tests/integration/net-tap.sh).  The stack is the same code a guest
 * runs; only the driver (read and write on the tap) and the clock
 * (CLOCK_MONOTONIC) are this program's.
 *
 * usage: tapstack DEV CONFIG [--source-bytes N] [--msl-ms N]
 *            [--rcvbuf N] [--sndbuf N] [--max-conns N] [--backlog N]
 *            [--hold PERMILLE] [--hold-us N] [--seed N]
 *
 * DEV is an existing tap device (ip tuntap add DEV mode tap); CONFIG the
 * words net_config_parse() reads ("ip=10.77.0.2/24 mac=02:00:00:77:00:02").
 * Services, as RFC 862-864 describe them over TCP:
 *   7  echo: sends back what it reads; closes after the peer's FIN
 *   9  discard: reads until the FIN, then prints "discard BYTES SHA256"
 *   19 source: sends --source-bytes of pattern_init()'s bytes and
 *      closes, then prints "source BYTES SHA256"
 * (both lines go on with the connection's counters, name=value).
 * --hold holds back so many of every 1000 frames, each way, for
 * --hold-us (default 1000) microseconds: frames behind them overtake.
 * SIGUSR1 prints "status conns=N ..." with the stack's non-zero counters;
 * SIGTERM and SIGINT print it and exit 0.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define PATTERN_PERIOD	65521	/* prime: no buffer size divides it */
#define CHUNK		65536

static struct net_stack st;
static int tapfd = -1;
static volatile sig_atomic_t got_stop, got_status;
static uint64_t source_bytes = 1 << 20;
static unsigned hold_permille;
static uint64_t hold_ns = 1000 * 1000;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint8_t pattern[PATTERN_PERIOD];

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RT_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The source's bytes: xorshift32 from 2463534242, low byte, repeated
 * every PATTERN_PERIOD bytes (net-tap.sh computes the same in Python). */
static void
pattern_init(void)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < PATTERN_PERIOD; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = (uint8_t)x;
	}
}

/* ---- frames held back: both ways, in the order they are due ---- */
struct held {
	struct held *next;
	uint64_t at;
	int out;		/* to the tap, else to the stack */
	size_t len;
	uint8_t data[NET_FRAME_MAX];
};
static struct held *held;

static int
hold_this(void)
{
	if (hold_permille == 0)
		return 0;
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % 1000 < hold_permille;
}

static void
hold(const void *frame, size_t len, int out)
{
	struct held *h = malloc(sizeof(*h)), **pp;

	if (h == NULL)
		return;		/* as good as lost */
	h->at = mono_ns() + hold_ns;
	h->out = out;
	h->len = len;
	memcpy(h->data, frame, len);
	for (pp = &held; *pp != NULL && (*pp)->at <= h->at; pp = &(*pp)->next)
		;
	h->next = *pp;
	*pp = h;
}

static int
tap_write(const void *frame, size_t len)
{
	for (int tries = 0; tries < 50; tries++) {
		struct pollfd p = { tapfd, POLLOUT, 0 };

		if (write(tapfd, frame, len) == (ssize_t)len)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -RT_EINVAL;
		poll(&p, 1, 2);
	}
	return -RT_EAGAIN;
}

static int
tap_transmit(void *arg, const void *frame, size_t len)
{
	if (hold_this()) {
		hold(frame, len, 1);
		return 0;
	}
	return tap_write(frame, len);
}

static void
release_held(uint64_t now)
{
	while (held != NULL && held->at <= now) {
		struct held *h = held;

		held = h->next;
		if (h->out)
			tap_write(h->data, h->len);
		else
			net_input(&st, h->data, h->len, now);
		free(h);
	}
}

/* ---- the services ---- */
enum { ECHO, DISCARD, SOURCE };

struct svc {
	struct svc *next, *prev;	/* live services, for status */
	int kind;
	struct net_tcp *c;
	uint64_t bytes;
	int eof, done;
	size_t plen, poff;	/* echo: read, not yet sent back */
	crypto_hash_sha256_state sha;
	uint8_t buf[CHUNK];
};

static struct svc *svcs;

static void
svc_unlink(struct svc *v)
{
	if (v->prev != NULL)
		v->prev->next = v->next;
	else
		svcs = v->next;
	if (v->next != NULL)
		v->next->prev = v->prev;
}

static void
print_done(struct svc *v, const char *what)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(h) + 1];

	struct net_tcp_info i;

	crypto_hash_sha256_final(&v->sha, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	net_tcp_info(v->c, &i);
	printf("%s %llu %s retransmits=%llu fast=%llu timeouts=%llu "
	    "probes=%llu srtt_us=%llu rto_ms=%llu cwnd=%llu\n", what,
	    (unsigned long long)v->bytes, hex,
	    (unsigned long long)i.retransmits,
	    (unsigned long long)i.fast_retransmits,
	    (unsigned long long)i.timeouts,
	    (unsigned long long)i.loss_probes,
	    (unsigned long long)(i.srtt_ns / 1000),
	    (unsigned long long)(i.rto_ns / 1000000),
	    (unsigned long long)i.cwnd);
	fflush(stdout);
}

static void
svc_close(struct svc *v)
{
	net_tcp_close(&st, v->c, mono_ns());
	svc_unlink(v);
	free(v);
}

static void
echo_pump(struct svc *v)
{
	uint64_t now = mono_ns();
	long r;

	for (;;) {
		if (v->poff < v->plen) {
			r = net_tcp_send(&st, v->c, v->buf + v->poff,
			    v->plen - v->poff, 0, now);
			if (r > 0)
				v->poff += (size_t)r;
			if (v->poff < v->plen)
				return;		/* writable() resumes */
		}
		v->plen = v->poff = 0;
		if (v->eof) {
			svc_close(v);
			return;
		}
		r = net_tcp_recv(&st, v->c, v->buf, sizeof(v->buf), now);
		if (r == 0) {
			v->eof = 1;
			continue;
		}
		if (r < 0)
			return;
		v->plen = (size_t)r;
		v->bytes += (uint64_t)r;
	}
}

static void
discard_pump(struct svc *v)
{
	long r;

	while ((r = net_tcp_recv(&st, v->c, v->buf, sizeof(v->buf),
	    mono_ns())) > 0) {
		crypto_hash_sha256_update(&v->sha, v->buf, (size_t)r);
		v->bytes += (uint64_t)r;
	}
	if (r == 0) {
		print_done(v, "discard");
		svc_close(v);
	}
}

static void
source_pump(struct svc *v)
{
	uint64_t now = mono_ns();
	long r;

	/* What the peer sends is read and dropped: closing with unread
	 * data would reset the connection. */
	while (net_tcp_recv(&st, v->c, v->buf, sizeof(v->buf), now) > 0)
		;
	while (v->bytes < source_bytes) {
		size_t off = (size_t)(v->bytes % PATTERN_PERIOD);
		size_t n = PATTERN_PERIOD - off;

		if (n > source_bytes - v->bytes)
			n = (size_t)(source_bytes - v->bytes);
		r = net_tcp_send(&st, v->c, pattern + off, n, 0, now);
		if (r <= 0)
			return;
		crypto_hash_sha256_update(&v->sha, pattern + off, (size_t)r);
		v->bytes += (uint64_t)r;
	}
	print_done(v, "source");
	svc_close(v);
}

static void
svc_pump(struct svc *v)
{
	switch (v->kind) {
	case ECHO:
		echo_pump(v);
		break;
	case DISCARD:
		discard_pump(v);
		break;
	default:
		source_pump(v);
		break;
	}
}

static void
on_ready(struct net_tcp *c, void *arg)
{
	svc_pump(arg);
}

static void
on_closed(struct net_tcp *c, void *arg, int err)
{
	struct svc *v = arg;

	printf("closed kind=%d bytes=%llu err=%d\n", v->kind,
	    (unsigned long long)v->bytes, err);
	fflush(stdout);
	svc_unlink(v);
	free(v);
}

static const struct net_tcp_ops svc_ops = {
	.readable = on_ready,
	.writable = on_ready,
	.closed = on_closed,
};

static void
on_accept(struct net_tcp_listener *l, void *arg, struct net_tcp *c)
{
	struct svc *v = malloc(sizeof(*v));

	if (v == NULL) {
		net_tcp_abort(&st, c, mono_ns());
		return;
	}
	memset(v, 0, offsetof(struct svc, buf));
	v->kind = (int)(intptr_t)arg;
	v->c = c;
	v->next = svcs;
	if (svcs != NULL)
		svcs->prev = v;
	svcs = v;
	crypto_hash_sha256_init(&v->sha);
	net_tcp_set_ops(c, &svc_ops, v);
	svc_pump(v);
}

/* ---- status, setup, the loop ---- */

static void
print_status(void)
{
	const struct net_stats *s = net_stats(&st);

	printf("status conns=%u", st.tcp.nconns);
	for (int i = 0; i < NET_RX_COUNT; i++)
		if (s->rx[i])
			printf(" %s=%llu", net_rx_name(i),
			    (unsigned long long)s->rx[i]);
	for (int i = 0; i < NET_TX_COUNT; i++)
		if (s->tx[i])
			printf(" tx-%s=%llu", net_tx_name(i),
			    (unsigned long long)s->tx[i]);
	printf("\n");
	/* The connections the services still hold, for a stuck test. */
	for (struct svc *v = svcs; v != NULL; v = v->next) {
		struct net_tcp_info i;

		net_tcp_info(v->c, &i);
		printf("conn kind=%d port=%u state=%s bytes=%llu snd_wnd=%llu "
		    "rcv_wnd=%llu cwnd=%llu rto_ms=%llu retransmits=%llu "
		    "timeouts=%llu plen=%zu poff=%zu eof=%d\n", v->kind,
		    i.remote_port, i.state, (unsigned long long)v->bytes,
		    (unsigned long long)i.snd_wnd,
		    (unsigned long long)i.rcv_wnd,
		    (unsigned long long)i.cwnd,
		    (unsigned long long)(i.rto_ns / 1000000),
		    (unsigned long long)i.retransmits,
		    (unsigned long long)i.timeouts, v->plen, v->poff, v->eof);
	}
	fflush(stdout);
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_status = 1;
	else
		got_stop = 1;
}

static int
tap_open(const char *dev)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tapstack DEV CONFIG [--source-bytes N] "
	    "[--msl-ms N] [--rcvbuf N] [--sndbuf N] [--max-conns N] "
	    "[--backlog N] [--hold PERMILLE] [--hold-us N] [--seed N]\n");
	exit(2);
}

static uint64_t
number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0')
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	static const uint8_t default_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static uint8_t frame[NET_FRAME_MAX + 64];
	static struct net_tcp_listener echo, discard, source;
	struct net_config cfg;
	struct net_tcp_config tc;
	struct sigaction sa;
	uint64_t seed = 0;
	unsigned backlog = 128;
	int r;

	if (argc < 3)
		usage();
	if (sodium_init() < 0)
		return 1;
	tc.rcvbuf = NET_TCP_RCVBUF;
	tc.sndbuf = NET_TCP_SNDBUF;
	tc.max_conns = NET_TCP_MAX_CONNS;
	tc.msl_ns = 0;
	for (int i = 3; i < argc; i++) {
		const char *o = argv[i];

		if (i + 1 >= argc)
			usage();
		if (strcmp(o, "--source-bytes") == 0)
			source_bytes = number(argv[++i]);
		else if (strcmp(o, "--msl-ms") == 0)
			tc.msl_ns = number(argv[++i]) * RT_NSEC_PER_MSEC;
		else if (strcmp(o, "--rcvbuf") == 0)
			tc.rcvbuf = (size_t)number(argv[++i]);
		else if (strcmp(o, "--sndbuf") == 0)
			tc.sndbuf = (size_t)number(argv[++i]);
		else if (strcmp(o, "--max-conns") == 0)
			tc.max_conns = (unsigned)number(argv[++i]);
		else if (strcmp(o, "--backlog") == 0)
			backlog = (unsigned)number(argv[++i]);
		else if (strcmp(o, "--hold") == 0)
			hold_permille = (unsigned)number(argv[++i]);
		else if (strcmp(o, "--hold-us") == 0)
			hold_ns = number(argv[++i]) * RT_NSEC_PER_USEC;
		else if (strcmp(o, "--seed") == 0)
			seed = number(argv[++i]);
		else
			usage();
	}
	if (net_config_parse(&cfg, argv[2]) != 0 || cfg.ip == 0) {
		fprintf(stderr, "tapstack: bad configuration: %s\n", argv[2]);
		return 2;
	}
	if ((tapfd = tap_open(argv[1])) < 0) {
		fprintf(stderr, "tapstack: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	pattern_init();
	if (seed == 0)
		randombytes_buf(&seed, sizeof(seed));
	if (net_init(&st, cfg.has_mac ? cfg.mac : default_mac, tap_transmit,
	    NULL) != 0 || net_configure(&st, &cfg, mono_ns()) != 0 ||
	    net_tcp_configure(&st, &tc) != 0) {
		fprintf(stderr, "tapstack: cannot configure the stack\n");
		return 2;
	}
	net_seed(&st, seed);
	if (net_tcp_listen(&st, &echo, 7, backlog, on_accept,
	    (void *)(intptr_t)ECHO) != 0 ||
	    net_tcp_listen(&st, &discard, 9, backlog, on_accept,
	    (void *)(intptr_t)DISCARD) != 0 ||
	    net_tcp_listen(&st, &source, 19, backlog, on_accept,
	    (void *)(intptr_t)SOURCE) != 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);

	while (!got_stop) {
		uint64_t now = mono_ns(), next;
		struct pollfd p = { tapfd, POLLIN, 0 };
		struct timespec ts, *tsp = NULL;
		ssize_t n;

		release_held(now);
		next = net_poll(&st, now);
		if (held != NULL && held->at < next)
			next = held->at;
		if (next != RT_TIME_INFINITY) {
			uint64_t d = next > now ? next - now : 0;

			ts.tv_sec = (time_t)(d / RT_NSEC_PER_SEC);
			ts.tv_nsec = (long)(d % RT_NSEC_PER_SEC);
			tsp = &ts;
		}
		r = ppoll(&p, 1, tsp, NULL);
		if (got_status) {
			got_status = 0;
			print_status();
		}
		if (r <= 0)
			continue;
		/* A batch, then the timers again. */
		for (int k = 0; k < 256; k++) {
			n = read(tapfd, frame, sizeof(frame));
			if (n <= 0)
				break;
			if (hold_this())
				hold(frame, (size_t)n, 0);
			else
				net_input(&st, frame, (size_t)n, mono_ns());
		}
	}
	print_status();
	net_tcp_unlisten(&st, &echo, mono_ns());
	net_tcp_unlisten(&st, &discard, mono_ns());
	net_tcp_unlisten(&st, &source, mono_ns());
	net_fini(&st);
	while (held != NULL) {
		struct held *h = held;

		held = h->next;
		free(h);
	}
	close(tapfd);
	return 0;
}
