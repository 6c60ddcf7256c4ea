/*
 * verify_impl.h - what the verifier's passes share and nobody else sees.
 *
 * The abstract state the verifier walks a program with (see the essay at the
 * top of runtime/verify_state.c):
 *
 *   vst (one explored path's state)
 *     frames[0..curframe]   one per active local call
 *       regs[r0..r10]       struct vreg: NOT_INIT, SCALAR or a pointer kind
 *       slots[0..nslots)    the frame's stack in 8-byte slots, growing down
 *                           from fp: slot i covers [fp-8(i+1), fp-8i)
 *     refs[]                references acquired and not yet released
 *
 * A scalar is tracked as signed and unsigned 64-bit bounds plus known bits
 * (tnum).  A pointer is a base (stack frame, context, global region, call
 * memory, typed reference) plus an offset, and the offset is itself such a
 * scalar, so "pointer + scalar" is just scalar addition on the offset.
 *
 * Ownership: everything here belongs to one rt_verify() call (struct venv);
 * nothing survives it except prog->aux and the result.
 */
#ifndef RUNTIME_VERIFY_IMPL_H
#define RUNTIME_VERIFY_IMPL_H

#include "runtime/verify.h"

/* Known bits: a bit is known when its mask bit is 0, and then equals value's. */
struct tnum {
	uint64_t value;
	uint64_t mask;
};

enum vtype {
	V_NOT_INIT = 0,
	V_SCALAR,
	V_PTR_STACK,       /* frame `frameno`, offset relative to that frame's fp (<= 0) */
	V_PTR_CTX,         /* entry context of `size` bytes, `writable` */
	V_PTR_GLOBAL,      /* globals[region] */
	V_PTR_MEM,         /* memory of `size` bytes returned by a call */
	V_PTR_MEM_OR_NULL, /* the same, or 0: must be tested first */
	V_PTR_REF,         /* typed reference of `rtype` */
	V_PTR_REF_OR_NULL, /* the same, or 0 */
};

struct vreg {
	uint8_t type;                /* enum vtype */
	uint8_t writable;            /* CTX, MEM: stores allowed */
	uint8_t frameno;             /* PTR_STACK */
	uint8_t region;              /* PTR_GLOBAL */
	uint32_t id;                 /* SCALAR: equal-value class; *_OR_NULL: null-test class */
	uint32_t ref;                /* REF*: acquired reference id, 0 if not acquired */
	uint32_t size;               /* CTX, MEM*: object size */
	const struct rt_type *rtype; /* REF* */
	/* SCALAR: the value; pointers: the offset from the base. */
	int64_t smin, smax;
	uint64_t umin, umax;
	struct tnum var;
};

/* Stack slot kinds.  Bytes of a MISC slot are initialised or not per `init`. */
enum vslot {
	S_MISC = 0, /* bytes per `init`: initialised data of unknown value */
	S_SPILL,    /* a whole register spilled with an 8-byte store */
};

struct vslot_st {
	uint8_t kind;
	uint8_t init;      /* S_MISC: bit b set = byte b (from slot's low address) initialised */
	uint8_t narrow;    /* S_MISC: 0, or 1 + b when bytes [b, b+4) hold a 4-byte
	                    * scalar spill (b = 0 or 4) whose value is `spill` */
	struct vreg spill; /* S_SPILL; S_MISC with narrow: the 32-bit value */
};

#define V_MAX_FRAMES BPF_MAX_CALL_DEPTH
#define V_NSLOTS     (BPF_STACK_SIZE / 8)

struct vframe {
	struct vreg regs[BPF_NREGS];
	uint32_t callsite;      /* insn index of the call that made this frame; ~0 for frame 0 */
	uint32_t subprog;       /* index into venv.subs */
	uint32_t nslots;        /* slots in use (grown on demand, at most V_NSLOTS) */
	struct vslot_st *slots; /* rt_alloc'd, nslots entries; NULL when 0 */
};

#define V_MAX_REFS 16
struct vref {
	uint32_t id;
	uint32_t insn; /* where it was acquired, for the diagnostic */
	const struct rt_type *rtype;
};

struct vst {
	uint32_t insn; /* next instruction to run */
	uint32_t curframe;
	uint32_t nrefs;
	struct vref refs[V_MAX_REFS];
	struct vframe *frames[V_MAX_FRAMES];
};

/* A state kept at a prune point, for subsumption and widening.  Besides
 * its insn's list (newest first), it sits in a hash chain keyed by its insn,
 * the set `cmask` of current-frame registers that are precise constants in
 * it, and their values: a state can only cover one holding the same
 * constants there, so a lookup visits one chain per distinct cmask of the
 * insn instead of every kept state. */
struct vstored {
	struct vstored *next;  /* same insn */
	struct vstored *hnext; /* same hash bucket */
	uint64_t key;
	uint16_t cmask;
	struct vst st;
};

#define V_NCMASK 4 /* distinct cmasks indexed per insn */

/* A subprogram: an rt_func range or a local call target. */
struct vsub {
	uint32_t start, end;
	uint32_t stack; /* deepest stack byte touched, rounded up to 8 */
	uint32_t depth; /* longest local-call chain below (cfg pass) */
	uint8_t reached;
	uint8_t ret_prec; /* some caller needs the exact result (liveness pass) */
};

/* Per-instruction CFG facts. */
#define VI_JUMP_TARGET 0x01
#define VI_PRUNE       0x02
#define VI_LOOP_HEAD   0x04 /* target of a back edge */
#define VI_SUB_START   0x08
#define VI_REACHED     0x10 /* reached by the CFG walk */
#define VI_REACH_EXIT  0x20 /* some exit is reachable from here */

