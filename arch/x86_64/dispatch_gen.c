/*
 * dispatch_gen.c: x86-64 dispatch routines generated per handler set.
 *
 * Design.  kernel/dispatch.c describes a handler set (kernel/dispatch_gen.h)
 * and this file emits one SysV function for it with the JIT's encoder
 * (jit_emit.h): no loop and no table, every guard and handler a direct call
 * (call rel32 when the target is within +-2 GiB of the routine, else movabs
 * rax, target; call rax), guard results tested inline, closures and fuel as
 * immediates, the result handler and a native default handler called in
 * line.  What cannot happen on the fast path (an extension run that aborted
 * or left references in its ledger, an unhandled raise with an extension
 * default or none) leaves through an out-of-line stub that calls back into
 * the dispatcher.
 *
 * Register and frame plan (callee-saved registers keep the raise's
 * arguments across calls):
 *
 *     rbx rbp r12 r13 r14   a1 a2 a3 a4 a5 (only the event's nargs are kept)
 *     r15                   the last result
 *     the next argument     without a result handler, when nargs < 5: the
 *     register              fired flag (0 / 1), else [rsp + LOC_FIRED]
 *     [rsp + LOC_FIRED]     with a result handler: handlers fired so far
 *     [rsp + LOC_ACC]       the result handler's accumulator
 *     [rsp + LOC_TMP]       a result kept across a slow path
 *     [rsp + LOC_ARGS]      a1..a5 as an array, for the unhandled path
 *     [rsp + LOC_CPU]       the raising CPU's bookkeeping (nest, frame
 *                           slot), from d->cpu_self() at entry
 *     [rsp + LOC_FRAME]     the ledger frame of an extension handler run
 *
 *   prologue   push the registers used; sub rsp, LOCALS (16-byte aligned)
 *              mov callee-saved <- rdi..; rax = cpu_self; mov [cpu], rax;
 *              add dword [rax + nest], 1; [native only: dec preempt depth]
 *   entry i    [ext] movabs rax, disabled; cmp byte [rax], 0; jne next
 *              per guard: args; call g; [ext: test rdx; jnz next]; test rax; jz next
 *              [ext] push the ledger frame; args; mov r9, fuel; call h;
 *                    pop it; test rdx; jnz slow_i; cmp dword [n], 0; jne slow_i
 *              resume_i: fold rax into r15 / acc; add dword [fired], 1
 *   tail       cmp fired, 0; je unhandled; choose r15 or acc
 *   done       rdi = rax; rsi = [cpu]; epilogue; jmp leave (dispatch_gen.h:
 *              the nesting, the quiescent point and preemption are left in
 *              static code, after the last instruction of the routine)
 *
 * Two shorter forms serve exclusive sets of native code (plain and unmetered
 * extension entries included) with a native default: the lean form (no
 * locals, the first accepted handler is the only call: dg_emit_lean) and,
 * when every guard is an inline test and nothing takes a closure, the bare
 * form (no callee-saved register at all: dg_emit_bare).  In both, when the
 * entries' guards all test one key on disjoint intervals, the entries are
 * not a chain but a search for the only one that can accept (the keyed
 * search, below dg_bare_body).
 *
 * Preemption (kernel/dispatch.h): the routine is entered with the depth
 * raised once by the slot's entry.  A set of native code only lowers it as
 * soon as it has counted itself in the CPU's nesting; an ephemeral set (it
 * runs extension code) keeps it to the end.  The depth is one %gs-relative
 * dec in the kernel, a plain counter in hosted builds.
 *
 * Jumps are emitted as rel32 and patched once every label is known; the
 * code is sized first with every call in its long form, so the buffer is an
 * upper bound and the second pass can only be shorter.
 */
#include "kernel/dispatch_gen.h"

#ifdef SPINDLE_KERNEL
#include <arch/percpu.h>
#endif

#include "arch/x86_64/jit_emit.h"
#include "runtime/rt.h"

#define LOC_FIRED 0
#define LOC_ACC   8
#define LOC_TMP   16
#define LOC_ARGS  24
#define LOC_CPU   64 /* this CPU's bookkeeping (d->cpu_self()), fixed for the raise */
#define LOC_FRAME 72

#define DG_MAX_FIXUPS 1024

uint64_t dispatch_gen_keyed_built;

static const unsigned dg_argreg[5] = {X86_RBX, X86_RBP, X86_R12, X86_R13, X86_R14};
static const unsigned dg_callreg[6] = {X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8, X86_R9};

struct dg {
	struct jit_buf b;
	const struct dispatch_gen_desc *d;
	uint32_t *label; /* positions; UINT32_MAX until bound */
	uint32_t nlabels;
	struct {
		uint32_t at; /* position of the rel32 */
		uint32_t label;
	} fix[DG_MAX_FIXUPS];
	uint32_t nfix;
	bool overflow;
	uint32_t locals;
	/* The full form's register plan: the callee-saved registers it uses
	 * (a1..a(na), the fired flag when it has a register, r15). */
	uint32_t na;
	bool fired_reg; /* no result handler and na < 5: fired is dg_argreg[na] */
	unsigned saved[7];
	uint32_t nsaved;
	/* The lean and bare forms: where this CPU's bookkeeping is (the
	 * register or stack slot plus cpu) and where the arguments are
	 * (dg_argreg: lean; dg_callreg: bare). */
	int32_t cpu;
	const unsigned *argreg;
	/* The keyed search (dg_key_plan): one key, every entry's term on it
	 * (key[i], by entry) and the entries by ascending interval (order). */
	bool keyed;
	uint32_t key_arg, key_off;
	struct dg_key {
		uint64_t lo, hi;
		uint32_t guard, term; /* where the term is: e->g[guard].test->t[term] */
	} * key;
	uint32_t *order;
	uint32_t pos0;        /* entry 0's position in order */
	struct dg_plan *plan; /* dg_key_cost */
};

/* Labels: start[i] for i in 0..n (start[n] is the tail), then resume[i],
 * slow[i], unhandled, done, node[i], left[i]. */
static uint32_t dg_start(const struct dg *g, uint32_t i)
{
	(void)g;
	return i;
}
static uint32_t dg_resume(const struct dg *g, uint32_t i)
{
	return g->d->n + 1 + i;
}
static uint32_t dg_slow(const struct dg *g, uint32_t i)
{
	return 2 * g->d->n + 1 + i;
}
static uint32_t dg_unhandled(const struct dg *g)
{
	return 3 * g->d->n + 1;
}
static uint32_t dg_done(const struct dg *g)
{
	return 3 * g->d->n + 2;
}
/* The keyed search's nodes: node[k] is where the search over the sorted
 * entries k.. starts (each k is the right half of at most one split). */
static uint32_t dg_node(const struct dg *g, uint32_t k)
{
	return 3 * g->d->n + 3 + k;
}
/* ... and left[m], where the positions below an equality node m start. */
static uint32_t dg_left(const struct dg *g, uint32_t m)
{
	return 4 * g->d->n + 3 + m;
}

/* Before each emitting pass: every label unbound, no fixups. */
static void dg_reset(struct dg *g)
{
	for (uint32_t l = 0; l < g->nlabels; l++)
		g->label[l] = UINT32_MAX;
	g->nfix = 0;
}

static void dg_bind(struct dg *g, uint32_t l)
{
	g->label[l] = g->b.len;
}

static void dg_fixup(struct dg *g, uint32_t label)
{
	if (g->nfix == DG_MAX_FIXUPS) {
		g->overflow = true;
		return;
	}
	g->fix[g->nfix].at = g->b.len - 4;
	g->fix[g->nfix].label = label;
	g->nfix++;
}

