/*
 * extension_test.c: the extension lifecycle with real clang-built
 * extensions (tests/ext-model/ext_*.c): load -> link -> verify -> JIT ->
 * initialise (Dispatcher_Install) -> publish, then the paper's
 * demonstrations (Console/Gatekeeper, link-time refusal of SPL, authorizers
 * that deny and impose guards, ordered handlers, result combination,
 * cross-domain calls between extensions, runaway and faulty handlers), bad
 * input of every kind, the boot manifest, and unload.  ASan/LSan check that
 * nothing leaks.
 */
#include "tests/unit/check.h"

#include "kernel/dispatch.h"
#include "kernel/domain.h"
#include "kernel/extension.h"
#include "kernel/nameserver.h"
#include "runtime/rt.h"
#include "tests/ext-model/model_fixture.h"

static const struct module loader_mod = {"Loader", MODULE_TRUSTED};
static const struct module boot_mod = {"Boot", MODULE_TRUSTED | MODULE_PRIVILEGED};

static void *read_obj(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	long size;
	void *image;

	snprintf(path, sizeof(path), "%s/%s", MODEL_EXT_DIR, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	image = malloc((size_t)size);
	if (image && fread(image, 1, (size_t)size, f) != (size_t)size) {
		free(image);
		image = NULL;
	}
	fclose(f);
	*len = (size_t)size;
	return image;
}

static char err[512];

/* Load tests/ext-model/OBJ.o as NAME against doms. */
static int load(const char *obj, const char *name, const struct module *req,
                struct domain *const *doms, uint32_t nd, struct ext **x)
{
	char file[64];
	size_t len = 0;
	void *image;
	int rc;

	snprintf(file, sizeof(file), "%s.o", obj);
	image = read_obj(file, &len);
	if (!image)
		return snprintf(err, sizeof(err), "cannot read %s", file), -ENOENT;
	rc = ext_load(image, len, name, req, doms, nd, x, err, sizeof(err));
	free(image);
	return rc;
}

static void setup(void)
{
	struct domain *c = NULL, *g = NULL, *s = NULL;
	console_reset();
	CHECK_EQ(domain_init(), 0);
	CHECK_EQ(domain_create_from_interface(&iface_Console, &console_mod, &c), 0);
	CHECK_EQ(domain_create_from_interface(&iface_Gatekeeper, &gatekeeper_mod, &g), 0);
	CHECK_EQ(domain_create_from_interface(&iface_SPL, &spl_mod, &s), 0);
	CHECK_EQ(domain_publish(c), 0);
	CHECK_EQ(domain_publish(g), 0);
	CHECK_EQ(domain_publish(s), 0);
	CHECK_EQ(domain_release(c), 0);
	CHECK_EQ(domain_release(g), 0);
	CHECK_EQ(domain_release(s), 0);
	CHECK_EQ(ext_init(), 0);
}

static void teardown(void)
{
	CHECK_EQ(ext_list(NULL, 0), 0);
	CHECK_EQ(domain_release(domain_spin_public), 0);
	CHECK_EQ(domain_release(domain_spin_private), 0);
	domain_spin_public = domain_spin_private = NULL;
	CHECK(Gatekeeper_IntruderAlert_event == NULL);
	CHECK_EQ(nameserver_count(), 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

#define PUB (struct domain *const[]){domain_spin_public}

static void console_gatekeeper(void)
{
	struct ext *x = NULL;
	struct ext_info info[2];

	setup();
	CHECK_EQ(load("ext_logger", "logger", &loader_mod, PUB, 1, &x), 0);
	if (err[0])
		printf("  %s\n", err);
	CHECK_EQ(ext_list(info, 2), 1);
	CHECK_STR(info[0].name, "logger");
	CHECK_EQ(info[0].nbindings, 1);
	CHECK(info[0].code_size > 0);
	CHECK(ext_find("logger") == x);
	/* Intrinsic + guarded extension handler: a generated routine. */
	CHECK_EQ(dispatch_handler_count(Gatekeeper_IntruderAlert_event), 2);
	CHECK(dispatch_is_generated(Gatekeeper_IntruderAlert_event));
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 2), 52);
	CHECK_STR(console_dev.out, "Intruder Alert");
	CHECK_EQ(console_opens, 1);
	CHECK_EQ(console_closes, 1);
	CHECK_EQ(Gatekeeper_IntruderAlert(1, 2), 0); /* the guard says no */
	CHECK_EQ(console_opens, 1);
	/* Someone else cannot remove its binding. */
	CHECK_EQ(dispatch_uninstall(ext_binding(x, 0), &console_mod), -EPERM);
	CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
	CHECK(dispatch_is_direct(Gatekeeper_IntruderAlert_event));
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 2), 5);
	CHECK_EQ(ext_unload(x, err, sizeof(err)), -ENOENT); /* already gone */
	teardown();
}

