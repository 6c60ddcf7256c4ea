/* vmuser: user-level virtual memory through application-specific system
 * calls (SPIN Table 4).  It loads /ext/vmsys.o (user/ext/vmsys.c) for
 * itself, then protects, unprotects and queries its own pages with the
 * extension's system calls, and takes protection faults that the
 * extension's Translation.ProtectionFault handler resolves in the kernel,
 * so the faulting ring-3 write restarts and completes.
 *   vmuser        checks: results, faults, hostile arguments, isolation,
 *                 the public clock, a private import refused
 *   vmuser table4 Table 4 from ring 3 (guest instructions under -icount):
 *                 BENCH vm_*_user lines.  Trap is the one row whose end is
 *                 not in this process: its extension's fault handler reads
 *                 Clock.Cycles at its entry and VM_TRAPPED hands it back. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define CHECK_PROG "vmuser"
#include "bench.h"
#include "check.h"
#include "rawsys.h"
#include "vmsys.h"

#define PAGE  4096ul
#define NPAGE 104
#define N     200
#define W     20

/* Two arguments and nothing more: the Table 4 loops time this call. */
static long raw2(long n, long a, long b)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static inline void poke(volatile char *p, char v)
{
	*p = v;
}

static char *region;

static char *pg(int i)
{
	return region + (unsigned long)i * PAGE;
}

/* Clock.Cycles, read by this process's own extension: the counter ring 3
 * reads with rdtsc (each value lies between two reads of ours), never going
 * back; and in trap mode the fault handler's entry lies between the reads
 * around the faulting write. */
static void clock_checks(void)
{
	long prev = 0, inside = 0, up = 0, c;
	uint64_t u0, u1;

	for (int k = 0; k < 100; k++) {
		u0 = bench_tsc();
		c = raw2(VM_CLOCK, 0, 0);
		u1 = bench_tsc();
		inside += c > 0 && (uint64_t)c > u0 && (uint64_t)c < u1;
		up += c > prev;
		prev = c;
	}
	expect("extension's Clock.Cycles between two rdtsc of ours", inside, 100);
	expect("extension's Clock.Cycles increasing", up, 100);
	expect("trap mode", raw2(VM_MODE, VM_MODE_TRAP, 0) >= 0, 1);
	expect("protect for the trap", raw2(VM_PROTECT, (long)pg(6), 1), 0);
	u0 = bench_tsc();
	poke(pg(6), 5);
	u1 = bench_tsc();
	c = raw2(VM_TRAPPED, 0, 0);
	expect("handler entry stamped during the write",
	       c > 0 && (uint64_t)c > u0 && (uint64_t)c < u1, 1);
	expect("trap mode: the write landed", pg(6)[0], 5);
	expect("no fault since: the stamp stays", raw2(VM_TRAPPED, 0, 0), c);
	raw2(VM_MODE, VM_MODE_FAULT, 0);
}

