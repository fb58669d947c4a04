/*
 * net.h - the runtime's TCP/IP stack: Ethernet II, ARP, IPv4, ICMP echo,
 * UDP and TCP (a DHCP client comes next: docs/net.md).  This header is
 * the whole of its contract; docs/net.md describes the design and what is
 * dropped and why.
 *
 * The same sources build freestanding into libruntime.a and, with the
 * host's compiler and libc, into libnet-host.a for the unit tests and the
 * fuzzer: the stack touches no hardware, no clock and no global variable.
 *
 * RULES, for every call below unless its comment says otherwise:
 *
 * Errors.  A call that can fail returns an int: 0 on success, or a
 *   negative RT_E* code (rt.h; the few rt.h lacks are defined below with
 *   Linux's numbers), and then it has changed nothing.  Misuse that cannot
 *   be reported (a NULL stack) crashes, as any wild access does.
 *
 * State.  Everything lives in a struct net_stack that the caller
 *   allocates (static, heap, or a frame that outlives its use) and hands
 *   to net_init().  Its members are the stack's: read them only through
 *   the calls below.  Several stacks may coexist.
 *
 * Ownership.  Frames and data passed in are borrowed for the duration of
 *   the call; the stack copies what it keeps (packets waiting for ARP).
 *   Frames and data passed to callbacks are the stack's, valid only until
 *   the callback returns.  A struct net_udp is held by the stack from
 *   net_udp_bind() until net_udp_unbind() returns.
 *
 * Concurrency.  Single-threaded, no locks: one caller drives a stack, as
 *   the runtime's event loop does.  Callbacks (transmit, UDP receive, TCP
 *   events) run on the caller's stack: transmit inside any call that may
 *   send, the others inside net_input() and net_poll() only; a UDP
 *   receive callback may call net_udp_send(), net_udp_bind() and
 *   net_udp_unbind(), but not net_input() or net_poll().  The transmit
 *   callback must not call into the stack.
 *
 * Time.  Every entry point that may start or check a timer takes (now_ns),
 *   monotonic nanoseconds (rt_time_monotonic_ns() in a guest, any
 *   non-decreasing counter in a test).  The stack never reads a clock.
 *
 * Memory.  malloc() and free() only, for packets waiting for ARP (at
 *   most NET_ARP_QUEUE of them per address and NET_ARP_ENTRIES
 *   addresses) and for TCP connections (at most max_conns, each a struct
 *   and its two buffers: struct net_tcp_config).  net_fini() frees them.
 *
 * Addresses.  IPv4 addresses and ports are in host byte order
 *   (10.0.2.15 is 0x0a00020f); MAC addresses are 6 bytes as on the wire.
 */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <stdint.h>

#include "rt.h"

#ifndef RT_EMSGSIZE
#define RT_EMSGSIZE	90
#endif
#ifndef RT_EADDRINUSE
#define RT_EADDRINUSE	98
#endif
#ifndef RT_EADDRNOTAVAIL
#define RT_EADDRNOTAVAIL	99
#endif
#ifndef RT_ENETUNREACH
#define RT_ENETUNREACH	101
#endif
#ifndef RT_ENOBUFS
#define RT_ENOBUFS	105
#endif
#ifndef RT_EPIPE
#define RT_EPIPE	32
#endif
#ifndef RT_ECONNRESET
#define RT_ECONNRESET	104
#endif
#ifndef RT_ENOTCONN
#define RT_ENOTCONN	107
#endif
#ifndef RT_ECONNREFUSED
#define RT_ECONNREFUSED	111
#endif

#define NET_ETH_HDR	14
#define NET_MTU		1500		/* IPv4 bytes per frame */
#define NET_FRAME_MAX	(NET_ETH_HDR + NET_MTU)	/* no FCS, no VLAN tag */
#define NET_FRAME_MIN	60		/* what we pad short frames to */
#define NET_UDP_MAX	(NET_MTU - 20 - 8)	/* payload of one datagram */

#define NET_ARP_ENTRIES	16		/* cache size, addresses */
#define NET_ARP_QUEUE	4		/* packets waiting per address */
#define NET_ARP_TTL_NS	(60 * RT_NSEC_PER_SEC)	/* a reply is good for */
#define NET_ARP_RETRY_NS RT_NSEC_PER_SEC	/* between requests */
#define NET_ARP_TRIES	3		/* requests before giving up */
#define NET_ICMP_BURST	10		/* port unreachables at once */
#define NET_ICMP_INTERVAL_NS (100 * RT_NSEC_PER_MSEC)	/* one more per */

