/*
 * Spins in main for DELAY seconds, then dlopen()s a library it was not linked with and spins in
 * its late_spin for the rest: the library's mapping appears only after sampling started.
 * Prints "loaded <monotonic seconds>" when the library is mapped.
 * Usage: dlopen_late LIBRARY DELAY SECONDS      Build: gcc -O2 -fomit-frame-pointer dlopen_late.c -ldl
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile unsigned long main_sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void main_spin(double until)
{
	unsigned long x = 1;

	while (now() < until) {
		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		main_sink = x;
	}
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	double delay = atof(argv[2]), seconds = atof(argv[3]);
	main_spin(now() + delay);
	void *lib = dlopen(argv[1], RTLD_NOW);
	if (!lib) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	int (*spin)(double) = (int (*)(double))dlsym(lib, "late_spin");
	if (!spin)
		return 1;
	printf("loaded %.6f\n", now());
	fflush(stdout);
	/* not a tail call: main keeps its frame under late_spin */
	return spin(seconds) == 1 ? 0 : 1;
}
