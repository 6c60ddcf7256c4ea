/*
 * lx_test.c: the Linux personality (kernel/linux/) over a fake host (page
 * mapping recorded in a bitmap, console captured) and a fake user memory
 * (tests/unit/fake_umem.c).  Every pointer-taking call is fed wild,
 * kernel-half, wrapping and read-only pointers; a random storm of hostile
 * calls at the end must never crash (ASan/UBSan watch).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/linux/lx.h"
#include "kernel/rootfs.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"
#include "tests/unit/check.h"
#include "tests/unit/cpio_ar.h"
#include "tests/unit/fake_umem.h"

#define BRK0     0x01000000ull
#define MMAP_MIN 0x40000000ull
#define MMAP_TOP 0x40100000ull /* 256 pages */
#define KPTR     0xffff888000001000ull
#define WRAP     0xfffffffffffff000ull

static char console[1 << 16];
static size_t console_len;
static uint8_t mapped[(MMAP_TOP >> 12) + 1]; /* low pages only: brk and mmap */
static uint64_t fs_base_set, slept;
static int map_calls, fail_next_map;

static void page_set(uint64_t va, uint64_t len, uint8_t v)
{
	for (uint64_t a = va; a < va + len; a += 4096)
		if ((a >> 12) < sizeof(mapped))
			mapped[a >> 12] = v;
}
static int h_map(void *ctx, uint64_t va, uint64_t len, uint32_t prot)
{
	(void)ctx;
	map_calls++;
	if (fail_next_map) {
		fail_next_map = 0;
		return -ENOMEM;
	}
	CHECK((va & 4095) == 0 && (len & 4095) == 0 && len > 0);
	for (uint64_t a = va; a < va + len; a += 4096)
		if ((a >> 12) < sizeof(mapped))
			CHECK(mapped[a >> 12] == 0); /* never mapped twice */
	page_set(va, len, (uint8_t)(0x80 | prot));
	return 0;
}
static void h_unmap(void *ctx, uint64_t va, uint64_t len)
{
	(void)ctx;
	page_set(va, len, 0);
}
static int h_protect(void *ctx, uint64_t va, uint64_t len, uint32_t prot)
{
	(void)ctx;
	for (uint64_t a = va; a < va + len; a += 4096)
		if ((a >> 12) < sizeof(mapped) && mapped[a >> 12])
			mapped[a >> 12] = (uint8_t)(0x80 | prot);
	return 0;
}
static void h_set_fs(void *ctx, uint64_t base)
{
	(void)ctx;
	fs_base_set = base;
}
static long h_write(void *ctx, const char *b, size_t n)
{
	(void)ctx;
	if (console_len + n < sizeof(console)) {
		memcpy(console + console_len, b, n);
		console_len += n;
	}
	return (long)n;
}
static uint64_t h_now(void *ctx)
{
	(void)ctx;
	return 5000000123ull;
}
static void h_sleep(void *ctx, uint64_t ns)
{
	(void)ctx;
	slept += ns;
}
/* Processes, pipes and blocking are lx_proc_test.c's: here they only
 * have to be there. */
static void h_lock(void *ctx)
{
	(void)ctx;
}
static void h_unlock(void *ctx)
{
	(void)ctx;
}
static void h_block(void *ctx, uint64_t nr)
{
	(void)ctx, (void)nr;
}
static long h_fork(void *ctx, uint64_t flags, uint64_t ptid, uint64_t ctid, uint64_t sp)
{
	(void)ctx, (void)flags, (void)ptid, (void)ctid, (void)sp;
	return -ENOSYS;
}
static long h_exec(void *ctx)
{
	(void)ctx;
	return -ENOSYS;
}
static long h_wait(void *ctx)
{
	(void)ctx;
	return -ECHILD;
}
static long h_kill(void *ctx, int pid, int sig)
{
	(void)ctx, (void)pid, (void)sig;
	return -ESRCH;
}
static const struct lx_host_ops ops = {
    .vm_map = h_map,
    .vm_unmap = h_unmap,
    .vm_protect = h_protect,
    .set_fs_base = h_set_fs,
    .console_write = h_write,
    .now_ns = h_now,
    .sleep_ns = h_sleep,
    .lock = h_lock,
    .unlock = h_unlock,
    .block = h_block,
    .fork = h_fork,
    .exec = h_exec,
    .wait = h_wait,
    .kill = h_kill,
};

/* ---- an archive for the file tests ---- */
static uint8_t ar[8192];
static size_t arlen;
static void ar_add(const char *name, uint32_t mode, const char *data)
{
	cpio_ar_add(ar, &arlen, name, mode, data);
}

