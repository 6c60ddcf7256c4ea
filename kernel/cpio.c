/*
 * cpio.c: walk a newc cpio archive in memory (see kernel/cpio.h).
 *
 * Every length comes from the archive, so each is bounded before it is
 * added to an offset, and every offset is compared with the archive's
 * length before anything at it is read.
 */
#include <stdbool.h>

#include "kernel/cpio.h"
#include "kernel/string.h"
#include "kernel/uerrno.h"

#define CPIO_HDR_LEN 110

static bool cpio_hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static size_t cpio_align4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

int cpio_next(const void *archive, size_t len, size_t *off, struct cpio_entry *e)
{
	const uint8_t *a = archive;
	uint32_t f[13];
	size_t pos, name_end, data_off, data_end;

	if (!archive || !off || !e || *off > len)
		return -EINVAL;
	pos = *off;
	/* End of the buffer, or only zero padding left: the end. */
	{
		size_t i = pos;

		while (i < len && a[i] == 0)
			i++;
		if (i == len)
			return 1;
	}
	if (len - pos < CPIO_HDR_LEN)
		return -EINVAL;
	if (memcmp(a + pos, "07070", 5) != 0 || (a[pos + 5] != '1' && a[pos + 5] != '2'))
		return -EINVAL;
	for (int i = 0; i < 13; i++)
		if (!cpio_hex8(a + pos + 6 + 8 * i, &f[i]))
			return -EINVAL;
	/* f: ino mode uid gid nlink mtime filesize devmaj devmin rdevmaj rdevmin namesize check */
	if (f[11] < 2 || f[11] > CPIO_NAME_MAX)
		return -EINVAL;
	name_end = pos + CPIO_HDR_LEN + f[11]; /* cannot wrap: pos <= len, small adds */
	if (name_end > len || a[name_end - 1] != 0)
		return -EINVAL;
	if (strnlen((const char *)a + pos + CPIO_HDR_LEN, f[11]) != f[11] - 1)
		return -EINVAL; /* an embedded NUL */
	data_off = cpio_align4(name_end);
	if (data_off > len || f[6] > len - data_off)
		return -EINVAL;
	data_end = data_off + f[6];

	e->name = (const char *)a + pos + CPIO_HDR_LEN;
	e->namelen = f[11] - 1;
	e->ino = f[0];
	e->mode = f[1];
	e->uid = f[2];
	e->gid = f[3];
	e->nlink = f[4];
	e->mtime = f[5];
	e->size = f[6];
	e->data = a + data_off;
	if (strcmp(e->name, "TRAILER!!!") == 0)
		return 1;
	*off = cpio_align4(data_end) < len ? cpio_align4(data_end) : len;
	return 0;
}
