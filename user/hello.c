/* hello: the first user program - prints its arguments and environment
 * through musl's stdio (writev on the console), a floating-point value
 * (SSE state in ring 3) and its pid. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv, char **envp)
{
	volatile double x = 2.5;

	printf("hello from ring 3 (pid %d, ppid %d)\n", (int)getpid(), (int)getppid());
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	for (int i = 0; envp[i]; i++)
		printf("envp[%d]=%s\n", i, envp[i]);
	printf("sse: %.3f\n", x * 1.5);
	return 0;
}
