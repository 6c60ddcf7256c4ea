/*
 * dispatch_gen: the dispatcher's contract with an architecture's code
 * generator for dispatch routines (SPIN OSDI'96: "runtime code generation
 * specializes the routine to the argument count, unrolls the loop into
 * direct calls").
 *
 * Owns nothing: kernel/dispatch.c describes one immutable handler set in a
 * struct dispatch_gen_desc (portable: addresses and flags only) and the
 * backend (arch/x86_64/dispatch_gen.c) turns it into one sealed routine with
 * the dispatch_fn type, which the dispatcher stores in the event's call site.
 * The routine is the set's: it is freed (dispatch_gen_free) when the set is
 * reclaimed, after quiescence.
 *
 * What the routine must do, in order, for the raise (a1..a5):
 *   - it is entered with preemption disabled once by its caller (the event
 *     slot's entry, kernel/dispatch.c);
 *   - count itself in the CPU's raise nesting (*nest += 1); unless the set
 *     is ephemeral (it runs extension code), re-enable preemption right
 *     after (depth -= 1): native handlers may block;
 *   - for each entry: if it is a (metered) extension handler whose binding
 *     was disabled (*disabled), skip it (a native form cannot abort, so its
 *     binding is never disabled); call each guard (closure first when it
 *     has one; extension guards with the entry's fuel: a non-zero status is
 *     false); if any is false skip it; call the handler (extension handlers
 *     inside a ledger frame pushed on *frame_slot, with their fuel; after
 *     the call, if the status is non-zero or the frame holds references, the
 *     out-of-line ext_slow(set, i, status, frame) releases them and applies
 *     the abort policy, and returns non-zero when the run was aborted, which
 *     skips the entry); fold the result (result_fn(result_arg, acc, r,
 *     fired) when there is one, acc starting at default_result); count it;
 *   - nothing fired: call a native default handler directly, or
 *     unhandled(set, a) for everything else (extension default, no default);
 *   - exclusive: the first handler that fires ends the entry loop.  An
 *     exclusive set of native code (no result handler, a native default)
 *     may be tested in another order when that cannot show: if every
 *     entry's guards include, among the inline tests before its first
 *     called guard, a term on one key (the same arg and off) and those
 *     terms' intervals are pairwise disjoint, at most one entry can accept
 *     a raise, so the routine may search the intervals for the one whose
 *     interval holds the key's value and test only that entry's other
 *     terms and guards, in their order (the result and every call are the
 *     walk's; arch/x86_64/dispatch_gen.c: the keyed search);
 *   - one fired or no result handler: the last result; else the acc;
 *   - leave: restore its registers and stack, then jump to leave(result,
 *     cpu) - static code that does nest -= 1, at nest 0 records seen = gp,
 *     and for an ephemeral set re-enables preemption (a reschedule an
 *     interrupt asked for meanwhile runs there) - which returns the result
 *     to the routine's caller.  From the nest decrement on the CPU counts
 *     as quiescent, so nothing of the routine may run after it: a strand
 *     switched out there (the reschedule, or a native set's preemptible
 *     tail) could come back to a routine the reclaimer has freed.  (nest
 *     and the frame slot are the raising CPU's: cpu_self() + offsets.)
 * The depth is the kernel's per-CPU preemption counter (one %gs-relative
 * dec), or, when preempt is non-NULL (hosted builds), that counter.
 * That is exactly the walk in dispatch.c, which stays the reference (tests
 * compare the two) and the fallback when code memory is exhausted.
 *
 * Callers: kernel/dispatch.c only, with its lock held.
 *
 * Errors: -ENOMEM (no code memory: the caller keeps the walk), -EINVAL.
 */
#ifndef SPINDLE_KERNEL_DISPATCH_GEN_H
#define SPINDLE_KERNEL_DISPATCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/dispatch.h"

/* One call: a handler or a guard. */
struct dispatch_gen_call {
	const void *fn;   /* native: dispatch_fn; extension: rt_jit_fn */
	uint64_t closure; /* passed first when has_closure */
	bool has_closure;
	bool jit;                         /* the JIT ABI: fuel sixth, {r0, status} in rax:rdx */
	const struct dispatch_test *test; /* guards: non-NULL: test it in line */
};

struct dispatch_gen_entry {
	struct dispatch_gen_call h;
	struct dispatch_gen_call g[DISPATCH_MAX_GUARDS];
	uint32_t nguards;
	uint64_t fuel;        /* extension handlers and guards */
	const bool *disabled; /* extension handlers: the binding's flag */
};

struct dispatch_gen_desc {
	const struct dispatch_gen_entry *e;
	uint32_t n;
	uint32_t nargs;               /* the event's: only these are passed on */
	bool exclusive;               /* the first handler that fires ends the raise */
	dispatch_result_fn result_fn; /* NULL: the last result */
	void *result_arg;
	uint64_t default_result;
	bool native_default; /* def is a native default handler, called inline */
	struct dispatch_gen_call def;
	const void *set; /* first argument of the slow paths */
	/* The raising CPU's bookkeeping: the routine calls cpu_self() on entry
	 * (a routine runs on whichever CPU raises) and finds its raise depth,
	 * last quiescent grace period and innermost ledger frame slot at these
	 * offsets from what it returns. */
	void *(*cpu_self)(void);
	/* The same as an array indexed by the CPU number (cpu_base + id *
	 * cpu_size): a kernel backend may compute it in line instead. */
	const void *cpu_base;
	uint32_t cpu_size;
	uint32_t nest_off, frame_slot_off;
	/* The last step (above): rdi = the result, rsi = this CPU's
	 * bookkeeping; kernel/dispatch.c's, one for ephemeral sets and one
	 * for native ones. */
	uint64_t (*leave)(uint64_t result, void *cpu);
	/* Hosted builds: the one CPU's bookkeeping, a constant (no cpu_self
	 * call), and the plain counter standing in for the preemption depth. */
	const void *cpu_fixed;
	uint32_t *preempt;
	bool ephemeral; /* keep preemption disabled to the end */
	uint32_t frame_size, frame_up_off, frame_n_off, frame_overflow_off;
	int (*ext_slow)(const void *set, uint32_t i, uint64_t status, void *frame);
	uint64_t (*unhandled)(const void *set, const uint64_t a[5]);
};

struct dispatch_gen_code {
	void *mem;
	size_t size;
	dispatch_fn fn;
};

/* How many routines dispatch_gen_build has built with the keyed search
 * (above; written under the caller's lock): tests check a set took it. */
extern uint64_t dispatch_gen_keyed_built;

/* Build and seal the routine for d.  On failure *out is untouched. */
int dispatch_gen_build(const struct dispatch_gen_desc *d, struct dispatch_gen_code *out);
void dispatch_gen_free(struct dispatch_gen_code *c);

/* A cross-domain adapter: a native procedure with the caller-side ABI of an
 * RT_SIG_MAYABORT import (r1..r5 in, {r0, status} out) that calls the
 * JIT-compiled entry with `fuel` as its budget.  Extension exports are
 * published with one of these as their native address. */
int dispatch_gen_adapter(rt_jit_fn entry, uint64_t fuel, struct dispatch_gen_code *out);

#endif /* SPINDLE_KERNEL_DISPATCH_GEN_H */