static void field_read_refused(void)
{
	struct ext *x = NULL;

	setup();
	CHECK_EQ(load("ext_peek", "peek", &loader_mod, PUB, 1, &x), -EINVAL);
	printf("  refused: %s\n", err);
	CHECK_EQ(ext_load_status(), -RT_EREJECT);
	CHECK(strstr(err, "peek:") != NULL);
	CHECK(strstr(err, "ext_peek.c:") != NULL); /* names the source line */
	CHECK_EQ(ext_list(NULL, 0), 0);
	CHECK_EQ(dispatch_handler_count(Gatekeeper_IntruderAlert_event), 1);
	teardown();
}

static void private_import_refused(void)
{
	struct ext *x = NULL;

	setup();
	CHECK_EQ(load("uses_spl", "spl", &loader_mod, PUB, 1, &x), -EUNRESOLVED);
	printf("  refused: %s\n", err);
	CHECK(strstr(err, "'SPL_High'") != NULL);
	/* An unprivileged requester cannot hand out SpinPrivate. */
	CHECK_EQ(load("uses_spl", "spl", &loader_mod,
	              (struct domain *const[]){domain_spin_private}, 1, &x),
	         -EPERM);
	CHECK_EQ(ext_list(NULL, 0), 0);
	/* A privileged one can. */
	CHECK_EQ(load("uses_spl", "spl", &boot_mod, (struct domain *const[]){domain_spin_private},
	              1, &x),
	         0);
	CHECK(ext_module(x)->flags & MODULE_PRIVILEGED);
	CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
	teardown();
}

static int deny_named(void *arg, struct dispatch_decision *d)
{
	(void)arg;
	return strcmp(d->requester->name, "denied") == 0 ? -EACCES : 0;
}

static uint64_t even_code(uint64_t level, uint64_t code, uint64_t c, uint64_t d, uint64_t e)
{
	(void)level, (void)c, (void)d, (void)e;
	return code % 2 == 0;
}
static struct rt_sig even_sig;
static int impose_even(void *arg, struct dispatch_decision *d)
{
	struct dispatch_guard g = {{&even_sig, NULL, NULL}, NULL, false};
	(void)arg;
	return dispatch_impose_guard(d, &g);
}

static void authorizers_deny_and_impose(void)
{
	struct ext *x = NULL;

	setup();
	CHECK_EQ(dispatch_set_authorizer(Gatekeeper_IntruderAlert_event, deny_named, NULL,
	                                 &gatekeeper_mod),
	         0);
	CHECK_EQ(load("ext_logger", "denied", &loader_mod, PUB, 1, &x), -EINVAL);
	printf("  refused: %s\n", err);
	CHECK(strstr(err, "returned 13") != NULL); /* init saw -EACCES */
	CHECK_EQ(ext_list(NULL, 0), 0);
	CHECK_EQ(dispatch_handler_count(Gatekeeper_IntruderAlert_event), 1);

	even_sig = Gatekeeper_IntruderAlert_sig;
	even_sig.fn = (void *)even_code;
	even_sig.flags |= RT_SIG_PURE;
	CHECK_EQ(dispatch_set_authorizer(Gatekeeper_IntruderAlert_event, impose_even, NULL,
	                                 &gatekeeper_mod),
	         0);
	CHECK_EQ(load("ext_logger", "guarded", &loader_mod, PUB, 1, &x), 0);
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 2), 52);
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 3), 5); /* imposed guard: odd code */
	CHECK_EQ(console_opens, 1);
	CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
	teardown();
}

static uint64_t sum(void *arg, uint64_t acc, uint64_t r, uint32_t index)
{
	(void)arg, (void)index;
	return acc + r;
}

