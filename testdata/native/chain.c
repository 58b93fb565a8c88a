/*
 * Spins in a known call chain main -> alpha -> beta -> gamma for a bounded time.
 * Ground truth for stack tests: almost every on-CPU sample is inside gamma, called through this chain.
 * Usage: chain SECONDS
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

__attribute__((noinline)) void gamma(double until)
{
	unsigned long x = 1;
	while (now() < until) {
		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		sink = x;
	}
}

__attribute__((noinline)) void beta(double until)
{
	gamma(until);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void alpha(double until)
{
	beta(until);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	if (secs <= 0 || secs > 600)
		secs = 10;
	alpha(now() + secs);
	return 0;
}
