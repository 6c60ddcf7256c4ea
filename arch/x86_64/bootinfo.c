/*
 * bootinfo.c: read the boot loader's information into struct boot_info.
 *
 * Two x86 protocols reach kmain: PVH (QEMU -kernel; struct hvm_start_info,
 * magic 0x336ec578, memory map from version 1 on) and multiboot2 (GRUB; a
 * list of tags, of which we need 1 = command line and 6 = memory map).  Both
 * are read through the boot page tables' identity map of 0-4 GiB, before the
 * final page tables exist, and everything needed later is copied out.  Every
 * length and count is checked against the structure that contains it: the
 * loader's data is input, not truth.
 */
#include <stdbool.h>

#include <arch/bootproto.h>
#include <arch/layout.h>

#include "kernel/bootinfo.h"
#include "kernel/string.h"

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

/* The boot page tables identity-map the first 4 GiB. */
static bool boot_phys_ok(uint64_t pa, uint64_t len)
{
	return pa != 0 && len < (1ull << 32) && pa + len <= (1ull << 32);
}

static void *boot_phys(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

static void boot_copy_cmdline(struct boot_info *bi, const char *s, size_t max)
{
	size_t i;

	for (i = 0; i + 1 < sizeof(bi->cmdline) && i < max && s[i]; i++)
		bi->cmdline[i] = s[i];
	bi->cmdline[i] = 0;
}

static void boot_add_reserved(struct boot_info *bi, uint64_t base, uint64_t len)
{
	if (bi->nreserved < BOOT_RESERVED_MAX && len) {
		bi->reserved[bi->nreserved].base = base;
		bi->reserved[bi->nreserved].length = len;
		bi->nreserved++;
	}
}

static int boot_parse_pvh(uint64_t pa, struct boot_info *bi)
{
	const struct hvm_start_info *si;
	const struct hvm_memmap_entry *e;

	if (!boot_phys_ok(pa, sizeof(*si))) {
		bi->error = "PVH start info pointer is null or above 4 GiB";
		return BOOT_E_NOINFO;
	}
	si = boot_phys(pa);
	if (si->magic != PVH_MAGIC) {
		bi->error = "PVH start info has a bad magic number";
		return BOOT_E_NOINFO;
	}
	bi->protocol = "pvh";
	boot_add_reserved(bi, pa, sizeof(*si));
	if (si->cmdline_paddr && boot_phys_ok(si->cmdline_paddr, BOOT_CMDLINE_MAX))
		boot_copy_cmdline(bi, boot_phys(si->cmdline_paddr), BOOT_CMDLINE_MAX);
	if (si->version < 1 || si->memmap_paddr == 0 || si->memmap_entries == 0) {
		bi->error = "PVH start info carries no memory map (version < 1 or 0 entries)";
		return BOOT_E_NOMAP;
	}
	if (si->memmap_entries > BOOT_MEM_MAX) {
		bi->error = "PVH memory map has more entries than the kernel accepts (128)";
		return BOOT_E_BADMAP;
	}
	if (!boot_phys_ok(si->memmap_paddr, si->memmap_entries * sizeof(*e))) {
		bi->error = "PVH memory map lies outside the first 4 GiB";
		return BOOT_E_BADMAP;
	}
	e = boot_phys(si->memmap_paddr);
	boot_add_reserved(bi, si->memmap_paddr, si->memmap_entries * sizeof(*e));
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		/* QEMU 7.2 counts one unused all-zero slot at the end of its
		 * table; an empty entry describes nothing, so skip it here
		 * rather than report a repair on every boot. */
		if (e[i].size == 0 && e[i].type == 0)
			continue;
		bi->mem[bi->nmem].base = e[i].addr;
		bi->mem[bi->nmem].length = e[i].size;
		bi->mem[bi->nmem].type = e[i].type; /* E820 numbering */
		bi->nmem++;
	}
	return 0;
}

static int boot_parse_mb2(uint64_t pa, struct boot_info *bi)
{
	uint32_t total, off;
	const uint8_t *base;
	bool have_map = false;

	if (!boot_phys_ok(pa, 8)) {
		bi->error = "multiboot2 information pointer is null or above 4 GiB";
		return BOOT_E_NOINFO;
	}
	base = boot_phys(pa);
	total = *(const uint32_t *)base;
	if (total < 16 || total > MB2_INFO_MAX || !boot_phys_ok(pa, total)) {
		bi->error = "multiboot2 information has an impossible total size";
		return BOOT_E_NOINFO;
	}
	bi->protocol = "multiboot2";
	boot_add_reserved(bi, pa, total);
	for (off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *t = (const void *)(base + off);

		if (t->type == MB2_TAG_END)
			break;
		if (t->size < sizeof(*t) || t->size > total - off) {
			bi->error = "multiboot2 tag runs past the end of the information";
			return BOOT_E_BADMAP;
		}
		if (t->type == MB2_TAG_CMDLINE)
			boot_copy_cmdline(bi, (const char *)(t + 1), t->size - sizeof(*t));
		if (t->type == MB2_TAG_MMAP) {
			const uint8_t *p = (const uint8_t *)t + 16;
			uint32_t esize = *(const uint32_t *)(t + 1);
			uint32_t n;

			if (t->size < 16 || esize < 24 || esize % 8) {
				bi->error = "multiboot2 memory map has a bad entry size";
				return BOOT_E_BADMAP;
			}
			n = (t->size - 16) / esize;
			if (n > BOOT_MEM_MAX) {
				bi->error = "multiboot2 memory map has more entries than the "
				            "kernel accepts (128)";
				return BOOT_E_BADMAP;
			}
			for (uint32_t i = 0; i < n; i++, p += esize) {
				memcpy(&bi->mem[i].base, p, 8);
				memcpy(&bi->mem[i].length, p + 8, 8);
				memcpy(&bi->mem[i].type, p + 16, 4);
			}
			bi->nmem = n;
			have_map = true;
		}
		off += (t->size + 7) & ~7u;
	}
	if (!have_map) {
		bi->error = "multiboot2 information has no memory map tag";
		return BOOT_E_NOMAP;
	}
	return 0;
}

int arch_boot_parse(uint32_t proto, uint64_t info_phys, struct boot_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->protocol = "none";
	switch (proto) {
	case BOOT_PROTO_PVH:
		return boot_parse_pvh(info_phys, bi);
	case BOOT_PROTO_MB2:
		return boot_parse_mb2(info_phys, bi);
	default:
		bi->error =
		    "no boot information: entered without PVH start info or multiboot2 magic";
		return BOOT_E_NOINFO;
	}
}
