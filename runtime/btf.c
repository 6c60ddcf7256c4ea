/*
 * btf.c - parsing .BTF (types and strings) and .BTF.ext (line info).
 *
 * The loader hands over the raw section bytes; this file copies .BTF,
 * checks its header, walks every type record once to build an index (id ->
 * record), and checks that each record and its kind-specific trailer lie
 * inside the type area.  Lookups afterwards (names, FUNC -> FUNC_PROTO)
 * only follow checked offsets.  Type ids inside records are checked where
 * they are followed, not at parse time, so unusual but harmless types
 * never make an object unloadable.
 *
 * .BTF.ext line info becomes rt_line entries: for every record, the
 * instruction index in the concatenated code array (section base + byte
 * offset / 8), the file name, line and column, and the source line text
 * clang stores in the string table.  The strings are copied into one block
 * (rt_prog.strings) so that the lines stay valid when the BTF copy goes.
 */
#include "runtime/btf.h"
#include "runtime/prog_impl.h"

#define BTF_MAGIC 0xeB9F

static uint32_t btf_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t btf_u16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* Bytes of kind-specific data after the 12-byte common record. */
static bool btf_trailer(uint32_t kind, uint32_t vlen, uint64_t *size)
{
	switch (kind) {
	case RT_BTF_INT:
	case RT_BTF_VAR:
	case RT_BTF_DECL_TAG:
		*size = 4;
		return true;
	case RT_BTF_PTR:
	case RT_BTF_FWD:
	case RT_BTF_TYPEDEF:
	case RT_BTF_VOLATILE:
	case RT_BTF_CONST:
	case RT_BTF_RESTRICT:
	case RT_BTF_FUNC:
	case RT_BTF_FLOAT:
	case RT_BTF_TYPE_TAG:
		*size = 0;
		return true;
	case RT_BTF_ARRAY:
		*size = 12;
		return true;
	case RT_BTF_STRUCT:
	case RT_BTF_UNION:
	case RT_BTF_DATASEC:
	case RT_BTF_ENUM64:
		*size = (uint64_t)vlen * 12;
		return true;
	case RT_BTF_ENUM:
	case RT_BTF_FUNC_PROTO:
		*size = (uint64_t)vlen * 8;
		return true;
	default:
		return false;
	}
}

void rt_btf_free(void *btf)
{
	struct rt_btf *b = btf;

	if (!b)
		return;
	rt_free(b->data);
	rt_free(b->type);
	rt_free(b);
}

