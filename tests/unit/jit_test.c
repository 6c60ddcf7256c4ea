/*
 * jit_test.c - host tests of the x86-64 JIT (arch/x86_64/jit.c).
 *
 * Two kinds of test:
 *   - hand-written programs per instruction class and per edge case (the
 *     register map's awkward spots: rcx as shift count and eBPF r4, rax/rdx
 *     as div operands and eBPF r0/r3, r0 in atomics; fuel at back-edges,
 *     calls and nested calls; aborting imports; callee-saved registers),
 *     each run on the interpreter AND the JIT and compared, plus an expected
 *     value written in the test;
 *   - a differential test over every program of the bpf_conformance suite
 *     (CONFORMANCE_DIR, default tests/bpf-conformance/tests) and of the
 *     verifier's corpus (tests/verifier/ *.data): same memory, same fuel,
 *     comparing r0, status, fuel left and the memory afterwards.
 * Programs are verified when the verifier accepts them; a program the
 * verifier refuses is still compared if the interpreter (in checking mode)
 * runs it without a fault, so the test does not depend on the verifier's
 * progress, and is skipped otherwise (its JIT code could fault the host).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/asm.h"
#include "runtime/exec.h"
#include "runtime/jit_sink.h"
#include "runtime/prog.h"
#include "runtime/verify.h"
#include "tests/ext/ext_env.h"
#include "tests/unit/bpf_build.h"
#include "tests/unit/check.h"
#include "tools/toolkit.h"

/* ---- imports the tests call (numbered helpers) ---------------------- */

static uint64_t helper_calls;

/* 1: a weighted sum that shows every argument arrived in its place. */
static uint64_t h_sum5(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	helper_calls++;
	return a + 2 * b + 3 * c + 4 * d + 5 * e;
}

/* 5: uBPF's unwind: returns its argument, ends the program when it is 0. */
static struct rt_jit_ret h_unwind(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	struct rt_jit_ret r = {a, a == 0};

	(void)b, (void)c, (void)d, (void)e;
	helper_calls++;
	return r;
}

/* 6: an abortable import that never aborts (the JIT must not either). */
static struct rt_jit_ret h_noabort(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	struct rt_jit_ret r = {a ^ b ^ c ^ d ^ e, 0};

	helper_calls++;
	return r;
}

static const struct rt_sig sig_sum5 = {
    .name = "sum5",
    .fn = (void *)h_sum5,
    .nargs = 5,
    .args = BPF_BUILD_ARGS5,
    .ret = {.kind = RT_RET_SCALAR},
};
static const struct rt_sig sig_unwind = {
    .name = "unwind",
    .fn = (void *)h_unwind,
    .nargs = 1,
    .args = {{.kind = RT_ARG_SCALAR}},
    .ret = {.kind = RT_RET_SCALAR},
    .flags = RT_SIG_MAYABORT,
};
static const struct rt_sig sig_noabort = {
    .name = "noabort",
    .fn = (void *)h_noabort,
    .nargs = 5,
    .args = BPF_BUILD_ARGS5,
    .ret = {.kind = RT_RET_SCALAR},
    .flags = RT_SIG_MAYABORT,
};

/* 7: llabs from the C library, a shared object: on the host it is usually
 * mapped within 2 GiB of the JIT's code pages, so this import exercises the
 * direct `call rel32` form while the others (in the executable) use the
 * call-through-literal form. */
static const struct rt_sig sig_llabs = {
    .name = "llabs",
    .fn = (void *)llabs,
    .nargs = 1,
    .args = {{.kind = RT_ARG_SCALAR}},
    .ret = {.kind = RT_RET_SCALAR},
};

/* 8: a JIT'd entry of another program, called with the caller's budget
 * (RT_SIG_FUEL); set by shared_budget().  JIT only. */
static struct rt_sig sig_shared = {
    .name = "shared",
    .nargs = 1,
    .args = {{.kind = RT_ARG_SCALAR}},
    .ret = {.kind = RT_RET_SCALAR},
    .flags = RT_SIG_MAYABORT | RT_SIG_FUEL,
};

/* 9: a field read the JIT may compile in line (struct rt_inline): word k
 * of the memory r1 points to.  The call itself adds 1000, so a result
 * shows which of the two ran (the in-line read must answer what the
 * embedder vouches for; here the difference is the point of the test). */
static uint64_t h_field(uint64_t mem, uint64_t k)
{
	helper_calls++;
	return ((const uint64_t *)(uintptr_t)mem)[k & 7] + 1000;
}
static const struct rt_sig sig_field = {
    .name = "field",
    .fn = (void *)h_field,
    .nargs = 2,
    .args = {{.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}},
    .ret = {.kind = RT_RET_SCALAR},
    .flags = RT_SIG_PURE,
};
static const struct rt_inline inl_field = {&sig_field, 4, {0, 8, 16, 24}};

/* 10: an honest single read (word k of r1's memory), as the embedder's
 * MachineTrap accessors are: the call and the JIT's in-line load answer
 * the same, so both engines can be compared on it.  Not counted in
 * helper_calls, since only the interpreter calls it. */
static uint64_t h_word(uint64_t mem, uint64_t k)
{
	/* Any C function may leave rdx (eBPF r3, the JIT's status register)
	 * changed: this one always does, so an entry that forgets to zero
	 * the status after calling it shows. */
	__asm__ volatile("mov $0x5a5a, %%edx" ::: "rdx");
	return ((const uint64_t *)(uintptr_t)mem)[k & 7];
}
static const struct rt_sig sig_word = {
    .name = "word",
    .fn = (void *)h_word,
    .nargs = 2,
    .args = {{.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}},
    .ret = {.kind = RT_RET_SCALAR},
    .flags = RT_SIG_PURE,
};
static const struct rt_inline inl_word = {&sig_word, 8, {0, 8, 16, 24, 32, 40, 48, 56}};

/* 11: the stack alignment its caller gave it (0 when rsp was 0 mod 16 at
 * the call, as SysV requires), plus its argument. */
__attribute__((noinline)) static uint64_t h_align(uint64_t a)
{
	helper_calls++;
	return ((uintptr_t)__builtin_frame_address(0) & 15) + a;
}
static const struct rt_sig sig_align = {
    .name = "align",
    .fn = (void *)h_align,
    .nargs = 1,
    .args = {{.kind = RT_ARG_SCALAR}},
    .ret = {.kind = RT_RET_SCALAR},
};

/* 40: where it was called from.  Returns the word at p (if not 0) plus
 * a, plus 1000 when its return address is inside [probe_lo, probe_hi): a
 * JIT'd function that calls it, rather than jumping to it (a tail call:
 * the return address is then the JIT'd function's caller's). */
static uintptr_t probe_lo, probe_hi;
__attribute__((noinline)) static uint64_t h_probe(uint64_t p, uint64_t a)
{
	uintptr_t ra = (uintptr_t)__builtin_return_address(0);

	helper_calls++;
	return (p ? *(const uint64_t *)(uintptr_t)p : 0) + a +
	       (ra >= probe_lo && ra < probe_hi ? 1000 : 0);
}
static const struct rt_sig sig_probe = {
    .name = "probe",
    .fn = (void *)h_probe,
    .nargs = 2,
    .args = {{.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}},
    .ret = {.kind = RT_RET_SCALAR},
};

static const struct rt_sig *t_helper(void *arg, int32_t id)
{
	(void)arg;
	switch (id) {
	case 40:
		return &sig_probe;
	case 11:
		return &sig_align;
	case 10:
		return &sig_word;
	case 9:
		return &sig_field;
	case 8:
		return sig_shared.fn ? &sig_shared : NULL;
	case 1:
		return &sig_sum5;
	case 5:
		return &sig_unwind;
	case 6:
		return &sig_noabort;
	case 7:
		return &sig_llabs;
	}
	return NULL;
}

static const struct rt_sig *t_lookup(void *arg, const char *name)
{
	(void)arg, (void)name;
	return NULL;
}

static const struct rt_embed t_embed = {.lookup = t_lookup, .helper = t_helper};

/* ---- building and running ------------------------------------------ */

static struct rt_prog *build_insns(const struct bpf_insn *insns, uint32_t n)
{
	return bpf_build_insns(insns, n, &t_embed);
}

static struct rt_prog *build(const char *text)
{
	return bpf_build_asm(text, &t_embed);
}

struct outcome {
	struct rt_run run;
	uint8_t mem[256];
	uint64_t helper_calls;
};

/* How to call an entry: mem is copied fresh for each engine and its
 * address passed in the arguments named by mem_args (a bit mask). */
struct run_spec {
	const void *mem;
	uint32_t memlen;
	uint64_t args[5];
	uint32_t mem_args;
	const struct rt_region *extra; /* more checking-mode regions */
	uint32_t nextra;
	uint64_t fuel;
};

/* One engine: interp (checking mode) or JIT.  Globals are restored from
 * `gsave` first, so both engines start from the same program state. */
static bool run_engine(const struct rt_prog *p, uint32_t func, const struct run_spec *rs, bool jit,
                       uint8_t *const *gsave, struct outcome *o)
{
	struct rt_region reg[17];
	struct rt_check check;
	uint64_t args[5];
	uint32_t k, nreg = 0;
	char err[512] = "";
	int rc;

	memset(o, 0, sizeof(*o));
	for (k = 0; gsave && k < p->nglobals; k++)
		memcpy(p->globals[k].data, gsave[k], p->globals[k].size);
	if (rs->mem)
		memcpy(o->mem, rs->mem, rs->memlen);
	for (k = 0; k < 5; k++)
		args[k] = (rs->mem_args & (1u << k)) ? (uintptr_t)o->mem : rs->args[k];
	o->run.fuel = rs->fuel;
	helper_calls = 0;
	if (!jit) {
		reg[nreg++] = (struct rt_region){(uintptr_t)o->mem, rs->memlen, true};
		for (k = 0; k < rs->nextra && nreg < 17; k++)
			reg[nreg++] = rs->extra[k];
		check.regions = reg;
		check.nregions = nreg;
		check.enabled = true;
		rc = rt_interp_run(p, func, args, &o->run, &check);
	} else {
		struct rt_jit *j = NULL;

		rc = rt_jit_compile(p, &j, err, sizeof(err));
		if (rc) {
			printf("  jit: %s\n", err);
			return false;
		}
		rc = rt_jit_run(j, func, args, &o->run);
		rt_jit_free(j);
	}
	o->helper_calls = helper_calls;
	if (rc) {
		printf("  %s: error %d\n", jit ? "jit run" : "interp", rc);
		return false;
	}
	return true;
}

/*
 * Run function `func` of p on both engines with identical memory, globals
 * and fuel.  Returns false (after reporting) if they disagree in any way:
 * r0, status, fuel left, number of helper calls, final memory.
 */
static bool run_both_spec(const struct rt_prog *p, uint32_t func, const struct run_spec *rs,
                          struct outcome *out_jit)
{
	struct outcome oi, oj;
	uint8_t *gsave[RT_MAX_GLOBALS] = {0};
	uint32_t k;
	bool ok;

	if (rs->memlen > sizeof(oi.mem))
		return false;
	for (k = 0; k < p->nglobals; k++) {
		gsave[k] = malloc(p->globals[k].size + 1);
		memcpy(gsave[k], p->globals[k].data, p->globals[k].size);
	}
	ok =
	    run_engine(p, func, rs, false, gsave, &oi) && run_engine(p, func, rs, true, gsave, &oj);
	for (k = 0; k < p->nglobals; k++)
		free(gsave[k]);
	if (!ok)
		return false;
	if (out_jit)
		*out_jit = oj;
	/* pc is compared for aborts only: after a normal exit it is
	 * meaningless (the JIT leaves 0). */
	if (oi.run.r0 != oj.run.r0 || oi.run.status != oj.run.status ||
	    oi.run.fuel != oj.run.fuel || oi.helper_calls != oj.helper_calls ||
	    (oi.run.status != RT_RUN_OK && oi.run.pc != oj.run.pc) ||
	    memcmp(oi.mem, oj.mem, rs->memlen) != 0) {
		printf("  mismatch: interp r0=%#llx status=%d pc=%u fuel=%llu calls=%llu | "
		       "jit r0=%#llx status=%d pc=%u fuel=%llu calls=%llu | mem %s\n",
		       (unsigned long long)oi.run.r0, oi.run.status, oi.run.pc,
		       (unsigned long long)oi.run.fuel, (unsigned long long)oi.helper_calls,
		       (unsigned long long)oj.run.r0, oj.run.status, oj.run.pc,
		       (unsigned long long)oj.run.fuel, (unsigned long long)oj.helper_calls,
		       memcmp(oi.mem, oj.mem, rs->memlen) ? "differs" : "same");
		return false;
	}
	return true;
}

/* The conformance convention: r1 = the memory, r2 = its length. */
static bool run_both_args(const struct rt_prog *p, uint32_t func, const void *mem, uint32_t memlen,
                          const uint64_t args_in[5], uint64_t fuel, struct outcome *out_jit)
{
	struct run_spec rs;

	memset(&rs, 0, sizeof(rs));
	rs.mem = mem;
	rs.memlen = memlen;
	rs.fuel = fuel;
	if (args_in)
		memcpy(rs.args, args_in, sizeof(rs.args));
	if (memlen) {
		rs.mem_args = 1;
		rs.args[1] = memlen;
	}
	return run_both_spec(p, func, &rs, out_jit);
}

/* Assemble, run on both engines, and check r0 and the status. */
static void expect_full(const char *text, const void *mem, uint32_t memlen, const uint64_t *args,
                        uint64_t fuel, uint64_t want_r0, enum rt_status want_status, int line)
{
	struct rt_prog *p = build(text);
	struct outcome o;

	if (!p) {
		printf("  (program at line %d did not build)\n", line);
		CHECK(p != NULL);
		return;
	}
	if (!run_both_args(p, 0, mem, memlen, args, fuel, &o)) {
		printf("  (program at line %d)\n", line);
		CHECK(!"interpreter and JIT disagree");
	} else {
		if (o.run.r0 != want_r0 || o.run.status != want_status)
			printf("  (program at line %d)\n", line);
		CHECK_EQ(o.run.r0, want_r0);
		CHECK_EQ(o.run.status, want_status);
	}
	rt_prog_free(p);
}

#define FUEL               1000000
#define EXPECT(text, want) expect_full(text, NULL, 0, NULL, FUEL, want, RT_RUN_OK, __LINE__)
#define EXPECT_MEM(text, mem, want)                                                                \
	expect_full(text, mem, sizeof(mem), NULL, FUEL, want, RT_RUN_OK, __LINE__)

/* ---- hand-written programs ------------------------------------------ */

static void alu64(void)
{
	EXPECT("mov %r0, 7\nadd %r0, -10\nexit", (uint64_t)-3);
	EXPECT("mov %r0, 7\nmov %r1, 5\nsub %r0, %r1\nexit", 2);
	EXPECT("lddw %r0, 0x123456789abcdef0\nmov %r9, -1\nand %r0, %r9\nexit",
	       0x123456789abcdef0ull);
	EXPECT("lddw %r0, 0xff00ff00ff00ff00\nor %r0, 0xff\nexit", 0xff00ff00ff00ffffull);
	EXPECT("lddw %r0, 0xff00ff00ff00ff00\nxor %r0, -1\nexit", 0x00ff00ff00ff00ffull);
	EXPECT("mov %r0, -1\nexit", UINT64_MAX);
	EXPECT("mov %r6, 3\nmul %r6, -5\nmov %r0, %r6\nexit", (uint64_t)-15);
	EXPECT("lddw %r7, 0x100000001\nmov %r8, %r7\nmul %r8, %r7\nmov %r0, %r8\nexit",
	       0x200000001ull);
	EXPECT("mov %r0, 5\nneg %r0\nexit", (uint64_t)-5);
	EXPECT("mov %r5, 5\nmov %r0, 100000\nmul %r0, 100000\nexit", 10000000000ull);
}

static void alu32_zero_extends(void)
{
	/* Every 32-bit operation clears the upper half. */
	EXPECT("mov %r0, -1\nadd32 %r0, 1\nexit", 0);
	EXPECT("mov %r0, -1\nmov32 %r0, %r0\nexit", 0xffffffffull);
	EXPECT("mov %r0, -1\nmov32 %r0, -1\nexit", 0xffffffffull);
	EXPECT("mov %r0, -1\nor32 %r0, 0\nexit", 0xffffffffull);
	EXPECT("mov %r0, -1\nmul32 %r0, 3\nexit", 0xfffffffdull);
	EXPECT("mov %r0, -1\nneg32 %r0\nexit", 1);
	EXPECT("mov %r0, -1\nlsh32 %r0, 0\nexit", 0xffffffffull);
	EXPECT("mov %r0, -1\nmov %r4, 32\nlsh32 %r0, %r4\nexit", 0xffffffffull);
	EXPECT("mov %r0, -1\nmov %r3, 0\ndiv32 %r0, %r3\nexit", 0);
	EXPECT("mov %r0, -1\nmov %r3, 0\nmod32 %r0, %r3\nexit", 0xffffffffull);
	EXPECT("mov %r0, -1\nmod32 %r0, 0\nexit", 0xffffffffull);
	EXPECT("mov %r0, -1\nle32 %r0\nexit", 0xffffffffull);
	EXPECT("mov %r0, -1\nle16 %r0\nexit", 0xffff);
	EXPECT("lddw %r0, 0x1122334455667788\nsub32 %r0, 0x8\nexit", 0x55667780);
}

