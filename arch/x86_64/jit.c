/*
 * jit.c - the eBPF -> x86-64 compiler.
 *
 * rt_jit_compile() turns every function of a (verified) program into native
 * code in one sealed code block; rt_jit_entry() hands out a plain SysV
 * function pointer per entry function (runtime/exec.h):
 *
 *     struct rt_jit_ret fn(r1, r2, r3, r4, r5, uint64_t fuel);
 *
 * Design
 * ------
 * Register map.  eBPF registers live in fixed x86 registers for the whole
 * program, chosen so that eBPF's calling convention *is* the SysV one:
 *
 *     r0 = rax   (return value)          r6 = rbx   (callee-saved)
 *     r1 = rdi   (argument 1)            r7 = r13   (callee-saved)
 *     r2 = rsi   (argument 2)            r8 = r14   (callee-saved)
 *     r3 = rdx   (argument 3)            r9 = r15   (callee-saved)
 *     r4 = rcx   (argument 4)            r10 = rbp  (frame pointer, read-only)
 *     r5 = r8    (argument 5)
 *
 *     scratch: r10, r11 (caller-saved, never live across an eBPF insn;
 *              an unmetered copy may hold r6-r9 there instead, see below)
 *     fuel:    r12 (callee-saved, so it survives calls into C), or r9 in
 *              a function that calls nothing (see "Function kinds")
 *
 *     abort pc: r11 on an aborted return (see "Where a run stopped")
 *
 * A call into a C import therefore needs no shuffling at all: the arguments
 * are already in rdi..r8, the result comes back in rax, and C preserves
 * exactly the registers eBPF promises to preserve (r6-r9, r10) plus r12.
 * An import the embedder registered as a single read (struct rt_inline:
 * MachineTrap.Number and .Arg) is not called at all: `mov rax, [rdi+off]`,
 * the offset chosen by the constant r2 when it has two arguments
 * (jit_call_inline); r1-r5 are dead after a call, so nothing else changes.
 * Such an import is free (rt_import_free, exec.h): it costs no fuel on
 * either engine, in line or called, and a read in line is not a call for
 * what follows (a function whose only calls are such reads is plain).
 *
 * Functions.  Every eBPF function becomes a native function.  One that
 * touches r10 gets a frame, `push rbp; mov rbp, rsp; sub rsp, STACK`, so
 * r10 = rbp points to the top of its stack area.  STACK is the function's
 * actual use (the deepest r10-relative access, rounded to 16) unless r10
 * escapes into another register, in which case the full 512 bytes are
 * reserved.  The function then saves the callee-saved registers it writes
 * (among r6-r9), which is both what eBPF's local calls and what SysV
 * require.  Stack alignment is kept so that every call sees rsp = 0 mod 16.
 *
 * Fuel.  exec.h charges one unit per taken backward jump and per call
 * (free imports excepted), before the instruction acts; a budget of N
 * allows exactly N.  The JIT
 * keeps the budget in r12 and charges with `sub r12, 1; jb abort_fuel` (jb
 * fires when r12 was already 0, leaving the budget untouched in effect).
 * Calls are charged just before the call.  Back-edges are charged at the
 * target: every instruction some backward jump reaches gets a "fuel pad"
 * in front of it,
 *
 *         jmp T                ; only if the code before can fall through
 *     pad(T): sub r12, 1
 *         jb abort_fuel
 *     T:  ...
 *
 * and backward jumps go to pad(T) while forward paths land on T.  A loop
 * latch `if cond goto T` therefore stays one jcc, and the taken edge pays
 * one fused sub/jb.  clang's latch idiom "if !cond goto +1; goto T" is
 * compiled as one inverted jcc to pad(T).  Pads start at a 32-byte
 * boundary (int3 filler, never executed since nothing falls into it), so
 * a small loop's latch jcc never straddles one (which some Intel cores
 * penalise; FNV-1a measured 1.20x gcc instead of 1.17x that way).
 *
 * Where a run stopped.  The interpreter reports the index of the
 * instruction that ran out of fuel (the back-edge's jump, the call) or
 * whose import aborted, in rt_run.pc; so does the JIT, at no cost on the
 * paths that do not abort.  Every such site's jb/jnz goes to a stub of its
 * own, out of line after the function, `mov r11d, insn; jmp abort_*`, and
 * every abort path leaves r11 alone, so an aborted entry returns the index
 * in r11 (rt_jit_run's shim stores it).  A pad serves one source: the last
 * back-edge to its target (the latch).  Any other back-edge to the same
 * target gets its own pad out of line, `sub r12, 1; jb stub; jmp T`.
 *
 * Batched calls.  A straight-line stretch (no jump out, no label in) with
 * k >= 2 calls of ordinary imports charges its k units once, `sub r12, k;
 * jb slow`, before its first call, and the calls themselves carry no
 * check: an extension calling the kernel pays a call and nothing else.
 * When the budget cannot cover the stretch, the interpreter would stop at
 * one of its calls after running the ones before; `slow` is therefore a
 * checked copy of the stretch, entered after `add r12, k` and leaving by a
 * jump to the instruction after its last call (jit_find_runs).  Local
 * calls, abortable imports and RT_SIG_FUEL imports end a stretch, since
 * they can consume fuel or abort after the charge.
 *
 * Function kinds:
 *   plain   no back-edge and no call other than in-line reads: no fuel
 *           machinery at all.
 *           The entry point is the body, called directly from C; it
 *           returns status 0 with `xor edx, edx`, left out where rdx (eBPF
 *           r3) is known to be 0 already (after `r3 = 0`, or after an
 *           abortable import returned status 0 and nothing wrote r3 since,
 *           with no label in between: jit_track_rdx; flat functions too).
 *           If no instruction names r3 at all, the xor moves to a
 *           one-instruction entry in front of the body instead, and the
 *           body itself is an ordinary
 *           C function of its arguments (rt_jit_plain: a caller that knows
 *           it holds a plain entry calls it exactly like C).  A program of
 *           plain functions (no loops, no calls) costs nothing for being
 *           metered.
 *   flat    metered (loops and/or import calls) but no local call in or
 *           out: the usual handler.  The body is also the entry point: its
 *           prologue saves r12 and loads the budget from r9, and its abort
 *           landings (one per function, reached from the sites' stubs) set
 *           r0 = 0 and the status and leave through its own epilogue; rsp is
 *           the prologue's at every abort point, so nothing needs unwinding.
 *           If it calls nothing at all (loops only), the budget simply stays
 *           in r9, where it arrived, and nothing is saved for it.
 *   nested  metered and part of a local call chain.  Its entry is a stub
 *           `lea r11, [body]; jmp common_entry`:
 *
 *     common_entry:  push rbp, r12 and every callee-saved register any
 *                    function writes; mov r12, r9; call r11
 *     ra:            xor edx, edx                 ; status = RT_RUN_OK
 *     finish:        restore, ret                 ; rax = r0, rdx = status
 *
 *           All nested bodies keep rbp frames, and share r12: one budget per
 *           invocation.  Aborting from any depth is an unwind: abort_fuel
 *           sets edx = RT_RUN_FUEL and walks the rbp chain (with r10, r11
 *           holding the abort pc) until the frame
 *           whose return address is `ra`, resets rsp above it, sets rax = 0
 *           and jumps to finish, which restores what common_entry saved (so
 *           the skipped nested epilogues lose nothing).
 * Flat and nested entries both return the fuel left in r9 (a scratch
 * register a SysV caller ignores), which rt_jit_run's shim stores for its
 * caller, so tests can compare fuel accounting with the interpreter's.
 * Plain functions never touch r9, so for every kind "budget in r9, what is
 * left in r9" holds, which is what makes shared budgets possible (below).
 *
 * Unmetered copies (rt_jit_unmetered).  A metered function that can only
 * stop for want of fuel, and only a bounded amount of it, needs its
 * metering only when the budget is short: one whose control flow has no
 * cycle (jit_acyclic: clang's backward jumps to a shared exit are fine),
 * with no local call and no RT_SIG_MAYABORT or RT_SIG_FUEL import.  Each of
 * its charged calls and backward jumps runs at most once, so it never
 * charges more than their number (`worst`).  Such a function of at most
 * RT_JIT_UNMETERED_MAX instructions is emitted a second time after its
 * metered code, in the same block: the same instructions with their own
 * labels (JB_UNM), the frame and saved registers of its own (no r12, no
 * budget, no abort landings, no out-of-line code), backward jumps straight
 * to their targets, and exits without `xor edx, edx`.  It is a C function
 * of r1..r5, for a caller that would give the metered entry at least
 * `worst` (the dispatcher).  The limit bounds the extra code and pass time
 * to that of one more function of 512 instructions.  Having no status to
 * return, the copy compiles `call import; exit` as a tail call, its
 * epilogue then `jmp import` (jit_tail: ordinary imports, r10 never
 * escaping); and when its only calls are in-line reads and tail calls, the
 * eBPF callee-saved registers it writes live in r9, r10, r11 instead
 * (jit_unmetered_regs), so it saves nothing.
 *
 * Shared budgets:
 *
 * Shared budgets (RT_SIG_FUEL, runtime/embed.h).  An import with this flag
 * is itself metered code with this entry convention (another extension's
 * JIT'd entry, reached by `call rel32` or a jump-only adapter that leaves
 * r9 alone).  The caller charges the call as usual, then hands its budget
 * over and takes back what is left:
 *
 *     sub r12, 1; jb stub        ; the call's own unit
 *     mov r9, r12                ; budget -> callee
 *     call callee
 *     mov r12, r9                ; what the callee left
 *     test rdx, rdx; jnz stub    ; with RT_SIG_MAYABORT: its abort is ours
 *
 * so one invocation has one budget across domains.  A callee that runs out
 * returns status RT_RUN_FUEL with r9 = 0, and its caller ends with
 * RT_RUN_HELPER, fuel 0, pc = the call.
 *
 * Aborting imports.  An import whose signature has RT_SIG_MAYABORT has the
 * native type rt_abortable_fn (exec.h): it returns {r0, status} in rax:rdx.
 * After such a call the JIT emits `test rdx, rdx; jnz abort_helper`, which
 * ends the run as above with status RT_RUN_HELPER.  rdx is eBPF r3, which a
 * call clobbers anyway, so the protocol costs two instructions and no
 * shared state: it is safe under preemption and on several CPUs at once.
 *
 * Peepholes (exact; each needs that nothing jumps into the middle):
 *   rA = rB; rA += rC; rA = *(rA + off)  ->  mov rA, [rB + rC + off]
 *   rA = rB; rA += K (or rC)             ->  lea rA, [rB + K (or rC)]
 *   if cond goto +1; goto T              ->  j!cond T   (or its pad)
 *   r1 = rS; [r2 = K;] call read         ->  mov rax, [rS + off]
 * (the last for an in-line read: r1 and r2 are dead after the call, so
 * the load is their only reader; jit_r1_forwarded, jit_r2_dropped).
 *
 * Sizing.  Code is generated by running the same emitter several times.
 * Every jump target is a label whose offset comes from the previous pass;
 * the first pass uses only long jumps, later passes use 2-byte jumps where
 * the previous offsets allow.  Instruction sizes can then only shrink from
 * pass to pass, so the offsets converge; the final pass writes into the
 * memory from rt_code_alloc (read+write), which is then sealed read+execute
 * with rt_code_seal: code is never writable and executable at once.  Import
 * calls use `call rel32` when the target is within +-2 GiB of the whole
 * block (the kernel case), else `call [rip + literal]` through an 8-byte
 * literal at the end of the block; that choice is made once the block's
 * address is known and only shrinks code.  (Hosted, rt_code_alloc asks for
 * pages just below the executable's text, so host benchmarks get the
 * kernel's `call rel32` too: runtime/host_env.c.)
 *
 * Validation.  The JIT runs only on verified programs but never emits code
 * for something it does not understand: register numbers, opcodes, lddw
 * pairs, jump and call targets and import indices are checked and an
 * unknown form is refused with -RT_EINVAL naming the instruction.  An
 * instruction the verifier marked unreachable that does not decode becomes
 * int3 instead of a refusal.
 */
#include "runtime/exec.h"
#include "runtime/jit_sink.h"
#include "arch/x86_64/jit_emit.h"

/* eBPF register -> x86 register (see the map above). */
static const uint8_t jit_reg[BPF_NREGS] = {
    X86_RAX, X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8,
    X86_RBX, X86_R13, X86_R14, X86_R15, X86_RBP,
};

#define JIT_FUEL       X86_R12
#define JIT_MAX_PASSES 40

/* Labels of each function, after the per-insn labels. */
enum {
	JF_BODY,       /* the native function */
	JF_ENTRY,      /* its SysV entry point (the body unless nested) */
	JF_ABORT_FUEL, /* flat functions: local abort landings */
	JF_ABORT_HELPER,
	JF_ABORT_OUT,
	JF_UNMETERED, /* its unmetered copy (rt_jit_unmetered), if any */
	JF_COUNT
};

/* Labels of the common code, after the per-function labels. */
enum {
	JL_COMMON_ENTRY,
	JL_RA,
	JL_FINISH,
	JL_ABORT_FUEL,
	JL_ABORT_HELPER,
	JL_ABORT,
	JL_WALK,
	JL_FOUND,
	JL_RUN_SHIM,
	JL_END,
	JL_COUNT
};

/* The shape of one function (see "Function kinds" above). */
struct jit_func {
	uint32_t stack;    /* bytes reserved below rbp, a multiple of 16 */
	uint8_t saved;     /* bit k: eBPF r(6+k) is written, so saved */
	bool metered;      /* has a back-edge or a call that costs fuel */
	bool calls;        /* any call emitted (not in line): keep rsp 16-byte
	                      aligned */
	bool backedge;     /* some jump goes backward */
	bool own_frame;    /* needs a frame for itself (before jit_classify
	                      forces one on nested functions) */
	bool must_meter;   /* calls an RT_SIG_MAYABORT or RT_SIG_FUEL import */
	bool unmetered;    /* also compiled without metering (JF_UNMETERED) */
	uint32_t ncharged; /* import call sites that charge fuel */
	uint32_t nback;    /* backward jumps (each charges when taken) */
	bool calls_local;
	bool callee; /* the target of some local call */
	bool flat;
	bool frame;        /* push rbp; mov rbp, rsp */
	bool pad;          /* sub rsp, 8 to keep calls 16-byte aligned */
	uint8_t fuel;      /* register holding the budget: r12, or r9 in a
	                      flat function that calls nothing (no call can
	                      clobber it, so it needs no saving at all) */
	bool r3;           /* some instruction names r3 (rdx) */
	bool xor_at_entry; /* plain and never names r3: the status is zeroed
	                      once at the entry, and the body is a C function */
	bool fp_escapes;   /* r10 is copied somewhere: a pointer into the frame
	                      may reach an import (no tail calls) */
};

