/* SPDX-License-Identifier: MIT */
/* Hypercalls: the doorbell, register conventions, guest handles, the one dispatch table, the core calls. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>

#include "internal.h"

#define EFER_LMA (1ull << 10)
#define CR0_PG (1ull << 31)

/* ---- guest handles --------------------------------------------------------------------------------- */

/* Handles are guest-physical with paging off, else translated with the caller's privilege. */
static int hc_copy(const struct vmc_hcall *hc, uint64_t gaddr, void *buf, uint64_t len, bool to_guest)
{
    const struct vmc_mem *mem = &hc->vcpu->vm->mem;
    if (!hc->paging)
        return to_guest ? vmc_mem_write(mem, gaddr, buf, len) : vmc_mem_read(mem, gaddr, buf, len);
    if (!hc->long64)
        return -EFAULT; /* 32-bit paging is not walked: 32-bit callers run with paging off */
    unsigned acc = hc->a.cpl == 3 ? VMC_ACC_USER : 0;
    return to_guest ? vmc_gva_write(mem, hc->cr3, gaddr, acc, buf, len)
                    : vmc_gva_read(mem, hc->cr3, gaddr, acc, buf, len);
}

int vmc_hc_copy_from(const struct vmc_hcall *hc, void *dst, uint64_t gaddr, uint64_t len)
{
    return hc_copy(hc, gaddr, dst, len, false);
}

int vmc_hc_copy_to(const struct vmc_hcall *hc, uint64_t gaddr, const void *src, uint64_t len)
{
    return hc_copy(hc, gaddr, (void *)src, len, true);
}

int vmc_hc_iov(const struct vmc_hcall *hc, uint64_t gaddr, uint64_t len, bool guest_writes, struct iovec *iov,
               int max)
{
    const struct vmc_mem *mem = &hc->vcpu->vm->mem;
    unsigned acc = (hc->a.cpl == 3 ? VMC_ACC_USER : 0) | (guest_writes ? VMC_ACC_WRITE : 0);
    int n = 0;
    if (len && gaddr + (len - 1) < gaddr)
        return -EFAULT;
    if (hc->paging && !hc->long64)
        return -EFAULT;
    while (len) {
        uint64_t chunk = 4096 - (gaddr & 4095), gpa = gaddr;
        if (chunk > len)
            chunk = len;
        if (hc->paging && vmc_gva_to_gpa(mem, hc->cr3, gaddr, acc, &gpa) != 0)
            return -EFAULT;
        uint8_t *host = vmc_mem_ptr(mem, gpa, chunk);
        if (!host)
            return -EFAULT;
        if (n > 0 && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == host) {
            iov[n - 1].iov_len += chunk; /* guest-contiguous and host-contiguous: one segment */
        } else {
            if (n == max)
                return -EFAULT;
            iov[n++] = (struct iovec){ host, chunk };
        }
        gaddr += chunk;
        len -= chunk;
    }
    return n;
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

/* ---- the core calls -------------------------------------------------------------------------------- */

uint64_t vmc_vm_features(const struct vmc_vm *vm)
{
    return VMC_FEAT_HYPERCALL_PAGE | VMC_FEAT_MULTICALL | VMC_FEAT_MEMORY_OP |
           (vm->disk.fd >= 0 ? VMC_FEAT_BLOCK : 0) | (vm->msr_discovery ? VMC_FEAT_MSR_DISCOVERY : 0) |
           (vm->hc_allow_user ? VMC_FEAT_USER_CALLS : 0);
}

static int64_t do_version(struct vmc_hcall *hc)
{
    if (hc->a.args[0]) {
        VMC_HANDLE(struct vmc_version) out;
        vmc_handle(out, hc->a.args[0]);
        struct vmc_version v = { .abi_version = VMC_ABI_VERSION, .features = vmc_vm_features(hc->vcpu->vm) };
        snprintf(v.vmm, sizeof(v.vmm), "vmcall %s", VMC_VERSION);
        if (copy_to_guest(hc, out, &v, 1))
            return -VMC_EFAULT;
    }
    return VMC_ABI_VERSION;
}

static int64_t do_console_write(struct vmc_hcall *hc)
{
    uint64_t buf = hc->a.args[0], len = hc->a.args[1];
    if (len > VMC_CONSOLE_IO_MAX)
        return -VMC_EINVAL;
    struct vmc_console *con = &hc->vcpu->vm->console;
    uint8_t chunk[4096];
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
        uint64_t addr;
        if (vmc_handle_elem(buf, done, 1, &addr) || vmc_hc_copy_from(hc, chunk, addr, n))
            return done ? (int64_t)done : -VMC_EFAULT;
        vmc_console_write(con, chunk, n);
        done += n;
    }
    return (int64_t)len;
}

