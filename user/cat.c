/* cat: copy each named file (default /etc/motd) to standard output with
 * open/read/write; report failures with the errno text. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int cat(const char *path)
{
	char buf[512];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		printf("cat: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			return 1;
	close(fd);
	return n < 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2)
		return cat("/etc/motd");
	for (int i = 1; i < argc; i++)
		bad |= cat(argv[i]);
	return bad;
}
