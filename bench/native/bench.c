/*
 * bench.c - host-native benchmarks of the extension runtime (bench part
 * "native", mk/bench-native.mk).
 *
 * Everything here runs the same machine code the kernel would run, in user
 * mode on the host, so it is measured in real cycles (rdtsc fenced with
 * lfence) rather than under QEMU:
 *
 *   (a) JIT-compiled extension code against the same C compiled by gcc -O2
 *       (bench/native/kernels.c, built both ways): checksum, hash, parse;
 *   (b) calls across the boundary: JIT'd code calling a C function against
 *       C calling it directly, and C calling a JIT'd entry against C calling
 *       the equivalent C function;
 *   (c) verify + JIT time of a generated 10,000-instruction program.
 *
 * Each figure is the median of many timed rounds (each round many calls),
 * with the 10th/90th percentiles as its spread; every ratio divides two
 * figures measured in this same run.  Goals are printed beside the figures
 * but never asserted: timing is reported, not tested.
 *
 * Usage: bench-native KERNELS.bpf.o OUT.json
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/native/kernels.h"
#include "runtime/exec.h"
#include "runtime/prog.h"
#include "runtime/verify.h"
#include "tools/toolkit.h"

#define ROUNDS 42
/* JIT'd code is measured as COPIES separately compiled copies at different
 * addresses, round-robin: how branch predictors alias depends on where code
 * lands (a given copy of the parse kernel measures anywhere in 22..27
 * cycles), and one copy would report one draw of that lottery. */
#define COPIES 7
#define BUDGET (1ull << 40) /* a real budget: the metering code runs */

/* ---- the native side ------------------------------------------------- */

/* The function extensions import: noipa so gcc cannot see through it. */
__attribute__((noipa)) uint64_t bench_import(uint64_t a, uint64_t b)
{
	return a * 3 + b;
}

/* What C calling bench_import directly looks like (8 calls, as bench_calls
 * makes). */
__attribute__((noipa)) static uint64_t direct_calls(uint64_t x)
{
	x = bench_import(x, 1);
	x = bench_import(x, 2);
	x = bench_import(x, 3);
	x = bench_import(x, 4);
	x = bench_import(x, 5);
	x = bench_import(x, 6);
	x = bench_import(x, 7);
	x = bench_import(x, 8);
	return x;
}

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
	return (uint64_t)hi << 32 | lo;
}

struct stat3 {
	double median, p10, p90;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct stat3 stats(double *v, int n)
{
	struct stat3 s;

	qsort(v, (size_t)n, sizeof(double), cmp_double);
	s.median = v[n / 2];
	s.p10 = v[n / 10];
	s.p90 = v[9 * n / 10];
	return s;
}

/* Something the timed loops feed results into, so nothing is dead. */
static volatile uint64_t sink;

typedef uint64_t (*native_fn)(const void *);

/*
 * What one timed round runs: a native function, a JIT'd entry, or C's
 * direct calls, `iters` times.  The two sides of a comparison alternate
 * round by round, so a neighbour's load on this shared machine hits both.
 */
struct subject {
	native_fn native;
	rt_jit_fn jit[COPIES];
	int njit;
	bool plain; /* call jit[] as the C functions rt_jit_plain says they are */
	bool direct_calls;
	const void *ctx;
};

static double time_round(const struct subject *su, int iters, int round)
{
	uint64_t acc = 0, t0 = tsc();
	int k;

	if (su->njit && su->plain) {
		uint64_t (*fn)(uintptr_t) =
		    (uint64_t(*)(uintptr_t))(uintptr_t)su->jit[round % su->njit];

		for (k = 0; k < iters; k++)
			acc += fn((uintptr_t)su->ctx);
	} else if (su->njit) {
		rt_jit_fn fn = su->jit[round % su->njit];

		for (k = 0; k < iters; k++)
			acc += fn((uintptr_t)su->ctx, 0, 0, 0, 0, BUDGET).r0;
	} else if (su->direct_calls)
		for (k = 0; k < iters; k++)
			acc += direct_calls(((const struct bench_arg *)su->ctx)->x + (uint64_t)k);
	else
		for (k = 0; k < iters; k++)
			acc += su->native(su->ctx);
	sink += acc;
	return (double)(tsc() - t0) / iters;
}

static void time_pair(const struct subject *a, const struct subject *b, int iters, struct stat3 *sa,
                      struct stat3 *sb)
{
	double va[ROUNDS], vb[ROUNDS];
	int r;

