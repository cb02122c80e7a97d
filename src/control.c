/* SPDX-License-Identifier: MIT */
/* Execution controls: the I/O policy (the VMM's I/O bitmap), the MSR policy (KVM's MSR filter), CPUID. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

enum vmc_io_policy vmc_vm_io_policy(const struct vmc_vm *vm, uint16_t port)
{
    uint8_t own = vm->io_policy[port];
    if (own)
        return (enum vmc_io_policy)(own - 1);
    return vmc_bus_claimed(&vm->pio, port) ? VMC_IO_PASS : (enum vmc_io_policy)vm->cfg.io_default;
}

int vmc_vm_set_io_policy(struct vmc_vm *vm, uint16_t port, uint32_t count, enum vmc_io_policy policy)
{
    if (count == 0 || (uint32_t)port + count > 0x10000 || (unsigned)policy > VMC_IO_DENY)
        return vmc_vm_fail(vm, -EINVAL, "I/O policy for ports 0x%x+%u is invalid", port, count);
    if (vm->running)
        return vmc_vm_fail(vm, -EBUSY, "the I/O policy cannot change while the VM runs");
    memset(vm->io_policy + port, 1 + (int)policy, count);
    vm->io_policy_set = true;
    vmc_x86_update_iomap(vm);
    return 0;
}

/*
 * VMX semantics (SDM vol. 3C 25.6.4): an access is intercepted if the bit of any port it touches is set,
 * and always when it wraps past 0xFFFF. Intercepted, it takes the strictest policy of its ports.
 */
static enum vmc_io_policy access_policy(const struct vmc_vm *vm, uint16_t port, uint32_t size)
{
    if ((uint32_t)port + size > 0x10000)
        return VMC_IO_DENY;
    if (!vm->io_policy_set && vm->cfg.io_default == VMC_IO_PASS)
        return VMC_IO_PASS; /* nothing intercepted: no per-port lookups on the exit path */
    enum vmc_io_policy worst = VMC_IO_PASS;
    for (uint32_t i = 0; i < size; i++) {
        enum vmc_io_policy p = vmc_vm_io_policy(vm, (uint16_t)(port + i));
        if (p > worst)
            worst = p;
    }
    return worst;
}

/*
 * The length of the OUT instruction that ends just before rip, or 0 if the bytes there are not one for
 * this port and size. Emulating KVMs finish an OUT (RIP past it) before exiting to userspace; fast PIO
 * exits with RIP still on it. Forms (SDM vol. 2B, OUT): [66] [REX] EE/EF (port in DX), [66] [REX] E6/E7 ib.
 */
static unsigned out_insn_len(struct vmc_vcpu *vcpu, uint64_t rip, uint16_t port, uint32_t size)
{
    const struct kvm_sregs *s = &vcpu->run->s.regs.sregs;
    const struct kvm_regs *r = &vcpu->run->s.regs.regs;
    bool long_mode = (s->efer & (1ull << 10)) && s->cs.l;
    uint8_t b[4];
    if (rip < sizeof(b))
        return 0;
    int rc = (s->cr0 & (1ull << 31)) ? vmc_gva_read(&vcpu->vm->mem, s->cr3, rip - 4, 0, b, 4)
                                     : vmc_mem_read(&vcpu->vm->mem, (uint32_t)(s->cs.base + rip - 4), b, 4);
    if (rc != 0)
        return 0;
    uint8_t dx_op = size == 1 ? 0xee : 0xef, imm_op = size == 1 ? 0xe6 : 0xe7;
    unsigned len;
    if (b[3] == dx_op && (uint16_t)r->rdx == port)
        len = 1;
    else if (b[2] == imm_op && b[3] == port && port < 256)
        len = 2;
    else
        return 0;
    if (long_mode && len < 4 && (b[3 - len] & 0xf0) == 0x40)
        len++; /* REX */
    if (size == 2 && len < 4 && b[3 - len] == 0x66)
        len++;
    return len;
}

/*
 * #GP(0) at the I/O instruction, with no effect. KVM completes a userspace I/O exit on the next
 * KVM_RUN (advancing RIP, writing RAX for IN): run that completion without entering the guest
 * (immediate_exit, api.rst), then put the registers of the exit back and queue the exception. A REP
 * string instruction may need several completions; they are all given all-ones and dropped.
 */