static void shifts_through_rcx(void)
{
	/* r4 is rcx, the only count register x86 has. */
	EXPECT("mov %r0, 1\nmov %r4, 4\nlsh %r0, %r4\nadd %r0, %r4\nexit", 20);
	EXPECT("mov %r4, 3\nlsh %r4, %r4\nmov %r0, %r4\nexit", 24);
	EXPECT("mov %r4, 1\nmov %r1, 5\nlsh %r4, %r1\nmov %r0, %r4\nexit", 32);
	EXPECT(
	    "mov %r4, 77\nmov %r1, 1\nmov %r2, 3\nlsh %r1, %r2\nmov %r0, %r1\nadd %r0, %r4\nexit",
	    85);
	EXPECT("mov %r0, -16\nmov %r4, 2\narsh %r0, %r4\nexit", (uint64_t)-4);
	EXPECT("mov %r0, -16\nmov %r4, 2\nrsh %r0, %r4\nexit", 0x3ffffffffffffffcull);
	EXPECT("mov32 %r0, -16\nmov %r4, 2\narsh32 %r0, %r4\nexit", 0xfffffffcull);
	EXPECT("mov %r0, 1\nmov %r4, 65\nlsh %r0, %r4\nexit", 2);   /* masked to 1 */
	EXPECT("mov %r0, 1\nmov %r4, 33\nlsh32 %r0, %r4\nexit", 2); /* masked to 1 */
	EXPECT("mov %r0, -1\nrsh %r0, 60\nexit", 15);
	EXPECT("mov %r0, -1\narsh32 %r0, 4\nexit", 0xffffffffull);
	EXPECT("mov %r4, -1\nmov %r9, 36\nrsh32 %r4, %r9\nmov %r0, %r4\nexit", 0x0fffffff);
}

static void divmod(void)
{
	/* dst and divisor in every awkward register: r0 = rax, r3 = rdx. */
	EXPECT("mov %r0, 100\nmov %r3, 7\ndiv %r0, %r3\nexit", 14);
	EXPECT("mov %r0, 100\nmov %r3, 7\nmod %r0, %r3\nexit", 2);
	EXPECT("mov %r3, 100\nmov %r0, 7\ndiv %r3, %r0\nmov %r0, %r3\nexit", 14);
	EXPECT("mov %r3, 100\nmov %r0, 7\nmod %r3, %r0\nadd %r0, %r3\nexit", 9);
	EXPECT("mov %r0, 11\nmov %r3, 22\nmov %r1, 100\nmov %r2, 9\ndiv %r1, %r2\n"
	       "add %r0, %r3\nadd %r0, %r1\nexit",
	       44);
	EXPECT("mov %r0, 11\nmov %r3, 22\nmov %r1, 100\nmov %r2, 9\nmod %r1, %r2\n"
	       "add %r0, %r3\nadd %r0, %r1\nexit",
	       34);
	EXPECT("mov %r6, 100\ndiv %r6, 0\nmov %r0, %r6\nexit", 0);
	EXPECT("mov %r6, 100\nmod %r6, 0\nmov %r0, %r6\nexit", 100);
	EXPECT("mov %r6, 100\nmov %r7, 0\ndiv %r6, %r7\nmov %r0, %r6\nexit", 0);
	EXPECT("mov %r6, 100\nmov %r7, 0\nmod %r6, %r7\nmov %r0, %r6\nexit", 100);
	EXPECT("mov %r0, -1\ndiv %r0, -1\nexit", 1); /* unsigned */
	EXPECT("mov %r0, -7\ndiv32 %r0, 2\nexit", 0x7ffffffc);
	/* Signed: INT_MIN / -1 must not trap. */
	EXPECT("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit", 0x8000000000000000ull);
	EXPECT("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsdiv %r0, %r1\nexit",
	       0x8000000000000000ull);
	EXPECT("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsmod %r0, %r1\nexit", 0);
	EXPECT("mov32 %r0, 0x80000000\nmov %r1, -1\nsdiv32 %r0, %r1\nexit", 0x80000000);
	EXPECT("mov32 %r0, 0x80000000\nsmod32 %r0, -1\nexit", 0);
	EXPECT("mov %r0, -7\nsdiv %r0, 2\nexit", (uint64_t)-3);
	EXPECT("mov %r0, -7\nsmod %r0, 2\nexit", (uint64_t)-1);
	EXPECT("mov %r0, 7\nmov %r2, -2\nsmod %r0, %r2\nexit", 1);
	EXPECT("mov %r0, -7\nmov %r2, 0\nsmod %r0, %r2\nexit", (uint64_t)-7);
	EXPECT("mov %r0, -7\nmov %r2, 0\nsdiv32 %r0, %r2\nexit", 0);
	EXPECT("mov %r0, -7\nsmod32 %r0, 0\nexit", 0xfffffff9ull);
	EXPECT("mov %r3, -9\nmov %r0, 2\nsdiv32 %r3, %r0\nmov %r0, %r3\nexit", 0xfffffffcull);
}

static void movsx_and_swaps(void)
{
	EXPECT("mov %r1, 0x80\nmovsx864 %r0, %r1\nexit", 0xffffffffffffff80ull);
	EXPECT("mov %r1, 0x8000\nmovsx1664 %r0, %r1\nexit", 0xffffffffffff8000ull);
	EXPECT("mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1\nexit", 0xffffffff80000000ull);
	EXPECT("mov %r1, 0x80\nmovsx832 %r0, %r1\nexit", 0xffffff80ull);
	EXPECT("mov %r2, 0x8001\nmovsx1632 %r0, %r2\nexit", 0xffff8001ull);
	/* sil/dil as byte sources need a REX prefix. */
	EXPECT("mov %r2, 0xff\nmovsx864 %r2, %r2\nmov %r0, %r2\nexit", UINT64_MAX);
	EXPECT("lddw %r0, 0x1122334455667788\nbe16 %r0\nexit", 0x8877);
	EXPECT("lddw %r0, 0x1122334455667788\nbe32 %r0\nexit", 0x88776655);
	EXPECT("lddw %r0, 0x1122334455667788\nbe64 %r0\nexit", 0x8877665544332211ull);
	EXPECT("lddw %r0, 0x1122334455667788\nswap16 %r0\nexit", 0x8877);
	EXPECT("lddw %r0, 0x1122334455667788\nswap32 %r0\nexit", 0x88776655);
	EXPECT("lddw %r9, 0x1122334455667788\nswap64 %r9\nmov %r0, %r9\nexit",
	       0x8877665544332211ull);
	EXPECT("lddw %r0, 0x1122334455667788\nle64 %r0\nexit", 0x1122334455667788ull);
}

static void jumps(void)
{
	EXPECT("mov %r0, 0\nmov %r1, -1\njsgt %r1, 0, +1\nmov %r0, 1\nexit", 1);
	EXPECT("mov %r0, 0\nmov %r1, -1\njgt %r1, 0, +1\nmov %r0, 1\nexit", 0);
	EXPECT("mov %r0, 0\nmov %r1, -1\njgt32 %r1, -2, +1\nmov %r0, 1\nexit", 0);
	EXPECT("mov %r0, 0\nlddw %r1, 0x100000000\njeq32 %r1, 0, +1\nmov %r0, 1\nexit", 0);
	EXPECT("mov %r0, 0\nlddw %r1, 0x100000000\njeq %r1, 0, +1\nmov %r0, 1\nexit", 1);
	EXPECT("mov %r0, 0\nmov %r1, 6\njset %r1, 2, +1\nmov %r0, 1\nexit", 0);
	EXPECT("mov %r0, 0\nlddw %r1, 0x600000000\njset32 %r1, -1, +1\nmov %r0, 1\nexit", 1);
	EXPECT("mov %r0, 0\nmov %r1, -5\nmov %r2, 3\njslt %r1, %r2, +1\nmov %r0, 1\nexit", 0);
	EXPECT("mov %r0, 0\nmov %r1, -5\nmov %r2, 3\njlt %r1, %r2, +1\nmov %r0, 1\nexit", 1);
	EXPECT("mov %r0, 0\nmov %r1, 3\nmov %r2, 3\njsle %r1, %r2, +1\nmov %r0, 1\nexit", 0);
	EXPECT("mov %r0, 0\nmov %r1, 3\njsge32 %r1, 4, +1\nmov %r0, 1\nexit", 1);
	EXPECT("mov %r0, 0\nmov %r1, 3\njne %r1, 4, +1\nmov %r0, 1\nexit", 0);
	EXPECT("mov %r0, 0\nmov %r1, 3\njle %r1, 2, +1\nmov %r0, 1\nexit", 1);
	/* gotol and a far forward jump that needs a 32-bit displacement. */
	EXPECT("mov %r0, 1\nja32 +1\nmov %r0, 2\nexit", 1);
	{
		char text[20000];
		size_t n = 0;
		int k;

		n += (size_t)snprintf(text + n, sizeof(text) - n,
		                      "mov %%r0, 0\nmov %%r1, 1\n"
		                      "jeq %%r1, 1, skip\n");
		for (k = 0; k < 400; k++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "add %%r0, 1\n");
		snprintf(text + n, sizeof(text) - n, "skip:\nadd %%r0, 1000\nexit\n");
		EXPECT(text, 1000);
	}
}

static void memory(void)
{
	uint8_t mem[32];
	int k;

	for (k = 0; k < 32; k++)
		mem[k] = (uint8_t)(0x80 + k);
	EXPECT_MEM("ldxb %r0, [%r1+1]\nexit", mem, 0x81);
	EXPECT_MEM("ldxh %r0, [%r1+2]\nexit", mem, 0x8382);
	EXPECT_MEM("ldxw %r0, [%r1+4]\nexit", mem, 0x87868584);
	EXPECT_MEM("ldxdw %r0, [%r1+8]\nexit", mem, 0x8f8e8d8c8b8a8988ull);
	EXPECT_MEM("ldxsb %r0, [%r1+1]\nexit", mem, 0xffffffffffffff81ull);
	EXPECT_MEM("ldxsh %r0, [%r1+2]\nexit", mem, 0xffffffffffff8382ull);
	EXPECT_MEM("ldxsw %r0, [%r1+4]\nexit", mem, 0xffffffff87868584ull);
	EXPECT_MEM("stb [%r1+0], 0x11\nsth [%r1+2], 0x2233\nstw [%r1+4], -2\nstdw [%r1+8], -3\n"
	           "ldxdw %r0, [%r1+8]\nexit",
	           mem, (uint64_t)-3);
	/* Byte stores from rsi/rdi (r2/r1) need REX to mean sil/dil. */
	EXPECT_MEM("mov %r2, 0x55\nstxb [%r1+3], %r2\nmov %r9, %r1\nmov %r1, 0x66\n"
	           "stxb [%r9+4], %r1\nldxh %r0, [%r9+3]\nexit",
	           mem, 0x6655);
	EXPECT_MEM("mov %r7, %r1\nlddw %r3, 0x0102030405060708\nstxdw [%r7+16], %r3\n"
	           "stxw [%r7+24], %r3\nstxh [%r7+28], %r3\nldxdw %r0, [%r7+24]\nexit",
	           mem, 0x9f9e070805060708ull);
	/* Stack: r10-relative, and an escaped stack pointer. */
	EXPECT("stdw [%r10-8], 5\nmov %r1, %r10\nadd %r1, -8\nldxdw %r0, [%r1+0]\nexit", 5);
	EXPECT("mov %r6, 9\nstxdw [%r10-512], %r6\nldxdw %r0, [%r10-512]\nexit", 9);
	EXPECT("stb [%r10-1], 0x7f\nldxsb %r0, [%r10-1]\nexit", 0x7f);
}

static void atomics(void)
{
	uint8_t mem[16] = {0};

	mem[0] = 0xf0;
	EXPECT_MEM("mov %r2, 3\nlock add [%r1+0], %r2\nldxdw %r0, [%r1+0]\nexit", mem, 0xf3);
	EXPECT_MEM("mov %r2, 3\nlock or32 [%r1+0], %r2\nldxw %r0, [%r1+0]\nexit", mem, 0xf3);
	EXPECT_MEM("mov %r2, 0x3c\nlock and [%r1+0], %r2\nldxdw %r0, [%r1+0]\nexit", mem, 0x30);
	EXPECT_MEM("mov %r2, 0xff\nlock xor32 [%r1+0], %r2\nldxw %r0, [%r1+0]\nexit", mem, 0x0f);
	EXPECT_MEM("mov %r2, 1\nlock fetch add [%r1+0], %r2\nmov %r0, %r2\nexit", mem, 0xf0);
	EXPECT_MEM("mov %r2, -1\nlock fetch add32 [%r1+0], %r2\nmov %r0, %r2\nexit", mem, 0xf0);
	/* fetch or/and/xor: a cmpxchg loop around rax = r0. */
	EXPECT_MEM("mov %r0, 77\nmov %r2, 0x0f\nlock fetch or [%r1+0], %r2\n"
	           "ldxdw %r3, [%r1+0]\nadd %r0, %r2\nadd %r0, %r3\nexit",
	           mem, 77 + 0xf0 + 0xff);
	EXPECT_MEM("mov %r0, 0x0f\nlock fetch or [%r1+0], %r0\nldxdw %r3, [%r1+0]\n"
	           "add %r0, %r3\nexit",
	           mem, 0xf0 + 0xff);
	EXPECT_MEM("mov %r0, %r1\nmov %r2, 0x30\nlock fetch and32 [%r0+0], %r2\n"
	           "ldxw %r3, [%r1+0]\nmov %r0, %r2\nlsh %r0, 8\nor %r0, %r3\nexit",
	           mem, 0xf030);
	EXPECT_MEM("mov %r0, 1\nmov %r2, -1\nlock fetch xor32 [%r1+4], %r2\nadd %r0, %r2\n"
	           "exit",
	           mem, 1);
	EXPECT_MEM("mov %r2, 0x42\nlock xchg [%r1+0], %r2\nldxdw %r0, [%r1+0]\nadd %r0, %r2\n"
	           "exit",
	           mem, 0x42 + 0xf0);
	EXPECT_MEM("mov %r2, 0x42\nlock xchg32 [%r1+0], %r2\nmov %r0, %r2\nexit", mem, 0xf0);
	/* cmpxchg: success stores src; r0 gets the old value either way. */
	EXPECT_MEM("mov %r0, 0xf0\nmov %r2, 0x11\nlock cmpxchg [%r1+0], %r2\nldxdw %r3, [%r1+0]\n"
	           "lsh %r0, 8\nor %r0, %r3\nexit",
	           mem, 0xf011);
	EXPECT_MEM("mov %r0, 0x99\nmov %r2, 0x11\nlock cmpxchg [%r1+0], %r2\nldxdw %r3, [%r1+0]\n"
	           "lsh %r0, 8\nor %r0, %r3\nexit",
	           mem, 0xf0f0);
	/* 32-bit success must still zero-extend r0. */
	EXPECT_MEM("lddw %r0, 0xffffffff000000f0\nmov %r2, 1\nlock cmpxchg32 [%r1+0], %r2\nexit",
	           mem, 0xf0);
	EXPECT("stdw [%r10-8], 5\nmov %r1, 2\nlock fetch add [%r10-8], %r1\nldxdw %r0, [%r10-8]\n"
	       "add %r0, %r1\nexit",
	       12);
}