static int checks(void)
{
	char err[128] = "";
	long f0, ok = 0;

	/* Fault: the write to a protected page completes. */
	expect("protect", raw2(VM_PROTECT, (long)pg(0), 1), 0);
	expect("protected page is read-only", raw2(VM_PROT, (long)pg(0), 0) & 2, 0);
	f0 = raw2(VM_MODE, VM_MODE_FAULT, 0);
	poke(pg(0), 42);
	expect("the write landed", pg(0)[0], 42);
	expect("one fault resolved", raw2(VM_MODE, VM_MODE_FAULT, 0), f0 + 1);
	expect("writable again", raw2(VM_PROT, (long)pg(0), 0) & 2, 2);
	/* Dirty: a written page is dirty, a page the kernel zeroed is not. */
	expect("written page dirty", raw2(VM_DIRTY, (long)pg(0), 0) & 1, 1);
	expect("untouched page clean", raw2(VM_DIRTY, (long)pg(NPAGE - 1), 0) & 1, 0);
	/* Appel1: the handler unprotects the page and protects another. */
	expect("appel1 mode", raw2(VM_MODE, VM_MODE_APPEL1, (long)pg(5)) >= 0, 1);
	expect("protect 4", raw2(VM_PROTECT, (long)pg(4), 1), 0);
	poke(pg(4), 7);
	expect("appel1: page 4 written", pg(4)[0], 7);
	expect("appel1: page 5 protected", raw2(VM_PROT, (long)pg(5), 0) & 2, 0);
	raw2(VM_MODE, VM_MODE_FAULT, 0);
	poke(pg(5), 9);
	expect("page 5 written after its fault", pg(5)[0], 9);
	/* 100 pages each way. */
	expect("protect 100", raw2(VM_PROTECT, (long)pg(0), 100), 0);
	expect("page 99 read-only", raw2(VM_PROT, (long)pg(99), 0) & 2, 0);
	expect("page 100 untouched", raw2(VM_PROT, (long)pg(100), 0) & 2, 2);
	expect("unprotect 100", raw2(VM_UNPROTECT, (long)pg(0), 100), 0);
	expect("page 50 writable", raw2(VM_PROT, (long)pg(50), 0) & 2, 2);
	/* Hostile arguments: refused, nothing changes. */
	expect("protect below the range", raw2(VM_PROTECT, 0x1000, 1), -22);
	expect("protect unaligned", raw2(VM_PROTECT, (long)pg(0) + 1, 1), -22);
	expect("protect a kernel address", raw2(VM_PROTECT, (long)0xffff800000000000l, 1) < 0, 1);
	expect("protect 2^40 pages", raw2(VM_PROTECT, (long)pg(0), 1l << 40) < 0, 1);
	expect("protect -1 pages", raw2(VM_PROTECT, (long)pg(0), -1l) < 0, 1);
	expect("dirty of a kernel address", raw2(VM_DIRTY, (long)0xffffffff80100000l, 0) < 0, 1);
	expect("dirty of an unmapped page", raw2(VM_DIRTY, 0x20000000l, 0) < 0, 1);
	expect("region below the range", raw2(VM_REGION, 0x1000, 1), -22);
	expect("region too big", raw2(VM_REGION, (long)pg(0), 1l << 40), -22);
	expect("mode out of range", raw2(VM_MODE, 9, 0), -22);
	expect("next number: nobody's", raw2(VM_PROTECT + VM_COUNT, 0, 0), -38);
	expect("page 0 still writable", raw2(VM_PROT, (long)pg(0), 0) & 2, 2);
	/* The extension holds exactly one context: its own process's. */
	for (int k = -1; k < 64; k++)
		ok += raw2(VM_PROBE, k < 0 ? 0 : (long)(1ul << k), (long)pg(0)) >= 0;
	expect("handles naming a context (its own, none forged)", ok, 1);
	expect("unload by name of another's", R4(SPIN_SYS_EXT_UNLOAD, (long)"boot_hello", 0, 0, 0),
	       -1);
	clock_checks();
	/* Clock is public; Bench (the kernel benchmarks' mark) is not, and a
	 * process's extension must still fail to link against it. */
	expect("load an extension importing Bench.Mark",
	       R4(SPIN_SYS_EXT_LOAD, (long)"/ext/vmpriv.o", (long)"vmpriv", (long)err, sizeof(err)),
	       -201); /* -EUNRESOLVED (kernel/interface.h) */
	expect("the refusal names Bench_Mark", strstr(err, "Bench_Mark") != NULL, 1);
	printf("vmuser: refused /ext/vmpriv.o: %s\n", err);
	expect("nothing of it stays loaded", R4(SPIN_SYS_EXT_UNLOAD, (long)"vmpriv", 0, 0, 0), -2);
	return failed;
}

static uint64_t s[N];

