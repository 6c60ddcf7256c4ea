/*
 * rootfs_test.c: kernel/cpio.c and kernel/rootfs.c on archives built here
 * (good ones, and hostile ones: bad magic and hex, names without NUL,
 * sizes past the end, "..", a file used as a directory, link loops).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/cpio.h"
#include "kernel/rootfs.h"
#include "kernel/uerrno.h"
#include "tests/unit/check.h"

static uint8_t ar[1 << 16];
static size_t arlen;

static void ar_reset(void)
{
	memset(ar, 0, sizeof(ar));
	arlen = 0;
}

static void ar_add(const char *name, uint32_t mode, const char *data)
{
	size_t nlen = strlen(name) + 1, dlen = data ? strlen(data) : 0;

	arlen += (size_t)sprintf((char *)ar + arlen,
	                         "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1u,
	                         mode, 0u, 0u, 1u, 1234u, dlen, 0u, 0u, 0u, 0u, nlen, 0u);
	memcpy(ar + arlen, name, nlen);
	arlen = (arlen + nlen + 3) & ~(size_t)3;
	if (dlen)
		memcpy(ar + arlen, data, dlen);
	arlen = (arlen + dlen + 3) & ~(size_t)3;
}

static void ar_end(void)
{
	ar_add("TRAILER!!!", 0, NULL);
}

static void sample(void)
{
	ar_reset();
	ar_add(".", 040755, NULL);
	ar_add("bin", 040755, NULL);
	ar_add("bin/hello", 0100755, "HELLO-ELF");
	ar_add("etc/motd", 0100644, "welcome\n");  /* etc synthesised */
	ar_add("./lib//x/y.txt", 0100644, "deep"); /* odd spelling */
	ar_add("bin/sh", 0120777, "hello");        /* relative link */
	ar_add("abs", 0120777, "/etc/motd");
	ar_add("loop1", 0120777, "loop2");
	ar_add("loop2", 0120777, "loop1");
	ar_add("dirlink", 0120777, "bin");
	ar_add("dev-null", 020666, NULL); /* a device: skipped */
	ar_end();
}

static const struct rootfs_node *look(struct rootfs *fs, const char *path, unsigned flags, int *err)
{
	const struct rootfs_node *n = NULL;

	*err = rootfs_lookup(fs, NULL, path, flags, &n);
	return *err ? NULL : n;
}

static void cpio_walk(void)
{
	struct cpio_entry e;
	size_t off = 0;
	int n = 0, r;

	sample();
	while ((r = cpio_next(ar, arlen, &off, &e)) == 0)
		n++;
	CHECK_EQ(r, 1);
	CHECK_EQ(n, 11);
	/* Without the trailer: ends at the buffer's end. */
	ar_reset();
	ar_add("a", 0100644, "x");
	off = 0;
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), 0);
	CHECK_STR(e.name, "a");
	CHECK_EQ(e.size, 1);
	CHECK_EQ(e.data[0], 'x');
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), 1);
}

static void cpio_hostile(void)
{
	struct cpio_entry e;
	size_t off;

	ar_reset();
	ar_add("file", 0100644, "data");
	off = 0;
	ar[0] = '1';
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), -EINVAL); /* magic */
	ar[0] = '0';
	ar[10] = 'g';
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), -EINVAL); /* hex digit */
	ar[10] = '0';
	CHECK_EQ(cpio_next(ar, 50, &off, &e), -EINVAL); /* truncated header */
	memcpy(ar + 6 + 8 * 6, "FFFFFFFF", 8);          /* filesize past the end */
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), -EINVAL);
	ar_reset();
	ar_add("file", 0100644, "data");
	ar[110 + 4] = 'X'; /* name not NUL-terminated */
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), -EINVAL);
	ar_reset();
	ar_add("file", 0100644, "data");
	memcpy(ar + 6 + 8 * 11, "00000000", 8); /* namesize 0 */
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), -EINVAL);
	memcpy(ar + 6 + 8 * 11, "FFFFFFFF", 8); /* huge namesize */
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), -EINVAL);
	memcpy(ar + 6 + 8 * 11, "00000003", 8); /* "fi\0"? no: "fil" has no NUL */
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), -EINVAL);
	off = arlen + 1;
	CHECK_EQ(cpio_next(ar, arlen, &off, &e), -EINVAL); /* offset past end */
	/* Every truncation of a good archive: an error or the end, no crash. */
	sample();
	for (size_t len = 0; len < arlen; len++) {
		int r;

		off = 0;
		while ((r = cpio_next(ar, len, &off, &e)) == 0)
			CHECK(e.data + e.size <= ar + len);
	}
}

