/*
 * lx_fs.c: the Linux personality's file calls: read, write, writev,
 * openat, close, lseek, fstat, newfstatat, getdents64, ioctl.
 *
 * Files are the console (fds 0-2, a terminal: TIOCGWINSZ and TCGETS
 * answer), nodes of the read-only root file system and pipe ends (their
 * reads and writes are in lx_pipe.c).  "/proc/self/exe" names the running
 * image (lx_path_get).  Opening for
 * writing or creating fails with -EROFS, as on a read-only mount.  Paths
 * are copied in with strncpy_from_user into a bounded kernel buffer
 * (-ENAMETOOLONG past ROOTFS_PATH_MAX); every structure copied out is
 * built zeroed first, so no kernel bytes leak through padding.
 */
#include "kernel/heap.h"
#include "kernel/linux/lx.h"
#include "kernel/string.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"

#define LX_AT_FDCWD            (-100)
#define LX_AT_SYMLINK_NOFOLLOW 0x100
#define LX_AT_EMPTY_PATH       0x1000
#define LX_AT_NO_AUTOMOUNT     0x800
#define LX_O_ACCMODE           03
#define LX_O_CREAT             0100
#define LX_O_TRUNC             01000
#define LX_O_DIRECTORY         0200000
#define LX_O_NOFOLLOW          0400000
#define LX_SEEK_SET            0
#define LX_SEEK_CUR            1
#define LX_SEEK_END            2
#define LX_TCGETS              0x5401
#define LX_TCSETS              0x5402
#define LX_TCSETSW             0x5403
#define LX_TCSETSF             0x5404
#define LX_TIOCGWINSZ          0x5413
#define LX_TIOCSWINSZ          0x5414
#define LX_IOV_MAX             1024
#define LX_RW_MAX              0x7ffff000ull /* Linux's MAX_RW_COUNT */
#define LX_CHUNK               256

struct lx_stat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	uint64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
	int64_t unused[3];
};
_Static_assert(sizeof(struct lx_stat) == 144, "struct stat is 144 bytes on x86-64");

struct lx_termios {
	uint32_t iflag, oflag, cflag, lflag;
	uint8_t line, cc[19];
};
_Static_assert(sizeof(struct lx_termios) == 36, "kernel termios is 36 bytes");

struct lx_iovec {
	uint64_t base, len;
};

static struct lx_file *lx_fd_get(struct lx_proc *p, uint64_t fd)
{
	return fd < LX_MAX_FD ? p->fd[fd] : NULL;
}

/* Read up to count bytes of f to user buf (range checked by the caller);
 * -LX_EBLOCK: an empty pipe, the caller blocks. */
static long lx_read_file(struct lx_proc *p, struct lx_file *f, uint64_t buf, uint64_t count)
{
	const struct rootfs_node *n;
	uint64_t left;

	if (f->kind == LX_FILE_CONSOLE)
		return 0; /* no console input yet: end of file */
	if (f->kind == LX_FILE_PIPE_R)
		return lx_pipe_read(p, f, buf, count);
	if (f->kind == LX_FILE_PIPE_W)
		return -EBADF;
	n = f->node;
	if (rootfs_is_dir(n))
		return -EISDIR;
	if (f->pos >= n->size || count == 0)
		return 0;
	left = n->size - f->pos;
	if (count > left)
		count = left;
	if (copy_to_user(buf, n->data + f->pos, count))
		return -EFAULT;
	f->pos += count;
	return (long)count;
}

long lx_sys_read(struct lx_proc *p, uint64_t fd, uint64_t buf, uint64_t count)
{
	struct lx_file *f = lx_fd_get(p, fd);
	long r;

	if (!f)
		return -EBADF;
	if (count > LX_RW_MAX)
		count = LX_RW_MAX;
	if (!uaccess_range_ok(buf, count))
		return -EFAULT;
	r = lx_read_file(p, f, buf, count);
	if (r == -LX_EBLOCK)
		p->ops->block(p->ctx, LX_SYS_read);
	return r;
}

