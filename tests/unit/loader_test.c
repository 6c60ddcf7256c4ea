/*
 * loader_test.c - rt_prog_load_elf on real clang output and on every kind of
 * malformed object.
 *
 *  - tests/loader/ext.elf (clang-19 output of tests/loader/ext.c) loads into
 *    the expected functions, imports, globals and line info, and its
 *    handlers compute the right values in the interpreter once linked;
 *  - systematic corruption of ext.elf: every truncation, and every byte of the
 *    headers, section table, symbols and relocations overwritten three
 *    ways; the loader must return (success or a clean error), never crash
 *    or read outside the image (this binary runs under ASan);
 *  - targeted corruptions, one per error path, each asserting its error
 *    code and message; hand-made objects (tests/loader/NAME.elf from
 *    tests/loader/src/) and synthetic ones built here (limits);
 *  - the committed corpus tests/loader/bad/ (written by
 *    `loader_test --write-corpus tests/loader/bad`) is loaded file by file
 *    against its MANIFEST, so the corpus and the code cannot drift apart.
 * Paths are relative to the repository top, where `make test-unit` runs.
 */
#include <errno.h>

#include "runtime/elf.h"
#include "runtime/exec.h"
#include "runtime/prog.h"
#include "tests/unit/check.h"
#include "tools/toolkit.h"

/* The whole file at path (tools/toolkit.c); load() copies what it loads to
 * an exact-size buffer, so the slack at the end of this one hides nothing
 * from ASan. */
static uint8_t *read_all(const char *path, size_t *len)
{
	return (uint8_t *)tk_read_file(path, len);
}

static uint8_t *base;
static size_t base_len;

/* Load a copy of img (so ASan sees reads past its exact end). */
static int load(const uint8_t *img, size_t len, struct rt_prog **out, char *err)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, img, len);
	err[0] = 0;
	rc = rt_prog_load_elf(copy, len, out, err, 256);
	free(copy);
	return rc;
}

/* ---- ELF field access on a mutable copy ---- */

static struct elf64_ehdr ehdr(const uint8_t *img)
{
	struct elf64_ehdr h;

	memcpy(&h, img, sizeof(h));
	return h;
}

static size_t shdr_off(const uint8_t *img, uint32_t idx)
{
	return ehdr(img).e_shoff + (size_t)idx * sizeof(struct elf64_shdr);
}

static struct elf64_shdr shdr(const uint8_t *img, uint32_t idx)
{
	struct elf64_shdr s;

	memcpy(&s, img + shdr_off(img, idx), sizeof(s));
	return s;
}

static void put_shdr(uint8_t *img, uint32_t idx, const struct elf64_shdr *s)
{
	memcpy(img + shdr_off(img, idx), s, sizeof(*s));
}

static uint32_t sec_index(const uint8_t *img, const char *name)
{
	struct elf64_ehdr h = ehdr(img);
	struct elf64_shdr names = shdr(img, h.e_shstrndx);
	uint32_t i;

	for (i = 0; i < h.e_shnum; i++)
		if (!strcmp((const char *)img + names.sh_offset + shdr(img, i).sh_name, name))
			return i;
	printf("no section %s\n", name);
	abort();
}

static size_t sym_off(const uint8_t *img, const char *name)
{
	struct elf64_shdr st = shdr(img, sec_index(img, ".symtab"));
	struct elf64_shdr str = shdr(img, st.sh_link);
	size_t k;

	for (k = 0; k < st.sh_size / sizeof(struct elf64_sym); k++) {
		struct elf64_sym s;

		memcpy(&s, img + st.sh_offset + k * sizeof(s), sizeof(s));
		if (!strcmp((const char *)img + str.sh_offset + s.st_name, name))
			return st.sh_offset + k * sizeof(s);
	}
	printf("no symbol %s\n", name);
	abort();
}

static size_t rel_off(const uint8_t *img, const char *relsec, uint32_t k)
{
	return shdr(img, sec_index(img, relsec)).sh_offset + (size_t)k * sizeof(struct elf64_rel);
}

static size_t insn_off(const uint8_t *img, const char *sec, uint32_t k)
{
	return shdr(img, sec_index(img, sec)).sh_offset + (size_t)k * 8;
}

#define SET(img, off, type, val)                                                                   \
	do {                                                                                       \
		type v_ = (type)(val);                                                             \
		memcpy((img) + (off), &v_, sizeof(v_));                                            \
	} while (0)

#define SHDR_FIELD(img, name, field, val)                                                          \
	do {                                                                                       \
		uint32_t i_ = sec_index(img, name);                                                \
		struct elf64_shdr s_ = shdr(img, i_);                                              \
		s_.field = (val);                                                                  \
		put_shdr(img, i_, &s_);                                                            \
	} while (0)