int rt_btf_parse(const void *sec, size_t len, struct rt_btf **out, char *err, size_t errlen)
{
	struct rt_btf *b;
	const uint8_t *d;
	uint32_t hdr_len, type_off, type_len, str_off, str_len, pos, n;
	int rc;

	*out = NULL;
	if (len < 24)
		return rt_err(err, errlen, RT_EMALFORMED,
		              ".BTF: %zu bytes, shorter than its header", len);
	if (len > 0x7fffffff)
		return rt_err(err, errlen, RT_E2BIG, ".BTF: too large");
	d = sec;
	if (btf_u16(d) != BTF_MAGIC || d[2] != 1)
		return rt_err(err, errlen, RT_EMALFORMED, ".BTF: bad magic or version");
	hdr_len = btf_u32(d + 4);
	type_off = btf_u32(d + 8);
	type_len = btf_u32(d + 12);
	str_off = btf_u32(d + 16);
	str_len = btf_u32(d + 20);
	if (hdr_len < 24 || hdr_len > len || (uint64_t)type_off + type_len > len - hdr_len ||
	    (uint64_t)str_off + str_len > len - hdr_len)
		return rt_err(err, errlen, RT_EMALFORMED,
		              ".BTF: header points outside the section");
	if (str_len == 0 || ((const char *)d)[hdr_len + str_off + str_len - 1] != 0)
		return rt_err(err, errlen, RT_EMALFORMED, ".BTF: string table not NUL-terminated");
	if (type_len % 4)
		return rt_err(err, errlen, RT_EMALFORMED, ".BTF: type area not 4-byte sized");

	b = rt_alloc(sizeof(*b));
	if (!b)
		return rt_err(err, errlen, RT_ENOMEM, "out of memory");
	b->data = rt_alloc(len);
	if (!b->data) {
		rc = rt_err(err, errlen, RT_ENOMEM, "out of memory");
		goto err_free;
	}
	memcpy(b->data, sec, len);
	b->len = (uint32_t)len;
	b->types = b->data + hdr_len + type_off;
	b->types_len = type_len;
	b->strs = (const char *)b->data + hdr_len + str_off;
	b->strs_len = str_len;

	/* Count records, then index them (id 0 is void, not stored). */
	n = 1;
	for (pos = 0; pos < type_len;) {
		uint32_t info;
		uint64_t extra;

		if (type_len - pos < 12) {
			rc = rt_err(err, errlen, RT_EMALFORMED, ".BTF: truncated type record at %u",
			            pos);
			goto err_free;
		}
		info = btf_u32(b->types + pos + 4);
		if (!btf_trailer((info >> 24) & 0x1f, info & 0xffff, &extra)) {
			rc = rt_err(err, errlen, RT_EMALFORMED, ".BTF: type %u has unknown kind %u",
			            n, (info >> 24) & 0x1f);
			goto err_free;
		}
		if (extra > type_len - pos - 12) {
			rc = rt_err(err, errlen, RT_EMALFORMED, ".BTF: type %u runs past the end",
			            n);
			goto err_free;
		}
		pos += 12 + (uint32_t)extra;
		if (++n > RT_BTF_MAX_TYPES) {
			rc = rt_err(err, errlen, RT_E2BIG, ".BTF: more than %u types",
			            RT_BTF_MAX_TYPES);
			goto err_free;
		}
	}
	b->type = rt_alloc((size_t)n * sizeof(*b->type));
	if (!b->type) {
		rc = rt_err(err, errlen, RT_ENOMEM, "out of memory");
		goto err_free;
	}
	b->ntypes = n;
	for (pos = 0, n = 1; pos < type_len; n++) {
		struct rt_btf_type *t = &b->type[n];
		uint64_t extra;

		t->name_off = btf_u32(b->types + pos);
		t->info = btf_u32(b->types + pos + 4);
		t->size_type = btf_u32(b->types + pos + 8);
		t->extra = pos + 12;
		btf_trailer(rt_btf_kind(t), rt_btf_vlen(t), &extra);
		pos += 12 + (uint32_t)extra;
		if (t->name_off >= str_len) {
			rc = rt_err(err, errlen, RT_EMALFORMED, ".BTF: type %u name out of range",
			            n);
			goto err_free;
		}
	}
	*out = b;
	return 0;

err_free:
	rt_btf_free(b);
	return rc;
}

const char *rt_btf_str(const struct rt_btf *b, uint32_t off)
{
	/* The table ends with NUL (checked at parse), so any in-range offset
	 * starts a terminated string. */
	if (!b || off >= b->strs_len)
		return NULL;
	return b->strs + off;
}

uint32_t rt_btf_func_proto(const struct rt_btf *b, const char *name)
{
	uint32_t id;

	if (!b)
		return 0;
	for (id = 1; id < b->ntypes; id++) {
		const struct rt_btf_type *t = &b->type[id];
		const char *n;

		if (rt_btf_kind(t) != RT_BTF_FUNC)
			continue;
		n = rt_btf_str(b, t->name_off);
		if (!n || strcmp(n, name) != 0)
			continue;
		if (t->size_type == 0 || t->size_type >= b->ntypes ||
		    rt_btf_kind(&b->type[t->size_type]) != RT_BTF_FUNC_PROTO)
			return 0;
		return t->size_type;
	}
	return 0;
}

/*
 * Line info.  Layout: header { u16 magic, u8 version, u8 flags, u32 hdr_len,
 * u32 func_info_off, func_info_len, line_info_off, line_info_len }, offsets
 * relative to the end of the header.  The line info area is u32 rec_size,
 * then blocks { u32 sec_name_off, u32 num_info, num_info records of
 * rec_size bytes: u32 insn_off (bytes), file_name_off, line_off,
 * line_col (line << 10 | col) }.
 */
struct btf_line_rec {
	uint32_t insn, file, text, line, col;
};

static void btf_sort_lines(struct rt_line *l, uint32_t n)
{
	uint32_t i, j;

	/* Insertion sort: clang emits the records nearly sorted per section. */
	for (i = 1; i < n; i++) {
		struct rt_line x = l[i];

		for (j = i; j > 0 && l[j - 1].insn > x.insn; j--)
			l[j] = l[j - 1];
		l[j] = x;
	}
}

