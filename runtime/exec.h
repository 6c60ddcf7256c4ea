/*
 * exec.h - running a verified program: the interpreter and the JIT share
 * this contract, so either can be swapped for the other and compared.
 *
 * Fuel: every backward jump and every call (local or import) costs one unit;
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

struct rt_run {
	uint64_t fuel;           /* in: budget; out: what is left */
	uint64_t r0;             /* out: the program's result */
	enum rt_status status;   /* out */
	uint32_t pc;             /* out: insn index where an abort happened */
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
	uint64_t status;         /* enum rt_status */
};
typedef struct rt_jit_ret (*rt_jit_fn)(uint64_t, uint64_t, uint64_t, uint64_t,
				       uint64_t, uint64_t);

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
typedef struct rt_jit_ret (*rt_abortable_fn)(uint64_t, uint64_t, uint64_t, uint64_t,
					     uint64_t);

struct rt_jit;               /* opaque: the sealed code block */
/*
 * A plain entry (no loop, no call: it can neither run out of fuel nor
 * abort) is also an ordinary C function of its arguments.  rt_jit_plain
 * returns it as such, or NULL for a metered entry; a caller holding one
 * calls it like any C procedure, with only the arguments it declares
 * (cast through uintptr_t to its real type), no budget and no status to
 * check.  When the entry never names r3 this is exactly the C function;
 * otherwise it may also zero rdx, which a C caller ignores.
 */
rt_import_fn rt_jit_plain(const struct rt_jit *j, uint32_t func);
int rt_jit_compile(const struct rt_prog *p, struct rt_jit **out, char *err, size_t errlen);
rt_jit_fn rt_jit_entry(const struct rt_jit *j, uint32_t func);
size_t rt_jit_code_size(const struct rt_jit *j);
/* The sealed block itself (rt_jit_code_size bytes), for debug dumps:
 * `objdump -D -b binary -mi386:x86-64 FILE` disassembles it. */
const void *rt_jit_code(const struct rt_jit *j);
void rt_jit_free(struct rt_jit *j);
/* Convenience wrapper with the interpreter's shape. */
int rt_jit_run(const struct rt_jit *j, uint32_t func, const uint64_t args[5],
	       struct rt_run *run);

#endif
