/*
 * jit_sink.h - where the JIT may load an in-line accessor's result straight
 * into the register that finally holds it.
 *
 * clang moves an accessor's result (eBPF r0) through registers before it is
 * used: `call Arg; r7 = r0; ...; r1 = r7; call Portal_Call`.  When the call
 * is compiled in line (one load, struct rt_inline) and each of those moves
 * is the value's only use, the load can write the last register of the
 * chain directly and the moves disappear: a *sink*.  rt_sink_plan finds the
 * sinks of one function by a local analysis over straight-line code, from
 * facts the JIT supplies per instruction (only the JIT knows which of its
 * peepholes apply where); it is portable so the host tests can drive it
 * with hand-made facts.
 *
 * A sink at d (an in-line read) with moves u1 [, u2] (`rA1 = r0`,
 * `rB = rA1`) and final register B is planned only when all of this holds
 * (W = the instructions strictly between d and the last move, the moves
 * excluded):
 *   - no jump target in (d, last move]: every path through the moves
 *     comes from d;
 *   - nothing in W is a barrier (a jump, exit, real call, lddw, atomic,
 *     division or shift by a register: anything whose code may touch a
 *     register the instruction does not name, or leave the block);
 *   - each move is a 64-bit `rX = rY` of the register holding the value at
 *     that point, into r1..r9, and that register is dead after the move
 *     (rt_sink_dead_after);
 *   - before each move, nothing reads or writes the register that holds
 *     the value (it would see the old value there, or change what the move
 *     copies);
 *   - nothing in W reads or writes B as its code does (the load filled B
 *     early); forms that emit no code (facts RT_SINK_SILENT) are exempt.
 * The facts describe the code as emitted: an in-line read reads only its
 * base register and writes r0; a silent instruction touches nothing.
 *
 * Why chains never conflict: another in-line read d' inside W writes, as
 * emitted, the final register B' of its own sink, and B' is written by a
 * plain move of that sink; if B' == B that move or this chain's last
 * move lies in the other chain's window, and one of the two is refused.
 *
 * Owns nothing; no allocation; callable from the kernel and the host.
 */
#ifndef RUNTIME_JIT_SINK_H
#define RUNTIME_JIT_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/bpf.h"

/* What an instruction's code does, as the JIT will emit it. */
enum rt_sink_kind {
	RT_SINK_BARRIER, /* anything not listed below: ends the search */
	RT_SINK_PLAIN,   /* ALU (no div/mod/shift by register), ldx, st, stx:
	                    touches exactly the registers it names */
	RT_SINK_INLINE,  /* an in-line read: reads `base`, writes r0 */
	RT_SINK_SILENT,  /* emits nothing (a forwarded `r1 = rS` or a
	                    dropped `r2 = K`: its reader uses rS or K) */
};

struct rt_sink_fact {
	uint8_t kind; /* enum rt_sink_kind */
	uint8_t base; /* RT_SINK_INLINE: the eBPF register its load reads */
	bool target;  /* some jump lands on this instruction */
};

#define RT_SINK_WINDOW 16 /* instructions from the read to its last move */
#define RT_SINK_HOPS   2  /* moves a value may travel through */
#define RT_SINK_SCAN   64 /* instructions a liveness scan looks at */

/* eBPF registers instruction `in` reads and writes (bit k: rk), as the
 * interpreter runs it.  Calls read r1..r5 and write r0..r5; an instruction
 * the function does not understand (legacy packet loads, unknown
 * opcodes) reads everything, so no value is ever thought dead past it. */
void rt_sink_uses(const struct bpf_insn *in, uint16_t *reads, uint16_t *writes);

/* Whether register r (0..9) is dead after instruction i: on every path
 * from i + 1 (straight code, `ja`s followed) it is written before it is
 * read.  Conservative: a conditional jump, the function's end, an
 * instruction out of [start, end) or more than RT_SINK_SCAN steps count as
 * a read.  Jump targets on the way do not matter: other paths joining
 * later do not make a value live. */
bool rt_sink_dead_after(const struct bpf_insn *insns, uint32_t start, uint32_t end, uint32_t i,
                        unsigned r);

/* Plan the sinks of the function insns[start, end) from fact[start, end).
 * For every in-line read d that gets a sink, dst[d] = its final register
 * (1..9); for every move it absorbs, drop[m] = true; every other entry of
 * [start, end) is 0 / false. */
void rt_sink_plan(const struct bpf_insn *insns, uint32_t start, uint32_t end,
                  const struct rt_sink_fact *fact, uint8_t *dst, bool *drop);

#endif