/* ---- the targeted corruptions: one per loader error path ---- */

struct bad {
	const char *name;
	void (*mutate)(uint8_t *img, size_t *len);
	int code;
	const char *msg;
};

static void m_truncated(uint8_t *img, size_t *len)
{
	(void)img;
	*len = 40;
}
static void m_magic(uint8_t *img, size_t *len)
{
	(void)len;
	img[1] = 'X';
}
static void m_class(uint8_t *img, size_t *len)
{
	(void)len;
	img[ELF_EI_CLASS] = 1;
}
static void m_endian(uint8_t *img, size_t *len)
{
	(void)len;
	img[ELF_EI_DATA] = 2;
}
static void m_machine(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, 18, uint16_t, 62);
}
static void m_type(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, 16, uint16_t, 2);
}
static void m_shentsize(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, 58, uint16_t, 40);
}
static void m_shoff(uint8_t *img, size_t *len)
{
	SET(img, 40, uint64_t, *len - 100);
}
static void m_shoff_wrap(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, 40, uint64_t, ~0ull - 8);
}
static void m_shstrndx(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, 62, uint16_t, ehdr(img).e_shnum);
}
static void m_shstrtab_type(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, 62, uint16_t, sec_index(img, ".text"));
}
static void m_sec_past_end(uint8_t *img, size_t *len)
{
	SHDR_FIELD(img, ".text", sh_offset, *len - 8);
}
static void m_sec_size_wrap(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".text", sh_size, ~0ull - 0xff);
}
static void m_overlap(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".data", sh_offset, shdr(img, sec_index(img, ".rodata")).sh_offset);
}
static void m_over_headers(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".data", sh_offset, 8);
}
static void m_sec_name(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".data", sh_name, 0xfffff);
}
static void m_code_size(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, "handler/timer", sh_size, 0x5c);
}
static void m_symtab_entsize(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".symtab", sh_entsize, 16);
}
static void m_symtab_link(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".symtab", sh_link, sec_index(img, ".text"));
}
static void m_no_symtab(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".symtab", sh_type, ELF_SHT_PROGBITS);
}
static void m_no_code(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".text", sh_flags, 0);
	SHDR_FIELD(img, "handler/net.udp", sh_flags, 0);
	SHDR_FIELD(img, "handler/timer", sh_flags, 0);
}
static void m_func_range(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, sym_off(img, "on_timer") + 16, uint64_t, 0x1000);
}
static void m_func_gap(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, sym_off(img, "on_timer") + 16, uint64_t, 0x58);
}
static void m_func_overlap(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, sym_off(img, "mix") + 16, uint64_t, 0x28);
}
static void m_func_name(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, sym_off(img, "on_udp"), uint32_t, 0xffffff);
}
/* .relhandler/net.udp: 0 .bss@0x10, 1 kx_now@0x38, 2 scratch@0x40,
 * 3 .rodata.str1.1@0x58, 4 kx_log@0x70, 5 counter@0x78, 6 .text@0xb0,
 * 7 .text@0xc8 */
