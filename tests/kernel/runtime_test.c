/*
 * runtime_test.c: the extension runtime inside the booted kernel.
 *
 * The extensions are the clang BPF objects packed into the image from
 * tests/kernel-ext/ (kernel/kext.h), linked against the kernel embedder of
 * kernel/kext.c (Kext_Log, Kext_Value: the Kext interface, linked through SpinPublic).  The cases
 * check the whole pipeline (load, link, verify, JIT, run) against the interpreter and a C model,
 * fuel stopping a runaway extension, refusals of hostile and malformed
 * objects with their messages, and the W^X code memory of kernel/rt_env.c:
 * pages RW+NX while written, RX and never W once sealed, and everything
 * (frames, heap objects, mappings) given back when a program is freed.
 */
#include <stdint.h>

#include <arch/fault.h>
#include <arch/mmu.h>
#include <arch/mmu_prot.h>
#include <arch/trap.h>

#include "kernel/heap.h"
#include "kernel/kext.h"
#include "kernel/kprintf.h"
#include "kernel/ktest.h"
#include "kernel/pmm.h"
#include "kernel/rt_env.h"
#include "kernel/string.h"

static bool rt_test_contains(const char *s, const char *sub)
{
	size_t n = strlen(sub);

	for (; *s; s++)
		if (strncmp(s, sub, n) == 0)
			return true;
	return false;
}

static bool rt_test_in_area(uintptr_t va)
{
	return va >= MMU_CODE_AREA_BASE && va - MMU_CODE_AREA_BASE < MMU_CODE_AREA_SIZE;
}

/* What is allocated right now, to prove that a cycle gives everything back. */
struct rt_test_usage {
	uint64_t free_pages, heap_pages, heap_objects, heap_bytes, code_pages, code_blocks;
};

static void rt_test_usage(struct rt_test_usage *u)
{
	struct pmm_stats ps;
	struct heap_stats hs;
	struct rt_env_stats es;

	pmm_get_stats(&ps);
	heap_get_stats(&hs);
	rt_env_get_stats(&es);
	u->free_pages = ps.free_pages;
	u->heap_pages = hs.pages_held;
	u->heap_objects = hs.live_objects;
	u->heap_bytes = hs.bytes_requested;
	u->code_pages = es.code_pages;
	u->code_blocks = es.code_blocks;
}

/* Every frame is free in the pmm or held by the heap (which may keep empty
 * slabs for later); a frame that is neither after a cycle is a leak. */
#define KT_ASSERT_USAGE_SAME(a, b)                                                                 \
	do {                                                                                       \
		KT_ASSERT_EQ((a).free_pages + (a).heap_pages, (b).free_pages + (b).heap_pages);    \
		KT_ASSERT_EQ((a).heap_objects, (b).heap_objects);                                  \
		KT_ASSERT_EQ((a).heap_bytes, (b).heap_bytes);                                      \
		KT_ASSERT_EQ((a).code_pages, (b).code_pages);                                      \
		KT_ASSERT_EQ((a).code_blocks, (b).code_blocks);                                    \
	} while (0)

/* ---- code memory (kernel/rt_env.c) ---------------------------------------- */