/*
 * What became of each received frame: net_input() returns one of these
 * and adds one to its counter, so the counters always sum to the frames
 * received.  The first few are frames the stack used; the rest are drops,
 * each for one reason (docs/net.md lists them).
 */
enum net_rx {
	NET_RX_ARP_REQUEST,	/* an ARP request for us, answered */
	NET_RX_ARP_REPLY,	/* an ARP reply for us, learned */
	NET_RX_ARP_OTHER,	/* ARP not for us: at most a cache refresh */
	NET_RX_ICMP_ECHO,	/* an echo request: a reply was attempted */
	NET_RX_UDP,		/* delivered to a bound socket */
	NET_RX_UDP_NO_PORT,	/* no socket: ICMP port unreachable */
	NET_RX_TCP,		/* a segment a connection processed */
	NET_RX_TCP_SYN,		/* a SYN to a listener: SYN-ACK sent */
	NET_RX_TCP_NO_CONN,	/* no connection: RST sent unless it was one */
	NET_RX_ETH_SHORT,	/* shorter than an Ethernet header */
	NET_RX_ETH_LONG,	/* longer than NET_FRAME_MAX */
	NET_RX_ETH_NOT_OURS,	/* not to our MAC nor broadcast */
	NET_RX_ETH_VLAN,	/* 802.1Q / 802.1ad tagged */
	NET_RX_ETH_TYPE,	/* not IPv4 nor ARP (IPv6, 802.3...) */
	NET_RX_UNCONFIGURED,	/* no address yet */
	NET_RX_ARP_MALFORMED,	/* short, or not Ethernet/IPv4, or bad op */
	NET_RX_ARP_CONFLICT,	/* someone else claims our address */
	NET_RX_IP_SHORT,	/* shorter than an IPv4 header */
	NET_RX_IP_VERSION,	/* not version 4 */
	NET_RX_IP_IHL,		/* header under 20 bytes or past the frame */
	NET_RX_IP_LEN,		/* total length under header or past frame */
	NET_RX_IP_CKSUM,	/* header checksum wrong */
	NET_RX_IP_TTL,		/* TTL 0 */
	NET_RX_IP_FRAG,		/* a fragment: not reassembled (docs/net.md) */
	NET_RX_IP_NOT_OURS,	/* not our address nor a broadcast */
	NET_RX_IP_BAD_SRC,	/* source 0, broadcast, multicast or loopback */
	NET_RX_IP_PROTO,	/* neither ICMP, UDP nor TCP */
	NET_RX_ICMP_SHORT,	/* shorter than an ICMP header */
	NET_RX_ICMP_CKSUM,	/* checksum wrong */
	NET_RX_ICMP_IGNORED,	/* not an echo request, or to a broadcast */
	NET_RX_UDP_SHORT,	/* shorter than a UDP header */
	NET_RX_UDP_LEN,		/* UDP length under 8 or past the IP packet */
	NET_RX_UDP_CKSUM,	/* checksum present and wrong */
	NET_RX_TCP_SHORT,	/* header short or data offset past packet */
	NET_RX_TCP_CKSUM,	/* checksum wrong */
	NET_RX_TCP_BAD_ADDR,	/* to a broadcast address, or from our own */
	NET_RX_TCP_BACKLOG,	/* a SYN while the listener's backlog is full */
	NET_RX_TCP_FULL,	/* a SYN: max_conns reached, or no memory */
	NET_RX_TCP_WINDOW,	/* outside the receive window: ACKed */
	NET_RX_TCP_BAD_ACK,	/* acknowledges what was never sent, or long
				 * acknowledged: ACKed (RFC 5961 5) or RST */
	NET_RX_TCP_BAD_RST,	/* an RST not at RCV.NXT: challenge ACK or
				 * nothing (RFC 5961 3) */
	NET_RX_TCP_BAD_SYN,	/* a SYN on a synchronized connection:
				 * challenge ACK (RFC 5961 4) */
	NET_RX_TCP_FLAGS,	/* no ACK where one is due, or neither SYN
				 * nor RST in SYN_SENT */
	NET_RX_COUNT
};