static void dg_jmp(struct dg *g, uint32_t label)
{
	x86_jmp_rel32(&g->b, 0); /* jmp rel32 (patched) */
	dg_fixup(g, label);
}

static void dg_jcc(struct dg *g, unsigned cc, uint32_t label)
{
	x86_jcc_rel32(&g->b, cc, 0); /* jcc rel32 (patched) */
	dg_fixup(g, label);
}

static void dg_mov(struct jit_buf *b, unsigned dst, unsigned src)
{
	x86_alu_rr(b, true, X86_OP_MOV, dst, src); /* mov dst, src */
}

/* Local encoder helpers jit_emit.h lacks (memory-operand immediates). */

/* add/sub/cmp dword [base + disp], imm8: 83 /ext ib. */
static void dg_mem32_imm8(struct jit_buf *b, unsigned ext, unsigned base, int32_t disp, int8_t imm)
{
	x86_rex(b, false, 0, base, false);
	x86_byte(b, 0x83);
	x86_modrm_mem(b, ext, base, disp);
	x86_byte(b, (uint8_t)imm);
}

/* cmp byte [base + disp], imm8: 80 /7 ib. */
static void dg_cmp_mem8(struct jit_buf *b, unsigned base, int32_t disp, int8_t imm)
{
	x86_rex(b, false, 0, base, false);
	x86_byte(b, 0x80);
	x86_modrm_mem(b, X86_EXT_CMP, base, disp);
	x86_byte(b, (uint8_t)imm);
}

/* call target: rel32 when it reaches, else movabs rax, target; call rax.
 * While sizing (code == NULL) always the long form. */
static void dg_call(struct dg *g, const void *target)
{
	struct jit_buf *b = &g->b;
	if (b->code) {
		int64_t rel = (int64_t)(uintptr_t)target -
		              (int64_t)(uintptr_t)(b->code + b->len + X86_CALL_REL32_LEN);
		if (x86_is_simm32(rel)) {
			x86_call_rel32(b, (int32_t)rel); /* call rel32 */
			return;
		}
	}
	x86_movabs(b, X86_RAX, (uint64_t)(uintptr_t)target); /* movabs rax, target */
	x86_call_r(b, X86_RAX);                              /* call rax */
}

/* cmp qword [base + disp], imm32: REX.W 81 /7 id. */
static void dg_cmp_mem64_imm32(struct jit_buf *b, unsigned base, int32_t disp, int32_t imm)
{
	x86_rex(b, true, 0, base, false);
	x86_byte(b, 0x81);
	x86_modrm_mem(b, X86_EXT_CMP, base, disp);
	x86_imm32(b, (uint32_t)imm);
}

/* An inline-test guard (kernel/dispatch.h): each term lo <= v <= hi, v an
 * argument (in argreg[arg]) or a field of the object it refers to; a false
 * term jumps to `next`.  Term `skip` is left out (the keyed search has
 * already established it; DG_NO_SKIP: none).  Clobbers rax and `tmp`. */
#define DG_NO_SKIP UINT32_MAX
static void dg_test_in(struct dg *g, const struct dispatch_test *t, uint32_t next,
                       const unsigned *argreg, unsigned tmp, uint32_t skip)
{
	struct jit_buf *b = &g->b;

	for (uint32_t i = 0; i < t->n; i++) {
		unsigned r = argreg[t->t[i].arg];
		uint32_t off = t->t[i].off;
		uint64_t lo = t->t[i].lo, span = t->t[i].hi - t->t[i].lo;
		bool mem = off != DISPATCH_TEST_VALUE;

		if (i == skip)
			continue;

		if (span == 0 && x86_is_simm32((int64_t)lo)) {
			if (mem)
				dg_cmp_mem64_imm32(b, r, (int32_t)off,
				                   (int32_t)lo); /* cmp [r+off], lo */
			else
				x86_alu_ri(b, true, X86_EXT_CMP, r, (int32_t)lo); /* cmp r, lo */
			dg_jcc(g, X86_CC_NE, next);                               /* jne next */
			continue;
		}
		if (lo == 0 && span <= 0x7fffffff && mem) {
			dg_cmp_mem64_imm32(b, r, (int32_t)off, (int32_t)span); /* cmp [r+off], hi */
			dg_jcc(g, X86_CC_A, next);                             /* ja next */
			continue;
		}
		if (mem)
			x86_load(b, 8, X86_RAX, r, (int32_t)off); /* mov rax, [r+off] */
		else
			dg_mov(b, X86_RAX, r); /* mov rax, r */
		if (lo && x86_is_simm32((int64_t)lo)) {
			x86_alu_ri(b, true, X86_EXT_SUB, X86_RAX, (int32_t)lo); /* sub rax, lo */
		} else if (lo) {
			x86_movabs(b, tmp, lo);                        /* movabs tmp, lo */
			x86_alu_rr(b, true, X86_OP_SUB, X86_RAX, tmp); /* sub rax, tmp */
		}
		if (span <= 0x7fffffff) {
			x86_alu_ri(b, true, X86_EXT_CMP, X86_RAX,
			           (int32_t)span); /* cmp rax, span */
		} else {
			x86_movabs(b, tmp, span);                      /* movabs tmp, span */
			x86_alu_rr(b, true, X86_OP_CMP, X86_RAX, tmp); /* cmp rax, tmp */
		}
		dg_jcc(g, X86_CC_A, next); /* ja next: outside [lo, hi] */
	}
}

/* The arguments in their callee-saved registers. */
static void dg_test(struct dg *g, const struct dispatch_test *t, uint32_t next)
{
	dg_test_in(g, t, next, dg_argreg, X86_RCX, DG_NO_SKIP);
}

/* rax = the raising CPU's bookkeeping.  In the kernel, where GS holds this
 * CPU's per-CPU area, in line (mov eax, gs:[PERCPU_ID]; shl; add: what
 * cpu_self() computes); elsewhere (host tests) the call. */
static void dg_cpu_self(struct dg *g)
{
	const struct dispatch_gen_desc *d = g->d;
#ifdef SPINDLE_KERNEL
	struct jit_buf *b = &g->b;
	uint32_t size = d->cpu_size;

	if (d->cpu_base && size && (size & (size - 1)) == 0) {
		uint8_t shift = (uint8_t)__builtin_ctz(size);

		x86_byte(b, 0x65); /* mov eax, gs:[PERCPU_ID]: 65 8B 04 25 disp32 */
		x86_byte(b, 0x8b);
		x86_byte(b, 0x04);
		x86_byte(b, 0x25);
		x86_imm32(b, PERCPU_ID);
		if (shift)
			x86_shift_ri(b, true, X86_SH_SHL, X86_RAX, shift); /* shl rax, log2(size) */
		if (x86_is_simm32((int64_t)(uintptr_t)d->cpu_base)) {
			x86_alu_ri(b, true, X86_EXT_ADD, X86_RAX,
			           (int32_t)(intptr_t)d->cpu_base); /* add rax, base */
		} else {
			x86_movabs(b, X86_RCX,
			           (uint64_t)(uintptr_t)d->cpu_base);      /* movabs rcx, base */
			x86_alu_rr(b, true, X86_OP_ADD, X86_RAX, X86_RCX); /* add rax, rcx */
		}
		return;
	}
#endif
	if (d->cpu_fixed) {
		x86_movabs(&g->b, X86_RAX, (uint64_t)(uintptr_t)d->cpu_fixed); /* movabs rax, cpu */
		return;
	}
	dg_call(g, (const void *)d->cpu_self); /* call cpu_self */
}

