/*
 * kernel/bootmod.h: boot modules (files the loader placed in memory next
 * to the kernel: QEMU's -initrd under PVH, multiboot2 module tags).
 *
 * bootmod_parse() reads the module list while the loader's structures are
 * still identity-mapped (before mem_init) and records each module's
 * physical range in bi->reserved, so the frame allocator never hands those
 * pages out; afterwards the modules are read through the direct map.  Every
 * count and range is checked (non-empty, below 4 GiB, no wrap-around); a
 * module that cannot be reserved is dropped with a console line.
 *
 * Callers: kmain (parse, once), the process layer (get).  Errors: the
 * number of modules kept, never negative.
 */
#ifndef KERNEL_BOOTMOD_H
#define KERNEL_BOOTMOD_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/bootinfo.h"

#define BOOTMOD_MAX 4

struct boot_module {
	uint64_t base, size; /* physical */
};

unsigned bootmod_parse(uint32_t proto, uint64_t info_phys, struct boot_info *bi);
/* The i-th module, or NULL. */
const struct boot_module *bootmod_get(unsigned i);

#endif