/* What became of frames the stack meant to send. */
enum net_tx {
	NET_TX_SENT,		/* handed to the driver, which took it */
	NET_TX_DRIVER,		/* the driver's transmit refused it */
	NET_TX_NO_ROUTE,	/* off-link and no gateway, or unconfigured */
	NET_TX_ARP_FULL,	/* every cache entry waits for a reply */
	NET_TX_QUEUE_FULL,	/* NET_ARP_QUEUE packets already wait */
	NET_TX_NOMEM,		/* no memory to keep a waiting packet */
	NET_TX_ARP_TIMEOUT,	/* dropped: no reply after NET_ARP_TRIES */
	NET_TX_ICMP_LIMITED,	/* a port unreachable held back by the limit */
	NET_TX_FLUSHED,		/* waiting for ARP at net_configure/net_fini */
	NET_TX_TCP_LIMITED,	/* a challenge ACK held back by the limit */
	NET_TX_COUNT
};

struct net_stats {
	uint64_t rx_frames;
	uint64_t rx[NET_RX_COUNT];
	uint64_t tx[NET_TX_COUNT];
};

/* A short stable name for a counter ("ip-cksum"), or "?" out of range. */
const char *net_rx_name(int reason);
const char *net_tx_name(int reason);

/*
 * The driver's output: sends the Ethernet frame (frame), (len) bytes,
 * without FCS, 14 <= (len) <= NET_FRAME_MAX.  (frame) is borrowed for the
 * call.  Returns 0, or a negative RT_E* code when it could not (counted
 * as NET_TX_DRIVER; the stack does not retry).
 */
typedef int net_transmit_fn(void *arg, const void *frame, size_t len);

/* Static configuration, from net_config_parse() or filled in by hand. */
struct net_config {
	uint32_t ip;		/* 0: unconfigured (DHCP will fill it in) */
	uint32_t netmask;
	uint32_t gateway;	/* 0: none, only the local subnet is reached */
	uint8_t mac[6];		/* used when has_mac */
	int has_mac;
};

struct net_arp_pkt {
	uint8_t *frame;		/* malloc'ed, the Ethernet header to fill */
	size_t len;
};

struct net_arp_entry {
	uint32_t ip;		/* 0: free */
	int resolved;
	uint8_t mac[6];
	int tries;		/* requests sent while unresolved */
	uint64_t deadline;	/* expiry, or the next request */
	int nqueue;
	struct net_arp_pkt queue[NET_ARP_QUEUE];
};

struct net_udp;
/*
 * A datagram for (sock): (data), (len) bytes, from (src_ip):(src_port) to
 * (dst_ip), which is ours or a broadcast address.
 */
typedef void net_udp_fn(struct net_udp *sock, void *arg, uint32_t src_ip,
    uint16_t src_port, uint32_t dst_ip, const void *data, size_t len);

/* A UDP socket; the caller owns the struct, its members are the stack's. */
struct net_udp {
	struct net_udp *net_next;
	uint16_t net_port;
	net_udp_fn *net_fn;
	void *net_arg;
};

struct net_stack;

/*
 * Parses the words "ip=A.B.C.D/N", "gw=A.B.C.D" and
 * "mac=xx:xx:xx:xx:xx:xx" out of the kernel command line (cmdline) into
 * (cfg), which it clears first; other words are ignored, a later word
 * overrides an earlier one.  Returns 0, or -RT_EINVAL when one of these
 * words is malformed, or the gateway lies outside the subnet, or an
 * address cannot be a host's (0, broadcast, multicast, loopback; a
 * multicast or all-zero MAC).  No "ip=", or "ip=dhcp", leaves cfg->ip 0
 * (then a gateway is refused too).
 */
int net_config_parse(struct net_config *cfg, const char *cmdline);

/*
 * Initialises (s) for the interface with hardware address (mac), whose
 * frames go out through (transmit)((arg), ...).  Unconfigured: ARP and
 * IPv4 are dropped (NET_RX_UNCONFIGURED) except UDP to 255.255.255.255,
 * which DHCP will need.  Returns 0, or -RT_EINVAL when (mac) is
 * multicast or zero or (transmit) is NULL.
 */
int net_init(struct net_stack *s, const uint8_t mac[6],
    net_transmit_fn *transmit, void *arg);

/*
 * Frees what (s) holds (packets waiting for ARP).  Bound sockets are
 * forgotten, not touched.  (s) may then be initialised again.
 */
void net_fini(struct net_stack *s);

