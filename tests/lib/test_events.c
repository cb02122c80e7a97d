/* SPDX-License-Identifier: MIT */
/* Library test: event injection. Exceptions with error code and CR2 payload, external interrupts from
 * another thread into a guest that waits with IF=1, and every kind of invalid request. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "../tap.h"
#include "common.h"
#include "vmcall/vmcall.h"

static pthread_t injector;

static void *inject_later(void *arg)
{
    struct vmc_vcpu *vcpu = arg;
    struct timespec ts = { 0, 20 * 1000000L };
    nanosleep(&ts, NULL);
    vmc_vcpu_inject(vcpu, &(struct vmc_event){ .type = VMC_EVENT_INTERRUPT, .vector = 0x41 });
    vmc_vcpu_inject(vcpu, &(struct vmc_event){ .type = VMC_EVENT_INTERRUPT, .vector = 0x40 });
    return NULL;
}

static int64_t ask(struct vmc_vcpu *vcpu, void *opaque, const struct vmc_hypercall_args *a)
{
    (void)opaque;
    if (a->nr == 64)
        return vmc_vcpu_inject(vcpu, &(struct vmc_event){ .type = VMC_EVENT_EXCEPTION,
                                                          .vector = 13,
                                                          .has_error_code = true,
                                                          .error_code = 0x18 });
    if (a->nr == 65)
        return vmc_vcpu_inject(vcpu, &(struct vmc_event){ .type = VMC_EVENT_EXCEPTION,
                                                          .vector = 14,
                                                          .has_error_code = true,
                                                          .error_code = 2,
                                                          .cr2 = 0xdead000 });
    return pthread_create(&injector, NULL, inject_later, vcpu) == 0 ? 0 : -VMC_EIO;
}

int main(void)
{
    struct vmc_kvm *kvm = open_kvm();
    char err[256];
    struct vmc_config cfg;
    struct capture cap;
    capture_open(&cap);
    vmc_config_init(&cfg);
    cfg.console_out_fd = cap.wr;
    struct vmc_vm *vm;
    if (vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)) != 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    struct vmc_vcpu *v = vmc_vm_vcpu(vm, 0);
    ok(v != NULL && vmc_vm_vcpu(vm, 1) == NULL, "vCPU 0 exists, vCPU 1 does not");

    struct {
        struct vmc_event ev;
        const char *what;
    } bad[] = {
        { { VMC_EVENT_EXCEPTION, 32, false, 0, 0 }, "exception vector 32" },
        { { VMC_EVENT_EXCEPTION, 2, false, 0, 0 }, "exception vector 2 (NMI)" },
        { { VMC_EVENT_EXCEPTION, 6, true, 0, 0 }, "#UD with an error code" },
        { { VMC_EVENT_EXCEPTION, 13, false, 0, 0 }, "#GP without its error code" },
        { { VMC_EVENT_EXCEPTION, 13, true, 0, 0x1000 }, "CR2 payload on a #GP" },
        { { VMC_EVENT_INTERRUPT, 31, false, 0, 0 }, "interrupt vector 31" },
        { { VMC_EVENT_INTERRUPT, 0x40, true, 1, 0 }, "interrupt with an error code" },
        { { VMC_EVENT_NMI, 5, false, 0, 0 }, "NMI with vector 5" },
        { { (enum vmc_event_type)9, 0, false, 0, 0 }, "unknown event type" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        is_int(vmc_vcpu_inject(v, &bad[i].ev), -EINVAL, "refused: %s", bad[i].what);

    for (uint32_t nr = 64; nr <= 66; nr++)
        vmc_hypercall_register(vm, nr, "ask", ask, NULL, 0);
    vmc_vm_load_elf(vm, guest_path("events"));
    struct vmc_result res;
    is_int(vmc_vm_run(vm, &res), 0, "run");
    pthread_join(injector, NULL);
    is_int(res.stop, VMC_STOP_EXIT, "guest exited after handling every event: %s", res.summary);
    is_str(capture_read(&cap), "gp error=0x18 pf cr2=0xdead000\nirq40=1 irq41=1\n",
           "guest handlers saw #GP(0x18), #PF with CR2, and both interrupts once");
    vmc_vm_destroy(vm);

    /* A second exception while one is pending is refused. */
    vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err));
    v = vmc_vm_vcpu(vm, 0);
    struct vmc_event ud = { .type = VMC_EVENT_EXCEPTION, .vector = 6 };
    is_int(vmc_vcpu_inject(v, &ud), 0, "pending #UD accepted");
    is_int(vmc_vcpu_inject(v, &ud), -EBUSY, "a second pending exception: -EBUSY");
    vmc_vm_load_elf(vm, guest_path("hello"));
    vmc_vm_run(vm, &res);
    ok(res.stop == VMC_STOP_CRASH && res.vector == 6, "the pending #UD hit a guest without handlers: %s",
       res.summary);
    vmc_vm_destroy(vm);
    capture_close(&cap);
    vmc_kvm_close(kvm);
    return tap_done();
}
