/*
 * interp_test.c - the interpreter's semantics beyond the conformance suite:
 * signed division edge cases, shifts at and beyond the width, 32-bit zero
 * extension, atomics, fuel at back-edges and calls, the call depth limit,
 * checking-mode faults, and robustness on bytecode nobody verified.
 * Programs are written in the suite's assembly (runtime/asm.h) where that
 * is clearer, and hand-encoded where the encoding itself is the point.
 */
#include "runtime/asm.h"
#include "runtime/exec.h"
#include "tests/unit/bpf_build.h"
#include "tests/unit/check.h"

static uint64_t h_sum(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a + b + c + d + e;
}

static struct rt_jit_ret h_abort_if_zero(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	struct rt_jit_ret r = {a + 1, a == 0};

	(void)b, (void)c, (void)d, (void)e;
	return r;
}

static const struct rt_sig sig_sum = {
    .name = "sum",
    .fn = (void *)h_sum,
    .nargs = 5,
    .args = BPF_BUILD_ARGS5,
    .ret = {.kind = RT_RET_SCALAR},
};
static const struct rt_sig sig_abort = {
    .name = "abort_if_zero",
    .fn = (void *)h_abort_if_zero,
    .nargs = 1,
    .args = {{RT_ARG_SCALAR, 0, 0, 0}},
    .ret = {.kind = RT_RET_SCALAR},
    .flags = RT_SIG_MAYABORT,
};

static const struct rt_sig *helper(void *arg, int32_t id)
{
	(void)arg;
	return id == 1 ? &sig_sum : id == 2 ? &sig_abort : NULL;
}

static const struct rt_embed embed = {NULL, helper, NULL};

static struct rt_prog *build(const char *text)
{
	return bpf_build_asm(text, &embed);
}

/* Run text with r1 = mem (checked region) and r2 = len. */
static struct rt_run run_mem(const char *text, void *mem, uint32_t len, uint64_t fuel)
{
	struct rt_run run = {0};
	struct rt_prog *p = build(text);
	struct rt_region r = {(uintptr_t)mem, len, true};
	struct rt_check check = {&r, 1, true};
	uint64_t args[5] = {(uintptr_t)mem, len, 0, 0, 0};

	run.status = RT_RUN_BADINSN;
	run.r0 = 0xdead;
	if (!p)
		return run;
	run.fuel = fuel;
	if (rt_interp_run(p, 0, args, &run, &check) != 0)
		run.status = RT_RUN_BADINSN;
	rt_prog_free(p);
	return run;
}

static uint64_t eval(const char *text)
{
	struct rt_run run = run_mem(text, NULL, 0, RT_FUEL_UNLIMITED);

	CHECK_EQ(run.status, RT_RUN_OK);
	return run.r0;
}

