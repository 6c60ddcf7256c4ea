/*
 * verify_state.c - path-sensitive abstract interpretation of registers and
 * stack: the heart of the verifier.
 *
 * Design.  After the CFG pass has proven the program's shape, this pass runs
 * the entry function symbolically.  One abstract state (struct vst) stands
 * for every concrete machine state that can reach an instruction along one
 * path: each register is NOT_INIT, a SCALAR described by signed and unsigned
 * 64-bit bounds plus known bits (a tnum), or a pointer (a base object and an
 * offset that is itself such a scalar).  The stack of each active frame is
 * tracked in 8-byte slots, with per-byte initialisation, and whole spilled
 * registers (so a pointer or a bounded index survives a spill and a fill).
 *
 * The walk is a depth-first search: a conditional jump whose outcome is not
 * known splits the state, both successors are refined by the condition
 * (x < 16 on one edge, x >= 16 on the other, null or not on a pointer
 * test), one is pushed for later and the other continues.  Every
 * instruction checks the state it meets and rejects on the first violation.
 *
 * Pruning.  At prune points (jump targets, subprogram starts, return
 * sites of local calls: where paths join) states are kept.  A new state
 * that is covered by a kept one is dropped: whatever it could do, the kept
 * one can too, and the kept one is explored to the end (it is either done
 * or still on the DFS stack; pruning against an in-progress state is sound
 * for safety, because nothing is ever dropped without being checked).
 * "Covered" is subsumption, not equality: every register and stack slot of
 * the new state describes a subset of the kept one's values (range
 * inclusion on both signed and unsigned bounds, tnum inclusion, the same
 * pointer base, equal-value and reference classes in correspondence),
 * and the same references are held.
 *
 * What is compared is cut down by two static facts computed before the
 * walk (verify_liveness in verify_cfg.c), per instruction:
 *
 *   Liveness.  Registers and stack slots that are overwritten before they
 *   are read on every path are dead; prune_or_keep forgets them (NOT_INIT,
 *   empty slot) before comparing or keeping, so they never split states.
 *   Stack accesses through r10 name their slot; any other access, and any
 *   call, counts as reading every slot once a stack address has been put in
 *   a register other than r10.
 *
 *   Precision.  A scalar is precise at an instruction when its exact value
 *   may still influence the verdict: it may flow (through ALU operations,
 *   moves, spills and fills, call arguments and results) into a memory
 *   access's address, a pointer's offset, a conditional jump, a size or
 *   other non-number argument of a call, or a subprogram result some caller
 *   needs.  An imprecise scalar (a checksum, a counter that is only
 *   returned, a value only passed on as a number) is covered by any scalar;
 *   an imprecise pointer by any pointer to the same object.  This is sound
 *   because the walk from the kept state and from the new one then passes
 *   the same branches and the same checks: the imprecise value decides none
 *   of them, by construction of the dataflow, which errs towards precise
 *   (a conditional jump makes both operands precise even when neither edge
 *   is ever pruned; Linux marks only jumps whose outcome was decided, but
 *   does so dynamically by walking back the state's history).  Because the
 *   sets are fixed before exploration, a kept state never has to learn
 *   later that one of its values was precise after all, the subtlety
 *   behind Linux's precision propagation into in-progress states.
 *   Callers' registers use the precision at their return site, and their
 *   stack slots are always precise (a callee may store through a pointer).
 *
 * Kept states live in a list per instruction (for widening) and in a hash
 * table keyed by instruction and by the values of the registers that are
 * precise constants in the kept state (its cmask): a state with r3 = 17
 * precise can only cover states with r3 = 17, so a lookup computes the key
 * of the new state for each distinct cmask at that instruction (a handful)
 * and compares only against the states of those chains.  Counted loops and
 * state machines, whose kept states differ mostly in such constants, thus
 * cost a chain walk per prune point rather than a scan of everything kept.
 *
 * Loops.  Spindle accepts loops without a proven bound: the runtime meters
 * fuel on back edges, so termination is not the verifier's business, only
 * safety is.  A loop head is visited precisely for its first V_WIDEN_SOFT
 * states (a counted loop of small trip count is thereby explored exactly,
 * as Linux does); after that, a new state there is widened against the most
 * recent kept one of the same shape, softly until V_WIDEN_HARD states, then
 * fully.  Soft widening keeps pointer offsets that are constant in both
 * states, and numbers that are constant in both as long as they lie within
 * the constants the program compares with (a counter checked against 96
 * stays exact up to 96, and a pointer walking in lockstep with it stays
 * exact, so "p[i] with i < 96" is proven per iteration; a counter compared
 * only with an unknown bound is widened at once, instead of being unrolled
 * to the hard limit).  Other bounds that grew jump to the next threshold (a
 * constant the program compares with, +-1: "widening with thresholds"), or
 * to infinity when there is none; registers of different kinds become
 * NOT_INIT, stack bytes that differ become uninitialised.  The widened
 * state covers the new one, so exploring it instead is sound, and the
 * lattice has finite height, so the loop converges.  Whatever the body then
 * does with the widened values (index an array with a counter whose bound
 * was lost) is checked like anything else: the bounds check the program
 * itself performs refines the value again, and a pointer whose offset is
 * no longer bounded by anything the program checks is refused at its use.
 *
 * Stack slots hold initialised-data bytes, a whole spilled register (an
 * aligned 8-byte store), or a narrow spill: a 4-byte store of a number at a
 * 4-aligned constant offset keeps the number's 32-bit value, so clang's
 * 32-bit locals keep their bounds through the stack; any later write to
 * those bytes forgets it.
 *
 * Budgets: opts->max_states kept states and RT_VERIFY_MAX_INSNS processed
 * instructions; exceeding either rejects with RT_VERR_TOO_COMPLEX.
 */
#include "runtime/alu.h"
#include "runtime/verify_impl.h"

#define V_WIDEN_SOFT         32   /* kept states at a loop head before ranges widen */
#define V_WIDEN_HARD         2048 /* ... before constants widen too */
#define V_DEFAULT_MAX_STATES 32768
#define RT_VERIFY_MAX_INSNS  2000000

/* ---------------------------------------------------------------- tnum -- */

struct tnum tnum_const(uint64_t v)
{
	return (struct tnum){v, 0};
}

struct tnum tnum_unknown(void)
{
	return (struct tnum){0, ~0ull};
}

bool tnum_is_const(struct tnum t)
{
	return t.mask == 0;
}

static struct tnum tnum_add(struct tnum a, struct tnum b)
{
	uint64_t sm = a.mask + b.mask, sv = a.value + b.value, sigma = sm + sv;
	uint64_t chi = sigma ^ sv, mu = chi | a.mask | b.mask;
	return (struct tnum){sv & ~mu, mu};
}

static struct tnum tnum_sub(struct tnum a, struct tnum b)
{
	uint64_t dv = a.value - b.value, alpha = dv + a.mask, beta = dv - b.mask;
	uint64_t chi = alpha ^ beta, mu = chi | a.mask | b.mask;
	return (struct tnum){dv & ~mu, mu};
}

static struct tnum tnum_and(struct tnum a, struct tnum b)
{
	uint64_t alpha = a.value | a.mask, beta = b.value | b.mask, v = a.value & b.value;
	return (struct tnum){v, alpha & beta & ~v};
}

static struct tnum tnum_or(struct tnum a, struct tnum b)
{
	uint64_t v = a.value | b.value, mu = a.mask | b.mask;
	return (struct tnum){v, mu & ~v};
}

static struct tnum tnum_xor(struct tnum a, struct tnum b)
{
	uint64_t v = a.value ^ b.value, mu = a.mask | b.mask;
	return (struct tnum){v & ~mu, mu};
}

static struct tnum tnum_lsh(struct tnum a, unsigned s)
{
	return (struct tnum){a.value << s, a.mask << s};
}

static struct tnum tnum_rsh(struct tnum a, unsigned s)
{
	return (struct tnum){a.value >> s, a.mask >> s};
}

static struct tnum tnum_mul(struct tnum a, struct tnum b)
{
	uint64_t acc_v = a.value * b.value;
	struct tnum acc_m = {0, 0};

	while (a.value || a.mask) {
		if (a.value & 1)
			acc_m = tnum_add(acc_m, (struct tnum){0, b.mask});
		else if (a.mask & 1)
			acc_m = tnum_add(acc_m, (struct tnum){0, b.value | b.mask});
		a = tnum_rsh(a, 1);
		b = tnum_lsh(b, 1);
	}
	return tnum_add((struct tnum){acc_v, 0}, acc_m);
}

static struct tnum tnum_intersect(struct tnum a, struct tnum b)
{
	uint64_t v = a.value | b.value, mu = a.mask & b.mask;
	return (struct tnum){v & ~mu, mu};
}

static struct tnum tnum_join(struct tnum a, struct tnum b)
{
	uint64_t mu = a.mask | b.mask | (a.value ^ b.value);
	return (struct tnum){a.value & ~mu, mu};
}

/* Is every value of b also a value of a? */
static bool tnum_in(struct tnum a, struct tnum b)
{
	if (b.mask & ~a.mask)
		return false;
	return a.value == (b.value & ~a.mask);
}

static struct tnum tnum_range(uint64_t min, uint64_t max)
{
	uint64_t chi = min ^ max, delta;
	int bits = 0;

	while (bits < 64 && (chi >> bits))
		bits++;
	if (bits > 63)
		return tnum_unknown();
	delta = (1ull << bits) - 1;
	return (struct tnum){min & ~delta, delta};
}

static struct tnum tnum_cast32(struct tnum a)
{
	return (struct tnum){a.value & 0xffffffffull, a.mask & 0xffffffffull};
}

/* -------------------------------------------------------- scalar values -- */

static void val_lo32(const struct vreg *r, struct vreg *out);

void vreg_mark_unknown(struct vreg *r)
{
	memset(r, 0, sizeof(*r));
	r->type = V_SCALAR;
	r->smin = INT64_MIN;
	r->smax = INT64_MAX;
	r->umin = 0;
	r->umax = UINT64_MAX;
	r->var = tnum_unknown();
}

