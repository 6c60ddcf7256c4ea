/*
 * trap_test.c: exceptions are caught, decoded and resumed (fault catch),
 * and the symbol table behind backtraces resolves kernel addresses.
 * Each fault test arms a catch for one vector, provokes it, and checks what
 * the handler recorded: vector, error code, faulting address, and that
 * execution resumed with the callee-saved state intact.
 */
#include <stdint.h>

#include <arch/cpu.h>
#include <arch/fault.h>
#include <arch/trap.h>

#include "kernel/ksyms.h"
#include "kernel/ktest.h"
#include "kernel/string.h"

void kmain(uint32_t, uint32_t);

static volatile uintptr_t trap_test_null = 0x10;
static volatile uintptr_t trap_test_noncanonical = 0x8000000000000000ull;

KTEST(trap_pf_caught)
{
	struct fault_catch fc = {.vector = TRAP_PF};

	if (fault_catch_arm(&fc) == 0) {
		(void)*(volatile int *)trap_test_null;
		fault_catch_disarm(&fc);
		KT_FAIL("reading address 0x10 did not fault");
	}
	KT_ASSERT_EQ(fc.caught_vector, TRAP_PF);
	KT_ASSERT_EQ(fc.addr, 0x10);
	KT_ASSERT_EQ(fc.error & 0x7, 0); /* not present, read, kernel */
	KT_ASSERT(ksyms_lookup(fc.pc, NULL, NULL) != NULL);
}

KTEST(trap_ud_caught)
{
	struct fault_catch fc = {.vector = TRAP_UD};

	if (fault_catch_arm(&fc) == 0) {
		__asm__ volatile("ud2");
		fault_catch_disarm(&fc);
		KT_FAIL("ud2 did not raise #UD");
	}
	KT_ASSERT_EQ(fc.caught_vector, TRAP_UD);
	KT_ASSERT_EQ(((const uint8_t *)fc.pc)[0], 0x0f); /* pc is the ud2 itself */
	KT_ASSERT_EQ(((const uint8_t *)fc.pc)[1], 0x0b);
}

KTEST(trap_gp_caught)
{
	struct fault_catch fc = {.vector = TRAP_GP};

	if (fault_catch_arm(&fc) == 0) {
		(void)*(volatile uint64_t *)trap_test_noncanonical;
		fault_catch_disarm(&fc);
		KT_FAIL("a non-canonical read did not raise #GP");
	}
	KT_ASSERT_EQ(fc.caught_vector, TRAP_GP);
	KT_ASSERT_EQ(fc.error, 0);
}

KTEST(trap_de_caught_any)
{
	struct fault_catch fc = {.vector = FAULT_ANY};
	volatile int zero = 0, r;

	if (fault_catch_arm(&fc) == 0) {
		r = 100 / zero;
		(void)r;
		fault_catch_disarm(&fc);
		KT_FAIL("dividing by zero did not fault");
	}
	KT_ASSERT_EQ(fc.caught_vector, TRAP_DE);
}

/* Values live across the fault in callee-saved registers must survive. */
static __attribute__((noinline)) uint64_t trap_test_work(uint64_t a, uint64_t b, int *caught)
{
	struct fault_catch fc = {.vector = TRAP_UD};
	uint64_t x = a * 3, y = b ^ 0x5555, z = a + b;

	if (fault_catch_arm(&fc) == 0) {
		__asm__ volatile("ud2");
		fault_catch_disarm(&fc);
	}
	*caught = fc.caught_vector == TRAP_UD;
	return x + y * 7 + z * 11;
}

KTEST(trap_resume_keeps_state)
{
	int caught = 0;
	uint64_t r = trap_test_work(1000, 77, &caught);

	KT_ASSERT(caught);
	KT_ASSERT_EQ(r, 3000 + (77 ^ 0x5555) * 7 + 1077 * 11);
	KT_ASSERT(arch_irq_enabled());
}

KTEST(trap_catch_disarm)
{
	struct fault_catch fc = {.vector = TRAP_PF};

	if (fault_catch_arm(&fc) != 0)
		KT_FAIL("resumed without a fault");
	fault_catch_disarm(&fc);
	KT_ASSERT_EQ(fc.caught_vector, -1);
}

KTEST(ksyms_resolve)
{
	uintptr_t off, size;
	const char *name;

	KT_ASSERT(ksyms_count_get() > 50);
	name = ksyms_lookup((uintptr_t)kmain + 5, &off, &size);
	KT_ASSERT(name != NULL);
	KT_ASSERT(strcmp(name, "kmain") == 0);
	KT_ASSERT_EQ(off, 5);
	KT_ASSERT(size > 5);
	KT_ASSERT_EQ(ksyms_address("kmain"), (uintptr_t)kmain);
	KT_ASSERT(ksyms_lookup(0x1000, NULL, NULL) == NULL);
}

KTEST(trap_names)
{
	KT_ASSERT(strcmp(trap_mnemonic(TRAP_PF), "#PF") == 0);
	KT_ASSERT(strcmp(trap_name(TRAP_DF), "double fault") == 0);
}
