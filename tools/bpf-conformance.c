/*
 * bpf-conformance - run bpf_conformance `.data` tests in process.
 *
 *   bpf-conformance [--interp|--jit|--both] [--no-verify] [--skip-list FILE]
 *                   [-v] PATH...
 *
 * PATHs are `.data` files or directories (searched recursively, sorted).
 * Each test is assembled with runtime/asm.h (when it has both -- asm and
 * -- raw, the two must encode the same instructions), loaded, linked,
 * verified and run through tools/bpf_env.h, exactly as bpf-run would, but
 * without a process per file.  A test passes when:
 *   -- result X: every selected engine finishes with r0 == X (with --both
 *                the engines must also agree on r0, status and the final
 *                memory);
 *   -- error:    the program is refused: by the assembler, the loader, the
 *                linker, the verifier, or an abort at run time.
 * A test listed in the skip list ("NAME.data  reason", `#` comments) is
 * still run but reported SKIP with its reason, and a note when it now
 * passes.  Output: one PASS/FAIL/SKIP line per file, then
 * "N passed, M failed, K skipped" and the suite convention's last line
 * "N passed, M failed".  Exit status 0 iff nothing failed.
 *
 * --no-verify skips the verifier (interpreter only, still in checking
 * mode): a way to test the interpreter and assembler on their own.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/asm.h"
#include "tools/bpf_env.h"
#include "tools/toolkit.h"

struct skip {
	char name[256];
	char reason[512];
	bool used;
};

static struct skip *skips;
static size_t nskips;
static bool verbose;

static int load_skips(const char *path)
{
	size_t len;
	char *text = tk_read_file(path, &len), *line, *save = NULL;

	if (!text) {
		fprintf(stderr, "bpf-conformance: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *name;
		struct skip *s;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		name = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p) {
			fprintf(stderr, "bpf-conformance: %s: '%s' has no written reason\n", path,
			        name);
			free(text);
			return -1;
		}
		s = realloc(skips, (nskips + 1) * sizeof(*skips));
		if (!s) {
			free(text);
			return -1;
		}
		skips = s;
		memset(&skips[nskips], 0, sizeof(*skips));
		snprintf(skips[nskips].name, sizeof(skips[nskips].name), "%s", name);
		snprintf(skips[nskips].reason, sizeof(skips[nskips].reason), "%s", p);
		nskips++;
	}
	free(text);
	return 0;
}

static struct skip *find_skip(const char *path)
{
	const char *base = tk_basename(path);
	size_t i;

	for (i = 0; i < nskips; i++)
		if (strcmp(skips[i].name, base) == 0)
			return &skips[i];
	return NULL;
}

enum verdict { V_PASS, V_FAIL };

struct outcome {
	bool refused; /* some stage refused the program */
	uint64_t r0;
	enum rt_status status;
	uint8_t *mem;
};

/* Run one engine; a refusal or abort is recorded, not an error. */
static int run_engine(const struct rt_prog *p, enum bpf_engine eng, const struct rt_asm_test *t,
                      struct outcome *o, char *msg, size_t msglen)
{
	struct rt_run run = {0};
	int rc;

	memset(o, 0, sizeof(*o));
	rc = bpf_env_run(p, eng, t->mem, t->memlen, t->has_mem, &run, &o->mem, msg, msglen);
	if (rc) {
		o->refused = true;
		return rc;
	}
	o->status = run.status;
	o->r0 = run.r0;
	/* The unwind helper ending the program is a normal end with r0 = 0. */
	if (run.status != RT_RUN_OK && run.status != RT_RUN_HELPER) {
		o->refused = true;
		snprintf(msg, msglen, "%s run aborted at insn %u: %s",
		         eng == BPF_ENGINE_JIT ? "jit" : "interpreter", run.pc,
		         bpf_env_status_name(run.status));
	}
	return 0;
}

