/*
 * m_gatekeeper.c: the paper's Console/Gatekeeper extension with its own
 * initialiser.  It writes through the Console reference it is handed but
 * cannot read its fields (m_peek.c tries and is refused).
 */
#include <spindle/console.h>
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

SPINDLE_GUARD(Gatekeeper_IntruderAlert)
u64 serious(u64 level, u64 code)
{
	return level >= Gatekeeper_Level();
}

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 log_alert(u64 level, u64 code)
{
	static const char msg[] = "Intruder Alert";
	struct Console_T *c = Console_Open();

	if (!c)
		return 0;
	Console_Write(c, msg, sizeof(msg) - 1);
	Console_Close(c);
	return level * 10 + code;
}

/* Returns the negated error of a refused install (0: installed). */
SPINDLE_INIT
u64 init(void)
{
	long long b = SPINDLE_INSTALL("log_alert,serious", 0);
	return b < 0 ? (u64)-b : 0;
}
