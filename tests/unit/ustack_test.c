/*
 * ustack_test.c: kernel/ustack.c lays out argc/argv/envp/auxv and strings
 * as the x86-64 ABI says, aligned, and refuses what does not fit.
 */
#include <stdint.h>
#include <string.h>

#include "kernel/uerrno.h"
#include "kernel/ustack.h"
#include "tests/unit/check.h"

#define TOP 0x7ffffffde000ull

static uint8_t buf[8192];

static uint64_t word(uint64_t uaddr)
{
	uint64_t v;

	memcpy(&v, buf + sizeof(buf) - (TOP - uaddr), 8);
	return v;
}

static const char *str(uint64_t uaddr)
{
	return (const char *)buf + sizeof(buf) - (TOP - uaddr);
}

static uint64_t aux_get(uint64_t sp, uint64_t type)
{
	uint64_t argc = word(sp), p = sp + 8 * (argc + 2);

	while (word(p))
		p += 8;
	for (p += 8; word(p) != AT_NULL; p += 16)
		if (word(p) == type)
			return word(p + 8);
	return ~0ull;
}

static void layout(void)
{
	const char *argv[] = {"/bin/hello", "a", "bc", NULL};
	const char *envp[] = {"PATH=/bin", NULL};
	struct ustack_aux aux = {
	    0x400040, 56, 7, 0x401000, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
	uint64_t sp = 0;

	CHECK_EQ(ustack_build(buf, sizeof(buf), TOP, argv, envp, &aux, &sp), 0);
	CHECK_EQ(sp % 16, 0);
	CHECK(sp < TOP && sp >= TOP - sizeof(buf));
	CHECK_EQ(word(sp), 3);
	CHECK_STR(str(word(sp + 8)), "/bin/hello");
	CHECK_STR(str(word(sp + 16)), "a");
	CHECK_STR(str(word(sp + 24)), "bc");
	CHECK_EQ(word(sp + 32), 0);
	CHECK_STR(str(word(sp + 40)), "PATH=/bin");
	CHECK_EQ(word(sp + 48), 0);
	CHECK_EQ(aux_get(sp, AT_PHDR), 0x400040);
	CHECK_EQ(aux_get(sp, AT_PHENT), 56);
	CHECK_EQ(aux_get(sp, AT_PHNUM), 7);
	CHECK_EQ(aux_get(sp, AT_PAGESZ), 4096);
	CHECK_EQ(aux_get(sp, AT_ENTRY), 0x401000);
	CHECK(memcmp(str(aux_get(sp, AT_RANDOM)), aux.random, 16) == 0);
	CHECK_STR(str(aux_get(sp, AT_PLATFORM)), "x86_64");
	/* Strings live above the vectors, inside the buffer. */
	CHECK(word(sp + 8) > sp + 48);
}

/* Alignment holds for every argument count (the padding alternates). */
static void alignment_all_counts(void)
{
	const char *argv[12] = {0};
	const char *envp[] = {NULL};
	struct ustack_aux aux = {0};
	uint64_t sp;

	for (int n = 0; n < 11; n++) {
		for (int i = 0; i < n; i++)
			argv[i] = "xyz" + (i % 3);
		argv[n] = NULL;
		CHECK_EQ(ustack_build(buf, sizeof(buf), TOP, argv, envp, &aux, &sp), 0);
		CHECK_EQ(sp % 16, 0);
		CHECK_EQ(word(sp), (uint64_t)n);
	}
}

static void too_big(void)
{
	static char longarg[9000];
	const char *argv[] = {longarg, NULL};
	const char *envp[] = {NULL};
	struct ustack_aux aux = {0};
	uint64_t sp = 0;
	static const char *many[USTACK_MAX_ARGS + 2];

	memset(longarg, 'x', sizeof(longarg) - 1);
	CHECK_EQ(ustack_build(buf, sizeof(buf), TOP, argv, envp, &aux, &sp), -E2BIG);
	for (int i = 0; i < USTACK_MAX_ARGS + 1; i++)
		many[i] = "a";
	CHECK_EQ(ustack_build(buf, sizeof(buf), TOP, many, envp, &aux, &sp), -E2BIG);
	/* Just fits: leave a few bytes short for the words. */
	longarg[sizeof(buf) - 150] = 0;
	CHECK_EQ(ustack_build(buf, sizeof(buf), TOP, argv, envp, &aux, &sp), -E2BIG);
	longarg[sizeof(buf) - 400] = 0;
	CHECK_EQ(ustack_build(buf, sizeof(buf), TOP, argv, envp, &aux, &sp), 0);
	CHECK_EQ(sp % 16, 0);
	CHECK(sp >= TOP - sizeof(buf));
}

static void bad_arguments(void)
{
	const char *argv[] = {NULL};
	struct ustack_aux aux = {0};
	uint64_t sp;

	CHECK_EQ(ustack_build(NULL, sizeof(buf), TOP, argv, argv, &aux, &sp), -EINVAL);
	CHECK_EQ(ustack_build(buf, sizeof(buf), TOP + 8, argv, argv, &aux, &sp), -EINVAL);
	CHECK_EQ(ustack_build(buf, sizeof(buf) - 8, TOP, argv, argv, &aux, &sp), -EINVAL);
	CHECK_EQ(ustack_build(buf, sizeof(buf), 4096, argv, argv, &aux, &sp), -EINVAL);
	CHECK_EQ(ustack_build(buf, sizeof(buf), TOP, NULL, argv, &aux, &sp), -EINVAL);
}

int main(void)
{
	RUN(layout);
	RUN(alignment_all_counts);
	RUN(too_big);
	RUN(bad_arguments);
	return check_done();
}
