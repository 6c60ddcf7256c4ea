/*
 * verify_call.c - calls and returns: local calls (a new frame), import
 * calls checked against the embedder's typed signature (struct rt_sig), and
 * exits.
 *
 * An import call is checked argument by argument, then its effects are
 * applied: references given to a releasing argument die everywhere (every
 * copy becomes NOT_INIT), memory given to a writing argument becomes
 * initialised data, r1-r5 become NOT_INIT, and r0 takes the return kind.  An
 * acquired reference is remembered in the state until released; the
 * program's final exit refuses any still held.  A nullable result gets a
 * fresh id shared by all its copies, so one test against 0 decides them all
 * (verify_mark_id).
 *
 * Local calls push a frame: r1-r5 are passed, r6-r9 are the callee's own
 * (NOT_INIT), r10 is the callee's frame.  Return restores the caller's
 * registers r6-r9 (they live in the caller's frame, untouched) and gives it
 * r0.  A callee may not return a pointer into its own, dying, frame.
 */
#include "runtime/verify_impl.h"

static const char *arg_kind_name(enum rt_arg_kind k)
{
	switch (k) {
	case RT_ARG_SCALAR:
		return "a number";
	case RT_ARG_MEM:
		return "readable memory";
	case RT_ARG_MEM_RW:
		return "writable memory";
	case RT_ARG_MEM_OR_NULL:
		return "memory or null";
	case RT_ARG_SIZE:
		return "a size";
	case RT_ARG_CONST_MEM:
		return "fixed-size readable memory";
	case RT_ARG_CONST_MEM_RW:
		return "fixed-size writable memory";
	case RT_ARG_REF:
		return "a reference";
	case RT_ARG_REF_OR_NULL:
		return "a reference or null";
	case RT_ARG_CTX:
		return "the context";
	default:
		return "nothing";
	}
}

static int call_local(struct venv *e, struct vst *s, const struct bpf_insn *in)
{
	uint32_t pc = s->insn, target = pc + 1 + (uint32_t)in->imm;
	struct vframe *caller = vst_frame(s), *f;

	if (s->curframe + 1 >= V_MAX_FRAMES)
		return verify_reject(e, pc, RT_VERR_CALL_DEPTH,
		                     "local calls nest more than %d frames deep", V_MAX_FRAMES);
	f = rt_alloc(sizeof(*f));
	if (!f)
		return -RT_ENOMEM;
	f->callsite = pc;
	f->subprog = e->subof[target];
	for (uint32_t r = 1; r <= 5; r++)
		f->regs[r] = caller->regs[r];
	f->regs[BPF_REG_FP].type = V_PTR_STACK;
	f->regs[BPF_REG_FP].frameno = (uint8_t)(s->curframe + 1);
	vreg_mark_const(&f->regs[0], 0);
	f->regs[0].type = V_NOT_INIT;
	{
		/* r10 = frame pointer, offset 0 */
		struct vreg *fp = &f->regs[BPF_REG_FP];
		fp->smin = fp->smax = 0;
		fp->umin = fp->umax = 0;
		fp->var = tnum_const(0);
	}
	s->frames[++s->curframe] = f;
	s->insn = target;
	return 0;
}

/* Memory argument + its size: regs ri (pointer) and si (size, or NULL for a
 * fixed size fsize). */
