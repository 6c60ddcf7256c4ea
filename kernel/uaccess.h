/*
 * kernel/uaccess.h: copying between the kernel and the current user
 * address space.
 *
 * Every pointer a program passes is hostile.  These calls check that the
 * whole range lies in the user half ([0, USER_TOP), no wrap-around) and
 * then copy; a page that is not mapped, or not writable for copy_to_user,
 * makes the copy fail with -EFAULT instead of faulting the kernel (the arch
 * implementation, arch/x86_64/usercopy.S, recovers through an exception-
 * table fixup in the #PF path, and opens user access with stac/clac only
 * around the copy when SMAP is on).  A failed copy may have copied a
 * prefix; callers treat the whole call as failed.
 *
 * Host unit tests link a fake implementation over a simulated user memory
 * (tests/unit/fake_umem.c), so the code that uses these is tested with the
 * same contract.
 *
 * Callers: system-call handlers running on behalf of the current process
 * (strand context, interrupts on or off).  Never from interrupt handlers.
 * Errors: 0 or -EFAULT; strncpy_from_user returns the string's length.
 */
#ifndef KERNEL_UACCESS_H
#define KERNEL_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The user half ends one page below the canonical boundary (as Linux's
 * TASK_SIZE): sysret to the last canonical page is never needed. */
#define USER_TOP 0x00007ffffffff000ull

static inline bool uaccess_range_ok(uint64_t addr, uint64_t len)
{
	return addr <= USER_TOP && len <= USER_TOP - addr;
}

int copy_from_user(void *dst, uint64_t usrc, size_t n);
int copy_to_user(uint64_t udst, const void *src, size_t n);
/* Copy a NUL-terminated string of at most n-1 characters into dst[n].
 * Returns its length; n if no NUL was found within n bytes (dst is then
 * not terminated); -EFAULT. */
long strncpy_from_user(char *dst, uint64_t usrc, size_t n);

#endif
