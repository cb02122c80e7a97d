/* SPDX-License-Identifier: MIT */
/* The sandbox: installs the allow-lists compiled at build time (src/sandbox_gen.c) on the VMM's threads. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"
#include "sandbox_bpf.h"
#include "vm.h"

#ifdef VMC_ASAN
#include <sanitizer/lsan_interface.h>
/* Sanitizer builds (make check-asan): LeakSanitizer's check at exit stops the world with ptrace from a
 * cloned task and reads /proc, which the filter refuses (it would spin forever). Check for leaks now,
 * while everything allocated is still reachable, which also turns the check at exit off. */
static void before_filter(void)
{
    __lsan_do_leak_check();
}
#else
static void before_filter(void)
{
}
#endif

/* VMCALL_SANDBOX_DEBUG=1: a refused call stops the process with its number instead of failing. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "vmcall: sandbox: system call %d is not on the allow-list\n",
                     si->si_syscall);
    if (write(2, msg, (size_t)n) < 0)
        _exit(125);
    _exit(125);
}

/* The process-wide filter is the kernel's, per process: installed once whatever the number of VMs. */
static _Atomic bool process_filter;

int vmc_sandbox_install(struct vmc_vm *vm, enum vmc_sandbox_role role)
{
    bool process = role == VMC_SANDBOX_PROCESS || role == VMC_SANDBOX_PROCESS_LINUX;
    if (process && atomic_load(&process_filter))
        return 0;
    const char *dbg = getenv("VMCALL_SANDBOX_DEBUG");
    bool trap = dbg && *dbg == '1';
    if (process) {
        before_filter();
        if (trap)
            sigaction(SIGSYS, &(struct sigaction){ .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO }, NULL);
    }
    /* Without no_new_privs an unprivileged process may not install a filter; with it, nothing it execs
     * could gain privileges (and exec is refused anyway). TSYNC puts every thread under the filter at
     * once, or fails naming the thread that could not be. */
    long rc = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (rc == 0)
        rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, process ? SECCOMP_FILTER_FLAG_TSYNC : 0,
                     &vmc_bpf[role][trap]);
    int err = rc < 0 ? -errno : rc > 0 ? -EAGAIN : 0;
    if (err == 0 && process)
        atomic_store(&process_filter, true);
    if (err && vm && rc > 0)
        vmc_vm_fail(vm, err, "sandbox: thread %ld could not be put under the seccomp filter", rc);
    else if (err && vm)
        vmc_vm_fail(vm, err, "sandbox: cannot install the seccomp filter: %s", strerror(-err));
    return err;
}
