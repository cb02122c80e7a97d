/* SPDX-License-Identifier: MIT */
/* Linux-personality test: threads on several vCPUs, mutexes, a condition variable, join; exact results. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

enum { THREADS = 4, ROUNDS = 20000 };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter, turn;
static long tids[THREADS];

static void *work(void *arg)
{
    long me = (long)arg;
    tids[me] = syscall(SYS_gettid);
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    /* ping-pong: each thread waits for its turn, 50 times round the ring */
    for (int k = 0; k < 50; k++) {
        pthread_mutex_lock(&lock);
        while (turn % THREADS != me)
            pthread_cond_wait(&cond, &lock);
        turn++;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    return (void *)(me * 10);
}

int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, work, (void *)i) != 0) {
            printf("pthread_create %ld failed\n", i);
            return 1;
        }
    long sum = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    int distinct = 1;
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < i; j++)
            distinct &= tids[i] != tids[j] && tids[i] != getpid();
    printf("counter=%ld (want %d) turns=%ld results=%ld distinct tids=%d\n", counter, THREADS * ROUNDS, turn,
           sum, distinct);
    pthread_t extra[THREADS + 8];
    int made = 0;
    for (; made < THREADS + 8; made++)
        if (pthread_create(&extra[made], NULL, work, (void *)0L) != 0)
            break;
    printf("more threads than vCPUs: %s\n", made < THREADS + 8 ? "refused (EAGAIN)" : "all made");
    fflush(stdout);
    _exit(0);
}
