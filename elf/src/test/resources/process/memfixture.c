/* Prints the addresses of memory with known content, then waits for stdin to close. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned char pattern[100000];

int main(void) {
    for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (unsigned char) (i * 31 + 7);
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (two == MAP_FAILED) { perror("mmap"); return 2; }
    memset(two, 0xab, page);
    munmap(two + page, page); /* a readable page followed by a hole */
    printf("pattern %p %zu\n", (void *) pattern, sizeof pattern);
    printf("edge %p %ld\n", (void *) two, page);
    printf("ready\n");
    fflush(stdout);
    char buf[16];
    while (read(0, buf, sizeof buf) > 0) { }
    return 0;
}
