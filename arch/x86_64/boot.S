/*
 * boot.S: the kernel's first instructions, and the boot headers that let one
 * ELF file start both ways Spindle supports.
 *
 *   - qemu -kernel reads the PVH ELF note (XEN_ELFNOTE_PHYS32_ENTRY, type 18)
 *     and enters pvh_entry in 32-bit protected mode, paging off, with %ebx =
 *     physical address of struct hvm_start_info.  %eax is undefined.
 *   - GRUB (multiboot2) reads the header in .multiboot2 and enters mb2_entry
 *     the same way, with %eax = 0x36d76289 and %ebx = the boot information.
 *
 * Both paths record which protocol they came from, then share one path:
 * check that RAM covers the whole image (BOOT_CHECK_RAM below; a clear
 * message and a failure exit if not), zero .bss, check that the CPU has long
 * mode (a clear serial message and a failure exit through isa-debug-exit if
 * not), build temporary page tables (identity map of 0-4 GiB so the boot
 * information can still be read, and the higher-half window
 * 0xffffffff80000000 -> physical 0), enable long mode
 * and jump to the kernel's link address, where kmain() is called on the boot
 * stack.  kmain replaces these page tables with the final W^X ones as soon as
 * it knows the memory map (arch/x86_64/mmu.c).
 *
 * The kernel is linked at KERNEL_VMA + 1 MiB and loaded at 1 MiB physical, so
 * every symbol used before paging is written "sym - KERNEL_VMA".
 */
#include <arch/bootproto.h>
#include <arch/layout.h>
#include <arch/msr.h>

#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_PS  0x080
#define PHYS(x) ((x) - KERNEL_VMA)
#define MAP_RAM         1                       /* PVH (e820) and multiboot2 agree */

/* Print the NUL-terminated string at %esi on COM1 (no stack; clobbers %eax, %edx). */
.macro BOOT_PUTS
8:	lodsb
	testb %al, %al
	jz 9f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 8b
9:
.endm

/*
 * Find, from the loader's map, whether RAM covers the whole image,
 * [KERNEL_PHYS, PHYS(__kernel_end)).  The loader copied the image's file
 * bytes wherever the addresses pointed, RAM or not: on a machine with too
 * little memory the .bss page tables and boot stack would land on nothing and
 * the CPU would triple-fault without a word.  This runs first, uses no stack
 * and no memory of the image outside .boot.text (kept within the image's
 * first BOOT_EARLY_MAX bytes by kernel.ld), and jumps to no_ram if a byte of
 * the image is not RAM.  A missing or malformed map skips the check: kmain
 * then reports the map itself.
 *
 * The map's entries are {u64 base, u64 length, u32 type, ...} in both
 * protocols.  Each pass over the map advances a cursor (%edi, the first byte
 * not yet known to be RAM) through every RAM entry containing it, so the
 * entries may come in any order and one range may span several entries; a
 * pass without progress means a hole.  %esp marks the cursor at the start of
 * a pass (there is no stack yet).  Keeps %ebx and %ebp; clobbers the rest.
 */
.macro BOOT_CHECK_RAM
	movl $KERNEL_PHYS, %edi
10:	cmpl $PHYS(__kernel_end), %edi
	jae 19f                                 /* all RAM */
	movl %edi, %esp
	/* %esi = first entry, %ecx = end of the entries, %edx = stride. */
	cmpl $BOOT_PROTO_PVH, %ebp
	jne 11f
	cmpl $PVH_MAGIC, 0(%ebx)
	jne 19f
	cmpl $1, 4(%ebx)                        /* the map exists from version 1 on */
	jb 19f
	cmpl $0, 44(%ebx)                       /* memmap_paddr above 4 GiB */
	jne 19f
	movl 40(%ebx), %esi
	movl 48(%ebx), %ecx                     /* memmap_entries */
	cmpl $4096, %ecx
	ja 19f
	imull $24, %ecx
	addl %esi, %ecx
	jc 19f
	movl $24, %edx
	jmp 14f
11:	cmpl $BOOT_PROTO_MB2, %ebp
	jne 19f
	/* multiboot2: tags from info+8 to info+total_size, each 8-aligned. */
	movl 0(%ebx), %ecx
	cmpl $MB2_INFO_MAX, %ecx
	ja 19f
	addl %ebx, %ecx
	jc 19f
	leal 8(%ebx), %esi
