/*
 * bench_kext.c: the extension runtime in the kernel, measured (ids kcall_c,
 * kcall_ext, kcall_interp, ext_kcall and verify_jit_small of
 * bench/benchmarks.def; suite "kext", command line bench=kext).
 *
 *   kcall_c           a direct call of a noinline C procedure: the baseline.
 *   kcall_ext         the kernel calls a JIT-compiled extension entry
 *                     (bench_null of tests/kernel-ext/rt_bench.c: r0 = r1)
 *                     through its native entry point with a fuel budget,
 *                     exactly as a dispatcher would.
 *   kcall_ext_plain   the same entry called as the plain C function it is
 *                     (rt_jit_plain): no budget, no status, two arguments.
 *   kcall_interp      the same entry run by the interpreter (rt_interp_run).
 *   ext_kcall         an extension calling a kernel procedure: bench_kcall16
 *                     makes 16 calls of Kext_Value; one sample is (its time minus
 *                     the median kcall_ext time) / 16.
 *   verify_jit_small  kext_load of rt_basic: ELF load, link, verify, JIT.
 *
 * Every figure is in guest instructions under -icount, corrected for the
 * timestamp pair (bench_report).  A failure to load prints why and skips
 * the figures that need it (no BENCH line rather than a wrong one).
 */
#include <arch/cpu.h>

#include "kernel/bench.h"
#include "kernel/heap.h"
#include "kernel/kext.h"
#include "kernel/kprintf.h"
#include "kernel/rt_env.h"

#define BENCH_KEXT_MAX 1000

static uint64_t bench_kext_s[BENCH_KEXT_MAX];
static volatile uint64_t bench_kext_sink;

static __attribute__((noinline)) uint64_t bench_kext_cfn(uint64_t a, uint64_t b)
{
	__asm__ volatile("");
	return a + b;
}

static void bench_kext_sort(uint64_t *s, int n)
{
	for (int i = 1; i < n; i++) {
		uint64_t v = s[i];
		int j = i;

		for (; j > 0 && s[j - 1] > v; j--)
			s[j] = s[j - 1];
		s[j] = v;
	}
}

static int bench_kext_n(const char *id)
{
	int n = bench_samples(id);

	return n > BENCH_KEXT_MAX ? BENCH_KEXT_MAX : n;
}

static void bench_kext_cdirect(uint64_t pair)
{
	int n = bench_kext_n("kcall_c");

	for (int i = -bench_warmup(n); i < n; i++) {
		uint64_t t0 = arch_cycles();
		uint64_t r = bench_kext_cfn((uint64_t)i, 1);
		uint64_t t1 = arch_cycles();

		bench_kext_sink = r;
		if (i >= 0)
			bench_kext_s[i] = t1 - t0;
	}
	bench_report("kcall_c", bench_kext_s, n, pair);
}

/* Returns the median raw (uncorrected) time of one JIT call, 0 on failure. */
static uint64_t bench_kext_jit(const struct kext_prog *kp, uint64_t pair)
{
	int n = bench_kext_n("kcall_ext");
	uint64_t med;

	for (int i = -bench_warmup(n); i < n; i++) {
		uint64_t t0 = arch_cycles();
		struct rt_jit_ret r = kp->fn((uint64_t)i, 1, 0, 0, 0, RT_ENV_FUEL_DEFAULT);
		uint64_t t1 = arch_cycles();

		if (r.status != RT_RUN_OK || r.r0 != (uint64_t)i) {
			kprintf("bench-kext: bench_null returned %lu status %lu\n",
			        (unsigned long)r.r0, (unsigned long)r.status);
			return 0;
		}
		if (i >= 0)
			bench_kext_s[i] = t1 - t0;
	}
	bench_report("kcall_ext", bench_kext_s, n, pair);
	med = bench_kext_s[n / 2] + pair; /* bench_report sorted and corrected */
	return med;
}

/* The same entry called as what it is: a plain function (no loop, no call)
 * is an ordinary C function of its two declared arguments (rt_jit_plain),
 * which is how a caller that knows the entry's kind calls it. */
static void bench_kext_plain(const struct kext_prog *kp, uint64_t pair)
{
	typedef uint64_t (*plain2_fn)(uint64_t, uint64_t);
	rt_import_fn f = rt_jit_plain(kp->jit, kp->func);
	plain2_fn fn = (plain2_fn)(uintptr_t)f;
	int n = bench_kext_n("kcall_ext_plain");

	if (!f) {
		kprintf("bench-kext: bench_null has no plain entry\n");
		return;
	}
	for (int i = -bench_warmup(n); i < n; i++) {
		uint64_t t0 = arch_cycles();
		uint64_t r = fn((uint64_t)i, 1);
		uint64_t t1 = arch_cycles();

		if (r != (uint64_t)i) {
			kprintf("bench-kext: plain bench_null returned %lu\n", (unsigned long)r);
			return;
		}
		if (i >= 0)
			bench_kext_s[i] = t1 - t0;
	}
	bench_report("kcall_ext_plain", bench_kext_s, n, pair);
}

