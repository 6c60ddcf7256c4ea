/*
 * verify_cfg.c - the verifier's first pass: encoding and control flow.
 *
 * Before any abstract interpretation, the program's shape must be sane, so
 * that the state pass can walk it without range checks of its own:
 *
 *   1. Subprograms.  Every rt_func start and every local call target starts
 *      a subprogram, which runs to the next start (Linux does the same).  A
 *      call into the middle of a function therefore splits it, and then the
 *      split is only accepted if no jump or fall-through crosses it.
 *   2. Encoding of every instruction of every subprogram reachable from the
 *      entry through local calls: known opcodes only (callx and the legacy
 *      packet loads are refused by name), reserved fields zero, registers
 *      r0..r10 with r10 never written, well-formed lddw pairs.
 *   3. Control flow per subprogram: jumps stay inside it and never land on
 *      the second half of an lddw; the last instruction cannot fall through;
 *      every instruction is reachable; every reachable instruction can reach
 *      an exit (a loop with no way out is refused: fuel would stop it, but
 *      such a program can never do anything useful).
 *   4. The local call graph is acyclic and at most BPF_MAX_CALL_DEPTH frames
 *      deep.  The stack sum along the deepest chain is checked after the
 *      state pass, which measures each subprogram's frame.
 *
 * It also marks prune points (jump targets, subprogram starts and the
 * return sites of local calls: the places where paths join; the
 * fall-through of a conditional jump is reached by one path only and is not
 * one), loop heads (targets of back edges), and fills prog->aux with LDDW2
 * and BACKEDGE.  Finally verify_liveness computes, per instruction, the
 * registers and stack slots that are live and those whose exact value may
 * matter (precision), for the state pass's pruning.
 */
#include "runtime/verify_impl.h"

static int cfg_check_reg(struct venv *e, uint32_t pc, uint8_t r, bool written)
{
	if (r > BPF_REG_FP)
		return verify_reject(e, pc, RT_VERR_BAD_REG, "register r%u does not exist", r);
	if (written && r == BPF_REG_FP)
		return verify_reject(e, pc, RT_VERR_WRITE_FP,
		                     "r10 is the frame pointer and is read-only");
	return 0;
}

#define RESERVED(cond, what)                                                                       \
	do {                                                                                       \
		if (cond)                                                                          \
			return verify_reject(e, pc, RT_VERR_RESERVED,                              \
			                     "reserved field %s must be zero (opcode 0x%02x)",     \
			                     what, in->code);                                      \
	} while (0)

/* The operands of an ALU or conditional-jump instruction: of src and imm,
 * the one the source bit does not select must be zero; dst (written by an
 * ALU operation, only read by a jump) and a register src must exist. */
static int cfg_check_operands(struct venv *e, uint32_t pc, const struct bpf_insn *in,
                              bool dst_written)
{
	int rc;

	if (BPF_SRC(in->code) == BPF_K)
		RESERVED(in->src, "src");
	else
		RESERVED(in->imm, "imm");
	if ((rc = cfg_check_reg(e, pc, in->dst, dst_written)))
		return rc;
	if (BPF_SRC(in->code) == BPF_X)
		return cfg_check_reg(e, pc, in->src, false);
	return 0;
}