void vreg_mark_const(struct vreg *r, uint64_t v)
{
	memset(r, 0, sizeof(*r));
	r->type = V_SCALAR;
	r->smin = r->smax = (int64_t)v;
	r->umin = r->umax = v;
	r->var = tnum_const(v);
}

/* Offset/value part only: keep type and base. */
static void val_unknown(struct vreg *r)
{
	r->smin = INT64_MIN;
	r->smax = INT64_MAX;
	r->umin = 0;
	r->umax = UINT64_MAX;
	r->var = tnum_unknown();
}

static void val_const(struct vreg *r, uint64_t v)
{
	r->smin = r->smax = (int64_t)v;
	r->umin = r->umax = v;
	r->var = tnum_const(v);
}

void vreg_set_bounds(struct vreg *r, uint64_t umin, uint64_t umax)
{
	val_unknown(r);
	r->umin = umin;
	r->umax = umax;
	vreg_sync(r);
}

static uint64_t umax64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}
static uint64_t umin64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}
static int64_t smax64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}
static int64_t smin64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Bits below the lowest unknown bit of t: the value's residue modulo
 * 2^k is known (k = returned shift, 64 for a constant). */
static unsigned tnum_known_low(struct tnum t)
{
	return t.mask ? (unsigned)__builtin_ctzll(t.mask) : 64;
}

/* Pull each bound in to the nearest value with the known low bits (an index
 * that stays even and is at most 1501 is at most 1500).  Every concrete
 * value satisfies both the bound and the known bits, so this only removes
 * values the register cannot hold.  A bound that would wrap is left alone
 * (an empty set is then found by vreg_feasible elsewhere, or not at all:
 * looser, never unsound). */
static void bounds_align(struct vreg *r)
{
	unsigned k = tnum_known_low(r->var);
	uint64_t step, lowm, low, x;

	if (k == 0 || k > 62)
		return; /* nothing known, a constant, or no room to step */
	step = 1ull << k;
	lowm = step - 1;
	low = r->var.value & lowm;
	x = (r->umin & ~lowm) | low;
	if (x < r->umin && x + step > x)
		x += step;
	if (x >= r->umin)
		r->umin = x;
	x = (r->umax & ~lowm) | low;
	if (x > r->umax && x >= step)
		x -= step;
	if (x <= r->umax)
		r->umax = x;
	x = ((uint64_t)r->smin & ~lowm) | low;
	if ((int64_t)x < r->smin && (int64_t)x <= INT64_MAX - (int64_t)step)
		x += step;
	if ((int64_t)x >= r->smin)
		r->smin = (int64_t)x;
	x = ((uint64_t)r->smax & ~lowm) | low;
	if ((int64_t)x > r->smax && (int64_t)x >= INT64_MIN + (int64_t)step)
		x -= step;
	if ((int64_t)x <= r->smax)
		r->smax = (int64_t)x;
}

/* Make the three descriptions (unsigned, signed, known bits) agree, each
 * tightened by what the others know (Linux's __reg_deduce_bounds). */
void vreg_sync(struct vreg *r)
{
	for (int round = 0; round < 2; round++) {
		/* From known bits. */
		r->umin = umax64(r->umin, r->var.value);
		r->umax = umin64(r->umax, r->var.value | r->var.mask);
		r->smin = smax64(r->smin, (int64_t)(r->var.value | (r->var.mask & (1ull << 63))));
		r->smax = smin64(r->smax, (int64_t)(r->var.value | (r->var.mask & ~(1ull << 63))));
		/* Signed and unsigned views of a range that does not cross the
		 * sign boundary are the same range. */
		if (r->smin >= 0 || r->smax < 0) {
			r->umin = umax64(r->umin, (uint64_t)r->smin);
			r->umax = umin64(r->umax, (uint64_t)r->smax);
			r->smin = (int64_t)r->umin;
			r->smax = (int64_t)r->umax;
		} else if ((int64_t)r->umax >= 0) {
			r->smin = (int64_t)r->umin;
			r->umax = umin64(r->umax, (uint64_t)r->smax);
			r->smax = (int64_t)r->umax;
		} else if ((int64_t)r->umin < 0) {
			r->umin = umax64(r->umin, (uint64_t)r->smin);
			r->smin = (int64_t)r->umin;
			r->smax = (int64_t)r->umax;
		}
		if (r->umin <= r->umax)
			r->var = tnum_intersect(r->var, tnum_range(r->umin, r->umax));
		bounds_align(r);
	}
}

/* After refinement: does the value still describe anything? */
static bool vreg_feasible(const struct vreg *r)
{
	return r->umin <= r->umax && r->smin <= r->smax &&
	       r->umin <= (r->var.value | r->var.mask) && r->umax >= r->var.value &&
	       !(r->var.value & r->var.mask);
}

bool vreg_is_const(const struct vreg *r)
{
	return r->type == V_SCALAR && tnum_is_const(r->var);
}

bool vreg_is_ptr(const struct vreg *r)
{
	return r->type >= V_PTR_STACK;
}

bool vreg_is_null_const(const struct vreg *r)
{
	return vreg_is_const(r) && r->var.value == 0;
}

void verify_lo32(const struct vreg *r, struct vreg *out)
{
	val_lo32(r, out);
}

/* The low 32 bits of a value, as a value of its own (zero-extended). */
static void val_lo32(const struct vreg *r, struct vreg *out)
{
	*out = *r;
	if (r->umax <= 0xffffffffull)
		return;
	out->var = tnum_cast32(r->var);
	out->umin = 0;
	out->umax = 0xffffffffull;
	out->smin = 0;
	out->smax = 0xffffffffll;
	vreg_sync(out);
}

/* Truncate a computed value to 32 bits, zero-extended. */
static void val_zext32(struct vreg *r)
{
	if (r->umax <= 0xffffffffull && r->smin >= 0)
		return;
	r->var = tnum_cast32(r->var);
	r->umin = 0;
	r->umax = 0xffffffffull;
	r->smin = 0;
	r->smax = 0xffffffffll;
	vreg_sync(r);
}

/*
 * Exact ALU on constants, by the interpreter's own definition (alu.h).  The
 * encoding was checked by verify_cfg.c, so bpf_alu64/32 cannot refuse it.
 */
static uint64_t fold64(uint8_t op, int16_t off, uint64_t d, uint64_t s)
{
	bpf_alu64(op, off, &d, s);
	return d;
}

static uint32_t fold32(uint8_t op, int16_t off, uint32_t d, uint32_t s)
{
	bpf_alu32(op, off, &d, s);
	return d;
}

/*
 * dst = dst OP src on 64-bit scalar values (or pointer offsets, for ADD and
 * SUB).  Both are initialised scalars (values).  Signed ops (off=1) give an
 * unknown result unless constant.
 */
static void scalar_alu64(struct vreg *d, const struct vreg *s, uint8_t op, int16_t off)
{
	int64_t sr;

	if (tnum_is_const(d->var) && tnum_is_const(s->var)) {
		val_const(d, fold64(op, off, d->var.value, s->var.value));
		return;
	}
	switch (op) {
	case BPF_ADD: {
		struct tnum t = tnum_add(d->var, s->var);
		/* `|`, not `||`: both sums must be computed. */
		bool uo = (int)__builtin_add_overflow(d->umin, s->umin, &d->umin) |
		          (int)__builtin_add_overflow(d->umax, s->umax, &d->umax);
		bool so = __builtin_add_overflow(d->smin, s->smin, &sr) ||
		          (d->smin = sr, __builtin_add_overflow(d->smax, s->smax, &sr)) ||
		          (d->smax = sr, false);
		if (uo) {
			d->umin = 0;
			d->umax = UINT64_MAX;
		}
		if (so) {
			d->smin = INT64_MIN;
			d->smax = INT64_MAX;
		}
		d->var = t;
		break;
	}
	case BPF_SUB: {
		struct tnum t = tnum_sub(d->var, s->var);
		bool uo = d->umin < s->umax;
		int64_t a, b;
		bool so = (int)__builtin_sub_overflow(d->smin, s->smax, &a) |
		          (int)__builtin_sub_overflow(d->smax, s->smin, &b);
		if (uo) {
			d->umin = 0;
			d->umax = UINT64_MAX;
		} else {
			uint64_t lo = d->umin - s->umax, hi = d->umax - s->umin;
			d->umin = lo;
			d->umax = hi;
		}
		if (so) {
			d->smin = INT64_MIN;
			d->smax = INT64_MAX;
		} else {
			d->smin = a;
			d->smax = b;
		}
		d->var = t;
		break;
	}
	case BPF_MUL: {
		struct tnum t = tnum_mul(d->var, s->var);
		if (d->smin >= 0 && s->smin >= 0 && d->umax <= 0xffffffffull &&
		    s->umax <= 0xffffffffull) {
			d->umin = d->umin * s->umin;
			d->umax = d->umax * s->umax;
			d->smin = (int64_t)d->umin;
			d->smax = (int64_t)d->umax;
		} else {
			val_unknown(d);
		}
		d->var = t;
		break;
	}
	case BPF_AND:
		/* x & y <= min(x, y) as unsigned; the rest comes from known bits. */
		d->var = tnum_and(d->var, s->var);
		d->umin = d->var.value;
		d->umax = umin64(d->umax, s->umax);
		d->smin = INT64_MIN;
		d->smax = INT64_MAX;
		break;
	case BPF_OR:
		d->var = tnum_or(d->var, s->var);
		d->umin = umax64(d->umin, s->umin);
		d->umax = d->var.value | d->var.mask;
		d->smin = INT64_MIN;
		d->smax = INT64_MAX;
		break;
	case BPF_XOR:
		d->var = tnum_xor(d->var, s->var);
		d->umin = d->var.value;
		d->umax = d->var.value | d->var.mask;
		d->smin = INT64_MIN;
		d->smax = INT64_MAX;
		break;
	case BPF_LSH:
		if (tnum_is_const(s->var)) {
			unsigned k = s->var.value & 63;
			d->var = tnum_lsh(d->var, k);
			if (k == 0 || d->umax >> (64 - k) == 0) {
				d->umin <<= k;
				d->umax <<= k;
			} else {
				d->umin = 0;
				d->umax = UINT64_MAX;
			}
			d->smin = INT64_MIN;
			d->smax = INT64_MAX;
		} else {
			val_unknown(d);
		}
		break;
	case BPF_RSH:
		if (tnum_is_const(s->var)) {
			unsigned k = s->var.value & 63;
			d->var = tnum_rsh(d->var, k);
			d->umin >>= k;
			d->umax >>= k;
		} else {
			d->var = tnum_unknown();
			d->umin = 0;
			d->umax = d->umax >> (s->umax < 64 ? s->umin : 0);
			if (s->umax >= 64)
				d->umax = UINT64_MAX;
		}
		d->smin = INT64_MIN;
		d->smax = INT64_MAX;
		break;
	case BPF_ARSH:
		if (tnum_is_const(s->var)) {
			unsigned k = s->var.value & 63;
			int64_t lo = d->smin, hi = d->smax;
			/* Arithmetic shifts are monotonic. */
			d->smin = (int64_t)fold64(BPF_ARSH, 0, (uint64_t)lo, k);
			d->smax = (int64_t)fold64(BPF_ARSH, 0, (uint64_t)hi, k);
			d->var.value = fold64(BPF_ARSH, 0, d->var.value, k);
			d->var.mask = fold64(BPF_ARSH, 0, d->var.mask, k);
			d->var.value &= ~d->var.mask;
			d->umin = 0;
			d->umax = UINT64_MAX;
		} else {
			val_unknown(d);
		}
		break;
	case BPF_DIV:
		if (off) {
			val_unknown(d);
		} else if (s->umin > 0) {
			d->umin = d->umin / s->umax;
			d->umax = d->umax / s->umin;
			d->smin = INT64_MIN;
			d->smax = INT64_MAX;
			d->var = tnum_unknown();
		} else {
			/* Division by zero gives 0. */
			d->umin = 0;
			d->smin = INT64_MIN;
			d->smax = INT64_MAX;
			d->var = tnum_unknown();
		}
		break;
	case BPF_MOD:
		if (off) {
			val_unknown(d);
		} else {
			/* x % y <= x, and < y when y != 0; x % 0 = x. */
			uint64_t hi = d->umax;
			if (s->umin > 0)
				hi = umin64(hi, s->umax - 1);
			d->umin = 0;
			d->umax = hi;
			d->smin = INT64_MIN;
			d->smax = INT64_MAX;
			d->var = tnum_unknown();
		}
		break;
	default:
		val_unknown(d);
	}
	vreg_sync(d);
}