/* Table 4 from ring 3, in the forms of bench/linux's vm_* (benchmarks.def). */
static void bench(void)
{
	uint64_t pair = bench_tsc_pair(s, N), t0, t1;

	printf("BENCHINFO kernel Spindle (vmsys extension loaded by the process)\n");
	printf("BENCHINFO tsc_pair %llu\n", (unsigned long long)pair);
	raw2(VM_MODE, VM_MODE_FAULT, 0);
	for (int i = -W; i < N; i++) { /* Dirty: the status of one page */
		t0 = bench_tsc();
		raw2(VM_DIRTY, (long)pg(1), 0);
		t1 = bench_tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_report("vm_dirty_user", s, N, pair, 1);
	for (int i = -W; i < N; i++) { /* Prot1: one dirty writable page read-only */
		poke(pg(1), 1);
		t0 = bench_tsc();
		raw2(VM_PROTECT, (long)pg(1), 1);
		t1 = bench_tsc();
		raw2(VM_UNPROTECT, (long)pg(1), 1);
		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_report("vm_prot1_user", s, N, pair, 1);
	for (int i = -W; i < N; i++) { /* Unprot1 */
		raw2(VM_PROTECT, (long)pg(1), 1);
		t0 = bench_tsc();
		raw2(VM_UNPROTECT, (long)pg(1), 1);
		t1 = bench_tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_report("vm_unprot1_user", s, N, pair, 1);
	for (int i = -W; i < N; i++) { /* Prot100 / Unprot100 */
		for (int j = 0; j < 100; j++)
			poke(pg(j), 1);
		t0 = bench_tsc();
		raw2(VM_PROTECT, (long)pg(0), 100);
		t1 = bench_tsc();
		if (i >= 0)
			s[i] = t1 - t0;
		raw2(VM_UNPROTECT, (long)pg(0), 100);
	}
	bench_report("vm_prot100_user", s, N, pair, 1);
	for (int i = -W; i < N; i++) {
		raw2(VM_PROTECT, (long)pg(0), 100);
		t0 = bench_tsc();
		raw2(VM_UNPROTECT, (long)pg(0), 100);
		t1 = bench_tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_report("vm_unprot100_user", s, N, pair, 1);
	for (int i = -W; i < N; i++) { /* Fault: as the faulting thread sees it */
		raw2(VM_PROTECT, (long)pg(2), 1);
		t0 = bench_tsc();
		poke(pg(2), 3);
		t1 = bench_tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_report("vm_fault_user", s, N, pair, 1);
	raw2(VM_MODE, VM_MODE_TRAP, 0);
	for (int i = -W; i < N; i++) { /* Trap: the write -> the handler's entry */
		raw2(VM_PROTECT, (long)pg(2), 1);
		t0 = bench_tsc();
		poke(pg(2), 3);
		t1 = (uint64_t)raw2(VM_TRAPPED, 0, 0); /* stamped by the handler */
		if (t1 <= t0) {
			printf("BENCHERROR vm_trap_user: no handler entry stamped (%llu <= %llu)\n",
			       (unsigned long long)t1, (unsigned long long)t0);
			break;
		}
		if (i >= 0)
			s[i] = t1 - t0;
		if (i == N - 1)
			bench_report("vm_trap_user", s, N, pair, 1);
	}
	raw2(VM_MODE, VM_MODE_APPEL1, (long)pg(3));
	for (int i = -W; i < N; i++) { /* Appel1: resolve, protect another page */
		raw2(VM_PROTECT, (long)pg(2), 1);
		t0 = bench_tsc();
		poke(pg(2), 3);
		t1 = bench_tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_report("vm_appel1_user", s, N, pair, 1);
	raw2(VM_MODE, VM_MODE_FAULT, 0);
	for (int i = -W; i < N; i++) { /* Appel2: protect 100, fault on each; per page */
		t0 = bench_tsc();
		raw2(VM_PROTECT, (long)pg(0), 100);
		for (int j = 0; j < 100; j++)
			poke(pg(j), 4);
		t1 = bench_tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_report("vm_appel2_user", s, N, pair, 100);
	printf("vmuser: %ld faults resolved by the extension\n", raw2(VM_MODE, VM_MODE_FAULT, 0));
	printf("BENCHEND 1\n");
}

int main(int argc, char **argv)
{
	char err[160] = "";
	long r;

	r = R4(SPIN_SYS_EXT_LOAD, (long)"/ext/vmsys.o", (long)"vmsys", (long)err, sizeof(err));
	if (r) {
		printf("vmuser: FAIL cannot load /ext/vmsys.o (%ld): %s\n", r, err);
		return 1;
	}
	region = mmap(0, NPAGE * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		printf("vmuser: FAIL mmap\n");
		return 1;
	}
	for (int i = 0; i < NPAGE - 1; i++)
		poke(pg(i), 0);
	expect("region", raw2(VM_REGION, (long)pg(0), NPAGE - 1), 0);
	if (argc > 1 && strcmp(argv[1], "table4") == 0) {
		bench();
		return 0;
	}
	checks();
	/* Leave the extension loaded while vmother (if any) tries its luck. */
	{
		struct timespec t = {0, 300000000};

		nanosleep(&t, 0);
	}
	expect("unload", R4(SPIN_SYS_EXT_UNLOAD, (long)"vmsys", (long)err, sizeof(err), 0), 0);
	expect("after unload: nobody's", raw2(VM_DIRTY, (long)pg(0), 0), -38);
	printf("vmuser: %s\n", failed ? "FAIL" : "ok");
	return failed != 0;
}
