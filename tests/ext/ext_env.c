/*
 * ext_env.c - the sample embedder (see ext_env.h for the procedure table
 * and the entry convention).  The procedures are real, so accepted programs
 * run on the interpreter and the JIT and their results can be checked; the
 * memory they hand out is listed as checking-mode regions so an access the
 * verifier wrongly allowed shows up as RT_RUN_FAULT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ext/ext_env.h"

struct console {
	char name[16];
	uint64_t written;
};
struct pkt {
	uint32_t len, mark;
	uint16_t proto;
	uint8_t priv[22];
};

static struct console consoles[4];
static struct pkt the_pkt = {.len = 60, .mark = 0, .proto = 17};
static uint8_t buf64[64];
static const uint8_t table16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static int open_count, pkt_holds;
static struct rt_ledger *cur_ledger; /* the current run's, or NULL */

static const struct rt_field pkt_fields[] = {
    {"len", 0, 4, false},
    {"mark", 4, 4, true},
    {"proto", 8, 2, false},
};
const struct rt_type ext_console_type = {"Console.T", sizeof(struct console), NULL, 0};
const struct rt_type ext_pkt_type = {"Pkt", sizeof(struct pkt), pkt_fields, 3};

static uint64_t ext_log(uint64_t mem, uint64_t size, uint64_t a, uint64_t b, uint64_t c)
{
	const uint8_t *m = (const uint8_t *)(uintptr_t)mem;
	uint64_t sum = 0;
	(void)a, (void)b, (void)c;
	for (uint64_t i = 0; i < size; i++)
		sum += m[i];
	return sum;
}

/* The native releases, called by console_close / ext_pkt_drop and by
 * rt_ledger_unwind for a run that stopped holding the reference. */
static void console_close_native(uint64_t con)
{
	(void)con;
	open_count--;
}

static void ext_pkt_drop_native(uint64_t p)
{
	(void)p;
	pkt_holds--;
}

static uint64_t console_open(uint64_t id, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t con;

	(void)a, (void)b, (void)c, (void)d;
	if ((int64_t)id < 0)
		return 0;
	open_count++;
	con = (uintptr_t)&consoles[id & 3];
	rt_ledger_note_acquire(cur_ledger, con, console_close_native);
	return con;
}

/* ext_log_opt: 0 for the memory logs nothing.  The verifier refuses 0 with a
 * size that may be non-zero; checking here too keeps a verifier bug from
 * becoming a host crash in the differential fuzzer. */
static uint64_t ext_log_opt(uint64_t mem, uint64_t size, uint64_t a, uint64_t b, uint64_t c)
{
	return mem ? ext_log(mem, size, a, b, c) : 0;
}

static uint64_t console_write(uint64_t con, uint64_t mem, uint64_t size, uint64_t a, uint64_t b)
{
	(void)a, (void)b;
	((struct console *)(uintptr_t)con)->written += size;
	return ext_log(mem, size, 0, 0, 0);
}

static uint64_t console_close(uint64_t con, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	rt_ledger_note_release(cur_ledger, con);
	console_close_native(con);
	return 0;
}

static uint64_t ext_now(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	return 1000;
}

static uint64_t ext_buf(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	return (uintptr_t)buf64;
}

static uint64_t ext_table(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	return (uintptr_t)table16;
}

static uint64_t ext_fill16(uint64_t mem, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	memset((void *)(uintptr_t)mem, 0x11, 16);
	return 16;
}

static uint64_t ext_hash8(uint64_t mem, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t v;
	(void)a, (void)b, (void)c, (void)d;
	memcpy(&v, (void *)(uintptr_t)mem, 8);
	return v * 0x9e3779b97f4a7c15ull >> 32;
}

static uint64_t ext_ctx_len(uint64_t ctx, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	(void)ctx, (void)a, (void)b, (void)c, (void)d;
	return 7;
}

static uint64_t ext_pkt_get(uint64_t which, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return which == 0 ? (uintptr_t)&the_pkt : 0;
}

static uint64_t ext_pkt_hold(uint64_t p, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	pkt_holds++;
	rt_ledger_note_acquire(cur_ledger, p, ext_pkt_drop_native);
	return p;
}

static uint64_t ext_pkt_drop(uint64_t p, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	rt_ledger_note_release(cur_ledger, p);
	ext_pkt_drop_native(p);
	return 0;
}

static struct rt_jit_ret ext_abort(uint64_t v, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return (struct rt_jit_ret){v, v == 0xdead ? 1 : 0};
}

#define A(k)                                                                                       \
	{                                                                                          \
		.kind = (k)                                                                        \
	}
