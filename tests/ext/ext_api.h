/*
 * ext_api.h - what a test extension sees of the sample embedder
 * (tests/ext/ext_env.h): its procedures as extern functions, its types as
 * opaque structs, and the SEC() macro naming entry sections.  BPF side only.
 */
#ifndef TESTS_EXT_EXT_API_H
#define TESTS_EXT_EXT_API_H

#define SEC(name) __attribute__((section(name), used))
#define noinline  __attribute__((noinline))

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

struct console; /* Console.T: opaque */
struct pkt {
	u32 len, mark;
	u16 proto;
};

extern long ext_log(const void *mem, unsigned long size);
extern struct console *console_open(long id);
extern long console_write(struct console *c, const void *mem, unsigned long size);
extern void console_close(struct console *c);
extern long ext_now(void);
extern u8 *ext_buf(void);
extern const u8 *ext_table(void);
extern long ext_fill16(void *mem16);
extern long ext_hash8(const void *mem8);
extern long ext_ctx_len(void *ctx);
extern struct pkt *ext_pkt_get(long which);

#endif
