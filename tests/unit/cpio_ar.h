/* cpio_ar.h: build a "newc" cpio archive in memory, for the host tests
 * that mount a rootfs (lx_test, lx_proc_test): each entry is a header, its
 * name and its data, both padded to 4 bytes. */
#ifndef TESTS_UNIT_CPIO_AR_H
#define TESTS_UNIT_CPIO_AR_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Append one entry (data NULL: empty) at *len of ar, which the caller
 * sized for every entry it adds. */
static inline void cpio_ar_add(uint8_t *ar, size_t *len, const char *name, uint32_t mode,
                               const char *data)
{
	size_t n = *len, nlen = strlen(name) + 1, dlen = data ? strlen(data) : 0;

	n += (size_t)sprintf((char *)ar + n,
	                     "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1u,
	                     mode, 0u, 0u, 1u, 0u, dlen, 0u, 0u, 0u, 0u, nlen, 0u);
	memcpy(ar + n, name, nlen);
	n = (n + nlen + 3) & ~(size_t)3;
	memcpy(ar + n, data ? data : "", dlen);
	*len = (n + dlen + 3) & ~(size_t)3;
}

#endif
