/*
 * guard_range.c - is this guard a range test of one field?  (guard_range.h)
 *
 * Symbolic evaluation of every path through a short, loop-free function.
 * A register holds one of: a constant, a reference argument untouched, a
 * field's value (read through a reference argument, or a number argument
 * itself) plus a constant (modulo 2^64), or something unknown (any use of
 * which is refused).  The first field a branch or the result depends on is
 * the subject; depending on another is refused.  Each path carries the set of field values for
 * which it is taken, a union of disjoint inclusive spans of the unsigned
 * 64-bit numbers: every conditional jump on the field splits it exactly,
 * because every comparison of "field + d" with a constant, unsigned or
 * signed, is satisfied by one circular interval of the field's values (a
 * span of the values of field + d, shifted back by d).  A path that
 * returns non-zero adds its set to the answer; the answer must be one
 * span.  The paths partition the field's values, so the answer is exact.
 *
 * Not a verifier: it relies on the verifier for initialised registers and
 * in-bounds reads, and it refuses rather than approximates.
 */
#include "runtime/guard_range.h"
#include "runtime/exec.h"

enum gr_kind { GR_UNKNOWN = 0, GR_CONST, GR_ARG, GR_FIELD };

struct gr_val {
	uint8_t kind;
	uint8_t arg;  /* GR_ARG, GR_FIELD: which entry argument */
	uint32_t off; /* GR_FIELD: the field's offset, or RT_GUARD_VALUE */
	uint64_t c;   /* GR_CONST: the value; GR_FIELD: what is added to the field */
};

/* A set of field values: disjoint inclusive spans in increasing order. */
#define GR_MAX_SPANS 8
struct gr_set {
	uint32_t n;
	uint64_t lo[GR_MAX_SPANS], hi[GR_MAX_SPANS];
};

struct gr_path {
	uint32_t pc;
	struct gr_val r[BPF_NREGS];
	struct gr_set cond; /* the field values for which this path is taken */
};

struct gr {
	const struct rt_prog *p;
	const struct rt_func *f;
	const struct rt_entry *e;
	bool have_field;
	uint32_t arg, off; /* the one field every path reads */
	uint32_t nyes;     /* spans of field values the function accepts */
	uint64_t ylo[RT_GUARD_MAX_PATHS * GR_MAX_SPANS], yhi[RT_GUARD_MAX_PATHS * GR_MAX_SPANS];
	struct gr_path stack[RT_GUARD_MAX_PATHS];
	uint32_t nstack, npaths;
	const char *why;
};

static int gr_refuse(struct gr *g, const char *why)
{
	g->why = why;
	return -RT_EUNSUPP;
}

/* The circular interval a, a+1, .., b (mod 2^64) as spans; empty if !any. */
static void gr_circ(struct gr_set *s, bool any, uint64_t a, uint64_t b)
{
	s->n = 0;
	if (!any)
		return;
	if (a <= b) {
		s->lo[0] = a, s->hi[0] = b, s->n = 1;
		return;
	}
	s->lo[0] = 0, s->hi[0] = b;
	s->lo[1] = a, s->hi[1] = UINT64_MAX;
	s->n = 2;
}

/* out = x & y.  Sorted: spans of x in order, each cut by y's in order. */
static int gr_meet(struct gr *g, struct gr_set *out, const struct gr_set *x, const struct gr_set *y)
{
	struct gr_set r = {0};

	for (uint32_t i = 0; i < x->n; i++)
		for (uint32_t j = 0; j < y->n; j++) {
			uint64_t lo = x->lo[i] > y->lo[j] ? x->lo[i] : y->lo[j];
			uint64_t hi = x->hi[i] < y->hi[j] ? x->hi[i] : y->hi[j];

			if (lo > hi)
				continue;
			if (r.n == GR_MAX_SPANS)
				return gr_refuse(g, "too many disjoint ranges");
			r.lo[r.n] = lo, r.hi[r.n] = hi, r.n++;
		}
	*out = r;
	return 0;
}