/* The lean form's r15: this CPU's bookkeeping is at [r15 + *disp].  In the
 * kernel, when the array's base is a sign-extended 32-bit address, r15 is
 * only the byte offset into it and the base goes into every displacement
 * (mov r15d, gs:[PERCPU_ID]; shl r15, log2(size): two instructions);
 * otherwise r15 is the pointer (dg_cpu_self; mov r15, rax) and *disp 0. */
static void dg_cpu_r15(struct dg *g, int32_t *disp)
{
	struct jit_buf *b = &g->b;
#ifdef SPINDLE_KERNEL
	const struct dispatch_gen_desc *d = g->d;
	uint32_t size = d->cpu_size;
	int64_t base = (int64_t)(uintptr_t)d->cpu_base;

	if (d->cpu_base && size && (size & (size - 1)) == 0 &&
	    x86_is_simm32(base + (int64_t)d->nest_off)) {
		uint8_t shift = (uint8_t)__builtin_ctz(size);

		x86_byte(b, 0x65); /* mov r15d, gs:[PERCPU_ID]: 65 44 8B 3C 25 disp32 */
		x86_byte(b, 0x44);
		x86_byte(b, 0x8b);
		x86_byte(b, 0x3c);
		x86_byte(b, 0x25);
		x86_imm32(b, PERCPU_ID);
		if (shift)
			x86_shift_ri(b, true, X86_SH_SHL, X86_R15, shift); /* shl r15, log2(size) */
		*disp = (int32_t)base;
		return;
	}
#endif
	dg_cpu_self(g);              /* rax = this CPU's */
	dg_mov(b, X86_R15, X86_RAX); /* mov r15, rax */
	*disp = 0;
}

/* Preemption depth -= 1 (ZF: it reached 0).  Kernel: dec dword
 * gs:[PERCPU_PREEMPT], one instruction; hosted: the stand-in counter
 * (clobbers tmp). */
static void dg_preempt_dec_with(struct dg *g, unsigned tmp)
{
	const struct dispatch_gen_desc *d = g->d;
	struct jit_buf *b = &g->b;

	if (d->preempt) {
		x86_movabs(b, tmp, (uint64_t)(uintptr_t)d->preempt); /* movabs tmp, &depth */
		x86_rex(b, false, 0, tmp, false);                    /* dec dword [tmp]: FF /1 */
		x86_byte(b, 0xff);
		x86_modrm_mem(b, 1, tmp, 0);
		return;
	}
#ifdef SPINDLE_KERNEL
	x86_byte(b, 0x65); /* dec dword gs:[PERCPU_PREEMPT]: 65 FF 0C 25 disp32 */
	x86_byte(b, 0xff);
	x86_byte(b, 0x0c);
	x86_byte(b, 0x25);
	x86_imm32(b, PERCPU_PREEMPT);
#endif
}

static void dg_preempt_dec(struct dg *g)
{
	dg_preempt_dec_with(g, X86_RCX);
}

/* jmp target: rel32 when it reaches, else through r11 (rax holds the
 * result).  While sizing (code == NULL) always the long form. */
static void dg_jmp_to(struct dg *g, const void *target)
{
	struct jit_buf *b = &g->b;
	if (b->code) {
		int64_t rel =
		    (int64_t)(uintptr_t)target - (int64_t)(uintptr_t)(b->code + b->len + 5);
		if (x86_is_simm32(rel)) {
			x86_jmp_rel32(b, (int32_t)rel); /* jmp rel32 */
			return;
		}
	}
	x86_movabs(b, X86_R11, (uint64_t)(uintptr_t)target); /* movabs r11, target */
	x86_jmp_r(b, X86_R11);                               /* jmp r11 */
}

/* The routine's last instructions (rax = the result, rsi = this CPU's
 * bookkeeping, registers and stack already restored): the static leave
 * returns the result to the routine's caller (dispatch_gen.h). */
static void dg_leave(struct dg *g)
{
	dg_mov(&g->b, X86_RDI, X86_RAX); /* mov rdi, rax */
	dg_jmp_to(g, (const void *)g->d->leave);
}

/* Load the call's arguments: closure first when it has one, then the
 * raise's arguments; extension procedures get their fuel last (r9). */
static void dg_args(struct dg *g, const struct dispatch_gen_call *c, uint64_t fuel)
{
	uint32_t k = 0;
	if (c->has_closure)
		x86_movabs(&g->b, dg_callreg[k++], c->closure); /* movabs rdi, closure */
	/* Only the event's declared arguments: the rest are unspecified, as
	 * in a C call of the declared type. */
	for (uint32_t a = 0; k < 5 && a < g->d->nargs; a++)
		dg_mov(&g->b, dg_callreg[k++], dg_argreg[a]); /* mov rsi.., rbx.. */
	if (c->jit)
		x86_load_imm64(&g->b, X86_R9, fuel); /* mov r9, fuel */
}

static void dg_entry(struct dg *g, uint32_t i)
{
	const struct dispatch_gen_desc *d = g->d;
	const struct dispatch_gen_entry *e = &d->e[i];
	struct jit_buf *b = &g->b;
	uint32_t next = dg_start(g, i + 1);
	int32_t fr = LOC_FRAME;

	dg_bind(g, dg_start(g, i));
	if (e->h.jit && e->disabled) {
		x86_movabs(b, X86_RAX,
		           (uint64_t)(uintptr_t)e->disabled); /* movabs rax, &disabled */
		dg_cmp_mem8(b, X86_RAX, 0, 0);                /* cmp byte [rax], 0 */
		dg_jcc(g, X86_CC_NE, next);                   /* jne next */
	}
	for (uint32_t k = 0; k < e->nguards; k++) {
		const struct dispatch_gen_call *c = &e->g[k];
		if (c->test) {
			dg_test(g, c->test, next);
			continue;
		}
		dg_args(g, c, e->fuel);
		dg_call(g, c->fn);
		if (c->jit) {
			x86_alu_rr(b, true, X86_OP_TEST, X86_RDX, X86_RDX); /* test rdx, rdx */
			dg_jcc(g, X86_CC_NE, next);                         /* jnz next: aborted */
		}
		x86_alu_rr(b, true, X86_OP_TEST, X86_RAX, X86_RAX); /* test rax, rax */
		dg_jcc(g, X86_CC_E, next);                          /* jz next: guard false */
	}
	if (e->h.jit) {
		/* Push a ledger frame: fr.up = *slot; fr.n = 0; fr.overflow = 0;
		 * *slot = &fr. */
		x86_load(b, 8, X86_RCX, X86_RSP, LOC_CPU); /* mov rcx, [cpu] */
		x86_lea(b, X86_RCX, X86_RCX,
		        (int32_t)d->frame_slot_off); /* lea rcx, [rcx + slot] */
		x86_load(b, 8, X86_RAX, X86_RCX, 0); /* mov rax, [rcx] */
		x86_store(b, 8, X86_RSP, fr + (int32_t)d->frame_up_off,
		          X86_RAX); /* mov [fr.up], rax */
		x86_store_imm(b, 4, X86_RSP, fr + (int32_t)d->frame_n_off, 0); /* mov [fr.n], 0 */
		x86_store_imm(b, 1, X86_RSP, fr + (int32_t)d->frame_overflow_off, 0);
		x86_lea(b, X86_RAX, X86_RSP, fr);     /* lea rax, [fr] */
		x86_store(b, 8, X86_RCX, 0, X86_RAX); /* mov [rcx], rax */
		dg_args(g, &e->h, e->fuel);
		dg_call(g, e->h.fn);
		/* Pop it: *slot = fr.up (rax and rdx hold the result). */
		x86_load(b, 8, X86_RCX, X86_RSP, LOC_CPU); /* mov rcx, [cpu] */
		x86_lea(b, X86_RCX, X86_RCX,
		        (int32_t)d->frame_slot_off); /* lea rcx, [rcx + slot] */
		x86_load(b, 8, X86_RSI, X86_RSP,
		         fr + (int32_t)d->frame_up_off);            /* mov rsi, [fr.up] */
		x86_store(b, 8, X86_RCX, 0, X86_RSI);               /* mov [rcx], rsi */
		x86_alu_rr(b, true, X86_OP_TEST, X86_RDX, X86_RDX); /* test rdx, rdx */
		dg_jcc(g, X86_CC_NE, dg_slow(g, i));                /* jnz slow_i */
		dg_mem32_imm8(b, X86_EXT_CMP, X86_RSP, fr + (int32_t)d->frame_n_off, 0);
		dg_jcc(g, X86_CC_NE, dg_slow(g, i)); /* cmp dword [fr.n], 0; jne slow_i */
	} else {
		dg_args(g, &e->h, 0);
		dg_call(g, e->h.fn);
	}
	dg_bind(g, dg_resume(g, i));
	dg_mov(b, X86_R15, X86_RAX); /* mov r15, rax: the last result */
	if (d->result_fn) {
		x86_movabs(b, X86_RDI, (uint64_t)(uintptr_t)d->result_arg); /* movabs rdi, arg */
		x86_load(b, 8, X86_RSI, X86_RSP, LOC_ACC);                  /* mov rsi, [acc] */
		dg_mov(b, X86_RDX, X86_RAX);                                /* mov rdx, rax */
		x86_load(b, 4, X86_RCX, X86_RSP, LOC_FIRED);                /* mov ecx, [fired] */
		dg_call(g, (const void *)d->result_fn);
		x86_store(b, 8, X86_RSP, LOC_ACC, X86_RAX); /* mov [acc], rax */
	}
	if (g->fired_reg)
		x86_mov_ri32(b, dg_argreg[g->na], 1); /* mov fired, 1 */
	else
		dg_mem32_imm8(b, X86_EXT_ADD, X86_RSP, LOC_FIRED, 1); /* add dword [fired], 1 */
	if (d->exclusive)
		dg_jmp(g, dg_start(g, d->n)); /* jmp tail: the first that fires wins */
}

