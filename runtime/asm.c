/*
 * asm.c - the conformance-suite assembler and `.data` parser (asm.h).
 *
 * Two passes over the text: the first assembles every line and records
 * labels and the label each jump names; the second patches jump offsets
 * (or call immediates) once every label is known.  Lines are tokenised by
 * hand (no libc: the file is part of the portable runtime): a mnemonic,
 * then operands separated by commas and/or blanks, with `[...]` memory
 * operands kept whole.  Every malformed line is an error naming the line;
 * nothing is guessed.
 */
#include "runtime/asm.h"
#include "runtime/prog_impl.h"

#define ASM_MAX_OPS    4
#define ASM_MAX_TOK    64
#define ASM_MAX_LABELS 4096

struct asm_label {
	char name[ASM_MAX_TOK];
	uint32_t pc;
};

struct asm_fixup {
	char name[ASM_MAX_TOK];
	uint32_t pc;
	uint32_t line;
	bool in_imm; /* call local / ja32: patch imm, else off */
};

struct asm_state {
	struct bpf_insn *insns;
	uint32_t n;
	struct asm_label *labels;
	uint32_t nlabels;
	struct asm_fixup *fix;
	uint32_t nfix;
	bool have_exit;
	uint32_t exit_pc;
	uint32_t line;
	char *err;
	size_t errlen;
};

static int asm_fail(struct asm_state *s, const char *what, const char *tok)
{
	return rt_err(s->err, s->errlen, RT_EINVAL, "line %u: %s%s%s%s", s->line, what,
	              tok ? " '" : "", tok ? tok : "", tok ? "'" : "");
}

static bool asm_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool asm_streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool asm_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Parse a whole token as a signed or unsigned 64-bit number. */
static bool asm_number(const char *t, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;
	unsigned base = 10;
	int digits = 0;

	if (*t == '-' || *t == '+')
		neg = *t++ == '-';
	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		base = 16;
		t += 2;
	}
	for (; *t; t++) {
		unsigned d;

		if (*t >= '0' && *t <= '9')
			d = (unsigned)(*t - '0');
		else if (base == 16 && *t >= 'a' && *t <= 'f')
			d = (unsigned)(*t - 'a' + 10);
		else if (base == 16 && *t >= 'A' && *t <= 'F')
			d = (unsigned)(*t - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
		digits++;
	}
	if (!digits)
		return false;
	*out = (int64_t)(neg ? 0 - v : v);
	return true;
}

/* A bits-wide field (immediates, offsets): anything that fits as a signed
 * or as an unsigned number of that width (the suite writes 0xffffffff and
 * -1 alike).  *out gets the bit pattern. */
static bool asm_field(const char *t, unsigned bits, uint64_t *out)
{
	int64_t v;

	if (!asm_number(t, &v))
		return false;
	if (t[0] == '-' ? v < -(INT64_C(1) << (bits - 1)) : (uint64_t)v > UINT64_MAX >> (64 - bits))
		return false;
	*out = (uint64_t)v;
	return true;
}

static bool asm_imm32(const char *t, int32_t *out)
{
	uint64_t v;

	if (!asm_field(t, 32, &v))
		return false;
	*out = (int32_t)(uint32_t)v;
	return true;
}

static bool asm_reg(const char *t, uint8_t *r)
{
	int64_t v;

	if (t[0] == '%')
		t++;
	if (t[0] != 'r' || !t[1] || t[1] == '-' || t[1] == '+')
		return false;
	if (!asm_number(t + 1, &v) || v < 0 || v > 15)
		return false;
	*r = (uint8_t)v;
	return true;
}

