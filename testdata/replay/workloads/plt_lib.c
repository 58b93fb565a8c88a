/*
 * The library half of plt_main.c: plt_lib_call calls back into the executable through this library's PLT until
 * depth 0, then spins in plt_lib_spin (no calls: every moment of the core is the same stack).
 * Build (regenerate): gcc -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls -shared -fPIC -o libpltlib.so plt_lib.c
 */
int plt_callback(int depth);

volatile unsigned long plt_sink;

__attribute__((noinline)) static int plt_lib_spin(void)
{
	for (;;)
		plt_sink = plt_sink * 6364136223846793005UL + 1442695040888963407UL;
	return 0;
}

__attribute__((noinline)) int plt_lib_call(int depth)
{
	if (depth > 0)
		return plt_callback(depth) + 1;
	return plt_lib_spin() + 1;
}
