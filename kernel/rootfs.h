/*
 * kernel/rootfs.h: a read-only root file system over a newc cpio archive.
 *
 * rootfs_create() walks the archive once and builds a tree of nodes:
 * directories, regular files and symbolic links.  Directories that the
 * archive names only implicitly (a member "bin/hello" without "bin") are
 * synthesised with mode 0755.  File contents and link targets are not
 * copied: nodes point into the archive, which must outlive the tree and is
 * never written.
 *
 * Path lookup (rootfs_lookup) understands absolute and relative paths,
 * repeated slashes, "." and "..", and symbolic links (relative targets
 * resolve from the link's directory; at most ROOTFS_MAX_LINKS links per
 * lookup).  Directory listing (rootfs_getdents) writes Linux
 * linux_dirent64 records: ".", "..", then the entries in archive order.
 *
 * Invariants: the root's parent is itself; names are non-empty, contain no
 * '/', and are not "." or ".."; no two children of a directory share a
 * name; inode numbers are unique (assigned here, not taken from the
 * archive).
 *
 * Callers: the process layer and the Linux personality.  The tree is
 * immutable after creation, so lookups need no lock.
 * Errors: -EINVAL (malformed archive, bad argument), -ENOMEM, -ENOENT,
 * -ENOTDIR, -ELOOP, -ENAMETOOLONG, -EISDIR (reading a directory),
 * -E2BIG (more than ROOTFS_MAX_NODES nodes).
 */
#ifndef KERNEL_ROOTFS_H
#define KERNEL_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROOTFS_NAME_MAX  255
#define ROOTFS_PATH_MAX  4096
#define ROOTFS_MAX_LINKS 8
#define ROOTFS_LINK_MAX  256 /* link targets are shorter (kernel stack use) */
#define ROOTFS_MAX_NODES 65536

#define ROOTFS_S_IFMT  0170000
#define ROOTFS_S_IFDIR 0040000
#define ROOTFS_S_IFREG 0100000
#define ROOTFS_S_IFLNK 0120000

/* linux_dirent64 d_type values */
#define ROOTFS_DT_DIR 4
#define ROOTFS_DT_REG 8
#define ROOTFS_DT_LNK 10

/* rootfs_lookup flags */
#define ROOTFS_NOFOLLOW 0x1u /* do not follow a link in the last component */

struct rootfs_node {
	char *name;
	uint32_t mode; /* type and permission bits */
	uint32_t uid, gid;
	uint64_t ino;
	uint64_t mtime;
	uint64_t size;       /* file bytes, link target length; directories: 0 */
	const uint8_t *data; /* file contents or link target (not NUL-terminated) */
	struct rootfs_node *parent;
	struct rootfs_node *child, *last_child, *sibling;
	uint32_t nchildren;
};

struct rootfs {
	struct rootfs_node *root;
	uint32_t nnodes;
};

struct rootfs_stat {
	uint64_t ino, size, blocks, mtime;
	uint32_t mode, nlink, uid, gid;
};

/* Build the tree from archive[0, len); *out on success. */
int rootfs_create(const void *archive, size_t len, struct rootfs **out);
void rootfs_destroy(struct rootfs *fs);

/* Resolve path from cwd (NULL: the root); path is NUL-terminated. */
int rootfs_lookup(const struct rootfs *fs, const struct rootfs_node *cwd, const char *path,
                  unsigned flags, const struct rootfs_node **out);

static inline bool rootfs_is_dir(const struct rootfs_node *n)
{
	return (n->mode & ROOTFS_S_IFMT) == ROOTFS_S_IFDIR;
}
static inline bool rootfs_is_link(const struct rootfs_node *n)
{
	return (n->mode & ROOTFS_S_IFMT) == ROOTFS_S_IFLNK;
}

void rootfs_stat(const struct rootfs_node *n, struct rootfs_stat *st);
/* Copy up to len bytes from offset off; returns the count (0 at or past
 * the end) or -EISDIR. */
long rootfs_read(const struct rootfs_node *n, uint64_t off, void *buf, size_t len);
/* Fill buf with linux_dirent64 records from position *pos on (0 ".",
 * 1 "..", 2 + i the i-th entry); advances *pos.  Returns the bytes
 * written, 0 at the end, -EINVAL if the next record does not fit, or
 * -ENOTDIR. */
long rootfs_getdents(const struct rootfs_node *dir, uint64_t *pos, void *buf, size_t len);

#endif
