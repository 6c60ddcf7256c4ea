/*
 * dispatch_guard_test.c: recognising extension guards that are a range test
 * of one field (runtime/guard_range.h), which the dispatcher then tests in
 * line instead of calling.
 *
 * The embedder here mimics MachineTrap: Number(ss) reads the 64-bit field
 * at 0x70 of the saved state and Arg(ss, i) one of six, both with rt_inline
 * forms; Other(ss) is a pure accessor without one.  Cases:
 *   - the real is_xas guard (user/ext/xas.c), instruction for instruction
 *     as clang emits it (llvm-objdump -d on the build's user/ext/xas.o);
 *   - random programs in the shapes clang emits for `F(ss) - B < C`,
 *     `F(ss) == K`, `lo <= F(ss) && F(ss) <= hi`, `return F(ss) + A`,
 *     with every comparison (unsigned and signed, either operand order,
 *     immediate or register, 64-bit constants): each derived range is
 *     checked against the interpreter on the values where the answer can
 *     change and on random ones, and each refusal must be one of the two
 *     that are about the result ("accepts more than one range", "accepts
 *     nothing"), and then true of the interpreter's answers;
 *   - programs it must refuse, each for its own reason.
 */
#include "tests/unit/check.h"

#include "runtime/exec.h"
#include "runtime/guard_range.h"
#include "runtime/verify.h"
#include "tests/unit/bpf_build.h"

#define OFF_NUMBER 0x70

static const struct rt_field ss_fields[] = {{"rax", OFF_NUMBER, 8, false}};
static const struct rt_type ss_type = {"SavedState", 0xb0, ss_fields, 1};
static const struct rt_type proc_type = {"Process", 64, NULL, 0};

static uint64_t number(uint64_t ss, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a2, (void)a3, (void)a4, (void)a5;
	return *(const uint64_t *)(uintptr_t)(ss + OFF_NUMBER);
}

static const uint16_t arg_offs[6] = {0x48, 0x50, 0x58, 0x60, 0x68, 0x78};
static uint64_t arg(uint64_t ss, uint64_t i, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	return i < 6 ? *(const uint64_t *)(uintptr_t)(ss + arg_offs[i]) : 0;
}

static uint64_t other(uint64_t ss, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a2, (void)a3, (void)a4, (void)a5;
	return *(const uint64_t *)(uintptr_t)(ss + 8);
}

#define SSARG                                                                                      \
	{                                                                                          \
		RT_ARG_REF, &ss_type, 0, false                                                     \
	}
#define RETS                                                                                       \
	{                                                                                          \
		RT_RET_SCALAR, NULL, 0, false, false                                               \
	}
static const struct rt_sig number_sig = {"Number", (void *)number, 1, {SSARG}, RETS, RT_SIG_PURE};
static const struct rt_sig arg_sig = {
    "Arg", (void *)arg, 2, {SSARG, {RT_ARG_SCALAR, NULL, 0, false}}, RETS, RT_SIG_PURE};
static const struct rt_sig other_sig = {"Other", (void *)other, 1, {SSARG}, RETS, RT_SIG_PURE};
static const struct rt_inline number_inline = {&number_sig, 1, {OFF_NUMBER}};
static const struct rt_inline arg_inline = {&arg_sig, 6, {0x48, 0x50, 0x58, 0x60, 0x68, 0x78}};

static const struct rt_sig *helper(void *a, int32_t id)
{
	(void)a;
	return id == 1 ? &number_sig : id == 2 ? &arg_sig : id == 3 ? &other_sig : NULL;
}
static const struct rt_embed env = {NULL, helper, NULL};

/* A guard of the event (Process p, SavedState ss). */
static const struct rt_entry guard_entry = {{{RT_ARG_REF, &proc_type, 0, false}, SSARG}, true};

static uint64_t ss_mem[0xb0 / 8];

