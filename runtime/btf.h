/*
 * btf.h - the parts of BPF Type Format the runtime uses.
 *
 * Owns: struct rt_btf, a validated, indexed copy of an object's .BTF
 * section (types and strings), built by the loader and kept in
 * rt_prog.btf; freed with the program.
 *
 * What Spindle needs from BTF:
 *   - the prototype (FUNC -> FUNC_PROTO) of each extern function, so that
 *     imports can be checked against the embedder's signatures
 *     (rt_import.btf_proto);
 *   - .BTF.ext line info, turned into rt_line entries (file, line, column,
 *     and the source text clang stores for each line) so that every
 *     verifier rejection can name the C source line.
 * Everything else (DWARF, CO-RE relocations, func info) is ignored.
 *
 * Validation: every type record, every string offset and every type id
 * is checked against the section bounds before use; rt_btf_parse fails
 * with -RT_EMALFORMED and one line naming the problem.
 */
#ifndef RUNTIME_BTF_H
#define RUNTIME_BTF_H

#include "runtime/prog.h"

/* BTF kinds (the values of the kernel's BTF_KIND_*). */
enum {
	RT_BTF_INT = 1,
	RT_BTF_PTR,
	RT_BTF_ARRAY,
	RT_BTF_STRUCT,
	RT_BTF_UNION,
	RT_BTF_ENUM,
	RT_BTF_FWD,
	RT_BTF_TYPEDEF,
	RT_BTF_VOLATILE,
	RT_BTF_CONST,
	RT_BTF_RESTRICT,
	RT_BTF_FUNC,
	RT_BTF_FUNC_PROTO,
	RT_BTF_VAR,
	RT_BTF_DATASEC,
	RT_BTF_FLOAT,
	RT_BTF_DECL_TAG,
	RT_BTF_TYPE_TAG,
	RT_BTF_ENUM64,
};

#define RT_BTF_MAX_TYPES 65536

struct rt_btf_type {
	uint32_t name_off;
	uint32_t info;      /* vlen [0,16), kind [24,29), kind_flag 31 */
	uint32_t size_type; /* size or referenced type id, per kind */
	uint32_t extra;     /* byte offset of the kind-specific data */
};

struct rt_btf {
	uint8_t *data; /* a copy of the whole .BTF section */
	uint32_t len;
	const char *strs; /* inside data */
	uint32_t strs_len;
	const uint8_t *types; /* inside data */
	uint32_t types_len;
	struct rt_btf_type *type; /* index: type[id], id 0 is void */
	uint32_t ntypes;          /* including void */
};

static inline uint32_t rt_btf_kind(const struct rt_btf_type *t)
{
	return (t->info >> 24) & 0x1f;
}

static inline uint32_t rt_btf_vlen(const struct rt_btf_type *t)
{
	return t->info & 0xffff;
}

int rt_btf_parse(const void *sec, size_t len, struct rt_btf **out, char *err, size_t errlen);
void rt_btf_free(void *btf);

/* The string at off, or NULL if off is out of range or unterminated. */
const char *rt_btf_str(const struct rt_btf *b, uint32_t off);

/* Type id of the FUNC_PROTO of the FUNC named name, 0 if none. */
uint32_t rt_btf_func_proto(const struct rt_btf *b, const char *name);

/*
 * Parse .BTF.ext line info into p->lines (sorted by insn) and keep the
 * strings they point to in p->strings.  sec_base(name) gives the first
 * instruction index of the code section called name in the concatenated
 * array and its size in insns, or false if there is no such section.
 */
struct rt_btf_secmap {
	const char *name;
	uint32_t base, ninsns;
};
int rt_btf_ext_lines(struct rt_prog *p, const struct rt_btf *b, const void *ext, size_t len,
                     const struct rt_btf_secmap *secs, uint32_t nsecs, char *err, size_t errlen);

#endif
