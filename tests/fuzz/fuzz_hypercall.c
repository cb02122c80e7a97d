/* SPDX-License-Identifier: MIT */
/* libFuzzer target: hypercall dispatch and guest handles on a fake VM with a disk and hot-add room, in
 * vmcall's personality or Xen's; registers, mode, privilege, page tables and argument structs all come
 * from the input. The oracle is the ABI's promises (abi.h, docs/xen.md), not today's output: see check(). */
#include <unistd.h>

#include "../../src/linux/linux.h"
#include "../../src/xen/xen.h"
#include "../unit/fakevm.h"

#define MEM (2u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vmc_vm *vm, *vms[3]; /* vmcall's personality, Xen's, Linux's */
static const uint8_t *input;       /* guest RAM as the call found it: zeroes, and input at 0x1000 */
static size_t input_len;

/* The VMs: 2 MiB of RAM, 8 MiB reachable with memory_op populate, a 64 KiB scratch disk. */
static struct vmc_vm *setup(uint32_t personality)
{
    char disk[] = "/tmp/vmcall-fuzz-disk-XXXXXX";
    int fd = mkstemp(disk);
    if (fd < 0 || ftruncate(fd, 65536) != 0)
        abort();
    close(fd);
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    cfg.mem_size = MEM;
    cfg.mem_max = 8u << 20;
    cfg.console_out_fd = -1;
    cfg.disk_path = disk;
    cfg.personality = personality;
    struct vmc_vm *v = fake_vm_cfg(&cfg);
    unlink(disk); /* the VM holds it open */
    return v;
}

static bool zero(const uint8_t *p, size_t n)
{
    static const uint8_t zeroes[65536];
    for (size_t k; n; p += k, n -= k) {
        k = n < sizeof(zeroes) ? n : sizeof(zeroes);
        if (memcmp(p, zeroes, k) != 0)
            return false;
    }
    return true;
}

/* Guest RAM is as the input left it (two scans, no copy: this runs for most inputs). */
static bool ram_unchanged(void)
{
    const uint8_t *m = vm->mem.host;
    return zero(m, 0x1000) && memcmp(m + 0x1000, input, input_len) == 0 &&
           zero(m + 0x1000 + input_len, MEM - 0x1000 - input_len);
}

/* Calls counted on vCPU 0, dispatched or refused (the counters --stats prints). */
static uint64_t calls_seen(void)
{
    uint64_t t = 0;
    for (uint32_t i = 0; i < vm->hc.nr_max; i++)
        t += vm->vcpus[0].hc_stats[i].count + vm->vcpus[0].hc_stats[i].denied;
    return t;
}

static bool documented(int64_t e)
{
    static const int codes[] = { VMC_EPERM,  VMC_ENOENT, VMC_EINTR,  VMC_EIO,    VMC_E2BIG,
                                 VMC_EAGAIN, VMC_ENOMEM, VMC_EFAULT, VMC_EBUSY,  VMC_EEXIST,
                                 VMC_EINVAL, VMC_ENOSPC, VMC_EROFS,  VMC_ENOSYS, VMC_EOPNOTSUPP };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (e == -codes[i])
            return true;
    return false;
}

/* Xen's error values a Xen call may return (docs/xen.md). */
static bool documented_xen(int64_t e)
{
    static const int codes[] = { XEN_EPERM,      XEN_ENOENT, XEN_ESRCH,  XEN_EFAULT, XEN_EINVAL,
                                 XEN_ENOSYS,     XEN_ENOSPC, XEN_EACCES, XEN_ETIME,  XEN_EAGAIN,
                                 XEN_EOPNOTSUPP, XEN_ENOMEM, XEN_EEXIST, XEN_E2BIG };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (e == -codes[i])
            return true;
    return false;
}

struct call {
    uint32_t nr;
    bool compat, user, allow_user, sched_denied, xen, lx;
};

static bool xen_call(uint32_t nr)
{
    return nr < vmc_hc_table_xen.n && vmc_hc_table_xen.e[nr].native;
}

/* What abi.h promises whatever the arguments: the error classes decided before any argument is read. */
static int64_t expected_refusal(const struct call *c)
{
    if (c->lx) /* Linux: every call is the program's; numbers without a handler -ENOSYS */
        return c->nr >= vmc_hc_table_linux.n || !vmc_hc_table_linux.e[c->nr].native ? -ENOSYS : 0;
    if (c->xen) /* Xen: unknown numbers -ENOSYS, any call from CPL > 0 -EPERM */
        return !xen_call(c->nr)                                                 ? -XEN_ENOSYS
               : c->user || (c->nr == __HYPERVISOR_sched_op && c->sched_denied) ? -XEN_EPERM
                                                                                : 0;
    if (c->nr >= VMC_HYPERCALL_NR_MAX || c->nr == 0 || c->nr > VMC_HC_SEND_IPI)
        return -VMC_ENOSYS;
    if (c->nr == VMC_HC_SCHED_OP && c->sched_denied)
        return -VMC_EPERM;
    if (c->user && (!c->allow_user || c->nr == VMC_HC_MEMORY_OP))
        return -VMC_EPERM;
    return 0;
}

