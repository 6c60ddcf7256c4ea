/* vmother: a second process beside vmuser, which has loaded /ext/vmsys.o
 * for itself.  vmuser's extension must never serve this process: its VM
 * system calls are nobody's here (-ENOSYS), it may not unload or replace
 * it, a copy loaded under its own name serves it (and only it), and a
 * protection fault of its own is not resolved by vmuser's fault handler,
 * though their addresses coincide - it is killed, as without handlers. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define CHECK_PROG "vmother"
#include "check.h"
#include "rawsys.h"
#include "vmsys.h"

int main(void)
{
	char list[512], err[160];
	struct timespec ms = {0, 1000000};
	volatile char *p;
	long n = 0, ok = 0;
	int i;

	for (i = 0; i < 2000; i++) { /* until vmuser has loaded vmsys */
		n = R4(SPIN_SYS_EXT_LIST, (long)list, sizeof(list) - 1, 0, 0);
		list[n > 0 ? n : 0] = 0;
		if (strstr(list, "vmsys\n"))
			break;
		nanosleep(&ms, 0);
	}
	expect("vmuser's extension is loaded", i < 2000, 1);
	p = mmap(0, 104 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	expect("its calls are not ours", R4(VM_PROTECT, (long)p, 1, 0, 0), -38);
	expect("nor its queries", R4(VM_DIRTY, (long)p, 0, 0, 0), -38);
	expect("unload vmuser's", R4(SPIN_SYS_EXT_UNLOAD, (long)"vmsys", 0, 0, 0), -1);
	expect("load over vmuser's",
	       R4(SPIN_SYS_EXT_LOAD, (long)"/ext/vmsys.o", (long)"vmsys", (long)err, sizeof(err)),
	       -17);
	expect("load our own",
	       R4(SPIN_SYS_EXT_LOAD, (long)"/ext/vmsys.o", (long)"vmsys2", (long)err, sizeof(err)),
	       0);
	expect("ours serves us", R4(VM_PROT, (long)p, 0, 0, 0) & 2, 2);
	for (int k = -1; k < 64; k++)
		ok += R4(VM_PROBE, k < 0 ? 0 : (long)(1ul << k), (long)p, 0, 0) >= 0;
	expect("our extension holds one context", ok, 1);
	expect("unload our own", R4(SPIN_SYS_EXT_UNLOAD, (long)"vmsys2", 0, 0, 0), 0);
	printf("vmother: %s; now a fault vmuser's handler must not see\n",
	       failed ? "FAIL" : "checks ok");
	mprotect((void *)p, 4096, PROT_READ);
	p[0] = 2;
	printf("vmother: FAIL still alive after writing a read-only page\n");
	return 1;
}