/* Check one instruction's encoding (pass 2). */
static int cfg_check_insn(struct venv *e, uint32_t pc)
{
	const struct rt_prog *p = e->p;
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t code = in->code, cls = BPF_CLASS(code), op = BPF_OP(code);
	int rc;

	switch (cls) {
	case BPF_LD:
		if (BPF_MODE(code) == BPF_ABS || BPF_MODE(code) == BPF_IND)
			return verify_reject(
			    e, pc, RT_VERR_LEGACY_LD,
			    "legacy packet load (BPF_ABS/BPF_IND, opcode 0x%02x) is not supported",
			    code);
		if (code != (BPF_LD | BPF_IMM | BPF_DW))
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x",
			                     code);
		if ((rc = cfg_check_reg(e, pc, in->dst, true)))
			return rc;
		RESERVED(in->off, "off");
		if (pc + 1 >= p->ninsns)
			return verify_reject(e, pc, RT_VERR_LDDW,
			                     "lddw is missing its second slot");
		{
			const struct bpf_insn *i2 = &p->insns[pc + 1];
			if (i2->code || i2->dst || i2->src || i2->off)
				return verify_reject(e, pc, RT_VERR_LDDW,
				                     "second slot of lddw must have zero opcode, "
				                     "registers and offset");
		}
		if (in->src == BPF_PSEUDO_GLOBAL) {
			if ((uint32_t)in->imm >= p->nglobals)
				return verify_reject(
				    e, pc, RT_VERR_BAD_GLOBAL,
				    "lddw names global region %d, the program has %u", in->imm,
				    p->nglobals);
		} else if (in->src != 0) {
			return verify_reject(e, pc, RT_VERR_LDDW,
			                     "lddw with unknown pseudo source %u", in->src);
		}
		return 0;
	case BPF_LDX:
		if (BPF_MODE(code) != BPF_MEM &&
		    !(BPF_MODE(code) == BPF_MEMSX && BPF_SIZE(code) != BPF_DW))
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x",
			                     code);
		RESERVED(in->imm, "imm");
		if ((rc = cfg_check_reg(e, pc, in->dst, true)) ||
		    (rc = cfg_check_reg(e, pc, in->src, false)))
			return rc;
		return 0;
	case BPF_ST:
		if (BPF_MODE(code) != BPF_MEM)
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x",
			                     code);
		RESERVED(in->src, "src");
		return cfg_check_reg(e, pc, in->dst, false);
	case BPF_STX:
		if (BPF_MODE(code) == BPF_ATOMIC) {
			uint32_t a = (uint32_t)in->imm, aop = a & ~(uint32_t)BPF_FETCH;
			if (BPF_SIZE(code) != BPF_W && BPF_SIZE(code) != BPF_DW)
				return verify_reject(
				    e, pc, RT_VERR_ATOMIC_OP,
				    "atomic operations exist only on 32 and 64-bit words");
			if (!(aop == BPF_ADD || aop == BPF_OR || aop == BPF_AND || aop == BPF_XOR ||
			      a == BPF_XCHG || a == BPF_CMPXCHG))
				return verify_reject(e, pc, RT_VERR_ATOMIC_OP,
				                     "unknown atomic operation 0x%x", a);
		} else if (BPF_MODE(code) == BPF_MEM) {
			RESERVED(in->imm, "imm");
		} else {
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x",
			                     code);
		}
		if ((rc = cfg_check_reg(e, pc, in->dst, false)) ||
		    (rc = cfg_check_reg(e, pc, in->src, false)))
			return rc;
		return 0;
	case BPF_ALU:
	case BPF_ALU64:
		if (op == BPF_END) {
			if (cls == BPF_ALU64 && BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE,
				                     "unknown opcode 0x%02x", code);
			if (in->imm != 16 && in->imm != 32 && in->imm != 64)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE,
				                     "byte swap of %d bits does not exist",
				                     in->imm);
			RESERVED(in->src, "src");
			RESERVED(in->off, "off");
			return cfg_check_reg(e, pc, in->dst, true);
		}
		if (op == BPF_NEG) {
			if (BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE,
				                     "unknown opcode 0x%02x", code);
			RESERVED(in->src, "src");
			RESERVED(in->off, "off");
			RESERVED(in->imm, "imm");
			return cfg_check_reg(e, pc, in->dst, true);
		}
		if (op > BPF_END)
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x",
			                     code);
		if (op == BPF_DIV || op == BPF_MOD) {
			RESERVED(in->off != 0 && in->off != 1, "off (0 or 1 for signed)");
		} else if (op == BPF_MOV && BPF_SRC(code) == BPF_X) {
			bool ok = in->off == 0 || in->off == 8 || in->off == 16 ||
			          (cls == BPF_ALU64 && in->off == 32);
			RESERVED(!ok, "off (sign-extension width)");
		} else {
			RESERVED(in->off, "off");
		}
		return cfg_check_operands(e, pc, in, true);
	case BPF_JMP:
	case BPF_JMP32:
		if (code == BPF_OPCODE_CALLX)
			return verify_reject(
			    e, pc, RT_VERR_CALLX,
			    "indirect call (callx) is not allowed: call functions by name");
		if (op == BPF_CALL) {
			if (cls != BPF_JMP || BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE,
				                     "unknown opcode 0x%02x", code);
			RESERVED(in->dst, "dst");
			RESERVED(in->off, "off");
			if (in->src != 0 && in->src != BPF_PSEUDO_CALL &&
			    in->src != BPF_PSEUDO_IMPORT)
				return verify_reject(e, pc, RT_VERR_RESERVED,
				                     "call with unknown source %u", in->src);
			return 0;
		}
		if (op == BPF_EXIT) {
			if (cls != BPF_JMP || BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE,
				                     "unknown opcode 0x%02x", code);
			RESERVED(in->dst || in->src || in->off || in->imm, "of exit");
			return 0;
		}
		if (op == BPF_JA) {
			if (BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE,
				                     "unknown opcode 0x%02x", code);
			RESERVED(in->dst || in->src, "register");
			if (cls == BPF_JMP)
				RESERVED(in->imm, "imm");
			else
				RESERVED(in->off, "off");
			return 0;
		}
		if (op > BPF_JSLE)
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x",
			                     code);
		return cfg_check_operands(e, pc, in, false);
	}
	return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
}