/*
 * The oracle: the result is success or a documented code; calls refused up front get exactly their code;
 * every register but RAX (and RIP) is preserved; a call that failed left guest RAM as it was (memory_op
 * exchange excepted: Xen's ABI writes its progress back even then); and each dispatched call is counted
 * once. Calls that stop the VM or take the vCPU down never return, so their registers are not judged.
 */
static void check(const struct call *c, int64_t ret, const struct kvm_regs *in, const struct kvm_regs *out,
                  uint64_t counted)
{
    if (ret < 0 && !(c->lx ? ret >= -133 : c->xen ? documented_xen(ret) : documented(ret)))
        __builtin_trap();
    int64_t refusal = expected_refusal(c);
    if (refusal && ret != refusal)
        __builtin_trap();
    struct kvm_regs a = *in, b = *out;
    a.rax = b.rax = 0;
    if (c->lx) /* the return is sysret's: RIP = RCX, RFLAGS = R11 */
        a.rip = b.rip = a.rflags = b.rflags = 0;
    /* A call that stops the VM or takes the vCPU down does not return: its registers are not kept. */
    /* A continuation (Xen's long memory_op) keeps RAX, the number, and carries its progress in the
     * argument registers instead. */
    if (fake_act.restart && out->rax != in->rax)
        __builtin_trap();
    if (!vmc_act_final(&fake_act) && !fake_act.restart && memcmp(&a, &b, sizeof(a)) != 0)
        __builtin_trap();
    /* Xen's exceptions: memory_op exchange writes its progress, set_version the version in force. */
    bool writes_on_error = c->xen ? c->nr == __HYPERVISOR_memory_op || c->nr == __HYPERVISOR_grant_table_op
                                  : c->nr == VMC_HC_MEMORY_OP;
    if (ret < 0 && !writes_on_error && !ram_unchanged())
        __builtin_trap();
    uint32_t multicall = c->xen ? __HYPERVISOR_multicall : VMC_HC_MULTICALL;
    if (c->nr < VMC_HYPERCALL_NR_MAX && c->nr != multicall && counted != 1)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vms[0]) {
        vms[0] = setup(VMC_PERSONALITY_VMCALL);
        vms[1] = setup(VMC_PERSONALITY_XEN);
        vms[2] = setup(VMC_PERSONALITY_LINUX);
        /* The program's standard error would be the fuzzer's: it goes to the (discarded) console. */
        vms[2]->lx->fd[2].kind = LX_FD_STDOUT;
    }
    struct {
        uint64_t rax, rbx, rcx, rdx, rsi, rdi, r8, r10;
        uint8_t mode, cpl, abi, flags;
    } in;
    if (size < sizeof(in))
        return 0;
    memcpy(&in, data, sizeof(in));
    vm = vms[(in.flags >> 2) % 3];
    data += sizeof(in);
    size -= sizeof(in);
    memset(vm->mem.host, 0, MEM);
    input = data;
    input_len = size < MEM - 0x1000 ? size : MEM - 0x1000;
    memcpy(vm->mem.host + 0x1000, data, input_len);
    fake_mode(vm, (in.mode & 1) ? 32 : 64, (in.cpl & 1) ? 3 : 0, 0x1000);
    if (in.mode & 2)
        vm->vcpus[0].run->s.regs.sregs.cr0 &= ~(1ull << 31); /* paging off */
    vm->hc.abi = vm->xen ? VMC_HCABI_XEN : in.abi & 1;
    vm->hc.allow_user = in.flags & 2;
    memset(vm->hc.allowed, 0xff, (vm->hc.nr_max + 63) / 64 * 8);
    if (in.flags & 1)
        vm->hc.allowed[0] &= ~(1ull << (vm->xen ? __HYPERVISOR_sched_op : VMC_HC_SCHED_OP));
    struct kvm_regs *r = &vm->vcpus[0].run->s.regs.regs;
    *r = (struct kvm_regs){ .rax = in.rax,
                            .rbx = in.rbx,
                            .rcx = in.rcx,
                            .rdx = in.rdx,
                            .rsi = in.rsi,
                            .rdi = in.rdi,
                            .r8 = in.r8,
                            .r10 = in.r10,
                            .rip = 0x100002 };
    struct kvm_regs regs_in = *r;
    struct call c = {
        .compat = in.mode & 1,
        .user = in.cpl & 1,
        .allow_user = in.flags & 2,
        .sched_denied = in.flags & 1,
        .xen = vm->xen != NULL,
        .lx = vm->lx != NULL,
    };
    c.nr = c.compat ? (uint32_t)in.rax : in.rax > UINT32_MAX ? UINT32_MAX : (uint32_t)in.rax;
    uint64_t seen = calls_seen();
    uint64_t ret = fake_ring(vm, 1);
    int64_t sret = c.compat ? (int32_t)ret : (int64_t)ret;
    check(&c, sret, &regs_in, r, calls_seen() - seen);
    return 0;
}
