/*
 * verify_test.c - host unit tests of the verifier, pass by pass, for what
 * the data-driven corpus (tests/verifier) cannot express: encodings the
 * loader already refuses (callx, legacy loads, broken lddw, unlinked calls),
 * hand-built programs with globals and line info, budgets, prog->aux, the
 * code table, and pruning/widening efficiency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/asm.h"
#include "runtime/prog.h"
#include "runtime/verify.h"
#include "runtime/verify_impl.h"
#include "tests/ext/ext_env.h"
#include "tests/unit/bpf_build.h"
#include "tests/unit/check.h"

/* Assemble, load raw and link against the sample embedder. */
static struct rt_prog *build(const char *text)
{
	return bpf_build_asm(text, &ext_env_embed);
}

static int verify_as(struct rt_prog *p, const char *section, struct rt_verify_result *res,
                     uint32_t max_states)
{
	struct rt_entry e;
	struct rt_verify_opts o = {.max_states = max_states};

	ext_env_entry_for(section, &e);
	return rt_verify(p, 0, &e, &o, res);
}

/* Build and verify text as `section`, which must accept it; print the
 * effort (res) for the efficiency tests to bound.  False if not accepted. */
static bool accepted_with_effort(const char *text, const char *section,
                                 struct rt_verify_result *res)
{
	struct rt_prog *p = build(text);
	int rc;

	CHECK(p);
	if (!p)
		return false;
	rc = verify_as(p, section, res, 0);
	CHECK_EQ(rc, 0);
	printf("  %u insns processed, %u states\n", res->insns_processed, res->states);
	rt_prog_free(p);
	return rc == 0;
}

/* Verify text as ext/none after patching insn `at` with `patch`. */
static int code_after_patch(const char *text, uint32_t at, struct bpf_insn patch)
{
	struct rt_prog *p = build(text);
	struct rt_verify_result res;
	int rc;

	if (!p)
		return -1000;
	p->insns[at] = patch;
	rc = verify_as(p, "ext/none", &res, 0);
	rt_prog_free(p);
	return rc == -RT_EREJECT ? res.code : rc;
}

static const char *three = "mov %r0, 0\nmov %r0, 1\nexit\n";

static void cfg_refuses_callx(void)
{
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0x8d, .dst = 3}),
	         RT_VERR_CALLX);
}

static void cfg_refuses_legacy_loads(void)
{
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = BPF_LD | BPF_ABS | BPF_W}),
	         RT_VERR_LEGACY_LD);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = BPF_LD | BPF_IND | BPF_B}),
	         RT_VERR_LEGACY_LD);
}

static void cfg_refuses_broken_lddw(void)
{
	/* lddw as the last instruction: no second slot. */
	CHECK_EQ(code_after_patch(three, 2, (struct bpf_insn){.code = 0x18}), RT_VERR_LDDW);
	/* lddw naming a global region the program does not have. */
	CHECK_EQ(code_after_patch("mov %r0, 0\nlddw %r1, 0\nexit\n", 1,
	                          (struct bpf_insn){.code = 0x18, .dst = 1, .src = 2, .imm = 3}),
	         RT_VERR_BAD_GLOBAL);
	/* unknown pseudo source (map fd in Linux) */
	CHECK_EQ(code_after_patch("mov %r0, 0\nlddw %r1, 0\nexit\n", 1,
	                          (struct bpf_insn){.code = 0x18, .dst = 1, .src = 1}),
	         RT_VERR_LDDW);
}

static void cfg_refuses_unlinked_calls(void)
{
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0x85, .src = 2, .imm = 7}),
	         RT_VERR_BAD_IMPORT);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0x85, .imm = 5}),
	         RT_VERR_BAD_HELPER);
	/* a local call into the middle of lddw / outside the program */
	CHECK_EQ(code_after_patch("mov %r0, 0\ncall 5\nexit\nlddw %r0, 5\nexit\n", 1,
	                          (struct bpf_insn){.code = 0x85, .src = 1, .imm = 2}),
	         RT_VERR_CALL_TARGET);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0x85, .src = 1, .imm = 50}),
	         RT_VERR_CALL_TARGET);
}