static void bench_kext_interp(const struct kext_prog *kp, uint64_t pair)
{
	int n = bench_kext_n("kcall_interp");

	for (int i = -bench_warmup(n); i < n; i++) {
		uint64_t args[5] = {(uint64_t)i, 1, 0, 0, 0};
		struct rt_run run = {.fuel = RT_ENV_FUEL_DEFAULT};
		uint64_t t0 = arch_cycles();
		int err = rt_interp_run(kp->prog, kp->func, args, &run, NULL);
		uint64_t t1 = arch_cycles();

		if (err || run.status != RT_RUN_OK || run.r0 != (uint64_t)i) {
			kprintf("bench-kext: interpreter run failed (%d, status %d)\n", err,
			        (int)run.status);
			return;
		}
		if (i >= 0)
			bench_kext_s[i] = t1 - t0;
	}
	bench_report("kcall_interp", bench_kext_s, n, pair);
}

static void bench_kext_ext_kcall(const struct kext_prog *kp, uint64_t null_raw)
{
	int n = bench_kext_n("ext_kcall");

	kext_value = 1;
	for (int i = -bench_warmup(n); i < n; i++) {
		uint64_t t0 = arch_cycles();
		struct rt_jit_ret r = kp->fn((uint64_t)i, 1, 0, 0, 0, RT_ENV_FUEL_DEFAULT);
		uint64_t t1 = arch_cycles();

		if (r.status != RT_RUN_OK || r.r0 != (uint64_t)i + 17) {
			kprintf("bench-kext: bench_kcall16 returned %lu status %lu\n",
			        (unsigned long)r.r0, (unsigned long)r.status);
			return;
		}
		if (i >= 0)
			bench_kext_s[i] = (t1 - t0 > null_raw ? t1 - t0 - null_raw : 0) / 16;
	}
	bench_report("ext_kcall", bench_kext_s, n, 0);
}

/* One pipeline run in phases (for the BENCHINFO breakdown); 0 or -RT_E*. */
static struct rt_verify_result bench_kext_vr;

static int bench_kext_phases(const struct kext_image *im, uint64_t t[5])
{
	struct rt_verify_result *vr = &bench_kext_vr;
	struct rt_prog *p = NULL;
	struct rt_jit *j = NULL;
	const struct rt_func *f;
	int ret;

	t[0] = arch_cycles();
	ret = rt_prog_load_elf(im->data, im->size, &p, NULL, 0);
	t[1] = arch_cycles();
	if (!ret)
		ret = rt_prog_link(p, &kext_embed, NULL, 0);
	t[2] = arch_cycles();
	f = ret ? NULL : rt_prog_find_func(p, "rt_basic");
	if (!ret && !f)
		ret = -RT_ENOENT;
	if (!ret)
		ret = rt_verify(p, (uint32_t)(f - p->funcs), &kext_entry, NULL, vr);
	t[3] = arch_cycles();
	if (!ret)
		ret = rt_jit_compile(p, &j, NULL, 0);
	t[4] = arch_cycles();
	rt_jit_free(j);
	rt_prog_free(p);
	return ret;
}

static void bench_kext_load(uint64_t pair)
{
	static const char *const phase[4] = {"load", "link", "verify", "jit"};
	const struct kext_image *im = kext_find("rt_basic");
	int n = bench_kext_n("verify_jit_small");
	uint64_t ph[4][BENCH_KEXT_MAX / 10 + 1];
	char err[200];

	if (!im || n > BENCH_KEXT_MAX / 10)
		return;
	for (int i = -bench_warmup(n); i < n; i++) {
		struct kext_prog kp;
		uint64_t t0 = arch_cycles();
		int ret = kext_load("rt_basic", NULL, 0, "rt_basic", &kp, err, sizeof(err), NULL);
		uint64_t t1 = arch_cycles();

		if (ret) {
			kprintf("bench-kext: loading rt_basic failed (%d): %s\n", ret, err);
			return;
		}
		kext_unload(&kp);
		if (i >= 0)
			bench_kext_s[i] = t1 - t0;
	}
	bench_report("verify_jit_small", bench_kext_s, n, pair);

	/* Where the time goes: the same pipeline, phase by phase (medians). */
	for (int i = 0; i < n; i++) {
		uint64_t t[5];

		if (bench_kext_phases(im, t) != 0)
			return;
		for (int k = 0; k < 4; k++)
			ph[k][i] = t[k + 1] - t[k];
	}
	for (int k = 0; k < 4; k++) {
		bench_kext_sort(ph[k], n);
		kprintf("BENCHINFO verify_jit_small_%s %lu insns (median of %d)\n", phase[k],
		        (unsigned long)ph[k][n / 2], n);
	}
	kprintf("BENCHINFO verify_jit_small_states %u states, %u insns processed, %u stack bytes\n",
	        bench_kext_vr.states, bench_kext_vr.insns_processed, bench_kext_vr.max_stack);
}

void bench_kext_run(uint64_t pair)
{
	struct kext_prog null_p, k16_p;
	char err[200];
	uint64_t null_raw;
	int ret;

	bench_kext_cdirect(pair);
	ret = kext_load("rt_bench", NULL, 0, "bench_null", &null_p, err, sizeof(err), NULL);
	if (ret) {
		kprintf("bench-kext: loading rt_bench failed (%d): %s\n", ret, err);
		return;
	}
	null_raw = bench_kext_jit(&null_p, pair);
	bench_kext_plain(&null_p, pair);
	bench_kext_interp(&null_p, pair);
	ret = kext_load("rt_bench", NULL, 0, "bench_kcall16", &k16_p, err, sizeof(err), NULL);
	if (ret)
		kprintf("bench-kext: loading rt_bench failed (%d): %s\n", ret, err);
	else if (null_raw)
		bench_kext_ext_kcall(&k16_p, null_raw);
	if (!ret)
		kext_unload(&k16_p);
	kext_unload(&null_p);
	bench_kext_load(pair);
}