/* The same on 32-bit subregisters, zero-extended. */
static void scalar_alu32(struct vreg *d, const struct vreg *s, uint8_t op, int16_t off)
{
	struct vreg a, b;

	val_lo32(d, &a);
	val_lo32(s, &b);
	if (tnum_is_const(a.var) && tnum_is_const(b.var)) {
		val_const(d, fold32(op, off, (uint32_t)a.var.value, (uint32_t)b.var.value));
		return;
	}
	switch (op) {
	case BPF_ADD:
	case BPF_SUB:
	case BPF_MUL:
	case BPF_OR:
	case BPF_AND:
	case BPF_XOR:
	case BPF_RSH:
	case BPF_LSH:
		/* On zero-extended operands, the 64-bit result truncated to 32
		 * bits is the 32-bit result. */
		if ((op == BPF_LSH || op == BPF_RSH) && tnum_is_const(b.var))
			val_const(&b, b.var.value & 31);
		else if (op == BPF_LSH || op == BPF_RSH) {
			val_unknown(d);
			val_zext32(d);
			return;
		}
		scalar_alu64(&a, &b, op, 0);
		*d = a;
		val_zext32(d);
		return;
	case BPF_DIV:
	case BPF_MOD:
		if (!off) {
			scalar_alu64(&a, &b, op, 0);
			*d = a;
			val_zext32(d);
			return;
		}
		/* fallthrough */
	default:
		val_unknown(d);
		val_zext32(d);
	}
}

/* ------------------------------------------------------------ the state -- */

struct vframe *vst_frame(struct vst *s)
{
	return s->frames[s->curframe];
}

static struct vreg *vreg_of(struct vst *s, uint32_t r)
{
	return &s->frames[s->curframe]->regs[r];
}

int verify_grow_slots(struct vframe *f, uint32_t nslots)
{
	struct vslot_st *n;

	if (nslots <= f->nslots)
		return 0;
	n = rt_alloc((size_t)nslots * sizeof(*n));
	if (!n)
		return -RT_ENOMEM;
	if (f->nslots)
		memcpy(n, f->slots, (size_t)f->nslots * sizeof(*n));
	rt_free(f->slots);
	f->slots = n;
	f->nslots = nslots;
	return 0;
}

static struct vframe *frame_clone(const struct vframe *f)
{
	struct vframe *n = rt_alloc(sizeof(*n));

	if (!n)
		return NULL;
	*n = *f;
	n->slots = NULL;
	if (f->nslots) {
		n->slots = rt_alloc((size_t)f->nslots * sizeof(*n->slots));
		if (!n->slots) {
			rt_free(n);
			return NULL;
		}
		memcpy(n->slots, f->slots, (size_t)f->nslots * sizeof(*n->slots));
	}
	return n;
}

static void frame_free(struct vframe *f)
{
	if (f) {
		rt_free(f->slots);
		rt_free(f);
	}
}

void vst_free(struct vst *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i <= s->curframe && i < V_MAX_FRAMES; i++)
		frame_free(s->frames[i]);
	rt_free(s);
}

struct vst *vst_clone(const struct vst *s)
{
	struct vst *n = rt_alloc(sizeof(*n));

	if (!n)
		return NULL;
	*n = *s;
	for (uint32_t i = 0; i < V_MAX_FRAMES; i++)
		n->frames[i] = NULL;
	for (uint32_t i = 0; i <= s->curframe; i++) {
		n->frames[i] = frame_clone(s->frames[i]);
		if (!n->frames[i]) {
			vst_free(n);
			return NULL;
		}
	}
	return n;
}

/* Visit every register and spilled register of every frame. */
#define FOR_EACH_VREG(s, r, body)                                                                  \
	do {                                                                                       \
		for (uint32_t fi_ = 0; fi_ <= (s)->curframe; fi_++) {                              \
			struct vframe *f_ = (s)->frames[fi_];                                      \
			for (uint32_t ri_ = 0; ri_ < BPF_NREGS; ri_++) {                           \
				struct vreg *r = &f_->regs[ri_];                                   \
				body                                                               \
			}                                                                          \
			for (uint32_t si_ = 0; si_ < f_->nslots; si_++) {                          \
				if (f_->slots[si_].kind != S_SPILL)                                \
					continue;                                                  \
				struct vreg *r = &f_->slots[si_].spill;                            \
				body                                                               \
			}                                                                          \
		}                                                                                  \
	} while (0)

/* A null test decided the *_OR_NULL registers of class id. */
void verify_mark_id(struct venv *e, struct vst *s, uint32_t id, bool is_null)
{
	(void)e;
	if (!id)
		return;
	FOR_EACH_VREG(s, r, {
		if ((r->type == V_PTR_MEM_OR_NULL || r->type == V_PTR_REF_OR_NULL) && r->id == id) {
			if (is_null) {
				vreg_mark_const(r, 0);
			} else {
				r->type = r->type == V_PTR_MEM_OR_NULL ? V_PTR_MEM : V_PTR_REF;
				r->id = 0;
			}
		}
	});
	/* A null reference holds nothing: forget the acquisition. */
	if (is_null)
		for (uint32_t i = 0; i < s->nrefs; i++)
			if (s->refs[i].id == id) {
				s->refs[i] = s->refs[--s->nrefs];
				break;
			}
}

/* A reference was released: every copy of it becomes unusable.  The copies
 * keep the reference id as a tombstone (NOT_INIT with ref set), so that a
 * second release is reported as such rather than as an uninitialised read;
 * nothing else looks at the id of a NOT_INIT register. */
void verify_release_ref(struct vst *s, uint32_t ref)
{
	FOR_EACH_VREG(s, r, {
		if ((r->type == V_PTR_REF || r->type == V_PTR_REF_OR_NULL) && r->ref == ref) {
			memset(r, 0, sizeof(*r));
			r->ref = ref;
		}
	});
	for (uint32_t i = 0; i < s->nrefs; i++)
		if (s->refs[i].id == ref) {
			s->refs[i] = s->refs[--s->nrefs];
			break;
		}
}

/* A scalar of class id was refined: its copies learn the same. */
static void propagate_scalar(struct vst *s, const struct vreg *src)
{
	if (src->type != V_SCALAR || !src->id)
		return;
	FOR_EACH_VREG(s, r, {
		if (r->type == V_SCALAR && r->id == src->id)
			*r = *src;
	});
}

/* ------------------------------------------------------- subsumption -- */

#define V_IDMAP 64
struct idmap {
	uint32_t old[V_IDMAP], cur[V_IDMAP];
	uint32_t n;
};

/* Old id `a` must correspond to current id `b`, consistently both ways. */
static bool idmap_check(struct idmap *m, uint32_t a, uint32_t b)
{
	if (!a && !b)
		return true;
	if (!a || !b)
		return false;
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->old[i] == a)
			return m->cur[i] == b;
		if (m->cur[i] == b)
			return false;
	}
	if (m->n == V_IDMAP)
		return false;
	m->old[m->n] = a;
	m->cur[m->n++] = b;
	return true;
}

static bool range_covers(const struct vreg *o, const struct vreg *c)
{
	return o->umin <= c->umin && c->umax <= o->umax && o->smin <= c->smin &&
	       c->smax <= o->smax && tnum_in(o->var, c->var);
}

