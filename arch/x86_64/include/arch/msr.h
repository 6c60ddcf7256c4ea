/*
 * arch/msr.h: the model-specific register numbers and EFER bits Spindle uses,
 * each written once.  Usable from C and from assembly (.S files are built with
 * -D__ASSEMBLY__): only #defines, and the bits carry the unsigned suffix in C
 * alone, since the assembler does not accept it.  rdmsr()/wrmsr() are in
 * <arch/x86.h>, which includes this header.  For code under arch/x86_64/ and
 * its tests only.
 */
#ifndef ARCH_MSR_H
#define ARCH_MSR_H

#ifdef __ASSEMBLY__
#define MSR_BIT(n) (1 << (n))
#else
#define MSR_BIT(n) (1u << (n))
#endif

#define MSR_APIC_BASE      0x1b
#define MSR_X2APIC_REG0    0x800 /* x2APIC register r: MSR_X2APIC_REG0 + (r >> 4) */
#define MSR_X2APIC_ICR     0x830
#define MSR_EFER           0xc0000080
#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_FMASK          0xc0000084
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102 /* swapped with MSR_GS_BASE by swapgs */

#define EFER_SCE MSR_BIT(0) /* syscall/sysret */
#define EFER_LME MSR_BIT(8)
#define EFER_NXE MSR_BIT(11)

#endif
