/*
 * kheap_shim.c: the kernel heap's allocation entry points for the model's
 * hosted unit tests, mapped onto calloc/free so ASan sees every object (a
 * leak, double free or use after free in the model is reported by the
 * sanitizer rather than by the kernel heap's own checks).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "kernel/heap.h"

/* Out-of-memory injection: while it is >= 0, that many more allocations
 * succeed and every later one fails (a test sets it around one call to
 * reach that call's -ENOMEM path, then puts it back to -1). */
long kheap_shim_fail_after = -1;

static bool kheap_shim_fails(void)
{
	if (kheap_shim_fail_after < 0)
		return false;
	if (kheap_shim_fail_after == 0)
		return true;
	kheap_shim_fail_after--;
	return false;
}

void *kmalloc(size_t size)
{
	return kheap_shim_fails() ? NULL : malloc(size ? size : 1);
}

void *kzalloc(size_t size)
{
	return kheap_shim_fails() ? NULL : calloc(1, size ? size : 1);
}

int kfree(void *p)
{
	free(p);
	return 0;
}
