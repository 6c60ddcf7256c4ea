/*
 * kernel/cmdline.h: the kernel command line, as words "key" or "key=value".
 *
 * Owns a private copy of the command line, set once by kmain from the boot
 * information.  Words are separated by spaces; a value runs to the next space.
 * Recognised today: "test" / "test=PATTERN[,PATTERN...]" (run the in-kernel
 * tests, see kernel/ktest.h) and "inject=WHAT" (deliberately break the boot,
 * for the bad-boot tests: see kmain.c).  Unknown words are ignored.
 * Callers: core, at boot.  No errors: a missing key is just absent.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

void cmdline_set(const char *s);
const char *cmdline_get_all(void);
/* True if the word "key" or "key=..." is present. */
bool cmdline_has(const char *key);
/* The value of "key=value" copied into buf (NUL-terminated); NULL if absent
 * or the word has no '='. */
const char *cmdline_value(const char *key, char *buf, size_t size);

#endif