struct jit_ctx {
	const struct rt_prog *p;
	const uint8_t *reg;      /* eBPF -> x86 register: jit_reg, or ureg */
	uint8_t ureg[BPF_NREGS]; /* an unmetered copy's map (jit_unmetered_regs) */
	struct jit_buf b;
	struct jit_func *fn;
	int32_t *func_at;           /* insn index -> function starting there, or -1 */
	bool *slot2;                /* insn index is the second slot of an lddw */
	bool *target;               /* insn index is a jump target */
	bool *backtarget;           /* ... of a back-edge: it gets a fuel pad */
	bool fallthrough;           /* the code emitted last can fall through */
	bool *near_import;          /* per import: call rel32 reaches it */
	uint8_t *site;              /* per insn: JS_* (abort stubs, out-of-line pads) */
	uint32_t *pad_src;          /* back-edge target -> the source its pad reports */
	int32_t *back_to;           /* back-edge source -> its target, or -1 */
	uint32_t *run_end;          /* first call of a batched run -> insn after its
	                               last call (0: no run starts here) */
	uint32_t *run_k;            /* ... and the number of calls it charges at once */
	uint32_t run_until;         /* inside a batched run's fast path: its end */
	struct rt_sink_fact *sfact; /* per insn: what its code touches */
	uint8_t *sink_dst;          /* per in-line read: the register its
	                               load writes (0: r0), see jit_sinks */
	bool *sink_drop;            /* per insn: a move a sink absorbed */
	bool any_sink;              /* some sink_drop is set */
	bool rdx_zero;              /* rdx (eBPF r3) is known to hold 0 here */
	bool unmetered;             /* emitting a function's unmetered copy: no fuel
	                               checks, labels from JB_UNM, exits without the
	                               status (rt_jit_unmetered) */
	struct jit_func ufn;        /* ... and the shape it is emitted with */
	/* Labels: insns 0..n, fuel pads 0..n, fuel-abort stubs 0..n,
	 * helper-abort stubs 0..n, out-of-line pads 0..n, slow paths of
	 * batched runs 0..n, then JF_* of each function, then JL_*. */
	uint32_t nlabels;
	uint32_t *prev;       /* offsets from the previous pass */
	uint32_t *cur;        /* offsets being recorded in this pass */
	uint32_t anchor_prev; /* last label set, in both passes' coordinates */
	uint32_t anchor_cur;
	bool force_long; /* first pass: every jump in its long form */
	bool long_only;  /* fallback if short jumps fail to converge */
	uintptr_t base;  /* address of the code block, 0 while unknown */
	bool any_metered;
	bool any_nested;
	uint8_t saved_union; /* every callee-saved reg any function writes */
	uint32_t cur_insn;
	uint32_t cur_func;
	char *err;
	size_t errlen;
};

/* Per-insn label blocks (see jit_ctx.nlabels). */
enum {
	JB_INSN,  /* the instruction itself */
	JB_PAD,   /* the fuel pad in front of a back-edge target */
	JB_FSTUB, /* fuel-abort stub of a site: records its insn index */
	JB_HSTUB, /* helper-abort stub of a RT_SIG_MAYABORT call */
	JB_XPAD,  /* out-of-line pad of a back-edge source */
	JB_SLOW,  /* slow path of a batched run of import calls */
	JB_UNM,   /* the instruction in its function's unmetered copy */
	JB_COUNT
};

/* What an instruction needs beside its own code (jit_ctx.site). */
#define JS_FUEL   0x1 /* fuel is charged here: a fuel-abort stub */
#define JS_HELPER 0x2 /* an abortable import: a helper-abort stub */
/* A back-edge whose target's pad reports another source: it gets its own
 * pad, out of line. */
#define JS_XPAD 0x4
/* A loop head whose loop fits in 32 bytes: its pad is aligned to 32. */
#define JS_ALIGN 0x8

static uint32_t jl_blk(const struct jit_ctx *c, uint32_t blk, uint32_t i)
{
	return blk * (c->p->ninsns + 1) + i;
}

/* Instruction i as a jump target: in the copy being emitted. */
static uint32_t jl_insn(const struct jit_ctx *c, uint32_t i)
{
	return c->unmetered ? jl_blk(c, JB_UNM, i) : i;
}

/* The fuel pad in front of back-edge target t. */
static uint32_t jl_pad(const struct jit_ctx *c, uint32_t t)
{
	return jl_blk(c, JB_PAD, t);
}

static uint32_t jl_func(const struct jit_ctx *c, uint32_t f, uint32_t k)
{
	return JB_COUNT * (c->p->ninsns + 1) + f * JF_COUNT + k;
}

static uint32_t jl_common(const struct jit_ctx *c, uint32_t l)
{
	return JB_COUNT * (c->p->ninsns + 1) + c->p->nfuncs * JF_COUNT + l;
}

/* The literal holding the address of far import k. */
static uint32_t jl_lit(const struct jit_ctx *c, uint32_t k)
{
	return jl_common(c, JL_COUNT) + k;
}

/* Where a fuel or helper abort goes from a site's stub. */
static uint32_t jl_abort(const struct jit_ctx *c, bool fuel)
{
	if (c->fn[c->cur_func].flat)
		return jl_func(c, c->cur_func, fuel ? JF_ABORT_FUEL : JF_ABORT_HELPER);
	return jl_common(c, fuel ? JL_ABORT_FUEL : JL_ABORT_HELPER);
}

static int jit_fail(struct jit_ctx *c, const char *why)
{
	if (c->err && c->errlen)
		rt_snprintf(c->err, c->errlen, "jit: insn %u: %s", c->cur_insn, why);
	return -RT_EINVAL;
}

/* ---- labels and jumps ------------------------------------------------ */

static void jit_label(struct jit_ctx *c, uint32_t l)
{
	c->cur[l] = c->b.len;
	c->anchor_cur = c->b.len;
	c->anchor_prev = c->prev[l];
}

/* Where the next byte lands, in the previous pass's coordinates.  Sizes
 * within an instruction's code before this point are the current pass's,
 * which is what makes the shrink-only argument work. */
static int64_t jit_here_prev(const struct jit_ctx *c)
{
	return (int64_t)c->anchor_prev + (c->b.len - c->anchor_cur);
}

/* jmp (cc < 0) or jcc to label l, short when the previous pass allows. */
static void jit_jump(struct jit_ctx *c, int cc, uint32_t l)
{
	int64_t here = jit_here_prev(c);
	int64_t target = c->prev[l];
	int64_t d8 = target - (here + 2);

	if (!c->force_long && !c->long_only && x86_is_imm8(d8)) {
		if (cc < 0)
			x86_jmp_rel8(&c->b, (int8_t)d8); /* jmp rel8 */
		else
			x86_jcc_rel8(&c->b, (unsigned)cc, (int8_t)d8); /* jcc rel8 */
	} else if (cc < 0) {
		x86_jmp_rel32(&c->b, (int32_t)(target - (here + 5))); /* jmp rel32 */
	} else {
		x86_jcc_rel32(&c->b, (unsigned)cc, (int32_t)(target - (here + 6))); /* jcc rel32 */
	}
}

/* call rel32 to label l (a function body). */
static void jit_call_label(struct jit_ctx *c, uint32_t l)
{
	int64_t here = jit_here_prev(c);

	x86_call_rel32(&c->b, (int32_t)((int64_t)c->prev[l] - (here + X86_CALL_REL32_LEN)));
}

/* lea r, [rip + label]. */
static void jit_lea_label(struct jit_ctx *c, unsigned r, uint32_t l)
{
	int64_t here = jit_here_prev(c);

	x86_lea_rip(&c->b, r, (int32_t)((int64_t)c->prev[l] - (here + X86_LEA_RIP_LEN)));
}

/* Short forward jump over a small fixed sequence: emit now, patch with
 * jit_land8() once the sequence is emitted.  Returns the patch position. */
static uint32_t jit_fwd8(struct jit_buf *b, int cc)
{
	if (cc < 0)
		x86_jmp_rel8(b, 0); /* jmp rel8 (patched) */
	else
		x86_jcc_rel8(b, (unsigned)cc, 0); /* jcc rel8 (patched) */
	return b->len;
}

static void jit_land8(struct jit_buf *b, uint32_t at)
{
	if (b->len - at > 127)
		b->bad = true; /* never: the sequences skipped are a few dozen bytes */
	if (b->code && at - 1 < b->cap)
		b->code[at - 1] = (uint8_t)(b->len - at);
}

/* Charge one unit of fuel for the instruction at `site`: sub r12, 1; jb
 * to the site's stub, which records where the run stopped (r9 instead of
 * r12 in flat functions without calls). */
static void jit_fuel(struct jit_ctx *c, uint32_t site)
{
	x86_alu_ri(&c->b, true, X86_EXT_SUB, c->fn[c->cur_func].fuel, 1); /* sub r12/r9, 1 */
	jit_jump(c, X86_CC_B, jl_blk(c, JB_FSTUB, site));                 /* jb fstub(site) */
}

/* ---- per-function analysis ------------------------------------------- */

static const uint8_t jit_saved_regs[4] = {X86_RBX, X86_R13, X86_R14, X86_R15};

static unsigned jit_popcount4(uint8_t m)
{
	return (m & 1) + ((m >> 1) & 1) + ((m >> 2) & 1) + ((m >> 3) & 1);
}

/* Note a write of eBPF register r. */
static void jit_note_write(struct jit_func *fi, unsigned r)
{
	if (r >= 6 && r <= 9)
		fi->saved |= (uint8_t)(1u << (r - 6));
}

/* Note a load or store at fp+off: below fp it sets the frame's depth; at or
 * above fp the analysis gives up and the function gets the whole stack. */
static void jit_note_fp_access(int16_t off, uint32_t *depth, bool *fp_used, bool *fp_escapes)
{
	*fp_used = true;
	if (off < 0 && (uint32_t)-off > *depth)
		*depth = (uint32_t)-off;
	else if (off >= 0)
		*fp_escapes = true;
}

static const struct rt_inline *jit_inline_at(const struct jit_ctx *c, uint32_t start, uint32_t i,
                                             const struct rt_sig *sig, uint64_t *slot);

/* The import a call instruction names, if it is one (else NULL). */
static const struct rt_sig *jit_import_of(const struct rt_prog *p, const struct bpf_insn *in)
{
	if (in->src != BPF_PSEUDO_IMPORT || (uint32_t)in->imm >= p->nimports)
		return NULL;
	return p->imports[in->imm].sig;
}

/*
 * Decide the shape of function f: stack size, saved registers, whether it
 * is metered.  Pure inspection: anything malformed is left for the
 * instruction compiler to refuse (it sees every instruction again).
 *
 * A call of a free import (rt_import_free: a single read) charges nothing,
 * so it does not make a function metered; where its in-line form applies
 * it is not a call at all (no alignment, no clobbered registers), which is
 * decided once the function's jump targets are all known.
 */
static void jit_analyse(struct jit_ctx *c, uint32_t f)
{
	const struct rt_prog *p = c->p;
	const struct rt_func *rf = &p->funcs[f];
	struct jit_func *fi = &c->fn[f];
	uint32_t depth = 0, i;
	bool fp_escapes = false, fp_used = false;

	for (i = rf->start; i < rf->end; i++) {
		const struct bpf_insn *in = &p->insns[i];
		uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		int64_t target;

		if (in->dst == 3 || in->src == 3)
			fi->r3 = true;

		switch (cls) {
		case BPF_ALU:
		case BPF_ALU64:
			jit_note_write(fi, in->dst);
			if (BPF_SRC(in->code) == BPF_X && in->src == BPF_REG_FP)
				fp_escapes = true;
			break;
		case BPF_LD:
			jit_note_write(fi, in->dst);
			if (bpf_is_lddw(in))
				i++;
			break;
		case BPF_LDX:
			jit_note_write(fi, in->dst);
			if (in->src == BPF_REG_FP)
				jit_note_fp_access(in->off, &depth, &fp_used, &fp_escapes);
			break;
		case BPF_ST:
		case BPF_STX:
			if (cls == BPF_STX && in->src == BPF_REG_FP)
				fp_escapes = true;
			if (cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC) {
				if (in->imm == BPF_CMPXCHG)
					jit_note_write(fi, 0);
				else if (in->imm & BPF_FETCH)
					jit_note_write(fi, in->src);
			}
			if (in->dst == BPF_REG_FP)
				jit_note_fp_access(in->off, &depth, &fp_used, &fp_escapes);
			break;
		case BPF_JMP:
		case BPF_JMP32:
			if (op == BPF_CALL) {
				const struct rt_sig *sig = jit_import_of(p, in);

				if (rt_import_free(sig))
					break; /* see below */
				fi->calls = true;
				fi->metered = true;
				c->site[i] |= JS_FUEL;
				if (sig && (sig->flags & RT_SIG_MAYABORT))
					c->site[i] |= JS_HELPER;
				if (sig && (sig->flags & (RT_SIG_MAYABORT | RT_SIG_FUEL)))
					fi->must_meter = true;
				else if (in->src == BPF_PSEUDO_IMPORT)
					fi->ncharged++;
				if (in->src == BPF_PSEUDO_CALL) {
					target = (int64_t)i + 1 + in->imm;
					fi->calls_local = true;
					if (target >= 0 && target < p->ninsns &&
					    c->func_at[target] >= 0)
						c->fn[c->func_at[target]].callee = true;
				}
				break;
			}
			if (op == BPF_EXIT)
				break;
			target = cls == BPF_JMP32 && op == BPF_JA ? (int64_t)i + 1 + in->imm
			                                          : (int64_t)i + 1 + in->off;
			if (target >= rf->start && target < rf->end) {
				c->target[target] = true;
				if (target <= (int64_t)i) {
					/* The pad reports the last source
					 * (usually the loop's latch); any
					 * other gets its own pad. */
					c->backtarget[target] = true;
					c->pad_src[target] = i;
					c->back_to[i] = (int32_t)target;
					c->site[i] |= JS_FUEL;
				}
			}
			if (BPF_SRC(in->code) == BPF_X && in->src == BPF_REG_FP)
				fp_escapes = true;
			/* Comparing r10 itself reads its value: it must be
			 * this function's frame, not the caller's rbp. */
			if (in->dst == BPF_REG_FP)
				fp_used = true;
			if (target <= (int64_t)i) {
				fi->metered = true;
				fi->backedge = true;
				fi->nback++;
			}
			break;
		}
	}
	/* Free imports: a call only where the in-line form does not apply. */
	for (i = rf->start; i < rf->end; i++) {
		const struct bpf_insn *in = &p->insns[i];
		const struct rt_sig *sig;

		if (in->code == (BPF_JMP | BPF_CALL) && (sig = jit_import_of(p, in)) &&
		    rt_import_free(sig) && !jit_inline_at(c, rf->start, i, sig, NULL)) {
			/* Charges nothing, but a C callee may change r9 and
			 * r11, which a plain entry must leave alone (its
			 * callers' "budget in r9" contract): metered. */
			fi->calls = true;
			fi->metered = true;
		}
		if (bpf_is_lddw(in))
			i++;
	}
	fi->fp_escapes = fp_escapes;
	if (fp_escapes)
		fi->stack = BPF_STACK_SIZE;
	else
		fi->stack = (depth + 15) & ~15u;
	fi->frame = fi->stack > 0 || fp_used || fp_escapes;
	fi->own_frame = fi->frame;
}

