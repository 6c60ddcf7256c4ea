/*
 * interp.c - the reference interpreter for the whole eBPF instruction set
 * (RFC 9669), the oracle the JIT and the verifier are tested against.
 *
 * Design.  One loop, one switch on the opcode byte, registers in a local
 * array.  The interpreter has two jobs with different trust:
 *
 *   - running verified programs (tools, the kernel's fallback, benchmarks):
 *     memory accesses are raw loads and stores, as the JIT's are;
 *   - being the oracle for differential fuzzing and the conformance suite,
 *     where it may meet bytecode nobody verified.  Decoding is therefore
 *     total: every field is checked before it is used (register numbers,
 *     jump targets, lddw pairs, call targets, import indices, call depth),
 *     and anything it cannot run ends the run with RT_RUN_BADINSN instead
 *     of undefined behaviour in the host.  In checking mode (struct
 *     rt_check) every load, store and atomic must also fall entirely inside
 *     one allowed region: the caller's regions, the live stack frames, and
 *     the program's global regions (.rodata read-only); a miss ends the run
 *     with RT_RUN_FAULT.  An accepted program that faults here is a verifier
 *     bug.
 *
 * Arithmetic and byte swaps are alu.h's, which the verifier also folds
 * constants with: done on uint64_t/uint32_t so that wrap-around is defined
 * C, with the two RFC special cases of signed division and modulo (divisor
 * 0, and INT_MIN / -1 which would trap on x86 and is UB in C) tested first.
 *
 * Calls.  Each local call gets a fresh 512-byte frame (r10 = its top);
 * r6-r9, r10 and the return pc are saved in a side array and restored at
 * the callee's exit, so the callee can neither see nor clobber them.  The
 * depth limit is BPF_MAX_CALL_DEPTH frames including the entry's.  Imports
 * are called through rt_sig.fn with r1..r5; r0 receives the result.
 *
 * Fuel (exec.h).  A taken jump to an earlier or equal instruction, and every
 * call (local or import), costs one unit.  The unit is charged before the
 * instruction has any effect: if the budget is already zero the run stops
 * with RT_RUN_FUEL and run->pc at that instruction.  So a budget of N lets
 * exactly N back-edges/calls happen.  RT_FUEL_UNLIMITED is never decremented.
 *
 * Aborting imports (RT_SIG_MAYABORT).  Such a procedure has the native type
 * rt_abortable_fn (exec.h): it returns struct rt_jit_ret, r0 in rax and a
 * status in rdx; a non-zero status ends the program with RT_RUN_HELPER and
 * r0 = 0, exactly as the JIT's own abort path reports it.
 *
 * References.  A run that stops with any status but RT_RUN_OK unwinds
 * run->ledger (exec.h), releasing what the embedder's procedures noted as
 * acquired and not yet released; the JIT's rt_jit_run does the same.
 */
#include "runtime/alu.h"
#include "runtime/exec.h"

/* Per-call saved state. */
struct interp_frame {
	uint64_t saved[5]; /* r6..r10 of the caller */
	uint32_t ret_pc;   /* caller's instruction after the call */
};

struct interp {
	const struct rt_prog *p;
	const struct rt_check *check;
	uint8_t *stack; /* BPF_MAX_CALL_DEPTH frames of BPF_STACK_SIZE */
	uint32_t depth; /* frames in use beyond the entry's */
};

/* Is [addr, addr+size) inside [base, base+len)?  Overflow-safe. */
static bool interp_within(uint64_t addr, uint64_t size, uint64_t base, uint64_t len)
{
	return addr >= base && len >= size && addr - base <= len - size;
}

