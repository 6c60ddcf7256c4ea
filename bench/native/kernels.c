/*
 * kernels.c - the host-native benchmark kernels, written once in C and
 * compiled twice: by gcc -O2 into the benchmark driver (the baseline), and
 * by clang-19 -O2 -target bpf into an extension object that the driver
 * loads, verifies and JIT-compiles (mk/bench-native.mk).  Both builds run
 * on the same data, so the ratio of their cycle counts is the cost of
 * Spindle's safety + JIT against the system compiler.
 *
 * Kernels: the Internet checksum over 1500 bytes, FNV-1a over a 40-byte key,
 * an Ethernet/IPv4/UDP header parse with full validation (including the IP
 * header checksum), eight calls to a kernel function, and an increment (the
 * smallest possible extension: entry cost).
 */
#include "bench/native/kernels.h"

#ifdef __bpf__
#define KERNEL(name) __attribute__((section("bench/" #name), used))
#else
#define KERNEL(name) __attribute__((noinline))
#endif

KERNEL(csum) uint64_t bench_csum(const struct bench_buf *b)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < BENCH_CSUM_WORDS; i++)
		sum += b->w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

KERNEL(hash) uint64_t bench_hash(const struct bench_key *k)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t i;

	for (i = 0; i < BENCH_KEY_LEN; i++) {
		h ^= k->b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Headers as a C parser declares them (only 16-bit alignment needed:
 * the IP header sits at byte 14 of the frame).  Fields in network order. */
struct bench_ip {
	uint8_t vihl, tos;
	uint16_t tot_len, id, frag;
	uint8_t ttl, proto;
	uint16_t csum;
	uint16_t saddr[2], daddr[2];
};

struct bench_udp {
	uint16_t sport, dport, len, csum;
};

static inline uint32_t bench_ntohs(uint16_t v)
{
	return __builtin_bswap16(v);
}

/* Returns (UDP destination port << 16 | UDP length), or 0 if the packet is
 * not a well-formed unfragmented IPv4/UDP packet.  Written as a C network
 * parser usually is: header structs and ntohs. */
KERNEL(parse) uint64_t bench_parse(const struct bench_pkt *p)
{
	const struct bench_ip *ip;
	const struct bench_udp *udp;
	const uint16_t *w;
	uint32_t len = p->len, ihl, tot, sum = 0, ulen, i;

	if (len < 14 + 20 + 8 || len > BENCH_PKT_MAX)
		return 0;
	if (p->data[12] != 0x08 || p->data[13] != 0x00)
		return 0;
	ip = (const struct bench_ip *)(p->data + 14);
	if ((ip->vihl >> 4) != 4)
		return 0;
	ihl = (uint32_t)(ip->vihl & 0xf) * 4;
	if (ihl < 20 || 14 + ihl + 8 > len)
		return 0;
	tot = bench_ntohs(ip->tot_len);
	if (tot < ihl + 8 || 14 + tot > len)
		return 0;
	if (ip->proto != 17 || (bench_ntohs(ip->frag) & 0x3fff))
		return 0;
	/* One's-complement sum of the header (byte order does not matter). */
	w = (const uint16_t *)ip;
	for (i = 0; i < 30; i++) {
		if (i >= ihl / 2)
			break;
		sum += w[i];
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff)
		return 0;
	udp = (const struct bench_udp *)((const uint8_t *)ip + ihl);
	ulen = bench_ntohs(udp->len);
	if (ulen < 8 || ulen > tot - ihl)
		return 0;
	return (uint64_t)bench_ntohs(udp->dport) << 16 | ulen;
}

KERNEL(calls) uint64_t bench_calls(const struct bench_arg *a)
{
	uint64_t x = a->x;

	x = bench_import(x, 1);
	x = bench_import(x, 2);
	x = bench_import(x, 3);
	x = bench_import(x, 4);
	x = bench_import(x, 5);
	x = bench_import(x, 6);
	x = bench_import(x, 7);
	x = bench_import(x, 8);
	return x;
}

KERNEL(inc) uint64_t bench_inc(const struct bench_arg *a)
{
	return a->x + 1;
}