/* After every function is analysed (callee is known only then). */
static void jit_classify(struct jit_func *fi)
{
	unsigned npush = jit_popcount4(fi->saved);

	fi->flat = fi->metered && !fi->calls_local && !fi->callee;
	fi->xor_at_entry = !fi->metered && !fi->r3;
	fi->fuel = fi->flat && !fi->calls ? X86_R9 : JIT_FUEL;
	/* The nested abort unwind walks the rbp chain: those keep frames. */
	if (fi->metered && !fi->flat)
		fi->frame = true;
	if (fi->flat && fi->fuel == JIT_FUEL)
		npush++; /* r12 */
	if (fi->frame)
		npush++; /* rbp */
	/* Entered with rsp = 8 mod 16; calls need it 0 mod 16. */
	fi->pad = fi->calls && !(npush & 1);
}

/*
 * Batched runs.  A straight-line stretch of code (no jump, no label inside)
 * holding k >= 2 calls of ordinary imports is charged once, `sub r12, k;
 * jb slow` before its first call, and its calls then carry no check.  If
 * the budget cannot cover all k, the interpreter would stop at one of them
 * after running the ones before (with their side effects), so `slow` is a
 * second copy of the stretch with the usual per-call checks, entered with
 * the budget restored (`add r12, k`), and leaving by a jump to the
 * instruction after the last call.  Exact because nothing in between can
 * consume or observe fuel: an ordinary import cannot, and local calls,
 * abortable imports and RT_SIG_FUEL imports end a run.
 */
static void jit_find_runs(struct jit_ctx *c, uint32_t f)
{
	const struct rt_prog *p = c->p;
	const struct rt_func *rf = &p->funcs[f];
	uint32_t i, first = 0, last = 0, k = 0;

	for (i = rf->start; i <= rf->end; i++) {
		const struct bpf_insn *in = i < rf->end ? &p->insns[i] : NULL;
		uint8_t cls = in ? BPF_CLASS(in->code) : 0;
		bool ordinary = false, free = false, breaks;

		if (in && in->code == (BPF_JMP | BPF_CALL) && in->src == BPF_PSEUDO_IMPORT &&
		    !in->dst && !in->off && (uint32_t)in->imm < p->nimports) {
			const struct rt_sig *sig = p->imports[in->imm].sig;

			/* A free import neither counts nor ends a run: it
			 * charges nothing in either copy. */
			free = rt_import_free(sig);
			ordinary = !free && sig && sig->fn &&
			           !(sig->flags & (RT_SIG_MAYABORT | RT_SIG_FUEL));
		}
		breaks = !in || (c->target[i] && k) ||
		         ((cls == BPF_JMP || cls == BPF_JMP32) && !ordinary && !free) ||
		         (p->aux && !(p->aux[i].flags & RT_AUX_SEEN));
		if (breaks) {
			if (k >= 2 && last + 1 < rf->end) {
				c->run_end[first] = last + 1;
				c->run_k[first] = k;
			}
			k = 0;
		}
		if (ordinary) {
			if (!k)
				first = i;
			last = i;
			k++;
		}
		if (in && bpf_is_lddw(in))
			i++;
	}
}

/* The successors of instruction i inside its function rf (at most 2). */
static unsigned jit_succ(const struct rt_prog *p, const struct rt_func *rf, uint32_t i,
                         uint32_t out[2])
{
	const struct bpf_insn *in = &p->insns[i];
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	int64_t t[2];
	unsigned n = 0, k, m = 0;

	if (cls == BPF_JMP || cls == BPF_JMP32) {
		if (op == BPF_EXIT)
			return 0;
		if (op == BPF_JA) {
			t[n++] = (int64_t)i + 1 + (cls == BPF_JMP32 ? in->imm : in->off);
		} else {
			t[n++] = (int64_t)i + 1;
			if (op != BPF_CALL)
				t[n++] = (int64_t)i + 1 + in->off;
		}
	} else {
		t[n++] = (int64_t)i + (bpf_is_lddw(in) ? 2 : 1);
	}
	for (k = 0; k < n; k++)
		if (t[k] >= rf->start && t[k] < rf->end)
			out[m++] = (uint32_t)t[k];
	return m;
}

/*
 * Whether function f's control flow has no cycle, so that every
 * instruction runs at most once per call.  clang places shared tails
 * before the branches that reach them, so loop-free handlers still jump
 * backward (each such jump costs fuel on both engines); what matters for
 * an unmetered copy is only that no path repeats.  Kahn's algorithm over
 * every instruction (dead code included: a cycle there only costs the
 * copy).  Allocation failure answers "no", the safe side.
 */
static bool jit_acyclic(const struct jit_ctx *c, uint32_t f)
{
	const struct rt_prog *p = c->p;
	const struct rt_func *rf = &p->funcs[f];
	uint32_t n = rf->end - rf->start, i, k, head = 0, tail = 0, done = 0, s[2];
	uint32_t *indeg = rt_alloc(2 * sizeof(uint32_t) * n), *queue;
	unsigned m;

	if (!indeg)
		return false;
	queue = indeg + n;
	for (i = rf->start; i < rf->end; i++) {
		if (c->slot2[i])
			continue;
		m = jit_succ(p, rf, i, s);
		for (k = 0; k < m; k++)
			indeg[s[k] - rf->start]++;
	}
	for (i = 0; i < n; i++)
		if (!indeg[i])
			queue[tail++] = i;
	while (head < tail) {
		i = queue[head++] + rf->start;
		done++;
		if (c->slot2[i])
			continue;
		m = jit_succ(p, rf, i, s);
		for (k = 0; k < m; k++)
			if (--indeg[s[k] - rf->start] == 0)
				queue[tail++] = s[k] - rf->start;
	}
	rt_free(indeg);
	return done == n;
}

/* ---- prologue / epilogue --------------------------------------------- */

static void jit_prologue(struct jit_ctx *c, const struct jit_func *fi)
{
	unsigned k;

	if (fi->frame) {
		x86_push(&c->b, X86_RBP);                              /* push rbp */
		x86_alu_rr(&c->b, true, X86_OP_MOV, X86_RBP, X86_RSP); /* mov rbp, rsp */
		if (fi->stack)
			x86_alu_ri(&c->b, true, X86_EXT_SUB, X86_RSP,
			           (int32_t)fi->stack); /* sub rsp, STACK */
	}
	if (fi->flat && fi->fuel == JIT_FUEL)
		x86_push(&c->b, JIT_FUEL); /* push r12 */
	for (k = 0; k < 4; k++)
		if (fi->saved & (1u << k))
			x86_push(&c->b, jit_saved_regs[k]); /* push rbx/r13/r14/r15 */
	if (fi->pad)
		x86_alu_ri(&c->b, true, X86_EXT_SUB, X86_RSP, 8); /* sub rsp, 8 */
	if (fi->flat && fi->fuel == JIT_FUEL)
		x86_alu_rr(&c->b, true, X86_OP_MOV, JIT_FUEL,
		           X86_R9); /* mov r12, r9 (the budget) */
}

/* Undo the prologue, up to the `ret`: rsp is then the entry's again. */
static void jit_unwind(struct jit_ctx *c, const struct jit_func *fi)
{
	int k;

	if (fi->pad)
		x86_alu_ri(&c->b, true, X86_EXT_ADD, X86_RSP, 8); /* add rsp, 8 */
	for (k = 3; k >= 0; k--)
		if (fi->saved & (1u << k))
			x86_pop(&c->b, jit_saved_regs[k]); /* pop r15/r14/r13/rbx */
	if (fi->flat && fi->fuel == JIT_FUEL) {
		/* What is left of the budget, for rt_jit_run's shim (a
		 * function fuelled in r9 leaves it there anyway). */
		x86_alu_rr(&c->b, true, X86_OP_MOV, X86_R9, JIT_FUEL); /* mov r9, r12 */
		x86_pop(&c->b, JIT_FUEL);                              /* pop r12 */
	}
	if (fi->frame)
		x86_leave(&c->b); /* leave */
}

/* `ok`: a normal exit (status 0) rather than an abort landing (status
 * already in edx). */
static void jit_epilogue(struct jit_ctx *c, const struct jit_func *fi, bool ok)
{
	jit_unwind(c, fi);
	/* Plain and flat functions are entered directly from C and return
	 * the status in rdx; nested ones return through the common entry,
	 * unmetered copies return no status. */
	if (ok && (!fi->metered || fi->flat) && !c->rdx_zero && !fi->xor_at_entry && !c->unmetered)
		x86_alu_rr(&c->b, false, X86_OP_XOR, X86_RDX, X86_RDX); /* xor edx, edx */
	x86_ret(&c->b);                                                 /* ret */
}

/* A flat function's abort landings: r0 = 0, status in edx, then its own
 * epilogue.  Every abort point is at the function's top level (after an
 * import returned, or at a fuel check), where rsp is the prologue's. */
static void jit_flat_aborts(struct jit_ctx *c, uint32_t f)
{
	struct jit_buf *b = &c->b;

	jit_label(c, jl_func(c, f, JF_ABORT_HELPER));
	x86_mov_ri32(b, X86_RDX, RT_RUN_HELPER);      /* mov edx, RT_RUN_HELPER */
	jit_jump(c, -1, jl_func(c, f, JF_ABORT_OUT)); /* jmp out */
	jit_label(c, jl_func(c, f, JF_ABORT_FUEL));
	/* The failed `sub r12, 1` wrapped the budget; what is left is 0. */
	x86_alu_rr(b, false, X86_OP_XOR, c->fn[f].fuel, c->fn[f].fuel); /* xor r12d/r9d */
	x86_mov_ri32(b, X86_RDX, RT_RUN_FUEL);                          /* mov edx, RT_RUN_FUEL */
	jit_label(c, jl_func(c, f, JF_ABORT_OUT));
	x86_alu_rr(b, false, X86_OP_XOR, X86_RAX, X86_RAX); /* xor eax, eax */
	jit_epilogue(c, &c->fn[f], false);
}

/* ---- common entry and abort paths ------------------------------------ */

static void jit_common(struct jit_ctx *c)
{
	struct jit_buf *b = &c->b;
	unsigned nsaved = jit_popcount4(c->saved_union), k;
	bool pad = !(nsaved & 1); /* entry rsp = 8 mod 16; 2 + nsaved pushes */
	int j;

	/* Nested entry: r11 = body, r9 = fuel, rdi..r8 = r1..r5. */
	jit_label(c, jl_common(c, JL_COMMON_ENTRY));
	x86_push(b, X86_RBP);  /* push rbp */
	x86_push(b, JIT_FUEL); /* push r12 */
	for (k = 0; k < 4; k++)
		if (c->saved_union & (1u << k))
			x86_push(b, jit_saved_regs[k]); /* push rbx/r13/r14/r15 */
	if (pad)
		x86_alu_ri(b, true, X86_EXT_SUB, X86_RSP, 8); /* sub rsp, 8 */
	x86_alu_rr(b, true, X86_OP_MOV, JIT_FUEL, X86_R9);    /* mov r12, r9 */
	x86_call_r(b, X86_R11);                               /* call r11 */
	jit_label(c, jl_common(c, JL_RA));
	x86_alu_rr(b, false, X86_OP_XOR, X86_RDX, X86_RDX); /* xor edx, edx */
	jit_label(c, jl_common(c, JL_FINISH));              /* rax, rdx: result */
	if (pad)
		x86_alu_ri(b, true, X86_EXT_ADD, X86_RSP, 8); /* add rsp, 8 */
	for (j = 3; j >= 0; j--)
		if (c->saved_union & (1u << j))
			x86_pop(b, jit_saved_regs[j]);     /* pop r15/r14/r13/rbx */
	x86_alu_rr(b, true, X86_OP_MOV, X86_R9, JIT_FUEL); /* mov r9, r12 (fuel left) */
	x86_pop(b, JIT_FUEL);                              /* pop r12 */
	x86_pop(b, X86_RBP);                               /* pop rbp */
	x86_ret(b);                                        /* ret */

	jit_label(c, jl_common(c, JL_ABORT_HELPER));
	x86_mov_ri32(b, X86_RDX, RT_RUN_HELPER); /* mov edx, RT_RUN_HELPER */
	jit_jump(c, -1, jl_common(c, JL_ABORT)); /* jmp abort */
	jit_label(c, jl_common(c, JL_ABORT_FUEL));
	/* The failed `sub r12, 1` wrapped the budget; what is left is 0. */
	x86_alu_rr(b, false, X86_OP_XOR, JIT_FUEL, JIT_FUEL); /* xor r12d, r12d */
	x86_mov_ri32(b, X86_RDX, RT_RUN_FUEL);                /* mov edx, RT_RUN_FUEL */
	jit_label(c, jl_common(c, JL_ABORT));
	/* r10, not r11: r11 carries the aborting insn index to the caller. */
	jit_lea_label(c, X86_R10, jl_common(c, JL_RA)); /* lea r10, [rip + ra] */
	jit_label(c, jl_common(c, JL_WALK));
	x86_alu_mr(b, true, X86_OP_CMP, X86_RBP, 8, X86_R10); /* cmp [rbp+8], r10 */
	jit_jump(c, X86_CC_E, jl_common(c, JL_FOUND));        /* je found */
	x86_load(b, 8, X86_RBP, X86_RBP, 0);                  /* mov rbp, [rbp] */
	jit_jump(c, -1, jl_common(c, JL_WALK));               /* jmp walk */
	jit_label(c, jl_common(c, JL_FOUND));
	x86_lea(b, X86_RSP, X86_RBP, 16);                   /* lea rsp, [rbp+16] */
	x86_alu_rr(b, false, X86_OP_XOR, X86_RAX, X86_RAX); /* xor eax, eax */
	jit_jump(c, -1, jl_common(c, JL_FINISH));           /* jmp finish */
}