/* `k op s` is `s op' k`. */
static uint8_t gr_mirror(uint8_t op)
{
	switch (op) {
	case BPF_JGT:
		return BPF_JLT;
	case BPF_JGE:
		return BPF_JLE;
	case BPF_JLT:
		return BPF_JGT;
	case BPF_JLE:
		return BPF_JGE;
	case BPF_JSGT:
		return BPF_JSLT;
	case BPF_JSGE:
		return BPF_JSLE;
	case BPF_JSLT:
		return BPF_JSGT;
	case BPF_JSLE:
		return BPF_JSGE;
	default: /* JEQ, JNE */
		return op;
	}
}

/* The values s with `s op k`, as a circular interval [a, b] (*any false:
 * none).  Signed orders are the unsigned circle started at INT64_MIN. */
static void gr_holds(uint8_t op, uint64_t k, bool *any, uint64_t *a, uint64_t *b)
{
	const uint64_t smin = (uint64_t)1 << 63, smax = smin - 1;

	*any = true;
	switch (op) {
	case BPF_JEQ:
		*a = k, *b = k;
		return;
	case BPF_JNE: /* everything but k: k+1 .. k-1 around the circle */
		*a = k + 1, *b = k - 1;
		return;
	case BPF_JGT:
		*any = k != UINT64_MAX, *a = k + 1, *b = UINT64_MAX;
		return;
	case BPF_JGE:
		*a = k, *b = UINT64_MAX;
		return;
	case BPF_JLT:
		*any = k != 0, *a = 0, *b = k - 1;
		return;
	case BPF_JLE:
		*a = 0, *b = k;
		return;
	case BPF_JSGT:
		*any = k != smax, *a = k + 1, *b = smax;
		return;
	case BPF_JSGE:
		*a = k, *b = smax;
		return;
	case BPF_JSLT:
		*any = k != smin, *a = smin, *b = k - 1;
		return;
	default: /* BPF_JSLE */
		*a = smin, *b = k;
		return;
	}
}

/* A read of the field at off of what base refers to. */
static int gr_field(struct gr *g, const struct gr_val *base, uint32_t off, struct gr_val *out)
{
	if (base->kind != GR_ARG || g->e->args[base->arg].kind != RT_ARG_REF)
		return gr_refuse(g, "a read through something other than a reference argument");
	*out = (struct gr_val){GR_FIELD, base->arg, off, 0};
	return 0;
}

/* A field's value decides: the first one that does, or the same again. */
static int gr_subject(struct gr *g, const struct gr_val *v)
{
	if (g->have_field && (g->arg != v->arg || g->off != v->off))
		return gr_refuse(g, "reads more than one field");
	g->have_field = true;
	g->arg = v->arg;
	g->off = v->off;
	return 0;
}

/* Fold a constant ALU operation; false: not one this pass evaluates. */
static bool gr_fold(uint8_t op, bool alu64, uint64_t x, uint64_t y, uint64_t *out)
{
	unsigned width = alu64 ? 64 : 32;
	uint64_t r;

	switch (op) {
	case BPF_MOV:
		r = y;
		break;
	case BPF_ADD:
		r = x + y;
		break;
	case BPF_SUB:
		r = x - y;
		break;
	case BPF_AND:
		r = x & y;
		break;
	case BPF_OR:
		r = x | y;
		break;
	case BPF_XOR:
		r = x ^ y;
		break;
	case BPF_LSH:
		if (y >= width)
			return false;
		r = x << y;
		break;
	case BPF_RSH:
		if (y >= width)
			return false;
		r = (alu64 ? x : (uint32_t)x) >> y;
		break;
	default:
		return false;
	}
	*out = alu64 ? r : (uint32_t)r;
	return true;
}