static void ordered_and_combined(void)
{
	struct ext *x = NULL;

	setup();
	CHECK_EQ(dispatch_set_result(Gatekeeper_IntruderAlert_event, sum, NULL, 0, &gatekeeper_mod),
	         0);
	CHECK_EQ(load("ext_order", "order", &loader_mod, PUB, 1, &x), 0);
	if (err[0])
		printf("  %s\n", err);
	/* first (105), the intrinsic (5), last (205), summed. */
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 0), 315);
	CHECK_STR(console_dev.out, "FL");
	CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
	teardown();
}

static void cross_domain_calls(void)
{
	struct ext *s = NULL, *u = NULL;
	struct domain *sd = NULL;

	setup();
	CHECK_EQ(load("ext_stats", "stats", &loader_mod, PUB, 1, &s), 0);
	if (err[0])
		printf("  %s\n", err);
	/* Without the exporter's domain the import is unresolved. */
	CHECK_EQ(load("ext_stats_user", "user", &loader_mod, PUB, 1, &u), -EUNRESOLVED);
	CHECK(strstr(err, "'Stats_Scale'") != NULL);
	CHECK_EQ(nameserver_import("stats", &loader_mod, &sd), 0);
	CHECK_EQ(load("ext_stats_user", "user", &loader_mod,
	              (struct domain *const[]){domain_spin_public, sd}, 2, &u),
	         0);
	if (err[0])
		printf("  %s\n", err);
	CHECK_EQ(domain_drop(sd), 0);
	/* 3*4 + 1 from stats, + 5 from the user. */
	CHECK_EQ(Gatekeeper_IntruderAlert(3, 4), 18);
	/* The exporter cannot go while an importer is linked to it. */
	CHECK_EQ(ext_unload(s, err, sizeof(err)), -EBUSY);
	printf("  refused: %s\n", err);
	CHECK_EQ(Gatekeeper_IntruderAlert(3, 4), 18);
	CHECK_EQ(ext_unload(u, err, sizeof(err)), 0);
	CHECK_EQ(ext_unload(s, err, sizeof(err)), 0);
	teardown();
}

static int aborts;
static uint32_t last_status;
static int unload_from_hook;
static struct ext *faulty_ext;
static void abort_hook(void *arg, struct dispatch_binding *b, uint32_t status)
{
	(void)arg, (void)b;
	aborts++;
	last_status = status;
	/* The authority may want it gone, but not from inside the raise. */
	unload_from_hook = ext_unload(faulty_ext, NULL, 0);
}
static int report_policy(void *arg, struct dispatch_decision *d)
{
	(void)arg;
	d->policy = DISPATCH_ABORT_REPORT;
	d->fuel = 20000;
	return 0;
}