KTEST(rt_env_code_memory_wx)
{
	struct rt_test_usage before, after;
	struct rt_env_stats es0, es1;
	struct fault_catch fc = {.vector = TRAP_PF};
	static const uint8_t ret42[] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov eax, 42; ret */
	static const uint8_t ret7[] = {0xb8, 7, 0, 0, 0, 0xc3};   /* mov eax, 7; ret */
	volatile uint8_t *c;
	void *warm;
	unsigned f;

	/* The first use of the area creates its page tables; they stay. */
	warm = rt_code_alloc(64);
	KT_ASSERT(warm != NULL);
	rt_code_free(warm, 64);
	rt_test_usage(&before);
	rt_env_get_stats(&es0);

	c = rt_code_alloc(5000); /* two pages */
	KT_ASSERT(c != NULL);
	KT_ASSERT(rt_test_in_area((uintptr_t)c));
	KT_ASSERT_EQ((uintptr_t)c % MMU_PAGE_SIZE, 0);
	for (int pg = 0; pg < 2; pg++) {
		KT_ASSERT(mmu_query((uintptr_t)c + pg * MMU_PAGE_SIZE, NULL, &f));
		KT_ASSERT_EQ(f & (MMU_W | MMU_X), MMU_W); /* being written: RW, NX */
	}
	KT_ASSERT_EQ(c[0], 0xcc);    /* int3 fill */
	KT_ASSERT_EQ(c[8191], 0xcc); /* the whole last page */
	memcpy((void *)c, ret42, sizeof(ret42));
	memcpy((void *)(c + 4096), ret7, sizeof(ret7));

	KT_ASSERT_EQ(rt_code_seal((void *)c, 5000), 0);
	for (int pg = 0; pg < 2; pg++) {
		KT_ASSERT(mmu_query((uintptr_t)c + pg * MMU_PAGE_SIZE, NULL, &f));
		KT_ASSERT_EQ(f & (MMU_W | MMU_X), MMU_X); /* sealed: RX, not W */
	}
	KT_ASSERT_EQ(((uint64_t(*)(void))(uintptr_t)c)() & 0xffffffff, 42);
	KT_ASSERT_EQ(((uint64_t(*)(void))(uintptr_t)(c + 4096))() & 0xffffffff, 7);

	/* Sealed code is not writable (the TLB was invalidated on seal). */
	if (fault_catch_arm(&fc) == 0) {
		c[1] = 43;
		fault_catch_disarm(&fc);
		KT_FAIL("writing sealed code did not fault");
	}
	KT_ASSERT_EQ(fc.addr, (uintptr_t)c + 1);
	KT_ASSERT_EQ(fc.error & 3, 3); /* present, write */

	/* Seal and free must name exactly one live allocation. */
	KT_ASSERT_EQ(rt_code_seal((void *)(c + 4096), 100), -RT_EINVAL);
	rt_code_free((void *)c, 100); /* wrong length: refused, still mapped */
	KT_ASSERT(mmu_query((uintptr_t)c, NULL, NULL));
	rt_code_free((void *)(c + 4096), 4096); /* not its start: refused */
	KT_ASSERT(mmu_query((uintptr_t)c + 4096, NULL, NULL));

	rt_code_free((void *)c, 5000);
	KT_ASSERT(!mmu_query((uintptr_t)c, NULL, NULL));
	KT_ASSERT(!mmu_query((uintptr_t)c + 4096, NULL, NULL));
	rt_code_free((void *)c, 5000); /* double free: refused */
	rt_env_get_stats(&es1);
	KT_ASSERT_EQ(es1.refused - es0.refused, 4);
	rt_test_usage(&after);
	KT_ASSERT_USAGE_SAME(before, after);
	KT_ASSERT_EQ(after.free_pages, before.free_pages);
	KT_ASSERT(rt_code_alloc(0) == NULL);
	KT_ASSERT(rt_code_alloc(MMU_CODE_AREA_SIZE + 1) == NULL);
}

/* ---- the packed objects ------------------------------------------------------ */

KTEST(rt_kext_images_packed)
{
	static const char *const want[] = {"rt_badimport", "rt_basic", "rt_bench",
	                                   "rt_loop",      "rt_oob",   "rt_wild"};
	unsigned f;

	KT_ASSERT(kext_count() >= 6);
	for (size_t i = 0; i < kext_count(); i++) {
		const struct kext_image *im = kext_get(i);

		KT_ASSERT(im != NULL && im->size > 64);
		KT_ASSERT_EQ((uintptr_t)im->data % 8, 0);
		KT_ASSERT(memcmp(im->data, "\177ELF", 4) == 0);
		KT_ASSERT(mmu_query((uintptr_t)im->data, NULL, &f));
		KT_ASSERT_EQ(f & (MMU_W | MMU_X), 0); /* in rodata */
	}
	KT_ASSERT(kext_get(kext_count()) == NULL);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!kext_find(want[i]))
			KT_FAIL("extension %s is not packed into the image", want[i]);
	KT_ASSERT(kext_find("no_such_extension") == NULL);
}