static enum verdict run_test(const char *path, bool use_interp, bool use_jit, bool verify,
                             char *why, size_t whylen)
{
	size_t len;
	char *text = tk_read_file(path, &len);
	struct rt_asm_test t;
	struct bpf_insn *insns = NULL;
	uint32_t n = 0;
	struct rt_prog *p = NULL;
	struct outcome oi = {0}, oj = {0};
	char err[512] = "";
	enum verdict v = V_FAIL;
	bool refused = false;
	int rc;

	if (!text) {
		snprintf(why, whylen, "cannot read: %s", strerror(errno));
		return V_FAIL;
	}
	rc = rt_asm_parse_test(text, len, &t, err, sizeof(err));
	if (rc) {
		snprintf(why, whylen, "bad test file: %s", err);
		free(text);
		return V_FAIL;
	}

	if (t.asm_text) {
		rc = rt_asm(t.asm_text, t.asm_len, &insns, &n, err, sizeof(err));
		if (rc) {
			if (t.expect_error) {
				snprintf(why, whylen, "refused by the assembler: %s", err);
				v = V_PASS;
			} else {
				snprintf(why, whylen, "assembler: %s", err);
			}
			goto out;
		}
		if (t.raw && (t.nraw != n || memcmp(t.raw, insns, n * sizeof(*insns)))) {
			snprintf(why, whylen, "assembler output differs from the -- raw section");
			goto out;
		}
	} else {
		n = t.nraw;
		insns = malloc(n * sizeof(*insns));
		if (!insns) {
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		memcpy(insns, t.raw, n * sizeof(*insns));
	}

	rc = bpf_env_prepare(insns, n, t.has_mem, t.memlen, verify, &p, err, sizeof(err));
	if (rc) {
		refused = true;
		goto judge;
	}
	if (use_interp)
		run_engine(p, BPF_ENGINE_INTERP, &t, &oi, err, sizeof(err));
	if (use_jit && !oi.refused)
		run_engine(p, BPF_ENGINE_JIT, &t, &oj, err, sizeof(err));
	refused = oi.refused || oj.refused;
	if (use_interp && use_jit && !refused) {
		if (oi.r0 != oj.r0 || oi.status != oj.status) {
			snprintf(why, whylen,
			         "engines disagree: interpreter r0=0x%llx (%s), jit r0=0x%llx (%s)",
			         (unsigned long long)oi.r0, bpf_env_status_name(oi.status),
			         (unsigned long long)oj.r0, bpf_env_status_name(oj.status));
			goto out;
		}
		if (t.memlen && memcmp(oi.mem, oj.mem, t.memlen)) {
			snprintf(why, whylen, "engines disagree on the final memory");
			goto out;
		}
	}

judge:
	if (t.expect_error) {
		if (refused) {
			snprintf(why, whylen, "refused as expected: %s", err);
			v = V_PASS;
		} else {
			snprintf(why, whylen, "expected an error, but it ran and returned 0x%llx",
			         (unsigned long long)(use_interp ? oi.r0 : oj.r0));
		}
		goto out;
	}
	if (refused) {
		snprintf(why, whylen, "%s", err);
		goto out;
	}
	{
		uint64_t r0 = use_interp ? oi.r0 : oj.r0;

		if (r0 != t.result) {
			snprintf(why, whylen, "r0 = 0x%llx, expected 0x%llx",
			         (unsigned long long)r0, (unsigned long long)t.result);
			goto out;
		}
		snprintf(why, whylen, "r0 = 0x%llx", (unsigned long long)r0);
		v = V_PASS;
	}
out:
	free(oi.mem);
	free(oj.mem);
	rt_prog_free(p);
	if (t.asm_text)
		rt_free(insns);
	else
		free(insns);
	rt_asm_test_free(&t);
	free(text);
	return v;
}

struct paths {
	char **v;
	size_t n, cap;
};

static int add_path(struct paths *ps, const char *p)
{
	if (ps->n == ps->cap) {
		char **nv = realloc(ps->v, (ps->cap ? ps->cap * 2 : 64) * sizeof(char *));

		if (!nv)
			return -1;
		ps->v = nv;
		ps->cap = ps->cap ? ps->cap * 2 : 64;
	}
	ps->v[ps->n] = strdup(p);
	return ps->v[ps->n++] ? 0 : -1;
}

/* tk_walk's callback: every .data file under the PATHs (or a PATH itself). */
static int collect(const char *path, enum tk_walk_event ev, void *arg)
{
	if (ev != TK_WALK_FILE) {
		fprintf(stderr, "bpf-conformance: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return add_path(arg, path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void usage(void)
{
	fprintf(stderr, "usage: bpf-conformance [--interp|--jit|--both] [--no-verify] "
	                "[--skip-list FILE] [-v] PATH...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	bool use_interp = false, use_jit = false, verify = true;
	struct paths ps = {0};
	unsigned passed = 0, failed = 0, skipped = 0;
	size_t i;
	int a;

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		if (!strcmp(argv[a], "--interp")) {
			use_interp = true;
		} else if (!strcmp(argv[a], "--jit")) {
			use_jit = true;
		} else if (!strcmp(argv[a], "--both")) {
			use_interp = use_jit = true;
		} else if (!strcmp(argv[a], "--no-verify")) {
			verify = false;
		} else if (!strcmp(argv[a], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[a], "--skip-list") && a + 1 < argc) {
			if (load_skips(argv[++a]))
				return 2;
		} else {
			usage();
		}
	}
	if (a >= argc)
		usage();
	if (!use_interp && !use_jit)
		use_interp = use_jit = true;
	if (!verify && use_jit) {
		fprintf(stderr, "bpf-conformance: --no-verify runs the interpreter only\n");
		use_jit = false;
		use_interp = true;
	}
	for (; a < argc; a++)
		if (tk_walk(argv[a], TK_WALK_RECURSE | TK_WALK_DATA_ONLY, collect, &ps))
			return 2;
	qsort(ps.v, ps.n, sizeof(char *), cmp_str);

	for (i = 0; i < ps.n; i++) {
		char why[1024];
		const char *base = tk_basename(ps.v[i]);
		enum verdict v = run_test(ps.v[i], use_interp, use_jit, verify, why, sizeof(why));
		struct skip *s = find_skip(ps.v[i]);

		if (s) {
			s->used = true;
			skipped++;
			printf("SKIP %s: %s%s\n", base, s->reason,
			       v == V_PASS ? " (note: it passes now; remove it from the skip list)"
			                   : "");
			if (verbose)
				printf("     %s\n", why);
		} else if (v == V_PASS) {
			passed++;
			if (verbose)
				printf("PASS %s: %s\n", base, why);
			else
				printf("PASS %s\n", base);
		} else {
			failed++;
			printf("FAIL %s: %s\n", base, why);
		}
		free(ps.v[i]);
	}
	free(ps.v);
	for (i = 0; i < nskips; i++)
		if (!skips[i].used)
			printf("note: skip-list entry %s matches no test\n", skips[i].name);
	free(skips);
	printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
