/*
 * kmain.c: the kernel's C entry point and boot sequence.
 *
 * boot.S calls kmain(protocol, boot information address) on the boot stack
 * with the temporary page tables.  kmain brings the services up in dependency
 * order, one line each, then either runs the in-kernel tests (command line
 * "test" or "test=PATTERN") and exits QEMU with their verdict, or idles.
 *
 * "inject=WHAT" on the command line breaks the boot on purpose so the host
 * harness (tools/qemu-test badboot) can check that bad input ends in a clear
 * message and a failure exit, never a triple fault:
 *   noinfo   behave as if the loader passed no boot information
 *   nohigh   the memory map has no usable RAM above 1 MiB
 *   badmap   every usable range in the map wraps past 2^64 (garbage)
 *   overlap  add an overlapping range (rejected with "memmap=strict")
 *   toomany  more map entries than the kernel accepts
 *   pf, ud, gp, div, stack, panic   an unexpected fault / panic after boot
 */
#include <stdint.h>

#include <arch/console.h>
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/timer.h>

#include "kernel/bench.h"
#include "kernel/bootinfo.h"
#include "kernel/bootmod.h"
#include "kernel/cap.h"
#include "kernel/clock.h"
#include "kernel/cmdline.h"
#include "kernel/dispatch.h"
#include "kernel/domain.h"
#include "kernel/kprintf.h"
#include "kernel/ktest.h"
#include "kernel/mem.h"
#include "kernel/modules.h"
#include "kernel/panic.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/translation.h"

void kmain(uint32_t boot_proto, uint32_t boot_info);

uint64_t kmain_entry_cycles;
static struct boot_info kmain_boot;

static void kmain_inject_boot(struct boot_info *bi, const char *what)
{
	if (strcmp(what, "noinfo") == 0) {
		if (arch_boot_parse(0, 0, bi))
			boot_fail("%s", bi->error);
	} else if (strcmp(what, "nohigh") == 0) {
		for (size_t i = 0; i < bi->nmem; i++)
			if (bi->mem[i].base + bi->mem[i].length > 0x100000)
				bi->mem[i].type = MEMMAP_RESERVED;
	} else if (strcmp(what, "badmap") == 0) {
		for (size_t i = 0; i < bi->nmem; i++) {
			struct memmap_entry *e = &bi->mem[i];

			if (e->type != MEMMAP_USABLE)
				continue;
			if (e->base == 0)
				e->base = 0x1000;
			e->length = ~0ull - e->base + 0x2000; /* base + length wraps */
		}
	} else if (strcmp(what, "overlap") == 0 && bi->nmem < BOOT_MEM_MAX) {
		bi->mem[bi->nmem++] = (struct memmap_entry){0x200000, 0x100000, MEMMAP_RESERVED};
	} else if (strcmp(what, "toomany") == 0) {
		while (bi->nmem < BOOT_MEM_MAX)
			bi->mem[bi->nmem++] =
			    (struct memmap_entry){1ull << 40, 4096, MEMMAP_RESERVED};
		bi->nmem++; /* one more than memmap accepts: it must say so */
	}
}

/* Deep enough to run off any kernel stack into its guard page. */
static volatile int kmain_recurse_limit = 1 << 30;
/* Addresses the crash injections touch, kept out of the compiler's sight. */
static volatile uintptr_t kmain_null_ptr = 0x10, kmain_noncanonical = 0x8000000000000000ull;

static __attribute__((noinline)) int kmain_recurse(int depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	if (depth > kmain_recurse_limit)
		return 0;
	return kmain_recurse(depth + 1) + pad[0];
}

static __attribute__((noinline)) void kmain_inject_crash(const char *what)
{
	if (strcmp(what, "pf") == 0)
		kprintf("read %d\n", *(volatile int *)kmain_null_ptr);
	else if (strcmp(what, "ud") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(what, "gp") == 0)
		kprintf("read %lx\n", *(volatile unsigned long *)kmain_noncanonical);
	else if (strcmp(what, "div") == 0) {
		volatile int zero = 0;
		kprintf("%d\n", 100 / zero);
	} else if (strcmp(what, "stack") == 0)
		kmain_recurse(0);
	else if (strcmp(what, "panic") == 0)
		panic("injected panic (inject=panic)");
}

