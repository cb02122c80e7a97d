/* SPDX-License-Identifier: MIT */
/* Helpers for the library tests: guest paths and capturing a VM's console through a pipe. */
#ifndef VMCALL_TESTS_LIB_COMMON_H
#define VMCALL_TESTS_LIB_COMMON_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmcall/vmcall.h"

/* A test guest built for kernel mode, or for user mode (vmcall-cc --user: tests/user/). Thread-local:
 * SMP and two-VM tests call it from several threads (eight results live at once). */
static inline const char *guest_path_mode(const char *name, bool user)
{
    static _Thread_local char buf[8][512];
    static _Thread_local int i;
    const char *dir = getenv("GUESTS");
    char *p = buf[i++ % 8];
    snprintf(p, 512, "%s/tests/%s%s.elf", dir ? dir : "build/guest", user ? "user/" : "", name);
    return p;
}

static inline const char *guest_path(const char *name)
{
    return guest_path_mode(name, false);
}

/* A console sink: the write end goes to the VM, the test reads what arrived. */
struct capture {
    int rd, wr;
    char buf[8192]; /* what capture_read returned last: each capture has its own */
};

static inline void capture_open(struct capture *c)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        abort();
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    c->rd = fds[0];
    c->wr = fds[1];
}

static inline const char *capture_read(struct capture *c)
{
    char *p = c->buf;
    ssize_t n = read(c->rd, p, sizeof(c->buf) - 1);
    p[n > 0 ? n : 0] = 0;
    return p;
}

/* The process's KVM handle; without one the test cannot run at all (TAP "Bail out!"). */
static inline struct vmc_kvm *open_kvm(void)
{
    struct vmc_kvm *kvm;
    char err[256];
    if (vmc_kvm_open(&kvm, err, sizeof(err)) != 0) {
        printf("Bail out! %s\n", err);
        exit(1);
    }
    return kvm;
}

static inline void capture_close(struct capture *c)
{
    close(c->rd);
    close(c->wr);
}

#endif
