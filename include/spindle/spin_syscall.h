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
 *       `name` for the calling process: linked against SpinPublic and
 *       MachineTrap, its system-call handlers see only this process's calls,
 *       it is granted this process's Translation context (and, if it exports
 *       VMApp_Setup, handles for it and the process's range), and it is
 *       unloaded when the process ends; on failure the loader's or
 *       verifier's message (NUL-terminated, truncated to errlen) is copied
 *       to errbuf if non-NULL.
 *   SPIN_SYS_EXT_UNLOAD(name, errbuf, errlen)
 *       unload an extension this process loaded (-EPERM otherwise).
 *   SPIN_SYS_EXT_LIST(buf, len)
 *       the loaded extensions' names, one per line; returns the bytes
 *       written (the list is cut at a whole line).
 *
 * Numbers served by extensions rather than by spin_sys.c:
 *
 *   SPIN_XAS_* (the cross-address-space call, /ext/xas.o from user/ext/
 *   xas.c, loaded by the kernel with exts=/ext/xas.o): portals.
 *   SPIN_XAS_REGISTER()                  a portal this process serves: handle
 *   SPIN_XAS_GRANT(handle, pid)          give pid a handle: its number there
 *   SPIN_XAS_CALL(handle, arg, out)      call: rax 0 or -errno, the server's
 *                                        result in rdx (and at out, if not 0)
 *   SPIN_XAS_RETURN(handle, result, argp) answer the pending call (if any) and
 *                                        wait for the next: its argument in
 *                                        rdx (and at argp, if not 0)
 *   SPIN_XAS_REPLY(handle, result)       answer the pending call, do not wait
 *
 *   SPIN_EXT_BASE and up: application-specific system calls, served by
 *   extensions a process loads for itself (SPIN_SYS_EXT_LOAD); each such
 *   handler sees only the calls of the process that loaded it, and the
 *   numbers mean what that process and its extension agree (user/vmsys.h).
 */
#ifndef SPINDLE_SPIN_SYSCALL_H
#define SPINDLE_SPIN_SYSCALL_H

#define SPIN_SYS_BASE       0x53500000L
#define SPIN_SYS_EXT_LOAD   (SPIN_SYS_BASE + 0)
#define SPIN_SYS_EXT_UNLOAD (SPIN_SYS_BASE + 1)
#define SPIN_SYS_EXT_LIST   (SPIN_SYS_BASE + 2)
#define SPIN_SYS_COUNT      3

#define SPIN_XAS_BASE     (SPIN_SYS_BASE + 0x100)
#define SPIN_XAS_REGISTER (SPIN_XAS_BASE + 0)
#define SPIN_XAS_GRANT    (SPIN_XAS_BASE + 1)
#define SPIN_XAS_CALL     (SPIN_XAS_BASE + 2)
#define SPIN_XAS_RETURN   (SPIN_XAS_BASE + 3)
#define SPIN_XAS_REPLY    (SPIN_XAS_BASE + 4)
#define SPIN_XAS_COUNT    5

#define SPIN_EXT_BASE (SPIN_SYS_BASE + 0x1000)

#endif
