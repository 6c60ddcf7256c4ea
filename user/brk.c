/* brk: grow the heap with the raw brk call page by page, write every
 * page, shrink it back, and check the refusals Linux gives; then let
 * malloc (musl: brk and mmap) allocate a few megabytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long sys_brk(unsigned long a)
{
	return (unsigned long)syscall(SYS_brk, a);
}

int main(void)
{
	unsigned long b0 = sys_brk(0), b;
	int bad = 0;

	for (int i = 1; i <= 256; i++) {
		b = sys_brk(b0 + (unsigned long)i * 4096);
		if (b != b0 + (unsigned long)i * 4096) {
			bad = 1;
			break;
		}
		memset((char *)b - 4096, i, 4096);
	}
	for (int i = 1; i <= 256; i++)
		bad |= ((unsigned char *)b0)[(i - 1) * 4096 + 17] != (unsigned char)i;
	if (sys_brk(b0 - 4096) != b0 + 256 * 4096)
		bad |= 2, printf("brk: FAIL below start was accepted\n");
	if (sys_brk(0xffff800000000000ul) != b0 + 256 * 4096)
		bad |= 4, printf("brk: FAIL kernel address was accepted\n");
	if (sys_brk(b0) != b0)
		bad |= 8, printf("brk: FAIL shrink\n");
	char *m = malloc(3 << 20);
	if (!m)
		bad |= 16, printf("brk: FAIL malloc\n");
	else
		memset(m, 1, 3 << 20), free(m);
	printf("brk: start %#lx, %s\n", b0, bad ? "FAIL" : "ok");
	return bad != 0;
}
