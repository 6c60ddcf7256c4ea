/* vmsys.h: the application-specific VM system calls that user/vmuser.c
 * and user/vmother.c agree on with their extension (user/ext/vmsys.c),
 * which each loads for itself.  Included by C programs and by the BPF
 * extension, so only constants. */
#ifndef USER_VMSYS_H
#define USER_VMSYS_H

#include <spindle/spin_syscall.h>

#define VM_PROTECT   (SPIN_EXT_BASE + 0) /* (addr, npages): read-only */
#define VM_UNPROTECT (SPIN_EXT_BASE + 1) /* (addr, npages): read-write */
#define VM_DIRTY     (SPIN_EXT_BASE + 2) /* (addr): 1 dirty | 2 accessed */
#define VM_REGION    (SPIN_EXT_BASE + 3) /* (addr, npages): faults resolved there */
#define VM_MODE      (SPIN_EXT_BASE + 4) /* (mode, other): returns faults resolved */
#define VM_PROT      (SPIN_EXT_BASE + 5) /* (addr): the page's protection */
#define VM_PROBE     (SPIN_EXT_BASE + 6) /* (x, addr): ExamineMapping(context ^ x) */
#define VM_CLOCK     (SPIN_EXT_BASE + 7) /* (): Clock.Cycles() read in the extension */
#define VM_TRAPPED   (SPIN_EXT_BASE + 8) /* (): Clock.Cycles() at the last trap-mode fault */
#define VM_COUNT     9

#define VM_MODE_FAULT  0 /* the handler unprotects the faulting page */
#define VM_MODE_APPEL1 1 /* ... and protects the page `other` */
#define VM_MODE_TRAP   2 /* as FAULT, reading the clock first thing (VM_TRAPPED) */

#endif
