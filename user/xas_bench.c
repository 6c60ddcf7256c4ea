/* xas_bench: the cross-address-space call benchmark (bench/benchmarks.def
 * id xas_call): rdtsc, from the client, around one SPIN_XAS_CALL to
 * xas_server's portal - into the kernel, through the xas extension, a
 * switch to the server's address space, the server's null procedure, its
 * SPIN_XAS_RETURN, and the switch back - in the form of nullsys.c; the
 * result comes back in rdx (no result pointer).  Under
 * QEMU -icount shift=0 the TSC counts guest instructions.  Ends with
 * XAS_STOP, so the server exits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "xas.h"

#define N 1000
#define W 100

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t s[N];

static void stats(const char *id, int n, uint64_t corr)
{
	for (int i = 0; i < n; i++)
		s[i] = s[i] > corr ? s[i] - corr : 0;
	qsort(s, n, sizeof(s[0]), cmp);
	printf("BENCH %s %llu %llu %llu %llu %llu %d\n", id, (unsigned long long)s[n / 2],
	       (unsigned long long)s[n / 10], (unsigned long long)s[(9 * n) / 10],
	       (unsigned long long)s[0], (unsigned long long)s[n - 1], n);
}

int main(void)
{
	uint64_t overhead, res = 0, rdx = 0;
	long r = xas_wait_handle();
	int wrong = 0;

	if (r) {
		printf("xas_bench: no handle (%ld)\n", r);
		return 1;
	}
	printf("BENCHINFO xas_call: portal call through the xas extension, client-side rdtsc\n");
	for (int i = -10; i < 101; i++) {
		uint64_t t0 = tsc(), t1 = tsc();

		if (i >= 0)
			s[i] = t1 - t0;
	}
	qsort(s, 101, sizeof(s[0]), cmp);
	overhead = s[50];
	for (int i = -W; i < N; i++) {
		uint64_t t0 = tsc();

		r = xas_raw2(SPIN_XAS_CALL, 0, i & 0xff, 0, &rdx);
		uint64_t t1 = tsc();
		if (r || rdx != 3 * (uint64_t)(i & 0xff) + XAS_SECRET)
			wrong++;
		if (i >= 0)
			s[i] = t1 - t0;
	}
	stats("xas_call", N, overhead);
	r = xas_raw(SPIN_XAS_CALL, 0, XAS_STOP, (long)&res);
	printf("xas_bench: %d wrong results, server served %llu (%ld)\n", wrong,
	       (unsigned long long)res, r);
	printf("BENCHEND 1\n");
	return wrong != 0 || r != 0;
}
