/* nullsys: the null system call benchmark (bench/benchmarks.def id
 * null_syscall): rdtsc around one raw `syscall` of getppid, from ring 3,
 * in the same form as the Linux baseline (bench/linux/lbench.c), printing
 * the BENCH line format.  Under QEMU -icount shift=0 the TSC counts
 * guest instructions. */
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "bench.h"

#define N 1000
#define W 100

static uint64_t s[N];

int main(void)
{
	uint64_t overhead;

	printf("BENCHINFO kernel Spindle (Linux personality on MachineTrap.Syscall)\n");
	overhead = bench_tsc_pair(s, 101);
	printf("BENCHINFO tsc_pair %llu\n", (unsigned long long)overhead);
	for (int i = -W; i < N; i++) {
		long r;
		uint64_t t0 = bench_tsc();

		__asm__ volatile("syscall"
		                 : "=a"(r)
		                 : "0"((long)SYS_getppid)
		                 : "rcx", "r11", "memory");
		uint64_t t1 = bench_tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_report("null_syscall", s, N, overhead, 1);
	printf("BENCHEND 1\n");
	return 0;
}