static void lddw_and_globals(void)
{
	/* Built as a plain lddw, then turned into the loader's pseudo form
	 * (r1 = &globals[0] + 8) once the region exists. */
	static const struct bpf_insn insns[] = {
	    {.code = BPF_LD | BPF_IMM | BPF_DW, .dst = 1, .imm = 0},
	    {.code = 0, .imm = 8},
	    {.code = BPF_LDX | BPF_MEM | BPF_DW, .dst = 0, .src = 1, .off = 0},
	    {.code = BPF_ST | BPF_MEM | BPF_W, .dst = 1, .off = -8, .imm = 0x1234},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	struct rt_prog *p = build_insns(insns, 5);
	struct outcome o;
	uint64_t v = 0x1122334455667788ull;

	CHECK(p != NULL);
	if (!p)
		return;
	p->globals[0].data = rt_alloc(16);
	p->globals[0].size = 16;
	p->globals[0].kind = RT_GLOBAL_DATA;
	memcpy(p->globals[0].name, ".data", 6);
	p->nglobals = 1;
	memcpy(p->globals[0].data + 8, &v, 8);
	p->insns[0].src = BPF_PSEUDO_GLOBAL;
	p->insns[1].imm = 8;
	CHECK(run_both_args(p, 0, NULL, 0, NULL, FUEL, &o));
	CHECK_EQ(o.run.r0, v);
	CHECK_EQ(p->globals[0].data[0], 0x34); /* written twice: interp, then JIT */
	rt_prog_free(p);

	EXPECT("lddw %r0, 0x8000000000000000\nexit", 0x8000000000000000ull);
	EXPECT("lddw %r0, 0xffffffff\nexit", 0xffffffffull);
	EXPECT("lddw %r0, 0xffffffff80000000\nexit", 0xffffffff80000000ull);
	EXPECT("lddw %r0, 0\nexit", 0);
}

static void local_calls(void)
{
	/* r6-r9 survive a call; the callee gets its own stack frame. */
	EXPECT("mov %r6, 1\nmov %r7, 2\nmov %r8, 3\nmov %r9, 4\nstdw [%r10-8], 100\n"
	       "mov %r1, 10\ncall local f\nadd %r0, %r6\nadd %r0, %r7\nadd %r0, %r8\n"
	       "add %r0, %r9\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit\n"
	       "f:\nmov %r6, 50\nmov %r7, 50\nmov %r8, 50\nmov %r9, 50\nstdw [%r10-8], 7\n"
	       "ldxdw %r0, [%r10-8]\nadd %r0, %r1\nexit",
	       10 + 7 + 10 + 100);
	/* Nested calls, a caller's stack pointer passed down. */
	EXPECT("stdw [%r10-16], 3\nmov %r1, %r10\nadd %r1, -16\ncall local a\nexit\n"
	       "a:\nmov %r6, %r1\ncall local b\nldxdw %r1, [%r6+0]\nadd %r0, %r1\nexit\n"
	       "b:\nldxdw %r0, [%r1+0]\nmul %r0, 10\nstdw [%r1+0], 4\nexit",
	       34);
	/* Recursion-free depth 7 chain, arguments in all five registers. */
	EXPECT("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall local f1\nexit\n"
	       "f1:\ncall local f2\nadd %r0, 1\nexit\n"
	       "f2:\ncall local f3\nadd %r0, 1\nexit\n"
	       "f3:\ncall local f4\nadd %r0, 1\nexit\n"
	       "f4:\ncall local f5\nadd %r0, 1\nexit\n"
	       "f5:\nmov %r0, %r1\nadd %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\nadd %r0, %r5\nexit",
	       19);
}

static void imports(void)
{
	EXPECT("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\nmov %r6, 9\n"
	       "call 1\nadd %r0, %r6\nexit",
	       1 + 4 + 9 + 16 + 25 + 9);
	/* An abortable import that does not abort returns normally. */
	EXPECT("mov %r1, 1\nmov %r2, 2\nmov %r3, 4\nmov %r4, 8\nmov %r5, 16\ncall 6\nexit", 31);
	EXPECT("mov %r1, -77\ncall 7\nmov %r6, %r0\nmov %r1, 1\ncall 1\nadd %r0, %r6\nexit", 78);
	/* Unwind with a non-zero argument continues; with 0 it ends the run. */
	EXPECT("mov %r1, 42\ncall 5\nadd %r0, 1\nexit", 43);
	expect_full("mov %r1, 0\ncall 5\nmov %r0, 99\nexit", NULL, 0, NULL, FUEL, 0, RT_RUN_HELPER,
	            __LINE__);
	/* ... also from deep inside nested local calls, with r6-r9 in use. */
	expect_full("mov %r6, 1\nmov %r7, 2\ncall local a\nmov %r0, 99\nexit\n"
	            "a:\nmov %r8, 3\ncall local b\nexit\n"
	            "b:\nmov %r9, 4\nmov %r1, 0\ncall 5\nmov %r0, 98\nexit",
	            NULL, 0, NULL, FUEL, 0, RT_RUN_HELPER, __LINE__);
}

/* An import registered as a single read: with r2 a constant below n, set
 * in the same straight-line code, the JIT reads the field (no call, so the
 * result lacks the call's +1000); otherwise, or past n, it calls.  The
 * interpreter always calls. */
static void inline_imports(void)
{
	static const struct {
		const char *text;
		uint64_t jit_r0; /* the interpreter's is the field + 1000 */
		bool called;
	} c[] = {
	    {"mov %r2, 2\ncall 9\nexit", 30, false},
	    {"mov %r2, 0\nmov %r6, 5\ncall 9\nexit", 10, false},
	    {"mov32 %r2, 3\ncall 9\nexit", 40, false},
	    {"mov %r2, 5\ncall 9\nexit", 1060, true},   /* past n: the call */
	    {"mov %r2, %r3\ncall 9\nexit", 1020, true}, /* not a constant (r3 = 1) */
	    /* A jump lands between the mov and the call: r2 is not known. */
	    {"mov %r2, 1\njeq %r1, 0, l\nl:\ncall 9\nexit", 1020, true},
	    /* r2 changed after the constant. */
	    {"mov %r2, 1\nadd %r2, 1\ncall 9\nexit", 1030, true},
	};
	uint64_t mem[8] = {10, 20, 30, 40, 50, 60, 70, 80};

	CHECK_EQ(rt_inline_register(&inl_field), 0);
	CHECK_EQ(rt_inline_register(&inl_field), 0); /* once is enough */
	CHECK(rt_inline_find(&sig_field) == &inl_field);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct rt_prog *p = build(c[i].text);
		struct run_spec rs;
		struct outcome oi, oj;

		CHECK(p != NULL);
		if (!p)
			continue;
		memset(&rs, 0, sizeof(rs));
		rs.mem = mem;
		rs.memlen = sizeof(mem);
		rs.mem_args = 1;
		rs.args[2] = 1;
		rs.fuel = FUEL;
		CHECK(run_engine(p, 0, &rs, false, NULL, &oi));
		CHECK(run_engine(p, 0, &rs, true, NULL, &oj));
		CHECK_EQ(oj.run.r0, c[i].jit_r0);
		CHECK_EQ(oi.run.r0, (c[i].jit_r0 % 1000) + 1000);
		CHECK_EQ(oi.helper_calls, 1);
		CHECK_EQ(oj.helper_calls, c[i].called ? 1 : 0);
		CHECK_EQ(oi.run.fuel, oj.run.fuel); /* charged as for the call */
		rt_prog_free(p);
	}
}

/* The peepholes and fuel pads: every shape next to what would break them. */
static void peepholes(void)
{
	uint8_t mem[16];
	int k;

	for (k = 0; k < 16; k++)
		mem[k] = (uint8_t)(k + 1);
	/* Indexed loads, with bases and indexes in awkward registers: r10 =
	 * rbp and r7 = r13 need a displacement byte in a SIB encoding. */
	EXPECT_MEM("mov %r2, 3\nmov %r3, %r1\nadd %r3, %r2\nldxb %r3, [%r3+1]\nmov %r0, %r3\nexit",
	           mem, 5);
	EXPECT_MEM("mov %r7, %r1\nmov %r8, 4\nmov %r6, %r7\nadd %r6, %r8\nldxw %r6, [%r6+0]\n"
	           "mov %r0, %r6\nexit",
	           mem, 0x08070605);
	EXPECT_MEM("mov %r6, 2\nmov %r9, %r1\nadd %r9, %r6\nldxh %r9, [%r9+0]\nmov %r0, %r9\nexit",
	           mem, 0x0403);
	EXPECT("stdw [%r10-16], 42\nmov %r2, -16\nmov %r3, %r10\nadd %r3, %r2\n"
	       "ldxdw %r3, [%r3+0]\nmov %r0, %r3\nexit",
	       42);
	EXPECT("stdw [%r10-16], 43\nmov %r2, %r10\nmov %r3, -8\nmov %r4, %r3\nadd %r4, %r2\n"
	       "ldxdw %r4, [%r4-8]\nmov %r0, %r4\nexit",
	       43);
	/* Not fusable: a jump lands on the add. */
	EXPECT_MEM(
	    "mov %r2, 1\nmov %r3, %r1\nja +1\nmov %r3, %r1\nadd %r3, %r2\nldxb %r3, [%r3+0]\n"
	    "mov %r0, %r3\nexit",
	    mem, 2);
	/* Not fusable: the load's destination differs (r3 stays live). */
	EXPECT_MEM("mov %r2, 1\nmov %r3, %r1\nadd %r3, %r2\nldxb %r4, [%r3+0]\nsub %r3, %r1\n"
	           "mov %r0, %r3\nadd %r0, %r4\nexit",
	           mem, 3);
	/* mov + add/sub immediate as lea: 64, 32, mixed, INT_MIN, r10. */
	EXPECT("mov %r1, -1\nmov %r0, %r1\nadd %r0, 2\nexit", 1);
	EXPECT("mov %r1, -1\nmov %r0, %r1\nadd32 %r0, 2\nexit", 1);
	EXPECT("mov %r1, -1\nmov32 %r0, %r1\nadd32 %r0, 2\nexit", 1);
	EXPECT("mov %r1, -1\nmov32 %r0, %r1\nadd %r0, 2\nexit", 0x100000001ull); /* not fused */
	EXPECT("mov %r1, 5\nmov %r0, %r1\nsub %r0, 7\nexit", (uint64_t)-2);
	EXPECT("mov %r1, 5\nmov %r0, %r1\nsub32 %r0, 7\nexit", 0xfffffffeull);
	EXPECT("mov %r1, 0\nmov %r0, %r1\nsub %r0, -2147483648\nexit", 0x80000000ull);
	EXPECT("mov %r1, 0\nmov %r0, %r1\nsub32 %r0, -2147483648\nexit", 0x80000000ull);
	EXPECT("stdw [%r10-8], 77\nmov %r2, %r10\nadd %r2, -8\nldxdw %r0, [%r2+0]\nexit", 77);
	EXPECT("mov %r7, 40\nmov %r9, %r7\nadd %r9, 2\nmov %r0, %r9\nexit", 42);
	EXPECT("mov %r7, 40\nmov %r2, 2\nmov %r9, %r7\nadd %r9, %r2\nmov %r0, %r9\nexit", 42);
	EXPECT("mov %r1, -1\nmov %r2, 3\nmov %r0, %r1\nadd32 %r0, %r2\nexit", 2);
	EXPECT("mov %r1, -1\nmov %r2, 3\nmov32 %r0, %r1\nadd %r0, %r2\nexit", 0x100000002ull);
	EXPECT("mov %r7, 1\nmov %r0, %r10\nadd %r0, %r7\nsub %r0, %r10\nexit", 1);
	EXPECT("mov %r8, 5\nmov %r0, %r8\nadd %r0, %r8\nexit", 10);
	/* The latch idiom, with ja and ja32, and a forward one. */
	EXPECT("mov %r0, 0\nl:\nadd %r0, 1\njeq %r0, 10, +1\nja l\nexit", 10);
	EXPECT("mov %r0, 0\nl:\nadd %r0, 1\njeq %r0, 10, +1\nja32 l\nexit", 10);
	EXPECT("mov %r0, 0\njeq %r0, 1, +1\nja +1\nmov %r0, 5\nadd %r0, 1\nexit", 1);
	/* ... not fused when something else jumps to the ja. */
	EXPECT("mov %r0, 0\nja j\nl:\nadd %r0, 1\njeq %r0, 10, +1\nj:\nja l\nexit", 10);
	/* A loop head reached by a forward jump and by fall-through: only the
	 * back-edge pays. */
	expect_full("mov %r0, 0\nja h\nmov %r0, 100\nh:\nadd %r0, 1\njlt %r0, 5, h\nexit", NULL, 0,
	            NULL, 4, 5, RT_RUN_OK, __LINE__);
	expect_full("mov %r0, 0\nja h\nmov %r0, 100\nh:\nadd %r0, 1\njlt %r0, 5, h\nexit", NULL, 0,
	            NULL, 3, 0, RT_RUN_FUEL, __LINE__);
	/* A loop at the very start of a function, and one in a callee. */
	expect_full("h:\nadd %r1, 1\njlt %r1, 5, h\nmov %r0, %r1\nexit", NULL, 0, NULL, 5, 5,
	            RT_RUN_OK, __LINE__);
	expect_full("mov %r1, 0\ncall local f\nexit\nf:\nadd %r1, 1\njlt %r1, 5, f\n"
	            "mov %r0, %r1\nexit",
	            NULL, 0, NULL, 5, 5, RT_RUN_OK, __LINE__);
	expect_full("mov %r1, 0\ncall local f\nexit\nf:\nadd %r1, 1\njlt %r1, 5, f\n"
	            "mov %r0, %r1\nexit",
	            NULL, 0, NULL, 4, 0, RT_RUN_FUEL, __LINE__);
}

static void fuel(void)
{
	const char *loop = "mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 100, loop\nexit";

	/* 99 back-edges taken: a budget of 99 is enough, 98 is not. */
	expect_full(loop, NULL, 0, NULL, 99, 100, RT_RUN_OK, __LINE__);
	expect_full(loop, NULL, 0, NULL, 98, 0, RT_RUN_FUEL, __LINE__);
	expect_full(loop, NULL, 0, NULL, 0, 0, RT_RUN_FUEL, __LINE__);
	expect_full(loop, NULL, 0, NULL, RT_FUEL_UNLIMITED, 100, RT_RUN_OK, __LINE__);
	/* An infinite loop ends. */
	expect_full("mov %r0, 1\nja -1\nexit", NULL, 0, NULL, 1000, 0, RT_RUN_FUEL, __LINE__);
	expect_full("mov %r0, 1\nl:\nja32 l\nexit", NULL, 0, NULL, 1000, 0, RT_RUN_FUEL, __LINE__);
	/* Calls cost fuel: 1 import + 2 local. */
	expect_full("mov %r1, 1\ncall 1\ncall local f\nexit\nf:\ncall local g\nexit\n"
	            "g:\nmov %r0, 5\nexit",
	            NULL, 0, NULL, 3, 5, RT_RUN_OK, __LINE__);
	expect_full("mov %r1, 1\ncall 1\ncall local f\nexit\nf:\ncall local g\nexit\n"
	            "g:\nmov %r0, 5\nexit",
	            NULL, 0, NULL, 2, 0, RT_RUN_FUEL, __LINE__);
	/* Running out inside a nested loop, with callee-saved registers live
	 * in every frame: the unwind must restore the C caller's state. */
	expect_full(
	    "mov %r6, 1\ncall local a\nexit\n"
	    "a:\nmov %r7, 2\ncall local b\nexit\n"
	    "b:\nmov %r8, 0\nl:\nadd %r8, 1\nmov %r9, %r8\njne %r8, 0, l\nmov %r0, %r9\nexit",
	    NULL, 0, NULL, 500, 0, RT_RUN_FUEL, __LINE__);
	/* A loop with a forward exit and a JMP32 back-edge. */
	expect_full("mov %r0, 0\nmov %r1, 10\nl:\njeq %r1, 0, out\nadd %r0, %r1\nsub %r1, 1\n"
	            "jne32 %r1, -1, l\nout:\nexit",
	            NULL, 0, NULL, 10, 55, RT_RUN_OK, __LINE__);
}

/* Every budget from 0 to `max` on both engines, with r1 = mem (len bytes)
 * or the arguments args: r0, status, fuel left, helper calls and (for
 * aborts) the pc must agree. */
static void sweep_budgets_with(const char *text, const void *mem, size_t len, const uint64_t *args,
                               uint64_t max, int line)
{
	struct rt_prog *p = build(text);
	uint64_t fuel;

	if (!p) {
		printf("  (program at line %d did not build)\n", line);
		CHECK(p != NULL);
		return;
	}
	for (fuel = 0; fuel <= max; fuel++)
		if (!run_both_args(p, 0, mem, len, args, fuel, NULL)) {
			printf("  (program at line %d, budget %llu)\n", line,
			       (unsigned long long)fuel);
			CHECK(!"interpreter and JIT disagree");
			break;
		}
	rt_prog_free(p);
}

static void sweep_budgets(const char *text, const uint64_t *args, uint64_t max, int line)
{
	sweep_budgets_with(text, NULL, 0, args, max, line);
}

/* Straight-line import calls are charged once per run (jit_find_runs);
 * a budget too small for the run takes the checked copy, which must stop
 * at the same call as the interpreter, after the same side effects. */
