/*
 * toolkit.c - the code the hosted tools share (tools/toolkit.h): whole-file
 * reads, the `.data` format's own sections and programs, walks over
 * directories of test files in a stable order, the conformance entry
 * convention and one run on either engine.  Each tool used to carry its own
 * copy of these; the copies had drifted only in ways no tool relied on.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/rt.h"
#include "tools/toolkit.h"

char *tk_read_fp(FILE *f, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	do {
		if (n + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	if (ferror(f)) {
		free(buf);
		if (!errno)
			errno = EIO;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

char *tk_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	int e;

	if (!f)
		return NULL;
	errno = 0;
	buf = tk_read_fp(f, len);
	e = errno;
	fclose(f);
	errno = e;
	return buf;
}

const char *tk_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool tk_data_section(const char *text, const char *name, char *out, size_t outlen)
{
	char hdr[64];
	const char *p;

	snprintf(hdr, sizeof(hdr), "-- %s", name);
	for (p = text; (p = strstr(p, hdr)); p++) {
		size_t n = 0;

		if (p != text && p[-1] != '\n')
			continue;
		p += strlen(hdr);
		/* "-- NAME ARG" on one line, or ARG on the next. */
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n')
			p++;
		while (*p == '#') {
			while (*p && *p != '\n')
				p++;
			if (*p)
				p++;
		}
		while (p[n] && p[n] != '\n' && p[n] != ' ' && p[n] != '\t' && n + 1 < outlen)
			n++;
		memcpy(out, p, n);
		out[n] = 0;
		return n > 0;
	}
	return false;
}

int tk_data_program(const struct rt_asm_test *t, struct bpf_insn **insns, uint32_t *n, char *err,
                    size_t errlen)
{
	*insns = NULL;
	*n = 0;
	if (t->raw) {
		*insns = rt_alloc(sizeof(**insns) * (t->nraw ? t->nraw : 1));
		if (!*insns) {
			snprintf(err, errlen, "out of memory");
			return -RT_ENOMEM;
		}
		memcpy(*insns, t->raw, sizeof(**insns) * t->nraw);
		*n = t->nraw;
		return 0;
	}
	if (!t->asm_text) {
		snprintf(err, errlen, "no program");
		return -RT_EINVAL;
	}
	return rt_asm(t->asm_text, t->asm_len, insns, n, err, errlen);
}

void tk_default_entry(struct rt_entry *e, bool has_mem, uint32_t memlen)
{
	memset(e, 0, sizeof(*e));
	if (has_mem && memlen) {
		e->args[0].kind = RT_ARG_CONST_MEM_RW;
		e->args[0].size = memlen;
	} else {
		e->args[0].kind = RT_ARG_SCALAR;
	}
	e->args[1].kind = RT_ARG_SCALAR;
}

void (*tk_set_ledger)(struct rt_ledger *l);

/* One run on one engine, with whatever ledger run->ledger names. */
static int tk_run_one(const struct rt_prog *p, uint32_t func, bool jit, const uint64_t args[5],
                      const struct rt_region *regs, uint32_t nregs, struct rt_run *run, char *why,
                      size_t whylen)
{
	int rc;

	if (!jit) {
		struct rt_check check = {regs, nregs, true};

		rc = rt_interp_run(p, func, args, run, &check);
	} else {
		struct rt_jit *j = NULL;
		char err[512] = "";

		rc = rt_jit_compile(p, &j, err, sizeof(err));
		if (rc) {
			snprintf(why, whylen, "jit compile: %s", err);
			return -1;
		}
		rc = rt_jit_run(j, func, args, run);
		rt_jit_free(j);
	}
	if (rc) {
		snprintf(why, whylen, "%s: error %d", jit ? "jit" : "interpreter", rc);
		return -1;
	}
	return 0;
}

int tk_run(const struct rt_prog *p, uint32_t func, bool jit, const uint64_t args[5],
           const struct rt_region *regs, uint32_t nregs, struct rt_run *run, char *why,
           size_t whylen)
{
	struct rt_ledger own;
	bool use_own = tk_set_ledger && !run->ledger;
	int rc;

	if (use_own)
		run->ledger = &own;
	if (tk_set_ledger)
		tk_set_ledger(run->ledger);
	rc = tk_run_one(p, func, jit, args, regs, nregs, run, why, whylen);
	if (tk_set_ledger)
		tk_set_ledger(NULL);
	if (use_own)
		run->ledger = NULL;
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool tk_has_suffix(const char *name, const char *suffix)
{
	size_t l = strlen(name), s = strlen(suffix);

	return l > s && strcmp(name + l - s, suffix) == 0;
}

static int walk_dir(const char *dir, unsigned flags, tk_walk_fn fn, void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (!d)
		return fn(dir, TK_WALK_UNOPENED, arg);
	while ((de = readdir(d))) {
		char **nv;

		if (de->d_name[0] == '.' ||
		    ((flags & TK_WALK_SKIP_PENDING) && tk_has_suffix(de->d_name, "-pending")))
			continue;
		nv = realloc(names, (n + 1) * sizeof(*names));
		if (!nv)
			goto err_nomem;
		names = nv;
		names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
		if (!names[n])
			goto err_nomem;
		sprintf(names[n++], "%s/%s", dir, de->d_name);
	}
	closedir(d);
	d = NULL;
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && !rc; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (flags & TK_WALK_RECURSE)
				rc = walk_dir(names[i], flags, fn, arg);
		} else if (!(flags & TK_WALK_DATA_ONLY) || tk_has_suffix(names[i], ".data")) {
			rc = fn(names[i], TK_WALK_FILE, arg);
		}
	}
	goto out_free;

err_nomem:
	closedir(d);
	errno = ENOMEM;
	rc = -1;
out_free:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int tk_walk(const char *path, unsigned flags, tk_walk_fn fn, void *arg)
{
	struct stat st;

	if (stat(path, &st))
		return fn(path, TK_WALK_MISSING, arg);
	if (!S_ISDIR(st.st_mode))
		return fn(path, TK_WALK_FILE, arg);
	return walk_dir(path, flags, fn, arg);
}