static int64_t do_console_read(struct vmc_hcall *hc)
{
    uint64_t buf = hc->a.args[0], len = hc->a.args[1];
    struct vmc_console *con = &hc->vcpu->vm->console;
    uint8_t tmp[4096];
    if (len > sizeof(tmp))
        len = sizeof(tmp);
    if (len == 0)
        return 0;
    size_t n = vmc_console_read(con, tmp, len);
    if (n == 0)
        return (con->in_fd < 0 || con->in_eof) ? 0 : -VMC_EAGAIN;
    if (vmc_hc_copy_to(hc, buf, tmp, n))
        return -VMC_EFAULT;
    return (int64_t)n;
}

/* Wait for an interrupt (timer, IPI, injection) or the timeout; a cancel or stop also ends the wait. */
static int64_t sched_block(struct vmc_hcall *hc, uint64_t timeout_ns)
{
    uint64_t until = 0;
    if (timeout_ns && __builtin_add_overflow(vmc_now_ns(), timeout_ns, &until))
        until = 0;
    vmc_vcpu_block(hc->vcpu, until, false);
    return 0;
}

static int64_t do_sched_op(struct vmc_hcall *hc)
{
    switch (hc->a.args[0]) {
    case VMC_SCHEDOP_YIELD:
        sched_yield();
        return 0;
    case VMC_SCHEDOP_BLOCK:
        return sched_block(hc, hc->a.args[1]);
    case VMC_SCHEDOP_SHUTDOWN: {
        VMC_HANDLE(struct vmc_sched_shutdown) in;
        vmc_handle(in, hc->a.args[1]);
        struct vmc_sched_shutdown sd;
        if (copy_from_guest(hc, &sd, in, 1))
            return -VMC_EFAULT;
        struct vmc_stop_req *req = &hc->vcpu->req;
        if (sd.reason == VMC_SHUTDOWN_POWEROFF) {
            vmc_vcpu_exit(hc->vcpu, sd.status);
        } else if (sd.reason == VMC_SHUTDOWN_CRASH) {
            req->stop = VMC_STOP_CRASH;
            req->crash = VMC_CRASH_GUEST;
            req->status = sd.status;
        } else {
            return -VMC_EINVAL;
        }
        return 0;
    }
    default:
        return -VMC_EINVAL;
    }
}

static int64_t do_time(struct vmc_hcall *hc)
{
    struct timespec mono, wall;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    struct vmc_time t = {
        .monotonic_ns = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec,
        .wall_ns = (uint64_t)wall.tv_sec * 1000000000ull + (uint64_t)wall.tv_nsec,
    };
    VMC_HANDLE(struct vmc_time) out;
    vmc_handle(out, hc->a.args[0]);
    return copy_to_guest(hc, out, &t, 1) ? -VMC_EFAULT : 0;
}

static int64_t do_random(struct vmc_hcall *hc)
{
    uint64_t len = hc->a.args[1];
    uint8_t tmp[VMC_RANDOM_MAX];
    if (len > sizeof(tmp))
        return -VMC_EINVAL;
    for (size_t got = 0; got < len;) {
        ssize_t n = getrandom(tmp + got, len - got, 0);
        if (n < 0 && errno != EINTR)
            return -VMC_EIO;
        if (n > 0)
            got += (size_t)n;
    }
    return vmc_hc_copy_to(hc, hc->a.args[0], tmp, len) ? -VMC_EFAULT : (int64_t)len;
}

/*
 * Multicall: each entry is copied once into host memory, dispatched through the same table (so CPL
 * and allow-list checks apply per entry), and only its result is written back.
 */
