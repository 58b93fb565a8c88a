/*
 * 100-deep recursion that alternates between this executable (deep_a) and a shared library
 * (deep_b in libdeep.so), every call crossing through a PLT; built -O2 -fomit-frame-pointer so
 * only the unwind tables can walk it. The leaf spins in the library.
 * Ground truth: every on-CPU sample is main -> deep_a -> deep_b -> ... (100 frames) -> deep_spin.
 * Usage: deep_main SECONDS      Build: gcc -O2 -fomit-frame-pointer -rdynamic deep_main.c -L. -ldeep
 */
#include <stdlib.h>

int deep_b(int level, double seconds);

/* non-tail: the caller adds to the result, so no level is optimised into a jump */
__attribute__((noinline)) int deep_a(int level, double seconds)
{
	if (level == 0)
		return 0;
	return deep_b(level - 1, seconds) + 1;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 10;

	/* levels 99..0: 50 deep_a and 50 deep_b frames, deep_b(0) spins */
	return deep_a(99, seconds) == 100 ? 0 : 1;
}