static bool same_base(const struct vreg *o, const struct vreg *c)
{
	return o->type == c->type && o->writable == c->writable && o->frameno == c->frameno &&
	       o->region == c->region && o->size == c->size && o->rtype == c->rtype;
}

/* Does old value o cover current value c?  An imprecise scalar (one whose
 * exact value cannot matter from here on, see verify_liveness) covers any
 * scalar, and its equal-value class is irrelevant too. */
static bool vreg_covers(const struct vreg *o, const struct vreg *c, struct idmap *m, bool precise)
{
	if (o->type == V_NOT_INIT)
		return true;
	if (o->type != c->type)
		return false;
	if (o->type == V_SCALAR)
		return !precise || (range_covers(o, c) && (!o->id || idmap_check(m, o->id, c->id)));
	/* A pointer's kind is always compared (it decides what may be done
	 * with it); its offset only when it is precise. */
	if (!same_base(o, c) || (precise && !range_covers(o, c)))
		return false;
	if ((o->type == V_PTR_MEM_OR_NULL || o->type == V_PTR_REF_OR_NULL) &&
	    !idmap_check(m, o->id, c->id))
		return false;
	return idmap_check(m, o->ref, c->ref);
}

static bool vreg_is_unknown_scalar(const struct vreg *r)
{
	return r->type == V_SCALAR && !r->id && r->umin == 0 && r->umax == UINT64_MAX &&
	       r->smin == INT64_MIN && r->smax == INT64_MAX && r->var.mask == ~0ull;
}

/* Initialised-data bytes of a slot, with spilled pointers counting as not
 * data (reading them as numbers is forbidden). */
static uint8_t slot_data_init(const struct vslot_st *sl)
{
	if (sl->kind == S_SPILL)
		return sl->spill.type == V_SCALAR ? 0xff : 0;
	return sl->init;
}

static bool slot_covers(const struct vslot_st *o, const struct vslot_st *c, struct idmap *m,
                        bool precise)
{
	static const struct vslot_st empty;

	if (!o)
		o = &empty;
	if (!c)
		c = &empty;
	if (o->kind == S_SPILL) {
		if (c->kind == S_SPILL)
			return vreg_covers(&o->spill, &c->spill, m, precise);
		/* An unknown (or imprecise) scalar spill reads like 8
		 * initialised bytes. */
		return o->spill.type == V_SCALAR &&
		       (!precise || vreg_is_unknown_scalar(&o->spill)) && c->init == 0xff;
	}
	if (o->init & ~slot_data_init(c))
		return false;
	/* A narrow spill's value is known only if the old one knew it too. */
	if (o->narrow && precise) {
		if (c->kind != S_MISC || c->narrow != o->narrow)
			return false;
		return vreg_covers(&o->spill, &c->spill, m, true);
	}
	return true;
}

/* Precision of frame i's registers and slots at a prune point at pc: the
 * current frame's from the dataflow; a caller's registers from its return
 * site (r6-r9 survive the call), and a caller's slots are always precise
 * (the callee may write them through a pointer). */
static uint16_t frame_prec(const struct venv *e, const struct vst *s, uint32_t i, uint32_t pc)
{
	if (i == s->curframe)
		return e->prec[pc];
	return e->prec[s->frames[i + 1]->callsite + 1] & (uint16_t)~0x3fu;
}

static bool vst_covers(const struct venv *e, const struct vst *o, const struct vst *c)
{
	struct idmap m;
	uint32_t pc = c->insn;

	m.n = 0;
	if (o->curframe != c->curframe || o->nrefs != c->nrefs)
		return false;
	for (uint32_t i = 0; i <= o->curframe; i++)
		if (o->frames[i]->callsite != c->frames[i]->callsite)
			return false;
	/* The current frame first: that is where states usually differ. */
	for (uint32_t i = o->curframe + 1; i-- > 0;) {
		const struct vframe *fo = o->frames[i], *fc = c->frames[i];
		uint32_t ns = fo->nslots > fc->nslots ? fo->nslots : fc->nslots;
		uint16_t prec = frame_prec(e, c, i, pc);
		uint64_t sprec = i == c->curframe ? e->sprec[pc] : ~0ull;
		for (uint32_t r = 0; r < BPF_NREGS; r++)
			if (!vreg_covers(&fo->regs[r], &fc->regs[r], &m, (prec >> r) & 1))
				return false;
		for (uint32_t k = 0; k < ns; k++)
			if (!slot_covers(k < fo->nslots ? &fo->slots[k] : NULL,
			                 k < fc->nslots ? &fc->slots[k] : NULL, &m,
			                 (sprec >> (k & 63)) & 1))
				return false;
	}
	for (uint32_t i = 0; i < o->nrefs; i++)
		if (!idmap_check(&m, o->refs[i].id, c->refs[i].id))
			return false;
	return true;
}

/* --------------------------------------------------------- widening -- */

static bool vst_same_shape(const struct vst *o, const struct vst *c)
{
	if (o->curframe != c->curframe || o->nrefs != c->nrefs)
		return false;
	for (uint32_t i = 0; i <= o->curframe; i++)
		if (o->frames[i]->callsite != c->frames[i]->callsite)
			return false;
	for (uint32_t i = 0; i < o->nrefs; i++)
		if (o->refs[i].id != c->refs[i].id)
			return false;
	return true;
}

/* Flipping the sign bit maps the signed order onto the unsigned one, so
 * widen_bound compares int64_t bounds and thresholds as uint64_t ones
 * (INT64_MIN and INT64_MAX become 0 and UINT64_MAX). */
#define WIDEN_SIGNED (1ull << 63)

/* One bound of widen_val: *c (a minimum unless up) has moved past o, down
 * for a minimum, up for a maximum: jump to the nearest threshold at or
 * beyond it (thr is sorted, n entries), or to the extreme when there is
 * none, and return true.  Otherwise take o.  bias is 0 for an unsigned
 * bound, WIDEN_SIGNED for a signed one (its int64_t storage read as
 * uint64_t, which C allows). */
static bool widen_bound(uint64_t *c, uint64_t o, const uint64_t *thr, uint32_t n, uint64_t bias,
                        bool up)
{
	uint64_t cv = *c ^ bias, ov = o ^ bias, v = up ? UINT64_MAX : 0;

	if (up ? cv <= ov : cv >= ov) {
		*c = o;
		return false;
	}
	if (up) {
		for (uint32_t i = 0; i < n; i++)
			if ((thr[i] ^ bias) >= cv) {
				v = thr[i] ^ bias;
				break;
			}
	} else {
		for (uint32_t i = n; i-- > 0;)
			if ((thr[i] ^ bias) <= cv) {
				v = thr[i] ^ bias;
				break;
			}
	}
	*c = v ^ bias;
	return true;
}

/* c := something covering both o and c.  A bound that moved jumps to the
 * next threshold beyond it (a constant the program compares with), or to
 * its extreme when there is none: finitely many steps, so loops converge. */
static void widen_val(const struct venv *e, const struct vreg *o, struct vreg *c, bool hard)
{
	bool grew = false;

	/* Soft widening keeps constants: a counted loop's counter (and the
	 * pointer walking with it) stays exact, which is what proves accesses
	 * whose bound is a relation between the two.  A number is kept only
	 * while it lies within the constants the program compares with: past
	 * them no comparison with a constant can stop the loop, so counting on
	 * would only unroll an unbounded loop up to the hard limit. */
	if (!hard && tnum_is_const(o->var) && tnum_is_const(c->var)) {
		int64_t v = (int64_t)c->var.value;
		if (c->type != V_SCALAR ||
		    (e->nthr && v >= e->sthr[0] && v <= e->sthr[e->nthr - 1]))
			return;
	}

	grew |= widen_bound(&c->umin, o->umin, e->uthr, e->nthr, 0, false);
	grew |= widen_bound(&c->umax, o->umax, e->uthr, e->nthr, 0, true);
	grew |= widen_bound((uint64_t *)&c->smin, (uint64_t)o->smin, (const uint64_t *)e->sthr,
	                    e->nthr, WIDEN_SIGNED, false);
	grew |= widen_bound((uint64_t *)&c->smax, (uint64_t)o->smax, (const uint64_t *)e->sthr,
	                    e->nthr, WIDEN_SIGNED, true);
	c->var = tnum_join(o->var, c->var);
	if (grew) {
		/* Keep only the low bits both states know alike (an index
		 * stepping by 2 from an even start stays even); everything
		 * above the lowest differing bit becomes unknown.  The known
		 * low bits only ever shrink, so this still converges. */
		unsigned k = tnum_known_low(c->var);
		uint64_t lowm = k == 64 ? ~0ull : (1ull << k) - 1;
		c->var.value &= lowm;
		c->var.mask = ~lowm;
	}
	vreg_sync(c);
}

static void widen_reg(const struct venv *e, const struct vreg *o, struct vreg *c, bool hard)
{
	if (c->type == V_NOT_INIT)
		return;
	if (o->type != c->type || (c->type != V_SCALAR && !same_base(o, c)) || o->ref != c->ref) {
		memset(c, 0, sizeof(*c));
		return;
	}
	widen_val(e, o, c, hard);
	if (o->id != c->id && c->type == V_SCALAR)
		c->id = 0;
}

static void widen_state(const struct venv *e, const struct vst *o, struct vst *c, bool hard)
{
	for (uint32_t i = 0; i <= c->curframe; i++) {
		const struct vframe *fo = o->frames[i];
		struct vframe *fc = c->frames[i];
		for (uint32_t r = 0; r < BPF_NREGS; r++)
			widen_reg(e, &fo->regs[r], &fc->regs[r], hard);
		for (uint32_t k = 0; k < fc->nslots; k++) {
			struct vslot_st *sc = &fc->slots[k];
			const struct vslot_st *so = k < fo->nslots ? &fo->slots[k] : NULL;
			if (so && so->kind == S_SPILL && sc->kind == S_SPILL &&
			    so->spill.type == sc->spill.type) {
				widen_reg(e, &so->spill, &sc->spill, hard);
				if (sc->spill.type != V_NOT_INIT)
					continue;
			}
			uint8_t init = slot_data_init(sc) & (so ? slot_data_init(so) : 0);
			bool narrow = so && so->kind == S_MISC && sc->kind == S_MISC &&
			              so->narrow && so->narrow == sc->narrow;
			if (narrow) {
				widen_reg(e, &so->spill, &sc->spill, hard);
				sc->init = init;
				continue;
			}
			memset(sc, 0, sizeof(*sc));
			sc->kind = S_MISC;
			sc->init = init;
		}
	}
}

