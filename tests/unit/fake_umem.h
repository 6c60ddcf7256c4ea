/*
 * fake_umem.h: the simulated user memory of tests/unit/fake_umem.c.
 * U(off) is the user address of fake_umem[off]; P(addr) the host pointer.
 */
#ifndef TESTS_UNIT_FAKE_UMEM_H
#define TESTS_UNIT_FAKE_UMEM_H

#include <stdint.h>

#define FAKE_UMEM_BASE 0x10000000ull
#define FAKE_UMEM_SIZE (1u << 20)
#define FAKE_UMEM_RO   4096u /* the last page cannot be written */

extern uint8_t fake_umem[FAKE_UMEM_SIZE];
#define U(off)  (FAKE_UMEM_BASE + (uint64_t)(off))
#define P(addr) ((void *)(fake_umem + ((addr)-FAKE_UMEM_BASE)))

#endif
