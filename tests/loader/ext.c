/*
 * ext.c - the loader tests' reference extension: everything the loader must
 * handle in clang's output (tests/unit/loader_test.c).  ext.elf is this file
 * compiled by `make loader-objects` (clang-19 -O2 -g -target bpf -mcpu=v3),
 * committed so that the corruption corpus in tests/loader/bad/ does not
 * depend on the installed clang; regenerate the corpus after rebuilding it
 * (see mk/runtime.mk).
 *   two imports (one called twice), .data/.rodata/.bss globals, a static
 *   global, a string constant (.rodata.str1.1), a static helper in .text
 *   called from two handler sections, a same-section call, a loop.
 */
typedef unsigned long u64;

extern u64 kx_log(const char *msg, u64 len);
extern u64 kx_now(void);

u64 counter = 7;                   /* .data */
const u64 table[4] = {1, 2, 3, 5}; /* .rodata */
u64 scratch[2];                    /* .bss */
static u64 hidden;                 /* .bss, static: section symbol + offset */
char _license[] __attribute__((section("license"))) = "GPL";

static __attribute__((noinline)) u64 mix(u64 a, u64 b)
{
	return a * 31 + b;
}

static __attribute__((noinline)) u64 sum_table(u64 n)
{
	u64 s = 0;

	for (u64 i = 0; i < n && i < 4; i++)
		s += table[i];
	return mix(s, hidden);
}

__attribute__((section("handler/net.udp"))) u64 on_udp(u64 *ctx)
{
	hidden += ctx[0];
	scratch[1] = kx_now();
	kx_log("udp", 3);
	return mix(counter++, sum_table(ctx[1]));
}

__attribute__((section("handler/timer"))) u64 on_timer(void)
{
	kx_log("tick", 4);
	return sum_table(3) + scratch[1];
}
