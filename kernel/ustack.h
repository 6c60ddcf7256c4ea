/*
 * kernel/ustack.h: the initial stack of a new user program (System V x86-64
 * ABI, as Linux builds it).
 *
 * ustack_build() lays out, in a kernel buffer that stands for the user
 * range [top - size, top):
 *
 *     high  argument and environment strings, the 16 AT_RANDOM bytes,
 *           the platform string "x86_64"
 *           (padding so that the final stack pointer is 16-byte aligned)
 *           auxv pairs ending with AT_NULL
 *           envp[] NULL, argv[] NULL
 *     sp -> argc
 *
 * with AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_RANDOM, AT_UID,
 * AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_PLATFORM, AT_HWCAP, AT_CLKTCK.
 * Pointers inside it are user addresses (top-relative).  The caller copies
 * the buffer into the new address space.
 *
 * Callers: the process loader, host unit tests.  Pure; no allocation.
 * Errors: -EINVAL (NULL vectors or buffer, top or size not 16-aligned),
 * -E2BIG (the strings and vectors do not fit in size bytes, or more than
 * USTACK_MAX_ARGS pointers).
 */
#ifndef KERNEL_USTACK_H
#define KERNEL_USTACK_H

#include <stddef.h>
#include <stdint.h>

#define USTACK_MAX_ARGS 256

#define AT_NULL     0
#define AT_PHDR     3
#define AT_PHENT    4
#define AT_PHNUM    5
#define AT_PAGESZ   6
#define AT_ENTRY    9
#define AT_UID      11
#define AT_EUID     12
#define AT_GID      13
#define AT_EGID     14
#define AT_PLATFORM 15
#define AT_HWCAP    16
#define AT_CLKTCK   17
#define AT_SECURE   23
#define AT_RANDOM   25

struct ustack_aux {
	uint64_t phdr, phent, phnum, entry;
	uint8_t random[16];
};

/* Build the stack in buf (size bytes, standing for [top - size, top));
 * *sp gets the user stack pointer to start the program with.  argv and
 * envp are NULL-terminated. */
int ustack_build(uint8_t *buf, size_t size, uint64_t top, const char *const *argv,
                 const char *const *envp, const struct ustack_aux *aux, uint64_t *sp);

#endif
