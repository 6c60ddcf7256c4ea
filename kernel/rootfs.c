/*
 * rootfs.c: the read-only root file system over a cpio archive (see
 * kernel/rootfs.h for the model and the errors).
 *
 * Creation validates every member name: leading "./" and "/" are
 * stripped, empty components and "." are skipped, and ".." is refused
 * (an archive cannot place a file outside the tree).  Lookups walk the
 * tree component by component; a symbolic link restarts the walk on its
 * target (copied to a bounded stack buffer), counting links so a cycle
 * ends in -ELOOP.
 */
#include "kernel/cpio.h"
#include "kernel/heap.h"
#include "kernel/rootfs.h"
#include "kernel/string.h"
#include "kernel/uerrno.h"

static struct rootfs_node *rootfs_node_new(struct rootfs *fs, struct rootfs_node *parent,
                                           const char *name, size_t namelen, uint32_t mode)
{
	struct rootfs_node *n;

	if (fs->nnodes >= ROOTFS_MAX_NODES)
		return NULL;
	n = kzalloc(sizeof(*n));
	if (!n)
		return NULL;
	n->name = kmalloc(namelen + 1);
	if (!n->name) {
		kfree(n);
		return NULL;
	}
	memcpy(n->name, name, namelen);
	n->name[namelen] = 0;
	n->mode = mode;
	n->ino = ++fs->nnodes;
	n->parent = parent ? parent : n;
	if (parent) {
		if (parent->last_child)
			parent->last_child->sibling = n;
		else
			parent->child = n;
		parent->last_child = n;
		parent->nchildren++;
	}
	return n;
}

static struct rootfs_node *rootfs_child(const struct rootfs_node *dir, const char *name, size_t len)
{
	for (struct rootfs_node *c = dir->child; c; c = c->sibling)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
			return c;
	return NULL;
}

static void rootfs_free_tree(struct rootfs_node *n)
{
	while (n) {
		struct rootfs_node *next = n->sibling;

		rootfs_free_tree(n->child);
		kfree(n->name);
		kfree(n);
		n = next;
	}
}

void rootfs_destroy(struct rootfs *fs)
{
	if (!fs)
		return;
	if (fs->root) {
		rootfs_free_tree(fs->root->child);
		kfree(fs->root->name);
		kfree(fs->root);
	}
	kfree(fs);
}

/* Insert one archive member. */
static int rootfs_add(struct rootfs *fs, const struct cpio_entry *e)
{
	const char *p = e->name, *end = e->name + e->namelen;
	struct rootfs_node *dir = fs->root, *n;
	uint32_t type = e->mode & ROOTFS_S_IFMT;

	if (type != ROOTFS_S_IFDIR && type != ROOTFS_S_IFREG && type != ROOTFS_S_IFLNK)
		return 0; /* devices, fifos, sockets: not served, skipped */
	if (type == ROOTFS_S_IFLNK && (e->size == 0 || e->size >= ROOTFS_LINK_MAX))
		return -EINVAL;
	for (;;) {
		const char *c;
		size_t len;

		while (p < end && *p == '/')
			p++;
		if (p == end) { /* the member names the directory itself (".", "/") */
			if (type != ROOTFS_S_IFDIR || dir != fs->root)
				return type == ROOTFS_S_IFDIR ? 0 : -EINVAL;
			dir->mode = e->mode;
			return 0;
		}
		c = p;
		while (p < end && *p != '/')
			p++;
		len = (size_t)(p - c);
		if (len > ROOTFS_NAME_MAX)
			return -EINVAL;
		if (len == 1 && c[0] == '.')
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return -EINVAL;
		/* Is this the last component (only slashes follow)? */
		{
			const char *q = p;

			while (q < end && *q == '/')
				q++;
			if (q == end)
				break;
		}
		n = rootfs_child(dir, c, len);
		if (!n) {
			n = rootfs_node_new(fs, dir, c, len, ROOTFS_S_IFDIR | 0755);
			if (!n)
				return fs->nnodes >= ROOTFS_MAX_NODES ? -E2BIG : -ENOMEM;
		} else if (!rootfs_is_dir(n)) {
			return -EINVAL; /* "a" is a file and "a/b" is in the archive */
		}
		dir = n;
		continue;
	}
	/* Last component: from c = p - len. */
	{
		const char *c = p;
		size_t len;

		while (c > e->name && c[-1] != '/')
			c--;
		len = (size_t)(p - c);
		n = rootfs_child(dir, c, len);
		if (n) {
			/* A later member replaces an earlier one of the same kind;
			 * a directory cannot become a file or back. */
			if (rootfs_is_dir(n) != (type == ROOTFS_S_IFDIR))
				return -EINVAL;
		} else {
			n = rootfs_node_new(fs, dir, c, len, e->mode);
			if (!n)
				return fs->nnodes >= ROOTFS_MAX_NODES ? -E2BIG : -ENOMEM;
		}
		n->mode = e->mode;
		n->uid = e->uid;
		n->gid = e->gid;
		n->mtime = e->mtime;
		if (type != ROOTFS_S_IFDIR) {
			n->data = e->data;
			n->size = e->size;
		}
	}
	return 0;
}

