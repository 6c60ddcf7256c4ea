/*
 * kernel/uerrno.h: the Linux error numbers the user-space services need
 * beyond those in <spindle/errno.h>.
 *
 * The values are Linux's (x86-64), because the Linux personality returns
 * them to programs unchanged.  Each is guarded, so when the shared header
 * grows to include one, that definition wins (they are equal anyway).
 * Include this after <spindle/errno.h>.
 */
#ifndef KERNEL_UERRNO_H
#define KERNEL_UERRNO_H

#include <spindle/errno.h>

#ifndef ESRCH
#define ESRCH 3
#endif
#ifndef EINTR
#define EINTR 4
#endif
#ifndef E2BIG
#define E2BIG 7
#endif
#ifndef ENOEXEC
#define ENOEXEC 8
#endif
#ifndef EBADF
#define EBADF 9
#endif
#ifndef ECHILD
#define ECHILD 10
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif
#ifndef EACCES
#define EACCES 13
#endif
#ifndef ENOTDIR
#define ENOTDIR 20
#endif
#ifndef EISDIR
#define EISDIR 21
#endif
#ifndef EPIPE
#define EPIPE 32
#endif
#ifndef EMFILE
#define EMFILE 24
#endif
#ifndef ENOTTY
#define ENOTTY 25
#endif
#ifndef ESPIPE
#define ESPIPE 29
#endif
#ifndef EROFS
#define EROFS 30
#endif
#ifndef ENAMETOOLONG
#define ENAMETOOLONG 36
#endif
#ifndef ELOOP
#define ELOOP 40
#endif
#ifndef EOPNOTSUPP
#define EOPNOTSUPP 95
#endif
#ifndef EOVERFLOW
#define EOVERFLOW 75
#endif

#endif
