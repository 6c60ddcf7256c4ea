/*
 * verify_diag.c - the verifier's words: rejection messages, the verbose log
 * and the rendering of abstract register values.
 *
 * A rejection is one line, the same in the kernel and in spin-verify:
 *     ext.c:42: error: insn 17: <reason> (<state>)
 * where the "ext.c:42: " prefix appears only when the object carries line
 * info (rt_prog_line).  The first rejection wins: passes return the code
 * verify_reject() gives back and stop, so later noise never overwrites it.
 */
#include "runtime/verify_impl.h"

static const char *const code_names[] = {
    [RT_VERR_OK] = "ok",
    [RT_VERR_BAD_OPCODE] = "bad-opcode",
    [RT_VERR_CALLX] = "callx",
    [RT_VERR_LEGACY_LD] = "legacy-ld",
    [RT_VERR_RESERVED] = "reserved",
    [RT_VERR_BAD_REG] = "bad-reg",
    [RT_VERR_WRITE_FP] = "write-fp",
    [RT_VERR_JUMP_RANGE] = "jump-range",
    [RT_VERR_JUMP_LDDW] = "jump-lddw",
    [RT_VERR_LDDW] = "lddw",
    [RT_VERR_UNREACHABLE] = "unreachable",
    [RT_VERR_NO_EXIT] = "no-exit",
    [RT_VERR_FALLTHROUGH] = "fallthrough",
    [RT_VERR_JUMP_FUNC] = "jump-func",
    [RT_VERR_CALL_TARGET] = "call-target",
    [RT_VERR_RECURSION] = "recursion",
    [RT_VERR_CALL_DEPTH] = "call-depth",
    [RT_VERR_STACK_DEPTH] = "stack-depth",
    [RT_VERR_BAD_IMPORT] = "bad-import",
    [RT_VERR_BAD_HELPER] = "bad-helper",
    [RT_VERR_BAD_GLOBAL] = "bad-global",
    [RT_VERR_UNINIT_REG] = "uninit-reg",
    [RT_VERR_UNINIT_STACK] = "uninit-stack",
    [RT_VERR_EXIT_UNINIT] = "exit-uninit",
    [RT_VERR_EXIT_PTR] = "exit-ptr",
    [RT_VERR_PTR_ALU] = "ptr-alu",
    [RT_VERR_PTR_ALU32] = "ptr-alu32",
    [RT_VERR_REF_ALU] = "ref-alu",
    [RT_VERR_NULL_ALU] = "null-alu",
    [RT_VERR_PTR_CMP] = "ptr-cmp",
    [RT_VERR_PTR_SUB] = "ptr-sub",
    [RT_VERR_TOO_COMPLEX] = "too-complex",
    [RT_VERR_NULL_DEREF] = "null-deref",
    [RT_VERR_DEREF_SCALAR] = "deref-scalar",
    [RT_VERR_STACK_OOB] = "stack-oob",
    [RT_VERR_CTX_OOB] = "ctx-oob",
    [RT_VERR_GLOBAL_OOB] = "global-oob",
    [RT_VERR_MEM_OOB] = "mem-oob",
    [RT_VERR_REF_FIELD] = "ref-field",
    [RT_VERR_READONLY] = "readonly",
    [RT_VERR_MISALIGNED] = "misaligned",
    [RT_VERR_VAR_OFFSET] = "var-offset",
    [RT_VERR_PTR_STORE] = "ptr-store",
    [RT_VERR_PTR_PARTIAL] = "ptr-partial",
    [RT_VERR_STACK_ESCAPE] = "stack-escape",
    [RT_VERR_UNBOUNDED] = "unbounded",
    [RT_VERR_ATOMIC_OP] = "atomic-op",
    [RT_VERR_ATOMIC_TARGET] = "atomic-target",
    [RT_VERR_ARG_TYPE] = "arg-type",
    [RT_VERR_ARG_LEAK] = "arg-leak",
    [RT_VERR_ARG_SIZE] = "arg-size",
    [RT_VERR_ARG_UNINIT] = "arg-uninit",
    [RT_VERR_ARG_REF_TYPE] = "arg-ref-type",
    [RT_VERR_ARG_CTX] = "arg-ctx",
    [RT_VERR_ARG_CONST_SIZE] = "arg-const-size",
    [RT_VERR_REF_LEAK] = "ref-leak",
    [RT_VERR_REF_RELEASE] = "ref-release",
    [RT_VERR_REF_TOO_MANY] = "ref-too-many",
    [RT_VERR_GUARD_CALL] = "guard-call",
    [RT_VERR_GUARD_STORE] = "guard-store",
    [RT_VERR_ARG_PTR_SPILL] = "arg-ptr-spill",
};