static void faulty_extension(void)
{
	struct ext *s = NULL, *x = NULL;
	struct domain *sd = NULL;
	struct dispatch_outcome o;

	setup();
	CHECK_EQ(dispatch_set_abort_hook(Gatekeeper_IntruderAlert_event, abort_hook, NULL,
	                                 &gatekeeper_mod),
	         0);
	CHECK_EQ(dispatch_set_authorizer(Gatekeeper_IntruderAlert_event, report_policy, NULL,
	                                 &gatekeeper_mod),
	         0);
	CHECK_EQ(load("ext_stats", "stats", &loader_mod, PUB, 1, &s), 0);
	CHECK_EQ(nameserver_import("stats", &loader_mod, &sd), 0);
	CHECK_EQ(load("ext_faulty", "faulty", &loader_mod,
	              (struct domain *const[]){domain_spin_public, sd}, 2, &x),
	         0);
	if (err[0])
		printf("  %s\n", err);
	CHECK_EQ(domain_drop(sd), 0);
	faulty_ext = x;
	/* 1: endless loop, aborted by fuel; the intrinsic's result stands. */
	CHECK_EQ(Gatekeeper_IntruderAlert(7, 1), 7);
	CHECK_EQ(aborts, 1);
	CHECK_EQ(last_status, RT_RUN_FUEL);
	CHECK_EQ(unload_from_hook, -EBUSY);
	/* 2: the same holding a console: the ledger closes it. */
	CHECK_EQ(Gatekeeper_IntruderAlert(7, 2), 7);
	CHECK_EQ(aborts, 2);
	CHECK_EQ(console_opens, 1);
	CHECK_EQ(console_closes, 1);
	CHECK(!console_dev.open);
	/* 3: its callee in another extension runs away: both are aborted. */
	CHECK_EQ(dispatch_raise(Gatekeeper_IntruderAlert_event, (uint64_t[5]){7, 3}, &o),
	         DISPATCH_HANDLED);
	CHECK_EQ(o.aborted, 1);
	CHECK_EQ(last_status, RT_RUN_HELPER);
	CHECK_EQ(Gatekeeper_IntruderAlert(7, 3), 7);
	/* REPORT policy: it still runs when it behaves. */
	CHECK_EQ(Gatekeeper_IntruderAlert(7, 0), 8);
	CHECK(!dispatch_binding_disabled(ext_binding(x, 0)));
	/* The authority has it unloaded; the event works afterwards. */
	CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
	CHECK_EQ(Gatekeeper_IntruderAlert(7, 1), 7);
	CHECK_EQ(Gatekeeper_IntruderAlert(7, 0), 7);
	CHECK(dispatch_is_direct(Gatekeeper_IntruderAlert_event));
	CHECK_EQ(ext_unload(s, err, sizeof(err)), 0);

	/* Default policy: the first abort disables the binding. */
	CHECK_EQ(dispatch_set_authorizer(Gatekeeper_IntruderAlert_event, NULL, NULL,
	                                 &gatekeeper_mod),
	         0);
	CHECK_EQ(load("ext_stats", "stats", &loader_mod, PUB, 1, &s), 0);
	CHECK_EQ(nameserver_import("stats", &loader_mod, &sd), 0);
	CHECK_EQ(load("ext_faulty", "faulty", &loader_mod,
	              (struct domain *const[]){domain_spin_public, sd}, 2, &x),
	         0);
	CHECK_EQ(domain_drop(sd), 0);
	faulty_ext = x;
	CHECK_EQ(Gatekeeper_IntruderAlert(7, 1), 7);
	CHECK(dispatch_binding_disabled(ext_binding(x, 0)));
	CHECK_EQ(Gatekeeper_IntruderAlert(7, 0), 7); /* disabled: not run */
	CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
	CHECK_EQ(ext_unload(s, err, sizeof(err)), 0);
	teardown();
}

static void bad_input(void)
{
	struct ext *x = NULL, *y = NULL;
	size_t len = 0;
	uint8_t *img, *bad;
	uint32_t loaded = 0, refused = 0;
	uint64_t rng = 12345;

	setup();
	CHECK_EQ(load("ext_bad_event", "bad", &loader_mod, PUB, 1, &x), -ENOENT);
	printf("  refused: %s\n", err);
	CHECK(strstr(err, "Gatekeeper_NoSuchEvent") != NULL);
	CHECK_EQ(load("ext_wrong_type", "wrong", &loader_mod, PUB, 1, &x), -EINVAL);
	printf("  refused: %s\n", err);
	CHECK(strstr(err, "three:") != NULL);
	CHECK_EQ(ext_list(NULL, 0), 0);

	/* Dispatcher misuse from an initialiser: each call fails cleanly. */
	CHECK_EQ(load("ext_logger", "logger", &loader_mod, PUB, 1, &y), 0);
	CHECK_EQ(load("ext_misuse", "misuse", &loader_mod, PUB, 1, &x), 0);
	if (err[0])
		printf("  %s\n", err);
	CHECK_EQ(load("ext_misuse", "misuse", &loader_mod, PUB, 1, &x), -EEXIST);
	CHECK_EQ(dispatch_handler_count(Gatekeeper_IntruderAlert_event), 3);
	/* Outside an initialiser the Dispatcher refuses. */
	CHECK_EQ(Dispatcher_Install("mine", 4, 0), -EPERM);
	CHECK_EQ(Dispatcher_Uninstall(0), -EPERM);
	CHECK_EQ(ext_unload(NULL, err, sizeof(err)), -ENOENT);
	CHECK_EQ(ext_unload((struct ext *)&loaded, err, sizeof(err)), -ENOENT);
	CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
	CHECK_EQ(ext_unload(y, err, sizeof(err)), 0);
	CHECK_EQ(ext_load(NULL, 0, "n", &loader_mod, PUB, 1, &x, err, sizeof(err)), -EINVAL);

	/* Malformed and hostile objects: truncations and random corruption of
	 * a good one.  Each is refused or loads and unloads; nothing leaks and
	 * the event is unchanged. */
	img = read_obj("ext_logger.o", &len);
	CHECK(img != NULL);
	bad = malloc(len);
	for (uint32_t t = 0; img && bad && t < 1500; t++) {
		size_t n = len;
		int rc;
		memcpy(bad, img, len);
		if (t < 300) {
			n = (size_t)t * len / 300;
		} else {
			for (int k = 0; k < 1 + (int)(t % 4); k++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				bad[(rng >> 33) % len] = (uint8_t)(rng >> 17);
			}
		}
		rc = ext_load(bad, n ? n : 1, "fuzz", &loader_mod, PUB, 1, &x, err, sizeof(err));
		if (rc == 0) {
			loaded++;
			CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
		} else {
			refused++;
			CHECK(err[0] != 0);
		}
		CHECK_EQ(ext_list(NULL, 0), 0);
	}
	printf("  corrupted objects: %u refused, %u loaded and unloaded\n", refused, loaded);
	free(img);
	free(bad);
	CHECK_EQ(dispatch_handler_count(Gatekeeper_IntruderAlert_event), 1);
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 2), 5);
	teardown();
}

