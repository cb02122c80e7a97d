/* SPDX-License-Identifier: MIT */
/* libFuzzer target: hypercall dispatch and guest handles on a fake VM, registers, mode, page tables and
 * argument structs all taken from the input. The VMM must return an error code, never crash or leak. */
#include "../unit/fakevm.h"

#define MEM (2u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vmc_vm *vm;
    if (!vm)
        vm = fake_vm(MEM, VMC_HCABI_KVM);
    struct {
        uint64_t rax, rbx, rcx, rdx, rsi, rdi, r8, r10;
        uint8_t mode, cpl, abi, flags;
    } in;
    if (size < sizeof(in))
        return 0;
    memcpy(&in, data, sizeof(in));
    data += sizeof(in);
    size -= sizeof(in);
    /* sched_op block only asks the run loop to wait: nothing here sleeps. */
    memset(vm->mem.host, 0, MEM);
    memcpy(vm->mem.host + 0x1000, data, size < MEM - 0x1000 ? size : MEM - 0x1000);
    fake_mode(vm, (in.mode & 1) ? 32 : 64, (in.cpl & 1) ? 3 : 0, 0x1000);
    if (in.mode & 2)
        vm->vcpus[0].run->s.regs.sregs.cr0 &= ~(1ull << 31); /* paging off */
    vm->hc.abi = in.abi & 1;
    vm->hc.allow_user = in.flags & 2;
    memset(vm->hc.allowed, 0xff, (vm->hc.nr_max + 63) / 64 * 8);
    if (in.flags & 1)
        vm->hc.allowed[0] &= ~(1ull << VMC_HC_SCHED_OP);
    struct kvm_regs *r = &vm->vcpus[0].run->s.regs.regs;
    *r = (struct kvm_regs){ .rax = in.rax,
                            .rbx = in.rbx,
                            .rcx = in.rcx,
                            .rdx = in.rdx,
                            .rsi = in.rsi,
                            .rdi = in.rdi,
                            .r8 = in.r8,
                            .r10 = in.r10 };
    uint64_t ret = fake_ring(vm, 1);
    int64_t sret = (in.mode & 1) ? (int32_t)ret : (int64_t)ret;
    /* Results are either success values or one of the documented codes. */
    if (sret < 0 && sret < -VMC_EOPNOTSUPP)
        __builtin_trap();
    return 0;
}