static const struct rt_sig sigs[] = {
    {"ext_log", (void *)ext_log, 2, {A(RT_ARG_MEM), A(RT_ARG_SIZE)}, {.kind = RT_RET_SCALAR}, 0},
    {"console_open",
     (void *)console_open,
     1,
     {A(RT_ARG_SCALAR)},
     {.kind = RT_RET_REF_OR_NULL, .type = &ext_console_type, .acquire = true},
     0},
    {"console_write",
     (void *)console_write,
     3,
     {{.kind = RT_ARG_REF, .type = &ext_console_type}, A(RT_ARG_MEM), A(RT_ARG_SIZE)},
     {.kind = RT_RET_SCALAR},
     0},
    {"console_close",
     (void *)console_close,
     1,
     {{.kind = RT_ARG_REF, .type = &ext_console_type, .release = true}},
     {.kind = RT_RET_VOID},
     0},
    {"ext_now", (void *)ext_now, 0, {A(RT_ARG_NONE)}, {.kind = RT_RET_SCALAR}, RT_SIG_PURE},
    {"ext_buf",
     (void *)ext_buf,
     0,
     {A(RT_ARG_NONE)},
     {.kind = RT_RET_MEM_OR_NULL, .size = 64, .writable = true},
     0},
    {"ext_table",
     (void *)ext_table,
     0,
     {A(RT_ARG_NONE)},
     {.kind = RT_RET_MEM_OR_NULL, .size = 16, .writable = false},
     RT_SIG_PURE},
    {"ext_fill16",
     (void *)ext_fill16,
     1,
     {{.kind = RT_ARG_CONST_MEM_RW, .size = 16}},
     {.kind = RT_RET_SCALAR},
     0},
    {"ext_hash8",
     (void *)ext_hash8,
     1,
     {{.kind = RT_ARG_CONST_MEM, .size = 8}},
     {.kind = RT_RET_SCALAR},
     RT_SIG_PURE},
    {"ext_ctx_len", (void *)ext_ctx_len, 1, {A(RT_ARG_CTX)}, {.kind = RT_RET_SCALAR}, RT_SIG_PURE},
    {"ext_pkt_get",
     (void *)ext_pkt_get,
     1,
     {A(RT_ARG_SCALAR)},
     {.kind = RT_RET_REF_OR_NULL, .type = &ext_pkt_type},
     0},
    {"ext_log_opt",
     (void *)ext_log_opt,
     2,
     {A(RT_ARG_MEM_OR_NULL), A(RT_ARG_SIZE)},
     {.kind = RT_RET_SCALAR},
     0},
    {"ext_pkt_hold",
     (void *)ext_pkt_hold,
     1,
     {{.kind = RT_ARG_REF, .type = &ext_pkt_type}},
     {.kind = RT_RET_REF, .type = &ext_pkt_type, .acquire = true},
     0},
    {"ext_pkt_drop",
     (void *)ext_pkt_drop,
     1,
     {{.kind = RT_ARG_REF, .type = &ext_pkt_type, .release = true}},
     {.kind = RT_RET_VOID},
     0},
    {"ext_abort",
     (void *)ext_abort,
     1,
     {A(RT_ARG_SCALAR)},
     {.kind = RT_RET_SCALAR},
     RT_SIG_MAYABORT},
};
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))

static const struct rt_sig *lookup(void *arg, const char *name)
{
	(void)arg;
	for (size_t i = 0; i < NSIGS; i++)
		if (strcmp(sigs[i].name, name) == 0)
			return &sigs[i];
	return NULL;
}

static const struct rt_sig *helper(void *arg, int32_t id)
{
	(void)arg;
	return id >= 1 && (size_t)id <= NSIGS ? &sigs[id - 1] : NULL;
}

const struct rt_embed ext_env_embed = {lookup, helper, NULL};

bool ext_env_entry_for(const char *section, struct rt_entry *e)
{
	char *end;
	unsigned long n;

	memset(e, 0, sizeof(*e));
	if (strncmp(section, "ext/", 4) != 0)
		return false;
	section += 4;
	if (strncmp(section, "ctx", 3) == 0 || strncmp(section, "guard", 5) == 0) {
		bool guard = section[0] == 'g';
		n = strtoul(section + (guard ? 5 : 3), &end, 10);
		if (end == section + (guard ? 5 : 3) || n > 65536)
			return false;
		if (*end && strcmp(end, "_rw") != 0)
			return false;
		e->args[0].kind = *end && !guard ? RT_ARG_CONST_MEM_RW : RT_ARG_CONST_MEM;
		e->args[0].size = (uint32_t)n;
		e->args[1].kind = RT_ARG_SCALAR;
		e->guard = guard;
		return true;
	}
	if (strcmp(section, "pkt") == 0) {
		e->args[0].kind = RT_ARG_REF;
		e->args[0].type = &ext_pkt_type;
		return true;
	}
	if (strcmp(section, "scalar") == 0) {
		e->args[0].kind = RT_ARG_SCALAR;
		e->args[1].kind = RT_ARG_SCALAR;
		return true;
	}
	return strcmp(section, "none") == 0;
}

const struct rt_region *ext_env_regions(uint32_t *n)
{
	static struct rt_region r[4];
	r[0] = (struct rt_region){(uintptr_t)consoles, sizeof(consoles), true};
	r[1] = (struct rt_region){(uintptr_t)&the_pkt, sizeof(the_pkt), true};
	r[2] = (struct rt_region){(uintptr_t)buf64, sizeof(buf64), true};
	r[3] = (struct rt_region){(uintptr_t)table16, sizeof(table16), false};
	*n = 4;
	return r;
}

int ext_env_open_consoles(void)
{
	return open_count + pkt_holds;
}

void ext_env_reset(void)
{
	open_count = 0;
	pkt_holds = 0;
	memset(buf64, 0, sizeof(buf64));
	the_pkt.mark = 0;
}

void *ext_env_pkt(void)
{
	return &the_pkt;
}

void ext_env_entry_args(const struct rt_entry *e, void *mem, uint64_t memlen, uint64_t args[5])
{
	for (int i = 0; i < 5; i++) {
		switch (e->args[i].kind) {
		case RT_ARG_CONST_MEM:
		case RT_ARG_CONST_MEM_RW:
		case RT_ARG_CTX:
			args[i] = (uintptr_t)mem;
			break;
		case RT_ARG_REF:
			args[i] = (uintptr_t)ext_env_pkt();
			break;
		case RT_ARG_SCALAR:
			args[i] = i == 1 ? memlen : 0;
			break;
		default:
			args[i] = 0;
			break;
		}
	}
}

void ext_env_set_ledger(struct rt_ledger *l)
{
	cur_ledger = l;
}
