/*
 * cmdline.c: find "key" and "key=value" words in the kernel command line.
 */
#include "kernel/cmdline.h"
#include "kernel/string.h"

#define CMDLINE_MAX 512

static char cmdline_buf[CMDLINE_MAX];

void cmdline_set(const char *s)
{
	strlcpy(cmdline_buf, s ? s : "", sizeof(cmdline_buf));
}

const char *cmdline_get_all(void)
{
	return cmdline_buf;
}

/* The word starting with key (followed by '=', space or end), or NULL. */
static const char *cmdline_find(const char *key)
{
	size_t klen = strlen(key);
	const char *p = cmdline_buf;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (strncmp(p, key, klen) == 0 &&
		    (p[klen] == 0 || p[klen] == ' ' || p[klen] == '='))
			return p;
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

bool cmdline_has(const char *key)
{
	return cmdline_find(key) != NULL;
}

const char *cmdline_value(const char *key, char *buf, size_t size)
{
	const char *p = cmdline_find(key);
	size_t n = 0;

	if (!p || p[strlen(key)] != '=' || size == 0)
		return NULL;
	p += strlen(key) + 1;
	while (p[n] && p[n] != ' ' && n + 1 < size) {
		buf[n] = p[n];
		n++;
	}
	buf[n] = 0;
	return buf;
}
