/*
 * bpf-run - Spindle as a bpf_conformance "plugin".
 *
 *   bpf-run [--interp|--jit] [--no-verify] [MEMHEX]  < bytecode
 *
 * Reads raw little-endian 8-byte instructions on standard input.  MEMHEX,
 * if given, is the test memory in hex ("00 01 02" or "000102"): %r1 points
 * to a copy of it and %r2 holds its length; otherwise both are 0.  The
 * program goes through the kernel's pipeline (tools/bpf_env.h): load, link
 * (helper 5 = uBPF's "unwind"), verify, then the JIT (default) or the
 * interpreter in checking mode.  On success prints %r0 in hex and exits 0;
 * a refusal or an aborted run prints one line on stderr and exits 1.
 * --no-verify (interpreter only) runs unverified bytecode, for debugging.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/exec.h"
#include "tools/bpf_env.h"
#include "tools/toolkit.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex digits in pairs; blanks between bytes are allowed. */
static int parse_mem(const char *s, uint8_t **out, uint32_t *len)
{
	size_t cap = strlen(s) / 2 + 1;
	uint8_t *m = malloc(cap);
	uint32_t n = 0;

	if (!m)
		return -1;
	while (*s) {
		int hi, lo;

		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			s++;
			continue;
		}
		hi = hexval(s[0]);
		lo = s[1] ? hexval(s[1]) : -1;
		if (hi < 0 || lo < 0) {
			free(m);
			return -1;
		}
		m[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	*out = m;
	*len = n;
	return 0;
}

int main(int argc, char **argv)
{
	enum bpf_engine eng = BPF_ENGINE_JIT;
	bool verify = true, has_mem = false;
	uint8_t *mem = NULL, *memout = NULL;
	uint32_t memlen = 0, n;
	struct bpf_insn *insns = NULL;
	size_t len = 0;
	struct rt_prog *p = NULL;
	struct rt_run run = {0};
	char msg[1024];
	int a, rc = 1;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--interp")) {
			eng = BPF_ENGINE_INTERP;
		} else if (!strcmp(argv[a], "--jit")) {
			eng = BPF_ENGINE_JIT;
		} else if (!strcmp(argv[a], "--no-verify")) {
			verify = false;
		} else if (!has_mem && argv[a][0] != '-') {
			if (parse_mem(argv[a], &mem, &memlen)) {
				fprintf(stderr, "bpf-run: bad memory hex '%s'\n", argv[a]);
				return 2;
			}
			has_mem = true;
		} else {
			fprintf(stderr, "usage: bpf-run [--interp|--jit] [--no-verify] [MEMHEX] "
			                "< bytecode\n");
			return 2;
		}
	}
	if (!verify && eng == BPF_ENGINE_JIT) {
		fprintf(stderr,
		        "bpf-run: --no-verify needs --interp: the JIT runs verified code only\n");
		return 2;
	}

	insns = (struct bpf_insn *)tk_read_fp(stdin, &len);
	if (!insns) {
		fprintf(stderr, "bpf-run: %s\n",
		        errno == ENOMEM ? "out of memory" : strerror(errno));
		goto out;
	}
	if (len % BPF_INSN_SIZE) {
		fprintf(stderr,
		        "bpf-run: %zu bytes of bytecode is not a whole number of instructions\n",
		        len);
		goto out;
	}
	n = (uint32_t)(len / BPF_INSN_SIZE);

	if (bpf_env_prepare(insns, n, has_mem, memlen, verify, &p, msg, sizeof(msg))) {
		fprintf(stderr, "bpf-run: %s\n", msg);
		goto out;
	}
	if (bpf_env_run(p, eng, mem, memlen, has_mem, &run, &memout, msg, sizeof(msg))) {
		fprintf(stderr, "bpf-run: %s\n", msg);
		goto out;
	}
	/* The unwind helper ending the program is a normal end with r0 = 0. */
	if (run.status != RT_RUN_OK && run.status != RT_RUN_HELPER) {
		fprintf(stderr, "bpf-run: run aborted at insn %u: %s\n", run.pc,
		        bpf_env_status_name(run.status));
		goto out;
	}
	printf("%llx\n", (unsigned long long)run.r0);
	rc = 0;
out:
	rt_prog_free(p);
	free(memout);
	free(mem);
	free(insns);
	return rc;
}