static void batched_runs(void)
{
	static const uint64_t one[5] = {1, 0, 0, 0, 0};

	sweep_budgets("mov %r1, 1\ncall 1\nmov %r1, %r0\ncall 1\nmov %r1, %r0\ncall 1\n"
	              "mov %r1, %r0\ncall 1\nmov %r0, %r1\nexit",
	              NULL, 6, __LINE__);
	/* A label inside splits the run; an abortable call ends one. */
	sweep_budgets("mov %r1, 1\ncall 1\ncall 1\njeq %r0, 0, +1\nl:\ncall 1\ncall 1\n"
	              "call 6\ncall 1\ncall 1\nexit",
	              NULL, 9, __LINE__);
	/* A run at a loop head (a back-edge target), with r6 live. */
	sweep_budgets("mov %r6, 0\nl:\nmov %r1, %r6\ncall 1\ncall 1\nadd %r6, 1\n"
	              "jlt %r6, 3, l\nmov %r0, %r6\nexit",
	              NULL, 10, __LINE__);
	/* In a nested function, below a local call. */
	sweep_budgets("mov %r6, 5\ncall local f\nadd %r0, %r6\nexit\n"
	              "f:\nmov %r1, 2\ncall 1\nmov %r7, %r0\ncall 1\ncall 1\nadd %r0, %r7\nexit",
	              one, 6, __LINE__);
	/* The llabs import (often call rel32) in a run with sum5. */
	sweep_budgets("mov %r1, -3\ncall 7\nmov %r1, %r0\ncall 1\ncall 7\nexit", NULL, 4, __LINE__);
}

/* run->pc of an abort: the jump whose back-edge ran out, also when two
 * back-edges share a target (the second gets its own pad), the call that
 * ran out or whose import aborted, at any depth. */
static void abort_pc(void)
{
	struct rt_prog *p;
	struct outcome o;

	sweep_budgets("mov %r0, 0\nl:\nadd %r0, 1\njgt %r0, 5, +1\nja l\njlt %r0, 9, l\nexit", NULL,
	              12, __LINE__);
	sweep_budgets("mov %r0, 0\nl:\nadd %r0, 1\njeq %r0, 2, l\njeq %r0, 4, l\n"
	              "jlt %r0, 7, l\nexit",
	              NULL, 8, __LINE__);
	sweep_budgets("call local f\nexit\nf:\nmov %r6, 0\nl:\nadd %r6, 1\njne %r6, 4, l\n"
	              "mov %r1, 0\ncall 5\nexit",
	              NULL, 6, __LINE__);
	p = build("mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 100, l\nexit");
	CHECK(p != NULL);
	if (p && run_both_args(p, 0, NULL, 0, NULL, 10, &o)) {
		CHECK_EQ(o.run.status, RT_RUN_FUEL);
		CHECK_EQ(o.run.pc, 2);
	}
	rt_prog_free(p);
	p = build("mov %r1, 3\ncall 5\nmov %r1, 0\ncall 5\nexit");
	CHECK(p != NULL);
	if (p && run_both_args(p, 0, NULL, 0, NULL, 10, &o)) {
		CHECK_EQ(o.run.status, RT_RUN_HELPER);
		CHECK_EQ(o.run.pc, 3);
	}
	rt_prog_free(p);
}

/* The status register on a normal exit: `xor edx, edx` is left out only
 * where rdx (r3) is known to be 0, never across a join. */
static void status_register(void)
{
	static const uint64_t one[5] = {1, 0, 0, 0, 0};

	EXPECT("mov %r3, 0\nmov %r0, 5\nexit", 5);
	EXPECT("mov %r3, 0\nmov %r3, 7\nmov %r0, 5\nexit", 5);
	EXPECT("mov32 %r3, 0\nadd %r3, 9\nmov %r0, %r3\nexit", 9);
	EXPECT("mov %r1, 1\ncall 6\nexit", 1);
	EXPECT("mov %r1, 1\ncall 6\nmov %r3, 4\nexit", 1);
	EXPECT("mov %r1, 1\ncall 6\nmov %r0, 1\nlddw %r3, 0x100000000\nexit", 1);
	expect_full("mov %r3, 0\njeq %r1, 0, +1\nmov %r3, 5\nmov %r0, 2\nexit", NULL, 0, one, FUEL,
	            2, RT_RUN_OK, __LINE__);
	expect_full("mov %r0, 0\nmov %r3, 0\njeq %r1, 0, +2\nmov %r3, 5\nja +0\nexit", NULL, 0, one,
	            FUEL, 0, RT_RUN_OK, __LINE__);
}

/* Loop heads aligned to 32 bytes, with the filler in front of them moving
 * as the import calls before shrink to call rel32: a forward jump across
 * the filler may then need its long form, and a block sized before the
 * shrink may be too small (rt_jit_compile starts over without alignment).
 * Slide the code across every offset and compare with the interpreter. */
static void aligned_loops(void)
{
	char text[4096];
	int n, len, k;

	for (n = 0; n < 48; n++) {
		len = snprintf(text, sizeof(text),
		               "mov %%r6, %%r1\nmov %%r1, 1\ncall 1\ncall 1\ncall 1\ncall 1\n");
		for (k = 0; k < n; k++)
			len += snprintf(text + len, sizeof(text) - (size_t)len, "add %%r6, 1\n");
		len += snprintf(text + len, sizeof(text) - (size_t)len, "jeq %%r6, 12345, out\n");
		for (k = 0; k < 30; k++)
			len += snprintf(text + len, sizeof(text) - (size_t)len, "add %%r6, 3\n");
		snprintf(text + len, sizeof(text) - (size_t)len,
		         "mov %%r0, 0\nl:\nadd %%r0, 1\njlt %%r0, 4, l\nadd %%r0, %%r6\n"
		         "out:\nexit\n");
		sweep_budgets(text, NULL, 6, __LINE__);
	}
}

/* rt_jit_plain: a plain entry is also a C function; the full entry still
 * returns status 0 whatever the caller left in rdx (r3). */
static void plain_entry(void)
{
	struct rt_prog *p = build("mov %r0, %r1\nadd %r0, %r2\nexit\n");
	struct rt_prog *q = build("mov %r0, %r3\nadd %r0, %r2\nexit\n");
	struct rt_prog *m = build("mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 3, l\nexit\n");
	struct rt_jit *jp = NULL, *jq = NULL, *jm = NULL;
	char err[256] = "";

	CHECK(p && q && m);
	if (!p || !q || !m || rt_jit_compile(p, &jp, err, sizeof(err)) ||
	    rt_jit_compile(q, &jq, err, sizeof(err)) || rt_jit_compile(m, &jm, err, sizeof(err))) {
		printf("  %s\n", err);
		CHECK(!"did not compile");
	} else {
		uint64_t (*f2)(uint64_t, uint64_t) =
		    (uint64_t(*)(uint64_t, uint64_t))(uintptr_t)rt_jit_plain(jp, 0);
		struct rt_jit_ret r;

		CHECK(f2 != NULL);
		if (f2)
			CHECK_EQ(f2(40, 2), 42);
		r = rt_jit_entry(jp, 0)(40, 2, 77, 0, 0, 5);
		CHECK_EQ(r.r0, 42);
		CHECK_EQ(r.status, RT_RUN_OK);
		/* r3 named: the xor stays at the exit. */
		CHECK(rt_jit_plain(jq, 0) != NULL);
		r = rt_jit_entry(jq, 0)(0, 2, 77, 0, 0, 5);
		CHECK_EQ(r.r0, 79);
		CHECK_EQ(r.status, RT_RUN_OK);
		CHECK(rt_jit_plain(jm, 0) == NULL); /* metered: no C face */
		CHECK(rt_jit_plain(jp, 1) == NULL);
	}
	rt_jit_free(jp);
	rt_jit_free(jq);
	rt_jit_free(jm);
	rt_prog_free(p);
	rt_prog_free(q);
	rt_prog_free(m);
}

/* Calls fn with rbp = 0, as a caller built without frame pointers may. */
uint64_t jit_test_call_rbp0(void *fn);
__asm__(".text\n"
        ".globl jit_test_call_rbp0\n"
        "jit_test_call_rbp0:\n"
        "  push %rbp\n  xor %ebp, %ebp\n  mov %rdi, %rax\n  mov $100, %r9\n"
        "  call *%rax\n"
        "  pop %rbp\n  ret\n");

/* Regression: a function whose only use of r10 was a compare (`jne r10,
 * 0`) got no frame, so r10 was whatever rbp its caller had (0 without
 * frame pointers) and the stack pointer compared equal to null. */
static void jmp_on_r10_without_stack_gets_a_frame(void)
{
	struct rt_prog *p = build("mov %r0, 1\njne %r10, 0, +1\nmov %r0, 2\nexit\n");
	struct rt_jit *j = NULL;
	char err[256] = "";

	CHECK(p != NULL);
	if (p && rt_jit_compile(p, &j, err, sizeof(err)) == 0)
		CHECK_EQ(jit_test_call_rbp0((void *)rt_jit_entry(j, 0)), 1);
	else
		printf("  %s\n", err);
	rt_jit_free(j);
	rt_prog_free(p);
}

/* The callee of a shared-budget call: loops r1 times (r1 back-edges). */
static const char shared_callee[] = "mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, %r1, l\nexit";

/* RT_SIG_FUEL: the caller's budget goes to the callee in r9 and what is
 * left comes back; a callee that runs out aborts its caller. */
static void shared_budget(void)
{
	struct rt_prog *callee = build(shared_callee), *caller;
	struct rt_jit *jc = NULL, *j = NULL;
	uint64_t args[5] = {0};
	struct rt_run run = {0};
	char err[256] = "";

	CHECK(callee != NULL);
	if (!callee || rt_jit_compile(callee, &jc, err, sizeof(err))) {
		printf("  %s\n", err);
		CHECK(!"callee did not compile");
		rt_prog_free(callee);
		return;
	}
	sig_shared.fn = (void *)rt_jit_entry(jc, 0);
	/* 1 (call) + 3 (callee) + 1 (call) + 4 (callee) = 9 units. */
	caller = build("mov %r1, 4\ncall 8\nmov %r6, %r0\nmov %r1, 5\ncall 8\nadd %r0, %r6\nexit");
	CHECK(caller != NULL);
	if (caller && rt_jit_compile(caller, &j, err, sizeof(err)) == 0) {
		memset(&run, 0, sizeof(run));
		run.fuel = 100;
		CHECK_EQ(rt_jit_run(j, 0, args, &run), 0);
		CHECK_EQ(run.status, RT_RUN_OK);
		CHECK_EQ(run.r0, 9);
		CHECK_EQ(run.fuel, 100 - 9);
		memset(&run, 0, sizeof(run));
		run.fuel = 9;
		CHECK_EQ(rt_jit_run(j, 0, args, &run), 0);
		CHECK_EQ(run.status, RT_RUN_OK);
		CHECK_EQ(run.fuel, 0);
		/* 8 units: the second callee runs out; its caller stops at the
		 * call (insn 4) with the helper status and nothing left. */
		memset(&run, 0, sizeof(run));
		run.fuel = 8;
		CHECK_EQ(rt_jit_run(j, 0, args, &run), 0);
		CHECK_EQ(run.status, RT_RUN_HELPER);
		CHECK_EQ(run.r0, 0);
		CHECK_EQ(run.fuel, 0);
		CHECK_EQ(run.pc, 4);
	} else {
		printf("  %s\n", err);
		CHECK(!"caller did not compile");
	}
	rt_jit_free(j);
	rt_prog_free(caller);
	rt_jit_free(jc);
	rt_prog_free(callee);
	sig_shared.fn = NULL;
}

/* The entry point keeps the SysV callee-saved registers, including after
 * an abort from a nested frame.  The trampoline loads known values into
 * rbx, rbp, r12-r15, calls fn(r1, 0, 0, 0, 0, fuel) (r1: the context an
 * unmetered entry reads; fuel: a metered entry's r9), and returns a bit
 * mask of the registers that changed. */
uint64_t jit_test_call_checked(void *fn, uint64_t r1, uint64_t fuel);
__asm__(".text\n"
        ".globl jit_test_call_checked\n"
        "jit_test_call_checked:\n"
        "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  sub $8, %rsp\n"
        "  mov %rdi, %rax\n  mov %rsi, %rdi\n  mov %rdx, %r9\n"
        "  mov $0x1111, %rbx\n  mov $0x2222, %rbp\n  mov $0x3333, %r12\n"
        "  mov $0x4444, %r13\n  mov $0x5555, %r14\n  mov $0x6666, %r15\n"
        "  xor %esi, %esi\n  xor %edx, %edx\n  xor %ecx, %ecx\n  xor %r8d, %r8d\n"
        "  call *%rax\n"
        "  xor %eax, %eax\n"
        "  cmp $0x1111, %rbx\n  setne %al\n"
        "  cmp $0x2222, %rbp\n  setne %cl\n  shl $1, %cl\n  or %cl, %al\n"
        "  cmp $0x3333, %r12\n  setne %cl\n  shl $2, %cl\n  or %cl, %al\n"
        "  cmp $0x4444, %r13\n  setne %cl\n  shl $3, %cl\n  or %cl, %al\n"
        "  cmp $0x5555, %r14\n  setne %cl\n  shl $4, %cl\n  or %cl, %al\n"
        "  cmp $0x6666, %r15\n  setne %cl\n  shl $5, %cl\n  or %cl, %al\n"
        "  add $8, %rsp\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
        "  ret\n");

static void callee_saved(void)
{
	static const char *progs[] = {
	    /* unmetered, writes every callee-saved eBPF register */
	    "mov %r6, 1\nmov %r7, 2\nmov %r8, 3\nmov %r9, 4\nstdw [%r10-8], 1\nmov %r0, 0\nexit",
	    /* metered, completes */
	    "mov %r6, 1\ncall local f\nexit\nf:\nmov %r9, 4\nmov %r0, 0\nexit",
	    /* metered, aborted by fuel in a nested frame */
	    "mov %r6, 1\ncall local f\nexit\nf:\nmov %r9, 4\nl:\nmov %r7, 1\nja l\nexit",
	    /* metered, aborted by an import */
	    "mov %r8, 1\ncall local f\nexit\nf:\nmov %r6, 4\nmov %r1, 0\ncall 5\nexit",
	};
	unsigned k;

	for (k = 0; k < sizeof(progs) / sizeof(progs[0]); k++) {
		struct rt_prog *p = build(progs[k]);
		struct rt_jit *j = NULL;
		char err[256];

		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_EQ(rt_jit_compile(p, &j, err, sizeof(err)), 0);
		if (j)
			CHECK_EQ(jit_test_call_checked((void *)rt_jit_entry(j, 0), 0, 100), 0);
		rt_jit_free(j);
		rt_prog_free(p);
	}
}

/* ---- free imports and unmetered entries ----------------------------- */

static const uint64_t words[8] = {10, 20, 30, 40, 50, 60, 70, 80};

/* Every budget from 0 to max on both engines, with r1 = words. */
static void sweep_budgets_mem(const char *text, uint64_t max, int line)
{
	sweep_budgets_with(text, words, sizeof(words), NULL, max, line);
}

/* A single-read import (rt_import_free) costs no fuel on either engine,
 * in line or called, alone, in a loop or between batched calls. */
static void free_imports_cost_nothing(void)
{
	CHECK_EQ(rt_inline_register(&inl_word), 0);
	CHECK(rt_import_free(&sig_word));
	CHECK(!rt_import_free(&sig_sum5));   /* no in-line form */
	CHECK(!rt_import_free(&sig_unwind)); /* abortable */
	CHECK(!rt_import_free(NULL));
	/* In line: a budget of 0 is enough. */
	expect_full("mov %r2, 3\ncall 10\nexit", words, sizeof(words), NULL, 0, 40, RT_RUN_OK,
	            __LINE__);
	/* Called (r2 not a constant the JIT sees): still free. */
	expect_full("mov %r3, 5\nmov %r2, %r3\ncall 10\nexit", words, sizeof(words), NULL, 0, 60,
	            RT_RUN_OK, __LINE__);
	/* Between charged calls (a batched run): only llabs counts. */
	sweep_budgets_mem("mov %r6, %r1\nmov %r2, 1\ncall 10\nmov %r1, %r0\ncall 7\n"
	                  "mov %r1, %r6\nmov %r2, 4\ncall 10\nmov %r1, %r0\ncall 7\n"
	                  "mov %r1, %r6\nmov %r7, 6\nmov %r2, %r7\ncall 10\nmov %r1, %r0\n"
	                  "call 7\nexit",
	                  4, __LINE__);
	/* In a loop (the back-edges alone are charged), in line and called. */
	sweep_budgets_mem("mov %r6, %r1\nmov %r7, 0\nmov %r8, 0\nl:\nmov %r1, %r6\n"
	                  "mov %r2, 2\ncall 10\nadd %r7, %r0\nmov %r1, %r6\nmov %r2, %r8\n"
	                  "call 10\nadd %r7, %r0\nadd %r8, 1\njlt %r8, 3, l\nmov %r0, %r7\n"
	                  "exit",
	                  4, __LINE__);
}

