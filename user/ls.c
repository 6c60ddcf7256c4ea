/* ls: list a directory (default /) with the raw getdents64 system call,
 * one entry per line with its type and, from fstatat, its size. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct dirent64_raw {
	unsigned long long ino;
	long long off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/";
	char buf[1024];
	long n;
	int fd = open(path, O_RDONLY | O_DIRECTORY), count = 0;

	if (fd < 0) {
		printf("ls: cannot open %s\n", path);
		return 1;
	}
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64_raw *d = (void *)(buf + off);
			struct stat st;
			char t = d->type == 4 ? 'd' : d->type == 10 ? 'l' : '-';

			if (fstatat(fd, d->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				st.st_size = -1;
			printf("%c %8lld %s\n", t, (long long)st.st_size, d->name);
			off += d->reclen;
			count++;
		}
	}
	close(fd);
	printf("ls: %d entries\n", count);
	return n < 0;
}