/* ---- load, verify, JIT, run: JIT = interpreter = C model ------------------------ */

/* Writable globals (.data/.bss), saved so each engine starts from the same state. */
struct rt_test_globals {
	uint8_t bytes[256];
	uint32_t used;
};

static bool rt_test_globals_save(const struct rt_prog *p, struct rt_test_globals *g)
{
	g->used = 0;
	for (uint32_t i = 0; i < p->nglobals; i++) {
		if (p->globals[i].kind == RT_GLOBAL_RODATA)
			continue;
		if (g->used + p->globals[i].size > sizeof(g->bytes))
			return false;
		memcpy(g->bytes + g->used, p->globals[i].data, p->globals[i].size);
		g->used += p->globals[i].size;
	}
	return true;
}

static void rt_test_globals_restore(const struct rt_prog *p, const struct rt_test_globals *g)
{
	uint32_t off = 0;

	for (uint32_t i = 0; i < p->nglobals; i++) {
		if (p->globals[i].kind == RT_GLOBAL_RODATA)
			continue;
		memcpy(p->globals[i].data, g->bytes + off, p->globals[i].size);
		off += p->globals[i].size;
	}
}

static const char rt_test_msg[] = "rt_basic: hello from an extension\n";

/* tests/kernel-ext/rt_basic.c in C. */
static uint64_t rt_test_basic_model(uint64_t a, uint64_t b, uint64_t value, uint64_t calls)
{
	uint64_t acc = a * 3 + b + value, n = (b & 1) ? sizeof(rt_test_msg) - 1 : 0;

	for (uint64_t i = 0; i < (a & 63); i++)
		acc = acc * 31 + (i ^ b);
	return acc + n + calls + 1;
}

