/*
 * kernel/elf_exec.h: validation of static x86-64 executables (ET_EXEC).
 *
 * Owns nothing: elf_exec_parse() reads an ELF image held in kernel memory
 * (a file of the root file system) and, if every check passes, describes
 * what to map: each PT_LOAD's virtual range, file bytes and rights, the
 * entry point, and the facts the initial stack's auxiliary vector needs
 * (AT_PHDR, AT_PHENT, AT_PHNUM) and the PT_TLS template (for the record;
 * the C library sets up TLS itself from AT_PHDR).
 *
 * Invariants of a successful parse (each is checked, the image is input):
 *   - ELFCLASS64, little endian, EV_CURRENT, ET_EXEC, EM_X86_64, the header
 *     and program header table inside the image, e_phentsize = 56;
 *   - no PT_INTERP and no PT_DYNAMIC (static executables only);
 *   - every PT_LOAD has filesz <= memsz, file bytes inside the image,
 *     vaddr + memsz without overflow and inside [ELF_EXEC_USER_MIN,
 *     limit), vaddr = offset modulo the page size, and is not empty;
 *   - PT_LOADs are in ascending address order and do not overlap (byte
 *     ranges; two may share a page, the mapper merges the rights);
 *   - the entry point lies in an executable PT_LOAD;
 *   - AT_PHDR is the address where the program headers are mapped (PT_PHDR
 *     if present, else computed from the PT_LOAD containing e_phoff), and
 *     lies inside a PT_LOAD.
 *
 * Callers: the process loader (kernel/process.c), host unit tests.  Pure
 * function, no locks, no allocation.
 * Errors: -ENOEXEC (not an executable we run: bad magic, class, type,
 * machine, dynamic), -EINVAL (malformed: a field is out of range, overlaps,
 * overflows), -E2BIG (more PT_LOADs than ELF_EXEC_MAX_SEGS).
 */
#ifndef KERNEL_ELF_EXEC_H
#define KERNEL_ELF_EXEC_H

#include <stddef.h>
#include <stdint.h>

#define ELF_EXEC_MAX_SEGS 16
#define ELF_EXEC_PAGE     4096ull
/* Nothing is mapped below this: NULL and its neighbourhood always fault. */
#define ELF_EXEC_USER_MIN 0x10000ull

#define ELF_EXEC_R 0x4u /* PF_R */
#define ELF_EXEC_W 0x2u /* PF_W */
#define ELF_EXEC_X 0x1u /* PF_X */

struct elf_exec_seg {
	uint64_t vaddr;  /* first byte (not page aligned) */
	uint64_t memsz;  /* bytes in memory; [filesz, memsz) are zero */
	uint64_t offset; /* file offset of the first byte */
	uint64_t filesz;
	uint32_t flags; /* ELF_EXEC_R | W | X */
};

struct elf_exec_info {
	uint64_t entry;
	uint64_t phdr_vaddr; /* AT_PHDR */
	uint32_t phent, phnum;
	uint32_t nsegs;
	struct elf_exec_seg seg[ELF_EXEC_MAX_SEGS];
	uint64_t lowest, highest; /* page-rounded extent of all PT_LOADs */
	uint64_t tls_vaddr, tls_filesz, tls_memsz, tls_align; /* 0 if no PT_TLS */
};

/* Validate image[0, len) as a static executable whose PT_LOADs must lie
 * below limit (the top of the user half); fill *out on success. */
int elf_exec_parse(const void *image, size_t len, uint64_t limit, struct elf_exec_info *out);

#endif
