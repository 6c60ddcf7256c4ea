/*
 * modules.c: publish the trusted modules at boot and load the boot
 * manifest (kernel/modules.h).
 */
#include "kernel/clock_iface.h"
#include "kernel/console.h"
#include "kernel/dispatch_async.h"
#include "kernel/extension.h"
#include "kernel/gatekeeper.h"
#include "kernel/kext.h"
#include "kernel/kprintf.h"
#include "kernel/modules.h"
#include "kernel/nameserver.h"
#include "kernel/spl.h"
#include "kernel/strand_events.h"
#include "kernel/vproc.h"

const struct module modules_boot_loader = {"BootLoader", MODULE_TRUSTED | MODULE_PRIVILEGED};

static int modules_manifest_rc;
static char modules_manifest_err[256];

static const struct {
	const char *name;
	int (*init)(void);
} modules_table[] = {
    {"Dispatcher", ext_init},    {"Console", console_init},
    {"SPL", spl_init},           {"Gatekeeper", gatekeeper_init},
    {"Kext", kext_init},         {"Strand", strandev_init},
    {"VProc", vproc_init},       {"async handlers", dispatch_async_init},
    {"Clock", clock_iface_init},
};

int modules_init(void)
{
	const char *text;
	size_t len;
	int err;

	for (uint32_t i = 0; i < sizeof(modules_table) / sizeof(modules_table[0]); i++) {
		if ((err = modules_table[i].init())) {
			kprintf("modules: %s failed to publish (%d)\n", modules_table[i].name, err);
			return err;
		}
	}
	kprintf("modules: SpinPublic %u interfaces, SpinPrivate %u; nameserver %u names\n",
	        domain_spin_public->nmembers, domain_spin_private->nmembers, nameserver_count());
	text = kext_manifest_text(&len);
	modules_manifest_rc = ext_load_manifest(text, len, kext_object, NULL, &modules_boot_loader,
	                                        modules_manifest_err, sizeof(modules_manifest_err));
	if (modules_manifest_rc < 0)
		kprintf("modules: boot manifest: %s (%d)\n", modules_manifest_err,
		        modules_manifest_rc);
	else
		kprintf("modules: boot manifest loaded %d extension(s)\n", modules_manifest_rc);
	return 0;
}

int modules_manifest_result(void)
{
	return modules_manifest_rc;
}

const char *modules_manifest_error(void)
{
	return modules_manifest_err;
}
