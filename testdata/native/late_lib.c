/*
 * Library for dlopen_late.c: late_spin -> late_inner spin without frame pointers.
 * Build: gcc -O2 -fomit-frame-pointer -shared -fPIC -o liblate.so late_lib.c
 */
#include <time.h>

volatile unsigned long late_sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) int late_inner(double until)
{
	unsigned long x = 1;

	while (now() < until) {
		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		late_sink = x;
	}
	return 0;
}

__attribute__((noinline)) int late_spin(double seconds)
{
	return late_inner(now() + seconds) + 1;
}
