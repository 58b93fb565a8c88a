/*
 * Spins in before_exec for DELAY seconds (DELAY "stdin": until a line can be read from stdin, so a
 * test can exec it once its profiler is running), prints "exec <monotonic seconds>", then execs the
 * given program (same PID, entirely new mappings).
 * Usage: exec_later DELAY PROGRAM ARGS...      Build: gcc -O2 -fomit-frame-pointer exec_later.c
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

volatile unsigned long before_sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int stdin_ready(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

__attribute__((noinline)) static void before_exec(double until, int wait_stdin)
{
	unsigned long x = 1;

	while (wait_stdin ? !stdin_ready() : now() < until) {
		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		before_sink = x;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (strcmp(argv[1], "stdin") == 0)
		before_exec(0, 1);
	else
		before_exec(now() + atof(argv[1]), 0);
	printf("exec %.6f\n", now());
	fflush(stdout);
	execv(argv[2], argv + 2);
	perror("execv");
	return 1;
}
