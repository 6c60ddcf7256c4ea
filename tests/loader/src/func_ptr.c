/* Hand-made bad input: an indirect call through a function pointer; clang-19
 * emits callx (0x8d) and takes the address of code. */
typedef unsigned long (*fn_t)(unsigned long);
static __attribute__((noinline)) unsigned long twice(unsigned long x)
{
	return 2 * x;
}
static __attribute__((noinline)) unsigned long thrice(unsigned long x)
{
	return 3 * x;
}
__attribute__((section("handler/timer"))) unsigned long on_timer(unsigned long *ctx)
{
	fn_t f = ctx[0] ? twice : thrice;
	return f(ctx[1]);
}