/* Jump target of a JA or conditional jump at pc (may be out of range). */
static int64_t cfg_target(const struct bpf_insn *in, uint32_t pc)
{
	if (BPF_CLASS(in->code) == BPF_JMP32 && BPF_OP(in->code) == BPF_JA)
		return (int64_t)pc + 1 + in->imm;
	return (int64_t)pc + 1 + in->off;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* A tiny insertion sort: the kernel has no qsort, and starts are few. */
static void sort_u32(uint32_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t j = i; j > 0 && cmp_u32(&v[j - 1], &v[j]) > 0; j--) {
			uint32_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Pass 1: subprogram boundaries from functions and call targets. */
static int cfg_subprogs(struct venv *e)
{
	struct rt_prog *p = e->p;
	uint32_t n = p->ninsns, cap = p->nfuncs + 1, cnt = 0;
	uint32_t *starts;
	int rc = 0;

	/* Mark lddw second halves first: they are never instructions. */
	for (uint32_t pc = 0; pc < n; pc++)
		if (bpf_is_lddw(&p->insns[pc]) && pc + 1 < n) {
			p->aux[pc + 1].flags |= RT_AUX_LDDW2;
			pc++;
		}
	for (uint32_t pc = 0; pc < n; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		if (p->aux[pc].flags & RT_AUX_LDDW2)
			continue;
		if (in->code == (BPF_JMP | BPF_CALL) && in->src == BPF_PSEUDO_CALL)
			cap++;
	}
	starts = rt_alloc((size_t)cap * sizeof(*starts));
	if (!starts)
		return -RT_ENOMEM;
	for (uint32_t i = 0; i < p->nfuncs; i++)
		if (p->funcs[i].start < n)
			starts[cnt++] = p->funcs[i].start;
	for (uint32_t pc = 0; pc < n; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		if (p->aux[pc].flags & RT_AUX_LDDW2)
			continue;
		if (in->code == (BPF_JMP | BPF_CALL) && in->src == BPF_PSEUDO_CALL) {
			int64_t t = (int64_t)pc + 1 + in->imm;
			/* Bad targets are reported when the call is reached. */
			if (t >= 0 && t < n && !(p->aux[t].flags & RT_AUX_LDDW2))
				starts[cnt++] = (uint32_t)t;
		}
	}
	sort_u32(starts, cnt);
	e->subs = rt_alloc((size_t)(cnt ? cnt : 1) * sizeof(*e->subs));
	if (!e->subs) {
		rc = -RT_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < cnt; i++) {
		if (e->nsubs && e->subs[e->nsubs - 1].start == starts[i])
			continue;
		e->subs[e->nsubs++].start = starts[i];
	}
	for (uint32_t i = 0; i < e->nsubs; i++) {
		e->subs[i].end = i + 1 < e->nsubs ? e->subs[i + 1].start : n;
		for (uint32_t pc = e->subs[i].start; pc < e->subs[i].end; pc++)
			e->subof[pc] = i;
		e->iflags[e->subs[i].start] |= VI_SUB_START | VI_PRUNE;
	}
out:
	rt_free(starts);
	return rc;
}

static uint32_t cfg_sub_at(const struct venv *e, uint32_t start)
{
	uint32_t s = e->subof[start];
	return s != UINT32_MAX && e->subs[s].start == start ? s : UINT32_MAX;
}

/* Passes 2 and 3 for one subprogram.  Collects its callees into calls[]. */
static int cfg_walk_sub(struct venv *e, uint32_t si, uint32_t *work, uint32_t *calls,
                        uint32_t *ncalls)
{
	struct rt_prog *p = e->p;
	struct vsub *sub = &e->subs[si];
	uint32_t nw = 0;
	int rc;

	for (uint32_t pc = sub->start; pc < sub->end; pc++) {
		if (p->aux[pc].flags & RT_AUX_LDDW2)
			continue;
		if ((rc = cfg_check_insn(e, pc)))
			return rc;
	}
	/* A lddw whose second half is the next subprogram's first insn. */
	if (bpf_is_lddw(&p->insns[sub->end - 1]))
		return verify_reject(e, sub->end - 1, RT_VERR_LDDW,
		                     "lddw is split by a function boundary");

	work[nw++] = sub->start;
	e->iflags[sub->start] |= VI_REACHED;
	while (nw) {
		uint32_t pc = work[--nw];
		const struct bpf_insn *in = &p->insns[pc];
		uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		uint32_t succ[2];
		int nsucc = 0;

		if ((cls == BPF_JMP || cls == BPF_JMP32) && op == BPF_EXIT) {
			nsucc = 0;
		} else if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL) {
			int64_t t = cfg_target(in, pc);
			if (t < 0 || t >= p->ninsns)
				return verify_reject(e, pc, RT_VERR_JUMP_RANGE,
				                     "jump to %lld is outside the program (0..%u)",
				                     (long long)t, p->ninsns - 1);
			if (p->aux[t].flags & RT_AUX_LDDW2)
				return verify_reject(e, pc, RT_VERR_JUMP_LDDW,
				                     "jump to %lld lands in the middle of an lddw",
				                     (long long)t);
			if (t < sub->start || t >= sub->end)
				return verify_reject(e, pc, RT_VERR_JUMP_FUNC,
				                     "jump to %lld leaves the function [%u,%u)",
				                     (long long)t, sub->start, sub->end);
			e->iflags[t] |= VI_JUMP_TARGET | VI_PRUNE;
			if ((uint32_t)t <= pc) {
				e->iflags[t] |= VI_LOOP_HEAD;
				p->aux[pc].flags |= RT_AUX_BACKEDGE;
			}
			succ[nsucc++] = (uint32_t)t;
			if (op != BPF_JA)
				succ[nsucc++] = pc + 1;
		} else {
			if (cls == BPF_JMP && op == BPF_CALL && in->src == BPF_PSEUDO_CALL) {
				int64_t t = (int64_t)pc + 1 + in->imm;
				uint32_t ci;
				if (t < 0 || t >= p->ninsns || (p->aux[t].flags & RT_AUX_LDDW2) ||
				    (ci = cfg_sub_at(e, (uint32_t)t)) == UINT32_MAX)
					return verify_reject(
					    e, pc, RT_VERR_CALL_TARGET,
					    "local call to %lld is not a function start",
					    (long long)t);
				calls[(*ncalls)++] = ci;
				if (pc + 1 < sub->end)
					e->iflags[pc + 1] |= VI_PRUNE;
			} else if (cls == BPF_JMP && op == BPF_CALL && in->src == 0) {
				return verify_reject(
				    e, pc, RT_VERR_BAD_HELPER,
				    "call of numbered helper %d that was not linked", in->imm);
			} else if (cls == BPF_JMP && op == BPF_CALL) {
				if ((uint32_t)in->imm >= p->nimports || !p->imports[in->imm].sig)
					return verify_reject(e, pc, RT_VERR_BAD_IMPORT,
					                     "call of import %d that is not linked",
					                     in->imm);
			}
			succ[nsucc++] = pc + (bpf_is_lddw(in) ? 2 : 1);
		}
		for (int k = 0; k < nsucc; k++) {
			uint32_t t = succ[k];
			if (t >= sub->end)
				return verify_reject(
				    e, pc, RT_VERR_FALLTHROUGH,
				    "execution falls off the end of the function [%u,%u)",
				    sub->start, sub->end);
			if (!(e->iflags[t] & VI_REACHED)) {
				e->iflags[t] |= VI_REACHED;
				work[nw++] = t;
			}
		}
	}
	for (uint32_t pc = sub->start; pc < sub->end; pc++)
		if (!(p->aux[pc].flags & RT_AUX_LDDW2) && !(e->iflags[pc] & VI_REACHED))
			return verify_reject(e, pc, RT_VERR_UNREACHABLE, "unreachable instruction");
	return 0;
}

/* Can every reachable instruction of sub reach an exit?  Backward fixpoint:
 * iterate until stable; converges in at most (loop nesting + 1) sweeps in
 * practice, bounded by the subprogram length in the worst case. */
static int cfg_exit_reach(struct venv *e, uint32_t si)
{
	struct rt_prog *p = e->p;
	struct vsub *sub = &e->subs[si];
	bool changed = true;

	while (changed) {
		changed = false;
		for (uint32_t pc = sub->end; pc-- > sub->start;) {
			const struct bpf_insn *in = &p->insns[pc];
			uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
			bool r = false;

			if ((p->aux[pc].flags & RT_AUX_LDDW2) || (e->iflags[pc] & VI_REACH_EXIT))
				continue;
			if ((cls == BPF_JMP || cls == BPF_JMP32) && op == BPF_EXIT) {
				r = true;
			} else if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL) {
				uint32_t t = (uint32_t)cfg_target(in, pc);
				r = e->iflags[t] & VI_REACH_EXIT;
				if (op != BPF_JA)
					r = r || (e->iflags[pc + 1] & VI_REACH_EXIT);
			} else {
				r = e->iflags[pc + (bpf_is_lddw(in) ? 2 : 1)] & VI_REACH_EXIT;
			}
			if (r) {
				e->iflags[pc] |= VI_REACH_EXIT;
				changed = true;
			}
		}
	}
	for (uint32_t pc = sub->start; pc < sub->end; pc++)
		if (!(p->aux[pc].flags & RT_AUX_LDDW2) && !(e->iflags[pc] & VI_REACH_EXIT))
			return verify_reject(e, pc, RT_VERR_NO_EXIT,
			                     "no path from here reaches exit (endless loop)");
	return 0;
}

