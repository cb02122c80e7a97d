/* SPDX-License-Identifier: MIT */
/* Linux-personality test: signals that interrupt: alarm and setitimer (ITIMER_REAL) reach a thread that
 * computes without system calls, cut a sleep short (EINTR, the time left) and end a poll (EINTR); a
 * signal another thread cannot take interrupts a computing thread; a read or a semaphore wait that a
 * handler interrupts fails with EINTR, or runs again when the handler has SA_RESTART; then an alarm
 * without a handler ends the program. The output must match the native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int ticks, flag;

static void on_alarm(int sig)
{
    (void)sig;
    atomic_fetch_add(&ticks, 1);
}

static void on_usr1(int sig)
{
    (void)sig;
    atomic_store(&flag, 1);
}

static int feed = -1; /* a pipe's write end the SA_RESTART handler writes a byte into */

static void on_alarm_feed(int sig)
{
    (void)sig;
    atomic_fetch_add(&ticks, 1);
    if (write(feed, "x", 1) != 1)
        _exit(9);
}

static void handle_flags(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static void handle(int sig, void (*fn)(int))
{
    handle_flags(sig, fn, 0);
}

/* SIGALRM in 30 ms, once. */
static void soon(void)
{
    struct itimerval once = { { 0, 0 }, { 0, 30000 } };
    setitimer(ITIMER_REAL, &once, NULL);
}

/* A blocked read of the program's own pipe and a semaphore wait, each cut by SIGALRM's handler. */
static void interrupted_waits(int p[2])
{
    char c;
    soon();
    errno = 0;
    ssize_t n = read(p[0], &c, 1);
    printf("read cut short: %zd %s\n", n, strerror(errno));

    feed = p[1];
    handle_flags(SIGALRM, on_alarm_feed, SA_RESTART);
    soon();
    errno = 0;
    n = read(p[0], &c, 1);
    printf("read with SA_RESTART ran again: %zd '%c' %s\n", n, n == 1 ? c : '-', strerror(errno));

    handle(SIGALRM, on_alarm);
    sem_t sem;
    sem_init(&sem, 0, 0);
    soon();
    errno = 0;
    int r = sem_wait(&sem);
    printf("sem_wait cut short: %d %s\n", r, strerror(errno));
}

/* Computes without a system call until the handler has run `want` times. */
static void spin_until(atomic_int *counter, int want)
{
    volatile unsigned long x = 0;
    while (atomic_load(counter) < want)
        x++;
}

static void *compute(void *arg)
{
    sigset_t *set = arg;
    pthread_sigmask(SIG_UNBLOCK, set, NULL); /* it starts with the creator's mask */
    spin_until(&flag, 1);
    return NULL;
}

int main(void)
{
    handle(SIGALRM, on_alarm);
    alarm(1);
    spin_until(&ticks, 1);
    printf("alarm reached a computing thread: ticks=%d\n", atomic_load(&ticks));

    struct itimerval every = { { 0, 20000 }, { 0, 20000 } }, off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &every, NULL);
    spin_until(&ticks, 6);
    setitimer(ITIMER_REAL, &off, NULL);
    struct itimerval now;
    getitimer(ITIMER_REAL, &now);
    printf("setitimer every 20 ms: ticks=%d, then off: %ld.%06ld\n", atomic_load(&ticks),
           (long)now.it_value.tv_sec, (long)now.it_value.tv_usec);

    alarm(1);
    struct timespec req = { 5, 0 }, rem = { 0, 0 };
    int r = nanosleep(&req, &rem);
    printf("nanosleep cut short: %d %s, left about %ld s\n", r, strerror(errno),
           (long)(rem.tv_sec + (rem.tv_nsec > 500000000)));

    int p[2];
    if (pipe(p) != 0)
        return 1;
    struct pollfd pf = { p[0], POLLIN, 0 };
    alarm(1);
    errno = 0;
    r = poll(&pf, 1, -1);
    printf("poll cut short: %d %s\n", r, strerror(errno));
    interrupted_waits(p);

    /* SIGUSR1 blocked here: only the computing thread can take it, in the middle of its loop */
    handle(SIGUSR1, on_usr1);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    pthread_create(&t, NULL, compute, &set);
    usleep(50000);
    kill(getpid(), SIGUSR1);
    pthread_join(t, NULL);
    printf("a computing thread took the signal the main thread blocks: %d\n", atomic_load(&flag));

    fflush(stdout);
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    for (;;)
        ;
}