static int gr_alu(struct gr *g, struct gr_path *t, const struct bpf_insn *in)
{
	bool alu64 = BPF_CLASS(in->code) == BPF_ALU64;
	uint8_t op = BPF_OP(in->code);
	struct gr_val *d = &t->r[in->dst], s;

	if (in->dst >= BPF_REG_FP || (BPF_SRC(in->code) == BPF_X && in->src >= BPF_REG_FP))
		return gr_refuse(g, "uses the frame pointer");
	if (in->off != 0)
		return gr_refuse(g, "a sign-extending or signed ALU operation");
	if (BPF_SRC(in->code) == BPF_K)
		s = (struct gr_val){GR_CONST, 0, 0,
		                    alu64 ? (uint64_t)(int64_t)in->imm
		                          : (uint64_t)(uint32_t)in->imm};
	else
		s = t->r[in->src];
	if (op == BPF_MOV && alu64 && s.kind != GR_UNKNOWN) {
		*d = s; /* a 64-bit copy of anything known */
		return 0;
	}
	if (s.kind != GR_CONST)
		return gr_refuse(g, "arithmetic with a value that is not a constant");
	if (d->kind == GR_FIELD && alu64 && (op == BPF_ADD || op == BPF_SUB)) {
		d->c = op == BPF_ADD ? d->c + s.c : d->c - s.c; /* exact modulo 2^64 */
		return 0;
	}
	if (op == BPF_MOV) {
		*d = (struct gr_val){GR_CONST, 0, 0, alu64 ? s.c : (uint32_t)s.c};
		return 0;
	}
	if (d->kind != GR_CONST)
		return gr_refuse(g, "an operation on the field other than adding a constant");
	if (!gr_fold(op, alu64, d->c, s.c, &d->c))
		return gr_refuse(g, "an ALU operation this pass does not evaluate");
	return 0;
}

static int gr_call(struct gr *g, struct gr_path *t, const struct bpf_insn *in)
{
	const struct rt_sig *sig;
	const struct rt_inline *inl;
	uint64_t k = 0;
	int err;

	if (in->src != BPF_PSEUDO_IMPORT || (uint32_t)in->imm >= g->p->nimports)
		return gr_refuse(g, "a call that is not an import");
	sig = g->p->imports[in->imm].sig;
	inl = sig ? rt_inline_find(sig) : NULL;
	if (!inl || inl->n == 0 || inl->n > 8 || sig->nargs == 0 || sig->nargs > 2)
		return gr_refuse(g, "a call of an import that is not a field accessor");
	if (sig->nargs == 2) {
		if (t->r[2].kind != GR_CONST || t->r[2].c >= inl->n)
			return gr_refuse(g, "an accessor whose index is not a constant below n");
		k = t->r[2].c;
	}
	if ((err = gr_field(g, &t->r[1], inl->off[k], &t->r[0])))
		return err;
	for (int r = 1; r <= 5; r++)
		t->r[r] = (struct gr_val){GR_UNKNOWN, 0, 0, 0}; /* caller-saved */
	return 0;
}

/* A path reached exit: add the field values it accepts. */
static int gr_exit(struct gr *g, const struct gr_path *t)
{
	const struct gr_val *r0 = &t->r[0];
	struct gr_set nz, acc;
	int err;

	if (r0->kind == GR_CONST) {
		if (!r0->c)
			return 0;
		acc = t->cond;
	} else if (r0->kind == GR_FIELD) {
		if ((err = gr_subject(g, r0)))
			return err;
		/* field + c != 0: every field value but -c. */
		gr_circ(&nz, true, -r0->c + 1, -r0->c - 1);
		if ((err = gr_meet(g, &acc, &t->cond, &nz)))
			return err;
	} else {
		return gr_refuse(g, "returns something other than a constant or the field");
	}
	for (uint32_t i = 0; i < acc.n; i++) {
		if (g->nyes == RT_GUARD_MAX_PATHS * GR_MAX_SPANS)
			return gr_refuse(g, "too many accepted ranges");
		g->ylo[g->nyes] = acc.lo[i], g->yhi[g->nyes] = acc.hi[i], g->nyes++;
	}
	return 0;
}

/* A conditional jump: both sides known constants, or the field (plus a
 * constant) against a constant.  *go is set when only the taken side is
 * feasible and the caller jumps; a feasible taken side is pushed too. */
