/*
 * gatekeeper.c: the Gatekeeper module and the IntruderAlert event's
 * authority (kernel/gatekeeper.h).
 */
#include "kernel/dispatch.h"
#include "kernel/domain.h"
#include "kernel/gatekeeper.h"
#include "kernel/nameserver.h"
#include "spindle_interfaces.h"

static const struct module gatekeeper_module = {"Gatekeeper", MODULE_TRUSTED};
static uint64_t gatekeeper_level = 3;
static enum gatekeeper_policy gatekeeper_policy;
static uint64_t gatekeeper_code, gatekeeper_refused;
static bool gatekeeper_report;
static uint64_t gatekeeper_nabort;
static uint32_t gatekeeper_last_status;

uint64_t Gatekeeper_IntruderAlert_intrinsic(uint64_t level, uint64_t code)
{
	(void)code;
	return level >= gatekeeper_level ? level : 0;
}

uint64_t Gatekeeper_Level(void)
{
	return gatekeeper_level;
}

void gatekeeper_set_level(uint64_t level)
{
	gatekeeper_level = level;
}

uint64_t gatekeeper_denied(void)
{
	return gatekeeper_refused;
}

/* The imposed guard: closure, then the event's (level, code). */
static uint64_t gatekeeper_code_guard(uint64_t want, uint64_t level, uint64_t code, uint64_t a4,
                                      uint64_t a5)
{
	(void)level, (void)a4, (void)a5;
	return code == want;
}

static const struct rt_sig gatekeeper_guard_sig = {
    "Gatekeeper_code_guard",
    (void *)gatekeeper_code_guard,
    3,
    {{.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}},
    {.kind = RT_RET_SCALAR},
    RT_SIG_PURE,
};

static int gatekeeper_authorize(void *arg, struct dispatch_decision *d)
{
	struct dispatch_guard g;

	(void)arg;
	if (d->requester == &gatekeeper_module)
		return 0;
	if (gatekeeper_report)
		d->policy = DISPATCH_ABORT_REPORT;
	switch (gatekeeper_policy) {
	case GATEKEEPER_DENY:
		gatekeeper_refused++;
		return -EACCES;
	case GATEKEEPER_ASYNC:
		d->options |= DISPATCH_ASYNC;
		return 0;
	case GATEKEEPER_GUARD:
		if (d->op != DISPATCH_OP_INSTALL)
			return 0;
		g = (struct dispatch_guard){{&gatekeeper_guard_sig, NULL, &gatekeeper_module},
		                            (void *)(uintptr_t)gatekeeper_code,
		                            true};
		return dispatch_impose_guard(d, &g);
	default:
		return 0;
	}
}

int gatekeeper_set_policy(enum gatekeeper_policy p, uint64_t code)
{
	if (p != GATEKEEPER_ALLOW && p != GATEKEEPER_DENY && p != GATEKEEPER_GUARD &&
	    p != GATEKEEPER_ASYNC)
		return -EINVAL;
	gatekeeper_policy = p;
	gatekeeper_code = code;
	return 0;
}

void gatekeeper_set_abort_report(bool report)
{
	gatekeeper_report = report;
}

uint64_t gatekeeper_aborts(uint32_t *last_status)
{
	if (last_status)
		*last_status = gatekeeper_last_status;
	return gatekeeper_nabort;
}

/* An extension handler of IntruderAlert was aborted (REPORT policy): count
 * it; the binding stays, and whoever loaded the extension decides. */
static void gatekeeper_on_abort(void *arg, struct dispatch_binding *b, uint32_t status)
{
	(void)arg, (void)b;
	gatekeeper_nabort++;
	gatekeeper_last_status = status;
}

/* Several handlers fired: the most severe result is the event's. */
static uint64_t gatekeeper_max(void *arg, uint64_t acc, uint64_t result, uint32_t index)
{
	(void)arg;
	return index == 0 || result > acc ? result : acc;
}

int gatekeeper_init(void)
{
	struct domain *d = NULL;
	struct dispatch_event *ev;
	int err;

	if ((err = domain_create_from_interface(&iface_Gatekeeper, &gatekeeper_module, &d)))
		return err;
	ev = Gatekeeper_IntruderAlert_event;
	if (!ev)
		err = -ENOENT;
	if (!err)
		err = dispatch_set_authorizer(ev, gatekeeper_authorize, NULL, &gatekeeper_module);
	if (!err)
		err = dispatch_set_result(ev, gatekeeper_max, NULL, 0, &gatekeeper_module);
	if (!err)
		err = dispatch_set_abort_hook(ev, gatekeeper_on_abort, NULL, &gatekeeper_module);
	if (!err)
		err = domain_publish(d);
	if (!err)
		err = nameserver_export_interface(&iface_Gatekeeper, d, NULL, NULL,
		                                  &gatekeeper_module);
	domain_release(d);
	return err;
}
