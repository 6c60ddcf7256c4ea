/* extload: Spindle's own system calls from a user program - load the
 * extension /ext/greet.o, list, refuse a duplicate, a non-ELF file, a
 * missing file and wild pointers, unload it, refuse a second unload. */
#include <stdio.h>
#include <string.h>

#include <spindle/spin_syscall.h>

#define CHECK_PROG "extload"
#include "check.h"
#include "rawsys.h"

int main(void)
{
	char err[128] = "", list[256];
	long n;

	expect("load",
	       R4(SPIN_SYS_EXT_LOAD, (long)"/ext/greet.o", (long)"greet", (long)err, sizeof(err)),
	       0);
	n = R4(SPIN_SYS_EXT_LIST, (long)list, sizeof(list) - 1, 0, 0);
	list[n > 0 ? n : 0] = 0;
	expect("listed", n > 0 && strstr(list, "greet\n") != NULL, 1);
	expect("load twice",
	       R4(SPIN_SYS_EXT_LOAD, (long)"/ext/greet.o", (long)"greet", (long)err, sizeof(err)),
	       -17);
	err[0] = 0;
	expect("load a text file",
	       R4(SPIN_SYS_EXT_LOAD, (long)"/etc/motd", (long)"motd", (long)err, sizeof(err)), -22);
	printf("extload: refused /etc/motd: %s\n", err);
	expect("load a missing file",
	       R4(SPIN_SYS_EXT_LOAD, (long)"/ext/nope.o", (long)"nope", 0, 0), -2);
	expect("load, kernel path",
	       R4(SPIN_SYS_EXT_LOAD, (long)0xffff800000000000l, (long)"x", 0, 0), -14);
	expect("load, kernel name",
	       R4(SPIN_SYS_EXT_LOAD, (long)"/ext/greet.o", (long)0xffffffff80100000l, 0, 0), -14);
	expect(
	    "load, kernel err buffer",
	    R4(SPIN_SYS_EXT_LOAD, (long)"/etc/motd", (long)"motd", (long)0xffff800000000000l, 64),
	    -14);
	expect("load, empty name", R4(SPIN_SYS_EXT_LOAD, (long)"/ext/greet.o", (long)"", 0, 0),
	       -22);
	expect("list, kernel buffer", R4(SPIN_SYS_EXT_LIST, (long)0xffff800000000000l, 64, 0, 0),
	       -14);
	expect("unload a kernel's extension", R4(SPIN_SYS_EXT_UNLOAD, (long)"boot_hello", 0, 0, 0),
	       -1);
	expect("unload", R4(SPIN_SYS_EXT_UNLOAD, (long)"greet", (long)err, sizeof(err), 0), 0);
	expect("unload again", R4(SPIN_SYS_EXT_UNLOAD, (long)"greet", 0, 0, 0), -2);
	expect("next number", R4(SPIN_SYS_BASE + SPIN_SYS_COUNT, 0, 0, 0, 0), -38);
	printf("extload: %s\n", failed ? "FAIL" : "ok");
	return failed != 0;
}
