/*
 * loader.c - turning a clang BPF relocatable object (ELF64, EM_BPF, ET_REL)
 * into a struct rt_prog (prog.h).
 *
 * Design.  The image is untrusted input of arbitrary bytes, so the loader
 * is a strict validator first and a converter second:
 *
 *   1. header: ELF64, little-endian, version 1, ET_REL, EM_BPF, sane sizes;
 *   2. section table: inside the image, every section's bytes inside the
 *      image and not overlapping each other or the headers, names inside a
 *      NUL-terminated string table, one symbol table with a valid string
 *      table;
 *   3. classification: code (SHF_EXECINSTR, a whole number of
 *      instructions), globals (.data*, .rodata*, .bss*), .BTF, .BTF.ext,
 *      license; maps sections and RELA are refused; the rest (DWARF,
 *      .llvm_addrsig) is ignored;
 *   4. symbols: every FUNC symbol in a code section becomes an rt_func;
 *      the functions must tile every code section exactly (no gaps, no
 *      overlaps), which later passes rely on;
 *   5. relocations of code sections, applied into the pseudo forms of
 *      bpf.h: R_BPF_64_64 on an lddw -> BPF_PSEUDO_GLOBAL (region index,
 *      offset in the second slot), R_BPF_64_32 on a call -> an import
 *      (undefined symbol, deduplicated by name) or a pc-relative local
 *      call (a function in any code section: sections are concatenated, so
 *      the target's index is rebased and made relative to the call);
 *   6. the shared code checks (prog.c): callx, legacy packet loads, lddw
 *      split across the end, call targets.
 *
 * Every check is done on copies of the records (memcpy out of the image,
 * which need not be aligned) with 64-bit arithmetic on 32-bit quantities or
 * explicit overflow tests, so no input can make the loader read outside
 * the image.  Each failure has its own one-line message naming the section,
 * symbol or instruction; the codes are -RT_EMALFORMED (broken object),
 * -RT_EUNSUPP (well-formed but something Spindle refuses), -RT_E2BIG (over
 * a limit) and -RT_ENOMEM.  Nothing is allocated into the result until
 * validation of the part being converted is complete, and every failure
 * path frees everything.
 */
#include "runtime/btf.h"
#include "runtime/elf.h"
#include "runtime/prog_impl.h"

#define LD_MAX_SECTIONS    4096
#define LD_MAX_GLOBAL_SIZE (64u << 20)

enum ld_kind { LD_OTHER, LD_CODE, LD_GLOBAL, LD_BTF, LD_BTF_EXT, LD_LICENSE, LD_REL, LD_SYMTAB };

struct ld_sec {
	struct elf64_shdr sh;
	const char *name;
	enum ld_kind kind;
	uint32_t base;   /* LD_CODE: first insn index in the array */
	uint32_t ninsns; /* LD_CODE */
	int32_t global;  /* LD_GLOBAL: index into prog->globals */
};

struct ld {
	const uint8_t *img;
	size_t size;
	struct ld_sec *sec;
	uint32_t nsec;
	const uint8_t *syms; /* symbol table bytes (inside img) */
	uint32_t nsyms;
	const char *strtab; /* its string table */
	uint64_t strtab_size;
	uint8_t *relocated; /* one flag per insn: already relocated */
	struct rt_prog *p;
	char *err;
	size_t errlen;
};

static bool ld_range_ok(const struct ld *l, uint64_t off, uint64_t len)
{
	return off <= l->size && len <= l->size - off;
}

/* A NUL-terminated string at off inside a string table, or NULL. */
static const char *ld_str(const char *tab, uint64_t tabsize, uint64_t off)
{
	uint64_t i;

	if (off >= tabsize)
		return NULL;
	for (i = off; i < tabsize; i++)
		if (tab[i] == 0)
			return tab + off;
	return NULL;
}

static void ld_sym(const struct ld *l, uint32_t idx, struct elf64_sym *s)
{
	memcpy(s, l->syms + (size_t)idx * sizeof(*s), sizeof(*s));
}

static bool ld_name_is(const char *name, const char *prefix, bool exact)
{
	size_t n = strlen(prefix);

	if (strncmp(name, prefix, n) != 0)
		return false;
	return exact ? name[n] == 0 : (name[n] == 0 || name[n] == '.');
}

/* ---- 1 and 2: header and section table ---- */