static int check_mem_arg(struct venv *e, struct vst *s, const struct rt_sig *sig, uint32_t ri,
                         const struct rt_arg *a, const struct vreg *sz, uint32_t fsize,
                         bool *clobber, int64_t *clo, int64_t *chi, int64_t *cmax)
{
	struct vframe *f = vst_frame(s);
	const struct vreg *r = &f->regs[ri];
	bool rw = a->kind == RT_ARG_MEM_RW || a->kind == RT_ARG_CONST_MEM_RW;
	uint64_t smin = fsize, smax = fsize;
	char desc[96];
	int rc;

	verify_describe(e, r, desc, sizeof(desc));
	if (sz) {
		char sdesc[96];
		verify_describe(e, sz, sdesc, sizeof(sdesc));
		if (sz->type == V_NOT_INIT)
			return verify_reject(e, s->insn, RT_VERR_UNINIT_REG,
			                     "r%u (size for %s) is read before it is set", ri + 1,
			                     sig->name);
		if (sz->type != V_SCALAR)
			return verify_reject(e, s->insn, RT_VERR_ARG_LEAK,
			                     "r%u passed to %s as a size is a pointer", ri + 1,
			                     sig->name);
		if (sz->smin < 0 || sz->umax > (1ull << 30))
			return verify_reject(e, s->insn, RT_VERR_ARG_SIZE,
			                     "size r%u for %s is not bounded: check it against the "
			                     "buffer size first (r%u=%s)",
			                     ri + 1, sig->name, ri + 1, sdesc);
		smin = sz->umin;
		smax = sz->umax;
	}
	if (a->kind == RT_ARG_MEM_OR_NULL && vreg_is_null_const(r)) {
		/* A NULL buffer comes with a size proven 0, or the callee would
		 * read that many bytes from address 0 (as Linux requires). */
		if (sz && smax != 0)
			return verify_reject(
			    e, s->insn, RT_VERR_ARG_SIZE,
			    "r%u passed to %s is NULL but its size r%u may be non-zero "
			    "(up to %llu)",
			    ri, sig->name, ri + 1, (unsigned long long)smax);
		return 0;
	}
	if (r->type == V_NOT_INIT)
		return verify_reject(e, s->insn, RT_VERR_UNINIT_REG,
		                     "r%u (argument of %s) is read before it is set", ri,
		                     sig->name);
	if (r->type == V_SCALAR || r->type == V_PTR_REF)
		return verify_reject(e, s->insn, RT_VERR_ARG_TYPE,
		                     "r%u passed to %s must be %s (r%u=%s)", ri, sig->name,
		                     arg_kind_name(a->kind), ri, desc);
	rc = verify_access(e, s, ri, r, 0, smin, smax, rw, !rw && r->type == V_PTR_STACK,
	                   "argument");
	if (rc == -RT_EREJECT) {
		/* Say it in terms of the call where the call is what is wrong. */
		int c = e->res->code;
		if (c == RT_VERR_UNINIT_STACK)
			e->res->code = RT_VERR_ARG_UNINIT;
		else if (c == RT_VERR_STACK_OOB || c == RT_VERR_CTX_OOB ||
		         c == RT_VERR_GLOBAL_OOB || c == RT_VERR_MEM_OOB || c == RT_VERR_UNBOUNDED)
			e->res->code = sz ? RT_VERR_ARG_SIZE : RT_VERR_ARG_CONST_SIZE;
		return rc;
	}
	if (rc)
		return rc;
	if (r->type == V_PTR_STACK) {
		/* Writable memory may be read by the callee too: no pointer
		 * spills inside, or they would leak. */
		struct vframe *sf = s->frames[r->frameno];
		for (int64_t o = r->smin; o < r->smax + (int64_t)smax; o++) {
			uint32_t k = (uint32_t)((-o - 1) / 8);
			if (k < sf->nslots && sf->slots[k].kind == S_SPILL &&
			    sf->slots[k].spill.type != V_SCALAR)
				return verify_reject(
				    e, s->insn, RT_VERR_ARG_PTR_SPILL,
				    "memory passed to %s in r%u holds a spilled pointer at fp%lld",
				    sig->name, ri, (long long)o);
		}
		if (rw) {
			*clobber = true;
			*clo = r->smin;
			*chi = r->smin == r->smax ? r->smin + (int64_t)smin : r->smin;
			*cmax = r->smax + (int64_t)smax;
		}
	}
	return 0;
}

