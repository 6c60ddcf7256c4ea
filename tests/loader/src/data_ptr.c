/* Hand-made bad input: an initialised pointer in .data (a relocation in a
 * data section). */
unsigned long counter;
unsigned long *counter_ptr = &counter;
__attribute__((section("handler/timer"))) unsigned long on_timer(void)
{
	return *counter_ptr;
}
