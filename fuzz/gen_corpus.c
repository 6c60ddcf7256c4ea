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

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		*len = (size_t)n;
	}
	return buf;
}

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
		const char *base = strrchr(argv[k], '/') ? strrchr(argv[k], '/') + 1 : argv[k];
		char *text = read_all(argv[k], &len);
		FILE *f;

		if (!text || rt_asm_parse_test(text, len, &t, err, sizeof(err))) {
			free(text);
			continue;
		}
		if (t.raw) {
			insns = rt_alloc(sizeof(*insns) * (t.nraw ? t.nraw : 1));
			if (insns)
				memcpy(insns, t.raw, sizeof(*insns) * t.nraw);
			n = t.nraw;
		} else if (!t.asm_text ||
		           rt_asm(t.asm_text, t.asm_len, &insns, &n, err, sizeof(err))) {
			insns = NULL;
		}
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
