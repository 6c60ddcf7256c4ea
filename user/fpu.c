/* fpu: long floating-point computation, so that two copies run at once
 * are preempted in the middle of it: each must get exactly the result of
 * an undisturbed run (the kernel saves and restores SSE state per process). */
#include <stdio.h>

int main(void)
{
	volatile double acc = 0.0;
	double expect = 0.0;

	for (int r = 0; r < 2; r++) {
		double a = 0.0;

		for (int i = 1; i <= 3000000; i++)
			a += 1.0 / ((double)i * (double)i);
		if (r == 0)
			expect = a;
		else
			acc = a;
	}
	printf("fpu: %s (%.12f)\n", acc == expect ? "ok" : "FAIL", acc);
	return acc != expect;
}