static void signed_division(void)
{
	CHECK_EQ(eval("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit"), 0x8000000000000000ull);
	CHECK_EQ(eval("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsdiv %r0, %r1\nexit"),
	         0x8000000000000000ull);
	CHECK_EQ(eval("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), 0);
	CHECK_EQ(eval("mov %r0, -7\nsdiv %r0, 2\nexit"), (uint64_t)-3);
	CHECK_EQ(eval("mov %r0, -7\nsmod %r0, 2\nexit"), (uint64_t)-1);
	CHECK_EQ(eval("mov %r0, 7\nsmod %r0, -2\nexit"), 1);
	CHECK_EQ(eval("mov %r0, -7\nsdiv %r0, 0\nexit"), 0);
	CHECK_EQ(eval("mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1\nexit"), (uint64_t)-7);
	/* 32-bit: INT_MIN / -1, results zero-extended. */
	CHECK_EQ(eval("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit"), 0x80000000ull);
	CHECK_EQ(eval("mov32 %r0, 0x80000000\nsmod32 %r0, -1\nexit"), 0);
	CHECK_EQ(eval("mov %r0, -7\nsdiv32 %r0, 2\nexit"), 0xfffffffdull);
	CHECK_EQ(eval("mov %r0, -7\nsmod32 %r0, 0\nexit"), 0xfffffff9ull);
	/* Unsigned: by zero gives 0 / leaves the dividend. */
	CHECK_EQ(eval("mov %r0, 9\ndiv %r0, 0\nexit"), 0);
	CHECK_EQ(eval("mov %r0, 9\nmod %r0, 0\nexit"), 9);
	CHECK_EQ(eval("lddw %r0, 0x100000009\nmod32 %r0, 0\nexit"), 9);
	CHECK_EQ(eval("mov %r0, -1\ndiv %r0, 2\nexit"), 0x7fffffffffffffffull);
}

static void shifts_at_and_past_width(void)
{
	CHECK_EQ(eval("mov %r0, 1\nlsh %r0, 63\nexit"), 0x8000000000000000ull);
	CHECK_EQ(eval("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit"), 2); /* 65 & 63 */
	CHECK_EQ(eval("mov %r0, 1\nmov %r1, 64\nlsh %r0, %r1\nexit"), 1); /* 64 & 63 */
	CHECK_EQ(eval("mov32 %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit"), 2);
	CHECK_EQ(eval("mov %r0, -1\nmov %r1, 32\nrsh32 %r0, %r1\nexit"), 0xffffffffull);
	CHECK_EQ(eval("mov %r0, -8\narsh %r0, 1\nexit"), (uint64_t)-4);
	CHECK_EQ(eval("mov %r0, -8\nmov %r1, 127\narsh %r0, %r1\nexit"), (uint64_t)-1);
	CHECK_EQ(eval("mov32 %r0, -8\narsh32 %r0, 1\nexit"), 0xfffffffcull);
	CHECK_EQ(eval("mov %r0, -1\nrsh %r0, 63\nexit"), 1);
}

static void alu32_zero_extends(void)
{
	CHECK_EQ(eval("mov32 %r0, -1\nexit"), 0xffffffffull);
	CHECK_EQ(eval("mov %r0, -1\nadd32 %r0, 1\nexit"), 0);
	CHECK_EQ(eval("mov %r0, -1\nmov32 %r0, %r0\nexit"), 0xffffffffull);
	CHECK_EQ(eval("lddw %r0, 0x123456789\nneg32 %r0\nexit"), (uint32_t)-0x23456789);
	CHECK_EQ(eval("mov %r0, -1\nmul32 %r0, 2\nexit"), 0xfffffffeull);
	CHECK_EQ(eval("mov %r0, -1\nxor32 %r0, 0\nexit"), 0xffffffffull);
	CHECK_EQ(eval("mov %r0, -1\nle32 %r0\nexit"), 0xffffffffull);
	CHECK_EQ(eval("mov %r0, -1\nle16 %r0\nexit"), 0xffffull);
	CHECK_EQ(eval("lddw %r0, 0x1122334455667788\nbe16 %r0\nexit"), 0x8877);
	CHECK_EQ(eval("lddw %r0, 0x1122334455667788\nbswap64 %r0\nexit"), 0x8877665544332211ull);
	CHECK_EQ(eval("mov %r1, 0x80\nmovsx832 %r0, %r1\nexit"), 0xffffff80ull);
	CHECK_EQ(eval("mov %r1, 0x80\nmovsx864 %r0, %r1\nexit"), 0xffffffffffffff80ull);
	CHECK_EQ(eval("mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1\nexit"), 0xffffffff80000000ull);
	/* A 64-bit mov of a negative imm sign-extends; mov32 does not. */
	CHECK_EQ(eval("mov %r0, -2\nexit"), (uint64_t)-2);
	/* JMP32 compares the low halves only. */
	CHECK_EQ(
	    eval("lddw %r1, 0x100000001\nmov %r0, 0\njeq32 %r1, 1, +1\nexit\nmov %r0, 7\nexit"), 7);
}

static void atomics(void)
{
	uint64_t m[2] = {10, 0xffffffff00000005ull};
	struct rt_run r = {0};

	r = run_mem("mov %r2, 5\nlock fetch add [%r1+0], %r2\nmov %r0, %r2\nexit", m, 16,
	            RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_OK);
	CHECK_EQ(r.r0, 10);
	CHECK_EQ(m[0], 15);
	/* 32-bit fetch: the old value is zero-extended into src. */
	r = run_mem("mov %r2, 1\nlock fetch add32 [%r1+12], %r2\nmov %r0, %r2\nexit", m, 16,
	            RT_FUEL_UNLIMITED);
	CHECK_EQ(r.r0, 0xffffffffull);
	CHECK_EQ(m[1], 0x0000000000000005ull);
	/* cmpxchg: success stores, failure does not; r0 = old either way. */
	r = run_mem("mov %r0, 15\nmov %r2, 99\nlock cmpxchg [%r1+0], %r2\nexit", m, 16,
	            RT_FUEL_UNLIMITED);
	CHECK_EQ(r.r0, 15);
	CHECK_EQ(m[0], 99);
	r = run_mem("mov %r0, 15\nmov %r2, 7\nlock cmpxchg [%r1+0], %r2\nexit", m, 16,
	            RT_FUEL_UNLIMITED);
	CHECK_EQ(r.r0, 99);
	CHECK_EQ(m[0], 99);
	r = run_mem("mov %r2, 3\nlock xchg [%r1+0], %r2\nmov %r0, %r2\nexit", m, 16,
	            RT_FUEL_UNLIMITED);
	CHECK_EQ(r.r0, 99);
	CHECK_EQ(m[0], 3);
	r = run_mem("mov %r2, 6\nlock or [%r1+0], %r2\nmov %r0, %r2\nexit", m, 16,
	            RT_FUEL_UNLIMITED);
	CHECK_EQ(r.r0, 6); /* no fetch: src unchanged */
	CHECK_EQ(m[0], 7);
	/* Misaligned atomics fault in checking mode. */
	r = run_mem("mov %r2, 1\nlock add [%r1+1], %r2\nexit", m, 16, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_FAULT);
}

static const char *loop_prog = "mov %r0, 0\n"
                               "loop:\n"
                               "add %r0, 1\n"
                               "jlt %r0, 10, loop\n" /* taken 9 times */
                               "exit\n";

static void fuel_at_back_edge(void)
{
	struct rt_run r = {0};

	r = run_mem(loop_prog, NULL, 0, 9);
	CHECK_EQ(r.status, RT_RUN_OK);
	CHECK_EQ(r.r0, 10);
	CHECK_EQ(r.fuel, 0);
	r = run_mem(loop_prog, NULL, 0, 8);
	CHECK_EQ(r.status, RT_RUN_FUEL);
	CHECK_EQ(r.pc, 2);
	CHECK_EQ(r.r0, 0);
	/* An infinite loop stops. */
	r = run_mem("l:\nja l\n", NULL, 0, 1000);
	CHECK_EQ(r.status, RT_RUN_FUEL);
	CHECK_EQ(r.fuel, 0);
	/* A forward jump costs nothing. */
	r = run_mem("ja +0\nmov %r0, 1\nexit", NULL, 0, 0);
	CHECK_EQ(r.status, RT_RUN_OK);
}

static const char *call_prog = "mov %r1, 5\n"
                               "call local f\n"
                               "exit\n"
                               "f:\n"
                               "mov %r0, %r1\n"
                               "exit\n";

static void fuel_at_call(void)
{
	struct rt_run r = {0};

	r = run_mem(call_prog, NULL, 0, 1);
	CHECK_EQ(r.status, RT_RUN_OK);
	CHECK_EQ(r.r0, 5);
	r = run_mem(call_prog, NULL, 0, 0);
	CHECK_EQ(r.status, RT_RUN_FUEL);
	CHECK_EQ(r.pc, 1);
	/* Import calls cost one unit too. */
	r = run_mem("call 1\nexit", NULL, 0, 0);
	CHECK_EQ(r.status, RT_RUN_FUEL);
	r = run_mem("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 1\nexit",
	            NULL, 0, 1);
	CHECK_EQ(r.status, RT_RUN_OK);
	CHECK_EQ(r.r0, 15);
}

static void call_frames_and_depth(void)
{
	struct rt_run r = {0};
	char text[2048];
	int k, len = 0;

	/* r6-r9 and r10 survive a call that clobbers them; the callee may
	 * use a pointer into its caller's frame. */
	r = run_mem("mov %r6, 6\nmov %r9, 9\nstdw [%r10-8], 40\nmov %r1, %r10\nadd %r1, -8\n"
	            "call local f\nadd %r0, %r6\nadd %r0, %r9\nldxdw %r2, [%r10-8]\n"
	            "add %r0, %r2\nexit\n"
	            "f:\nmov %r6, 0\nmov %r9, 0\nldxdw %r0, [%r1]\nstdw [%r10-8], 1\nexit\n",
	            NULL, 0, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_OK);
	CHECK_EQ(r.r0, 40 + 6 + 9 + 40);

	/* 8 frames in all (entry + 7 nested calls) are allowed; 9 are not. */
	for (k = 0; k < 7; k++)
		len +=
		    snprintf(text + len, sizeof(text) - len, "call local f%d\nexit\nf%d:\n", k, k);
	snprintf(text + len, sizeof(text) - len, "mov %%r0, 77\nexit\n");
	r = run_mem(text, NULL, 0, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_OK);
	CHECK_EQ(r.r0, 77);
	len = 0;
	for (k = 0; k < 8; k++)
		len +=
		    snprintf(text + len, sizeof(text) - len, "call local f%d\nexit\nf%d:\n", k, k);
	snprintf(text + len, sizeof(text) - len, "mov %%r0, 77\nexit\n");
	r = run_mem(text, NULL, 0, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_DEPTH);
	/* Unbounded recursion ends at the depth limit, not in the host. */
	r = run_mem("f:\ncall local f\nexit\n", NULL, 0, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_DEPTH);
}

static void helpers_and_abort(void)
{
	struct rt_run r = {0};

	r = run_mem("mov %r1, 4\ncall 2\nexit", NULL, 0, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_OK);
	CHECK_EQ(r.r0, 5);
	r = run_mem("mov %r1, 0\ncall 2\nmov %r0, 9\nexit", NULL, 0, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_HELPER);
	CHECK_EQ(r.pc, 1);
	CHECK_EQ(r.r0, 0);
}

static void checking_mode_faults(void)
{
	uint8_t m[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct rt_run r = {0};

	r = run_mem("ldxdw %r0, [%r1]\nexit", m, 8, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_OK);
	CHECK_EQ(r.r0, 0x0807060504030201ull);
	r = run_mem("ldxdw %r0, [%r1+1]\nexit", m, 8, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_FAULT);
	CHECK_EQ(r.pc, 0);
	r = run_mem("ldxb %r0, [%r1-1]\nexit", m, 8, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_FAULT);
	r = run_mem("stb [%r10], 1\nexit", m, 8, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_FAULT);
	r = run_mem("stdw [%r10-512], 1\nldxdw %r0, [%r10-512]\nexit", m, 8, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_OK);
	r = run_mem("stb [%r10-513], 1\nexit", m, 8, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_FAULT);
	/* A callee's frame is dead after it returns. */
	r = run_mem("call local f\nldxdw %r0, [%r0]\nexit\nf:\nmov %r0, %r10\nadd %r0, -8\nexit\n",
	            m, 8, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_FAULT);
	/* Null and wild pointers. */
	r = run_mem("mov %r1, 0\nldxb %r0, [%r1]\nexit", m, 8, RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_FAULT);
	r = run_mem("lddw %r1, 0xffffffffffffffff\nldxw %r0, [%r1+2]\nexit", m, 8,
	            RT_FUEL_UNLIMITED);
	CHECK_EQ(r.status, RT_RUN_FAULT);
}

static void global_regions(void)
{
	/* Hand-built program with a .rodata and a .data region. */
	static const struct bpf_insn code[] = {
	    {0x18, 1, 0, 0, 0}, {0, 0, 0, 0, 4}, /* r1 = &rodata + 4 */
	    {0x61, 0, 1, 0, 0},                  /* r0 = *(u32 *)(r1 + 0) */
	    {0x18, 2, 0, 0, 0}, {0, 0, 0, 0, 0}, /* r2 = &data */
	    {0x63, 2, 0, 0, 0},                  /* *(u32 *)(r2 + 0) = r0 */
	    {0x62, 1, 0, 0, 1},                  /* *(u32 *)(r1 + 0) = 1: read-only */
	    {0x95, 0, 0, 0, 0},
	};
	struct rt_prog *p = NULL;
	struct rt_run run = {.fuel = RT_FUEL_UNLIMITED};
	struct rt_check check = {NULL, 0, true};
	char err[128];
	uint32_t v = 0xabcd;

	CHECK_EQ(rt_prog_from_raw(code, 8, &p, err, sizeof(err)), 0);
	if (!p)
		return;
	p->nglobals = 2;
	memcpy(p->globals[0].name, ".rodata", 8);
	p->globals[0].kind = RT_GLOBAL_RODATA;
	p->globals[0].size = 8;
	p->globals[0].data = rt_alloc(8);
	memcpy(p->globals[0].data + 4, &v, 4);
	memcpy(p->globals[1].name, ".data", 6);
	p->globals[1].kind = RT_GLOBAL_DATA;
	p->globals[1].size = 4;
	p->globals[1].data = rt_alloc(4);
	p->insns[0].src = BPF_PSEUDO_GLOBAL;
	p->insns[0].imm = 0;
	p->insns[3].src = BPF_PSEUDO_GLOBAL;
	p->insns[3].imm = 1;
	CHECK_EQ(rt_interp_run(p, 0, NULL, &run, &check), 0);
	CHECK_EQ(run.status, RT_RUN_FAULT);
	CHECK_EQ(run.pc, 6);
	CHECK_EQ(*(uint32_t *)p->globals[1].data, 0xabcd);
	/* Without the read-only store it runs to the end. */
	p->insns[6] = (struct bpf_insn){0xb7, 0, 0, 0, 3};
	CHECK_EQ(rt_interp_run(p, 0, NULL, &run, &check), 0);
	CHECK_EQ(run.status, RT_RUN_OK);
	CHECK_EQ(run.r0, 3);
	rt_prog_free(p);
}

/* Unverified bytecode never crashes the host: each case ends BADINSN. */
static void hostile_bytecode(void)
{
	static const struct {
		const char *what;
		struct bpf_insn code[3];
		uint32_t n;
	} cases[] = {
	    {"dst r11", {{0xb7, 11, 0, 0, 1}, {0x95, 0, 0, 0, 0}}, 2},
	    {"src r15", {{0xbf, 0, 15, 0, 0}, {0x95, 0, 0, 0, 0}}, 2},
	    {"write r10", {{0xb7, 10, 0, 0, 1}, {0x95, 0, 0, 0, 0}}, 2},
	    {"jump past end", {{0x05, 0, 0, 5, 0}, {0x95, 0, 0, 0, 0}}, 2},
	    {"jump before start", {{0x05, 0, 0, -3, 0}, {0x95, 0, 0, 0, 0}}, 2},
	    {"gotol far", {{0x06, 0, 0, 0, 0x7fffffff}, {0x95, 0, 0, 0, 0}}, 2},
	    {"falls off the end", {{0xb7, 0, 0, 0, 1}}, 1},
	    {"unknown opcode", {{0xff, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}}, 2},
	    {"bad END width", {{0xd4, 0, 0, 0, 17}, {0x95, 0, 0, 0, 0}}, 2},
	    {"div off 2", {{0x37, 0, 0, 2, 1}, {0x95, 0, 0, 0, 0}}, 2},
	    {"movsx off 7", {{0xbf, 0, 1, 7, 0}, {0x95, 0, 0, 0, 0}}, 2},
	    {"jump into lddw", {{0x05, 0, 0, 1, 0}, {0x18, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}, 3},
	    {"atomic bad op", {{0xdb, 10, 1, -8, 0x02}, {0x95, 0, 0, 0, 0}}, 2},
	    {"exit with imm", {{0x95, 0, 0, 0, 1}}, 1},
	    {"ldx dw sx", {{0x99, 0, 10, -8, 0}, {0x95, 0, 0, 0, 0}}, 2},
	    {"call helper unlinked", {{0x85, 0, 0, 0, 42}, {0x95, 0, 0, 0, 0}}, 2},
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct rt_prog *p = NULL;
		struct rt_run run = {.fuel = 100};
		struct rt_check check = {NULL, 0, true};
		char err[128];

		if (rt_prog_from_raw(cases[k].code, cases[k].n, &p, err, sizeof(err))) {
			printf("  (%s refused at load: %s)\n", cases[k].what, err);
			continue;
		}
		CHECK_EQ(rt_interp_run(p, 0, NULL, &run, &check), 0);
		if (run.status != RT_RUN_BADINSN)
			printf("  case '%s'\n", cases[k].what);
		CHECK_EQ(run.status, RT_RUN_BADINSN);
		rt_prog_free(p);
	}
}

static void load_time_refusals(void)
{
	static const struct bpf_insn callx[] = {{0x8d, 2, 0, 0, 0}, {0x95, 0, 0, 0, 0}};
	static const struct bpf_insn abs[] = {{0x20, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}};
	static const struct bpf_insn split[] = {{0xb7, 0, 0, 0, 0}, {0x18, 0, 0, 0, 0}};
	static const struct bpf_insn far_call[] = {{0x85, 0, 1, 0, 5}, {0x95, 0, 0, 0, 0}};
	struct rt_prog *p = NULL;
	char err[256];

	CHECK_EQ(rt_prog_from_raw(callx, 2, &p, err, sizeof(err)), -RT_EUNSUPP);
	CHECK(strstr(err, "callx") != NULL);
	CHECK_EQ(rt_prog_from_raw(abs, 2, &p, err, sizeof(err)), -RT_EUNSUPP);
	CHECK(strstr(err, "BPF_ABS") != NULL);
	CHECK_EQ(rt_prog_from_raw(split, 2, &p, err, sizeof(err)), -RT_EMALFORMED);
	CHECK(strstr(err, "split") != NULL);
	CHECK_EQ(rt_prog_from_raw(far_call, 2, &p, err, sizeof(err)), -RT_EMALFORMED);
	CHECK_EQ(rt_prog_from_raw(callx, 0, &p, err, sizeof(err)), -RT_EMALFORMED);
	CHECK_EQ(rt_prog_from_raw(callx, RT_MAX_INSNS + 1, &p, err, sizeof(err)), -RT_E2BIG);
	CHECK(p == NULL);
}

static void raw_functions_from_calls(void)
{
	struct rt_prog *p = build(call_prog);

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ(p->nfuncs, 2);
	CHECK_EQ(p->funcs[0].start, 0);
	CHECK_EQ(p->funcs[0].end, 3);
	CHECK_EQ(p->funcs[1].start, 3);
	CHECK_EQ(p->funcs[1].end, 5);
	CHECK(p->funcs[0].entry && !p->funcs[1].entry);
	rt_prog_free(p);
}

static void link_helpers(void)
{
	struct rt_prog *p = build("call 1\ncall 2\ncall 1\nexit");
	static const struct rt_embed none = {NULL, NULL, NULL};
	struct rt_prog *q;
	char err[256];

	CHECK(p != NULL);
	if (!p)
		return;
	/* Numbered calls become deduplicated PSEUDO_IMPORT calls. */
	CHECK_EQ(p->nimports, 2);
	CHECK_STR(p->imports[0].name, "#1");
	CHECK_STR(p->imports[1].name, "#2");
	CHECK_EQ(p->insns[0].src, BPF_PSEUDO_IMPORT);
	CHECK_EQ(p->insns[0].imm, 0);
	CHECK_EQ(p->insns[1].imm, 1);
	CHECK_EQ(p->insns[2].imm, 0);
	CHECK(p->imports[0].sig == &sig_sum);
	rt_prog_free(p);

	/* A failed link names the helper and leaves the program untouched. */
	{
		static const struct bpf_insn c[] = {{0x85, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}};

		CHECK_EQ(rt_prog_from_raw(c, 2, &q, err, sizeof(err)), 0);
		CHECK_EQ(rt_prog_link(q, &none, err, sizeof(err)), -RT_ENOENT);
		CHECK(strstr(err, "helper 7") != NULL);
		CHECK_EQ(q->insns[0].src, 0);
		CHECK_EQ(q->nimports, 0);
		rt_prog_free(q);
	}
}

static void unchecked_mode(void)
{
	uint64_t m = 41;
	struct rt_prog *p = build("ldxdw %r0, [%r1]\nadd %r0, 1\nstxdw [%r1], %r0\nexit");
	struct rt_run run = {.fuel = RT_FUEL_UNLIMITED};
	uint64_t args[5] = {(uintptr_t)&m};

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ(rt_interp_run(p, 0, args, &run, NULL), 0);
	CHECK_EQ(run.status, RT_RUN_OK);
	CHECK_EQ(run.r0, 42);
	CHECK_EQ(m, 42);
	CHECK_EQ(rt_interp_run(p, 1, args, &run, NULL), -RT_EINVAL);
	rt_prog_free(p);
}

/* The ledger itself (runtime/ledger.c): notes are released newest first,
 * a release strikes out the newest note of its reference only, and a note
 * past RT_LEDGER_MAX is lost with the overflow flag set. */
static uint64_t released[RT_LEDGER_MAX + 2];
static uint32_t nreleased;

static void note_release(uint64_t ref)
{
	if (nreleased < RT_LEDGER_MAX + 2)
		released[nreleased++] = ref;
}

static void ledger_unwinds_newest_first(void)
{
	struct rt_ledger l = {0};
	uint32_t i;

	rt_ledger_note_acquire(&l, 1, note_release);
	rt_ledger_note_acquire(&l, 2, note_release);
	rt_ledger_note_acquire(&l, 1, note_release);
	rt_ledger_note_acquire(&l, 0, note_release); /* NULL: not acquired */
	rt_ledger_note_acquire(&l, 3, note_release);
	CHECK_EQ(l.n, 4);
	rt_ledger_note_release(&l, 1); /* the newest 1 */
	rt_ledger_note_release(&l, 7); /* not noted: ignored */
	CHECK_EQ(l.n, 3);
	nreleased = 0;
	rt_ledger_unwind(&l);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(nreleased, 3);
	CHECK_EQ(released[0], 3);
	CHECK_EQ(released[1], 2);
	CHECK_EQ(released[2], 1);
	for (i = 0; i < RT_LEDGER_MAX + 1; i++)
		rt_ledger_note_acquire(&l, 100 + i, note_release);
	CHECK_EQ(l.n, RT_LEDGER_MAX);
	CHECK(l.overflow);
	nreleased = 0;
	rt_ledger_unwind(&l);
	CHECK_EQ(nreleased, RT_LEDGER_MAX);
	rt_ledger_note_acquire(NULL, 1, note_release); /* no ledger: nothing */
	rt_ledger_unwind(NULL);
}

int main(void)
{
	RUN(signed_division);
	RUN(shifts_at_and_past_width);
	RUN(alu32_zero_extends);
	RUN(atomics);
	RUN(fuel_at_back_edge);
	RUN(fuel_at_call);
	RUN(call_frames_and_depth);
	RUN(helpers_and_abort);
	RUN(checking_mode_faults);
	RUN(global_regions);
	RUN(hostile_bytecode);
	RUN(load_time_refusals);
	RUN(raw_functions_from_calls);
	RUN(link_helpers);
	RUN(unchecked_mode);
	RUN(ledger_unwinds_newest_first);
	return check_done();
}