#define UDP_RELS ".relhandler/net.udp"
static void m_rel_sym0(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, rel_off(img, UDP_RELS, 0) + 8, uint64_t, (0ull << 32) | R_BPF_64_64);
}
static void m_rel_sym_range(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, rel_off(img, UDP_RELS, 0) + 8, uint64_t, (9999ull << 32) | R_BPF_64_64);
}
static void m_rel_offset(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, rel_off(img, UDP_RELS, 0), uint64_t, 0x10000);
}
static void m_rel_misaligned(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, rel_off(img, UDP_RELS, 0), uint64_t, 0x11);
}
static void m_rel64_not_lddw(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, rel_off(img, UDP_RELS, 0), uint64_t, 0);
}
static void m_rel32_not_call(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, rel_off(img, UDP_RELS, 1), uint64_t, 0);
}
static void m_rel_type(uint8_t *img, size_t *len)
{
	uint64_t info;

	(void)len;
	memcpy(&info, img + rel_off(img, UDP_RELS, 0) + 8, 8);
	SET(img, rel_off(img, UDP_RELS, 0) + 8, uint64_t, (info & ~0xffffffffull) | 7);
}
static void m_rel_twice(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, rel_off(img, UDP_RELS, 1), uint64_t, 0x10);
}
static void m_rel_second_slot(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, rel_off(img, UDP_RELS, 1), uint64_t, 0x18);
}
static void m_rel_target(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, UDP_RELS, sh_info, 999);
}
static void m_rel_entsize(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, UDP_RELS, sh_entsize, 24);
}
static void m_global_range(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, sym_off(img, "scratch") + 8, uint64_t, 0x100);
}
static void m_global_addend(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, insn_off(img, "handler/net.udp", 2) + 4, int32_t, 0x7000);
}
static void m_extern_data(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, sym_off(img, "counter") + 6, uint16_t, 0);
}
static void m_ref_license(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, sym_off(img, "counter") + 6, uint16_t, sec_index(img, "license"));
}
static void m_call_range(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, insn_off(img, "handler/net.udp", 22) + 4, int32_t, 0x1000);
}
static void m_call_mid_func(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, insn_off(img, "handler/net.udp", 22) + 4, int32_t, 4);
}
static void m_local_call(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, insn_off(img, ".text", 23) + 4, int32_t, -0x17);
}
static void m_callx(uint8_t *img, size_t *len)
{
	(void)len;
	img[insn_off(img, ".text", 0)] = 0x8d;
}
static void m_ld_abs(uint8_t *img, size_t *len)
{
	(void)len;
	img[insn_off(img, ".text", 0)] = 0x20;
}
static void m_lddw_split(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, "handler/timer", sh_size, 7 * 8);
	SET(img, sym_off(img, "on_timer") + 16, uint64_t, 7 * 8);
}
static void m_rel_on_data(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".rel.text", sh_info, sec_index(img, ".data"));
}
static void m_rela(uint8_t *img, size_t *len)
{
	(void)len;
	SHDR_FIELD(img, ".rel.text", sh_type, ELF_SHT_RELA);
}
static void m_btf_magic(uint8_t *img, size_t *len)
{
	(void)len;
	img[shdr(img, sec_index(img, ".BTF")).sh_offset] = 0;
}
static void m_btf_types(uint8_t *img, size_t *len)
{
	(void)len;
	SET(img, shdr(img, sec_index(img, ".BTF")).sh_offset + 12, uint32_t, 0x7fffffff);
}
static void m_btf_kind(uint8_t *img, size_t *len)
{
	size_t t = shdr(img, sec_index(img, ".BTF")).sh_offset + 24; /* first type */

	(void)len;
	SET(img, t + 4, uint32_t, 31u << 24);
}
static void m_btf_ext_line(uint8_t *img, size_t *len)
{
	size_t e = shdr(img, sec_index(img, ".BTF.ext")).sh_offset;
	uint32_t hdr, lo;

	(void)len;
	memcpy(&hdr, img + e + 4, 4);
	memcpy(&lo, img + e + 16, 4);
	/* rec_size, then block {sec, num}, then the first record's insn_off */
	SET(img, e + hdr + lo + 4 + 8, uint32_t, 0x100000);
}