static long lx_write_file(struct lx_proc *p, struct lx_file *f, uint64_t buf, uint64_t count);

/* readv and writev: validate the whole vector first, as Linux does
 * (lengths, overflow of the sum, every pointer), then move segment by
 * segment with xfer; a short transfer (a pipe, the end of a file) ends it,
 * and it blocks (call nr run again) only if nothing moved yet. */
static long lx_rw_vec(struct lx_proc *p, struct lx_file *f, uint64_t iov, uint64_t cnt,
                      long (*xfer)(struct lx_proc *, struct lx_file *, uint64_t, uint64_t),
                      uint64_t nr)
{
	struct lx_iovec v;
	uint64_t total = 0;
	long done = 0;

	if (cnt > LX_IOV_MAX)
		return -EINVAL;
	if (!uaccess_range_ok(iov, cnt * sizeof(v)))
		return -EFAULT;
	for (uint64_t i = 0; i < cnt; i++) {
		if (copy_from_user(&v, iov + i * sizeof(v), sizeof(v)))
			return -EFAULT;
		if ((int64_t)v.len < 0 || v.len > (uint64_t)INT64_MAX - total)
			return -EINVAL; /* a negative ssize_t, or the sum overflows */
		total += v.len;
		if (v.len && !uaccess_range_ok(v.base, v.len))
			return -EFAULT;
	}
	if (nr == LX_SYS_writev && f->kind != LX_FILE_CONSOLE && f->kind != LX_FILE_PIPE_W)
		return -EBADF;
	for (uint64_t i = 0; i < cnt; i++) {
		long r;

		if (copy_from_user(&v, iov + i * sizeof(v), sizeof(v)))
			return done ? done : -EFAULT;
		if (v.len == 0)
			continue;
		r = xfer(p, f, v.base, v.len < LX_RW_MAX ? v.len : LX_RW_MAX);
		if (r == -LX_EBLOCK && !done)
			p->ops->block(p->ctx, nr); /* nothing moved yet: wait, run again */
		if (r < 0)
			return done ? done : r;
		done += r;
		if ((uint64_t)r < v.len)
			break;
	}
	return done;
}

/* musl's stdio reads with readv. */
long lx_sys_readv(struct lx_proc *p, uint64_t fd, uint64_t iov, uint64_t cnt)
{
	struct lx_file *f = lx_fd_get(p, fd);

	return f ? lx_rw_vec(p, f, iov, cnt, lx_read_file, LX_SYS_readv) : -EBADF;
}

/* Write count bytes at user buf to f; the bytes written or -errno. */
static long lx_write_file(struct lx_proc *p, struct lx_file *f, uint64_t buf, uint64_t count)
{
	char chunk[LX_CHUNK];
	uint64_t done = 0;

	if (f->kind == LX_FILE_PIPE_W)
		return lx_pipe_write(p, f, buf, count); /* -LX_EBLOCK: the caller blocks */
	if (f->kind != LX_FILE_CONSOLE)
		return -EBADF; /* every rootfs file is open read-only, a pipe's read end too */
	if (!uaccess_range_ok(buf, count))
		return -EFAULT;
	while (done < count) {
		size_t n = count - done < sizeof(chunk) ? (size_t)(count - done) : sizeof(chunk);

		if (copy_from_user(chunk, buf + done, n))
			return done ? (long)done : -EFAULT;
		p->ops->console_write(p->ctx, chunk, n);
		done += n;
	}
	return (long)done;
}

long lx_sys_write(struct lx_proc *p, uint64_t fd, uint64_t buf, uint64_t count)
{
	struct lx_file *f = lx_fd_get(p, fd);
	long r;

	if (!f)
		return -EBADF;
	if (count > LX_RW_MAX)
		count = LX_RW_MAX;
	r = lx_write_file(p, f, buf, count);
	if (r == -LX_EBLOCK)
		p->ops->block(p->ctx, LX_SYS_write);
	return r;
}

