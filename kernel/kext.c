/*
 * kext.c: look up the extension objects packed into the kernel image.
 *
 * The table itself (kext_images, kext_nimages) is generated at build time
 * by mk/kext.mk into build/kernel/kext/kext_images.S; this file only gives
 * it a typed face (kernel/kext.h).
 */
#include "kernel/kext.h"
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