/* Every rejection code lives in verify.h (enum rt_verr). */

#define V_MAX_THRESH 256

struct venv {
	struct rt_prog *p;
	const struct rt_entry *entry;
	const struct rt_verify_opts *opts;
	struct rt_verify_result *res;
	uint32_t entry_func;

	uint8_t *iflags; /* ninsns: VI_* */
	/* Per insn, on entry, for the current frame (verify_liveness): */
	uint16_t *live;  /* registers that may be read */
	uint16_t *prec;  /* registers whose exact value may matter */
	uint64_t *slive; /* stack slots that may be read (bit k: slot k) */
	uint64_t *sprec; /* stack slots whose spilled value may matter */
	bool fp_escapes; /* some stack address leaves r10 */
	/* Widening thresholds: constants the program compares with (and +-1),
	 * sorted, as unsigned and as signed values. */
	uint64_t uthr[V_MAX_THRESH];
	int64_t sthr[V_MAX_THRESH];
	uint32_t nthr;
	uint32_t *subof; /* ninsns: subprogram index of each insn, ~0 if none */
	struct vsub *subs;
	uint32_t nsubs;

	struct vstored **stored;      /* ninsns: states kept at prune points */
	uint16_t *nstored;            /* ninsns */
	uint16_t (*cmasks)[V_NCMASK]; /* ninsns: the cmasks of its kept states */
	uint8_t *ncmasks;             /* ninsns */
	struct vstored **htab;        /* hash chains of kept states */
	uint32_t hsize;               /* buckets, a power of two (0 before the first) */
	struct vst **stack;           /* pending branches */
	uint32_t nstack, capstack;

	uint32_t next_id;
	uint32_t nstates;
	uint32_t max_states;
	uint64_t processed;

	size_t logpos;
	bool failed;
	char reason[384];
};

/* verify_cfg.c */
int verify_cfg(struct venv *e);
bool verify_is_prune(const struct venv *e, uint32_t insn);
int verify_liveness(struct venv *e);
void verify_thresholds(struct venv *e);
int verify_check_stack_depth(struct venv *e);

/* verify_state.c: scalar domain */
struct tnum tnum_const(uint64_t v);
struct tnum tnum_unknown(void);
bool tnum_is_const(struct tnum t);
void vreg_mark_unknown(struct vreg *r);
void vreg_mark_const(struct vreg *r, uint64_t v);
void vreg_set_bounds(struct vreg *r, uint64_t umin, uint64_t umax);
void vreg_sync(struct vreg *r);
bool vreg_is_const(const struct vreg *r);
bool vreg_is_ptr(const struct vreg *r);
bool vreg_is_null_const(const struct vreg *r);
/* The low 32 bits of r as a value of its own (zero-extended). */
void verify_lo32(const struct vreg *r, struct vreg *out);
struct vframe *vst_frame(struct vst *s);
int verify_explore(struct venv *e);
void verify_mark_id(struct venv *e, struct vst *s, uint32_t id, bool is_null);
void verify_release_ref(struct vst *s, uint32_t ref);
int verify_grow_slots(struct vframe *f, uint32_t nslots);
struct vst *vst_clone(const struct vst *s);
void vst_free(struct vst *s);

/* verify_mem.c */
int verify_ldx(struct venv *e, struct vst *s, const struct bpf_insn *in);
int verify_st(struct venv *e, struct vst *s, const struct bpf_insn *in);
int verify_atomic(struct venv *e, struct vst *s, const struct bpf_insn *in);
/* Check [ptr+off, ptr+off+size) of reg; for stack, `need_init` checks bytes,
 * `write` marks them.  Used by loads, stores and call arguments. */
int verify_access(struct venv *e, struct vst *s, uint32_t regno, const struct vreg *ptr,
                  int64_t off, uint64_t size_min, uint64_t size_max, bool write, bool need_init,
                  const char *what);
/* A call wrote [lo, hi_certain) for sure and maybe up to hi_max. */
void verify_stack_clobber(struct vst *s, const struct vreg *ptr, int64_t lo, int64_t hi_certain,
                          int64_t hi_max);

/* verify_call.c */
int verify_call(struct venv *e, struct vst *s, const struct bpf_insn *in);
int verify_exit(struct venv *e, struct vst *s, bool *done);

/* verify_diag.c */
/* Reject at insn with code; the reason is printf-formatted.  The first
 * rejection wins.  Macros so the runtime needs no va_list formatter. */
#define verify_reject(e, insn, code, ...)                                                          \
	((e)->failed ? -RT_EREJECT                                                                 \
	             : (rt_snprintf((e)->reason, sizeof((e)->reason), __VA_ARGS__),                \
	                verify_fail((e), (insn), (code))))
int verify_fail(struct venv *e, uint32_t insn, int code);
/* Append to the verbose log (opts->log), if any. */
#define verify_log(e, ...)                                                                         \
	do {                                                                                       \
		if ((e)->opts && (e)->opts->log && (e)->logpos + 1 < (e)->opts->loglen) {          \
			int n_ = rt_snprintf((e)->opts->log + (e)->logpos,                         \
			                     (e)->opts->loglen - (e)->logpos, __VA_ARGS__);        \
			if (n_ > 0)                                                                \
				(e)->logpos += (size_t)n_;                                         \
			if ((e)->logpos >= (e)->opts->loglen)                                      \
				(e)->logpos = (e)->opts->loglen - 1;                               \
		}                                                                                  \
	} while (0)
int verify_code_from_name(const char *name);
/* Describe a register's abstract value, e.g. "ref_or_null(Console.T)". */
void verify_describe(const struct venv *e, const struct vreg *r, char *buf, size_t len);
const char *verify_code_name(int code);

#endif