static int64_t multicall(struct vmc_hcall *hc, bool compat)
{
    uint64_t list = hc->a.args[0], nr = hc->a.args[1];
    if (hc->depth > 0)
        return -VMC_EINVAL; /* no nesting (Xen refuses it the same way) */
    if (nr > VMC_MULTICALL_MAX)
        return -VMC_E2BIG;
    const uint64_t esize =
        compat ? sizeof(struct vmc_multicall_entry_compat) : sizeof(struct vmc_multicall_entry);
    /* The whole list is copied into host memory in one checked copy (one page walk per page, not per
     * entry); entries are then read only from this copy, and only results go back to the guest. */
    union {
        struct vmc_multicall_entry n[VMC_MULTICALL_MAX];
        struct vmc_multicall_entry_compat c[VMC_MULTICALL_MAX];
    } ents;
    VMC_HANDLE(struct vmc_multicall_entry) hn;
    VMC_HANDLE(struct vmc_multicall_entry_compat) hcmp;
    vmc_handle(hn, list);
    vmc_handle(hcmp, list);
    if (compat ? copy_from_guest(hc, ents.c, hcmp, nr) : copy_from_guest(hc, ents.n, hn, nr))
        return -VMC_EFAULT;
    for (uint64_t i = 0; i < nr; i++) {
        struct vmc_hcall sub = *hc;
        sub.depth = hc->depth + 1;
        uint64_t addr = list + i * esize; /* cannot wrap: the whole list was copied */
        int64_t result;
        if (compat) {
            const struct vmc_multicall_entry_compat *e = &ents.c[i];
            sub.a.nr = e->op;
            for (int k = 0; k < 5; k++)
                sub.a.args[k] = e->args[k];
        } else {
            const struct vmc_multicall_entry *e = &ents.n[i];
            sub.a.nr = e->op >= VMC_HYPERCALL_NR_MAX ? UINT32_MAX : (uint32_t)e->op;
            memcpy(sub.a.args, e->args, sizeof(sub.a.args));
        }
        hc->vcpu->hc = &sub;
        result = vmc_hc_dispatch(&sub);
        hc->vcpu->hc = hc;
        if (compat) {
            int32_t r32 = (int32_t)result;
            if (vmc_hc_copy_to(hc, addr + offsetof(struct vmc_multicall_entry_compat, result), &r32, 4))
                return -VMC_EFAULT;
        } else if (vmc_hc_copy_to(hc, addr + offsetof(struct vmc_multicall_entry, result), &result, 8)) {
            return -VMC_EFAULT;
        }
        if (hc->vcpu->req.stop != VMC_STOP_NONE)
            break; /* an entry shut the VM down: the rest never runs */
    }
    return 0;
}

static int64_t do_multicall(struct vmc_hcall *hc)
{
    return multicall(hc, false);
}

static int64_t compat_multicall(struct vmc_hcall *hc)
{
    return multicall(hc, true);
}

/* ---- the dispatch table ---------------------------------------------------------------------------- */

#define HC_USER VMC_HC_F_USER

struct hc_entry {
    const char *name;
    vmc_hc_fn native; /* 64-bit callers */
    vmc_hc_fn compat; /* 32-bit callers: 32-bit struct layouts where they differ */
    unsigned flags;
};

/* The one table of standard calls. memory_op stays kernel-only: it changes the guest's memory map. */
static const struct hc_entry hc_table[VMC_HC_CORE_END] = {
    [VMC_HC_VERSION] = { "version", do_version, do_version, HC_USER },
    [VMC_HC_CONSOLE_WRITE] = { "console_write", do_console_write, do_console_write, HC_USER },
    [VMC_HC_CONSOLE_READ] = { "console_read", do_console_read, do_console_read, HC_USER },
    [VMC_HC_SCHED_OP] = { "sched_op", do_sched_op, do_sched_op, HC_USER },
    [VMC_HC_TIME] = { "time", do_time, do_time, HC_USER },
    [VMC_HC_RANDOM] = { "random", do_random, do_random, HC_USER },
    [VMC_HC_MEMORY_OP] = { "memory_op", vmc_hc_memory_op, vmc_hc_memory_op_compat, 0 },
    [VMC_HC_MULTICALL] = { "multicall", do_multicall, compat_multicall, HC_USER },
    [VMC_HC_BLOCK_OP] = { "block_op", vmc_hc_block_op, vmc_hc_block_op, HC_USER },
    [VMC_HC_VCPU_OP] = { "vcpu_op", vmc_hc_vcpu_op, vmc_hc_vcpu_op, HC_USER },
    [VMC_HC_SET_TIMER] = { "set_timer", vmc_hc_set_timer, vmc_hc_set_timer, HC_USER },
    [VMC_HC_SEND_IPI] = { "send_ipi", vmc_hc_send_ipi, vmc_hc_send_ipi, HC_USER },
};

/* Clamp idx to [0, size) without a branch the CPU could mispredict (Linux array_index_mask_nospec). */
static inline uint32_t index_nospec(uint32_t idx, uint32_t size)
{
    uint64_t mask = (uint64_t)(~(int64_t)(idx | (size - 1ull - idx)) >> 63);
    __asm__("" : "+r"(mask)); /* keep the compiler from turning this back into a branch */
    return idx & (uint32_t)mask;
}

