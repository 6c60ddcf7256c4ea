/*
 * verifier-corpus - the verifier's data-driven suite (make test-verifier).
 *
 *   verifier-corpus [--ext EXPECT.txt OBJDIR] [-v] PATH...
 *
 * PATH is a `.data` file or a directory of them, in the bpf_conformance
 * format (runtime/asm.h) plus two sections of our own:
 *   -- verifier-error CODE   the program must be refused with this rejection
 *                            code (a name from verify_code_name(), e.g.
 *                            uninit-reg, or its number)
 *   -- entry SECTION         the entry description, as the sample embedder
 *                            gives it for an ELF section (ext/ctx16,
 *                            ext/guard8, ext/pkt, ext/scalar, ext/none);
 *                            by default the conformance suite's: r1 = the
 *                            `-- mem` bytes (writable), r2 = their length
 *   -- status fuel|helper    the run must end so on both engines (the fuel
 *                            budget, 10^7, runs out; an aborting procedure
 *                            ends it), and r0 counts as 0; by default a run
 *                            must complete or end by an aborting procedure
 * A case with `-- result` must be accepted, and then runs on the
 * interpreter in checking mode (every access inside a known region) and on
 * the JIT; both must return the result, leave no Console open, and agree
 * on the final memory.  Programs call the sample embedder's procedures by
 * number (tests/ext/ext_env.h).
 *
 * --ext reads EXPECT.txt, lines of
 *     OBJ FUNC accept [RESULT]
 *     OBJ FUNC reject CODE LINE
 * (OBJ relative to OBJDIR, built by mk/verifier.mk from tests/ext/NAME.c) and
 * checks each verdict; for a rejection, the code and the C source line of
 * the failing instruction; for an acceptance with RESULT, the result of a
 * run on both engines with a zeroed context.
 *
 * Prints "PASS name" / "FAIL name: why" per case and ends with
 * "N passed, M failed".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/asm.h"
#include "runtime/exec.h"
#include "runtime/prog.h"
#include "runtime/verify.h"
#include "runtime/verify_impl.h"
#include "tests/ext/ext_env.h"
#include "tools/toolkit.h"

#define FUEL 10000000ull

static int npass, nfail;
static bool verbose;

static void verdict(bool ok, const char *name, const char *why)
{
	if (ok) {
		npass++;
		printf("PASS %s%s%s\n", name, verbose ? ": " : "", verbose ? why : "");
	} else {
		nfail++;
		printf("FAIL %s: %s\n", name, why);
	}
}

static int code_of(const char *s)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s && !*end)
		return (int)v;
	return verify_code_from_name(s);
}

/* Run p's function func on one engine; 0 and *r0 or -1 with why.  status:
 * the one the run must end with, or -1 for RT_RUN_OK or RT_RUN_HELPER. */
static int run_engine(const struct rt_prog *p, uint32_t func, bool jit, uint64_t args[5],
                      uint8_t *ctx, uint32_t ctxlen, int status, uint64_t *r0, char *why,
                      size_t whylen)
{
	struct rt_run run = {.fuel = FUEL};
	uint32_t nreg;
	const struct rt_region *er = ext_env_regions(&nreg);
	struct rt_region regs[8];

	memcpy(regs, er, nreg * sizeof(*regs));
	regs[nreg++] = (struct rt_region){(uintptr_t)ctx, ctxlen, true};
	ext_env_reset();
	if (tk_run(p, func, jit, args, regs, nreg, &run, why, whylen))
		return -1;
	if (status >= 0 && run.status != (enum rt_status)status) {
		snprintf(why, whylen, "%s: run ended at insn %u with status %d, expected %d",
		         jit ? "jit" : "interpreter", run.pc, run.status, status);
		return -1;
	}
	if (status < 0 && run.status != RT_RUN_OK && run.status != RT_RUN_HELPER) {
		snprintf(why, whylen,
		         "%s: run aborted at insn %u with status %d (a verifier hole if FAULT=2)",
		         jit ? "jit" : "interpreter", run.pc, run.status);
		return -1;
	}
	if (ext_env_open_consoles() != 0) {
		snprintf(why, whylen, "%s: %d references still held after the run",
		         jit ? "jit" : "interpreter", ext_env_open_consoles());
		return -1;
	}
	*r0 = run.status == RT_RUN_OK ? run.r0 : 0;
	return 0;
}

