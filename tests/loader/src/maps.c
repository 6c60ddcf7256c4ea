/* Hand-made bad input: a libbpf-style BTF map definition in ".maps". */
struct {
	int (*type)[2];
	int (*max_entries)[16];
} counters __attribute__((section(".maps")));
__attribute__((section("handler/timer"))) unsigned long on_timer(void)
{
	return (unsigned long)&counters;
}
