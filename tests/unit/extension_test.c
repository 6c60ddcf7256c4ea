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

#include <time.h>

#include "kernel/cap.h"
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

#define PUB                                                                                        \
	(struct domain *const[])                                                                   \
	{                                                                                          \
		domain_spin_public                                                                 \
	}

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
	/* The handler acquires a console: metered, with its ledger frame; the
	 * guard only calls Gatekeeper.Level: its unmetered entry runs. */
	CHECK_EQ(dispatch_binding_forms(ext_binding(x, 0)), DISPATCH_FORM_NATIVE_GUARD);
	/* Someone else cannot remove its binding. */
	CHECK_EQ(dispatch_uninstall(ext_binding(x, 0), &console_mod), -EPERM);
	CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
	CHECK(dispatch_is_direct(Gatekeeper_IntruderAlert_event));
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 2), 5);
	CHECK_EQ(ext_unload(x, err, sizeof(err)), -ENOENT); /* already gone */
	teardown();
}

/* Extension code the dispatcher need not meter (ext_unmetered.c): the
 * loop-free handler runs its unmetered entry, the range-test guard is
 * tested in line; the results are the extension's. */
static void unmetered_and_inline(void)
{
	struct ext *x = NULL;

	setup();
	CHECK_EQ(load("ext_unmetered", "unmetered", &loader_mod, PUB, 1, &x), 0);
	if (err[0])
		printf("  %s\n", err);
	CHECK_EQ(dispatch_binding_forms(ext_binding(x, 0)),
	         DISPATCH_FORM_NATIVE_HANDLER | DISPATCH_FORM_INLINE_GUARD);
	CHECK(dispatch_is_generated(Gatekeeper_IntruderAlert_event));
	/* Level is 3: scaled = 3 * level + code + 3 when 3 <= level <= 6;
	 * otherwise the intrinsic's answer (level >= 3 ? level : 0). */
	for (uint64_t level = 0; level < 10; level++)
		CHECK_EQ(Gatekeeper_IntruderAlert(level, 2), level >= 3 && level <= 6
		                                                 ? 3 * level + 2 + 3
		                                             : level >= 3 ? level
		                                                          : 0);
	CHECK_EQ(Gatekeeper_IntruderAlert((uint64_t)-1, 2), (uint64_t)-1);
	CHECK_EQ(ext_unload(x, err, sizeof(err)), 0);
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
	CHECK_EQ(load("uses_spl", "spl", &loader_mod, (struct domain *const[]){domain_spin_private},
	              1, &x),
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
	CHECK_EQ(
	    dispatch_set_authorizer(Gatekeeper_IntruderAlert_event, NULL, NULL, &gatekeeper_mod),
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
	static const char manifest[] =
	    "# name   object            domains\n"
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

/* ---- capabilities held by extensions (docs/capabilities.md) ---- */

/* A fake memory module: PhysAddr over cap_kernel.  Pages are slots of
 * fake_pages; a pinned page checks and then refuses (-EBUSY), so timing
 * loops exercise the whole check without destroying anything. */
#define FAKE_PAGE_TYPE  CAP_TYPE_FIRST_FREE
#define FAKE_OTHER_TYPE (CAP_TYPE_FIRST_FREE + 1)
static const struct module memory_mod = {"Memory", MODULE_TRUSTED};
static int fake_pages[64], fake_pinned[64];
static uint32_t fake_live;

int64_t PhysAddr_Allocate(uint64_t size, uint64_t attrib, void *p)
{
	cap_t c;
	int err;

	if (size == 0 || attrib != 0 || !p)
		return -EINVAL;
	for (uint32_t i = 0; i < 64; i++) {
		if (fake_pages[i])
			continue;
		if ((err = cap_create(cap_kernel, FAKE_PAGE_TYPE, &fake_pages[i], &c)))
			return err;
		fake_pages[i] = 1;
		fake_pinned[i] = 0;
		fake_live++;
		memcpy(p, &c, sizeof(c));
		return 0;
	}
	return -ENOMEM;
}

int64_t PhysAddr_Deallocate(uint64_t c)
{
	void *o = NULL;
	int err = cap_check(cap_kernel, c, FAKE_PAGE_TYPE, &o);

	if (err)
		return err;
	if (fake_pinned[(int *)o - fake_pages])
		return -EBUSY;
	cap_revoke(cap_kernel, c, FAKE_PAGE_TYPE, NULL);
	*(int *)o = 0;
	fake_live--;
	return 0;
}

uint64_t PhysAddr_Reclaim_intrinsic(uint64_t candidate)
{
	return candidate;
}

static bool fake_alive(cap_t c)
{
	return cap_check(cap_kernel, c, FAKE_PAGE_TYPE, NULL) == 0;
}

typedef struct rt_jit_ret (*export_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static int64_t run(struct ext *x, const char *sym, uint64_t a, uint64_t b, uint64_t c)
{
	const struct domain_sym *s = domain_lookup(ext_domain(x), sym);
	export_fn fn;
	struct rt_jit_ret r;

	if (!s || !s->sig || !s->sig->fn)
		return -ENOENT;
	fn = (export_fn)s->sig->fn;
	r = fn(a, b, c, 0, 0);
	return r.status ? -1000 - (int64_t)r.status : (int64_t)r.r0;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void capabilities_cannot_be_forged(void)
{
	struct domain *d = NULL;
	struct ext *a = NULL, *b = NULL;
	cap_t victim[3], other, mine_a, mine_b, k, seen;
	uint64_t ha, hb, hv, ho, h;
	int64_t hits = 0;
	int other_obj = 0;
	double t0, t1, t2;
	const int64_t N = 4096;

	setup();
	memset(fake_pages, 0, sizeof(fake_pages));
	fake_live = 0;
	CHECK_EQ(domain_create_from_interface(&iface_PhysAddr, &memory_mod, &d), 0);
	CHECK_EQ(domain_publish(d), 0);
	CHECK_EQ(domain_release(d), 0);
	/* Another subsystem's pages and a capability of another type. */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(PhysAddr_Allocate(4096, 0, &victim[i]), 0);
	CHECK_EQ(cap_create(cap_kernel, FAKE_OTHER_TYPE, &other_obj, &other), 0);
	/* Two instances of the hostile extension, each with its own space. */
	CHECK_EQ(load("ext_forge", "forge_a", &loader_mod, PUB, 1, &a), 0);
	CHECK_EQ(load("ext_forge", "forge_b", &loader_mod, PUB, 1, &b), 0);
	if (!a || !b) {
		printf("  %s\n", err);
		return;
	}
	ha = (uint64_t)run(a, "VMApp_Run", 0, 0, 0);
	hb = (uint64_t)run(b, "VMApp_Run", 0, 0, 0);
	CHECK((int64_t)ha > 0 && (int64_t)hb > 0);
	CHECK_EQ(fake_live, 5);
	/* Handles are small and per extension: the same number names a
	 * different page in each space, and neither is a kernel value. */
	CHECK_EQ(ha, hb);
	CHECK_EQ(ext_cap_resolve(a, ha, &mine_a), 0);
	CHECK_EQ(ext_cap_resolve(b, hb, &mine_b), 0);
	CHECK(mine_a != mine_b && mine_a != ha && fake_alive(mine_a) && fake_alive(mine_b));
	/* The PhysAddr_Deallocate an extension links to is bound to its space:
	 * the published entry refuses anyone who comes without one. */
	CHECK_EQ(((int64_t(*)(uint64_t))PhysAddr_Deallocate_sig.fn)(victim[0]), -EPERM);

	/* Enumeration: small integers, every handle of the first generations
	 * of the first slots, and kernel-format values of the first 2048
	 * indices of the likeliest generations and both types.  Only its own
	 * page (handle ha) can be hit, once. */
	CHECK_EQ(run(a, "VMApp_Run", 1, 0, N), 0);
	for (uint64_t gen = 1; gen <= 8; gen++)
		for (uint64_t base = gen << 16; base < (gen << 16) + 2 * N; base += N)
			hits += run(a, "VMApp_Run", 1, base, N);
	CHECK_EQ(hits, 1);
	CHECK_EQ((uint64_t)run(a, "VMApp_Run", 8, 0, 0), ha);
	hits = 0;
	for (uint64_t gen = 0; gen <= 4; gen++)
		hits += run(a, "VMApp_Run", 5, gen, 2048);
	CHECK_EQ(hits, 0);
	/* The exact kernel values (leaked, say) and the other extension's
	 * handle fail too: they are not handles of a's space. */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(run(a, "VMApp_Run", 2, victim[i], 0), -EBADF);
	CHECK_EQ(run(a, "VMApp_Run", 2, mine_b, 0), -EBADF);
	CHECK_EQ(run(a, "VMApp_Run", 2, hb, 0), -ESTALE); /* = ha, which it freed */
	CHECK(!fake_alive(mine_a));
	CHECK(fake_alive(victim[0]) && fake_alive(victim[1]) && fake_alive(victim[2]));
	CHECK(fake_alive(mine_b));
	CHECK_EQ(fake_live, 4);

	/* What the kernel gives it works, and is typed: a capability of
	 * another type is refused by the callee's own check. */
	CHECK_EQ(ext_cap_give(a, other, &ho), 0);
	CHECK_EQ(run(a, "VMApp_Run", 2, ho, 0), -ECAPTYPE);
	CHECK_EQ(ext_cap_give(a, victim[0], &hv), 0);
	CHECK_EQ(ext_cap_give(a, victim[0], &h), 0);
	CHECK_EQ(h, hv); /* no duplicates */
	CHECK_EQ(run(a, "VMApp_Run", 2, hv, 0), 0);
	CHECK(!fake_alive(victim[0]));
	CHECK(fake_alive(mine_b));
	/* Revocation reaches the extension: the kernel frees victim[1] behind
	 * its handle; the handle is stale from then on, also once the kernel
	 * slot is reused. */
	CHECK_EQ(ext_cap_give(a, victim[1], &hv), 0);
	CHECK_EQ(PhysAddr_Deallocate(victim[1]), 0);
	CHECK_EQ(run(a, "VMApp_Run", 2, hv, 0), -ESTALE);
	CHECK_EQ(PhysAddr_Allocate(4096, 0, &k), 0);
	CHECK_EQ(cap_index_of(k), cap_index_of(victim[1]));
	CHECK_EQ(run(a, "VMApp_Run", 2, hv, 0), -ESTALE);
	CHECK(fake_alive(k));
	CHECK_EQ(ext_cap_give(a, victim[1], &h), -ESTALE);

	/* An event's capability argument arrives as a handle of the handler's
	 * own space, and its result is resolved there.  Both extensions
	 * handle Reclaim; the last (b, installed last) decides. */
	CHECK_EQ(PhysAddr_Reclaim(victim[2]), victim[2]);
	CHECK_EQ(run(a, "VMApp_Run", 4, 0, 0), 1);
	h = (uint64_t)run(a, "VMApp_Run", 3, 0, 0);
	CHECK(h != victim[2] && h > 0 && h <= INT32_MAX);
	CHECK_EQ(ext_cap_resolve(a, h, &seen), 0);
	CHECK_EQ(seen, victim[2]);
	/* b nominates its own page by handle: the kernel sees the page. */
	CHECK_EQ(run(b, "VMApp_Setup", hb, 0, 0), 0);
	CHECK_EQ(PhysAddr_Reclaim(victim[2]), mine_b);
	/* A nomination that is not a handle of b's space (the kernel's value
	 * of another page) comes out as 0: nothing. */
	CHECK_EQ(run(b, "VMApp_Setup", k, 0, 0), 0);
	CHECK_EQ(PhysAddr_Reclaim(victim[2]), 0);

	/* Cost of a capability-taking call from an extension: thunk, handle
	 * resolved in its space, the callee's own check (pinned: -EBUSY after
	 * the check), against a call that takes none. */
	CHECK_EQ(ext_cap_give(a, k, &h), 0);
	fake_pinned[(int *)cap_lookup(cap_kernel, k, FAKE_PAGE_TYPE) - fake_pages] = 1;
	t0 = now_ns();
	CHECK_EQ(run(a, "VMApp_Run", 6, h, N), -EBUSY);
	t1 = now_ns();
	CHECK_EQ(run(a, "VMApp_Run", 7, 0, N), 3);
	t2 = now_ns();
	printf("  cap call %.1f ns, plain call %.1f ns (ASan build)\n", (t1 - t0) / N,
	       (t2 - t1) / N);

	CHECK_EQ(ext_unload(b, NULL, 0), 0);
	CHECK_EQ(ext_unload(a, NULL, 0), 0);
	cap_revoke(cap_kernel, other, FAKE_OTHER_TYPE, NULL);
	teardown();
}

int main(void)
{
	CHECK_EQ(dispatch_init(), 0);
	RUN(console_gatekeeper);
	RUN(unmetered_and_inline);
	RUN(field_read_refused);
	RUN(private_import_refused);
	RUN(authorizers_deny_and_impose);
	RUN(ordered_and_combined);
	RUN(cross_domain_calls);
	RUN(faulty_extension);
	RUN(bad_input);
	RUN(boot_manifest);
	RUN(capabilities_cannot_be_forged);
	return check_done();
}
