/* SPDX-License-Identifier: MIT */
/* Hypercalls: the doorbell, guest handles, the VM's table with its allow-list and CPL rules, counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "arch/x86_64/regs.h"
#include "vm.h"

/* ---- guest handles --------------------------------------------------------------------------------- */

int vmc_hc_copy_from(const struct vmc_hcall *hc, void *dst, uint64_t gaddr, uint64_t len)
{
    return vmc_mmu_read(&hc->vcpu->vm->mem, &hc->mmu, gaddr, hc->acc, dst, len);
}

int vmc_hc_copy_to(const struct vmc_hcall *hc, uint64_t gaddr, const void *src, uint64_t len)
{
    return vmc_mmu_write(&hc->vcpu->vm->mem, &hc->mmu, gaddr, hc->acc, src, len);
}

int vmc_hc_iov(const struct vmc_hcall *hc, uint64_t gaddr, uint64_t len, bool guest_writes, struct iovec *iov,
               int max)
{
    return vmc_mmu_iov(&hc->vcpu->vm->mem, &hc->mmu, gaddr, len, hc->acc | (guest_writes ? VMC_ACC_WRITE : 0),
                       iov, max);
}

void vmc_iov_copy(const struct iovec *iov, int n, uint64_t off, void *buf, uint64_t len, bool to_iov)
{
    uint8_t *b = buf;
    for (int i = 0; i < n && len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        uint64_t k = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
        uint8_t *p = (uint8_t *)iov[i].iov_base + off;
        memcpy(to_iov ? p : b, to_iov ? b : p, k);
        b += k;
        len -= k;
        off = 0;
    }
}

int vmc_handle_elem(uint64_t base, uint64_t idx, uint64_t size, uint64_t *out)
{
    uint64_t off;
    if (__builtin_mul_overflow(idx, size, &off) || __builtin_add_overflow(base, off, out))
        return -EFAULT;
    return 0;
}

int vmc_hc_copy_elems_from(const struct vmc_hcall *hc, void *dst, uint64_t base, uint64_t off, uint64_t n,
                           uint64_t size)
{
    uint64_t addr, bytes;
    if (vmc_handle_elem(base, off, size, &addr) || __builtin_mul_overflow(n, size, &bytes))
        return -EFAULT;
    return vmc_hc_copy_from(hc, dst, addr, bytes);
}

int vmc_hc_copy_elems_to(const struct vmc_hcall *hc, uint64_t base, uint64_t off, const void *src, uint64_t n,
                         uint64_t size)
{
    uint64_t addr, bytes;
    if (vmc_handle_elem(base, off, size, &addr) || __builtin_mul_overflow(n, size, &bytes))
        return -EFAULT;
    return vmc_hc_copy_to(hc, addr, src, bytes);
}

int vmc_vcpu_copy_from_guest(struct vmc_vcpu *vcpu, void *dst, uint64_t gaddr, size_t len)
{
    return vcpu->hc ? vmc_hc_copy_from(vcpu->hc, dst, gaddr, len) : -EINVAL;
}

int vmc_vcpu_copy_to_guest(struct vmc_vcpu *vcpu, uint64_t gaddr, const void *src, size_t len)
{
    return vcpu->hc ? vmc_hc_copy_to(vcpu->hc, gaddr, src, len) : -EINVAL;
}

/* ---- the VM's table -------------------------------------------------------------------------------- */

/* Reads of the doorbell port see all-ones; writes never come here (exit.c decodes them as VMCALL). The
 * claim puts the port in the TSS bitmap of user-mode guests, like a device's. */
static int doorbell_port(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len,
                         bool write)
{
    (void)vcpu, (void)opaque, (void)addr;
    if (!write)
        memset(data, 0xff, len);
    return 0;
}

int vmc_hc_init(struct vmc_vm *vm, const struct vmc_hc_table *table, uint32_t abi, bool allow_user, bool time)
{
    struct vmc_hc *h = &vm->hc;
    memset(h, 0, sizeof(*h));
    h->table = table;
    h->nr_max = table->user_end > table->n ? table->user_end : table->n;
    h->abi = abi;
    h->allow_user = allow_user;
    h->time = time;
    h->user = calloc(table->user_end - table->user_base + 1, sizeof(*h->user));
    h->allowed = malloc((h->nr_max + 63) / 64 * sizeof(uint64_t));
    for (uint32_t i = 0; i < vm->nvcpus && h->user; i++)
        if (!(vm->vcpus[i].hc_stats = calloc(h->nr_max, sizeof(struct vmc_hc_counter))))
            return -ENOMEM;
    if (!h->user || !h->allowed)
        return -ENOMEM;
    memset(h->allowed, 0xff, (h->nr_max + 63) / 64 * sizeof(uint64_t));
    return vmc_vm_register_io(vm, VMC_PORT_HYPERCALL, 1, doorbell_port, NULL, VMC_IO_F_USER);
}

void vmc_hc_free(struct vmc_vm *vm)
{
    for (uint32_t i = 0; vm->vcpus && i < vm->nvcpus; i++)
        free(vm->vcpus[i].hc_stats);
    free(vm->hc.user);
    free(vm->hc.allowed);
}

