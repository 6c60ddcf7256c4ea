/*
 * spin_sys.c: Spindle's own system calls (include/spindle/spin_syscall.h):
 * loading, unloading and listing extensions from user space.
 *
 * A trusted module like the Linux personality: it installs a handler on
 * MachineTrap.Syscall whose guard accepts only the numbers in
 * [SPIN_SYS_BASE, SPIN_SYS_BASE + SPIN_SYS_COUNT), whatever personality the
 * process has.
 *
 * A process loads an extension for itself - application-specific system
 * calls and fault handling (SPIN Table 4): the extension links against
 * SpinPublic and MachineTrap's domain (nothing else private), is verified
 * like any other, and is tied to the process:
 *   - it is claimed for the process (process_ext_claim) before loading, so
 *     MachineTrap.Syscall's authorizer imposes "the caller is this process"
 *     on every system-call handler it installs;
 *   - the process's Translation context is granted to it
 *     (translation_grant), so the memory module lets it handle that
 *     context's faults - and only that context's (an imposed guard);
 *   - if it exports VMApp.Setup, it is called once loaded with handles (in
 *     the extension's own capability space) for the context and the
 *     process's VirtAddr range, and the range's base;
 *   - only that process may unload it, and it is unloaded when the process
 *     ends (before its context is destroyed).
 *
 * Every argument is hostile: paths and names are copied in with bounds
 * (-ENAMETOOLONG), objects are copied out of the archive into an aligned
 * kernel buffer before the loader reads them, and messages are copied out
 * NUL-terminated within the caller's length.
 */
#include <spindle/spin_syscall.h>

#include <stddef.h>

#include "kernel/dispatch.h"
#include "kernel/elf_exec.h"
#include "kernel/domain.h"
#include "kernel/extension.h"
#include "kernel/heap.h"
#include "kernel/interface.h"
#include "kernel/kprintf.h"
#include "kernel/process.h"
#include "kernel/string.h"
#include "kernel/sync.h"
#include "kernel/translation.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"

#define SPIN_SYS_NAME_MAX 32
#define SPIN_SYS_ERR_MAX  256
#define SPIN_SYS_OWNERS   32
#define SPIN_SYS_OBJ_MAX  (1u << 20)

static const struct module spin_sys_module = {"SpinSyscalls", MODULE_TRUSTED};
/* One loader at a time (extension.h), and the owner table with it. */
static struct mutex spin_sys_lock;
static bool spin_sys_ready;
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

typedef struct rt_jit_ret (*spin_sys_export_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

/* Hand a VM extension its process's context and range (VMApp.Setup). */
static int spin_sys_setup(struct ext *x, struct process *p)
{
	const struct domain_sym *s = domain_lookup(ext_domain(x), "VMApp_Setup");
	uint64_t hctx, hrange;
	struct rt_jit_ret r;

	if (!s)
		return 0; /* not a VM extension */
	if (!s->sig || !s->sig->fn || ext_cap_give(x, p->ctx_cap, &hctx) ||
	    ext_cap_give(x, p->vrange, &hrange))
		return -EINVAL;
	r = ((spin_sys_export_fn)s->sig->fn)(hctx, hrange, ELF_EXEC_USER_MIN, 0, 0);
	return r.status || (int64_t)r.r0 < 0 ? -EINVAL : 0;
}

static long spin_sys_ext_load(struct process *p, const uint64_t *a)
{
	const struct rootfs_node *file;
	struct module *mod = NULL;
	char name[SPIN_SYS_NAME_MAX], *path, err[SPIN_SYS_ERR_MAX] = "";
	struct ext *x;
	struct domain *doms[2] = {domain_spin_public, process_syscall_domain()};
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
	/* Privileged only to hand out MachineTrap's private domain; what the
	 * extension may install is the authorizers' (claim, grant) to say. */
	mod->flags = MODULE_PRIVILEGED;
	if (ext_find(name)) {
		rc = -EEXIST;
		goto out;
	}
	if ((rc = process_ext_claim(name, p)))
		goto out;
	if ((rc = translation_grant(p->ctx_cap, name))) {
		process_ext_release(name);
		goto out;
	}
	rc = ext_load(obj, file->size, name, mod, doms, doms[1] ? 2 : 1, &x, err, sizeof(err));
	if (rc == 0 && (rc = spin_sys_setup(x, p))) {
		strlcpy(err, "VMApp_Setup refused the process's capabilities", sizeof(err));
		ext_unload(x, NULL, 0);
	}
	if (rc) {
		translation_revoke_grant(p->ctx_cap, name);
		process_ext_release(name);
	}
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

/* Unload owner slot i's extension (lock held); 0 or the unload's error. */
static long spin_sys_unload_slot(int i, struct process *p, char *err, size_t errlen)
{
	const struct module *m = ext_module(spin_sys_owner[i].x);
	char name[EXT_NAME_MAX];
	long rc;

	strlcpy(name, m->name, sizeof(name));
	rc = ext_unload(spin_sys_owner[i].x, err, errlen);
	if (rc)
		return rc;
	spin_sys_owner[i].x = NULL;
	translation_revoke_grant(p->ctx_cap, name);
	process_ext_release(name);
	return 0;
}

void spin_sys_process_gone(struct process *p)
{
	if (!spin_sys_ready)
		return; /* not started (tests spawning without the boot path) */
	mutex_lock(&spin_sys_lock);
	for (int i = 0; i < SPIN_SYS_OWNERS; i++)
		if (spin_sys_owner[i].x && spin_sys_owner[i].pid == p->pid &&
		    spin_sys_unload_slot(i, p, NULL, 0))
			kprintf("spin: cannot unload an extension of process %d\n", p->pid);
	mutex_unlock(&spin_sys_lock);
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
		rc = spin_sys_unload_slot(i, p, err, sizeof(err));
		if (rc && spin_sys_put_err(a[1], a[2], err))
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
	spin_sys_ready = true;
	if (process_syscall_install(spin_sys_handler, NULL, &spin_sys_guard, &spin_sys_module))
		kprintf("spin: cannot install Spindle's system calls\n");
}