static int call_import(struct venv *e, struct vst *s, const struct bpf_insn *in)
{
	uint32_t pc = s->insn;
	const struct rt_sig *sig = e->p->imports[in->imm].sig;
	struct vframe *f = vst_frame(s);
	uint32_t release = 0;
	/* Stack ranges written by the call, applied after every check. */
	struct {
		struct vreg ptr;
		int64_t lo, hi, max;
	} cl[5];
	uint32_t ncl = 0;
	char desc[96];
	int rc;

	if (e->entry->guard && !(sig->flags & RT_SIG_PURE))
		return verify_reject(e, pc, RT_VERR_GUARD_CALL,
		                     "a guard may only call pure procedures; %s has side effects",
		                     sig->name);
	for (uint32_t i = 0; i < sig->nargs && i < 5; i++) {
		const struct rt_arg *a = &sig->args[i];
		uint32_t ri = i + 1;
		struct vreg *r = &f->regs[ri];

		verify_describe(e, r, desc, sizeof(desc));
		switch (a->kind) {
		case RT_ARG_NONE:
			break;
		case RT_ARG_SCALAR:
		case RT_ARG_SIZE:
			if (r->type == V_NOT_INIT)
				return verify_reject(
				    e, pc, RT_VERR_UNINIT_REG,
				    "r%u (argument %u of %s) is read before it is set", ri, ri,
				    sig->name);
			if (r->type != V_SCALAR)
				return verify_reject(e, pc, RT_VERR_ARG_LEAK,
				                     "r%u passed to %s as a number is %s; pointers "
				                     "may not leave the program as numbers",
				                     ri, sig->name, desc);
			break;
		case RT_ARG_MEM:
		case RT_ARG_MEM_RW:
		case RT_ARG_MEM_OR_NULL: {
			const struct vreg *sz = NULL;
			if (i + 1 < sig->nargs && sig->args[i + 1].kind == RT_ARG_SIZE)
				sz = &f->regs[ri + 1];
			bool w = false;
			rc = check_mem_arg(e, s, sig, ri, a, sz, 0, &w, &cl[ncl].lo, &cl[ncl].hi,
			                   &cl[ncl].max);
			if (rc)
				return rc;
			if (w)
				cl[ncl++].ptr = *r;
			break;
		}
		case RT_ARG_CONST_MEM:
		case RT_ARG_CONST_MEM_RW: {
			bool w = false;
			rc = check_mem_arg(e, s, sig, ri, a, NULL, a->size, &w, &cl[ncl].lo,
			                   &cl[ncl].hi, &cl[ncl].max);
			if (rc)
				return rc;
			if (w)
				cl[ncl++].ptr = *r;
			break;
		}
		case RT_ARG_REF:
		case RT_ARG_REF_OR_NULL:
			if (a->kind == RT_ARG_REF_OR_NULL && vreg_is_null_const(r))
				break;
			if (r->type == V_NOT_INIT && r->ref && a->release)
				return verify_reject(
				    e, pc, RT_VERR_REF_RELEASE,
				    "%s releases r%u, a reference the program already released",
				    sig->name, ri);
			if (r->type == V_PTR_REF_OR_NULL && a->kind == RT_ARG_REF)
				return verify_reject(
				    e, pc, RT_VERR_NULL_DEREF,
				    "r%u is a possibly-null reference to %s; test it against 0 "
				    "before passing it to %s (r%u=%s)",
				    ri, r->rtype ? r->rtype->name : "?", sig->name, ri, desc);
			if (r->type != V_PTR_REF && r->type != V_PTR_REF_OR_NULL)
				return verify_reject(
				    e, pc,
				    r->type == V_NOT_INIT ? RT_VERR_UNINIT_REG : RT_VERR_ARG_TYPE,
				    "r%u passed to %s must be a reference to %s (r%u=%s)", ri,
				    sig->name, a->type ? a->type->name : "?", ri, desc);
			if (r->rtype != a->type)
				return verify_reject(
				    e, pc, RT_VERR_ARG_REF_TYPE,
				    "r%u passed to %s is a reference to %s, not %s", ri, sig->name,
				    r->rtype ? r->rtype->name : "?", a->type ? a->type->name : "?");
			if (r->smin != 0 || r->smax != 0)
				return verify_reject(
				    e, pc, RT_VERR_ARG_TYPE,
				    "r%u passed to %s is not the reference itself (r%u=%s)", ri,
				    sig->name, ri, desc);
			if (a->release) {
				if (r->type == V_PTR_REF_OR_NULL)
					return verify_reject(e, pc, RT_VERR_NULL_DEREF,
					                     "r%u may be null; test it against 0 "
					                     "before %s releases it",
					                     ri, sig->name);
				bool held = false;
				for (uint32_t k = 0; k < s->nrefs; k++)
					held |= r->ref && s->refs[k].id == r->ref;
				if (!held)
					return verify_reject(
					    e, pc, RT_VERR_REF_RELEASE,
					    "%s releases r%u, a reference the program does not "
					    "hold (released already, or never acquired)",
					    sig->name, ri);
				release = r->ref;
			}
			break;
		case RT_ARG_CTX:
			if (r->type != V_PTR_CTX || r->smin != 0 || r->smax != 0)
				return verify_reject(e, pc,
				                     r->type == V_NOT_INIT ? RT_VERR_UNINIT_REG
				                                           : RT_VERR_ARG_CTX,
				                     "r%u passed to %s must be the unmodified "
				                     "entry context (r%u=%s)",
				                     ri, sig->name, ri, desc);
			break;
		default:
			return verify_reject(
			    e, pc, RT_VERR_ARG_TYPE,
			    "%s declares argument %u of a kind the verifier does not know",
			    sig->name, ri);
		}
	}

	/* Effects, in an order that cannot fail for the program's reasons. */
	for (uint32_t k = 0; k < ncl; k++)
		verify_stack_clobber(s, &cl[k].ptr, cl[k].lo, cl[k].hi, cl[k].max);
	if (release)
		verify_release_ref(s, release);
	f = vst_frame(s);
	for (uint32_t r = 1; r <= 5; r++)
		memset(&f->regs[r], 0, sizeof(f->regs[r]));
	struct vreg *r0 = &f->regs[0];
	memset(r0, 0, sizeof(*r0));
	switch (sig->ret.kind) {
	case RT_RET_VOID:
		break;
	case RT_RET_SCALAR:
		vreg_mark_unknown(r0);
		break;
	case RT_RET_REF:
	case RT_RET_REF_OR_NULL:
	case RT_RET_MEM_OR_NULL:
		vreg_mark_const(r0, 0);
		r0->type = sig->ret.kind == RT_RET_REF           ? V_PTR_REF
		           : sig->ret.kind == RT_RET_REF_OR_NULL ? V_PTR_REF_OR_NULL
		                                                 : V_PTR_MEM_OR_NULL;
		r0->rtype = sig->ret.type;
		r0->size = sig->ret.size;
		r0->writable = sig->ret.writable;
		if (r0->type != V_PTR_REF)
			r0->id = ++e->next_id;
		if (sig->ret.acquire && r0->type != V_PTR_MEM_OR_NULL) {
			if (s->nrefs >= V_MAX_REFS)
				return verify_reject(e, pc, RT_VERR_REF_TOO_MANY,
				                     "more than %d references held at once",
				                     V_MAX_REFS);
			/* The reference id is the null-test id, so a null result
			 * drops the acquisition (verify_mark_id). */
			r0->ref = r0->id ? r0->id : ++e->next_id;
			s->refs[s->nrefs].id = r0->ref;
			s->refs[s->nrefs].insn = pc;
			s->refs[s->nrefs].rtype = sig->ret.type;
			s->nrefs++;
		}
		break;
	default:
		return verify_reject(e, pc, RT_VERR_ARG_TYPE,
		                     "%s declares a return kind the verifier does not know",
		                     sig->name);
	}
	s->insn = pc + 1;
	return 0;
}

