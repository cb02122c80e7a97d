/* SPDX-License-Identifier: MIT */
/* CPUID policy: per-VM overrides on top of KVM's curated table; VMX and SVM stay hidden. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "cpuid.h"
#include "vm.h"

const struct kvm_cpuid2 *vmc_cpuid_table(const struct vmc_vm *vm)
{
    return vm->cpuid ? vm->cpuid : vm->kvm->cpuid;
}

static bool leaf_matches(const struct kvm_cpuid_entry2 *e, uint32_t function, uint32_t index)
{
    return e->function == function && (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index);
}

int vmc_vm_get_cpuid(const struct vmc_vm *vm, uint32_t function, uint32_t index, struct vmc_cpuid_leaf *out)
{
    const struct kvm_cpuid2 *c = vmc_cpuid_table(vm);
    for (uint32_t i = 0; i < c->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (leaf_matches(e, function, index)) {
            *out = (struct vmc_cpuid_leaf){ function, index, e->eax, e->ebx, e->ecx, e->edx };
            return 0;
        }
    }
    return -ENOENT;
}

/* The VM gets its own copy of the process-wide curated table at its first override. */
int vmc_vm_set_cpuid(struct vmc_vm *vm, const struct vmc_cpuid_leaf *leaf)
{
    if (vm->started)
        return vmc_vm_fail(vm, -EBUSY, "CPUID cannot change once the VM has run");
    const struct kvm_cpuid2 *cur = vmc_cpuid_table(vm);
    uint32_t slot = cur->nent;
    for (uint32_t i = 0; i < cur->nent; i++)
        if (leaf_matches(&cur->entries[i], leaf->function, leaf->index))
            slot = i;
    if (slot == cur->nent && cur->nent >= 1024)
        return vmc_vm_fail(vm, -ENOSPC, "too many CPUID leaves");
    uint32_t nent = cur->nent + (slot == cur->nent);
    struct kvm_cpuid2 *c = malloc(sizeof(*cur) + nent * sizeof(cur->entries[0]));
    if (!c)
        return vmc_vm_fail(vm, -ENOMEM, "out of memory");
    memcpy(c, cur, sizeof(*cur) + cur->nent * sizeof(cur->entries[0]));
    c->nent = nent;
    struct kvm_cpuid_entry2 *e = &c->entries[slot];
    if (slot == cur->nent)
        *e = (struct kvm_cpuid_entry2){ .function = leaf->function,
                                        .index = leaf->index,
                                        .flags = leaf->index ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0 };
    e->eax = leaf->eax;
    e->ebx = leaf->ebx;
    e->ecx = leaf->ecx;
    e->edx = leaf->edx;
    vmc_x86_cpuid_sanitize(e);
    free(vm->cpuid);
    vm->cpuid = c;
    return 0;
}

int vmc_cpuid_apply(struct vmc_vm *vm)
{
    const struct kvm_cpuid2 *c = vmc_cpuid_table(vm);
    for (uint32_t i = 0; i < vm->nvcpus; i++) {
        int rc = vmc_kvm_set_cpuid(vm->kvm, vm->vcpus[i].fd, c);
        if (rc < 0)
            return vmc_vm_fail(vm, rc, "KVM_SET_CPUID2: %s", strerror(-rc));
    }
    return 0;
}

int vmc_cpuid_set_hypervisor_leaves(struct vmc_vm *vm, const struct kvm_cpuid_entry2 *leaves, unsigned n)
{
    const struct kvm_cpuid2 *cur = vmc_cpuid_table(vm);
    struct kvm_cpuid2 *c = malloc(sizeof(*cur) + (cur->nent + n) * sizeof(cur->entries[0]));
    if (!c)
        return -ENOMEM;
    uint32_t w = 0;
    for (uint32_t i = 0; i < cur->nent; i++)
        if (cur->entries[i].function < 0x40000000u || cur->entries[i].function > 0x4000ffffu)
            c->entries[w++] = cur->entries[i];
    memcpy(&c->entries[w], leaves, n * sizeof(leaves[0]));
    c->nent = w + n;
    c->padding = 0;
    free(vm->cpuid);
    vm->cpuid = c;
    return 0;
}

void vmc_cpuid_free(struct vmc_vm *vm)
{
    free(vm->cpuid);
    vm->cpuid = NULL;
}
