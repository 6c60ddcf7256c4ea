/*
 * verify_mem.c - every load, store and atomic proven inside its object.
 *
 * The objects a program may touch, and what it may do with them:
 *   stack    its own frame and its callers' (through pointers passed down),
 *            [fp-512, fp); bytes must be written before they are read;
 *            whole registers spilled with aligned 8-byte stores keep their
 *            abstract value (pointers may only be stored here)
 *   context  the entry's argument memory, [0, size), writable if declared so
 *   globals  the program's .data/.bss (writable) and .rodata (read-only)
 *   memory   returned by a call (MEM_OR_NULL, after the null test), [0, size)
 *   refs     typed references: only inside declared fields, writes only to
 *            writable fields
 * An access's bounds are the pointer's offset range plus the instruction's
 * offset and size; all of it must lie inside the object.  Pointers never go
 * anywhere but the stack, whole and aligned, so the embedder never reads one
 * as a number and a program never reads one back as a number either.
 */
#include "runtime/verify_impl.h"

#define V_OFF_LIMIT (1ll << 40)

static struct vslot_st *slot_at(struct vframe *f, int64_t off, uint32_t *byte)
{
	uint32_t k = (uint32_t)((-off - 1) / 8);

	*byte = (uint32_t)(off + 8 * (int64_t)(k + 1));
	if (k >= f->nslots)
		return NULL;
	return &f->slots[k];
}

static bool slot_byte_init(const struct vslot_st *sl, uint32_t b)
{
	if (!sl)
		return false;
	if (sl->kind == S_SPILL)
		return sl->spill.type == V_SCALAR;
	return sl->init & (1u << b);
}

/*
 * Check an access of [off + ptr offset, ... + size) for size in
 * [size_min, size_max].  `need_init` (stack only): every byte that may be
 * read must hold initialised data, never part of a spilled pointer.
 */
