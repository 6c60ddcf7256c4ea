/*
 * bench.c: the command-line hook for in-kernel benchmarks and their shared
 * reporting (kernel/bench.h).  The sample counts come from the one list of
 * benchmarks, bench/benchmarks.def, read here as an X-macro.
 */
#include <arch/cpu.h>
#include <arch/layout.h>

#include "kernel/bench.h"
#include "kernel/cmdline.h"
#include "kernel/kprintf.h"
#include "kernel/string.h"
#include "kernel/sync.h"

struct bench_def {
	const char *id;
	int samples;
};

static const struct bench_def bench_defs[] = {
#define BENCH_DEF(id, unit, samples, table, op, us, linux, what) {#id, samples},
#include "bench/benchmarks.def"
#undef BENCH_DEF
};

struct bench_suite {
	const char *name;
	void (*run)(uint64_t tsc_pair);
};

static const struct bench_suite bench_suites[] = {
    {"strands", bench_strands_run}, {"kext", bench_kext_run},     {"vm", bench_vm_run},
    {"tpkg", bench_tpkg_run},       {"events", bench_events_run},
};

static int bench_lines;

int bench_samples(const char *id)
{
	for (unsigned i = 0; i < sizeof(bench_defs) / sizeof(bench_defs[0]); i++)
		if (strcmp(bench_defs[i].id, id) == 0)
			return bench_defs[i].samples;
	return 0;
}

static void bench_sort(uint64_t *s, int n)
{
	for (int i = 1; i < n; i++) {
		uint64_t v = s[i];
		int j = i;

		for (; j > 0 && s[j - 1] > v; j--)
			s[j] = s[j - 1];
		s[j] = v;
	}
}

uint64_t bench_tsc_pair(void)
{
	uint64_t s[101];

	for (int i = -10; i < 101; i++) {
		uint64_t t0 = arch_cycles();
		uint64_t t1 = arch_cycles();

		if (i >= 0)
			s[i] = t1 - t0;
	}
	bench_sort(s, 101);
	return s[50];
}

void bench_report(const char *id, uint64_t *s, int n, uint64_t correction)
{
	if (n <= 0)
		return;
	for (int i = 0; i < n; i++)
		s[i] = s[i] > correction ? s[i] - correction : 0;
	bench_sort(s, n);
	kprintf("BENCH %s %lu %lu %lu %lu %lu %d\n", id, (unsigned long)s[n / 2],
	        (unsigned long)s[n / 10], (unsigned long)s[(9 * n) / 10], (unsigned long)s[0],
	        (unsigned long)s[n - 1], n);
	bench_lines++;
}

/* "bench" alone selects every suite; "bench=a,b" the named ones. */
static int bench_selected(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (!list || !*list)
		return 1;
	for (const char *p = list; *p;) {
		if (strncmp(p, name, n) == 0 && (p[n] == 0 || p[n] == ','))
			return 1;
		while (*p && *p != ',')
			p++;
		if (*p == ',')
			p++;
	}
	return 0;
}

void bench_run_from_cmdline(void)
{
	char list[128];
	const char *sel;
	uint64_t pair;

	if (!cmdline_has("bench"))
		return;
	sel = cmdline_value("bench", list, sizeof(list));
	/* Measure what a production kernel runs: without the lock-order
	 * checker (sync.h), which the test boots keep on. */
	sync_lockorder_disable();
	pair = bench_tsc_pair();
	kprintf("BENCHINFO kernel Spindle\n");
	kprintf("BENCHINFO lockcheck off\n");
	kprintf("BENCHINFO tsc_pair %lu\n", (unsigned long)pair);
	for (unsigned i = 0; i < sizeof(bench_suites) / sizeof(bench_suites[0]); i++)
		if (bench_selected(sel, bench_suites[i].name))
			bench_suites[i].run(pair);
	kprintf("BENCHEND %d\n", bench_lines);
	arch_exit(EXIT_CODE_SUCCESS);
}
