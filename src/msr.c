/* SPDX-License-Identifier: MIT */
/* MSRs: the policy, embedder handlers, the VMM's own MSRs (the hypercall page), and KVM's MSR filter. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

void vmc_msr_init(struct vmc_vm *vm)
{
    memset(&vm->msrs, 0, sizeof(vm->msrs));
    vm->msrs.exits = vmc_kvm_enable_msr_exits(vm->kvm, vm->fd);
}

/*
 * The hypercall-page MSR (Xen's discovery; docs/abi-reference.md, "Hypercall page"): a page-aligned
 * address of a guest RAM page the guest owns gets the page written; anything else raises #GP. Reads
 * return the last accepted value.
 */
static int hcpage_msr(struct vmc_vcpu *vcpu, bool write, uint64_t *val)
{
    struct vmc_vm *vm = vcpu->vm;
    if (!write) {
        *val = vm->msrs.hcpage;
        return 0;
    }
    bool vmm_owned = *val < VMC_LAYOUT_LOAD_MIN && *val != VMC_LAYOUT_HYPERCALL_PAGE;
    if ((*val & 4095) || vmm_owned || !vmc_mem_ptr(&vm->mem, *val, 4096))
        return -1;
    if (vmc_hc_write_page(vm, *val) != 0)
        return -1;
    vm->msrs.hcpage = *val;
    return 0;
}

/* MSRs the VMM handles itself; any other MSR access that reaches the VMM raises #GP. */
static const struct {
    uint32_t index;
    int (*fn)(struct vmc_vcpu *vcpu, bool write, uint64_t *val);
} builtin[] = {
    { VMC_MSR_HYPERCALL_PAGE, hcpage_msr },
};

static struct vmc_msr_rule *find_rule(struct vmc_vm *vm, uint32_t index)
{
    for (unsigned i = 0; i < vm->msrs.nrules; i++)
        if (vm->msrs.rules[i].index == index)
            return &vm->msrs.rules[i];
    return NULL;
}

static bool is_builtin(uint32_t index)
{
    for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
        if (builtin[i].index == index)
            return true;
    return false;
}

int vmc_msr_access(struct vmc_vcpu *vcpu, uint32_t index, bool write, uint64_t *value)
{
    const struct vmc_msr_rule *rule = find_rule(vcpu->vm, index);
    if (rule)
        return rule->deny ? -1 : (rule->fn(vcpu, rule->opaque, index, write, value) == 0 ? 0 : -1);
    for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
        if (builtin[i].index == index)
            return builtin[i].fn(vcpu, write, value);
    return -1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

#define FILTER_SPAN 512u  /* MSRs per filter range: a 64-byte bitmap */
#define FILTER_RANGES 16u /* KVM_MSR_FILTER_MAX_RANGES */
_Static_assert(KVM_MSR_FILTER_MAX_RANGES >= FILTER_RANGES, "filter ranges");

/* Indices the filter must send to the VMM, sorted: every rule, and the VMM's own MSRs where KVM would
 * otherwise handle them (it implements the Hyper-V range, which holds the hypercall-page MSR). */
static size_t filtered_indices(struct vmc_vm *vm, uint32_t *idx)
{
    size_t n = 0;
    for (unsigned i = 0; i < vm->msrs.nrules; i++)
        idx[n++] = vm->msrs.rules[i].index;
    for (size_t i = 0; i < ARRAY_SIZE(builtin) && vm->kvm->hv_msrs; i++)
        if (!find_rule(vm, builtin[i].index))
            idx[n++] = builtin[i].index;
    qsort(idx, n, sizeof(idx[0]), cmp_u32);
    return n;
}

/*
 * One filter, default allow, with every filtered MSR cleared in its range's bitmap (docs/abi-reference.md,
 * "KVM"). Consecutive indices share a range; KVM copies the bitmaps.
 */
int vmc_msr_apply(struct vmc_vm *vm)
{
    vm->msrs.applied = true;
    if (!vm->msrs.exits)
        return 0;
    uint32_t idx[VMC_MSR_RULES_MAX + ARRAY_SIZE(builtin)];
    size_t n = filtered_indices(vm, idx);
    if (n == 0 && !vm->msrs.filtered)
        return 0; /* nothing to filter: no ioctl (0.1-2 ms on this host) */
    uint8_t bitmaps[FILTER_RANGES][FILTER_SPAN / 8];
    struct kvm_msr_filter filter = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };
    unsigned nr = 0;
    for (size_t i = 0; i < n; i++) {
        struct kvm_msr_filter_range *r = nr ? &filter.ranges[nr - 1] : NULL;
        if (!r || idx[i] - r->base >= FILTER_SPAN) {
            if (nr == FILTER_RANGES)
                return vmc_vm_fail(vm, -ENOSPC, "MSR policy: more than %u clusters of MSRs", FILTER_RANGES);
            r = &filter.ranges[nr];
            memset(bitmaps[nr], 0xff, sizeof(bitmaps[nr]));
            *r = (struct kvm_msr_filter_range){ .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
                                                .base = idx[i],
                                                .bitmap = bitmaps[nr] };
            nr++;
        }
        uint32_t bit = idx[i] - r->base;
        bitmaps[nr - 1][bit / 8] &= (uint8_t) ~(1u << (bit % 8));
        r->nmsrs = bit + 1;
    }
    int rc = vmc_kvm_set_msr_filter(vm->kvm, vm->fd, &filter);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "KVM_X86_SET_MSR_FILTER: %s", strerror(-rc));
    vm->msrs.filtered = n > 0;
    return 0;
}

