/* SPDX-License-Identifier: MIT */
/* Embedding libvmcall: a host program with a device of its own (a thermometer at port 0x510) and a
 * hypercall of its own (64, "sum": adds up a guest's array), running guest.c; every error handled. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vmcall/vmcall.h>

#define THERMO_PORT 0x510
#define HC_SUM 64
#define SUM_MAX 64

struct thermo {
    unsigned reads;
    uint32_t setpoint;
};

/* The device: reads give a temperature in millidegrees that rises 250 per read; writes set a setpoint. */
static int thermo_io(struct vmc_vcpu *vcpu, void *opaque, uint64_t port, void *data, uint32_t len, bool write)
{
    struct thermo *t = opaque;
    (void)vcpu, (void)port;
    if (len != 4)
        return 0; /* only 32-bit accesses mean something: others read all-ones and are dropped */
    if (write) {
        memcpy(&t->setpoint, data, 4);
    } else {
        uint32_t v = 21000 + 250 * t->reads++;
        memcpy(data, &v, 4);
    }
    return 0;
}

/* The hypercall: sum(const uint64_t *array, count) -> the sum, copied once through the guest's handle. */
static int64_t sum_hc(struct vmc_vcpu *vcpu, void *opaque, const struct vmc_hypercall_args *a)
{
    uint64_t v[SUM_MAX], sum = 0;
    (void)opaque;
    if (a->args[1] > SUM_MAX)
        return -VMC_E2BIG;
    if (vmc_vcpu_copy_from_guest(vcpu, v, a->args[0], a->args[1] * sizeof(v[0])) < 0)
        return -VMC_EFAULT; /* a bad pointer is the guest's error, not the VMM's */
    for (uint64_t i = 0; i < a->args[1]; i++)
        sum += v[i];
    return (int64_t)(sum & INT64_MAX);
}

static int run(struct vmc_kvm *kvm, const char *guest)
{
    struct vmc_config cfg;
    struct vmc_vm *vm;
    struct vmc_result res;
    struct thermo t = { 0, 0 };
    char err[256];
    vmc_config_init(&cfg);
    cfg.mem_size = 16 << 20;
    cfg.timeout_ns = 10ull * 1000000000; /* an embedder bounds what it runs */
    if (vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)) < 0) {
        fprintf(stderr, "embed: %s\n", err);
        return 1;
    }
    int rc = vmc_vm_register_io(vm, THERMO_PORT, 4, thermo_io, &t, 0);
    if (rc == 0)
        rc = vmc_vm_register_hypercall(vm, HC_SUM, "sum", sum_hc, NULL, VMC_HC_F_USER);
    if (rc == 0)
        rc = vmc_vm_load_elf(vm, guest);
    if (rc == 0)
        rc = vmc_vm_run(vm, &res);
    if (rc < 0) {
        fprintf(stderr, "embed: %s\n", vmc_vm_strerror(vm));
    } else if (res.stop != VMC_STOP_EXIT) {
        fprintf(stderr, "embed: %s\n", res.summary);
        rc = -EIO;
    } else {
        printf("embed: the guest exited with %u after %u thermometer reads; setpoint %u\n", res.status,
               t.reads, t.setpoint);
    }
    vmc_vm_destroy(vm);
    return rc < 0 ? 1 : (int)res.status;
}

int main(int argc, char **argv)
{
    struct vmc_kvm *kvm;
    char err[256];
    if (argc != 2) {
        fprintf(stderr, "usage: embed GUEST.elf\n");
        return 2;
    }
    if (vmc_kvm_open(&kvm, err, sizeof(err)) < 0) {
        fprintf(stderr, "embed: %s\n", err);
        return 1;
    }
    int status = run(kvm, argv[1]);
    vmc_kvm_close(kvm);
    return status;
}
