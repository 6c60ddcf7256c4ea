/*
 * arch/bootproto.h: the numbers of the two boot protocols that reach the
 * kernel, written once for boot.S (which checks them before long mode) and
 * bootinfo.c/bootmod.c (which read the loader's information).  Usable from C
 * and assembly: only #defines, unsuffixed so that the assembler takes them.
 *
 *   - PVH (qemu -kernel): struct hvm_start_info begins with PVH_MAGIC.
 *   - multiboot2 (GRUB): the header in boot.S begins with MB2_HEADER_MAGIC,
 *     the loader enters with MB2_BOOT_MAGIC in %eax, and the information is a
 *     list of tags, of which Spindle reads the types below.
 */
#ifndef ARCH_BOOTPROTO_H
#define ARCH_BOOTPROTO_H

#define PVH_MAGIC 0x336ec578

#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_BOOT_MAGIC   0x36d76289
#define MB2_INFO_MAX     (1 << 20) /* sanity bound on the information's total_size */

#define MB2_TAG_END     0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE  3
#define MB2_TAG_MMAP    6

#endif
