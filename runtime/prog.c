/*
 * prog.c - the loaded-program object (runtime/prog.h) apart from ELF
 * parsing: programs from bare bytecode, the code checks every construction
 * path shares, lookup by name and by source line, and destruction.
 *
 * A program from bare bytecode (the conformance suite, fuzzers, unit tests)
 * has no symbols, so its functions are inferred the way the verifier and
 * the JIT need them: the entry function starts at instruction 0, and every
 * distinct target of a local call (CALL src=BPF_PSEUDO_CALL) starts a
 * further function that runs up to the next start.  Functions therefore
 * partition insns[] exactly as they do for a loaded ELF object.
 */
#include <stdarg.h>

#include "runtime/btf.h"
#include "runtime/prog_impl.h"

int rt_err(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		rt_vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -code;
}

void rt_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = 0;

	if (!size)
		return;
	while (n + 1 < size && src[n]) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = 0;
}

struct rt_prog *rt_prog_alloc(uint32_t n)
{
	struct rt_prog *p = rt_alloc(sizeof(*p));

	if (!p)
		return NULL;
	p->insns = rt_alloc((size_t)(n ? n : 1) * sizeof(struct bpf_insn));
	if (!p->insns) {
		rt_free(p);
		return NULL;
	}
	p->ninsns = n;
	return p;
}

int rt_prog_scan_code(const struct rt_prog *p, char *err, size_t errlen)
{
	uint32_t pc;

	for (pc = 0; pc < p->ninsns; pc++) {
		const struct bpf_insn *i = &p->insns[pc];
		uint8_t cls = BPF_CLASS(i->code);

		if (i->code == BPF_OPCODE_CALLX)
			return rt_err(err, errlen, RT_EUNSUPP,
			              "insn %u: callx (indirect call through a register) is not "
			              "supported: every call target must be known at load time",
			              pc);
		if ((cls == BPF_LD || cls == BPF_LDX) &&
		    (BPF_MODE(i->code) == BPF_ABS || BPF_MODE(i->code) == BPF_IND))
			return rt_err(
			    err, errlen, RT_EUNSUPP,
			    "insn %u: legacy packet load (BPF_ABS/BPF_IND) is not supported", pc);
		if (bpf_is_lddw(i)) {
			if (pc + 1 >= p->ninsns)
				return rt_err(err, errlen, RT_EMALFORMED,
				              "insn %u: lddw split across the end of the code", pc);
			if (i->src == BPF_PSEUDO_GLOBAL) {
				if ((uint32_t)i->imm >= p->nglobals)
					return rt_err(err, errlen, RT_EMALFORMED,
					              "insn %u: lddw names global region %d of %u",
					              pc, i->imm, p->nglobals);
			} else if (i->src != 0) {
				return rt_err(err, errlen, RT_EUNSUPP,
				              "insn %u: lddw with pseudo source %u (maps and "
				              "other kernel objects) is not supported",
				              pc, i->src);
			}
			pc++; /* the second slot is data */
			continue;
		}
		if (i->code == (BPF_JMP | BPF_CALL)) {
			if (i->src == BPF_PSEUDO_CALL) {
				int64_t t = (int64_t)pc + 1 + i->imm;

				if (t < 0 || t >= (int64_t)p->ninsns)
					return rt_err(err, errlen, RT_EMALFORMED,
					              "insn %u: local call to %lld, outside the "
					              "code (%u insns)",
					              pc, (long long)t, p->ninsns);
			} else if (i->src == BPF_PSEUDO_IMPORT) {
				if ((uint32_t)i->imm >= p->nimports)
					return rt_err(err, errlen, RT_EMALFORMED,
					              "insn %u: call of import %d of %u", pc,
					              i->imm, p->nimports);
			} else if (i->src != 0) {
				return rt_err(err, errlen, RT_EUNSUPP,
				              "insn %u: call with unknown source %u", pc, i->src);
			}
		}
	}
	return 0;
}