/* Out of line: an extension handler ended with a status or with references
 * in its ledger.  ext_slow returns non-zero when the run was aborted. */
static void dg_slow_stub(struct dg *g, uint32_t i)
{
	const struct dispatch_gen_desc *d = g->d;
	struct jit_buf *b = &g->b;

	dg_bind(g, dg_slow(g, i));
	x86_store(b, 8, X86_RSP, LOC_TMP, X86_RAX);          /* mov [tmp], rax */
	x86_movabs(b, X86_RDI, (uint64_t)(uintptr_t)d->set); /* movabs rdi, set */
	x86_mov_ri32(b, X86_RSI, i);                         /* mov esi, i */
	/* rdx already holds the status. */
	x86_lea(b, X86_RCX, X86_RSP, LOC_FRAME); /* lea rcx, [frame] */
	dg_call(g, (const void *)d->ext_slow);
	x86_alu_rr(b, false, X86_OP_TEST, X86_RAX, X86_RAX); /* test eax, eax */
	dg_jcc(g, X86_CC_NE, dg_start(g, i + 1));            /* jnz next: aborted */
	x86_load(b, 8, X86_RAX, X86_RSP, LOC_TMP);           /* mov rax, [tmp] */
	dg_jmp(g, dg_resume(g, i));                          /* jmp resume_i */
}

/* The lean form, for an exclusive set of native handlers with native
 * guards, no result handler and a native default (a system-call event
 * whose personalities' guards partition the calls):
 *
 *   prologue   push a1..a(nargs), r15 [sub rsp, 8]; mov a <- rdi..;
 *              r15 = this CPU's (dg_cpu_r15); add dword [r15 + nest], 1
 *   entry i    per guard: args; call g; test rax; jz next
 *              args; call h; jmp done
 *   tail       args; call default
 *   done       lea rsi, [r15 + base]; [add rsp, 8]; pop r15, a(nargs)..a1;
 *              jmp leave (static)
 *
 * No locals, no fired counter, no result fold: exactly one procedure (a
 * handler or the default) produces the result.  The entries are the chain
 * above or, when their guards allow it, the keyed search (dg_key_plan). */
static bool dg_lean(const struct dispatch_gen_desc *d)
{
	if (!d->exclusive || d->result_fn || !d->native_default || d->def.has_closure)
		return false;
	for (uint32_t i = 0; i < d->n; i++) {
		if (d->e[i].h.jit)
			return false;
		for (uint32_t k = 0; k < d->e[i].nguards; k++)
			if (d->e[i].g[k].jit)
				return false;
	}
	return true;
}

/* Entry i of the lean form, from its guards to its exit: a false guard
 * jumps to `fail`; term `st` of guard `sg` is left out (the keyed search
 * has tested it; sg == DG_NO_SKIP: none). */
static void dg_lean_body(struct dg *g, uint32_t i, uint32_t fail, uint32_t sg, uint32_t st)
{
	const struct dispatch_gen_entry *e = &g->d->e[i];
	struct jit_buf *b = &g->b;

	for (uint32_t k = 0; k < e->nguards; k++) {
		if (e->g[k].test) {
			dg_test_in(g, e->g[k].test, fail, dg_argreg, X86_RCX,
			           k == sg ? st : DG_NO_SKIP);
			continue;
		}
		dg_args(g, &e->g[k], 0);
		dg_call(g, e->g[k].fn);
		x86_alu_rr(b, true, X86_OP_TEST, X86_RAX, X86_RAX); /* test rax, rax */
		dg_jcc(g, X86_CC_E, fail);                          /* jz fail */
	}
	dg_args(g, &e->h, 0);
	dg_call(g, e->h.fn);
	dg_jmp(g, dg_done(g)); /* jmp done */
}

/* Leave the bare form (rax is the result; the CPU slot on top). */
static void dg_bare_leave(struct dg *g)
{
	struct jit_buf *b = &g->b;

	x86_pop(b, X86_RSI); /* pop rsi: this CPU's (less the base) */
	if (g->cpu)
		x86_lea(b, X86_RSI, X86_RSI, g->cpu); /* lea rsi, [rsi + base] */
	dg_leave(g);
}

/* Entry i of the bare form: its tests, the call, the way out. */
static void dg_bare_body(struct dg *g, uint32_t i, uint32_t fail, uint32_t sg, uint32_t st)
{
	const struct dispatch_gen_entry *e = &g->d->e[i];

	for (uint32_t k = 0; k < e->nguards; k++)
		dg_test_in(g, e->g[k].test, fail, dg_callreg, X86_R11, k == sg ? st : DG_NO_SKIP);
	dg_call(g, e->h.fn); /* call h: the arguments are where they came */
	dg_bare_leave(g);
}

static void dg_body(struct dg *g, uint32_t i, uint32_t fail, uint32_t sg, uint32_t st)
{
	if (g->argreg == dg_callreg)
		dg_bare_body(g, i, fail, sg, st);
	else
		dg_lean_body(g, i, fail, sg, st);
}

