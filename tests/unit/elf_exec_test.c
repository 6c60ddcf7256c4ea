/*
 * elf_exec_test.c: kernel/elf_exec.c against well-formed and hostile
 * executables built in memory, plus a real musl binary when one is given
 * in $ELF_EXEC_SAMPLE (the suite passes build/user/bin/hello).
 */
#include <stdint.h>
#include <string.h>

#include "kernel/elf_exec.h"
#include "kernel/uerrno.h"
#include "tests/unit/check.h"

#define LIMIT 0x00007ffffffff000ull

struct ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static uint8_t img[0x4000];

static struct ehdr *eh(void)
{
	return (struct ehdr *)img;
}
static struct phdr *ph(int i)
{
	return (struct phdr *)(img + 64 + 56 * i);
}

/* A typical static executable: text at 0x401000 (RX), data at 0x402000 (RW). */
static void build(void)
{
	memset(img, 0, sizeof(img));
	memcpy(eh()->ident, "\177ELF\2\1\1", 7);
	eh()->type = 2;
	eh()->machine = 62;
	eh()->version = 1;
	eh()->entry = 0x401010;
	eh()->phoff = 64;
	eh()->ehsize = 64;
	eh()->phentsize = 56;
	eh()->phnum = 4;
	*ph(0) = (struct phdr){1, 4, 0, 0x400000, 0x400000, 0x200, 0x200, 0x1000}; /* R: headers */
	*ph(1) = (struct phdr){1, 5, 0x1000, 0x401000, 0x401000, 0x800, 0x800, 0x1000}; /* RX */
	*ph(2) =
	    (struct phdr){1, 6, 0x2000, 0x402000, 0x402000, 0x100, 0x3000, 0x1000}; /* RW+bss */
	*ph(3) = (struct phdr){7, 4, 0x2000, 0x402000, 0x402000, 0x10, 0x20, 8};    /* TLS */
}

static int parse(size_t len, struct elf_exec_info *info)
{
	return elf_exec_parse(img, len, LIMIT, info);
}

static void good_executable(void)
{
	struct elf_exec_info info;

	build();
	CHECK_EQ(parse(sizeof(img), &info), 0);
	CHECK_EQ(info.entry, 0x401010);
	CHECK_EQ(info.nsegs, 3);
	CHECK_EQ(info.phdr_vaddr, 0x400040);
	CHECK_EQ(info.phnum, 4);
	CHECK_EQ(info.phent, 56);
	CHECK_EQ(info.seg[2].memsz, 0x3000);
	CHECK_EQ(info.seg[2].flags, ELF_EXEC_R | ELF_EXEC_W);
	CHECK_EQ(info.lowest, 0x400000);
	CHECK_EQ(info.highest, 0x405000);
	CHECK_EQ(info.tls_memsz, 0x20);
}

static void pt_phdr_is_used(void)
{
	struct elf_exec_info info;

	build();
	*ph(3) = (struct phdr){6, 4, 64, 0x400040, 0x400040, 4 * 56, 4 * 56, 8};
	CHECK_EQ(parse(sizeof(img), &info), 0);
	CHECK_EQ(info.phdr_vaddr, 0x400040);
	ph(3)->vaddr = 0x900000; /* PT_PHDR pointing at nothing mapped */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	ph(3)->vaddr = 0x400040;
	ph(3)->filesz = 10; /* too small for the table */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
}

static void bad_identity(void)
{
	struct elf_exec_info info;

	build();
	img[0] = 0x7e;
	CHECK_EQ(parse(sizeof(img), &info), -ENOEXEC);
	build();
	img[4] = 1; /* ELFCLASS32 */
	CHECK_EQ(parse(sizeof(img), &info), -ENOEXEC);
	build();
	img[5] = 2; /* big endian */
	CHECK_EQ(parse(sizeof(img), &info), -ENOEXEC);
	build();
	eh()->type = 3; /* ET_DYN */
	CHECK_EQ(parse(sizeof(img), &info), -ENOEXEC);
	build();
	eh()->machine = 3; /* i386 */
	CHECK_EQ(parse(sizeof(img), &info), -ENOEXEC);
	build();
	ph(3)->type = 3; /* PT_INTERP */
	CHECK_EQ(parse(sizeof(img), &info), -ENOEXEC);
	build();
	CHECK_EQ(parse(10, &info), -ENOEXEC); /* truncated header */
	CHECK_EQ(parse(0, &info), -ENOEXEC);
	CHECK_EQ(elf_exec_parse(NULL, 100, LIMIT, &info), -EINVAL);
	CHECK_EQ(elf_exec_parse(img, sizeof(img), LIMIT, NULL), -EINVAL);
}