	for (r = 0; r < COPIES; r++) { /* warm up caches and predictors */
		time_round(a, iters, r);
		time_round(b, iters, r);
	}
	for (r = 0; r < ROUNDS; r++) {
		va[r] = time_round(a, iters, r);
		vb[r] = time_round(b, iters, r);
	}
	*sa = stats(va, ROUNDS);
	*sb = stats(vb, ROUNDS);
}

/* ---- loading extensions ---------------------------------------------- */

static const struct rt_sig sig_import = {
    .name = "bench_import",
    .fn = (void *)bench_import,
    .nargs = 2,
    .args = {{.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}},
    .ret = {.kind = RT_RET_SCALAR},
    .flags = RT_SIG_PURE,
};

static const struct rt_sig *bench_lookup(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "bench_import") == 0 ? &sig_import : NULL;
}

static const struct rt_sig *bench_helper(void *arg, int32_t id)
{
	(void)arg, (void)id;
	return NULL;
}

static const struct rt_embed bench_embed = {.lookup = bench_lookup, .helper = bench_helper};

struct loaded {
	struct rt_prog *p;
	struct rt_jit *j;
	rt_jit_fn fn;
	uint32_t idx; /* the entry's function index */
	bool verified;
	char why[512];
	size_t code;
};

/*
 * SPINDLE_JIT_DUMP=DIR: write each JIT'd block to DIR/NAME.bin (the last
 * copy loaded wins) and print where its entry starts, for
 *     objdump -D -b binary -mi386:x86-64 --adjust-vma=0 DIR/NAME.bin
 */
static void dump_code(const char *name, const struct loaded *l)
{
	const char *dir = getenv("SPINDLE_JIT_DUMP");
	char path[512];
	FILE *f;

	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return;
	}
	fwrite(rt_jit_code(l->j), 1, l->code, f);
	fclose(f);
	fprintf(
	    stderr, "bench-native: %s: %zu bytes at %p, entry at +%#lx -> %s\n", name, l->code,
	    rt_jit_code(l->j),
	    (unsigned long)((const uint8_t *)(uintptr_t)l->fn - (const uint8_t *)rt_jit_code(l->j)),
	    path);
}

/* Load the object, verify function `name` with a context of ctx_size bytes,
 * JIT it.  A verifier refusal is reported, and the code still measured. */
static int load_kernel(const void *elf, size_t len, const char *name, uint32_t ctx_size,
                       struct loaded *out)
{
	const struct rt_func *f;
	struct rt_entry entry;
	struct rt_verify_result res;
	char err[512] = "";
	uint32_t idx;

	memset(out, 0, sizeof(*out));
	if (rt_prog_load_elf(elf, len, &out->p, err, sizeof(err)) ||
	    rt_prog_link(out->p, &bench_embed, err, sizeof(err))) {
		fprintf(stderr, "bench-native: %s: %s\n", name, err);
		return -1;
	}
	f = rt_prog_find_func(out->p, name);
	if (!f) {
		fprintf(stderr, "bench-native: no function %s in the object\n", name);
		return -1;
	}
	idx = (uint32_t)(f - out->p->funcs);
	memset(&entry, 0, sizeof(entry));
	entry.args[0].kind = RT_ARG_CONST_MEM;
	entry.args[0].size = ctx_size;
	memset(&res, 0, sizeof(res));
	out->verified = rt_verify(out->p, idx, &entry, NULL, &res) == 0;
	if (!out->verified)
		snprintf(out->why, sizeof(out->why), "%s", res.msg);
	if (rt_jit_compile(out->p, &out->j, err, sizeof(err))) {
		fprintf(stderr, "bench-native: jit %s: %s\n", name, err);
		return -1;
	}
	out->fn = rt_jit_entry(out->j, idx);
	out->idx = idx;
	out->code = rt_jit_code_size(out->j);
	dump_code(name, out);
	return 0;
}