/*
 * Applies (cfg): its address, mask, gateway and, when cfg->has_mac, its
 * MAC (the driver must then accept frames to net_mac()).  Forgets the
 * ARP cache, dropping waiting packets, and announces the address with a
 * gratuitous ARP request.  A new address (not 0) ends the TCP
 * connections made on another one: the peer would not know the new
 * address, so they end with -RT_EADDRNOTAVAIL, the application told by
 * its closed callback from the next net_poll().  Unconfiguring (cfg->ip
 * 0, a lost DHCP lease) keeps them: if the same address comes back they
 * go on, else their retransmissions time out.  Listeners stay.  Returns
 * 0, or -RT_EINVAL for a configuration net_config_parse() would refuse
 * (cfg->ip 0 is allowed: unconfigured).
 */
int net_configure(struct net_stack *s, const struct net_config *cfg,
    uint64_t now_ns);

/* The interface's MAC address, as the stack uses it. */
const uint8_t *net_mac(const struct net_stack *s);

/*
 * Gives (s) unpredictable bits (the runtime's RDRAND or RDTSC, a test's
 * constant) for TCP's initial sequence numbers (RFC 6528), DHCP's
 * transaction IDs and ephemeral ports.  Call it after net_init(); a
 * stack without a seed works, predictably.
 */
void net_seed(struct net_stack *s, uint64_t seed);

/*
 * Handles one received Ethernet frame (frame), (len) bytes without FCS
 * (shorter frames padded to 60 bytes are fine).  May transmit replies.
 * Never fails: returns the enum net_rx it counted.
 */
int net_input(struct net_stack *s, const void *frame, size_t len,
    uint64_t now_ns);

/*
 * Runs the timers due at (now_ns): ARP retries and give-ups, cache
 * expiry.  Returns the next deadline, or RT_TIME_INFINITY when none; the
 * caller calls net_poll() again then, or on any input.
 */
uint64_t net_poll(struct net_stack *s, uint64_t now_ns);

/* The counters; they only grow (net_init() zeroes them). */
const struct net_stats *net_stats(const struct net_stack *s);

/*
 * Binds (sock) to UDP (port) on every address of (s); (fn)((sock),
 * (arg), ...) gets each datagram for it.  (port) 0 picks a free port from
 * 49152-65535.  Returns 0, -RT_EINVAL when (sock) or (fn) is NULL or
 * (sock) is already bound, -RT_EADDRINUSE when the port is taken.
 */
int net_udp_bind(struct net_stack *s, struct net_udp *sock, uint16_t port,
    net_udp_fn *fn, void *arg);

/* The port (sock) is bound to. */
uint16_t net_udp_port(const struct net_udp *sock);

/*
 * Unbinds (sock); returns 0, or -RT_ENOENT when it was not bound to (s).
 */
int net_udp_unbind(struct net_stack *s, struct net_udp *sock);

/*
 * Sends (len) bytes of (data) from (sock)'s port to (dst_ip):(dst_port),
 * with a UDP checksum.  Returns 0 when the datagram went to the driver or
 * waits for ARP (it may still be dropped then: NET_TX_ARP_TIMEOUT),
 * -RT_EINVAL when (sock) is not bound or (dst_ip) or (dst_port) is 0,
 * -RT_EMSGSIZE when (len) > NET_UDP_MAX (no fragmentation),
 * -RT_ENETUNREACH when there is no route (unconfigured, or off-link
 * without gateway), -RT_ENOBUFS when the ARP cache or queue is full,
 * -RT_ENOMEM, or the driver's error.
 */
int net_udp_send(struct net_stack *s, struct net_udp *sock, uint32_t dst_ip,
    uint16_t dst_port, const void *data, size_t len, uint64_t now_ns);