int verify_call(struct venv *e, struct vst *s, const struct bpf_insn *in)
{
	if (in->src == BPF_PSEUDO_CALL)
		return call_local(e, s, in);
	/* The CFG pass has refused unlinked imports and numbered helpers. */
	return call_import(e, s, in);
}

int verify_exit(struct venv *e, struct vst *s, bool *done)
{
	struct vframe *f = vst_frame(s);
	struct vreg *r0 = &f->regs[0];
	uint32_t pc = s->insn;
	char desc[96];

	*done = false;
	if (r0->type == V_NOT_INIT)
		return verify_reject(e, pc, RT_VERR_EXIT_UNINIT, "r0 is not set at exit");
	verify_describe(e, r0, desc, sizeof(desc));
	if (s->curframe == 0) {
		if (r0->type != V_SCALAR)
			return verify_reject(
			    e, pc, RT_VERR_EXIT_PTR,
			    "the program returns a pointer in r0; it must return a number (r0=%s)",
			    desc);
		if (s->nrefs) {
			const struct vref *rf = &s->refs[0];
			const struct rt_line *ln = rt_prog_line(e->p, rf->insn);
			if (ln && ln->file)
				return verify_reject(e, pc, RT_VERR_REF_LEAK,
				                     "reference to %s acquired at %s:%u (insn %u) "
				                     "is not released before exit",
				                     rf->rtype ? rf->rtype->name : "?", ln->file,
				                     ln->line, rf->insn);
			return verify_reject(
			    e, pc, RT_VERR_REF_LEAK,
			    "reference to %s acquired at insn %u is not released before exit",
			    rf->rtype ? rf->rtype->name : "?", rf->insn);
		}
		*done = true;
		return 0;
	}
	if (r0->type == V_PTR_STACK && r0->frameno == s->curframe)
		return verify_reject(
		    e, pc, RT_VERR_STACK_ESCAPE,
		    "the function returns a pointer into its own stack frame (r0=%s)", desc);
	struct vframe *caller = s->frames[s->curframe - 1];
	caller->regs[0] = *r0;
	for (uint32_t r = 1; r <= 5; r++)
		memset(&caller->regs[r], 0, sizeof(caller->regs[r]));
	s->insn = f->callsite + 1;
	rt_free(f->slots);
	rt_free(f);
	s->frames[s->curframe] = NULL;
	s->curframe--;
	return 0;
}