static const struct bad bads[] = {
    {"truncated", m_truncated, RT_EMALFORMED, "truncated"},
    {"bad_magic", m_magic, RT_EMALFORMED, "bad magic"},
    {"elf32", m_class, RT_EMALFORMED, "wrong ELF class"},
    {"big_endian", m_endian, RT_EMALFORMED, "wrong endianness"},
    {"wrong_machine", m_machine, RT_EMALFORMED, "wrong machine 62"},
    {"not_relocatable", m_type, RT_EMALFORMED, "wrong ELF type"},
    {"shentsize", m_shentsize, RT_EMALFORMED, "section header size"},
    {"shoff_past_end", m_shoff, RT_EMALFORMED, "section header table"},
    {"shoff_wraps", m_shoff_wrap, RT_EMALFORMED, "section header table"},
    {"shstrndx_range", m_shstrndx, RT_EMALFORMED, "section name table index"},
    {"shstrtab_not_strtab", m_shstrtab_type, RT_EMALFORMED, "not a string table"},
    {"section_past_end", m_sec_past_end, RT_EMALFORMED, "outside the file"},
    {"section_size_wraps", m_sec_size_wrap, RT_EMALFORMED, "outside the file"},
    {"sections_overlap", m_overlap, RT_EMALFORMED, "overlap"},
    {"section_over_headers", m_over_headers, RT_EMALFORMED, "overlaps the ELF"},
    {"section_name_range", m_sec_name, RT_EMALFORMED, "name offset"},
    {"code_size_misaligned", m_code_size, RT_EMALFORMED, "not a multiple"},
    {"symtab_entsize", m_symtab_entsize, RT_EMALFORMED, "entry size"},
    {"symtab_link", m_symtab_link, RT_EMALFORMED, "string table"},
    {"no_symtab", m_no_symtab, RT_EMALFORMED, "no symbol table"},
    {"no_code", m_no_code, RT_EMALFORMED, "no code"},
    {"func_outside_section", m_func_range, RT_EMALFORMED, "not whole instructions"},
    {"func_gap", m_func_gap, RT_EMALFORMED, "belong to no function"},
    {"func_overlap", m_func_overlap, RT_EMALFORMED, "overlap"},
    {"func_name_range", m_func_name, RT_EMALFORMED, "outside the string table"},
    {"reloc_against_nothing", m_rel_sym0, RT_EMALFORMED, "relocation against nothing"},
    {"reloc_symbol_range", m_rel_sym_range, RT_EMALFORMED, "symbol 9999 out of range"},
    {"reloc_offset_range", m_rel_offset, RT_EMALFORMED, "not an instruction"},
    {"reloc_offset_misaligned", m_rel_misaligned, RT_EMALFORMED, "not an instruction"},
    {"reloc64_not_lddw", m_rel64_not_lddw, RT_EMALFORMED, "not lddw"},
    {"reloc32_not_call", m_rel32_not_call, RT_EMALFORMED, "not a call"},
    {"reloc_unknown_type", m_rel_type, RT_EUNSUPP, "relocation type 7"},
    {"reloc_twice", m_rel_twice, RT_EMALFORMED, "relocated twice"},
    {"reloc_lddw_second_slot", m_rel_second_slot, RT_EMALFORMED, "relocated twice"},
    {"reloc_section_range", m_rel_target, RT_EMALFORMED, "out of range"},
    {"reloc_entsize", m_rel_entsize, RT_EMALFORMED, "entry size"},
    {"global_symbol_range", m_global_range, RT_EMALFORMED, "outside section '.bss'"},
    {"global_addend_range", m_global_addend, RT_EMALFORMED, "outside section '.bss'"},
    {"extern_data_patched", m_extern_data, RT_EUNSUPP, "extern variable 'counter'"},
    {"reference_to_license", m_ref_license, RT_EUNSUPP, "not a data section"},
    {"call_target_range", m_call_range, RT_EMALFORMED, "call target outside"},
    {"call_mid_function", m_call_mid_func, RT_EMALFORMED, "starts no function"},
    {"local_call_outside", m_local_call, RT_EMALFORMED, "call to outside any function"},
    {"callx", m_callx, RT_EUNSUPP, "callx"},
    {"legacy_ld_abs", m_ld_abs, RT_EUNSUPP, "BPF_ABS"},
    {"lddw_split", m_lddw_split, RT_EMALFORMED, "lddw split"},
    {"reloc_on_data", m_rel_on_data, RT_EUNSUPP, "initialised pointers"},
    {"rela", m_rela, RT_EUNSUPP, "RELA"},
    {"btf_magic", m_btf_magic, RT_EMALFORMED, ".BTF: bad magic"},
    {"btf_types_range", m_btf_types, RT_EMALFORMED, ".BTF: header points outside"},
    {"btf_unknown_kind", m_btf_kind, RT_EMALFORMED, "unknown kind 31"},
    {"btf_ext_line_range", m_btf_ext_line, RT_EMALFORMED, "points outside the code"},
};

static void check_bad(const char *name, const uint8_t *img, size_t len, int code, const char *msg)
{
	struct rt_prog *p = (struct rt_prog *)1;
	char err[256];
	int rc = load(img, len, &p, err);

	if (rc != -code || !strstr(err, msg))
		printf("  %s: got %d '%s', want %d '%s'\n", name, rc, err, -code, msg);
	CHECK_EQ(rc, -code);
	CHECK(strstr(err, msg) != NULL);
	CHECK(p == NULL);
	CHECK(strchr(err, '\n') == NULL); /* one line */
}

static void targeted_corruptions(void)
{
	size_t k;

	for (k = 0; k < sizeof(bads) / sizeof(bads[0]); k++) {
		uint8_t *img = malloc(base_len);
		size_t len = base_len;

		memcpy(img, base, base_len);
		bads[k].mutate(img, &len);
		check_bad(bads[k].name, img, len, bads[k].code, bads[k].msg);
		free(img);
	}
}

/* ---- the reference object ---- */

static uint64_t now_calls;
static char logged[64];

static uint64_t kx_now(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	now_calls++;
	return 100;
}

static uint64_t kx_log(uint64_t msg, uint64_t len, uint64_t c, uint64_t d, uint64_t e)
{
	(void)c, (void)d, (void)e;
	snprintf(logged, sizeof(logged), "%.*s", (int)len, (const char *)(uintptr_t)msg);
	return 0;
}

static const struct rt_sig sig_now = {
    .name = "kx_now", .fn = (void *)kx_now, .ret = {.kind = RT_RET_SCALAR}};