/* Call graph: colour DFS for cycles, and the deepest chain of frames. */
struct cfg_graph {
	uint32_t *off, *edges; /* CSR adjacency */
	uint8_t *colour;
};

static int cfg_dfs(struct venv *e, struct cfg_graph *g, uint32_t s, uint32_t level)
{
	int rc;

	if (level > BPF_MAX_CALL_DEPTH)
		return verify_reject(e, e->subs[s].start, RT_VERR_CALL_DEPTH,
		                     "local calls nest more than %d frames deep",
		                     BPF_MAX_CALL_DEPTH);
	g->colour[s] = 1;
	e->subs[s].depth = 0;
	for (uint32_t k = g->off[s]; k < g->off[s + 1]; k++) {
		uint32_t c = g->edges[k];
		if (g->colour[c] == 1)
			return verify_reject(e, e->subs[c].start, RT_VERR_RECURSION,
			                     "recursion: the function at insn %u calls itself "
			                     "(through insn %u's function)",
			                     e->subs[c].start, e->subs[s].start);
		if (g->colour[c] == 0 && (rc = cfg_dfs(e, g, c, level + 1)))
			return rc;
		if (e->subs[c].depth + 1 > e->subs[s].depth)
			e->subs[s].depth = e->subs[c].depth + 1;
		if (level + e->subs[c].depth + 1 > BPF_MAX_CALL_DEPTH)
			return verify_reject(e, e->subs[c].start, RT_VERR_CALL_DEPTH,
			                     "local calls nest more than %d frames deep",
			                     BPF_MAX_CALL_DEPTH);
	}
	g->colour[s] = 2;
	return 0;
}