static int ld_header(struct ld *l, struct elf64_ehdr *eh)
{
	if (l->size < sizeof(*eh))
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "truncated: %zu bytes, shorter than an ELF64 header", l->size);
	memcpy(eh, l->img, sizeof(*eh));
	if (memcmp(eh->e_ident, "\177ELF", 4) != 0)
		return rt_err(l->err, l->errlen, RT_EMALFORMED, "not an ELF file (bad magic)");
	if (eh->e_ident[ELF_EI_CLASS] != ELF_CLASS64)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "wrong ELF class %u: only ELF64 BPF objects are loaded",
		              eh->e_ident[ELF_EI_CLASS]);
	if (eh->e_ident[ELF_EI_DATA] != ELF_DATA2LSB)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "wrong endianness: only little-endian BPF objects are loaded");
	if (eh->e_ident[ELF_EI_VERSION] != ELF_EV_CURRENT || eh->e_version != ELF_EV_CURRENT)
		return rt_err(l->err, l->errlen, RT_EMALFORMED, "unknown ELF version");
	if (eh->e_machine != ELF_EM_BPF)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "wrong machine %u: not an eBPF object (EM_BPF is 247)",
		              eh->e_machine);
	if (eh->e_type != ELF_ET_REL)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "wrong ELF type %u: expected a relocatable object (ET_REL) "
		              "as clang -c produces",
		              eh->e_type);
	if (eh->e_ehsize != sizeof(*eh) || eh->e_shentsize != sizeof(struct elf64_shdr))
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "bad header or section header size (%u, %u)", eh->e_ehsize,
		              eh->e_shentsize);
	if (eh->e_shnum == 0 || eh->e_shnum >= ELF_SHN_LORESERVE)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "bad section count %u (extended numbering is not supported)",
		              eh->e_shnum);
	if (eh->e_shnum > LD_MAX_SECTIONS)
		return rt_err(l->err, l->errlen, RT_E2BIG, "%u sections, limit %u", eh->e_shnum,
		              LD_MAX_SECTIONS);
	if (eh->e_shoff < sizeof(*eh) ||
	    !ld_range_ok(l, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(struct elf64_shdr)))
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "section header table (offset %llu, %u entries) outside the file",
		              (unsigned long long)eh->e_shoff, eh->e_shnum);
	if (eh->e_shstrndx == 0 || eh->e_shstrndx >= eh->e_shnum)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "section name table index %u out of range", eh->e_shstrndx);
	return 0;
}

static int ld_sections(struct ld *l, const struct elf64_ehdr *eh)
{
	const struct elf64_shdr *names;
	uint32_t i, j;

	l->nsec = eh->e_shnum;
	l->sec = rt_alloc((size_t)l->nsec * sizeof(*l->sec));
	if (!l->sec)
		return rt_err(l->err, l->errlen, RT_ENOMEM, "out of memory");
	for (i = 0; i < l->nsec; i++) {
		struct ld_sec *s = &l->sec[i];

		memcpy(&s->sh, l->img + eh->e_shoff + (size_t)i * sizeof(s->sh), sizeof(s->sh));
		s->global = -1;
		if (s->sh.sh_type != ELF_SHT_NOBITS && s->sh.sh_type != ELF_SHT_NULL &&
		    !ld_range_ok(l, s->sh.sh_offset, s->sh.sh_size))
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "section %u: bytes (offset %llu, size %llu) outside the file",
			              i, (unsigned long long)s->sh.sh_offset,
			              (unsigned long long)s->sh.sh_size);
	}

	/* File contents may not overlap each other or the two headers. */
	for (i = 1; i < l->nsec; i++) {
		const struct elf64_shdr *a = &l->sec[i].sh;
		uint64_t sht_lo = eh->e_shoff,
		         sht_hi = eh->e_shoff + (uint64_t)l->nsec * sizeof(*a);

		if (a->sh_type == ELF_SHT_NOBITS || a->sh_type == ELF_SHT_NULL || a->sh_size == 0)
			continue;
		if (a->sh_offset < sizeof(*eh) ||
		    (a->sh_offset < sht_hi && sht_lo < a->sh_offset + a->sh_size))
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "section %u overlaps the ELF or section headers", i);
		for (j = i + 1; j < l->nsec; j++) {
			const struct elf64_shdr *b = &l->sec[j].sh;

			if (b->sh_type == ELF_SHT_NOBITS || b->sh_type == ELF_SHT_NULL ||
			    b->sh_size == 0)
				continue;
			if (a->sh_offset < b->sh_offset + b->sh_size &&
			    b->sh_offset < a->sh_offset + a->sh_size)
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "sections %u and %u overlap", i, j);
		}
	}

	names = &l->sec[eh->e_shstrndx].sh;
	if (names->sh_type != ELF_SHT_STRTAB)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "section name table (section %u) is not a string table",
		              eh->e_shstrndx);
	for (i = 0; i < l->nsec; i++) {
		l->sec[i].name = ld_str((const char *)l->img + names->sh_offset, names->sh_size,
		                        l->sec[i].sh.sh_name);
		if (!l->sec[i].name)
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "section %u: name offset %u outside the name table", i,
			              l->sec[i].sh.sh_name);
	}
	return 0;
}

