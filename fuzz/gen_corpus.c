/*
 * gen_corpus.c - writes seed inputs for the bytecode fuzz targets: each
 * `.data` file given (conformance suite, verifier corpus) is assembled and
 * its instructions written raw to OUTDIR/<name>.bin, the format the
 * verifier and diff targets read (fuzz/fuzz_env.h).  Run by
 * `make fuzz-corpus`; the output is committed under fuzz/corpus/.
 *
 * Usage: gen_corpus OUTDIR FILE.data...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/asm.h"
#include "tools/toolkit.h"

int main(int argc, char **argv)
{
	int k, written = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: gen_corpus OUTDIR FILE.data...\n");
		return 2;
	}
	for (k = 2; k < argc; k++) {
		struct rt_asm_test t;
		struct bpf_insn *insns = NULL;
		uint32_t n = 0;
		size_t len = 0;
		char err[256], out[1024];
		const char *base = tk_basename(argv[k]);
		char *text = tk_read_file(argv[k], &len);
		FILE *f;

		if (!text || rt_asm_parse_test(text, len, &t, err, sizeof(err))) {
			free(text);
			continue;
		}
		if (tk_data_program(&t, &insns, &n, err, sizeof(err)))
			insns = NULL;
		if (insns && n) {
			snprintf(out, sizeof(out), "%s/%.*s.bin", argv[1],
			         (int)(strlen(base) > 5 ? strlen(base) - 5 : strlen(base)), base);
			f = fopen(out, "wb");
			if (f && fwrite(insns, sizeof(*insns), n, f) == n)
				written++;
			if (f)
				fclose(f);
		}
		rt_free(insns);
		rt_asm_test_free(&t);
		free(text);
	}
	printf("gen_corpus: %d seeds in %s\n", written, argv[1]);
	return 0;
}
