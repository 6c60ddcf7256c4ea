/*
 * elf.h - the ELF64 definitions the loader needs, written out here because
 * freestanding code may not include the C library's <elf.h>.
 *
 * Only what a BPF relocatable object uses: the file header, section
 * headers, symbols and REL relocations.  All fields are little-endian (the
 * loader refuses anything else) and the loader copies every record out of
 * the image with memcpy before reading it, so the image need not be
 * aligned.
 */
#ifndef RUNTIME_ELF_H
#define RUNTIME_ELF_H

#include <stdint.h>

#define ELF_EI_NIDENT  16
#define ELF_EI_CLASS   4
#define ELF_EI_DATA    5
#define ELF_EI_VERSION 6
#define ELF_CLASS64    2
#define ELF_DATA2LSB   1
#define ELF_EV_CURRENT 1
#define ELF_ET_REL     1
#define ELF_EM_BPF     247

struct elf64_ehdr {
	uint8_t e_ident[ELF_EI_NIDENT];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};

struct elf64_shdr {
	uint32_t sh_name;
	uint32_t sh_type;
	uint64_t sh_flags;
	uint64_t sh_addr;
	uint64_t sh_offset;
	uint64_t sh_size;
	uint32_t sh_link;
	uint32_t sh_info;
	uint64_t sh_addralign;
	uint64_t sh_entsize;
};

/* Section types and flags. */
#define ELF_SHT_NULL      0
#define ELF_SHT_PROGBITS  1
#define ELF_SHT_SYMTAB    2
#define ELF_SHT_STRTAB    3
#define ELF_SHT_RELA      4
#define ELF_SHT_NOBITS    8
#define ELF_SHT_REL       9
#define ELF_SHF_WRITE     0x1
#define ELF_SHF_ALLOC     0x2
#define ELF_SHF_EXECINSTR 0x4

/* Special section indices. */
#define ELF_SHN_UNDEF     0
#define ELF_SHN_LORESERVE 0xff00
#define ELF_SHN_ABS       0xfff1
#define ELF_SHN_COMMON    0xfff2
#define ELF_SHN_XINDEX    0xffff

struct elf64_sym {
	uint32_t st_name;
	uint8_t st_info;
	uint8_t st_other;
	uint16_t st_shndx;
	uint64_t st_value;
	uint64_t st_size;
};

#define ELF_ST_BIND(i)  ((i) >> 4)
#define ELF_ST_TYPE(i)  ((i)&0xf)
#define ELF_STB_LOCAL   0
#define ELF_STB_GLOBAL  1
#define ELF_STB_WEAK    2
#define ELF_STT_NOTYPE  0
#define ELF_STT_OBJECT  1
#define ELF_STT_FUNC    2
#define ELF_STT_SECTION 3

struct elf64_rel {
	uint64_t r_offset;
	uint64_t r_info;
};

#define ELF_R_SYM(i)  ((uint32_t)((i) >> 32))
#define ELF_R_TYPE(i) ((uint32_t)(i))

/* BPF relocation types (LLVM's BPFELFObjectWriter). */
#define R_BPF_NONE        0
#define R_BPF_64_64       1  /* lddw: address of a global */
#define R_BPF_64_ABS64    2  /* DWARF */
#define R_BPF_64_ABS32    3  /* DWARF, BTF */
#define R_BPF_64_NODYLD32 4  /* .BTF, .BTF.ext */
#define R_BPF_64_32       10 /* call: import or function in another section */

#endif
