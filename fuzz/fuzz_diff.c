/*
 * fuzz_diff.c - libFuzzer target: differential testing of the JIT against
 * the interpreter, with the verifier as the gate.
 *
 * Every input the verifier accepts (fuzz_env.h) runs twice from identical
 * state - the same 64-byte context, the same sample-embedder memory, the
 * same fuel - once on the interpreter in checking mode and once JIT-compiled.
 * The run crashes the fuzzer (abort) when
 *   - the interpreter faults (RT_RUN_FAULT), meets an instruction it cannot
 *     run, or exceeds the call depth: the verifier accepted something unsafe;
 *   - the JIT refuses a verified program;
 *   - the engines disagree on r0, the status, the fuel left, the context's
 *     final bytes or the embedder's memory.
 */
#include "fuzz/fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct snapshot {
	uint8_t ctx[FUZZ_CTX_SIZE];
	uint8_t *env[8];
};

static const struct rt_region *env_regions(uint32_t *n)
{
	const struct rt_region *r = ext_env_regions(n);

	if (*n > 8)
		*n = 8;
	return r;
}

static void env_save(uint8_t **save)
{
	uint32_t n, k;
	const struct rt_region *r = env_regions(&n);

	for (k = 0; k < n; k++) {
		save[k] = malloc(r[k].size ? r[k].size : 1);
		if (!save[k])
			abort();
		memcpy(save[k], (const void *)r[k].base, r[k].size);
	}
}

static void env_restore(uint8_t *const *save)
{
	uint32_t n, k;
	const struct rt_region *r = env_regions(&n);

	/* Read-only regions (ext_table) live in .rodata: never written. */
	for (k = 0; k < n; k++)
		if (r[k].writable)
			memcpy((void *)r[k].base, save[k], r[k].size);
}

static bool env_equal(uint8_t *const *save)
{
	uint32_t n, k;
	const struct rt_region *r = env_regions(&n);

	for (k = 0; k < n; k++)
		if (memcmp((const void *)r[k].base, save[k], r[k].size) != 0)
			return false;
	return true;
}

static void env_free(uint8_t **save)
{
	uint32_t n, k;

	env_regions(&n);
	for (k = 0; k < n; k++)
		free(save[k]);
}

static void fail(const char *why, const struct rt_run *a, const struct rt_run *b)
{
	fprintf(stderr, "fuzz_diff: %s\n", why);
	if (a)
		fprintf(stderr, "  interp: r0=%#llx status=%d fuel=%llu pc=%u\n",
		        (unsigned long long)a->r0, a->status, (unsigned long long)a->fuel, a->pc);
	if (b)
		fprintf(stderr, "  jit:    r0=%#llx status=%d fuel=%llu\n",
		        (unsigned long long)b->r0, b->status, (unsigned long long)b->fuel);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t ctx_i[FUZZ_CTX_SIZE], ctx_j[FUZZ_CTX_SIZE];
	uint8_t *env0[8] = {0}, *env_after_i[8] = {0};
	struct rt_region regs[9];
	struct rt_check check;
	struct rt_run ri, rj;
	struct rt_prog *p;
	struct rt_jit *j = NULL;
	uint64_t args[5] = {0, FUZZ_CTX_SIZE, 0, 0, 0};
	uint32_t n, k;
	char err[256];
	int rc;

	fuzz_accept(data, size, &p);
	if (!p)
		return 0;
	if (rt_jit_compile(p, &j, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_diff: verified program refused by the JIT: %s\n", err);
		abort();
	}
	for (k = 0; k < FUZZ_CTX_SIZE; k++)
		ctx_i[k] = ctx_j[k] = (uint8_t)(k * 7 + 1);
	ext_env_reset();
	env_save(env0);

	/* Interpreter, checking mode: the context and the embedder's memory. */
	{
		const struct rt_region *er = env_regions(&n);

		regs[0] = (struct rt_region){(uintptr_t)ctx_i, FUZZ_CTX_SIZE, true};
		for (k = 0; k < n; k++)
			regs[1 + k] = er[k];
		check.regions = regs;
		check.nregions = 1 + n;
		check.enabled = true;
	}
	memset(&ri, 0, sizeof(ri));
	ri.fuel = FUZZ_FUEL;
	args[0] = (uintptr_t)ctx_i;
	rc = rt_interp_run(p, 0, args, &ri, &check);
	if (rc != 0)
		fail("interpreter refused to run a verified program", NULL, NULL);
	if (ri.status == RT_RUN_FAULT || ri.status == RT_RUN_BADINSN || ri.status == RT_RUN_DEPTH)
		fail("verifier bug: an accepted program faults in checking mode", &ri, NULL);
	env_save(env_after_i);

	/* JIT from the same state. */
	env_restore(env0);
	ext_env_reset();
	memset(&rj, 0, sizeof(rj));
	rj.fuel = FUZZ_FUEL;
	args[0] = (uintptr_t)ctx_j;
	if (rt_jit_run(j, 0, args, &rj) != 0)
		fail("rt_jit_run failed", NULL, NULL);

	if (ri.r0 != rj.r0 || ri.status != rj.status || ri.fuel != rj.fuel)
		fail("engines disagree", &ri, &rj);
	if (memcmp(ctx_i, ctx_j, FUZZ_CTX_SIZE) != 0)
		fail("engines disagree on the context's final bytes", &ri, &rj);
	if (!env_equal(env_after_i))
		fail("engines disagree on the embedder's memory", &ri, &rj);

	env_restore(env0);
	env_free(env0);
	env_free(env_after_i);
	rt_jit_free(j);
	rt_prog_free(p);
	return 0;
}