static void cfg_refuses_bad_calls_and_reserved(void)
{
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0x85, .src = 7}),
	         RT_VERR_RESERVED);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0x05, .dst = 1}),
	         RT_VERR_RESERVED);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0xb7, .off = 3}),
	         RT_VERR_RESERVED);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0xbf, .src = 1, .off = 7}),
	         RT_VERR_RESERVED);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0xe5}), RT_VERR_BAD_OPCODE);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0x8f}), RT_VERR_BAD_OPCODE);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0xdf, .imm = 16}),
	         RT_VERR_BAD_OPCODE);
	CHECK_EQ(code_after_patch(three, 1, (struct bpf_insn){.code = 0x61, .src = 12}),
	         RT_VERR_BAD_REG);
}

static void aux_flags_filled(void)
{
	struct rt_prog *p =
	    build("mov %r0, 0\nlddw %r1, 7\nloop:\nadd %r0, 1\njlt %r0, 3, loop\nexit\n");
	struct rt_verify_result res;

	if (!p) {
		CHECK(p);
		return;
	}
	CHECK_EQ(verify_as(p, "ext/none", &res, 0), 0);
	CHECK(p->aux != NULL);
	CHECK(p->aux[2].flags & RT_AUX_LDDW2);
	CHECK(p->aux[4].flags & RT_AUX_BACKEDGE);
	CHECK(!(p->aux[3].flags & RT_AUX_BACKEDGE));
	for (uint32_t i = 0; i < p->ninsns; i++)
		CHECK(p->aux[i].flags & RT_AUX_SEEN);
	rt_prog_free(p);
}

static void aux_unseen_dead_branch(void)
{
	/* The branch is decided (r0 == 0), so the verifier never sees insn 3;
	 * the CFG pass still finds it reachable, so the program is accepted. */
	struct rt_prog *p = build("mov %r0, 0\njeq %r0, 0, +1\nmov %r0, 1\nexit\n");
	struct rt_verify_result res;

	if (!p) {
		CHECK(p);
		return;
	}
	CHECK_EQ(verify_as(p, "ext/none", &res, 0), 0);
	CHECK(!(p->aux[2].flags & RT_AUX_SEEN));
	CHECK(p->aux[3].flags & RT_AUX_SEEN);
	rt_prog_free(p);
}

static void too_complex_budget(void)
{
	struct rt_prog *p =
	    build("mov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, 1\njlt %r1, 100, loop\nexit\n");
	struct rt_verify_result res;

	if (!p) {
		CHECK(p);
		return;
	}
	CHECK_EQ(verify_as(p, "ext/none", &res, 3), -RT_EREJECT);
	CHECK_EQ(res.code, RT_VERR_TOO_COMPLEX);
	CHECK_EQ(verify_as(p, "ext/none", &res, 0), 0);
	rt_prog_free(p);
}

static void widening_converges(void)
{
	/* A million iterations with a data-dependent path inside: the loop head
	 * is explored exactly for a while, then widened. */
	const char *text = "mov %r0, 0\nmov %r1, 0\nloop:\njset %r1, 1, odd\nadd %r0, 2\nja next\n"
	                   "odd:\nadd %r0, 1\nnext:\nadd %r1, 1\njlt %r1, 1000000, loop\nexit\n";
	struct rt_verify_result res;

	if (accepted_with_effort(text, "ext/none", &res))
		CHECK(res.insns_processed < 20000);
}

/* Bounds follow the known low bits (vreg_sync): an even value at most 1501
 * is at most 1500, an odd one at least 0 is at least 1; a bound with no
 * aligned value on its side stays put (the value is then empty, which
 * vreg_feasible reports) instead of wrapping around. */
static void bounds_follow_known_low_bits(void)
{
	struct vreg r;

	vreg_set_bounds(&r, 0, 1501);
	r.var = (struct tnum){0, ~1ull};
	vreg_sync(&r);
	CHECK_EQ(r.umax, 1500);
	CHECK_EQ(r.smax, 1500);

	vreg_set_bounds(&r, 1, 1499);
	r.var = (struct tnum){0, ~3ull};
	vreg_sync(&r);
	CHECK_EQ(r.umin, 4);
	CHECK_EQ(r.umax, 1496);

	vreg_set_bounds(&r, 0, 1500);
	r.var = (struct tnum){1, ~1ull};
	vreg_sync(&r);
	CHECK_EQ(r.umin, 1);
	CHECK_EQ(r.umax, 1499);

	vreg_mark_unknown(&r);
	r.var = (struct tnum){0, ~1ull};
	vreg_sync(&r);
	CHECK_EQ(r.umax, UINT64_MAX - 1);
	CHECK_EQ(r.smin, INT64_MIN);
	CHECK_EQ(r.smax, INT64_MAX - 1);

	vreg_set_bounds(&r, 0, 0);
	r.var = (struct tnum){1, ~1ull};
	vreg_sync(&r);
	CHECK(r.umin > r.umax); /* empty, not wrapped to a huge umax */
	CHECK(r.umax <= 1);
}

