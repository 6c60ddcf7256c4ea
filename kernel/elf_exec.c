/*
 * elf_exec.c: validate a static x86-64 ELF executable and describe its
 * segments (see kernel/elf_exec.h for the checks and their errors).
 *
 * The image is untrusted input: every field is read with memcpy from a
 * bounds-checked offset (the image need not be aligned), every sum of two
 * fields is checked for overflow before it is compared, and nothing is
 * written outside *out.  Nothing is mapped here; the process loader maps
 * what the parse returns.
 */
#include <stdbool.h>

#include "kernel/elf_exec.h"
#include "kernel/string.h"
#include "kernel/uerrno.h"

#define EI_NIDENT   16
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC     2
#define EM_X86_64   62

#define PT_LOAD    1
#define PT_DYNAMIC 2
#define PT_INTERP  3
#define PT_PHDR    6
#define PT_TLS     7

struct elf_exec_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_exec_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

_Static_assert(sizeof(struct elf_exec_ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(struct elf_exec_phdr) == 56, "ELF64 program header is 56 bytes");

/* a + b without wrapping, into *sum. */
static bool elf_exec_add(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

static bool elf_exec_in(uint64_t addr, const struct elf_exec_seg *s)
{
	return addr >= s->vaddr && addr - s->vaddr < s->memsz;
}

static int elf_exec_check_header(const struct elf_exec_ehdr *eh, size_t len)
{
	uint64_t table_end;

	if (memcmp(eh->ident, "\177ELF", 4) != 0)
		return -ENOEXEC;
	if (eh->ident[4] != ELFCLASS64 || eh->ident[5] != ELFDATA2LSB || eh->ident[6] != EV_CURRENT)
		return -ENOEXEC;
	if (eh->type != ET_EXEC || eh->machine != EM_X86_64 || eh->version != EV_CURRENT)
		return -ENOEXEC;
	if (eh->ehsize < sizeof(*eh) || eh->phentsize != sizeof(struct elf_exec_phdr))
		return -EINVAL;
	if (eh->phnum == 0 || eh->phnum == 0xffff) /* PN_XNUM: extended numbering */
		return -EINVAL;
	if (!elf_exec_add(eh->phoff, (uint64_t)eh->phnum * sizeof(struct elf_exec_phdr),
	                  &table_end) ||
	    table_end > len)
		return -EINVAL;
	return 0;
}

static int elf_exec_add_load(const struct elf_exec_phdr *ph, size_t len, uint64_t limit,
                             struct elf_exec_info *out)
{
	struct elf_exec_seg *s;
	uint64_t file_end, mem_end;

	if (ph->memsz == 0)
		return 0; /* maps nothing; allowed and ignored */
	if (out->nsegs == ELF_EXEC_MAX_SEGS)
		return -E2BIG;
	if (ph->filesz > ph->memsz)
		return -EINVAL;
	if (!elf_exec_add(ph->offset, ph->filesz, &file_end) || file_end > len)
		return -EINVAL;
	if (!elf_exec_add(ph->vaddr, ph->memsz, &mem_end) || ph->vaddr < ELF_EXEC_USER_MIN ||
	    mem_end > limit)
		return -EINVAL;
	if ((ph->vaddr - ph->offset) % ELF_EXEC_PAGE != 0)
		return -EINVAL;
	if (ph->flags & ~(ELF_EXEC_R | ELF_EXEC_W | ELF_EXEC_X))
		return -EINVAL;
	/* Ascending and disjoint: compare with the previous segment only. */
	if (out->nsegs > 0) {
		const struct elf_exec_seg *prev = &out->seg[out->nsegs - 1];

		if (ph->vaddr < prev->vaddr + prev->memsz)
			return -EINVAL;
	}
	s = &out->seg[out->nsegs++];
	s->vaddr = ph->vaddr;
	s->memsz = ph->memsz;
	s->offset = ph->offset;
	s->filesz = ph->filesz;
	s->flags = ph->flags;
	return 0;
}

int elf_exec_parse(const void *image, size_t len, uint64_t limit, struct elf_exec_info *out)
{
	const uint8_t *img = image;
	struct elf_exec_ehdr eh;
	bool have_phdr = false;
	uint64_t phdr = 0;
	int err;

	if (!image || !out || limit > (1ull << 47))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, img, sizeof(eh));
	err = elf_exec_check_header(&eh, len);
	if (err)
		return err;

	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct elf_exec_phdr ph;

		memcpy(&ph, img + eh.phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		switch (ph.type) {
		case PT_LOAD:
			err = elf_exec_add_load(&ph, len, limit, out);
			if (err)
				goto fail;
			break;
		case PT_INTERP:
		case PT_DYNAMIC:
			err = -ENOEXEC;
			goto fail;
		case PT_PHDR:
			if (ph.filesz < (uint64_t)eh.phnum * sizeof(ph)) {
				err = -EINVAL;
				goto fail;
			}
			phdr = ph.vaddr;
			have_phdr = true;
			break;
		case PT_TLS:
			if (ph.filesz > ph.memsz || (ph.align & (ph.align - 1)) != 0) {
				err = -EINVAL;
				goto fail;
			}
			out->tls_vaddr = ph.vaddr;
			out->tls_filesz = ph.filesz;
			out->tls_memsz = ph.memsz;
			out->tls_align = ph.align;
			break;
		default:
			break; /* GNU_STACK, NOTE, GNU_RELRO, ...: nothing to map */
		}
	}
	if (out->nsegs == 0) {
		err = -EINVAL;
		goto fail;
	}

	/* The entry must be in an executable segment. */
	err = -EINVAL;
	for (uint32_t i = 0; i < out->nsegs; i++)
		if (elf_exec_in(eh.entry, &out->seg[i]) && (out->seg[i].flags & ELF_EXEC_X))
			err = 0;
	if (err)
		goto fail;

	/* AT_PHDR: PT_PHDR, or where the PT_LOAD holding e_phoff maps it. */
	if (!have_phdr) {
		for (uint32_t i = 0; i < out->nsegs; i++) {
			const struct elf_exec_seg *s = &out->seg[i];

			if (eh.phoff >= s->offset && eh.phoff - s->offset < s->filesz) {
				phdr = s->vaddr + (eh.phoff - s->offset);
				have_phdr = true;
				break;
			}
		}
	}
	if (have_phdr) {
		bool mapped = false;
		uint64_t last = phdr + (uint64_t)eh.phnum * sizeof(struct elf_exec_phdr) - 1;

		for (uint32_t i = 0; i < out->nsegs; i++)
			if (elf_exec_in(phdr, &out->seg[i]) && elf_exec_in(last, &out->seg[i]))
				mapped = true;
		if (!mapped || last < phdr) {
			err = -EINVAL;
			goto fail;
		}
		out->phdr_vaddr = phdr;
	}

	out->entry = eh.entry;
	out->phent = sizeof(struct elf_exec_phdr);
	out->phnum = eh.phnum;
	out->lowest = out->seg[0].vaddr & ~(ELF_EXEC_PAGE - 1);
	{
		const struct elf_exec_seg *s = &out->seg[out->nsegs - 1];

		/* Cannot wrap: vaddr + memsz <= limit <= 2^47. */
		out->highest = (s->vaddr + s->memsz + ELF_EXEC_PAGE - 1) & ~(ELF_EXEC_PAGE - 1);
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return err;
}