/* ---- 3: classification ---- */

static int ld_classify(struct ld *l)
{
	struct rt_prog *p = l->p;
	uint32_t i, symtab = 0;
	uint64_t ninsns = 0;

	for (i = 1; i < l->nsec; i++) {
		struct ld_sec *s = &l->sec[i];
		const char *n = s->name;

		switch (s->sh.sh_type) {
		case ELF_SHT_SYMTAB:
			if (symtab)
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "more than one symbol table");
			symtab = i;
			s->kind = LD_SYMTAB;
			continue;
		case ELF_SHT_RELA:
			return rt_err(l->err, l->errlen, RT_EUNSUPP,
			              "section '%s': RELA relocations are not supported "
			              "(clang emits REL for BPF)",
			              n);
		case ELF_SHT_REL:
			s->kind = LD_REL;
			continue;
		default:
			break;
		}
		if (ld_name_is(n, "maps", false) || ld_name_is(n, ".maps", false) ||
		    strncmp(n, "maps/", 5) == 0)
			return rt_err(l->err, l->errlen, RT_EUNSUPP,
			              "section '%s': BPF maps are not supported (use the "
			              "interfaces your domain exports)",
			              n);
		if (s->sh.sh_flags & ELF_SHF_EXECINSTR) {
			if (s->sh.sh_type != ELF_SHT_PROGBITS)
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "code section '%s' has no contents", n);
			if (s->sh.sh_size % BPF_INSN_SIZE)
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "code section '%s': size %llu is not a multiple of "
				              "the 8-byte instruction size",
				              n, (unsigned long long)s->sh.sh_size);
			s->kind = LD_CODE;
			s->base = (uint32_t)ninsns;
			s->ninsns = (uint32_t)(s->sh.sh_size / BPF_INSN_SIZE);
			ninsns += s->sh.sh_size / BPF_INSN_SIZE;
			if (ninsns > RT_MAX_INSNS)
				return rt_err(l->err, l->errlen, RT_E2BIG,
				              "more than %u instructions", RT_MAX_INSNS);
			continue;
		}
		if (ld_name_is(n, ".data", false) || ld_name_is(n, ".rodata", false) ||
		    ld_name_is(n, ".bss", false)) {
			struct rt_global *g;

			if (s->sh.sh_type != ELF_SHT_PROGBITS && s->sh.sh_type != ELF_SHT_NOBITS)
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "data section '%s' has type %u", n, s->sh.sh_type);
			if (p->nglobals >= RT_MAX_GLOBALS)
				return rt_err(l->err, l->errlen, RT_E2BIG,
				              "more than %u data sections", RT_MAX_GLOBALS);
			if (s->sh.sh_size > LD_MAX_GLOBAL_SIZE)
				return rt_err(l->err, l->errlen, RT_E2BIG,
				              "data section '%s' is %llu bytes, limit %u", n,
				              (unsigned long long)s->sh.sh_size,
				              LD_MAX_GLOBAL_SIZE);
			g = &p->globals[p->nglobals];
			rt_strlcpy(g->name, n, sizeof(g->name));
			g->kind = n[1] == 'r'   ? RT_GLOBAL_RODATA
			          : n[1] == 'b' ? RT_GLOBAL_BSS
			                        : RT_GLOBAL_DATA;
			if (s->sh.sh_type == ELF_SHT_NOBITS && g->kind != RT_GLOBAL_BSS)
				g->kind = RT_GLOBAL_BSS;
			g->size = (uint32_t)s->sh.sh_size;
			/* Allocate at least 8 bytes so that every region has a
			 * distinct, non-NULL address. */
			g->data = rt_alloc(g->size ? g->size : 8);
			if (!g->data)
				return rt_err(l->err, l->errlen, RT_ENOMEM, "out of memory");
			if (s->sh.sh_type == ELF_SHT_PROGBITS)
				memcpy(g->data, l->img + s->sh.sh_offset, g->size);
			s->kind = LD_GLOBAL;
			s->global = (int32_t)p->nglobals++;
			continue;
		}
		/* Only sections with file contents were range-checked above: a
		 * NOBITS or NULL section named .BTF must not be read as one. */
		if (s->sh.sh_type == ELF_SHT_NOBITS || s->sh.sh_type == ELF_SHT_NULL)
			continue;
		if (strcmp(n, ".BTF") == 0)
			s->kind = LD_BTF;
		else if (strcmp(n, ".BTF.ext") == 0)
			s->kind = LD_BTF_EXT;
		else if (strcmp(n, "license") == 0)
			s->kind = LD_LICENSE;
	}
	if (ninsns == 0)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "no code: the object has no "
		              "executable section");

	if (!symtab)
		return rt_err(l->err, l->errlen, RT_EMALFORMED, "no symbol table");
	{
		const struct ld_sec *st = &l->sec[symtab];
		const struct ld_sec *str;

		if (st->sh.sh_entsize != sizeof(struct elf64_sym) ||
		    st->sh.sh_size % sizeof(struct elf64_sym))
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "symbol table entry size %llu, expected %zu",
			              (unsigned long long)st->sh.sh_entsize,
			              sizeof(struct elf64_sym));
		if (st->sh.sh_size / sizeof(struct elf64_sym) > 1000000)
			return rt_err(l->err, l->errlen, RT_E2BIG, "too many symbols");
		if (st->sh.sh_link == 0 || st->sh.sh_link >= l->nsec ||
		    l->sec[st->sh.sh_link].sh.sh_type != ELF_SHT_STRTAB)
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "symbol table's string table (section %u) is invalid",
			              st->sh.sh_link);
		str = &l->sec[st->sh.sh_link];
		l->syms = l->img + st->sh.sh_offset;
		l->nsyms = (uint32_t)(st->sh.sh_size / sizeof(struct elf64_sym));
		l->strtab = (const char *)l->img + str->sh.sh_offset;
		l->strtab_size = str->sh.sh_size;
	}

	/* The concatenated code, in section order. */
	p->insns = rt_alloc((size_t)ninsns * sizeof(struct bpf_insn));
	l->relocated = rt_alloc((size_t)ninsns);
	if (!p->insns || !l->relocated)
		return rt_err(l->err, l->errlen, RT_ENOMEM, "out of memory");
	p->ninsns = (uint32_t)ninsns;
	for (i = 1; i < l->nsec; i++)
		if (l->sec[i].kind == LD_CODE)
			memcpy(&p->insns[l->sec[i].base], l->img + l->sec[i].sh.sh_offset,
			       l->sec[i].sh.sh_size);
	return 0;
}