/* The program's answer (non-zero?) with the field at 0x70 = v. */
static bool run(const struct rt_prog *p, uint64_t v)
{
	static uint64_t proc[8];
	uint64_t a[5] = {(uint64_t)(uintptr_t)proc, (uint64_t)(uintptr_t)ss_mem, 0, 0, 0};
	struct rt_run r = {.fuel = 1000};

	ss_mem[OFF_NUMBER / 8] = v;
	if (rt_interp_run(p, 0, a, &r, NULL) != 0 || r.status != RT_RUN_OK) {
		printf("  run failed (status %d)\n", (int)r.status);
		return false;
	}
	return r.r0 != 0;
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Values where a test on field + A against K can change its answer. */
static uint32_t critical(uint64_t *v, uint32_t max, const uint64_t *k, uint32_t nk, uint64_t add)
{
	static const uint64_t edges[] = {0, 1, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull};
	uint32_t n = 0;

	for (uint32_t i = 0; i < 5 && n < max; i++) {
		v[n++] = edges[i];
		v[n++] = edges[i] - add;
	}
	for (uint32_t i = 0; i < nk && n + 3 <= max; i++)
		for (int d = -1; d <= 1; d++)
			v[n++] = k[i] + (uint64_t)(int64_t)d - add;
	while (n < max)
		v[n++] = rnd64() >> (rnd64() % 64);
	/* Sorted (insertion: few). */
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1], v[j - 1] = t;
		}
	return n;
}

/* The real guard of user/ext/xas.c: `MachineTrap_Number(ss) - SPIN_XAS_BASE
 * < SPIN_XAS_COUNT`, as llvm-objdump -d shows it in the build's
 * user/ext/xas.o.  Only the call differs: there it is src=1, imm=-1 with a
 * relocation naming MachineTrap_Number; here a numbered helper. */
static void real_is_xas(void)
{
	static const struct bpf_insn is_xas[] = {
	    {0xbf, 1, 2, 0, 0},                    /* r1 = r2 */
	    {0x85, 0, 0, 0, 1},                    /* call Number */
	    {0xbf, 1, 0, 0, 0},                    /* r1 = r0 */
	    {0x07, 1, 0, 0, (int32_t)0xacafff00u}, /* r1 += -1397752064 */
	    {0xb4, 0, 0, 0, 1},                    /* w0 = 1 */
	    {0xa5, 1, 0, 1, 5},                    /* if r1 < 5 goto +1 */
	    {0xb4, 0, 0, 0, 0},                    /* w0 = 0 */
	    {0x95, 0, 0, 0, 0},                    /* exit */
	};
	struct rt_prog *p = bpf_build_insns(is_xas, 8, &env);
	struct rt_verify_result res = {0};
	struct rt_guard_range r = {0};
	const char *why = NULL;
	uint64_t v[64];
	uint32_t n;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ(rt_verify(p, 0, &guard_entry, NULL, &res), 0);
	CHECK_EQ(rt_guard_range(p, 0, &guard_entry, &r, &why), 0);
	CHECK_EQ(r.arg, 1);
	CHECK_EQ(r.off, OFF_NUMBER);
	CHECK_EQ(r.lo, 0x53500100);
	CHECK_EQ(r.hi, 0x53500104);
	{
		uint64_t k[] = {0x53500100, 0x53500105};
		n = critical(v, 64, k, 2, 0);
	}
	for (uint32_t i = 0; i < n; i++)
		CHECK_EQ(run(p, v[i]), r.lo <= v[i] && v[i] <= r.hi);
	rt_prog_free(p);
}

/* --------------------------------------------------- random programs */

static const uint8_t jops[] = {BPF_JEQ, BPF_JNE,  BPF_JGT,  BPF_JGE,  BPF_JLT,
                               BPF_JLE, BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE};

static int32_t rnd_imm(void)
{
	static const int32_t pick[] = {0, 1, -1, 5, 0x3ff, INT32_MAX, INT32_MIN, 0x53500100};

	switch (rnd64() % 3) {
	case 0:
		return pick[rnd64() % 8];
	case 1:
		return (int32_t)(rnd64() % 2000) - 1000;
	default:
		return (int32_t)rnd64();
	}
}

static uint64_t rnd_k64(void)
{
	static const uint64_t pick[] = {0,
	                                ~0ull,
	                                0x7fffffffffffffffull,
	                                0x8000000000000000ull,
	                                0x100000000ull,
	                                0xffffffff80000000ull};

	return rnd64() % 2 ? pick[rnd64() % 6] : rnd64();
}

struct shape {
	struct bpf_insn in[16];
	uint32_t n;
	uint64_t k[4]; /* constants the answer turns on (in the field + add frame) */
	uint32_t nk;
	uint64_t add; /* what the program adds to the field before comparing */
};

static void emit(struct shape *s, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	s->in[s->n++] = (struct bpf_insn){code, dst, src, off, imm};
}

