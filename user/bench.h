/* bench.h: what the user/ benchmarks (nullsys, xas_bench, vmuser table4)
 * share - the serialized rdtsc they time with, the calibration of a
 * back-to-back rdtsc pair, and the BENCH line (bench/report.py reads it:
 * id, median, p10, p90, min, max, samples).  Under QEMU -icount shift=0
 * the TSC counts guest instructions.  The timed loops themselves stay in
 * each program, so nothing but the operation sits between the two reads. */
#ifndef USER_BENCH_H
#define USER_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline uint64_t bench_tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline int bench_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median cost of a bare rdtsc pair over n samples (after 10 warm-up
 * pairs), measured into s[0..n): the correction each sample is reduced by.
 * The empty asm makes the compiler form t0 before the second read, as it
 * does in the timed loops (where the operation's own asm stands between),
 * so the pair costs what the loops' pairs cost. */
static inline uint64_t bench_tsc_pair(uint64_t *s, int n)
{
	for (int i = -10; i < n; i++) {
		uint64_t t0 = bench_tsc(), t1;

		__asm__ volatile("" : "+r"(t0));
		t1 = bench_tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	qsort(s, n, sizeof(s[0]), bench_cmp);
	return s[n / 2];
}

/* Reduces each of s[0..n) by corr (not below 0), divides it by div (a
 * per-item cost), sorts and prints "BENCH id median p10 p90 min max n". */
static inline void bench_report(const char *id, uint64_t *s, int n, uint64_t corr, unsigned div)
{
	for (int i = 0; i < n; i++)
		s[i] = (s[i] > corr ? s[i] - corr : 0) / div;
	qsort(s, n, sizeof(s[0]), bench_cmp);
	printf("BENCH %s %llu %llu %llu %llu %llu %d\n", id, (unsigned long long)s[n / 2],
	       (unsigned long long)s[n / 10], (unsigned long long)s[(9 * n) / 10],
	       (unsigned long long)s[0], (unsigned long long)s[n - 1], n);
}

#endif
