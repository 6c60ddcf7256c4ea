/*
 * kernel/cpio.h: reader of "newc" cpio archives (the initramfs format;
 * magic 070701, or 070702 with checksums, which are not verified).
 *
 * cpio_next() walks an archive held in memory one member at a time without
 * copying: each entry points into the archive for its name and data.  The
 * walk ends at the "TRAILER!!!" member or exactly at the end of the buffer
 * (a missing trailer is tolerated, trailing zero padding too).
 *
 * Invariants of a returned entry (checked, the archive is input): the
 * header's fields are 8 hex digits each; the name is NUL-terminated within
 * namesize, non-empty, and shorter than CPIO_NAME_MAX; name and data lie
 * inside the archive (overflow-safe); the next header starts at a 4-byte
 * boundary.
 *
 * Callers: the root file system (kernel/rootfs.c), host tests.  Pure.
 * Errors: -EINVAL (malformed header, name or size), 1 from cpio_next at
 * the end of the archive.
 */
#ifndef KERNEL_CPIO_H
#define KERNEL_CPIO_H

#include <stddef.h>
#include <stdint.h>

#define CPIO_NAME_MAX 1024

#define CPIO_S_IFMT  0170000
#define CPIO_S_IFDIR 0040000
#define CPIO_S_IFREG 0100000
#define CPIO_S_IFLNK 0120000

struct cpio_entry {
	const char *name; /* NUL-terminated, inside the archive */
	size_t namelen;   /* without the NUL */
	const uint8_t *data;
	size_t size;
	uint32_t mode, uid, gid, nlink, ino;
	uint64_t mtime;
};

/* Read the member at *off; on success advance *off past it and return 0.
 * Returns 1 at the end of the archive, -EINVAL if it is malformed. */
int cpio_next(const void *archive, size_t len, size_t *off, struct cpio_entry *e);

#endif