/*
 * rt_jit_run's shim: shim(r1..r5, fuel, entry, out) calls a metered entry
 * (flat or nested) and stores out[0] = what is left of the budget, which
 * both kinds hand back in r9, and out[1] = r11, the index of the
 * instruction where an aborted run stopped (scratch registers a SysV
 * caller ignores; r11 means nothing after a normal return).
 */
static void jit_run_shim(struct jit_ctx *c)
{
	struct jit_buf *b = &c->b;

	jit_label(c, jl_common(c, JL_RUN_SHIM));
	x86_push(b, X86_RBX);                 /* push rbx */
	x86_load(b, 8, X86_RBX, X86_RSP, 24); /* mov rbx, [rsp+24] (out) */
	x86_load(b, 8, X86_R11, X86_RSP, 16); /* mov r11, [rsp+16] (entry) */
	x86_call_r(b, X86_R11);               /* call r11 */
	x86_store(b, 8, X86_RBX, 0, X86_R9);  /* mov [rbx], r9 (fuel left) */
	x86_store(b, 8, X86_RBX, 8, X86_R11); /* mov [rbx+8], r11 (abort pc) */
	x86_pop(b, X86_RBX);                  /* pop rbx */
	x86_ret(b);                           /* ret */
}

/*
 * The out-of-line code of function f, after its body: each fuel site's
 * stub (`mov r11d, insn; jmp abort_fuel`) and each abortable call's
 * (`mov r11d, insn; jmp abort_helper`), the pads of back-edges whose
 * target's pad reports another source, and the checked copies of its
 * batched runs (jit_find_runs).  All of it runs only when fuel is short or
 * a run aborts, except the extra pads, which cost one jmp per taken edge.
 */
static int jit_emit_range(struct jit_ctx *c, uint32_t f, uint32_t i, uint32_t end);

static int jit_cold(struct jit_ctx *c, uint32_t f)
{
	const struct rt_func *rf = &c->p->funcs[f];
	struct jit_buf *b = &c->b;
	uint32_t i;
	int err;

	for (i = rf->start; i < rf->end; i++) {
		if (!c->site[i] && !c->run_end[i])
			continue;
		if (c->site[i] & JS_XPAD) {
			c->cur_insn = i;
			jit_label(c, jl_blk(c, JB_XPAD, i));
			jit_fuel(c, i);                           /* sub r12, 1; jb */
			jit_jump(c, -1, (uint32_t)c->back_to[i]); /* jmp target */
		}
		if (c->run_end[i]) {
			jit_label(c, jl_blk(c, JB_SLOW, i));
			x86_alu_ri(b, true, X86_EXT_ADD, JIT_FUEL,
			           (int32_t)c->run_k[i]); /* add r12, k (undo the batch charge) */
			err = jit_emit_range(c, f, i, c->run_end[i]);
			if (err)
				return err;
			jit_jump(c, -1, c->run_end[i]); /* jmp after the run */
		}
		if (c->site[i] & JS_FUEL) {
			jit_label(c, jl_blk(c, JB_FSTUB, i));
			x86_mov_ri32(b, X86_R11, i);        /* mov r11d, insn */
			jit_jump(c, -1, jl_abort(c, true)); /* jmp abort_fuel */
		}
		if (c->site[i] & JS_HELPER) {
			jit_label(c, jl_blk(c, JB_HSTUB, i));
			x86_mov_ri32(b, X86_R11, i);         /* mov r11d, insn */
			jit_jump(c, -1, jl_abort(c, false)); /* jmp abort_helper */
		}
	}
	return 0;
}

/* ---- instructions ---------------------------------------------------- */

static const uint8_t jit_alu_op[16] = {
    [BPF_ADD >> 4] = X86_OP_ADD, [BPF_SUB >> 4] = X86_OP_SUB, [BPF_OR >> 4] = X86_OP_OR,
    [BPF_AND >> 4] = X86_OP_AND, [BPF_XOR >> 4] = X86_OP_XOR,
};

static const uint8_t jit_alu_ext[16] = {
    [BPF_ADD >> 4] = X86_EXT_ADD, [BPF_SUB >> 4] = X86_EXT_SUB, [BPF_OR >> 4] = X86_EXT_OR,
    [BPF_AND >> 4] = X86_EXT_AND, [BPF_XOR >> 4] = X86_EXT_XOR,
};

/* Shift by register: the count must be in cl, and rcx is eBPF r4. */
static void jit_shift_x(struct jit_buf *b, bool w, unsigned ext, unsigned d, unsigned s)
{
	if (s == X86_RCX) {
		x86_shift_cl(b, w, ext, d); /* shl/shr/sar d, cl */
	} else if (d == X86_RCX) {
		x86_alu_rr(b, true, X86_OP_MOV, X86_R11, X86_RCX); /* mov r11, rcx */
		x86_alu_rr(b, true, X86_OP_MOV, X86_RCX, s);       /* mov rcx, s */
		x86_shift_cl(b, w, ext, X86_R11);                  /* shl/shr/sar r11, cl */
		x86_alu_rr(b, true, X86_OP_MOV, X86_RCX, X86_R11); /* mov rcx, r11 */
	} else {
		x86_alu_rr(b, true, X86_OP_MOV, X86_R11, X86_RCX); /* mov r11, rcx */
		x86_alu_rr(b, true, X86_OP_MOV, X86_RCX, s);       /* mov rcx, s */
		x86_shift_cl(b, w, ext, d);                        /* shl/shr/sar d, cl */
		x86_alu_rr(b, true, X86_OP_MOV, X86_RCX, X86_R11); /* mov rcx, r11 */
	}
}

/* The special results of division: by zero (quotient 0, remainder = the
 * dividend) and signed by -1 (quotient -dividend wrapping, remainder 0). */
static void jit_div_zero(struct jit_buf *b, bool w, bool mod, unsigned d)
{
	if (!mod)
		x86_alu_rr(b, false, X86_OP_XOR, d, d); /* xor d32, d32 */
	else if (!w)
		x86_alu_rr(b, false, X86_OP_MOV, d, d); /* mov d32, d32 */
}

static void jit_div_minus1(struct jit_buf *b, bool w, bool mod, unsigned d)
{
	if (!mod)
		x86_neg(b, w, d); /* neg d */
	else
		x86_alu_rr(b, false, X86_OP_XOR, d, d); /* xor d32, d32 */
}

/*
 * div/mod with the divisor already in r11 and known to be neither 0 nor
 * (for signed) -1.  div uses rdx:rax, which are eBPF r0 and r3: unless
 * they are the destination, rax is parked in r10 and rdx on the stack (r9
 * may be holding the fuel; a division is slow enough not to notice).
 */
static void jit_div_core(struct jit_buf *b, bool w, bool sgn, bool mod, unsigned d)
{
	unsigned res = mod ? X86_RDX : X86_RAX;

	if (d != X86_RAX)
		x86_alu_rr(b, true, X86_OP_MOV, X86_R10, X86_RAX); /* mov r10, rax */
	if (d != X86_RDX)
		x86_push(b, X86_RDX); /* push rdx */
	if (d != X86_RAX)
		x86_alu_rr(b, true, X86_OP_MOV, X86_RAX, d); /* mov rax, d */
	if (sgn)
		x86_cqo(b, w); /* cqo / cdq */
	else
		x86_alu_rr(b, false, X86_OP_XOR, X86_RDX, X86_RDX); /* xor edx, edx */
	x86_div(b, w, sgn, X86_R11);                                /* div/idiv r11 */
	if (d != res)
		x86_alu_rr(b, w, X86_OP_MOV, d, res); /* mov d, rax/rdx */
	if (d != X86_RDX)
		x86_pop(b, X86_RDX); /* pop rdx */
	if (d != X86_RAX)
		x86_alu_rr(b, true, X86_OP_MOV, X86_RAX, X86_R10); /* mov rax, r10 */
}

static int jit_divmod(struct jit_ctx *c, const struct bpf_insn *in, bool w, bool mod)
{
	struct jit_buf *b = &c->b;
	unsigned d = c->reg[in->dst];
	bool sgn = in->off == 1;
	uint32_t to_zero, to_m1 = 0, to_done, to_done2 = 0;

	if (in->off != 0 && in->off != 1)
		return jit_fail(c, "div/mod with offset other than 0 (unsigned) or 1 (signed)");
	if (BPF_SRC(in->code) == BPF_K) {
		uint64_t v = w ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;
		bool m1 = w ? v == UINT64_MAX : v == UINT32_MAX;

		if (v == 0) {
			jit_div_zero(b, w, mod, d);
		} else if (sgn && m1) {
			jit_div_minus1(b, w, mod, d);
		} else {
			if (w && in->imm < 0)
				x86_mov_ri_sx(b, X86_R11, in->imm); /* mov r11, simm32 */
			else
				x86_mov_ri32(b, X86_R11, (uint32_t)in->imm); /* mov r11d, imm32 */
			jit_div_core(b, w, sgn, mod, d);
		}
		return 1;
	}
	x86_alu_rr(b, w, X86_OP_MOV, X86_R11, c->reg[in->src]); /* mov r11, s */
	x86_alu_rr(b, w, X86_OP_TEST, X86_R11, X86_R11);        /* test r11, r11 */
	to_zero = jit_fwd8(b, X86_CC_E);                        /* jz zero */
	if (sgn) {
		x86_alu_ri(b, w, X86_EXT_CMP, X86_R11, -1); /* cmp r11, -1 */
		to_m1 = jit_fwd8(b, X86_CC_E);              /* je minus1 */
	}
	jit_div_core(b, w, sgn, mod, d);
	to_done = jit_fwd8(b, -1); /* jmp done */
	jit_land8(b, to_zero);     /* zero: */
	jit_div_zero(b, w, mod, d);
	if (sgn) {
		to_done2 = jit_fwd8(b, -1); /* jmp done */
		jit_land8(b, to_m1);        /* minus1: */
		jit_div_minus1(b, w, mod, d);
		jit_land8(b, to_done2);
	}
	jit_land8(b, to_done); /* done: */
	return 1;
}

static int jit_alu(struct jit_ctx *c, const struct bpf_insn *in)
{
	struct jit_buf *b = &c->b;
	bool w = BPF_CLASS(in->code) == BPF_ALU64;
	bool x = BPF_SRC(in->code) == BPF_X;
	uint8_t op = BPF_OP(in->code);
	unsigned d = c->reg[in->dst], s = c->reg[in->src];

	if (in->dst == BPF_REG_FP)
		return jit_fail(c, "write to the read-only frame pointer r10");
	if (in->off != 0 && op != BPF_DIV && op != BPF_MOD && !(op == BPF_MOV && x))
		return jit_fail(c, "ALU instruction with a non-zero offset");

	switch (op) {
	case BPF_ADD:
	case BPF_SUB:
	case BPF_OR:
	case BPF_AND:
	case BPF_XOR:
		if (x)
			x86_alu_rr(b, w, jit_alu_op[op >> 4], d, s); /* op d, s */
		else
			x86_alu_ri(b, w, jit_alu_ext[op >> 4], d, in->imm); /* op d, imm */
		return 1;
	case BPF_MUL:
		if (x)
			x86_imul_rr(b, w, d, s); /* imul d, s */
		else
			x86_imul_rri(b, w, d, d, in->imm); /* imul d, d, imm */
		return 1;
	case BPF_DIV:
	case BPF_MOD:
		return jit_divmod(c, in, w, op == BPF_MOD);
	case BPF_LSH:
	case BPF_RSH:
	case BPF_ARSH: {
		unsigned ext = op == BPF_LSH ? X86_SH_SHL : op == BPF_RSH ? X86_SH_SHR : X86_SH_SAR;
		unsigned n = (unsigned)in->imm & (w ? 63 : 31);

		if (x)
			jit_shift_x(b, w, ext, d, s);
		else if (n)
			x86_shift_ri(b, w, ext, d, (uint8_t)n); /* shl/shr/sar d, n */
		else if (!w)
			x86_alu_rr(b, false, X86_OP_MOV, d, d); /* mov d32, d32 */
		return 1;
	}
	case BPF_NEG:
		if (x)
			return jit_fail(c, "neg with a register source");
		x86_neg(b, w, d); /* neg d */
		return 1;
	case BPF_MOV:
		if (!x) {
			if (in->src != 0)
				return jit_fail(c, "mov immediate with a source register");
			if (w)
				x86_load_imm64(b, d, (uint64_t)(int64_t)in->imm);
			else
				x86_load_imm64(b, d, (uint32_t)in->imm);
			return 1;
		}
		switch (in->off) {
		case 0:
			if (!w || d != s)
				x86_alu_rr(b, w, X86_OP_MOV, d,
				           s); /* mov d, s (mov d32, s32 zero-extends) */
			return 1;
		case 8:
		case 16:
			x86_movsx_rr(b, w, (unsigned)in->off / 8, d, s); /* movsx d, s8/s16 */
			return 1;
		case 32:
			if (!w)
				break;
			x86_movsx_rr(b, true, 4, d, s); /* movsxd d, s32 */
			return 1;
		}
		return jit_fail(c, "movsx with a width other than 8, 16 or 32");
	case BPF_END:
		if (w && x)
			return jit_fail(c, "64-bit byte swap with a register source");
		if (!w && !x) {
			/* To little endian on a little-endian host: truncate. */
			if (in->imm == 16)
				x86_movzx_rr(b, 2, d, d); /* movzx d32, d16 */
			else if (in->imm == 32)
				x86_alu_rr(b, false, X86_OP_MOV, d, d); /* mov d32, d32 */
			else if (in->imm != 64)
				return jit_fail(c, "byte swap width other than 16, 32 or 64");
			return 1;
		}
		if (in->imm == 16) {
			x86_rol16_8(b, d);        /* rol d16, 8 */
			x86_movzx_rr(b, 2, d, d); /* movzx d32, d16 */
		} else if (in->imm == 32) {
			x86_bswap(b, false, d); /* bswap d32 */
		} else if (in->imm == 64) {
			x86_bswap(b, true, d); /* bswap d64 */
		} else {
			return jit_fail(c, "byte swap width other than 16, 32 or 64");
		}
		return 1;
	}
	return jit_fail(c, "unknown ALU operation");
}

/* A jump may land on any instruction of its own function except the
 * second slot of an lddw. */
static bool jit_target_ok(const struct jit_ctx *c, const struct rt_func *rf, int64_t t)
{
	return t >= rf->start && t < rf->end && !c->slot2[t];
}

