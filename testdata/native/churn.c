/*
 * Process churn for the agent's churn test: forks RATE short-lived children per second for SECONDS
 * (bounded: at most RATE*SECONDS children, never more than 64 alive at once). Each child burns
 * about 1 ms of CPU in churn_child() and exits, so samples land in processes that live briefly.
 * Prints the number of children started.
 * Usage: churn RATE SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void churn_child(void)
{
	double until = now() + 0.001;
	unsigned long x = 1;
	while (now() < until)
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005UL + 1;
	sink = x;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	long rate = atol(argv[1]), seconds = atol(argv[2]);
	if (rate <= 0 || rate > 5000 || seconds <= 0 || seconds > 600)
		return 2;
	double start = now(), end = start + seconds;
	long started = 0, alive = 0, limit = rate * seconds;
	while (now() < end && started < limit) {
		double due = start + (double)started / rate;
		if (now() < due) {
			usleep(200);
		} else if (alive < 64) {
			pid_t p = fork();
			if (p == 0) {
				churn_child();
				_exit(0);
			}
			if (p > 0) {
				started++;
				alive++;
			}
		}
		while (alive > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			alive--;
	}
	while (alive > 0 && wait(NULL) > 0)
		alive--;
	printf("%ld\n", started);
	return 0;
}