static struct rootfs *fs;
static struct lx_proc proc;

static void setup(void)
{
	memset(mapped, 0, sizeof(mapped));
	memset(fake_umem, 0, sizeof(fake_umem));
	console_len = 0;
	if (!fs) {
		ar_add("etc/motd", 0100644, "hello from the rootfs\n");
		ar_add("bin/hello", 0100755, "ELF");
		ar_add("lnk", 0120777, "etc/motd");
		ar_add("TRAILER!!!", 0, NULL);
		CHECK_EQ(rootfs_create(ar, arlen, &fs), 0);
	}
	CHECK_EQ(lx_proc_init(&proc, &ops, NULL, fs, 7, 1, BRK0, MMAP_MIN, MMAP_TOP), 0);
}

static void teardown(void)
{
	lx_proc_fini(&proc);
}

static long sys(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                uint64_t a5)
{
	const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};

	return lx_syscall(&proc, nr, a);
}
#define SYS0(n)                   sys(n, 0, 0, 0, 0, 0, 0)
#define SYS1(n, a)                sys(n, a, 0, 0, 0, 0, 0)
#define SYS2(n, a, b)             sys(n, a, b, 0, 0, 0, 0)
#define SYS3(n, a, b, c)          sys(n, a, b, c, 0, 0, 0)
#define SYS4(n, a, b, c, d)       sys(n, a, b, c, d, 0, 0)
#define SYS6(n, a, b, c, d, e, f) sys(n, a, b, c, d, e, f)

static uint64_t ustr(size_t off, const char *s)
{
	memcpy(fake_umem + off, s, strlen(s) + 1);
	return U(off);
}

/* The pointers every pointer-taking call must refuse with -EFAULT. */
static const uint64_t bad_ptrs[] = {0,
                                    8,
                                    KPTR,
                                    WRAP,
                                    0x00007ffffffff000ull,
                                    0x0000800000000000ull,
                                    U(FAKE_UMEM_SIZE) /* just past the fake memory */};

static void console_write(void)
{
	setup();
	memcpy(fake_umem, "hi there", 8);
	CHECK_EQ(SYS3(LX_SYS_write, 1, U(0), 8), 8);
	CHECK_EQ(SYS3(LX_SYS_write, 2, U(0), 2), 2);
	CHECK_EQ(console_len, 10);
	CHECK(memcmp(console, "hi therehi", 10) == 0);
	CHECK_EQ(SYS3(LX_SYS_write, 1, U(0), 0), 0);
	CHECK_EQ(SYS3(LX_SYS_write, 9, U(0), 1), -EBADF);
	CHECK_EQ(SYS3(LX_SYS_write, (uint64_t)-1, U(0), 1), -EBADF);
	CHECK_EQ(SYS3(LX_SYS_write, 1ull << 32 | 1, U(0), 1), 1); /* fd is an int */
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++)
		CHECK_EQ(SYS3(LX_SYS_write, 1, bad_ptrs[i], 5), -EFAULT);
	CHECK_EQ(SYS3(LX_SYS_write, 1, U(FAKE_UMEM_SIZE - 4), 8), -EFAULT); /* runs off */
	/* A huge length is capped; the copy stops where user memory ends and
	 * the bytes written so far are the result, as for a Linux tty. */
	CHECK_EQ(SYS3(LX_SYS_write, 1, U(0), ~0ull), FAKE_UMEM_SIZE);
	/* read from the console: end of file */
	CHECK_EQ(SYS3(LX_SYS_read, 0, U(0), 10), 0);
	teardown();
}

static void writev_calls(void)
{
	uint64_t iov[6];

	setup();
	memcpy(fake_umem + 100, "abc", 3);
	memcpy(fake_umem + 200, "defg", 4);
	iov[0] = U(100), iov[1] = 3, iov[2] = U(200), iov[3] = 4, iov[4] = 0, iov[5] = 0;
	memcpy(fake_umem + 300, iov, sizeof(iov));
	CHECK_EQ(SYS3(LX_SYS_writev, 1, U(300), 3), 7);
	CHECK(memcmp(console, "abcdefg", 7) == 0);
	CHECK_EQ(SYS3(LX_SYS_writev, 1, U(300), 0), 0);
	CHECK_EQ(SYS3(LX_SYS_writev, 1, U(300), 1025), -EINVAL);
	CHECK_EQ(SYS3(LX_SYS_writev, 1, U(300), ~0ull), -EINVAL);
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++)
		CHECK_EQ(SYS3(LX_SYS_writev, 1, bad_ptrs[i], 1), -EFAULT);
	/* An iovec whose base is bad: nothing is written. */
	console_len = 0;
	iov[2] = KPTR;
	memcpy(fake_umem + 300, iov, sizeof(iov));
	CHECK_EQ(SYS3(LX_SYS_writev, 1, U(300), 2), -EFAULT);
	CHECK_EQ(console_len, 0);
	/* A length that is negative as ssize_t. */
	iov[1] = 1ull << 63, iov[3] = 4; /* a negative length */
	iov[2] = U(200);
	memcpy(fake_umem + 300, iov, sizeof(iov));
	CHECK_EQ(SYS3(LX_SYS_writev, 1, U(300), 2), -EINVAL);
	CHECK_EQ(SYS3(LX_SYS_writev, 5, U(300), 1), -EBADF);
	teardown();
}