/* ---- 4: symbols -> functions ---- */

static int ld_symbol_name(struct ld *l, uint32_t idx, const struct elf64_sym *s, const char **out)
{
	*out = ld_str(l->strtab, l->strtab_size, s->st_name);
	if (!*out)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "symbol %u: name offset %u outside the string table", idx,
		              s->st_name);
	return 0;
}

static int ld_funcs(struct ld *l)
{
	struct rt_prog *p = l->p;
	uint32_t i, n = 0, k;
	int rc;

	for (i = 1; i < l->nsyms; i++) {
		struct elf64_sym s;

		ld_sym(l, i, &s);
		if (ELF_ST_TYPE(s.st_info) != ELF_STT_FUNC)
			continue;
		if (s.st_shndx == ELF_SHN_UNDEF)
			continue; /* an extern function declared as FUNC: an import */
		if (s.st_shndx >= l->nsec || l->sec[s.st_shndx].kind != LD_CODE)
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "function symbol %u is not in a code section", i);
		if (++n > RT_MAX_FUNCS)
			return rt_err(l->err, l->errlen, RT_E2BIG, "more than %u functions",
			              RT_MAX_FUNCS);
	}
	if (n == 0)
		return rt_err(l->err, l->errlen, RT_EMALFORMED, "no function symbols");
	p->funcs = rt_alloc((size_t)n * sizeof(*p->funcs));
	if (!p->funcs)
		return rt_err(l->err, l->errlen, RT_ENOMEM, "out of memory");

	for (i = 1; i < l->nsyms; i++) {
		struct elf64_sym s;
		const struct ld_sec *sec;
		struct rt_func *f;
		const char *name;
		uint8_t bind;

		ld_sym(l, i, &s);
		if (ELF_ST_TYPE(s.st_info) != ELF_STT_FUNC || s.st_shndx == ELF_SHN_UNDEF)
			continue;
		if ((rc = ld_symbol_name(l, i, &s, &name)))
			return rc;
		sec = &l->sec[s.st_shndx];
		if (s.st_value % BPF_INSN_SIZE || s.st_size % BPF_INSN_SIZE || s.st_size == 0 ||
		    s.st_value > sec->sh.sh_size || s.st_size > sec->sh.sh_size - s.st_value)
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "function '%s': range %llu+%llu is not whole instructions "
			              "inside section '%s'",
			              name, (unsigned long long)s.st_value,
			              (unsigned long long)s.st_size, sec->name);
		bind = ELF_ST_BIND(s.st_info);
		f = &p->funcs[p->nfuncs++];
		rt_strlcpy(f->name, name, sizeof(f->name));
		rt_strlcpy(f->section, sec->name, sizeof(f->section));
		f->start = sec->base + (uint32_t)(s.st_value / BPF_INSN_SIZE);
		f->end = f->start + (uint32_t)(s.st_size / BPF_INSN_SIZE);
		f->global = bind == ELF_STB_GLOBAL || bind == ELF_STB_WEAK;
		f->entry = f->global || strcmp(sec->name, ".text") != 0;
	}

	/* Sort by start, then the functions must tile every code section. */
	for (i = 1; i < p->nfuncs; i++) {
		struct rt_func x = p->funcs[i];

		for (k = i; k > 0 && p->funcs[k - 1].start > x.start; k--)
			p->funcs[k] = p->funcs[k - 1];
		p->funcs[k] = x;
	}
	for (i = 0; i < p->nfuncs; i++) {
		uint32_t expect = i == 0 ? 0 : p->funcs[i - 1].end;

		if (p->funcs[i].start < expect)
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "functions '%s' and '%s' overlap", p->funcs[i - 1].name,
			              p->funcs[i].name);
		if (p->funcs[i].start > expect)
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "insns %u..%u belong to no function", expect,
			              p->funcs[i].start - 1);
	}
	if (p->funcs[p->nfuncs - 1].end != p->ninsns)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "insns %u..%u belong to no function", p->funcs[p->nfuncs - 1].end,
		              p->ninsns - 1);
	/* Entry points are found by name, so their names must be unique. */
	for (i = 0; i < p->nfuncs; i++)
		for (k = 0; k < i; k++)
			if (p->funcs[i].entry && p->funcs[k].entry &&
			    strcmp(p->funcs[k].name, p->funcs[i].name) == 0)
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "function '%s' defined twice", p->funcs[i].name);
	return 0;
}

