/*
 * cksum.c - the Internet checksum (RFC 1071), for IPv4, ICMP and UDP
 * (and TCP, later).
 */
#include "net.h"

uint32_t
net_cksum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	/* 64 bits cannot overflow before 2^48 words: no folding inside. */
	while (len >= 2) {
		acc += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

uint16_t
net_cksum_finish(uint32_t sum)
{
	return (uint16_t)~sum;
}
