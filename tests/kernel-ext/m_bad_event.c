/* m_bad_event.c: a handler for an event nobody declared. */
#include <spindle/ext.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_NoSuchEvent)
u64 orphan(u64 level, u64 code)
{
	return level + code;
}