static void files(void)
{
	long fd;

	setup();
	fd = SYS4(LX_SYS_openat, (uint64_t)-100, ustr(0, "/etc/motd"), 0, 0);
	CHECK_EQ(fd, 3);
	CHECK_EQ(SYS3(LX_SYS_read, fd, U(100), 5), 5);
	CHECK(memcmp(fake_umem + 100, "hello", 5) == 0);
	CHECK_EQ(SYS3(LX_SYS_lseek, fd, 0, 1), 5);
	CHECK_EQ(SYS3(LX_SYS_lseek, fd, (uint64_t)-2, 2), 20);
	CHECK_EQ(SYS3(LX_SYS_read, fd, U(100), 64), 2);
	CHECK_EQ(SYS3(LX_SYS_read, fd, U(100), 64), 0);
	CHECK_EQ(SYS3(LX_SYS_lseek, fd, (uint64_t)-1, 0), -EINVAL);
	CHECK_EQ(SYS3(LX_SYS_lseek, fd, 0, 3), -EINVAL);
	CHECK_EQ(SYS3(LX_SYS_lseek, fd, INT64_MAX, 2), -EOVERFLOW);
	CHECK_EQ(SYS3(LX_SYS_lseek, 1, 0, 0), -ESPIPE);
	CHECK_EQ(SYS3(LX_SYS_lseek, fd, 0, 0), 0);
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++)
		CHECK_EQ(SYS3(LX_SYS_read, fd, bad_ptrs[i], 4), -EFAULT);
	/* Into the read-only last page of the fake memory. */
	CHECK_EQ(SYS3(LX_SYS_read, fd, U(FAKE_UMEM_SIZE - 100), 4), -EFAULT);
	CHECK_EQ(SYS3(LX_SYS_write, fd, U(0), 1), -EBADF);
	CHECK_EQ(SYS3(LX_SYS_ioctl, fd, 0x5413, U(0)), -ENOTTY);
	/* fstat */
	CHECK_EQ(SYS2(LX_SYS_fstat, fd, U(512)), 0);
	{
		uint64_t size, mode_word;

		memcpy(&size, fake_umem + 512 + 48, 8);
		memcpy(&mode_word, fake_umem + 512 + 24, 8);
		CHECK_EQ(size, 22);
		CHECK_EQ(mode_word & 0xffffffff, 0100644);
	}
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++)
		CHECK_EQ(SYS2(LX_SYS_fstat, fd, bad_ptrs[i]), -EFAULT);
	CHECK_EQ(SYS1(LX_SYS_close, fd), 0);
	CHECK_EQ(SYS1(LX_SYS_close, fd), -EBADF);
	CHECK_EQ(SYS3(LX_SYS_read, fd, U(100), 5), -EBADF);
	/* open errors */
	CHECK_EQ(SYS4(LX_SYS_openat, (uint64_t)-100, ustr(0, "/nope"), 0, 0), -ENOENT);
	CHECK_EQ(SYS4(LX_SYS_openat, (uint64_t)-100, ustr(0, "/nope"), 0100, 0), -EROFS);
	CHECK_EQ(SYS4(LX_SYS_openat, (uint64_t)-100, ustr(0, "/etc/motd"), 1, 0), -EROFS);
	CHECK_EQ(SYS4(LX_SYS_openat, (uint64_t)-100, ustr(0, "/etc"), 2, 0), -EISDIR);
	CHECK_EQ(SYS4(LX_SYS_openat, (uint64_t)-100, ustr(0, "/etc/motd"), 0200000, 0), -ENOTDIR);
	CHECK_EQ(SYS4(LX_SYS_openat, (uint64_t)-100, ustr(0, "/lnk"), 0400000, 0), -ELOOP);
	CHECK_EQ(SYS4(LX_SYS_openat, 55, ustr(0, "motd"), 0, 0), -EBADF);
	CHECK_EQ(SYS4(LX_SYS_openat, 1, ustr(0, "motd"), 0, 0), -ENOTDIR);
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++)
		CHECK_EQ(SYS4(LX_SYS_openat, (uint64_t)-100, bad_ptrs[i], 0, 0), -EFAULT);
	/* A path that runs into the end of user memory without a NUL. */
	memset(fake_umem + FAKE_UMEM_SIZE - 16, 'a', 16);
	CHECK_EQ(SYS4(LX_SYS_openat, (uint64_t)-100, U(FAKE_UMEM_SIZE - 16), 0, 0), -EFAULT);
	memset(fake_umem + 1000, 'a', 5000);
	fake_umem[6000] = 0;
	CHECK_EQ(SYS4(LX_SYS_openat, (uint64_t)-100, U(1000), 0, 0), -ENAMETOOLONG);
	/* relative to a directory fd, and the legacy open */
	fd = SYS4(LX_SYS_openat, (uint64_t)-100, ustr(0, "/etc"), 0200000, 0);
	CHECK_EQ(fd, 3);
	CHECK_EQ(SYS4(LX_SYS_openat, fd, ustr(0, "motd"), 0, 0), 4);
	CHECK_EQ(SYS3(LX_SYS_open, ustr(0, "lnk"), 0, 0), 5);
	CHECK_EQ(SYS3(LX_SYS_read, 3, U(0), 4), -EISDIR);
	/* fd table full */
	{
		long r = 0;
		int n = 0;

		while ((r = SYS3(LX_SYS_open, ustr(0, "/etc/motd"), 0, 0)) >= 0)
			n++;
		CHECK_EQ(r, -EMFILE);
		CHECK_EQ(n, LX_MAX_FD - 6);
	}
	teardown();
}