/* "[%rN]", "[%rN+off]", "[%rN-off]". */
static bool asm_mem(const char *t, uint8_t *r, int16_t *off)
{
	char reg[ASM_MAX_TOK];
	size_t len = strlen(t), k = 1;

	if (len < 3 || t[0] != '[' || t[len - 1] != ']')
		return false;
	while (k < len - 1 && t[k] != '+' && t[k] != '-') {
		if (k - 1 >= sizeof(reg) - 1)
			return false;
		reg[k - 1] = t[k];
		k++;
	}
	reg[k - 1] = 0;
	if (!asm_reg(reg, r))
		return false;
	if (k == len - 1) {
		*off = 0;
		return true;
	}
	{
		char num[ASM_MAX_TOK];
		size_t m = len - 1 - k;
		uint64_t v;

		if (m >= sizeof(num) || m < 2)
			return false;
		memcpy(num, t + k, m);
		num[m] = 0;
		if (!asm_field(num, 16, &v))
			return false;
		*off = (int16_t)(uint16_t)v;
		return true;
	}
}

/* Where asm_operand puts an operand: a register, or a memory operand
 * "[rN+off]" (which also sets off), as dst or src. */
enum asm_opnd { ASM_DST, ASM_SRC, ASM_MEM_DST, ASM_MEM_SRC };

static bool asm_operand(struct bpf_insn *i, const char *t, enum asm_opnd k)
{
	bool mem = k == ASM_MEM_DST || k == ASM_MEM_SRC;
	uint8_t r;

	if (!(mem ? asm_mem(t, &r, &i->off) : asm_reg(t, &r)))
		return false;
	/* struct bpf_insn's registers are bit-fields: set them through a byte. */
	if (k == ASM_SRC || k == ASM_MEM_SRC)
		i->src = r & 0xf;
	else
		i->dst = r & 0xf;
	return true;
}