static bool ld_is_func_start(const struct rt_prog *p, uint32_t insn)
{
	uint32_t lo = 0, hi = p->nfuncs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->funcs[mid].start == insn)
			return true;
		if (p->funcs[mid].start < insn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ---- 5: relocations ---- */

static int ld_import(struct ld *l, const char *name, uint32_t *idx)
{
	struct rt_prog *p = l->p;
	uint32_t i;

	if (!*name)
		return rt_err(l->err, l->errlen, RT_EMALFORMED, "call of an unnamed import");
	if (strlen(name) >= sizeof(p->imports[0].name))
		return rt_err(l->err, l->errlen, RT_E2BIG, "import name '%.40s...' too long", name);
	for (i = 0; i < p->nimports; i++)
		if (strcmp(p->imports[i].name, name) == 0) {
			*idx = i;
			return 0;
		}
	if (p->nimports >= RT_MAX_IMPORTS)
		return rt_err(l->err, l->errlen, RT_E2BIG, "more than %u imports", RT_MAX_IMPORTS);
	if (!p->imports) {
		p->imports = rt_alloc(RT_MAX_IMPORTS * sizeof(*p->imports));
		if (!p->imports)
			return rt_err(l->err, l->errlen, RT_ENOMEM, "out of memory");
	}
	rt_strlcpy(p->imports[p->nimports].name, name, sizeof(p->imports[0].name));
	*idx = p->nimports++;
	return 0;
}

static int ld_reloc_lddw(struct ld *l, const struct ld_sec *code, uint32_t pc, uint32_t symidx,
                         const struct elf64_sym *s, const char *name)
{
	struct rt_prog *p = l->p;
	struct bpf_insn *i = &p->insns[pc];
	const struct ld_sec *target;
	uint64_t addend, off;

	if (!bpf_is_lddw(i) || i->src != 0)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "%s+%u: R_BPF_64_64 relocation on an instruction that is not lddw",
		              code->name, (pc - code->base) * BPF_INSN_SIZE);
	if (pc + 1 >= code->base + code->ninsns)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "%s+%u: lddw split across the end of the section", code->name,
		              (pc - code->base) * BPF_INSN_SIZE);
	if (s->st_shndx == ELF_SHN_UNDEF)
		return rt_err(l->err, l->errlen, RT_EUNSUPP,
		              "%s+%u: extern variable '%s' is not supported (import functions, "
		              "not data)",
		              code->name, (pc - code->base) * BPF_INSN_SIZE, name);
	if (s->st_shndx >= l->nsec)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "symbol %u ('%s'): section index %u out of range", symidx, name,
		              s->st_shndx);
	target = &l->sec[s->st_shndx];
	if (target->kind == LD_CODE)
		return rt_err(l->err, l->errlen, RT_EUNSUPP,
		              "%s+%u: address of code taken ('%s'): function pointers are "
		              "not supported",
		              code->name, (pc - code->base) * BPF_INSN_SIZE, name);
	if (target->kind != LD_GLOBAL)
		return rt_err(l->err, l->errlen, RT_EUNSUPP,
		              "%s+%u: reference to '%s' in section '%s', which is not a data "
		              "section (.data, .rodata, .bss)",
		              code->name, (pc - code->base) * BPF_INSN_SIZE, name, target->name);
	/* REL: the addend is the 64-bit immediate already in the lddw. */
	addend = (uint32_t)i[0].imm | ((uint64_t)(uint32_t)i[1].imm << 32);
	off = s->st_value + addend;
	if (s->st_value > target->sh.sh_size || addend > target->sh.sh_size ||
	    off > target->sh.sh_size)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "%s+%u: '%s'+%llu is outside section '%s' (%llu bytes)", code->name,
		              (pc - code->base) * BPF_INSN_SIZE, name, (unsigned long long)addend,
		              target->name, (unsigned long long)target->sh.sh_size);
	i[0].src = BPF_PSEUDO_GLOBAL;
	i[0].imm = target->global;
	i[1].imm = (int32_t)off;
	l->relocated[pc + 1] = 1;
	return 0;
}

