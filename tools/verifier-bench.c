/*
 * verifier-bench - verifier and JIT throughput on generated and compiled
 * programs (the goal: verify + JIT of 10,000 instructions under 20 ms).
 *
 *   verifier-bench [--n N] [--reps R] [--dump DIR] [FILE.o...]
 *
 * Without files, generates three programs of about N instructions (default
 * 10000) for the sample embedder's ext/ctx64_rw entry:
 *   straight  straight-line code: context loads, ALU, spills and fills,
 *             masked indexes into the context, a helper call now and then;
 *   branchy   diamonds (a branch on a context byte, both sides setting an
 *             accumulator and a small index, then a join that indexes with
 *             it), with local calls into subprograms built the same way;
 *   loops     many small loops: counted ones (a constant trip count, the
 *             counter used as an index) and ones bounded only by a context
 *             byte, with loop-carried sums.
 * With files, measures each entry function of each clang object instead.
 * For each program: instructions, insns processed, states kept, verify
 * time and JIT time (best of R runs, default 5), and a differential run
 * (interpreter in checking mode vs JIT, zeroed context and a patterned one)
 * whose results must agree.  --dump writes the generated programs as
 * assembler text (DIR/NAME.s) for spin-verify-style inspection.
 *
 * BENCH_DEBUG=1 in the environment prints both engines' results per run.
 *
 * Built against the unsanitised library (build/host-opt/bin/verifier-bench)
 * so the figures are the runtime's, not ASan's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/asm.h"
#include "runtime/exec.h"
#include "runtime/prog.h"
#include "runtime/verify.h"
#include "tests/ext/ext_env.h"
#include "tools/toolkit.h"

#define CTX_SIZE 64

struct text {
	char *buf;
	size_t len, cap;
	uint32_t insns;
};

static void emit(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char line[160];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (t->len + (size_t)n + 2 > t->cap) {
		t->cap = (t->cap + (size_t)n + 2) * 2;
		t->buf = realloc(t->buf, t->cap);
		if (!t->buf)
			abort();
	}
	memcpy(t->buf + t->len, line, (size_t)n);
	t->len += (size_t)n;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = 0;
	if (line[n - 1] != ':')
		t->insns++;
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

/* r9 = ctx throughout; r6, r8 accumulators; r7 a small index. */
static void gen_index_load(struct text *t, const char *idx)
{
	emit(t, "mov %%r4, %s", idx);
	emit(t, "and %%r4, %d", CTX_SIZE - 1);
	emit(t, "mov %%r5, %%r9");
	emit(t, "add %%r5, %%r4");
	emit(t, "ldxb %%r5, [%%r5+0]");
	emit(t, "add %%r8, %%r5");
}

static void gen_straight_block(struct text *t, uint32_t k)
{
	emit(t, "ldxb %%r3, [%%r9+%u]", k % CTX_SIZE);
	emit(t, "add %%r6, %%r3");
	emit(t, "xor %%r8, %%r6");
	emit(t, "stxdw [%%r10-%u], %%r6", 8 * (k % 8 + 1));
	emit(t, "ldxdw %%r7, [%%r10-%u]", 8 * ((k + 3) % 8 + 1));
	gen_index_load(t, "%r7");
	emit(t, "lsh %%r6, 1");
	emit(t, "rsh %%r6, 1");
	if (k % 16 == 15) {
		/* ext_hash8(fp-64): reads 8 initialised stack bytes. */
		emit(t, "mov %%r1, %%r10");
		emit(t, "add %%r1, -64");
		emit(t, "call 9");
		emit(t, "add %%r6, %%r0");
	}
}

static void gen_diamond(struct text *t, const char *pfx, uint32_t k)
{
	emit(t, "ldxb %%r3, [%%r9+%u]", k % CTX_SIZE);
	emit(t, "jgt %%r3, %u, %s_e%u", rnd(256), pfx, k);
	emit(t, "add %%r6, %%r3");
	emit(t, "mov %%r7, %u", rnd(CTX_SIZE));
	emit(t, "ja %s_j%u", pfx, k);
	emit(t, "%s_e%u:", pfx, k);
	emit(t, "sub %%r6, 1");
	emit(t, "mov %%r7, %%r3");
	emit(t, "and %%r7, 15");
	emit(t, "%s_j%u:", pfx, k);
	gen_index_load(t, "%r7");
}

static void gen_loop(struct text *t, uint32_t k)
{
	emit(t, "mov %%r3, 0");
	if (k % 3 == 2) {
		/* Bounded only by a context byte: fuel stops it at run time. */
		emit(t, "ldxb %%r2, [%%r9+%u]", k % CTX_SIZE);
		emit(t, "and %%r2, 7");
		emit(t, "jeq %%r2, 0, l%u_out", k);
	}
	emit(t, "l%u:", k);
	gen_index_load(t, "%r3");
	emit(t, "add %%r6, %%r5");
	emit(t, "add %%r3, 1");
	if (k % 3 == 2)
		emit(t, "jlt %%r3, %%r2, l%u", k);
	else
		emit(t, "jlt %%r3, %u, l%u", 4 + k % 5, k);
	emit(t, "l%u_out:", k);
}

