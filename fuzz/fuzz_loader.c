/*
 * fuzz_loader.c - libFuzzer target: arbitrary bytes as a clang BPF object.
 *
 * rt_prog_load_elf must refuse malformed input with an error code and a
 * message, never crash or read out of bounds (ASan/UBSan watch).  What it
 * accepts is exercised a little further: linking against the sample
 * embedder and the source-line lookup of every instruction.
 */
#include "fuzz/fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_prog *p = NULL;
	char err[256];
	uint8_t *copy;
	uint32_t i;

	/* An exact-size heap copy, so ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (rt_prog_load_elf(copy, size, &p, err, sizeof(err)) == 0) {
		for (i = 0; i < p->ninsns; i++)
			(void)rt_prog_line(p, i);
		for (i = 0; i < p->nfuncs; i++)
			if (rt_prog_find_func(p, p->funcs[i].name) == NULL)
				abort(); /* every function is findable by its name */
		(void)rt_prog_link(p, &ext_env_embed, err, sizeof(err));
		rt_prog_free(p);
	} else if (p != NULL || memchr(err, 0, sizeof(err)) == NULL || err[0] == 0) {
		abort(); /* a refusal hands nothing out and says why */
	}
	free(copy);
	return 0;
}
