/*
 * spin_sys.c: Spindle's own system calls (include/spindle/spin_syscall.h):
 * loading, unloading and listing extensions from user space.
 *
 * A trusted module like the Linux personality: it installs a handler on
 * MachineTrap.Syscall whose guard accepts only the numbers in
 * [SPIN_SYS_BASE, SPIN_SYS_BASE + SPIN_SYS_COUNT), whatever personality the
 * process has.  A process loads an extension as an ordinary (unprivileged)
 * requester, so it may link only against SpinPublic; the extension is
 * verified like any other and outlives the process.  Only the process that
 * loaded an extension may unload it (recorded here by pid).
 *
 * Every argument is hostile: paths and names are copied in with bounds
 * (-ENAMETOOLONG), objects are copied out of the archive into an aligned
 * kernel buffer before the loader reads them, and messages are copied out
 * NUL-terminated within the caller's length.
 */
#include <spindle/spin_syscall.h>

#include <stddef.h>

#include "kernel/dispatch.h"
#include "kernel/domain.h"
#include "kernel/extension.h"
#include "kernel/heap.h"
#include "kernel/interface.h"
#include "kernel/kprintf.h"
#include "kernel/process.h"
#include "kernel/string.h"
#include "kernel/sync.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"

#define SPIN_SYS_NAME_MAX 32
#define SPIN_SYS_ERR_MAX  256
#define SPIN_SYS_OWNERS   32
#define SPIN_SYS_OBJ_MAX  (1u << 20)

void spin_sys_init(void);

static const struct module spin_sys_module = {"SpinSyscalls", MODULE_TRUSTED};
/* One loader at a time (extension.h), and the owner table with it. */
static struct mutex spin_sys_lock;
static struct {
	struct ext *x;
	int pid;
} spin_sys_owner[SPIN_SYS_OWNERS];

/* The guard (tested in line): the numbers [SPIN_SYS_BASE, + COUNT). */
static const struct dispatch_test spin_sys_guard = {
    1, {{1, offsetof(struct trap_frame, rax), SPIN_SYS_BASE, SPIN_SYS_BASE + SPIN_SYS_COUNT - 1}}};

static long spin_sys_put_err(uint64_t ubuf, uint64_t ulen, const char *msg)
{
	size_t n = strlen(msg) + 1;

	if (!ubuf || !ulen)
		return 0;
	if (ulen > SPIN_SYS_ERR_MAX)
		ulen = SPIN_SYS_ERR_MAX;
	if (n > ulen) {
		char z = 0;

		return copy_to_user(ubuf, msg, (size_t)ulen - 1) ||
		       copy_to_user(ubuf + ulen - 1, &z, 1);
	}
	return copy_to_user(ubuf, msg, n);
}