static void stat_calls(void)
{
	setup();
	CHECK_EQ(SYS4(LX_SYS_newfstatat, (uint64_t)-100, ustr(0, "/lnk"), U(512), 0), 0);
	{
		uint32_t mode;

		memcpy(&mode, fake_umem + 512 + 24, 4);
		CHECK_EQ(mode, 0100644);
	}
	CHECK_EQ(SYS4(LX_SYS_newfstatat, (uint64_t)-100, ustr(0, "/lnk"), U(512), 0x100), 0);
	{
		uint32_t mode;

		memcpy(&mode, fake_umem + 512 + 24, 4);
		CHECK_EQ(mode, 0120777);
	}
	CHECK_EQ(SYS4(LX_SYS_newfstatat, 1, ustr(0, ""), U(512), 0x1000), 0);
	{
		uint32_t mode;

		memcpy(&mode, fake_umem + 512 + 24, 4);
		CHECK_EQ(mode & 0170000, 0020000); /* the console: a character device */
	}
	CHECK_EQ(SYS4(LX_SYS_newfstatat, 1, ustr(0, ""), U(512), 0), -ENOENT);
	CHECK_EQ(SYS4(LX_SYS_newfstatat, 40, ustr(0, ""), U(512), 0x1000), -EBADF);
	CHECK_EQ(SYS4(LX_SYS_newfstatat, (uint64_t)-100, ustr(0, "/"), U(512), 0x4), -EINVAL);
	CHECK_EQ(SYS4(LX_SYS_newfstatat, (uint64_t)-100, ustr(0, "/x"), U(512), 0), -ENOENT);
	CHECK_EQ(SYS2(LX_SYS_stat, ustr(0, "/etc"), U(512)), 0);
	/* readlink: the target without a NUL, truncated to the buffer. */
	CHECK_EQ(SYS3(LX_SYS_readlink, ustr(0, "/lnk"), U(600), 64), 8);
	CHECK(memcmp(fake_umem + 600, "etc/motd", 8) == 0);
	CHECK_EQ(SYS3(LX_SYS_readlink, ustr(0, "/lnk"), U(600), 3), 3);
	CHECK_EQ(SYS3(LX_SYS_readlink, ustr(0, "/lnk"), U(600), 0), -EINVAL);
	CHECK_EQ(SYS3(LX_SYS_readlink, ustr(0, "/etc/motd"), U(600), 64), -EINVAL);
	CHECK_EQ(SYS3(LX_SYS_readlink, ustr(0, "/proc/self/exe"), U(600), 64), -ENOENT);
	CHECK_EQ(SYS4(LX_SYS_readlinkat, 1, ustr(0, "lnk"), U(600), 64), -ENOTDIR);
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++) {
		CHECK_EQ(SYS3(LX_SYS_readlink, ustr(0, "/lnk"), bad_ptrs[i], 64), -EFAULT);
		CHECK_EQ(SYS3(LX_SYS_readlink, bad_ptrs[i], U(600), 64), -EFAULT);
	}
	CHECK_EQ(SYS2(LX_SYS_lstat, ustr(0, "/lnk"), U(512)), 0);
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++) {
		CHECK_EQ(SYS4(LX_SYS_newfstatat, (uint64_t)-100, bad_ptrs[i], U(512), 0), -EFAULT);
		CHECK_EQ(SYS4(LX_SYS_newfstatat, (uint64_t)-100, ustr(0, "/"), bad_ptrs[i], 0),
		         -EFAULT);
	}
	/* Read-only destination. */
	CHECK_EQ(SYS4(LX_SYS_newfstatat, (uint64_t)-100, ustr(0, "/"), U(FAKE_UMEM_SIZE - 64), 0),
	         -EFAULT);
	teardown();
}

