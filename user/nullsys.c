/* nullsys: the null system call benchmark (bench/benchmarks.def id
 * null_syscall): rdtsc around one raw `syscall` of getppid, from ring 3,
 * in the same form as the Linux baseline (bench/linux/lbench.c), printing
 * the BENCH line format.  Under QEMU -icount shift=0 the TSC counts
 * guest instructions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

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
	uint64_t overhead;

	printf("BENCHINFO kernel Spindle (Linux personality on MachineTrap.Syscall)\n");
	for (int i = -10; i < 101; i++) {
		uint64_t t0 = tsc(), t1 = tsc();

		if (i >= 0)
			s[i] = t1 - t0;
	}
	qsort(s, 101, sizeof(s[0]), cmp);
	overhead = s[50];
	printf("BENCHINFO tsc_pair %llu\n", (unsigned long long)overhead);
	for (int i = -W; i < N; i++) {
		long r;
		uint64_t t0 = tsc();

		__asm__ volatile("syscall"
		                 : "=a"(r)
		                 : "0"((long)SYS_getppid)
		                 : "rcx", "r11", "memory");
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	stats("null_syscall", N, overhead);
	printf("BENCHEND 1\n");
	return 0;
}