/*
 * TCP (RFC 9293, with RFC 6298 retransmission timing, RFC 5681 and 6582
 * congestion control, RFC 7323 window scaling, RFC 5961's defences).
 * docs/net.md, "TCP", says what is and is not implemented.
 *
 * Connections.  A struct net_tcp is one connection, allocated by the
 * stack (malloc) when a SYN for a listener arrives or net_tcp_connect()
 * is called, with its receive and send buffers (struct net_tcp_config).
 * The application holds a connection from the moment it is handed one
 * (the accept callback, or net_tcp_connect()'s *cp) until it calls
 * net_tcp_close() or net_tcp_abort(), or its closed callback returns,
 * whichever is first; then the pointer is dead and the stack frees it
 * when the protocol is done with it (after FIN_WAIT, LAST_ACK or
 * TIME_WAIT), on its own.  A connection that ends normally while the
 * application still holds it (both FINs exchanged) stays allocated, in
 * TIME_WAIT or CLOSED, until the application gives it back.
 *
 * Events.  Each connection has a struct net_tcp_ops and an (arg), given
 * by net_tcp_connect() or, for an accepted one, by net_tcp_set_ops() in
 * the accept callback.  Every callback runs inside net_input() or
 * net_poll(), never inside a net_tcp_*() call (so none runs again inside
 * the send or recv its application makes from it), and may call any
 * net_tcp_*() or net_udp_*() function but net_input() and net_poll(),
 * including net_tcp_close() on its own connection.  A NULL member is an
 * event the application does not want.  A struct net_tcp_listener is
 * held by the stack from net_tcp_listen() until net_tcp_unlisten()
 * returns.
 *
 * Data.  net_tcp_recv() copies received bytes out of the connection's
 * receive buffer; what is not read stays there and narrows the window
 * the peer may send into (flow control).  net_tcp_send() copies into the
 * send buffer; the stack transmits what the peer's window and the
 * congestion window allow and keeps it until acknowledged.
 */
struct net_tcp;

struct net_tcp_ops {
	/* net_tcp_connect()'s handshake completed. */
	void (*connected)(struct net_tcp *c, void *arg);
	/* Received bytes, or the peer's FIN, wait for net_tcp_recv().
	 * Called again only after net_tcp_recv() has returned -RT_EAGAIN,
	 * so an application that reads until then misses nothing.  The
	 * first call comes with the first byte (or FIN) received. */
	void (*readable)(struct net_tcp *c, void *arg);
	/* The send buffer has room again (at least half of it, or all)
	 * after net_tcp_send() returned -RT_EAGAIN or took less than it
	 * was given. */
	void (*writable)(struct net_tcp *c, void *arg);
	/* The connection ended before the application closed it: (err) is
	 * -RT_ECONNRESET (the peer reset it), -RT_ETIMEDOUT (retransmissions
	 * or the handshake gave up), -RT_ECONNREFUSED (an RST answered our
	 * SYN).  (c) is dead when it returns. */
	void (*closed)(struct net_tcp *c, void *arg, int err);
};

/* Limits for the connections of a stack: net_init() sets the defaults
 * below, net_tcp_configure() changes them for connections made later. */
struct net_tcp_config {
	size_t rcvbuf;		/* bytes, 1 KiB .. 1 GiB; default 64 KiB */
	size_t sndbuf;		/* bytes, 1 KiB .. 1 GiB; default 64 KiB */
	unsigned max_conns;	/* connections at once, every state; 256 */
	uint64_t msl_ns;	/* maximum segment lifetime: TIME_WAIT lasts
				 * two; 0 is NET_TCP_MSL_NS, else 1 ms ..
				 * 120 s (tests shorten it) */
};
#define NET_TCP_RCVBUF		(64 * 1024)
#define NET_TCP_SNDBUF		(64 * 1024)
#define NET_TCP_MAX_CONNS	256
#define NET_TCP_MSS		(NET_MTU - 40)	/* what we accept per segment */
#define NET_TCP_MSL_NS		(30 * RT_NSEC_PER_SEC)	/* TIME_WAIT 2 MSL */
#define NET_TCP_RTO_INIT_NS	RT_NSEC_PER_SEC		/* RFC 6298 2.1 */
#define NET_TCP_RTO_MIN_NS	(200 * RT_NSEC_PER_MSEC)	/* RFC: 1 s */
#define NET_TCP_RTO_MAX_NS	(60 * RT_NSEC_PER_SEC)
#define NET_TCP_DELACK_NS	(40 * RT_NSEC_PER_MSEC)	/* delayed ACK */
#define NET_TCP_RETRIES		12	/* RTOs (or unanswered zero-window
					 * probes) in a row before giving up */
#define NET_TCP_SYNACK_TRIES	5	/* SYN-ACKs sent before forgetting */
#define NET_TCP_FIN_WAIT2_NS	(60 * RT_NSEC_PER_SEC)	/* closed, waiting
					 * for the peer's FIN at most this */
#define NET_TCP_CHALLENGE_BURST	5	/* challenge ACKs at once, and one
					 * more per NET_TCP_CHALLENGE_NS, per
					 * connection (RFC 5961 7) */
