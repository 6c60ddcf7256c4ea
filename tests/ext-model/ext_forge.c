/*
 * ext_forge.c: a hostile extension that tries to forge capabilities
 * (tests/unit/extension_test.c, capabilities_cannot_be_forged).
 *
 * It holds handles in its own capability space (docs/capabilities.md) and
 * enumerates values, presenting each to PhysAddr_Deallocate: the only ones
 * that may succeed are handles of its own space.  It also handles
 * PhysAddr.Reclaim, to show that an event's capability argument reaches it
 * as a handle of its own and that its nomination is resolved in its space.
 *
 * VMApp_Run(op, x, y):
 *   0  allocate a page; returns its handle (or the error)
 *   1  Deallocate every value in [x, x + y), y <= 4096; returns how many
 *      succeeded (the last success is remembered: op 8)
 *   2  Deallocate(x); returns its result
 *   3  the candidate the last Reclaim showed it; 4 how many Reclaims
 *   5  Deallocate every kernel-format value (x << 32) | (i << 8) | z for i
 *      in [0, y) and z in {16, 17}: a forger who knows the layout
 *   6  y calls of Deallocate(x), for timing; returns the last result
 *   7  y calls of Gatekeeper_Level(), for timing (no capabilities)
 *   8  the last value op 1 or 5 succeeded with (0: none)
 * VMApp_Setup(a, b, c): nominate a when Reclaim asks (0: agree).
 */
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>
#include <spindle/physaddr.h>
#include <spindle/vmapp.h>

SPINDLE_LICENSE("GPL");

u64 nominee, last_seen, reclaims, hit;

SPINDLE_HANDLER(PhysAddr_Reclaim)
u64 on_reclaim(u64 candidate)
{
	reclaims++;
	last_seen = candidate;
	return nominee ? nominee : candidate;
}

SPINDLE_EXPORT
s64 VMApp_Setup(u64 a, u64 b, u64 c)
{
	nominee = a;
	return 0;
}

static s64 sweep(u64 base, u64 n)
{
	s64 hits = 0;

	for (u64 i = 0; i < n; i++) {
		if (PhysAddr_Deallocate(base + i) == 0) {
			hits++;
			hit = base + i;
		}
	}
	return hits;
}

static s64 sweep_kernel_format(u64 gen, u64 n)
{
	s64 hits = 0;

	for (u64 i = 0; i < n; i++) {
		for (u64 t = 16; t < 18; t++) {
			u64 v = (gen << 32) | (i << 8) | t;
			if (PhysAddr_Deallocate(v) == 0) {
				hits++;
				hit = v;
			}
		}
	}
	return hits;
}

SPINDLE_EXPORT
s64 VMApp_Run(u64 op, u64 x, u64 y)
{
	u64 h = 0;
	s64 r = 0;

	if (op == 0) {
		r = PhysAddr_Allocate(4096, 0, &h);
		return r < 0 ? r : (s64)h;
	}
	if ((op == 1 || op == 5 || op == 6 || op == 7) && y > 4096)
		return -22;
	if (op == 1)
		return sweep(x, y);
	if (op == 2)
		return PhysAddr_Deallocate(x);
	if (op == 3)
		return (s64)last_seen;
	if (op == 4)
		return (s64)reclaims;
	if (op == 5)
		return sweep_kernel_format(x, y);
	if (op == 6) {
		for (u64 i = 0; i < y; i++)
			r = PhysAddr_Deallocate(x);
		return r;
	}
	if (op == 7) {
		for (u64 i = 0; i < y; i++)
			r = (s64)Gatekeeper_Level();
		return r;
	}
	if (op == 8)
		return (s64)hit;
	return -22;
}

SPINDLE_INIT
u64 init(void)
{
	long long b = SPINDLE_INSTALL("on_reclaim", 0);

	return b < 0 ? (u64)-b : 0;
}
