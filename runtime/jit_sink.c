/*
 * jit_sink.c - planning the JIT's sinks of in-line accessor results
 * (see jit_sink.h for what a sink is and the conditions, which this file
 * checks in that order).
 *
 * Everything here is local and conservative: one forward walk per in-line
 * read, at most RT_SINK_WINDOW instructions, stopping at the first thing it
 * does not fully understand.  A wrong plan would put a value in the wrong
 * x86 register, which is a memory-safety bug in the kernel, so any doubt
 * means "no sink" and the JIT emits the moves as they are.
 */
#include "runtime/jit_sink.h"

#define RS_ALL  0x7ffu /* r0..r10 */
#define RS_ARGS 0x3eu  /* r1..r5 */

static uint16_t rs_bit(unsigned r)
{
	return (uint16_t)(1u << r);
}

void rt_sink_uses(const struct bpf_insn *in, uint16_t *reads, uint16_t *writes)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	uint16_t d = rs_bit(in->dst & 0xf), s = rs_bit(in->src & 0xf);

	*reads = 0;
	*writes = 0;
	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		*writes = d;
		if (op != BPF_MOV)
			*reads |= d; /* neg, end and every binary op read dst */
		if (BPF_SRC(in->code) == BPF_X && op != BPF_NEG && op != BPF_END)
			*reads |= s;
		return;
	case BPF_LDX:
		*reads = s;
		*writes = d;
		return;
	case BPF_ST:
		*reads = d;
		return;
	case BPF_STX:
		*reads = d | s;
		if (BPF_MODE(in->code) == BPF_ATOMIC) {
			if (in->imm == BPF_CMPXCHG) {
				*reads |= rs_bit(0);
				*writes |= rs_bit(0);
			} else if (in->imm & BPF_FETCH) {
				*writes |= s;
			}
		}
		return;
	case BPF_LD:
		if (bpf_is_lddw(in))
			*writes = d;
		else
			*reads = RS_ALL; /* legacy packet loads: never reasoned about */
		return;
	default: /* BPF_JMP, BPF_JMP32 */
		if (op == BPF_CALL) {
			*reads = RS_ARGS;
			*writes = rs_bit(0) | RS_ARGS;
		} else if (op == BPF_EXIT) {
			*reads = rs_bit(0);
		} else if (op != BPF_JA) {
			*reads = d | (BPF_SRC(in->code) == BPF_X ? s : 0);
		}
		return;
	}
}

bool rt_sink_dead_after(const struct bpf_insn *insns, uint32_t start, uint32_t end, uint32_t i,
                        unsigned r)
{
	int64_t m = (int64_t)i + 1;
	unsigned steps;

	if (r >= BPF_REG_FP)
		return false;
	for (steps = 0; steps < RT_SINK_SCAN; steps++) {
		const struct bpf_insn *in;
		uint8_t cls, op;
		uint16_t rd, wr;

		if (m < start || m >= end)
			return false;
		in = &insns[m];
		cls = BPF_CLASS(in->code);
		op = BPF_OP(in->code);
		if (in->code == (BPF_JMP | BPF_JA)) {
			m = m + 1 + in->off;
			continue;
		}
		if (in->code == (BPF_JMP32 | BPF_JA)) {
			m = m + 1 + in->imm;
			continue;
		}
		rt_sink_uses(in, &rd, &wr);
		if (rd & rs_bit(r))
			return false;
		if (wr & rs_bit(r))
			return true;
		if (cls == BPF_JMP || cls == BPF_JMP32) {
			if (op == BPF_EXIT)
				return true; /* not read by the exit: dead */
			if (op != BPF_CALL)
				return false; /* two successors: not followed */
		}
		m += bpf_is_lddw(in) ? 2 : 1;
	}
	return false;
}

/* Registers instruction m's code reads and writes, as emitted. */
static void rs_emitted(const struct bpf_insn *insns, const struct rt_sink_fact *fact, uint32_t m,
                       uint16_t *reads, uint16_t *writes)
{
	switch (fact[m].kind) {
	case RT_SINK_INLINE:
		*reads = rs_bit(fact[m].base & 0xf);
		*writes = rs_bit(0);
		return;
	case RT_SINK_SILENT:
		*reads = 0;
		*writes = 0;
		return;
	default:
		rt_sink_uses(&insns[m], reads, writes);
		return;
	}
}

/* The sink of the in-line read at d, if any: its final register (0 for
 * none) and the moves it absorbs in moves[0..*nmoves). */
static uint8_t rs_chain(const struct bpf_insn *insns, uint32_t start, uint32_t end,
                        const struct rt_sink_fact *fact, const bool *drop, uint32_t d,
                        uint32_t moves[RT_SINK_HOPS], unsigned *nmoves)
{
	uint16_t win = 0; /* registers W's code reads or writes so far */
	unsigned a = 0;   /* the register holding the value here */
	uint8_t dst = 0;
	unsigned n = 0;
	uint32_t m;

	*nmoves = 0;
	for (m = d + 1; m < end && m <= d + RT_SINK_WINDOW && n < RT_SINK_HOPS; m++) {
		const struct bpf_insn *in = &insns[m];
		uint16_t rd, wr;
		unsigned b;

		if (fact[m].target || fact[m].kind == RT_SINK_BARRIER)
			break;
		rs_emitted(insns, fact, m, &rd, &wr);
		if (!(rd & rs_bit(a))) {
			if (wr & rs_bit(a))
				break; /* overwritten before it is copied */
			win |= rd | wr;
			continue;
		}
		/* The value's next reader: it must be a move we can absorb. */
		if (fact[m].kind != RT_SINK_PLAIN || drop[m] ||
		    in->code != (BPF_ALU64 | BPF_MOV | BPF_X) || in->off || in->imm || in->src != a)
			break;
		b = in->dst;
		if (b == 0 || b >= BPF_REG_FP || b == a || (win & rs_bit(b)))
			break;
		if (!rt_sink_dead_after(insns, start, end, m, a))
			break;
		moves[n++] = m;
		a = b;
		dst = (uint8_t)b;
		*nmoves = n;
	}
	return dst;
}

void rt_sink_plan(const struct bpf_insn *insns, uint32_t start, uint32_t end,
                  const struct rt_sink_fact *fact, uint8_t *dst, bool *drop)
{
	uint32_t d, moves[RT_SINK_HOPS];
	unsigned n, k;

	for (d = start; d < end; d++) {
		dst[d] = 0;
		drop[d] = false;
	}
	for (d = start; d < end; d++) {
		if (fact[d].kind != RT_SINK_INLINE)
			continue;
		dst[d] = rs_chain(insns, start, end, fact, drop, d, moves, &n);
		for (k = 0; k < n; k++)
			drop[moves[k]] = true;
	}
}