static int ld_reloc_call(struct ld *l, const struct ld_sec *code, uint32_t pc, uint32_t symidx,
                         const struct elf64_sym *s, const char *name)
{
	struct rt_prog *p = l->p;
	struct bpf_insn *i = &p->insns[pc];
	const struct ld_sec *target;
	int64_t t;
	uint32_t imp = 0;
	int rc;

	if (i->code != (BPF_JMP | BPF_CALL) || i->src != BPF_PSEUDO_CALL)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "%s+%u: R_BPF_64_32 relocation on an instruction that is not a call",
		              code->name, (pc - code->base) * BPF_INSN_SIZE);
	if (s->st_shndx == ELF_SHN_UNDEF) {
		if (ELF_ST_BIND(s->st_info) == ELF_STB_LOCAL)
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "%s+%u: call of undefined local symbol %u", code->name,
			              (pc - code->base) * BPF_INSN_SIZE, symidx);
		if ((rc = ld_import(l, name, &imp)))
			return rc;
		i->src = BPF_PSEUDO_IMPORT;
		i->imm = (int32_t)imp;
		return 0;
	}
	if (s->st_shndx >= l->nsec || l->sec[s->st_shndx].kind != LD_CODE)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "%s+%u: call target '%s' is not in a code section", code->name,
		              (pc - code->base) * BPF_INSN_SIZE, name);
	target = &l->sec[s->st_shndx];
	if (s->st_value % BPF_INSN_SIZE)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "%s+%u: call target '%s' is not instruction-aligned", code->name,
		              (pc - code->base) * BPF_INSN_SIZE, name);
	/* Index in the target section: sym_value/8 + imm + 1. */
	t = (int64_t)(s->st_value / BPF_INSN_SIZE) + i->imm + 1;
	if (s->st_value > target->sh.sh_size || t < 0 || t >= (int64_t)target->ninsns)
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "%s+%u: call target outside section '%s'", code->name,
		              (pc - code->base) * BPF_INSN_SIZE, target->name);
	t += target->base;
	if (!ld_is_func_start(p, (uint32_t)t))
		return rt_err(l->err, l->errlen, RT_EMALFORMED,
		              "%s+%u: call to insn %lld of '%s', which starts no function",
		              code->name, (pc - code->base) * BPF_INSN_SIZE,
		              (long long)(t - target->base), target->name);
	i->imm = (int32_t)(t - (int64_t)pc - 1);
	return 0;
}