static void tree_and_lookup(void)
{
	struct rootfs *fs;
	const struct rootfs_node *n;
	int err;

	sample();
	CHECK_EQ(rootfs_create(ar, arlen, &fs), 0);
	n = look(fs, "/bin/hello", 0, &err);
	CHECK(n && n->size == 9 && memcmp(n->data, "HELLO-ELF", 9) == 0);
	CHECK(look(fs, "bin/hello", 0, &err) == n);
	CHECK(look(fs, "//bin///hello", 0, &err) == n);
	CHECK(look(fs, "/bin/./../bin/hello", 0, &err) == n);
	CHECK(look(fs, "/../../bin/hello", 0, &err) == n); /* .. at the root stays */
	CHECK(look(fs, "/bin/sh", 0, &err) == n);          /* link followed */
	n = look(fs, "/bin/sh", ROOTFS_NOFOLLOW, &err);
	CHECK(n && rootfs_is_link(n));
	n = look(fs, "/abs", 0, &err);
	CHECK(n && n->size == 8);
	CHECK(look(fs, "/dirlink/hello", 0, &err) != NULL); /* link in the middle */
	n = look(fs, "/lib/x/y.txt", 0, &err);
	CHECK(n && n->size == 4);
	n = look(fs, "/etc", 0, &err);
	CHECK(n && rootfs_is_dir(n));
	CHECK(look(fs, "/", 0, &err) == fs->root);
	CHECK(look(fs, "/dev-null", 0, &err) == NULL && err == -ENOENT);
	CHECK(look(fs, "/nope", 0, &err) == NULL && err == -ENOENT);
	CHECK(look(fs, "", 0, &err) == NULL && err == -ENOENT);
	CHECK(look(fs, "/bin/hello/x", 0, &err) == NULL && err == -ENOTDIR);
	CHECK(look(fs, "/bin/hello/", 0, &err) == NULL && err == -ENOTDIR);
	CHECK(look(fs, "/loop1", 0, &err) == NULL && err == -ELOOP);
	CHECK(look(fs, "/loop1", ROOTFS_NOFOLLOW, &err) != NULL);
	CHECK(look(fs, "/loop1/x", ROOTFS_NOFOLLOW, &err) == NULL && err == -ELOOP);
	{
		char longname[300];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = 0;
		CHECK(look(fs, longname, 0, &err) == NULL && err == -ENAMETOOLONG);
	}
	{
		static char longpath[ROOTFS_PATH_MAX + 10];

		memset(longpath, '/', sizeof(longpath) - 1);
		CHECK(look(fs, longpath, 0, &err) == NULL && err == -ENAMETOOLONG);
	}
	CHECK_EQ(rootfs_lookup(fs, NULL, "/", 0x80, &n), -EINVAL);
	/* Relative to a directory. */
	n = look(fs, "/bin", 0, &err);
	{
		const struct rootfs_node *m;

		CHECK_EQ(rootfs_lookup(fs, n, "hello", 0, &m), 0);
		CHECK_EQ(rootfs_lookup(fs, n, "../etc/motd", 0, &m), 0);
		CHECK(m->size == 8);
	}
	rootfs_destroy(fs);
}

static void read_and_stat(void)
{
	struct rootfs *fs;
	const struct rootfs_node *n;
	struct rootfs_stat st;
	char buf[16];
	int err;

	sample();
	CHECK_EQ(rootfs_create(ar, arlen, &fs), 0);
	n = look(fs, "/etc/motd", 0, &err);
	CHECK_EQ(rootfs_read(n, 0, buf, sizeof(buf)), 8);
	CHECK(memcmp(buf, "welcome\n", 8) == 0);
	CHECK_EQ(rootfs_read(n, 3, buf, 2), 2);
	CHECK(memcmp(buf, "co", 2) == 0);
	CHECK_EQ(rootfs_read(n, 8, buf, 2), 0);
	CHECK_EQ(rootfs_read(n, ~0ull, buf, 2), 0);
	CHECK_EQ(rootfs_read(fs->root, 0, buf, 2), -EISDIR);
	rootfs_stat(n, &st);
	CHECK_EQ(st.size, 8);
	CHECK_EQ(st.mode, 0100644);
	CHECK_EQ(st.mtime, 1234);
	rootfs_stat(fs->root, &st);
	CHECK_EQ(st.mode & ROOTFS_S_IFMT, ROOTFS_S_IFDIR);
	rootfs_destroy(fs);
}