static bool interp_access_ok(const struct interp *in, uint64_t addr, uint64_t size, bool write)
{
	const struct rt_prog *p = in->p;
	uint32_t i;

	if (interp_within(addr, size, (uintptr_t)in->stack,
	                  (uint64_t)(in->depth + 1) * BPF_STACK_SIZE))
		return true;
	for (i = 0; i < p->nglobals; i++) {
		const struct rt_global *g = &p->globals[i];

		if (g->data && interp_within(addr, size, (uintptr_t)g->data, g->size))
			return !write || g->kind != RT_GLOBAL_RODATA;
	}
	for (i = 0; i < in->check->nregions; i++) {
		const struct rt_region *r = &in->check->regions[i];

		if (interp_within(addr, size, r->base, r->size) && (!write || r->writable))
			return true;
	}
	return false;
}

static uint64_t interp_load(uint64_t addr, uint32_t size)
{
	const void *src = (const void *)(uintptr_t)addr;
	uint8_t b;
	uint16_t h;
	uint32_t w;
	uint64_t d;

	/* Fixed-size __builtin_memcpy: an unaligned access is legal eBPF and
	 * must not be UB in the host; gcc turns these into single moves. */
	switch (size) {
	case 1:
		__builtin_memcpy(&b, src, 1);
		return b;
	case 2:
		__builtin_memcpy(&h, src, 2);
		return h;
	case 4:
		__builtin_memcpy(&w, src, 4);
		return w;
	default:
		__builtin_memcpy(&d, src, 8);
		return d;
	}
}

static void interp_store(uint64_t addr, uint32_t size, uint64_t v)
{
	void *dst = (void *)(uintptr_t)addr;
	uint8_t b = (uint8_t)v;
	uint16_t h = (uint16_t)v;
	uint32_t w = (uint32_t)v;

	switch (size) {
	case 1:
		__builtin_memcpy(dst, &b, 1);
		break;
	case 2:
		__builtin_memcpy(dst, &h, 2);
		break;
	case 4:
		__builtin_memcpy(dst, &w, 4);
		break;
	default:
		__builtin_memcpy(dst, &v, 8);
		break;
	}
}

/* Conditional jump predicate (exec.h): the interpreter's, and the one every
 * other reader of eBPF conditions uses (runtime/guard_range.c). */
bool rt_bpf_cond(uint8_t op, uint64_t a, uint64_t b, bool is32, bool *ok)
{
	int64_t sa, sb;

	if (is32) {
		a = (uint32_t)a;
		b = (uint32_t)b;
		sa = (int32_t)(uint32_t)a;
		sb = (int32_t)(uint32_t)b;
	} else {
		sa = (int64_t)a;
		sb = (int64_t)b;
	}
	*ok = true;
	switch (op) {
	case BPF_JEQ:
		return a == b;
	case BPF_JNE:
		return a != b;
	case BPF_JGT:
		return a > b;
	case BPF_JGE:
		return a >= b;
	case BPF_JLT:
		return a < b;
	case BPF_JLE:
		return a <= b;
	case BPF_JSET:
		return (a & b) != 0;
	case BPF_JSGT:
		return sa > sb;
	case BPF_JSGE:
		return sa >= sb;
	case BPF_JSLT:
		return sa < sb;
	case BPF_JSLE:
		return sa <= sb;
	default:
		*ok = false;
		return false;
	}
}

/*
 * One atomic read-modify-write on a T (uint32_t or uint64_t) at m; src and
 * r0 are the instruction's registers.  A fetching op leaves the old value
 * in src, CMPXCHG in r0 (zero-extended for 32 bits).  Returns false for an
 * op the ISA does not define.  Both widths come from this one body, as the
 * ALU's do (alu.h), so they cannot drift apart.
 */