static const int8_t jit_cc[16] = {
    [BPF_JEQ >> 4] = X86_CC_E,   [BPF_JNE >> 4] = X86_CC_NE,  [BPF_JGT >> 4] = X86_CC_A,
    [BPF_JGE >> 4] = X86_CC_AE,  [BPF_JLT >> 4] = X86_CC_B,   [BPF_JLE >> 4] = X86_CC_BE,
    [BPF_JSGT >> 4] = X86_CC_G,  [BPF_JSGE >> 4] = X86_CC_GE, [BPF_JSLT >> 4] = X86_CC_L,
    [BPF_JSLE >> 4] = X86_CC_LE, [BPF_JSET >> 4] = X86_CC_NE,
};

/* The constant eBPF r2 holds when insn i (a call) runs, if the straight-line
 * code before it sets it (mov r2, K) and no jump lands in between. */
static bool jit_r2_const(const struct jit_ctx *c, uint32_t start, uint32_t i, uint64_t *val)
{
	const struct bpf_insn *in;

	for (uint32_t j = i; j-- > start;) {
		if (c->target[j + 1])
			return false; /* another path arrives after j */
		if (c->slot2[j])
			continue; /* an lddw's second half: its first decides */
		in = &c->p->insns[j];
		switch (BPF_CLASS(in->code)) {
		case BPF_ALU64:
		case BPF_ALU:
			if (in->dst != 2)
				continue;
			if (BPF_OP(in->code) != BPF_MOV || BPF_SRC(in->code) != BPF_K)
				return false;
			*val = BPF_CLASS(in->code) == BPF_ALU64 ? (uint64_t)(int64_t)in->imm
			                                        : (uint64_t)(uint32_t)in->imm;
			return true;
		case BPF_LD:
		case BPF_LDX:
			if (in->dst == 2)
				return false;
			continue;
		case BPF_STX:
			if (BPF_MODE(in->code) == BPF_ATOMIC && in->src == 2)
				return false; /* a fetching atomic writes its source */
			continue;
		case BPF_ST:
			continue;
		default: /* jumps: a call clobbers r2, exit and ja do not fall through */
			if (BPF_OP(in->code) == BPF_CALL || BPF_OP(in->code) == BPF_EXIT ||
			    BPF_OP(in->code) == BPF_JA)
				return false;
			continue; /* a conditional jump falls through with r2 unchanged */
		}
	}
	return false;
}

/* The in-line form (struct rt_inline) of the call at i, if it applies
 * there: one argument, or r2 a constant below n set in the same
 * straight-line code (*slot = that constant). */
static const struct rt_inline *jit_inline_at(const struct jit_ctx *c, uint32_t start, uint32_t i,
                                             const struct rt_sig *sig, uint64_t *slot)
{
	const struct rt_inline *inl = rt_import_free(sig) ? rt_inline_find(sig) : NULL;
	uint64_t k = 0;

	if (!inl)
		return NULL;
	if (sig->nargs == 2 && !jit_r2_const(c, start, i, &k))
		return NULL;
	if (k >= inl->n)
		return NULL;
	if (slot)
		*slot = k;
	return inl;
}

/*
 * Peephole: clang passes an accessor's object as `r1 = rS` just before
 * the call, at most a `r2 = K` in between.  When that call is compiled in
 * line, the load is the only reader of r1 (r1-r5 are dead after a call),
 * so the mov is dropped and the load reads rS itself, mov rax, [rS + off].
 * Exact as long as nothing jumps in after the mov and rS is not r2 when
 * r2 is set in between.  Returns the call's index when the instruction at
 * m is such a mov, else 0.
 */
static uint32_t jit_r1_forwarded(const struct jit_ctx *c, uint32_t f, uint32_t m)
{
	const struct rt_prog *p = c->p;
	const struct rt_func *rf = &p->funcs[f];
	const struct bpf_insn *in = &p->insns[m];
	uint32_t i;

	if (in->code != (BPF_ALU64 | BPF_MOV | BPF_X) || in->dst != 1 || in->off || in->imm ||
	    in->src == 1 || in->src >= BPF_REG_FP)
		return 0;
	for (i = m + 1; i < rf->end && i <= m + 2; i++) {
		const struct bpf_insn *x = &p->insns[i];
		const struct rt_sig *sig;

		if (c->target[i])
			return 0;
		if (x->code == (BPF_JMP | BPF_CALL)) {
			sig = jit_import_of(p, x);
			return !x->dst && !x->off && sig &&
			               jit_inline_at(c, rf->start, i, sig, NULL)
			           ? i
			           : 0;
		}
		if ((x->code != (BPF_ALU64 | BPF_MOV | BPF_K) &&
		     x->code != (BPF_ALU | BPF_MOV | BPF_K)) ||
		    x->dst != 2 || x->src || x->off || in->src == 2)
			return 0;
	}
	return 0;
}

/*
 * Peephole: the `r2 = K` that picks an in-line accessor's slot.  The load
 * takes K as its offset (jit_call_inline), and r2 is dead after the call
 * (r1-r5 are clobbered by any call), so when nothing else reads r2 in
 * between, nothing reads the mov at all and it is dropped.  Exact as long
 * as the same straight-line stretch leads to the call (no jump target
 * after the mov, no jump, no lddw) and every instruction in between leaves
 * r2 alone (names it in neither field, which also keeps `r1 = r2` and
 * stores through r2 out).  Returns the call's index when the instruction
 * at m is such a mov, else 0.
 */
#define JIT_R2_WINDOW 4 /* instructions between the mov and the call */

static uint32_t jit_r2_dropped(const struct jit_ctx *c, uint32_t f, uint32_t m)
{
	const struct rt_prog *p = c->p;
	const struct rt_func *rf = &p->funcs[f];
	const struct bpf_insn *in = &p->insns[m];
	uint32_t i;

	if ((in->code != (BPF_ALU64 | BPF_MOV | BPF_K) &&
	     in->code != (BPF_ALU | BPF_MOV | BPF_K)) ||
	    in->dst != 2 || in->src || in->off)
		return 0;
	for (i = m + 1; i < rf->end && i <= m + 1 + JIT_R2_WINDOW; i++) {
		const struct bpf_insn *x = &p->insns[i];
		uint8_t cls = BPF_CLASS(x->code);
		const struct rt_sig *sig;

		if (c->target[i])
			return 0;
		if (x->code == (BPF_JMP | BPF_CALL)) {
			sig = jit_import_of(p, x);
			/* The call must take its slot from this very mov:
			 * jit_r2_const finds the last write of r2, which is
			 * it since nothing in between names r2. */
			return !x->dst && !x->off && sig && sig->nargs == 2 &&
			               jit_inline_at(c, rf->start, i, sig, NULL)
			           ? i
			           : 0;
		}
		if (cls == BPF_JMP || cls == BPF_JMP32 || cls == BPF_LD || x->dst == 2 ||
		    x->src == 2)
			return 0;
	}
	return 0;
}

/* A free import whose in-line form applies here: its read instead of the
 * call (neither costs fuel: rt_import_free), from r1 or from the register
 * a dropped `r1 = rS` copied (jit_r1_forwarded). */
static bool jit_call_inline(struct jit_ctx *c, uint32_t start, uint32_t i, const struct rt_sig *sig)
{
	uint64_t k = 0;
	const struct rt_inline *inl = jit_inline_at(c, start, i, sig, &k);
	unsigned base = c->reg[1], d;

	if (!inl)
		return false;
	for (d = 1; d <= 2 && i >= start + d; d++)
		if (jit_r1_forwarded(c, c->cur_func, i - d) == i) {
			base = c->reg[c->p->insns[i - d].src];
			break;
		}
	/* mov rax (or a sink's register), [rdi/rS + off] */
	x86_load(&c->b, 8, c->reg[c->sink_dst[i]], base, (int32_t)inl->off[k]);
	return true;
}

/* Whether the code of instruction in (not a call, jump or lddw) touches
 * exactly the registers it names: no division (rax, rdx), no shift by a
 * register (rcx), no atomic (rax, scratch). */
static bool jit_names_all(const struct bpf_insn *in)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);

	if (in->dst >= BPF_NREGS || in->src >= BPF_NREGS)
		return false;
	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		if (op == BPF_DIV || op == BPF_MOD)
			return false;
		if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH)
			return BPF_SRC(in->code) == BPF_K;
		return op == BPF_ADD || op == BPF_SUB || op == BPF_OR || op == BPF_AND ||
		       op == BPF_XOR || op == BPF_MUL || op == BPF_MOV || op == BPF_NEG ||
		       op == BPF_END;
	case BPF_LDX:
		return BPF_MODE(in->code) == BPF_MEM || BPF_MODE(in->code) == BPF_MEMSX;
	case BPF_ST:
	case BPF_STX:
		return BPF_MODE(in->code) == BPF_MEM;
	default:
		return false;
	}
}

/*
 * Sinks (runtime/jit_sink.h): an in-line read whose result only travels
 * through moves (`r7 = r0; ...; r1 = r7`) loads straight into the last
 * register and the moves emit nothing.  This describes each instruction
 * of f as jit_emit_one will emit it (the forwarded and dropped movs emit
 * nothing, an in-line read reads its base and writes rax, everything else
 * touches exactly what it names or is a barrier) and lets rt_sink_plan
 * decide; jit_call_inline and jit_emit_one then follow the plan.  Every
 * peephole it consults depends only on the program and its jump targets,
 * so the plan holds for both copies of f and every pass.
 */
static void jit_sinks(struct jit_ctx *c, uint32_t f)
{
	const struct rt_prog *p = c->p;
	const struct rt_func *rf = &p->funcs[f];
	uint32_t i, d;

	/* No free import, no in-line read: nothing to plan (sink_dst and
	 * sink_drop stay as rt_alloc zeroed them). */
	for (i = rf->start; i < rf->end; i++)
		if (p->insns[i].code == (BPF_JMP | BPF_CALL) && !c->slot2[i] &&
		    rt_import_free(jit_import_of(p, &p->insns[i])))
			break;
	if (i == rf->end)
		return;
	for (i = rf->start; i < rf->end; i++) {
		const struct bpf_insn *in = &p->insns[i];
		struct rt_sink_fact *sf = &c->sfact[i];
		const struct rt_sig *sig;

		sf->target = c->target[i];
		sf->base = 0;
		sf->kind = RT_SINK_BARRIER;
		if (c->slot2[i] || bpf_is_lddw(in))
			continue;
		if (jit_r1_forwarded(c, f, i) || jit_r2_dropped(c, f, i)) {
			sf->kind = RT_SINK_SILENT;
		} else if (in->code == (BPF_JMP | BPF_CALL)) {
			/* Exactly the calls jit_call compiles in line. */
			sig = jit_import_of(p, in);
			if (in->dst || in->off || !sig || !sig->fn ||
			    !jit_inline_at(c, rf->start, i, sig, NULL))
				continue;
			sf->kind = RT_SINK_INLINE;
			sf->base = 1;
			for (d = 1; d <= 2 && i >= rf->start + d; d++)
				if (jit_r1_forwarded(c, f, i - d) == i) {
					sf->base = p->insns[i - d].src;
					break;
				}
		} else if (jit_names_all(in)) {
			sf->kind = RT_SINK_PLAIN;
		}
	}
	rt_sink_plan(p->insns, rf->start, rf->end, c->sfact, c->sink_dst, c->sink_drop);
	for (i = rf->start; i < rf->end; i++)
		c->any_sink |= c->sink_drop[i];
}

/*
 * Tail calls.  In an unmetered copy (no status to return, no budget to
 * hand back), `call import; exit` returns exactly what the import returns,
 * so the copy can undo its prologue and jump to the import, which then
 * returns to our caller with rsp as our entry had it (8 mod 16, what SysV
 * gives a callee).  Only for an ordinary import (an abortable or
 * RT_SIG_FUEL one has a protocol after the call), and only when no pointer
 * into the frame can be among its arguments: the frame is gone when it
 * runs, and without fp_escapes r10 is only ever a load/store base, never a
 * value.  clang shares one `exit` between paths, so the `exit` may also be
 * reached through `ja`s.  (Plain bodies never need this: a real call
 * makes a function metered.)  Returns how many instructions the tail call
 * consumes (2, or 1 when the next one is a jump target and so is emitted
 * for its other paths), else 0.
 */
static int jit_tail(const struct jit_ctx *c, uint32_t i, const struct rt_sig *sig)
{
	const struct rt_func *rf = &c->p->funcs[c->cur_func];
	uint32_t t = i + 1, hops;

	if (!c->unmetered || c->ufn.fp_escapes || (sig->flags & (RT_SIG_MAYABORT | RT_SIG_FUEL)))
		return 0;
	for (hops = 0; hops < 4 && t < rf->end; hops++) {
		const struct bpf_insn *x = &c->p->insns[t];
		int64_t to;

		if (x->code == (BPF_JMP | BPF_EXIT))
			return c->target[i + 1] ? 1 : 2;
		if (x->code == (BPF_JMP | BPF_JA))
			to = (int64_t)t + 1 + x->off;
		else if (x->code == (BPF_JMP32 | BPF_JA))
			to = (int64_t)t + 1 + x->imm;
		else
			return 0;
		if (!jit_target_ok(c, rf, to))
			return 0;
		t = (uint32_t)to;
	}
	return 0;
}

/* The tail call itself (jit_tail): the unmetered copy's epilogue without
 * its ret, then a jump to import k at fn. */
static int jit_tail_call(struct jit_ctx *c, uint32_t k, uintptr_t fn, int n)
{
	struct jit_buf *b = &c->b;

	jit_unwind(c, &c->ufn);
	if (c->near_import[k]) {
		x86_jmp_rel32(b, (int32_t)(int64_t)(fn - (c->base + b->len + 5))); /* jmp fn */
	} else {
		int64_t here = jit_here_prev(c);

		x86_byte(b, 0xff); /* jmp [rip + lit]: FF /4, mod=00 rm=101 */
		x86_byte(b, 0x25);
		x86_imm32(b, (uint32_t)(int32_t)((int64_t)c->prev[jl_lit(c, k)] - (here + 6)));
	}
	c->fallthrough = false;
	return n;
}