/* r1 = the field, by accessor call, by Arg(ss, i)... no: by ldxdw. */
static void load_field(struct shape *s)
{
	if (rnd64() % 3 == 0) {
		emit(s, BPF_LDX | BPF_MEM | BPF_DW, 1, 2, OFF_NUMBER,
		     0); /* r1 = *(u64 *)(r2 + 0x70) */
		return;
	}
	emit(s, BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 0, 0); /* r1 = r2 */
	emit(s, BPF_JMP | BPF_CALL, 0, 0, 0, 1);          /* call Number */
	emit(s, BPF_ALU64 | BPF_MOV | BPF_X, 1, 0, 0, 0); /* r1 = r0 */
}

/* field + A (or - A, or nothing) in r1. */
static void offset_field(struct shape *s)
{
	int32_t a = rnd_imm();

	s->add = 0;
	switch (rnd64() % 3) {
	case 0:
		emit(s, BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, a);
		s->add = (uint64_t)(int64_t)a;
		break;
	case 1:
		emit(s, BPF_ALU64 | BPF_SUB | BPF_K, 1, 0, 0, a);
		s->add = -(uint64_t)(int64_t)a;
		break;
	default:
		break;
	}
}

/* `if r1 op K` in one of three spellings; jumps `skip` ahead when true. */
static void compare(struct shape *s, uint8_t op, int16_t skip)
{
	uint64_t k;

	switch (rnd64() % 3) {
	case 0: /* immediate */
		k = (uint64_t)(int64_t)rnd_imm();
		emit(s, BPF_JMP | op | BPF_K, 1, 0, skip, (int32_t)k);
		break;
	case 1: /* a 64-bit constant in r3 */
		k = rnd_k64();
		emit(s, BPF_LD | BPF_IMM | BPF_DW, 3, 0, 0, (int32_t)(uint32_t)k);
		emit(s, 0, 0, 0, 0, (int32_t)(uint32_t)(k >> 32));
		emit(s, BPF_JMP | op | BPF_X, 1, 3, skip, 0);
		break;
	default: { /* the constant first: `if K op' r1` */
		static const uint8_t mirror[16] = {
		    [BPF_JEQ >> 4] = BPF_JEQ,   [BPF_JNE >> 4] = BPF_JNE,
		    [BPF_JGT >> 4] = BPF_JLT,   [BPF_JGE >> 4] = BPF_JLE,
		    [BPF_JLT >> 4] = BPF_JGT,   [BPF_JLE >> 4] = BPF_JGE,
		    [BPF_JSGT >> 4] = BPF_JSLT, [BPF_JSGE >> 4] = BPF_JSLE,
		    [BPF_JSLT >> 4] = BPF_JSGT, [BPF_JSLE >> 4] = BPF_JSGE};
		k = (uint64_t)(int64_t)rnd_imm();
		emit(s, BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, (int32_t)k);
		emit(s, BPF_JMP | mirror[op >> 4] | BPF_X, 3, 1, skip, 0);
		break;
	}
	}
	s->k[s->nk++] = k;
}