int rt_btf_ext_lines(struct rt_prog *p, const struct rt_btf *b, const void *ext, size_t len,
                     const struct rt_btf_secmap *secs, uint32_t nsecs, char *err, size_t errlen)
{
	const uint8_t *d = ext;
	uint32_t hdr_len, lo, ll, rec, pos, total = 0, k, pass;
	struct rt_line *lines = NULL;
	char *strings = NULL;
	int rc = 0;

	if (!b)
		return rt_err(err, errlen, RT_EMALFORMED, ".BTF.ext without .BTF");
	if (len < 24 || btf_u16(d) != BTF_MAGIC || d[2] != 1)
		return rt_err(err, errlen, RT_EMALFORMED, ".BTF.ext: bad header");
	hdr_len = btf_u32(d + 4);
	lo = btf_u32(d + 16);
	ll = btf_u32(d + 20);
	if (hdr_len < 24 || hdr_len > len || (uint64_t)lo + ll > len - hdr_len)
		return rt_err(err, errlen, RT_EMALFORMED,
		              ".BTF.ext: line info outside the section");
	if (ll == 0)
		return 0;
	d += hdr_len + lo;
	if (ll < 4)
		return rt_err(err, errlen, RT_EMALFORMED, ".BTF.ext: truncated line info");
	rec = btf_u32(d);
	if (rec < 16 || rec > 256)
		return rt_err(err, errlen, RT_EMALFORMED, ".BTF.ext: line record size %u", rec);

	/* Pass 0 validates and counts; pass 1 fills. */
	for (pass = 0; pass < 2; pass++) {
		uint32_t nl = 0;
		size_t sused = 0;

		for (pos = 4; pos < ll;) {
			const char *secname;
			uint32_t num, i;
			const struct rt_btf_secmap *sm = NULL;

			if (ll - pos < 8) {
				rc = rt_err(err, errlen, RT_EMALFORMED,
				            ".BTF.ext: truncated line info block");
				goto out;
			}
			secname = rt_btf_str(b, btf_u32(d + pos));
			num = btf_u32(d + pos + 4);
			pos += 8;
			if (!secname || (uint64_t)num * rec > ll - pos) {
				rc = rt_err(err, errlen, RT_EMALFORMED,
				            ".BTF.ext: bad line info block");
				goto out;
			}
			for (k = 0; k < nsecs; k++)
				if (strcmp(secs[k].name, secname) == 0)
					sm = &secs[k];
			for (i = 0; i < num; i++, pos += rec) {
				const uint8_t *r = d + pos;
				uint32_t off = btf_u32(r), lc = btf_u32(r + 12);
				const char *file = rt_btf_str(b, btf_u32(r + 4));
				const char *text = rt_btf_str(b, btf_u32(r + 8));

				if (!sm || off % 8 || off / 8 >= sm->ninsns || !file) {
					rc = rt_err(err, errlen, RT_EMALFORMED,
					            ".BTF.ext: line record for '%s'+%u points "
					            "outside the code",
					            secname, off);
					goto out;
				}
				if (pass == 0) {
					total++;
					continue;
				}
				lines[nl].insn = sm->base + off / 8;
				lines[nl].line = lc >> 10;
				lines[nl].col = lc & 0x3ff;
				/* Strings are copied; identical file names are
				 * not shared, which keeps this simple and the
				 * total is bounded by the section size. */
				lines[nl].file = strings + sused;
				memcpy(strings + sused, file, strlen(file) + 1);
				sused += strlen(file) + 1;
				if (text && *text) {
					lines[nl].text = strings + sused;
					memcpy(strings + sused, text, strlen(text) + 1);
					sused += strlen(text) + 1;
				} else {
					lines[nl].text = NULL;
				}
				nl++;
			}
		}
		if (pass == 0) {
			size_t need = 0;

			if (total == 0)
				return 0;
			/* Upper bound on string bytes: each record copies at
			 * most two strings, each shorter than the table. */
			for (pos = 4; pos < ll;) {
				uint32_t num = btf_u32(d + pos + 4), i;

				pos += 8;
				for (i = 0; i < num; i++, pos += rec) {
					const char *f = rt_btf_str(b, btf_u32(d + pos + 4));
					const char *t = rt_btf_str(b, btf_u32(d + pos + 8));

					need += strlen(f) + 1 + (t ? strlen(t) + 1 : 0);
				}
			}
			lines = rt_alloc((size_t)total * sizeof(*lines));
			strings = rt_alloc(need + 1);
			if (!lines || !strings) {
				rc = rt_err(err, errlen, RT_ENOMEM, "out of memory");
				goto out;
			}
		} else {
			btf_sort_lines(lines, nl);
			rt_free(p->lines);
			rt_free(p->strings);
			p->lines = lines;
			p->nlines = nl;
			p->strings = strings;
			lines = NULL;
			strings = NULL;
		}
	}
out:
	rt_free(lines);
	rt_free(strings);
	return rc;
}