static void getdents_calls(void)
{
	long fd, n;
	char names[256] = "";

	setup();
	fd = SYS3(LX_SYS_open, ustr(0, "/"), 0200000, 0);
	CHECK_EQ(fd, 3);
	n = SYS3(LX_SYS_getdents64, fd, U(1024), 4096);
	CHECK(n > 0);
	for (long off = 0; off < n;) {
		uint16_t reclen;

		memcpy(&reclen, fake_umem + 1024 + off + 16, 2);
		strcat(names, (char *)fake_umem + 1024 + off + 19);
		strcat(names, " ");
		off += reclen;
	}
	CHECK_STR(names, ". .. etc bin lnk ");
	CHECK_EQ(SYS3(LX_SYS_getdents64, fd, U(1024), 4096), 0);
	CHECK_EQ(SYS3(LX_SYS_lseek, fd, 0, 0), 0);
	CHECK_EQ(SYS3(LX_SYS_getdents64, fd, U(1024), 8), -EINVAL);
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++)
		CHECK_EQ(SYS3(LX_SYS_getdents64, fd, bad_ptrs[i], 4096), -EFAULT);
	/* A failed copy does not advance the position. */
	CHECK_EQ(SYS3(LX_SYS_getdents64, fd, U(1024), 4096), n);
	CHECK_EQ(SYS3(LX_SYS_getdents64, 1, U(1024), 4096), -ENOTDIR);
	CHECK_EQ(SYS3(LX_SYS_getdents64, 33, U(1024), 4096), -EBADF);
	teardown();
}

static void tty_calls(void)
{
	setup();
	CHECK_EQ(SYS3(LX_SYS_ioctl, 1, 0x5413, U(64)), 0);
	{
		uint16_t ws[4];

		memcpy(ws, fake_umem + 64, 8);
		CHECK(ws[0] == 24 && ws[1] == 80);
	}
	CHECK_EQ(SYS3(LX_SYS_ioctl, 1, 0x5401, U(64)), 0);
	CHECK_EQ(SYS3(LX_SYS_ioctl, 1, 0x5402, U(64)), 0);
	CHECK_EQ(SYS3(LX_SYS_ioctl, 1, 0x1234, U(64)), -ENOTTY);
	CHECK_EQ(SYS3(LX_SYS_ioctl, 20, 0x5413, U(64)), -EBADF);
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++) {
		CHECK_EQ(SYS3(LX_SYS_ioctl, 1, 0x5413, bad_ptrs[i]), -EFAULT);
		CHECK_EQ(SYS3(LX_SYS_ioctl, 1, 0x5401, bad_ptrs[i]), -EFAULT);
		CHECK_EQ(SYS3(LX_SYS_ioctl, 1, 0x5402, bad_ptrs[i]), -EFAULT);
	}
	teardown();
}

