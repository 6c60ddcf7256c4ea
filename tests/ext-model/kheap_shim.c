/*
 * kheap_shim.c: the kernel heap's allocation entry points for the model's
 * hosted unit tests, mapped onto calloc/free so ASan sees every object (a
 * leak, double free or use after free in the model is reported by the
 * sanitizer rather than by the kernel heap's own checks).
 */
#include <stdlib.h>

#include "kernel/heap.h"

void *kmalloc(size_t size)
{
	return malloc(size ? size : 1);
}

void *kzalloc(size_t size)
{
	return calloc(1, size ? size : 1);
}

int kfree(void *p)
{
	free(p);
	return 0;
}