#define NET_TCP_CHALLENGE_NS	(100 * RT_NSEC_PER_MSEC)

/*
 * Sets (s)'s TCP limits; returns 0 or -RT_EINVAL when a value is out of
 * the ranges above (max_conns 1 .. 65535).  Connections already made
 * keep their buffers; the MSL applies to every TIME_WAIT from now on.
 */
int net_tcp_configure(struct net_stack *s, const struct net_tcp_config *cfg);

struct net_tcp_listener;
/*
 * A connection completed its handshake on (l): the callback must give
 * it its events with net_tcp_set_ops() (or close or abort it); until
 * then received data waits in its buffer.
 */
typedef void net_tcp_accept_fn(struct net_tcp_listener *l, void *arg,
    struct net_tcp *c);

/* A listening port; the caller owns the struct, its members the stack's. */
struct net_tcp_listener {
	struct net_tcp_listener *net_next;
	uint16_t net_port;
	unsigned net_backlog;	/* half-open connections allowed */
	unsigned net_half_open;
	net_tcp_accept_fn *net_fn;
	void *net_arg;
};

/*
 * Listens on TCP (port) on every address of (s).  At most (backlog)
 * connections (1 .. 65535) may wait in the handshake (SYN_RECEIVED) at
 * once; further SYNs are dropped and counted, which the peer's
 * retransmission survives.  Returns 0, -RT_EINVAL (NULL (l) or (fn),
 * (l) already listening, (port) 0, (backlog) out of range) or
 * -RT_EADDRINUSE.
 */
int net_tcp_listen(struct net_stack *s, struct net_tcp_listener *l,
    uint16_t port, unsigned backlog, net_tcp_accept_fn *fn, void *arg);

/*
 * Stops listening; connections already handed out are not touched, those
 * still in the handshake are reset.  0, or -RT_ENOENT when (l) was not
 * listening on (s).
 */
int net_tcp_unlisten(struct net_stack *s, struct net_tcp_listener *l,
    uint64_t now_ns);

/*
 * Opens a connection from an ephemeral port (RFC 6056's third algorithm,
 * keyed by net_seed()) to (ip):(port) and stores it in (*cp) at once;
 * ops->connected() or ops->closed() says how it went (SYN retransmitted
 * per RFC 6298 with back-off, given up after NET_TCP_SYN_TRIES sent).
 * Returns 0, -RT_EINVAL (NULL (cp) or (ops), (ip) or (port) 0, (ip) a
 * broadcast address or our own), -RT_ENETUNREACH, -RT_EADDRINUSE (no free
 * port towards (ip):(port)), -RT_ENOBUFS (max_conns reached), -RT_ENOMEM.
 */
#define NET_TCP_SYN_TRIES	6
int net_tcp_connect(struct net_stack *s, struct net_tcp **cp, uint32_t ip,
    uint16_t port, const struct net_tcp_ops *ops, void *arg, uint64_t now_ns);

/*
 * Gives (c) its events; see struct net_tcp_ops.  Calls none of them:
 * data that arrived before may be read at once.
 */
void net_tcp_set_ops(struct net_tcp *c, const struct net_tcp_ops *ops,
    void *arg);

/*
 * Copies up to (max) received bytes into (buf).  Returns how many (more
 * than 0), 0 at the end of the stream (the peer's FIN, every byte before
 * it read), -RT_EAGAIN when nothing waits yet, or -RT_ENOTCONN before the
 * handshake completed.  Reading opens the window: a window update goes
 * out when it grew by at least two segments or half the buffer.
 */
long net_tcp_recv(struct net_stack *s, struct net_tcp *c, void *buf,
    size_t max, uint64_t now_ns);

/* Bytes net_tcp_recv() would return now without blocking. */
size_t net_tcp_readable(const struct net_tcp *c);

/*
 * Copies up to (len) bytes of (data) into (c)'s send buffer and returns
 * how many (0 < n <= len), or -RT_EAGAIN when the buffer is full (ops->
 * writable() follows), -RT_EPIPE after net_tcp_shutdown() or once the
 * connection is over, -RT_ENOTCONN before the handshake completed.  With
 * (flags) NET_TCP_MORE a segment shorter than the MSS is held back for
 * more data (as Linux's MSG_MORE) until a net_tcp_send() without it,
 * net_tcp_shutdown() or net_tcp_close(); without it what the windows
 * allow leaves now (no Nagle).  (len) 0 just sends what was held back.
 */
