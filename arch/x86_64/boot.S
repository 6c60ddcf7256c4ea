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
 * zero .bss, check that the CPU has long mode (a clear serial message and a
 * failure exit through isa-debug-exit if not), build temporary page tables
 * (identity map of 0-4 GiB so the boot information can still be read, and
 * the higher-half window 0xffffffff80000000 -> physical 0), enable long mode
 * and jump to the kernel's link address, where kmain() is called on the boot
 * stack.  kmain replaces these page tables with the final W^X ones as soon as
 * it knows the memory map (arch/x86_64/mmu.c).
 *
 * The kernel is linked at KERNEL_VMA + 1 MiB and loaded at 1 MiB physical, so
 * every symbol used before paging is written "sym - KERNEL_VMA".
 */
#include <arch/layout.h>

#define MB2_MAGIC       0xe85250d6
#define MB2_BOOT_MAGIC  0x36d76289
#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_PS  0x080
#define PHYS(x) ((x) - KERNEL_VMA)

/* ---- multiboot2 header (must be in the first 32 KiB of the file) ---- */
	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long 0                                 /* architecture: i386 (32-bit protected mode) */
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_MAGIC + (mb2_header_end - mb2_header))
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
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax                        /* LME */
	btl $20, %esi
	jnc 2f
	orl $0x800, %eax                        /* NXE */
2:	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax                   /* PG | WP | PE */
	movl %eax, %cr0

	lgdt PHYS(boot_gdt_ptr)
	ljmp $0x08, $PHYS(long_entry_low)

no_long_mode:
	movl $PHYS(msg_no_lm), %esi
3:	lodsb
	testb %al, %al
	jz 4f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 3b
4:	movw $0xf4, %dx
	movl $EXIT_CODE_BOOT_ERROR, %eax
	outl %eax, %dx
5:	hlt
	jmp 5b

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
msg_no_lm:
	.asciz "Spindle: boot error: this CPU has no 64-bit long mode\r\n"

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
