/*
 * exec.h - running a verified program: the interpreter and the JIT share
 * this contract, so either can be swapped for the other and compared.
 *
 * Fuel: every backward jump and every call (local or import) costs one unit,
 * except a call of an import registered as a single read (rt_import_free);
 * when the budget reaches zero the run stops with RT_RUN_FUEL at that
 * instruction, with no further side effects.  A budget of RT_FUEL_UNLIMITED
 * disables metering only in tools; the kernel always passes a budget.
 *
 * Division by zero gives 0 and modulo by zero leaves the dividend, as
 * RFC 9669 says; neither aborts.
 */
#ifndef RUNTIME_EXEC_H
#define RUNTIME_EXEC_H

#include "runtime/prog.h"

#define RT_FUEL_UNLIMITED UINT64_MAX

/*
 * References held by one run (the ledger).  A run can stop while the
 * program holds references it acquired through interface procedures: the
 * fuel runs out at a back-edge or at a call (even the releasing call: its
 * unit is charged before it acts), or an RT_SIG_MAYABORT import aborts.
 * The verifier proves only that a run ending at `exit` holds nothing, so
 * whoever runs a program must release what a stopped run still holds.
 *
 * The embedder's acquiring procedures note each non-null reference they
 * hand out, with the native procedure that releases it, and its releasing
 * procedures strike the note out *before* they release (so a release that
 * then aborts is not released twice).  They find the ledger through the
 * embedder's own "current run" pointer (per CPU in the kernel, a global in
 * hosted single-threaded embedders), set around the run: the runtime keeps
 * no such state.  Both runners (rt_interp_run, rt_jit_run) empty the ledger
 * before a run and, for every status but RT_RUN_OK, call rt_ledger_unwind
 * after it.  On RT_RUN_OK a verified program has released everything; what
 * an unverified one left is still noted for the caller to see.
 *
 * Capacity: the verifier refuses a program that may hold more than 16
 * references at once (V_MAX_REFS, RT_VERR_REF_TOO_MANY), so a ledger per
 * entry never fills for a verified program.  A note that does not fit sets
 * `overflow` and is lost (a tripwire for unverified code and embedder
 * bugs); a release of a reference that is not noted is ignored.
 *
 * The kernel's dispatcher keeps the same record in its invocation frame
 * (kernel/dispatch.c, dispatch_note_acquire); a run without acquiring
 * imports, or whose caller cleans up itself, passes no ledger.
 */
#define RT_LEDGER_MAX 16

typedef void (*rt_release_fn)(uint64_t ref);

struct rt_held {
	uint64_t ref;
	rt_release_fn release;
};

struct rt_ledger {
	struct rt_held held[RT_LEDGER_MAX]; /* oldest first */
	uint32_t n;
	bool overflow;
};

/* Note a reference just acquired (ref != 0) and how to release it. */
void rt_ledger_note_acquire(struct rt_ledger *l, uint64_t ref, rt_release_fn release);
/* Strike out the newest note of ref, before it is released. */
void rt_ledger_note_release(struct rt_ledger *l, uint64_t ref);
/* Release everything still noted, newest first, and empty the ledger. */
void rt_ledger_unwind(struct rt_ledger *l);

struct rt_run {
	uint64_t fuel;         /* in: budget; out: what is left */
	uint64_t r0;           /* out: the program's result */
	enum rt_status status; /* out */
	uint32_t pc;           /* out: insn index where an abort happened */
	/* in, optional: the ledger the embedder's procedures note into during
	 * this run; emptied before the run, unwound after any status but
	 * RT_RUN_OK.  NULL: nothing to release, or the caller does it. */
	struct rt_ledger *ledger;
};

/* Interpreter checking mode: every load and store must fall inside one of
 * these regions (plus the live stack frames and global regions, which the
 * interpreter adds itself); a miss ends the run with RT_RUN_FAULT.  An
 * accepted program that faults here is a verifier bug. */
struct rt_region {
	uintptr_t base;
	uint64_t size;
	bool writable;
};

struct rt_check {
	const struct rt_region *regions;
	uint32_t nregions;
	bool enabled;
};

/*
 * A call of an import the embedder registered as one 64-bit read (struct
 * rt_inline, runtime/embed.h), and that can neither abort nor share a
 * budget, costs no fuel on either engine: its work is bounded like a load's,
 * and the JIT compiles it to a load wherever it can, so charging it would
 * put fuel machinery (and a status) into code that has none otherwise.
 */
static inline bool rt_import_free(const struct rt_sig *sig)
{
	return sig && sig->fn && !(sig->flags & (RT_SIG_MAYABORT | RT_SIG_FUEL)) &&
	       rt_inline_find(sig) != NULL;
}

/* Does `a op b` hold, op a conditional jump's BPF_OP (BPF_JEQ .. BPF_JSLE,
 * BPF_JSET), on 32 or 64 bits?  *ok false (and false) for an op the ISA
 * does not define. */
bool rt_bpf_cond(uint8_t op, uint64_t a, uint64_t b, bool is32, bool *ok);

/* Run entry function `func` with args r1..r5. */
int rt_interp_run(const struct rt_prog *p, uint32_t func, const uint64_t args[5],
                  struct rt_run *run, const struct rt_check *check);

/*
 * The JIT (arch/x86_64/jit.c) compiles a verified program into one sealed
 * code block.  Each entry function becomes a native SysV function:
 *
 *     struct rt_jit_ret fn(uint64_t r1, uint64_t r2, uint64_t r3,
 *                          uint64_t r4, uint64_t r5, uint64_t fuel);
 *
 * returning r0 in rax and the run status in rdx, so a caller (the event
 * dispatcher, a cross-domain call) invokes an extension with a plain C call.
 */
struct rt_jit_ret {
	uint64_t r0;
	uint64_t status; /* enum rt_status */
};
typedef struct rt_jit_ret (*rt_jit_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

/*
 * Native types of imported procedures (rt_sig.fn).  An ordinary import is
 * rt_import_fn.  A procedure whose signature has RT_SIG_MAYABORT is
 * rt_abortable_fn instead: it returns struct rt_jit_ret, its result in rax
 * and a status in rdx; a non-zero status ends the calling program with
 * RT_RUN_HELPER (r0 = 0), no further instruction of the program running.
 * Both engines follow this protocol (added by the loader/interpreter side;
 * the JIT checks rdx after such a call).
 */
typedef uint64_t (*rt_import_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
typedef struct rt_jit_ret (*rt_abortable_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

struct rt_jit; /* opaque: the sealed code block */
/*
 * A plain entry (no loop and no call but in-line reads of rt_import_free
 * imports: it can neither run out of fuel nor abort) is also an ordinary C
 * function of its arguments.  rt_jit_plain
 * returns it as such, or NULL for a metered entry; a caller holding one
 * calls it like any C procedure, with only the arguments it declares
 * (cast through uintptr_t to its real type), no budget and no status to
 * check.  When the entry never names r3 this is exactly the C function;
 * otherwise it may also zero rdx, which a C caller ignores.
 */
rt_import_fn rt_jit_plain(const struct rt_jit *j, uint32_t func);
/*
 * An entry that needs no metering by its caller.  For a function whose
 * control flow has no cycle (backward jumps to shared tails are fine: no
 * path repeats), with no local call and no RT_SIG_MAYABORT or RT_SIG_FUEL
 * import, of at most RT_JIT_UNMETERED_MAX instructions, the JIT also
 * compiles an unmetered copy of the body: a C function of r1..r5 (rdi..r8;
 * result in rax; it may clobber rdx, r9, r10, r11 like any C function)
 * with no fuel checks and no status, since it can neither run out nor
 * abort.  rt_jit_unmetered returns it and sets *worst (if worst is not
 * NULL) to an upper bound of the fuel the metered entry can charge on any
 * path: its charged call sites plus its backward jumps, each of which runs
 * at most once.  A caller that would give the metered entry a budget >=
 * *worst may call this one instead: the metered run could never stop.  A
 * plain function's entry is its plain body, with *worst = 0.  NULL (and
 * *worst untouched) for anything else.
 */
#define RT_JIT_UNMETERED_MAX 512
rt_import_fn rt_jit_unmetered(const struct rt_jit *j, uint32_t func, uint64_t *worst);
int rt_jit_compile(const struct rt_prog *p, struct rt_jit **out, char *err, size_t errlen);
rt_jit_fn rt_jit_entry(const struct rt_jit *j, uint32_t func);
size_t rt_jit_code_size(const struct rt_jit *j);
/* The sealed block itself (rt_jit_code_size bytes), for debug dumps:
 * `objdump -D -b binary -mi386:x86-64 FILE` disassembles it. */
const void *rt_jit_code(const struct rt_jit *j);
void rt_jit_free(struct rt_jit *j);
/* Convenience wrapper with the interpreter's shape. */
int rt_jit_run(const struct rt_jit *j, uint32_t func, const uint64_t args[5], struct rt_run *run);

#endif
