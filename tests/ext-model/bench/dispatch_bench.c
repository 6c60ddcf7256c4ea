/*
 * dispatch_bench.c: bench-dispatch, the host-native event dispatch and
 * protected-call benchmark (the OSDI'96 dispatch table, spin-paper.md
 * §3.11, on this machine).
 *
 * Built with HOST_OPT_CFLAGS (-O2, no sanitizers).  Each figure is the
 * median over RUNS batches of BATCH operations, timed with lfence;rdtsc, in
 * TSC cycles per operation; its baseline is the same work done by plain C
 * calls in the same run, so the ratio is what dispatch adds.
 *
 *   raise.Nh        an event with N handlers (N = 1, 5, 10, 50) that do
 *                   nothing, raised through its call site (dispatch_call, as
 *                   the generated stubs do); baseline: N direct calls
 *   raise.Nh.guard  the same, each handler with a guard comparing a global
 *                   to a constant (true); baseline: N guard+handler calls
 *   call.kernel_to_ext  a JIT-compiled extension procedure called with the
 *                   JIT ABI and a fuel budget; baseline: the same C function
 *   call.kernel_to_ext.plain  the same entry called as the C function it is
 *                   (rt_jit_plain)
 *   raise.Nh.ext    an event with N extension handlers (add2), each run with
 *                   its fuel inside a ledger frame; baseline: N C calls
 *   raise.Nh.ext.plain  the same handlers installed with their plain entry
 *                   (called as C functions: no fuel, no status, no ledger)
 *   call.ext_to_kernel  an extension calling an imported kernel procedure
 *                   (per call, in a loop of 1000); baseline: a C loop calling
 *                   the same procedure
 *
 * Prints the JSON array to stdout.  Nothing here asserts a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/dispatch.h"
#include "kernel/domain.h"
#include "runtime/exec.h"
#include "runtime/verify.h"
#include "spindle_interfaces.h"

#define RUNS  301
#define BATCH 1000

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return (double)v[n / 2];
}

/* Handlers do nothing; guards compare a global to a constant. */
static volatile uint64_t guard_global = 1;
static volatile uint64_t sink;
__attribute__((noipa)) static uint64_t nop_handler(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                                                   uint64_t e)
{
	(void)b, (void)c, (void)d, (void)e;
	__asm__ volatile("");
	return a;
}
__attribute__((noipa)) static uint64_t const_guard(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                                                   uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	return guard_global == 1;
}

static const struct module bench_mod = {"Bench", MODULE_TRUSTED};
#define SC                                                                                         \
	{                                                                                          \
		RT_ARG_SCALAR, NULL, 0, false                                                      \
	}
static const struct rt_sig ev_sig = {
    "Bench_Event", NULL, 2, {SC, SC}, {RT_RET_SCALAR, NULL, 0, false, false}, 0};
static struct rt_sig hsigs[50];
static const struct rt_sig guard_sig = {
    "const_guard", (void *)const_guard, 2, {SC, SC}, {RT_RET_SCALAR, NULL, 0, false, false},
    RT_SIG_PURE};

/* Baselines are direct calls to the same procedures; noipa keeps gcc from
 * inlining them or proving them pure and dropping repeated calls. */

struct result {
	char name[48];
	double spindle, baseline;
	int handlers;
	const char *what;
};
static struct result results[64];
static int nresults;