long lx_sys_writev(struct lx_proc *p, uint64_t fd, uint64_t iov, uint64_t cnt)
{
	struct lx_file *f = lx_fd_get(p, fd);

	return f ? lx_rw_vec(p, f, iov, cnt, lx_write_file, LX_SYS_writev) : -EBADF;
}

/* Copy a path from user space into buf[ROOTFS_PATH_MAX]. */
static long lx_get_path(char *buf, uint64_t upath)
{
	long n = strncpy_from_user(buf, upath, ROOTFS_PATH_MAX);

	if (n < 0)
		return n;
	if (n >= ROOTFS_PATH_MAX)
		return -ENAMETOOLONG;
	return n;
}

static const char lx_self_exe[] = "/proc/self/exe";

/* There is no /proc: its one name that programs need is /proc/self/exe,
 * the running image (glibc reads it at start; Debian's busybox executes
 * it to run an applet in a child), which stands for that image's path. */
long lx_path_get(struct lx_proc *p, char *buf, uint64_t upath)
{
	long n = lx_get_path(buf, upath);

	if (n >= 0 && strcmp(buf, lx_self_exe) == 0 && p->exe[0]) {
		n = (long)strlen(p->exe); /* < LX_EXE_MAX < ROOTFS_PATH_MAX */
		memcpy(buf, p->exe, (size_t)n + 1);
	}
	return n;
}

/* The directory a *at call starts from. */
static long lx_dirfd(struct lx_proc *p, int64_t dirfd, const char *path,
                     const struct rootfs_node **out)
{
	struct lx_file *f;

	if (path[0] == '/' || dirfd == LX_AT_FDCWD) {
		*out = p->cwd;
		return 0;
	}
	if (dirfd < 0 || !(f = lx_fd_get(p, (uint64_t)dirfd)))
		return -EBADF;
	if (f->kind != LX_FILE_ROOTFS || !rootfs_is_dir(f->node))
		return -ENOTDIR;
	*out = f->node;
	return 0;
}

long lx_sys_openat(struct lx_proc *p, int64_t dirfd, uint64_t upath, uint64_t flags, uint64_t mode)
{
	const struct rootfs_node *dir, *n;
	struct lx_file *f;
	char *path;
	long err;
	int fd;

	(void)mode;
	path = kmalloc(ROOTFS_PATH_MAX);
	if (!path)
		return -ENOMEM;
	err = lx_path_get(p, path, upath);
	if (err < 0)
		goto out;
	err = lx_dirfd(p, dirfd, path, &dir);
	if (err)
		goto out;
	err = rootfs_lookup(p->fs, dir, path, (flags & LX_O_NOFOLLOW) ? ROOTFS_NOFOLLOW : 0, &n);
	if (err) {
		if (err == -ENOENT && (flags & LX_O_CREAT))
			err = -EROFS;
		goto out;
	}
	if (rootfs_is_link(n)) { /* only with O_NOFOLLOW */
		err = -ELOOP;
		goto out;
	}
	if ((flags & LX_O_DIRECTORY) && !rootfs_is_dir(n)) {
		err = -ENOTDIR;
		goto out;
	}
	if ((flags & LX_O_ACCMODE) != 0 || (flags & LX_O_TRUNC)) {
		err = rootfs_is_dir(n) ? -EISDIR : -EROFS;
		goto out;
	}
	f = kzalloc(sizeof(*f));
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	f->kind = LX_FILE_ROOTFS;
	f->refs = 1;
	f->flags = (uint32_t)flags;
	f->node = n;
	fd = lx_fd_install(p, f, 0, flags & LX_O_CLOEXEC);
	if (fd < 0)
		kfree(f);
	err = fd;
out:
	kfree(path);
	return err;
}

long lx_sys_close(struct lx_proc *p, uint64_t fd)
{
	struct lx_file *f = lx_fd_get(p, fd);

	if (!f)
		return -EBADF;
	p->fd[fd] = NULL;
	p->cloexec &= ~(1ull << fd);
	lx_file_put(p, f);
	return 0;
}

