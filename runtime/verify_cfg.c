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
 * It also marks prune points (jump targets, the fall-through of conditional
 * jumps, subprogram starts), loop heads (targets of back edges), and fills
 * prog->aux with LDDW2 and BACKEDGE.
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

#define RESERVED(cond, what)                                                        \
	do {                                                                        \
		if (cond)                                                           \
			return verify_reject(e, pc, RT_VERR_RESERVED,               \
					     "reserved field %s must be zero (opcode 0x%02x)", \
					     what, in->code);                       \
	} while (0)

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
			return verify_reject(e, pc, RT_VERR_LEGACY_LD,
					     "legacy packet load (BPF_ABS/BPF_IND, opcode 0x%02x) is not supported",
					     code);
		if (code != (BPF_LD | BPF_IMM | BPF_DW))
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
		if ((rc = cfg_check_reg(e, pc, in->dst, true)))
			return rc;
		RESERVED(in->off, "off");
		if (pc + 1 >= p->ninsns)
			return verify_reject(e, pc, RT_VERR_LDDW, "lddw is missing its second slot");
		{
			const struct bpf_insn *i2 = &p->insns[pc + 1];
			if (i2->code || i2->dst || i2->src || i2->off)
				return verify_reject(e, pc, RT_VERR_LDDW,
						     "second slot of lddw must have zero opcode, registers and offset");
		}
		if (in->src == BPF_PSEUDO_GLOBAL) {
			if ((uint32_t)in->imm >= p->nglobals)
				return verify_reject(e, pc, RT_VERR_BAD_GLOBAL,
						     "lddw names global region %d, the program has %u",
						     in->imm, p->nglobals);
		} else if (in->src != 0) {
			return verify_reject(e, pc, RT_VERR_LDDW,
					     "lddw with unknown pseudo source %u", in->src);
		}
		return 0;
	case BPF_LDX:
		if (BPF_MODE(code) != BPF_MEM &&
		    !(BPF_MODE(code) == BPF_MEMSX && BPF_SIZE(code) != BPF_DW))
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
		RESERVED(in->imm, "imm");
		if ((rc = cfg_check_reg(e, pc, in->dst, true)) ||
		    (rc = cfg_check_reg(e, pc, in->src, false)))
			return rc;
		return 0;
	case BPF_ST:
		if (BPF_MODE(code) != BPF_MEM)
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
		RESERVED(in->src, "src");
		return cfg_check_reg(e, pc, in->dst, false);
	case BPF_STX:
		if (BPF_MODE(code) == BPF_ATOMIC) {
			uint32_t a = (uint32_t)in->imm, aop = a & ~(uint32_t)BPF_FETCH;
			if (BPF_SIZE(code) != BPF_W && BPF_SIZE(code) != BPF_DW)
				return verify_reject(e, pc, RT_VERR_ATOMIC_OP,
						     "atomic operations exist only on 32 and 64-bit words");
			if (!(aop == BPF_ADD || aop == BPF_OR || aop == BPF_AND || aop == BPF_XOR ||
			      a == BPF_XCHG || a == BPF_CMPXCHG))
				return verify_reject(e, pc, RT_VERR_ATOMIC_OP,
						     "unknown atomic operation 0x%x", a);
		} else if (BPF_MODE(code) == BPF_MEM) {
			RESERVED(in->imm, "imm");
		} else {
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
		}
		if ((rc = cfg_check_reg(e, pc, in->dst, false)) ||
		    (rc = cfg_check_reg(e, pc, in->src, false)))
			return rc;
		return 0;
	case BPF_ALU:
	case BPF_ALU64:
		if (op == BPF_END) {
			if (cls == BPF_ALU64 && BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
			if (in->imm != 16 && in->imm != 32 && in->imm != 64)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE,
						     "byte swap of %d bits does not exist", in->imm);
			RESERVED(in->src, "src");
			RESERVED(in->off, "off");
			return cfg_check_reg(e, pc, in->dst, true);
		}
		if (op == BPF_NEG) {
			if (BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
			RESERVED(in->src, "src");
			RESERVED(in->off, "off");
			RESERVED(in->imm, "imm");
			return cfg_check_reg(e, pc, in->dst, true);
		}
		if (op > BPF_END)
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
		if (op == BPF_DIV || op == BPF_MOD) {
			RESERVED(in->off != 0 && in->off != 1, "off (0 or 1 for signed)");
		} else if (op == BPF_MOV && BPF_SRC(code) == BPF_X) {
			bool ok = in->off == 0 || in->off == 8 || in->off == 16 ||
				  (cls == BPF_ALU64 && in->off == 32);
			RESERVED(!ok, "off (sign-extension width)");
		} else {
			RESERVED(in->off, "off");
		}
		if (BPF_SRC(code) == BPF_K)
			RESERVED(in->src, "src");
		else
			RESERVED(in->imm, "imm");
		if ((rc = cfg_check_reg(e, pc, in->dst, true)))
			return rc;
		if (BPF_SRC(code) == BPF_X)
			return cfg_check_reg(e, pc, in->src, false);
		return 0;
	case BPF_JMP:
	case BPF_JMP32:
		if (code == BPF_OPCODE_CALLX)
			return verify_reject(e, pc, RT_VERR_CALLX,
					     "indirect call (callx) is not allowed: call functions by name");
		if (op == BPF_CALL) {
			if (cls != BPF_JMP || BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
			RESERVED(in->dst, "dst");
			RESERVED(in->off, "off");
			if (in->src != 0 && in->src != BPF_PSEUDO_CALL && in->src != BPF_PSEUDO_IMPORT)
				return verify_reject(e, pc, RT_VERR_RESERVED,
						     "call with unknown source %u", in->src);
			return 0;
		}
		if (op == BPF_EXIT) {
			if (cls != BPF_JMP || BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
			RESERVED(in->dst || in->src || in->off || in->imm, "of exit");
			return 0;
		}
		if (op == BPF_JA) {
			if (BPF_SRC(code) != BPF_K)
				return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
			RESERVED(in->dst || in->src, "register");
			if (cls == BPF_JMP)
				RESERVED(in->imm, "imm");
			else
				RESERVED(in->off, "off");
			return 0;
		}
		if (op > BPF_JSLE)
			return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", code);
		if (BPF_SRC(code) == BPF_K)
			RESERVED(in->src, "src");
		else
			RESERVED(in->imm, "imm");
		if ((rc = cfg_check_reg(e, pc, in->dst, false)))
			return rc;
		if (BPF_SRC(code) == BPF_X)
			return cfg_check_reg(e, pc, in->src, false);
		return 0;
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
			if (op != BPF_JA) {
				succ[nsucc++] = pc + 1;
				if (pc + 1 < sub->end)
					e->iflags[pc + 1] |= VI_PRUNE;
			}
		} else {
			if (cls == BPF_JMP && op == BPF_CALL && in->src == BPF_PSEUDO_CALL) {
				int64_t t = (int64_t)pc + 1 + in->imm;
				uint32_t ci;
				if (t < 0 || t >= p->ninsns || (p->aux[t].flags & RT_AUX_LDDW2) ||
				    (ci = cfg_sub_at(e, (uint32_t)t)) == UINT32_MAX)
					return verify_reject(e, pc, RT_VERR_CALL_TARGET,
							     "local call to %lld is not a function start",
							     (long long)t);
				calls[(*ncalls)++] = ci;
				if (pc + 1 < sub->end)
					e->iflags[pc + 1] |= VI_PRUNE;
			} else if (cls == BPF_JMP && op == BPF_CALL && in->src == 0) {
				return verify_reject(e, pc, RT_VERR_BAD_HELPER,
						     "call of numbered helper %d that was not linked",
						     in->imm);
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
				return verify_reject(e, pc, RT_VERR_FALLTHROUGH,
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
				     "local calls nest more than %d frames deep", BPF_MAX_CALL_DEPTH);
	g->colour[s] = 1;
	e->subs[s].depth = 0;
	for (uint32_t k = g->off[s]; k < g->off[s + 1]; k++) {
		uint32_t c = g->edges[k];
		if (g->colour[c] == 1)
			return verify_reject(e, e->subs[c].start, RT_VERR_RECURSION,
					     "recursion: the function at insn %u calls itself (through insn %u's function)",
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
	struct cfg_graph g = { 0 };
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
 * Register liveness (backward dataflow per subprogram): a register that is
 * written before it is read on every path from an instruction is dead
 * there.  The state pass forgets dead registers at prune points, so states
 * that differ only in values nobody will read are recognised as the same.
 */
static void live_use_def(const struct rt_prog *p, uint32_t pc, uint16_t *use, uint16_t *def)
{
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	bool x = BPF_SRC(in->code) == BPF_X;

	*use = *def = 0;
	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		*def = 1u << in->dst;
		if (op != BPF_MOV)
			*use |= 1u << in->dst;
		if (x && op != BPF_NEG && op != BPF_END)
			*use |= 1u << in->src;
		break;
	case BPF_LD:
		*def = 1u << in->dst;
		break;
	case BPF_LDX:
		*use = 1u << in->src;
		*def = 1u << in->dst;
		break;
	case BPF_ST:
		*use = 1u << in->dst;
		break;
	case BPF_STX:
		*use = (1u << in->dst) | (1u << in->src);
		if (BPF_MODE(in->code) == BPF_ATOMIC) {
			if (in->imm == BPF_CMPXCHG) {
				*use |= 1u;
				*def = 1u;
			} else if (in->imm & BPF_FETCH) {
				*def = 1u << in->src;
			}
		}
		break;
	case BPF_JMP:
	case BPF_JMP32:
		if (op == BPF_EXIT) {
			*use = 1u;
		} else if (op == BPF_CALL) {
			uint32_t n = 5;
			if (in->src == BPF_PSEUDO_IMPORT && (uint32_t)in->imm < p->nimports &&
			    p->imports[in->imm].sig)
				n = p->imports[in->imm].sig->nargs;
			for (uint32_t r = 1; r <= n && r <= 5; r++)
				*use |= 1u << r;
			*def = 0x3f; /* r0..r5 */
		} else if (op != BPF_JA) {
			*use = 1u << in->dst;
			if (x)
				*use |= 1u << in->src;
		}
		break;
	}
}

int verify_liveness(struct venv *e)
{
	const struct rt_prog *p = e->p;

	for (uint32_t s = 0; s < e->nsubs; s++) {
		const struct vsub *sub = &e->subs[s];
		bool changed = true;
		if (!sub->reached)
			continue;
		while (changed) {
			changed = false;
			for (uint32_t pc = sub->end; pc-- > sub->start;) {
				const struct bpf_insn *in = &p->insns[pc];
				uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
				uint16_t use, def, out = 0, nl;
				if (p->aux[pc].flags & RT_AUX_LDDW2)
					continue;
				live_use_def(p, pc, &use, &def);
				if ((cls == BPF_JMP || cls == BPF_JMP32) && op == BPF_EXIT) {
					out = 0;
				} else if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL) {
					int64_t t = cfg_target(in, pc);
					out = e->live[t];
					if (op != BPF_JA && pc + 1 < sub->end)
						out |= e->live[pc + 1];
				} else {
					uint32_t nx = pc + (bpf_is_lddw(in) ? 2 : 1);
					if (nx < sub->end)
						out = e->live[nx];
				}
				nl = (uint16_t)(use | (out & ~def));
				if (nl != e->live[pc]) {
					e->live[pc] = nl;
					changed = true;
				}
			}
		}
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
			if ((p->aux[pc].flags & RT_AUX_LDDW2) || (cls != BPF_JMP && cls != BPF_JMP32) ||
			    op == BPF_JA || op == BPF_CALL || op == BPF_EXIT ||
			    BPF_SRC(in->code) != BPF_K)
				continue;
			uint64_t c = cls == BPF_JMP32 ? (uint32_t)in->imm : (uint64_t)(int64_t)in->imm;
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
			if (!(p->aux[pc].flags & RT_AUX_LDDW2) && in->code == (BPF_JMP | BPF_CALL) &&
			    in->src == BPF_PSEUDO_CALL) {
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
			if (!(p->aux[pc].flags & RT_AUX_LDDW2) && in->code == (BPF_JMP | BPF_CALL) &&
			    in->src == BPF_PSEUDO_CALL)
				edges[off[s] + cnt[s]++] = cfg_sub_at(e, (uint32_t)(pc + 1 + in->imm));
		}
	}
	entry_sub = cfg_sub_at(e, p->funcs[e->entry_func].start);
	total = stack_chain(e, entry_sub, off, edges, memo);
	e->res->max_stack = total;
	if (total > BPF_STACK_SIZE) {
		rc = verify_reject(e, p->funcs[e->entry_func].start, RT_VERR_STACK_DEPTH,
				   "frames on the deepest call chain use %u bytes of stack, more than %d",
				   total, BPF_STACK_SIZE);
	}
out:
	rt_free(off);
	rt_free(memo);
	rt_free(cnt);
	rt_free(edges);
	return rc;
}
