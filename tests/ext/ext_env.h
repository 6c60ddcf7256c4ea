/*
 * ext_env.h - the sample embedder the verifier's tests and spin-verify use
 * until the kernel's interface declarations are generated (a later issue
 * replaces this file's role; nothing in runtime/ depends on it).
 *
 * It offers a handful of typed procedures, by name (for C extensions, which
 * declare them `extern`) and by number (for the `.data` corpus, whose
 * assembler only knows `call N`):
 *
 *   #  name           signature                                  notes
 *   1  ext_log        (mem, size) -> scalar                      reads size bytes
 *   2  console_open   (scalar id) -> Console.T ref_or_null       acquires; NULL if id < 0
 *   3  console_write  (Console.T ref, mem, size) -> scalar
 *   4  console_close  (Console.T ref, released) -> void
 *   5  ext_now        () -> scalar                               pure (guards may call it)
 *   6  ext_buf        () -> mem_or_null, 64 bytes, writable
 *   7  ext_table      () -> mem_or_null, 16 bytes, read-only
 *   8  ext_fill16     (const mem rw, 16 bytes) -> scalar         writes all 16 bytes
 *   9  ext_hash8      (const mem, 8 bytes) -> scalar             pure
 *   10 ext_ctx_len    (ctx) -> scalar                            pure
 *   11 ext_pkt_get    (scalar) -> Pkt ref_or_null                not acquired
 *   12 ext_log_opt    (mem_or_null, size) -> scalar               0 (with size 0) logs nothing
 *   13 ext_pkt_hold   (Pkt ref) -> Pkt ref                       acquires a second hold
 *   14 ext_pkt_drop   (Pkt ref, released) -> void
 *   15 ext_abort      (scalar) -> scalar                         may abort the program
 *
 * Types: Console.T is opaque (no fields: only passable to console_*).  Pkt
 * has fields len (offset 0, 4 bytes, read-only), mark (4, 4, writable) and
 * proto (8, 2, read-only); bytes 10..31 are private.
 *
 * Entry convention, chosen by the ELF section of the entry function (C
 * extensions) or by a `-- entry` line (the corpus):
 *   ext/ctxNN      r1 = read-only context of NN bytes, r2 = scalar (its length)
 *   ext/ctxNN_rw   the same, writable
 *   ext/guardNN    a guard: r1 = read-only context of NN bytes; only pure calls,
 *                  no stores outside its own stack
 *   ext/pkt        r1 = Pkt reference (non-null, not acquired)
 *   ext/scalar     r1, r2 = scalars
 *   ext/none       no arguments
 * Any other section (e.g. handler/...) is not an entry of this embedder.
 *
 * References: console_open and ext_pkt_hold note what they acquire in the
 * current ledger (runtime/exec.h, "References held by one run"), with the
 * native close/drop as its release; console_close and ext_pkt_drop strike
 * the note out before releasing.  Set the ledger around a run with
 * ext_env_set_ledger and pass the same one as rt_run.ledger, so a run
 * stopped by the fuel or by ext_abort releases what it held.
 *
 * Hosted only.  Not thread-safe (the Console open count and the current
 * ledger are plain globals).
 */
#ifndef TESTS_EXT_EXT_ENV_H
#define TESTS_EXT_EXT_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/embed.h"
#include "runtime/exec.h"

extern const struct rt_embed ext_env_embed;
extern const struct rt_type ext_console_type, ext_pkt_type;

/* Fill *e for an entry in `section`; false if the section is not an entry. */
bool ext_env_entry_for(const char *section, struct rt_entry *e);

/* Memory the procedures hand out, as interpreter checking-mode regions
 * (consoles, the Pkt object, ext_buf, ext_table). */
const struct rt_region *ext_env_regions(uint32_t *n);

/* Consoles opened and not closed since the last reset (leak check), and the
 * Pkt object entries of kind ext/pkt receive. */
int ext_env_open_consoles(void);
void ext_env_reset(void);
void *ext_env_pkt(void);

/* r1..r5 for entry e run over mem (memlen bytes given): the context pointer,
 * the Pkt object for a reference, memlen for a scalar r2, else 0. */
void ext_env_entry_args(const struct rt_entry *e, void *mem, uint64_t memlen, uint64_t args[5]);

/* The ledger the acquiring and releasing procedures note into (NULL: they
 * note nothing, and a stopped run leaks what it held). */
void ext_env_set_ledger(struct rt_ledger *l);

#endif
