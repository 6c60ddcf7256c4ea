/*
 * interface.c: lookups over the generated interface descriptions
 * (build/gen/spindle_interfaces.c) and signature comparison.
 *
 * The tables are small and static; lookups are linear.  They run at link
 * and install time, never on a raise or a call.
 */
#include "kernel/interface.h"

const struct iface_desc *iface_find(const char *name)
{
	if (!name)
		return NULL;
	for (uint32_t i = 0; i < iface_count; i++)
		if (strcmp(iface_all[i]->name, name) == 0)
			return iface_all[i];
	return NULL;
}

const struct iface_item *iface_find_item(const char *symbol, const struct iface_desc **in)
{
	if (!symbol)
		return NULL;
	for (uint32_t i = 0; i < iface_count; i++) {
		const struct iface_desc *d = iface_all[i];
		for (uint32_t k = 0; k < d->nitems; k++) {
			if (strcmp(d->items[k].name, symbol) == 0) {
				if (in)
					*in = d;
				return &d->items[k];
			}
		}
	}
	return NULL;
}

bool iface_sig_equal(const struct rt_sig *a, const struct rt_sig *b)
{
	if (!a || !b)
		return false;
	if (a->nargs != b->nargs || a->flags != b->flags)
		return false;
	for (uint32_t i = 0; i < a->nargs; i++) {
		const struct rt_arg *x = &a->args[i], *y = &b->args[i];
		if (x->kind != y->kind || x->type != y->type || x->size != y->size ||
		    x->release != y->release)
			return false;
	}
	return a->ret.kind == b->ret.kind && a->ret.type == b->ret.type &&
	       a->ret.size == b->ret.size && a->ret.writable == b->ret.writable &&
	       a->ret.acquire == b->ret.acquire;
}