#define INTERP_ATOMIC_DEFINE(name, T)                                                              \
	static bool name(T *m, int32_t op, uint64_t *src, uint64_t *r0)                            \
	{                                                                                          \
		T v = (T)*src, old;                                                                \
                                                                                                   \
		switch (op) {                                                                      \
		case BPF_ADD:                                                                      \
		case BPF_ADD | BPF_FETCH:                                                          \
			old = __atomic_fetch_add(m, v, __ATOMIC_SEQ_CST);                          \
			break;                                                                     \
		case BPF_OR:                                                                       \
		case BPF_OR | BPF_FETCH:                                                           \
			old = __atomic_fetch_or(m, v, __ATOMIC_SEQ_CST);                           \
			break;                                                                     \
		case BPF_AND:                                                                      \
		case BPF_AND | BPF_FETCH:                                                          \
			old = __atomic_fetch_and(m, v, __ATOMIC_SEQ_CST);                          \
			break;                                                                     \
		case BPF_XOR:                                                                      \
		case BPF_XOR | BPF_FETCH:                                                          \
			old = __atomic_fetch_xor(m, v, __ATOMIC_SEQ_CST);                          \
			break;                                                                     \
		case BPF_XCHG:                                                                     \
			old = __atomic_exchange_n(m, v, __ATOMIC_SEQ_CST);                         \
			break;                                                                     \
		case BPF_CMPXCHG:                                                                  \
			old = (T)*r0;                                                              \
			/* On failure `old` receives the current value; either way                 \
			 * r0 ends up holding what memory held before. */                          \
			__atomic_compare_exchange_n(m, &old, v, false, __ATOMIC_SEQ_CST,           \
			                            __ATOMIC_SEQ_CST);                             \
			*r0 = old;                                                                 \
			return true;                                                               \
		default:                                                                           \
			return false;                                                              \
		}                                                                                  \
		if (op & BPF_FETCH)                                                                \
			*src = old;                                                                \
		return true;                                                                       \
	}

INTERP_ATOMIC_DEFINE(interp_atomic32, uint32_t)
INTERP_ATOMIC_DEFINE(interp_atomic64, uint64_t)

static bool interp_atomic(uint64_t addr, bool dw, int32_t op, uint64_t *src, uint64_t *r0)
{
	if (dw)
		return interp_atomic64((uint64_t *)(uintptr_t)addr, op, src, r0);
	return interp_atomic32((uint32_t *)(uintptr_t)addr, op, src, r0);
}

static bool interp_valid_atomic_op(int32_t op)
{
	switch (op) {
	case BPF_ADD:
	case BPF_ADD | BPF_FETCH:
	case BPF_OR:
	case BPF_OR | BPF_FETCH:
	case BPF_AND:
	case BPF_AND | BPF_FETCH:
	case BPF_XOR:
	case BPF_XOR | BPF_FETCH:
	case BPF_XCHG:
	case BPF_CMPXCHG:
		return true;
	default:
		return false;
	}
}

static bool interp_charge(struct rt_run *run)
{
	if (run->fuel == RT_FUEL_UNLIMITED)
		return true;
	if (run->fuel == 0)
		return false;
	run->fuel--;
	return true;
}

static enum rt_status interp_loop(struct interp *in, uint32_t pc, uint64_t *reg, struct rt_run *run)
{
	const struct rt_prog *p = in->p;
	const struct bpf_insn *insns = p->insns;
	const uint32_t n = p->ninsns;
	const bool checking = in->check != NULL;
	struct interp_frame frames[BPF_MAX_CALL_DEPTH];

