/*
 * lx_fd.c: the Linux personality's file-descriptor table: installing a
 * file at the lowest free number (at least a minimum), dup, dup2, dup3,
 * fcntl (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL), and
 * dropping a reference to an open file.
 *
 * An fd names an open file (struct lx_file); dup and fork make several fds
 * name the same file, which then shares its offset and status flags (as
 * POSIX says), and the file counts them (refs).  The count is changed
 * under the host's lock because fork makes files shared between processes
 * that run on different CPUs; the last reference frees the file and, for a
 * pipe end, tells the pipe that end is gone (lx_pipe.c), waking whoever
 * waits on it.  The close-on-exec flag belongs to the fd, not the file:
 * one bit per fd in p->cloexec.
 */
#include "kernel/heap.h"
#include "kernel/linux/lx.h"
#include "kernel/string.h"
#include "kernel/uerrno.h"

#define LX_F_DUPFD         0
#define LX_F_GETFD         1
#define LX_F_SETFD         2
#define LX_F_GETFL         3
#define LX_F_SETFL         4
#define LX_F_DUPFD_CLOEXEC 1030
#define LX_FD_CLOEXEC      1
#define LX_O_APPEND        02000
/* F_SETFL may change these; the access mode and creation flags stay. */
#define LX_SETFL_MASK (LX_O_APPEND | LX_O_NONBLOCK)

static void lx_fd_set(struct lx_proc *p, uint64_t fd, struct lx_file *f, bool cloexec)
{
	p->fd[fd] = f;
	if (cloexec)
		p->cloexec |= 1ull << fd;
	else
		p->cloexec &= ~(1ull << fd);
}

int lx_fd_install(struct lx_proc *p, struct lx_file *f, uint64_t min, bool cloexec)
{
	for (uint64_t i = min; i < LX_MAX_FD; i++)
		if (!p->fd[i]) {
			lx_fd_set(p, i, f, cloexec);
			return (int)i;
		}
	return -EMFILE;
}

void lx_file_put(struct lx_proc *p, struct lx_file *f)
{
	struct lx_pipe *pp = NULL;
	bool last;

	p->ops->lock(p->ctx);
	last = --f->refs == 0;
	if (last && f->pipe) {
		if (f->kind == LX_FILE_PIPE_R)
			f->pipe->readers--;
		else
			f->pipe->writers--;
		/* A reader may see end of file, a writer EPIPE.  (With both
		 * ends gone nobody can be asleep on it.) */
		lx_pipe_changed(p, f->pipe);
		if (!f->pipe->readers && !f->pipe->writers)
			pp = f->pipe;
	}
	p->ops->unlock(p->ctx);
	if (!last)
		return;
	if (pp) {
		kfree(pp->buf);
		kfree(pp);
	}
	kfree(f);
}

/* One more fd names f. */
static void lx_file_get(struct lx_proc *p, struct lx_file *f)
{
	p->ops->lock(p->ctx);
	f->refs++;
	p->ops->unlock(p->ctx);
}

long lx_sys_dup(struct lx_proc *p, uint64_t fd)
{
	struct lx_file *f = fd < LX_MAX_FD ? p->fd[fd] : NULL;
	int nfd;

	if (!f)
		return -EBADF;
	nfd = lx_fd_install(p, f, 0, false);
	if (nfd >= 0)
		lx_file_get(p, f);
	return nfd;
}

long lx_sys_dup3(struct lx_proc *p, uint64_t oldfd, uint64_t newfd, uint64_t flags, bool dup2)
{
	struct lx_file *f = oldfd < LX_MAX_FD ? p->fd[oldfd] : NULL, *old;

	if (!dup2 && (flags & ~(uint64_t)LX_O_CLOEXEC))
		return -EINVAL;
	if (!f || newfd >= LX_MAX_FD)
		return -EBADF;
	if (oldfd == newfd)
		return dup2 ? (long)newfd : -EINVAL; /* dup2 to itself: a validity check */
	/* Take the new reference before dropping the old file: if newfd
	 * named the same file, it must not be freed in between. */
	lx_file_get(p, f);
	old = p->fd[newfd];
	lx_fd_set(p, newfd, f, flags & LX_O_CLOEXEC);
	if (old)
		lx_file_put(p, old);
	return (long)newfd;
}

long lx_sys_fcntl(struct lx_proc *p, uint64_t fd, uint64_t cmd, uint64_t arg)
{
	struct lx_file *f = fd < LX_MAX_FD ? p->fd[fd] : NULL;
	int nfd;

	if (!f)
		return -EBADF;
	switch (cmd & 0xffffffffu) { /* cmd is an unsigned int */
	case LX_F_DUPFD:
	case LX_F_DUPFD_CLOEXEC:
		/* arg is an int: a negative one, or one past the table, is EINVAL. */
		if ((int32_t)arg < 0 || (uint32_t)arg >= LX_MAX_FD)
			return -EINVAL;
		nfd = lx_fd_install(p, f, (uint32_t)arg, (cmd & 0xffffffffu) == LX_F_DUPFD_CLOEXEC);
		if (nfd >= 0)
			lx_file_get(p, f);
		return nfd;
	case LX_F_GETFD:
		return (p->cloexec >> fd) & 1 ? LX_FD_CLOEXEC : 0;
	case LX_F_SETFD:
		lx_fd_set(p, fd, f, arg & LX_FD_CLOEXEC);
		return 0;
	case LX_F_GETFL:
		return (long)(f->flags & ~(uint32_t)LX_O_CLOEXEC);
	case LX_F_SETFL:
		p->ops->lock(p->ctx); /* the file may be shared with another process */
		f->flags = (f->flags & ~(uint32_t)LX_SETFL_MASK) | ((uint32_t)arg & LX_SETFL_MASK);
		p->ops->unlock(p->ctx);
		return 0;
	default:
		return -EINVAL;
	}
}
