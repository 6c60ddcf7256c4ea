/*
 * verify.c - the verifier's driver: validates the request, runs the passes
 * in order and owns the per-run memory.
 *
 *   1. verify_cfg (verify_cfg.c): encoding, jumps, functions, call graph.
 *      verify_liveness (verify_cfg.c): registers and stack slots live, and
 *      those whose exact value matters (precision), at each instruction.
 *   2. verify_explore (verify_state.c, with verify_mem.c for memory and
 *      verify_call.c for calls): path-sensitive abstract interpretation.
 *   3. verify_check_stack_depth (verify_cfg.c): the deepest call chain's
 *      frames, as measured in 2, fit in 512 bytes.
 *
 * A program is accepted only when every pass says so; the first rejection
 * is the one reported.  prog->aux is allocated here on first use and only
 * ever gains flags, so verifying several entries of one program accumulates
 * SEEN over all of them.  Limits: BPF_MAX_CALL_DEPTH frames, 512 bytes of
 * stack summed over the deepest chain (as Linux), opts->max_states kept
 * states (default 32768) and 2M processed instructions.
 */
#include "runtime/verify_impl.h"

static void free_env(struct venv *e)
{
	if (e->stored) {
		for (uint32_t i = 0; i < e->p->ninsns; i++) {
			struct vstored *k = e->stored[i];
			while (k) {
				struct vstored *n = k->next;
				for (uint32_t f = 0; f <= k->st.curframe; f++)
					if (k->st.frames[f]) {
						rt_free(k->st.frames[f]->slots);
						rt_free(k->st.frames[f]);
					}
				rt_free(k);
				k = n;
			}
		}
	}
	rt_free(e->stored);
	rt_free(e->nstored);
	rt_free(e->cmasks);
	rt_free(e->ncmasks);
	rt_free(e->htab);
	rt_free(e->iflags);
	rt_free(e->live);
	rt_free(e->prec);
	rt_free(e->slive);
	rt_free(e->sprec);
	rt_free(e->subof);
	rt_free(e->subs);
	rt_free(e->stack);
}

/* Validate the embedder's entry description (a caller error, not the
 * program's). */
static bool entry_valid(const struct rt_entry *en)
{
	for (int i = 0; i < 5; i++) {
		const struct rt_arg *a = &en->args[i];
		switch (a->kind) {
		case RT_ARG_NONE:
		case RT_ARG_SCALAR:
		case RT_ARG_CONST_MEM:
		case RT_ARG_CONST_MEM_RW:
			break;
		case RT_ARG_REF:
		case RT_ARG_REF_OR_NULL:
			if (!a->type)
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

int rt_verify(struct rt_prog *p, uint32_t func, const struct rt_entry *entry,
              const struct rt_verify_opts *opts, struct rt_verify_result *res)
{
	struct venv e;
	int rc;

	if (!p || !entry || !res)
		return -RT_EINVAL;
	memset(res, 0, sizeof(*res));
	if (func >= p->nfuncs || p->funcs[func].start >= p->ninsns || !p->insns ||
	    !entry_valid(entry)) {
		res->code = RT_VERR_CALL_TARGET;
		rt_snprintf(res->msg, sizeof(res->msg),
		            "error: no such entry function or bad entry description");
		return -RT_EINVAL;
	}
	memset(&e, 0, sizeof(e));
	e.p = p;
	e.entry = entry;
	e.opts = opts;
	e.res = res;
	e.entry_func = func;
	if (opts && opts->log && opts->loglen)
		opts->log[0] = 0;

	if (!p->aux) {
		p->aux = rt_alloc((size_t)p->ninsns * sizeof(*p->aux));
		if (!p->aux)
			return -RT_ENOMEM;
	}
	e.iflags = rt_alloc(p->ninsns);
	e.subof = rt_alloc((size_t)p->ninsns * sizeof(*e.subof));
	e.stored = rt_alloc((size_t)p->ninsns * sizeof(*e.stored));
	e.nstored = rt_alloc((size_t)p->ninsns * sizeof(*e.nstored));
	e.cmasks = rt_alloc((size_t)p->ninsns * sizeof(*e.cmasks));
	e.ncmasks = rt_alloc(p->ninsns);
	e.live = rt_alloc((size_t)p->ninsns * sizeof(*e.live));
	e.prec = rt_alloc((size_t)p->ninsns * sizeof(*e.prec));
	e.slive = rt_alloc((size_t)p->ninsns * sizeof(*e.slive));
	e.sprec = rt_alloc((size_t)p->ninsns * sizeof(*e.sprec));
	if (!e.iflags || !e.subof || !e.stored || !e.nstored || !e.cmasks || !e.ncmasks ||
	    !e.live || !e.prec || !e.slive || !e.sprec) {
		rc = -RT_ENOMEM;
		goto out;
	}

	verify_log(&e, "verifying %s (insns %u..%u)\n", p->funcs[func].name, p->funcs[func].start,
	           p->funcs[func].end);
	if ((rc = verify_cfg(&e)) || (rc = verify_liveness(&e)))
		goto out;
	verify_thresholds(&e);
	if ((rc = verify_explore(&e)))
		goto out;
	rc = verify_check_stack_depth(&e);
out:
	res->states = e.nstates;
	res->insns_processed = (uint32_t)e.processed;
	if (rc == -RT_ENOMEM && !e.failed) {
		res->code = 0;
		rt_snprintf(res->msg, sizeof(res->msg), "error: out of memory while verifying");
	}
	if (rc == 0)
		verify_log(&e, "accepted: %u insns processed, %u states kept, stack %u bytes\n",
		           res->insns_processed, res->states, res->max_stack);
	free_env(&e);
	return rc;
}
