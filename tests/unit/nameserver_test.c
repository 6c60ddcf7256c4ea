/* nameserver_test.c: export/import by name with import-time authorization. */
#include "tests/unit/check.h"

#include "kernel/nameserver.h"
#include "tests/ext-model/model_fixture.h"

static const struct module *last_importer;
static int auth_calls;
/* Console's device interface: only trusted modules may import it. */
static int console_import_authorizer(void *arg, const char *name, const struct module *importer)
{
	CHECK(arg == &console_dev);
	CHECK_STR(name, "ConsoleService");
	auth_calls++;
	last_importer = importer;
	return (importer->flags & MODULE_TRUSTED) ? 0 : -EACCES;
}

static void export_import_authorized(void)
{
	struct domain *cd = NULL, *got = NULL;
	CHECK_EQ(domain_create_from_interface(&iface_Console, &console_mod, &cd), 0);
	CHECK_EQ(nameserver_export_interface(&iface_Console, cd, console_import_authorizer,
	                                     &console_dev, &console_mod),
	         0);
	CHECK_EQ(nameserver_count(), 1);
	auth_calls = 0;
	CHECK_EQ(nameserver_import("ConsoleService", &gatekeeper_mod, &got), 0);
	CHECK(got == cd);
	CHECK(last_importer == &gatekeeper_mod);
	CHECK_EQ(nameserver_import("ConsoleService", &ext_mod, &got), -EACCES);
	CHECK(last_importer == &ext_mod);
	CHECK_EQ(auth_calls, 2); /* called on every import */
	/* The imported reference keeps the domain alive past its creator. */
	CHECK_EQ(domain_release(cd), 0);
	CHECK_EQ(nameserver_unexport("ConsoleService", &gatekeeper_mod), -EPERM);
	CHECK_EQ(nameserver_unexport("ConsoleService", &console_mod), 0);
	CHECK(domain_lookup(got, "Console_Open") != NULL);
	CHECK_EQ(domain_release(got), 0);
	CHECK_EQ(nameserver_count(), 0);
}

static void names_and_errors(void)
{
	struct domain *sd = NULL, *got = NULL;
	CHECK_EQ(domain_create_from_interface(&iface_SPL, &spl_mod, &sd), 0);
	CHECK_EQ(nameserver_export("SPL.v1", sd, NULL, NULL, &spl_mod), 0);
	CHECK_EQ(nameserver_export("SPL.v1", sd, NULL, NULL, &spl_mod), -EEXIST);
	CHECK_EQ(nameserver_export("SPL.v2", sd, NULL, NULL, &spl_mod), 0); /* a second version */
	CHECK_EQ(nameserver_import("SPL.v3", &gatekeeper_mod, &got), -ENOENT);
	CHECK_EQ(nameserver_import(NULL, &gatekeeper_mod, &got), -EINVAL);
	CHECK_EQ(nameserver_import("SPL.v2", &ext_mod, &got), 0); /* no authorizer: open */
	CHECK(got == sd);
	CHECK_EQ(domain_release(got), 0);
	CHECK_EQ(nameserver_unexport("SPL.v9", &spl_mod), -ENOENT);
	CHECK_EQ(nameserver_unexport("SPL.v1", &spl_mod), 0);
	CHECK_EQ(nameserver_unexport("SPL.v2", &spl_mod), 0);
	CHECK_EQ(domain_release(sd), 0);
	CHECK_EQ(nameserver_count(), 0);
}

static void exported_domain_survives_while_linked(void)
{
	static struct rt_import imports[1] = {{"SPL_High", NULL, 0}};
	static struct rt_prog prog;
	struct domain *sd = NULL, *got = NULL, *ed = NULL;
	char err[128];

	prog.imports = imports;
	prog.nimports = 1;
	CHECK_EQ(domain_create_from_interface(&iface_SPL, &spl_mod, &sd), 0);
	CHECK_EQ(nameserver_export("SPL", sd, NULL, NULL, &spl_mod), 0);
	CHECK_EQ(domain_release(sd), 0); /* the nameserver holds it now */
	CHECK_EQ(nameserver_import("SPL", &gatekeeper_mod, &got), 0);
	CHECK_EQ(domain_create_from_prog("Ext", &prog, &ext_mod, &ed), 0);
	CHECK_EQ(domain_link(ed, got, err, sizeof(err)), 0);
	CHECK_EQ(domain_release(got), -EBUSY);
	/* Withdrawing the name does not pull the code from under the linked
	 * extension. */
	CHECK_EQ(nameserver_unexport("SPL", &spl_mod), 0);
	CHECK(imports[0].sig == &SPL_High_sig);
	CHECK_EQ(domain_release(ed), 0);
	CHECK_EQ(domain_release(got), 0);
}

int main(void)
{
	CHECK_EQ(dispatch_init(), 0);
	RUN(export_import_authorized);
	RUN(names_and_errors);
	RUN(exported_domain_survives_while_linked);
	return check_done();
}