/*
 * The keyed search, for the lean and bare forms.  Both are exclusive: the
 * first entry whose guards all hold runs, and nothing else.  When every
 * entry's guards include a term on one key - the same argument, or the
 * same field of the object it refers to (struct dispatch_test's arg and
 * off) - and those terms' intervals [lo, hi] are pairwise disjoint, at most
 * one entry can accept any raise: the one whose interval holds the key's
 * value.  The order of testing then cannot change the result, so the
 * routine finds that only candidate with a few compares over the sorted
 * intervals, tests the candidate's other terms and guards (in their order)
 * and calls its handler, or else the default, exactly as when no guard of
 * the chain holds.
 *
 * The search is a tree of compares against the intervals' bounds, each
 * node one compare and one or two jumps: an ordered split (cmp key, lo[m];
 * jae - or cmp key, hi[m]; ja), or, for an entry of a single value, an
 * equality node (cmp key, v; je it; jb below).  A candidate then compares
 * whichever of its own bounds the path has not established (none when its
 * interval is adjacent to the bound that split it off, starts at 0 or ends
 * at UINT64_MAX).  The tree is the cheapest for all entries counted alike,
 * found at build time by a small dynamic program over the sorted positions
 * (dg_key_cost; ties favour earlier bindings; up to DG_KEY_MAX entries),
 * except at the root: there the first entry in binding order is isolated
 * with its own bounds (cmp key, hi; ja rest - and cmp key, lo; jb below
 * when it has entries below; or cmp key, v; je it), so that it never costs
 * more than in the chain.  For the system-call event (Linux's numbers
 * 0..0x3ff bound first, Spindle's three, the xas extension's five single
 * numbers) a Linux call pays what it did and an xas call no longer pays
 * the tests of every entry bound before it.
 *
 * The key is compared where it is (cmp [arg + off], imm: one instruction,
 * as a register compare is), not loaded first: a load would add one.  Like
 * the walk, which reads the field once per guard, the routine reads it more
 * than once; both rely on the raise's objects not changing under it.
 *
 * When an entry's key term is preceded by a called guard (lean form), the
 * walk would have called it for entries the search passes over, so the
 * search is not used: the term must come among the leading inline tests.
 */

/* Entry e's interval on the key (arg, off): the intersection of its terms
 * on it among the inline tests before its first called guard, and where
 * the first of them is (the candidate need not test that one again; it
 * tests any other, which then holds).  false: no such term, or terms no
 * value satisfies. */
static bool dg_key_term(const struct dispatch_gen_entry *e, uint32_t arg, uint32_t off,
                        struct dg_key *k)
{
	bool found = false;

	for (uint32_t gi = 0; gi < e->nguards && e->g[gi].test; gi++) {
		const struct dispatch_test *t = e->g[gi].test;

		for (uint32_t ti = 0; ti < t->n; ti++) {
			if (t->t[ti].arg != arg || t->t[ti].off != off)
				continue;
			if (!found)
				*k = (struct dg_key){t->t[ti].lo, t->t[ti].hi, gi, ti};
			if (t->t[ti].lo > k->lo)
				k->lo = t->t[ti].lo;
			if (t->t[ti].hi < k->hi)
				k->hi = t->t[ti].hi;
			found = true;
		}
	}
	return found && k->lo <= k->hi;
}

/* Can the set be searched on the key (arg, off)?  Fills key[] and order[]. */
static bool dg_key_try(struct dg *g, uint32_t arg, uint32_t off)
{
	const struct dispatch_gen_desc *d = g->d;

	for (uint32_t i = 0; i < d->n; i++) {
		uint32_t j = i;

		if (!dg_key_term(&d->e[i], arg, off, &g->key[i]))
			return false;
		/* Insertion sort by lo: n is a handful. */
		for (; j > 0 && g->key[g->order[j - 1]].lo > g->key[i].lo; j--)
			g->order[j] = g->order[j - 1];
		g->order[j] = i;
	}
	for (uint32_t j = 1; j < d->n; j++)
		if (g->key[g->order[j - 1]].hi >= g->key[g->order[j]].lo)
			return false; /* overlapping: two entries could accept one raise */
	return true;
}

/* cmp key, bound: the flags of the unsigned comparison.  Clobbers rax
 * (a bound that is no sign-extended imm32). */
static void dg_key_cmp(struct dg *g, uint64_t bound)
{
	struct jit_buf *b = &g->b;
	unsigned r = g->argreg[g->key_arg];
	int32_t off = (int32_t)g->key_off;
	bool mem = g->key_off != DISPATCH_TEST_VALUE;

	if (x86_is_simm32((int64_t)bound)) {
		if (mem)
			dg_cmp_mem64_imm32(b, r, off, (int32_t)bound); /* cmp [r+off], bound */
		else
			x86_alu_ri(b, true, X86_EXT_CMP, r, (int32_t)bound); /* cmp r, bound */
		return;
	}
	x86_movabs(b, X86_RAX, bound); /* movabs rax, bound */
	if (mem)
		x86_alu_mr(b, true, X86_OP_CMP, r, off, X86_RAX); /* cmp [r+off], rax */
	else
		x86_alu_rr(b, true, X86_OP_CMP, r, X86_RAX); /* cmp r, rax */
}

/* The search plan (dg_key_cost): the cheapest tree for sorted positions
 * a..z given what the path has established: L, that key >= lo[a]; H, that
 * key <= hi[z].  Each node is one of
 *   DG_LO  m   cmp key, lo[m]; jae node[m]       a..m-1 | m..z
 *   DG_HI  m   cmp key, hi[m]; ja node[m + 1]    a..m | m+1..z
 *   DG_EQ  m   cmp key, v[m]; je entry m; [jb left[m]]   (lo[m] == hi[m])
 * and a single position is the candidate: it compares the bounds not yet
 * established (one jne for a single value), then runs the entry. */
enum { DG_LEAF, DG_LO, DG_HI, DG_EQ };
struct dg_plan {
	uint64_t cost; /* weighted instructions of the subtree */
	uint8_t kind, m;
};
#define DG_KEY_MAX 16 /* more entries: the chain */

static bool dg_adj(const struct dg *g, uint32_t i, uint32_t j)
{
	return g->key[g->order[i]].hi + 1 == g->key[g->order[j]].lo;
}

static bool dg_point(const struct dg *g, uint32_t j)
{
	return g->key[g->order[j]].lo == g->key[g->order[j]].hi;
}

/* Instructions of position j's own bounds test as a candidate. */
static uint64_t dg_leaf_len(const struct dg *g, uint32_t j, bool L, bool H)
{
	if (!L && !H && dg_point(g, j))
		return 2; /* cmp; jne */
	return (L ? 0 : 2) + (H ? 0 : 2);
}

/* Every entry counts alike; within a tie the earlier binding is the
 * cheaper (as in the chain): weight 65536 - i, and no tree here is long
 * enough for the tie-breaker to outweigh one instruction. */
static uint64_t dg_weight(const struct dg *g, uint32_t a, uint32_t z)
{
	uint64_t w = 0;

	for (uint32_t j = a; j <= z; j++)
		w += 65536 - g->order[j];
	return w;
}

static struct dg_plan *dg_plan_at(struct dg *g, uint32_t a, uint32_t z, bool L, bool H)
{
	return &g->plan[((a * DG_KEY_MAX + z) * 2 + L) * 2 + H];
}

