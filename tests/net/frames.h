/*
 * frames.h - frames for the network stack's tests (test-dhcp,
 * fuzz-dhcp): big-endian fields, the Internet checksum computed here (a
 * plain 64-bit sum folded at the end, never the stack's own routine),
 * UDP over IPv4 over Ethernet, and ARP replies.  Header-only.
 */
#ifndef TESTS_NET_FRAMES_H
#define TESTS_NET_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void
frame_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
frame_put32(uint8_t *p, uint32_t v)
{
	frame_put16(p, v >> 16);
	frame_put16(p + 2, v & 0xffff);
}

static inline uint32_t
frame_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The Internet checksum (RFC 1071) over (a) then (b); (b) may be NULL
 * when (blen) is 0. */
static inline uint16_t
frame_cksum(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint64_t sum = 0;
	const uint8_t *p[2] = { a, b };
	size_t n[2] = { alen, blen };

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < n[k]; i++)
			sum += (i & 1) ? p[k][i] : (uint64_t)p[k][i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Writes Ethernet, IPv4 (TTL 64, identification (id)) and UDP headers,
 * with their checksums, around the (len) bytes already at f + 42;
 * returns the frame's length.
 */
static inline size_t
frame_udp(uint8_t *f, const uint8_t *smac, const uint8_t *dmac, uint32_t src,
    uint32_t dst, unsigned sport, unsigned dport, unsigned id, size_t len)
{
	uint8_t *ip = f + 14, *u = f + 34, ph[12];
	uint16_t c;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	frame_put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	frame_put16(ip + 2, (unsigned)(28 + len));
	frame_put16(ip + 4, id);
	ip[8] = 64;
	ip[9] = 17;
	frame_put32(ip + 12, src);
	frame_put32(ip + 16, dst);
	frame_put16(ip + 10, frame_cksum(ip, 20, NULL, 0));
	frame_put16(u, sport);
	frame_put16(u + 2, dport);
	frame_put16(u + 4, (unsigned)(8 + len));
	frame_put16(u + 6, 0);
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	frame_put16(ph + 10, (unsigned)(8 + len));
	c = frame_cksum(ph, 12, u, 8 + len);
	/* 0 says "no checksum" (RFC 768): its other form goes out. */
	frame_put16(u + 6, c == 0 ? 0xffff : c);
	return 42 + len;
}

/* An ARP reply (RFC 826), 60 bytes: (smac) has (sip), told to (dmac),
 * (dip). */
static inline void
frame_arp_reply(uint8_t f[60], const uint8_t *smac, uint32_t sip,
    const uint8_t *dmac, uint32_t dip)
{
	memset(f, 0, 60);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	frame_put16(f + 12, 0x0806);
	frame_put16(f + 14, 1);
	frame_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	frame_put16(f + 20, 2);
	memcpy(f + 22, smac, 6);
	frame_put32(f + 28, sip);
	memcpy(f + 32, dmac, 6);
	frame_put32(f + 38, dip);
}

#endif
