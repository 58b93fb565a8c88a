/*
 * Spins in before_exec for DELAY seconds, prints "exec <monotonic seconds>", then execs the given
 * program (same PID, entirely new mappings).
 * Usage: exec_later DELAY PROGRAM ARGS...      Build: gcc -O2 -fomit-frame-pointer exec_later.c
 */
#include <stdio.h>
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

__attribute__((noinline)) static void before_exec(double until)
{
	unsigned long x = 1;

	while (now() < until) {
		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		before_sink = x;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	before_exec(now() + atof(argv[1]));
	printf("exec %.6f\n", now());
	fflush(stdout);
	execv(argv[2], argv + 2);
	perror("execv");
	return 1;
}
