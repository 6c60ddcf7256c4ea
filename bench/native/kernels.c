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

static inline uint32_t be16_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* Returns (UDP destination port << 16 | UDP length), or 0 if the packet is
 * not a well-formed unfragmented IPv4/UDP packet. */
KERNEL(parse) uint64_t bench_parse(const struct bench_pkt *p)
{
	const uint8_t *d = p->data, *ip, *udp;
	uint32_t len = p->len, ihl, tot, sum = 0, ulen, i;

	if (len < 14 + 20 + 8 || len > BENCH_PKT_MAX)
		return 0;
	if (d[12] != 0x08 || d[13] != 0x00)
		return 0;
	ip = d + 14;
	if ((ip[0] >> 4) != 4)
		return 0;
	ihl = (uint32_t)(ip[0] & 0xf) * 4;
	if (ihl < 20 || 14 + ihl + 8 > len)
		return 0;
	tot = be16_at(ip + 2);
	if (tot < ihl + 8 || 14 + tot > len)
		return 0;
	if (ip[9] != 17 || (be16_at(ip + 6) & 0x3fff))
		return 0;
	for (i = 0; i < 60; i += 2) {
		if (i >= ihl)
			break;
		sum += be16_at(ip + i);
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff)
		return 0;
	udp = ip + ihl;
	ulen = be16_at(udp + 4);
	if (ulen < 8 || ulen > tot - ihl)
		return 0;
	return (uint64_t)be16_at(udp + 2) << 16 | ulen;
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
