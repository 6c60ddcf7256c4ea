/*
 * strand_events.c: authority of the Strand events, and the strand
 * capabilities that guard them (kernel/strand_events.h).
 */
#include "kernel/domain.h"
#include "kernel/fmt.h"
#include "kernel/kprintf.h"
#include "kernel/nameserver.h"
#include "kernel/strand.h"
#include "kernel/strand_events.h"
#include "kernel/string.h"
#include "kernel/vproc.h"

struct strandev_grant {
	cap_t cap; /* CAP_NULL: free slot */
	char holder[STRANDEV_HOLDER_MAX];
	const struct module *bound; /* the module that first installed with it */
	strandev_covers_fn covers;
	void *arg;
};

static const struct module strandev_module = {"Strand", MODULE_TRUSTED};
static struct strandev_grant strandev_grants[STRANDEV_MAX_GRANTS];
static struct rt_sig strandev_sigs[4]; /* guard signatures of the four events */
static char strandev_why[160];
static uint64_t strandev_nrefused;

/* ---- intrinsic handlers: the default thread package's behaviour ---- */

void Strand_Block_intrinsic(struct Strand_T *s)
{
	(void)s; /* the scheduler has taken s off the runnable set at the seam */
}

void Strand_Unblock_intrinsic(struct Strand_T *s)
{
	(void)s; /* the scheduler has queued s at the seam */
}

void Strand_Checkpoint_intrinsic(struct Strand_T *s)
{
	struct strand *st = (struct strand *)s;

	if (vproc_thread_index(s) < 0 && st->package && st->package->ops->checkpoint)
		st->package->ops->checkpoint(st->package, st);
}

void Strand_Resume_intrinsic(struct Strand_T *s)
{
	struct strand *st = (struct strand *)s;

	if (vproc_thread_index(s) < 0 && st->package && st->package->ops->resume)
		st->package->ops->resume(st->package, st);
}

int64_t Strand_Thread(struct Strand_T *s)
{
	return vproc_thread_index(s);
}

/* ---- capabilities ---- */

int strandev_grant(const char *holder, strandev_covers_fn covers, void *arg, cap_t *out)
{
	struct strandev_grant *g = NULL;
	int err;

	if (!holder || !covers || !out || !cap_kernel)
		return -EINVAL;
	for (uint32_t i = 0; i < STRANDEV_MAX_GRANTS && !g; i++)
		if (strandev_grants[i].cap == CAP_NULL)
			g = &strandev_grants[i];
	if (!g)
		return -ENOSPC;
	if (!model_copy_name(g->holder, sizeof(g->holder), holder))
		return -EINVAL;
	g->bound = NULL;
	g->covers = covers;
	g->arg = arg;
	if ((err = cap_create(cap_kernel, STRANDEV_CAP_TYPE, g, &g->cap))) {
		g->cap = CAP_NULL;
		return err;
	}
	*out = g->cap;
	return 0;
}

int strandev_revoke(cap_t cap)
{
	struct strandev_grant *g = cap_lookup(cap_kernel, cap, STRANDEV_CAP_TYPE);

	if (!g)
		return -ENOENT;
	cap_revoke(cap_kernel, cap, STRANDEV_CAP_TYPE, NULL);
	/* The slot stays taken until every guard that names it is gone: a
	 * guard reads g->cap, which no longer checks, and answers false. */
	g->covers = NULL;
	return 0;
}

/* The imposed guard: the installer's capability covers the event's first
 * argument.  (closure, a1..a4): extra arguments are ignored. */
static uint64_t strandev_guard(uint64_t grant, uint64_t obj, uint64_t a2, uint64_t a3, uint64_t a4)
{
	struct strandev_grant *g = (struct strandev_grant *)(uintptr_t)grant;
	strandev_covers_fn covers;

	(void)a2, (void)a3, (void)a4;
	if (cap_lookup(cap_kernel, g->cap, STRANDEV_CAP_TYPE) != g)
		return 0;
	covers = g->covers;
	return covers && covers(g->arg, (const void *)(uintptr_t)obj);
}

void strandev_guard_sig(const struct rt_sig *event, struct rt_sig *out)
{
	memset(out, 0, sizeof(*out));
	out->name = "Strand_capability_guard";
	out->fn = (void *)strandev_guard;
	out->nargs = event->nargs + 1;
	out->args[0].kind = RT_ARG_SCALAR;
	for (uint32_t i = 0; i < event->nargs && i < 4; i++)
		out->args[i + 1] = event->args[i];
	out->ret.kind = RT_RET_SCALAR;
	out->flags = RT_SIG_PURE;
}

static struct strandev_grant *strandev_held_by(const struct module *m)
{
	struct strandev_grant *found = NULL;

	for (uint32_t i = 0; i < STRANDEV_MAX_GRANTS; i++) {
		struct strandev_grant *g = &strandev_grants[i];
		if (g->cap == CAP_NULL || !g->covers)
			continue;
		if (g->bound ? g->bound == m : strcmp(g->holder, m->name) == 0)
			found = g; /* the most recent grant wins */
	}
	return found;
}

int strandev_authorize(void *arg, struct dispatch_decision *d)
{
	const struct rt_sig *gsig = arg;
	struct strandev_grant *g;
	struct dispatch_guard guard;

	if (d->requester == d->event->authority)
		return 0;
	if (d->op != DISPATCH_OP_INSTALL) {
		fmt_snprintf(
		    strandev_why, sizeof(strandev_why),
		    "%s: only the authority may change defaults or other modules' handlers",
		    d->event->name);
		strandev_nrefused++;
		return -EACCES;
	}
	g = strandev_held_by(d->requester);
	if (!g) {
		fmt_snprintf(strandev_why, sizeof(strandev_why),
		             "%s: module '%s' holds no strand capability, so it may not handle "
		             "events on any strand",
		             d->event->name, d->requester->name);
		strandev_nrefused++;
		kprintf("strand events: refused: %s\n", strandev_why);
		return -EACCES;
	}
	g->bound = d->requester;
	guard = (struct dispatch_guard){{gsig, NULL, &strandev_module}, g, true};
	return dispatch_impose_guard(d, &guard);
}

const char *strandev_refusal(void)
{
	return strandev_why;
}

uint64_t strandev_refusals(void)
{
	return strandev_nrefused;
}

/* ---- boot ---- */

int strandev_init(void)
{
	struct dispatch_event **evs[4] = {&Strand_Block_event, &Strand_Unblock_event,
	                                  &Strand_Checkpoint_event, &Strand_Resume_event};
	struct domain *d = NULL;
	int err;

	if ((err = domain_create_from_interface(&iface_Strand, &strandev_module, &d)))
		return err;
	for (uint32_t i = 0; i < 4 && !err; i++) {
		strandev_guard_sig((*evs[i])->sig, &strandev_sigs[i]);
		err = dispatch_set_authorizer(*evs[i], strandev_authorize, &strandev_sigs[i],
		                              &strandev_module);
	}
	if (!err)
		err = domain_publish(d);
	if (!err)
		err = nameserver_export_interface(&iface_Strand, d, NULL, NULL, &strandev_module);
	domain_release(d);
	return err;
}