int verify_cfg(struct venv *e)
{
	struct rt_prog *p = e->p;
	uint32_t n = p->ninsns, entry_sub, nq = 0;
	uint32_t *work = NULL, *calls = NULL, *queue = NULL, *cnt = NULL;
	uint32_t ncalls_total = 0;
	struct cfg_graph g = {0};
	int rc;

	for (uint32_t i = 0; i < n; i++)
		e->subof[i] = UINT32_MAX;
	if ((rc = cfg_subprogs(e)))
		return rc;
	entry_sub = cfg_sub_at(e, p->funcs[e->entry_func].start);
	if (entry_sub == UINT32_MAX)
		return verify_reject(e, 0, RT_VERR_CALL_TARGET, "entry function has no code");

	work = rt_alloc((size_t)n * 2 * sizeof(*work));
	calls = rt_alloc((size_t)(n + 1) * 2 * sizeof(*calls)); /* (caller, callee) pairs */
	queue = rt_alloc((size_t)e->nsubs * sizeof(*queue));
	if (!work || !calls || !queue) {
		rc = -RT_ENOMEM;
		goto out;
	}
	/* Walk every subprogram reachable from the entry through local calls. */
	queue[nq++] = entry_sub;
	e->subs[entry_sub].reached = 1;
	for (uint32_t qi = 0; qi < nq; qi++) {
		uint32_t s = queue[qi], nc = 0;
		uint32_t *mine = calls + 2 * ncalls_total;
		/* cfg_walk_sub writes callee indexes contiguously into work's upper half. */
		if ((rc = cfg_walk_sub(e, s, work, work + n, &nc)))
			goto out;
		if ((rc = cfg_exit_reach(e, s)))
			goto out;
		for (uint32_t k = 0; k < nc; k++) {
			uint32_t c = work[n + k];
			mine[2 * k] = s;
			mine[2 * k + 1] = c;
			if (!e->subs[c].reached) {
				e->subs[c].reached = 1;
				queue[nq++] = c;
			}
		}
		ncalls_total += nc;
	}
	/* Build the CSR call graph and look for cycles. */
	g.off = rt_alloc((size_t)(e->nsubs + 1) * sizeof(*g.off));
	g.edges = rt_alloc((size_t)(ncalls_total + 1) * sizeof(*g.edges));
	g.colour = rt_alloc(e->nsubs);
	cnt = rt_alloc((size_t)(e->nsubs + 1) * sizeof(*cnt));
	if (!g.off || !g.edges || !g.colour || !cnt) {
		rc = -RT_ENOMEM;
		goto out;
	}
	for (uint32_t k = 0; k < ncalls_total; k++)
		g.off[calls[2 * k] + 1]++;
	for (uint32_t s = 0; s < e->nsubs; s++)
		g.off[s + 1] += g.off[s];
	for (uint32_t k = 0; k < ncalls_total; k++) {
		uint32_t s = calls[2 * k];
		g.edges[g.off[s] + cnt[s]++] = calls[2 * k + 1];
	}
	rc = cfg_dfs(e, &g, entry_sub, 1);
out:
	rt_free(work);
	rt_free(calls);
	rt_free(queue);
	rt_free(cnt);
	rt_free(g.off);
	rt_free(g.edges);
	rt_free(g.colour);
	return rc;
}

/*
 * Liveness and precision (one backward dataflow per subprogram).
 *
 * For each instruction, four sets describe what the rest of the program
 * can still observe of the current frame:
 *
 *   live    registers that may be read before they are written;
 *   slive   stack slots (8 bytes, slot k = [fp-8(k+1), fp-8k)) that may be
 *           read (by a load, an atomic, a call given a stack pointer)
 *           before an aligned 8-byte store overwrites them;
 *   prec    registers whose exact value (not just "some number") may
 *           matter: it flows into a memory access's address, a pointer, a
 *           conditional jump, a call argument other than a plain number, a
 *           subprogram's return value, or a stack slot in sprec;
 *   sprec   stack slots whose spilled value may flow into one of those.
 *
 * The state pass forgets dead registers and slots at prune points, and
 * compares scalars outside prec/sprec as "imprecise": any number covers
 * them (the essay at the top of verify_state.c says why that is sound).
 * Being static, the sets are fixed before exploration, so precision never
 * has to be propagated into states already kept (Linux's
 * mark_chain_precision does that dynamically, and is finer, at a price in
 * subtlety).  Every rule below errs towards "live" and "precise":
 *
 *   - stack accesses through r10 name their slot exactly; an access
 *     through any other register may touch any slot of the frame, but only
 *     if some instruction lets a stack address escape r10 (e->fp_escapes),
 *     otherwise no other register can ever point into a stack;
 *   - a store through another register in a subprogram other than the
 *     entry may reach a caller's slot, which this frame's sets do not
 *     describe: its value is precise (callers' slots are always compared
 *     exactly by the state pass);
 *   - a local call with escaping stack addresses may read any slot.
 */
static bool is_fp_base(uint8_t r)
{
	return r == BPF_REG_FP;
}

