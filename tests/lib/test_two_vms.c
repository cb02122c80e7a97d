/* SPDX-License-Identifier: MIT */
/* Library test: two VMs from one KVM handle, running at the same time in two threads, stay separate; and
 * they do run at the same time: each guest waits in a hypercall until the other has arrived. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "../tap.h"
#include "common.h"
#include "vmcall/vmcall.h"

/* A barrier the two VMs' hypercall 64 handlers meet at. */
struct barrier {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int arrived;
};

struct job {
    struct vmc_kvm *kvm;
    const char *guest;
    struct barrier *meet;
    const char *const *argv;
    int argc;
    bool user;
    struct capture cap;
    struct vmc_result res;
    int rc;
};

/* Hypercall 64 (hc_custom calls it twice): the first call waits up to 5 s for the other VM's and
 * returns 1 when both were inside their runs at once, 0 if the other never came; the second returns 7. */
static int64_t meet_hc(struct vmc_vcpu *vcpu, void *opaque, const struct vmc_hypercall_args *a)
{
    struct barrier *b = opaque;
    (void)vcpu;
    if (a->args[0] == 0x10)
        return 7;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&b->lock);
    b->arrived++;
    pthread_cond_broadcast(&b->cond);
    int rc = 0;
    while (b->arrived < 2 && rc == 0)
        rc = pthread_cond_timedwait(&b->cond, &b->lock, &until);
    int both = b->arrived >= 2;
    pthread_mutex_unlock(&b->lock);
    return both;
}

static void *run_job(void *arg)
{
    struct job *j = arg;
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    cfg.argc = j->argc;
    cfg.argv = j->argv;
    cfg.user_mode = j->user;
    cfg.mem_size = j->user ? 32 << 20 : 16 << 20;
    cfg.console_out_fd = j->cap.wr;
    struct vmc_vm *vm;
    char err[256];
    j->rc = vmc_vm_create(j->kvm, &cfg, &vm, err, sizeof(err));
    if (j->rc == 0) {
        if (j->meet)
            vmc_vm_register_hypercall(vm, 64, "meet", meet_hc, j->meet, VMC_HC_F_USER);
        j->rc = vmc_vm_load_elf(vm, guest_path_mode(j->guest, j->user));
        if (j->rc == 0)
            j->rc = vmc_vm_run(vm, &j->res);
        vmc_vm_destroy(vm);
    }
    return NULL;
}

int main(void)
{
    struct vmc_kvm *kvm = open_kvm();
    static const char *const a_args[] = { "alpha" };
    static const char *const b_args[] = { "beta", "gamma", "delta" };
    struct job a = { .kvm = kvm, .guest = "args", .argv = a_args, .argc = 1 };
    struct job b = { .kvm = kvm, .guest = "args", .argv = b_args, .argc = 3, .user = true };
    capture_open(&a.cap);
    capture_open(&b.cap);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, run_job, &a);
    pthread_create(&tb, NULL, run_job, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);

    is_int(a.rc, 0, "VM A ran");
    is_int(b.rc, 0, "VM B ran");
    is_int(a.res.stop, VMC_STOP_EXIT, "A exited");
    is_int(b.res.stop, VMC_STOP_EXIT, "B exited");
    is_int(a.res.status, 1, "A's status is its own argument count");
    is_int(b.res.status, 3, "B's status is its own argument count");
    is_str(capture_read(&a.cap),
           "argc=2\nargv[0] names the program: args.elf\nargv[1]=[alpha]\nargv[argc]=0x0\ncmdline=[alpha] "
           "len=5\nmagic=42434d56 abi=4 size=112 ram=16M\n",
           "A's console has only A's output");
    is_str(capture_read(&b.cap),
           "argc=4\nargv[0] names the program: args.elf\nargv[1]=[beta]\nargv[2]=[gamma]\nargv[3]=[delta]\n"
           "argv[argc]=0x0\ncmdline=[beta gamma delta] len=16\nmagic=42434d56 abi=4 size=112 ram=32M\n",
           "B's console has only B's output (user mode, other RAM size)");
    capture_close(&a.cap);
    capture_close(&b.cap);

    /* Overlap: a VMM that ran one VM at a time would leave each guest alone at the barrier. */
    struct barrier meet = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
    struct job c = { .kvm = kvm, .guest = "hc_custom", .meet = &meet };
    struct job d = { .kvm = kvm, .guest = "hc_custom", .meet = &meet, .user = true };
    capture_open(&c.cap);
    capture_open(&d.cap);
    pthread_create(&ta, NULL, run_job, &c);
    pthread_create(&tb, NULL, run_job, &d);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    is_str(capture_read(&c.cap), "64=1 buf=ping 65=-38 bad=7\n",
           "VM C met VM D inside a hypercall: both were running");
    is_str(capture_read(&d.cap), "64=1 buf=ping 65=-38 bad=7\n", "and D met C (a CPL3 guest)");
    capture_close(&c.cap);
    capture_close(&d.cap);
    vmc_kvm_close(kvm);
    return tap_done();
}