#define NET_TCP_MORE	1
long net_tcp_send(struct net_stack *s, struct net_tcp *c, const void *data,
    size_t len, int flags, uint64_t now_ns);

/* Room in (c)'s send buffer, bytes (0 once it can send no more). */
size_t net_tcp_writable(const struct net_tcp *c);

/*
 * Sends a FIN once the send buffer has drained; receiving continues.
 * 0, or -RT_ENOTCONN when (c) never connected.  A second call is a no-op.
 */
int net_tcp_shutdown(struct net_stack *s, struct net_tcp *c, uint64_t now_ns);

/*
 * Gives (c) back: shuts it down as net_tcp_shutdown() does and lets the
 * stack finish the close alone, with no more callbacks.  If received
 * bytes were left unread, or more arrive, the peer gets an RST instead
 * (RFC 9293 3.10.4: data would be lost).  A connection still in
 * SYN_SENT is simply forgotten.
 */
void net_tcp_close(struct net_stack *s, struct net_tcp *c, uint64_t now_ns);

/* Gives (c) back at once, resetting the connection (an RST goes out). */
void net_tcp_abort(struct net_stack *s, struct net_tcp *c, uint64_t now_ns);

/* What a connection looks like, for logs and tests. */
struct net_tcp_info {
	uint32_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
	const char *state;	/* "ESTABLISHED", "TIME_WAIT"... */
	uint32_t mss;		/* bytes per segment we send */
	uint32_t snd_wscale, rcv_wscale;
	uint64_t cwnd, ssthresh, snd_wnd, rcv_wnd;
	uint64_t srtt_ns, rto_ns;
	uint64_t retransmits, fast_retransmits, timeouts, loss_probes;
	uint64_t bytes_sent, bytes_received;	/* acked; in order */
};
void net_tcp_info(const struct net_tcp *c, struct net_tcp_info *info);

/*
 * DHCP client (RFC 2131, options of RFC 2132; docs/net.md, "DHCP"):
 * discovers a lease on an unconfigured stack and applies it with
 * net_configure() (address, mask from option 1, the first router of
 * option 3 when it is on the subnet), renews at T1 (option 58, default
 * half the lease) with a REQUEST to its server and rebinds at T2 (option
 * 59, default 7/8) with a broadcast one, and unconfigures the stack and
 * starts again when the lease runs out or a server refuses it (DHCPNAK).
 * Its timers run in net_poll() and join its deadline; its transaction
 * IDs and back-off come from net_seed().  DISCOVER and REQUEST are
 * retransmitted with RFC 2131 4.1's randomised exponential back-off (4 s,
 * 8 s ... 64 s, each +-1 s); a REQUEST unanswered NET_DHCP_REQUEST_TRIES
 * times sends the client back to discovery; renewals and rebinds retry
 * after half the time left, at least NET_DHCP_RETRY_MIN_NS (RFC 2131
 * 4.4.5).  Replies are validated field by field and option by option
 * when they arrive, one that fails is ignored and counted (struct
 * net_dhcp_info); one that passes is acted on at the next net_poll(),
 * which knows the time (the caller makes one after any input).
 *
 * (fn), when not NULL, is told of each change from inside net_poll():
 * (bound) 1 with the configuration just applied (the first lease, or a
 * renewal that changed the mask or router), 0 with the one just lost
 * (the stack is unconfigured by then).  It may call what a UDP receive
 * callback may, and net_dhcp_stop().  (cfg) is valid until it returns.
 */
#define NET_DHCP_LEASE_MIN	10	/* seconds: shorter leases refused */
#define NET_DHCP_REQUEST_TRIES	5	/* REQUESTs for an offer, in all */
#define NET_DHCP_RETRY_MIN_NS	(60 * RT_NSEC_PER_SEC)	/* renew, rebind */
typedef void net_dhcp_fn(struct net_stack *s, void *arg, int bound,
    const struct net_config *cfg);

/*
 * Starts the client on (s), binding UDP port 68, and sends the first
 * DISCOVER at once.  Returns 0, -RT_EINVAL when the client already runs
 * or (s) has an address (net_configure() gave it one), or
 * -RT_EADDRINUSE when port 68 is taken.
 */
int net_dhcp_start(struct net_stack *s, net_dhcp_fn *fn, void *arg,
    uint64_t now_ns);

