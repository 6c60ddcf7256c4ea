/*
 * pkg_common.h: the plumbing the thread packages (tests/kernel-ext/pkg_*.c)
 * share: the counters their Package.Stat export reports and the set of
 * blocked threads they keep from Strand.Block / Strand.Unblock.  A package
 * includes it once, in its one source file (it defines the package's
 * globals and Package_Stat), and keeps its own handlers, whose names its
 * init installs; they call these static inline helpers, which clang
 * inlines (eBPF C: no function pointers, clang-19 -target bpf).
 */
#ifndef TESTS_KERNEL_EXT_PKG_COMMON_H
#define TESTS_KERNEL_EXT_PKG_COMMON_H

#include <spindle/package.h>
#include <spindle/strand.h>

/* Package_Stat(what): the counter stat[what] (tests/kernel/tpkg_test.c). */
enum { PKG_RESUMES, PKG_CHECKPOINTS, PKG_BLOCKS, PKG_UNBLOCKS, PKG_PICKS, PKG_NSTAT };

u64 stat[PKG_NSTAT];
u64 blocked; /* bit i: thread i is blocked */

/* Returns 0: eBPF always returns r0; a void event ignores it. */
static inline u64 pkg_count(u64 what)
{
	stat[what]++;
	return 0;
}

/* Strand.Block on one of the package's threads: thread i is not runnable. */
static inline u64 pkg_block(struct Strand_T *s)
{
	s64 i = Strand_Thread(s);

	if (i >= 0 && i < 64) {
		blocked |= 1ull << i;
		stat[PKG_BLOCKS]++;
	}
	return 0;
}

/* Strand.Unblock: thread i is runnable again. */
static inline u64 pkg_unblock(struct Strand_T *s)
{
	s64 i = Strand_Thread(s);

	if (i >= 0 && i < 64) {
		blocked &= ~(1ull << i);
		stat[PKG_UNBLOCKS]++;
	}
	return 0;
}

/* Round robin: the first runnable thread after prev among the first n (at
 * most 8), from thread 0 when prev is none of them; -1 if all are blocked.
 * Counts the pick. */
static inline s64 pkg_pick_rr(u64 prev, u64 n)
{
	stat[PKG_PICKS]++;
	if (n > 8)
		n = 8;
	for (u64 k = 1; k <= n; k++) {
		u64 i = prev >= n ? k - 1 : (prev + k) % n;
		if (!(blocked & (1ull << i)))
			return (s64)i;
	}
	return -1;
}

SPINDLE_EXPORT
u64 Package_Stat(u64 what)
{
	return what < PKG_NSTAT ? stat[what] : 0;
}

#endif
