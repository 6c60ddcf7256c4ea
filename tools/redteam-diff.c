/*
 * redteam-diff - differential runner over everything the verifier accepts.
 *
 *   redteam-diff [-v] [--sweep N] [--strict-refs] [--raw] [--fuel N] PATH...
 *
 * PATH is a `.data` file (the verifier corpus's format, tools/verifier-corpus.c:
 * `-- entry`, `-- mem`, numbered procedures of tests/ext/ext_env.h), a clang
 * BPF object (`.o`, every function in an `ext/` section is an entry, run
 * with a zeroed context), or a directory of them (searched recursively,
 * except subdirectories named *-pending, which hold known failures and are
 * run only when named).  With --raw, any other file is bare bytecode as
 * the fuzz targets take it (fuzz/fuzz_env.h: ext/ctx64_rw, 64-byte context),
 * so a fuzzer's corpus can be replayed with the fuel sweep.
 * Refused programs are skipped (the corpus runner judges verdicts); every
 * accepted one runs on the interpreter in checking mode and on the JIT, from
 * identical memory and globals, with the same fuel budget, and the two must
 * agree on r0, the status, the fuel left, the context memory, the globals
 * and the references left open.  The interpreter must never fault (status
 * RT_RUN_FAULT means an access outside every allowed region: a verifier
 * hole).
 *
 * Fuel: each program runs with a large budget (--fuel, default 10^7), then with every budget from
 * 0 to its exact need + 1 (at most --sweep N budgets, default 64, spread
 * over the range when the need is larger), so a unit charged by one engine
 * and not the other shows up as a disagreement on the status or the fuel
 * left.
 *
 * References: a completed run must leave none held.  --strict-refs (which
 * make test-verifier passes) demands the same of runs ended by the fuel or by
 * an aborting import: every run gets a ledger (runtime/exec.h, tk_run with
 * tk_set_ledger = ext_env_set_ledger) that releases what a stopped run held
 * (tests/verifier/redteam-ref-held-across-*.data).
 *
 * Prints "FAIL name: why" per disagreement (and "PASS" lines with -v), then
 * "N passed, M failed, K refused".  Exit status 1 if anything failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/asm.h"
#include "runtime/exec.h"
#include "runtime/prog.h"
#include "runtime/verify.h"
#include "tests/ext/ext_env.h"
#include "tools/toolkit.h"

static int npass, nfail, nrefused;
static bool verbose;
static uint32_t sweep = 64;
static uint64_t big_fuel = 10000000ull;
static bool strict_refs, raw_files;

struct outcome {
	uint64_t r0, fuel;
	int status;
	uint32_t pc;
	int open;
};

/* One run on one engine from mem (size bytes, copied) and the saved globals. */
static int run_one(const struct rt_prog *p, uint32_t func, const struct rt_entry *entry, bool jit,
                   uint64_t fuel, uint8_t *m, uint32_t size, uint32_t memlen, uint8_t **gsave,
                   struct outcome *o, char *why, size_t whylen)
{
	uint64_t args[5] = {0};
	struct rt_run run = {.fuel = fuel};
	uint32_t nreg;
	const struct rt_region *er = ext_env_regions(&nreg);
	struct rt_region regs[16];

	for (uint32_t g = 0; g < p->nglobals; g++)
		memcpy(p->globals[g].data, gsave[g], p->globals[g].size);
	ext_env_entry_args(entry, m, memlen, args);
	memcpy(regs, er, nreg * sizeof(*regs));
	regs[nreg++] = (struct rt_region){(uintptr_t)m, size, true};
	ext_env_reset();
	if (tk_run(p, func, jit, args, regs, nreg, &run, why, whylen))
		return -1;
	o->r0 = run.r0;
	o->fuel = run.fuel;
	o->status = run.status;
	o->pc = run.pc;
	o->open = ext_env_open_consoles();
	return 0;
}