int vmc_hc_write_page(struct vmc_vm *vm, uint64_t gpa)
{
    uint8_t page[4096];
    vmc_x86_hypercall_page(page, VMC_PORT_HYPERCALL, vm->hc.table->stub_poison);
    return vmc_mem_write(&vm->mem, gpa, page, sizeof(page));
}

uint64_t vmc_vm_features(const struct vmc_vm *vm)
{
    return VMC_FEAT_HYPERCALL_PAGE | VMC_FEAT_MULTICALL | VMC_FEAT_MEMORY_OP |
           (vmc_vm_dev(vm, VMC_DEV_BLOCK) ? VMC_FEAT_BLOCK : 0) |
           (vm->msrs.exits ? VMC_FEAT_MSR_DISCOVERY : 0) | (vm->hc.allow_user ? VMC_FEAT_USER_CALLS : 0);
}

/* ---- dispatch -------------------------------------------------------------------------------------- */

/* A hypercall number clamped by index_nospec: the only kind the tables below take, so that a lookup
 * without the clamp does not compile. */
struct hc_nr {
    uint32_t v;
};

static inline struct hc_nr index_nospec(uint32_t idx, uint32_t size)
{
    return (struct hc_nr){ vmc_index_nospec(idx, size) };
}

static bool allowed(const struct vmc_hc *h, struct hc_nr nr)
{
    return (h->allowed[nr.v / 64] >> (nr.v % 64)) & 1;
}

static const struct vmc_user_hc *user_hc(const struct vmc_hc *h, struct hc_nr nr)
{
    const struct vmc_hc_table *t = h->table;
    if (nr.v < t->user_base || nr.v >= t->user_end || !h->user[nr.v - t->user_base].fn)
        return NULL;
    return &h->user[nr.v - t->user_base];
}

static const struct vmc_hc_entry *table_entry(const struct vmc_hc *h, struct hc_nr nr)
{
    return nr.v < h->table->n ? &h->table->e[nr.v] : NULL;
}

static struct vmc_hc_counter *counter(struct vmc_vcpu *vcpu, struct hc_nr nr)
{
    return &vcpu->hc_stats[nr.v];
}

bool vmc_hc_continue(struct vmc_hcall *hc)
{
    if (hc->depth > 0)
        return false; /* inside a multicall the entry, not the instruction, would have to run again */
    hc->act->restart = true;
    return true;
}

int64_t vmc_hc_dispatch(struct vmc_hcall *hc)
{
    struct vmc_vcpu *vcpu = hc->vcpu;
    const struct vmc_hc *h = &vcpu->vm->hc;
    if (hc->a.nr >= h->nr_max)
        return -VMC_ENOSYS;
    struct hc_nr nr = index_nospec(hc->a.nr, h->nr_max);
    vmc_hc_fn fn = NULL;
    unsigned flags = 0;
    const struct vmc_user_hc *u = user_hc(h, nr);
    const struct vmc_hc_entry *e = table_entry(h, nr);
    if (u) {
        flags = u->flags;
    } else if (e) {
        fn = hc->a.compat ? e->compat : e->native;
        flags = e->flags;
    }
    struct vmc_hc_counter *st = counter(vcpu, nr);
    if (!fn && !u) {
        STAT_ADD(st->count, 1);
        STAT_ADD(st->errors, 1);
        return -VMC_ENOSYS;
    }
    if (!allowed(h, nr) || (hc->a.cpl != 0 && !((flags & VMC_HC_USER) && h->allow_user))) {
        STAT_ADD(st->denied, 1);
        return -VMC_EPERM;
    }
    STAT_ADD(st->count, 1);
    uint64_t t0 = h->time ? vmc_now_ns() : 0;
    int64_t r = u ? u->fn(vcpu, u->opaque, &hc->a) : fn(hc);
    if (h->time)
        STAT_ADD(st->total_ns, vmc_now_ns() - t0);
    if (r < 0)
        STAT_ADD(st->errors, 1);
    return r;
}

void vmc_hc_doorbell(struct vmc_vcpu *vcpu, uint32_t count, struct vmc_action *act)
{
    struct kvm_regs *r = vmc_vcpu_regs(vcpu);
    const struct kvm_sregs *s = vmc_vcpu_sregs(vcpu);
    struct vmc_hcall hc = { .vcpu = vcpu, .act = act };
    vmc_x86_hc_args(r, s, vcpu->vm->hc.abi, &hc.a);
    vmc_mmu_from_sregs(s, &hc.mmu);
    hc.acc = hc.a.cpl == 3 ? VMC_ACC_USER : 0;
    int64_t ret = -VMC_EINVAL; /* rep outs to the doorbell: one exit must not become many calls */
    if (count == 1) {
        vcpu->hc = &hc;
        ret = vmc_hc_dispatch(&hc);
        vcpu->hc = NULL;
    }
    /* KVM loads the REGS set back on entry; RIP already points past the OUT (or KVM skips it). A
     * continuation leaves RAX (the call number) and puts the remaining work in the argument registers;
     * the run loop rewinds RIP to the OUT. */
    if (act->restart)
        vmc_x86_hc_set_args(r, vcpu->vm->hc.abi, &hc.a);
    else
        vmc_x86_hc_result(r, hc.a.compat, ret);
    vmc_vcpu_dirty(vcpu, KVM_SYNC_X86_REGS);
    if (!act->restart && vcpu->vm->hc.table->ret)
        vcpu->vm->hc.table->ret(vcpu, &hc, ret);
}

