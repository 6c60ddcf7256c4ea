/*
 * kext.c: extension objects packed into the kernel image, the kernel's
 * minimal embedder for them, and the load pipeline (kernel/kext.h).
 *
 * The table itself (kext_images, kext_nimages) is generated at build time
 * by mk/kext.mk into build/kernel/kext/kext_images.S; this file gives it a
 * typed face.  The embedder's procedures are ordinary kernel C functions
 * with the SysV signature the runtime expects (rt_import_fn): the JIT calls
 * them directly (`call rel32`: the code area is within 2 GiB of the kernel
 * text), the interpreter through rt_sig.fn.
 */
#include "kernel/fmt.h"
#include "kernel/kext.h"
#include "kernel/kprintf.h"
#include "kernel/string.h"

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

/* ---- the embedder ---------------------------------------------------------- */

int64_t kext_value;
struct kext_log kext_log;

void kext_log_reset(void)
{
	memset(&kext_log, 0, sizeof(kext_log));
}

static uint64_t kext_kx_log(uint64_t mem, uint64_t size, uint64_t a3, uint64_t a4, uint64_t a5)
{
	const char *m = (const char *)(uintptr_t)mem;
	char chunk[65];

	(void)a3, (void)a4, (void)a5;
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

static uint64_t kext_kx_get(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a1, (void)a2, (void)a3, (void)a4, (void)a5;
	return (uint64_t)kext_value;
}

static const struct rt_sig kext_sigs[] = {
    {"kx_log",
     (void *)kext_kx_log,
     2,
     {{.kind = RT_ARG_MEM}, {.kind = RT_ARG_SIZE}},
     {.kind = RT_RET_SCALAR},
     0},
    {"kx_get",
     (void *)kext_kx_get,
     0,
     {{.kind = RT_ARG_NONE}},
     {.kind = RT_RET_SCALAR},
     RT_SIG_PURE},
};

static const struct rt_sig *kext_lookup(void *arg, const char *name)
{
	(void)arg;
	for (size_t i = 0; i < sizeof(kext_sigs) / sizeof(kext_sigs[0]); i++)
		if (strcmp(kext_sigs[i].name, name) == 0)
			return &kext_sigs[i];
	return NULL;
}

const struct rt_embed kext_embed = {kext_lookup, NULL, NULL};
const struct rt_entry kext_entry = {{{.kind = RT_ARG_SCALAR}, {.kind = RT_ARG_SCALAR}}, false};

/* ---- the pipeline ------------------------------------------------------------ */

int kext_load(const char *name, const void *data, size_t size, const char *func,
              struct kext_prog *out, char *err, size_t errlen, struct rt_verify_result *vres)
{
	struct rt_verify_result local;
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
	ret = rt_prog_link(p, &kext_embed, err, errlen);
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
