/* SPDX-License-Identifier: MIT */
/* Linux-personality test: each thread has its own signal mask. A signal sent to the process while the
 * main thread blocks it runs its handler in the thread that does not; then three threads catch faults
 * of their own at once (each vCPU's exception stack). The output must match the native run. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_t second;
static atomic_int handled, ready;
static _Atomic int in_second = -1;

static __thread sigjmp_buf fault_back;
static __thread int faults;

static void on_segv(int sig)
{
    (void)sig;
    faults++;
    siglongjmp(fault_back, 1);
}

/* 50 faults (NULL + a few bytes), each caught by the thread that made it. */
static void *fault_often(void *arg)
{
    for (int i = 0; i < 50; i++)
        if (!sigsetjmp(fault_back, 1))
            *(volatile int *)(16 + (uintptr_t)arg) = 1;
    return (void *)(uintptr_t)faults;
}

static void on_usr1(int sig)
{
    (void)sig;
    atomic_store(&in_second, pthread_equal(pthread_self(), second));
    atomic_store(&handled, 1);
}

static void *run(void *arg)
{
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigset_t inherited;
    pthread_sigmask(SIG_SETMASK, NULL, &inherited);
    printf("second thread starts with SIGUSR1 blocked (inherited): %d\n", sigismember(&inherited, SIGUSR1));
    fflush(stdout);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    atomic_store(&ready, 1);
    while (!atomic_load(&handled))
        sched_yield(); /* a system call: where the handler can run */
    return NULL;
}

int main(void)
{
    signal(SIGUSR1, on_usr1);
    sigset_t set, now;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (pthread_create(&second, NULL, run, NULL) != 0)
        return 1;
    while (!atomic_load(&ready))
        sched_yield();
    kill(getpid(), SIGUSR1);
    pthread_join(second, NULL);
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    printf("handled=%d in the second thread=%d; main still blocks it: %d\n", atomic_load(&handled),
           atomic_load(&in_second), sigismember(&now, SIGUSR1));
    signal(SIGSEGV, on_segv);
    pthread_t t[3];
    uintptr_t total = 0;
    for (uintptr_t i = 0; i < 3; i++)
        if (pthread_create(&t[i], NULL, fault_often, (void *)(i * 8)) != 0) {
            printf("pthread_create %lu failed\n", (unsigned long)i);
            return 1;
        }
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (uintptr_t)r;
    }
    printf("faults caught by their own threads: %lu\n", (unsigned long)total);
    return 0;
}