static int gr_branch(struct gr *g, struct gr_path *t, const struct bpf_insn *in, uint32_t target,
                     bool *go)
{
	uint8_t op = BPF_OP(in->code);
	struct gr_val x = t->r[in->dst], y;
	struct gr_set yes, no, taken, fall;
	uint64_t a, b;
	bool any;
	int err;

	*go = false;
	if (op == BPF_JSET)
		return gr_refuse(g, "a bit test (JSET)");
	if (in->dst >= BPF_REG_FP || (BPF_SRC(in->code) == BPF_X && in->src >= BPF_REG_FP))
		return gr_refuse(g, "uses the frame pointer");
	y = BPF_SRC(in->code) == BPF_K ? (struct gr_val){GR_CONST, 0, 0, (uint64_t)(int64_t)in->imm}
	                               : t->r[in->src];
	if (x.kind == GR_CONST && y.kind == GR_CONST) {
		bool ok; /* the op was checked when the jump was read */

		*go = rt_bpf_cond(op, x.c, y.c, false, &ok);
		return 0;
	}
	if (x.kind == GR_CONST && y.kind == GR_FIELD) {
		struct gr_val z = x;

		x = y, y = z, op = gr_mirror(op);
	}
	if (x.kind != GR_FIELD || y.kind != GR_CONST)
		return gr_refuse(g, "a jump on something other than the field and a constant");
	if ((err = gr_subject(g, &x)))
		return err;
	/* field + x.c op k  <=>  field in [a - x.c, b - x.c] (circularly). */
	gr_holds(op, y.c, &any, &a, &b);
	gr_circ(&yes, any, a - x.c, b - x.c);
	if (!any)
		gr_circ(&no, true, 0, UINT64_MAX);
	else if (b + 1 == a)
		no.n = 0; /* everything holds */
	else
		gr_circ(&no, true, b + 1 - x.c, a - 1 - x.c);
	if ((err = gr_meet(g, &taken, &t->cond, &yes)) || (err = gr_meet(g, &fall, &t->cond, &no)))
		return err;
	if (taken.n && fall.n) {
		if (g->npaths == RT_GUARD_MAX_PATHS)
			return gr_refuse(g, "too many paths");
		g->npaths++;
		g->stack[g->nstack] = *t;
		g->stack[g->nstack].pc = target;
		g->stack[g->nstack].cond = taken;
		g->nstack++;
		t->cond = fall;
		return 0;
	}
	if (taken.n) {
		*go = true;
		t->cond = taken;
		return 0;
	}
	t->cond = fall;
	return 0;
}

/* Run one path from t->pc to its exit (forking into g->stack). */
static int gr_path(struct gr *g, struct gr_path *t)
{
	const struct rt_func *f = g->f;
	int err;

	for (;;) {
		const struct bpf_insn *in;
		uint8_t cls;

		if (t->pc < f->start || t->pc >= f->end)
			return gr_refuse(g, "runs off the function");
		in = &g->p->insns[t->pc];
		cls = BPF_CLASS(in->code);
		if (cls == BPF_ALU || cls == BPF_ALU64) {
			if (BPF_OP(in->code) == BPF_END || BPF_OP(in->code) == BPF_NEG)
				return gr_refuse(g, "an ALU operation this pass does not evaluate");
			if ((err = gr_alu(g, t, in)))
				return err;
			t->pc++;
			continue;
		}
		if (bpf_is_lddw(in)) {
			if (in->src != 0 || t->pc + 1 >= f->end || in->dst >= BPF_REG_FP)
				return gr_refuse(g, "an lddw of an address");
			t->r[in->dst] = (struct gr_val){GR_CONST, 0, 0,
			                                (uint64_t)(uint32_t)in->imm |
			                                    (uint64_t)(uint32_t)in[1].imm << 32};
			t->pc += 2;
			continue;
		}
		if (in->code == (BPF_LDX | BPF_MEM | BPF_DW)) {
			if (in->off < 0 || in->dst >= BPF_REG_FP || in->src >= BPF_REG_FP)
				return gr_refuse(
				    g, "a load at a negative offset or through the stack");
			if ((err = gr_field(g, &t->r[in->src], (uint32_t)in->off, &t->r[in->dst])))
				return err;
			t->pc++;
			continue;
		}
		if (cls != BPF_JMP)
			return gr_refuse(g, cls == BPF_JMP32
			                        ? "a 32-bit jump"
			                        : "a store or a load other than ldxdw");
		if (in->code == (BPF_JMP | BPF_CALL)) {
			if ((err = gr_call(g, t, in)))
				return err;
			t->pc++;
			continue;
		}
		if (in->code == (BPF_JMP | BPF_EXIT))
			return gr_exit(g, t);
		if (in->off < 0)
			return gr_refuse(g, "a backward jump");
		if (in->code == (BPF_JMP | BPF_JA)) {
			t->pc += 1 + (uint32_t)in->off;
			continue;
		}
		{
			uint32_t target = t->pc + 1 + (uint32_t)in->off;
			bool go;

			if (BPF_OP(in->code) > BPF_JSLE || BPF_OP(in->code) == BPF_CALL ||
			    BPF_OP(in->code) == BPF_EXIT)
				return gr_refuse(g, "an unknown jump");
			if ((err = gr_branch(g, t, in, target, &go)))
				return err;
			t->pc = go ? target : t->pc + 1;
		}
	}
}

