/*
 * console.c: the Console interface over the serial console
 * (kernel/console.h).  The paper's example module: Console.T is a branded
 * record with an input and an output queue; here it is a pool object
 * guarded by a capability, so a stale reference fails a generation check
 * instead of writing through a console someone else has opened since.
 */
#include <arch/cpu.h>

#include "kernel/cap.h"
#include "kernel/console.h"
#include "kernel/domain.h"
#include "kernel/kprintf.h"
#include "kernel/nameserver.h"
#include "kernel/string.h"

struct Console_T {
	cap_t cap; /* CAP_NULL while closed */
	char inputQ[CONSOLE_QSIZE];
	char outputQ[CONSOLE_QSIZE];
	uint32_t outlen;
	bool midline; /* wrote since the last newline */
};

static const struct module console_module = {"Console", MODULE_TRUSTED};
static struct Console_T console_pool[CONSOLE_MAX];
static char console_cap_buf[512];
static size_t console_cap_len;

static unsigned long console_lock(void)
{
	unsigned long on = arch_irq_enabled();
	arch_irq_disable();
	return on;
}

static void console_unlock(unsigned long on)
{
	if (on)
		arch_irq_enable();
}

/* t is one of ours and its capability is current. */
static bool console_valid(const struct Console_T *t)
{
	uintptr_t p = (uintptr_t)t, base = (uintptr_t)console_pool;

	if (p < base || p >= base + sizeof(console_pool) || (p - base) % sizeof(*t))
		return false;
	return t->cap != CAP_NULL &&
	       cap_lookup(cap_kernel, t->cap, CONSOLE_CAP_TYPE) == (const void *)t;
}

static void console_flush(struct Console_T *t)
{
	char line[CONSOLE_QSIZE + 1];

	if (!t->outlen)
		return;
	memcpy(line, t->outputQ, t->outlen);
	line[t->outlen] = 0;
	kputs(line);
	t->outlen = 0;
}

static void console_capture_put(char c)
{
	if (console_cap_len + 1 >= sizeof(console_cap_buf)) {
		memmove(console_cap_buf, console_cap_buf + 256, console_cap_len - 256);
		console_cap_len -= 256;
	}
	console_cap_buf[console_cap_len++] = c;
	console_cap_buf[console_cap_len] = 0;
}

struct Console_T *Console_Open(void)
{
	unsigned long f;
	struct Console_T *t = NULL;

	if (!cap_kernel)
		return NULL;
	f = console_lock();
	for (uint32_t i = 0; i < CONSOLE_MAX; i++) {
		if (console_pool[i].cap != CAP_NULL)
			continue;
		if (cap_create(cap_kernel, CONSOLE_CAP_TYPE, &console_pool[i],
		               &console_pool[i].cap) == 0) {
			t = &console_pool[i];
			t->outlen = 0;
			t->midline = false;
		}
		break;
	}
	console_unlock(f);
	return t;
}

uint64_t Console_Write(struct Console_T *t, const void *msg, uint64_t len)
{
	const char *m = msg;
	unsigned long f;
	uint64_t n = 0;

	if (!msg)
		return 0;
	f = console_lock();
	if (console_valid(t)) {
		for (; n < len; n++) {
			t->outputQ[t->outlen++] = m[n];
			t->midline = m[n] != '\n';
			console_capture_put(m[n]);
			if (m[n] == '\n' || t->outlen == CONSOLE_QSIZE)
				console_flush(t);
		}
	}
	console_unlock(f);
	return n;
}

void Console_Close(struct Console_T *t)
{
	unsigned long f = console_lock();

	if (console_valid(t)) {
		console_flush(t);
		if (t->midline)
			kputs("\n"); /* each opener's output ends its line */
		cap_revoke(cap_kernel, t->cap, CONSOLE_CAP_TYPE, NULL);
		t->cap = CAP_NULL;
	}
	console_unlock(f);
}

const char *console_capture(void)
{
	return console_cap_buf;
}

void console_capture_reset(void)
{
	console_cap_len = 0;
	console_cap_buf[0] = 0;
}

uint32_t console_open_count(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < CONSOLE_MAX; i++)
		n += console_pool[i].cap != CAP_NULL;
	return n;
}

int console_init(void)
{
	struct domain *d = NULL;
	int err;

	if ((err = domain_create_from_interface(&iface_Console, &console_module, &d)))
		return err;
	err = domain_publish(d);
	if (!err)
		err = nameserver_export_interface(&iface_Console, d, NULL, NULL, &console_module);
	domain_release(d);
	return err;
}