/* Fill the plan for every a..z, shortest first. */
static void dg_key_cost(struct dg *g)
{
	uint32_t n = g->d->n;

	for (uint32_t len = 1; len <= n; len++)
		for (uint32_t a = 0; a + len <= n; a++)
			for (uint32_t f = 0; f < 4; f++) {
				uint32_t z = a + len - 1;
				bool L = f & 2, H = f & 1;
				uint64_t w = dg_weight(g, a, z), c;
				struct dg_plan *p = dg_plan_at(g, a, z, L, H);

				*p = (struct dg_plan){dg_leaf_len(g, a, L, H) * w, DG_LEAF, 0};
				if (len == 1)
					continue;
				p->cost = UINT64_MAX;
				for (uint32_t m = a; m <= z; m++) {
					if (m > a) {
						c = 2 * w +
						    dg_plan_at(g, a, m - 1, L, dg_adj(g, m - 1, m))
						        ->cost +
						    dg_plan_at(g, m, z, true, H)->cost;
						if (c < p->cost)
							*p = (struct dg_plan){c, DG_LO, (uint8_t)m};
					}
					if (m < z) {
						c = 2 * w + dg_plan_at(g, a, m, L, true)->cost +
						    dg_plan_at(g, m + 1, z, dg_adj(g, m, m + 1), H)
						        ->cost;
						if (c < p->cost)
							*p = (struct dg_plan){c, DG_HI, (uint8_t)m};
					}
					if (!dg_point(g, m))
						continue;
					c = 2 * w;
					if (m == a)
						c += dg_plan_at(g, a + 1, z,
						                L && dg_adj(g, a, a + 1), H)
						         ->cost;
					else if (m == z)
						c += dg_plan_at(g, a, z - 1, L,
						                H && dg_adj(g, z - 1, z))
						         ->cost;
					else
						c += w - (65536 - g->order[m]) /* jb */ +
						     dg_plan_at(g, a, m - 1, L, dg_adj(g, m - 1, m))
						         ->cost +
						     dg_plan_at(g, m + 1, z, dg_adj(g, m, m + 1), H)
						         ->cost;
					if (c < p->cost)
						*p = (struct dg_plan){c, DG_EQ, (uint8_t)m};
				}
			}
}

/* Choose the key: the first of entry 0's leading terms that every entry
 * has, with disjoint intervals.  Only for the lean and bare forms. */
static void dg_key_plan(struct dg *g)
{
	const struct dispatch_gen_desc *d = g->d;
	const struct dispatch_gen_entry *e0 = &d->e[0];

	g->keyed = false;
	if (!d->n || d->n > DG_KEY_MAX || !g->key || !g->order)
		return;
	for (uint32_t gi = 0; gi < e0->nguards && e0->g[gi].test; gi++) {
		const struct dispatch_test *t = e0->g[gi].test;

		for (uint32_t ti = 0; ti < t->n; ti++)
			if (dg_key_try(g, t->t[ti].arg, t->t[ti].off)) {
				g->key_arg = t->t[ti].arg;
				g->key_off = t->t[ti].off;
				for (g->pos0 = 0; g->order[g->pos0] != 0; g->pos0++)
					;
				g->plan = rt_alloc(sizeof(*g->plan) * DG_KEY_MAX * DG_KEY_MAX * 4);
				if (!g->plan)
					return; /* the chain */
				dg_key_cost(g);
				g->keyed = true;
				return;
			}
	}
}

/* The candidate at position j: the bounds not yet established, then the
 * entry (its other terms and guards). */
static void dg_key_leaf(struct dg *g, uint32_t j, bool L, bool H)
{
	uint32_t i = g->order[j], fail = dg_start(g, g->d->n);
	const struct dg_key *k = &g->key[i];

	if (!L && !H && k->lo == k->hi) {
		dg_key_cmp(g, k->lo);       /* cmp key, v */
		dg_jcc(g, X86_CC_NE, fail); /* jne default */
	} else {
		if (!L) {
			dg_key_cmp(g, k->lo);      /* cmp key, lo */
			dg_jcc(g, X86_CC_B, fail); /* jb default */
		}
		if (!H) {
			dg_key_cmp(g, k->hi);      /* cmp key, hi */
			dg_jcc(g, X86_CC_A, fail); /* ja default */
		}
	}
	dg_body(g, i, fail, k->guard, k->term);
}

/* The search over positions a..z.  With `first`, the node that isolates
 * entry 0 (at position p0) whatever the plan says: its own bounds, as the
 * chain would test them. */
static void dg_key_tree(struct dg *g, uint32_t a, uint32_t z, bool L, bool H, bool first)
{
	const struct dg_plan *p = dg_plan_at(g, a, z, L, H);
	uint32_t kind = p->kind, m = p->m, p0 = g->pos0;

	if (first && a < z) {
		if (dg_point(g, p0))
			kind = DG_EQ, m = p0;
		else if (p0 < z)
			kind = DG_HI, m = p0;
		else
			kind = DG_LO, m = p0;
	}
	switch (kind) {
	case DG_LEAF:
		dg_key_leaf(g, a, L, H);
		return;
	case DG_LO:
		dg_key_cmp(g, g->key[g->order[m]].lo); /* cmp key, lo[m] */
		dg_jcc(g, X86_CC_AE, dg_node(g, m));   /* jae node[m] */
		dg_key_tree(g, a, m - 1, L, dg_adj(g, m - 1, m), false);
		dg_bind(g, dg_node(g, m));
		dg_key_tree(g, m, z, true, H, first);
		return;
	case DG_HI:
		dg_key_cmp(g, g->key[g->order[m]].hi);  /* cmp key, hi[m] */
		dg_jcc(g, X86_CC_A, dg_node(g, m + 1)); /* ja node[m + 1] */
		dg_key_tree(g, a, m, L, true, first);
		dg_bind(g, dg_node(g, m + 1));
		dg_key_tree(g, m + 1, z, dg_adj(g, m, m + 1), H, false);
		return;
	default:                                               /* DG_EQ */
		dg_key_cmp(g, g->key[g->order[m]].lo);         /* cmp key, v[m] */
		dg_jcc(g, X86_CC_E, dg_start(g, g->order[m])); /* je entry */
		if (m == a) {
			dg_key_tree(g, a + 1, z, L && dg_adj(g, a, a + 1), H, false);
		} else if (m == z) {
			dg_key_tree(g, a, z - 1, L, H && dg_adj(g, z - 1, z), false);
		} else {
			dg_jcc(g, X86_CC_B, dg_left(g, m)); /* jb left */
			dg_key_tree(g, m + 1, z, dg_adj(g, m, m + 1), H, false);
			dg_bind(g, dg_left(g, m));
			dg_key_tree(g, a, m - 1, L, dg_adj(g, m - 1, m), false);
		}
		dg_bind(g, dg_start(g, g->order[m]));
		dg_body(g, g->order[m], dg_start(g, g->d->n), g->key[g->order[m]].guard,
		        g->key[g->order[m]].term);
		return;
	}
}

/* The entries of the lean or bare form: the search, or the chain. */
static void dg_entries(struct dg *g)
{
	const struct dispatch_gen_desc *d = g->d;

	if (g->keyed) {
		dg_key_tree(g, 0, d->n - 1, g->key[g->order[0]].lo == 0,
		            g->key[g->order[d->n - 1]].hi == UINT64_MAX, true);
		return;
	}
	for (uint32_t i = 0; i < d->n; i++) {
		dg_bind(g, dg_start(g, i));
		dg_body(g, i, dg_start(g, i + 1), DG_NO_SKIP, 0);
	}
}

static void dg_emit_lean(struct dg *g)
{
	const struct dispatch_gen_desc *d = g->d;
	struct jit_buf *b = &g->b;
	uint32_t na = d->nargs < 5 ? d->nargs : 5;
	/* Return address + (na + 1) pushes: aligned when na + 1 is odd. */
	bool pad = (na + 1) % 2 == 0;

	dg_reset(g);
	g->argreg = dg_argreg;

	for (uint32_t k = 0; k < na; k++)
		x86_push(b, dg_argreg[k]); /* push rbx .. */
	x86_push(b, X86_R15);              /* push r15: the CPU's bookkeeping */
	if (pad)
		x86_alu_ri(b, true, X86_EXT_SUB, X86_RSP, 8); /* sub rsp, 8 */
	for (uint32_t k = 0; k < na; k++)
		dg_mov(b, dg_argreg[k], dg_callreg[k]); /* mov rbx, rdi .. */
	dg_cpu_r15(g, &g->cpu);                         /* r15 = this CPU's, at [r15 + cpu] */
	dg_mem32_imm8(b, X86_EXT_ADD, X86_R15, g->cpu + (int32_t)d->nest_off,
	              1); /* add [r15+nest], 1 */
	if (!d->ephemeral)
		dg_preempt_dec(g); /* native handlers may block: preemptible from here */

	dg_entries(g);
	dg_bind(g, dg_start(g, d->n));
	dg_args(g, &d->def, 0);
	dg_call(g, d->def.fn); /* call default */

	dg_bind(g, dg_done(g));
	x86_lea(b, X86_RSI, X86_R15, g->cpu); /* lea rsi, [r15 + cpu]: this CPU's */
	if (pad)
		x86_alu_ri(b, true, X86_EXT_ADD, X86_RSP, 8); /* add rsp, 8 */
	x86_pop(b, X86_R15);                                  /* pop r15 */
	for (uint32_t k = na; k-- > 0;)
		x86_pop(b, dg_argreg[k]); /* pop .. rbx */
	dg_leave(g);
}

