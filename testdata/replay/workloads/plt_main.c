/*
 * Replay case native-plt: frame-pointer-less C whose stack crosses a shared library's PLT both ways
 * (main -> plt_outer -> plt_lib_call [libpltlib.so, via the executable's PLT] -> plt_callback [back in the
 * executable, via the library's PLT] -> plt_lib_spin [library]). Spins forever; testdata/replay/regenerate takes
 * the core with gcore while it does. Prints "ready" on stderr once in the loop's call chain.
 * Build (regenerate): gcc -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls -rdynamic plt_main.c -L. -lpltlib
 */
#include <stdio.h>

int plt_lib_call(int depth);

__attribute__((noinline)) int plt_callback(int depth)
{
	return plt_lib_call(depth - 1) + 1;
}

__attribute__((noinline)) static int plt_outer(int depth)
{
	return plt_lib_call(depth) + 1;
}

int main(void)
{
	fprintf(stderr, "ready\n");
	return plt_outer(2) == 42;
}
