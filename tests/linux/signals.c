/* SPDX-License-Identifier: MIT */
/* Linux-personality test: handlers run for signals the program sends itself (SA_SIGINFO, a blocked one
 * delivered when unblocked, SA_RESETHAND), registers and the mask come back; the output must match the
 * native run, and so must the last raise, which kills with the default action. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static volatile int got, code;
static void h(int s, siginfo_t *si, void *uc)
{
    (void)uc;
    got += s;
    code = si->si_signo;
}

static void h2(int s)
{
    got += 100 * s;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    double x = 1.5;
    long keep = 12345;
    raise(SIGUSR1);
    printf("handled: got=%d signo=%d keep=%ld x=%.1f\n", got, code, keep, x);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    signal(SIGUSR2, h2);
    sigprocmask(SIG_BLOCK, &set, 0);
    raise(SIGUSR2);
    printf("blocked: got=%d\n", got);
    sigprocmask(SIG_UNBLOCK, &set, 0);
    printf("unblocked: got=%d\n", got);
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    printf("reset: got=%d\n", got);
    fflush(stdout);
    raise(SIGUSR1);
    return 0;
}