KTEST(rt_ext_jit_matches_interp)
{
	static const uint64_t in[][2] = {{0, 0},
	                                 {1, 1},
	                                 {5, 2},
	                                 {63, 3},
	                                 {64, 7},
	                                 {0xffffffffull, 0x12345},
	                                 {0x8000000000000000ull, 0xfffffffffffffffeull},
	                                 {41, 0x55}};
	struct kext_prog kp;
	struct rt_test_globals g0, gj, gi;
	char err[200];
	uint64_t odd = 0;
	int ret;

	ret = kext_load("rt_basic", NULL, 0, "rt_basic", &kp, err, sizeof(err), NULL);
	if (ret)
		KT_FAIL("loading rt_basic failed (%d): %s", ret, err);
	KT_ASSERT(kp.fn != NULL && rt_test_in_area((uintptr_t)kp.fn));
	kext_log_reset();
	kext_value = 1000;
	for (unsigned k = 0; k < sizeof(in) / sizeof(in[0]); k++) {
		uint64_t args[5] = {in[k][0], in[k][1], 0, 0, 0}, want;
		struct rt_run rj = {.fuel = RT_ENV_FUEL_DEFAULT},
		              ri = {.fuel = RT_ENV_FUEL_DEFAULT};
		struct rt_jit_ret direct;

		KT_ASSERT(rt_test_globals_save(kp.prog, &g0));
		want = rt_test_basic_model(in[k][0], in[k][1], 1000, k);
		KT_ASSERT_EQ(rt_jit_run(kp.jit, kp.func, args, &rj), 0);
		KT_ASSERT(rt_test_globals_save(kp.prog, &gj));
		rt_test_globals_restore(kp.prog, &g0);
		KT_ASSERT_EQ(rt_interp_run(kp.prog, kp.func, args, &ri, NULL), 0);
		KT_ASSERT(rt_test_globals_save(kp.prog, &gi));
		if (rj.status != RT_RUN_OK || ri.status != RT_RUN_OK || rj.r0 != ri.r0 ||
		    rj.fuel != ri.fuel || rj.r0 != want)
			KT_FAIL("input %u: jit r0 %lx status %d fuel %lu, interp r0 %lx status %d "
			        "fuel %lu, model %lx",
			        k, (unsigned long)rj.r0, (int)rj.status, (unsigned long)rj.fuel,
			        (unsigned long)ri.r0, (int)ri.status, (unsigned long)ri.fuel,
			        (unsigned long)want);
		KT_ASSERT_EQ(gj.used, gi.used);
		KT_ASSERT(memcmp(gj.bytes, gi.bytes, gj.used) == 0);
		/* One unit per import call (Kext_Value, Kext_Log when b is odd) plus at most
		 * one per loop iteration (the taken back-edges). */
		KT_ASSERT(RT_ENV_FUEL_DEFAULT - rj.fuel >= 1 + (in[k][1] & 1));
		KT_ASSERT(RT_ENV_FUEL_DEFAULT - rj.fuel <= 1 + (in[k][1] & 1) + (in[k][0] & 63));
		odd += (in[k][1] & 1) * 2;
		/* The native entry point, as a dispatcher calls it: same answer. */
		rt_test_globals_restore(kp.prog, &g0);
		direct = kp.fn(in[k][0], in[k][1], 0, 0, 0, RT_ENV_FUEL_DEFAULT);
		KT_ASSERT_EQ(direct.status, RT_RUN_OK);
		KT_ASSERT_EQ(direct.r0, want);
		odd += in[k][1] & 1;
	}
	KT_ASSERT_EQ(kext_log.calls, odd);
	KT_ASSERT(rt_test_contains(kext_log.text, "hello from an extension"));
	kext_unload(&kp);
	KT_ASSERT(kp.prog == NULL && kp.jit == NULL);
}

/* ---- fuel --------------------------------------------------------------------- */

KTEST(rt_fuel_stops_runaway)
{
	struct kext_prog kp, ok;
	char err[200];
	int ret;

	ret = kext_load("rt_loop", NULL, 0, "rt_loop", &kp, err, sizeof(err), NULL);
	if (ret)
		KT_FAIL("rt_loop (an endless loop, still memory-safe) was refused (%d): %s", ret,
		        err);
	for (uint64_t budget = 0; budget <= 100000; budget = budget ? budget * 10 : 1) {
		uint64_t args[5] = {budget, 2, 0, 0, 0};
		struct rt_run rj = {.fuel = budget}, ri = {.fuel = budget};
		struct rt_jit_ret d;

		KT_ASSERT_EQ(rt_jit_run(kp.jit, kp.func, args, &rj), 0);
		KT_ASSERT_EQ(rt_interp_run(kp.prog, kp.func, args, &ri, NULL), 0);
		if (rj.status != RT_RUN_FUEL || ri.status != RT_RUN_FUEL)
			KT_FAIL("budget %lu: jit status %d, interp status %d (want RT_RUN_FUEL)",
			        (unsigned long)budget, (int)rj.status, (int)ri.status);
		KT_ASSERT_EQ(rj.r0, 0);
		KT_ASSERT_EQ(rj.fuel, 0);
		KT_ASSERT_EQ(ri.fuel, 0);
		d = kp.fn(budget, 2, 0, 0, 0, budget);
		KT_ASSERT_EQ(d.status, RT_RUN_FUEL);
		KT_ASSERT_EQ(d.r0, 0);
	}
	/* The kernel's default budget ends it too, and the kernel goes on. */
	KT_ASSERT_EQ(kp.fn(7, 1, 0, 0, 0, RT_ENV_FUEL_DEFAULT).status, RT_RUN_FUEL);
	kext_unload(&kp);
	ret = kext_load("rt_basic", NULL, 0, "rt_basic", &ok, err, sizeof(err), NULL);
	if (ret)
		KT_FAIL("loading rt_basic after the runaway failed (%d): %s", ret, err);
	kext_value = 0;
	KT_ASSERT_EQ(ok.fn(2, 0, 0, 0, 0, RT_ENV_FUEL_DEFAULT).r0, rt_test_basic_model(2, 0, 0, 0));
	kext_unload(&ok);
}

