/*
 * ktest_test.c: the runner's own pattern matching and the command line
 * parser it depends on.
 */
#include "kernel/cmdline.h"
#include "kernel/ktest.h"
#include "kernel/string.h"

KTEST(ktest_patterns)
{
	KT_ASSERT(ktest_match(NULL, "anything"));
	KT_ASSERT(ktest_match("", "anything"));
	KT_ASSERT(ktest_match("mmu_*", "mmu_no_wx_mapping"));
	KT_ASSERT(!ktest_match("mmu_*", "trap_pf_caught"));
	KT_ASSERT(ktest_match("*_caught", "trap_pf_caught"));
	KT_ASSERT(ktest_match("trap_?d_caught", "trap_ud_caught"));
	KT_ASSERT(ktest_match("guard", "mmu_guard_pages_unmapped")); /* substring */
	KT_ASSERT(!ktest_match("guardx", "mmu_guard_pages_unmapped"));
}

KTEST(cmdline_words)
{
	char saved[512], buf[32];

	strlcpy(saved, cmdline_get_all(), sizeof(saved));
	cmdline_set("  test=mmu_*,trap quiet  inject=pf testing");
	KT_ASSERT(cmdline_has("test"));
	KT_ASSERT(cmdline_has("quiet"));
	KT_ASSERT(!cmdline_has("tes"));
	KT_ASSERT(cmdline_value("test", buf, sizeof(buf)) != NULL);
	KT_ASSERT(strcmp(buf, "mmu_*,trap") == 0);
	KT_ASSERT(cmdline_value("quiet", buf, sizeof(buf)) == NULL);
	KT_ASSERT(cmdline_value("inject", buf, 3) != NULL);
	KT_ASSERT(strcmp(buf, "pf") == 0);
	cmdline_set(saved);
}