12:	leal 8(%esi), %eax
	cmpl %ecx, %eax
	ja 19f                                  /* no memory map tag */
	movl 4(%esi), %edx                      /* tag size */
	cmpl $8, %edx
	jb 19f
	cmpl $MB2_TAG_MMAP, 0(%esi)
	je 13f
	cmpl $0, 0(%esi)                        /* end tag */
	je 19f
	addl $7, %edx
	andl $~7, %edx
	addl %edx, %esi
	jc 19f
	jmp 12b
13:	cmpl $16, %edx
	jb 19f
	leal (%esi, %edx), %eax                 /* end of the tag ... */
	cmpl %ecx, %eax
	ja 19f                                  /* ... past total_size: malformed */
	movl %eax, %ecx
	movl 8(%esi), %edx                      /* entry_size */
	addl $16, %esi
	cmpl $20, %edx
	jb 19f
	/* One pass over the entries. */
14:	leal (%esi, %edx), %eax
	cmpl %ecx, %eax
	ja 17f                                  /* pass done */
	cmpl $MAP_RAM, 16(%esi)
	jne 16f
	cmpl $0, 4(%esi)                        /* base at or above 4 GiB: the image is below */
	jne 16f
	cmpl %edi, 0(%esi)
	ja 16f                                  /* starts after the cursor */
	movl 0(%esi), %eax
	addl 8(%esi), %eax                      /* end, low half */
	jc 15f
	cmpl $0, 12(%esi)
	jne 15f                                 /* length >= 4 GiB */
	cmpl %edi, %eax
	jbe 16f                                 /* ends at or before the cursor */
	movl %eax, %edi
	jmp 16f
15:	movl $0xffffffff, %edi                  /* RAM to 4 GiB or beyond */
16:	addl %edx, %esi
	jmp 14b
17:	cmpl %esp, %edi
	jne 10b                                 /* progress: another pass */
	jmp no_ram
19:
.endm

/* ---- multiboot2 header (must be in the first 32 KiB of the file) ---- */
	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long 0                                 /* architecture: i386 (32-bit protected mode) */
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_HEADER_MAGIC + (mb2_header_end - mb2_header))
	.balign 8
	/* entry address tag: where GRUB jumps (a physical address) */
	.short 3, 0
	.long 12
	.long PHYS(mb2_entry)
	.balign 8
	.short 0, 0                             /* end tag */
	.long 8
mb2_header_end:

/* ---- PVH ELF note read by QEMU's -kernel loader (TOOLCHAIN.md §1) ---- */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 8, 18                          /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad PHYS(pvh_entry)

/* ---- 32-bit entry ---- */
	.section .boot.text, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	cli
	cld
	movl $BOOT_PROTO_PVH, %ebp
	jmp common32

	.globl mb2_entry
mb2_entry:
	cli
	cld
	movl $BOOT_PROTO_MB2, %ebp
	cmpl $MB2_BOOT_MAGIC, %eax
	je common32
	movl $BOOT_PROTO_NONE, %ebp             /* kmain reports "no boot information" */

common32:
	/* %ebp = protocol, %ebx = boot information (physical). */
	BOOT_CHECK_RAM
	movl $PHYS(boot_stack_top), %esp
	movl %ebx, %esi                         /* cpuid below clobbers %ebx */

	/* Zero .bss: it holds the page tables and stacks built below. */
	movl $PHYS(__bss_start), %edi
	movl $PHYS(__bss_end), %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl %ebp, PHYS(boot_proto_raw)
	movl %esi, PHYS(boot_info_raw)

	/* Long mode needs CPUID leaf 0x80000001 EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	movl %edx, %esi                         /* keep: bit 20 is NX */

	/*
	 * Temporary page tables, 2 MiB pages:
	 *   PML4[0]   -> boot_pdpt_low:  PDPT[0..3]    -> boot_pd[0..3]  (0-4 GiB identity)
	 *   PML4[511] -> boot_pdpt_high: PDPT[510,511] -> boot_pd[0,1]   (-2 GiB -> 0-2 GiB)
	 *   PML4[273] -> boot_pdpt_low                  (DIRECT_MAP_BASE -> 0-4 GiB)
	 */
	movl $PHYS(boot_pd), %edi
	movl $(PTE_P | PTE_W | PTE_PS), %eax
	xorl %edx, %edx
	movl $2048, %ecx
1:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	loop 1b

	movl $PHYS(boot_pdpt_low), %edi
	movl $PHYS(boot_pd) + (PTE_P | PTE_W), %eax
	movl %eax, 0(%edi)
	addl $4096, %eax
	movl %eax, 8(%edi)
	addl $4096, %eax
	movl %eax, 16(%edi)
	addl $4096, %eax
	movl %eax, 24(%edi)

	movl $PHYS(boot_pdpt_high), %edi
	movl $PHYS(boot_pd) + (PTE_P | PTE_W), %eax
	movl %eax, 510*8(%edi)
	addl $4096, %eax
	movl %eax, 511*8(%edi)

	movl $PHYS(boot_pml4), %edi
	movl $PHYS(boot_pdpt_low) + (PTE_P | PTE_W), %eax
	movl %eax, 0(%edi)
	movl %eax, ((DIRECT_MAP_BASE >> 39) & 511)*8(%edi)   /* direct map of 0-4 GiB */
	movl $PHYS(boot_pdpt_high) + (PTE_P | PTE_W), %eax
	movl %eax, 511*8(%edi)

	/* CR4.PAE, CR3, EFER.LME (+NXE when present), then CR0.PG|WP. */
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl %edi, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	btl $20, %esi
	jnc 2f
	orl $EFER_NXE, %eax
2:	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax                   /* PG | WP | PE */
	movl %eax, %cr0

	lgdt PHYS(boot_gdt_ptr)
	ljmp $0x08, $PHYS(long_entry_low)

no_long_mode:
	movl $PHYS(msg_no_lm), %esi
	BOOT_PUTS
	jmp boot_error32

	/* The image is not all RAM: say where it must be, then fail. */
no_ram:
	movl $PHYS(msg_no_ram), %esi
	BOOT_PUTS
	movl $PHYS(__kernel_end), %edi
	movl $8, %ecx
6:	roll $4, %edi                           /* next hex digit, most significant first */
	movl %edi, %eax
	andl $15, %eax
	cmpb $10, %al
	jb 7f
	addb $('a' - '0' - 10), %al
7:	addb $'0', %al
	movw $0x3f8, %dx
	outb %al, %dx
	loop 6b
	movl $PHYS(msg_no_ram_end), %esi
	BOOT_PUTS

boot_error32:
	movw $0xf4, %dx
	movl $EXIT_CODE_BOOT_ERROR, %eax
	outl %eax, %dx
5:	hlt
	jmp 5b

	/* Read by the paths above before the rest of the image is known to be
	 * RAM, so kept here, in .boot.text, not in .rodata. */
msg_no_lm:
	.asciz "Spindle: boot error: this CPU has no 64-bit long mode\r\n"
msg_no_ram:
	.asciz "Spindle: boot error: not enough memory: the kernel image needs RAM from 0x00100000 to 0x"
msg_no_ram_end:
	.asciz " (give QEMU more with -m)\r\n"

	.code64
long_entry_low:
	movabsq $long_entry_high, %rax
	jmp *%rax

	.text
long_entry_high:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movabsq $boot_stack_top, %rsp
	movl boot_proto_raw(%rip), %edi
	movl boot_info_raw(%rip), %esi
	xorl %ebp, %ebp                         /* ends the frame-pointer chain */
	call kmain
7:	cli
	hlt
	jmp 7b

/* ---- data used before paging ---- */
	.section .rodata
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00209a0000000000                /* 0x08: 64-bit kernel code */
	.quad 0x0000920000000000                /* 0x10: kernel data */
boot_gdt_ptr:
	.short boot_gdt_ptr - boot_gdt - 1
	.long PHYS(boot_gdt)

	.data
	.balign 4
	.globl boot_proto_raw, boot_info_raw
boot_proto_raw:	.long 0
boot_info_raw:	.long 0

/* ---- page tables and the boot stack (zeroed above) ---- */
	.section .bss.boot, "aw", @nobits
	.balign 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt_low:	.skip 4096
boot_pdpt_high:	.skip 4096
boot_pd:	.skip 4 * 4096
	/* The page below the boot stack stays unmapped in the final page
	 * tables (mmu.c): an overflow faults instead of corrupting .bss. */
	.globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:	.skip 4096
boot_stack_bottom:	.skip BOOT_STACK_SIZE
boot_stack_top:
