/*
 * model_fixture.h: native trusted modules shared by the domain and
 * nameserver tests: Console (a 64-byte console device), Gatekeeper (the
 * IntruderAlert event's authority) and SPL (privileged).  They implement
 * the generated prototypes in build/gen/spindle_interfaces.h under exactly
 * the declared names, as kernel modules do.
 */
#ifndef SPINDLE_TESTS_MODEL_FIXTURE_H
#define SPINDLE_TESTS_MODEL_FIXTURE_H

#include "spindle_interfaces.h"

static const struct module console_mod __attribute__((unused)) = {"Console", MODULE_TRUSTED};
static const struct module gatekeeper_mod __attribute__((unused)) = {"Gatekeeper", MODULE_TRUSTED};
static const struct module spl_mod
    __attribute__((unused)) = {"SPL", MODULE_TRUSTED | MODULE_PRIVILEGED};
static const struct module trap_mod __attribute__((unused)) = {"Trap", MODULE_TRUSTED};
static const struct module ext_mod __attribute__((unused)) = {"AlertLogger", MODULE_EXTENSION};

struct Console_T {
	char out[64];
	unsigned len;
	int open;
};
static struct Console_T console_dev;
static int console_opens, console_closes;

struct Console_T *Console_Open(void)
{
	if (console_dev.open)
		return NULL;
	console_dev.open = 1;
	console_opens++;
	return &console_dev;
}

uint64_t Console_Write(struct Console_T *t, const void *msg, uint64_t len)
{
	uint64_t n = 0;
	while (n < len && t->len + 1 < sizeof(t->out))
		t->out[t->len++] = ((const char *)msg)[n++];
	t->out[t->len] = 0;
	return n;
}

void Console_Close(struct Console_T *t)
{
	t->open = 0;
	console_closes++;
}

static uint64_t alert_level = 3;
uint64_t Gatekeeper_IntruderAlert_intrinsic(uint64_t level, uint64_t code)
{
	(void)code;
	return level >= alert_level ? level : 0;
}

uint64_t Gatekeeper_Level(void)
{
	return alert_level;
}

static uint64_t spl_level;
uint64_t SPL_High(void)
{
	uint64_t old = spl_level;
	spl_level = 7;
	return old;
}

void SPL_Restore(uint64_t level)
{
	spl_level = level;
}

static inline void console_reset(void)
{
	memset(&console_dev, 0, sizeof(console_dev));
	console_opens = console_closes = 0;
}

#endif
