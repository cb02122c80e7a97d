/* SPDX-License-Identifier: MIT */
/* The VM: one struct composed of each module's state, and its lifecycle (vm.c). */
#ifndef VMCALL_SRC_VM_H
#define VMCALL_SRC_VM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "hypercall.h"
#include "io.h"
#include "kvm.h"
#include "mem.h"
#include "msr.h"
#include "sched.h"
#include "timer.h"
#include "util.h"
#include "vcpu.h"
#include "vmcall/abi.h"
#include "vmcall/vmcall.h"

/* Each part has one owner, named beside it (docs/architecture.md); no other module writes it. */
struct vmc_vm {
    struct vmc_kvm *kvm;      /* shared by the process's VMs */
    int fd;                   /* vm.c */
    struct vmc_config cfg;    /* vm.c: fixed at create */
    char **argv;              /* vm.c: private copy of cfg.argv */
    char **envp;              /* vm.c: private copy of cfg.envp */
    struct vmc_error err;     /* util.c: the last error, any thread */
    struct vmc_mem mem;       /* memory.c */
    struct vmc_io io;         /* io.c: buses, I/O policy */
    struct vmc_msrs msrs;     /* msr.c */
    struct kvm_cpuid2 *cpuid; /* cpuid.c: this VM's own table once overridden */
    struct vmc_hc hc;         /* hypercall.c */
    struct vmc_xen *xen;      /* xen/: the Xen personality's state (NULL for vmcall's) */
    struct vmc_linux *lx;     /* linux/: the Linux personality's state */
    struct vmc_sched sched;   /* sched.c */
    struct vmc_timer timer;   /* timer.c */
    void *dev[VMC_DEV_COUNT]; /* dev/: each device's state */
    struct vmc_vcpu *vcpus;   /* vm.c: nvcpus, created with the VM */
    uint32_t nvcpus;
    /* vm.c: lifecycle */
    uint64_t entry, image_start, image_end;
    bool created, loaded, started, finished;
    bool sandboxed; /* the seccomp allow-lists are in force (config sandbox, from the first run) */
    /* Test hook: runs on a vCPU's thread after its last check and before KVM_RUN, the window a cancel
     * must not fall into unseen (tests/lib/test_window.c). NULL outside that test. */
    void (*entry_hook)(struct vmc_vcpu *vcpu, void *arg);
    void *entry_hook_arg;
};

/* Record a formatted error message on the VM; evaluates to err (a negative errno) for tail calls. */
#define vmc_vm_fail(vm_, rc_, ...) vmc_error_set(&(vm_)->err, (rc_), __VA_ARGS__)
/* A device's state (NULL for a device the configuration did not ask for). */
#define vmc_vm_dev(vm, id) ((vm)->dev[(id)])

#endif /* VMCALL_SRC_VM_H */
