/*
 * asm_test.c - the conformance-syntax assembler and `.data` parser
 * (runtime/asm.h): exact encodings of every instruction form, label and
 * "exit" label resolution, and one error per kind of malformed input.
 */
#include "runtime/asm.h"
#include "tests/unit/check.h"

static int assemble(const char *text, struct bpf_insn *out, uint32_t max, char *err)
{
	struct bpf_insn *insns;
	uint32_t n;
	int rc = rt_asm(text, strlen(text), &insns, &n, err, 256);

	if (rc)
		return rc;
	if (n > max)
		n = max;
	memcpy(out, insns, n * sizeof(*insns));
	rt_free(insns);
	return (int)n;
}

/* One line -> its 8 bytes, written as the little-endian u64 the suite's
 * -- raw sections use. */
static uint64_t enc(const char *line)
{
	struct bpf_insn i[2];
	char err[256];
	uint64_t v = 0;

	if (assemble(line, i, 2, err) < 1) {
		printf("  '%s': %s\n", line, err);
		return 0xbad;
	}
	memcpy(&v, &i[0], 8);
	return v;
}

static void encodings(void)
{
	CHECK_EQ(enc("mov %r0, 1"), 0x00000001000000b7ull);
	CHECK_EQ(enc("mov32 %r1, %r2"), 0x00000000000021bcull);
	CHECK_EQ(enc("add %r3, -1"), 0xffffffff00000307ull);
	CHECK_EQ(enc("sdiv %r0, 3"), 0x0000000300010037ull);
	CHECK_EQ(enc("smod32 %r0, %r1"), 0x000000000001109cull);
	CHECK_EQ(enc("neg %r4"), 0x0000000000000487ull);
	CHECK_EQ(enc("be16 %r0"), 0x00000010000000dcull);
	CHECK_EQ(enc("le64 %r2"), 0x00000040000002d4ull);
	CHECK_EQ(enc("swap32 %r0"), 0x00000020000000d7ull);
	CHECK_EQ(enc("bswap16 %r0"), 0x00000010000000d7ull);
	CHECK_EQ(enc("movsx832 %r0, %r1"), 0x00000000000810bcull);
	CHECK_EQ(enc("movsx3264 %r0, %r1"), 0x00000000002010bfull);
	CHECK_EQ(enc("ldxh %r0, [%r1+2]"), 0x0000000000021069ull);
	CHECK_EQ(enc("ldxsb %r0, [%r10-1]"), 0x00000000ffffa091ull);
	CHECK_EQ(enc("ldxdw %r0, [%r1]"), 0x0000000000001079ull);
	CHECK_EQ(enc("stw [%r10-4], 0x11223344"), 0x11223344fffc0a62ull);
	CHECK_EQ(enc("stxb [%r1+0x2], %r3"), 0x0000000000023173ull);
	CHECK_EQ(enc("lock add32 [%r10-8], %r1"), 0x00000000fff81ac3ull);
	CHECK_EQ(enc("lock fetch xor [%r10-8], %r1"), 0x000000a1fff81adbull);
	CHECK_EQ(enc("lock xchg [%r0], %r1"), 0x000000e1000010dbull);
	CHECK_EQ(enc("lock cmpxchg32 [%r0+4], %r1"), 0x000000f1000410c3ull);
	CHECK_EQ(enc("jeq %r1, 0xb, +3"), 0x0000000b00030115ull);
	CHECK_EQ(enc("jslt32 %r1, %r2, -2"), 0x00000000fffe21ceull);
	CHECK_EQ(enc("ja +5"), 0x0000000000050005ull);
	CHECK_EQ(enc("ja32 +70000"), 0x0001117000000006ull);
	CHECK_EQ(enc("call 5"), 0x0000000500000085ull);
	CHECK_EQ(enc("call %r2"), 0x000000000000028dull);
	CHECK_EQ(enc("exit"), 0x0000000000000095ull);
	CHECK_EQ(enc("mov %r0, 0xffffffff"), 0xffffffff000000b7ull);
	CHECK_EQ(enc("mov %r0, -2147483648"), 0x80000000000000b7ull);
}

static void lddw_and_labels(void)
{
	struct bpf_insn i[16];
	char err[256];
	int n;

	n = assemble("lddw %r1, 0x1122334455667788\nexit", i, 16, err);
	CHECK_EQ(n, 3);
	CHECK_EQ(i[0].code, 0x18);
	CHECK_EQ(i[0].dst, 1);
	CHECK_EQ((uint32_t)i[0].imm, 0x55667788u);
	CHECK_EQ(i[1].code, 0);
	CHECK_EQ((uint32_t)i[1].imm, 0x11223344u);

	/* Labels before and after, several per program, label on its own
	 * line or before an instruction, and the implicit "exit" label. */
	n = assemble("start: mov %r0, 0\n"
	             "jeq %r0, 0, fwd # comment\n"
	             "ja start\n"
	             "fwd:\n"
	             "jne %r0, 1, exit\n"
	             "call local f\n"
	             "exit\n"
	             "f:\n"
	             "exit\n",
	             i, 16, err);
	CHECK_EQ(n, 7);
	CHECK_EQ(i[1].off, 1);
	CHECK_EQ(i[2].off, -3);
	CHECK_EQ(i[3].off, 1); /* "exit" = the first exit insn (index 5) */
	CHECK_EQ(i[4].src, BPF_PSEUDO_CALL);
	CHECK_EQ(i[4].imm, 1);
	/* A defined label called exit wins over the implicit one. */
	n = assemble("ja exit\nexit\nexit:\nmov %r0, 1\nexit", i, 16, err);
	CHECK_EQ(n, 4);
	CHECK_EQ(i[0].off, 1);
	n = assemble("ja32 far\nfar:\nexit", i, 16, err);
	CHECK_EQ(i[0].code, 0x06);
	CHECK_EQ(i[0].imm, 0);
}

