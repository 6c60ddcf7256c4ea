/*
 * fuzz_verifier.c - libFuzzer target: arbitrary bytecode through
 * rt_prog_from_raw + rt_prog_link + rt_verify (fixed entry: a writable
 * 64-byte context, fuzz_env.h).  The verifier must accept or refuse every
 * input without crashing, within its state budget, and fill its result
 * consistently.  Whatever it accepts must also compile with the JIT (a
 * verified program the JIT refuses is a bug on one side or the other).
 * What it refuses is handed to the JIT compiler anyway (compiled, never
 * run): the JIT's own validation must refuse or compile garbage without
 * tripping ASan/UBSan.
 */
#include "fuzz/fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_prog *p;
	struct rt_jit *j = NULL;
	char err[256];

	bool accepted;

	fuzz_load(data, size, &p, &accepted);
	if (!p)
		return 0;
	if (!accepted) {
		if (rt_jit_compile(p, &j, err, sizeof(err)) == 0)
			rt_jit_free(j);
		rt_prog_free(p);
		return 0;
	}
	if (rt_jit_compile(p, &j, err, sizeof(err)) != 0) {
		fprintf(stderr, "verified program refused by the JIT: %s\n", err);
		abort();
	}
	rt_jit_free(j);
	rt_prog_free(p);
	return 0;
}