/* Slots [lo, hi) of an r10-relative access [off, off+size), as a mask;
 * bytes outside the stack are ignored here (the state pass refuses them). */
static uint64_t slot_mask(int32_t off, uint32_t size)
{
	uint64_t m = 0;

	for (int64_t o = off; o < (int64_t)off + size; o++) {
		if (o >= 0 || o < -BPF_STACK_SIZE)
			continue;
		m |= 1ull << ((-o - 1) / 8);
	}
	return m;
}

/* Does any instruction put a stack address anywhere but in r10? */
static bool cfg_fp_escapes(const struct venv *e)
{
	const struct rt_prog *p = e->p;

	for (uint32_t s = 0; s < e->nsubs; s++) {
		if (!e->subs[s].reached)
			continue;
		for (uint32_t pc = e->subs[s].start; pc < e->subs[s].end; pc++) {
			const struct bpf_insn *in = &p->insns[pc];
			uint8_t cls = BPF_CLASS(in->code);
			bool x = BPF_SRC(in->code) == BPF_X;
			if (p->aux[pc].flags & RT_AUX_LDDW2)
				continue;
			if ((cls == BPF_ALU || cls == BPF_ALU64) && x && in->src == BPF_REG_FP)
				return true;
			if (cls == BPF_STX && in->src == BPF_REG_FP)
				return true;
			if ((cls == BPF_JMP || cls == BPF_JMP32) && BPF_OP(in->code) != BPF_CALL &&
			    BPF_OP(in->code) != BPF_EXIT &&
			    (in->dst == BPF_REG_FP || (x && in->src == BPF_REG_FP)))
				return true;
		}
	}
	return false;
}

struct vflow {
	uint16_t live, prec;
	uint64_t slive, sprec;
};

/* in = transfer(out) for one instruction. */
static struct vflow flow_insn(const struct venv *e, uint32_t pc, bool entry_sub, struct vflow o)
{
	const struct rt_prog *p = e->p;
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	bool x = BPF_SRC(in->code) == BPF_X, esc = e->fp_escapes;
	uint16_t d = (uint16_t)(1u << in->dst), sr = (uint16_t)(1u << in->src);
	struct vflow n = o;

	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		n.live &= (uint16_t)~d;
		if (op != BPF_MOV)
			n.live |= d;
		if (x && op != BPF_NEG && op != BPF_END)
			n.live |= sr;
		if (o.prec & d) {
			if (op == BPF_MOV)
				n.prec &= (uint16_t)~d;
			if (x && op != BPF_NEG && op != BPF_END)
				n.prec |= sr;
		}
		break;
	case BPF_LD:
		n.live &= (uint16_t)~d;
		n.prec &= (uint16_t)~d;
		break;
	case BPF_LDX: {
		bool want = o.prec & d;
		uint64_t sm = is_fp_base(in->src) ? slot_mask(in->off, bpf_size_bytes(in->code))
		              : esc               ? ~0ull
		                                  : 0;
		n.live &= (uint16_t)~d;
		n.prec &= (uint16_t)~d;
		n.live |= sr;
		n.prec |= sr;
		n.slive |= sm;
		if (want)
			n.sprec |= sm;
		break;
	}
	case BPF_ST:
	case BPF_STX: {
		bool atomic = cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC;
		uint32_t size = bpf_size_bytes(in->code);
		n.live |= d;
		n.prec |= d;
		if (cls == BPF_STX)
			n.live |= sr;
		if (atomic) {
			/* Read-modify-write; a fetch defines src (or r0).  The
			 * fetched value is never tracked, so exactness stops here,
			 * but keep everything involved precise: atomics are rare. */
			if (in->imm == BPF_CMPXCHG) {
				n.live |= 1u;
				n.prec |= 1u;
			}
			n.prec |= sr;
			n.slive |= is_fp_base(in->dst) ? slot_mask(in->off, size) : esc ? ~0ull : 0;
			break;
		}
		if (is_fp_base(in->dst)) {
			uint64_t sm = slot_mask(in->off, size);
			bool want = o.sprec & sm;
			if (size == 8 && !(in->off & 7)) {
				n.slive &= ~sm;
				n.sprec &= ~sm;
			}
			if (cls == BPF_STX && want)
				n.prec |= sr;
		} else if (cls == BPF_STX && esc && (!entry_sub || o.sprec)) {
			n.prec |= sr;
		}
		break;
	}
	case BPF_JMP:
	case BPF_JMP32:
		if (op == BPF_EXIT) {
			/* The entry's result goes to the embedder unexamined; a
			 * subprogram's matters if it does at some return site. */
			uint32_t s = e->subof[pc];
			n.live = 1u;
			n.prec = !entry_sub && e->subs[s].ret_prec ? 1u : 0;
			n.slive = n.sprec = 0;
		} else if (op == BPF_CALL) {
			uint16_t args = 0x3e, pargs = 0x3e;
			if (in->src == BPF_PSEUDO_IMPORT && (uint32_t)in->imm < p->nimports &&
			    p->imports[in->imm].sig) {
				const struct rt_sig *sig = p->imports[in->imm].sig;
				args = pargs = 0;
				for (uint32_t r = 1; r <= sig->nargs && r <= 5; r++) {
					args |= (uint16_t)(1u << r);
					/* A plain number goes out unexamined. */
					if (sig->args[r - 1].kind != RT_ARG_SCALAR)
						pargs |= (uint16_t)(1u << r);
				}
			}
			if (in->src == BPF_PSEUDO_CALL) {
				/* The arguments the callee's own analysis needs. */
				uint32_t t = (uint32_t)((int64_t)pc + 1 + in->imm);
				pargs = e->prec[t] & 0x3e;
			}
			n.live = (uint16_t)((n.live & ~0x3fu) | args);
			n.prec = (uint16_t)((n.prec & ~0x3fu) | pargs);
			if (esc) {
				/* Any argument may be a stack address. */
				n.slive = ~0ull;
				if (in->src == BPF_PSEUDO_CALL)
					n.sprec = ~0ull;
			}
		} else if (op != BPF_JA) {
			n.live |= d;
			n.prec |= d;
			if (x) {
				n.live |= sr;
				n.prec |= sr;
			}
		}
		break;
	}
	return n;
}

