/*
 * kernel/bootinfo.h: what the boot loader told the kernel, in one portable form.
 *
 * Owns struct boot_info: the boot protocol's name, a private copy of the
 * kernel command line, the raw (not yet validated) firmware memory map, and
 * the physical ranges the boot structures occupy.  The arch boot code fills
 * it once, from PVH start info or multiboot2 tags, while the loader's
 * structures are still mapped; kmain then owns it.  Nothing here is trusted:
 * the memory map goes through memmap_normalise() before anyone uses it.
 *
 * Errors of arch_boot_parse(): 0, or a negative BOOT_E_* code with
 * bi->error set to one readable line for the console.
 */
#ifndef KERNEL_BOOTINFO_H
#define KERNEL_BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/memmap.h"

#define BOOT_CMDLINE_MAX  512
#define BOOT_MEM_MAX      MEMMAP_MAX_RAW
#define BOOT_RESERVED_MAX 4

enum boot_error {
	BOOT_E_NOINFO = -1, /* no boot information structure, or a bad magic */
	BOOT_E_NOMAP = -2,  /* the loader gave no memory map */
	BOOT_E_BADMAP = -3, /* the map is unreadable (too many entries, bad sizes) */
};

struct boot_info {
	const char *protocol; /* "pvh", "multiboot2" */
	char cmdline[BOOT_CMDLINE_MAX];
	size_t nmem;
	struct memmap_entry mem[BOOT_MEM_MAX]; /* E820 type numbering */
	size_t nreserved;
	struct memmap_range reserved[BOOT_RESERVED_MAX]; /* the loader's structures */
	const char *error;
};

/* Fill *bi from the protocol/pointer pair boot.S handed to kmain. */
int arch_boot_parse(uint32_t proto, uint64_t info_phys, struct boot_info *bi);

#endif