static long spin_sys_get_name(char *name, uint64_t uname)
{
	long n = strncpy_from_user(name, uname, SPIN_SYS_NAME_MAX);

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	if (n >= SPIN_SYS_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static long spin_sys_ext_load(struct process *p, const uint64_t *a)
{
	const struct rootfs_node *file;
	struct module *mod = NULL;
	char name[SPIN_SYS_NAME_MAX], *path, err[SPIN_SYS_ERR_MAX] = "";
	struct ext *x;
	void *obj = NULL;
	long rc;
	int slot = -1;

	path = kmalloc(ROOTFS_PATH_MAX);
	if (!path)
		return -ENOMEM;
	rc = strncpy_from_user(path, a[0], ROOTFS_PATH_MAX);
	if (rc >= ROOTFS_PATH_MAX)
		rc = -ENAMETOOLONG;
	if (rc < 0)
		goto out;
	if ((rc = spin_sys_get_name(name, a[1])))
		goto out;
	if (!process_rootfs() || (rc = rootfs_lookup(process_rootfs(), NULL, path, 0, &file)))
		goto out;
	if (rootfs_is_dir(file) || file->size == 0 || file->size > SPIN_SYS_OBJ_MAX) {
		rc = rootfs_is_dir(file) ? -EISDIR : -EINVAL;
		goto out;
	}
	for (int i = 0; i < SPIN_SYS_OWNERS; i++)
		if (!spin_sys_owner[i].x) {
			slot = i;
			break;
		}
	if (slot < 0) {
		rc = -ENOSPC;
		goto out;
	}
	obj = kmalloc(file->size);
	mod = kzalloc(sizeof(*mod));
	if (!obj || !mod) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(obj, file->data, file->size);
	/* The requester's identity: the program, unprivileged. */
	mod->name = p->name;
	mod->flags = 0;
	rc = ext_load(obj, file->size, name, mod, &domain_spin_public, 1, &x, err, sizeof(err));
	if (rc == 0) {
		spin_sys_owner[slot].x = x;
		spin_sys_owner[slot].pid = p->pid;
		kprintf("spin: process %d (%s) loaded extension %s from %s\n", p->pid, p->name,
		        name, path);
	} else if (!err[0]) {
		strlcpy(err, "the extension was refused", sizeof(err));
	}
	if (rc && spin_sys_put_err(a[2], a[3], err))
		rc = -EFAULT;
out:
	kfree(mod); /* consulted only while loading */
	kfree(obj);
	kfree(path);
	return rc;
}

static long spin_sys_ext_unload(struct process *p, const uint64_t *a)
{
	char name[SPIN_SYS_NAME_MAX], err[SPIN_SYS_ERR_MAX] = "";
	struct ext *x;
	long rc;

	if ((rc = spin_sys_get_name(name, a[0])))
		return rc;
	x = ext_find(name);
	if (!x)
		return -ENOENT;
	for (int i = 0; i < SPIN_SYS_OWNERS; i++) {
		if (spin_sys_owner[i].x != x)
			continue;
		if (spin_sys_owner[i].pid != p->pid)
			return -EPERM;
		rc = ext_unload(x, err, sizeof(err));
		if (rc == 0)
			spin_sys_owner[i].x = NULL;
		else if (spin_sys_put_err(a[1], a[2], err))
			rc = -EFAULT;
		return rc;
	}
	return -EPERM; /* loaded by the kernel, not by a process */
}

static long spin_sys_ext_list(const uint64_t *a)
{
	struct ext_info info[32];
	uint32_t n = ext_list(info, 32);
	uint64_t done = 0;

	if (!uaccess_range_ok(a[0], a[1]))
		return -EFAULT;
	for (uint32_t i = 0; i < n && i < 32; i++) {
		size_t len = strlen(info[i].name);

		if (len + 1 > a[1] - done)
			break;
		if (copy_to_user(a[0] + done, info[i].name, len) ||
		    copy_to_user(a[0] + done + len, "\n", 1))
			return -EFAULT;
		done += len + 1;
	}
	return (long)done;
}

/* After the raise (ext_load and ext_unload may not run inside one). */
static int64_t spin_sys_after(struct process *p, struct trap_frame *f, uint64_t nr)
{
	const uint64_t a[4] = {f->rdi, f->rsi, f->rdx, f->r10};
	int64_t r;

	mutex_lock(&spin_sys_lock);
	switch ((long)nr) {
	case SPIN_SYS_EXT_LOAD:
		r = spin_sys_ext_load(p, a);
		break;
	case SPIN_SYS_EXT_UNLOAD:
		r = spin_sys_ext_unload(p, a);
		break;
	case SPIN_SYS_EXT_LIST:
		r = spin_sys_ext_list(a);
		break;
	default:
		r = -ENOSYS;
		break;
	}
	mutex_unlock(&spin_sys_lock);
	return r;
}

static int64_t spin_sys_handler(struct process *p, struct trap_frame *f)
{
	process_after_raise(p, f, spin_sys_after);
	return 0;
}

void spin_sys_init(void)
{
	mutex_init(&spin_sys_lock, "spin_sys");
	if (process_syscall_install(spin_sys_handler, NULL, &spin_sys_guard, &spin_sys_module))
		kprintf("spin: cannot install Spindle's system calls\n");
}
