/*
 * guard_range.h - recognising a guard that is a range test of one field.
 *
 * A guard such as `return MachineTrap_Number(ss) - BASE < COUNT;` compiles
 * to a handful of instructions: one accessor call (an import with an
 * rt_inline form: a 64-bit field at a fixed offset of an argument), a
 * subtraction, one conditional branch and two constant results.  Its
 * meaning is "lo <= field <= hi", which an embedder can test in line
 * without calling the program at all (the dispatcher's struct
 * dispatch_test).  rt_guard_range finds that meaning by symbolic
 * evaluation of every path through the function, and refuses everything it
 * does not fully understand: it never guesses.
 *
 * What it understands: at most RT_GUARD_MAX_INSNS instructions, forward
 * jumps only (at most RT_GUARD_MAX_PATHS paths); 64-bit moves of registers
 * and constants, lddw of a plain constant, 32- and 64-bit arithmetic on
 * constants; adding or subtracting a constant to the field's value (modulo
 * 2^64, exactly); a number argument's own value; a 64-bit load of a field
 * of a non-null reference argument (ldxdw, non-negative offset) or a call
 * of an import with an rt_inline form on such an argument (for a two-argument form, a constant
 * index below n in r2); conditional jumps comparing the field's value (plus a constant) with a
 * constant, unsigned or signed (both are exact intervals modulo 2^64); exit with a constant or the
 * field's value (plus a constant) in r0.  Every branch and result must depend on the same field.
 * What it refuses: stores, other calls (local or import), back edges, 32-bit jumps, JSET, any other
 * operation on the field or on an argument, branches on unknown values, a result that is not one
 * interval (e.g. "outside [a, b]"), a constant result.
 *
 * The caller must pass a verified program (the verifier guarantees that
 * registers are initialised before use and that reads are in bounds); the
 * result then holds for every run: the function returns non-zero exactly
 * when lo <= *(u64 *)(r(arg+1) + off) <= hi (or lo <= r(arg+1) <= hi).  It says nothing about fuel:
 * the metered entry charges the accessor call as a call.
 *
 * Errors: -RT_EUNSUPP (not a range test it understands; *why names the
 * reason when why is non-NULL), -RT_EINVAL (bad arguments), -RT_ENOMEM.
 */
#ifndef RUNTIME_GUARD_RANGE_H
#define RUNTIME_GUARD_RANGE_H

#include "runtime/prog.h"

#define RT_GUARD_MAX_INSNS 32
#define RT_GUARD_MAX_PATHS 16

#define RT_GUARD_VALUE 0xffffffffu /* rt_guard_range.off: the argument itself */

struct rt_guard_range {
	uint32_t arg; /* the entry argument r(arg + 1) (0..4) */
	/* byte offset of the 64-bit field in what it refers to (a non-null
	 * reference), or RT_GUARD_VALUE: the (number) argument's own value */
	uint32_t off;
	uint64_t lo, hi; /* non-zero result exactly when lo <= field <= hi, unsigned */
};

/* Entry function func of p, whose arguments at entry are e's. */
int rt_guard_range(const struct rt_prog *p, uint32_t func, const struct rt_entry *e,
                   struct rt_guard_range *out, const char **why);

#endif
