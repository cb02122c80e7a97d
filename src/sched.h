/* SPDX-License-Identifier: MIT */
/* Scheduling: vCPU threads and states (up, down, blocked), kicks, waits, and how a run stops. */
#ifndef VMCALL_SRC_SCHED_H
#define VMCALL_SRC_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "vmcall/vmcall.h"

struct vmc_vm;
struct vmc_vcpu;

enum vmc_vcpu_state {
    VMC_VCPU_DOWN, /* waiting for VMC_VCPUOP_UP (or never started) */
    VMC_VCPU_UP,
};

/* A vCPU's scheduling state: guarded by the VM's sched lock, except where marked. */
struct vmc_vcpu_sched {
    enum vmc_vcpu_state state;
    bool has_thread; /* a host thread of this vmc_vm_run serves this vCPU (joined when the run ends) */
    bool alive;      /* its thread is registered below: it may be signalled */
    bool blocked;    /* the thread waits on cond (halted, blocked, or down) */
    bool halted;     /* activity state HLT, for the control block */
    pthread_t thread;
    pthread_cond_t cond;
    pid_t tid;
    _Atomic bool down_req; /* another vCPU asked this one to go down (read without the lock) */
    /* Written by the vCPU's own thread only. */
    int last_cpu;
    uint64_t runs, halts, halt_ns;
};

/* The VM's scheduling state (sched.c): one lock for vCPU states and threads, the stop, the deadline. */
struct vmc_sched {
    pthread_mutex_t lock;
    bool running;             /* inside vmc_vm_run */
    _Atomic bool stopping;    /* a vCPU stopped the VM: every vCPU thread leaves (read without the lock) */
    _Atomic bool cancel;      /* vmc_sched_cancel: the first vCPU to see it stops the VM */
    _Atomic int cancel_rc;    /* 0: cancelled; else why the VMM stopped it (a negative errno) */
    struct vmc_vcpu *stopper; /* the vCPU whose stop ends the run */
    uint32_t nup;             /* vCPUs up */
    uint64_t started;         /* when this run began (monotonic ns): elapsed times in reports */
    uint64_t deadline;        /* the run's timeout as monotonic ns, 0 = none */
    timer_t timeout;          /* signals the boot vCPU's thread at the deadline */
    bool timeout_armed;
    void *(*thread_fn)(void *); /* body of spawned vCPU threads (vcpu.c) */
};

/* The VM's scheduling state and every vCPU's (the vCPUs are allocated). */
int vmc_sched_init(struct vmc_vm *vm);
void vmc_sched_destroy(struct vmc_vm *vm);

/* Make the vCPU's thread notice new state: wake a blocked wait, or signal a KVM_RUN (not the caller's). */
void vmc_sched_kick(struct vmc_vcpu *vcpu);
/* Wake every blocked vCPU to re-check what it waits for (console space). */
void vmc_sched_wake_blocked(struct vmc_vm *vm);
/* Stop a running VM from any thread: rc 0 as cancelled (vmc_vm_cancel), a negative errno as a VMM error
 * (the message is recorded by the caller). A cancel before the run starts is kept for it. */
void vmc_sched_cancel(struct vmc_vm *vm, int rc);
/* The VM is inside vmc_vm_run (read under the lock: registration and the control block refuse then). */
bool vmc_sched_running(struct vmc_vm *vm);
/* May this thread read and write the vCPU's registers now: the VM is not running, or this is the vCPU's own
 * thread? Holds the sched lock on true (release with vmc_sched_unlock), so a run cannot start meanwhile. */
bool vmc_sched_lock_vcpu(struct vmc_vcpu *vcpu);
void vmc_sched_unlock(struct vmc_vm *vm);

/* Why a wait ended. */
enum vmc_wake {
    VMC_WAKE_EVENT,   /* woken() became true */
    VMC_WAKE_UNTIL,   /* the wait's own deadline passed */
    VMC_WAKE_STOP,    /* the VM is stopping, cancelled, or this vCPU was asked down */
    VMC_WAKE_TIMEOUT, /* the run's deadline passed */
};
/* Block the vCPU thread until woken(vcpu), `until` (monotonic ns, 0 = none), a stop or the run's deadline.
 * halt: the wait is a HLT (activity state, counted). woken is evaluated under the lock. */
