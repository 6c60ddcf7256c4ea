/*
 * spindle/errno.h: error numbers.
 *
 * Commands return 0 or a negated value from this list (-ENOMEM).  The values
 * are Linux's, because the Linux-ABI personality returns them to user space
 * unchanged; kernel code uses the names only.  Services with richer failure
 * detail (pmm, heap, memmap) keep their own negative codes and document them.
 */
#ifndef SPINDLE_ERRNO_H
#define SPINDLE_ERRNO_H

#define EPERM  1
#define ENOENT 2
#define EIO    5
#define ENOMEM 12
#define EFAULT 14
#define EBUSY  16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38

#endif
