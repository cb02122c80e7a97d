/* SPDX-License-Identifier: MIT */
/* Library test: a cancel that lands between a vCPU's last check and its KVM_RUN is not lost. The
 * library's entry hook (src/vm.h) stops the vCPU exactly there while another thread cancels; the kick
 * must then make KVM_RUN return at once (its signal handler sets immediate_exit). */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "../../src/vm.h"
#include "../tap.h"
#include "common.h"

struct window {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int entries, asked, done;
    struct vmc_vm *vm;
};

/* The canceller: waits to be asked, cancels, says so. */
static void *canceller(void *arg)
{
    struct window *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->asked)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
    vmc_vm_cancel(w->vm);
    pthread_mutex_lock(&w->lock);
    w->done = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* On the vCPU's thread, before its third entry (the guest is running by then): the cancel happens now. */
static void hook(struct vmc_vcpu *vcpu, void *arg)
{
    struct window *w = arg;
    (void)vcpu;
    if (++w->entries != 3)
        return;
    pthread_mutex_lock(&w->lock);
    w->asked = 1;
    pthread_cond_broadcast(&w->cond);
    while (!w->done)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

static void test_window(bool user)
{
    struct vmc_kvm *kvm = open_kvm();
    struct vmc_config cfg;
    struct vmc_vm *vm;
    char err[256];
    vmc_config_init(&cfg);
    cfg.user_mode = user;
    cfg.console_out_fd = -1;
    cfg.timeout_ns = 5000000000ull; /* the bound: a lost cancel ends as a timeout instead of hanging */
    if (vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)) != 0 ||
        vmc_vm_load_elf(vm, guest_path_mode("spin", user)) != 0) {
        printf("Bail out! %s\n", err);
        exit(1);
    }
    struct window w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, vm };
    vm->entry_hook = hook;
    vm->entry_hook_arg = &w;
    pthread_t t;
    pthread_create(&t, NULL, canceller, &w);
    struct vmc_result res;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    is_int(vmc_vm_run(vm, &res), 0, "%s: the run returns", user ? "CPL3" : "CPL0");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(t, NULL);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    is_int(w.entries, 3, "%s: the cancel came in the window before the third entry", user ? "CPL3" : "CPL0");
    is_int(res.stop, VMC_STOP_CANCELLED, "%s: and was seen: cancelled, not timed out (%s)",
           user ? "CPL3" : "CPL0", res.summary);
    ok(s < 2.0, "%s: within 2 s (%.3f s)", user ? "CPL3" : "CPL0", s);
    vmc_vm_destroy(vm);
    vmc_kvm_close(kvm);
}

int main(void)
{
    test_window(false);
    test_window(true);
    return tap_done();
}