static void getdents(void)
{
	struct rootfs *fs;
	uint8_t buf[512];
	uint64_t pos = 0;
	long n;
	int count = 0, err;
	char names[512] = "";
	const struct rootfs_node *bin;

	sample();
	CHECK_EQ(rootfs_create(ar, arlen, &fs), 0);
	n = rootfs_getdents(fs->root, &pos, buf, sizeof(buf));
	CHECK(n > 0);
	for (long off = 0; off < n;) {
		uint16_t reclen;

		memcpy(&reclen, buf + off + 16, 2);
		CHECK(reclen % 8 == 0 && reclen >= 24);
		strcat(names, (char *)buf + off + 19);
		strcat(names, " ");
		off += reclen;
		count++;
	}
	CHECK_STR(names, ". .. bin etc lib abs loop1 loop2 dirlink ");
	CHECK_EQ(rootfs_getdents(fs->root, &pos, buf, sizeof(buf)), 0); /* end */
	/* One record at a time with a tiny buffer. */
	pos = 0;
	count = 0;
	while ((n = rootfs_getdents(fs->root, &pos, buf, 32)) > 0)
		count++;
	CHECK_EQ(n, 0);
	CHECK_EQ(count, 9);
	pos = 0;
	CHECK_EQ(rootfs_getdents(fs->root, &pos, buf, 10), -EINVAL);
	bin = look(fs, "/bin/hello", 0, &err);
	pos = 0;
	CHECK_EQ(rootfs_getdents(bin, &pos, buf, sizeof(buf)), -ENOTDIR);
	pos = 1000; /* far past the end */
	CHECK_EQ(rootfs_getdents(fs->root, &pos, buf, sizeof(buf)), 0);
	rootfs_destroy(fs);
}

static void hostile_archives(void)
{
	struct rootfs *fs = NULL;

	ar_reset();
	ar_add("../escape", 0100644, "x");
	ar_end();
	CHECK_EQ(rootfs_create(ar, arlen, &fs), -EINVAL);
	ar_reset();
	ar_add("a", 0100644, "x");
	ar_add("a/b", 0100644, "y"); /* a file used as a directory */
	ar_end();
	CHECK_EQ(rootfs_create(ar, arlen, &fs), -EINVAL);
	ar_reset();
	ar_add("d", 040755, NULL);
	ar_add("d", 0100644, "y"); /* a directory becoming a file */
	ar_end();
	CHECK_EQ(rootfs_create(ar, arlen, &fs), -EINVAL);
	ar_reset();
	ar_add("l", 0120777, ""); /* empty link target */
	ar_end();
	CHECK_EQ(rootfs_create(ar, arlen, &fs), -EINVAL);
	ar_reset();
	ar_add("f", 0100644, "one");
	ar_add("f", 0100644, "three"); /* replaced by the later member */
	ar_end();
	CHECK_EQ(rootfs_create(ar, arlen, &fs), 0);
	if (fs) {
		const struct rootfs_node *n;

		CHECK_EQ(rootfs_lookup(fs, NULL, "/f", 0, &n), 0);
		CHECK_EQ(n->size, 5);
		rootfs_destroy(fs);
	}
	/* Corrupt every byte of a good archive in turn: never a crash. */
	sample();
	{
		uint8_t copy[sizeof(ar)];
		size_t len = arlen;

		memcpy(copy, ar, len);
		for (size_t i = 0; i < len; i += 3) {
			ar[i] ^= 0x5a;
			if (rootfs_create(ar, len, &fs) == 0)
				rootfs_destroy(fs);
			ar[i] = copy[i];
		}
	}
}

int main(void)
{
	RUN(cpio_walk);
	RUN(cpio_hostile);
	RUN(tree_and_lookup);
	RUN(read_and_stat);
	RUN(getdents);
	RUN(hostile_archives);
	return check_done();
}