/*
 * Stops the client, without calling (fn).  When bound, it sends the
 * server a DHCPRELEASE and unconfigures the stack; when the RELEASE has
 * to wait for ARP to find the server (or the router towards it), the
 * address is kept until it has left or ARP gave up, at most
 * NET_ARP_TRIES * NET_ARP_RETRY_NS, the caller going on calling
 * net_poll() (net_dhcp_start() or net_fini() cut that short).  Returns
 * 0, or -RT_ENOENT when the client was not running.
 */
int net_dhcp_stop(struct net_stack *s, uint64_t now_ns);

/* Where the client stands, for logs and tests. */
struct net_dhcp_info {
	const char *state;	/* "off", "selecting", "requesting", "bound",
				 * "renewing", "rebinding", "releasing" */
	uint32_t server;	/* the chosen server's identifier, or 0 */
	struct net_config cfg;	/* the lease, offered then bound; ip 0: none */
	uint32_t lease_s;	/* as granted; 0xffffffff: infinite */
	uint32_t t1_s, t2_s;	/* as used, seconds from the REQUEST */
	uint64_t t1, t2, expiry;	/* ns; RT_TIME_INFINITY: never */
	uint64_t deadline;	/* the client's next timer, or never */
	uint64_t acks;		/* leases granted, renewals included */
	uint64_t rejected;	/* replies that failed validation */
	uint64_t unexpected;	/* valid, but not what the state waits for */
};
void net_dhcp_info(const struct net_stack *s, struct net_dhcp_info *info);

/* What tcp.c keeps per stack. */
#define NET_TCP_HASH	256		/* lookup buckets, a power of 2 */
struct net_tcp_stack {
	struct net_tcp_config cfg;
	struct net_tcp_listener *listeners;
	struct net_tcp *conns;		/* every connection, any state */
	struct net_tcp *hash[NET_TCP_HASH];	/* by remote address, ports */
	struct net_tcp **heap;		/* live ones, by earliest timer */
	unsigned heap_cap;
	unsigned nconns;		/* live ones, against max_conns */
	unsigned ndead;			/* given up, to free at depth 0 */
	unsigned depth;			/* TCP calls on the C stack */
	uint16_t next_port;		/* ephemeral ports for connect */
};

/* What dhcp.c keeps per stack. */
struct net_dhcp_reply {
	int type;			/* 0: none */
	uint32_t server, lease_s, t1_s, t2_s;
	struct net_config cfg;
};
struct net_dhcp {
	int state;			/* 0: not running */
	net_dhcp_fn *fn;
	void *arg;
	uint32_t xid;
	uint64_t deadline;		/* the next timer, any state */
	struct net_udp sock;
	uint64_t rng;			/* net_seed() and the MAC */
	unsigned tries;			/* messages sent in this exchange */
	uint64_t began;			/* this exchange's first message */
	uint64_t requested;		/* the first REQUEST: the lease's base */
	uint32_t server;
	struct net_config lease;
	uint32_t lease_s, t1_s, t2_s;
	uint64_t t1, t2, expiry;
	uint64_t acks, rejected, unexpected;
	struct net_dhcp_reply reply;	/* valid, for the next net_poll() */
};

struct net_stack {
	uint8_t mac[6];
	struct net_config cfg;
	net_transmit_fn *transmit;
	void *transmit_arg;
	uint16_t ip_id;
	uint16_t next_ephemeral;
	uint32_t icmp_tokens;
	uint64_t icmp_refill;
	struct net_udp *udp;
	struct net_arp_entry arp[NET_ARP_ENTRIES];
	struct net_stats stats;
	uint64_t seed;			/* net_seed(): ISNs, xids, ports */
	struct net_tcp_stack tcp;
	struct net_dhcp dhcp;
	uint8_t tx[NET_FRAME_MAX];	/* the frame being built */
};

/*
 * The Internet checksum (RFC 1071), shared by every protocol here.
 * net_cksum_add() adds (len) bytes at (data), as big-endian 16-bit words,
 * to the partial sum (sum) (start from 0) and returns the new partial
 * sum, at most 0xffff; only the last piece may have an odd length.
 * net_cksum_finish() gives the checksum to store, in host order.
 */
uint32_t net_cksum_add(uint32_t sum, const void *data, size_t len);
uint16_t net_cksum_finish(uint32_t sum);

#endif
