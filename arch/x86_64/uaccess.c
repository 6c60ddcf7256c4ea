/*
 * uaccess.c: kernel/uaccess.h on x86-64 - range checks in C, the copy
 * itself in usercopy.S (SMAP window and fault fixup there).
 */
#include <spindle/errno.h>

#include "kernel/uaccess.h"

long uspace_copy(void *dst, const void *src, size_t n);
long uspace_strncpy(char *dst, const char *src, size_t n);

int copy_from_user(void *dst, uint64_t usrc, size_t n)
{
	if (!uaccess_range_ok(usrc, n))
		return -EFAULT;
	if (n == 0)
		return 0;
	return (int)uspace_copy(dst, (const void *)(uintptr_t)usrc, n);
}

int copy_to_user(uint64_t udst, const void *src, size_t n)
{
	if (!uaccess_range_ok(udst, n))
		return -EFAULT;
	if (n == 0)
		return 0;
	return (int)uspace_copy((void *)(uintptr_t)udst, src, n);
}

long strncpy_from_user(char *dst, uint64_t usrc, size_t n)
{
	size_t room;
	long r;

	if (usrc >= USER_TOP)
		return -EFAULT;
	room = USER_TOP - usrc < n ? (size_t)(USER_TOP - usrc) : n;
	r = uspace_strncpy(dst, (const char *)(uintptr_t)usrc, room);
	if (r >= 0 && (size_t)r == room && room < n)
		return -EFAULT; /* ran into the end of the user half */
	return r;
}