	for (;;) {
		const struct bpf_insn *i;
		uint8_t code, op;
		uint64_t addr, src, target;
		uint32_t size;
		bool ok;

		if (pc >= n)
			goto badinsn;
		i = &insns[pc];
		code = i->code;
		if (i->dst >= BPF_NREGS || i->src >= BPF_NREGS)
			goto badinsn;
		op = BPF_OP(code);

		switch (BPF_CLASS(code)) {
		case BPF_ALU64:
			if (i->dst == BPF_REG_FP)
				goto badinsn;
			if (op == BPF_MOV) {
				if (BPF_SRC(code) == BPF_K) {
					if (i->off != 0 || i->src != 0)
						goto badinsn;
					reg[i->dst] = (uint64_t)(int64_t)i->imm;
				} else if (i->off == 0) {
					reg[i->dst] = reg[i->src];
				} else if (i->off == 8) {
					reg[i->dst] = (uint64_t)(int64_t)(int8_t)reg[i->src];
				} else if (i->off == 16) {
					reg[i->dst] = (uint64_t)(int64_t)(int16_t)reg[i->src];
				} else if (i->off == 32) {
					reg[i->dst] = (uint64_t)(int64_t)(int32_t)reg[i->src];
				} else {
					goto badinsn;
				}
			} else if (op == BPF_NEG) {
				if (BPF_SRC(code) != BPF_K || i->off != 0)
					goto badinsn;
				reg[i->dst] = 0 - reg[i->dst];
			} else if (op == BPF_END) {
				/* ALU64 | END | K is the unconditional bswap. */
				if (BPF_SRC(code) != BPF_K || i->off != 0 ||
				    !bpf_end(&reg[i->dst], i->imm, true))
					goto badinsn;
			} else {
				src = BPF_SRC(code) == BPF_K ? (uint64_t)(int64_t)i->imm
				                             : reg[i->src];
				if (!bpf_alu64(op, i->off, &reg[i->dst], src))
					goto badinsn;
			}
			pc++;
			break;

		case BPF_ALU: {
			uint32_t d;

			if (i->dst == BPF_REG_FP)
				goto badinsn;
			if (op == BPF_MOV) {
				if (BPF_SRC(code) == BPF_K) {
					if (i->off != 0 || i->src != 0)
						goto badinsn;
					d = (uint32_t)i->imm;
				} else if (i->off == 0) {
					d = (uint32_t)reg[i->src];
				} else if (i->off == 8) {
					d = (uint32_t)(int32_t)(int8_t)reg[i->src];
				} else if (i->off == 16) {
					d = (uint32_t)(int32_t)(int16_t)reg[i->src];
				} else {
					goto badinsn;
				}
				reg[i->dst] = d;
			} else if (op == BPF_NEG) {
				if (BPF_SRC(code) != BPF_K || i->off != 0)
					goto badinsn;
				reg[i->dst] = (uint32_t)(0 - (uint32_t)reg[i->dst]);
			} else if (op == BPF_END) {
				/* K: to little endian (a truncation on this host);
				 * X: to big endian (a swap). */
				if (i->off != 0 ||
				    !bpf_end(&reg[i->dst], i->imm, BPF_SRC(code) == BPF_TO_BE))
					goto badinsn;
			} else {
				d = (uint32_t)reg[i->dst];
				src = BPF_SRC(code) == BPF_K ? (uint32_t)i->imm
				                             : (uint32_t)reg[i->src];
				if (!bpf_alu32(op, i->off, &d, (uint32_t)src))
					goto badinsn;
				reg[i->dst] = d;
			}
			pc++;
			break;
		}

		case BPF_JMP:
		case BPF_JMP32: {
			bool is32 = BPF_CLASS(code) == BPF_JMP32;
			bool taken;

			if (op == BPF_JA) {
				if (BPF_SRC(code) != BPF_K)
					goto badinsn;
				/* JMP32 | JA is gotol: the offset is the 32-bit imm. */
				target =
				    (uint64_t)pc + 1 + (uint64_t)(int64_t)(is32 ? i->imm : i->off);
				taken = true;
			} else if (op == BPF_CALL) {
				if (is32 || BPF_SRC(code) != BPF_K || i->dst != 0 || i->off != 0)
					goto badinsn; /* includes callx (0x8d) */
				/* A single-read import costs nothing (exec.h). */
				if (!(i->src == BPF_PSEUDO_IMPORT &&
				      (uint32_t)i->imm < p->nimports &&
				      rt_import_free(p->imports[(uint32_t)i->imm].sig)) &&
				    !interp_charge(run))
					goto fuel;
				if (i->src == BPF_PSEUDO_CALL) {
					target = (uint64_t)pc + 1 + (uint64_t)(int64_t)i->imm;
					if (target >= n)
						goto badinsn;
					if (in->depth + 1 >= BPF_MAX_CALL_DEPTH) {
						run->pc = pc;
						return RT_RUN_DEPTH;
					}
					memcpy(frames[in->depth].saved, &reg[6],
					       5 * sizeof(uint64_t));
					frames[in->depth].ret_pc = pc + 1;
					in->depth++;
					reg[BPF_REG_FP] =
					    (uintptr_t)in->stack +
					    (uint64_t)(in->depth + 1) * BPF_STACK_SIZE;
					pc = (uint32_t)target;
					break;
				}
				if (i->src == BPF_PSEUDO_IMPORT) {
					const struct rt_sig *sig;

					if ((uint32_t)i->imm >= p->nimports ||
					    !(sig = p->imports[(uint32_t)i->imm].sig) || !sig->fn)
						goto badinsn;
					if (sig->flags & RT_SIG_MAYABORT) {
						struct rt_jit_ret r = ((rt_abortable_fn)sig->fn)(
						    reg[1], reg[2], reg[3], reg[4], reg[5]);
						if (r.status) {
							run->pc = pc;
							reg[0] = 0;
							return RT_RUN_HELPER;
						}
						reg[0] = r.r0;
					} else {
						reg[0] = ((rt_import_fn)sig->fn)(
						    reg[1], reg[2], reg[3], reg[4], reg[5]);
					}
					pc++;
					break;
				}
				/* Numbered helpers must have been linked into imports. */
				goto badinsn;
			} else if (op == BPF_EXIT) {
				if (is32 || code != (BPF_JMP | BPF_EXIT) || i->dst || i->src ||
				    i->off || i->imm)
					goto badinsn;
				if (in->depth == 0) {
					run->r0 = reg[0];
					run->pc = pc;
					return RT_RUN_OK;
				}
				in->depth--;
				memcpy(&reg[6], frames[in->depth].saved, 5 * sizeof(uint64_t));
				pc = frames[in->depth].ret_pc;
				break;
			} else {
				src = BPF_SRC(code) == BPF_K ? (uint64_t)(int64_t)i->imm
				                             : reg[i->src];
				taken = rt_bpf_cond(op, reg[i->dst], src, is32, &ok);
				if (!ok)
					goto badinsn;
				target = (uint64_t)pc + 1 + (uint64_t)(int64_t)i->off;
			}
			if (!taken) {
				pc++;
				break;
			}
			if (target >= n)
				goto badinsn;
			if (target <= pc && !interp_charge(run))
				goto fuel;
			pc = (uint32_t)target;
			break;
		}

		case BPF_LD:
			/* Only lddw exists in this class (BPF_ABS/BPF_IND are the
			 * legacy packet loads Spindle refuses). */
			if (code != (BPF_LD | BPF_IMM | BPF_DW) || i->dst == BPF_REG_FP ||
			    i->off != 0 || pc + 1 >= n || insns[pc + 1].code != 0 ||
			    insns[pc + 1].dst || insns[pc + 1].src || insns[pc + 1].off)
				goto badinsn;
			if (i->src == 0) {
				reg[i->dst] = (uint32_t)i->imm |
				              ((uint64_t)(uint32_t)insns[pc + 1].imm << 32);
			} else if (i->src == BPF_PSEUDO_GLOBAL) {
				if ((uint32_t)i->imm >= p->nglobals)
					goto badinsn;
				reg[i->dst] = (uintptr_t)p->globals[i->imm].data +
				              (uint64_t)(int64_t)insns[pc + 1].imm;
			} else {
				goto badinsn;
			}
			pc += 2;
			break;

		case BPF_LDX:
			if (i->dst == BPF_REG_FP || i->imm != 0)
				goto badinsn;
			size = bpf_size_bytes(code);
			if (BPF_MODE(code) != BPF_MEM &&
			    !(BPF_MODE(code) == BPF_MEMSX && size != 8))
				goto badinsn;
			addr = reg[i->src] + (uint64_t)(int64_t)i->off;
			if (checking && !interp_access_ok(in, addr, size, false))
				goto fault;
			reg[i->dst] = interp_load(addr, size);
			if (BPF_MODE(code) == BPF_MEMSX) {
				if (size == 1)
					reg[i->dst] = (uint64_t)(int64_t)(int8_t)reg[i->dst];
				else if (size == 2)
					reg[i->dst] = (uint64_t)(int64_t)(int16_t)reg[i->dst];
				else
					reg[i->dst] = (uint64_t)(int64_t)(int32_t)reg[i->dst];
			}
			pc++;
			break;

		case BPF_ST:
			if (BPF_MODE(code) != BPF_MEM || i->src != 0)
				goto badinsn;
			size = bpf_size_bytes(code);
			addr = reg[i->dst] + (uint64_t)(int64_t)i->off;
			if (checking && !interp_access_ok(in, addr, size, true))
				goto fault;
			interp_store(addr, size, (uint64_t)(int64_t)i->imm);
			pc++;
			break;

		case BPF_STX:
			size = bpf_size_bytes(code);
			addr = reg[i->dst] + (uint64_t)(int64_t)i->off;
			if (BPF_MODE(code) == BPF_MEM) {
				if (i->imm != 0)
					goto badinsn;
				if (checking && !interp_access_ok(in, addr, size, true))
					goto fault;
				interp_store(addr, size, reg[i->src]);
			} else if (BPF_MODE(code) == BPF_ATOMIC && (size == 4 || size == 8)) {
				if (!interp_valid_atomic_op(i->imm))
					goto badinsn;
				/* A fetching atomic writes src (cmpxchg writes r0);
				 * r10 must stay the frame pointer. */
				if ((i->imm & BPF_FETCH) && i->imm != BPF_CMPXCHG &&
				    i->src == BPF_REG_FP)
					goto badinsn;
				if (checking &&
				    (addr % size != 0 || !interp_access_ok(in, addr, size, true)))
					goto fault;
				if (!interp_atomic(addr, size == 8, i->imm, &reg[i->src], &reg[0]))
					goto badinsn;
			} else {
				goto badinsn;
			}
			pc++;
			break;
		}
	}

badinsn:
	run->pc = pc;
	return RT_RUN_BADINSN;
fault:
	run->pc = pc;
	return RT_RUN_FAULT;
fuel:
	run->pc = pc;
	return RT_RUN_FUEL;
}

