/*
 * bpf_env.h - the conformance suite's execution environment, shared by
 * bpf-run (the suite's plugin contract) and bpf-conformance (the in-process
 * runner).  Header-only; hosted.
 *
 * A suite program gets r1 = a private copy of the test memory and r2 = its
 * length (the verifier is told: r1 is RT_ARG_CONST_MEM_RW of exactly that
 * size, r2 a scalar); with no memory both are the scalar 0.  The pipeline is
 * the kernel's: rt_prog_from_raw -> rt_prog_link -> rt_verify -> interpret
 * (in checking mode, so a verifier hole shows up as a fault) or
 * rt_jit_compile + run.
 *
 * Numbered helpers: the suite uses only helper 5, uBPF's "unwind": it
 * returns its argument, and when the argument is 0 the program ends there.
 * That is modelled as an RT_SIG_MAYABORT import (exec.h: rt_abortable_fn):
 * the run ends with RT_RUN_HELPER, which the runners report as r0 = 0 (the
 * reference plugin's answer for an unwound program is the unwind value, 0).
 */
#ifndef TOOLS_BPF_ENV_H
#define TOOLS_BPF_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/exec.h"
#include "runtime/prog.h"
#include "runtime/verify.h"
#include "tools/toolkit.h"

#define BPF_ENV_FUEL 50000000ull

enum bpf_engine { BPF_ENGINE_INTERP, BPF_ENGINE_JIT };

static struct rt_jit_ret bpf_env_unwind(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	struct rt_jit_ret r = {a, a == 0 ? 1 : 0};

	(void)b, (void)c, (void)d, (void)e;
	return r;
}

static const struct rt_sig bpf_env_helper_unwind = {
    .name = "unwind",
    .fn = (void *)bpf_env_unwind,
    .nargs = 1,
    .args = {{.kind = RT_ARG_SCALAR}},
    .ret = {.kind = RT_RET_SCALAR},
    .flags = RT_SIG_MAYABORT,
};

static const struct rt_sig *bpf_env_helper(void *arg, int32_t id)
{
	(void)arg;
	return id == 5 ? &bpf_env_helper_unwind : NULL;
}

static const struct rt_sig *bpf_env_lookup(void *arg, const char *name)
{
	(void)arg, (void)name;
	return NULL;
}

static const struct rt_embed bpf_env_embed = {
    .lookup = bpf_env_lookup,
    .helper = bpf_env_helper,
    .arg = NULL,
};

/* Load, link and (unless verify is false) verify; msg gets the reason on
 * refusal.  Returns 0 or a negative RT_E* code. */
static int bpf_env_prepare(const struct bpf_insn *insns, uint32_t n, bool has_mem, uint32_t memlen,
                           bool verify, struct rt_prog **out, char *msg, size_t msglen)
{
	struct rt_prog *p;
	struct rt_entry entry;
	struct rt_verify_result res;
	char err[512] = "";
	int rc;

	*out = NULL;
	rc = rt_prog_from_raw(insns, n, &p, err, sizeof(err));
	if (rc) {
		snprintf(msg, msglen, "load: %.400s", err);
		return rc;
	}
	rc = rt_prog_link(p, &bpf_env_embed, err, sizeof(err));
	if (rc) {
		snprintf(msg, msglen, "link: %.400s", err);
		rt_prog_free(p);
		return rc;
	}
	if (verify) {
		tk_default_entry(&entry, has_mem, memlen);
		memset(&res, 0, sizeof(res));
		rc = rt_verify(p, 0, &entry, NULL, &res);
		if (rc) {
			snprintf(msg, msglen, "verifier: %.400s", res.msg);
			rt_prog_free(p);
			return rc;
		}
	}
	*out = p;
	return 0;
}

static const char *bpf_env_status_name(enum rt_status s)
{
	switch (s) {
	case RT_RUN_OK:
		return "ok";
	case RT_RUN_FUEL:
		return "out of fuel";
	case RT_RUN_FAULT:
		return "memory fault (checking mode)";
	case RT_RUN_DEPTH:
		return "call depth exceeded";
	case RT_RUN_BADINSN:
		return "bad instruction";
	case RT_RUN_HELPER:
		return "aborted by a helper";
	}
	return "unknown status";
}

/* Run on one engine with a private copy of mem (left in *memout, which the
 * caller frees).  Returns 0 with run filled, or a negative code with msg. */
static int bpf_env_run(const struct rt_prog *p, enum bpf_engine eng, const uint8_t *mem,
                       uint32_t memlen, bool has_mem, struct rt_run *run, uint8_t **memout,
                       char *msg, size_t msglen)
{
	uint8_t *m = calloc(1, memlen ? memlen : 1);
	uint64_t args[5] = {0};
	int rc;

	*memout = m;
	if (!m) {
		snprintf(msg, msglen, "out of memory");
		return -RT_ENOMEM;
	}
	if (has_mem && memlen) {
		memcpy(m, mem, memlen);
		args[0] = (uintptr_t)m;
		args[1] = memlen;
	}
	memset(run, 0, sizeof(*run));
	run->fuel = BPF_ENV_FUEL;
	if (eng == BPF_ENGINE_INTERP) {
		struct rt_region r = {(uintptr_t)m, has_mem ? memlen : 0, true};
		struct rt_check check = {&r, 1, true};

		rc = rt_interp_run(p, 0, args, run, &check);
		if (rc)
			snprintf(msg, msglen, "interpreter: error %d", rc);
	} else {
		struct rt_jit *j = NULL;
		char err[512] = "";

		rc = rt_jit_compile(p, &j, err, sizeof(err));
		if (rc) {
			snprintf(msg, msglen, "jit: %.400s", err);
			return rc;
		}
		rc = rt_jit_run(j, 0, args, run);
		if (rc)
			snprintf(msg, msglen, "jit run: error %d", rc);
		rt_jit_free(j);
	}
	return rc;
}

#endif
