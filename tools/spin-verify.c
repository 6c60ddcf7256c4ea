/*
 * spin-verify - the kernel's verifier verdict on the host.
 *
 *   spin-verify FILE.o [-v] [--entry NAME] [--max-states N]
 *
 * Loads a clang BPF object (rt_prog_load_elf), links it against the sample
 * embedder (tests/ext/ext_env.h: its procedures and its entry convention by
 * section name, ext/ctxNN, ext/guardNN, ext/pkt, ...), and verifies every
 * entry function the embedder recognises, or only NAME.  Prints one line per
 * entry: "FILE: NAME: accepted (...)" or the verifier's message, which reads
 * "SRC:LINE: error: insn N: ..." when the object has line info (-g).
 * -v also prints the verifier's log.
 *
 * Exit status: 0 every entry accepted; 1 some entry rejected (or an import
 * the embedder does not offer); 2 unreadable or malformed object, or no
 * entry to verify.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/prog.h"
#include "runtime/verify.h"
#include "tests/ext/ext_env.h"
#include "tools/toolkit.h"

static void usage(void)
{
	fprintf(stderr, "usage: spin-verify FILE.o [-v] [--entry NAME] [--max-states N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *only = NULL;
	bool verbose = false;
	uint32_t max_states = 0;
	struct rt_prog *p = NULL;
	char err[512] = "";
	size_t len;
	void *img;
	int rc, status = 0, nentries = 0;

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-v"))
			verbose = true;
		else if (!strcmp(argv[a], "--entry") && a + 1 < argc)
			only = argv[++a];
		else if (!strcmp(argv[a], "--max-states") && a + 1 < argc)
			max_states = (uint32_t)strtoul(argv[++a], NULL, 0);
		else if (argv[a][0] == '-' || path)
			usage();
		else
			path = argv[a];
	}
	if (!path)
		usage();
	img = tk_read_file(path, &len);
	if (!img) {
		fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(errno));
		return 2;
	}
	rc = rt_prog_load_elf(img, len, &p, err, sizeof(err));
	free(img);
	if (rc) {
		fprintf(stderr, "%s: error: %s\n", path, err);
		return 2;
	}
	rc = rt_prog_link(p, &ext_env_embed, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: error: %s\n", path, err);
		rt_prog_free(p);
		return rc == -RT_ENOENT || rc == -RT_EUNSUPP ? 1 : 2;
	}
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		const struct rt_func *f = &p->funcs[i];
		struct rt_entry entry;
		struct rt_verify_opts opts = {.max_states = max_states};
		struct rt_verify_result res;
		static char log[1 << 20];
		struct timespec t0, t1;

		if (only ? strcmp(f->name, only) != 0 : !f->entry)
			continue;
		if (!ext_env_entry_for(f->section, &entry)) {
			if (!only)
				continue;
			fprintf(stderr,
			        "%s: error: %s is in section %s, which the sample embedder does "
			        "not know as an entry (ext/ctxNN, ext/ctxNN_rw, ext/guardNN, "
			        "ext/pkt, ext/scalar, ext/none)\n",
			        path, f->name, f->section);
			rt_prog_free(p);
			return 2;
		}
		nentries++;
		if (verbose) {
			opts.log = log;
			opts.loglen = sizeof(log);
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = rt_verify(p, i, &entry, &opts, &res);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (verbose)
			fputs(log, stdout);
		double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (rc == 0) {
			printf("%s: %s: accepted (%u insns processed, %u states, stack %u bytes, "
			       "%.2f ms)\n",
			       path, f->name, res.insns_processed, res.states, res.max_stack, ms);
		} else {
			const char *m = res.msg;
			/* A message without a source position gets the object's name. */
			if (!strncmp(m, "error:", 6))
				fprintf(stderr, "%s: %s: %s\n", path, f->name, m);
			else
				fprintf(stderr, "%s\n", m);
			status = rc == -RT_EREJECT ? (status ? status : 1) : 2;
		}
	}
	rt_prog_free(p);
	if (!nentries) {
		fprintf(stderr, "%s: error: %s\n", path,
		        only ? "no such function" : "no entry function in an ext/... section");
		return 2;
	}
	return status;
}