static void errors(void)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
	    {"mov %r0, 1\nfrob %r1", "line 2: unknown mnemonic 'frob'"},
	    {"mov %r16, 1", "bad register"},
	    {"mov %r0", "takes 2 operands, got 1"},
	    {"mov %r0, 1, 2", "takes 2 operands"},
	    {"mov %r0, 0x100000000", "bad register or immediate"},
	    {"mov %r0, 12abc", "bad register or immediate"},
	    {"ja nowhere\nexit", "undefined label 'nowhere'"},
	    {"a:\na:\nexit", "duplicate label 'a'"},
	    {"ldxw %r0, [%r1+70000]", "bad memory operand"},
	    {"ldxw %r0, %r1", "bad memory operand"},
	    {"ldxw %r0, [%r1+2", "unbalanced"},
	    {"ldxsdw %r0, [%r1]", "unknown mnemonic"},
	    {"lock fetch xchg [%r1], %r2", "unknown atomic operation"},
	    {"lock add [%r1]", "lock takes"},
	    {"be24 %r0", "unknown mnemonic"},
	    {"movsx816 %r0, %r1", "unknown mnemonic"},
	    {"jeq %r0, 1, +40000", "bad jump offset"},
	    {"call", "takes 1 operand"},
	    {"", "no instructions"},
	    {"# only a comment\n", "no instructions"},
	    {"lddw %r0, 0x10000000000000000", "bad 64-bit immediate"},
	    {"1abc:\nexit", "bad label name"},
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct bpf_insn *insns = NULL;
		uint32_t n = 0;
		char err[256] = "";

		CHECK_EQ(rt_asm(cases[k].text, strlen(cases[k].text), &insns, &n, err, sizeof(err)),
		         -RT_EINVAL);
		CHECK(insns == NULL);
		if (!strstr(err, cases[k].msg))
			printf("  case %zu: got '%s', want '%s'\n", k, err, cases[k].msg);
		CHECK(strstr(err, cases[k].msg) != NULL);
	}
	/* A jump too far for 16 bits is an error, not a wrapped offset. */
	{
		size_t cap = 40000 * 12 + 64, len = 0;
		char *big = malloc(cap);
		struct bpf_insn *insns = NULL;
		uint32_t n;
		char err[256];
		int k2;

		len += (size_t)snprintf(big + len, cap - len, "ja end\n");
		for (k2 = 0; k2 < 40000; k2++)
			len += (size_t)snprintf(big + len, cap - len, "mov %%r0, 0\n");
		len += (size_t)snprintf(big + len, cap - len, "end:\nexit\n");
		CHECK_EQ(rt_asm(big, len, &insns, &n, err, sizeof(err)), -RT_EINVAL);
		CHECK(strstr(err, "16-bit range") != NULL);
		free(big);
	}
}

static void data_files(void)
{
	const char *ok = "# header\n-- asm\nmov %r0, %r2\nexit\n-- mem\n00 01\n0203\n"
	                 "-- raw\n0x00000000000020bf\n0x0000000000000095\n-- result\n0x4\n"
	                 "-- no register offset\nwhatever\n";
	const char *err_test = "-- asm\ncall %r2\nexit\n-- error\nunsupported\n";
	struct rt_asm_test t;
	char err[256];

	CHECK_EQ(rt_asm_parse_test(ok, strlen(ok), &t, err, sizeof(err)), 0);
	CHECK(t.asm_text != NULL && strncmp(t.asm_text, "mov %r0, %r2", 12) == 0);
	CHECK(t.has_mem);
	CHECK_EQ(t.memlen, 4);
	CHECK_EQ(t.mem[3], 3);
	CHECK_EQ(t.nraw, 2);
	CHECK_EQ(t.raw[1].code, 0x95);
	CHECK(t.has_result);
	CHECK_EQ(t.result, 4);
	CHECK(!t.expect_error);
	rt_asm_test_free(&t);

	CHECK_EQ(rt_asm_parse_test(err_test, strlen(err_test), &t, err, sizeof(err)), 0);
	CHECK(t.expect_error);
	CHECK(!t.has_result);
	rt_asm_test_free(&t);

	CHECK_EQ(rt_asm_parse_test("-- asm\nexit\n", 12, &t, err, sizeof(err)), -RT_EINVAL);
	CHECK(strstr(err, "no -- result") != NULL);
	CHECK_EQ(rt_asm_parse_test("-- result\n0x1\n", 14, &t, err, sizeof(err)), -RT_EINVAL);
	CHECK_EQ(
	    rt_asm_parse_test("-- asm\nexit\n-- mem\n0g\n-- result\n1\n", 33, &t, err, sizeof(err)),
	    -RT_EINVAL);
	CHECK(strstr(err, "-- mem") != NULL);
	CHECK_EQ(rt_asm_parse_test("-- asm\nexit\n-- mem\n012\n-- result\n1\n", 34, &t, err,
	                           sizeof(err)),
	         -RT_EINVAL);
	CHECK_EQ(rt_asm_parse_test("-- asm\nexit\n-- result\nzz\n", 25, &t, err, sizeof(err)),
	         -RT_EINVAL);
	CHECK_EQ(rt_asm_parse_test("-- raw\n-5\n-- result\n1\n", 22, &t, err, sizeof(err)),
	         -RT_EINVAL);
}

int main(void)
{
	RUN(encodings);
	RUN(lddw_and_labels);
	RUN(errors);
	RUN(data_files);
	return check_done();
}
