/*
 * The library half of deep_main.c: deep_b calls back into the executable's deep_a through this
 * library's PLT (the executable exports it with -rdynamic); level 0 spins in deep_spin.
 * Build: gcc -O2 -fomit-frame-pointer -shared -fPIC -o libdeep.so deep_lib.c
 */
#include <time.h>

int deep_a(int level, double seconds);

volatile unsigned long deep_sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) int deep_spin(double seconds)
{
	double until = now() + seconds;
	unsigned long x = 1;

	while (now() < until) {
		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		deep_sink = x;
	}
	return 0;
}

__attribute__((noinline)) int deep_b(int level, double seconds)
{
	if (level == 0)
		return deep_spin(seconds) + 1; /* not a tail call: deep_b(0) keeps its frame */
	return deep_a(level - 1, seconds) + 1;
}
