/* Hand-made bad input: an extern variable (the loader refuses data imports). */
extern unsigned long kx_ticks;
__attribute__((section("handler/timer"))) unsigned long on_timer(void)
{
	return kx_ticks + 1;
}
