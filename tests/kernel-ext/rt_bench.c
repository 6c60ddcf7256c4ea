/* Benchmark entries (tests/kernel/runtime_bench.c): a null entry, and one
 * that makes 16 calls to a kernel procedure. */
#include "kext_api.h"

SEC("kext/null") long bench_null(u64 a, u64 b)
{
	(void)b;
	return (long)a;
}

SEC("kext/kcall16") long bench_kcall16(u64 a, u64 b)
{
	long s = (long)(a + b);

	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	s += Kext_Value();
	return s;
}
