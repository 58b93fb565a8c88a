/* Second translation unit, compiled without asynchronous unwind tables so its CFI lands in .debug_frame while
 * the first unit's stays in .eh_frame: one binary whose table needs both sections. */
__attribute__((noinline)) long second_mix(long x) {
    long a[8];
    for (int i = 0; i < 8; i++) a[i] = x * i;
    long s = 0;
    for (int i = 0; i < 8; i++) s ^= a[i] >> 3;
    return s;
}

__attribute__((noinline)) long second_outer(long x) { return second_mix(x) + second_mix(x + 1); }
