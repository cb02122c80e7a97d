/* SPDX-License-Identifier: MIT */
/* Raw-KVM floor: create a long-mode VM with the fewest syscalls, initial state through sync regs. */
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "raw.h"

int raw_create(int kvm, const struct kvm_cpuid2 *cpuid, int run_size, size_t mem_size, bool user,
               const uint8_t *code, size_t len, struct raw_vm *r)
{
    memset(r, 0, sizeof(*r));
    r->run_size = run_size;
    r->mem_size = mem_size;
    r->vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (r->vm < 0)
        return -1;
    r->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    struct kvm_userspace_memory_region region = { 0, 0, 0, mem_size, (uint64_t)(uintptr_t)r->mem };
    if (r->mem == MAP_FAILED || ioctl(r->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return -1;
    r->vcpu = ioctl(r->vm, KVM_CREATE_VCPU, 0);
    if (r->vcpu < 0)
        return -1;
    r->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->vcpu, 0);
    if (r->run == MAP_FAILED || ioctl(r->vcpu, KVM_SET_CPUID2, cpuid) < 0)
        return -1;

    /* One 2 MiB page at 0 (user-accessible), a GDT with a 64-bit TSS whose zero bitmap permits all ports. */
    uint64_t *pml4 = (uint64_t *)(r->mem + 0x1000), *pdpt = (uint64_t *)(r->mem + 0x2000);
    uint64_t *pd = (uint64_t *)(r->mem + 0x3000), *gdt = (uint64_t *)(r->mem + 0x4000);
    pml4[0] = 0x2000 | 7;
    pdpt[0] = 0x3000 | 7;
    pd[0] = 0x87;
    gdt[1] = 0x00af9b000000ffffull;
    gdt[2] = 0x00cf93000000ffffull;
    gdt[4] = 0x00cff3000000ffffull;
    gdt[5] = 0x00affb000000ffffull;
    const uint32_t tss = 0x5000, limit = 0x68 + 8192;
    gdt[6] = limit | ((uint64_t)tss << 16) | (0x8bull << 40);
    r->mem[tss + 102] = 0x68;
    r->mem[tss + limit] = 0xff;
    memcpy(r->mem + 0x100000, code, len);

    struct kvm_sregs *s = &r->run->s.regs.sregs;
    struct kvm_regs *g = &r->run->s.regs.regs;
    struct kvm_segment cs = { .limit = 0xffffffff, .type = 11, .present = 1, .s = 1, .l = 1, .g = 1 };
    struct kvm_segment ds = cs;
    ds.type = 3, ds.l = 0, ds.db = 1;
    cs.selector = user ? 0x2b : 0x08, ds.selector = user ? 0x23 : 0x10;
    cs.dpl = ds.dpl = user ? 3 : 0;
    memset(s, 0, sizeof(*s));
    s->cs = cs;
    s->ds = s->es = s->fs = s->gs = s->ss = ds;
    s->tr = (struct kvm_segment){ .base = tss, .limit = limit, .selector = 0x30, .type = 11, .present = 1 };
    s->ldt = (struct kvm_segment){ .type = 2, .present = 1, .unusable = 1 };
    s->gdt.base = 0x4000;
    s->gdt.limit = 0x3f;
    s->cr0 = 0x80010033;
    s->cr3 = 0x1000;
    s->cr4 = 0x620;
    s->efer = 0x500;
    s->apic_base = 0xfee00900;
    memset(g, 0, sizeof(*g));
    g->rip = 0x100000;
    g->rsp = 0x80000;
    g->rflags = 2;
    r->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    r->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    return 0;
}

void raw_destroy(struct raw_vm *r)
{
    munmap(r->run, (size_t)r->run_size);
    close(r->vcpu);
    close(r->vm);
    munmap(r->mem, r->mem_size);
}