/* Is insn pc the start of a function discovered by a local call? */
static int raw_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Small insertion sort: the runtime has no qsort in the kernel. */
static void raw_sort(uint32_t *v, uint32_t n)
{
	uint32_t i, j;

	for (i = 1; i < n; i++) {
		uint32_t x = v[i];

		for (j = i; j > 0 && raw_cmp_u32(&v[j - 1], &x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

int rt_prog_from_raw(const struct bpf_insn *insns, uint32_t n, struct rt_prog **out, char *err,
                     size_t errlen)
{
	struct rt_prog *p;
	uint32_t *starts = NULL, nstarts = 0, pc, k;
	int rc;

	if (!out)
		return -RT_EINVAL;
	*out = NULL;
	if (!insns || n == 0)
		return rt_err(err, errlen, RT_EMALFORMED, "empty program");
	if (n > RT_MAX_INSNS)
		return rt_err(err, errlen, RT_E2BIG, "program has %u insns, limit %u", n,
		              RT_MAX_INSNS);

	p = rt_prog_alloc(n);
	if (!p)
		return rt_err(err, errlen, RT_ENOMEM, "out of memory");
	memcpy(p->insns, insns, (size_t)n * sizeof(*insns));
	rc = rt_prog_scan_code(p, err, errlen);
	if (rc)
		goto err_free;

	/* Function starts: 0 plus every local call target, deduplicated. */
	for (pc = 0; pc < n; pc++)
		if (p->insns[pc].code == (BPF_JMP | BPF_CALL) &&
		    p->insns[pc].src == BPF_PSEUDO_CALL)
			nstarts++;
	starts = rt_alloc((size_t)(nstarts + 1) * sizeof(*starts));
	if (!starts) {
		rc = rt_err(err, errlen, RT_ENOMEM, "out of memory");
		goto err_free;
	}
	nstarts = 0;
	starts[nstarts++] = 0;
	for (pc = 0; pc < n; pc++) {
		if (bpf_is_lddw(&p->insns[pc])) {
			pc++;
			continue;
		}
		if (p->insns[pc].code == (BPF_JMP | BPF_CALL) &&
		    p->insns[pc].src == BPF_PSEUDO_CALL)
			starts[nstarts++] = pc + 1 + (uint32_t)p->insns[pc].imm;
	}
	raw_sort(starts, nstarts);
	for (pc = 0, k = 0; pc < nstarts; pc++)
		if (k == 0 || starts[k - 1] != starts[pc])
			starts[k++] = starts[pc];
	nstarts = k;
	if (nstarts > RT_MAX_FUNCS) {
		rc = rt_err(err, errlen, RT_E2BIG, "%u functions, limit %u", nstarts, RT_MAX_FUNCS);
		goto err_free;
	}

	p->funcs = rt_alloc((size_t)nstarts * sizeof(*p->funcs));
	if (!p->funcs) {
		rc = rt_err(err, errlen, RT_ENOMEM, "out of memory");
		goto err_free;
	}
	for (k = 0; k < nstarts; k++) {
		struct rt_func *f = &p->funcs[k];

		if (k == 0)
			rt_strlcpy(f->name, "entry", sizeof(f->name));
		else
			rt_snprintf(f->name, sizeof(f->name), "sub_%u", starts[k]);
		rt_strlcpy(f->section, ".text", sizeof(f->section));
		f->start = starts[k];
		f->end = k + 1 < nstarts ? starts[k + 1] : n;
		f->global = k == 0;
		f->entry = k == 0;
	}
	p->nfuncs = nstarts;
	rt_free(starts);
	*out = p;
	return 0;

err_free:
	rt_free(starts);
	rt_prog_free(p);
	return rc;
}

void rt_prog_free(struct rt_prog *p)
{
	uint32_t i;

	if (!p)
		return;
	for (i = 0; i < p->nglobals; i++)
		rt_free(p->globals[i].data);
	rt_free(p->insns);
	rt_free(p->funcs);
	rt_free(p->imports);
	rt_free(p->lines);
	rt_free(p->aux);
	rt_free(p->strings);
	rt_btf_free(p->btf);
	rt_free(p);
}

const struct rt_func *rt_prog_find_func(const struct rt_prog *p, const char *name)
{
	uint32_t i;

	if (!p || !name)
		return NULL;
	for (i = 0; i < p->nfuncs; i++)
		if (strcmp(p->funcs[i].name, name) == 0)
			return &p->funcs[i];
	return NULL;
}

const struct rt_line *rt_prog_line(const struct rt_prog *p, uint32_t insn)
{
	uint32_t lo = 0, hi;

	if (!p || !p->nlines)
		return NULL;
	/* The last entry at or before insn: line info marks the first
	 * instruction of each source line; the following ones share it. */
	hi = p->nlines;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->lines[mid].insn <= insn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &p->lines[lo - 1] : NULL;
}
