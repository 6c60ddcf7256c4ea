/*
 * kernel/bench.h: in-kernel guest benchmarks, selected on the command line.
 *
 * "bench=NAME[,NAME...]" (or "bench" for all) makes kmain call
 * bench_run_from_cmdline() after the core services are up: each named suite
 * runs and prints its results in the serial format of bench/benchmarks.def
 * ("BENCH id median p10 p90 min max n", corrected for the cost of the
 * timestamp pair), then "BENCHEND n" and the machine exits with success.
 * Without "bench" on the command line it returns at once.
 *
 * Suites are listed in bench.c's table (one line each).  Figures are in
 * cycle-counter ticks, which are guest instructions under QEMU
 * -icount shift=0,sleep=off.  Callers: kmain (the hook), benchmark suites
 * (the helpers).  Not for use once extensions or user programs run.
 */
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H

#include <stdint.h>

void bench_run_from_cmdline(void);

/* Samples and warm-up rounds for an id of bench/benchmarks.def (0 if unknown). */
int bench_samples(const char *id);
static inline int bench_warmup(int n)
{
	return n / 10 < 2 ? 2 : n / 10;
}
/* The median cost of an empty timestamp pair. */
uint64_t bench_tsc_pair(void);
/* Sort s[0..n), subtract correction, print the BENCH line; counts it. */
void bench_report(const char *id, uint64_t *s, int n, uint64_t correction);

/* Suites. */
void bench_strands_run(uint64_t tsc_pair);
void bench_kext_run(uint64_t tsc_pair);   /* kernel/bench_kext.c */
void bench_vm_run(uint64_t tsc_pair);     /* kernel/bench_vm.c */
void bench_tpkg_run(uint64_t tsc_pair);   /* kernel/bench_tpkg.c */
void bench_events_run(uint64_t tsc_pair); /* kernel/bench_events.c */

#endif