int verify_access(struct venv *e, struct vst *s, uint32_t regno, const struct vreg *ptr,
                  int64_t off, uint64_t size_min, uint64_t size_max, bool write, bool need_init,
                  const char *what)
{
	uint32_t pc = s->insn;
	char desc[96];
	int64_t lo, hi, limit_lo = 0, limit_hi;
	int code;

	(void)size_min;
	verify_describe(e, ptr, desc, sizeof(desc));
	switch (ptr->type) {
	case V_NOT_INIT:
		return verify_reject(e, pc, RT_VERR_UNINIT_REG, "r%u is read before it is set",
		                     regno);
	case V_SCALAR:
		return verify_reject(e, pc, RT_VERR_DEREF_SCALAR,
		                     "%s through r%u, which is a number, not a pointer (r%u=%s)",
		                     what, regno, regno, desc);
	case V_PTR_MEM_OR_NULL:
	case V_PTR_REF_OR_NULL:
		return verify_reject(e, pc, RT_VERR_NULL_DEREF,
		                     "r%u is %s; test it against 0 before use (r%u=%s)", regno,
		                     ptr->type == V_PTR_REF_OR_NULL ? "a possibly-null reference"
		                                                    : "possibly-null memory",
		                     regno, desc);
	}
	if (ptr->smin < -V_OFF_LIMIT || ptr->smax > V_OFF_LIMIT || size_max > (1ull << 30))
		return verify_reject(e, pc, RT_VERR_UNBOUNDED,
		                     "%s through r%u: its offset is not bounded; compare it "
		                     "against the object's size first (r%u=%s)",
		                     what, regno, regno, desc);
	lo = ptr->smin + off;
	hi = ptr->smax + off + (int64_t)size_max;
	switch (ptr->type) {
	case V_PTR_STACK:
		limit_lo = -BPF_STACK_SIZE;
		limit_hi = 0;
		code = RT_VERR_STACK_OOB;
		break;
	case V_PTR_CTX:
		limit_hi = ptr->size;
		code = RT_VERR_CTX_OOB;
		break;
	case V_PTR_GLOBAL:
		limit_hi = ptr->size;
		code = RT_VERR_GLOBAL_OOB;
		break;
	case V_PTR_MEM:
		limit_hi = ptr->size;
		code = RT_VERR_MEM_OOB;
		break;
	case V_PTR_REF: {
		const struct rt_type *t = ptr->rtype;
		if (ptr->smin != ptr->smax)
			return verify_reject(e, pc, RT_VERR_VAR_OFFSET,
			                     "%s through reference r%u needs a constant offset",
			                     what, regno);
		for (uint32_t i = 0; t && i < t->nfields; i++) {
			const struct rt_field *fl = &t->fields[i];
			if (lo >= (int64_t)fl->off && hi <= (int64_t)fl->off + fl->size) {
				if (write && e->entry->guard)
					return verify_reject(
					    e, pc, RT_VERR_GUARD_STORE,
					    "a guard may not store into field %s of %s", fl->name,
					    t->name);
				if (write && !fl->writable)
					return verify_reject(e, pc, RT_VERR_READONLY,
					                     "field %s of %s is read-only",
					                     fl->name, t->name);
				return 0;
			}
		}
		return verify_reject(
		    e, pc, RT_VERR_REF_FIELD,
		    "%s of bytes [%lld,%lld) of %s: not inside a declared field (r%u=%s)", what,
		    (long long)lo, (long long)hi, t ? t->name : "?", regno, desc);
	}
	default:
		return verify_reject(e, pc, RT_VERR_DEREF_SCALAR, "%s through r%u (%s)", what,
		                     regno, desc);
	}
	if (lo < limit_lo || hi > limit_hi)
		return verify_reject(
		    e, pc, code,
		    "%s of bytes [%lld,%lld) is outside the object [%lld,%lld) (r%u=%s)", what,
		    (long long)lo, (long long)hi, (long long)limit_lo, (long long)limit_hi, regno,
		    desc);
	if (write && e->entry->guard && ptr->type != V_PTR_STACK)
		return verify_reject(e, pc, RT_VERR_GUARD_STORE,
		                     "a guard may not store outside its own stack (r%u=%s)", regno,
		                     desc);
	if (write && ptr->type != V_PTR_STACK && !ptr->writable)
		return verify_reject(e, pc, RT_VERR_READONLY, "%s into read-only memory (r%u=%s)",
		                     what, regno, desc);
	if (ptr->type == V_PTR_STACK) {
		struct vframe *f = s->frames[ptr->frameno];
		uint32_t depth = (uint32_t)((-lo + 7) & ~7ll);
		if (depth > e->subs[f->subprog].stack)
			e->subs[f->subprog].stack = depth;
		if (verify_grow_slots(f, depth / 8))
			return -RT_ENOMEM;
		if (need_init) {
			/* Only bytes certainly read must be initialised: with a variable
			 * offset, that is every byte the access may touch. */
			for (int64_t o = lo; o < hi; o++) {
				uint32_t b;
				struct vslot_st *sl = slot_at(f, o, &b);
				if (sl && sl->kind == S_SPILL && sl->spill.type != V_SCALAR)
					return verify_reject(
					    e, pc,
					    strcmp(what, "argument") ? RT_VERR_PTR_PARTIAL
					                             : RT_VERR_ARG_PTR_SPILL,
					    "%s of fp%lld reads part of a spilled pointer", what,
					    (long long)o);
				if (!slot_byte_init(sl, b))
					return verify_reject(
					    e, pc, RT_VERR_UNINIT_STACK,
					    "%s reads fp%lld, which was never written", what,
					    (long long)o);
			}
		}
	}
	return 0;
}

/* Bytes [lo, hi) of ptr's frame were (maybe) overwritten by data: spills
 * there are gone.  `certain` marks the bytes initialised (a constant-offset
 * store); otherwise initialised-ness cannot grow, and the slot keeps no
 * stale pointer bytes (they become uninitialised, never data). */
static void stack_write(struct vst *s, const struct vreg *ptr, int64_t lo, int64_t hi, bool certain)
{
	struct vframe *f = s->frames[ptr->frameno];

	for (int64_t o = lo; o < hi; o++) {
		uint32_t b;
		struct vslot_st *sl = slot_at(f, o, &b);
		if (!sl)
			continue;
		if (sl->kind == S_SPILL) {
			uint8_t init = sl->spill.type == V_SCALAR ? 0xff : 0;
			memset(sl, 0, sizeof(*sl));
			sl->kind = S_MISC;
			sl->init = init;
		}
		if (sl->narrow && b + 1 >= sl->narrow && b + 1 < sl->narrow + 4u) {
			/* Part of a narrow spill changed: its value is gone. */
			sl->narrow = 0;
			memset(&sl->spill, 0, sizeof(sl->spill));
		}
		if (certain)
			sl->init |= (uint8_t)(1u << b);
	}
}

void verify_stack_clobber(struct vst *s, const struct vreg *ptr, int64_t lo, int64_t hi_certain,
                          int64_t hi_max)
{
	stack_write(s, ptr, lo, hi_max, false);
	stack_write(s, ptr, lo, hi_certain, true);
}