static int jit_call(struct jit_ctx *c, uint32_t start, uint32_t i, const struct bpf_insn *in)
{
	const struct rt_prog *p = c->p;
	struct jit_buf *b = &c->b;

	if (BPF_CLASS(in->code) != BPF_JMP || BPF_SRC(in->code) != BPF_K || in->dst || in->off)
		return jit_fail(c, "malformed call (callx and call with fields set are refused)");
	if (in->src == BPF_PSEUDO_CALL) {
		int64_t t = (int64_t)i + 1 + in->imm;

		if (t < 0 || t >= p->ninsns || c->func_at[t] < 0)
			return jit_fail(c, "local call to something that is not a function start");
		jit_fuel(c, i);
		jit_call_label(c, jl_func(c, (uint32_t)c->func_at[t], JF_BODY)); /* call body */
		c->rdx_zero = false; /* the callee may have left anything in r3 */
		return 1;
	}
	if (in->src == BPF_PSEUDO_IMPORT) {
		const struct rt_sig *sig;
		uint32_t k = (uint32_t)in->imm;
		uintptr_t fn;
		int n;

		if (k >= p->nimports || !(sig = p->imports[k].sig) || !sig->fn)
			return jit_fail(c, "call of an unlinked import");
		fn = (uintptr_t)sig->fn;
		/* In a batched run's fast path the run start paid for it; an
		 * unmetered copy pays nothing, and free imports cost nothing. */
		if (!c->run_until && !c->unmetered && !rt_import_free(sig))
			jit_fuel(c, i);
		if (jit_call_inline(c, start, i, sig)) {
			c->rdx_zero = false;
			return 1;
		}
		n = jit_tail(c, i, sig);
		if (n)
			return jit_tail_call(c, k, fn, n);
		if (sig->flags & RT_SIG_FUEL)
			x86_alu_rr(b, true, X86_OP_MOV, X86_R9,
			           JIT_FUEL); /* mov r9, r12 (budget) */
		if (c->near_import[k]) {
			int64_t rel = (int64_t)(fn - (c->base + c->b.len + X86_CALL_REL32_LEN));

			x86_call_rel32(b, (int32_t)rel); /* call fn */
		} else {
			int64_t here = jit_here_prev(c);

			x86_call_rip(b,
			             (int32_t)((int64_t)c->prev[jl_lit(c, k)] -
			                       (here + X86_CALL_RIP_LEN))); /* call [rip + lit] */
		}
		if (sig->flags & RT_SIG_FUEL)
			x86_alu_rr(b, true, X86_OP_MOV, JIT_FUEL, X86_R9); /* mov r12, r9 (left) */
		c->rdx_zero = false;
		if (sig->flags & RT_SIG_MAYABORT) {
			x86_alu_rr(b, true, X86_OP_TEST, X86_RDX, X86_RDX); /* test rdx, rdx */
			jit_jump(c, X86_CC_NE, jl_blk(c, JB_HSTUB, i));     /* jnz hstub(insn) */
			c->rdx_zero = true; /* the status was 0: a free status for exit */
		}
		return 1;
	}
	return jit_fail(c, "call of a numbered helper that was not linked");
}

/* Where back-edge i -> t goes to be charged: t's pad, or its own when
 * that pad reports another source's index on a fuel abort.  An unmetered
 * copy (acyclic, charging nothing) goes straight to t. */
static uint32_t jit_backedge(const struct jit_ctx *c, uint32_t i, uint32_t t)
{
	if (c->unmetered)
		return jl_insn(c, t);
	return (c->site[i] & JS_XPAD) ? jl_blk(c, JB_XPAD, i) : jl_pad(c, t);
}

static int jit_jmp(struct jit_ctx *c, uint32_t f, uint32_t i, const struct bpf_insn *in)
{
	const struct rt_func *rf = &c->p->funcs[f];
	const struct jit_func *fi = &c->fn[f];
	struct jit_buf *b = &c->b;
	bool is32 = BPF_CLASS(in->code) == BPF_JMP32;
	uint8_t op = BPF_OP(in->code);
	unsigned d = c->reg[in->dst];
	int64_t t;
	int cc;

	if (op == BPF_CALL)
		return jit_call(c, rf->start, i, in);
	if (op == BPF_EXIT) {
		if (in->code != (BPF_JMP | BPF_EXIT) || in->dst || in->src || in->off || in->imm)
			return jit_fail(c, "malformed exit");
		jit_epilogue(c, c->unmetered ? &c->ufn : fi, true);
		c->fallthrough = false;
		return 1;
	}
	if (op == BPF_JA) {
		if (BPF_SRC(in->code) != BPF_K)
			return jit_fail(c, "ja with a register source");
		t = (int64_t)i + 1 + (is32 ? in->imm : in->off);
		if (!jit_target_ok(c, rf, t))
			return jit_fail(c, "jump outside its function");
		/* ja +0 (and gotol +0) emits nothing and falls through: the
		 * next instruction must still be reached past its fuel pad. */
		if (t == i + 1)
			return 1;
		if (t <= i)
			jit_jump(c, -1, jit_backedge(c, i, (uint32_t)t)); /* jmp pad(target) */
		else
			jit_jump(c, -1, jl_insn(c, (uint32_t)t)); /* jmp target */
		c->fallthrough = false;
		return 1;
	}
	cc = jit_cc[op >> 4];
	if (!cc)
		return jit_fail(c, "unknown jump operation");
	t = (int64_t)i + 1 + in->off;
	if (!jit_target_ok(c, rf, t))
		return jit_fail(c, "jump outside its function");
	if (BPF_SRC(in->code) == BPF_X) {
		unsigned s = c->reg[in->src];

		if (op == BPF_JSET)
			x86_alu_rr(b, !is32, X86_OP_TEST, d, s); /* test d, s */
		else
			x86_alu_rr(b, !is32, X86_OP_CMP, d, s); /* cmp d, s */
	} else if (op == BPF_JSET) {
		x86_test_ri(b, !is32, d, in->imm); /* test d, imm */
	} else if (in->imm == 0) {
		x86_alu_rr(b, !is32, X86_OP_TEST, d, d); /* test d, d (= cmp d, 0) */
	} else {
		x86_alu_ri(b, !is32, X86_EXT_CMP, d, in->imm); /* cmp d, imm */
	}
	/* "if cond goto +1; goto T" (clang's loop latch) is "if !cond goto T",
	 * provided nothing else jumps to the goto. */
	if (in->off == 1 && i + 1 < rf->end && !c->target[i + 1] &&
	    (in[1].code == (BPF_JMP | BPF_JA) || in[1].code == (BPF_JMP32 | BPF_JA)) &&
	    !in[1].dst && !in[1].src) {
		int64_t t2 =
		    (int64_t)i + 2 + (in[1].code == (BPF_JMP | BPF_JA) ? in[1].off : in[1].imm);

		if (!jit_target_ok(c, rf, t2))
			return jit_fail(c, "jump outside its function");
		if (t2 <= i + 1)
			jit_jump(c, cc ^ 1, jit_backedge(c, i + 1, (uint32_t)t2)); /* j!cc pad(T) */
		else if (t2 != i + 2)
			jit_jump(c, cc ^ 1, jl_insn(c, (uint32_t)t2)); /* j!cc T */
		return 2;
	}
	/* A taken back-edge costs fuel, charged in the target's pad. */
	jit_jump(c, cc,
	         t > i ? jl_insn(c, (uint32_t)t)
	               : jit_backedge(c, i, (uint32_t)t)); /* jcc target/pad */
	return 1;
}

static int jit_lddw(struct jit_ctx *c, uint32_t f, uint32_t i, const struct bpf_insn *in)
{
	const struct rt_prog *p = c->p;
	const struct bpf_insn *hi = &p->insns[i + 1];
	uint64_t v;

	if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
		return jit_fail(c, "legacy packet load or unknown LD form");
	if (in->dst == BPF_REG_FP || in->off || i + 1 >= p->funcs[f].end || hi->code || hi->dst ||
	    hi->src || hi->off)
		return jit_fail(c, "malformed lddw");
	if (in->src == 0) {
		v = (uint32_t)in->imm | ((uint64_t)(uint32_t)hi->imm << 32);
	} else if (in->src == BPF_PSEUDO_GLOBAL) {
		if ((uint32_t)in->imm >= p->nglobals)
			return jit_fail(c, "lddw of a global region that does not exist");
		v = (uintptr_t)p->globals[in->imm].data + (uint64_t)(int64_t)hi->imm;
	} else {
		return jit_fail(c, "lddw with an unknown pseudo source");
	}
	x86_load_imm64(&c->b, c->reg[in->dst], v); /* mov/movabs d, imm */
	return 2;
}

static int jit_atomic(struct jit_ctx *c, const struct bpf_insn *in, unsigned size)
{
	struct jit_buf *b = &c->b;
	bool w = size == 8;
	unsigned d = c->reg[in->dst], s = c->reg[in->src];
	int32_t off = in->off;
	uint8_t op;

	if (size != 4 && size != 8)
		return jit_fail(c, "atomic operation on 1 or 2 bytes");
	if ((in->imm & BPF_FETCH) && in->imm != BPF_CMPXCHG && in->src == BPF_REG_FP)
		return jit_fail(c, "fetching atomic would overwrite r10");
	switch (in->imm) {
	case BPF_ADD:
	case BPF_OR:
	case BPF_AND:
	case BPF_XOR:
		x86_lock_alu_mr(b, w, jit_alu_op[in->imm >> 4], d, off, s); /* lock op [d+off], s */
		return 1;
	case BPF_ADD | BPF_FETCH:
		x86_lock_xadd(b, w, d, off, s); /* lock xadd [d+off], s */
		return 1;
	case BPF_XCHG:
		x86_xchg_mr(b, w, d, off, s); /* xchg [d+off], s */
		return 1;
	case BPF_CMPXCHG:
		x86_lock_cmpxchg(b, w, d, off, s); /* lock cmpxchg [d+off], s */
		/* A successful 32-bit cmpxchg leaves rax's upper half alone;
		 * eBPF wants the old value zero-extended either way. */
		if (!w)
			x86_alu_rr(b, false, X86_OP_MOV, X86_RAX, X86_RAX); /* mov eax, eax */
		return 1;
	case BPF_OR | BPF_FETCH:
	case BPF_AND | BPF_FETCH:
	case BPF_XOR | BPF_FETCH:
		break;
	default:
		return jit_fail(c, "unknown atomic operation");
	}
	/* fetch_or/and/xor have no x86 instruction: a cmpxchg loop, which
	 * needs rax (eBPF r0) as the comparand.  r0 is parked in r10, and an
	 * operand that was r0 is read from there. */
	op = jit_alu_op[(in->imm & ~BPF_FETCH) >> 4];
	{
		unsigned base = d == X86_RAX ? X86_R10 : d;
		unsigned src = s == X86_RAX ? X86_R10 : s;
		uint32_t retry;

		x86_alu_rr(b, true, X86_OP_MOV, X86_R10, X86_RAX); /* mov r10, rax */
		x86_load(b, size, X86_RAX, base, off);             /* mov rax, [base+off] */
		retry = b->len;                                    /* retry: */
		x86_alu_rr(b, true, X86_OP_MOV, X86_R11, X86_RAX); /* mov r11, rax */
		x86_alu_rr(b, w, op, X86_R11, src);                /* or/and/xor r11, src */
		x86_lock_cmpxchg(b, w, base, off, X86_R11); /* lock cmpxchg [base+off], r11 */
		x86_jcc_rel8(b, X86_CC_NE, (int8_t)(retry - (b->len + 2))); /* jne retry */
		if (s != X86_RAX) {
			x86_alu_rr(b, w, X86_OP_MOV, s, X86_RAX); /* mov s, rax (old value) */
			x86_alu_rr(b, true, X86_OP_MOV, X86_RAX, X86_R10); /* mov rax, r10 */
		}
	}
	return 1;
}

static int jit_mem(struct jit_ctx *c, const struct bpf_insn *in)
{
	struct jit_buf *b = &c->b;
	uint8_t cls = BPF_CLASS(in->code), mode = BPF_MODE(in->code);
	unsigned size = bpf_size_bytes(in->code);
	unsigned d = c->reg[in->dst], s = c->reg[in->src];

	switch (cls) {
	case BPF_LDX:
		if (in->dst == BPF_REG_FP)
			return jit_fail(c, "load into the read-only frame pointer r10");
		if (in->imm)
			return jit_fail(c, "load with a non-zero immediate");
		if (mode == BPF_MEM)
			x86_load(b, size, d, s, in->off); /* mov/movzx d, [s+off] */
		else if (mode == BPF_MEMSX && size != 8)
			x86_load_sx(b, size, d, s, in->off); /* movsx d, [s+off] */
		else
			return jit_fail(c, "unknown load mode");
		return 1;
	case BPF_ST:
		if (mode != BPF_MEM || in->src)
			return jit_fail(c, "unknown store-immediate form");
		x86_store_imm(b, size, d, in->off, in->imm); /* mov [d+off], imm */
		return 1;
	default:
		if (mode == BPF_ATOMIC)
			return jit_atomic(c, in, size);
		if (mode != BPF_MEM || in->imm)
			return jit_fail(c, "unknown store form");
		x86_store(b, size, d, in->off, s); /* mov [d+off], s */
		return 1;
	}
}

static int jit_insn(struct jit_ctx *c, uint32_t f, uint32_t i)
{
	const struct bpf_insn *in = &c->p->insns[i];

	c->cur_insn = i;
	if (in->dst >= BPF_NREGS || in->src >= BPF_NREGS)
		return jit_fail(c, "register number out of range");
	switch (BPF_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		return jit_alu(c, in);
	case BPF_JMP:
	case BPF_JMP32:
		return jit_jmp(c, f, i, in);
	case BPF_LD:
		return jit_lddw(c, f, i, in);
	default:
		return jit_mem(c, in);
	}
}

/* ---- passes ---------------------------------------------------------- */

/*
 * Peephole: clang computes an indexed address as
 *     rA = rB; rA += rC; rA = *(size *)(rA + off)
 * which x86 does in one instruction, mov/movzx rA, [rB + rC + off].  rA's
 * intermediate value is dead (the load overwrites it), so the fusion is
 * exact as long as nothing jumps to the second or third instruction.
 * Returns the number of instructions consumed (3), or 0.
 */
static int jit_fuse_index_load(struct jit_ctx *c, uint32_t f, uint32_t i)
{
	const struct bpf_insn *in = &c->p->insns[i];
	const struct rt_func *rf = &c->p->funcs[f];
	unsigned size;

	if (i + 2 >= rf->end || c->target[i + 1] || c->target[i + 2])
		return 0;
	if (in[0].code != (BPF_ALU64 | BPF_MOV | BPF_X) || in[0].off || in[0].imm ||
	    in[1].code != (BPF_ALU64 | BPF_ADD | BPF_X) || in[1].off || in[1].imm ||
	    in[1].dst != in[0].dst || in[1].src == in[0].dst ||
	    (in[2].code & ~0x18) != (BPF_LDX | BPF_MEM) || in[2].imm || in[2].dst != in[0].dst ||
	    in[2].src != in[0].dst)
		return 0;
	if (in[0].dst >= BPF_REG_FP || in[0].src >= BPF_NREGS || in[1].src >= BPF_NREGS)
		return 0;
	size = bpf_size_bytes(in[2].code);
	x86_load_idx(&c->b, size, c->reg[in[0].dst], c->reg[in[0].src], c->reg[in[1].src],
	             in[2].off); /* mov/movzx rA, [rB+rC+off] */
	return 3;
}