/* ------------------------------------------------------------- pruning -- */

/* Forget what nobody reads again: in the current frame the registers and
 * stack slots dead at pc, in each caller the registers dead at its return
 * site (r0-r5 are rewritten by the return).  Callers' slots are kept: the
 * callee may read them through a pointer. */
static void forget_dead(struct venv *e, struct vst *cur)
{
	uint16_t live = e->live[cur->insn];
	struct vframe *top = cur->frames[cur->curframe];
	uint64_t slive = e->slive[cur->insn];

	for (uint32_t k = 0; k < top->nslots; k++)
		if (!((slive >> (k & 63)) & 1))
			memset(&top->slots[k], 0, sizeof(top->slots[k]));
	/* Trailing empty slots carry nothing: drop them, so states differ less. */
	while (top->nslots && top->slots[top->nslots - 1].kind == S_MISC &&
	       !top->slots[top->nslots - 1].init)
		top->nslots--;
	for (uint32_t i = cur->curframe + 1; i-- > 0;) {
		struct vframe *f = cur->frames[i];
		for (uint32_t r = 0; r < BPF_REG_FP; r++)
			if (!(live & (1u << r)))
				memset(&f->regs[r], 0, sizeof(f->regs[r]));
		if (i > 0)
			live = e->live[cur->frames[i]->callsite + 1] & (uint16_t)~0x3fu;
	}
}

/* Verbose log: the registers of a state kept at a prune point, '*' marking
 * the precise ones. */
static void log_kept(struct venv *e, const struct vst *s)
{
	const struct vframe *f = s->frames[s->curframe];
	char d[96];

	if (!e->opts || !e->opts->log)
		return;
	verify_log(e, "keep insn %u frame %u:", s->insn, s->curframe);
	for (uint32_t r = 0; r < BPF_REG_FP; r++) {
		if (f->regs[r].type == V_NOT_INIT)
			continue;
		verify_describe(e, &f->regs[r], d, sizeof(d));
		verify_log(e, " r%u%s=%s", r, (e->prec[s->insn] >> r) & 1 ? "*" : "", d);
	}
	for (uint32_t k = 0; k < f->nslots; k++) {
		const struct vslot_st *sl = &f->slots[k];
		if (sl->kind == S_SPILL) {
			verify_describe(e, &sl->spill, d, sizeof(d));
			verify_log(e, " fp-%u%s=%s", 8 * (k + 1),
			           (e->sprec[s->insn] >> (k & 63)) & 1 ? "*" : "", d);
		} else if (sl->init) {
			verify_log(e, " fp-%u=misc(%02x)", 8 * (k + 1), sl->init);
		}
	}
	verify_log(e, "\n");
}

/* Returns 1 if cur is covered by a kept state (drop it), 0 after keeping a
 * copy (possibly after widening cur), or a negative error. */
/* The hash key of state s at pc for the registers in cm; false if one of
 * them is not a constant scalar in s (then no state of that cmask can
 * cover s). */
