/*
 * clock_iface.c: Clock.Cycles, the cycle counter extensions may read
 * (kernel/clock_iface.h).  It exists so that an extension's handler can
 * say when it ran: a process's own fault handler records its entry time
 * for the process to read back (user/ext/vmsys.c, Table 4's Trap from
 * ring 3).  The kernel's benchmark-only Bench.Mark stays private.
 */
#include <arch/cpu.h>

#include "kernel/clock_iface.h"
#include "kernel/domain.h"
#include "kernel/nameserver.h"
#include "spindle_interfaces.h"

static const struct module clock_iface_module = {"Clock", MODULE_TRUSTED};

uint64_t Clock_Cycles(void)
{
	return arch_cycles();
}

int clock_iface_init(void)
{
	struct domain *d = NULL;
	int err;

	if ((err = domain_create_from_interface(&iface_Clock, &clock_iface_module, &d)))
		return err;
	err = domain_publish(d); /* not private: SpinPublic too */
	if (!err)
		err = nameserver_export_interface(&iface_Clock, d, NULL, NULL, &clock_iface_module);
	domain_release(d);
	return err;
}
