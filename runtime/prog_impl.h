/*
 * prog_impl.h - what the program-building files (prog.c, loader.c, btf.c,
 * link.c) share and nobody else should use: error formatting into the
 * caller's buffer, allocation of an empty program, and the code checks that
 * every way of building a program applies.
 */
#ifndef RUNTIME_PROG_IMPL_H
#define RUNTIME_PROG_IMPL_H

#include "runtime/prog.h"

/* Write the one-line message (if err) and return -code. */
int rt_err(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A zeroed program with an instruction array of n slots. */
struct rt_prog *rt_prog_alloc(uint32_t n);

/* Refuse, with a named reason, instructions Spindle never runs whatever the
 * verifier would say: callx (-RT_EUNSUPP), legacy packet loads (-RT_EUNSUPP),
 * lddw with an unknown pseudo source or a global index out of range, lddw
 * split across the end, local calls landing outside the array, import calls
 * naming no import (-RT_EMALFORMED). */
int rt_prog_scan_code(const struct rt_prog *p, char *err, size_t errlen);

/* Copy a NUL-terminated name into a fixed field, truncating. */
void rt_strlcpy(char *dst, const char *src, size_t size);

#endif