/* Both engines at one budget; false (with why) on a disagreement. */
static bool compare_at(const struct rt_prog *p, uint32_t func, const struct rt_entry *entry,
                       const uint8_t *mem, uint32_t memlen, uint64_t fuel, uint64_t *need,
                       char *why, size_t whylen)
{
	uint32_t size = memlen;
	struct outcome o[2];
	uint8_t *m[2], *gsave[RT_MAX_GLOBALS] = {0}, *gout[RT_MAX_GLOBALS] = {0};
	bool ok = true;

	if (entry->args[0].kind == RT_ARG_CONST_MEM || entry->args[0].kind == RT_ARG_CONST_MEM_RW ||
	    entry->args[0].kind == RT_ARG_CTX)
		size = entry->args[0].size > memlen ? entry->args[0].size : memlen;
	for (uint32_t g = 0; g < p->nglobals; g++) {
		gsave[g] = malloc(p->globals[g].size + 1);
		gout[g] = malloc(p->globals[g].size + 1);
		memcpy(gsave[g], p->globals[g].data, p->globals[g].size);
	}
	for (int k = 0; k < 2 && ok; k++) {
		m[k] = calloc(1, size + 1);
		if (mem)
			memcpy(m[k], mem, memlen);
		if (run_one(p, func, entry, k == 1, fuel, m[k], size, memlen, gsave, &o[k], why,
		            whylen)) {
			free(m[k]);
			if (k == 1)
				free(m[0]);
			ok = false;
			break;
		}
		if (k == 0) {
			for (uint32_t g = 0; g < p->nglobals; g++)
				memcpy(gout[g], p->globals[g].data, p->globals[g].size);
		}
	}
	if (ok) {
		if (o[0].status == RT_RUN_FAULT) {
			snprintf(why, whylen,
			         "VERIFIER HOLE: the interpreter faulted at insn %u (access "
			         "outside every allowed region), fuel %llu",
			         o[0].pc, (unsigned long long)fuel);
			ok = false;
		} else if (o[0].status != o[1].status || o[0].fuel != o[1].fuel ||
		           (o[0].status != RT_RUN_FUEL && o[0].r0 != o[1].r0)) {
			snprintf(why, whylen,
			         "engines disagree at fuel %llu: interpreter r0=%#llx status=%d "
			         "fuel left %llu (pc %u); jit r0=%#llx status=%d fuel left %llu",
			         (unsigned long long)fuel, (unsigned long long)o[0].r0, o[0].status,
			         (unsigned long long)o[0].fuel, o[0].pc,
			         (unsigned long long)o[1].r0, o[1].status,
			         (unsigned long long)o[1].fuel);
			ok = false;
		} else if ((o[0].open || o[1].open) && (strict_refs || o[0].status == RT_RUN_OK)) {
			/* Whatever ended the run (exit, an aborting import, the
			 * fuel), nothing it acquired may stay held. */
			snprintf(why, whylen,
			         "references still held after the run ended with status %d at fuel "
			         "%llu (interpreter %d, jit %d)",
			         o[0].status, (unsigned long long)fuel, o[0].open, o[1].open);
			ok = false;
		} else if (o[0].status == RT_RUN_OK && size && memcmp(m[0], m[1], size)) {
			snprintf(why, whylen, "engines disagree on the final memory (fuel %llu)",
			         (unsigned long long)fuel);
			ok = false;
		} else if (o[0].status == RT_RUN_OK) {
			for (uint32_t g = 0; g < p->nglobals; g++)
				if (memcmp(gout[g], p->globals[g].data, p->globals[g].size)) {
					snprintf(why, whylen, "engines disagree on global %s",
					         p->globals[g].name);
					ok = false;
					break;
				}
		}
		if (need && fuel != RT_FUEL_UNLIMITED)
			*need = fuel - o[0].fuel;
		if (ok)
			snprintf(why, whylen, "r0 = %#llx, status %d on both engines",
			         (unsigned long long)o[0].r0, o[0].status);
		free(m[0]);
		free(m[1]);
	}
	for (uint32_t g = 0; g < p->nglobals; g++) {
		memcpy(p->globals[g].data, gsave[g], p->globals[g].size);
		free(gsave[g]);
		free(gout[g]);
	}
	return ok;
}

static void verdict(bool ok, const char *name, const char *why)
{
	if (ok) {
		npass++;
		if (verbose)
			printf("PASS %s: %s\n", name, why);
	} else {
		nfail++;
		printf("FAIL %s: %s\n", name, why);
	}
}

static void run_prog(struct rt_prog *p, uint32_t func, const struct rt_entry *entry,
                     const uint8_t *mem, uint32_t memlen, const char *name)
{
	struct rt_verify_result res;
	char why[1024];
	uint64_t need = 0;

	memset(&res, 0, sizeof(res));
	if (rt_verify(p, func, entry, NULL, &res)) {
		nrefused++;
		if (verbose)
			printf("SKIP %s: refused (%s)\n", name, res.msg);
		return;
	}
	if (!compare_at(p, func, entry, mem, memlen, big_fuel, &need, why, sizeof(why))) {
		verdict(false, name, why);
		return;
	}
	/* Every budget around the exact need, where the engines' charging
	 * has to agree to the unit. */
	uint64_t top = need + 1, step = 1;
	if (sweep && top + 1 > sweep)
		step = (top + sweep - 1) / sweep;
	for (uint64_t f = 0; f <= top; f += step) {
		if (!compare_at(p, func, entry, mem, memlen, f, NULL, why, sizeof(why))) {
			verdict(false, name, why);
			return;
		}
	}
	for (uint64_t f = need > 2 ? need - 2 : 0; f <= top; f++) {
		if (!compare_at(p, func, entry, mem, memlen, f, NULL, why, sizeof(why))) {
			verdict(false, name, why);
			return;
		}
	}
	snprintf(why + strlen(why), sizeof(why) - strlen(why), ", fuel need %llu agreed",
	         (unsigned long long)need);
	verdict(true, name, why);
}