static int check_align(struct venv *e, struct vst *s, uint32_t regno, const struct vreg *ptr,
                       int64_t off, uint32_t size, bool strict)
{
	uint64_t a = size - 1;

	if (!strict && ptr->type != V_PTR_STACK)
		return 0;
	if ((ptr->var.mask & a) || ((ptr->var.value + (uint64_t)off) & a))
		return verify_reject(
		    e, s->insn, RT_VERR_MISALIGNED,
		    "%u-byte access through r%u at offset %lld is not %u-byte aligned", size, regno,
		    (long long)(ptr->smin + off), size);
	return 0;
}

int verify_ldx(struct venv *e, struct vst *s, const struct bpf_insn *in)
{
	struct vframe *f = vst_frame(s);
	struct vreg ptr = f->regs[in->src], *d = &f->regs[in->dst];
	uint32_t size = bpf_size_bytes(in->code);
	bool sx = BPF_MODE(in->code) == BPF_MEMSX;
	int rc;

	if ((rc = verify_access(e, s, in->src, &ptr, in->off, size, size, false, false, "load")))
		return rc;
	if ((rc = check_align(e, s, in->src, &ptr, in->off, size, false)))
		return rc;
	if (ptr.type == V_PTR_STACK) {
		struct vframe *sf = s->frames[ptr.frameno];
		int64_t lo = ptr.smin + in->off;
		bool fixed = ptr.smin == ptr.smax;
		uint32_t b, b0;
		struct vslot_st *sl = slot_at(sf, lo, &b0);

		b = b0;
		/* A fill: an aligned 8-byte load of a spilled register. */
		if (fixed && size == 8 && !sx && sl && sl->kind == S_SPILL && b == 0) {
			*d = sl->spill;
			return 0;
		}
		/* Anything else must not read pointer bytes, nor uninitialised ones. */
		for (int64_t o = lo; o < ptr.smax + in->off + size; o++) {
			struct vslot_st *x = slot_at(sf, o, &b);
			if (x && x->kind == S_SPILL && x->spill.type != V_SCALAR)
				return verify_reject(
				    e, s->insn, RT_VERR_PTR_PARTIAL,
				    "load of %u bytes at fp%lld reads part of a spilled pointer",
				    size, (long long)o);
			if (!slot_byte_init(x, b))
				return verify_reject(
				    e, s->insn, RT_VERR_UNINIT_STACK,
				    "load of %u bytes at fp%lld reads a byte never written", size,
				    (long long)o);
		}
		/* A 4-byte fill of a 4-byte spill, or of the low half of an
		 * 8-byte scalar spill: the value (zero-extended) is known. */
		/* (The loop above used b; from here on the first byte is b0.) */
		b = b0;
		if (fixed && size == 4 && !sx && sl && sl->kind == S_MISC && sl->narrow == b + 1) {
			*d = sl->spill;
			return 0;
		}
		if (fixed && size == 4 && !sx && sl && sl->kind == S_SPILL && b == 0 &&
		    !vreg_is_const(&sl->spill)) {
			verify_lo32(&sl->spill, d);
			d->id = 0;
			return 0;
		}
		/* A narrow load of a spilled constant: the bytes are known. */
		if (fixed && sl && sl->kind == S_SPILL && vreg_is_const(&sl->spill) &&
		    b + size <= 8) {
			uint64_t v = sl->spill.var.value >> (8 * b);
			if (size < 8)
				v &= (1ull << (8 * size)) - 1;
			if (sx) {
				int64_t x = size == 1   ? (int8_t)v
				            : size == 2 ? (int16_t)v
				                        : (int32_t)v;
				v = (uint64_t)x;
			}
			vreg_mark_const(d, v);
			return 0;
		}
	}
	vreg_mark_unknown(d);
	if (sx) {
		d->smin = -(1ll << (8 * size - 1));
		d->smax = (1ll << (8 * size - 1)) - 1;
		vreg_sync(d);
	} else if (size < 8) {
		vreg_set_bounds(d, 0, (1ull << (8 * size)) - 1);
	}
	return 0;
}

