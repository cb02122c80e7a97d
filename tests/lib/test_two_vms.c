/* SPDX-License-Identifier: MIT */
/* Library test: two VMs from one KVM handle, running at the same time in two threads, stay separate. */
#include <pthread.h>
#include <stdio.h>

#include "../tap.h"
#include "common.h"
#include "vmcall/vmcall.h"

struct job {
    struct vmc_kvm *kvm;
    const char *const *argv;
    int argc;
    bool user;
    struct capture cap;
    struct vmc_result res;
    int rc;
};

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
        j->rc = vmc_vm_load_elf(vm, guest_path("args"));
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
    struct job a = { .kvm = kvm, .argv = a_args, .argc = 1 };
    struct job b = { .kvm = kvm, .argv = b_args, .argc = 3, .user = true };
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
    is_int(a.res.status, 1, "A's status is its own argc");
    is_int(b.res.status, 3, "B's status is its own argc");
    is_str(capture_read(&a.cap),
           "argc=1\nargv[0]=[alpha]\nargv[argc]=0x0\ncmdline=[alpha] len=5\nmagic=42434d56 abi=3 size=112 "
           "ram=16M\n",
           "A's console has only A's output");
    is_str(capture_read(&b.cap),
           "argc=3\nargv[0]=[beta]\nargv[1]=[gamma]\nargv[2]=[delta]\nargv[argc]=0x0\n"
           "cmdline=[beta gamma delta] len=16\nmagic=42434d56 abi=3 size=112 ram=32M\n",
           "B's console has only B's output (user mode, other RAM size)");
    capture_close(&a.cap);
    capture_close(&b.cap);
    vmc_kvm_close(kvm);
    return tap_done();
}
