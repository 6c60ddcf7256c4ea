/*
 * m_peek.c: tries to read a field of the opaque Console.T it was handed.
 * The verifier refuses it: a typed reference is not memory.
 */
#include <spindle/console.h>
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 peek(u64 level, u64 code)
{
	struct Console_T *c = Console_Open();
	u64 v;

	if (!c)
		return 0;
	v = *(volatile u64 *)c; /* Console.T declares no readable field */
	Console_Close(c);
	return v + level + code;
}