int verify_st(struct venv *e, struct vst *s, const struct bpf_insn *in)
{
	struct vframe *f = vst_frame(s);
	struct vreg ptr = f->regs[in->dst], val;
	uint32_t size = bpf_size_bytes(in->code);
	char desc[96];
	int rc;

	if (BPF_CLASS(in->code) == BPF_STX) {
		if (f->regs[in->src].type == V_NOT_INIT)
			return verify_reject(e, s->insn, RT_VERR_UNINIT_REG,
			                     "r%u is stored before it is set", in->src);
		val = f->regs[in->src];
	} else {
		vreg_mark_const(&val, (uint64_t)(int64_t)in->imm);
	}
	if (vreg_is_ptr(&val)) {
		verify_describe(e, &val, desc, sizeof(desc));
		if (ptr.type != V_PTR_STACK && vreg_is_ptr(&ptr))
			return verify_reject(e, s->insn, RT_VERR_PTR_STORE,
			                     "r%u is a pointer; pointers may only be stored on the "
			                     "program's own stack (r%u=%s)",
			                     in->src, in->src, desc);
		if (ptr.type == V_PTR_STACK) {
			if (size != 8)
				return verify_reject(
				    e, s->insn, RT_VERR_PTR_PARTIAL,
				    "a %u-byte store of pointer r%u would split it", size, in->src);
			if (ptr.smin != ptr.smax)
				return verify_reject(
				    e, s->insn, RT_VERR_VAR_OFFSET,
				    "a pointer can only be spilled at a constant stack offset");
			if (val.type == V_PTR_STACK && val.frameno > ptr.frameno)
				return verify_reject(e, s->insn, RT_VERR_STACK_ESCAPE,
				                     "r%u points into this function's frame and "
				                     "would outlive it in a caller's frame",
				                     in->src);
		}
	}
	if ((rc = verify_access(e, s, in->dst, &ptr, in->off, size, size, true, false, "store")))
		return rc;
	if ((rc = check_align(e, s, in->dst, &ptr, in->off, size, vreg_is_ptr(&val))))
		return rc;
	if (ptr.type != V_PTR_STACK)
		return 0;

	int64_t lo = ptr.smin + in->off, hi = ptr.smax + in->off + size;
	if (ptr.smin == ptr.smax && size == 8) {
		/* A spill: keep the whole register. */
		uint32_t b;
		struct vslot_st *sl = slot_at(s->frames[ptr.frameno], lo, &b);
		if (!sl) /* verify_access grew the frame; cannot happen */
			return -RT_EINVAL;
		memset(sl, 0, sizeof(*sl));
		sl->kind = S_SPILL;
		sl->spill = val;
		return 0;
	}
	stack_write(s, &ptr, lo, hi, ptr.smin == ptr.smax);
	if (ptr.smin == ptr.smax && size == 4 && !(lo & 3) && val.type == V_SCALAR) {
		/* A narrow spill (a 32-bit local): keep its value, so a bounded
		 * index survives the round trip through the stack. */
		uint32_t b;
		struct vslot_st *sl = slot_at(s->frames[ptr.frameno], lo, &b);
		if (sl) {
			sl->narrow = (uint8_t)(b + 1);
			verify_lo32(&val, &sl->spill);
			sl->spill.id = 0;
		}
	}
	return 0;
}

int verify_atomic(struct venv *e, struct vst *s, const struct bpf_insn *in)
{
	struct vframe *f = vst_frame(s);
	struct vreg ptr = f->regs[in->dst], *src = &f->regs[in->src];
	uint32_t size = bpf_size_bytes(in->code), a = (uint32_t)in->imm;
	char desc[96];
	int rc;

	if (src->type == V_NOT_INIT)
		return verify_reject(e, s->insn, RT_VERR_UNINIT_REG, "r%u is read before it is set",
		                     in->src);
	if (vreg_is_ptr(src))
		return verify_reject(e, s->insn, RT_VERR_PTR_STORE,
		                     "atomic operation would store pointer r%u into memory",
		                     in->src);
	if (a == BPF_CMPXCHG) {
		if (f->regs[0].type == V_NOT_INIT)
			return verify_reject(e, s->insn, RT_VERR_UNINIT_REG,
			                     "cmpxchg compares with r0, which is not set");
		if (vreg_is_ptr(&f->regs[0]))
			return verify_reject(e, s->insn, RT_VERR_PTR_STORE,
			                     "cmpxchg would compare memory with pointer r0");
	}
	verify_describe(e, &ptr, desc, sizeof(desc));
	if (ptr.type == V_PTR_REF)
		return verify_reject(e, s->insn, RT_VERR_ATOMIC_TARGET,
		                     "atomic operations are not allowed on references (r%u=%s)",
		                     in->dst, desc);
	if ((rc = verify_access(e, s, in->dst, &ptr, in->off, size, size, true,
	                        ptr.type == V_PTR_STACK, "atomic")))
		return rc;
	if ((rc = check_align(e, s, in->dst, &ptr, in->off, size, true)))
		return rc;
	if (ptr.type == V_PTR_STACK)
		stack_write(s, &ptr, ptr.smin + in->off, ptr.smax + in->off + size, false);
	if (a & BPF_FETCH) {
		struct vreg *dst = a == BPF_CMPXCHG ? &f->regs[0] : src;
		vreg_mark_unknown(dst);
		if (size == 4)
			vreg_set_bounds(dst, 0, 0xffffffffull);
	}
	return 0;
}
