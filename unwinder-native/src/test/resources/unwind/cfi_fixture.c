/* Unwind-table fixture: leaf, non-leaf, variable-size frames and a PLT call, so that the compiled CFI holds
 * rsp-based rows, rbp-based rows (alloca forces a frame pointer even with -fomit-frame-pointer) and .plt rows. */
#include <alloca.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) int leaf(int x) { return x * 3 + 1; }

__attribute__((noinline)) long with_alloca(int n) {
    char *buf = alloca((size_t)n + 16);
    memset(buf, n & 0x7f, (size_t)n + 16);
    long sum = 0;
    for (int i = 0; i < n; i++) sum += buf[i] * leaf(i);
    return sum;
}

__attribute__((noinline)) long recurse(int depth, long acc) {
    if (depth <= 0) return acc + with_alloca(32);
    long v = recurse(depth - 1, acc + leaf(depth));
    return v ^ (acc << 1);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 5;
    printf("%ld\n", recurse(n, 0));
    return 0;
}