/* After a round: does some return site need a subprogram's result? */
static bool flow_ret_prec(struct venv *e)
{
	const struct rt_prog *p = e->p;
	bool changed = false;

	for (uint32_t s = 0; s < e->nsubs; s++) {
		if (!e->subs[s].reached)
			continue;
		for (uint32_t pc = e->subs[s].start; pc < e->subs[s].end; pc++) {
			const struct bpf_insn *in = &p->insns[pc];
			uint32_t c;
			if ((p->aux[pc].flags & RT_AUX_LDDW2) || in->code != (BPF_JMP | BPF_CALL) ||
			    in->src != BPF_PSEUDO_CALL)
				continue;
			c = cfg_sub_at(e, (uint32_t)((int64_t)pc + 1 + in->imm));
			if (c != UINT32_MAX && !e->subs[c].ret_prec && (e->prec[pc + 1] & 1u)) {
				e->subs[c].ret_prec = 1;
				changed = true;
			}
		}
	}
	return changed;
}

/* One subprogram to its fixpoint; true if anything changed. */
static bool flow_sub(struct venv *e, uint32_t s, bool entry_sub)
{
	const struct rt_prog *p = e->p;
	const struct vsub *sub = &e->subs[s];
	bool changed = true, any = false;

	while (changed) {
		changed = false;
		for (uint32_t pc = sub->end; pc-- > sub->start;) {
			const struct bpf_insn *in = &p->insns[pc];
			uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
			struct vflow out = {0, 0, 0, 0}, nf;
			uint32_t nx[2];
			int nn = 0;

			if (p->aux[pc].flags & RT_AUX_LDDW2)
				continue;
			if ((cls == BPF_JMP || cls == BPF_JMP32) && op == BPF_EXIT) {
				/* nothing follows */
			} else if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL) {
				nx[nn++] = (uint32_t)cfg_target(in, pc);
				if (op != BPF_JA && pc + 1 < sub->end)
					nx[nn++] = pc + 1;
			} else if (pc + (bpf_is_lddw(in) ? 2 : 1) < sub->end) {
				nx[nn++] = pc + (bpf_is_lddw(in) ? 2 : 1);
			}
			for (int k = 0; k < nn; k++) {
				out.live |= e->live[nx[k]];
				out.prec |= e->prec[nx[k]];
				out.slive |= e->slive[nx[k]];
				out.sprec |= e->sprec[nx[k]];
			}
			nf = flow_insn(e, pc, entry_sub, out);
			/* Precise implies live: a dead value is forgotten anyway. */
			nf.prec &= nf.live;
			nf.sprec &= nf.slive;
			if (nf.live != e->live[pc] || nf.prec != e->prec[pc] ||
			    nf.slive != e->slive[pc] || nf.sprec != e->sprec[pc]) {
				e->live[pc] = nf.live;
				e->prec[pc] = nf.prec;
				e->slive[pc] = nf.slive;
				e->sprec[pc] = nf.sprec;
				changed = any = true;
			}
		}
	}
	return any;
}

int verify_liveness(struct venv *e)
{
	uint32_t entry_sub = e->subof[e->p->funcs[e->entry_func].start];
	bool again = true;

	e->fp_escapes = cfg_fp_escapes(e);
	/* Rounds until arguments and results agree across calls.  Every set
	 * only grows, from empty, so this terminates at the least fixpoint;
	 * programs have few subprograms, and the last round changes nothing. */
	while (again) {
		again = false;
		for (uint32_t s = 0; s < e->nsubs; s++)
			if (e->subs[s].reached && flow_sub(e, s, s == entry_sub))
				again = true;
		if (flow_ret_prec(e))
			again = true;
	}
	return 0;
}

/* Constants of conditional jumps, for widening with thresholds: a loop
 * counter checked against 96 widens to 96, not to infinity. */
static void thr_add(struct venv *e, uint64_t v)
{
	uint32_t i, n = e->nthr;

	if (n == V_MAX_THRESH)
		return;
	for (i = 0; i < n; i++)
		if (e->uthr[i] == v)
			return;
	e->uthr[n] = v;
	e->sthr[n] = (int64_t)v;
	e->nthr = n + 1;
}