static void bad_program_header_table(void)
{
	struct elf_exec_info info;

	build();
	eh()->phentsize = 32;
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	eh()->phoff = sizeof(img) - 100; /* table runs past the end */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	eh()->phoff = ~0ull - 10; /* phoff + size wraps */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	eh()->phnum = 0;
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	eh()->phnum = 0xffff;
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	CHECK_EQ(parse(64 + 56 * 3, &info), -EINVAL); /* the last entry is cut */
}

static void bad_segments(void)
{
	struct elf_exec_info info;
	int r;

	build();
	ph(2)->filesz = 0x4000; /* filesz > memsz */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(2)->offset = sizeof(img) - 0x10; /* file bytes past the end */
	ph(2)->vaddr = 0x402000 + (sizeof(img) - 0x10) % 0x1000;
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(2)->offset = ~0ull - 0x50; /* offset + filesz wraps */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(2)->vaddr = 0x0000800000000000ull; /* kernel half */
	ph(2)->offset = 0;
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(2)->vaddr = LIMIT - 0x1000; /* ends past the user limit */
	ph(2)->offset = 0;
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(2)->vaddr = ~0ull - 0xfff; /* vaddr + memsz wraps */
	ph(2)->offset = 0;
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(0)->vaddr = 0; /* maps page zero */
	ph(0)->memsz = ph(0)->filesz = 0x200;
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(2)->vaddr = 0x401700; /* overlaps the text segment */
	ph(2)->offset = 0x2700;
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(2)->vaddr = 0x402008; /* vaddr and offset disagree modulo the page */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(1)->flags = 4; /* entry not executable */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	eh()->entry = 0x900000; /* entry outside every segment */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	ph(1)->flags = 0x80000005; /* unknown flag bits */
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	build();
	/* Out of order. */
	{
		struct phdr t = *ph(1);

		*ph(1) = *ph(2);
		*ph(2) = t;
	}
	CHECK_EQ(parse(sizeof(img), &info), -EINVAL);
	/* Too many segments. */
	build();
	eh()->phnum = ELF_EXEC_MAX_SEGS + 2;
	for (int i = 0; i < ELF_EXEC_MAX_SEGS + 2; i++)
		*ph(i) = (struct phdr){1, 5,    0x1000, 0x401000 + 0x1000 * (uint64_t)i,
		                       0, 0x10, 0x10,   0x1000};
	eh()->entry = 0x401000;
	r = parse(sizeof(img), &info);
	CHECK_EQ(r, -E2BIG);
	/* Failure leaves *info zeroed. */
	CHECK_EQ(info.nsegs, 0);
	CHECK_EQ(info.entry, 0);
}

/* Sharing a page (not bytes) between segments is allowed. */
static void shared_page_allowed(void)
{
	struct elf_exec_info info;

	build();
	ph(2)->vaddr = 0x401800 + 0x1000 * 0; /* same page as the text's tail */
	ph(2)->offset = 0x1800;
	ph(2)->filesz = 0x100;
	ph(2)->memsz = 0x100;
	CHECK_EQ(parse(sizeof(img), &info), 0);
}

/* Every truncation and every single-byte corruption of the header and
 * table must be refused or parsed cleanly, never crash (ASan watches). */
static void fuzz_corruptions(void)
{
	struct elf_exec_info info;
	uint8_t orig[64 + 4 * 56];

	build();
	memcpy(orig, img, sizeof(orig));
	for (size_t len = 0; len < sizeof(orig); len++)
		(void)parse(len, &info);
	for (size_t i = 0; i < sizeof(orig); i++)
		for (int v = 0; v < 256; v += 17) {
			img[i] = (uint8_t)v;
			if (parse(sizeof(img), &info) == 0) {
				CHECK(info.nsegs > 0 && info.highest <= LIMIT);
				CHECK(info.lowest >= ELF_EXEC_USER_MIN);
			}
			img[i] = orig[i];
		}
}

static void real_binary(void)
{
	const char *path = getenv("ELF_EXEC_SAMPLE");
	FILE *probe;
	struct elf_exec_info info;
	static uint8_t buf[4 << 20];
	FILE *f;
	size_t n;

	if (!path) {
		/* The musl hello of `make user`, when it has been built. */
		path = "build/user/bin/hello";
		probe = fopen(path, "rb");
		if (!probe) {
			printf("real_binary: %s not built; skipped\n", path);
			return;
		}
		fclose(probe);
	}
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK_EQ(elf_exec_parse(buf, n, LIMIT, &info), 0);
	CHECK(info.nsegs >= 2);
	CHECK(info.phdr_vaddr != 0);
}

int main(void)
{
	RUN(good_executable);
	RUN(pt_phdr_is_used);
	RUN(bad_identity);
	RUN(bad_program_header_table);
	RUN(bad_segments);
	RUN(shared_page_allowed);
	RUN(fuzz_corruptions);
	RUN(real_binary);
	return check_done();
}