/* A guard that calls only an in-line accessor (MachineTrap.Number's
 * shape: user/ext/xas.c's is_xas) is plain: no fuel, no status, a C
 * function of its context. */
static void guard_with_inline_accessor_is_plain(void)
{
	static const char guard[] = "mov %r2, 0\ncall 10\nadd %r0, -20\nmov %r1, %r0\n"
	                            "mov %r0, 1\njlt %r1, 3, +1\nmov %r0, 0\nexit";
	/* The accessor called instead (r2 not a known constant): free, but a
	 * call, so metered (a C callee may change r9); its unmetered entry
	 * has nothing to charge, and its status is zeroed after the call
	 * clobbered rdx. */
	static const char called[] = "mov %r2, %r1\nsub %r2, %r1\nadd %r2, 2\ncall 10\nexit";
	struct rt_prog *p = build(guard), *q = build(called);
	struct rt_jit *j = NULL, *jq = NULL;
	char err[256] = "";

	CHECK_EQ(rt_inline_register(&inl_word), 0);
	CHECK(p && q);
	if (!p || !q || rt_jit_compile(p, &j, err, sizeof(err)) ||
	    rt_jit_compile(q, &jq, err, sizeof(err))) {
		printf("  %s\n", err);
		CHECK(!"did not compile");
	} else {
		uint64_t (*g)(uint64_t) = (uint64_t(*)(uint64_t))(uintptr_t)rt_jit_plain(j, 0);
		uint64_t mem[8], worst = 99, nr;
		struct rt_jit_ret r;

		CHECK(g != NULL);
		CHECK(rt_jit_unmetered(j, 0, &worst) == rt_jit_plain(j, 0));
		CHECK_EQ(worst, 0);
		memcpy(mem, words, sizeof(mem));
		for (nr = 15; g && nr < 26; nr++) {
			mem[0] = nr;
			CHECK_EQ(g((uintptr_t)mem), nr - 20 < 3);
			CHECK(run_both_args(p, 0, mem, sizeof(mem), NULL, 0, NULL));
		}
		CHECK(rt_jit_plain(jq, 0) == NULL);
		r = rt_jit_entry(jq, 0)((uintptr_t)words, 0, 77, 0, 0, 0);
		CHECK_EQ(r.r0, 30);
		CHECK_EQ(r.status, RT_RUN_OK);
		worst = 99;
		CHECK(rt_jit_unmetered(jq, 0, &worst) != NULL);
		CHECK_EQ(worst, 0);
		if (rt_jit_unmetered(jq, 0, NULL))
			CHECK_EQ(rt_jit_unmetered(jq, 0, NULL)((uintptr_t)words, 0, 0, 0, 0), 30);
		CHECK(run_both_args(q, 0, words, sizeof(words), NULL, 0, NULL));
	}
	rt_jit_free(j);
	rt_jit_free(jq);
	rt_prog_free(p);
	rt_prog_free(q);
}

/* `r1 = rS` before an in-line accessor is dropped and the load reads rS
 * (jit_r1_forwarded); every neighbour that must keep the mov still works. */
static void inline_accessor_reads_the_source(void)
{
	static const uint8_t from_rbx[] = {0x48, 0x8b, 0x43, 0x18}; /* mov rax, [rbx+24] */
	static const uint8_t mov_rdi_rbx[] = {0x48, 0x89, 0xdf};    /* mov rdi, rbx */
	struct rt_prog *p;
	struct rt_jit *j = NULL;
	char err[256] = "";

	CHECK_EQ(rt_inline_register(&inl_word), 0);
	expect_full("mov %r6, %r1\nmov %r1, %r6\nmov %r2, 3\ncall 10\nexit", words, sizeof(words),
	            NULL, FUEL, 40, RT_RUN_OK, __LINE__);
	expect_full("mov %r2, 1\nmov %r7, %r1\nmov %r1, %r7\ncall 10\nexit", words, sizeof(words),
	            NULL, FUEL, 20, RT_RUN_OK, __LINE__);
	/* r2 is both the source and set in between: the mov stays. */
	expect_full("mov %r2, %r1\nmov %r1, %r2\nmov %r2, 4\ncall 10\nexit", words, sizeof(words),
	            NULL, FUEL, 50, RT_RUN_OK, __LINE__);
	/* r0 as the source, and two accessors in a row from r9. */
	expect_full("mov %r0, %r1\nmov %r9, %r1\nmov %r1, %r0\nmov %r2, 2\ncall 10\n"
	            "mov %r6, %r0\nmov %r1, %r9\nmov %r2, 7\ncall 10\nadd %r0, %r6\nexit",
	            words, sizeof(words), NULL, FUEL, 30 + 80, RT_RUN_OK, __LINE__);
	/* A jump lands between the mov and the call: the mov stays. */
	expect_full("mov %r6, %r1\nmov %r1, %r6\njeq %r6, 0, +1\nl:\nmov %r2, 5\ncall 10\nexit",
	            words, sizeof(words), NULL, FUEL, 60, RT_RUN_OK, __LINE__);
	/* Something else in between: the mov stays. */
	expect_full("mov %r6, %r1\nmov %r1, %r6\nmov %r3, 1\nmov %r2, 6\ncall 10\nexit", words,
	            sizeof(words), NULL, FUEL, 70, RT_RUN_OK, __LINE__);
	/* The code: the load from rbx (r6), no mov into rdi. */
	p = build("mov %r6, %r1\nmov %r1, %r6\nmov %r2, 3\ncall 10\nexit");
	CHECK(p != NULL);
	if (p && rt_jit_compile(p, &j, err, sizeof(err)) == 0) {
		const uint8_t *code = rt_jit_code(j);
		size_t n = rt_jit_code_size(j), k;
		bool load = false, mov = false;

		for (k = 0; k + 4 <= n; k++) {
			load |= !memcmp(code + k, from_rbx, sizeof(from_rbx));
			mov |= !memcmp(code + k, mov_rdi_rbx, sizeof(mov_rdi_rbx));
		}
		CHECK(load);
		CHECK(!mov);
	}
	rt_jit_free(j);
	rt_prog_free(p);
}

/* Whether the code of j holds the byte sequence pat. */
static bool code_has(const struct rt_jit *j, const uint8_t *pat, size_t len)
{
	const uint8_t *code = rt_jit_code(j);
	size_t n = rt_jit_code_size(j), k;

	for (k = 0; k + len <= n; k++)
		if (!memcmp(code + k, pat, len))
			return true;
	return false;
}

/* expect_full on words, and the unmetered entry (if any) answering the
 * same from a fresh copy of them. */
static void expect_words_both_entries(const char *text, uint64_t want, int line)
{
	struct rt_prog *p;
	struct rt_jit *j = NULL;
	char err[256] = "";

	expect_full(text, words, sizeof(words), NULL, FUEL, want, RT_RUN_OK, line);
	p = build(text);
	if (p && rt_jit_compile(p, &j, err, sizeof(err)) == 0) {
		rt_import_fn u = rt_jit_unmetered(j, 0, NULL);
		uint64_t mem[8];

		memcpy(mem, words, sizeof(mem));
		if (u && u((uintptr_t)mem, sizeof(mem), 0, 0, 0) != want)
			printf("  (unmetered entry, program at line %d)\n", line);
		CHECK(!u || u((uintptr_t)mem, sizeof(mem), 0, 0, 0) == want);
	}
	rt_jit_free(j);
	rt_prog_free(p);
}

/* `r2 = K` before an in-line accessor is dropped (jit_r2_dropped): the
 * load has K as its offset, and nothing else reads r2 before the call. */
static void inline_accessor_drops_the_slot_mov(void)
{
	static const uint8_t mov_esi_3[] = {0xbe, 0x03, 0x00, 0x00, 0x00}; /* mov esi, 3 */
	static const uint8_t mov_rsi_3[] = {0x48, 0xc7, 0xc6, 0x03, 0x00, 0x00, 0x00};
	static const char *dropped[] = {
	    "mov %r6, %r1\nmov %r1, %r6\nmov %r2, 3\ncall 10\nexit",
	    "mov %r6, %r1\nmov %r2, 3\nmov %r1, %r6\ncall 10\nexit",
	    "mov32 %r2, 3\nmov %r0, 1\nstdw [%r10-8], 1\ncall 10\nexit",
	};
	static const char *kept[] = {
	    /* Read by something else before the call. */
	    "mov %r2, 3\nmov %r7, %r2\ncall 10\nadd %r0, %r7\nexit",
	    /* A jump target in between: called, r2 its argument. */
	    "mov %r2, 3\njeq %r1, 0, +1\nmov %r0, 0\ncall 10\nexit",
	    /* Too far from the call. */
	    "mov %r2, 3\nmov %r0, 0\nmov %r0, 0\nmov %r0, 0\nmov %r0, 0\nmov %r0, 0\n"
	    "call 10\nexit",
	};
	unsigned k;

	CHECK_EQ(rt_inline_register(&inl_word), 0);
	for (k = 0; k < 3; k++) {
		struct rt_prog *p = build(dropped[k]);
		struct rt_jit *j = NULL;
		char err[256] = "";

		CHECK(p != NULL);
		if (p && rt_jit_compile(p, &j, err, sizeof(err)) == 0) {
			CHECK(!code_has(j, mov_esi_3, sizeof(mov_esi_3)));
			CHECK(!code_has(j, mov_rsi_3, sizeof(mov_rsi_3)));
		}
		rt_jit_free(j);
		rt_prog_free(p);
		expect_words_both_entries(dropped[k], 40, __LINE__);
	}
	for (k = 0; k < 3; k++) {
		struct rt_prog *p = build(kept[k]);
		struct rt_jit *j = NULL;
		char err[256] = "";

		CHECK(p != NULL);
		if (p && rt_jit_compile(p, &j, err, sizeof(err)) == 0)
			CHECK(code_has(j, mov_esi_3, sizeof(mov_esi_3)) ||
			      code_has(j, mov_rsi_3, sizeof(mov_rsi_3)));
		rt_jit_free(j);
		rt_prog_free(p);
	}
	expect_words_both_entries(kept[0], 43, __LINE__);
	expect_words_both_entries(kept[1], 40, __LINE__);
	expect_words_both_entries(kept[2], 40, __LINE__);
	/* Two accessors, each slot mov dropped, the first result kept in r7. */
	expect_words_both_entries("mov %r6, %r1\nmov %r1, %r6\nmov %r2, 1\ncall 10\nmov %r7, %r0\n"
	                          "mov %r1, %r6\nmov %r2, 6\ncall 10\nadd %r0, %r7\nexit",
	                          20 + 70, __LINE__);
}

/* Compile text; *u = its unmetered entry (NULL if none), the probe's
 * range set to the code. */
static struct rt_jit *compile_probe(const char *text, struct rt_prog **pp, rt_import_fn *u)
{
	struct rt_jit *j = NULL;
	char err[256] = "";

	*u = NULL;
	*pp = build(text);
	CHECK(*pp != NULL);
	if (!*pp || rt_jit_compile(*pp, &j, err, sizeof(err))) {
		printf("  %s\n", err);
		CHECK(!"did not compile");
		return NULL;
	}
	probe_lo = (uintptr_t)rt_jit_code(j);
	probe_hi = probe_lo + rt_jit_code_size(j);
	*u = rt_jit_unmetered(j, 0, NULL);
	return j;
}

/* `call import; exit` in an unmetered copy is a jump to the import
 * (jit_tail), also when the exit is reached through `ja`s and when the
 * copy has a frame and saved registers to undo first; never with a
 * pointer into the frame that the import could be given, never in the
 * metered entry (its status and budget come after the call). */
static void unmetered_tail_calls(void)
{
	static const struct {
		const char *text;
		uint64_t a1;
		uint64_t want; /* from the unmetered entry; +1000 if called */
	} c[] = {
	    {"mov %r2, 5\ncall 40\nexit", 0, 5},
	    /* Saved registers and a frame (stack use without escape). */
	    {"mov %r6, 7\nstdw [%r10-8], 2\nldxdw %r2, [%r10-8]\nadd %r2, %r6\nmov %r1, 0\n"
	     "call 40\nexit",
	     0, 9},
	    /* A first call is a real one, the second is the tail. */
	    {"mov %r6, %r1\nmov %r1, 0\nmov %r2, 3\ncall 40\nmov %r2, %r0\nmov %r1, %r6\n"
	     "call 40\nexit",
	     0, 1003},
	    /* The exit shared through two `ja`s, and also reached by a jump. */
	    {"jeq %r1, 0, out\nmov %r2, 4\nmov %r1, 0\ncall 40\nja hop\nout:\nmov %r0, 1\n"
	     "exit\nhop:\nja out2\nout2:\nexit",
	     6, 4},
	    /* A pointer into the frame as the argument: called. */
	    {"stdw [%r10-8], 21\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 40\nexit", 0, 1021},
	    /* Something after the call: called. */
	    {"mov %r2, 5\ncall 40\nadd %r0, 1\nexit", 0, 1006},
	};
	unsigned k;

	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		struct rt_prog *p;
		rt_import_fn u;
		struct rt_jit *j = compile_probe(c[k].text, &p, &u);
		struct rt_jit_ret r;
		uint64_t a[5] = {c[k].a1, 0, 0, 0, 0};

		CHECK(u != NULL);
		if (j && u) {
			if (u(c[k].a1, 0, 0, 0, 0) != c[k].want)
				printf("  (case %u: %llu)\n", k,
				       (unsigned long long)u(c[k].a1, 0, 0, 0, 0));
			CHECK_EQ(u(c[k].a1, 0, 0, 0, 0), c[k].want);
			CHECK_EQ(jit_test_call_checked((void *)u, c[k].a1, 0), 0);
			/* The metered entry calls it (+1000) and returns the
			 * status and the budget left. */
			r = rt_jit_entry(j, 0)(c[k].a1, 0, 0, 0, 0, 100);
			CHECK_EQ(r.r0, c[k].want % 1000 + 1000 + (k == 2 ? 1000 : 0));
			CHECK_EQ(r.status, RT_RUN_OK);
		}
		rt_jit_free(j);
		/* The interpreter: never "called from the code". */
		if (p) {
			struct outcome o;

			probe_lo = probe_hi = 0;
			CHECK(run_both_args(p, 0, NULL, 0, a, FUEL, &o));
			CHECK_EQ(o.run.r0, c[k].want % 1000);
		}
		rt_prog_free(p);
	}
	/* The stack alignment an import sees through a tail call is SysV's. */
	{
		struct rt_prog *p = build("mov %r6, 3\nmov %r1, %r6\ncall 11\nexit");
		struct rt_jit *j = NULL;
		char err[256] = "";

		if (p && rt_jit_compile(p, &j, err, sizeof(err)) == 0 &&
		    rt_jit_unmetered(j, 0, NULL))
			CHECK_EQ(rt_jit_unmetered(j, 0, NULL)(0, 0, 0, 0, 0), 3);
		else
			CHECK(!"did not compile");
		rt_jit_free(j);
		rt_prog_free(p);
	}
}

/* Push instructions at the start of code (push r64: [41] 50+r). */
static unsigned leading_pushes(const uint8_t *code)
{
	unsigned n = 0;

	for (;;) {
		if (code[0] >= 0x50 && code[0] <= 0x57)
			code++;
		else if (code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57)
			code += 2;
		else
			return n;
		n++;
	}
}

/* An unmetered copy whose only real call is its tail call keeps r6-r9 in
 * caller-saved r9, r10, r11 (jit_unmetered_regs) and pushes nothing for
 * them; a real call in the middle, or an instruction that needs the
 * scratch registers, keeps the usual map.  Results as before either way,
 * and the caller's callee-saved registers intact. */
