/*
 * lx_pipe.c: pipes for the Linux personality: pipe, pipe2 and the reads
 * and writes of pipe ends.
 *
 * A pipe is a ring of LX_PIPE_SIZE bytes with two open files, its read end
 * and its write end, which fork and dup share between fds and processes.
 * Every pipe field is under the host's lock (a spinlock), so user memory is
 * never touched while it is held: a write copies the user's bytes into a
 * kernel buffer first, a read copies out of the ring into one and then to
 * the user.  Each call moves at most LX_PIPE_BUF bytes (a longer write
 * returns a short count, which C libraries and busybox loop over); writes
 * of up to LX_PIPE_BUF bytes are atomic, as POSIX requires.
 *
 * Semantics (Linux's): reading an empty pipe returns 0 (end of file) once
 * no write end is open, -EAGAIN with O_NONBLOCK, else blocks; writing with
 * no read end open fails with -EPIPE (and SIGPIPE's default action ends
 * the writer unless it ignores or catches SIGPIPE); a full pipe blocks, or
 * -EAGAIN with O_NONBLOCK.  Blocking: the call records the pipe and its
 * generation under the lock and returns -LX_EBLOCK (its caller asks
 * ops->block); after the raise the host sleeps in lx_pipe_wait on that
 * pipe alone and runs the call again.  A writer wakes exactly the
 * processes asleep on its pipe; a signal to be handled makes a call that
 * would block return -LX_ERESTART (-EINTR, or a restart with SA_RESTART)
 * and wakes a sleeper.
 */
#include "kernel/heap.h"
#include "kernel/linux/lx.h"
#include "kernel/string.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"

uint32_t lx_pipe_put(struct lx_pipe *pp, const uint8_t *src, uint32_t n)
{
	uint32_t room = LX_PIPE_SIZE - pp->len, tail, first;

	if (n > room)
		n = room;
	tail = (pp->head + pp->len) % LX_PIPE_SIZE;
	first = LX_PIPE_SIZE - tail < n ? LX_PIPE_SIZE - tail : n;
	memcpy(pp->buf + tail, src, first);
	memcpy(pp->buf, src + first, n - first);
	pp->len += n;
	return n;
}

uint32_t lx_pipe_get(struct lx_pipe *pp, uint8_t *dst, uint32_t n)
{
	uint32_t first;

	if (n > pp->len)
		n = pp->len;
	first = LX_PIPE_SIZE - pp->head < n ? LX_PIPE_SIZE - pp->head : n;
	memcpy(dst, pp->buf + pp->head, first);
	memcpy(dst + first, pp->buf, n - first);
	pp->head = (pp->head + n) % LX_PIPE_SIZE;
	pp->len -= n;
	if (pp->len == 0)
		pp->head = 0;
	return n;
}

long lx_sys_pipe2(struct lx_proc *p, uint64_t ufds, uint64_t flags)
{
	struct lx_pipe *pp;
	struct lx_file *r, *w;
	int32_t fds[2] = {-1, -1};
	bool cloexec = flags & LX_O_CLOEXEC;
	long err = -ENOMEM;

	if (flags & ~(uint64_t)(LX_O_CLOEXEC | LX_O_NONBLOCK))
		return -EINVAL; /* O_DIRECT (packet mode) and the rest: not offered */
	if (!uaccess_range_ok(ufds, sizeof(fds)))
		return -EFAULT;
	pp = kzalloc(sizeof(*pp));
	r = kzalloc(sizeof(*r));
	w = kzalloc(sizeof(*w));
	if (pp)
		pp->buf = kmalloc(LX_PIPE_SIZE);
	if (!pp || !pp->buf || !r || !w)
		goto err_free;
	pp->readers = pp->writers = 1;
	*r = (struct lx_file){LX_FILE_PIPE_R, 1, (uint32_t)(flags & LX_O_NONBLOCK), NULL, 0, pp};
	*w = (struct lx_file){
	    LX_FILE_PIPE_W, 1, 1 /* O_WRONLY */ | (uint32_t)(flags & LX_O_NONBLOCK), NULL, 0, pp};
	fds[0] = lx_fd_install(p, r, 0, cloexec);
	if (fds[0] < 0) {
		err = fds[0];
		goto err_free;
	}
	fds[1] = lx_fd_install(p, w, 0, cloexec);
	if (fds[1] < 0) {
		err = fds[1];
		goto err_uninstall;
	}
	/* Writing the numbers is the last step; if it faults, undo it all
	 * (Linux does the same: no fds leak into the table). */
	if (copy_to_user(ufds, fds, sizeof(fds))) {
		err = -EFAULT;
		p->fd[fds[1]] = NULL;
		goto err_uninstall;
	}
	return 0;
err_uninstall:
	p->fd[fds[0]] = NULL;
	p->cloexec &= ~(1ull << fds[0]);
	if (fds[1] >= 0)
		p->cloexec &= ~(1ull << fds[1]);
err_free:
	if (pp)
		kfree(pp->buf);
	kfree(pp);
	kfree(r);
	kfree(w);
	return err;
}

/* ---- waiting on a pipe ----
 *
 * A call that finds its pipe empty (read) or full (write) records the pipe
 * and its gen under the lock and returns -LX_EBLOCK; once the system
 * call's raise is over the host calls lx_pipe_wait, which, under the lock
 * again, sleeps only if the gen has not moved and no signal or end came:
 * a change made in between is seen, and one made later finds the process
 * on the pipe's list.  Every change to a pipe bumps its gen and wakes the
 * processes on its list, and no others. */

