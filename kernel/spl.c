/*
 * spl.c: SPL.High / SPL.Restore over the CPU's interrupt flag
 * (kernel/spl.h).
 */
#include <arch/cpu.h>

#include "kernel/domain.h"
#include "kernel/nameserver.h"
#include "kernel/spl.h"
#include "spindle_interfaces.h"

static const struct module spl_module = {"SPL", MODULE_TRUSTED | MODULE_PRIVILEGED};

uint64_t SPL_High(void)
{
	uint64_t old = arch_irq_enabled() ? SPL_LOW : SPL_HIGH;

	arch_irq_disable();
	return old;
}

void SPL_Restore(uint64_t level)
{
	if (level == SPL_LOW)
		arch_irq_enable();
	else
		arch_irq_disable();
}

/* Import-time authorization: only privileged modules may import SPL by name. */
static int spl_authorize(void *arg, const char *name, const struct module *importer)
{
	(void)arg, (void)name;
	return importer && (importer->flags & MODULE_PRIVILEGED) ? 0 : -EACCES;
}

int spl_init(void)
{
	struct domain *d = NULL;
	int err;

	if ((err = domain_create_from_interface(&iface_SPL, &spl_module, &d)))
		return err;
	err = domain_publish(d); /* private: SpinPrivate only */
	if (!err)
		err = nameserver_export_interface(&iface_SPL, d, spl_authorize, NULL, &spl_module);
	domain_release(d);
	return err;
}