static int image_object(void *arg, const char *object, const void **bytes, size_t *len)
{
	static void *held[8];
	static uint32_t nheld;
	(void)arg;
	if (!object) { /* release everything (test only) */
		for (uint32_t i = 0; i < nheld; i++)
			free(held[i]);
		nheld = 0;
		return 0;
	}
	if (nheld == 8)
		return -ENOSPC;
	*bytes = held[nheld] = read_obj(object, len);
	if (!*bytes)
		return -ENOENT;
	nheld++;
	return 0;
}

static void boot_manifest(void)
{
	static const char manifest[] = "# name   object            domains\n"
	                               "stats    ext_stats.o       SpinPublic\n"
	                               "\n"
	                               "user     ext_stats_user.o  SpinPublic,stats  # imports stats\n"
	                               "spl      uses_spl.o        SpinPrivate privileged\n";
	static const char bad1[] = "x uses_spl.o SpinPrivate\n";
	static const char bad2[] = "x ext_logger.o\n";
	static const char bad3[] = "x nothing.o SpinPublic\n";

	setup();
	CHECK_EQ(ext_load_manifest(manifest, sizeof(manifest) - 1, image_object, NULL, &boot_mod,
	                           err, sizeof(err)),
	         3);
	if (err[0])
		printf("  %s\n", err);
	CHECK_EQ(Gatekeeper_IntruderAlert(3, 4), 18);
	CHECK_EQ(ext_load_manifest(bad1, sizeof(bad1) - 1, image_object, NULL, &boot_mod, err,
	                           sizeof(err)),
	         -EPERM);
	printf("  refused: %s\n", err);
	CHECK(strstr(err, "line 1") != NULL);
	CHECK_EQ(ext_load_manifest(bad2, sizeof(bad2) - 1, image_object, NULL, &boot_mod, err,
	                           sizeof(err)),
	         -EINVAL);
	CHECK_EQ(ext_load_manifest(bad3, sizeof(bad3) - 1, image_object, NULL, &boot_mod, err,
	                           sizeof(err)),
	         -ENOENT);
	/* Unload in dependency order. */
	CHECK_EQ(ext_unload(ext_find("stats"), err, sizeof(err)), -EBUSY);
	CHECK_EQ(ext_unload(ext_find("user"), err, sizeof(err)), 0);
	CHECK_EQ(ext_unload(ext_find("stats"), err, sizeof(err)), 0);
	CHECK_EQ(ext_unload(ext_find("spl"), err, sizeof(err)), 0);
	image_object(NULL, NULL, NULL, NULL);
	teardown();
}

int main(void)
{
	CHECK_EQ(dispatch_init(), 0);
	RUN(console_gatekeeper);
	RUN(field_read_refused);
	RUN(private_import_refused);
	RUN(authorizers_deny_and_impose);
	RUN(ordered_and_combined);
	RUN(cross_domain_calls);
	RUN(faulty_extension);
	RUN(bad_input);
	RUN(boot_manifest);
	return check_done();
}
