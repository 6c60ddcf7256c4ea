/*
 * kernel/modules.h: the extension model's boot.  kmain calls
 * modules_init() once, after cap_init, dispatch_init and domain_init: it
 * runs each trusted module's init, which builds the module's domain from
 * its generated interface description, declares its events, installs its
 * authorizers, publishes the domain in SpinPublic and SpinPrivate (private
 * interfaces only in SpinPrivate) and exports it through the nameserver.
 * Then it loads the extensions listed in the boot manifest packed with the
 * kernel image (kernel/kext.h) through ext_load_manifest.
 *
 * SpinPublic after boot: Console, Dispatcher, Gatekeeper, Kext, Strand,
 * VProc (every declared interface with a kernel implementation that is not
 * private).  SpinPrivate: all of those plus SPL.  MachineTrap (the
 * system-call event, private) is declared by the process layer
 * (process_events_init), and Stats / Package are implemented by
 * extensions, so neither is one of these kernel domains.
 *
 * Callers: kmain.  Errors: the first failing module's code; a manifest
 * failure is reported on the console and does not fail the boot (the
 * modules loaded before it stay).
 */
#ifndef KERNEL_MODULES_H
#define KERNEL_MODULES_H

#include <stdint.h>

#include "kernel/interface.h"

/* The boot loader's identity: privileged (it may hand out SpinPrivate). */
extern const struct module modules_boot_loader;

int modules_init(void);
/* Extensions the boot manifest loaded (and the result of its load). */
int modules_manifest_result(void);
const char *modules_manifest_error(void);

#endif /* KERNEL_MODULES_H */