long lx_sys_lseek(struct lx_proc *p, uint64_t fd, int64_t off, uint64_t whence)
{
	struct lx_file *f = lx_fd_get(p, fd);
	int64_t base, pos;

	if (!f)
		return -EBADF;
	if (f->kind != LX_FILE_ROOTFS)
		return -ESPIPE; /* the console, pipes */
	if (rootfs_is_dir(f->node)) {
		/* Directories: only a rewind or a return to a position. */
		if (whence != LX_SEEK_SET || off < 0)
			return -EINVAL;
		f->pos = (uint64_t)off;
		return off;
	}
	switch (whence) {
	case LX_SEEK_SET:
		base = 0;
		break;
	case LX_SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case LX_SEEK_END:
		base = (int64_t)f->node->size;
		break;
	default:
		return -EINVAL;
	}
	if (__builtin_add_overflow(base, off, &pos))
		return -EOVERFLOW;
	if (pos < 0)
		return -EINVAL;
	f->pos = (uint64_t)pos;
	return pos;
}

static void lx_fill_stat(const struct lx_file *f, const struct rootfs_node *n, struct lx_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->blksize = 4096;
	if (f && f->kind == LX_FILE_CONSOLE) {
		st->dev = 5;
		st->ino = 1;
		st->nlink = 1;
		st->mode = 0020620;       /* character device, rw--w---- */
		st->rdev = (4 << 8) | 64; /* ttyS0 */
		return;
	}
	if (f && (f->kind == LX_FILE_PIPE_R || f->kind == LX_FILE_PIPE_W)) {
		st->dev = 6;
		st->ino = 1;
		st->nlink = 1;
		st->mode = 0010600; /* FIFO, rw------- */
		return;
	}
	{
		struct rootfs_stat rs;

		rootfs_stat(n, &rs);
		st->dev = 1;
		st->ino = rs.ino;
		st->nlink = rs.nlink;
		st->mode = rs.mode;
		st->uid = rs.uid;
		st->gid = rs.gid;
		st->size = (int64_t)rs.size;
		st->blocks = (int64_t)rs.blocks;
		st->atime = st->mtime = st->ctime = rs.mtime;
	}
}

long lx_sys_fstat(struct lx_proc *p, uint64_t fd, uint64_t statbuf)
{
	struct lx_file *f = lx_fd_get(p, fd);
	struct lx_stat st;

	if (!f)
		return -EBADF;
	lx_fill_stat(f, f->node, &st);
	return copy_to_user(statbuf, &st, sizeof(st)) ? -EFAULT : 0;
}

long lx_sys_newfstatat(struct lx_proc *p, int64_t dirfd, uint64_t upath, uint64_t statbuf,
                       uint64_t flags)
{
	const struct rootfs_node *dir, *n;
	struct lx_stat st;
	char *path;
	long err;

	if (flags & ~(uint64_t)(LX_AT_SYMLINK_NOFOLLOW | LX_AT_EMPTY_PATH | LX_AT_NO_AUTOMOUNT))
		return -EINVAL;
	path = kmalloc(ROOTFS_PATH_MAX);
	if (!path)
		return -ENOMEM;
	err = lx_path_get(p, path, upath);
	if (err < 0)
		goto out;
	if (path[0] == 0) {
		if (!(flags & LX_AT_EMPTY_PATH)) {
			err = -ENOENT;
			goto out;
		}
		if (dirfd == LX_AT_FDCWD) {
			lx_fill_stat(NULL, p->cwd, &st);
		} else {
			struct lx_file *f = dirfd < 0 ? NULL : lx_fd_get(p, (uint64_t)dirfd);

			if (!f) {
				err = -EBADF;
				goto out;
			}
			lx_fill_stat(f, f->node, &st);
		}
	} else {
		err = lx_dirfd(p, dirfd, path, &dir);
		if (err)
			goto out;
		err = rootfs_lookup(p->fs, dir, path,
		                    (flags & LX_AT_SYMLINK_NOFOLLOW) ? ROOTFS_NOFOLLOW : 0, &n);
		if (err)
			goto out;
		lx_fill_stat(NULL, n, &st);
	}
	err = copy_to_user(statbuf, &st, sizeof(st)) ? -EFAULT : 0;
out:
	kfree(path);
	return err;
}