static bool state_key(const struct vst *s, uint32_t pc, uint16_t cm, uint64_t *key)
{
	const struct vframe *f = s->frames[s->curframe];
	uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)pc << 16) ^ cm;

	for (uint32_t r = 0; r < BPF_REG_FP; r++) {
		const struct vreg *x = &f->regs[r];
		if (!((cm >> r) & 1))
			continue;
		if (x->type != V_SCALAR || !tnum_is_const(x->var))
			return false;
		h = (h ^ x->var.value) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	/* splitmix64's finaliser: every input bit reaches the bucket bits. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	*key = h;
	return true;
}

/* Is cur covered by a state kept at its insn? */
static bool covered(const struct venv *e, const struct vst *cur)
{
	uint32_t pc = cur->insn;

	if (!e->hsize)
		return false;
	for (uint32_t i = 0; i < e->ncmasks[pc]; i++) {
		uint16_t cm = e->cmasks[pc][i];
		uint64_t key;
		if (!state_key(cur, pc, cm, &key))
			continue;
		for (const struct vstored *k = e->htab[key & (e->hsize - 1)]; k; k = k->hnext)
			if (k->key == key && k->cmask == cm && k->st.insn == pc &&
			    vst_covers(e, &k->st, cur))
				return true;
	}
	return false;
}

static int hash_insert(struct venv *e, struct vstored *n)
{
	if (e->nstates >= e->hsize) {
		uint32_t size = e->hsize ? e->hsize * 2 : 1024;
		struct vstored **t = rt_alloc((size_t)size * sizeof(*t));
		if (!t)
			return -RT_ENOMEM;
		for (uint32_t b = 0; b < e->hsize; b++)
			for (struct vstored *k = e->htab[b], *nx; k; k = nx) {
				nx = k->hnext;
				k->hnext = t[k->key & (size - 1)];
				t[k->key & (size - 1)] = k;
			}
		rt_free(e->htab);
		e->htab = t;
		e->hsize = size;
	}
	n->hnext = e->htab[n->key & (e->hsize - 1)];
	e->htab[n->key & (e->hsize - 1)] = n;
	return 0;
}

/* Index a new kept state: its cmask is the precise constant scalars of the
 * current frame, or 0 once the insn has V_NCMASK distinct ones (0 matches
 * any state, at the price of a longer chain). */
static void state_index(struct venv *e, struct vstored *n)
{
	const struct vframe *f = n->st.frames[n->st.curframe];
	uint32_t pc = n->st.insn, i;
	uint16_t cm = 0;

	for (uint32_t r = 0; r < BPF_REG_FP; r++)
		if (((e->prec[pc] >> r) & 1) && f->regs[r].type == V_SCALAR &&
		    tnum_is_const(f->regs[r].var))
			cm |= (uint16_t)(1u << r);
	for (i = 0; i < e->ncmasks[pc] && e->cmasks[pc][i] != cm; i++)
		;
	if (i == e->ncmasks[pc]) {
		if (i == V_NCMASK) {
			cm = 0;
			for (i = 0; i < V_NCMASK && e->cmasks[pc][i]; i++)
				;
			if (i == V_NCMASK) {
				/* Full without 0: make the last slot 0's.  States
				 * indexed under the old mask there stay in their
				 * chains but are no longer looked up: only a lost
				 * pruning opportunity, never a wrong one. */
				i = V_NCMASK - 1;
			}
			e->cmasks[pc][i] = 0;
		} else {
			e->cmasks[pc][i] = cm;
			e->ncmasks[pc]++;
		}
	}
	n->cmask = cm;
	state_key(&n->st, pc, cm, &n->key);
}

static int prune_or_keep(struct venv *e, struct vst *cur)
{
	uint32_t pc = cur->insn;
	struct vstored *k, *n;
	int rc;

	forget_dead(e, cur);

	if (covered(e, cur))
		return 1;
	if ((e->iflags[pc] & VI_LOOP_HEAD) && e->nstored[pc] >= V_WIDEN_SOFT) {
		bool hard = e->nstored[pc] >= V_WIDEN_HARD;
		for (k = e->stored[pc]; k; k = k->next)
			if (vst_same_shape(&k->st, cur))
				break;
		if (k) {
			verify_log(e, "insn %u: %s widening after %u kept states\n", pc,
			           hard ? "hard" : "soft", e->nstored[pc]);
			widen_state(e, &k->st, cur, hard);
			if (covered(e, cur))
				return 1;
		}
	}
	if (++e->nstates > e->max_states)
		return verify_reject(e, pc, RT_VERR_TOO_COMPLEX,
		                     "program too complex: more than %u verifier states",
		                     e->max_states);
	n = rt_alloc(sizeof(*n));
	if (!n)
		return -RT_ENOMEM;
	struct vst *cl = vst_clone(cur);
	if (!cl) {
		rt_free(n);
		return -RT_ENOMEM;
	}
	n->st = *cl;
	rt_free(cl); /* frames now owned by n->st */
	n->next = e->stored[pc];
	e->stored[pc] = n;
	state_index(e, n);
	if ((rc = hash_insert(e, n)))
		return rc;
	log_kept(e, cur);
	if (e->nstored[pc] < UINT16_MAX)
		e->nstored[pc]++;
	return 0;
}

/* ------------------------------------------------------------ the walk -- */

static int need_init(struct venv *e, struct vst *s, uint32_t pc, uint32_t r)
{
	if (vreg_of(s, r)->type == V_NOT_INIT)
		return verify_reject(e, pc, RT_VERR_UNINIT_REG, "r%u is read before it is set", r);
	return 0;
}

static const char *ptr_kind_name(const struct vreg *r)
{
	switch (r->type) {
	case V_PTR_STACK:
		return "a stack pointer";
	case V_PTR_CTX:
		return "the context pointer";
	case V_PTR_GLOBAL:
		return "a pointer to globals";
	case V_PTR_MEM:
		return "a memory pointer";
	case V_PTR_MEM_OR_NULL:
		return "a possibly-null memory pointer";
	case V_PTR_REF:
		return "a reference";
	case V_PTR_REF_OR_NULL:
		return "a possibly-null reference";
	}
	return "a scalar";
}

static int alu(struct venv *e, struct vst *s, uint32_t pc, const struct bpf_insn *in)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	/* BPF_END reuses the source bit for the byte order: it has no source
	 * register, so r0 (field 0) must not be required to be set. */
	bool is64 = cls == BPF_ALU64, isx = BPF_SRC(in->code) == BPF_X && op != BPF_END;
	struct vreg *d = vreg_of(s, in->dst), src;
	char desc[96];
	int rc;

	if (isx && op == BPF_MOV && is64 && !in->off && vreg_of(s, in->src)->type == V_NOT_INIT &&
	    vreg_of(s, in->src)->ref) {
		/* Copying a released reference's tombstone is harmless (every
		 * use of the copy is refused) and keeps a later second release
		 * reported as one. */
		*d = *vreg_of(s, in->src);
		return 0;
	}
	if (isx) {
		if ((rc = need_init(e, s, pc, in->src)))
			return rc;
		src = *vreg_of(s, in->src);
	} else {
		vreg_mark_const(&src, is64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm);
	}

	if (op == BPF_MOV) {
		if (vreg_is_ptr(&src)) {
			if (!is64 || in->off)
				return verify_reject(
				    e, pc, is64 ? RT_VERR_PTR_ALU : RT_VERR_PTR_ALU32,
				    "r%u is %s; a %s move would turn it into a number", in->src,
				    ptr_kind_name(&src), is64 ? "sign-extending" : "32-bit");
			*d = src;
			return 0;
		}
		if (!isx) {
			*d = src;
			return 0;
		}
		if (in->off) {
			/* movsx: sign-extend the low 8/16/32 bits. */
			int bits = in->off;
			if (tnum_is_const(src.var)) {
				uint64_t v = src.var.value;
				int64_t x = bits == 8    ? (int8_t)v
				            : bits == 16 ? (int16_t)v
				                         : (int32_t)v;
				vreg_mark_const(d, is64 ? (uint64_t)x : (uint32_t)x);
			} else if (src.umax < (1ull << (bits - 1))) {
				*d = src; /* sign bit clear: a plain copy */
				d->id = 0;
			} else {
				vreg_mark_unknown(d);
				if (is64) {
					d->smin = -(1ll << (bits - 1));
					d->smax = (1ll << (bits - 1)) - 1;
					vreg_sync(d);
				} else {
					val_zext32(d);
				}
			}
			return 0;
		}
		if (is64) {
			/* A copy shares the value: give both the same class so a
			 * bounds check on one refines the other. */
			if (!vreg_is_const(&src) && !vreg_of(s, in->src)->id)
				vreg_of(s, in->src)->id = ++e->next_id;
			*d = *vreg_of(s, in->src);
		} else {
			*d = src;
			d->id = 0;
			val_zext32(d);
			if (src.umax <= 0xffffffffull && vreg_of(s, in->src)->id) {
				/* The 32-bit copy of a 32-bit value is the same value. */
				*d = *vreg_of(s, in->src);
			}
		}
		return 0;
	}

	if (op == BPF_NEG || op == BPF_END) {
		if ((rc = need_init(e, s, pc, in->dst)))
			return rc;
		if (vreg_is_ptr(d))
			return verify_reject(e, pc, RT_VERR_PTR_ALU,
			                     "r%u is %s; %s would turn it into a number", in->dst,
			                     ptr_kind_name(d),
			                     op == BPF_NEG ? "negating it" : "swapping its bytes");
		d->id = 0;
		if (op == BPF_NEG) {
			struct vreg z;
			vreg_mark_const(&z, 0);
			if (is64)
				scalar_alu64(&z, d, BPF_SUB, 0);
			else
				scalar_alu32(&z, d, BPF_SUB, 0);
			*d = z;
			return 0;
		}
		bool swap = is64 || BPF_SRC(in->code) == BPF_TO_BE;
		if (tnum_is_const(d->var)) {
			uint64_t v = d->var.value;
			bpf_end(&v, in->imm, swap);
			vreg_mark_const(d, v);
		} else if (in->imm == 64) {
			if (swap)
				vreg_mark_unknown(d);
		} else {
			uint64_t lim = in->imm == 16 ? 0xffff : 0xffffffffull;
			if (swap || d->umax > lim)
				vreg_set_bounds(d, 0, lim);
		}
		return 0;
	}

	if ((rc = need_init(e, s, pc, in->dst)))
		return rc;

	/* Pointer arithmetic. */
	if (vreg_is_ptr(d) || vreg_is_ptr(&src)) {
		const struct vreg *p = vreg_is_ptr(d) ? d : &src;
		uint32_t pr = vreg_is_ptr(d) ? in->dst : in->src;
		verify_describe(e, p, desc, sizeof(desc));
		if (!is64)
			return verify_reject(
			    e, pc, RT_VERR_PTR_ALU32,
			    "r%u is %s; 32-bit arithmetic on pointers is not allowed (r%u=%s)", pr,
			    ptr_kind_name(p), pr, desc);
		if (p->type == V_PTR_REF || p->type == V_PTR_REF_OR_NULL)
			return verify_reject(e, pc, RT_VERR_REF_ALU,
			                     "r%u is a typed reference; arithmetic on references "
			                     "is not allowed (r%u=%s)",
			                     pr, pr, desc);
		if (p->type == V_PTR_MEM_OR_NULL)
			return verify_reject(
			    e, pc, RT_VERR_NULL_ALU,
			    "r%u may be null; test it against 0 before arithmetic (r%u=%s)", pr, pr,
			    desc);
		if (vreg_is_ptr(d) && vreg_is_ptr(&src)) {
			if (op == BPF_SUB && same_base(d, &src) && d->type != V_PTR_MEM) {
				struct vreg diff = *d;
				scalar_alu64(&diff, &src, BPF_SUB, 0);
				vreg_mark_unknown(d);
				d->smin = diff.smin;
				d->smax = diff.smax;
				d->umin = diff.umin;
				d->umax = diff.umax;
				d->var = diff.var;
				vreg_sync(d);
				return 0;
			}
			return verify_reject(
			    e, pc, op == BPF_SUB ? RT_VERR_PTR_SUB : RT_VERR_PTR_ALU,
			    "r%u and r%u are pointers %s", in->dst, in->src,
			    op == BPF_SUB
			        ? "into different objects; their difference would reveal addresses"
			        : "; only pointer + number is allowed");
		}
		if (op == BPF_ADD || (op == BPF_SUB && vreg_is_ptr(d))) {
			if (vreg_is_ptr(d)) {
				scalar_alu64(d, &src, op, 0);
			} else {
				struct vreg res = src;
				scalar_alu64(&res, d, BPF_ADD, 0);
				*d = res;
			}
			d->id = 0;
			return 0;
		}
		return verify_reject(
		    e, pc, RT_VERR_PTR_ALU,
		    "r%u is %s; this operation would turn it into a number (r%u=%s)", pr,
		    ptr_kind_name(p), pr, desc);
	}

	d->id = 0;
	if (is64)
		scalar_alu64(d, &src, op, in->off);
	else
		scalar_alu32(d, &src, op, in->off);
	return 0;
}

static int lddw(struct venv *e, struct vst *s, const struct bpf_insn *in)
{
	struct vreg *d = vreg_of(s, in->dst);
	const struct bpf_insn *i2 = in + 1;

	if (in->src == BPF_PSEUDO_GLOBAL) {
		memset(d, 0, sizeof(*d));
		d->type = V_PTR_GLOBAL;
		d->region = (uint8_t)in->imm;
		d->writable = e->p->globals[in->imm].kind != RT_GLOBAL_RODATA;
		d->size = e->p->globals[in->imm].size;
		val_const(d, (uint64_t)(int64_t)i2->imm);
		return 0;
	}
	vreg_mark_const(d, (uint32_t)in->imm | ((uint64_t)(uint32_t)i2->imm << 32));
	return 0;
}

/* ---------------------------------------------------------- branches -- */

/* Canonical relations "x REL y" after normalising op and edge. */
enum { REL_EQ, REL_NE, REL_GT, REL_GE, REL_SGT, REL_SGE, REL_SET, REL_NSET };

static void normalise(uint8_t op, bool taken, int *rel, bool *swap)
{
	*swap = false;
	switch (op) {
	case BPF_JEQ:
		*rel = taken ? REL_EQ : REL_NE;
		break;
	case BPF_JNE:
		*rel = taken ? REL_NE : REL_EQ;
		break;
	case BPF_JGT:
		*rel = taken ? REL_GT : REL_GE;
		*swap = !taken;
		break;
	case BPF_JGE:
		*rel = taken ? REL_GE : REL_GT;
		*swap = !taken;
		break;
	case BPF_JLT:
		*rel = taken ? REL_GT : REL_GE;
		*swap = taken;
		break;
	case BPF_JLE:
		*rel = taken ? REL_GE : REL_GT;
		*swap = taken;
		break;
	case BPF_JSGT:
		*rel = taken ? REL_SGT : REL_SGE;
		*swap = !taken;
		break;
	case BPF_JSGE:
		*rel = taken ? REL_SGE : REL_SGT;
		*swap = !taken;
		break;
	case BPF_JSLT:
		*rel = taken ? REL_SGT : REL_SGE;
		*swap = taken;
		break;
	case BPF_JSLE:
		*rel = taken ? REL_SGE : REL_SGT;
		*swap = taken;
		break;
	default:
		*rel = taken ? REL_SET : REL_NSET;
		break;
	}
}

/* Is "x REL y" always (1), never (0) or sometimes (-1) true? */
static int rel_decided(int rel, const struct vreg *x, const struct vreg *y)
{
	switch (rel) {
	case REL_EQ:
	case REL_NE: {
		int eq = -1;
		if (tnum_is_const(x->var) && tnum_is_const(y->var))
			eq = x->var.value == y->var.value;
		else if (x->umax < y->umin || x->umin > y->umax || x->smax < y->smin ||
		         x->smin > y->smax ||
		         ((x->var.value ^ y->var.value) & ~(x->var.mask | y->var.mask)))
			eq = 0;
		if (eq < 0)
			return -1;
		return rel == REL_EQ ? eq : !eq;
	}
	case REL_GT:
		if (x->umin > y->umax)
			return 1;
		if (x->umax <= y->umin)
			return 0;
		return -1;
	case REL_GE:
		if (x->umin >= y->umax)
			return 1;
		if (x->umax < y->umin)
			return 0;
		return -1;
	case REL_SGT:
		if (x->smin > y->smax)
			return 1;
		if (x->smax <= y->smin)
			return 0;
		return -1;
	case REL_SGE:
		if (x->smin >= y->smax)
			return 1;
		if (x->smax < y->smin)
			return 0;
		return -1;
	case REL_SET:
	case REL_NSET: {
		int set = -1;
		if (x->var.value & y->var.value)
			set = 1;
		else if (!((x->var.value | x->var.mask) & (y->var.value | y->var.mask)))
			set = 0;
		if (set < 0)
			return -1;
		return rel == REL_SET ? set : !set;
	}
	}
	return -1;
}