static int ld_relocs(struct ld *l)
{
	uint32_t r;
	int rc;

	for (r = 1; r < l->nsec; r++) {
		const struct ld_sec *rs = &l->sec[r];
		const struct ld_sec *code;
		uint64_t k, n;

		if (rs->kind != LD_REL)
			continue;
		if (rs->sh.sh_info == 0 || rs->sh.sh_info >= l->nsec)
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "relocation section '%s' applies to section %u, out of range",
			              rs->name, rs->sh.sh_info);
		code = &l->sec[rs->sh.sh_info];
		/* Relocations of debug info and BTF are not needed. */
		if (code->kind != LD_CODE && code->kind != LD_GLOBAL)
			continue;
		if (code->kind == LD_GLOBAL)
			return rt_err(l->err, l->errlen, RT_EUNSUPP,
			              "section '%s' has relocations: initialised pointers in "
			              "globals are not supported",
			              code->name);
		if (rs->sh.sh_entsize != sizeof(struct elf64_rel) ||
		    rs->sh.sh_size % sizeof(struct elf64_rel))
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "relocation section '%s': entry size %llu, expected %zu",
			              rs->name, (unsigned long long)rs->sh.sh_entsize,
			              sizeof(struct elf64_rel));
		if (rs->sh.sh_link != 0 &&
		    (rs->sh.sh_link >= l->nsec || l->sec[rs->sh.sh_link].kind != LD_SYMTAB))
			return rt_err(l->err, l->errlen, RT_EMALFORMED,
			              "relocation section '%s' does not link to the symbol table",
			              rs->name);
		n = rs->sh.sh_size / sizeof(struct elf64_rel);
		for (k = 0; k < n; k++) {
			struct elf64_rel rel;
			struct elf64_sym s;
			uint32_t symidx, type, pc;
			const char *name;

			memcpy(&rel, l->img + rs->sh.sh_offset + k * sizeof(rel), sizeof(rel));
			symidx = ELF_R_SYM(rel.r_info);
			type = ELF_R_TYPE(rel.r_info);
			if (rel.r_offset % BPF_INSN_SIZE || rel.r_offset >= code->sh.sh_size)
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "relocation %llu of '%s': offset %llu is not an "
				              "instruction of the section",
				              (unsigned long long)k, code->name,
				              (unsigned long long)rel.r_offset);
			if (symidx == 0 || symidx >= l->nsyms)
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "relocation %llu of '%s': symbol %u %s",
				              (unsigned long long)k, code->name, symidx,
				              symidx ? "out of range"
				                     : "(relocation against nothing)");
			ld_sym(l, symidx, &s);
			if ((rc = ld_symbol_name(l, symidx, &s, &name)))
				return rc;
			if (ELF_ST_TYPE(s.st_info) == ELF_STT_SECTION && s.st_shndx < l->nsec)
				name = l->sec[s.st_shndx].name;
			if (s.st_shndx >= ELF_SHN_LORESERVE)
				return rt_err(l->err, l->errlen, RT_EUNSUPP,
				              "relocation against '%s' in special section %#x "
				              "(absolute or common symbols are not supported)",
				              name, s.st_shndx);
			pc = code->base + (uint32_t)(rel.r_offset / BPF_INSN_SIZE);
			if (l->relocated[pc])
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "%s+%llu: instruction relocated twice", code->name,
				              (unsigned long long)rel.r_offset);
			l->relocated[pc] = 1;
			switch (type) {
			case R_BPF_64_64:
				rc = ld_reloc_lddw(l, code, pc, symidx, &s, name);
				break;
			case R_BPF_64_32:
				rc = ld_reloc_call(l, code, pc, symidx, &s, name);
				break;
			default:
				rc = rt_err(l->err, l->errlen, RT_EUNSUPP,
				            "%s+%llu: relocation type %u is not supported in code",
				            code->name, (unsigned long long)rel.r_offset, type);
				break;
			}
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Unrelocated local calls are pc-relative within their own section. */
static int ld_local_calls(struct ld *l)
{
	struct rt_prog *p = l->p;
	uint32_t s, pc;

	for (s = 1; s < l->nsec; s++) {
		const struct ld_sec *code = &l->sec[s];

		if (code->kind != LD_CODE)
			continue;
		for (pc = code->base; pc < code->base + code->ninsns; pc++) {
			const struct bpf_insn *i = &p->insns[pc];
			int64_t t;

			if (bpf_is_lddw(i)) {
				pc++;
				continue;
			}
			if (i->code != (BPF_JMP | BPF_CALL) || i->src != BPF_PSEUDO_CALL ||
			    l->relocated[pc])
				continue;
			t = (int64_t)pc + 1 + i->imm;
			if (t < code->base || t >= (int64_t)code->base + code->ninsns ||
			    !ld_is_func_start(p, (uint32_t)t))
				return rt_err(l->err, l->errlen, RT_EMALFORMED,
				              "%s+%u: call to outside any function (no relocation, "
				              "target %lld)",
				              code->name, (pc - code->base) * BPF_INSN_SIZE,
				              (long long)(t - code->base));
		}
	}
	return 0;
}