/* ---- hostile extensions ---------------------------------------------------------- */

KTEST(rt_hostile_refused)
{
	struct rt_test_usage before, after;
	struct rt_verify_result vr;
	struct kext_prog kp;
	char err[512];
	int ret;

	rt_test_usage(&before);

	/* Out-of-bounds: an unchecked caller index into an 8-entry global table. */
	ret = kext_load("rt_oob", NULL, 0, "rt_oob", &kp, err, sizeof(err), &vr);
	kprintf("  rt_oob: %s\n", err);
	KT_ASSERT_EQ(ret, -RT_EREJECT);
	KT_ASSERT(vr.code == RT_VERR_UNBOUNDED || vr.code == RT_VERR_GLOBAL_OOB);
	KT_ASSERT(rt_test_contains(vr.msg, "rt_oob.c:9"));
	KT_ASSERT(kp.prog == NULL && kp.jit == NULL);

	/* A wild pointer: a number from the caller dereferenced. */
	ret = kext_load("rt_wild", NULL, 0, "rt_wild", &kp, err, sizeof(err), &vr);
	kprintf("  rt_wild: %s\n", err);
	KT_ASSERT_EQ(ret, -RT_EREJECT);
	KT_ASSERT_EQ(vr.code, RT_VERR_DEREF_SCALAR);
	KT_ASSERT(rt_test_contains(vr.msg, "rt_wild.c:7"));

	/* A call of a procedure the embedder does not offer: refused at link. */
	ret = kext_load("rt_badimport", NULL, 0, "rt_badimport", &kp, err, sizeof(err), &vr);
	kprintf("  rt_badimport: %s\n", err);
	KT_ASSERT_EQ(ret, -RT_ENOENT);
	KT_ASSERT(rt_test_contains(err, "kx_secret"));

	/* An entry the object does not have. */
	ret = kext_load("rt_basic", NULL, 0, "rt_nothere", &kp, err, sizeof(err), &vr);
	KT_ASSERT_EQ(ret, -RT_ENOENT);

	rt_test_usage(&after);
	KT_ASSERT_USAGE_SAME(before, after);
}

/* ---- code pages of a compiled program -------------------------------------------- */

struct rt_test_walk {
	uint64_t pages, bad;
	uintptr_t first_bad;
};

static void rt_test_visit(uintptr_t va, uint64_t pa, uint64_t size, unsigned flags, void *arg)
{
	struct rt_test_walk *w = arg;

	(void)pa;
	if (!rt_test_in_area(va))
		return;
	w->pages += size / MMU_PAGE_SIZE;
	if ((flags & (MMU_W | MMU_X)) != MMU_X && !w->bad++)
		w->first_bad = va;
}