/* Refine x and y so that "x REL y" holds; false if impossible. */
static bool rel_refine(int rel, struct vreg *x, struct vreg *y)
{
	switch (rel) {
	case REL_EQ:
		x->umin = y->umin = umax64(x->umin, y->umin);
		x->umax = y->umax = umin64(x->umax, y->umax);
		x->smin = y->smin = smax64(x->smin, y->smin);
		x->smax = y->smax = smin64(x->smax, y->smax);
		x->var = y->var = tnum_intersect(x->var, y->var);
		if ((x->var.value ^ y->var.value) & ~(x->var.mask | y->var.mask))
			return false;
		break;
	case REL_NE:
		for (int k = 0; k < 2; k++) {
			struct vreg *a = k ? y : x, *b = k ? x : y;
			if (!tnum_is_const(b->var))
				continue;
			uint64_t v = b->var.value;
			if (a->umin == v) {
				if (v == UINT64_MAX)
					return false;
				a->umin++;
			}
			if (a->umax == v) {
				if (v == 0)
					return false;
				a->umax--;
			}
			if (a->smin == (int64_t)v) {
				if ((int64_t)v == INT64_MAX)
					return false;
				a->smin++;
			}
			if (a->smax == (int64_t)v) {
				if ((int64_t)v == INT64_MIN)
					return false;
				a->smax--;
			}
		}
		break;
	case REL_GT:
		if (y->umin == UINT64_MAX || x->umax == 0)
			return false;
		x->umin = umax64(x->umin, y->umin + 1);
		y->umax = umin64(y->umax, x->umax - 1);
		break;
	case REL_GE:
		x->umin = umax64(x->umin, y->umin);
		y->umax = umin64(y->umax, x->umax);
		break;
	case REL_SGT:
		if (y->smin == INT64_MAX || x->smax == INT64_MIN)
			return false;
		x->smin = smax64(x->smin, y->smin + 1);
		y->smax = smin64(y->smax, x->smax - 1);
		break;
	case REL_SGE:
		x->smin = smax64(x->smin, y->smin);
		y->smax = smin64(y->smax, x->smax);
		break;
	case REL_SET:
		if (tnum_is_const(y->var) && y->var.value && !(y->var.value & (y->var.value - 1))) {
			x->var.value |= y->var.value;
			x->var.mask &= ~y->var.value;
		}
		break;
	case REL_NSET:
		if (tnum_is_const(y->var)) {
			x->var.value &= ~y->var.value;
			x->var.mask &= ~y->var.value;
		}
		break;
	}
	if (!vreg_feasible(x) || !vreg_feasible(y))
		return false;
	vreg_sync(x);
	vreg_sync(y);
	return vreg_feasible(x) && vreg_feasible(y);
}

/* Is a pointer certainly not 0?  Only while it points into (or one past)
 * its object: a real object is never at address 0, whatever the address
 * space layout; a pointer moved out of its object could be anything. */
static bool ptr_nonzero(const struct venv *e, const struct vreg *r)
{
	int64_t lo = 0, hi;

	switch (r->type) {
	case V_PTR_STACK:
		lo = -BPF_STACK_SIZE;
		hi = 0;
		break;
	case V_PTR_CTX:
	case V_PTR_MEM:
		hi = r->size;
		break;
	case V_PTR_GLOBAL:
		hi = r->region < e->p->nglobals ? e->p->globals[r->region].size : 0;
		break;
	case V_PTR_REF:
		hi = r->rtype ? r->rtype->size : 0;
		break;
	default:
		return false;
	}
	return r->smin >= lo && r->smax <= hi;
}

/* r's low 32 bits are known to lie in the 32-bit value v: keep what v's
 * known bits say about them (the high half stays as it was). */
static void lo32_refine(struct vst *s, struct vreg *r, const struct vreg *v)
{
	struct tnum lift = {v->var.value & 0xffffffffull, v->var.mask | 0xffffffff00000000ull};
	struct tnum t = tnum_intersect(r->var, lift);

	if ((r->var.value ^ lift.value) & ~(r->var.mask | lift.mask))
		return; /* contradiction: the edge is infeasible, keep r as is */
	r->var = t;
	vreg_sync(r);
	if (!vreg_feasible(r)) {
		/* Cannot happen for a feasible edge; stay conservative. */
		val_unknown(r);
		return;
	}
	propagate_scalar(s, r);
}

/* The edges of a refined conditional jump: s is the fall-through state, t
 * its clone for the taken edge; tok and fok say which edge is feasible.
 * Only the fall-through: t is dropped (0).  Only the taken edge: s
 * continues in t's state (1).  Both: t goes to target as *other (2). */
static int branch_edges(struct vst *s, struct vst *t, bool tok, bool fok, uint32_t target,
                        struct vst **other)
{
	if (!tok) {
		vst_free(t);
		return 0;
	}
	if (!fok) {
		struct vst tmp = *s;
		*s = *t;
		*t = tmp;
		vst_free(t);
		return 1;
	}
	t->insn = target;
	*other = t;
	return 2;
}

/* Conditional jump: returns 0 and sets *follow to 0 (fall through only), 1
 * (jump only) or 2 (both: *other gets the taken state, already pushed). */
static int branch(struct venv *e, struct vst *s, uint32_t pc, const struct bpf_insn *in,
                  struct vst **other)
{
	uint8_t op = BPF_OP(in->code);
	bool is32 = BPF_CLASS(in->code) == BPF_JMP32, isx = BPF_SRC(in->code) == BPF_X;
	struct vreg *d = vreg_of(s, in->dst), src, *sp = NULL;
	uint32_t target = pc + 1 + (uint32_t)(int32_t)in->off;
	int decided = -1, rc;
	char desc[96];

	*other = NULL;
	if ((rc = need_init(e, s, pc, in->dst)))
		return rc;
	if (isx) {
		if ((rc = need_init(e, s, pc, in->src)))
			return rc;
		sp = vreg_of(s, in->src);
		src = *sp;
	} else {
		vreg_mark_const(&src, is32 ? (uint32_t)in->imm : (uint64_t)(int64_t)in->imm);
	}

	if (vreg_is_ptr(d) || vreg_is_ptr(&src)) {
		struct vreg *p = vreg_is_ptr(d) ? d : (sp ? sp : &src);
		const struct vreg *other_op = vreg_is_ptr(d) ? &src : d;
		verify_describe(e, p, desc, sizeof(desc));
		if (is32)
			return verify_reject(
			    e, pc, RT_VERR_PTR_CMP,
			    "32-bit comparison of %s would reveal part of its address (%s)",
			    ptr_kind_name(p), desc);
		if (vreg_is_ptr(d) && vreg_is_ptr(&src)) {
			if (!same_base(d, &src) || d->type == V_PTR_MEM_OR_NULL ||
			    (d->type == V_PTR_REF_OR_NULL && op != BPF_JEQ && op != BPF_JNE))
				return verify_reject(e, pc, RT_VERR_PTR_CMP,
				                     "r%u and r%u point to different objects; "
				                     "comparing them would reveal addresses",
				                     in->dst, in->src);
			if ((d->type == V_PTR_REF) && op != BPF_JEQ && op != BPF_JNE)
				return verify_reject(
				    e, pc, RT_VERR_PTR_CMP,
				    "references can only be compared for equality");
			/* Two memory pointers of the same size and rights may come
			 * from different calls (the verifier does not track which
			 * object): ordering them would reveal their placement. */
			if (d->type == V_PTR_MEM && op != BPF_JEQ && op != BPF_JNE)
				return verify_reject(e, pc, RT_VERR_PTR_CMP,
				                     "r%u and r%u may point into different "
				                     "objects; only ==/!= may compare them",
				                     in->dst, in->src);
			decided = -1;
		} else {
			if (!vreg_is_null_const(other_op) || (op != BPF_JEQ && op != BPF_JNE))
				return verify_reject(
				    e, pc, RT_VERR_PTR_CMP,
				    "%s compared with a number other than 0 by %s would reveal its "
				    "address (%s)",
				    ptr_kind_name(p),
				    op == BPF_JEQ || op == BPF_JNE ? "==/!=" : "an ordering", desc);
			if (p->type == V_PTR_MEM_OR_NULL || p->type == V_PTR_REF_OR_NULL) {
				/* The null test: split and mark both edges. */
				struct vst *t = vst_clone(s);
				uint32_t id = p->id;
				if (!t)
					return -RT_ENOMEM;
				/* p may not have an id if it came through widening. */
				bool eq = op == BPF_JEQ;
				if (!id) {
					p->id = ++e->next_id;
					id = p->id;
					vreg_of(t, vreg_is_ptr(d) ? in->dst : in->src)->id = id;
				}
				verify_mark_id(e, t, id, eq);  /* taken edge */
				verify_mark_id(e, s, id, !eq); /* fall-through */
				t->insn = target;
				*other = t;
				return 2;
			}
			decided = ptr_nonzero(e, p) ? (op == BPF_JNE) : -1;
		}
		if (decided >= 0)
			return decided;
		struct vst *t = vst_clone(s);
		if (!t)
			return -RT_ENOMEM;
		t->insn = target;
		*other = t;
		return 2;
	}