static void brk_calls(void)
{
	setup();
	CHECK_EQ(SYS1(LX_SYS_brk, 0), (long)BRK0);
	CHECK_EQ(SYS1(LX_SYS_brk, BRK0 + 100), (long)(BRK0 + 100));
	CHECK(mapped[BRK0 >> 12] == (0x80 | 3));
	CHECK_EQ(SYS1(LX_SYS_brk, BRK0 + 3 * 4096), (long)(BRK0 + 3 * 4096));
	CHECK(mapped[(BRK0 >> 12) + 2] != 0);
	CHECK_EQ(SYS1(LX_SYS_brk, BRK0 + 4096), (long)(BRK0 + 4096));
	CHECK(mapped[(BRK0 >> 12) + 1] == 0);
	CHECK(mapped[BRK0 >> 12] != 0);
	CHECK_EQ(SYS1(LX_SYS_brk, BRK0 - 1), (long)(BRK0 + 4096));              /* below: refused */
	CHECK_EQ(SYS1(LX_SYS_brk, BRK0 + LX_BRK_MAX + 1), (long)(BRK0 + 4096)); /* too far */
	CHECK_EQ(SYS1(LX_SYS_brk, KPTR), (long)(BRK0 + 4096));
	CHECK_EQ(SYS1(LX_SYS_brk, ~0ull), (long)(BRK0 + 4096));
	fail_next_map = 1;
	CHECK_EQ(SYS1(LX_SYS_brk, BRK0 + 8 * 4096), (long)(BRK0 + 4096)); /* no memory */
	CHECK_EQ(SYS1(LX_SYS_brk, BRK0), (long)BRK0);
	CHECK(mapped[BRK0 >> 12] == 0);
	CHECK_EQ(proc.nvma, 0);
	teardown();
}

static void mmap_calls(void)
{
	long a, b;

	setup();
	a = SYS6(LX_SYS_mmap, 0, 8192, 3, 0x22, (uint64_t)-1, 0);
	CHECK_EQ(a, (long)(MMAP_TOP - 8192));
	CHECK(mapped[(uint64_t)a >> 12] == (0x80 | 3));
	b = SYS6(LX_SYS_mmap, 0x12345000, 100, 1, 0x22, (uint64_t)-1, 0); /* hint ignored */
	CHECK_EQ(b, (long)(MMAP_TOP - 3 * 4096));
	/* Errors. */
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, 0, 3, 0x22, (uint64_t)-1, 0), -EINVAL);
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, 4096, 3, 0x20, (uint64_t)-1, 0), -EINVAL); /* no type */
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, 4096, 8, 0x22, (uint64_t)-1, 0), -EINVAL); /* prot */
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, 4096, 3, 0x22, (uint64_t)-1, 5), -EINVAL); /* offset */
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, 4096, 3, 0x02, 77, 0), -EBADF);            /* file, bad fd */
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, 4096, 3, 0x02, 1, 0), -ENODEV);            /* file mapping */
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, ~0ull, 3, 0x22, (uint64_t)-1, 0), -ENOMEM);
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, ~0ull - 4000, 3, 0x22, (uint64_t)-1, 0), -ENOMEM);
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, 2 << 20, 3, 0x22, (uint64_t)-1, 0), -ENOMEM); /* no room */
	CHECK_EQ(SYS6(LX_SYS_mmap, 0x40010001, 4096, 3, 0x32, (uint64_t)-1, 0), -EINVAL);
	CHECK_EQ(SYS6(LX_SYS_mmap, KPTR, 4096, 3, 0x32, (uint64_t)-1, 0), -ENOMEM);
	CHECK_EQ(SYS6(LX_SYS_mmap, WRAP, 8192, 3, 0x32, (uint64_t)-1, 0), -ENOMEM);
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, 4096, 3, 0x22 | 0x40000000, (uint64_t)-1, 0), -EINVAL);
	/* MAP_FIXED over part of a: replaces it; NOREPLACE refuses. */
	CHECK_EQ(SYS6(LX_SYS_mmap, (uint64_t)a, 4096, 1, 0x100022, (uint64_t)-1, 0), -EEXIST);
	CHECK_EQ(SYS6(LX_SYS_mmap, (uint64_t)a, 4096, 1, 0x32, (uint64_t)-1, 0), a);
	CHECK(mapped[(uint64_t)a >> 12] == (0x80 | 1));
	CHECK(mapped[((uint64_t)a >> 12) + 1] == (0x80 | 3));
	/* mprotect */
	CHECK_EQ(SYS3(LX_SYS_mprotect, (uint64_t)a + 4096, 4096, 1), 0);
	CHECK(mapped[((uint64_t)a >> 12) + 1] == (0x80 | 1));
	CHECK_EQ(SYS3(LX_SYS_mprotect, (uint64_t)a + 1, 4096, 1), -EINVAL);
	CHECK_EQ(SYS3(LX_SYS_mprotect, (uint64_t)a, 4096, 9), -EINVAL);
	CHECK_EQ(SYS3(LX_SYS_mprotect, MMAP_MIN, 4096, 1), -ENOMEM);        /* unmapped */
	CHECK_EQ(SYS3(LX_SYS_mprotect, (uint64_t)b, 5 * 4096, 1), -ENOMEM); /* past the end */
	CHECK_EQ(SYS3(LX_SYS_mprotect, (uint64_t)a, ~0ull, 1), -ENOMEM);
	CHECK_EQ(SYS3(LX_SYS_mprotect, KPTR, 4096, 1), -ENOMEM);
	CHECK_EQ(SYS3(LX_SYS_mprotect, (uint64_t)b, 3 * 4096, 3), 0); /* spans b and a */
	CHECK_EQ(SYS3(LX_SYS_mprotect, (uint64_t)a, 0, 3), 0);
	/* munmap: the middle of a three-page area splits it. */
	long c = SYS6(LX_SYS_mmap, 0, 3 * 4096, 3, 0x22, (uint64_t)-1, 0);
	uint32_t before = proc.nvma;

	CHECK_EQ(SYS2(LX_SYS_munmap, (uint64_t)c + 4096, 4096), 0);
	CHECK_EQ(proc.nvma, before + 1);
	CHECK(mapped[((uint64_t)c >> 12) + 1] == 0);
	CHECK(mapped[(uint64_t)c >> 12] != 0 && mapped[((uint64_t)c >> 12) + 2] != 0);
	CHECK_EQ(SYS2(LX_SYS_munmap, (uint64_t)c + 4096, 4096), 0); /* again: fine */
	CHECK_EQ(SYS2(LX_SYS_munmap, (uint64_t)c + 1, 4096), -EINVAL);
	CHECK_EQ(SYS2(LX_SYS_munmap, (uint64_t)c, 0), -EINVAL);
	CHECK_EQ(SYS2(LX_SYS_munmap, KPTR, 4096), -EINVAL);
	CHECK_EQ(SYS2(LX_SYS_munmap, (uint64_t)c, ~0ull), -EINVAL);
	CHECK_EQ(SYS2(LX_SYS_munmap, WRAP, 8192), -EINVAL);
	/* The freed gap is reused. */
	CHECK_EQ(SYS6(LX_SYS_mmap, 0, 4096, 3, 0x22, (uint64_t)-1, 0), c + 4096);
	CHECK_EQ(SYS2(LX_SYS_munmap, MMAP_MIN, MMAP_TOP - MMAP_MIN), 0);
	CHECK_EQ(proc.nvma, 0);
	for (uint64_t pg = MMAP_MIN >> 12; pg < MMAP_TOP >> 12; pg++)
		CHECK(mapped[pg] == 0);
	/* Filling the table: ENOMEM, never an overflow. */
	{
		long r;
		int n = 0;

		while ((r = SYS6(LX_SYS_mmap, 0, 4096, n & 1 ? 1 : 3, 0x22, (uint64_t)-1, 0)) > 0)
			n++;
		CHECK_EQ(r, -ENOMEM);
		CHECK(proc.nvma <= LX_MAX_VMAS);
		/* Splitting when the table is full is refused cleanly. */
		CHECK(SYS3(LX_SYS_mprotect, MMAP_TOP - 4096, 4096, 3) == 0 ||
		      proc.nvma == LX_MAX_VMAS);
	}
	teardown();
}

