/*
 * m_guarded.c: a plain IntruderAlert handler whose result (1000 + code)
 * shows whether it ran.  The model test loads it under an authority that
 * denies installs, and under one that imposes a guard on the alert code.
 */
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 witness(u64 level, u64 code)
{
	return 1000 + code;
}

/* Returns the errno of a refused install (the load then fails). */
SPINDLE_INIT
u64 init(void)
{
	long long r = SPINDLE_INSTALL("witness", 0);
	return r < 0 ? (u64)-r : 0;
}