static void unmetered_regs_without_calls(void)
{
#define XAS_READS                                                                                  \
	"mov %r6, %r1\nmov %r1, %r6\nmov %r2, 0\ncall 10\nmov %r7, %r0\nmov %r1, %r6\n"            \
	"mov %r2, 1\ncall 10\nmov %r8, %r0\nmov %r1, %r6\nmov %r2, 2\ncall 10\n"
	static const struct {
		const char *text;
		unsigned pushes;
		uint64_t want;
	} c[] = {
	    /* r6-r8 moved: nothing pushed. */
	    {XAS_READS "add %r0, %r7\nadd %r0, %r8\nmov %r2, %r0\nmov %r1, 0\ncall 40\nexit", 0,
	     60},
	    /* r6-r9: three moved, r9 stays in r15. */
	    {XAS_READS "mov %r9, %r7\nadd %r0, %r7\nadd %r0, %r8\nadd %r0, %r9\nmov %r2, %r0\n"
	               "mov %r1, 0\ncall 40\nexit",
	     1, 70},
	    /* A real call in the middle: r6-r8 must survive it. */
	    {XAS_READS "mov %r2, %r0\nmov %r1, 0\ncall 40\nadd %r0, %r7\nadd %r0, %r8\n"
	               "mov %r2, %r0\nmov %r1, 0\ncall 40\nexit",
	     3, 60},
	    /* Division and shifts by a register use r10/r11 as scratch. */
	    {XAS_READS "div %r0, %r7\nadd %r0, %r8\nmov %r2, %r0\nmov %r1, 0\ncall 40\nexit", 3,
	     23},
	    {XAS_READS "mov %r3, 1\nlsh %r0, %r3\nadd %r0, %r8\nmov %r2, %r0\nmov %r1, 0\n"
	               "call 40\nexit",
	     3, 80},
	};
#undef XAS_READS
	unsigned k;

	CHECK_EQ(rt_inline_register(&inl_word), 0);
	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		struct rt_prog *p = build(c[k].text);
		struct rt_jit *j = NULL;
		char err[256] = "";
		rt_import_fn u = NULL;

		probe_lo = probe_hi = 0;
		CHECK(p != NULL);
		if (p && rt_jit_compile(p, &j, err, sizeof(err)) == 0)
			u = rt_jit_unmetered(j, 0, NULL);
		CHECK(u != NULL);
		if (u) {
			if (leading_pushes((const uint8_t *)(uintptr_t)u) != c[k].pushes)
				printf("  (case %u)\n", k);
			CHECK_EQ(leading_pushes((const uint8_t *)(uintptr_t)u), c[k].pushes);
			CHECK_EQ(jit_test_call_checked((void *)u, (uintptr_t)words, 0), 0);
		}
		rt_jit_free(j);
		rt_prog_free(p);
		expect_words_both_entries(c[k].text, c[k].want, __LINE__);
	}
}

/* ---- sinks: an in-line read loaded straight where its value goes ---- */

#define I_MOVX(d, s)                                                                               \
	{                                                                                          \
		BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0                                            \
	}
#define I_MOVK(d, k)                                                                               \
	{                                                                                          \
		BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k                                            \
	}
#define I_ADDX(d, s)                                                                               \
	{                                                                                          \
		BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0                                            \
	}
#define I_CALL                                                                                     \
	{                                                                                          \
		BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_IMPORT, 0, 0                                     \
	}
#define I_EXIT                                                                                     \
	{                                                                                          \
		BPF_JMP | BPF_EXIT, 0, 0, 0, 0                                                     \
	}
#define I_JA(off)                                                                                  \
	{                                                                                          \
		BPF_JMP | BPF_JA, 0, 0, off, 0                                                     \
	}
#define I_JEQK(d, k, off)                                                                          \
	{                                                                                          \
		BPF_JMP | 0x10, d, 0, off, k                                                       \
	}

/* rt_sink_dead_after on hand-made code: reads, writes, calls, exits,
 * `ja`s followed, conditional jumps and the end taken as reads. */
static void sink_liveness(void)
{
	static const struct bpf_insn a[] = {
	    I_MOVX(7, 0), /* 0 */
	    I_MOVK(1, 1), /* 1 */
	    I_CALL,       /* 2: writes r0, r1-r5; keeps r6-r9 */
	    I_ADDX(8, 8), /* 3 */
	    I_JA(1),      /* 4 */
	    I_MOVK(8, 0), /* 5: skipped by the ja */
	    I_EXIT,       /* 6: reads r0 only */
	};
	static const struct bpf_insn b[] = {
	    I_MOVX(7, 0),    /* 0 */
	    I_JEQK(1, 0, 1), /* 1: two successors */
	    I_MOVK(7, 0),    /* 2 */
	    I_EXIT,          /* 3 */
	};

	CHECK(rt_sink_dead_after(a, 0, 7, 0, 0));   /* the call writes r0 */
	CHECK(rt_sink_dead_after(a, 0, 7, 0, 7));   /* never read before the exit */
	CHECK(rt_sink_dead_after(a, 0, 7, 0, 1));   /* insn 1 writes r1 */
	CHECK(!rt_sink_dead_after(a, 0, 7, 1, 1));  /* the call reads r1 */
	CHECK(!rt_sink_dead_after(a, 0, 7, 2, 8));  /* the add reads r8 */
	CHECK(!rt_sink_dead_after(a, 0, 7, 4, 0));  /* r0 read by the exit */
	CHECK(rt_sink_dead_after(a, 0, 7, 4, 8));   /* the ja skips the write: dead at exit */
	CHECK(!rt_sink_dead_after(a, 0, 6, 4, 0));  /* function ends early: live */
	CHECK(!rt_sink_dead_after(b, 0, 4, 0, 7));  /* a branch: not followed */
	CHECK(!rt_sink_dead_after(b, 0, 4, 0, 10)); /* r10 never */
}

/* rt_sink_plan on hand-made facts: on_xas's call path, and every
 * neighbour that must keep its moves. */
static void sink_plan_cases(void)
{
	/* The xas call path: r1 = r6 (silent), r2 = K (silent), read, r7 =
	 * r0, ..., r1 = r7; r2 = r8; r3 = r0; call. */
	static const struct bpf_insn x[] = {
	    I_MOVX(1, 6), I_MOVK(2, 0), I_CALL,       I_MOVX(7, 0),         /* 0-3 */
	    I_MOVX(1, 6), I_MOVK(2, 1), I_CALL,       I_MOVX(8, 0),         /* 4-7 */
	    I_MOVX(1, 6), I_MOVK(2, 2), I_CALL,                             /* 8-10 */
	    I_MOVX(1, 7), I_MOVX(2, 8), I_MOVX(3, 0), I_CALL,       I_EXIT, /* 11-15 */
	};
	enum { N = sizeof(x) / sizeof(x[0]) };
	struct rt_sink_fact f[N];
	uint8_t dst[N];
	bool drop[N];
	unsigned k;

#define FACTS_XAS()                                                                                \
	do {                                                                                       \
		memset(f, 0, sizeof(f));                                                           \
		for (k = 0; k < N; k++)                                                            \
			f[k].kind = RT_SINK_PLAIN;                                                 \
		for (k = 0; k < 12; k += 4) {                                                      \
			f[k].kind = f[k + 1].kind = RT_SINK_SILENT;                                \
			f[k + 2].kind = RT_SINK_INLINE;                                            \
			f[k + 2].base = 6;                                                         \
		}                                                                                  \
		f[14].kind = f[15].kind = RT_SINK_BARRIER;                                         \
	} while (0)

	FACTS_XAS();
	rt_sink_plan(x, 0, N, f, dst, drop);
	CHECK_EQ(dst[2], 1);
	CHECK_EQ(dst[6], 2);
	CHECK_EQ(dst[10], 3);
	for (k = 0; k < N; k++)
		CHECK_EQ(drop[k], k == 3 || k == 7 || k == 11 || k == 12 || k == 13);

	/* A jump target on the last move: only the first hop (r7) stays. */
	FACTS_XAS();
	f[11].target = true;
	rt_sink_plan(x, 0, N, f, dst, drop);
	CHECK_EQ(dst[2], 7);
	CHECK(drop[3] && !drop[11]);
	CHECK_EQ(dst[6], 8);  /* r8 = r0 before the target, r2 = r8 after */
	CHECK_EQ(dst[10], 0); /* its move r3 = r0 after the target */

	/* A jump target on `r7 = r0`: no sink for the first read. */
	FACTS_XAS();
	f[3].target = true;
	rt_sink_plan(x, 0, N, f, dst, drop);
	CHECK_EQ(dst[2], 0);
	CHECK(!drop[3] && !drop[11]);

	/* The second read's load reads r1 itself (not forwarded): r1 must
	 * keep what `r1 = r6` put there, so the first value stops in r7. */
	FACTS_XAS();
	f[4].kind = RT_SINK_PLAIN;
	f[6].base = 1;
	rt_sink_plan(x, 0, N, f, dst, drop);
	CHECK_EQ(dst[2], 7);
	CHECK(drop[3] && !drop[11]);
	CHECK_EQ(dst[6], 2);

	/* A barrier (a real call, a division) in between: no second hop. */
	FACTS_XAS();
	f[9].kind = RT_SINK_BARRIER;
	rt_sink_plan(x, 0, N, f, dst, drop);
	CHECK_EQ(dst[2], 7);
	CHECK_EQ(dst[6], 8);
	CHECK(!drop[11] && !drop[12]);

	/* r0 read after `r7 = r0` (before it is redefined): nothing. */
	{
		static const struct bpf_insn y[] = {
		    I_CALL,
		    I_MOVX(7, 0),
		    I_ADDX(7, 0),
		    I_EXIT,
		};
		struct rt_sink_fact g[4] = {{RT_SINK_INLINE, 1, false},
		                            {RT_SINK_PLAIN, 0, false},
		                            {RT_SINK_PLAIN, 0, false},
		                            {RT_SINK_BARRIER, 0, false}};

		rt_sink_plan(y, 0, 4, g, dst, drop);
		CHECK_EQ(dst[0], 0);
		CHECK(!drop[1]);
	}
	/* r0 live at the exit (`r7 = r0; exit`): nothing; a 32-bit move
	 * (it truncates): nothing. */
	{
		static const struct bpf_insn y[] = {I_CALL, I_MOVX(7, 0), I_EXIT};
		static const struct bpf_insn z[] = {
		    I_CALL, {BPF_ALU | BPF_MOV | BPF_X, 7, 0, 0, 0}, I_MOVK(0, 0), I_EXIT};
		struct rt_sink_fact g[4] = {{RT_SINK_INLINE, 1, false},
		                            {RT_SINK_PLAIN, 0, false},
		                            {RT_SINK_PLAIN, 0, false},
		                            {RT_SINK_BARRIER, 0, false}};

		rt_sink_plan(y, 0, 3, g, dst, drop);
		CHECK_EQ(dst[0], 0);
		rt_sink_plan(z, 0, 4, g, dst, drop);
		CHECK_EQ(dst[0], 0);
	}
}

/* The call path of on_xas (user/ext/xas.c) as clang writes it, and its
 * unmetered code: the three arguments loaded straight into rdi, rsi, rdx
 * (r6 lives in r9 there), none of the moves left. */
static const char xas_call_path[] =
    "mov %r6, %r1\nmov %r1, %r6\nmov %r2, 7\ncall 10\njeq %r0, 1, call\n"
    "mov %r0, -38\nexit\n"
    "call:\nmov %r1, %r6\nmov %r2, 0\ncall 10\nmov %r7, %r0\n"
    "mov %r1, %r6\nmov %r2, 1\ncall 10\nmov %r8, %r0\n"
    "mov %r1, %r6\nmov %r2, 2\ncall 10\n"
    "mov %r1, %r7\nmov %r2, %r8\nmov %r3, %r0\nmov %r4, 4\nmov %r5, 5\ncall 1\nexit";

static void sink_xas_call_path(void)
{
	static const uint8_t ld_rdi[] = {0x49, 0x8b, 0x39};       /* mov rdi, [r9] */
	static const uint8_t ld_rsi[] = {0x49, 0x8b, 0x71, 0x08}; /* mov rsi, [r9+8] */
	static const uint8_t ld_rdx[] = {0x49, 0x8b, 0x51, 0x10}; /* mov rdx, [r9+16] */
	static const uint8_t mov_rdi_r10[] = {0x4c, 0x89, 0xd7};  /* mov rdi, r10 */
	static const uint8_t mov_rdx_rax[] = {0x48, 0x89, 0xc2};  /* mov rdx, rax */
	uint64_t mem[8] = {10, 20, 30, 40, 50, 60, 70, 1};
	struct rt_prog *p;
	struct rt_jit *j = NULL;
	char err[256] = "";
	rt_import_fn u = NULL;
	struct outcome o;
	uint64_t want = 10 + 2 * 20 + 3 * 30 + 4 * 4 + 5 * 5;

	CHECK_EQ(rt_inline_register(&inl_word), 0);
	p = build(xas_call_path);
	CHECK(p != NULL);
	if (p && rt_jit_compile(p, &j, err, sizeof(err)) == 0)
		u = rt_jit_unmetered(j, 0, NULL);
	CHECK(u != NULL);
	if (u) {
		CHECK(code_has(j, ld_rdi, sizeof(ld_rdi)));
		CHECK(code_has(j, ld_rsi, sizeof(ld_rsi)));
		CHECK(code_has(j, ld_rdx, sizeof(ld_rdx)));
		CHECK(!code_has(j, mov_rdi_r10, sizeof(mov_rdi_r10)));
		CHECK(!code_has(j, mov_rdx_rax, sizeof(mov_rdx_rax)));
		CHECK_EQ(u((uintptr_t)mem, 0, 0, 0, 0), want);
		mem[7] = 0;
		CHECK_EQ(u((uintptr_t)mem, 0, 0, 0, 0), (uint64_t)-38);
		mem[7] = 1;
	}
	rt_jit_free(j);
	/* The metered entry and the interpreter agree (both paths). */
	if (p) {
		CHECK(run_both_args(p, 0, mem, sizeof(mem), NULL, FUEL, &o));
		CHECK_EQ(o.run.r0, want);
		mem[7] = 0;
		CHECK(run_both_args(p, 0, mem, sizeof(mem), NULL, FUEL, &o));
		CHECK_EQ(o.run.r0, (uint64_t)-38);
	}
	rt_prog_free(p);
}

/* Programs that must keep their moves, each checked on both engines and
 * the unmetered entry (wrong answers, not code shapes, are the point). */
static void sink_refusals_run_right(void)
{
#define RD(k) "mov %r1, %r6\nmov %r2, " #k "\ncall 10\n"
#define Z345  "mov %r3, 0\nmov %r4, 0\nmov %r5, 0\n"
	static const struct {
		const char *text;
		uint64_t want; /* words = 10, 20, ... 80; call 1 = a + 2b + 3c + 4d + 5e */
	} c[] = {
	    /* r0 read after the move. */
	    {"mov %r6, %r1\n" RD(0) "mov %r7, %r0\nadd %r7, %r0\nmov %r1, %r7\nmov %r2, 0\n" Z345
	                            "call 1\nexit",
	     20},
	    /* A branch target between the read and the move. */
	    {"mov %r6, %r1\nmov %r7, 5\n" RD(1) "jeq %r7, 0, +0\nmov %r7, %r0\n" RD(
	         2) "add %r0, %r7\nexit",
	     50},
	    {"mov %r6, %r1\nmov %r0, 3\njeq %r6, 0, l\n" RD(1) "l:\nmov %r7, %r0\n" RD(
	         2) "add %r0, %r7\nexit",
	     50},
	    /* The move's destination read by the next read (r1 not forwarded:
	     * r3 set in between) before the move. */
	    {"mov %r6, %r1\n" RD(3) "mov %r7, %r0\nmov %r1, %r6\nmov %r3, 0\nmov %r2, 4\ncall 10\n"
	                            "mov %r1, %r7\nmov %r2, %r0\n" Z345 "call 1\nexit",
	     40 + 2 * 50},
	    /* The destination of the last move written in between. */
	    {"mov %r6, %r1\n" RD(0) "mov %r7, %r0\nmov %r2, 9\nmov %r8, %r2\nmov %r2, %r7\n"
	                            "add %r2, %r8\nmov %r1, 0\n" Z345 "call 1\nexit",
	     2 * 19},
	    /* The moved-from register read again after the move. */
	    {"mov %r6, %r1\n" RD(5) "mov %r7, %r0\nmov %r1, %r7\nmov %r2, %r7\n" Z345
	                            "call 1\nexit",
	     60 + 2 * 60},
	    /* A division (rax, rdx) between the read and rdx's move. */
	    {"mov %r6, %r1\n" RD(
	         2) "mov %r7, %r0\nmov %r8, 7\ndiv %r8, 2\nmov %r3, %r7\n"
	            "mov %r1, %r8\nmov %r2, 0\nmov %r4, 0\nmov %r5, 0\ncall 1\nexit",
	     3 + 3 * 30},
	    /* A shift by a register (rcx) before rcx's move. */
	    {"mov %r6, %r1\n" RD(
	         6) "mov %r7, %r0\nmov %r8, 1\nmov %r9, 3\nlsh %r8, %r9\n"
	            "mov %r4, %r7\nmov %r1, %r8\nmov %r2, 0\nmov %r3, 0\nmov %r5, 0\ncall 1\nexit",
	     8 + 4 * 70},
	    /* A real call between: its result, not the read, reaches r2. */
	    {"mov %r6, %r1\n" RD(
	         0) "mov %r7, %r0\nmov %r1, 1\nmov %r2, 2\nmov %r3, 3\n"
	            "mov %r4, 4\nmov %r5, 5\ncall 1\nmov %r1, %r7\nmov %r2, %r0\n" Z345
	            "call 1\nexit",
	     10 + 2 * 55},
	};
#undef Z345
#undef RD
	unsigned k;

	CHECK_EQ(rt_inline_register(&inl_word), 0);
	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		probe_lo = probe_hi = 0;
		expect_words_both_entries(c[k].text, c[k].want, __LINE__ * 1000 + (int)k);
	}
}