static void misc_calls(void)
{
	setup();
	CHECK_EQ(SYS0(LX_SYS_getpid), 7);
	CHECK_EQ(SYS0(LX_SYS_gettid), 7);
	CHECK_EQ(SYS0(LX_SYS_getppid), 1);
	CHECK_EQ(SYS0(LX_SYS_getuid), 0);
	CHECK_EQ(SYS0(LX_SYS_getegid), 0);
	CHECK_EQ(SYS1(LX_SYS_set_tid_address, U(0)), 7);
	CHECK_EQ(SYS1(LX_SYS_uname, U(2048)), 0);
	CHECK_STR((char *)fake_umem + 2048, "Spindle");
	CHECK_STR((char *)fake_umem + 2048 + 65 * 4, "x86_64");
	for (size_t i = 0; i < sizeof(bad_ptrs) / 8; i++) {
		CHECK_EQ(SYS1(LX_SYS_uname, bad_ptrs[i]), -EFAULT);
		CHECK_EQ(SYS2(LX_SYS_clock_gettime, 1, bad_ptrs[i]), -EFAULT);
		CHECK_EQ(SYS2(LX_SYS_nanosleep, bad_ptrs[i], 0), -EFAULT);
		CHECK_EQ(SYS2(LX_SYS_arch_prctl, 0x1003, bad_ptrs[i]), -EFAULT);
	}
	CHECK_EQ(SYS2(LX_SYS_clock_gettime, 1, U(64)), 0);
	{
		uint64_t ts[2];

		memcpy(ts, fake_umem + 64, 16);
		CHECK(ts[0] == 5 && ts[1] == 123);
	}
	CHECK_EQ(SYS2(LX_SYS_clock_gettime, 99, U(64)), -EINVAL);
	CHECK_EQ(SYS2(LX_SYS_clock_gettime, (uint64_t)-1, U(64)), -EINVAL);
	{
		int64_t ts[2] = {0, 1000};

		memcpy(fake_umem + 80, ts, 16);
		CHECK_EQ(SYS2(LX_SYS_nanosleep, U(80), 0), 0);
		CHECK_EQ(slept, 1000);
		ts[1] = 1000000000;
		memcpy(fake_umem + 80, ts, 16);
		CHECK_EQ(SYS2(LX_SYS_nanosleep, U(80), 0), -EINVAL);
		ts[0] = -1, ts[1] = 0;
		memcpy(fake_umem + 80, ts, 16);
		CHECK_EQ(SYS2(LX_SYS_nanosleep, U(80), 0), -EINVAL);
	}
	CHECK_EQ(SYS2(LX_SYS_arch_prctl, 0x1002, 0x7000), 0);
	CHECK_EQ(fs_base_set, 0x7000);
	CHECK_EQ(SYS2(LX_SYS_arch_prctl, 0x1002, KPTR), -EPERM);
	CHECK_EQ(SYS2(LX_SYS_arch_prctl, 0x1002, 0x0000800000000000ull), -EPERM);
	CHECK_EQ(fs_base_set, 0x7000);
	CHECK_EQ(SYS2(LX_SYS_arch_prctl, 0x1003, U(96)), 0);
	{
		uint64_t v;

		memcpy(&v, fake_umem + 96, 8);
		CHECK_EQ(v, 0x7000);
	}
	CHECK_EQ(SYS2(LX_SYS_arch_prctl, 0x1001, 0), -EINVAL);
	CHECK_EQ(SYS2(LX_SYS_arch_prctl, 0x9999, 0), -EINVAL);
	CHECK_EQ(SYS0(1000), -ENOSYS);
	CHECK_EQ(SYS0((1ull << 32) | 1), -ENOSYS); /* not write */
	CHECK_EQ(SYS0(~0ull), -ENOSYS);
	CHECK(!proc.exited);
	CHECK_EQ(SYS1(LX_SYS_exit_group, 0x1234), 0);
	CHECK(proc.exited);
	CHECK_EQ(proc.exit_code, 0x34);
	teardown();
}

