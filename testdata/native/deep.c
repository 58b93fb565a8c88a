/*
 * Spins at the bottom of a DEPTH-deep recursion (default 38 frames under main), so every sample
 * has a ~40-frame user stack: the workload of the per-sample kernel cost benchmark.
 * Usage: deep SECONDS [DEPTH]
 */
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void descend(int depth, double until)
{
	if (depth > 0) {
		descend(depth - 1, until);
		__asm__ volatile("" ::: "memory");
		return;
	}
	unsigned long x = 1;
	while (now() < until) {
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005UL + 1;
		sink = x;
	}
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	int depth = argc > 2 ? atoi(argv[2]) : 38;
	if (secs <= 0 || secs > 600)
		secs = 10;
	if (depth < 0 || depth > 10000)
		depth = 38;
	descend(depth, now() + secs);
	return 0;
}