static void data_file(const char *path)
{
	size_t len;
	char *text = tk_read_file(path, &len);
	struct rt_asm_test t;
	struct bpf_insn *insns = NULL;
	uint32_t n = 0;
	struct rt_prog *p = NULL;
	struct rt_entry entry;
	char err[512] = "", arg[64];
	int rc;

	if (!text) {
		verdict(false, path, "cannot read");
		return;
	}
	if (rt_asm_parse_test(text, len, &t, err, sizeof(err))) {
		free(text);
		return; /* not ours to judge: the corpus runner reports bad files */
	}
	if (tk_data_section(text, "entry", arg, sizeof(arg))) {
		if (!ext_env_entry_for(arg, &entry))
			goto out;
	} else {
		tk_default_entry(&entry, t.has_mem, t.memlen);
	}
	rc = tk_data_program(&t, &insns, &n, err, sizeof(err));
	if (rc)
		goto out;
	rc = rt_prog_from_raw(insns, n, &p, err, sizeof(err));
	if (!rc)
		rc = rt_prog_link(p, &ext_env_embed, err, sizeof(err));
	if (!rc)
		run_prog(p, 0, &entry, t.mem, t.memlen, path);
	else
		nrefused++;
out:
	rt_prog_free(p);
	rt_free(insns);
	rt_asm_test_free(&t);
	free(text);
}

static void obj_file(const char *path)
{
	size_t len;
	char *img = tk_read_file(path, &len);
	struct rt_prog *p = NULL;
	char err[512] = "", name[1024];
	int rc;

	if (!img) {
		verdict(false, path, "cannot read");
		return;
	}
	rc = rt_prog_load_elf(img, len, &p, err, sizeof(err));
	free(img);
	if (!rc)
		rc = rt_prog_link(p, &ext_env_embed, err, sizeof(err));
	if (rc) {
		nrefused++;
		rt_prog_free(p);
		return;
	}
	for (uint32_t f = 0; f < p->nfuncs; f++) {
		struct rt_entry entry;
		if (!p->funcs[f].section[0] || !ext_env_entry_for(p->funcs[f].section, &entry))
			continue;
		snprintf(name, sizeof(name), "%s:%s", path, p->funcs[f].name);
		run_prog(p, f, &entry, NULL, 0, name);
	}
	rt_prog_free(p);
}

/* Bare bytecode as the fuzzers take it (fuzz/fuzz_env.h): entry
 * ext/ctx64_rw, 64 zero bytes of context. */
static void raw_file(const char *path)
{
	size_t len;
	char *img = tk_read_file(path, &len);
	struct rt_prog *p = NULL;
	struct rt_entry entry;
	struct bpf_insn *insns;
	uint32_t n = (uint32_t)(len / sizeof(struct bpf_insn));
	uint8_t mem[64] = {0};
	char err[256];

	if (!img)
		return;
	if (n == 0 || n > 4096) {
		free(img);
		return;
	}
	insns = malloc(n * sizeof(*insns));
	memcpy(insns, img, n * sizeof(*insns));
	free(img);
	if (rt_prog_from_raw(insns, n, &p, err, sizeof(err)) == 0 &&
	    rt_prog_link(p, &ext_env_embed, err, sizeof(err)) == 0 &&
	    ext_env_entry_for("ext/ctx64_rw", &entry))
		run_prog(p, 0, &entry, mem, sizeof(mem), path);
	else
		nrefused++;
	rt_prog_free(p);
	free(insns);
}

/* tk_walk's callback: dispatch a file by its name. */
static int any_path(const char *path, enum tk_walk_event ev, void *arg)
{
	(void)arg;
	if (ev == TK_WALK_MISSING)
		verdict(false, path, "no such file");
	if (ev != TK_WALK_FILE)
		return 0; /* (an unreadable directory is passed over) */
	if (tk_has_suffix(path, ".data"))
		data_file(path);
	else if (tk_has_suffix(path, ".o"))
		obj_file(path);
	else if (raw_files)
		raw_file(path);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	tk_set_ledger = ext_env_set_ledger;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--fuel") && i + 1 < argc)
			big_fuel = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--raw"))
			raw_files = true;
		else if (!strcmp(argv[i], "--strict-refs"))
			strict_refs = true;
		else if (!strcmp(argv[i], "--sweep") && i + 1 < argc)
			sweep = (uint32_t)strtoul(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "usage: redteam-diff [-v] [--sweep N] [--strict-refs] "
			                "[--raw] [--fuel N] PATH...\n");
			return 2;
		}
	}
	for (; i < argc; i++)
		tk_walk(argv[i], TK_WALK_RECURSE | TK_WALK_SKIP_PENDING, any_path, NULL);
	printf("%d passed, %d failed, %d refused\n", npass, nfail, nrefused);
	return nfail ? 1 : 0;
}
