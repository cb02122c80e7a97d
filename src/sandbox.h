/* SPDX-License-Identifier: MIT */
/* The sandbox: seccomp allow-lists (libseccomp) for the VMM's threads once a VM runs. */
#ifndef VMCALL_SRC_SANDBOX_H
#define VMCALL_SRC_SANDBOX_H

#include <stdbool.h>

struct vmc_vm;

/* The threads with a list of their own: each is also under the process-wide list (filters stack). */
enum vmc_sandbox_role {
    VMC_SANDBOX_PROCESS,       /* every thread (vCPU threads, the caller's): what a running VM needs */
    VMC_SANDBOX_TIMER,         /* the guest-timer thread */
    VMC_SANDBOX_WRITER,        /* the console writer thread */
    VMC_SANDBOX_PROCESS_LINUX, /* VMC_SANDBOX_PROCESS for a Linux-personality VM: plus its root's files */
};
/*
 * Install the list of `role`: VMC_SANDBOX_PROCESS on every thread of the process at once (TSYNC), with
 * PR_SET_NO_NEW_PRIVS; the others on the calling thread. A call outside the list fails with EPERM, or,
 * with VMCALL_SANDBOX_DEBUG=1 in the environment, stops the process with a report naming it.
 * -errno on failure (the message is recorded on vm when it is given).
 */
int vmc_sandbox_install(struct vmc_vm *vm, enum vmc_sandbox_role role);

#endif /* VMCALL_SRC_SANDBOX_H */
