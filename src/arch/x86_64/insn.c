/* SPDX-License-Identifier: MIT */
/* Instruction bytes, I/O instruction decoding and undo, exception frames (SDM vol. 2 and vol. 3A 6.14). */
#include <string.h>

#include "../../mem.h"
#include "insn.h"
#include "mmu.h"
#include "x86.h"

int vmc_x86_code_bits(const struct kvm_sregs *s)
{
    if ((s->efer & X86_EFER_LMA) && s->cs.l)
        return 64;
    return s->cs.db ? 32 : 16;
}

static unsigned user_acc(const struct kvm_sregs *s)
{
    return (s->cs.selector & 3) == 3 ? VMC_ACC_USER : 0;
}

unsigned vmc_x86_fetch(const struct vmc_mem *mem, const struct kvm_sregs *s, uint64_t rip, uint8_t *buf,
                       unsigned max)
{
    struct vmc_mmu m;
    vmc_mmu_from_sregs(s, &m);
    unsigned acc = VMC_ACC_FETCH | user_acc(s);
    uint64_t la = vmc_x86_code_bits(s) == 64 ? rip : (uint32_t)(s->cs.base + rip);
    if (max > 15)
        max = 15;
    unsigned n = 0;
    while (n < max && vmc_mmu_read(mem, &m, la + n, acc, buf + n, 1) == 0)
        n++;
    return n;
}

bool vmc_x86_decode_io(const uint8_t *b, unsigned n, int code_bits, struct vmc_io_insn *out)
{
    bool opsize = false, adsize = false, rep = false;
    unsigned i = 0;
    for (; i < n && i < 14; i++) {
        uint8_t p = b[i];
        if (p == 0x66)
            opsize = true;
        else if (p == 0x67)
            adsize = true;
        else if (p == 0xf3 || p == 0xf2)
            rep = true;
        else if (p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 || p == 0x65)
            continue; /* segment override: OUTS's source segment, which the undo does not need */
        else if (code_bits == 64 && (p & 0xf0) == 0x40 && i + 1 < n)
            continue; /* REX: W does not widen I/O (no 64-bit port access) */
        else
            break;
    }
    if (i >= n)
        return false;
    uint8_t op = b[i];
    static const uint8_t ops[] = { 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef, 0x6c, 0x6d, 0x6e, 0x6f };
    if (!memchr(ops, op, sizeof(ops)))
        return false;
    bool wide = op & 1;
    bool word = code_bits == 16 ? !opsize : opsize;
    *out = (struct vmc_io_insn){
        .size = (uint8_t)(!wide  ? 1
                          : word ? 2
                                 : 4),
        .string = op < 0x70,
        .in = op < 0x70 ? op <= 0x6d : (op & 2) == 0,
        .imm = op == 0xe4 || op == 0xe5 || op == 0xe6 || op == 0xe7,
    };
    out->addr_size = (uint8_t)(code_bits == 64 ? (adsize ? 4 : 8) : (code_bits == 32) != adsize ? 4 : 2);
    out->rep = rep && out->string;
    if (out->imm) {
        if (i + 1 >= n)
            return false;
        out->port_imm = b[i + 1];
        out->len = (uint8_t)(i + 2);
    } else {
        out->len = (uint8_t)(i + 1);
    }
    return true;
}

static bool matches(const struct vmc_io_insn *d, const struct vmc_io_access *io, const struct kvm_regs *r)
{
    if (d->in != io->in || d->size != io->size)
        return false;
    return d->imm ? d->port_imm == io->port : (uint16_t)r->rdx == io->port;
}

static uint64_t addr_mask(uint8_t addr_size)
{
    return addr_size == 8 ? ~0ull : (1ull << (addr_size * 8)) - 1;
}

/* reg -= delta within the address size, leaving the bits above it alone (the emulator's masked update). */
static void masked_sub(__u64 *reg, uint64_t delta, uint8_t addr_size)
{
    uint64_t m = addr_mask(addr_size);
    *reg = (*reg & ~m) | ((*reg - delta) & m);
}