static void prologue(struct text *t)
{
	emit(t, "mov %%r9, %%r1");
	emit(t, "mov %%r6, 0");
	emit(t, "mov %%r8, 0");
	for (uint32_t i = 1; i <= 8; i++)
		emit(t, "stdw [%%r10-%u], %u", 8 * i, i);
}

static void epilogue(struct text *t)
{
	emit(t, "mov %%r0, %%r8");
	emit(t, "add %%r0, %%r6");
	emit(t, "exit");
}

static char *gen(const char *kind, uint32_t n)
{
	struct text t = {0};
	uint32_t k = 0;

	rnd_state = 12345;
	prologue(&t);
	if (!strcmp(kind, "straight")) {
		while (t.insns + 20 < n)
			gen_straight_block(&t, k++);
		epilogue(&t);
	} else if (!strcmp(kind, "branchy")) {
		/* 4 subprograms of 40 diamonds each, called every 25 diamonds. */
		uint32_t nsub = 4, per = 40, body = n - nsub * (per * 10 + 6) - 16;
		while (t.insns + 12 < body) {
			gen_diamond(&t, "m", k);
			if (++k % 25 == 0) {
				emit(&t, "mov %%r1, %%r9");
				emit(&t, "call local f%u", k / 25 % nsub);
				emit(&t, "add %%r6, %%r0");
			}
		}
		epilogue(&t);
		for (uint32_t f = 0; f < nsub; f++) {
			char pfx[16];
			snprintf(pfx, sizeof(pfx), "f%u", f);
			emit(&t, "f%u:", f);
			emit(&t, "mov %%r9, %%r1");
			emit(&t, "mov %%r6, 0");
			emit(&t, "mov %%r8, 0");
			for (uint32_t d = 0; d < per; d++)
				gen_diamond(&t, pfx, d);
			epilogue(&t);
		}
	} else {
		while (t.insns + 16 < n)
			gen_loop(&t, k++);
		epilogue(&t);
	}
	return t.buf;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run on one engine with ctx; -1 on failure. */
static int run_one(const struct rt_prog *p, uint32_t func, const struct rt_jit *j, uint8_t *ctx,
                   uint32_t ctxlen, uint64_t *r0)
{
	struct rt_run run = {.fuel = 1000000};
	uint64_t args[5] = {(uintptr_t)ctx, ctxlen, 0, 0, 0};
	uint32_t nreg;
	const struct rt_region *er = ext_env_regions(&nreg);
	struct rt_region regs[8];
	int rc;

	memcpy(regs, er, nreg * sizeof(*regs));
	regs[nreg++] = (struct rt_region){(uintptr_t)ctx, ctxlen, true};
	ext_env_reset();
	if (!j) {
		struct rt_check check = {regs, nreg, true};
		rc = rt_interp_run(p, func, args, &run, &check);
	} else {
		rc = rt_jit_run(j, func, args, &run);
	}
	if (rc || (run.status != RT_RUN_OK && run.status != RT_RUN_FUEL))
		return -1;
	*r0 = run.status == RT_RUN_OK ? run.r0 : ~0ull;
	return 0;
}

static int bench(const char *name, struct rt_prog *p, uint32_t func, const struct rt_entry *en,
                 uint32_t ctxlen, int reps)
{
	struct rt_verify_result res;
	double vbest = 1e9, jbest = 1e9;
	struct rt_jit *j = NULL;
	char err[512];
	int rc = 0;

	for (int r = 0; r < reps; r++) {
		struct rt_verify_opts o = {0};
		double t0 = now_ms();
		rc = rt_verify(p, func, en, &o, &res);
		double t1 = now_ms();
		if (t1 - t0 < vbest)
			vbest = t1 - t0;
		if (rc)
			break;
	}
	if (rc) {
		printf("%-22s %6u insns: REJECTED (%u processed, %u states, %.2f ms): %s\n", name,
		       p->funcs[func].end - p->funcs[func].start, res.insns_processed, res.states,
		       vbest, res.msg);
		return 1;
	}
	for (int r = 0; r < reps; r++) {
		double t0 = now_ms();
		rc = rt_jit_compile(p, &j, err, sizeof(err));
		double t1 = now_ms();
		if (rc) {
			printf("%-22s jit: %s\n", name, err);
			return 1;
		}
		if (t1 - t0 < jbest)
			jbest = t1 - t0;
		if (r + 1 < reps)
			rt_jit_free(j);
	}
	/* Differential: interpreter (checking) vs JIT on two contexts, each
	 * engine starting from the same globals. */
	const char *diff = "same";
	if (en->args[0].kind != RT_ARG_CONST_MEM && en->args[0].kind != RT_ARG_CONST_MEM_RW) {
		/* Only context entries get a context here; verifier-corpus runs
		 * the others. */
		diff = "n/a";
		ctxlen = 0;
	}
	static uint8_t saved[RT_MAX_GLOBALS][65536];
	for (uint32_t g = 0; g < p->nglobals; g++)
		if (p->globals[g].size <= sizeof(saved[g]))
			memcpy(saved[g], p->globals[g].data, p->globals[g].size);
	for (int c = 0; ctxlen && c < 2; c++) {
		uint8_t ctx[2][1024];
		uint64_t a = 0, b = 0;
		uint32_t len = ctxlen > sizeof(ctx[0]) ? sizeof(ctx[0]) : ctxlen;
		int ra, rb;
		for (uint32_t i = 0; i < len; i++)
			ctx[0][i] = ctx[1][i] = c ? (uint8_t)(i * 37 + 11) : 0;
		for (uint32_t g = 0; g < p->nglobals; g++)
			if (p->globals[g].size <= sizeof(saved[g]))
				memcpy(p->globals[g].data, saved[g], p->globals[g].size);
		ra = run_one(p, func, NULL, ctx[0], len, &a);
		for (uint32_t g = 0; g < p->nglobals; g++)
			if (p->globals[g].size <= sizeof(saved[g]))
				memcpy(p->globals[g].data, saved[g], p->globals[g].size);
		rb = run_one(p, func, j, ctx[1], len, &b);
		if (getenv("BENCH_DEBUG"))
			fprintf(stderr, "%s ctx%d: interp rc %d r0 %#llx, jit rc %d r0 %#llx\n",
			        name, c, ra, (unsigned long long)a, rb, (unsigned long long)b);
		if (ra || rb || a != b || memcmp(ctx[0], ctx[1], len)) {
			diff = "DIFFER";
			rc = 1;
		}
	}
	rt_jit_free(j);
	printf("%-22s %6u insns %8u processed %6u states  verify %8.2f ms  jit %6.2f ms  total "
	       "%8.2f ms  interp/jit %s\n",
	       name, p->ninsns, res.insns_processed, res.states, vbest, jbest, vbest + jbest, diff);
	return rc;
}

int main(int argc, char **argv)
{
	uint32_t n = 10000;
	int reps = 5, status = 0, nfiles = 0;
	const char *dump = NULL;
	char err[512];

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--n") && a + 1 < argc)
			n = (uint32_t)strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--reps") && a + 1 < argc)
			reps = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--dump") && a + 1 < argc)
			dump = argv[++a];
		else if (argv[a][0] == '-') {
			fprintf(
			    stderr,
			    "usage: verifier-bench [--n N] [--reps R] [--dump DIR] [FILE.o...]\n");
			return 2;
		}
	}
	for (int a = 1; a < argc; a++) {
		struct rt_prog *p = NULL;
		size_t len;
		void *img;

		if (argv[a][0] == '-') {
			a++;
			continue;
		}
		nfiles++;
		img = tk_read_file(argv[a], &len);
		if (!img || rt_prog_load_elf(img, len, &p, err, sizeof(err)) ||
		    rt_prog_link(p, &ext_env_embed, err, sizeof(err))) {
			fprintf(stderr, "%s: cannot load: %s\n", argv[a], img ? err : "unreadable");
			free(img);
			rt_prog_free(p);
			status = 2;
			continue;
		}
		free(img);
		for (uint32_t i = 0; i < p->nfuncs; i++) {
			struct rt_entry en;
			char name[160];
			if (!p->funcs[i].entry || !ext_env_entry_for(p->funcs[i].section, &en))
				continue;
			snprintf(name, sizeof(name), "%s", tk_basename(argv[a]));
			status |=
			    bench(name, p, i, &en, en.args[0].size ? en.args[0].size : 0, reps);
		}
		rt_prog_free(p);
	}
	if (nfiles)
		return status;
	static const char *const kinds[] = {"straight", "branchy", "loops"};
	for (int k = 0; k < 3; k++) {
		char *text = gen(kinds[k], n), name[64];
		struct bpf_insn *insns;
		uint32_t ni;
		struct rt_prog *p = NULL;
		struct rt_entry en;

		if (dump) {
			char path[512];
			snprintf(path, sizeof(path), "%s/%s.s", dump, kinds[k]);
			FILE *f = fopen(path, "w");
			if (f) {
				fputs(text, f);
				fclose(f);
			}
		}
		if (rt_asm(text, strlen(text), &insns, &ni, err, sizeof(err)) ||
		    rt_prog_from_raw(insns, ni, &p, err, sizeof(err)) ||
		    rt_prog_link(p, &ext_env_embed, err, sizeof(err))) {
			fprintf(stderr, "gen %s: %s\n", kinds[k], err);
			return 2;
		}
		rt_free(insns);
		free(text);
		ext_env_entry_for("ext/ctx64_rw", &en);
		snprintf(name, sizeof(name), "gen-%s", kinds[k]);
		status |= bench(name, p, 0, &en, CTX_SIZE, reps);
		rt_prog_free(p);
	}
	return status;
}