/* One random program in a shape clang emits for a range guard. */
static void random_shape(struct shape *s)
{
	uint8_t op = jops[rnd64() % 10];
	bool inverted = rnd64() % 2;

	memset(s, 0, sizeof(*s));
	load_field(s);
	offset_field(s);
	switch (rnd64() % 4) {
	case 0:
	case 1: /* r0 = 1; if cond goto +1; r0 = 0; exit (or inverted) */
		emit(s, (rnd64() % 2 ? BPF_ALU : BPF_ALU64) | BPF_MOV | BPF_K, 0, 0, 0,
		     inverted ? 0 : 1);
		compare(s, op, 1);
		emit(s, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, inverted ? 1 : 0);
		emit(s, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		break;
	case 2: { /* two tests: if a goto F; if b goto F; r0 = 1; exit; F: r0 = 0; exit */
		uint8_t op2 = jops[rnd64() % 10];
		uint32_t j1, j2;

		j1 = s->n;
		compare(s, op, 0);
		j2 = s->n;
		compare(s, op2, 0);
		emit(s, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, inverted ? 0 : 1);
		emit(s, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		emit(s, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, inverted ? 1 : 0);
		emit(s, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		/* Patch both jumps (the last instruction of each compare) to F. */
		for (uint32_t at = j1; at < j2; at++)
			if (BPF_CLASS(s->in[at].code) == BPF_JMP)
				s->in[at].off = (int16_t)(s->n - 2 - at - 1);
		for (uint32_t at = j2; at < s->n - 4; at++)
			if (BPF_CLASS(s->in[at].code) == BPF_JMP)
				s->in[at].off = (int16_t)(s->n - 2 - at - 1);
		break;
	}
	default: /* return field + A: non-zero except at one value */
		emit(s, BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 0, 0);
		emit(s, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		s->k[s->nk++] = 0;
		break;
	}
}

static void random_guards_match_the_interpreter(void)
{
	uint32_t derived = 0, split = 0, empty = 0, bad = 0, programs = 3000;

	for (uint32_t round = 0; round < programs; round++) {
		struct shape s;
		struct rt_prog *p;
		struct rt_guard_range r;
		struct rt_verify_result res = {0};
		const char *why = NULL;
		uint64_t v[96];
		uint32_t n;
		int rc;

		random_shape(&s);
		p = bpf_build_insns(s.in, s.n, &env);
		if (!p) {
			CHECK(0);
			return;
		}
		if (rt_verify(p, 0, &guard_entry, NULL, &res) != 0) {
			printf("  not verified: %s\n", res.msg);
			CHECK(0);
			rt_prog_free(p);
			return;
		}
		n = critical(v, 96, s.k, s.nk, s.add);
		rc = rt_guard_range(p, 0, &guard_entry, &r, &why);
		if (rc == 0) {
			derived++;
			CHECK_EQ(r.arg, 1);
			CHECK_EQ(r.off, OFF_NUMBER);
			CHECK(r.lo <= r.hi);
			for (uint32_t i = 0; i < n; i++)
				if (run(p, v[i]) != (r.lo <= v[i] && v[i] <= r.hi)) {
					if (!bad)
						printf("  round %u: v %#" PRIx64 " [%#" PRIx64
						       ", %#" PRIx64 "]\n",
						       round, v[i], r.lo, r.hi);
					bad++;
				}
		} else {
			bool seen_yes = false, gap = false, split_seen = false;

			CHECK_EQ(rc, -RT_EUNSUPP);
			CHECK(why != NULL);
			if (!why) {
				rt_prog_free(p);
				continue;
			}
			/* The interpreter must agree with the reason. */
			for (uint32_t i = 0; i < n; i++) {
				bool y = run(p, v[i]);

				if (y && gap)
					split_seen = true;
				if (!y && seen_yes)
					gap = true;
				seen_yes |= y;
			}
			if (strcmp(why, "accepts more than one range") == 0) {
				split++;
				/* Yes, no, yes in increasing order, or yes at both
				 * ends (a range around the wrap). */
				CHECK(split_seen);
			} else if (strcmp(why, "accepts nothing") == 0) {
				empty++;
				CHECK(!seen_yes);
			} else {
				printf("  round %u refused: %s\n", round, why);
				CHECK(0);
			}
		}
		rt_prog_free(p);
	}
	CHECK_EQ(bad, 0);
	CHECK(derived > programs / 3);
	CHECK(split > 0);
	CHECK(empty > 0);
	printf("  %u programs: %u ranges derived, %u split, %u empty\n", programs, derived, split,
	       empty);
}

/* Arg(ss, i) with a constant i: the field Arg's inline form names. */
static void arg_accessor_index(void)
{
	for (int32_t i = 0; i < 8; i++) {
		const struct bpf_insn in[] = {
		    {BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 0, 0}, /* r1 = r2 */
		    {BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, i}, /* r2 = i */
		    {BPF_JMP | BPF_CALL, 0, 0, 0, 2},          /* call Arg */
		    {BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0}, /* r1 = 0 */
		    {BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1, 7},   /* if r0 == 7 goto +1 */
		    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},          /* exit (r0 != 7) */
		    {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1}, /* r0 = 1 */
		    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
		};
		struct rt_prog *p = bpf_build_insns(in, 8, &env);
		struct rt_guard_range r;
		const char *why = NULL;
		int rc;

		CHECK(p != NULL);
		if (!p)
			return;
		rc = rt_guard_range(p, 0, &guard_entry, &r, &why);
		if (i < 6) {
			/* r0 != 7 returns r0 itself: non-zero unless 0; so the
			 * answer is "not 0" from one path and "7" from the other:
			 * [1, MAX]. */
			CHECK_EQ(rc, 0);
			CHECK_EQ(r.off, arg_offs[i]);
			CHECK_EQ(r.lo, 1);
			CHECK_EQ(r.hi, ~0ull);
		} else {
			CHECK_EQ(rc, -RT_EUNSUPP);
			CHECK_STR(why, "an accessor whose index is not a constant below n");
		}
		rt_prog_free(p);
	}
}

/* ------------------------------------------------------------ refusals */

static void refused(const char *text, const char *reason)
{
	struct rt_prog *p = bpf_build_asm(text, &env);
	struct rt_guard_range r;
	const char *why = NULL;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ(rt_guard_range(p, 0, &guard_entry, &r, &why), -RT_EUNSUPP);
	if (!why || strcmp(why, reason) != 0)
		printf("  %s\n  -> %s\n", text, why ? why : "(none)");
	CHECK_STR(why, reason);
	rt_prog_free(p);
}

#define HEAD "mov %r1, %r2\ncall 1\nmov %r1, %r0\n"

static void what_it_refuses(void)
{
	char longer[2048] = HEAD;

	refused(HEAD "stxdw [%r10-8], %r1\nmov %r0, 1\njlt %r1, 5, +1\nmov %r0, 0\nexit\n",
	        "a store or a load other than ldxdw");
	refused(
	    "mov %r1, %r2\ncall 3\nmov %r1, %r0\nmov %r0, 1\njlt %r1, 5, +1\nmov %r0, 0\nexit\n",
	    "a call of an import that is not a field accessor");
	refused(HEAD "mov %r0, 1\njlt32 %r1, 5, +1\nmov %r0, 0\nexit\n", "a 32-bit jump");
	refused(HEAD "mov %r0, 1\njset %r1, 5, +1\nmov %r0, 0\nexit\n", "a bit test (JSET)");
	refused(HEAD "mov %r0, 3\nsub %r0, 1\njne %r0, 0, -2\nexit\n", "a backward jump");
	/* Two fields: a branch on Number, then one on Arg(ss, 0). */
	refused("mov %r6, %r2\nmov %r1, %r2\ncall 1\njgt %r0, 5, +6\nmov %r1, %r6\nmov %r2, 0\n"
	        "call 2\nmov %r1, %r0\nmov %r0, 1\njlt %r1, 3, +1\nmov %r0, 0\nexit\n",
	        "reads more than one field");
	/* Number compared with Arg(ss, 0). */
	refused("mov %r6, %r2\nmov %r1, %r2\ncall 1\nmov %r7, %r0\nmov %r1, %r6\nmov %r2, 0\n"
	        "call 2\nmov %r1, %r0\nmov %r0, 1\njlt %r1, %r7, +1\nmov %r0, 0\nexit\n",
	        "a jump on something other than the field and a constant");
	refused("mov %r6, %r2\nmov %r1, %r2\ncall 1\nmov %r2, %r0\nmov %r1, %r6\ncall 2\n"
	        "mov %r1, %r0\nmov %r0, 1\njlt %r1, 5, +1\nmov %r0, 0\nexit\n",
	        "an accessor whose index is not a constant below n");
	refused("mov %r0, %r1\nexit\n", "returns something other than a constant or the field");
	refused(HEAD "mul %r1, 2\nmov %r0, 1\njlt %r1, 5, +1\nmov %r0, 0\nexit\n",
	        "an operation on the field other than adding a constant");
	refused(HEAD "add32 %r1, 5\nmov %r0, 1\njlt %r1, 5, +1\nmov %r0, 0\nexit\n",
	        "an operation on the field other than adding a constant");
	refused(HEAD "mov32 %r1, %r1\nmov %r0, 1\njlt %r1, 5, +1\nmov %r0, 0\nexit\n",
	        "arithmetic with a value that is not a constant");
	/* Outside [5, 10]: two ranges. */
	refused(HEAD "jlt %r1, 5, +3\njgt %r1, 10, +2\nmov %r0, 0\nexit\nmov %r0, 1\nexit\n",
	        "accepts more than one range");
	refused(HEAD "mov %r0, 0\njlt %r1, 0, +1\nmov %r0, 0\nexit\n", "accepts nothing");
	refused("mov %r0, 1\nexit\n", "does not depend on a field");
	refused(HEAD "mov %r0, 1\njeq %r2, 0, +1\nmov %r0, 0\nexit\n",
	        "a jump on something other than the field and a constant");
	refused("mov %r1, %r2\ncall 1\nldxdw %r1, [%r0+0]\nmov %r0, 1\njeq %r1, 5, +1\nmov %r0, "
	        "0\nexit\n",
	        "a read through something other than a reference argument");
	refused(HEAD "mov %r0, 1\njlt %r1, %r1, +1\nmov %r0, 0\nexit\n",
	        "a jump on something other than the field and a constant");
	refused("mov %r1, %r2\ncall local f\nexit\nf:\nmov %r0, 1\nexit\n",
	        "a call that is not an import");
	for (int i = 0; i < 30; i++)
		strcat(longer, "mov %r3, 0\n");
	strcat(longer, "mov %r0, 1\njlt %r1, 5, +1\nmov %r0, 0\nexit\n");
	refused(longer, "longer than a range test");
	/* Bad arguments. */
	{
		struct rt_guard_range r;
		CHECK_EQ(rt_guard_range(NULL, 0, &guard_entry, &r, NULL), -RT_EINVAL);
	}
}

/* A guard of an event of two numbers (Gatekeeper.IntruderAlert's shape):
 * a range of one argument's own value. */
static void number_argument_value(void)
{
	static const struct rt_entry scalars = {
	    {{RT_ARG_SCALAR, NULL, 0, false}, {RT_ARG_SCALAR, NULL, 0, false}}, true};
	static const struct {
		const char *text;
		uint32_t arg;
		uint64_t lo, hi;
	} cases[] = {
	    /* return level - 3 < 4 */
	    {"mov %r0, 1\nadd %r1, -3\njlt %r1, 4, +1\nmov %r0, 0\nexit\n", 0, 3, 6},
	    /* return code == 9 */
	    {"mov %r0, 1\njeq %r2, 9, +1\nmov %r0, 0\nexit\n", 1, 9, 9},
	    /* return (s64)code >= 0 */
	    {"mov %r0, 1\njsge %r2, 0, +1\nmov %r0, 0\nexit\n", 1, 0, 0x7fffffffffffffffull},
	};
	const char *why = NULL;

	for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rt_prog *p = bpf_build_asm(cases[i].text, &env);
		struct rt_verify_result res = {0};
		struct rt_guard_range r = {0};

		CHECK(p != NULL);
		if (!p)
			return;
		CHECK_EQ(rt_verify(p, 0, &scalars, NULL, &res), 0);
		CHECK_EQ(rt_guard_range(p, 0, &scalars, &r, &why), 0);
		CHECK_EQ(r.arg, cases[i].arg);
		CHECK_EQ(r.off, RT_GUARD_VALUE);
		CHECK_EQ(r.lo, cases[i].lo);
		CHECK_EQ(r.hi, cases[i].hi);
		for (uint32_t k = 0; k < 200; k++) {
			uint64_t v = k < 20 ? cases[i].lo + k - 10 : rnd64() >> (k % 64);
			uint64_t a[5] = {cases[i].arg == 0 ? v : 77, cases[i].arg == 1 ? v : 77};
			struct rt_run run = {.fuel = 100};

			CHECK_EQ(rt_interp_run(p, 0, a, &run, NULL), 0);
			CHECK_EQ(run.r0 != 0, r.lo <= v && v <= r.hi);
		}
		rt_prog_free(p);
	}
	/* Both numbers decide: no single range. */
	{
		struct rt_prog *p =
		    bpf_build_asm("mov %r0, 1\njlt %r1, %r2, +1\nmov %r0, 0\nexit\n", &env);
		struct rt_guard_range r;

		CHECK(p != NULL);
		if (p)
			CHECK_EQ(rt_guard_range(p, 0, &scalars, &r, &why), -RT_EUNSUPP);
		CHECK_STR(why, "a jump on something other than the field and a constant");
		rt_prog_free(p);
	}
}

int main(void)
{
	CHECK_EQ(rt_inline_register(&number_inline), 0);
	CHECK_EQ(rt_inline_register(&arg_inline), 0);
	RUN(real_is_xas);
	RUN(random_guards_match_the_interpreter);
	RUN(arg_accessor_index);
	RUN(what_it_refuses);
	RUN(number_argument_value);
	return check_done();
}