static int deny(struct vmc_vcpu *vcpu, uint16_t port, uint32_t size, bool write, uint32_t count)
{
    struct kvm_run *run = vcpu->run;
    struct vmc_vm *vm = vcpu->vm;
    const struct kvm_regs saved = run->s.regs.regs;
    for (int i = 0;; i++) {
        run->immediate_exit = 1;
        int rc = ioctl(vcpu->fd, KVM_RUN, 0);
        int e = errno;
        run->immediate_exit = 0;
        if (rc < 0 && (e == EINTR || e == EAGAIN))
            break;
        if (rc < 0)
            return vmc_vm_fail(vm, -e, "KVM_RUN (completing a denied I/O access): %s", strerror(e));
        if (run->exit_reason != KVM_EXIT_IO || i == 65536)
            return vmc_vm_fail(vm, -EIO, "KVM did not complete a denied I/O access (exit %u)",
                               run->exit_reason);
        if (run->io.direction == KVM_EXIT_IO_IN && run->io.data_offset < (uint64_t)vm->kvm->run_size &&
            (uint64_t)run->io.size * run->io.count <= (uint64_t)vm->kvm->run_size - run->io.data_offset)
            memset((uint8_t *)run + run->io.data_offset, 0xff, (size_t)run->io.size * run->io.count);
    }
    if (run->s.regs.regs.rip != saved.rip) {
        run->s.regs.regs = saved; /* the completion stepped over it: back to the exit's state */
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    } else if (write && count == 1) {
        unsigned len = out_insn_len(vcpu, saved.rip, port, size);
        run->s.regs.regs = saved;
        run->s.regs.regs.rip -= len; /* 0 if unrecognised: the #GP then points past the OUT */
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    }
    const struct vmc_event gp = { .type = VMC_EVENT_EXCEPTION, .vector = 13, .has_error_code = true };
    if (vmc_vcpu_inject(vcpu, &gp) == -EBUSY)
        vm->err[0] = 0; /* an exception injected by the embedder goes first; this access is still undone */
    return 1;
}

int vmc_io_filter(struct vmc_vcpu *vcpu, uint16_t port, uint32_t size, bool write, void *data, uint32_t count)
{
    struct vmc_vm *vm = vcpu->vm;
    enum vmc_io_policy p = access_policy(vm, port, size);
    if (p == VMC_IO_PASS)
        return 0;
    vmc_bus_count_policy(&vm->pio, port, p == VMC_IO_DENY);
    if (p == VMC_IO_DENY)
        return deny(vcpu, port, size, write, count);
    if (!write)
        memset(data, 0xff, (size_t)size * count);
    return 1;
}

/* ---- MSR policy ------------------------------------------------------------------------------------- */