void verify_thresholds(struct venv *e)
{
	const struct rt_prog *p = e->p;

	for (uint32_t s = 0; s < e->nsubs; s++) {
		if (!e->subs[s].reached)
			continue;
		for (uint32_t pc = e->subs[s].start; pc < e->subs[s].end; pc++) {
			const struct bpf_insn *in = &p->insns[pc];
			uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
			if ((p->aux[pc].flags & RT_AUX_LDDW2) ||
			    (cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_JA ||
			    op == BPF_CALL || op == BPF_EXIT || BPF_SRC(in->code) != BPF_K)
				continue;
			uint64_t c =
			    cls == BPF_JMP32 ? (uint32_t)in->imm : (uint64_t)(int64_t)in->imm;
			thr_add(e, c - 1);
			thr_add(e, c);
			thr_add(e, c + 1);
		}
	}
	/* insertion sorts: few entries */
	for (uint32_t i = 1; i < e->nthr; i++)
		for (uint32_t j = i; j > 0 && e->uthr[j - 1] > e->uthr[j]; j--) {
			uint64_t t = e->uthr[j];
			e->uthr[j] = e->uthr[j - 1];
			e->uthr[j - 1] = t;
		}
	for (uint32_t i = 1; i < e->nthr; i++)
		for (uint32_t j = i; j > 0 && e->sthr[j - 1] > e->sthr[j]; j--) {
			int64_t t = e->sthr[j];
			e->sthr[j] = e->sthr[j - 1];
			e->sthr[j - 1] = t;
		}
}

bool verify_is_prune(const struct venv *e, uint32_t insn)
{
	return e->iflags[insn] & VI_PRUNE;
}

/* After the state pass: the deepest chain of frames must fit in 512 bytes.
 * Each subprogram's frame is what the state pass saw it touch. */
static uint32_t stack_chain(const struct venv *e, uint32_t s, const uint32_t *off,
                            const uint32_t *edges, uint32_t *memo)
{
	uint32_t best = 0;

	if (memo[s] != UINT32_MAX)
		return memo[s];
	for (uint32_t k = off[s]; k < off[s + 1]; k++) {
		uint32_t d = stack_chain(e, edges[k], off, edges, memo);
		if (d > best)
			best = d;
	}
	memo[s] = best + e->subs[s].stack;
	return memo[s];
}

int verify_check_stack_depth(struct venv *e)
{
	const struct rt_prog *p = e->p;
	uint32_t *off, *edges, *memo, *cnt, ne = 0, entry_sub, total;
	int rc = 0;

	/* Recompute the call edges of reached subprograms (cheap, and keeps
	 * verify_cfg's temporaries local to it). */
	off = rt_alloc((size_t)(e->nsubs + 1) * sizeof(*off));
	memo = rt_alloc((size_t)e->nsubs * sizeof(*memo));
	cnt = rt_alloc((size_t)e->nsubs * sizeof(*cnt));
	if (!off || !memo || !cnt) {
		rc = -RT_ENOMEM;
		edges = NULL;
		goto out;
	}
	for (uint32_t s = 0; s < e->nsubs; s++) {
		memo[s] = UINT32_MAX;
		if (!e->subs[s].reached)
			continue;
		for (uint32_t pc = e->subs[s].start; pc < e->subs[s].end; pc++) {
			const struct bpf_insn *in = &p->insns[pc];
			if (!(p->aux[pc].flags & RT_AUX_LDDW2) &&
			    in->code == (BPF_JMP | BPF_CALL) && in->src == BPF_PSEUDO_CALL) {
				off[s + 1]++;
				ne++;
			}
		}
	}
	for (uint32_t s = 0; s < e->nsubs; s++)
		off[s + 1] += off[s];
	edges = rt_alloc((size_t)(ne + 1) * sizeof(*edges));
	if (!edges) {
		rc = -RT_ENOMEM;
		goto out;
	}
	for (uint32_t s = 0; s < e->nsubs; s++) {
		if (!e->subs[s].reached)
			continue;
		for (uint32_t pc = e->subs[s].start; pc < e->subs[s].end; pc++) {
			const struct bpf_insn *in = &p->insns[pc];
			if (!(p->aux[pc].flags & RT_AUX_LDDW2) &&
			    in->code == (BPF_JMP | BPF_CALL) && in->src == BPF_PSEUDO_CALL)
				edges[off[s] + cnt[s]++] =
				    cfg_sub_at(e, (uint32_t)(pc + 1 + in->imm));
		}
	}
	entry_sub = cfg_sub_at(e, p->funcs[e->entry_func].start);
	total = stack_chain(e, entry_sub, off, edges, memo);
	e->res->max_stack = total;
	if (total > BPF_STACK_SIZE) {
		rc = verify_reject(
		    e, p->funcs[e->entry_func].start, RT_VERR_STACK_DEPTH,
		    "frames on the deepest call chain use %u bytes of stack, more than %d", total,
		    BPF_STACK_SIZE);
	}
out:
	rt_free(off);
	rt_free(memo);
	rt_free(cnt);
	rt_free(edges);
	return rc;
}
