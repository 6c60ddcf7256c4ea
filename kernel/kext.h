/*
 * kernel/kext.h: extension objects packed into the kernel image, and the
 * kernel's minimal embedder for them.
 *
 * Owns:
 *   - the read-only table of clang BPF objects built from
 *     tests/kernel-ext/NAME.c (mk/kext.mk compiles each with $(BPF_CC) and
 *     .incbin's the bytes into a generated assembly file,
 *     build/kernel/kext/kext_images.S).  Each entry is (name, bytes, size):
 *     the unmodified ELF object, 8-byte aligned, in .rodata.
 *   - the boot manifest packed with them (tests/kernel-ext/manifest.txt:
 *     NAME OBJECT DOMAINS [privileged] per line, see kernel/extension.h),
 *     which kernel/modules.c loads at boot through ext_load_manifest;
 *   - the Kext interface (interfaces/kext.idl), a test service in
 *     SpinPublic: Kext_Log (mem, size) writes to the console and the test
 *     capture, Kext_Value () [pure] returns kext_value;
 *   - kext_embed: the link of the single-entry pipeline below: an import
 *     resolves to SpinPublic's symbol of that name or fails, naming it;
 *     and the entry convention: every entry function has r1, r2 = scalars.
 *   - kext_load/kext_unload: the whole pipeline for one entry function of a
 *     packed object: rt_prog_load_elf -> rt_prog_link -> rt_verify (every
 *     entry function of the object) -> rt_jit_compile.
 *
 * Invariants: the table and the bytes are immutable; names are unique (file
 * names).  A struct kext_prog is either fully loaded (prog verified and
 * compiled) or empty.
 * Who may call: core, tests and benchmarks.  Locking: none (the log capture
 * and kext_value are plain globals: single CPU, tests and benchmarks only).
 * Errors: lookups return NULL; kext_load returns 0 or the failing stage's
 * -RT_E* code with one readable line in err (-RT_ENOENT: no such object or
 * function, or an import the embedder does not offer; -RT_EMALFORMED: the
 * loader refused the bytes; -RT_EREJECT: the verifier refused, details in
 * *vres; others from the JIT).
 */
#ifndef KERNEL_KEXT_H
#define KERNEL_KEXT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/embed.h"
#include "runtime/exec.h"
#include "runtime/verify.h"

struct kext_image {
	const char *name;    /* file name without .c */
	const uint8_t *data; /* the object's bytes */
	uint64_t size;
};

size_t kext_count(void);
/* The i-th image, in file-name order; NULL past the end. */
const struct kext_image *kext_get(size_t i);
/* The image called name; NULL if none. */
const struct kext_image *kext_find(const char *name);

/* Publish the Kext interface (SpinPublic, "KextService"). */
int kext_init(void);
/* The packed boot manifest (its bytes, not NUL-terminated). */
const char *kext_manifest_text(size_t *len);
/* ext_object_fn for ext_load_manifest: a packed object by name. */
int kext_object(void *arg, const char *object, const void **bytes, size_t *len);

/* ---- the link against SpinPublic ---- */
extern const struct rt_embed kext_embed;
extern const struct rt_entry kext_entry; /* r1, r2 scalars */
extern int64_t kext_value;               /* what Kext_Value returns */
/* What Kext_Log wrote since the last kext_log_reset (NUL-terminated, cut at
 * the buffer's size), and how many calls. */
struct kext_log {
	char text[256];
	size_t len;
	uint64_t calls;
};
extern struct kext_log kext_log;
void kext_log_reset(void);

/* ---- the pipeline ---- */
struct kext_prog {
	struct rt_prog *prog;
	struct rt_jit *jit;
	uint32_t func; /* index of the entry function */
	rt_jit_fn fn;  /* its native entry point */
};
/* Load the object `name` (bytes from the table), or `data`/`size` when
 * name is NULL, and prepare entry function `func`. */
int kext_load(const char *name, const void *data, size_t size, const char *func,
              struct kext_prog *out, char *err, size_t errlen, struct rt_verify_result *vres);
void kext_unload(struct kext_prog *kp);

#endif