static const struct rt_sig sig_log = {
    .name = "kx_log",
    .fn = (void *)kx_log,
    .nargs = 2,
    .args = {{RT_ARG_MEM, 0, 0, 0}, {RT_ARG_SIZE, 0, 0, 0}},
    .ret = {.kind = RT_RET_SCALAR},
};

static const struct rt_sig *lookup(void *arg, const char *name)
{
	(void)arg;
	if (!strcmp(name, "kx_now"))
		return &sig_now;
	if (!strcmp(name, "kx_log"))
		return &sig_log;
	return NULL;
}

static void reference_object(void)
{
	struct rt_prog *p;
	const struct rt_func *udp, *timer, *mix;
	const struct rt_line *ln;
	struct rt_embed env = {lookup, NULL, NULL};
	struct rt_run run = {.fuel = 1000};
	uint64_t ctx[2] = {5, 4};
	uint64_t args[5] = {(uintptr_t)ctx};
	struct rt_region r = {(uintptr_t)ctx, sizeof(ctx), true};
	struct rt_check check = {&r, 1, true};
	char err[256];
	uint32_t k;

	CHECK_EQ(load(base, base_len, &p, err), 0);
	if (!p) {
		printf("  %s\n", err);
		return;
	}
	CHECK_EQ(p->nfuncs, 4);
	udp = rt_prog_find_func(p, "on_udp");
	timer = rt_prog_find_func(p, "on_timer");
	mix = rt_prog_find_func(p, "mix");
	CHECK(udp && timer && mix);
	if (!udp || !timer || !mix)
		goto out;
	CHECK_STR(udp->section, "handler/net.udp");
	CHECK(udp->global && udp->entry);
	CHECK(!mix->global && !mix->entry);
	CHECK_STR(mix->section, ".text");
	CHECK_EQ(p->funcs[p->nfuncs - 1].end, p->ninsns);

	CHECK_EQ(p->nimports, 2);
	CHECK_STR(p->imports[0].name, "kx_now");
	CHECK_STR(p->imports[1].name, "kx_log");
	CHECK(p->imports[0].btf_proto != 0 && p->imports[1].btf_proto != 0);
	CHECK(p->imports[0].sig == NULL);

	CHECK_EQ(p->nglobals, 4);
	CHECK_STR(p->globals[0].name, ".data");
	CHECK_EQ(p->globals[0].kind, RT_GLOBAL_DATA);
	CHECK_EQ(*(uint64_t *)p->globals[0].data, 7);
	CHECK_EQ(p->globals[1].kind, RT_GLOBAL_RODATA);
	CHECK_EQ(p->globals[2].kind, RT_GLOBAL_BSS);
	CHECK_EQ(p->globals[2].size, 24);
	CHECK_STR(p->globals[3].name, ".rodata.str1.1");
	CHECK_STR(p->license, "GPL");

	/* Every call is now in a pseudo form and every lddw of a global too. */
	for (k = 0; k < p->ninsns; k++) {
		const struct bpf_insn *i = &p->insns[k];

		if (i->code == (BPF_JMP | BPF_CALL))
			CHECK(i->src == BPF_PSEUDO_CALL || i->src == BPF_PSEUDO_IMPORT);
		if (bpf_is_lddw(i)) {
			CHECK_EQ(i->src, BPF_PSEUDO_GLOBAL);
			k++;
		}
	}

	ln = rt_prog_line(p, udp->start + 1);
	CHECK(ln != NULL);
	if (ln) {
		CHECK(strstr(ln->file, "ext.c") != NULL);
		CHECK_EQ(ln->line, 39); /* `hidden += ctx[0];` in tests/loader/ext.c */
		CHECK(ln->text && strstr(ln->text, "hidden += ctx[0]"));
	}
	CHECK(rt_prog_line(p, p->ninsns - 1) != NULL);

	/* Unlinked imports cannot run; linked, both handlers compute. */
	CHECK_EQ(rt_interp_run(p, (uint32_t)(udp - p->funcs), args, &run, &check), 0);
	CHECK_EQ(run.status, RT_RUN_BADINSN);
	CHECK_EQ(rt_prog_link(p, &env, err, sizeof(err)), 0);
	run.fuel = 1000;
	CHECK_EQ(rt_interp_run(p, (uint32_t)(udp - p->funcs), args, &run, &check), 0);
	CHECK_EQ(run.status, RT_RUN_OK);
	/* The unlinked run already did `hidden += 5` before stopping at the
	 * first import, so hidden = 10: sum_table(4) = mix(11, 10) = 351 and
	 * on_udp = mix(counter = 7, 351) = 568. */
	CHECK_EQ(run.r0, 568);
	CHECK_STR(logged, "udp");
	CHECK_EQ(*(uint64_t *)p->globals[0].data, 8);
	run.fuel = 1000;
	CHECK_EQ(rt_interp_run(p, (uint32_t)(timer - p->funcs), args, &run, &check), 0);
	CHECK_EQ(run.status, RT_RUN_OK);
	CHECK_EQ(run.r0, 6 * 31 + 10 + 100); /* mix(1+2+3, hidden) + scratch[1] */
	CHECK_STR(logged, "tick");
out:
	rt_prog_free(p);
}