/* ---- registration, allow-list, names, counters ------------------------------------------------------ */

int vmc_vm_register_hypercall(struct vmc_vm *vm, uint32_t nr, const char *name, vmc_hypercall_fn fn,
                              void *opaque, unsigned flags)
{
    const struct vmc_hc_table *t = vm->hc.table;
    if (nr < t->user_base || nr >= t->user_end || !fn || (flags & ~VMC_HC_F_USER))
        return vmc_vm_fail(vm, -EINVAL, "hypercall %u: numbers %u..%u only, with a handler", nr, t->user_base,
                           t->user_end - 1);
    if (vmc_sched_running(vm))
        return vmc_vm_fail(vm, -EBUSY, "hypercalls cannot be registered while the VM runs");
    struct vmc_user_hc *u = &vm->hc.user[nr - t->user_base];
    if (u->fn)
        return vmc_vm_fail(vm, -EBUSY, "hypercall %u is already registered (%s)", nr, u->name);
    *u = (struct vmc_user_hc){ .fn = fn, .opaque = opaque, .flags = flags };
    snprintf(u->name, sizeof(u->name), "%s", name ? name : "user");
    return 0;
}

int vmc_hypercall_register(struct vmc_vm *vm, uint32_t nr, const char *name, vmc_hypercall_fn fn,
                           void *opaque, unsigned flags)
{
    return vmc_vm_register_hypercall(vm, nr, name, fn, opaque, flags);
}

int vmc_vm_allow_hypercalls(struct vmc_vm *vm, const uint32_t *nrs, size_t n)
{
    size_t words = (vm->hc.nr_max + 63) / 64;
    uint64_t bits[words];
    memset(bits, 0, sizeof(bits));
    for (size_t i = 0; i < n; i++) {
        if (nrs[i] >= vm->hc.nr_max || nrs[i] == vm->hc.table->stub_poison) /* the slot nobody can call */
            return vmc_vm_fail(vm, -EINVAL, "hypercall %u cannot be allowed", nrs[i]);
        bits[nrs[i] / 64] |= 1ull << (nrs[i] % 64);
    }
    memcpy(vm->hc.allowed, bits, sizeof(bits));
    return 0;
}

int vmc_hypercall_lookup_in(uint32_t personality, const char *name)
{
    const struct vmc_hc_table *t = personality == VMC_PERSONALITY_XEN     ? &vmc_hc_table_xen
                                   : personality == VMC_PERSONALITY_LINUX ? &vmc_hc_table_linux
                                                                          : &vmc_hc_table_vmcall;
    uint32_t end_nr = t->user_end > t->n ? t->user_end : t->n;
    for (uint32_t i = 0; i < t->n; i++)
        if (i != t->stub_poison && t->e[i].name && strcmp(t->e[i].name, name) == 0)
            return (int)i;
    char *end;
    unsigned long v = strtoul(name, &end, 0);
    if (*name && !*end && v != t->stub_poison && v < end_nr)
        return (int)v;
    return -ENOENT;
}

int vmc_hypercall_lookup(const char *name)
{
    return vmc_hypercall_lookup_in(VMC_PERSONALITY_VMCALL, name);
}

/* nr comes from the stats loop (below nr_max), not from a guest: no clamp needed. */
static const char *hc_name(const struct vmc_vm *vm, uint32_t nr)
{
    const struct vmc_user_hc *u = user_hc(&vm->hc, (struct hc_nr){ nr });
    const struct vmc_hc_entry *e = table_entry(&vm->hc, (struct hc_nr){ nr });
    return u ? u->name : e && e->name ? e->name : "unknown";
}

size_t vmc_vm_hypercall_stats(const struct vmc_vm *vm, struct vmc_hypercall_stat *out, size_t max)
{
    size_t n = 0;
    for (uint32_t nr = 0; nr < vm->hc.nr_max; nr++) {
        struct vmc_hypercall_stat s = { .nr = nr, .name = hc_name(vm, nr) };
        for (uint32_t i = 0; i < vm->nvcpus; i++) {
            const struct vmc_hc_counter *c = &vm->vcpus[i].hc_stats[nr];
            s.count += STAT_GET(c->count);
            s.errors += STAT_GET(c->errors);
            s.denied += STAT_GET(c->denied);
            s.total_ns += STAT_GET(c->total_ns);
        }
        if (!s.count && !s.denied)
            continue;
        if (n < max)
            out[n] = s;
        n++;
    }
    return n;
}