/* ---- BTF and license ---- */

static int ld_btf(struct ld *l)
{
	struct rt_prog *p = l->p;
	struct rt_btf *b = NULL;
	struct rt_btf_secmap *map = NULL;
	uint32_t i, n = 0;
	int rc = 0;

	for (i = 1; i < l->nsec; i++) {
		const struct ld_sec *s = &l->sec[i];

		if (s->kind == LD_LICENSE) {
			uint64_t k, len = s->sh.sh_size;

			/* The license string, cut at its NUL or the field. */
			for (k = 0; k < len && k + 1 < sizeof(p->license); k++) {
				char c = (char)l->img[s->sh.sh_offset + k];

				if (!c)
					break;
				p->license[k] = c;
			}
			p->license[k] = 0;
		}
		if (s->kind == LD_BTF && !p->btf) {
			rc = rt_btf_parse(l->img + s->sh.sh_offset, s->sh.sh_size, &b, l->err,
			                  l->errlen);
			if (rc)
				return rc;
			p->btf = b;
		}
	}
	b = p->btf;
	for (i = 0; i < p->nimports; i++)
		p->imports[i].btf_proto = rt_btf_func_proto(b, p->imports[i].name);

	for (i = 1; i < l->nsec; i++) {
		const struct ld_sec *s = &l->sec[i];
		uint32_t k;

		if (s->kind != LD_BTF_EXT)
			continue;
		map = rt_alloc((size_t)l->nsec * sizeof(*map));
		if (!map)
			return rt_err(l->err, l->errlen, RT_ENOMEM, "out of memory");
		for (k = 1; k < l->nsec; k++)
			if (l->sec[k].kind == LD_CODE) {
				map[n].name = l->sec[k].name;
				map[n].base = l->sec[k].base;
				map[n].ninsns = l->sec[k].ninsns;
				n++;
			}
		rc = rt_btf_ext_lines(p, b, l->img + s->sh.sh_offset, s->sh.sh_size, map, n, l->err,
		                      l->errlen);
		rt_free(map);
		break;
	}
	return rc;
}

int rt_prog_load_elf(const void *image, size_t size, struct rt_prog **out, char *err, size_t errlen)
{
	struct ld l;
	struct elf64_ehdr eh;
	int rc;

	if (!out)
		return -RT_EINVAL;
	*out = NULL;
	if (!image && size)
		return rt_err(err, errlen, RT_EINVAL, "no image");
	memset(&l, 0, sizeof(l));
	l.img = image;
	l.size = size;
	l.err = err;
	l.errlen = errlen;
	l.p = rt_alloc(sizeof(*l.p));
	if (!l.p)
		return rt_err(err, errlen, RT_ENOMEM, "out of memory");

	if ((rc = ld_header(&l, &eh)) || (rc = ld_sections(&l, &eh)) || (rc = ld_classify(&l)) ||
	    (rc = ld_funcs(&l)) || (rc = ld_relocs(&l)) || (rc = ld_local_calls(&l)) ||
	    (rc = rt_prog_scan_code(l.p, err, errlen)) || (rc = ld_btf(&l)))
		goto err_free;

	rt_free(l.sec);
	rt_free(l.relocated);
	*out = l.p;
	return 0;

err_free:
	rt_free(l.sec);
	rt_free(l.relocated);
	rt_prog_free(l.p);
	return rc;
}
