/*
 * bootmod.c: find the boot modules (kernel/bootmod.h).  PVH: the
 * hvm_start_info module list (QEMU -initrd gives one entry); multiboot2:
 * tags of type 3 (mod_start, mod_end, string).  Read through the boot page
 * tables' identity map of the first 4 GiB, like bootinfo.c, which this file
 * complements without changing it.
 */
#include <stdbool.h>

#include <arch/bootproto.h>
#include <arch/layout.h>

#include "kernel/bootmod.h"
#include "kernel/kprintf.h"

struct bootmod_pvh_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr;
};

struct bootmod_pvh_mod {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

static struct boot_module bootmod_list[BOOTMOD_MAX];
static unsigned bootmod_count;

static bool bootmod_phys_ok(uint64_t pa, uint64_t len)
{
	return pa != 0 && len != 0 && len < (1ull << 32) && pa + len <= (1ull << 32);
}

static void bootmod_add(struct boot_info *bi, uint64_t base, uint64_t size)
{
	if (!bootmod_phys_ok(base, size) || bootmod_count == BOOTMOD_MAX) {
		kprintf("bootmod: module at %lx (%lu bytes) ignored: bad range or too many\n",
		        (unsigned long)base, (unsigned long)size);
		return;
	}
	if (bi->nreserved == BOOT_RESERVED_MAX) {
		kprintf("bootmod: module at %lx ignored: no room to reserve it\n",
		        (unsigned long)base);
		return;
	}
	bi->reserved[bi->nreserved].base = base;
	bi->reserved[bi->nreserved].length = size;
	bi->nreserved++;
	bootmod_list[bootmod_count].base = base;
	bootmod_list[bootmod_count].size = size;
	bootmod_count++;
}

static void bootmod_pvh(uint64_t pa, struct boot_info *bi)
{
	const struct bootmod_pvh_info *si = (const void *)(uintptr_t)pa;
	const struct bootmod_pvh_mod *m;

	if (!bootmod_phys_ok(pa, sizeof(*si)) || si->magic != PVH_MAGIC || si->nr_modules == 0)
		return;
	if (si->nr_modules > BOOTMOD_MAX ||
	    !bootmod_phys_ok(si->modlist_paddr, si->nr_modules * sizeof(*m))) {
		kprintf("bootmod: PVH module list is malformed; ignored\n");
		return;
	}
	m = (const void *)(uintptr_t)si->modlist_paddr;
	for (uint32_t i = 0; i < si->nr_modules; i++)
		bootmod_add(bi, m[i].paddr, m[i].size);
}

static void bootmod_mb2(uint64_t pa, struct boot_info *bi)
{
	const uint8_t *base = (const void *)(uintptr_t)pa;
	uint32_t total, off;

	if (!bootmod_phys_ok(pa, 8))
		return;
	total = *(const uint32_t *)base;
	if (total < 16 || total > (1u << 20) || !bootmod_phys_ok(pa, total))
		return;
	for (off = 8; off + 8 <= total;) {
		uint32_t type = *(const uint32_t *)(base + off);
		uint32_t size = *(const uint32_t *)(base + off + 4);

		if (type == 0 || size < 8 || size > total - off)
			break;
		if (type == MB2_TAG_MODULE && size >= 16) {
			uint32_t start = *(const uint32_t *)(base + off + 8);
			uint32_t end = *(const uint32_t *)(base + off + 12);

			if (end > start)
				bootmod_add(bi, start, end - start);
		}
		off += (size + 7) & ~7u;
	}
}

unsigned bootmod_parse(uint32_t proto, uint64_t info_phys, struct boot_info *bi)
{
	if (proto == BOOT_PROTO_PVH)
		bootmod_pvh(info_phys, bi);
	else if (proto == BOOT_PROTO_MB2)
		bootmod_mb2(info_phys, bi);
	return bootmod_count;
}

const struct boot_module *bootmod_get(unsigned i)
{
	return i < bootmod_count ? &bootmod_list[i] : NULL;
}