static bool allowed(const struct vmc_vm *vm, uint32_t nr)
{
    return (vm->hc_allowed[nr / 64] >> (nr % 64)) & 1;
}

int64_t vmc_hc_dispatch(struct vmc_hcall *hc)
{
    struct vmc_vm *vm = hc->vcpu->vm;
    if (hc->a.nr >= VMC_HYPERCALL_NR_MAX)
        return -VMC_ENOSYS;
    uint32_t nr = index_nospec(hc->a.nr, VMC_HYPERCALL_NR_MAX);
    vmc_hc_fn fn = NULL;
    const struct vmc_user_hc *u = NULL;
    unsigned flags = 0;
    if (nr < VMC_HC_CORE_END) {
        const struct hc_entry *e = &hc_table[nr];
        fn = hc->a.compat ? e->compat : e->native;
        flags = e->flags;
    } else if (nr >= VMC_HC_USER_BASE && vm->user_hc[nr - VMC_HC_USER_BASE].fn) {
        u = &vm->user_hc[nr - VMC_HC_USER_BASE];
        flags = u->flags;
    }
    /* Counters are shared by the vCPU threads: relaxed atomic adds, no lock. */
    struct vmc_hc_counter *st = &vm->hc_stats[nr];
    if (!fn && !u) {
        STAT_ADD(st->count, 1);
        STAT_ADD(st->errors, 1);
        return -VMC_ENOSYS;
    }
    if (!allowed(vm, nr) || (hc->a.cpl != 0 && !((flags & HC_USER) && vm->hc_allow_user))) {
        STAT_ADD(st->denied, 1);
        return -VMC_EPERM;
    }
    STAT_ADD(st->count, 1);
    uint64_t t0 = vm->cfg.stats ? vmc_now_ns() : 0;
    int64_t r = u ? u->fn(hc->vcpu, u->opaque, &hc->a) : fn(hc);
    if (vm->cfg.stats)
        STAT_ADD(st->total_ns, vmc_now_ns() - t0);
    if (r < 0)
        STAT_ADD(st->errors, 1);
    return r;
}

/* The doorbell: `out %al, $VMC_PORT_HYPERCALL` from a hypercall-page stub. */
static int doorbell_io(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len,
                       bool write)
{
    (void)opaque, (void)addr;
    if (!write) {
        memset(data, 0xff, len);
        return 0;
    }
    struct kvm_regs *r = &vcpu->run->s.regs.regs;
    const struct kvm_sregs *s = &vcpu->run->s.regs.sregs;
    struct vmc_vm *vm = vcpu->vm;
    struct vmc_hcall hc = { .vcpu = vcpu };
    /* 64-bit caller: EFER.LMA and CS.L (KVM's is_64_bit_hypercall). Anything else is a compat caller. */
    bool long64 = (s->efer & EFER_LMA) && s->cs.l;
    hc.a.compat = !long64;
    hc.a.cpl = (uint8_t)(s->cs.selector & 3);
    hc.paging = (s->cr0 & CR0_PG) != 0;
    hc.long64 = (s->efer & EFER_LMA) != 0;
    hc.cr3 = s->cr3;
    int64_t ret;
    if (vcpu->exit.count != 1) {
        ret = -VMC_EINVAL; /* rep outs to the doorbell: one exit must not become many calls */
    } else {
        uint64_t nr = long64 ? r->rax : (uint32_t)r->rax;
        hc.a.nr = nr >= VMC_HYPERCALL_NR_MAX ? UINT32_MAX : (uint32_t)nr;
        if (!long64) {
            const uint64_t a32[5] = { (uint32_t)r->rbx, (uint32_t)r->rcx, (uint32_t)r->rdx, (uint32_t)r->rsi,
                                      (uint32_t)r->rdi };
            memcpy(hc.a.args, a32, sizeof(a32));
        } else if (vm->cfg.hypercall_abi == VMC_HCABI_XEN) {
            const uint64_t ax[5] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8 };
            memcpy(hc.a.args, ax, sizeof(ax));
        } else {
            const uint64_t ak[5] = { r->rbx, r->rcx, r->rdx, r->rsi, r->rdi };
            memcpy(hc.a.args, ak, sizeof(ak));
        }
        vcpu->hc = &hc;
        ret = vmc_hc_dispatch(&hc);
        vcpu->hc = NULL;
    }
    /* KVM loads the whole REGS set back on entry; RIP already points past the OUT (or KVM skips it). */
    r->rax = long64 ? (uint64_t)ret : (uint32_t)ret;
    vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    return 0;
}

