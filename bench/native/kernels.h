/*
 * kernels.h - the context structures of the host-native benchmark kernels
 * (bench/native/kernels.c), shared by the gcc build, the clang BPF build
 * and the driver (bench/native/bench.c).  Only fixed-width types, so the
 * layouts are identical for x86-64 and BPF.
 */
#ifndef BENCH_NATIVE_KERNELS_H
#define BENCH_NATIVE_KERNELS_H

#include <stdint.h>

#define BENCH_CSUM_WORDS 750 /* 1500 bytes: one Ethernet MTU */
#define BENCH_KEY_LEN    40  /* an IPv6 5-tuple-sized key */
#define BENCH_PKT_MAX    124

struct bench_buf {
	uint16_t w[BENCH_CSUM_WORDS];
};

struct bench_key {
	uint8_t b[BENCH_KEY_LEN];
};

struct bench_pkt {
	uint32_t len;
	uint8_t data[BENCH_PKT_MAX];
};

struct bench_arg {
	uint64_t x;
};

/* What each kernel is, by the same name in both builds. */
uint64_t bench_csum(const struct bench_buf *b);
uint64_t bench_hash(const struct bench_key *k);
uint64_t bench_parse(const struct bench_pkt *p);
uint64_t bench_calls(const struct bench_arg *a);
uint64_t bench_inc(const struct bench_arg *a);

/* The import bench_calls makes: defined by the driver, natively. */
extern uint64_t bench_import(uint64_t a, uint64_t b);

#endif