long lx_sys_readlinkat(struct lx_proc *p, int64_t dirfd, uint64_t upath, uint64_t buf,
                       uint64_t bufsiz)
{
	const struct rootfs_node *dir, *n;
	char *path;
	long err;

	if ((int32_t)bufsiz <= 0)
		return -EINVAL;
	path = kmalloc(ROOTFS_PATH_MAX);
	if (!path)
		return -ENOMEM;
	err = lx_get_path(path, upath);
	if (err < 0)
		goto out;
	if (strcmp(path, lx_self_exe) == 0 && p->exe[0]) {
		/* The link's target is the image's path (no NUL, as readlink). */
		size_t len = strlen(p->exe);

		err = (long)(len < (uint32_t)bufsiz ? len : (uint32_t)bufsiz);
		if (copy_to_user(buf, p->exe, (size_t)err))
			err = -EFAULT;
		goto out;
	}
	err = path[0] ? lx_dirfd(p, dirfd, path, &dir) : -ENOENT;
	if (err)
		goto out;
	err = rootfs_lookup(p->fs, dir, path, ROOTFS_NOFOLLOW, &n);
	if (err)
		goto out;
	if (!rootfs_is_link(n)) {
		err = -EINVAL;
		goto out;
	}
	err = (long)(n->size < (uint32_t)bufsiz ? n->size : (uint32_t)bufsiz);
	if (copy_to_user(buf, n->data, (size_t)err))
		err = -EFAULT;
out:
	kfree(path);
	return err;
}

long lx_sys_getdents64(struct lx_proc *p, uint64_t fd, uint64_t dirp, uint64_t count)
{
	struct lx_file *f = lx_fd_get(p, fd);
	uint64_t pos;
	size_t len;
	void *buf;
	long n;

	if (!f)
		return -EBADF;
	if (f->kind != LX_FILE_ROOTFS || !rootfs_is_dir(f->node))
		return -ENOTDIR;
	if (!uaccess_range_ok(dirp, count))
		return -EFAULT;
	len = count < 4096 ? (size_t)count : 4096;
	buf = kmalloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	pos = f->pos;
	n = rootfs_getdents(f->node, &pos, buf, len);
	if (n > 0) {
		if (copy_to_user(dirp, buf, (size_t)n))
			n = -EFAULT;
		else
			f->pos = pos;
	}
	kfree(buf);
	return n;
}

long lx_sys_ioctl(struct lx_proc *p, uint64_t fd, uint64_t req, uint64_t arg)
{
	struct lx_file *f = lx_fd_get(p, fd);

	if (!f)
		return -EBADF;
	if (f->kind != LX_FILE_CONSOLE)
		return -ENOTTY;
	switch (req & 0xffffffffu) { /* the request is an unsigned int */
	case LX_TIOCGWINSZ: {
		const uint16_t ws[4] = {24, 80, 0, 0};

		return copy_to_user(arg, ws, sizeof(ws)) ? -EFAULT : 0;
	}
	case LX_TCGETS: {
		struct lx_termios t;

		memset(&t, 0, sizeof(t));
		t.iflag = 0x500;  /* ICRNL | IXON */
		t.oflag = 0x5;    /* OPOST | ONLCR */
		t.cflag = 0xbf;   /* B38400 | CS8 | CREAD */
		t.lflag = 0x8a3b; /* ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN */
		t.cc[0] = 3;      /* VINTR ^C */
		t.cc[4] = 4;      /* VEOF ^D */
		t.cc[6] = 1;      /* VMIN */
		return copy_to_user(arg, &t, sizeof(t)) ? -EFAULT : 0;
	}
	case LX_TCSETS:
	case LX_TCSETSW:
	case LX_TCSETSF: {
		struct lx_termios t;

		return copy_from_user(&t, arg, sizeof(t)) ? -EFAULT : 0;
	}
	case LX_TIOCSWINSZ: {
		uint16_t ws[4];

		return copy_from_user(ws, arg, sizeof(ws)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}