static void pruning_diamonds(void)
{
	/* 24 if/else diamonds on bytes of the context: 2^24 paths without
	 * pruning; with it, each join point keeps a couple of states. */
	char text[8192] = "mov %r0, 0\nmov %r2, 0\n";
	for (int i = 0; i < 24; i++) {
		char l[200];
		snprintf(l, sizeof(l),
		         "ldxb %%r3, [%%r1+%d]\njset %%r3, 1, a%d\nadd %%r2, 1\nja b%d\na%d:\nadd "
		         "%%r2, 2\nb%d:\nmov %%r2, 0\n",
		         i, i, i, i, i);
		strcat(text, l);
	}
	strcat(text, "exit\n");
	struct rt_verify_result res;

	if (accepted_with_effort(text, "ext/ctx24", &res))
		CHECK(res.insns_processed < 2000);
}

static void precision_accumulator_prunes(void)
{
	/* A loop bounded by an unknown count, with a sum that is only
	 * returned: the sum is imprecise, so it does not keep states apart,
	 * and the counter (compared with an unknown only) widens at once. */
	const char *text = "mov %r0, 0\nmov %r3, 0\n"
	                   "loop:\n"
	                   "mov %r4, %r3\nand %r4, 7\nmov %r5, %r1\nadd %r5, %r4\n"
	                   "ldxb %r5, [%r5+0]\nadd %r0, %r5\nadd %r3, 1\n"
	                   "jlt %r3, %r2, loop\n"
	                   "exit\n";
	struct rt_verify_result res;

	if (accepted_with_effort(text, "ext/ctx8", &res))
		CHECK(res.states < 80);
}

static void counted_states_hashed(void)
{
	/* A state machine in a counted loop: 200 iterations x 4 states kept at
	 * the loop head, all differing in precise constants.  They must be
	 * explored (a bound depends on them) but the lookup stays cheap; the
	 * insn count shows the exploration is still exact, not widened. */
	const char *text = "mov %r0, 0\nmov %r3, 0\nmov %r6, 0\n"
	                   "loop:\n"
	                   "ldxb %r4, [%r1+0]\n"
	                   "jeq %r4, 1, one\n"
	                   "mov %r6, 1\nja next\n"
	                   "one:\nmov %r6, 3\n"
	                   "next:\n"
	                   "mov %r5, %r1\nadd %r5, %r6\nldxb %r5, [%r5+0]\nadd %r0, %r5\n"
	                   "add %r3, 1\njlt %r3, 200, loop\n"
	                   "exit\n";
	struct rt_verify_result res;

	if (accepted_with_effort(text, "ext/ctx8", &res))
		CHECK(res.insns_processed < 10000);
}

/* The dataflow of verify_liveness on a small program, through a hand-run
 * of the passes it depends on. */
