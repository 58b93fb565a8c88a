/*
 * A process that burns CPU in a function named after its role, for identity tests: the "old" and
 * "new" owners of one recycled PID run different functions, so a stack that pairs the old owner's
 * identity with the new owner's function proves an inherited identity.
 * Usage: named old|new SECONDS
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void burn_as_old_owner(double until)
{
	while (now() < until)
		for (int i = 0; i < 100000; i++)
			sink = sink * 6364136223846793005UL + 1;
}

__attribute__((noinline)) void burn_as_new_owner(double until)
{
	while (now() < until)
		for (int i = 0; i < 100000; i++)
			sink = sink * 2862933555777941757UL + 3;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	double until = now() + atof(argv[2]);
	if (strcmp(argv[1], "old") == 0)
		burn_as_old_owner(until);
	else
		burn_as_new_owner(until);
	return 0;
}