int vmc_hypercall_write_page(struct vmc_vm *vm, uint64_t gpa)
{
    uint8_t page[4096];
    memset(page, 0xcc, sizeof(page));
    for (uint32_t n = 1; n < VMC_HYPERCALL_NR_MAX; n++) {
        uint8_t *p = page + n * VMC_HYPERCALL_STUB_SIZE;
        p[0] = 0xb8; /* mov $n, %eax */
        memcpy(p + 1, &n, 4);
        p[5] = 0xe6; /* out %al, $port */
        p[6] = VMC_PORT_HYPERCALL;
        p[7] = 0xc3; /* ret */
    }
    page[0] = 0x0f; /* slot 0 is reserved: ud2 */
    page[1] = 0x0b;
    return vmc_mem_write(&vm->mem, gpa, page, sizeof(page));
}

int vmc_hypercall_register(struct vmc_vm *vm, uint32_t nr, const char *name, vmc_hypercall_fn fn,
                           void *opaque, unsigned flags)
{
    if (nr < VMC_HC_USER_BASE || nr >= VMC_HYPERCALL_NR_MAX || !fn || (flags & ~VMC_HC_F_USER))
        return vmc_vm_fail(vm, -EINVAL, "hypercall %u: numbers %u..%u only, with a handler", nr,
                           VMC_HC_USER_BASE, VMC_HYPERCALL_NR_MAX - 1);
    struct vmc_user_hc *u = &vm->user_hc[nr - VMC_HC_USER_BASE];
    if (u->fn)
        return vmc_vm_fail(vm, -EBUSY, "hypercall %u is already registered (%s)", nr, u->name);
    *u = (struct vmc_user_hc){ .fn = fn, .opaque = opaque, .flags = flags };
    snprintf(u->name, sizeof(u->name), "%s", name ? name : "user");
    return 0;
}

int vmc_vm_allow_hypercalls(struct vmc_vm *vm, const uint32_t *nrs, size_t n)
{
    uint64_t bits[ARRAY_SIZE(vm->hc_allowed)] = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (nrs[i] >= VMC_HYPERCALL_NR_MAX || nrs[i] == 0)
            return vmc_vm_fail(vm, -EINVAL, "hypercall %u cannot be allowed", nrs[i]);
        bits[nrs[i] / 64] |= 1ull << (nrs[i] % 64);
    }
    memcpy(vm->hc_allowed, bits, sizeof(bits));
    return 0;
}

int vmc_hypercall_lookup(const char *name)
{
    for (uint32_t i = 1; i < VMC_HC_CORE_END; i++)
        if (hc_table[i].name && strcmp(hc_table[i].name, name) == 0)
            return (int)i;
    char *end;
    unsigned long v = strtoul(name, &end, 0);
    if (*name && !*end && v > 0 && v < VMC_HYPERCALL_NR_MAX)
        return (int)v;
    return -ENOENT;
}

static const char *hc_name(const struct vmc_vm *vm, uint32_t nr)
{
    if (nr < VMC_HC_CORE_END && hc_table[nr].name)
        return hc_table[nr].name;
    if (nr >= VMC_HC_USER_BASE && vm->user_hc[nr - VMC_HC_USER_BASE].fn)
        return vm->user_hc[nr - VMC_HC_USER_BASE].name;
    return "unknown";
}

size_t vmc_vm_hypercall_stats(const struct vmc_vm *vm, struct vmc_hypercall_stat *out, size_t max)
{
    size_t n = 0;
    for (uint32_t nr = 0; nr < VMC_HYPERCALL_NR_MAX; nr++) {
        const struct vmc_hc_counter *c = &vm->hc_stats[nr];
        if (!c->count && !c->denied)
            continue;
        if (n < max)
            out[n] = (struct vmc_hypercall_stat){ nr,        hc_name(vm, nr), c->count,
                                                  c->errors, c->denied,       c->total_ns };
        n++;
    }
    return n;
}

static int hypercall_create(struct vmc_vm *vm, void **state)
{
    *state = NULL;
    return vmc_io_register(vm, VMC_PORT_HYPERCALL, 1, doorbell_io, NULL);
}

const struct vmc_device_ops vmc_hypercall_ops = {
    .name = "hypercall",
    .create = hypercall_create,
};
