/*
 * kext.c: extension objects packed into the kernel image, the kernel's
 * minimal embedder for them, and the load pipeline (kernel/kext.h).
 *
 * The table itself (kext_images, kext_nimages) and the boot manifest
 * (kext_manifest) are generated at build time by mk/kext.mk into
 * build/kernel/kext/kext_images.S; this file gives them a typed face.
 * Packed objects are linked against SpinPublic: kext_embed resolves an
 * import through the domain, so what an extension may call is what the
 * interfaces declare and the boot published.  The Kext interface's
 * procedures are ordinary kernel C functions under their declared names:
 * the JIT calls them directly (`call rel32`: the code area is within 2 GiB
 * of the kernel text), the interpreter through rt_sig.fn.
 */
#include "kernel/domain.h"
#include "kernel/fmt.h"
#include "kernel/kext.h"
#include "kernel/nameserver.h"
#include "kernel/kprintf.h"
#include "kernel/string.h"
#include "spindle_interfaces.h"

extern const struct kext_image kext_images[];
extern const uint64_t kext_nimages;

size_t kext_count(void)
{
	return (size_t)kext_nimages;
}

const struct kext_image *kext_get(size_t i)
{
	return i < kext_nimages ? &kext_images[i] : NULL;
}

const struct kext_image *kext_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < kext_nimages; i++)
		if (strcmp(kext_images[i].name, name) == 0)
			return &kext_images[i];
	return NULL;
}

/* ---- the Kext interface and the link ----------------------------------------- */

int64_t kext_value;
struct kext_log kext_log;

void kext_log_reset(void)
{
	memset(&kext_log, 0, sizeof(kext_log));
}

uint64_t Kext_Log(const void *mem, uint64_t size)
{
	const char *m = mem;
	char chunk[65];

	for (uint64_t done = 0; done < size;) {
		size_t n = size - done < 64 ? (size_t)(size - done) : 64;

		memcpy(chunk, m + done, n);
		chunk[n] = 0;
		kprintf("%s", chunk);
		done += n;
	}
	for (uint64_t i = 0; i < size && kext_log.len + 1 < sizeof(kext_log.text); i++)
		kext_log.text[kext_log.len++] = m[i];
	kext_log.text[kext_log.len] = 0;
	kext_log.calls++;
	return size;
}

uint64_t Kext_Value(void)
{
	return (uint64_t)kext_value;
}

static const struct module kext_module = {"Kext", MODULE_TRUSTED};

int kext_init(void)
{
	struct domain *d = NULL;
	int err;

	if ((err = domain_create_from_interface(&iface_Kext, &kext_module, &d)))
		return err;
	err = domain_publish(d);
	if (!err)
		err = nameserver_export_interface(&iface_Kext, d, NULL, NULL, &kext_module);
	domain_release(d);
	return err;
}

/* What a packed extension may import: SpinPublic's symbols (an import
 * outside it, a private interface's say, fails to link and is named).
 * kext_load links through domain_embed(domain_spin_public); this constant
 * form of the same lookup is for callers that need a static rt_embed (the
 * kext benchmark). */
static const struct rt_sig *kext_lookup(void *arg, const char *name)
{
	const struct domain_sym *s;

	(void)arg;
	if (!domain_spin_public)
		return NULL;
	s = domain_lookup(domain_spin_public, name);
	return s ? s->sig : NULL;
}

const struct rt_embed kext_embed = {kext_lookup, NULL, NULL};
const struct rt_entry kext_entry = {{{.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}}, false};

/* The manifest packed with the images (mk/kext.mk). */
extern const char kext_manifest[];
extern const uint64_t kext_manifest_size;

const char *kext_manifest_text(size_t *len)
{
	if (len)
		*len = (size_t)kext_manifest_size;
	return kext_manifest;
}

int kext_object(void *arg, const char *object, const void **bytes, size_t *len)
{
	const struct kext_image *im = kext_find(object);

	(void)arg;
	if (!im || !bytes || !len)
		return -ENOENT;
	*bytes = im->data;
	*len = (size_t)im->size;
	return 0;
}

/* ---- the pipeline ------------------------------------------------------------ */

int kext_load(const char *name, const void *data, size_t size, const char *func,
              struct kext_prog *out, char *err, size_t errlen, struct rt_verify_result *vres)
{
	struct rt_verify_result local;
	struct rt_embed embed;
	const struct rt_func *f;
	struct rt_prog *p = NULL;
	struct rt_jit *j = NULL;
	int ret;

	if (!out || !func)
		return -RT_EINVAL;
	memset(out, 0, sizeof(*out));
	if (!vres)
		vres = &local;
	memset(vres, 0, sizeof(*vres));
	if (err && errlen)
		err[0] = 0;
	if (name) {
		const struct kext_image *im = kext_find(name);

		if (!im) {
			if (err && errlen)
				fmt_snprintf(err, errlen, "kext: no packed extension called %s",
				             name);
			return -RT_ENOENT;
		}
		data = im->data;
		size = im->size;
	}
	ret = rt_prog_load_elf(data, size, &p, err, errlen);
	if (ret)
		return ret;
	if (!domain_spin_public) {
		if (err && errlen)
			fmt_snprintf(err, errlen, "kext: SpinPublic is not built yet");
		ret = -RT_ENOENT;
		goto err_free_prog;
	}
	domain_embed(domain_spin_public, &embed);
	ret = rt_prog_link(p, &embed, err, errlen);
	if (ret)
		goto err_free_prog;
	f = rt_prog_find_func(p, func);
	if (!f || !f->entry) {
		if (err && errlen)
			fmt_snprintf(err, errlen, "kext: %s has no entry function %s",
			             name ? name : "object", func);
		ret = -RT_ENOENT;
		goto err_free_prog;
	}
	/* The JIT compiles every function: verify every entry first. */
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		if (!p->funcs[i].entry)
			continue;
		ret = rt_verify(p, i, &kext_entry, NULL, vres);
		if (ret) {
			if (err && errlen)
				fmt_snprintf(err, errlen, "%s", vres->msg);
			goto err_free_prog;
		}
	}
	ret = rt_jit_compile(p, &j, err, errlen);
	if (ret)
		goto err_free_prog;
	out->prog = p;
	out->jit = j;
	out->func = (uint32_t)(f - p->funcs);
	out->fn = rt_jit_entry(j, out->func);
	return 0;

err_free_prog:
	rt_prog_free(p);
	return ret;
}

void kext_unload(struct kext_prog *kp)
{
	if (!kp)
		return;
	rt_jit_free(kp->jit);
	rt_prog_free(kp->prog);
	memset(kp, 0, sizeof(*kp));
}
