/*
 * nameserver.c: a list of (name, domain, authorizer, exporter) entries.
 * Lookups are linear: imports happen at link time, not on calls.
 */
#include "kernel/nameserver.h"

struct nameserver_entry {
	struct nameserver_entry *next;
	char name[NAMESERVER_NAME_MAX];
	struct domain *domain;
	nameserver_authorizer_fn auth;
	void *arg;
	const struct module *exporter;
};

static struct nameserver_entry *nameserver_head;
static uint32_t nameserver_n;

static struct nameserver_entry **nameserver_find(const char *name)
{
	struct nameserver_entry **pp = &nameserver_head;
	for (; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return pp;
	return NULL;
}

int nameserver_export(const char *name, struct domain *d, nameserver_authorizer_fn auth, void *arg,
                      const struct module *exporter)
{
	struct nameserver_entry *e;

	if (!name || !d || !exporter)
		return -EINVAL;
	if (nameserver_find(name))
		return -EEXIST;
	e = model_zalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (!model_copy_name(e->name, sizeof(e->name), name)) {
		model_free(e);
		return -EINVAL;
	}
	e->domain = d;
	e->auth = auth;
	e->arg = arg;
	e->exporter = exporter;
	domain_get(d);
	e->next = nameserver_head;
	nameserver_head = e;
	nameserver_n++;
	return 0;
}

int nameserver_export_interface(const struct iface_desc *iface, struct domain *d,
                                nameserver_authorizer_fn auth, void *arg,
                                const struct module *exporter)
{
	if (!iface)
		return -EINVAL;
	return nameserver_export(iface->export_name, d, auth, arg, exporter);
}

int nameserver_unexport(const char *name, const struct module *exporter)
{
	struct nameserver_entry **pp, *e;
	if (!name || !exporter)
		return -EINVAL;
	pp = nameserver_find(name);
	if (!pp)
		return -ENOENT;
	e = *pp;
	if (e->exporter != exporter)
		return -EPERM;
	*pp = e->next;
	nameserver_n--;
	/* The entry's reference is not a resolution: dropping it cannot be refused. */
	if (domain_release(e->domain) == -EBUSY)
		e->domain->refs--;
	model_free(e);
	return 0;
}

int nameserver_import(const char *name, const struct module *importer, struct domain **out)
{
	struct nameserver_entry **pp;
	int err;

	if (!name || !importer || !out)
		return -EINVAL;
	pp = nameserver_find(name);
	if (!pp)
		return -ENOENT;
	if ((*pp)->auth && (err = (*pp)->auth((*pp)->arg, name, importer)))
		return err < 0 ? err : -EACCES;
	domain_get((*pp)->domain);
	*out = (*pp)->domain;
	return 0;
}

uint32_t nameserver_count(void)
{
	return nameserver_n;
}