static void link_failures(void)
{
	struct rt_prog *p;
	struct rt_embed none = {NULL, NULL, NULL};
	char err[256];

	CHECK_EQ(load(base, base_len, &p, err), 0);
	if (!p)
		return;
	CHECK_EQ(rt_prog_link(p, &none, err, sizeof(err)), -RT_ENOENT);
	CHECK(strstr(err, "unresolved import 'kx_now'") != NULL);
	CHECK(p->imports[0].sig == NULL);
	rt_prog_free(p);
}

/* Every truncation and every header/table byte overwritten: no crash, and
 * a failure always comes with a message. */
static void systematic_corruption(void)
{
	uint8_t *img = malloc(base_len);
	struct elf64_ehdr h = ehdr(base);
	size_t len, k, v, ok = 0, bad = 0;
	static const uint8_t vals[] = {0x00, 0xff, 0x80};
	const char *tables[] = {".symtab", ".rel.text", UDP_RELS,  ".relhandler/timer",
	                        ".text",   ".BTF",      ".BTF.ext"};
	size_t t;

	for (len = 0; len < base_len; len++) {
		struct rt_prog *p = NULL;
		char err[256];

		if (load(base, len, &p, err) == 0) {
			ok++;
			rt_prog_free(p);
		} else {
			bad++;
			CHECK(err[0] != 0);
		}
	}
	CHECK_EQ(ok, 0); /* the section table is at the end: every cut breaks it */

	/* Byte ranges: the ELF header, the section table, then named tables. */
	for (t = 0; t < 2 + sizeof(tables) / sizeof(tables[0]); t++) {
		size_t lo, hi;

		if (t == 0) {
			lo = 0;
			hi = sizeof(struct elf64_ehdr);
		} else if (t == 1) {
			lo = h.e_shoff;
			hi = h.e_shoff + (size_t)h.e_shnum * sizeof(struct elf64_shdr);
		} else {
			struct elf64_shdr s = shdr(base, sec_index(base, tables[t - 2]));

			lo = s.sh_offset;
			hi = s.sh_offset + s.sh_size;
		}
		for (k = lo; k < hi; k++)
			for (v = 0; v < sizeof(vals); v++) {
				struct rt_prog *p = NULL;
				char err[256];

				memcpy(img, base, base_len);
				if (img[k] == vals[v])
					continue;
				img[k] = vals[v];
				if (load(img, base_len, &p, err) == 0) {
					ok++;
					rt_prog_free(p);
				} else {
					bad++;
					CHECK(err[0] != 0);
				}
			}
	}
	printf("  systematic: %zu variants loaded, %zu refused\n", ok, bad);
	free(img);
}

/* ---- hand-made objects ---- */

static void hand_made(void)
{
	static const struct {
		const char *file;
		int code;
		const char *msg;
	} cases[] = {
	    {"tests/loader/extern_var.elf", RT_EUNSUPP, "extern variable 'kx_ticks'"},
	    {"tests/loader/maps.elf", RT_EUNSUPP, "BPF maps are not supported"},
	    {"tests/loader/func_ptr.elf", RT_EUNSUPP, "function pointers are not supported"},
	    {"tests/loader/data_ptr.elf", RT_EUNSUPP, "initialised pointers"},
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t len;
		uint8_t *img = read_all(cases[k].file, &len);

		CHECK(img != NULL);
		if (!img) {
			printf("  cannot read %s\n", cases[k].file);
			continue;
		}
		check_bad(cases[k].file, img, len, cases[k].code, cases[k].msg);
		free(img);
	}
}

/* A minimal object builder for the limits: .text with nfuncs functions,
 * the first calling nimports distinct imports. */
struct builder {
	uint8_t *buf;
	size_t len;
};

static void b_put(struct builder *b, size_t off, const void *p, size_t n)
{
	memcpy(b->buf + off, p, n);
}

