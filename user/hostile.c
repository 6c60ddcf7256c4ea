/* hostile: every pointer-taking system call gets wild, kernel-half, null,
 * non-canonical, wrapping, read-only and unaligned pointers and huge
 * lengths; each must answer -EFAULT (or the errno Linux gives) and the
 * kernel must neither crash nor write where it may not.  Raw `syscall`
 * instructions, so the kernel's answer is seen unchanged. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define CHECK_PROG "hostile"
#include "check.h"
#include "rawsys.h"

#define EFAULT 14
#define EINVAL 22
#define EBADF  9
#define ENOMEM 12
#define ENOSYS 38

static const char text_in_rodata[] = "/etc/motd";

int main(void)
{
	const long bad[] = {0,
	                    8,
	                    0xffff800000000000l,
	                    0xffffffff80100000l,
	                    0x0000800000000000l,
	                    0x00007ffffffff000l,
	                    -1l,
	                    -4096l,
	                    0x7ffffffffff0l,
	                    0x123456789l /* unmapped */};
	const char *names[] = {"null",          "low",        "kernel-direct", "kernel-text",
	                       "non-canonical", "guard-page", "minus-one",     "minus-page",
	                       "top-edge",      "unmapped"};
	char buf[256], name[64];
	long fd = raw(SYS_openat, -100, (long)"/etc/motd", 0, 0, 0, 0);
	long dfd = raw(SYS_openat, -100, (long)"/", 0200000, 0, 0, 0);
	/* A read-only page: the destination of reads must fail there. */
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	expect("open /etc/motd", fd >= 3, 1);
	expect("open /", dfd >= 3, 1);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long p = bad[i];