const char *verify_code_name(int code)
{
	if (code < 0 || (size_t)code >= sizeof(code_names) / sizeof(code_names[0]) ||
	    !code_names[code])
		return "unknown";
	return code_names[code];
}

int verify_code_from_name(const char *name)
{
	for (size_t i = 1; i < sizeof(code_names) / sizeof(code_names[0]); i++)
		if (code_names[i] && strcmp(code_names[i], name) == 0)
			return (int)i;
	return -1;
}

int verify_fail(struct venv *e, uint32_t insn, int code)
{
	struct rt_verify_result *res = e->res;

	if (e->failed)
		return -RT_EREJECT;
	e->failed = true;
	res->code = code;
	res->insn = insn;
	const struct rt_line *ln = insn < e->p->ninsns ? rt_prog_line(e->p, insn) : NULL;
	if (ln && ln->file)
		rt_snprintf(res->msg, sizeof(res->msg), "%s:%u: error: insn %u: %s", ln->file,
		            ln->line, insn, e->reason);
	else
		rt_snprintf(res->msg, sizeof(res->msg), "error: insn %u: %s", insn, e->reason);
	verify_log(e, "%s [%s]\n", res->msg, verify_code_name(code));
	return -RT_EREJECT;
}

/* "[lo,hi]" of a value, or the constant, trying the tightest readable form. */
static void describe_range(const struct vreg *r, char *buf, size_t len)
{
	if (r->umin == r->umax)
		rt_snprintf(buf, len, "%lld", (long long)r->umin);
	else if (r->smin >= 0 || r->smax < 0 || (r->smin == INT64_MIN && r->smax == INT64_MAX))
		rt_snprintf(buf, len, "[%llu,%llu]", (unsigned long long)r->umin,
		            (unsigned long long)r->umax);
	else
		rt_snprintf(buf, len, "[%lld,%lld]", (long long)r->smin, (long long)r->smax);
}

void verify_describe(const struct venv *e, const struct vreg *r, char *buf, size_t len)
{
	char off[64];

	describe_range(r, off, sizeof(off));
	switch (r->type) {
	case V_NOT_INIT:
		rt_snprintf(buf, len, "uninitialised");
		break;
	case V_SCALAR:
		if (r->umin == 0 && r->umax == UINT64_MAX && r->smin == INT64_MIN &&
		    r->smax == INT64_MAX)
			rt_snprintf(buf, len, "scalar");
		else
			rt_snprintf(buf, len, "scalar %s", off);
		break;
	case V_PTR_STACK:
		rt_snprintf(buf, len, "fp%s%s", r->smin < 0 && r->umin == r->umax ? "" : "+", off);
		break;
	case V_PTR_CTX:
		rt_snprintf(buf, len, "ctx(%u bytes)+%s", r->size, off);
		break;
	case V_PTR_GLOBAL:
		rt_snprintf(buf, len, "global(%s, %u bytes)+%s",
		            r->region < e->p->nglobals ? e->p->globals[r->region].name : "?",
		            r->region < e->p->nglobals ? e->p->globals[r->region].size : 0, off);
		break;
	case V_PTR_MEM:
		rt_snprintf(buf, len, "mem(%u bytes%s)+%s", r->size, r->writable ? "" : ", ro",
		            off);
		break;
	case V_PTR_MEM_OR_NULL:
		rt_snprintf(buf, len, "mem_or_null(%u bytes)", r->size);
		break;
	case V_PTR_REF:
		rt_snprintf(buf, len, "ref(%s)%s%s", r->rtype ? r->rtype->name : "?",
		            r->umin ? "+" : "", r->umin ? off : "");
		break;
	case V_PTR_REF_OR_NULL:
		rt_snprintf(buf, len, "ref_or_null(%s)", r->rtype ? r->rtype->name : "?");
		break;
	default:
		rt_snprintf(buf, len, "?");
	}
}
