/*
 * Context-switch load for the off-CPU cost benchmark (scripts/bench offcpu): two threads hand a byte back and
 * forth over two pipes, each blocking in read() until the other writes, paced to about RATE voluntary context
 * switches per second (each round trip is two sleeps; the pacing sleep adds one per ROUNDS_PER_TICK rounds).
 * Runs SECONDS, then prints the rounds it made.
 *   pingpong SECONDS RATE
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int ab[2], ba[2];

static void *pong(void *arg)
{
	char c;

	(void)arg;
	while (read(ab[0], &c, 1) == 1 && c != 'q')
		if (write(ba[1], &c, 1) != 1)
			break;
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 10, rate = argc > 2 ? atof(argv[2]) : 10000;
	long rounds = 0, per_ms = (long)(rate / 2 / 1000);
	double start = now(), next = start;
	pthread_t t;
	char c = 'p';

	if (per_ms < 1)
		per_ms = 1;
	if (pipe(ab) || pipe(ba) || pthread_create(&t, NULL, pong, NULL))
		return 1;
	while (now() - start < seconds) {
		for (long i = 0; i < per_ms; i++, rounds++)
			if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
				return 1;
		next += 0.001;
		double wait = next - now();
		if (wait > 0) {
			struct timespec ts = { 0, (long)(wait * 1e9) };
			nanosleep(&ts, NULL);
		}
	}
	c = 'q';
	if (write(ab[1], &c, 1) != 1)
		return 1;
	pthread_join(t, NULL);
	printf("rounds %ld\n", rounds);
	return 0;
}