/*
 * Peephole: "rA = rB; rA += K" (or -= K, or += rC) is lea rA, [rB + K]
 * (or [rB + rC]), e.g. clang's `r1 = r10; r1 += -8` for a stack buffer.  Exact for mov64 + add64
 * and for mov64/mov32 + add32 (the 32-bit lea truncates and zero-extends like the 32-bit add);
 * flags are never live across eBPF instructions.
 */
static int jit_fuse_lea(struct jit_ctx *c, uint32_t f, uint32_t i)
{
	const struct bpf_insn *in = &c->p->insns[i];
	const struct rt_func *rf = &c->p->funcs[f];
	uint8_t cls0 = BPF_CLASS(in[0].code), cls1;
	int64_t k;

	if (i + 1 >= rf->end || c->target[i + 1])
		return 0;
	cls1 = BPF_CLASS(in[1].code);
	if ((cls0 != BPF_ALU && cls0 != BPF_ALU64) || in[0].code != (cls0 | BPF_MOV | BPF_X) ||
	    in[0].off || in[0].imm || in[0].dst >= BPF_REG_FP || in[0].src >= BPF_NREGS ||
	    in[0].dst == in[0].src)
		return 0;
	if ((cls1 != BPF_ALU && cls1 != BPF_ALU64) || in[1].off || in[1].dst != in[0].dst)
		return 0;
	if (cls0 == BPF_ALU && cls1 == BPF_ALU64)
		return 0; /* the mov32 zero-extension matters to a 64-bit add */
	if (in[1].code == (cls1 | BPF_ADD | BPF_X)) {
		/* rA = rB; rA += rC  ->  lea rA, [rB + rC] (rC != rA) */
		if (in[1].src >= BPF_NREGS || in[1].src == in[1].dst || in[1].imm)
			return 0;
		x86_lea_idx(&c->b, cls1 == BPF_ALU64, c->reg[in[0].dst], c->reg[in[0].src],
		            c->reg[in[1].src]); /* lea rA, [rB + rC] */
		return 2;
	}
	if (in[1].code != (cls1 | BPF_ADD | BPF_K) && in[1].code != (cls1 | BPF_SUB | BPF_K))
		return 0;
	k = BPF_OP(in[1].code) == BPF_SUB ? -(int64_t)in[1].imm : in[1].imm;
	if (!x86_is_simm32(k))
		return 0;
	x86_lea_w(&c->b, cls1 == BPF_ALU64, c->reg[in[0].dst], c->reg[in[0].src],
	          (int32_t)k); /* lea rA, [rB + K] */
	return 2;
}

/* What instructions i..i+n-1 (just emitted) did to rdx = eBPF r3, for
 * the `xor edx, edx` a normal exit needs.  Calls set it themselves. */
static void jit_track_rdx(struct jit_ctx *c, uint32_t i, int n)
{
	const struct bpf_insn *in = &c->p->insns[i];
	int k;

	for (k = 0; k < n; k++, in++) {
		uint8_t cls = BPF_CLASS(in->code);

		if (cls == BPF_ALU || cls == BPF_ALU64) {
			if (in->dst == 3)
				c->rdx_zero = in->code == (cls | BPF_MOV | BPF_K) && in->imm == 0;
		} else if (cls == BPF_LD || cls == BPF_LDX) {
			if (in->dst == 3)
				c->rdx_zero = false;
			if (bpf_is_lddw(in))
				k++, in++;
		} else if (cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC) {
			if ((in->imm & BPF_FETCH) && in->src == 3)
				c->rdx_zero = false;
		}
	}
}

/* Emit the instruction(s) at i, fused where a peephole applies; returns
 * how many eBPF instructions that consumed, or an error. */
static int jit_emit_one(struct jit_ctx *c, uint32_t f, uint32_t i)
{
	uint32_t start = c->b.len;
	int n;

	c->cur_insn = i;
	c->fallthrough = true;
	if (jit_r1_forwarded(c, f, i))
		return 1; /* r1 = rS for an in-line accessor: it reads rS */
	if (jit_r2_dropped(c, f, i))
		return 1; /* r2 = K for an in-line accessor: K is its offset */
	if (c->any_sink && c->sink_drop[i]) {
		/* A move of an in-line read's result: the load wrote
		 * its destination already (jit_sinks). */
		jit_track_rdx(c, i, 1);
		return 1;
	}
	n = jit_fuse_index_load(c, f, i);
	if (!n)
		n = jit_fuse_lea(c, f, i);
	if (!n)
		n = jit_insn(c, f, i);
	if (n < 0) {
		/* Dead code the verifier never reached may be anything; it
		 * must never run, so trap. */
		if (!c->p->aux || (c->p->aux[i].flags & RT_AUX_SEEN))
			return n;
		c->b.len = start;
		x86_int3(&c->b); /* int3 */
		return 1;
	}
	jit_track_rdx(c, i, n);
	return n;
}

/* Instructions i..end-1 again, without their labels: a batched run's
 * checked copy (jit_cold). */
static int jit_emit_range(struct jit_ctx *c, uint32_t f, uint32_t i, uint32_t end)
{
	int n;

	while (i < end) {
		n = jit_emit_one(c, f, i);
		if (n < 0)
			return n;
		i += (uint32_t)n;
	}
	return 0;
}

/*
 * Registers for an unmetered copy.  eBPF r6-r9 live in callee-saved x86
 * registers so that they survive calls; in an unmetered copy whose only
 * real calls (not in-line reads) are tail calls (jit_tail), nothing is
 * live across a call at all, so they may live in caller-saved registers
 * the copy does not otherwise use and need no saving: r9 (the budget's
 * register, and an unmetered copy has no budget) and the scratch r10, r11,
 * provided no instruction of f needs scratch (division, shifts by a
 * register, atomics: see jit_divmod, jit_shift_x, jit_atomic).  Fills
 * c->ureg and returns the eBPF registers moved (bit k: r(6+k)); 0 when
 * anything does not fit these conditions.  Needs c->unmetered and c->ufn
 * set, as jit_tail reads them.
 */