static uint8_t *synth(uint32_t nfuncs, uint32_t nimports, uint32_t extra_insns,
                      const char *import_name, size_t *outlen)
{
	uint32_t ninsns = nimports + nfuncs + extra_insns;
	size_t code_off = 64, code_len = (size_t)ninsns * 8;
	size_t nsyms = 1 + nfuncs + nimports;
	size_t str_cap = 16 + (size_t)(nfuncs + nimports) * 140;
	size_t rel_off_ = code_off + code_len, rel_len = (size_t)nimports * 16;
	size_t sym_off_ = rel_off_ + rel_len, sym_len = nsyms * 24;
	size_t str_off = sym_off_ + sym_len, str_len = 1;
	static const char shstr[] = "\0.text\0.rel.text\0.symtab\0.strtab\0.shstrtab";
	size_t shstr_off, sh_off, total;
	struct builder b;
	struct elf64_ehdr eh;
	struct elf64_shdr sh[6];
	char *strs = calloc(1, str_cap);
	uint32_t k;

	for (k = 0; k < nfuncs + nimports; k++) {
		if (k < nfuncs)
			str_len += (size_t)sprintf(strs + str_len, "f%u", k) + 1;
		else if (import_name)
			str_len += (size_t)sprintf(strs + str_len, "%s", import_name) + 1;
		else
			str_len += (size_t)sprintf(strs + str_len, "imp%u", k) + 1;
	}
	shstr_off = str_off + str_len;
	sh_off = (shstr_off + sizeof(shstr) + 7) & ~(size_t)7;
	total = sh_off + 6 * sizeof(struct elf64_shdr);
	b.buf = calloc(1, total);
	b.len = total;

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, "\177ELF", 4);
	eh.e_ident[ELF_EI_CLASS] = ELF_CLASS64;
	eh.e_ident[ELF_EI_DATA] = ELF_DATA2LSB;
	eh.e_ident[ELF_EI_VERSION] = 1;
	eh.e_type = ELF_ET_REL;
	eh.e_machine = ELF_EM_BPF;
	eh.e_version = 1;
	eh.e_shoff = sh_off;
	eh.e_ehsize = 64;
	eh.e_shentsize = 64;
	eh.e_shnum = 6;
	eh.e_shstrndx = 5;
	b_put(&b, 0, &eh, sizeof(eh));

	/* Code: function 0 = nimports calls + extra movs + exit; others exit. */
	for (k = 0; k < ninsns; k++) {
		struct bpf_insn i = {0x95, 0, 0, 0, 0};

		if (k < nimports)
			i = (struct bpf_insn){0x85, 0, 1, 0, -1};
		else if (k < nimports + extra_insns)
			i = (struct bpf_insn){0xb7, 0, 0, 0, 0};
		b_put(&b, code_off + (size_t)k * 8, &i, 8);
	}
	/* Symbols: null, functions, imports. */
	{
		size_t name = 1;

		for (k = 0; k < nfuncs + nimports; k++) {
			struct elf64_sym s = {0};

			s.st_name = (uint32_t)name;
			name += strlen(strs + name) + 1;
			if (k < nfuncs) {
				s.st_info = (ELF_STB_GLOBAL << 4) | ELF_STT_FUNC;
				s.st_shndx = 1;
				s.st_value =
				    k == 0 ? 0 : (uint64_t)(nimports + extra_insns + k) * 8;
				s.st_size = k == 0 ? (uint64_t)(nimports + extra_insns + 1) * 8 : 8;
			} else {
				s.st_info = (ELF_STB_GLOBAL << 4) | ELF_STT_NOTYPE;
			}
			b_put(&b, sym_off_ + (size_t)(1 + k) * 24, &s, sizeof(s));
		}
	}
	for (k = 0; k < nimports; k++) {
		struct elf64_rel r = {(uint64_t)k * 8,
		                      ((uint64_t)(1 + nfuncs + k) << 32) | R_BPF_64_32};

		b_put(&b, rel_off_ + (size_t)k * 16, &r, sizeof(r));
	}
	b_put(&b, str_off, strs, str_len);
	b_put(&b, shstr_off, shstr, sizeof(shstr));

	memset(sh, 0, sizeof(sh));
	sh[1] = (struct elf64_shdr){
	    1, ELF_SHT_PROGBITS, ELF_SHF_ALLOC | ELF_SHF_EXECINSTR, 0, code_off, code_len, 0, 0, 8,
	    0};
	sh[2] = (struct elf64_shdr){7, ELF_SHT_REL, 0, 0, rel_off_, rel_len, 3, 1, 8, 16};
	sh[3] = (struct elf64_shdr){17, ELF_SHT_SYMTAB, 0, 0, sym_off_, sym_len, 4, 1, 8, 24};
	sh[4] = (struct elf64_shdr){25, ELF_SHT_STRTAB, 0, 0, str_off, str_len, 0, 0, 1, 0};
	sh[5] = (struct elf64_shdr){33, ELF_SHT_STRTAB, 0, 0, shstr_off, sizeof(shstr), 0, 0, 1, 0};
	b_put(&b, sh_off, sh, sizeof(sh));
	free(strs);
	*outlen = total;
	return b.buf;
}

