/*
 * m_wrong_type.c: a "handler" for IntruderAlert(level, code) that expects
 * a third argument.  The event passes two: the verifier refuses the read of
 * the register nobody set.
 */
#include <spindle/ext.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 three(u64 level, u64 code, u64 extra)
{
	return level + code + extra;
}