int rt_guard_range(const struct rt_prog *p, uint32_t func, const struct rt_entry *e,
                   struct rt_guard_range *out, const char **why)
{
	struct gr *g;
	struct gr_path t;
	uint64_t lo, hi;
	int err = 0;

	if (why)
		*why = NULL;
	if (!p || !e || !out || func >= p->nfuncs)
		return -RT_EINVAL;
	if (p->funcs[func].end - p->funcs[func].start > RT_GUARD_MAX_INSNS) {
		if (why)
			*why = "longer than a range test";
		return -RT_EUNSUPP;
	}
	g = rt_alloc(sizeof(*g));
	if (!g)
		return -RT_ENOMEM;
	*g = (struct gr){.p = p, .f = &p->funcs[func], .e = e};
	t = (struct gr_path){.pc = p->funcs[func].start};
	/* A number argument is a subject itself (its value); a reference
	 * only leads to one (its fields); anything else is opaque. */
	for (uint32_t r = 0; r < 5; r++)
		if (e->args[r].kind == RT_ARG_SCALAR)
			t.r[r + 1] = (struct gr_val){GR_FIELD, (uint8_t)r, RT_GUARD_VALUE, 0};
		else if (e->args[r].kind != RT_ARG_NONE)
			t.r[r + 1] = (struct gr_val){GR_ARG, (uint8_t)r, 0, 0};
	gr_circ(&t.cond, true, 0, UINT64_MAX);
	g->npaths = 1;
	for (;;) {
		if ((err = gr_path(g, &t)))
			goto out;
		if (!g->nstack)
			break;
		t = g->stack[--g->nstack];
	}
	if (!g->have_field) {
		err = gr_refuse(g, "does not depend on a field");
		goto out;
	}
	if (!g->nyes) {
		err = gr_refuse(g, "accepts nothing");
		goto out;
	}
	/* The paths' sets are disjoint: sort the accepted spans (few) and
	 * require that they join into one. */
	for (uint32_t i = 1; i < g->nyes; i++)
		for (uint32_t j = i; j > 0 && g->ylo[j - 1] > g->ylo[j]; j--) {
			uint64_t l = g->ylo[j], h = g->yhi[j];

			g->ylo[j] = g->ylo[j - 1], g->yhi[j] = g->yhi[j - 1];
			g->ylo[j - 1] = l, g->yhi[j - 1] = h;
		}
	lo = g->ylo[0], hi = g->yhi[0];
	for (uint32_t i = 1; i < g->nyes; i++) {
		if (hi == UINT64_MAX || g->ylo[i] != hi + 1) {
			err = gr_refuse(g, "accepts more than one range");
			goto out;
		}
		hi = g->yhi[i];
	}
	*out = (struct rt_guard_range){g->arg, g->off, lo, hi};
out:
	if (why && err == -RT_EUNSUPP)
		*why = g->why;
	rt_free(g);
	return err;
}