int rt_interp_run(const struct rt_prog *p, uint32_t func, const uint64_t args[5],
                  struct rt_run *run, const struct rt_check *check)
{
	struct interp in;
	uint64_t reg[BPF_NREGS];
	uint32_t i;

	if (!p || !run || func >= p->nfuncs || !p->insns)
		return -RT_EINVAL;
	if (check && check->enabled && check->nregions && !check->regions)
		return -RT_EINVAL;

	in.p = p;
	in.check = check && check->enabled ? check : NULL;
	in.depth = 0;
	in.stack = rt_alloc((size_t)BPF_MAX_CALL_DEPTH * BPF_STACK_SIZE);
	if (!in.stack)
		return -RT_ENOMEM;

	for (i = 0; i < BPF_NREGS; i++)
		reg[i] = 0;
	for (i = 0; i < 5; i++)
		reg[1 + i] = args ? args[i] : 0;
	reg[BPF_REG_FP] = (uintptr_t)in.stack + BPF_STACK_SIZE;

	run->r0 = 0;
	if (run->ledger) {
		run->ledger->n = 0;
		run->ledger->overflow = false;
	}
	run->status = interp_loop(&in, p->funcs[func].start, reg, run);
	if (run->status != RT_RUN_OK) {
		run->r0 = 0;
		/* Stopped (fuel, an aborting import, or a fault of unchecked
		 * code): release what the program still holds (exec.h). */
		rt_ledger_unwind(run->ledger);
	}
	rt_free(in.stack);
	return 0;
}
