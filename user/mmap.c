/* mmap: anonymous mappings - map, fill, verify zero-fill of fresh pages,
 * mprotect read-only, unmap a middle page, map into the hole again. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
	size_t len = 64 * 4096;
	unsigned char *p =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int bad = 0;

	if (p == MAP_FAILED) {
		printf("mmap: FAIL map\n");
		return 1;
	}
	for (size_t i = 0; i < len; i++)
		bad |= p[i];
	if (bad)
		printf("mmap: FAIL fresh pages are not zero\n");
	memset(p, 0x5a, len);
	for (size_t i = 0; i < len; i += 4096)
		bad |= p[i] != 0x5a;
	if (mprotect(p, 4096, PROT_READ) != 0)
		bad |= 2, printf("mmap: FAIL mprotect\n");
	if (munmap(p + 8 * 4096, 4096) != 0)
		bad |= 4, printf("mmap: FAIL munmap\n");
	void *q = mmap(p + 8 * 4096, 4096, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (q != p + 8 * 4096 || ((unsigned char *)q)[0] != 0)
		bad |= 8, printf("mmap: FAIL fixed remap\n");
	if (mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	         0) != MAP_FAILED)
		bad |= 16, printf("mmap: FAIL W+X mapping was allowed\n");
	if (munmap(p, len) != 0)
		bad |= 32, printf("mmap: FAIL unmap all\n");
	/* A big one, touched sparsely. */
	p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bad |= 64, printf("mmap: FAIL 16 MiB\n");
	else {
		p[0] = 1, p[(16 << 20) - 1] = 2;
		munmap(p, 16 << 20);
	}
	printf("mmap: %s\n", bad ? "FAIL" : "ok");
	return bad != 0;
}