static void record(const char *name, double s, double b, int handlers, const char *what)
{
	struct result *r = &results[nresults++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->spindle = s;
	r->baseline = b;
	r->handlers = handlers;
	r->what = what;
}

/* The dispatcher refuses a second install of one procedure by one module,
 * so each of the N bindings of nop_handler has its own owner. */
static struct module owners[50];

static void bench_raise(int n, bool guarded, bool walk)
{
	struct dispatch_event *ev = NULL;
	struct dispatch_binding *b[50];
	struct dispatch_guard g = {{&guard_sig, NULL, NULL}, NULL, false};
	uint64_t t[RUNS], base[RUNS];
	char name[48];

	dispatch_set_codegen(!walk);
	if (dispatch_event_create("Bench.Event", &ev_sig, &bench_mod, NULL, &ev)) {
		fprintf(stderr, "dispatch_bench: cannot create the event\n");
		exit(1);
	}
	for (int k = 0; k < n; k++) {
		struct dispatch_install_req r = {0};
		r.handler = (struct dispatch_proc){&hsigs[k], NULL, NULL};
		r.guard = guarded ? &g : NULL;
		if (dispatch_install(ev, &r, &owners[k], &b[k])) {
			fprintf(stderr, "dispatch_bench: install failed\n");
			exit(1);
		}
	}
	for (int run = 0; run < RUNS; run++) {
		uint64_t t0 = tsc();
		for (int i = 0; i < BATCH; i++)
			sink = dispatch_call(ev, (uint64_t)i, 2, 0, 0, 0);
		uint64_t t1 = tsc();
		for (int i = 0; i < BATCH; i++) {
			uint64_t r = 0;
			for (int k = 0; k < n; k++)
				if (!guarded || const_guard((uint64_t)i, 2, 0, 0, 0))
					r = nop_handler((uint64_t)i, 2, 0, 0, 0);
			sink = r;
		}
		uint64_t t2 = tsc();
		t[run] = t1 - t0;
		base[run] = t2 - t1;
	}
	snprintf(name, sizeof(name), "dispatch.raise.%dh%s%s", n, guarded ? ".guard" : "",
	         walk ? ".walk" : "");
	record(name, median(t, RUNS) / BATCH, median(base, RUNS) / BATCH, n,
	       walk ? "the same through the table walk (codegen off), for comparison"
	       : guarded
	           ? "raise, N guarded handlers (generated routine) vs N direct guard+handler calls"
	           : (n == 1 ? "raise, 1 unguarded handler (direct call) vs 1 direct call"
	                     : "raise, N handlers (generated routine) vs N direct calls"));
	dispatch_set_codegen(true);
	for (int k = 0; k < n; k++)
		dispatch_uninstall(b[k], &owners[k]);
	dispatch_event_destroy(ev, &bench_mod);
	dispatch_reclaim();
}

/* ---- protected calls through the JIT ---- */

static uint64_t level_value = 3;
__attribute__((noipa)) uint64_t Gatekeeper_Level(void)
{
	__asm__ volatile("");
	return level_value;
}
__attribute__((noipa)) static uint64_t c_add2(uint64_t a, uint64_t b)
{
	__asm__ volatile("");
	return a + b;
}
__attribute__((noipa)) static uint64_t c_call_level(uint64_t n)
{
	uint64_t s = 0;
	for (uint64_t i = 0; i < n && i < 100000; i++)
		s += Gatekeeper_Level();
	return s;
}

/* N bindings of the extension's add2 (metered, or through its plain
 * entry) on a two-argument event; baseline: N C calls. */
static void bench_raise_ext(int n, rt_jit_fn fn, rt_import_fn plain)
{
	static const struct rt_sig add2_sig = {
	    "add2", NULL, 2, {SC, SC}, {RT_RET_SCALAR, NULL, 0, false, false}, 0};
	static const struct module ext = {"BenchExt", MODULE_EXTENSION};
	struct dispatch_event *ev = NULL;
	struct dispatch_binding *b[50];
	uint64_t t[RUNS], base[RUNS];
	char name[48];

	if (dispatch_event_create("Bench.ExtEvent", &ev_sig, &bench_mod, NULL, &ev)) {
		fprintf(stderr, "dispatch_bench: cannot create the event\n");
		exit(1);
	}
	for (int k = 0; k < n; k++) {
		struct dispatch_install_req r = {0};
		r.handler = (struct dispatch_proc){&add2_sig, fn, &ext};
		r.plain = plain;
		r.closure = (void *)(uintptr_t)k; /* tells the bindings apart */
		if (dispatch_install(ev, &r, &owners[k], &b[k])) {
			fprintf(stderr, "dispatch_bench: install failed\n");
			exit(1);
		}
	}
	for (int run = 0; run < RUNS; run++) {
		uint64_t t0 = tsc();
		for (int i = 0; i < BATCH; i++)
			sink = dispatch_call(ev, (uint64_t)i, 2, 0, 0, 0);
		uint64_t t1 = tsc();
		for (int i = 0; i < BATCH; i++) {
			uint64_t r = 0;
			for (int k = 0; k < n; k++)
				r = c_add2((uint64_t)i, 2);
			sink = r;
		}
		uint64_t t2 = tsc();
		t[run] = t1 - t0;
		base[run] = t2 - t1;
	}
	snprintf(name, sizeof(name), "dispatch.raise.%dh.ext%s", n, plain ? ".plain" : "");
	record(name, median(t, RUNS) / BATCH, median(base, RUNS) / BATCH, n,
	       plain
	           ? "raise, N extension handlers called through their plain C entries vs N C calls"
	           : "raise, N extension handlers (fuel, ledger frame) vs N C calls");
	for (int k = 0; k < n; k++)
		dispatch_uninstall(b[k], &owners[k]);
	dispatch_event_destroy(ev, &bench_mod);
	dispatch_reclaim();
}

static int bench_ext(const char *path)
{
	static const struct module gk = {"Gatekeeper", MODULE_TRUSTED};
	static const struct module ext = {"BenchExt", MODULE_EXTENSION};
	struct rt_prog *p = NULL;
	struct domain *gd = NULL, *ed = NULL;
	struct rt_jit *j = NULL;
	rt_jit_fn add2 = NULL, loop = NULL;
	rt_import_fn plain;
	char err[512] = "";
	uint64_t t[RUNS], base[RUNS];
	static char image[1 << 16];
	size_t n;
	FILE *f = fopen(path, "rb");
	const char *names[2] = {"add2", "call_level"};
	rt_jit_fn *fns[2] = {&add2, &loop};

	if (!f) {
		fprintf(stderr, "dispatch_bench: %s: cannot open\n", path);
		return -1;
	}
	n = fread(image, 1, sizeof(image), f);
	fclose(f);
	if (rt_prog_load_elf(image, n, &p, err, sizeof(err)) ||
	    domain_create_from_interface(&iface_Gatekeeper, &gk, &gd) ||
	    domain_create_from_prog("BenchExt", p, &ext, &ed) ||
	    domain_link(ed, gd, err, sizeof(err))) {
		fprintf(stderr, "dispatch_bench: load/link: %s\n", err);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		const struct rt_func *fn = rt_prog_find_func(p, names[i]);
		struct rt_entry e = {{SC, SC}, false};
		struct rt_verify_result res;
		memset(&res, 0, sizeof(res));
		if (!fn || rt_verify(p, (uint32_t)(fn - p->funcs), &e, NULL, &res)) {
			fprintf(stderr, "dispatch_bench: verify %s: %s\n", names[i], res.msg);
			return -1;
		}
	}
	if (rt_jit_compile(p, &j, err, sizeof(err))) {
		fprintf(stderr, "dispatch_bench: jit: %s\n", err);
		return -1;
	}
	for (int i = 0; i < 2; i++)
		*fns[i] = rt_jit_entry(j, (uint32_t)(rt_prog_find_func(p, names[i]) - p->funcs));

	for (int run = 0; run < RUNS; run++) {
		uint64_t t0 = tsc();
		for (int i = 0; i < BATCH; i++)
			sink = add2((uint64_t)i, 2, 0, 0, 0, 1000).r0;
		uint64_t t1 = tsc();
		for (int i = 0; i < BATCH; i++)
			sink = c_add2((uint64_t)i, 2);
		uint64_t t2 = tsc();
		t[run] = t1 - t0;
		base[run] = t2 - t1;
	}
	record("call.kernel_to_ext", median(t, RUNS) / BATCH, median(base, RUNS) / BATCH, 0,
	       "kernel calls a JIT-compiled extension procedure (fuel ABI) vs a C call");
	plain = rt_jit_plain(j, (uint32_t)(rt_prog_find_func(p, "add2") - p->funcs));
	if (plain) {
		for (int run = 0; run < RUNS; run++) {
			uint64_t t0 = tsc();
			for (int i = 0; i < BATCH; i++)
				sink = plain((uint64_t)i, 2, 0, 0, 0);
			uint64_t t1 = tsc();
			for (int i = 0; i < BATCH; i++)
				sink = c_add2((uint64_t)i, 2);
			uint64_t t2 = tsc();
			t[run] = t1 - t0;
			base[run] = t2 - t1;
		}
		record("call.kernel_to_ext.plain", median(t, RUNS) / BATCH,
		       median(base, RUNS) / BATCH, 0,
		       "kernel calls a plain extension entry as a C function vs a C call");
	}
	for (int i = 0; i < 4; i++) {
		static const int ns[4] = {1, 5, 10, 50};
		bench_raise_ext(ns[i], add2, NULL);
		if (plain)
			bench_raise_ext(ns[i], add2, plain);
	}
	for (int run = 0; run < RUNS; run++) {
		uint64_t t0 = tsc();
		sink = loop(BATCH, 0, 0, 0, 0, 1u << 20).r0;
		uint64_t t1 = tsc();
		sink = c_call_level(BATCH);
		uint64_t t2 = tsc();
		t[run] = t1 - t0;
		base[run] = t2 - t1;
	}
	record("call.ext_to_kernel", median(t, RUNS) / BATCH, median(base, RUNS) / BATCH, 0,
	       "extension calls an imported kernel procedure, per call in a loop, vs a C loop");
	if (sink != (uint64_t)BATCH * level_value)
		fprintf(stderr, "dispatch_bench: extension loop returned %llu\n",
		        (unsigned long long)sink);
	rt_jit_free(j);
	domain_release(ed);
	domain_release(gd);
	rt_prog_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	static const int ns[4] = {1, 5, 10, 50};

	dispatch_init();
	for (int k = 0; k < 50; k++) {
		hsigs[k] = (struct rt_sig){"nop_handler",
		                           (void *)nop_handler,
		                           2,
		                           {SC, SC},
		                           {RT_RET_SCALAR, NULL, 0, false, false},
		                           0};
		owners[k] = (struct module){"BenchOwner", MODULE_TRUSTED};
	}
	for (int i = 0; i < 4; i++) {
		bench_raise(ns[i], false, false);
		bench_raise(ns[i], true, false);
		if (ns[i] > 1)
			bench_raise(ns[i], false, true);
		bench_raise(ns[i], true, true);
	}
	if (argc > 1 && bench_ext(argv[1]) != 0)
		fprintf(stderr, "dispatch_bench: extension calls not measured\n");
	printf("[\n");
	for (int i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		printf("  {\"name\": \"%s\", \"unit\": \"cycles\", \"spindle\": %.2f, \"section\": "
		       "\"host\", "
		       "\"baseline\": %.2f, \"ratio\": %.3f, \"handlers\": %d, \"runs\": %d, "
		       "\"batch\": %d, \"what\": \"%s\"}%s\n",
		       r->name, r->spindle, r->baseline,
		       r->baseline > 0 ? r->spindle / r->baseline : 0.0, r->handlers, RUNS, BATCH,
		       r->what, i + 1 < nresults ? "," : "");
	}
	printf("]\n");
	fprintf(stderr, "%-32s %10s %10s %7s\n", "case", "cycles", "baseline", "ratio");
	for (int i = 0; i < nresults; i++)
		fprintf(stderr, "%-32s %10.2f %10.2f %7.3f\n", results[i].name, results[i].spindle,
		        results[i].baseline,
		        results[i].baseline > 0 ? results[i].spindle / results[i].baseline : 0.0);
	return 0;
}