/* Random calls with hostile arguments: nothing may crash or leak. */
static void hostile_storm(void)
{
	static const uint64_t vals[] = {0,
	                                1,
	                                2,
	                                3,
	                                4096,
	                                0x7fffffff,
	                                0xffffffff,
	                                ~0ull,
	                                ~0ull - 4095,
	                                KPTR,
	                                WRAP,
	                                U(0),
	                                U(100),
	                                U(FAKE_UMEM_SIZE - 8),
	                                0x00007ffffffff000ull,
	                                0x0000800000000000ull,
	                                MMAP_MIN,
	                                MMAP_TOP - 4096,
	                                BRK0,
	                                (uint64_t)-100,
	                                1ull << 63};
	uint64_t seed = 12345;

	setup();
	for (int i = 0; i < 200000; i++) {
		uint64_t a[6], nr;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		nr = (seed >> 33) % 340;
		if (nr == LX_SYS_exit || nr == LX_SYS_exit_group)
			continue;
		for (int k = 0; k < 6; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			a[k] = vals[(seed >> 33) % (sizeof(vals) / 8)];
		}
		(void)lx_syscall(&proc, nr, a);
		CHECK(proc.nvma <= LX_MAX_VMAS);
		if (check_current_failed)
			break;
	}
	/* Areas stay sorted and disjoint. */
	for (uint32_t i = 1; i < proc.nvma; i++)
		CHECK(proc.vma[i - 1].end <= proc.vma[i].start);
	teardown();
}

int main(void)
{
	RUN(console_write);
	RUN(writev_calls);
	RUN(files);
	RUN(stat_calls);
	RUN(getdents_calls);
	RUN(tty_calls);
	RUN(brk_calls);
	RUN(mmap_calls);
	RUN(misc_calls);
	RUN(hostile_storm);
	rootfs_destroy(fs);
	return check_done();
}
