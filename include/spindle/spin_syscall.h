/*
 * spindle/spin_syscall.h: Spindle's own system calls, for user programs.
 *
 * They share the syscall instruction with the personality's calls but use
 * numbers no personality uses: SPIN_SYS_BASE ("SP" << 20) and up.  They are
 * served by kernel/spin_sys.c, a trusted module handling MachineTrap.Syscall
 * for those numbers only.  Results are Linux-style: >= 0, or -errno.
 *
 *   SPIN_SYS_EXT_LOAD(path, name, errbuf, errlen)
 *       load the clang BPF object at path (root file system) as extension
 *       `name`, linked against SpinPublic, with the calling process as
 *       requester; on failure the loader's or verifier's message (NUL-
 *       terminated, truncated to errlen) is copied to errbuf if non-NULL.
 *   SPIN_SYS_EXT_UNLOAD(name, errbuf, errlen)
 *       unload an extension this process loaded (-EPERM otherwise).
 *   SPIN_SYS_EXT_LIST(buf, len)
 *       the loaded extensions' names, one per line; returns the bytes
 *       written (the list is cut at a whole line).
 */
#ifndef SPINDLE_SPIN_SYSCALL_H
#define SPINDLE_SPIN_SYSCALL_H

#define SPIN_SYS_BASE       0x53500000L
#define SPIN_SYS_EXT_LOAD   (SPIN_SYS_BASE + 0)
#define SPIN_SYS_EXT_UNLOAD (SPIN_SYS_BASE + 1)
#define SPIN_SYS_EXT_LIST   (SPIN_SYS_BASE + 2)
#define SPIN_SYS_COUNT      3

#endif
