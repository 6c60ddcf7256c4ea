/*
 * smp_trampoline.S: where an application processor starts (arch/x86_64/smp.c).
 *
 * smp_tramp_start..smp_tramp_end is copied to SMP_TRAMP_PHYS (below 1 MiB,
 * page aligned) and the SIPI vector points the AP there: it starts in real
 * mode at SMP_TRAMP_PHYS:0 with CS = SMP_TRAMP_PHYS >> 4.  So this code
 * runs at a different address from the one it is linked at; every address
 * it uses is written TR(label), its physical address in the copy.
 *
 * Real mode -> protected mode (the trampoline's own GDT) -> long mode on
 * the boot page tables (boot.S's boot_pml4: an identity map of 0-4 GiB and
 * the kernel window, below 4 GiB as CR3 must be here) -> a jump to
 * smp_ap_entry64 in the kernel window, which loads the kernel's CR3 and the
 * AP's stack from the parameter block and calls smp_ap_main(percpu).  The
 * boot CPU fills the parameter block (struct smp_tramp_params in smp.c, the
 * same layout as below) before each SIPI.
 */
#include <arch/layout.h>
#include <arch/msr.h>
#include <arch/smp.h>

#define TR(x) (SMP_TRAMP_PHYS + ((x) - smp_tramp_start))

	.section .rodata
	.balign 16
	.globl smp_tramp_start, smp_tramp_end, smp_tramp_params
	.code16
smp_tramp_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	lgdtl TR(tramp_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax                            /* PE */
	movl %eax, %cr0
	ljmpl $0x08, $TR(tramp_pm32)

	.code32
tramp_pm32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $0x20, %eax                         /* PAE */
	movl %eax, %cr4
	movl TR(smp_tramp_params) + 0, %eax     /* boot_cr3 */
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl TR(smp_tramp_params) + 32, %eax     /* LME, and NXE if the boot CPU has it */
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax                   /* PG | WP | PE */
	movl %eax, %cr0
	ljmpl $0x18, $TR(tramp_lm64)

	.code64
tramp_lm64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movq TR(smp_tramp_params) + 8, %rax     /* kernel_cr3 */
	movq TR(smp_tramp_params) + 16, %rsp    /* stack top (mapped in kernel_cr3 only) */
	movq TR(smp_tramp_params) + 24, %rdi    /* struct percpu * */
	movabsq $smp_ap_entry64, %rbx
	jmp *%rbx

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff                /* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff                /* 0x10: data */
	.quad 0x00af9a000000ffff                /* 0x18: 64-bit code */
tramp_gdt_ptr:
	.short tramp_gdt_ptr - tramp_gdt - 1
	.long TR(tramp_gdt)

	.balign 8
smp_tramp_params:
	.quad 0                                 /* +0  boot_cr3 (below 4 GiB) */
	.quad 0                                 /* +8  kernel_cr3 */
	.quad 0                                 /* +16 stack top */
	.quad 0                                 /* +24 struct percpu * */
	.quad 0                                 /* +32 EFER bits to set */
smp_tramp_end:

/* In the kernel window now, still on the boot page tables. */
	.text
	.balign 16
	.type smp_ap_entry64, @function
smp_ap_entry64:
	movq %rax, %cr3
	xorl %ebp, %ebp                         /* ends the frame-pointer chain */
	call smp_ap_main                        /* never returns */
1:	cli
	hlt
	jmp 1b
	.size smp_ap_entry64, . - smp_ap_entry64
	.section .note.GNU-stack, "", @progbits