/* Both engines from the same initial memory; compare results and memory. */
static bool run_both(const struct rt_prog *p, uint32_t func, const struct rt_entry *entry,
                     const uint8_t *mem, uint32_t memlen, int status, bool expect, uint64_t result,
                     char *why, size_t whylen)
{
	uint8_t *m[2] = {NULL, NULL};
	uint64_t r[2];
	bool ok = true;

	uint32_t size = memlen;
	/* A declared context is as big as declared, whatever -- mem gave. */
	if (entry->args[0].kind == RT_ARG_CONST_MEM || entry->args[0].kind == RT_ARG_CONST_MEM_RW)
		size = entry->args[0].size > memlen ? entry->args[0].size : memlen;
	/* Globals persist across runs: both engines start from the same copy. */
	uint8_t *gsave[RT_MAX_GLOBALS] = {0};
	for (uint32_t g = 0; g < p->nglobals; g++) {
		gsave[g] = malloc(p->globals[g].size + 1);
		memcpy(gsave[g], p->globals[g].data, p->globals[g].size);
	}
	for (int k = 0; k < 2; k++) {
		uint64_t args[5] = {0};
		for (uint32_t g = 0; g < p->nglobals; g++)
			memcpy(p->globals[g].data, gsave[g], p->globals[g].size);
		m[k] = calloc(1, size + 1);
		if (mem)
			memcpy(m[k], mem, memlen);
		ext_env_entry_args(entry, m[k], memlen, args);
		if (run_engine(p, func, k == 1, args, m[k], size, status, &r[k], why, whylen)) {
			ok = false;
			break;
		}
	}
	if (ok && r[0] != r[1]) {
		snprintf(why, whylen, "engines disagree: interpreter 0x%llx, jit 0x%llx",
		         (unsigned long long)r[0], (unsigned long long)r[1]);
		ok = false;
	} else if (ok && size && memcmp(m[0], m[1], size)) {
		snprintf(why, whylen, "engines disagree on the final memory");
		ok = false;
	} else if (ok && expect && r[0] != result) {
		snprintf(why, whylen, "r0 = 0x%llx, expected 0x%llx", (unsigned long long)r[0],
		         (unsigned long long)result);
		ok = false;
	} else if (ok) {
		snprintf(why, whylen, "r0 = 0x%llx on both engines", (unsigned long long)r[0]);
	}
	for (uint32_t g = 0; g < p->nglobals; g++) {
		memcpy(p->globals[g].data, gsave[g], p->globals[g].size);
		free(gsave[g]);
	}
	free(m[0]);
	free(m[1]);
	return ok;
}

static void data_case(const char *path)
{
	const char *name = tk_basename(path);
	size_t len;
	char *text = tk_read_file(path, &len);
	struct rt_asm_test t;
	struct bpf_insn *insns = NULL;
	uint32_t n = 0;
	struct rt_prog *p = NULL;
	struct rt_entry entry;
	struct rt_verify_result res;
	char err[512] = "", why[1024] = "", arg[64];
	int want = -1, status = -1, rc;

	if (!text) {
		verdict(false, name, "cannot read");
		return;
	}
	if (rt_asm_parse_test(text, len, &t, err, sizeof(err))) {
		snprintf(why, sizeof(why), "bad test file: %s", err);
		verdict(false, name, why);
		free(text);
		return;
	}
	if (tk_data_section(text, "verifier-error", arg, sizeof(arg))) {
		want = code_of(arg);
		if (want < 0) {
			snprintf(why, sizeof(why), "unknown rejection code '%s'", arg);
			verdict(false, name, why);
			goto out;
		}
	}
	if (tk_data_section(text, "status", arg, sizeof(arg))) {
		if (!strcmp(arg, "fuel")) {
			status = RT_RUN_FUEL;
		} else if (!strcmp(arg, "helper")) {
			status = RT_RUN_HELPER;
		} else {
			snprintf(why, sizeof(why), "unknown status '%s' (fuel, helper)", arg);
			verdict(false, name, why);
			goto out;
		}
	}
	if (tk_data_section(text, "entry", arg, sizeof(arg))) {
		if (!ext_env_entry_for(arg, &entry)) {
			snprintf(why, sizeof(why), "unknown entry '%s'", arg);
			verdict(false, name, why);
			goto out;
		}
	} else {
		tk_default_entry(&entry, t.has_mem, t.memlen);
	}
	rc = tk_data_program(&t, &insns, &n, err, sizeof(err));
	if (rc) {
		snprintf(why, sizeof(why), "assembler: %s", err);
		verdict(false, name, why);
		goto out;
	}
	rc = rt_prog_from_raw(insns, n, &p, err, sizeof(err));
	if (!rc)
		rc = rt_prog_link(p, &ext_env_embed, err, sizeof(err));
	if (rc) {
		/* The loader refuses some things before the verifier sees them
		 * (callx); a refusal case passes only if it expected exactly that. */
		snprintf(why, sizeof(why), "load/link: %s", err);
		verdict(false, name, why);
		goto out;
	}
	memset(&res, 0, sizeof(res));
	rc = rt_verify(p, 0, &entry, NULL, &res);
	if (want >= 0 || t.expect_error) {
		if (rc == 0) {
			snprintf(why, sizeof(why), "accepted, expected rejection %s",
			         want >= 0 ? verify_code_name(want) : "(any)");
			verdict(false, name, why);
		} else if (want >= 0 && res.code != want) {
			snprintf(why, sizeof(why), "rejected with %s, expected %s: %s",
			         verify_code_name(res.code), verify_code_name(want), res.msg);
			verdict(false, name, why);
		} else {
			snprintf(why, sizeof(why), "%s", res.msg);
			verdict(true, name, why);
		}
		goto out;
	}
	if (rc) {
		snprintf(why, sizeof(why), "rejected [%s]: %s", verify_code_name(res.code),
		         res.msg);
		verdict(false, name, why);
		goto out;
	}
	verdict(run_both(p, 0, &entry, t.mem, t.memlen, status, t.has_result, t.result, why,
	                 sizeof(why)),
	        name, why);
out:
	rt_prog_free(p);
	rt_free(insns);
	rt_asm_test_free(&t);
	free(text);
}

/* tk_walk's callback: a .data case, or a directory that cannot be read. */
static int data_path(const char *path, enum tk_walk_event ev, void *arg)
{
	(void)arg;
	if (ev == TK_WALK_UNOPENED)
		verdict(false, path, "cannot open directory");
	else
		data_case(path);
	return 0;
}

static void ext_case(const char *objdir, const char *obj, const char *func, const char *what,
                     const char *a1, const char *a2)
{
	char path[1024], name[512], why[1024], err[512] = "";
	size_t len;
	char *img;
	struct rt_prog *p = NULL;
	struct rt_entry entry;
	struct rt_verify_result res;
	const struct rt_func *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", objdir, obj);
	snprintf(name, sizeof(name), "%s:%s", obj, func);
	img = tk_read_file(path, &len);
	if (!img) {
		verdict(false, name, "cannot read the object (not built?)");
		return;
	}
	rc = rt_prog_load_elf(img, len, &p, err, sizeof(err));
	free(img);
	if (!rc)
		rc = rt_prog_link(p, &ext_env_embed, err, sizeof(err));
	if (rc) {
		snprintf(why, sizeof(why), "load/link: %s", err);
		verdict(false, name, why);
		rt_prog_free(p);
		return;
	}
	f = rt_prog_find_func(p, func);
	if (!f || !ext_env_entry_for(f->section, &entry)) {
		verdict(false, name, "no such entry function in an ext/ section");
		rt_prog_free(p);
		return;
	}
	uint32_t fi = (uint32_t)(f - p->funcs);
	rc = rt_verify(p, fi, &entry, NULL, &res);
	if (!strcmp(what, "accept")) {
		if (rc) {
			snprintf(why, sizeof(why), "rejected [%s]: %s", verify_code_name(res.code),
			         res.msg);
			verdict(false, name, why);
		} else if (a1) {
			uint32_t ctxlen = entry.args[0].kind == RT_ARG_CONST_MEM ||
			                          entry.args[0].kind == RT_ARG_CONST_MEM_RW
			                      ? entry.args[0].size
			                      : 0;
			verdict(run_both(p, fi, &entry, NULL, ctxlen, -1, true,
			                 strtoull(a1, NULL, 0), why, sizeof(why)),
			        name, why);
		} else {
			snprintf(why, sizeof(why), "accepted, %u insns processed",
			         res.insns_processed);
			verdict(true, name, why);
		}
	} else {
		int want = a1 ? code_of(a1) : -1;
		unsigned line = a2 ? (unsigned)strtoul(a2, NULL, 0) : 0;
		const struct rt_line *ln = rc ? rt_prog_line(p, res.insn) : NULL;
		if (!rc) {
			verdict(false, name, "accepted, expected a rejection");
		} else if (res.code != want) {
			snprintf(why, sizeof(why), "rejected with %s, expected %s: %s",
			         verify_code_name(res.code), a1 ? a1 : "?", res.msg);
			verdict(false, name, why);
		} else if (line && (!ln || ln->line != line)) {
			snprintf(why, sizeof(why), "rejected at line %u, expected line %u: %s",
			         ln ? ln->line : 0, line, res.msg);
			verdict(false, name, why);
		} else {
			verdict(true, name, res.msg);
		}
	}
	rt_prog_free(p);
}

static void ext_list(const char *expect, const char *objdir)
{
	size_t len;
	char *text = tk_read_file(expect, &len), *line, *save = NULL;

	if (!text) {
		verdict(false, expect, "cannot read");
		return;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[6] = {0}, *s2 = NULL;
		int nt = 0;
		if (line[0] == '#')
			continue;
		for (char *w = strtok_r(line, " \t", &s2); w && nt < 6;
		     w = strtok_r(NULL, " \t", &s2))
			tok[nt++] = w;
		if (nt < 3)
			continue;
		ext_case(objdir, tok[0], tok[1], tok[2], tok[3], tok[4]);
	}
	free(text);
}

int main(int argc, char **argv)
{
	tk_set_ledger = ext_env_set_ledger;

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[a], "--ext") && a + 2 < argc) {
			ext_list(argv[a + 1], argv[a + 2]);
			a += 2;
		} else {
			tk_walk(argv[a], TK_WALK_DATA_ONLY, data_path, NULL);
		}
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