static uint8_t jit_unmetered_regs(struct jit_ctx *c, uint32_t f)
{
	static const uint8_t spare[3] = {X86_R9, X86_R10, X86_R11};
	const struct rt_prog *p = c->p;
	const struct rt_func *rf = &p->funcs[f];
	uint8_t moved = 0;
	unsigned k, n = 0;
	uint32_t i;

	memcpy(c->ureg, jit_reg, sizeof(c->ureg));
	for (i = rf->start; i < rf->end; i++) {
		const struct bpf_insn *in = &p->insns[i];
		uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		const struct rt_sig *sig;

		if (c->slot2[i])
			continue;
		if ((cls == BPF_ALU || cls == BPF_ALU64) &&
		    (op == BPF_DIV || op == BPF_MOD ||
		     ((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
		      BPF_SRC(in->code) == BPF_X)))
			return 0;
		if (cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC)
			return 0;
		if (in->code != (BPF_JMP | BPF_CALL))
			continue;
		/* A call: in line, a tail call, or a real one (then r6-r9
		 * must survive it where they are). */
		sig = jit_import_of(p, in);
		if (in->dst || in->off || !sig || !sig->fn)
			return 0;
		if (!jit_inline_at(c, rf->start, i, sig, NULL) && !jit_tail(c, i, sig))
			return 0;
	}
	for (k = 0; k < 4 && n < 3; k++)
		if (c->fn[f].saved & (1u << k)) {
			c->ureg[6 + k] = spare[n++];
			moved |= (uint8_t)(1u << k);
		}
	return moved;
}

/*
 * The unmetered copy of function f (rt_jit_unmetered): the same
 * instructions with their own labels (JB_UNM), the frame and saved
 * registers the body needs for itself, no r12, no fuel checks (f has no
 * back-edge and jit_call charges nothing here), no batched runs and no
 * status at the exits.  Nothing in it can abort (no RT_SIG_MAYABORT or
 * RT_SIG_FUEL import), so it has no out-of-line code either.
 */
static int jit_unmetered_copy(struct jit_ctx *c, uint32_t f)
{
	const struct rt_func *rf = &c->p->funcs[f];
	const struct jit_func *fi = &c->fn[f];
	struct jit_func *u = &c->ufn;
	uint32_t i, k;
	uint8_t moved;
	int n = 0;

	memset(u, 0, sizeof(*u));
	u->stack = fi->stack;
	u->saved = fi->saved;
	u->calls = fi->calls;
	u->frame = fi->own_frame;
	u->fp_escapes = fi->fp_escapes;
	u->fuel = JIT_FUEL; /* never used */
	c->unmetered = true;
	moved = jit_unmetered_regs(c, f);
	if (moved) {
		/* Every call is in line or a tail call: none needs rsp
		 * aligned, and the moved registers need no saving. */
		u->saved &= (uint8_t)~moved;
		u->calls = false;
		c->reg = c->ureg;
	}
	u->pad = u->calls && !((jit_popcount4(u->saved) + u->frame) & 1);
	c->fallthrough = true;
	c->rdx_zero = false;
	c->run_until = 0;
	jit_label(c, jl_func(c, f, JF_UNMETERED));
	jit_prologue(c, u);
	for (i = rf->start; i < rf->end; i += (uint32_t)n) {
		jit_label(c, jl_blk(c, JB_UNM, i));
		n = jit_emit_one(c, f, i);
		if (n < 0)
			break;
		for (k = 1; k < (uint32_t)n; k++)
			c->cur[jl_blk(c, JB_UNM, i + k)] = c->b.len;
	}
	x86_int3(&c->b); /* int3: never fall off a function */
	c->unmetered = false;
	c->reg = jit_reg;
	return n < 0 ? n : 0;
}

/* One code generation pass; sizes only unless c->b.code is set. */
static int jit_pass(struct jit_ctx *c)
{
	const struct rt_prog *p = c->p;
	uint32_t f, i, k;
	int n;

	c->b.len = 0;
	c->anchor_cur = c->anchor_prev = 0;
	if (c->any_nested)
		jit_common(c);
	if (c->any_metered)
		jit_run_shim(c);
	for (f = 0; f < p->nfuncs; f++) {
		if (!c->fn[f].metered || c->fn[f].flat)
			continue;
		jit_label(c, jl_func(c, f, JF_ENTRY));
		jit_lea_label(c, X86_R11, jl_func(c, f, JF_BODY)); /* lea r11, [rip + body] */
		jit_jump(c, -1, jl_common(c, JL_COMMON_ENTRY));    /* jmp common_entry */
	}
	for (f = 0; f < p->nfuncs; f++) {
		const struct rt_func *rf = &p->funcs[f];

		c->cur_func = f;
		if (c->fn[f].xor_at_entry) {
			/* Nothing in the body touches rdx, so zeroing it here
			 * is the status of every exit; the body after it is a
			 * C function (rt_jit_plain). */
			jit_label(c, jl_func(c, f, JF_ENTRY));
			x86_alu_rr(&c->b, false, X86_OP_XOR, X86_RDX, X86_RDX); /* xor edx, edx */
			jit_label(c, jl_func(c, f, JF_BODY));
		} else {
			jit_label(c, jl_func(c, f, JF_BODY));
			if (!c->fn[f].metered || c->fn[f].flat)
				jit_label(c, jl_func(c, f, JF_ENTRY));
		}
		jit_prologue(c, &c->fn[f]);
		c->fallthrough = true;
		c->rdx_zero = false;
		c->run_until = 0;
		for (i = rf->start; i < rf->end; i += (uint32_t)n) {
			if (c->backtarget[i]) {
				/* Back-edges charge their unit of fuel here,
				 * on the way in; forward paths skip it. */
				if (c->fallthrough)
					jit_jump(c, -1, i); /* jmp target */
				/* A loop that fits in 32 bytes starts a
				 * 32-byte window, so its latch is inside it
				 * (jit_align_loops).  The filler is never
				 * executed: nothing falls through to here. */
				if (c->site[i] & JS_ALIGN)
					while (c->b.len & 31)
						x86_int3(&c->b); /* int3 (alignment) */
				jit_label(c, jl_pad(c, i));
				c->cur_insn = i;
				jit_fuel(c, c->pad_src[i]);
			}
			jit_label(c, i);
			if (c->target[i])
				c->rdx_zero = false;
			if (i >= c->run_until)
				c->run_until = 0;
			if (c->run_end[i]) {
				/* A batched run: its calls' fuel at once. */
				x86_alu_ri(&c->b, true, X86_EXT_SUB, JIT_FUEL,
				           (int32_t)c->run_k[i]);             /* sub r12, k */
				jit_jump(c, X86_CC_B, jl_blk(c, JB_SLOW, i)); /* jb slow(run) */
				c->run_until = c->run_end[i];
			}
			n = jit_emit_one(c, f, i);
			if (n < 0)
				return n;
			for (k = 1; k < (uint32_t)n; k++)
				c->cur[i + k] = c->b.len;
		}
		c->run_until = 0;
		x86_int3(&c->b); /* int3: never fall off a function */
		n = jit_cold(c, f);
		if (n < 0)
			return n;
		if (c->fn[f].flat)
			jit_flat_aborts(c, f);
		if (c->fn[f].unmetered) {
			n = jit_unmetered_copy(c, f);
			if (n < 0)
				return n;
		}
	}
	/* Addresses of the imports out of call rel32's reach. */
	while (c->b.len & 7)
		x86_int3(&c->b); /* int3 (alignment) */
	for (k = 0; k < p->nimports; k++) {
		const struct rt_sig *sig = p->imports[k].sig;

		if (c->near_import[k] || !sig || !sig->fn)
			continue;
		jit_label(c, jl_lit(c, k));
		x86_imm64(&c->b, (uint64_t)(uintptr_t)sig->fn); /* .quad fn */
	}
	jit_label(c, jl_common(c, JL_END));
	return 0;
}

/*
 * Once the code has settled without alignment, mark the loop heads whose
 * loop, from the pad to the end of its latch, fits in 32 bytes.  Decided
 * once, between the two rounds of passes: a decision that could flip from
 * pass to pass might keep the sizes from settling.  (Should the padding
 * make them oscillate anyway, jit_converge's long-jump fallback settles
 * them: with every jump long, the padding is a function of the pass
 * itself.)
 */
static uint32_t jit_align_loops(struct jit_ctx *c)
{
	const struct rt_prog *p = c->p;
	uint32_t f, t, s, n = 0;

	for (f = 0; f < p->nfuncs; f++)
		for (t = p->funcs[f].start; t < p->funcs[f].end; t++) {
			if (!c->backtarget[t])
				continue;
			s = c->pad_src[t] + 1; /* the latch ends where s starts */
			if (s < p->funcs[f].end && c->cur[s] > c->cur[jl_pad(c, t)] &&
			    c->cur[s] - c->cur[jl_pad(c, t)] <= 32) {
				c->site[t] |= JS_ALIGN;
				n++;
			}
		}
	return n;
}

/*
 * Run passes until no label moves.  Sizes only shrink from pass to pass,
 * so this terminates; should a pathological program need more than
 * JIT_MAX_PASSES, every jump takes its long form, whose size does not
 * depend on distances, and two more passes settle it.
 */
static int jit_converge(struct jit_ctx *c)
{
	uint32_t pass, l;
	int err;

	for (pass = 0; pass < JIT_MAX_PASSES + 3; pass++) {
		bool same;

		err = jit_pass(c);
		if (err)
			return err;
		same = true;
		for (l = 0; l < c->nlabels; l++) {
			if (c->cur[l] != c->prev[l])
				same = false;
			c->prev[l] = c->cur[l];
		}
		c->force_long = false;
		if (same)
			return 0;
		if (pass + 1 == JIT_MAX_PASSES)
			c->long_only = true;
	}
	if (c->err && c->errlen)
		rt_snprintf(c->err, c->errlen, "jit: code size did not converge");
	return -RT_EINVAL;
}

static bool jit_near(uintptr_t target, uintptr_t base, size_t size)
{
	int64_t a = (int64_t)(target - base), z = (int64_t)(target - (base + size));
	const int64_t lim = (int64_t)INT32_MAX - 16;

	return a > -lim && a < lim && z > -lim && z < lim;
}

/* ---- the public face ------------------------------------------------- */

struct jit_entry {
	uint32_t entry;     /* offset of the SysV entry point */
	uint32_t body;      /* offset of the native function (rt_jit_plain) */
	uint32_t unmetered; /* offset of its unmetered copy, if has_unmetered */
	uint32_t worst;     /* the most fuel the metered entry can charge */
	bool metered;
	bool has_unmetered;
};

struct rt_jit {
	uint8_t *code;
	size_t alloc; /* bytes from rt_code_alloc */
	size_t len;   /* bytes of code */
	uint32_t nfuncs;
	uint32_t run_shim; /* offset of rt_jit_run's shim, if any function is metered */
	struct jit_entry *fn;
};

static int jit_setup(struct jit_ctx *c, const struct rt_prog *p)
{
	uint32_t f, i;

	if (p->ninsns == 0 || p->nfuncs == 0 || !p->insns || !p->funcs ||
	    p->ninsns > RT_MAX_INSNS || p->nfuncs > RT_MAX_FUNCS)
		return jit_fail(c, "empty or oversized program");
	c->nlabels = JB_COUNT * (p->ninsns + 1) + p->nfuncs * JF_COUNT + JL_COUNT + p->nimports;
	c->prev = rt_alloc(sizeof(uint32_t) * c->nlabels);
	c->cur = rt_alloc(sizeof(uint32_t) * c->nlabels);
	c->fn = rt_alloc(sizeof(struct jit_func) * p->nfuncs);
	c->func_at = rt_alloc(sizeof(int32_t) * p->ninsns);
	c->slot2 = rt_alloc(sizeof(bool) * p->ninsns);
	c->target = rt_alloc(sizeof(bool) * p->ninsns);
	c->backtarget = rt_alloc(sizeof(bool) * p->ninsns);
	c->near_import = rt_alloc(p->nimports ? p->nimports : 1);
	/* pad_src, back_to, run_end, run_k and site share one allocation
	 * (allocations are not free in the kernel). */
	c->pad_src = rt_alloc((4 * sizeof(uint32_t) + 1) * p->ninsns);
	c->sfact = rt_alloc((sizeof(struct rt_sink_fact) + 1 + sizeof(bool)) * p->ninsns);
	if (!c->prev || !c->cur || !c->fn || !c->func_at || !c->slot2 || !c->target ||
	    !c->backtarget || !c->near_import || !c->pad_src || !c->sfact)
		return -RT_ENOMEM;
	c->sink_dst = (uint8_t *)(c->sfact + p->ninsns);
	c->sink_drop = (bool *)(c->sink_dst + p->ninsns);
	c->back_to = (int32_t *)(c->pad_src + p->ninsns);
	c->run_end = c->pad_src + 2 * p->ninsns;
	c->run_k = c->pad_src + 3 * p->ninsns;
	c->site = (uint8_t *)(c->pad_src + 4 * p->ninsns);
	for (i = 0; i < p->ninsns; i++) {
		c->func_at[i] = -1;
		c->back_to[i] = -1;
	}
	for (f = 0; f < p->nfuncs; f++) {
		const struct rt_func *rf = &p->funcs[f];

		if (rf->start >= rf->end || rf->end > p->ninsns)
			return jit_fail(c, "function with an empty or out-of-range body");
		if (c->func_at[rf->start] >= 0)
			return jit_fail(c, "two functions start at the same instruction");
		c->func_at[rf->start] = (int32_t)f;
	}
	/* Function bodies must not overlap: every insn label has one owner. */
	for (f = 0; f < p->nfuncs; f++)
		for (i = p->funcs[f].start + 1; i < p->funcs[f].end; i++)
			if (c->func_at[i] >= 0) {
				c->cur_insn = i;
				return jit_fail(c, "functions overlap");
			}
	for (f = 0; f < p->nfuncs; f++)
		for (i = p->funcs[f].start; i < p->funcs[f].end; i++)
			if (bpf_is_lddw(&p->insns[i]) && i + 1 < p->funcs[f].end)
				c->slot2[++i] = true;
	for (f = 0; f < p->nfuncs; f++)
		jit_analyse(c, f);
	for (i = 0; i < p->ninsns; i++)
		if (c->back_to[i] >= 0 && c->pad_src[c->back_to[i]] != i)
			c->site[i] |= JS_XPAD;
	for (f = 0; f < p->nfuncs; f++)
		jit_find_runs(c, f);
	for (f = 0; f < p->nfuncs; f++)
		jit_sinks(c, f);
	for (f = 0; f < p->nfuncs; f++) {
		const struct rt_func *rf = &p->funcs[f];
		struct jit_func *fi = &c->fn[f];

		jit_classify(fi);
		/* An unmetered copy for a metered function that cannot run
		 * out or abort unless its budget is short (rt_jit_unmetered);
		 * the size limit bounds the extra code and passes. */
		fi->unmetered = fi->metered && !fi->calls_local && !fi->must_meter &&
		                rf->end - rf->start <= RT_JIT_UNMETERED_MAX &&
		                (!fi->backedge || jit_acyclic(c, f));
		if (c->fn[f].metered)
			c->any_metered = true;
		if (c->fn[f].metered && !c->fn[f].flat)
			c->any_nested = true;
		c->saved_union |= c->fn[f].saved;
	}
	return 0;
}

static void jit_ctx_free(struct jit_ctx *c)
{
	rt_free(c->prev);
	rt_free(c->cur);
	rt_free(c->fn);
	rt_free(c->func_at);
	rt_free(c->slot2);
	rt_free(c->target);
	rt_free(c->backtarget);
	rt_free(c->near_import);
	rt_free(c->pad_src); /* and back_to, run_end, run_k, site */
	rt_free(c->sfact);   /* and sink_dst, sink_drop */
}

int rt_jit_compile(const struct rt_prog *p, struct rt_jit **out, char *err, size_t errlen)
{
	struct jit_ctx c;
	struct rt_jit *j = NULL;
	uint32_t f, k, size;
	bool align = true;
	int ret;

	if (!out)
		return -RT_EINVAL;
	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!p)
		return -RT_EINVAL;
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.err = err;
	c.errlen = errlen;
	c.force_long = true;
	c.reg = jit_reg;

	ret = jit_setup(&c, p);
	if (ret)
		goto out;
	ret = -RT_ENOMEM;
	j = rt_alloc(sizeof(*j));
	if (!j)
		goto out;
	j->fn = rt_alloc(sizeof(struct jit_entry) * p->nfuncs);
	if (!j->fn)
		goto out;
again:
	/* Size with every import far, then place the block and let the
	 * imports in reach shrink to call rel32. */
	ret = jit_converge(&c);
	if (ret)
		goto out;
	/* Aligning loop heads adds at most 31 bytes of filler each, applied
	 * from the next round of passes on. */
	size = c.prev[jl_common(&c, JL_END)];
	if (align)
		size += 31 * jit_align_loops(&c);
	ret = -RT_ENOMEM;
	j->code = rt_code_alloc(size);
	if (!j->code)
		goto out;
	j->alloc = size;
	c.base = (uintptr_t)j->code;
	for (k = 0; k < p->nimports; k++) {
		const struct rt_sig *sig = p->imports[k].sig;

		c.near_import[k] = sig && sig->fn && jit_near((uintptr_t)sig->fn, c.base, size);
	}
	ret = jit_converge(&c);
	if (ret)
		goto out;
	if (c.prev[jl_common(&c, JL_END)] > size) {
		/* Without alignment, shorter calls only shrink the code.
		 * With it, a jump across a loop head's filler can grow
		 * (the filler grows when the code before it shrinks): in
		 * the rare case the block is then too small, start over
		 * without aligning.  (The code may also end short of
		 * `size`; the rest is int3.) */
		rt_code_free(j->code, j->alloc);
		j->code = NULL;
		align = false;
		c.force_long = true;
		c.long_only = false;
		c.base = 0;
		for (k = 0; k < p->nimports; k++)
			c.near_import[k] = false;
		for (k = 0; k < p->ninsns; k++)
			c.site[k] &= (uint8_t)~JS_ALIGN;
		goto again;
	}
	/* Final pass: the same code, now written. */
	c.b.code = j->code;
	c.b.cap = size;
	ret = jit_pass(&c);
	if (ret)
		goto out;
	for (k = 0; k < c.nlabels; k++)
		if (c.cur[k] != c.prev[k] || c.b.len > size || c.b.bad) {
			if (err && errlen)
				rt_snprintf(err, errlen,
				            "jit: internal error: final pass changed size");
			ret = -RT_EINVAL;
			goto out;
		}
	j->len = c.b.len;
	memset(j->code + j->len, 0xcc, size - j->len); /* int3 padding */
	ret = rt_code_seal(j->code, j->alloc);
	if (ret)
		goto out;
	j->nfuncs = p->nfuncs;
	j->run_shim = c.prev[jl_common(&c, JL_RUN_SHIM)];
	for (f = 0; f < p->nfuncs; f++) {
		j->fn[f].entry = c.prev[jl_func(&c, f, JF_ENTRY)];
		j->fn[f].body = c.prev[jl_func(&c, f, JF_BODY)];
		j->fn[f].metered = c.fn[f].metered;
		j->fn[f].has_unmetered = c.fn[f].unmetered;
		j->fn[f].unmetered = c.prev[jl_func(&c, f, JF_UNMETERED)];
		j->fn[f].worst = c.fn[f].ncharged + c.fn[f].nback;
	}
	*out = j;
	j = NULL;
	ret = 0;
out:
	if (j) {
		if (j->code)
			rt_code_free(j->code, j->alloc);
		rt_free(j->fn);
		rt_free(j);
	}
	jit_ctx_free(&c);
	return ret;
}

rt_jit_fn rt_jit_entry(const struct rt_jit *j, uint32_t func)
{
	if (!j || func >= j->nfuncs)
		return NULL;
	return (rt_jit_fn)(uintptr_t)(j->code + j->fn[func].entry);
}

rt_import_fn rt_jit_plain(const struct rt_jit *j, uint32_t func)
{
	if (!j || func >= j->nfuncs || j->fn[func].metered)
		return NULL;
	return (rt_import_fn)(uintptr_t)(j->code + j->fn[func].body);
}

rt_import_fn rt_jit_unmetered(const struct rt_jit *j, uint32_t func, uint64_t *worst)
{
	uint32_t off;

	if (!j || func >= j->nfuncs)
		return NULL;
	if (!j->fn[func].metered)
		off = j->fn[func].body; /* plain: charges nothing */
	else if (j->fn[func].has_unmetered)
		off = j->fn[func].unmetered;
	else
		return NULL;
	if (worst)
		*worst = j->fn[func].metered ? j->fn[func].worst : 0;
	return (rt_import_fn)(uintptr_t)(j->code + off);
}

size_t rt_jit_code_size(const struct rt_jit *j)
{
	return j ? j->len : 0;
}

const void *rt_jit_code(const struct rt_jit *j)
{
	return j ? j->code : NULL;
}

void rt_jit_free(struct rt_jit *j)
{
	if (!j)
		return;
	rt_code_free(j->code, j->alloc);
	rt_free(j->fn);
	rt_free(j);
}

/* rt_jit_run's shim (jit_run_shim): the entry and an out pointer (fuel
 * left, abort pc) ride as 7th and 8th arguments. */
typedef struct rt_jit_ret (*jit_run_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                        uintptr_t, uint64_t *);

/* The interpreter's contract, run->ledger included (exec.h): the compiled
 * code knows nothing of references, so a caller of the native entry points
 * (the dispatcher) releases what a stopped run holds itself. */
int rt_jit_run(const struct rt_jit *j, uint32_t func, const uint64_t args[5], struct rt_run *run)
{
	uint64_t a[5] = {0, 0, 0, 0, 0}, out[2];
	struct rt_jit_ret r;
	uint32_t k;

	if (!j || !run || func >= j->nfuncs)
		return -RT_EINVAL;
	for (k = 0; args && k < 5; k++)
		a[k] = args[k];
	out[0] = run->fuel;
	out[1] = 0;
	if (run->ledger) {
		run->ledger->n = 0;
		run->ledger->overflow = false;
	}
	if (j->fn[func].metered) {
		jit_run_fn fn = (jit_run_fn)(uintptr_t)(j->code + j->run_shim);

		r = fn(a[0], a[1], a[2], a[3], a[4], run->fuel,
		       (uintptr_t)(j->code + j->fn[func].entry), out);
	} else {
		r = rt_jit_entry(j, func)(a[0], a[1], a[2], a[3], a[4], run->fuel);
	}
	/* RT_FUEL_UNLIMITED means unmetered: report it unchanged, as the
	 * interpreter does, even though the JIT counted down from it. */
	if (run->fuel != RT_FUEL_UNLIMITED)
		run->fuel = out[0];
	run->r0 = r.r0;
	run->status = (enum rt_status)r.status;
	/* Every abort path leaves its instruction's index in r11. */
	run->pc = r.status != RT_RUN_OK ? (uint32_t)out[1] : 0;
	/* A stopped run releases what the program still holds (exec.h). */
	if (r.status != RT_RUN_OK)
		rt_ledger_unwind(run->ledger);
	return 0;
}