#define T(call, want)                                                                              \
	do {                                                                                       \
		snprintf(name, sizeof(name), "%s(%s)", #call, names[i]);                           \
		expect(name, call, want);                                                          \
	} while (0)
		T(raw(SYS_write, 1, p, 16, 0, 0, 0), -EFAULT);
		T(raw(SYS_read, fd, p, 16, 0, 0, 0), -EFAULT);
		T(raw(SYS_writev, 1, p, 2, 0, 0, 0), -EFAULT);
		T(raw(SYS_openat, -100, p, 0, 0, 0, 0), -EFAULT);
		T(raw(SYS_open, p, 0, 0, 0, 0, 0), -EFAULT);
		T(raw(SYS_stat, p, (long)buf, 0, 0, 0, 0), -EFAULT);
		T(raw(SYS_stat, (long)"/", p, 0, 0, 0, 0), -EFAULT);
		T(raw(SYS_fstat, fd, p, 0, 0, 0, 0), -EFAULT);
		T(raw(SYS_newfstatat, -100, (long)"/etc", p, 0, 0, 0), -EFAULT);
		T(raw(SYS_newfstatat, -100, p, (long)buf, 0, 0, 0), -EFAULT);
		T(raw(SYS_getdents64, dfd, p, 4096, 0, 0, 0), -EFAULT);
		T(raw(SYS_ioctl, 1, 0x5413, p, 0, 0, 0), -EFAULT);
		T(raw(SYS_ioctl, 1, 0x5401, p, 0, 0, 0), -EFAULT);
		T(raw(SYS_uname, p, 0, 0, 0, 0, 0), -EFAULT);
		T(raw(SYS_clock_gettime, 1, p, 0, 0, 0, 0), -EFAULT);
		T(raw(SYS_nanosleep, p, 0, 0, 0, 0, 0), -EFAULT);
		T(raw(SYS_arch_prctl, 0x1003, p, 0, 0, 0, 0), -EFAULT);
	}
	/* Reads into a read-only page. */
	expect("read(ro)", raw(SYS_read, fd, (long)ro, 16, 0, 0, 0), -EFAULT);
	expect("uname(ro)", raw(SYS_uname, (long)ro, 0, 0, 0, 0, 0), -EFAULT);
	expect("fstat(ro)", raw(SYS_fstat, fd, (long)ro, 0, 0, 0, 0), -EFAULT);
	expect("getdents64(ro)", raw(SYS_getdents64, dfd, (long)ro, 4096, 0, 0, 0), -EFAULT);
	/* Ranges that start fine and run off into unmapped or kernel memory. */
	expect("write(len past the user half)", raw(SYS_write, 1, (long)buf, -1l, 0, 0, 0),
	       -EFAULT);
	expect("read(len past top)", raw(SYS_read, fd, 0x7ffffffff000l - 8, 64, 0, 0, 0), -EFAULT);
	/* Paths from read-only data and unaligned pointers are fine. */
	expect("open(rodata)", raw(SYS_openat, -100, (long)text_in_rodata, 0, 0, 0, 0) >= 3, 1);
	memcpy(buf + 1, "/etc/motd", 10);
	expect("open(unaligned)", raw(SYS_openat, -100, (long)(buf + 1), 0, 0, 0, 0) >= 3, 1);
	expect("fstat(unaligned)", raw(SYS_fstat, fd, (long)(buf + 3), 0, 0, 0, 0), 0);
	/* writev: an iovec with a kernel base, an iovec count beyond IOV_MAX. */
	{
		long iov[4] = {(long)"ok\n", 3, (long)0xffff800000000000l, 4};

		expect("writev(kernel base)", raw(SYS_writev, 1, (long)iov, 2, 0, 0, 0), -EFAULT);
		expect("writev(count)", raw(SYS_writev, 1, (long)iov, 100000, 0, 0, 0), -EINVAL);
		iov[3] = -5;
		iov[2] = (long)buf;
		expect("writev(negative length)", raw(SYS_writev, 1, (long)iov, 2, 0, 0, 0),
		       -EINVAL);
	}
	/* A path with no NUL before unmapped memory; a path longer than PATH_MAX. */
	{
		char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		               -1, 0);

		munmap(m + 2 * 4096, 4096);
		memset(m, '/', 2 * 4096);
		expect("open(no NUL before hole)",
		       raw(SYS_openat, -100, (long)(m + 2 * 4096 - 100), 0, 0, 0, 0), -EFAULT);
		m[5000] = 0;
		expect("open(path too long)", raw(SYS_openat, -100, (long)m, 0, 0, 0, 0), -36);
		m[4095] = 0;
		expect("open(4095 slashes)", raw(SYS_openat, -100, (long)m, 0, 0, 0, 0) >= 3, 1);
		expect("write(runs into hole)",
		       raw(SYS_write, 1, (long)(m + 2 * 4096 - 8), 16, 0, 0, 0), -EFAULT);
	}
	/* Bad descriptors, lengths and numbers. */
	expect("read(bad fd)", raw(SYS_read, 999, (long)buf, 1, 0, 0, 0), -EBADF);
	expect("close(-1)", raw(SYS_close, -1, 0, 0, 0, 0, 0), -EBADF);
	expect("mmap(len 0)", raw(SYS_mmap, 0, 0, 3, 0x22, -1, 0), -EINVAL);
	expect("mmap(huge)", raw(SYS_mmap, 0, -4096l, 3, 0x22, -1, 0), -ENOMEM);
	expect("mmap(fixed kernel)", raw(SYS_mmap, 0xffff800000000000l, 4096, 3, 0x32, -1, 0),
	       -ENOMEM);
	expect("munmap(kernel)", raw(SYS_munmap, 0xffff800000000000l, 4096, 0, 0, 0, 0), -EINVAL);
	expect("munmap(unaligned)", raw(SYS_munmap, (long)ro + 1, 4096, 0, 0, 0, 0), -EINVAL);
	expect("mprotect(kernel)", raw(SYS_mprotect, 0xffffffff80100000l, 4096, 7, 0, 0, 0),
	       -ENOMEM);
	expect("arch_prctl(kernel fs)",
	       raw(SYS_arch_prctl, 0x1002, 0xffff800000000000l, 0, 0, 0, 0), -1);
	expect("unknown 500", raw(500, 0, 0, 0, 0, 0, 0), -ENOSYS);
	expect("unknown 2^32+1", raw((1l << 32) | 1, 1, (long)buf, 1, 0, 0, 0), -ENOSYS);
	expect("unknown -1", raw(-1, 0, 0, 0, 0, 0, 0), -ENOSYS);
	expect("readlink(kernel buf)",
	       raw(SYS_readlink, (long)"/etc/issue", 0xffff800000000000l, 64, 0, 0, 0), -EFAULT);
	expect("readlink(ro buf)", raw(SYS_readlink, (long)"/etc/issue", (long)ro, 64, 0, 0, 0),
	       -EFAULT);
	expect("readlink", raw(SYS_readlink, (long)"/etc/issue", (long)buf, 64, 0, 0, 0), 4);
	/* The kernel never touches the user stack on entry: a system call made
	 * with a kernel or non-canonical stack pointer still works. */
	{
		static const long sps[] = {0, 0xffffffff80100000l, 0x0000800000000000l, -8};

		for (unsigned i = 0; i < sizeof(sps) / sizeof(sps[0]); i++) {
			long r, saved;

			__asm__ volatile("movq %%rsp, %1\n\t"
			                 "movq %2, %%rsp\n\t"
			                 "syscall\n\t"
			                 "movq %1, %%rsp"
			                 : "=a"(r), "=&r"(saved)
			                 : "r"(sps[i]), "0"((long)SYS_getpid)
			                 : "rcx", "r11", "memory");
			expect("getpid with a wild rsp", r, raw(SYS_getpid, 0, 0, 0, 0, 0, 0));
		}
	}
	/* Still alive and the console still works. */
	printf("hostile: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