static int set_rule(struct vmc_vm *vm, uint32_t index, bool deny, vmc_msr_fn fn, void *opaque)
{
    if (!vm->msrs.exits)
        return vmc_vm_fail(vm, -EOPNOTSUPP, "this host's KVM has no MSR filter");
    if (vmc_sched_running(vm))
        return vmc_vm_fail(vm, -EBUSY, "the MSR policy cannot change while the VM runs");
    struct vmc_msr_rule *r = find_rule(vm, index);
    if (fn && r && !r->deny)
        return vmc_vm_fail(vm, -EBUSY, "MSR 0x%x already has a handler", index);
    if (fn && is_builtin(index))
        return vmc_vm_fail(vm, -EBUSY, "MSR 0x%x is the VMM's own", index);
    if (!r) {
        if (vm->msrs.nrules == VMC_MSR_RULES_MAX)
            return vmc_vm_fail(vm, -ENOSPC, "more than %u MSR rules", VMC_MSR_RULES_MAX);
        r = &vm->msrs.rules[vm->msrs.nrules++];
    }
    const struct vmc_msr_rule old = *r;
    *r = (struct vmc_msr_rule){ index, deny, fn, opaque };
    int rc = vm->msrs.applied ? vmc_msr_apply(vm) : 0;
    if (rc < 0)
        *r = old;
    return rc;
}

int vmc_vm_set_msr_policy(struct vmc_vm *vm, uint32_t index, enum vmc_msr_policy policy)
{
    if (policy == VMC_MSR_DENY)
        return set_rule(vm, index, true, NULL, NULL);
    if (policy != VMC_MSR_ALLOW)
        return vmc_vm_fail(vm, -EINVAL, "unknown MSR policy %d", (int)policy);
    struct vmc_msr_rule *r = find_rule(vm, index);
    if (!r || !r->deny)
        return 0; /* allowed already, or a handler's: handlers stay */
    *r = vm->msrs.rules[--vm->msrs.nrules];
    return vm->msrs.applied ? vmc_msr_apply(vm) : 0;
}

int vmc_vm_register_msr(struct vmc_vm *vm, uint32_t index, vmc_msr_fn fn, void *opaque)
{
    if (!fn)
        return vmc_vm_fail(vm, -EINVAL, "MSR 0x%x: no handler", index);
    return set_rule(vm, index, false, fn, opaque);
}

int vmc_msr_register(struct vmc_vm *vm, uint32_t index, vmc_msr_fn fn, void *opaque)
{
    return vmc_vm_register_msr(vm, index, fn, opaque);
}
