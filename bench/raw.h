/* SPDX-License-Identifier: MIT */
/* The raw-KVM floor for the benchmarks: the least host work that runs a given guest instruction sequence. */
#ifndef VMCALL_BENCH_RAW_H
#define VMCALL_BENCH_RAW_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct raw_vm {
    int vm, vcpu;
    uint8_t *mem;
    size_t mem_size;
    struct kvm_run *run;
    int run_size;
};

/* Create a VM with one vCPU in 64-bit mode (CPL0 or CPL3) whose code at 0x100000 is code[0..len). */
int raw_create(int kvm, const struct kvm_cpuid2 *cpuid, int run_size, size_t mem_size, bool user,
               const uint8_t *code, size_t len, struct raw_vm *r);
void raw_destroy(struct raw_vm *r);

#endif
