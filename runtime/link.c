/*
 * link.c - binding a loaded program's imports to the embedder's procedures.
 *
 * rt_prog_link() is the only place where names become addresses.  It
 * first turns every numbered helper call (CALL src=0, imm=id: the
 * conformance suite's form, never produced by the ELF loader) into an
 * import named "#id", so that the verifier and the JIT only ever see
 * BPF_PSEUDO_IMPORT calls.  Then every import is resolved: "#id" names
 * through rt_embed.helper, every other name through rt_embed.lookup.
 *
 * Validate, then act: all lookups happen before the program is changed, so
 * a failed link (an import the embedder does not offer) leaves the program
 * exactly as it was and names the first missing import.
 */
#include "runtime/prog_impl.h"

/* Parse "#123" (or "#-5"); false if name is not a helper name. */
static bool link_helper_id(const char *name, int32_t *id)
{
	int64_t v = 0;
	bool neg = false;
	const char *s = name;

	if (*s++ != '#')
		return false;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > 0x80000000ll)
			return false;
	}
	if (neg)
		v = -v;
	if (v > 0x7fffffffll)
		return false;
	*id = (int32_t)v;
	return true;
}

static const struct rt_sig *link_resolve(const struct rt_embed *env, const char *name)
{
	int32_t id;

	if (link_helper_id(name, &id))
		return env->helper ? env->helper(env->arg, id) : NULL;
	return env->lookup ? env->lookup(env->arg, name) : NULL;
}

static int32_t link_find(const struct rt_import *imp, uint32_t n, const char *name)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (strcmp(imp[i].name, name) == 0)
			return (int32_t)i;
	return -1;
}

int rt_prog_link(struct rt_prog *p, const struct rt_embed *env, char *err, size_t errlen)
{
	struct rt_import *imp;
	const struct rt_sig **sigs = NULL;
	uint32_t n, pc, i;
	int rc = 0;

	if (!p || !env)
		return rt_err(err, errlen, RT_EINVAL, "link: no program or environment");

	/* Phase 1: the import table as it will be, in a new array. */
	imp = rt_alloc((size_t)RT_MAX_IMPORTS * sizeof(*imp));
	if (!imp)
		return rt_err(err, errlen, RT_ENOMEM, "out of memory");
	n = p->nimports;
	if (n)
		memcpy(imp, p->imports, (size_t)n * sizeof(*imp));
	for (pc = 0; pc < p->ninsns; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		char name[64];

		if (bpf_is_lddw(in)) {
			pc++;
			continue;
		}
		if (in->code != (BPF_JMP | BPF_CALL) || in->src != 0)
			continue;
		rt_snprintf(name, sizeof(name), "#%d", in->imm);
		if (link_find(imp, n, name) >= 0)
			continue;
		if (n >= RT_MAX_IMPORTS) {
			rc = rt_err(err, errlen, RT_E2BIG, "more than %u imports", RT_MAX_IMPORTS);
			goto out;
		}
		memset(&imp[n], 0, sizeof(imp[n]));
		rt_strlcpy(imp[n].name, name, sizeof(imp[n].name));
		n++;
	}

	/* Phase 2: resolve every name; nothing has changed yet. */
	sigs = rt_alloc((size_t)(n ? n : 1) * sizeof(*sigs));
	if (!sigs) {
		rc = rt_err(err, errlen, RT_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		int32_t id;

		sigs[i] = link_resolve(env, imp[i].name);
		if (!sigs[i]) {
			if (link_helper_id(imp[i].name, &id))
				rc = rt_err(err, errlen, RT_ENOENT,
				            "unknown helper %d: the environment does not offer it",
				            id);
			else
				rc = rt_err(err, errlen, RT_ENOENT,
				            "unresolved import '%s': not visible to this program",
				            imp[i].name);
			goto out;
		}
		if (sigs[i]->nargs > 5 || !sigs[i]->fn) {
			rc = rt_err(err, errlen, RT_EINVAL,
			            "import '%s': the environment's signature is invalid",
			            imp[i].name);
			goto out;
		}
	}

	/* Phase 3: act.  Cannot fail from here on. */
	for (pc = 0; pc < p->ninsns; pc++) {
		struct bpf_insn *in = &p->insns[pc];
		char name[64];

		if (bpf_is_lddw(in)) {
			pc++;
			continue;
		}
		if (in->code != (BPF_JMP | BPF_CALL) || in->src != 0)
			continue;
		rt_snprintf(name, sizeof(name), "#%d", in->imm);
		in->src = BPF_PSEUDO_IMPORT;
		in->imm = link_find(imp, n, name);
	}
	for (i = 0; i < n; i++)
		imp[i].sig = sigs[i];
	rt_free(p->imports);
	p->imports = imp;
	p->nimports = n;
	imp = NULL;
out:
	rt_free(sigs);
	rt_free(imp);
	return rc;
}

/* The in-line forms the embedder registered (runtime/embed.h). */
static const struct rt_inline *rt_inlines[RT_INLINE_MAX];
static unsigned rt_ninlines;

int rt_inline_register(const struct rt_inline *inl)
{
	if (!inl || !inl->sig || inl->n == 0 || inl->n > 8 || inl->sig->nargs < 1 ||
	    inl->sig->nargs > 2)
		return -RT_EINVAL;
	if (rt_inline_find(inl->sig))
		return 0;
	if (rt_ninlines == RT_INLINE_MAX)
		return -RT_E2BIG;
	rt_inlines[rt_ninlines++] = inl;
	return 0;
}

const struct rt_inline *rt_inline_find(const struct rt_sig *sig)
{
	for (unsigned i = 0; i < rt_ninlines; i++)
		if (rt_inlines[i]->sig == sig)
			return rt_inlines[i];
	return NULL;
}