static bool asm_is_label_name(const char *t)
{
	if (!*t || (*t >= '0' && *t <= '9') || *t == '+' || *t == '-' || *t == '%')
		return false;
	for (; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9') || *t == '_' || *t == '.'))
			return false;
	return true;
}

static struct bpf_insn *asm_emit(struct asm_state *s)
{
	struct bpf_insn *i;

	if (s->n >= RT_ASM_MAX_INSNS)
		return NULL;
	i = &s->insns[s->n++];
	memset(i, 0, sizeof(*i));
	return i;
}

/* A jump/call target: +N/-N sets the field now, a label is fixed up later. */
static int asm_target(struct asm_state *s, struct bpf_insn *i, const char *t, bool in_imm)
{
	int64_t v;

	if (t[0] == '+' || t[0] == '-') {
		if (in_imm) {
			if (!asm_imm32(t, &i->imm))
				return asm_fail(s, "bad jump offset", t);
		} else if (!asm_number(t, &v) || v < INT16_MIN || v > INT16_MAX) {
			return asm_fail(s, "bad jump offset", t);
		} else {
			i->off = (int16_t)v;
		}
		return 0;
	}
	if (!asm_is_label_name(t))
		return asm_fail(s, "bad jump target", t);
	if (s->nfix >= RT_ASM_MAX_INSNS)
		return asm_fail(s, "too many jumps", NULL);
	rt_strlcpy(s->fix[s->nfix].name, t, ASM_MAX_TOK);
	s->fix[s->nfix].pc = (uint32_t)(i - s->insns);
	s->fix[s->nfix].line = s->line;
	s->fix[s->nfix].in_imm = in_imm;
	s->nfix++;
	return 0;
}

static const struct {
	const char *name;
	uint8_t op;
	int16_t off;
} asm_alu_ops[] = {
    {"add", BPF_ADD, 0},  {"sub", BPF_SUB, 0}, {"mul", BPF_MUL, 0},   {"div", BPF_DIV, 0},
    {"sdiv", BPF_DIV, 1}, {"or", BPF_OR, 0},   {"and", BPF_AND, 0},   {"lsh", BPF_LSH, 0},
    {"rsh", BPF_RSH, 0},  {"neg", BPF_NEG, 0}, {"mod", BPF_MOD, 0},   {"smod", BPF_MOD, 1},
    {"xor", BPF_XOR, 0},  {"mov", BPF_MOV, 0}, {"arsh", BPF_ARSH, 0},
};

static const struct {
	const char *name;
	uint8_t op;
} asm_jmp_ops[] = {
    {"jeq", BPF_JEQ}, {"jgt", BPF_JGT},   {"jge", BPF_JGE},   {"jset", BPF_JSET},
    {"jne", BPF_JNE}, {"jsgt", BPF_JSGT}, {"jsge", BPF_JSGE}, {"jlt", BPF_JLT},
    {"jle", BPF_JLE}, {"jslt", BPF_JSLT}, {"jsle", BPF_JSLE},
};

static uint8_t asm_size_suffix(const char *t, bool *ok)
{
	*ok = true;
	if (asm_streq(t, "b"))
		return BPF_B;
	if (asm_streq(t, "h"))
		return BPF_H;
	if (asm_streq(t, "w"))
		return BPF_W;
	if (asm_streq(t, "dw"))
		return BPF_DW;
	*ok = false;
	return 0;
}

/* Split "name32" into base and width; returns true if it had the suffix. */
static bool asm_strip32(const char *m, char *base, size_t size)
{
	size_t len = strlen(m);

	if (len > 2 && m[len - 2] == '3' && m[len - 1] == '2' && len - 2 < size) {
		memcpy(base, m, len - 2);
		base[len - 2] = 0;
		return true;
	}
	rt_strlcpy(base, m, size);
	return false;
}

static int asm_nops(struct asm_state *s, const char *m, int have, int want)
{
	if (have != want)
		return rt_err(s->err, s->errlen, RT_EINVAL,
		              "line %u: '%s' takes %d operand%s, got %d", s->line, m, want,
		              want == 1 ? "" : "s", have);
	return 0;
}

/* The operands "dst, src" of an ALU operation or a conditional jump: src
 * is a register (the opcode gets BPF_X) or a 32-bit immediate. */
static int asm_dst_src(struct asm_state *s, struct bpf_insn *i, char ops[][ASM_MAX_TOK])
{
	if (!asm_operand(i, ops[0], ASM_DST))
		return asm_fail(s, "bad register", ops[0]);
	if (asm_operand(i, ops[1], ASM_SRC))
		i->code |= BPF_X;
	else if (!asm_imm32(ops[1], &i->imm))
		return asm_fail(s, "bad register or immediate", ops[1]);
	return 0;
}

static int asm_insn(struct asm_state *s, const char *m, char ops[][ASM_MAX_TOK], int nops)
{
	struct bpf_insn *i;
	char base[ASM_MAX_TOK];
	unsigned k;
	int rc;
	bool ok, is32;

	i = asm_emit(s);
	if (!i)
		return asm_fail(s, "program too long", NULL);

	if (asm_streq(m, "exit")) {
		if ((rc = asm_nops(s, m, nops, 0)))
			return rc;
		i->code = BPF_JMP | BPF_EXIT;
		if (!s->have_exit) {
			s->have_exit = true;
			s->exit_pc = s->n - 1;
		}
		return 0;
	}
	if (asm_streq(m, "ja") || asm_streq(m, "ja32")) {
		if ((rc = asm_nops(s, m, nops, 1)))
			return rc;
		i->code = (m[2] ? BPF_JMP32 : BPF_JMP) | BPF_JA;
		return asm_target(s, i, ops[0], m[2] != 0);
	}
	if (asm_streq(m, "call")) {
		if (nops == 2 && asm_streq(ops[0], "local")) {
			i->code = BPF_JMP | BPF_CALL;
			i->src = BPF_PSEUDO_CALL;
			return asm_target(s, i, ops[1], true);
		}
		if (nops == 2 && (asm_streq(ops[0], "helper") || asm_streq(ops[0], "runtime"))) {
			i->code = BPF_JMP | BPF_CALL;
			i->src = ops[0][0] == 'r' ? BPF_PSEUDO_IMPORT : 0;
			if (!asm_imm32(ops[1], &i->imm))
				return asm_fail(s, "bad call number", ops[1]);
			return 0;
		}
		if ((rc = asm_nops(s, m, nops, 1)))
			return rc;
		if (asm_operand(i, ops[0], ASM_DST)) {
			i->code = BPF_OPCODE_CALLX;
			return 0;
		}
		i->code = BPF_JMP | BPF_CALL;
		if (!asm_imm32(ops[0], &i->imm))
			return asm_fail(s, "bad call number", ops[0]);
		return 0;
	}
	if (asm_streq(m, "lddw")) {
		int64_t v;
		struct bpf_insn *i2;

		if ((rc = asm_nops(s, m, nops, 2)))
			return rc;
		if (!asm_operand(i, ops[0], ASM_DST))
			return asm_fail(s, "bad register", ops[0]);
		if (!asm_number(ops[1], &v))
			return asm_fail(s, "bad 64-bit immediate", ops[1]);
		i->code = BPF_LD | BPF_IMM | BPF_DW;
		i->imm = (int32_t)(uint32_t)(uint64_t)v;
		i2 = asm_emit(s);
		if (!i2)
			return asm_fail(s, "program too long", NULL);
		i2->imm = (int32_t)(uint32_t)((uint64_t)v >> 32);
		return 0;
	}
	if (asm_prefix(m, "ldx")) {
		bool sx = m[3] == 's';
		uint8_t sz = asm_size_suffix(m + 3 + sx, &ok);

		if (!ok || (sx && sz == BPF_DW))
			return asm_fail(s, "unknown mnemonic", m);
		if ((rc = asm_nops(s, m, nops, 2)))
			return rc;
		i->code = BPF_LDX | (sx ? BPF_MEMSX : BPF_MEM) | sz;
		if (!asm_operand(i, ops[0], ASM_DST))
			return asm_fail(s, "bad register", ops[0]);
		if (!asm_operand(i, ops[1], ASM_MEM_SRC))
			return asm_fail(s, "bad memory operand", ops[1]);
		return 0;
	}
	if (asm_prefix(m, "stx") || (m[0] == 's' && m[1] == 't')) {
		bool x = m[2] == 'x';
		uint8_t sz = asm_size_suffix(m + 2 + x, &ok);

		if (!ok)
			return asm_fail(s, "unknown mnemonic", m);
		if ((rc = asm_nops(s, m, nops, 2)))
			return rc;
		i->code = (x ? BPF_STX : BPF_ST) | BPF_MEM | sz;
		if (!asm_operand(i, ops[0], ASM_MEM_DST))
			return asm_fail(s, "bad memory operand", ops[0]);
		if (x ? !asm_operand(i, ops[1], ASM_SRC) : !asm_imm32(ops[1], &i->imm))
			return asm_fail(s, x ? "bad register" : "bad immediate", ops[1]);
		return 0;
	}
	if (asm_streq(m, "lock")) {
		/* lock [fetch] op[32] [%rD+off], %rS */
		int a = 0;
		bool fetch = false;

		if (nops >= 1 && asm_streq(ops[0], "fetch")) {
			fetch = true;
			a = 1;
		}
		if (nops - a != 3)
			return asm_fail(s, "lock takes [fetch] OP [%rD+off], %rS", NULL);
		is32 = asm_strip32(ops[a], base, sizeof(base));
		i->code = BPF_STX | BPF_ATOMIC | (is32 ? BPF_W : BPF_DW);
		if (asm_streq(base, "add"))
			i->imm = BPF_ADD;
		else if (asm_streq(base, "or"))
			i->imm = BPF_OR;
		else if (asm_streq(base, "and"))
			i->imm = BPF_AND;
		else if (asm_streq(base, "xor"))
			i->imm = BPF_XOR;
		else if (asm_streq(base, "xchg") && !fetch)
			i->imm = BPF_XCHG;
		else if (asm_streq(base, "cmpxchg") && !fetch)
			i->imm = BPF_CMPXCHG;
		else
			return asm_fail(s, "unknown atomic operation", ops[a]);
		if (fetch)
			i->imm |= BPF_FETCH;
		if (!asm_operand(i, ops[a + 1], ASM_MEM_DST))
			return asm_fail(s, "bad memory operand", ops[a + 1]);
		if (!asm_operand(i, ops[a + 2], ASM_SRC))
			return asm_fail(s, "bad register", ops[a + 2]);
		return 0;
	}

	/* Byte order: le/be (ALU class) and swap/bswap (ALU64 class). */
	{
		const char *w = NULL;
		uint8_t code = 0;

		if (asm_prefix(m, "le") || asm_prefix(m, "be")) {
			w = m + 2;
			code = BPF_ALU | BPF_END | (m[0] == 'b' ? BPF_TO_BE : BPF_TO_LE);
		} else if (asm_prefix(m, "swap")) {
			w = m + 4;
			code = BPF_ALU64 | BPF_END;
		} else if (asm_prefix(m, "bswap")) {
			w = m + 5;
			code = BPF_ALU64 | BPF_END;
		}
		if (w && (asm_streq(w, "16") || asm_streq(w, "32") || asm_streq(w, "64"))) {
			if ((rc = asm_nops(s, m, nops, 1)))
				return rc;
			i->code = code;
			i->imm = w[0] == '1' ? 16 : w[0] == '3' ? 32 : 64;
			if (!asm_operand(i, ops[0], ASM_DST))
				return asm_fail(s, "bad register", ops[0]);
			return 0;
		}
	}

	/* movsx{8,16,32}{32,64}: the source width then the class width. */
	if (asm_prefix(m, "movsx")) {
		static const struct {
			const char *suffix;
			uint8_t cls;
			int16_t off;
		} forms[] = {
		    {"832", BPF_ALU, 8},     {"1632", BPF_ALU, 16},   {"864", BPF_ALU64, 8},
		    {"1664", BPF_ALU64, 16}, {"3264", BPF_ALU64, 32},
		};
		for (k = 0; k < sizeof(forms) / sizeof(forms[0]); k++)
			if (asm_streq(m + 5, forms[k].suffix))
				break;
		if (k == sizeof(forms) / sizeof(forms[0]))
			return asm_fail(s, "unknown mnemonic", m);
		if ((rc = asm_nops(s, m, nops, 2)))
			return rc;
		i->code = forms[k].cls | BPF_MOV | BPF_X;
		i->off = forms[k].off;
		if (!asm_operand(i, ops[0], ASM_DST))
			return asm_fail(s, "bad register", ops[0]);
		if (!asm_operand(i, ops[1], ASM_SRC))
			return asm_fail(s, "bad register", ops[1]);
		return 0;
	}

	is32 = asm_strip32(m, base, sizeof(base));
	for (k = 0; k < sizeof(asm_jmp_ops) / sizeof(asm_jmp_ops[0]); k++) {
		if (!asm_streq(base, asm_jmp_ops[k].name))
			continue;
		if ((rc = asm_nops(s, m, nops, 3)))
			return rc;
		i->code = (is32 ? BPF_JMP32 : BPF_JMP) | asm_jmp_ops[k].op;
		if ((rc = asm_dst_src(s, i, ops)))
			return rc;
		return asm_target(s, i, ops[2], false);
	}
	for (k = 0; k < sizeof(asm_alu_ops) / sizeof(asm_alu_ops[0]); k++) {
		if (!asm_streq(base, asm_alu_ops[k].name))
			continue;
		i->code = (is32 ? BPF_ALU : BPF_ALU64) | asm_alu_ops[k].op;
		i->off = asm_alu_ops[k].off;
		if (asm_alu_ops[k].op == BPF_NEG) {
			if ((rc = asm_nops(s, m, nops, 1)))
				return rc;
			if (!asm_operand(i, ops[0], ASM_DST))
				return asm_fail(s, "bad register", ops[0]);
			return 0;
		}
		if ((rc = asm_nops(s, m, nops, 2)))
			return rc;
		return asm_dst_src(s, i, ops);
	}
	return asm_fail(s, "unknown mnemonic", m);
}

static int asm_add_label(struct asm_state *s, const char *name)
{
	uint32_t k;

	if (!asm_is_label_name(name))
		return asm_fail(s, "bad label name", name);
	for (k = 0; k < s->nlabels; k++)
		if (asm_streq(s->labels[k].name, name))
			return asm_fail(s, "duplicate label", name);
	if (s->nlabels >= ASM_MAX_LABELS)
		return asm_fail(s, "too many labels", NULL);
	rt_strlcpy(s->labels[s->nlabels].name, name, ASM_MAX_TOK);
	s->labels[s->nlabels].pc = s->n;
	s->nlabels++;
	return 0;
}

/* Tokenise and assemble one line (without its newline). */
static int asm_line(struct asm_state *s, const char *p, const char *end)
{
	char tok[ASM_MAX_OPS + 1][ASM_MAX_TOK];
	int ntok = 0, rc;

	for (;;) {
		size_t len = 0;
		int depth = 0;

		while (p < end && (asm_is_space(*p) || *p == ','))
			p++;
		if (p >= end || *p == '#' || (*p == '/' && p + 1 < end && p[1] == '/'))
			break;
		if (ntok > ASM_MAX_OPS)
			return asm_fail(s, "too many operands", NULL);
		/* A token runs to a blank or comma, except inside [...]. */
		while (p < end && (depth || !(asm_is_space(*p) || *p == ',' || *p == '#'))) {
			if (*p == '[')
				depth++;
			else if (*p == ']')
				depth--;
			if (depth && asm_is_space(*p)) {
				p++; /* "[%r1 + 2]": drop blanks inside brackets */
				continue;
			}
			if (len + 1 >= ASM_MAX_TOK)
				return asm_fail(s, "token too long", NULL);
			tok[ntok][len++] = *p++;
		}
		tok[ntok][len] = 0;
		if (depth)
			return asm_fail(s, "unbalanced '['", NULL);
		/* "label:" first on the line, possibly followed by an insn. */
		if (ntok == 0 && len > 1 && tok[0][len - 1] == ':') {
			tok[0][len - 1] = 0;
			if ((rc = asm_add_label(s, tok[0])))
				return rc;
			continue;
		}
		ntok++;
	}
	if (ntok == 0)
		return 0;
	return asm_insn(s, tok[0], &tok[1], ntok - 1);
}

static int asm_fixups(struct asm_state *s)
{
	uint32_t f, k;

	for (f = 0; f < s->nfix; f++) {
		struct asm_fixup *x = &s->fix[f];
		int64_t target = -1, delta;

		for (k = 0; k < s->nlabels; k++)
			if (asm_streq(s->labels[k].name, x->name))
				target = s->labels[k].pc;
		if (target < 0 && asm_streq(x->name, "exit") && s->have_exit)
			target = s->exit_pc;
		if (target < 0) {
			s->line = x->line;
			return asm_fail(s, "undefined label", x->name);
		}
		delta = target - (int64_t)x->pc - 1;
		if (x->in_imm) {
			s->insns[x->pc].imm = (int32_t)delta;
		} else {
			if (delta < INT16_MIN || delta > INT16_MAX) {
				s->line = x->line;
				return asm_fail(s, "jump out of 16-bit range (use ja32)", x->name);
			}
			s->insns[x->pc].off = (int16_t)delta;
		}
	}
	return 0;
}

int rt_asm(const char *text, size_t len, struct bpf_insn **out, uint32_t *n, char *err,
           size_t errlen)
{
	struct asm_state s;
	const char *p = text, *end = text + len;
	int rc = 0;

	if (!out || !n || (!text && len))
		return -RT_EINVAL;
	*out = NULL;
	*n = 0;
	memset(&s, 0, sizeof(s));
	s.err = err;
	s.errlen = errlen;
	s.insns = rt_alloc(RT_ASM_MAX_INSNS * sizeof(*s.insns));
	s.labels = rt_alloc(ASM_MAX_LABELS * sizeof(*s.labels));
	s.fix = rt_alloc(RT_ASM_MAX_INSNS * sizeof(*s.fix));
	if (!s.insns || !s.labels || !s.fix) {
		rc = rt_err(err, errlen, RT_ENOMEM, "out of memory");
		goto out;
	}
	while (p < end) {
		const char *eol = p;

		while (eol < end && *eol != '\n')
			eol++;
		s.line++;
		rc = asm_line(&s, p, eol);
		if (rc)
			goto out;
		p = eol < end ? eol + 1 : eol;
	}
	rc = asm_fixups(&s);
	if (rc)
		goto out;
	if (s.n == 0) {
		rc = rt_err(err, errlen, RT_EINVAL, "no instructions");
		goto out;
	}
	*out = rt_alloc((size_t)s.n * sizeof(**out));
	if (!*out) {
		rc = rt_err(err, errlen, RT_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, s.insns, (size_t)s.n * sizeof(**out));
	*n = s.n;
out:
	rt_free(s.insns);
	rt_free(s.labels);
	rt_free(s.fix);
	return rc;
}

/* ---- `.data` files ---- */

static bool asm_hexdigit(char c, unsigned *v)
{
	if (c >= '0' && c <= '9')
		*v = (unsigned)(c - '0');
	else if (c >= 'a' && c <= 'f')
		*v = (unsigned)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		*v = (unsigned)(c - 'A' + 10);
	else
		return false;
	return true;
}

/* Next blank-separated word of [*p, end) into w; false at the end. */
static bool asm_word(const char **p, const char *end, char *w, size_t size, bool *toolong)
{
	size_t len = 0;

	*toolong = false;
	while (*p < end && (asm_is_space(**p) || **p == '\n'))
		(*p)++;
	if (*p >= end)
		return false;
	while (*p < end && !asm_is_space(**p) && **p != '\n') {
		if (len + 1 >= size)
			*toolong = true;
		else
			w[len++] = **p;
		(*p)++;
	}
	w[len] = 0;
	return true;
}

static int asm_parse_mem(const char *p, const char *end, struct rt_asm_test *t, char *err,
                         size_t errlen)
{
	uint32_t cap = (uint32_t)(end - p) / 2 + 1, n = 0;
	char w[ASM_MAX_TOK];
	bool toolong;

	t->mem = rt_alloc(cap);
	if (!t->mem)
		return rt_err(err, errlen, RT_ENOMEM, "out of memory");
	/* Words of hex digit pairs: "00 01 02" or "000102". */
	while (asm_word(&p, end, w, sizeof(w), &toolong)) {
		size_t k, len = strlen(w);

		if (toolong || len % 2)
			return rt_err(err, errlen, RT_EINVAL, "-- mem: bad hex word '%s'", w);
		for (k = 0; k < len; k += 2) {
			unsigned hi, lo;

			if (!asm_hexdigit(w[k], &hi) || !asm_hexdigit(w[k + 1], &lo))
				return rt_err(err, errlen, RT_EINVAL, "-- mem: bad hex word '%s'",
				              w);
			t->mem[n++] = (uint8_t)(hi << 4 | lo);
		}
	}
	t->memlen = n;
	t->has_mem = true;
	return 0;
}

static int asm_parse_raw(const char *p, const char *end, struct rt_asm_test *t, char *err,
                         size_t errlen)
{
	uint32_t cap = (uint32_t)(end - p) / 2 + 1, n = 0;
	char w[ASM_MAX_TOK];
	bool toolong;

	t->raw = rt_alloc((size_t)cap * sizeof(*t->raw));
	if (!t->raw)
		return rt_err(err, errlen, RT_ENOMEM, "out of memory");
	while (asm_word(&p, end, w, sizeof(w), &toolong)) {
		int64_t v;

		if (w[0] == '#') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		if (toolong || !asm_number(w, &v) || w[0] == '-')
			return rt_err(err, errlen, RT_EINVAL, "-- raw: bad word '%s'", w);
		memcpy(&t->raw[n++], &v, sizeof(v));
	}
	t->nraw = n;
	return 0;
}

static int asm_parse_result(const char *p, const char *end, struct rt_asm_test *t, char *err,
                            size_t errlen)
{
	char w[ASM_MAX_TOK];
	bool toolong;
	int64_t v;

	while (asm_word(&p, end, w, sizeof(w), &toolong)) {
		if (w[0] == '#') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		if (toolong || !asm_number(w, &v))
			return rt_err(err, errlen, RT_EINVAL, "-- result: bad value '%s'", w);
		t->result = (uint64_t)v;
		t->has_result = true;
		return 0;
	}
	return rt_err(err, errlen, RT_EINVAL, "-- result: no value");
}

int rt_asm_parse_test(const char *text, size_t len, struct rt_asm_test *t, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	const char *sec = NULL, *body = NULL;
	size_t seclen = 0;
	int rc = 0;

	if (!t || (!text && len))
		return -RT_EINVAL;
	memset(t, 0, sizeof(*t));
	/* Walk lines; a line starting with "-- " opens a section that runs to
	 * the next such line or the end. */
	for (;;) {
		const char *eol = p;
		bool at_end = p >= end, header;

		while (eol < end && *eol != '\n')
			eol++;
		header = !at_end && eol - p >= 3 && p[0] == '-' && p[1] == '-' && p[2] == ' ';
		if ((at_end || header) && sec) {
			const char *bend = at_end ? end : p;

			if (seclen == 3 && !memcmp(sec, "asm", 3)) {
				t->asm_text = body;
				t->asm_len = (size_t)(bend - body);
			} else if (seclen == 3 && !memcmp(sec, "mem", 3)) {
				rc = asm_parse_mem(body, bend, t, err, errlen);
			} else if (seclen == 3 && !memcmp(sec, "raw", 3)) {
				rc = asm_parse_raw(body, bend, t, err, errlen);
			} else if (seclen == 6 && !memcmp(sec, "result", 6)) {
				rc = asm_parse_result(body, bend, t, err, errlen);
			} else if (seclen == 5 && !memcmp(sec, "error", 5)) {
				t->expect_error = true;
				t->error_text = body;
				t->error_len = (size_t)(bend - body);
			}
			if (rc) {
				rt_asm_test_free(t);
				return rc;
			}
			sec = NULL;
		}
		if (at_end)
			break;
		if (header) {
			const char *e = eol;

			sec = p + 3;
			while (e > sec && asm_is_space(e[-1]))
				e--;
			seclen = (size_t)(e - sec);
			body = eol < end ? eol + 1 : eol;
		}
		p = eol < end ? eol + 1 : eol;
	}
	if (!t->asm_text && !t->raw) {
		rt_asm_test_free(t);
		return rt_err(err, errlen, RT_EINVAL, "no -- asm or -- raw section");
	}
	if (!t->has_result && !t->expect_error) {
		rt_asm_test_free(t);
		return rt_err(err, errlen, RT_EINVAL, "no -- result or -- error section");
	}
	return 0;
}

void rt_asm_test_free(struct rt_asm_test *t)
{
	if (!t)
		return;
	rt_free(t->raw);
	rt_free(t->mem);
	t->raw = NULL;
	t->mem = NULL;
}