const struct vmc_msr_rule *vmc_msr_rule(const struct vmc_vm *vm, uint32_t index)
{
    for (unsigned i = 0; i < vm->nmsr_rules; i++)
        if (vm->msr_rules[i].index == index)
            return &vm->msr_rules[i];
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

#define FILTER_SPAN 512u /* MSRs per filter range: a 64-byte bitmap */

/*
 * One KVM filter with every denied or handled MSR (and the VMM's own) cleared in its range's bitmap,
 * default allow (abi-reference 3.6). Consecutive indices share a range; KVM takes at most
 * KVM_MSR_FILTER_MAX_RANGES of them and copies the bitmaps.
 */
int vmc_msr_apply(struct vmc_vm *vm)
{
    if (!vm->msr_exits)
        return 0;
    uint32_t idx[VMC_MSR_RULES_MAX + 8];
    size_t n = 0;
    for (unsigned i = 0; i < vm->nmsr_rules; i++)
        idx[n++] = vm->msr_rules[i].index;
    for (size_t i = 0; i < vmc_nbuiltin_msrs; i++)
        if (!vmc_msr_rule(vm, vmc_builtin_msrs[i]))
            idx[n++] = vmc_builtin_msrs[i];
    qsort(idx, n, sizeof(idx[0]), cmp_u32);
    _Static_assert(KVM_MSR_FILTER_MAX_RANGES >= 16, "filter ranges");
    uint8_t bitmaps[16][FILTER_SPAN / 8];
    struct kvm_msr_filter filter = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };
    unsigned nr = 0;
    for (size_t i = 0; i < n; i++) {
        struct kvm_msr_filter_range *r = nr ? &filter.ranges[nr - 1] : NULL;
        if (!r || idx[i] - r->base >= FILTER_SPAN) {
            if (nr == 16)
                return vmc_vm_fail(vm, -ENOSPC, "MSR policy: more than 16 clusters of MSRs");
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
    if (ioctl(vm->fd, KVM_X86_SET_MSR_FILTER, &filter) < 0)
        return vmc_vm_fail(vm, -errno, "KVM_X86_SET_MSR_FILTER: %s", strerror(errno));
    return 0;
}

static int set_rule(struct vmc_vm *vm, uint32_t index, bool deny, vmc_msr_fn fn, void *opaque)
{
    if (!vm->msr_exits)
        return vmc_vm_fail(vm, -EOPNOTSUPP, "this host's KVM has no MSR filter");
    struct vmc_msr_rule *r = (struct vmc_msr_rule *)vmc_msr_rule(vm, index);
    if (fn && r && !r->deny)
        return vmc_vm_fail(vm, -EBUSY, "MSR 0x%x already has a handler", index);
    bool builtin = false;
    for (size_t i = 0; i < vmc_nbuiltin_msrs; i++)
        builtin |= vmc_builtin_msrs[i] == index;
    if (fn && builtin)
        return vmc_vm_fail(vm, -EBUSY, "MSR 0x%x is the VMM's own", index);
    if (!r) {
        if (vm->nmsr_rules == VMC_MSR_RULES_MAX)
            return vmc_vm_fail(vm, -ENOSPC, "more than %u MSR rules", VMC_MSR_RULES_MAX);
        r = &vm->msr_rules[vm->nmsr_rules++];
    }
    const struct vmc_msr_rule old = *r;
    *r = (struct vmc_msr_rule){ index, deny, fn, opaque };
    int rc = vm->started ? vmc_msr_apply(vm) : 0;
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
    struct vmc_msr_rule *r = (struct vmc_msr_rule *)vmc_msr_rule(vm, index);
    if (!r || !r->deny)
        return 0; /* allowed already, or a handler's: handlers stay */
    *r = vm->msr_rules[--vm->nmsr_rules];
    return vm->started ? vmc_msr_apply(vm) : 0;
}

int vmc_msr_register(struct vmc_vm *vm, uint32_t index, vmc_msr_fn fn, void *opaque)
{
    if (!fn)
        return vmc_vm_fail(vm, -EINVAL, "MSR 0x%x: no handler", index);
    return set_rule(vm, index, false, fn, opaque);
}

/* ---- CPUID policy ----------------------------------------------------------------------------------- */

static bool leaf_matches(const struct kvm_cpuid_entry2 *e, uint32_t function, uint32_t index)
{
    return e->function == function && (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index);
}

static const struct kvm_cpuid2 *vm_cpuid(const struct vmc_vm *vm)
{
    return vm->cpuid ? vm->cpuid : vm->kvm->cpuid;
}

int vmc_vm_get_cpuid(const struct vmc_vm *vm, uint32_t function, uint32_t index, struct vmc_cpuid_leaf *out)
{
    const struct kvm_cpuid2 *c = vm_cpuid(vm);
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
    const struct kvm_cpuid2 *cur = vm_cpuid(vm);
    uint32_t slot = cur->nent;
    for (uint32_t i = 0; i < cur->nent; i++)
        if (leaf_matches(&cur->entries[i], leaf->function, leaf->index))
            slot = i;
    if (slot == cur->nent && cur->nent >= 1024)
        return vmc_vm_fail(vm, -ENOSPC, "too many CPUID leaves");
    uint32_t nent = cur->nent + (slot == cur->nent);
    size_t bytes = sizeof(*cur) + nent * sizeof(cur->entries[0]);
    struct kvm_cpuid2 *c = malloc(bytes);
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