	/* Both scalars. */
	struct vreg x, y;
	bool exact = true;
	if (is32) {
		val_lo32(d, &x);
		val_lo32(&src, &y);
		/* Refinement of a 32-bit view carries over only when the view is
		 * the whole value. */
		exact = d->umax <= 0xffffffffull && src.umax <= 0xffffffffull;
		if (op == BPF_JSGT || op == BPF_JSGE || op == BPF_JSLT || op == BPF_JSLE) {
			if (!(x.umax <= 0x7fffffffull && y.umax <= 0x7fffffffull)) {
				/* Signed 32-bit compare of values that may have bit 31 set:
				 * decide only on constants. */
				if (tnum_is_const(x.var) && tnum_is_const(y.var)) {
					int32_t a = (int32_t)x.var.value, b = (int32_t)y.var.value;
					bool r = op == BPF_JSGT   ? a > b
					         : op == BPF_JSGE ? a >= b
					         : op == BPF_JSLT ? a < b
					                          : a <= b;
					return r;
				}
				exact = false;
				goto both_unrefined;
			}
		}
	} else {
		x = *d;
		y = src;
	}
	int rel;
	bool swap;
	normalise(op, true, &rel, &swap);
	decided = swap ? rel_decided(rel, &y, &x) : rel_decided(rel, &x, &y);
	if (decided >= 0)
		return decided;
	if (!exact) {
		/* A 32-bit test of a value that may not fit in 32 bits: the
		 * refined view bounds only the low half, which is exactly what
		 * its known bits can carry back to the whole value. */
		struct vreg tx = x, ty = y, fx = x, fy = y;
		bool tok = swap ? rel_refine(rel, &ty, &tx) : rel_refine(rel, &tx, &ty);
		normalise(op, false, &rel, &swap);
		bool fok = swap ? rel_refine(rel, &fy, &fx) : rel_refine(rel, &fx, &fy);
		struct vst *t;
		if (!tok && !fok)
			goto both_unrefined;
		t = vst_clone(s);
		if (!t)
			return -RT_ENOMEM;
		lo32_refine(t, vreg_of(t, in->dst), &tx);
		lo32_refine(s, d, &fx);
		if (isx) {
			lo32_refine(t, vreg_of(t, in->src), &ty);
			lo32_refine(s, sp, &fy);
		}
		return branch_edges(s, t, tok, fok, target, other);
	}
	{
		struct vst *t = vst_clone(s);
		if (!t)
			return -RT_ENOMEM;
		struct vreg tx = x, ty = y, fx = x, fy = y;
		bool tok = swap ? rel_refine(rel, &ty, &tx) : rel_refine(rel, &tx, &ty);
		normalise(op, false, &rel, &swap);
		bool fok = swap ? rel_refine(rel, &fy, &fx) : rel_refine(rel, &fx, &fy);
		if (!tok && !fok) {
			/* Cannot happen for a consistent state; keep both unrefined. */
			vst_free(t);
			goto both_unrefined;
		}
		/* Write refined values back, keeping ids, and tell the copies. */
		struct vreg *td = vreg_of(t, in->dst), *ts = isx ? vreg_of(t, in->src) : NULL;
		uint32_t did = d->id, sid = isx ? sp->id : 0;
		*td = tx;
		td->id = did;
		propagate_scalar(t, td);
		if (ts) {
			*ts = ty;
			ts->id = sid;
			propagate_scalar(t, ts);
		}
		*d = fx;
		d->id = did;
		propagate_scalar(s, d);
		if (sp) {
			*sp = fy;
			sp->id = sid;
			propagate_scalar(s, sp);
		}
		return branch_edges(s, t, tok, fok, target, other);
	}
both_unrefined : {
	struct vst *t = vst_clone(s);
	if (!t)
		return -RT_ENOMEM;
	t->insn = target;
	*other = t;
	return 2;
}
}

static int push(struct venv *e, struct vst *s)
{
	if (e->nstack == e->capstack) {
		uint32_t cap = e->capstack ? e->capstack * 2 : 64;
		struct vst **n = rt_alloc((size_t)cap * sizeof(*n));
		if (!n)
			return -RT_ENOMEM;
		if (e->nstack)
			memcpy(n, e->stack, (size_t)e->nstack * sizeof(*n));
		rt_free(e->stack);
		e->stack = n;
		e->capstack = cap;
	}
	e->stack[e->nstack++] = s;
	return 0;
}

/* Set up r1..r5 and r10 from the entry description. */
static int init_state(struct venv *e, struct vst *s)
{
	const struct rt_entry *en = e->entry;

	s->frames[0] = rt_alloc(sizeof(struct vframe));
	if (!s->frames[0])
		return -RT_ENOMEM;
	s->frames[0]->callsite = UINT32_MAX;
	s->frames[0]->subprog = e->subof[e->p->funcs[e->entry_func].start];
	struct vreg *fp = &s->frames[0]->regs[BPF_REG_FP];
	fp->type = V_PTR_STACK;
	val_const(fp, 0);
	for (int i = 0; i < 5; i++) {
		const struct rt_arg *a = &en->args[i];
		struct vreg *r = &s->frames[0]->regs[i + 1];
		switch (a->kind) {
		case RT_ARG_NONE:
			break;
		case RT_ARG_SCALAR:
		case RT_ARG_SIZE:
			vreg_mark_unknown(r);
			break;
		case RT_ARG_CONST_MEM:
		case RT_ARG_CONST_MEM_RW:
		case RT_ARG_CTX:
			memset(r, 0, sizeof(*r));
			r->type = V_PTR_CTX;
			r->size = a->size;
			r->writable = a->kind == RT_ARG_CONST_MEM_RW;
			val_const(r, 0);
			break;
		case RT_ARG_REF:
		case RT_ARG_REF_OR_NULL:
			memset(r, 0, sizeof(*r));
			r->type = a->kind == RT_ARG_REF ? V_PTR_REF : V_PTR_REF_OR_NULL;
			r->rtype = a->type;
			if (a->kind == RT_ARG_REF_OR_NULL)
				r->id = ++e->next_id;
			val_const(r, 0);
			break;
		default:
			return verify_reject(
			    e, e->p->funcs[e->entry_func].start, RT_VERR_ARG_TYPE,
			    "entry argument r%d has a kind the verifier cannot model", i + 1);
		}
	}
	s->insn = e->p->funcs[e->entry_func].start;
	return 0;
}

/* One instruction: 0 to continue with s, 1 when this path ended. */
static int step(struct venv *e, struct vst *s)
{
	struct rt_prog *p = e->p;
	uint32_t pc = s->insn;
	const struct bpf_insn *in = &p->insns[pc];
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	int rc;

	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		if ((rc = alu(e, s, pc, in)))
			return rc;
		s->insn = pc + 1;
		return 0;
	case BPF_LD:
		lddw(e, s, in);
		s->insn = pc + 2;
		return 0;
	case BPF_LDX:
		if ((rc = verify_ldx(e, s, in)))
			return rc;
		s->insn = pc + 1;
		return 0;
	case BPF_ST:
		if ((rc = verify_st(e, s, in)))
			return rc;
		s->insn = pc + 1;
		return 0;
	case BPF_STX:
		rc = BPF_MODE(in->code) == BPF_ATOMIC ? verify_atomic(e, s, in)
		                                      : verify_st(e, s, in);
		if (rc)
			return rc;
		s->insn = pc + 1;
		return 0;
	case BPF_JMP:
	case BPF_JMP32:
		if (op == BPF_JA) {
			s->insn = pc + 1 + (uint32_t)(cls == BPF_JMP32 ? in->imm : in->off);
			return 0;
		}
		if (op == BPF_CALL)
			return verify_call(e, s, in);
		if (op == BPF_EXIT) {
			bool done = false;
			if ((rc = verify_exit(e, s, &done)))
				return rc;
			return done ? 1 : 0;
		}
		{
			struct vst *other;
			rc = branch(e, s, pc, in, &other);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				s->insn = pc + 1;
			} else if (rc == 1) {
				s->insn = pc + 1 + (uint32_t)(int32_t)in->off;
			} else {
				s->insn = pc + 1;
				if ((rc = push(e, other))) {
					vst_free(other);
					return rc;
				}
			}
			return 0;
		}
	}
	return verify_reject(e, pc, RT_VERR_BAD_OPCODE, "unknown opcode 0x%02x", in->code);
}

int verify_explore(struct venv *e)
{
	struct vst *cur = rt_alloc(sizeof(*cur));
	int rc;

	if (!cur)
		return -RT_ENOMEM;
	e->max_states = e->opts && e->opts->max_states ? e->opts->max_states : V_DEFAULT_MAX_STATES;
	if ((rc = init_state(e, cur)))
		goto out;
	for (;;) {
		uint32_t pc = cur->insn;

		if (++e->processed > RT_VERIFY_MAX_INSNS) {
			rc = verify_reject(
			    e, pc, RT_VERR_TOO_COMPLEX,
			    "program too complex: more than %u instructions processed",
			    RT_VERIFY_MAX_INSNS);
			goto out;
		}
		e->p->aux[pc].flags |= RT_AUX_SEEN;
		if (e->p->aux[pc].flags & RT_AUX_LDDW2) {
			/* Cannot happen after the CFG pass; refuse rather than trust. */
			rc = verify_reject(e, pc, RT_VERR_JUMP_LDDW,
			                   "execution reaches the middle of an lddw");
			goto out;
		}
		if (bpf_is_lddw(&e->p->insns[pc]))
			e->p->aux[pc + 1].flags |= RT_AUX_SEEN;
		rc = 0;
		if (verify_is_prune(e, pc))
			rc = prune_or_keep(e, cur);
		if (rc == 0)
			rc = step(e, cur);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			vst_free(cur);
			cur = NULL;
			if (!e->nstack)
				break;
			cur = e->stack[--e->nstack];
			verify_log(e, "from stack: insn %u\n", cur->insn);
		}
	}
	rc = 0;
out:
	vst_free(cur);
	while (e->nstack)
		vst_free(e->stack[--e->nstack]);
	return rc;
}
