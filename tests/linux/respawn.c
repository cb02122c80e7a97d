/* SPDX-License-Identifier: MIT */
/* Linux-personality test: a thread created, joined, and created again, 1000 times, on the one vCPU
 * past the main thread's: the vCPU a joined thread gave back is always there for the next one. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void *one(void *arg)
{
    return (void *)((uintptr_t)arg + 1);
}

int main(void)
{
    enum { ROUNDS = 1000 };
    uintptr_t sum = 0;
    for (uintptr_t i = 0; i < ROUNDS; i++) {
        pthread_t t;
        void *r;
        int rc = pthread_create(&t, NULL, one, (void *)i);
        if (rc != 0) {
            printf("round %lu: pthread_create: %s\n", (unsigned long)i, strerror(rc));
            return 1;
        }
        pthread_join(t, &r);
        sum += (uintptr_t)r;
    }
    printf("%d threads, one after another: sum %lu\n", ROUNDS, (unsigned long)sum);
    return 0;
}