/* Random programs built around in-line reads and the moves clang puts
 * after them (and everything that may stand in a sink's way: other moves,
 * arithmetic, the stack, divisions, shifts by a register, real calls,
 * forward branches), each compared on the interpreter, the metered JIT
 * entry and the unmetered one.  Registers are read only once written on
 * every path (r1-r5 are gone after any call), as the verifier demands. */
static uint32_t sink_rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

static void sink_random_program(uint64_t *seed, char *t, size_t cap)
{
	static const unsigned pool[] = {0, 1, 2, 3, 4, 5, 7, 8, 9}; /* never r6 (the pointer) */
	uint16_t def = 1u << 6, at_label[4] = {0};
	int label_in[4] = {0};
	unsigned steps = 6 + sink_rng(seed) % 14, s, r, a, b, l;
	size_t n = 0;
	bool stack = true;

#define EMIT(...) (n += (size_t)snprintf(t + n, cap - n, __VA_ARGS__))
#define PICK_DEF(v)                                                                                \
	do {                                                                                       \
		(v) = pool[sink_rng(seed) % 9];                                                    \
	} while (!(def & (1u << (v))))
	EMIT("mov %%r6, %%r1\nmov %%r0, 1\nmov %%r7, 2\nstdw [%%r10-8], 3\n");
	def |= 1u << 0 | 1u << 7;
	for (s = 0; s < steps; s++) {
		for (l = 0; l < 4; l++)
			if (label_in[l] && --label_in[l] == 0) {
				EMIT("l%u_%u:\n", l, s);
				def &= at_label[l];
			}
		switch (sink_rng(seed) % 12) {
		case 0:
		case 1:
		case 2: /* an in-line read, mostly forwarded, its result moved on */
			r = sink_rng(seed) % 4;
			if (r == 0)
				EMIT("mov %%r2, %u\nmov %%r1, %%r6\ncall 10\n", sink_rng(seed) % 8);
			else if (r == 1)
				EMIT("mov %%r1, %%r6\nmov %%r3, 1\nmov %%r2, %u\ncall 10\n",
				     sink_rng(seed) % 8);
			else
				EMIT("mov %%r1, %%r6\nmov %%r2, %u\ncall 10\n", sink_rng(seed) % 8);
			def = (uint16_t)((def & ~0x3eu) | 1u);
			if (sink_rng(seed) % 3) {
				a = pool[1 + sink_rng(seed) % 8];
				EMIT("mov %%r%u, %%r0\n", a);
				def |= (uint16_t)(1u << a);
			}
			break;
		case 3:
		case 4: /* a move (often into an argument register) */
			PICK_DEF(b);
			a = pool[sink_rng(seed) % 9];
			EMIT("mov %%r%u, %%r%u\n", a, b);
			def |= (uint16_t)(1u << a);
			break;
		case 5: /* arithmetic */
			PICK_DEF(a);
			PICK_DEF(b);
			EMIT("%s %%r%u, %%r%u\n",
			     (const char *[]){"add", "xor", "mul", "sub"}[s & 3], a, b);
			break;
		case 6: /* the stack */
			if (stack && sink_rng(seed) % 2) {
				a = pool[sink_rng(seed) % 9];
				EMIT("ldxdw %%r%u, [%%r10-8]\n", a);
				def |= (uint16_t)(1u << a);
			} else {
				PICK_DEF(a);
				EMIT("stxdw [%%r10-8], %%r%u\n", a);
				stack = true;
			}
			break;
		case 7: /* division or a shift by a register (rax, rdx, rcx) */
			PICK_DEF(a);
			if (sink_rng(seed) % 2) {
				EMIT("%s %%r%u, %u\n", s & 1 ? "div" : "mod", a,
				     1 + sink_rng(seed) % 7);
			} else {
				PICK_DEF(b);
				EMIT("lsh %%r%u, %%r%u\n", a, b);
			}
			break;
		case 8: /* a real call of its five arguments */
			for (r = 1; r <= 5; r++) {
				PICK_DEF(b);
				EMIT("mov %%r%u, %%r%u\n", r, b);
				def |= (uint16_t)(1u << r);
			}
			EMIT("call 1\n");
			def = (uint16_t)((def & ~0x3eu) | 1u);
			break;
		case 9: /* a forward branch over the next steps */
			for (l = 0; l < 4 && label_in[l]; l++)
				;
			if (l == 4)
				break;
			PICK_DEF(a);
			label_in[l] = 1 + (int)(sink_rng(seed) % 4);
			EMIT("jgt %%r%u, %u, l%u_%u\n", a, sink_rng(seed) % 64, l, s + label_in[l]);
			at_label[l] = def;
			break;
		default: /* a constant */
			a = pool[sink_rng(seed) % 9];
			EMIT("mov %%r%u, %u\n", a, sink_rng(seed) % 100);
			def |= (uint16_t)(1u << a);
			break;
		}
	}
	for (l = 0; l < 4; l++)
		if (label_in[l]) {
			EMIT("l%u_%u:\n", l, s + label_in[l] - 1);
			def &= at_label[l];
		}
	/* The end: every live value folded into the result, or passed to a
	 * tail call of sum5 (the xas shape). */
	if (!(def & 1u)) {
		EMIT("mov %%r0, 0\n");
		def |= 1u;
	}
	if (sink_rng(seed) % 2) {
		for (r = 1; r <= 9; r++)
			if (r != 6 && (def & (1u << r)))
				EMIT("add %%r0, %%r%u\n", r);
		EMIT("exit\n");
	} else {
		for (r = 1; r <= 9; r++)
			if (r != 6 && (def & (1u << r)) && r > 5)
				EMIT("add %%r0, %%r%u\n", r);
		for (r = 1; r <= 5; r++)
			if (!(def & (1u << r)))
				EMIT("mov %%r%u, %u\n", r, r);
		EMIT("add %%r5, %%r0\ncall 1\nexit\n");
	}
#undef PICK_DEF
#undef EMIT
}

static void sink_random_differential(void)
{
	enum { PROGRAMS = 3000 };
	static char text[8192];
	uint64_t seed = 0x5eed, mem[8];
	unsigned k, built = 0, unmetered = 0;

	CHECK_EQ(rt_inline_register(&inl_word), 0);
	probe_lo = probe_hi = 0;
	for (k = 0; k < PROGRAMS; k++) {
		struct rt_prog *p;
		struct rt_jit *j = NULL;
		char err[256] = "";
		struct outcome o;
		rt_import_fn u = NULL;

		sink_random_program(&seed, text, sizeof(text));
		p = build(text);
		if (!p) {
			printf("  did not build:\n%s", text);
			CHECK(p != NULL);
			continue;
		}
		built++;
		if (!run_both_args(p, 0, words, sizeof(words), NULL, FUEL, &o)) {
			printf("  program %u:\n%s", k, text);
			CHECK(!"interpreter and JIT disagree");
		} else if (rt_jit_compile(p, &j, err, sizeof(err)) == 0 &&
		           (u = rt_jit_unmetered(j, 0, NULL)) != NULL) {
			unmetered++;
			memcpy(mem, words, sizeof(mem));
			if (u((uintptr_t)mem, sizeof(mem), 0, 0, 0) != o.run.r0)
				printf("  program %u (unmetered entry):\n%s", k, text);
			CHECK_EQ(u((uintptr_t)mem, sizeof(mem), 0, 0, 0), o.run.r0);
		}
		rt_jit_free(j);
		rt_prog_free(p);
	}
	printf("  %u programs, %u with an unmetered entry\n", built, unmetered);
	CHECK_EQ(built, PROGRAMS);
	CHECK(unmetered > PROGRAMS / 4);
}

/* A handler of on_xas's shape: the number and arguments through the
 * in-line accessor, then one of three paths of ordinary calls (sum5,
 * llabs, the alignment probe), two of them ending by a backward jump to a
 * shared exit as clang lays out on_xas (no cycle, but each costs fuel).
 * 4 charged calls + 2 backward jumps; at most 3 units on a path. */
static const char xas_like[] =
    "mov %r6, %r1\nmov %r2, 0\ncall 10\nja start\ndone:\nexit\n"
    "start:\njne %r0, 1, other\n"
    "mov %r1, %r6\nmov %r2, 1\ncall 10\nmov %r7, %r0\n"
    "mov %r1, %r6\nmov %r2, 2\ncall 10\nmov %r1, %r7\n"
    "mov %r2, %r0\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 1\nja done\n"
    "other:\njne %r0, 2, last\nmov %r1, %r6\nmov %r2, 3\ncall 10\n"
    "mov %r1, %r0\ncall 7\nmov %r1, %r0\nmov %r2, 1\nmov %r3, 0\n"
    "mov %r4, 0\nmov %r5, 0\ncall 1\njne %r0, -1, done\nmov %r0, 0\nexit\n"
    "last:\nmov %r1, %r6\nmov %r2, 5\ncall 10\nmov %r6, %r0\n"
    "stdw [%r10-8], 9\nmov %r1, 7\ncall 11\nadd %r0, %r6\n"
    "ldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit";

/* rt_jit_unmetered on a loop-free handler: the same r0 and helper calls
 * as the metered entry and the interpreter for many inputs, and *worst at
 * least the fuel the metered run used. */
static void unmetered_entry_matches_metered(void)
{
	struct rt_prog *p = build(xas_like);
	struct rt_jit *j = NULL;
	char err[256] = "";
	uint64_t seed = 12345, worst = 0, maxused = 0;
	rt_import_fn u;
	unsigned k, w;

	CHECK_EQ(rt_inline_register(&inl_word), 0);
	CHECK(p != NULL);
	if (!p || rt_jit_compile(p, &j, err, sizeof(err))) {
		printf("  %s\n", err);
		CHECK(!"did not compile");
		rt_prog_free(p);
		return;
	}
	CHECK(rt_jit_plain(j, 0) == NULL); /* metered: it calls the kernel */
	u = rt_jit_unmetered(j, 0, &worst);
	CHECK(u != NULL);
	CHECK_EQ(worst, 6);
	for (k = 0; u && k < 200; k++) {
		uint64_t mem[8], r0, calls, used;
		struct outcome o;

		for (w = 0; w < 8; w++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			mem[w] = seed >> (k & 31);
		}
		mem[0] = k % 4;
		if (!run_both_args(p, 0, mem, sizeof(mem), NULL, FUEL, &o)) {
			printf("  (input %u)\n", k);
			CHECK(!"interpreter and JIT disagree");
			break;
		}
		helper_calls = 0;
		r0 = u((uintptr_t)mem, 0, 0, 0, 0);
		calls = helper_calls;
		CHECK_EQ(r0, o.run.r0);
		CHECK_EQ(calls, o.helper_calls);
		CHECK_EQ(o.run.status, RT_RUN_OK);
		used = FUEL - o.run.fuel;
		CHECK(used <= worst);
		if (used > maxused)
			maxused = used;
	}
	CHECK_EQ(maxused, 3);
	rt_jit_free(j);
	rt_prog_free(p);
	/* Fuel parity at every budget up to and past worst, on every path. */
	for (k = 1; k <= 3; k++) {
		uint64_t mem[8];
		uint64_t fuel;

		memcpy(mem, words, sizeof(mem));
		mem[0] = k;
		p = build(xas_like);
		for (fuel = 0; p && fuel <= 7; fuel++)
			if (!run_both_args(p, 0, mem, sizeof(mem), NULL, fuel, NULL)) {
				printf("  (path %u, budget %llu)\n", k, (unsigned long long)fuel);
				CHECK(!"interpreter and JIT disagree");
				break;
			}
		rt_prog_free(p);
	}
}

/* What gets an unmetered entry and what does not. */
static void unmetered_entry_only_when_safe(void)
{
	static const struct {
		const char *text;
		uint32_t func;
		bool has;
		uint64_t worst;
	} c[] = {
	    {"mov %r0, %r1\nexit", 0, true, 0},                               /* plain */
	    {"mov %r1, 1\ncall 7\ncall 7\ncall 7\nexit", 0, true, 3},         /* a batched run */
	    {"mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 3, l\nexit", 0, false, 0}, /* a loop */
	    {"mov %r6, 0\nl:\nmov %r1, 1\ncall 7\nadd %r6, 1\njlt %r6, 3, l\nexit", 0, false, 0},
	    {"mov %r1, 1\ncall 6\nexit", 0, false, 0}, /* RT_SIG_MAYABORT */
	    {"mov %r1, 1\ncall 8\nexit", 0, false, 0}, /* RT_SIG_FUEL */
	    {"mov %r1, 1\ncall local f\nexit\nf:\nmov %r1, 2\ncall 7\nexit", 0, false, 0},
	    /* ... whose callee calls only imports: a copy of its own. */
	    {"mov %r1, 1\ncall local f\nexit\nf:\nmov %r1, 2\ncall 7\nexit", 1, true, 1},
	    {"mov %r0, 1\nexit", 1, false, 0}, /* no such function */
	    /* Backward jumps to shared tails, no cycle: 1 call + 2 jumps. */
	    {"jeq %r1, 0, a\nmov %r1, -3\ncall 7\nja b\nc:\nexit\nb:\nadd %r0, 1\nja c\n"
	     "a:\nmov %r0, 9\nja c",
	     0, true, 3},
	    /* A cycle through a forward and a backward jump. */
	    {"mov %r1, 1\ncall 7\nb:\njeq %r0, 0, a\nexit\na:\nja b", 0, false, 0},
	};
	char big[RT_JIT_UNMETERED_MAX * 12 + 64];
	unsigned k, n;
	int len;

	sig_shared.fn = (void *)h_sum5; /* compiled, never run */
	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		struct rt_prog *p = build(c[k].text);
		struct rt_jit *j = NULL;
		char err[256] = "";
		uint64_t worst = 77;
		rt_import_fn u;

		CHECK(p != NULL);
		if (!p || rt_jit_compile(p, &j, err, sizeof(err))) {
			printf("  %s (case %u)\n", err, k);
			CHECK(!"did not compile");
			rt_prog_free(p);
			continue;
		}
		u = rt_jit_unmetered(j, c[k].func, &worst);
		if ((u != NULL) != c[k].has || (c[k].has && worst != c[k].worst))
			printf("  (case %u)\n", k);
		CHECK_EQ(u != NULL, c[k].has);
		CHECK_EQ(worst, c[k].has ? c[k].worst : 77);
		if (u && k == 7)
			CHECK_EQ(u(5, 0, 0, 0, 0), 2); /* llabs(2) */
		if (u && k == 9) {
			CHECK_EQ(u(0, 0, 0, 0, 0), 9);
			CHECK_EQ(u(5, 0, 0, 0, 0), 4);
		}
		rt_jit_free(j);
		rt_prog_free(p);
	}
	sig_shared.fn = NULL;
	CHECK(rt_jit_unmetered(NULL, 0, NULL) == NULL);
	/* The engines agree on the backward jumps' fuel at every budget. */
	for (k = 0; k <= 5; k += 5) {
		const uint64_t a[5] = {k, 0, 0, 0, 0};

		sweep_budgets(c[9].text, a, 4, __LINE__);
	}
	/* The size limit: RT_JIT_UNMETERED_MAX instructions get a copy, one
	 * more does not. */
	for (n = RT_JIT_UNMETERED_MAX; n <= RT_JIT_UNMETERED_MAX + 1; n++) {
		struct rt_prog *p;
		struct rt_jit *j = NULL;
		char err[256] = "";
		uint64_t worst = 0;
		rt_import_fn u;

		len = snprintf(big, sizeof(big), "mov %%r1, -4\ncall 7\n");
		for (k = 3; k < n; k++)
			len += snprintf(big + len, sizeof(big) - (size_t)len, "add %%r0, 1\n");
		snprintf(big + len, sizeof(big) - (size_t)len, "exit\n");
		p = build(big);
		CHECK(p != NULL);
		if (!p || rt_jit_compile(p, &j, err, sizeof(err))) {
			printf("  %s\n", err);
			CHECK(!"did not compile");
		} else {
			CHECK_EQ(p->ninsns, n);
			u = rt_jit_unmetered(j, 0, &worst);
			CHECK_EQ(u != NULL, n == RT_JIT_UNMETERED_MAX);
			if (u)
				CHECK_EQ(u(0, 0, 0, 0, 0), 4 + (n - 3));
		}
		rt_jit_free(j);
		rt_prog_free(p);
	}
}

/* The unmetered entry called from C with 1 to 5 arguments (the rest set
 * by the program), and keeping every callee-saved register. */