static void limits(void)
{
	size_t len;
	uint8_t *img;
	struct rt_prog *p;
	char err[256];

	/* The builder itself makes loadable objects... */
	img = synth(RT_MAX_FUNCS, RT_MAX_IMPORTS, 0, NULL, &len);
	CHECK_EQ(load(img, len, &p, err), 0);
	if (p) {
		CHECK_EQ(p->nfuncs, RT_MAX_FUNCS);
		CHECK_EQ(p->nimports, RT_MAX_IMPORTS);
		rt_prog_free(p);
	} else {
		printf("  %s\n", err);
	}
	free(img);
	/* ...and one past each limit is refused. */
	img = synth(RT_MAX_FUNCS + 1, 1, 0, NULL, &len);
	check_bad("too_many_funcs", img, len, RT_E2BIG, "more than 1024 functions");
	free(img);
	img = synth(1, RT_MAX_IMPORTS + 1, 0, NULL, &len);
	check_bad("too_many_imports", img, len, RT_E2BIG, "more than 256 imports");
	free(img);
	img = synth(1, 0, RT_MAX_INSNS, NULL, &len);
	check_bad("too_many_insns", img, len, RT_E2BIG, "more than 1048576 instructions");
	free(img);
	img =
	    synth(1, 1, 0,
	          "a_very_long_import_name_that_does_not_fit_in_the_sixty_four_byte_field_x", &len);
	check_bad("import_name_too_long", img, len, RT_E2BIG, "too long");
	free(img);
	/* Two calls of one import share an entry. */
	img = synth(1, 2, 0, "same", &len);
	CHECK_EQ(load(img, len, &p, err), 0);
	if (p) {
		CHECK_EQ(p->nimports, 1);
		CHECK_EQ(p->insns[1].imm, 0);
		rt_prog_free(p);
	}
	free(img);
}

/* ---- the committed corpus ---- */

static int write_corpus(const char *dir)
{
	char path[512];
	FILE *m;
	size_t k;

	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	m = fopen(path, "w");
	if (!m) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(m, "# Generated by loader_test --write-corpus from tests/loader/ext.elf.\n"
	           "# FILE  expected error code (negated RT_E*)  message substring\n");
	for (k = 0; k < sizeof(bads) / sizeof(bads[0]); k++) {
		uint8_t *img = malloc(base_len);
		size_t len = base_len;
		FILE *f;

		memcpy(img, base, base_len);
		bads[k].mutate(img, &len);
		snprintf(path, sizeof(path), "%s/%s.elf", dir, bads[k].name);
		f = fopen(path, "wb");
		if (!f || fwrite(img, 1, len, f) != len) {
			fprintf(stderr, "%s: cannot write\n", path);
			return 1;
		}
		fclose(f);
		fprintf(m, "%s.elf %d %s\n", bads[k].name, -bads[k].code, bads[k].msg);
		free(img);
	}
	fclose(m);
	return 0;
}

static void committed_corpus(void)
{
	size_t len, n = 0;
	char *text = tk_read_file("tests/loader/bad/MANIFEST", &len), *line, *save;

	CHECK(text != NULL);
	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char file[256], path[600];
		int code, off = 0;
		uint8_t *img;
		size_t ilen;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%255s %d %n", file, &code, &off) != 2 || !off) {
			CHECK(!"bad MANIFEST line");
			continue;
		}
		snprintf(path, sizeof(path), "tests/loader/bad/%s", file);
		img = read_all(path, &ilen);
		CHECK(img != NULL);
		if (img)
			check_bad(file, img, ilen, -code, line + off);
		free(img);
		n++;
	}
	CHECK_EQ(n, sizeof(bads) / sizeof(bads[0]));
	free(text);
}

int main(int argc, char **argv)
{
	base = read_all("tests/loader/ext.elf", &base_len);
	if (!base) {
		printf("FAIL loader_test: cannot read tests/loader/ext.elf (run from the top)\n");
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	RUN(reference_object);
	RUN(link_failures);
	RUN(targeted_corruptions);
	RUN(committed_corpus);
	RUN(systematic_corruption);
	RUN(hand_made);
	RUN(limits);
	free(base);
	return check_done();
}