/* The bare form: a lean set (dg_lean) whose guards are all inline tests
 * and whose handlers and default take no closure - the system-call event,
 * where each personality's guard tests the caller's process and the call's
 * number - and whose CPU bookkeeping is found without a call:
 *
 *   prologue   rax = this CPU's (dg_cpu_inline); push rax;
 *              add dword [rax + nest], 1; [native only: dec preempt depth]
 *   entry i    its tests on rdi.. (scratch rax, r11); call h; leave
 *   tail       call default; leave
 *   leave      pop rsi; [lea rsi, [rsi + base]]; jmp leave (static)
 *
 * No callee-saved register and no copy of the arguments: nothing is called
 * before the one procedure that runs, so the raise's arguments are still in
 * rdi.. when it is called.  The CPU's bookkeeping is kept in the one stack
 * slot that also aligns the stack for the call.  Each exit has its own copy
 * of the leave sequence (no jump to a shared one).  The entries are the
 * chain or the keyed search, as in the lean form. */
static bool dg_cpu_inline_ok(const struct dispatch_gen_desc *d)
{
#ifdef SPINDLE_KERNEL
	int64_t base = (int64_t)(uintptr_t)d->cpu_base;

	if (d->cpu_base && d->cpu_size && (d->cpu_size & (d->cpu_size - 1)) == 0 &&
	    x86_is_simm32(base + (int64_t)d->nest_off))
		return true;
#endif
	return d->cpu_fixed != NULL;
}

/* reg = this CPU's bookkeeping, at [reg + *disp] (dg_cpu_inline_ok). */
static void dg_cpu_inline(struct dg *g, unsigned reg, int32_t *disp)
{
	const struct dispatch_gen_desc *d = g->d;
	struct jit_buf *b = &g->b;
#ifdef SPINDLE_KERNEL
	uint32_t size = d->cpu_size;

	if (!d->cpu_fixed) {
		x86_byte(b, 0x65); /* mov reg32, gs:[PERCPU_ID]: 65 [44] 8B /r(SIB) 25 disp32 */
		if (reg >= 8)
			x86_byte(b, 0x44);
		x86_byte(b, 0x8b);
		x86_byte(b, (uint8_t)(0x04 | ((reg & 7) << 3)));
		x86_byte(b, 0x25);
		x86_imm32(b, PERCPU_ID);
		if (size > 1)
			x86_shift_ri(b, true, X86_SH_SHL, reg,
			             (uint8_t)__builtin_ctz(size)); /* shl reg, log2(size) */
		*disp = (int32_t)(intptr_t)d->cpu_base;
		return;
	}
#endif
	x86_movabs(b, reg, (uint64_t)(uintptr_t)d->cpu_fixed); /* movabs reg, cpu */
	*disp = 0;
}

static bool dg_bare(const struct dispatch_gen_desc *d)
{
	if (!dg_lean(d) || !dg_cpu_inline_ok(d))
		return false;
	for (uint32_t i = 0; i < d->n; i++) {
		if (d->e[i].h.has_closure)
			return false;
		for (uint32_t k = 0; k < d->e[i].nguards; k++)
			if (!d->e[i].g[k].test)
				return false;
	}
	return true;
}

static void dg_emit_bare(struct dg *g)
{
	const struct dispatch_gen_desc *d = g->d;
	struct jit_buf *b = &g->b;

	dg_reset(g);
	g->argreg = dg_callreg;

	dg_cpu_inline(g, X86_RAX, &g->cpu); /* rax = this CPU's, at [rax + cpu] */
	x86_push(b, X86_RAX);               /* push rax: kept for the way out */
	dg_mem32_imm8(b, X86_EXT_ADD, X86_RAX, g->cpu + (int32_t)d->nest_off,
	              1); /* add [rax+nest], 1 */
	if (!d->ephemeral)
		dg_preempt_dec_with(g, X86_R11); /* preemptible from here (rdi.. kept) */

	dg_entries(g);
	dg_bind(g, dg_start(g, d->n));
	dg_call(g, d->def.fn); /* call default */
	dg_bare_leave(g);
}