static void unload(struct loaded *l)
{
	rt_jit_free(l->j);
	rt_prog_free(l->p);
}

/* COPIES independent loads of the same kernel, their entries in su. */
static int load_copies(const void *elf, size_t len, const char *name, uint32_t ctx_size,
                       struct loaded *ls, struct subject *su)
{
	int k;

	for (k = 0; k < COPIES; k++) {
		if (load_kernel(elf, len, name, ctx_size, &ls[k])) {
			while (k--)
				unload(&ls[k]);
			return -1;
		}
		su->jit[k] = ls[k].fn;
	}
	su->njit = COPIES;
	return 0;
}

static void unload_copies(struct loaded *ls)
{
	int k;

	for (k = 0; k < COPIES; k++)
		unload(&ls[k]);
}

/* ---- results ----------------------------------------------------------- */

struct result {
	const char *name, *unit, *what, *baseline_name;
	int rounds;
	struct stat3 spindle, baseline;
	bool has_baseline;
	double goal_ratio; /* 0: no goal */
	bool verified;
	const char *note;
};

static struct result results[16];
static int nresults;

static void add(const char *name, const char *unit, const char *what, struct stat3 s,
                const struct stat3 *base, const char *base_name, double goal_ratio, bool verified,
                const char *note, int rounds)
{
	struct result *r = &results[nresults++];

	r->name = name;
	r->baseline_name = base_name;
	r->rounds = rounds;
	r->unit = unit;
	r->what = what;
	r->spindle = s;
	r->has_baseline = base != NULL;
	if (base)
		r->baseline = *base;
	r->goal_ratio = goal_ratio;
	r->verified = verified;
	r->note = note;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

/* The part schema of bench/report.py: name, unit, spindle (median),
 * p10/p90/n, baseline (+ its name) and ratio, section "host", note. */
static int write_json(const char *path)
{
	FILE *f = fopen(path, "w");
	int k;

	if (!f) {
		perror(path);
		return -1;
	}
	fprintf(f, "[\n");
	for (k = 0; k < nresults; k++) {
		const struct result *r = &results[k];
		char note[512];

		if (r->goal_ratio > 0) {
			char g[64];

			snprintf(g, sizeof(g), "%s%.2f", r->has_baseline ? "ratio <= " : "< ",
			         r->goal_ratio);
			snprintf(note, sizeof(note), "%s; goal %s%s%s%s", r->what, g,
			         r->verified ? "" : "; NOT VERIFIED", r->note ? "; " : "",
			         r->note ? r->note : "");
		} else {
			snprintf(note, sizeof(note), "%s%s%s%s", r->what,
			         r->verified ? "" : "; NOT VERIFIED", r->note ? "; " : "",
			         r->note ? r->note : "");
		}
		fprintf(f, "  {\"name\": ");
		json_str(f, r->name);
		fprintf(f, ", \"section\": \"host\", \"unit\": ");
		json_str(f, r->unit);
		fprintf(f, ", \"spindle\": %.2f, \"p10\": %.2f, \"p90\": %.2f, \"n\": %d",
		        r->spindle.median, r->spindle.p10, r->spindle.p90, r->rounds);
		if (r->has_baseline) {
			fprintf(f, ", \"baseline\": %.2f, \"baseline_name\": ", r->baseline.median);
			json_str(f, r->baseline_name);
			fprintf(f, ", \"ratio\": %.3f", r->spindle.median / r->baseline.median);
		}
		fprintf(f, ", \"note\": ");
		json_str(f, note);
		fprintf(f, "}%s\n", k + 1 < nresults ? "," : "");
	}
	fprintf(f, "]\n");
	return fclose(f);
}

static void print_table(void)
{
	int k;

	printf("\n%-22s %-7s %12s %12s %8s %6s  %s\n", "benchmark", "unit", "spindle", "baseline",
	       "ratio", "goal", "what");
	for (k = 0; k < nresults; k++) {
		const struct result *r = &results[k];
		char base[32] = "-", ratio[32] = "-", goal[16] = "-";

		if (r->has_baseline) {
			snprintf(base, sizeof(base), "%.1f", r->baseline.median);
			snprintf(ratio, sizeof(ratio), "%.2fx",
			         r->spindle.median / r->baseline.median);
		}
		if (r->goal_ratio > 0)
			snprintf(goal, sizeof(goal), "%s%.2f", r->has_baseline ? "<=" : "<",
			         r->goal_ratio);
		printf("%-22s %-7s %12.1f %12s %8s %6s  %s%s\n", r->name, r->unit,
		       r->spindle.median, base, ratio, goal, r->what,
		       r->verified ? "" : " [NOT VERIFIED]");
	}
	printf("(medians of %d rounds; spreads p10..p90 are in the JSON)\n", ROUNDS);
}

/* ---- (c) a generated 10,000-instruction program ------------------------ */

#define GEN_BLOCKS 1000

static struct bpf_insn *gen_program(uint32_t *n)
{
	struct bpf_insn *v = calloc(GEN_BLOCKS * 10 + 2, sizeof(*v));
	uint32_t i = 0, b;

	if (!v)
		return NULL;
	v[i++] = (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst = 0, .imm = 0};
	for (b = 0; b < GEN_BLOCKS; b++) {
		/* r2 = ctx word; r3 = f(r2) clamped to 1000; r0 += r3; spill r0 */
		v[i++] = (struct bpf_insn){.code = BPF_LDX | BPF_MEM | BPF_W,
		                           .dst = 2,
		                           .src = 1,
		                           .off = (int16_t)((b % 16) * 4)};
		v[i++] = (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst = 3, .src = 2};
		v[i++] = (struct bpf_insn){
		    .code = BPF_ALU64 | BPF_MUL | BPF_K, .dst = 3, .imm = (int32_t)(3 + b % 7)};
		v[i++] = (struct bpf_insn){
		    .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst = 3, .imm = (int32_t)b};
		v[i++] =
		    (struct bpf_insn){.code = BPF_ALU64 | BPF_AND | BPF_K, .dst = 3, .imm = 0xffff};
		v[i++] = (struct bpf_insn){
		    .code = BPF_JMP | BPF_JLE | BPF_K, .dst = 3, .off = 1, .imm = 1000};
		v[i++] =
		    (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst = 3, .imm = 1000};
		v[i++] = (struct bpf_insn){.code = BPF_ALU64 | BPF_ADD | BPF_X, .dst = 0, .src = 3};
		v[i++] = (struct bpf_insn){.code = BPF_STX | BPF_MEM | BPF_DW,
		                           .dst = 10,
		                           .src = 0,
		                           .off = (int16_t)(-8 * (int)(b % 8 + 1))};
		v[i++] = (struct bpf_insn){.code = BPF_ALU64 | BPF_XOR | BPF_X, .dst = 0, .src = 2};
	}
	v[i++] = (struct bpf_insn){.code = BPF_JMP | BPF_EXIT};
	*n = i;
	return v;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void bench_compile_time(void)
{
	static char note[320];
	double tv[11], tj[11], tt[11];
	struct stat3 sv, sj, st;
	struct bpf_insn *insns;
	uint32_t n = 0;
	bool verified = true;
	int r;

	insns = gen_program(&n);
	if (!insns)
		return;
	for (r = 0; r < 11; r++) {
		struct rt_prog *p = NULL;
		struct rt_jit *j = NULL;
		struct rt_entry entry;
		struct rt_verify_result res;
		char err[256];
		double t0, t1, t2;

		if (rt_prog_from_raw(insns, n, &p, err, sizeof(err))) {
			fprintf(stderr, "bench-native: generated program: %s\n", err);
			free(insns);
			return;
		}
		memset(&entry, 0, sizeof(entry));
		entry.args[0].kind = RT_ARG_CONST_MEM;
		entry.args[0].size = 64;
		memset(&res, 0, sizeof(res));
		t0 = now_us();
		if (rt_verify(p, 0, &entry, NULL, &res) != 0) {
			verified = false;
			snprintf(note, sizeof(note), "verifier refused: %.280s", res.msg);
		}
		t1 = now_us();
		if (rt_jit_compile(p, &j, err, sizeof(err)))
			fprintf(stderr, "bench-native: jit of generated program: %s\n", err);
		t2 = now_us();
		tv[r] = (t1 - t0) / 1000;
		tj[r] = (t2 - t1) / 1000;
		tt[r] = (t2 - t0) / 1000;
		rt_jit_free(j);
		rt_prog_free(p);
	}
	free(insns);
	sv = stats(tv, 11);
	sj = stats(tj, 11);
	st = stats(tt, 11);
	add("verify_jit_10k", "ms", "verify + JIT a 10,000-insn program", st, NULL, NULL, 20,
	    verified, verified ? NULL : note, 11);
	add("verify_10k", "ms", "verify alone", sv, NULL, NULL, 0, verified, NULL, 11);
	add("jit_10k", "ms", "JIT alone", sj, NULL, NULL, 0, true, NULL, 11);
}

/* ---- main ---------------------------------------------------------------- */

static void fill_packet(struct bench_pkt *p)
{
	static const uint8_t hdr[42] = {
	    /* Ethernet */
	    0,
	    1,
	    2,
	    3,
	    4,
	    5,
	    6,
	    7,
	    8,
	    9,
	    10,
	    11,
	    0x08,
	    0x00,
	    /* IPv4: v4 ihl5, len 28+14 payload, id, DF, ttl 64, UDP, csum, src, dst */
	    0x45,
	    0x00,
	    0x00,
	    0x2a,
	    0x12,
	    0x34,
	    0x40,
	    0x00,
	    0x40,
	    0x11,
	    0x00,
	    0x00,
	    10,
	    0,
	    0,
	    1,
	    10,
	    0,
	    0,
	    2,
	    /* UDP: sport 1234, dport 7 (echo), len 22, csum 0 */
	    0x04,
	    0xd2,
	    0x00,
	    0x07,
	    0x00,
	    0x16,
	    0x00,
	    0x00,
	};
	uint32_t sum = 0, i;

	memset(p, 0, sizeof(*p));
	memcpy(p->data, hdr, sizeof(hdr));
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)p->data[14 + i] << 8 | p->data[15 + i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	p->data[24] = (uint8_t)(sum >> 8);
	p->data[25] = (uint8_t)sum;
	p->len = 14 + 0x2a;
}

int main(int argc, char **argv)
{
	static struct bench_buf buf;
	static struct bench_key key;
	static struct bench_pkt pkt;
	static struct bench_arg arg = {41};
	static char notes[4][300];
	static const struct {
		const char *fn, *name, *what;
		native_fn native;
		const void *ctx;
		uint32_t size;
		int iters;
	} kernels[] = {
	    {"bench_csum", "jit_csum_1500", "Internet checksum over 1500 bytes",
	     (native_fn)(void (*)(void))bench_csum, &buf, sizeof(buf), 2000},
	    {"bench_hash", "jit_fnv1a_40", "FNV-1a over a 40-byte key",
	     (native_fn)(void (*)(void))bench_hash, &key, sizeof(key), 20000},
	    {"bench_parse", "jit_parse_eth_ip_udp", "Ethernet+IPv4+UDP validation",
	     (native_fn)(void (*)(void))bench_parse, &pkt, sizeof(pkt), 20000},
	};
	static struct loaded l[COPIES];
	size_t len;
	void *elf;
	unsigned k;
	int bad = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-native KERNELS.bpf.o OUT.json\n");
		return 2;
	}
	elf = tk_read_file(argv[1], &len);
	if (!elf) {
		perror(argv[1]);
		return 1;
	}
	for (k = 0; k < BENCH_CSUM_WORDS; k++)
		buf.w[k] = (uint16_t)(k * 2654435761u >> 7);
	for (k = 0; k < BENCH_KEY_LEN; k++)
		key.b[k] = (uint8_t)(k * 37 + 11);
	fill_packet(&pkt);

	/* (a) compute kernels: JIT vs gcc -O2. */
	for (k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
		struct stat3 sn, sj;
		uint64_t rn, rj;

		struct subject a = {.native = kernels[k].native, .ctx = kernels[k].ctx};
		struct subject b = {.ctx = kernels[k].ctx};

		if (load_copies(elf, len, kernels[k].fn, kernels[k].size, l, &b)) {
			bad = 1;
			continue;
		}
		rn = kernels[k].native(kernels[k].ctx);
		rj = l[0].fn((uintptr_t)kernels[k].ctx, 0, 0, 0, 0, BUDGET).r0;
		if (rn != rj || rn == 0) {
			fprintf(stderr, "bench-native: %s: JIT result %#llx, gcc result %#llx\n",
			        kernels[k].fn, (unsigned long long)rj, (unsigned long long)rn);
			bad = 1;
		}
		time_pair(&b, &a, kernels[k].iters, &sj, &sn);
		if (!l[0].verified)
			snprintf(notes[k], sizeof(notes[k]), "verifier refused: %.260s", l[0].why);
		add(kernels[k].name, "cycles", kernels[k].what, sj, &sn, "gcc -O2", 1.25,
		    l[0].verified, l[0].verified ? NULL : notes[k], ROUNDS);
		unload_copies(l);
	}

	/* (b) calls across the boundary. */
	{
		struct subject a = {.direct_calls = true, .ctx = &arg};
		struct subject b = {.ctx = &arg};
		struct stat3 sd, sj;

		if (load_copies(elf, len, "bench_calls", sizeof(arg), l, &b) == 0) {
			if (l[0].fn((uintptr_t)&arg, 0, 0, 0, 0, BUDGET).r0 !=
			    direct_calls(arg.x)) {
				fprintf(stderr, "bench-native: bench_calls: wrong result\n");
				bad = 1;
			}
			time_pair(&b, &a, 20000, &sj, &sd);
			add("jit_calls_c_x8", "cycles",
			    "JIT'd code making 8 calls into C vs C making them", sj, &sd,
			    "direct C calls", 1.2, l[0].verified, NULL, ROUNDS);
			unload_copies(l);
		} else {
			bad = 1;
		}
	}
	{
		struct subject a = {.native = (native_fn)(void (*)(void))bench_inc, .ctx = &arg};
		struct subject b = {.ctx = &arg};
		struct stat3 sn, sj;

		if (load_copies(elf, len, "bench_inc", sizeof(arg), l, &b) == 0) {
			time_pair(&b, &a, 50000, &sj, &sn);
			add("c_calls_jit_entry", "cycles",
			    "C calling a JIT'd entry vs the same C function", sj, &sn, "C function",
			    1.2, l[0].verified, NULL, ROUNDS);
			/* The same entry through rt_jit_plain: a plain
			 * function called as the C function it is. */
			b.plain = true;
			for (k = 0; k < COPIES; k++)
				if (!rt_jit_plain(l[k].j, l[k].idx))
					b.plain = false;
			if (b.plain) {
				for (k = 0; k < COPIES; k++)
					b.jit[k] = (rt_jit_fn)(uintptr_t)l[k].fn;
				time_pair(&b, &a, 50000, &sj, &sn);
				add("c_calls_jit_plain", "cycles",
				    "C calling a plain JIT'd entry as a C function (rt_jit_plain)",
				    sj, &sn, "C function", 1.2, l[0].verified, NULL, ROUNDS);
			}
			unload_copies(l);
		} else {
			bad = 1;
		}
	}

	/* (c) verify + JIT throughput. */
	bench_compile_time();

	print_table();
	free(elf);
	if (write_json(argv[2]))
		return 1;
	return bad;
}