KTEST(rt_jit_pages_rx_and_released)
{
	struct rt_test_usage before, loaded, after;
	struct rt_test_walk w0 = {0}, w1 = {0}, w2 = {0};
	struct kext_prog kp;
	char err[200];
	uintptr_t entry;
	uint64_t pa;
	unsigned f;
	int ret;

	/* Warm up: heap slabs and the area's page tables exist afterwards. */
	ret = kext_load("rt_basic", NULL, 0, "rt_basic", &kp, err, sizeof(err), NULL);
	if (ret)
		KT_FAIL("loading rt_basic failed (%d): %s", ret, err);
	kext_unload(&kp);

	rt_test_usage(&before);
	mmu_walk(rt_test_visit, &w0);
	KT_ASSERT_EQ(w0.pages, before.code_pages);
	ret = kext_load("rt_basic", NULL, 0, "rt_basic", &kp, err, sizeof(err), NULL);
	if (ret)
		KT_FAIL("loading rt_basic failed (%d): %s", ret, err);
	rt_test_usage(&loaded);
	KT_ASSERT(loaded.code_pages > before.code_pages);
	KT_ASSERT_EQ(loaded.code_blocks, before.code_blocks + 1);
	KT_ASSERT(loaded.free_pages < before.free_pages);
	KT_ASSERT(loaded.heap_objects > before.heap_objects);
	/* The entry point's page: present, executable, not writable. */
	KT_ASSERT(mmu_query((uintptr_t)kp.fn, &pa, &f));
	KT_ASSERT_EQ(f & (MMU_W | MMU_X), MMU_X);
	/* Every page of the code area, walked in the tables the CPU uses. */
	mmu_walk(rt_test_visit, &w1);
	if (w1.bad)
		KT_FAIL("%lu code-area pages are not RX (first at %lx)", (unsigned long)w1.bad,
		        (unsigned long)w1.first_bad);
	KT_ASSERT_EQ(w1.pages, loaded.code_pages);
	KT_ASSERT(rt_jit_code_size(kp.jit) > 0);
	KT_ASSERT(rt_jit_code_size(kp.jit) <=
	          (loaded.code_pages - before.code_pages) * MMU_PAGE_SIZE);

	entry = (uintptr_t)kp.fn;
	kext_unload(&kp);
	rt_test_usage(&after);
	KT_ASSERT_USAGE_SAME(before, after);
	KT_ASSERT_EQ(after.free_pages, before.free_pages); /* after the warm-up: exactly */
	if (before.code_pages == 0)
		KT_ASSERT(!mmu_query(entry, NULL, NULL));
	mmu_walk(rt_test_visit, &w2);
	KT_ASSERT_EQ(w2.pages, w0.pages);
	KT_ASSERT_EQ(heap_check(), 0);
}

/* ---- malformed objects -------------------------------------------------------------- */

KTEST(rt_malformed_refused)
{
	const struct kext_image *im = kext_find("rt_basic");
	struct rt_test_usage before, after;
	struct kext_prog kp;
	char err[200];
	uint8_t *junk;
	int ret;

	KT_ASSERT(im != NULL);
	rt_test_usage(&before);
	for (uint64_t len = 0; len < im->size; len = len < 64 ? len + 7 : len + im->size / 9 + 1) {
		ret =
		    kext_load(NULL, im->data, (size_t)len, "rt_basic", &kp, err, sizeof(err), NULL);
		if (ret != -RT_EMALFORMED)
			KT_FAIL("truncated to %lu of %lu bytes: %d (%s), want -RT_EMALFORMED",
			        (unsigned long)len, (unsigned long)im->size, ret, err);
		KT_ASSERT(err[0] != 0);
		if (len == 64)
			kprintf("  truncated to 64 bytes: %s\n", err);
	}
	ret = kext_load(NULL, im->data, (size_t)im->size - 1, "rt_basic", &kp, err, sizeof(err),
	                NULL);
	KT_ASSERT_EQ(ret, -RT_EMALFORMED);
	kprintf("  one byte short: %s\n", err);
	/* Not an ELF object at all. */
	junk = kmalloc(512);
	KT_ASSERT(junk != NULL);
	for (int i = 0; i < 512; i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	ret = kext_load(NULL, junk, 512, "rt_basic", &kp, err, sizeof(err), NULL);
	kfree(junk);
	KT_ASSERT_EQ(ret, -RT_EMALFORMED);
	rt_test_usage(&after);
	KT_ASSERT_USAGE_SAME(before, after);
}
