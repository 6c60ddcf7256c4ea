/* fault: end by a fault of the kind named in argv[1] - null (write to
 * address 0, the default), kernel (read a kernel address), ud (an invalid
 * instruction), gp (a privileged instruction), jump (execute the stack).
 * The kernel must kill this process and carry on. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "null";

	printf("fault: about to fault (%s)\n", what);
	fflush(stdout);
	if (!strcmp(what, "kernel"))
		printf("%d\n", *(volatile int *)0xffffffff80100000ul);
	else if (!strcmp(what, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(what, "gp"))
		__asm__ volatile("hlt");
	else if (!strcmp(what, "jump")) {
		volatile unsigned char code[16] = {0xc3};
		((void (*)(void))code)();
	} else
		*(volatile int *)0 = 1;
	printf("fault: FAIL still alive\n");
	return 0;
}