/* Wake every process asleep on pp (lock held): its contents or ends
 * changed. */
static void lx_pipe_wake_locked(const struct lx_host_ops *ops, struct lx_pipe *pp)
{
	struct lx_proc *w;

	pp->gen++;
	while ((w = pp->waiters) != NULL) {
		pp->waiters = w->wait_next;
		w->wait_next = NULL;
		w->wait_list = NULL;
		ops->unblock(w->wait_token);
	}
}

void lx_pipe_changed(struct lx_proc *p, struct lx_pipe *pp)
{
	lx_pipe_wake_locked(p->ops, pp);
}

void lx_wait_cancel(struct lx_proc *p)
{
	struct lx_proc **pp;

	if (!p->wait_list)
		return;
	for (pp = p->wait_list; *pp; pp = &(*pp)->wait_next)
		if (*pp == p) {
			*pp = p->wait_next;
			break;
		}
	p->wait_next = NULL;
	p->wait_list = NULL;
	p->ops->unblock(p->wait_token);
}

void lx_pipe_wait(struct lx_proc *p)
{
	struct lx_pipe *pp = p->wait_pipe;

	p->ops->lock(p->ctx);
	if (!pp || pp->gen != p->wait_gen || p->sig_ready || p->exited) {
		p->ops->unlock(p->ctx);
		return;
	}
	p->wait_token = p->ops->prepare_block(p->ctx);
	p->wait_list = &pp->waiters;
	p->wait_next = pp->waiters;
	pp->waiters = p;
	p->ops->unlock(p->ctx);
	p->ops->sleep(p->ctx); /* until a waker took it off the list */
	p->wait_pipe = NULL;
}

/* The call would block (lock held): -LX_ERESTART if a signal is to be
 * handled first, else record what to wait for. */
static long lx_pipe_would_block(struct lx_proc *p, struct lx_pipe *pp)
{
	if (p->sig_ready)
		return -LX_ERESTART;
	p->wait_pipe = pp;
	p->wait_gen = pp->gen;
	return -LX_EBLOCK;
}

/* Small transfers (the common one-byte case) bounce through the stack,
 * larger ones through the heap. */
#define LX_PIPE_STACK_BUF 256

long lx_pipe_read(struct lx_proc *p, struct lx_file *f, uint64_t buf, uint64_t count)
{
	struct lx_pipe *pp = f->pipe;
	uint32_t n = count < LX_PIPE_BUF ? (uint32_t)count : LX_PIPE_BUF;
	uint8_t small[LX_PIPE_STACK_BUF], *tmp = small;
	long r;

	if (count == 0)
		return 0;
	if (n > sizeof(small)) {
		tmp = kmalloc(n);
		if (!tmp)
			return -ENOMEM;
	}
	p->ops->lock(p->ctx);
	if (pp->len) {
		r = lx_pipe_get(pp, tmp, n);
		lx_pipe_wake_locked(p->ops, pp); /* room for a blocked writer */
	} else if (!pp->writers) {
		r = 0; /* end of file */
	} else if (f->flags & LX_O_NONBLOCK) {
		r = -EAGAIN;
	} else {
		r = lx_pipe_would_block(p, pp);
	}
	p->ops->unlock(p->ctx);
	/* The bytes left the pipe: a fault here loses them, as the reader's
	 * own doing (the range was checked by the caller). */
	if (r > 0 && copy_to_user(buf, tmp, (size_t)r))
		r = -EFAULT;
	if (tmp != small)
		kfree(tmp);
	return r;
}

long lx_pipe_write(struct lx_proc *p, struct lx_file *f, uint64_t buf, uint64_t count)
{
	struct lx_pipe *pp = f->pipe;
	uint32_t n = count < LX_PIPE_BUF ? (uint32_t)count : LX_PIPE_BUF, room;
	uint8_t small[LX_PIPE_STACK_BUF], *tmp = small;
	long r;

	if (count == 0)
		return 0;
	if (!uaccess_range_ok(buf, count))
		return -EFAULT;
	if (n > sizeof(small)) {
		tmp = kmalloc(n);
		if (!tmp)
			return -ENOMEM;
	}
	if (copy_from_user(tmp, buf, n)) {
		r = -EFAULT;
		goto out;
	}
	p->ops->lock(p->ctx);
	room = LX_PIPE_SIZE - pp->len;
	if (!pp->readers) {
		struct lx_siginfo si = {LX_SI_USER, p->pid, 0, 0};

		r = -EPIPE;
		/* By default the writer ends after this call; caught, its
		 * handler runs before the call returns. */
		lx_signal_post_info(p, LX_SIGPIPE, &si);
	} else if (room == 0 || (count <= LX_PIPE_BUF && room < n)) {
		/* Full, or not room for an atomic write: wait for a reader. */
		r = (f->flags & LX_O_NONBLOCK) ? -EAGAIN : lx_pipe_would_block(p, pp);
	} else {
		r = lx_pipe_put(pp, tmp, n);
		lx_pipe_wake_locked(p->ops, pp); /* data for a blocked reader */
	}
	p->ops->unlock(p->ctx);
out:
	if (tmp != small)
		kfree(tmp);
	return r;
}
