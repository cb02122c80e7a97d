/* SPDX-License-Identifier: MIT */
/* Unit tests: the doorbell and dispatch on a fake VM: conventions, 32-bit truncation, CPL, allow-list. */
#include "../tap.h"
#include "fakevm.h"

static struct vmc_hypercall_args seen;

static int64_t record(struct vmc_vcpu *vcpu, void *opaque, const struct vmc_hypercall_args *a)
{
    (void)vcpu, (void)opaque;
    seen = *a;
    return (int64_t)0x100000005ll;
}

static int64_t fail38(struct vmc_vcpu *vcpu, void *opaque, const struct vmc_hypercall_args *a)
{
    (void)vcpu, (void)opaque, (void)a;
    return -VMC_ENOSYS;
}

int main(void)
{
    ok(vmc_index_nospec(0, 128) == 0 && vmc_index_nospec(127, 128) == 127 &&
           vmc_index_nospec(128, 128) == 0 && vmc_index_nospec(UINT32_MAX, 128) == 0 &&
           vmc_index_nospec(0x80000000u, 128) == 0 && vmc_index_nospec(5, 1ull << 32) == 5,
       "the Spectre clamp keeps indices below the size and turns every other into 0");
    struct vmc_vm *vm = fake_vm(4 << 20, VMC_HCABI_KVM);
    struct kvm_regs *r = &vm->vcpus[0].run->s.regs.regs;
    vmc_vm_register_hypercall(vm, 64, "record", record, NULL, VMC_HC_F_USER);
    vmc_vm_register_hypercall(vm, 65, "fail", fail38, NULL, 0);

    fake_mode(vm, 64, 0, 0);
    vm->vcpus[0].run->s.regs.sregs.cr0 = 0x33; /* paging off: handles are guest-physical */
    *r = (struct kvm_regs){ .rax = VMC_HC_VERSION,
                            .rbx = 0,
                            .rcx = 0x1111,
                            .rdx = 0x2222,
                            .rsi = 0x3333,
                            .rdi = 0x4444,
                            .r8 = 0x8888,
                            .r10 = 0xaaaa,
                            .rip = 0x100002 };
    is_u64(fake_ring(vm, 1), VMC_ABI_VERSION, "64-bit caller: version");
    ok(vm->vcpus[0].run->kvm_dirty_regs & KVM_SYNC_X86_REGS, "RAX goes back through sync regs, no ioctl");
    ok(r->rcx == 0x1111 && r->rdx == 0x2222 && r->rsi == 0x3333 && r->rdi == 0x4444 && r->r8 == 0x8888 &&
           r->rip == 0x100002,
       "other registers and RIP untouched");

    r->rax = 64;
    r->rbx = 0xaaaaaaaa00000005ull;
    r->rcx = 6;
    r->rdx = 7;
    r->rsi = 8;
    r->rdi = 9;
    is_u64(fake_ring(vm, 1), 0x100000005ull, "64-bit caller: full 64-bit result");
    ok(seen.args[0] == 0xaaaaaaaa00000005ull && seen.args[1] == 6 && seen.args[4] == 9 && !seen.compat,
       "KVM convention: RBX, RCX, RDX, RSI, RDI, not truncated");
    r->rax = (1ull << 32) | 64;
    is_u64(fake_ring(vm, 1), (uint64_t)-VMC_ENOSYS, "64-bit caller: number with upper bits set is unknown");

    vm->hc.abi = VMC_HCABI_XEN;
    *r = (struct kvm_regs){ .rax = 64, .rdi = 1, .rsi = 2, .rdx = 3, .r10 = 4, .r8 = 5, .rbx = 99 };
    fake_ring(vm, 1);
    ok(seen.args[0] == 1 && seen.args[1] == 2 && seen.args[2] == 3 && seen.args[3] == 4 && seen.args[4] == 5,
       "Xen convention: RDI, RSI, RDX, R10, R8");
    vm->hc.abi = VMC_HCABI_KVM;

    fake_mode(vm, 32, 0, 0);
    *r = (struct kvm_regs){ .rax = 0xffffffff00000000ull | 64,
                            .rbx = 0xaaaaaaaa00000005ull,
                            .rcx = 0x1ffffffffull,
                            .rdi = 0xdeadbeef00000009ull };
    uint64_t ret = fake_ring(vm, 1);
    ok(seen.nr == 64 && seen.compat && seen.args[0] == 5 && seen.args[1] == 0xffffffff && seen.args[4] == 9,
       "32-bit caller: number and EBX, ECX, EDX, ESI, EDI truncated to 32 bits");
    is_u64(ret, 5, "32-bit caller: result truncated to 32 bits");
    r->rax = 65;
    is_u64(fake_ring(vm, 1), 0xffffffdaull, "32-bit caller: -38 becomes 0xffffffda");
    r->rax = VMC_HC_VERSION;
    r->rbx = 0;
    is_u64(fake_ring(vm, 1), VMC_ABI_VERSION, "32-bit caller: version through the compat column");

    fake_mode(vm, 64, 3, 0);
    vm->vcpus[0].run->s.regs.sregs.cr0 = 0x33;
    r->rax = VMC_HC_VERSION;
    r->rbx = 0;
    vm->hc.allow_user = false;
    is_u64(fake_ring(vm, 1), (uint64_t)-VMC_EPERM, "CPL3 caller in a VM that forbids user calls: -EPERM");
    vm->hc.allow_user = true;
    r->rax = VMC_HC_VERSION;
    is_u64(fake_ring(vm, 1), VMC_ABI_VERSION, "CPL3 caller, user-callable call, VM allows: dispatched");
    r->rax = VMC_HC_MEMORY_OP;
    is_u64(fake_ring(vm, 1), (uint64_t)-VMC_EPERM, "CPL3 caller, kernel-only call: -EPERM");
    r->rax = 65;
    is_u64(fake_ring(vm, 1), (uint64_t)-VMC_EPERM, "CPL3 caller, registered without VMC_HC_F_USER: -EPERM");
    r->rax = 50;
    is_u64(fake_ring(vm, 1), (uint64_t)-VMC_ENOSYS, "CPL3 caller, unknown number: -ENOSYS");

    fake_mode(vm, 64, 0, 0);
    vm->vcpus[0].run->s.regs.sregs.cr0 = 0x33;
    uint32_t allow[] = { VMC_HC_TIME };
    vmc_vm_allow_hypercalls(vm, allow, 1);
    r->rax = VMC_HC_VERSION;
    is_u64(fake_ring(vm, 1), (uint64_t)-VMC_EPERM, "allow-list: version refused");
    r->rax = VMC_HC_TIME;
    r->rbx = 0x1000;
    is_u64(fake_ring(vm, 1), 0, "allow-list: time allowed");
    struct vmc_hypercall_stat hs[8];
    size_t n = vmc_vm_hypercall_stats(vm, hs, 8);
    ok(n >= 1 && hs[0].nr == VMC_HC_VERSION && hs[0].denied == 2,
       "refusals are counted (CPL, then allow-list)");
    is_int(vmc_vm_allow_hypercalls(vm, (uint32_t[]){ 0 }, 1), -EINVAL, "number 0 cannot be allowed");
    memset(vm->hc.allowed, 0xff, (vm->hc.nr_max + 63) / 64 * 8);

    r->rax = VMC_HC_VERSION;
    is_u64(fake_ring(vm, 3), (uint64_t)-VMC_EINVAL, "rep outs to the doorbell: refused, not repeated");

    /* Guest handles with paging off are guest-physical: a console_write from fake memory. */
    memcpy(vm->mem.host + 0x200000, "hello", 5);
    *r = (struct kvm_regs){ .rax = VMC_HC_CONSOLE_WRITE, .rbx = 0x200000, .rcx = 5 };
    is_u64(fake_ring(vm, 1), 5, "console_write from guest-physical memory");
    *r = (struct kvm_regs){ .rax = VMC_HC_CONSOLE_WRITE, .rbx = (4 << 20) - 2, .rcx = 5 };
    is_u64(fake_ring(vm, 1), (uint64_t)-VMC_EFAULT, "buffer running off the end of RAM: -EFAULT");
    *r = (struct kvm_regs){ .rax = VMC_HC_SCHED_OP, .rbx = VMC_SCHEDOP_SHUTDOWN, .rcx = 0x200000 };
    memcpy(vm->mem.host + 0x200000, (uint32_t[]){ VMC_SHUTDOWN_CRASH, 77 }, 8);
    fake_ring(vm, 1);
    ok(fake_act.kind == VMC_ACT_STOP && fake_act.stop.stop == VMC_STOP_CRASH &&
           fake_act.stop.crash == VMC_CRASH_GUEST && fake_act.stop.status == 77,
       "sched_op shutdown(crash, 77) stops the VM as a guest-reported crash");
    *r = (struct kvm_regs){ .rax = VMC_HC_SCHED_OP, .rbx = VMC_SCHEDOP_BLOCK, .rcx = 1000 };
    is_u64(fake_ring(vm, 1), 0, "sched_op block returns 0");
    ok(fake_act.kind == VMC_ACT_BLOCK && fake_act.until > vmc_now_ns() - 1000000000ull,
       "and the run loop is told to block until its deadline");

    /* A 32-bit caller with paging on (legacy 32-bit paging): handles go through its page tables, not
     * straight to guest-physical memory. PD at 0x10000, one PT at 0x11000 for the first 4 MiB. */
    fake_mode(vm, 32, 0, 0x10000);
    vm->vcpus[0].run->s.regs.sregs.cr0 = 0x80000033;
    uint32_t *pd32 = (uint32_t *)(vm->mem.host + 0x10000), *pt32 = (uint32_t *)(vm->mem.host + 0x11000);
    memset(pd32, 0, 8192);
    pd32[0] = 0x11000 | 0x7;
    pt32[0x300] = 0x200000 | 0x7; /* linear 0x300000 -> physical 0x200000 ("hello") */
    *r = (struct kvm_regs){ .rax = VMC_HC_CONSOLE_WRITE, .rbx = 0x300000, .rcx = 5 };
    is_u64(fake_ring(vm, 1), 5, "32-bit caller, paging on: the handle is translated");
    *r = (struct kvm_regs){ .rax = VMC_HC_CONSOLE_WRITE, .rbx = 0x200000, .rcx = 5 };
    is_u64(fake_ring(vm, 1), (uint32_t)-VMC_EFAULT,
           "an unmapped linear address is -EFAULT, though RAM is at that physical address");
    *r = (struct kvm_regs){ .rax = VMC_HC_CONSOLE_WRITE, .rbx = 0x300ffe, .rcx = 5 };
    is_u64(fake_ring(vm, 1), (uint32_t)-VMC_EFAULT, "a buffer running into an unmapped page: -EFAULT");

    /* set_timer from a 32-bit caller: the deadline comes in two halves, EBX low and ECX high. */
    fake_mode(vm, 32, 0, 0);
    *r = (struct kvm_regs){ .rax = VMC_HC_SET_TIMER, .rbx = 0x9abcdef0, .rcx = 0x7fff1234, .rdx = 0x40 };
    is_u64(fake_ring(vm, 1), 0, "32-bit set_timer");
    uint64_t deadline;
    uint8_t vector;
    vmc_timer_get(&vm->vcpus[0], &deadline, &vector);
    ok(deadline == 0x7fff12349abcdef0ull && vector == 0x40, "keeps both halves of the deadline (0x%llx)",
       (unsigned long long)deadline);
    *r = (struct kvm_regs){ .rax = VMC_HC_SET_TIMER };
    fake_ring(vm, 1);
    vmc_timer_get(&vm->vcpus[0], &deadline, &vector);
    is_u64(deadline, 0, "deadline 0 cancels it");
    vmc_vm_destroy(vm);
    return tap_done();
}
