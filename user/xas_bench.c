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

#include "bench.h"
#include "xas.h"

#define N 1000
#define W 100

static uint64_t s[N];

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
	overhead = bench_tsc_pair(s, 101);
	for (int i = -W; i < N; i++) {
		uint64_t t0 = bench_tsc();

		r = xas_raw2(SPIN_XAS_CALL, 0, i & 0xff, 0, &rdx);
		uint64_t t1 = bench_tsc();
		if (r || rdx != 3 * (uint64_t)(i & 0xff) + XAS_SECRET)
			wrong++;
		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_report("xas_call", s, N, overhead, 1);
	r = xas_raw(SPIN_XAS_CALL, 0, XAS_STOP, (long)&res);
	printf("xas_bench: %d wrong results, server served %llu (%ld)\n", wrong,
	       (unsigned long long)res, r);
	printf("BENCHEND 1\n");
	return wrong != 0 || r != 0;
}
