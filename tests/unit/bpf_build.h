/* bpf_build.h: build a linked program for the runtime's host tests
 * (interp_test, verify_test, jit_test), header only.  A test's imports are
 * its own (struct rt_sig); BPF_BUILD_ARGS5 spells the usual five scalar
 * arguments once.  A program comes either
 * from raw instructions or from the suite's assembly (runtime/asm.h); it is
 * loaded with rt_prog_from_raw and linked against the test's embedder, the
 * kernel's pipeline up to the verifier.  On failure the reason is printed on
 * its own line (never "ok " or "FAIL": check.h) and NULL returned, so the
 * caller's CHECK fails where the program was needed. */
#ifndef TESTS_UNIT_BPF_BUILD_H
#define TESTS_UNIT_BPF_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runtime/asm.h"
#include "runtime/prog.h"

/* The .args of an import taking five scalars. */
/* clang-format off */
#define BPF_BUILD_ARGS5                                                                            \
	{{.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR},                \
	 {.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}}
/* clang-format on */

/* Load n raw instructions and link them against env. */
static inline struct rt_prog *bpf_build_insns(const struct bpf_insn *insns, uint32_t n,
                                              const struct rt_embed *env)
{
	struct rt_prog *p = NULL;
	char err[512] = "";

	if (rt_prog_from_raw(insns, n, &p, err, sizeof(err))) {
		printf("  load: %s\n", err);
		return NULL;
	}
	if (rt_prog_link(p, env, err, sizeof(err))) {
		printf("  link: %s\n", err);
		rt_prog_free(p);
		return NULL;
	}
	return p;
}

/* Assemble text, then load and link it against env. */
static inline struct rt_prog *bpf_build_asm(const char *text, const struct rt_embed *env)
{
	struct bpf_insn *insns = NULL;
	struct rt_prog *p;
	uint32_t n = 0;
	char err[512] = "";

	if (rt_asm(text, strlen(text), &insns, &n, err, sizeof(err))) {
		printf("  asm: %s\n", err);
		return NULL;
	}
	p = bpf_build_insns(insns, n, env);
	rt_free(insns);
	return p;
}

#endif