static void unmetered_entry_is_c(void)
{
	static const char *progs[5] = {
	    "mov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 1\nexit",
	    "mov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 1\nexit",
	    "mov %r4, 0\nmov %r5, 0\ncall 1\nexit",
	    "mov %r5, 0\ncall 1\nexit",
	    "call 1\nexit",
	};
	static const char saved[] = "mov %r6, 1\nmov %r7, 2\nmov %r8, 3\nmov %r9, 4\nmov %r1, 0\n"
	                            "call 7\nstdw [%r10-8], 5\nldxdw %r0, [%r10-8]\nadd %r0, %r6\n"
	                            "exit";
	struct rt_prog *p;
	struct rt_jit *j;
	char err[256] = "";
	unsigned n;

	for (n = 1; n <= 5; n++) {
		rt_import_fn u;
		uint64_t worst = 0;

		p = build(progs[n - 1]);
		j = NULL;
		CHECK(p != NULL);
		if (!p || rt_jit_compile(p, &j, err, sizeof(err))) {
			printf("  %s\n", err);
			CHECK(!"did not compile");
			rt_prog_free(p);
			continue;
		}
		u = rt_jit_unmetered(j, 0, &worst);
		CHECK(u != NULL);
		CHECK_EQ(worst, 1);
		helper_calls = 0;
		switch (u ? n : 0) {
		case 1:
			CHECK_EQ(((uint64_t(*)(uint64_t))(uintptr_t)u)(7), 7);
			break;
		case 2:
			CHECK_EQ(((uint64_t(*)(uint64_t, uint64_t))(uintptr_t)u)(7, 11), 7 + 22);
			break;
		case 3:
			CHECK_EQ(
			    ((uint64_t(*)(uint64_t, uint64_t, uint64_t))(uintptr_t)u)(7, 11, 13),
			    7 + 22 + 39);
			break;
		case 4:
			CHECK_EQ(((uint64_t(*)(uint64_t, uint64_t, uint64_t, uint64_t))(
			             uintptr_t)u)(7, 11, 13, 17),
			         7 + 22 + 39 + 68);
			break;
		case 5:
			CHECK_EQ(u(7, 11, 13, 17, 19), 7 + 22 + 39 + 68 + 95);
			break;
		}
		CHECK_EQ(helper_calls, u ? 1 : 0);
		rt_jit_free(j);
		rt_prog_free(p);
	}
	p = build(saved);
	j = NULL;
	CHECK(p != NULL);
	if (p && rt_jit_compile(p, &j, err, sizeof(err)) == 0) {
		rt_import_fn u = rt_jit_unmetered(j, 0, NULL);

		CHECK(u != NULL);
		if (u) {
			CHECK_EQ(jit_test_call_checked((void *)u, 0, 100), 0);
			CHECK_EQ(u(0, 0, 0, 0, 0), 6);
		}
	}
	rt_jit_free(j);
	rt_prog_free(p);
}

static void refusals(void)
{
	static const struct bpf_insn bad_op[] = {
	    {.code = 0xe7, .dst = 0}, /* ALU64 op 0xe0: undefined */
	    {.code = BPF_JMP | BPF_EXIT},
	};
	static const struct bpf_insn jump_out[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst = 0, .imm = 0},
	    {.code = BPF_JMP | BPF_JA, .off = 5},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	static const struct bpf_insn callx[] = {
	    {.code = BPF_OPCODE_CALLX, .dst = 1},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	static const struct bpf_insn fp_write[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst = 10, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	static const struct bpf_insn into_lddw[] = {
	    {.code = BPF_JMP | BPF_JA, .off = 1},
	    {.code = BPF_LD | BPF_IMM | BPF_DW, .dst = 0, .imm = 1},
	    {.code = 0, .imm = 2},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	static const struct {
		const struct bpf_insn *insns;
		uint32_t n;
	} cases[] = {
	    {bad_op, 2}, {jump_out, 3}, {callx, 2}, {fp_write, 2}, {into_lddw, 4},
	};
	unsigned k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct rt_prog *p = NULL;
		struct rt_jit *j = NULL;
		char err[256] = "";

		/* The loader refuses some of these itself; the JIT must refuse
		 * on its own, so load a harmless program of the same length
		 * and put the bad instructions in afterwards. */
		struct bpf_insn ok[4];
		uint32_t i;

		for (i = 0; i < cases[k].n; i++)
			ok[i] = (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K};
		ok[cases[k].n - 1] = (struct bpf_insn){.code = BPF_JMP | BPF_EXIT};
		if (rt_prog_from_raw(ok, cases[k].n, &p, err, sizeof(err))) {
			CHECK(!"loader refused a harmless program");
			continue;
		}
		memcpy(p->insns, cases[k].insns, sizeof(ok[0]) * cases[k].n);
		CHECK_EQ(rt_jit_compile(p, &j, err, sizeof(err)), -RT_EINVAL);
		CHECK(j == NULL);
		CHECK(strstr(err, "jit: insn") != NULL);
		rt_jit_free(j);
		rt_prog_free(p);
	}
}

/* ---- differential test over the .data corpora ----------------------- */

struct diff_stats {
	unsigned files, compared, agreed, skipped;
};

/* "-- NAME ARG" on one line: ARG into out. */
static bool diff_section_arg(const char *text, const char *name, char *out, size_t outlen)
{
	char hdr[64];
	const char *q;
	size_t n = 0;

	snprintf(hdr, sizeof(hdr), "-- %s ", name);
	for (q = text; (q = strstr(q, hdr)); q++) {
		if (q != text && q[-1] != '\n')
			continue;
		q += strlen(hdr);
		while (q[n] && q[n] != '\n' && q[n] != ' ' && n + 1 < outlen) {
			out[n] = q[n];
			n++;
		}
		out[n] = 0;
		return n > 0;
	}
	return false;
}

/*
 * One .data file: false on a disagreement (or a wrong result).  `ext`
 * selects the verifier corpus's environment (tests/ext/ext_env.h: its
 * numbered procedures and `-- entry` kinds); otherwise the conformance
 * suite's (helper 5 = unwind, r1 = memory, r2 = its length).
 */
static bool diff_one(const char *path, bool ext, struct diff_stats *st)
{
	struct rt_asm_test t;
	struct bpf_insn *insns = NULL;
	struct rt_prog *p = NULL;
	struct rt_verify_result vr;
	struct rt_entry entry;
	struct run_spec rs;
	struct outcome o;
	uint32_t n = 0, k, nreg = 0;
	size_t len = 0;
	char err[512] = "", arg[64];
	char *text = tk_read_file(path, &len);
	bool ok = true, verified;

	st->files++;
	if (!text || rt_asm_parse_test(text, len, &t, err, sizeof(err))) {
		printf("  %s: cannot read or parse: %s\n", path, err);
		free(text);
		return false;
	}
	if (tk_data_program(&t, &insns, &n, err, sizeof(err)) ||
	    !(p = bpf_build_insns(insns, n, ext ? &ext_env_embed : &t_embed))) {
		/* A program the assembler refuses cannot be run by anyone. */
		st->skipped++;
		goto out;
	}
	memset(&entry, 0, sizeof(entry));
	if (ext && diff_section_arg(text, "entry", arg, sizeof(arg))) {
		if (!ext_env_entry_for(arg, &entry)) {
			printf("  %s: unknown entry %s\n", path, arg);
			ok = false;
			goto out;
		}
	} else {
		tk_default_entry(&entry, t.has_mem, t.memlen);
	}
	memset(&rs, 0, sizeof(rs));
	rs.mem = t.mem;
	rs.memlen = t.has_mem ? t.memlen : 0;
	rs.fuel = FUEL;
	for (k = 0; k < 5; k++) {
		switch (entry.args[k].kind) {
		case RT_ARG_CONST_MEM:
		case RT_ARG_CONST_MEM_RW:
			/* A declared context is as big as declared. */
			if (entry.args[k].size > rs.memlen)
				rs.memlen = entry.args[k].size;
			rs.mem_args |= 1u << k;
			break;
		case RT_ARG_REF:
		case RT_ARG_REF_OR_NULL:
			rs.args[k] = ext ? (uintptr_t)ext_env_pkt() : 0;
			break;
		case RT_ARG_SCALAR:
			rs.args[k] = k == 1 ? (t.has_mem ? t.memlen : 0) : 0;
			break;
		default:
			break;
		}
	}
	if (ext)
		rs.extra = ext_env_regions(&nreg);
	rs.nextra = nreg;
	if (rs.memlen > sizeof(o.mem)) {
		st->skipped++;
		goto out;
	}
	memset(&vr, 0, sizeof(vr));
	verified = rt_verify(p, 0, &entry, NULL, &vr) == 0;
	if (!verified && t.expect_error) {
		st->skipped++;
		goto out;
	}
	if (!verified) {
		/* Without the verifier's word, only compare what the
		 * interpreter runs cleanly in checking mode. */
		if (!run_engine(p, 0, &rs, false, NULL, &o) ||
		    (o.run.status != RT_RUN_OK && o.run.status != RT_RUN_FUEL &&
		     o.run.status != RT_RUN_HELPER)) {
			st->skipped++;
			goto out;
		}
	}
	st->compared++;
	if (ext)
		ext_env_reset();
	if (!run_both_spec(p, 0, &rs, &o)) {
		printf("  %s: engines disagree\n", path);
		ok = false;
	} else if (!ext && t.has_result && !t.expect_error && o.run.status == RT_RUN_OK &&
	           o.run.r0 != t.result) {
		/* (The verifier corpus's expected results are its own runner's
		 * business, tools/verifier-corpus.c; here only the engines are
		 * compared with each other.) */
		printf("  %s: r0 %#llx, expected %#llx\n", path, (unsigned long long)o.run.r0,
		       (unsigned long long)t.result);
		ok = false;
	} else {
		st->agreed++;
	}
out:
	rt_prog_free(p);
	rt_free(insns);
	rt_asm_test_free(&t);
	free(text);
	return ok;
}

struct diff_walk {
	bool ext, required, ok;
	struct diff_stats *st;
};

static int diff_file(const char *path, enum tk_walk_event ev, void *arg)
{
	struct diff_walk *w = arg;

	if (ev != TK_WALK_FILE) {
		if (w->required)
			printf("  cannot open %s\n", path);
		w->ok = !w->required;
		return 0;
	}
	if (!diff_one(path, w->ext, w->st))
		w->ok = false;
	return 0;
}

/* Every .data file in dir (not below it), in name order. */
static bool diff_dir(const char *dir, bool ext, struct diff_stats *st, bool required)
{
	struct diff_walk w = {ext, required, true, st};

	tk_walk(dir, TK_WALK_DATA_ONLY, diff_file, &w);
	return w.ok;
}

static void differential_conformance(void)
{
	const char *dir = getenv("CONFORMANCE_DIR");
	struct diff_stats st = {0};

	if (!dir)
		dir = "tests/bpf-conformance/tests";
	CHECK(diff_dir(dir, false, &st, true));
	printf("  conformance: %u files, %u compared, %u agreed, %u skipped (refused or "
	       "not runnable)\n",
	       st.files, st.compared, st.agreed, st.skipped);
	/* The suite has ~300 programs; comparing almost none is a failure. */
	CHECK(st.compared >= 250);
}

static void differential_verifier_corpus(void)
{
	struct diff_stats st = {0};

	CHECK(diff_dir("tests/verifier", true, &st, false));
	printf("  verifier corpus: %u files, %u compared, %u agreed, %u skipped\n", st.files,
	       st.compared, st.agreed, st.skipped);
}

/* A run stopped while holding a reference (the fuel runs out at the
 * releasing call, or an aborting import ends it) releases it through the
 * run's ledger on both engines; without a ledger it stays held, which is
 * the contract (runtime/exec.h: a caller without a ledger cleans up). */
static void stopped_runs_release_references(void)
{
	/* console_open(1); console_close; exit: 2 units, so a budget of 1
	 * stops at console_close (insn 4) with the Console open. */
	static const char *fuel_stop = "mov %r1, 1\ncall 2\njeq %r0, 0, +3\nmov %r1, %r0\n"
	                               "call 4\nmov %r0, 0\nexit";
	/* Open a Console and a second Pkt hold, then ext_abort(0xdead). */
	static const char *abort_held = "mov %r6, %r1\nmov %r1, 1\ncall 2\njeq %r0, 0, +11\n"
	                                "mov %r7, %r0\nmov %r1, %r6\ncall 13\nmov %r8, %r0\n"
	                                "lddw %r1, 0xdead\ncall 15\nmov %r1, %r8\ncall 14\n"
	                                "mov %r1, %r7\ncall 4\nmov %r0, 0\nexit";
	static const struct {
		const char *entry;
		uint64_t fuel;
		enum rt_status status;
		uint32_t pc;
	} cases[] = {
	    {"ext/none", 1, RT_RUN_FUEL, 4},
	    {"ext/pkt", 100, RT_RUN_HELPER, 10},
	};

	for (uint32_t c = 0; c < 2; c++) {
		const char *text = c == 0 ? fuel_stop : abort_held;
		struct rt_prog *p = NULL;
		struct rt_verify_result vr;
		struct rt_entry entry;
		char err[512] = "";

		CHECK(ext_env_entry_for(cases[c].entry, &entry));
		p = bpf_build_asm(text, &ext_env_embed);
		CHECK(p != NULL);
		memset(&vr, 0, sizeof(vr));
		if (!p || rt_verify(p, 0, &entry, NULL, &vr)) {
			printf("  case %u: %s\n", c, vr.msg);
			CHECK(!"refused");
			rt_prog_free(p);
			continue;
		}
		for (int jit = 0; jit < 2; jit++) {
			for (int with = 0; with < 2; with++) {
				struct rt_ledger ledger;
				struct rt_run run = {0};
				uint64_t args[5] = {(uintptr_t)ext_env_pkt(), 0, 0, 0, 0};
				int rc;

				ext_env_reset();
				run.fuel = cases[c].fuel;
				if (with) {
					run.ledger = &ledger;
					ext_env_set_ledger(&ledger);
				}
				if (jit) {
					struct rt_jit *j = NULL;

					rc = rt_jit_compile(p, &j, err, sizeof(err));
					CHECK_EQ(rc, 0);
					if (!rc)
						rc = rt_jit_run(j, 0, args, &run);
					rt_jit_free(j);
				} else {
					rc = rt_interp_run(p, 0, args, &run, NULL);
				}
				ext_env_set_ledger(NULL);
				CHECK_EQ(rc, 0);
				CHECK_EQ(run.status, cases[c].status);
				CHECK_EQ(run.pc, cases[c].pc);
				CHECK_EQ(ext_env_open_consoles(), with ? 0 : (int)c + 1);
				if (with) {
					CHECK_EQ(ledger.n, 0);
					CHECK(!ledger.overflow);
				}
			}
		}
		/* A completed run leaves nothing noted and releases nothing. */
		if (c == 1) {
			struct rt_ledger ledger;
			struct rt_run run = {0};
			uint64_t args[5] = {(uintptr_t)ext_env_pkt(), 0, 0, 0, 0};

			ext_env_reset();
			run.fuel = 100;
			run.ledger = &ledger;
			ext_env_set_ledger(&ledger);
			/* ext_abort(0xdead) aborts; patch the lddw to 0xbeef. */
			p->insns[8].imm = 0xbeef;
			CHECK_EQ(rt_interp_run(p, 0, args, &run, NULL), 0);
			ext_env_set_ledger(NULL);
			CHECK_EQ(run.status, RT_RUN_OK);
			CHECK_EQ(ledger.n, 0);
			CHECK_EQ(ext_env_open_consoles(), 0);
		}
		rt_prog_free(p);
	}
}

int main(void)
{
	RUN(alu64);
	RUN(alu32_zero_extends);
	RUN(shifts_through_rcx);
	RUN(divmod);
	RUN(movsx_and_swaps);
	RUN(jumps);
	RUN(memory);
	RUN(atomics);
	RUN(lddw_and_globals);
	RUN(local_calls);
	RUN(imports);
	RUN(inline_imports);
	RUN(fuel);
	RUN(batched_runs);
	RUN(abort_pc);
	RUN(status_register);
	RUN(shared_budget);
	RUN(plain_entry);
	RUN(aligned_loops);
	RUN(jmp_on_r10_without_stack_gets_a_frame);
	RUN(peepholes);
	RUN(callee_saved);
	RUN(free_imports_cost_nothing);
	RUN(guard_with_inline_accessor_is_plain);
	RUN(inline_accessor_reads_the_source);
	RUN(inline_accessor_drops_the_slot_mov);
	RUN(unmetered_entry_matches_metered);
	RUN(unmetered_entry_only_when_safe);
	RUN(unmetered_entry_is_c);
	RUN(unmetered_tail_calls);
	RUN(unmetered_regs_without_calls);
	RUN(sink_liveness);
	RUN(sink_plan_cases);
	RUN(sink_xas_call_path);
	RUN(sink_refusals_run_right);
	RUN(sink_random_differential);
	RUN(refusals);
	RUN(stopped_runs_release_references);
	RUN(differential_conformance);
	RUN(differential_verifier_corpus);
	return check_done();
}
