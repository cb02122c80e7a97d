/* SPDX-License-Identifier: MIT */
/* A VM on the library's fake KVM backend, built by vmc_vm_create itself: real modules, no /dev/kvm. */
#ifndef VMCALL_TESTS_FAKEVM_H
#define VMCALL_TESTS_FAKEVM_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/exit.h"
#include "../../src/vm.h"

static struct vmc_kvm *fake_kvm;
/* The action of the last fake exit. */
static struct vmc_action fake_act;

/* A VM of mem_size bytes (a multiple of 2 MiB) reaching mem_max with memory_op, console discarded. */
static __attribute__((unused)) struct vmc_vm *fake_vm_cfg(struct vmc_config *cfg)
{
    if (!fake_kvm && vmc_kvm_open_fake(&fake_kvm) != 0)
        abort();
    struct vmc_vm *vm;
    char err[256];
    if (vmc_vm_create(fake_kvm, cfg, &vm, err, sizeof(err)) != 0) {
        printf("Bail out! fake VM: %s\n", err);
        exit(1);
    }
    vmc_sched_boot_up(&vm->vcpus[0]); /* as after loading: the calls come from a vCPU that is up */
    return vm;
}

static __attribute__((unused)) struct vmc_vm *fake_vm(uint64_t mem_size, uint32_t abi)
{
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    cfg.mem_size = mem_size;
    cfg.hypercall_abi = abi;
    cfg.console_out_fd = -1;
    return fake_vm_cfg(&cfg);
}

/* Set the caller's mode: 64 (long mode, paging on through cr3), 32 (protected, paging off). */
static __attribute__((unused)) void fake_mode(struct vmc_vm *vm, int bits, int cpl, uint64_t cr3)
{
    struct kvm_sregs *s = &vm->vcpus[0].run->s.regs.sregs;
    memset(s, 0, sizeof(*s));
    s->cs.selector = (uint16_t)((bits == 64 ? 0x08 : 0x40) | cpl);
    s->cs.l = bits == 64;
    s->cs.db = bits != 64;
    s->efer = bits == 64 ? 0x500 : 0;
    s->cr0 = bits == 64 ? 0x80010033 : 0x33;
    s->cr4 = bits == 64 ? 0x20 : 0;
    s->cr3 = cr3;
}

/* A port I/O exit on vCPU 0 as KVM reports it, handled; the action lands in fake_act. */
static __attribute__((unused)) void fake_io(struct vmc_vm *vm, uint16_t port, uint8_t size, bool out,
                                            uint32_t count)
{
    struct kvm_run *run = vm->vcpus[0].run;
    run->exit_reason = KVM_EXIT_IO;
    run->io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
    run->io.size = size;
    run->io.port = port;
    run->io.count = count;
    run->io.data_offset = 4096;
    run->kvm_dirty_regs = 0;
    vmc_exit_decode(run, &vm->vcpus[0].exit);
    vmc_exit_handle(&vm->vcpus[0], &vm->vcpus[0].exit, &fake_act);
}

/* Ring the doorbell as a stub would (out %al, $0xeb) and return RAX afterwards. */
static __attribute__((unused)) uint64_t fake_ring(struct vmc_vm *vm, uint32_t count)
{
    fake_io(vm, VMC_PORT_HYPERCALL, 1, true, count);
    return vm->vcpus[0].run->s.regs.regs.rax;
}

#endif