enum vmc_wake vmc_sched_block(struct vmc_vcpu *vcpu, uint64_t until, bool halt,
                              bool (*woken)(struct vmc_vcpu *));

/* ---- a run (vcpu.c drives these) ---- */
/* Start a run: every vCPU left up gets its thread back. -errno when a thread cannot be created. */
int vmc_sched_run_begin(struct vmc_vm *vm, void *(*thread_fn)(void *));
/* After the boot vCPU's loop returned: join the other threads, end the run; returns the stopping vCPU. */
struct vmc_vcpu *vmc_sched_run_end(struct vmc_vm *vm);
/* A vCPU thread enters the run: registered as alive, so that it may be kicked. */
void vmc_sched_enter(struct vmc_vcpu *vcpu);
/* Wait while the vCPU is down; false when the run is over for this thread. A cancel or the run's deadline
 * seen while waiting is reported in *stop (VMC_STOP_CANCELLED, VMC_STOP_ERROR or VMC_STOP_TIMEOUT;
 * VMC_STOP_NONE when another vCPU ended the run): the caller records it and stops the VM. */
bool vmc_sched_wait_up(struct vmc_vcpu *vcpu, enum vmc_stop *stop);
/* The vCPU went down (blocked vCPUs check their wake condition again: one may wait for a free vCPU);
 * true if it was the last one up (the VM then ends). */
bool vmc_sched_went_down(struct vmc_vcpu *vcpu);
/* Stop the VM with this vCPU as the one the result describes (the first stop wins). */
void vmc_sched_stop(struct vmc_vcpu *vcpu);
void vmc_sched_leave(struct vmc_vcpu *vcpu);
/* Before entering the guest: should this vCPU's loop leave? Consumes a cancel and a down request. */
enum vmc_check {
    VMC_CHECK_RUN,
    VMC_CHECK_CANCELLED, /* vmc_sched_cancel with rc 0: this vCPU stops the VM */
    VMC_CHECK_FAILED,    /* vmc_sched_cancel with an error: this vCPU stops the VM with it */
    VMC_CHECK_STOPPING,  /* another vCPU stopped the VM */
    VMC_CHECK_DOWN,      /* another vCPU asked this one to go down */
};
enum vmc_check vmc_sched_check(struct vmc_vcpu *vcpu);
bool vmc_sched_timed_out(struct vmc_vm *vm);
/* The error a VMC_CHECK_FAILED or VMC_STOP_ERROR from a cancel carries. */
int vmc_sched_cancel_rc(struct vmc_vm *vm);

/* ---- vcpu_op ---- */
/* Bring a down vCPU up: prepare(target, arg) runs under the lock (its entry state), then its thread runs.
 * -EBUSY if up, -EAGAIN if no host thread could be created. */
int vmc_sched_vcpu_up(struct vmc_vcpu *target, void (*prepare)(struct vmc_vcpu *, void *), void *arg);
/* Ask another vCPU to go down (it stays up until it has left the guest). */
void vmc_sched_vcpu_down(struct vmc_vcpu *target);
bool vmc_sched_vcpu_is_up(struct vmc_vcpu *target);
/* The same for a wake check (vmc_sched_block's `woken`), which runs with the scheduler's lock held. */
bool vmc_sched_vcpu_is_up_locked(const struct vmc_vcpu *target);
/* The vCPU started at the entry point (vCPU 0 after loading). */
void vmc_sched_boot_up(struct vmc_vcpu *vcpu);
/* Activity for the control block (VMC_ACTIVITY_*), from the state and whether it triple-faulted. */
uint32_t vmc_sched_activity(struct vmc_vcpu *vcpu, bool shutdown);

#endif /* VMCALL_SRC_SCHED_H */