static void liveness_and_precision(void)
{
	/* 0: r6 = r2          r6: index (precise), r7: sum (not)
	 * 1: r7 = r2
	 * 2: *(u64 *)(fp-8) = r6
	 * 3: *(u64 *)(fp-16) = r7
	 * 4: r3 = *(u64 *)(fp-8)
	 * 5: r3 &= 7
	 * 6: r1 += r3
	 * 7: r0 = *(u8 *)(r1+0)
	 * 8: r0 += r7
	 * 9: exit */
	struct rt_prog *p = build("mov %r6, %r2\nmov %r7, %r2\nstxdw [%r10-8], %r6\n"
	                          "stxdw [%r10-16], %r7\nldxdw %r3, [%r10-8]\nand %r3, 7\n"
	                          "add %r1, %r3\nldxb %r0, [%r1+0]\nadd %r0, %r7\nexit\n");
	struct rt_verify_result res;
	struct rt_entry en;
	struct venv e;

	if (!p) {
		CHECK(p);
		return;
	}
	memset(&e, 0, sizeof(e));
	memset(&res, 0, sizeof(res));
	ext_env_entry_for("ext/ctx8", &en);
	p->aux = rt_alloc(p->ninsns * sizeof(*p->aux));
	e.p = p;
	e.entry = &en;
	e.res = &res;
	e.iflags = rt_alloc(p->ninsns);
	e.subof = rt_alloc(p->ninsns * sizeof(*e.subof));
	e.live = rt_alloc(p->ninsns * sizeof(*e.live));
	e.prec = rt_alloc(p->ninsns * sizeof(*e.prec));
	e.slive = rt_alloc(p->ninsns * sizeof(*e.slive));
	e.sprec = rt_alloc(p->ninsns * sizeof(*e.sprec));
	CHECK_EQ(verify_cfg(&e), 0);
	CHECK_EQ(verify_liveness(&e), 0);
	CHECK(!e.fp_escapes);
	CHECK(e.prec[0] & (1u << 2));    /* r2 flows into the index */
	CHECK(e.prec[2] & (1u << 6));    /* r6 is spilled into a precise slot */
	CHECK(!(e.prec[3] & (1u << 7))); /* r7 is only summed and returned */
	CHECK(e.live[3] & (1u << 7));
	CHECK(e.sprec[4] & 1u);    /* fp-8 (slot 0) is precise... */
	CHECK(!(e.slive[4] & 2u)); /* ...fp-16 (slot 1) is never read */
	CHECK(!(e.slive[2] & 1u)); /* slot 0 is dead before its store */
	CHECK(!(e.prec[8] & 1u));  /* the entry's result is not precise */
	rt_free(e.iflags);
	rt_free(e.subof);
	rt_free(e.live);
	rt_free(e.prec);
	rt_free(e.slive);
	rt_free(e.sprec);
	rt_free(e.subs);
	rt_prog_free(p);
}

/* A hand-made global region, as the ELF loader would give. */
static int with_global(const char *text, enum rt_global_kind kind, uint32_t size)
{
	struct rt_prog *p = build(text);
	struct rt_verify_result res;
	int rc;

	if (!p)
		return -1000;
	p->globals[0].kind = kind;
	p->globals[0].size = size;
	p->globals[0].data = rt_alloc(size);
	strcpy(p->globals[0].name, kind == RT_GLOBAL_RODATA ? ".rodata" : ".data");
	p->nglobals = 1;
	/* turn every "lddw rX, 0" into the global's address */
	for (uint32_t i = 0; i + 1 < p->ninsns; i++)
		if (bpf_is_lddw(&p->insns[i]) && p->insns[i].imm == 0 && p->insns[i + 1].imm == 0) {
			p->insns[i].src = BPF_PSEUDO_GLOBAL;
			i++;
		}
	rc = verify_as(p, "ext/ctx8", &res, 0);
	rt_prog_free(p);
	return rc == -RT_EREJECT ? res.code : rc;
}

static void globals(void)
{
	const char *store = "lddw %r1, 0\nstw [%r1+4], 1\nldxw %r0, [%r1+4]\nexit\n";
	const char *oob = "lddw %r1, 0\nldxw %r0, [%r1+6]\nexit\n";
	const char *idx =
	    "ldxw %r2, [%r1+0]\nlddw %r1, 0\nand %r2, 7\nadd %r1, %r2\nldxb %r0, [%r1+0]\nexit\n";
	const char *leak = "lddw %r1, 0\nstxdw [%r1+0], %r10\nmov %r0, 0\nexit\n";

	CHECK_EQ(with_global(store, RT_GLOBAL_DATA, 8), 0);
	CHECK_EQ(with_global(store, RT_GLOBAL_RODATA, 8), RT_VERR_READONLY);
	CHECK_EQ(with_global(oob, RT_GLOBAL_DATA, 8), RT_VERR_GLOBAL_OOB);
	CHECK_EQ(with_global(idx, RT_GLOBAL_BSS, 8), 0);
	CHECK_EQ(with_global(idx, RT_GLOBAL_BSS, 7), RT_VERR_GLOBAL_OOB);
	CHECK_EQ(with_global(leak, RT_GLOBAL_DATA, 8), RT_VERR_PTR_STORE);
}

