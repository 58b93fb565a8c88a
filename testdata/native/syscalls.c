/*
 * Syscall-heavy workload: most CPU time is spent in the kernel on behalf of write(2) and
 * getppid(2) called from a known user chain main -> do_syscalls. Bounded in time.
 * Usage: syscalls SECONDS
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void do_syscalls(int fd, double until)
{
	static char buf[65536];
	while (now() < until) {
		for (int i = 0; i < 1000; i++) {
			if (write(fd, buf, sizeof buf) < 0)
				exit(2);
			syscall(SYS_getppid);
		}
	}
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	if (secs <= 0 || secs > 600)
		secs = 10;
	int fd = open("/dev/null", O_WRONLY);
	if (fd < 0)
		return 1;
	do_syscalls(fd, now() + secs);
	return 0;
}