static void dg_emit(struct dg *g)
{
	const struct dispatch_gen_desc *d = g->d;
	struct jit_buf *b = &g->b;
	uint32_t fs;

	dg_reset(g);

	/* Register plan: only the callee-saved registers the routine uses. */
	g->na = d->nargs < 5 ? d->nargs : 5;
	g->fired_reg = !d->result_fn && g->na < 5;
	g->nsaved = 0;
	for (uint32_t k = 0; k < g->na; k++)
		g->saved[g->nsaved++] = dg_argreg[k];
	if (g->fired_reg)
		g->saved[g->nsaved++] = dg_argreg[g->na];
	g->saved[g->nsaved++] = X86_R15;
	/* Locals: fixed slots, then the ledger frame; rsp 16-byte aligned at
	 * calls (the return address and the pushes leave it 8 * (nsaved + 1)
	 * off). */
	fs = (d->frame_size + 7) & ~7u;
	g->locals = LOC_FRAME + fs;
	if ((g->locals + 8 * (g->nsaved + 1)) % 16)
		g->locals += 8;

	/* Prologue. */
	for (uint32_t k = 0; k < g->nsaved; k++)
		x86_push(b, g->saved[k]);                              /* push rbx .. r15 */
	x86_alu_ri(b, true, X86_EXT_SUB, X86_RSP, (int32_t)g->locals); /* sub rsp, locals */
	for (uint32_t k = 0; k < g->na; k++)
		dg_mov(b, dg_argreg[k], dg_callreg[k]); /* mov rbx, rdi .. */
	/* The raising CPU's bookkeeping, looked up once: a routine runs on
	 * whichever CPU raises (the raise does not migrate). */
	dg_cpu_self(g);                             /* rax = this CPU's */
	x86_store(b, 8, X86_RSP, LOC_CPU, X86_RAX); /* mov [cpu], rax */
	dg_mem32_imm8(b, X86_EXT_ADD, X86_RAX, (int32_t)d->nest_off,
	              1); /* add dword [rax+nest], 1 */
	if (!d->ephemeral)
		dg_preempt_dec(g); /* native handlers may block: preemptible from here */
	if (g->fired_reg) {
		unsigned f = dg_argreg[g->na];
		x86_alu_rr(b, false, X86_OP_XOR, f, f); /* xor fired, fired */
	} else {
		x86_store_imm(b, 4, X86_RSP, LOC_FIRED, 0); /* mov dword [fired], 0 */
	}
	if (d->result_fn) {
		x86_load_imm64(b, X86_RAX, d->default_result); /* mov rax, default_result */
		x86_store(b, 8, X86_RSP, LOC_ACC, X86_RAX);    /* mov [acc], rax */
	}
	x86_alu_rr(b, false, X86_OP_XOR, X86_R15, X86_R15); /* xor r15d, r15d */

	for (uint32_t i = 0; i < d->n; i++)
		dg_entry(g, i);

	/* Tail: pick the result. */
	dg_bind(g, dg_start(g, d->n));
	if (g->fired_reg) {
		unsigned f = dg_argreg[g->na];
		x86_alu_rr(b, false, X86_OP_TEST, f, f); /* test fired, fired */
	} else {
		dg_mem32_imm8(b, X86_EXT_CMP, X86_RSP, LOC_FIRED, 0); /* cmp dword [fired], 0 */
	}
	dg_jcc(g, X86_CC_E, dg_unhandled(g)); /* je unhandled */
	dg_mov(b, X86_RAX, X86_R15);          /* mov rax, r15 */
	if (d->result_fn) {
		dg_mem32_imm8(b, X86_EXT_CMP, X86_RSP, LOC_FIRED, 1); /* cmp dword [fired], 1 */
		dg_jcc(g, X86_CC_E, dg_done(g));                      /* je done: one result */
		x86_load(b, 8, X86_RAX, X86_RSP, LOC_ACC);            /* mov rax, [acc] */
	}

	/* Leave (rax is the result). */
	dg_bind(g, dg_done(g));
	x86_load(b, 8, X86_RSI, X86_RSP, LOC_CPU);                     /* mov rsi, [cpu] */
	x86_alu_ri(b, true, X86_EXT_ADD, X86_RSP, (int32_t)g->locals); /* add rsp, locals */
	for (uint32_t k = g->nsaved; k-- > 0;)
		x86_pop(b, g->saved[k]); /* pop r15 .. rbx */
	dg_leave(g);

	/* Nothing fired. */
	dg_bind(g, dg_unhandled(g));
	if (d->native_default) {
		dg_args(g, &d->def, 0);
		dg_call(g, d->def.fn);
	} else {
		/* The declared arguments; the others are zero. */
		x86_alu_rr(b, false, X86_OP_XOR, X86_RAX, X86_RAX); /* xor eax, eax */
		for (uint32_t k = 0; k < 5; k++)
			x86_store(b, 8, X86_RSP, LOC_ARGS + 8 * (int32_t)k,
			          k < g->na ? dg_argreg[k] : X86_RAX); /* mov [args+k], a / 0 */
		x86_movabs(b, X86_RDI, (uint64_t)(uintptr_t)d->set);   /* movabs rdi, set */
		x86_lea(b, X86_RSI, X86_RSP, LOC_ARGS);                /* lea rsi, [args] */
		dg_call(g, (const void *)d->unhandled);
	}
	dg_jmp(g, dg_done(g));

	for (uint32_t i = 0; i < d->n; i++)
		if (d->e[i].h.jit)
			dg_slow_stub(g, i);
}

static int dg_patch(struct dg *g)
{
	if (g->overflow)
		return -EINVAL;
	for (uint32_t k = 0; k < g->nfix; k++) {
		uint32_t at = g->fix[k].at, to = g->label[g->fix[k].label];
		int32_t rel;
		if (to == UINT32_MAX)
			return -EINVAL;
		rel = (int32_t)to - (int32_t)(at + 4);
		g->b.code[at] = (uint8_t)rel;
		g->b.code[at + 1] = (uint8_t)(rel >> 8);
		g->b.code[at + 2] = (uint8_t)(rel >> 16);
		g->b.code[at + 3] = (uint8_t)(rel >> 24);
	}
	return 0;
}

int dispatch_gen_build(const struct dispatch_gen_desc *d, struct dispatch_gen_code *out)
{
	struct dg *g;
	void (*emit)(struct dg * g);
	size_t size;
	uint8_t *mem;
	int err;

	if (!d || !out || (d->n && !d->e) || !d->cpu_self || !d->leave || !d->ext_slow ||
	    !d->unhandled || (d->native_default && !d->def.fn))
		return -EINVAL;
	g = rt_alloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->d = d;
	g->nlabels = 5 * d->n + 3;
	g->label = rt_alloc(sizeof(*g->label) * g->nlabels);
	if (!g->label) {
		err = -ENOMEM;
		goto out_free;
	}
	emit = dg_bare(d) ? dg_emit_bare : dg_lean(d) ? dg_emit_lean : dg_emit;
	if (emit != dg_emit && d->n) {
		/* Without the memory the plan needs, the chain serves. */
		g->key = rt_alloc(sizeof(*g->key) * d->n);
		g->order = rt_alloc(sizeof(*g->order) * d->n);
		dg_key_plan(g);
	}
	/* Pass 1: size with every call in its long form. */
	g->b = (struct jit_buf){.code = NULL};
	emit(g);
	if (g->overflow) {
		err = -EINVAL;
		goto out_free;
	}
	size = g->b.len;
	mem = rt_code_alloc(size);
	if (!mem) {
		err = -ENOMEM;
		goto out_free;
	}
	/* Pass 2: emit at the final address (never longer than pass 1). */
	g->b = (struct jit_buf){.code = mem, .cap = (uint32_t)size};
	emit(g);
	if (g->b.len > size || (err = dg_patch(g))) {
		rt_code_free(mem, size);
		err = -EINVAL;
		goto out_free;
	}
	/* Pad with int3 so nothing after ret decodes as code by accident. */
	for (uint32_t k = g->b.len; k < size; k++)
		mem[k] = 0xcc;
	if (rt_code_seal(mem, size)) {
		rt_code_free(mem, size);
		err = -ENOMEM;
		goto out_free;
	}
	out->mem = mem;
	out->size = size;
	out->fn = (dispatch_fn)(uintptr_t)mem;
	dispatch_gen_keyed_built += g->keyed;
	err = 0;
out_free:
	rt_free(g->plan);
	rt_free(g->order);
	rt_free(g->key);
	rt_free(g->label);
	rt_free(g);
	return err;
}

void dispatch_gen_free(struct dispatch_gen_code *c)
{
	if (c && c->mem) {
		rt_code_free(c->mem, c->size);
		c->mem = NULL;
		c->fn = NULL;
	}
}

/*
 * Cross-domain adapter (three instructions):
 *     mov r9, fuel          the callee's budget, its sixth argument
 *     movabs rax, entry
 *     jmp rax               tail call: the callee returns {r0, status} in
 *                           rax:rdx straight to the calling extension,
 *                           whose JIT checks rdx (RT_SIG_MAYABORT)
 */
int dispatch_gen_adapter(rt_jit_fn entry, uint64_t fuel, struct dispatch_gen_code *out)
{
	struct jit_buf b = {.code = NULL};
	uint8_t *mem = NULL;

	if (!entry || !out || fuel == 0)
		return -EINVAL;
	for (int pass = 0; pass < 2; pass++) {
		x86_load_imm64(&b, X86_R9, fuel);                    /* mov r9, fuel */
		x86_movabs(&b, X86_RAX, (uint64_t)(uintptr_t)entry); /* movabs rax, entry */
		x86_rex(&b, false, 0, X86_RAX, false);               /* jmp rax: FF /4 */
		x86_byte(&b, 0xff);
		x86_modrm_rr(&b, 4, X86_RAX);
		if (pass == 0) {
			mem = rt_code_alloc(b.len);
			if (!mem)
				return -ENOMEM;
			b = (struct jit_buf){.code = mem, .cap = b.len};
		}
	}
	if (rt_code_seal(mem, b.cap)) {
		rt_code_free(mem, b.cap);
		return -ENOMEM;
	}
	out->mem = mem;
	out->size = b.cap;
	out->fn = (dispatch_fn)(uintptr_t)mem;
	return 0;
}