void kmain(uint32_t boot_proto, uint32_t boot_info)
{
	char inject[16] = "", pattern[128];
	int err, passed, failed;

	kmain_entry_cycles = arch_cycles();
	arch_console_init();
	kprintf("\nSpindle: an extensible kernel (x86-64), booting\n");
	arch_cpu_init();

	err = arch_boot_parse(boot_proto, boot_info, &kmain_boot);
	cmdline_set(kmain_boot.cmdline);
	if (err)
		boot_fail("%s", kmain_boot.error);
	kprintf("boot: %s, command line \"%s\"\n", kmain_boot.protocol, cmdline_get_all());
	cmdline_value("inject", inject, sizeof(inject));
	kmain_inject_boot(&kmain_boot, inject);
	bootmod_parse(boot_proto, boot_info, &kmain_boot); /* before mem_init: reserves them */

	mem_init(&kmain_boot, cmdline_has("memmap") &&
	                          cmdline_value("memmap", pattern, sizeof(pattern)) &&
	                          strcmp(pattern, "strict") == 0);
	unsigned feat = arch_cpu_protect();
	kprintf("cpu: NX %s, SMEP %s, SMAP %s, UMIP %s, WP %s\n",
	        (feat & ARCH_FEAT_NX) ? "on" : "off", (feat & ARCH_FEAT_SMEP) ? "on" : "off",
	        (feat & ARCH_FEAT_SMAP) ? "on" : "off", (feat & ARCH_FEAT_UMIP) ? "on" : "off",
	        (feat & ARCH_FEAT_WP) ? "on" : "off");
	err = arch_cpu_init_ist();
	if (err)
		panic("no memory for the IST stacks (%d)", err);

	err = clock_init();
	if (err)
		kprintf("clock: no timer interrupt (%d); running without a tick\n", err);
	kprintf("clock: cycle counter %lu kHz, %s timer at %u Hz\n",
	        (unsigned long)(clock_cycles_hz() / 1000), arch_timer_kind(), CLOCK_HZ);
	if (sched_init())
		panic("no memory to start the scheduler");
	if (cap_init())
		panic("no memory for the capability table");
	if (dispatch_init())
		panic("cannot start the dispatcher");
	if (domain_init())
		panic("no memory for SpinPublic and SpinPrivate");
	if (modules_init())
		panic("cannot publish the trusted modules");
	if (translation_init())
		panic("no memory for the memory services");
	if (process_init())
		panic("cannot set up user space");
	smp_init(); /* the other CPUs join the scheduler; one CPU if none answers */
	arch_irq_enable();
	kprintf("bench: kmain_entry_cycles=%lu\n", (unsigned long)kmain_entry_cycles);

	kmain_inject_crash(inject);
	bench_run_from_cmdline();
	process_boot(); /* rootfs from the boot module; init=PATH runs it */

	if (cmdline_has("test")) {
		const char *p = cmdline_value("test", pattern, sizeof(pattern));

		kprintf("ktest: running %s\n", p ? p : "all tests");
		failed = ktest_run(p, &passed);
		kprintf("bench: tests_end_cycles=%lu\n", (unsigned long)arch_cycles());
		kprintf("%d passed, %d failed\n", passed, failed);
		arch_exit(failed == 0 && passed > 0 ? EXIT_CODE_SUCCESS : EXIT_CODE_TEST_FAIL);
	}
	kprintf("Spindle ready: nothing to run (try make run CMDLINE=\"init=/bin/ls /\" or "
	        "CMDLINE=test); idling, quit QEMU with Ctrl-A X\n");
	for (;;)
		arch_wait_for_interrupt();
}
