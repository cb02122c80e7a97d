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
    vmc_console_init(&vm->console, -1, -1);
    pthread_mutex_init(&vm->lock, NULL);
    pthread_mutex_init(&vm->memop_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&vm->timer_cond, &ca);
    vm->populated_pages = vm->max_pages = mem_size >> 12;
    memset(vm->hc_allowed, 0xff, sizeof(vm->hc_allowed));
    vmc_bus_init(&vm->pio);
    vmc_bus_init(&vm->mmio);
    vm->nvcpus = 1;
    vm->vcpus = calloc(1, sizeof(*vm->vcpus));
    vm->vcpus[0].vm = vm;
    vm->vcpus[0].fd = -1;
    vm->vcpus[0].run = calloc(1, (size_t)fake_kvm.run_size);
    pthread_cond_init(&vm->vcpus[0].cond, &ca);
    pthread_condattr_destroy(&ca);
    void *state;
    vmc_hypercall_ops.create(vm, &state);
    return vm;
}

static void fake_vm_free(struct vmc_vm *vm)
{
    vmc_timer_stop(vm);
    vmc_mem_free_extra(vm);
    vmc_bus_free(&vm->pio);
    vmc_bus_free(&vm->mmio);
    free(vm->vcpus[0].run);
    pthread_cond_destroy(&vm->vcpus[0].cond);
    free(vm->vcpus);
    vmc_console_destroy(&vm->console);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->memop_lock);
    pthread_cond_destroy(&vm->timer_cond);
    free(vm->mem.host);
    free(vm);
}

/* Set the caller's mode: 64 (long mode, paging on through cr3), 32 (protected, paging off). */
static void fake_mode(struct vmc_vm *vm, int bits, int cpl, uint64_t cr3)
{
    struct kvm_sregs *s = &vm->vcpus[0].run->s.regs.sregs;
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
    struct kvm_run *run = vm->vcpus[0].run;
    run->exit_reason = KVM_EXIT_IO;
    run->io.direction = KVM_EXIT_IO_OUT;
    run->io.size = 1;
    run->io.port = VMC_PORT_HYPERCALL;
    run->io.count = count;
    run->io.data_offset = 4096;
    run->kvm_dirty_regs = 0;
    memset(&vm->vcpus[0].req, 0, sizeof(vm->vcpus[0].req));
    vmc_exit_decode(run, &vm->vcpus[0].exit);
    vmc_exit_dispatch(&vm->vcpus[0], &vm->vcpus[0].exit);
    return run->s.regs.regs.rax;
}

#endif