static bool decode_at(const struct vmc_mem *mem, const struct kvm_sregs *s, uint64_t rip,
                      struct vmc_io_insn *d)
{
    uint8_t b[15];
    unsigned n = vmc_x86_fetch(mem, s, rip, b, sizeof(b));
    return n && vmc_x86_decode_io(b, n, vmc_x86_code_bits(s), d);
}

/*
 * The OUT or OUTS that retired just before rip. Several starts may decode (a prefix byte may belong to
 * the previous instruction): a REP form is only possible when RCX ran out, and then the longest wins.
 */
static bool find_retired_out(const struct vmc_mem *mem, const struct kvm_sregs *s, const struct kvm_regs *r,
                             const struct vmc_io_access *io, struct vmc_io_insn *found)
{
    bool ok = false;
    for (unsigned k = 1; k <= 15 && k <= r->rip; k++) {
        struct vmc_io_insn d;
        if (!decode_at(mem, s, r->rip - k, &d) || d.len != k || !matches(&d, io, r))
            continue;
        if (d.rep && (r->rcx & addr_mask(d.addr_size)) != 0)
            continue;
        *found = d;
        ok = true;
    }
    return ok;
}

bool vmc_x86_io_undo(const struct vmc_mem *mem, const struct kvm_sregs *s, struct kvm_regs *r,
                     const struct vmc_io_access *io, bool moved)
{
    struct vmc_io_insn d;
    bool at = decode_at(mem, s, r->rip, &d) && matches(&d, io, r);
    if (io->in || moved)
        return at; /* not retired: the exit's registers are those before the instruction */
    bool running_rep = at && d.string && d.rep && (r->rcx & addr_mask(d.addr_size)) != 0;
    if (!running_rep) {
        if (!find_retired_out(mem, s, r, io, &d))
            return false;
        r->rip -= d.len;
    }
    if (d.string) { /* the element KVM consumed before exiting */
        uint64_t step = d.size;
        masked_sub(&r->rsi, (r->rflags & X86_RFLAGS_DF) ? (uint64_t)0 - step : step, d.addr_size);
        if (d.rep)
            masked_sub(&r->rcx, (uint64_t)-1, d.addr_size);
    }
    return true;
}

void vmc_x86_io_neutral_in(const struct vmc_mem *mem, const struct kvm_sregs *s, const struct kvm_regs *r,
                           const struct vmc_io_access *io, uint8_t *data, uint32_t count)
{
    memset(data, 0xff, (size_t)io->size * count);
    struct vmc_io_insn d;
    if (!decode_at(mem, s, r->rip, &d) || !matches(&d, io, r) || !d.string)
        return;
    struct vmc_mmu m;
    vmc_mmu_from_sregs(s, &m);
    unsigned acc = user_acc(s);
    uint64_t mask = addr_mask(d.addr_size), rdi = r->rdi & mask;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t off = (uint64_t)i * d.size;
        uint64_t ea = ((r->rflags & X86_RFLAGS_DF) ? rdi - off : rdi + off) & mask;
        uint64_t la = vmc_x86_code_bits(s) == 64 ? ea : (uint32_t)(s->es.base + ea);
        vmc_mmu_read(mem, &m, la, acc, data + off, d.size);
    }
}

int vmc_x86_fault_frame(const struct vmc_mem *mem, const struct kvm_sregs *s, const struct kvm_regs *r,
                        struct vmc_fault_frame *f)
{
    struct vmc_mmu m;
    vmc_mmu_from_sregs(s, &m);
    if (s->efer & X86_EFER_LMA)
        return vmc_mmu_read(mem, &m, r->rsp, 0, f, sizeof(*f));
    uint32_t w[5];
    uint32_t esp = (uint32_t)(s->ss.base + (uint32_t)r->rsp);
    int rc = vmc_mmu_read(mem, &m, esp, 0, w, sizeof(w));
    if (rc == 0)
        *f = (struct vmc_fault_frame){ w[0], w[1], w[2], w[3], w[4], (uint32_t)r->rsp + 20, s->ss.selector };
    return rc;
}