static void message_has_source_line(void)
{
	struct rt_prog *p = build("mov %r0, 0\nldxdw %r0, [%r10-8]\nexit\n");
	struct rt_verify_result res;
	struct rt_line *saved;
	uint32_t nsaved;
	static struct rt_line lines[] = {
	    {0, "ext.c", NULL, 41, 1},
	    {1, "ext.c", NULL, 42, 9},
	    {2, "ext.c", NULL, 43, 1},
	};

	if (!p) {
		CHECK(p);
		return;
	}
	saved = p->lines;
	nsaved = p->nlines;
	p->lines = lines;
	p->nlines = 3;
	CHECK_EQ(verify_as(p, "ext/none", &res, 0), -RT_EREJECT);
	CHECK_EQ(res.code, RT_VERR_UNINIT_STACK);
	CHECK_EQ(res.insn, 1);
	CHECK(strncmp(res.msg, "ext.c:42: error: insn 1: ", 25) == 0);
	printf("  message: %s\n", res.msg);
	p->lines = saved;
	p->nlines = nsaved;
	rt_prog_free(p);
}

static void message_names_state(void)
{
	struct rt_prog *p =
	    build("mov %r1, 1\ncall 2\nmov %r6, %r0\nstdw [%r10-8], 0\nmov %r2, %r10\n"
	          "add %r2, -8\nmov %r3, 8\nmov %r1, %r6\ncall 3\nmov %r0, 0\nexit\n");
	struct rt_verify_result res;

	if (!p) {
		CHECK(p);
		return;
	}
	CHECK_EQ(verify_as(p, "ext/none", &res, 0), -RT_EREJECT);
	CHECK_EQ(res.code, RT_VERR_NULL_DEREF);
	CHECK(strstr(res.msg, "r1 is a possibly-null reference to Console.T") != NULL);
	CHECK(strstr(res.msg, "r1=ref_or_null(Console.T)") != NULL);
	rt_prog_free(p);
}

static void code_names_are_distinct(void)
{
	for (int a = 1; a <= RT_VERR_ARG_PTR_SPILL; a++) {
		const char *n = verify_code_name(a);
		if (!strcmp(n, "unknown"))
			continue;
		CHECK_EQ(verify_code_from_name(n), a);
	}
	CHECK_EQ(verify_code_from_name("no-such-code"), -1);
}

static void bad_requests(void)
{
	struct rt_prog *p = build(three);
	struct rt_verify_result res;
	struct rt_entry e = {0};

	if (!p) {
		CHECK(p);
		return;
	}
	CHECK_EQ(rt_verify(p, 5, &e, NULL, &res), -RT_EINVAL);
	CHECK_EQ(rt_verify(NULL, 0, &e, NULL, &res), -RT_EINVAL);
	e.args[0].kind = RT_ARG_REF; /* a reference with no type */
	CHECK_EQ(rt_verify(p, 0, &e, NULL, &res), -RT_EINVAL);
	rt_prog_free(p);
}

static void log_is_written(void)
{
	struct rt_prog *p = build("mov %r0, 5\nexit\n");
	struct rt_verify_result res;
	struct rt_entry e = {0};
	char log[512];
	struct rt_verify_opts o = {.log = log, .loglen = sizeof(log)};

	if (!p) {
		CHECK(p);
		return;
	}
	CHECK_EQ(rt_verify(p, 0, &e, &o, &res), 0);
	CHECK(strstr(log, "accepted") != NULL);
	rt_prog_free(p);
}

int main(void)
{
	RUN(cfg_refuses_callx);
	RUN(cfg_refuses_legacy_loads);
	RUN(cfg_refuses_broken_lddw);
	RUN(cfg_refuses_unlinked_calls);
	RUN(cfg_refuses_bad_calls_and_reserved);
	RUN(aux_flags_filled);
	RUN(aux_unseen_dead_branch);
	RUN(too_complex_budget);
	RUN(widening_converges);
	RUN(bounds_follow_known_low_bits);
	RUN(pruning_diamonds);
	RUN(precision_accumulator_prunes);
	RUN(counted_states_hashed);
	RUN(liveness_and_precision);
	RUN(globals);
	RUN(message_has_source_line);
	RUN(message_names_state);
	RUN(code_names_are_distinct);
	RUN(bad_requests);
	RUN(log_is_written);
	return check_done();
}
