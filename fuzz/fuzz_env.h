/*
 * fuzz_env.h - what the libFuzzer targets share (header only, hosted).
 *
 * Bytecode inputs: the fuzzer's bytes are eBPF instructions (8 bytes each,
 * a trailing partial one ignored), loaded with rt_prog_from_raw, linked
 * against the verifier tests' sample embedder (tests/ext/ext_env.h: typed
 * procedures 1..15 by number) and verified as one fixed entry, "ext/ctx64_rw":
 * r1 = a writable 64-byte context, r2 = its length.
 */
#ifndef FUZZ_FUZZ_ENV_H
#define FUZZ_FUZZ_ENV_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/exec.h"
#include "runtime/prog.h"
#include "runtime/verify.h"
#include "tests/ext/ext_env.h"

#define FUZZ_CTX_SIZE   64
#define FUZZ_MAX_INSNS  4096
#define FUZZ_FUEL       10000
#define FUZZ_MAX_STATES 20000 /* keep one input's verification short */

/* Load and link an input, then verify it; *out is NULL unless it loaded
 * and linked, *accepted says whether the verifier took it. */
static inline void fuzz_load(const uint8_t *data, size_t size, struct rt_prog **out, bool *accepted)
{
	struct rt_verify_opts opts = {.max_states = FUZZ_MAX_STATES};
	struct rt_verify_result res;
	struct rt_entry entry;
	struct rt_prog *p = NULL;
	struct bpf_insn *insns;
	uint32_t n = (uint32_t)(size / sizeof(struct bpf_insn));
	char err[256];

	*out = NULL;
	*accepted = false;
	if (n == 0 || n > FUZZ_MAX_INSNS)
		return;
	/* A private, aligned copy: the fuzzer's buffer may be unaligned. */
	insns = malloc(n * sizeof(*insns));
	if (!insns)
		return;
	memcpy(insns, data, n * sizeof(*insns));
	if (rt_prog_from_raw(insns, n, &p, err, sizeof(err)) != 0) {
		free(insns);
		return;
	}
	free(insns);
	if (rt_prog_link(p, &ext_env_embed, err, sizeof(err)) != 0 ||
	    !ext_env_entry_for("ext/ctx64_rw", &entry)) {
		rt_prog_free(p);
		return;
	}
	memset(&res, 0, sizeof(res));
	*accepted = rt_verify(p, 0, &entry, &opts, &res) == 0;
	*out = p;
}

/* Load, link and verify; *out is NULL unless the verifier accepted it. */
static inline void fuzz_accept(const uint8_t *data, size_t size, struct rt_prog **out)
{
	bool accepted;

	fuzz_load(data, size, out, &accepted);
	if (*out && !accepted) {
		rt_prog_free(*out);
		*out = NULL;
	}
}

#endif
