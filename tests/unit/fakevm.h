/* SPDX-License-Identifier: MIT */
/* A VM without KVM for host-only tests: fake guest memory and kvm_run, real buses and hypercall table. */
#ifndef VMCALL_TESTS_FAKEVM_H
#define VMCALL_TESTS_FAKEVM_H

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/internal.h"

extern const struct vmc_device_ops vmc_hypercall_ops;

static struct vmc_kvm fake_kvm = { .fd = -1, .run_size = 8192 };

static struct vmc_vm *fake_vm(uint64_t mem_size, uint32_t abi)
{
    struct vmc_vm *vm = calloc(1, sizeof(*vm));
    fake_kvm.kick_signal = SIGRTMIN;
    vm->kvm = &fake_kvm;
    vm->fd = -1;
    vm->cfg.hypercall_abi = abi;
    vm->mem.size = mem_size;
    vm->mem.host = calloc(1, mem_size);
    vm->disk.fd = -1;
    vm->console = (struct vmc_console){ .out_fd = -1, .in_fd = -1 };
    vm->populated_pages = vm->max_pages = mem_size >> 12;
    memset(vm->hc_allowed, 0xff, sizeof(vm->hc_allowed));
    vmc_bus_init(&vm->pio);
    vmc_bus_init(&vm->mmio);
    vm->vcpu.vm = vm;
    vm->vcpu.fd = -1;
    vm->vcpu.run = calloc(1, (size_t)fake_kvm.run_size);
    void *state;
    vmc_hypercall_ops.create(vm, &state);
    return vm;
}

static void fake_vm_free(struct vmc_vm *vm)
{
    vmc_mem_free_extra(vm);
    vmc_bus_free(&vm->pio);
    vmc_bus_free(&vm->mmio);
    free(vm->vcpu.run);
    free(vm->mem.host);
    free(vm);
}

/* Set the caller's mode: 64 (long mode, paging on through cr3), 32 (protected, paging off). */
static void fake_mode(struct vmc_vm *vm, int bits, int cpl, uint64_t cr3)
{
    struct kvm_sregs *s = &vm->vcpu.run->s.regs.sregs;
    memset(s, 0, sizeof(*s));
    s->cs.selector = (uint16_t)((bits == 64 ? 0x08 : 0x40) | cpl);
    s->cs.l = bits == 64;
    s->efer = bits == 64 ? 0x500 : 0;
    s->cr0 = bits == 64 ? 0x80010033 : 0x33;
    s->cr3 = cr3;
}

/* Ring the doorbell as a stub would (out %al, $0xeb) and return RAX afterwards. */
static uint64_t fake_ring(struct vmc_vm *vm, uint32_t count)
{
    struct kvm_run *run = vm->vcpu.run;
    run->exit_reason = KVM_EXIT_IO;
    run->io.direction = KVM_EXIT_IO_OUT;
    run->io.size = 1;
    run->io.port = VMC_PORT_HYPERCALL;
    run->io.count = count;
    run->io.data_offset = 4096;
    run->kvm_dirty_regs = 0;
    memset(&vm->vcpu.req, 0, sizeof(vm->vcpu.req));
    vmc_exit_decode(run, &vm->vcpu.exit);
    vmc_exit_dispatch(&vm->vcpu, &vm->vcpu.exit);
    return run->s.regs.regs.rax;
}

#endif