int rootfs_create(const void *archive, size_t len, struct rootfs **out)
{
	struct rootfs *fs;
	struct cpio_entry e;
	size_t off = 0;
	int err;

	if (!archive || !out)
		return -EINVAL;
	fs = kzalloc(sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->root = rootfs_node_new(fs, NULL, "/", 1, ROOTFS_S_IFDIR | 0755);
	if (!fs->root) {
		kfree(fs);
		return -ENOMEM;
	}
	while ((err = cpio_next(archive, len, &off, &e)) == 0) {
		err = rootfs_add(fs, &e);
		if (err)
			goto err_destroy;
	}
	if (err < 0)
		goto err_destroy;
	*out = fs;
	return 0;
err_destroy:
	rootfs_destroy(fs);
	return err;
}

/* Walk path from start; *links counts symbolic links followed so far. */
static int rootfs_walk(const struct rootfs *fs, const struct rootfs_node *start, const char *path,
                       unsigned flags, int *links, const struct rootfs_node **out)
{
	const struct rootfs_node *n = path[0] == '/' ? fs->root : start;
	const char *p = path;

	if (path[0] == 0)
		return -ENOENT;
	for (;;) {
		const char *c;
		size_t len;
		bool last, trailing_slash;
		const struct rootfs_node *next;

		while (*p == '/')
			p++;
		if (*p == 0)
			break;
		c = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - c);
		if (len > ROOTFS_NAME_MAX)
			return -ENAMETOOLONG;
		trailing_slash = *p == '/';
		{
			const char *q = p;

			while (*q == '/')
				q++;
			last = *q == 0;
		}
		if (!rootfs_is_dir(n))
			return -ENOTDIR;
		if (len == 1 && c[0] == '.')
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			n = n->parent;
			continue;
		}
		next = rootfs_child(n, c, len);
		if (!next)
			return -ENOENT;
		if (rootfs_is_link(next) &&
		    (!last || trailing_slash || !(flags & ROOTFS_NOFOLLOW))) {
			char target[ROOTFS_LINK_MAX];
			int err;

			if (++*links > ROOTFS_MAX_LINKS)
				return -ELOOP;
			/* Bounded at creation: size < ROOTFS_LINK_MAX. */
			memcpy(target, next->data, next->size);
			target[next->size] = 0;
			err = rootfs_walk(fs, n, target, 0, links, &next);
			if (err)
				return err;
		}
		n = next;
		if (last && trailing_slash && !rootfs_is_dir(n))
			return -ENOTDIR;
	}
	*out = n;
	return 0;
}

int rootfs_lookup(const struct rootfs *fs, const struct rootfs_node *cwd, const char *path,
                  unsigned flags, const struct rootfs_node **out)
{
	int links = 0;

	if (!fs || !path || !out || (flags & ~ROOTFS_NOFOLLOW))
		return -EINVAL;
	if (strnlen(path, ROOTFS_PATH_MAX) == ROOTFS_PATH_MAX)
		return -ENAMETOOLONG;
	return rootfs_walk(fs, cwd ? cwd : fs->root, path, flags, &links, out);
}

void rootfs_stat(const struct rootfs_node *n, struct rootfs_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->ino = n->ino;
	st->mode = n->mode;
	st->size = n->size;
	st->blocks = (n->size + 511) / 512;
	st->mtime = n->mtime;
	st->uid = n->uid;
	st->gid = n->gid;
	st->nlink = rootfs_is_dir(n) ? 2 : 1;
}

long rootfs_read(const struct rootfs_node *n, uint64_t off, void *buf, size_t len)
{
	if (rootfs_is_dir(n))
		return -EISDIR;
	if (off >= n->size)
		return 0;
	if (len > n->size - off)
		len = (size_t)(n->size - off);
	if (len > (size_t)1 << 30)
		len = (size_t)1 << 30; /* keep the count representable */
	memcpy(buf, n->data + off, len);
	return (long)len;
}

static uint8_t rootfs_dtype(const struct rootfs_node *n)
{
	return rootfs_is_dir(n) ? ROOTFS_DT_DIR : rootfs_is_link(n) ? ROOTFS_DT_LNK : ROOTFS_DT_REG;
}

long rootfs_getdents(const struct rootfs_node *dir, uint64_t *pos, void *buf, size_t len)
{
	uint8_t *b = buf;
	size_t used = 0;
	const struct rootfs_node *c;
	uint64_t i;

	if (!rootfs_is_dir(dir))
		return -ENOTDIR;
	/* Find the child for *pos >= 2. */
	c = dir->child;
	for (i = 2; i < *pos && c; i++)
		c = c->sibling;
	for (;;) {
		const char *name;
		const struct rootfs_node *n;
		size_t namelen, reclen;
		uint64_t ino, next;
		uint16_t rl;
		uint8_t type;

		if (*pos == 0)
			n = dir, name = ".";
		else if (*pos == 1)
			n = dir->parent, name = "..";
		else if (c)
			n = c, name = c->name;
		else
			break;
		namelen = strlen(name);
		reclen = (19 + namelen + 1 + 7) & ~(size_t)7;
		if (reclen > len - used) {
			if (used == 0)
				return -EINVAL;
			break;
		}
		ino = n->ino;
		next = *pos + 1;
		rl = (uint16_t)reclen;
		type = rootfs_dtype(n);
		memset(b + used, 0, reclen);
		memcpy(b + used, &ino, 8);
		memcpy(b + used + 8, &next, 8); /* d_off: the position after this one */
		memcpy(b + used + 16, &rl, 2);
		b[used + 18] = type;
		memcpy(b + used + 19, name, namelen);
		used += reclen;
		if (*pos >= 2)
			c = c->sibling;
		*pos = next;
	}
	return (long)used;
}
