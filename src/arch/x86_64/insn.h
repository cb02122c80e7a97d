/* SPDX-License-Identifier: MIT */
/* x86 instruction knowledge the exit path needs: fetching bytes, I/O instructions, exception frames. */
#ifndef VMCALL_SRC_ARCH_X86_64_INSN_H
#define VMCALL_SRC_ARCH_X86_64_INSN_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmcall/abi.h"

struct vmc_mem;

/* 16, 32 or 64: the default operand/address size of the code segment (SDM vol. 3A 3.4.5, CS.L/CS.D). */
int vmc_x86_code_bits(const struct kvm_sregs *s);
/* Up to max (<= 15) instruction bytes at CS:rip through the guest's paging; the count read (it stops at
 * the first byte that is not mapped, executable and readable at the current privilege). */
unsigned vmc_x86_fetch(const struct vmc_mem *mem, const struct kvm_sregs *s, uint64_t rip, uint8_t *buf,
                       unsigned max);

/* An I/O instruction (SDM vol. 2: IN, INS, OUT, OUTS) as decoded from its bytes. */
struct vmc_io_insn {
    uint8_t len;       /* bytes, prefixes included */
    uint8_t size;      /* operand size: 1, 2 or 4 */
    uint8_t addr_size; /* string forms: 2, 4 or 8 */
    bool in, string, rep;
    bool imm; /* port in an imm8 (else DX) */
    uint8_t port_imm;
};
bool vmc_x86_decode_io(const uint8_t *b, unsigned n, int code_bits, struct vmc_io_insn *out);

/* What an I/O exit says of the access (KVM's exit record; docs/abi-reference.md, "KVM"). */
struct vmc_io_access {
    uint16_t port;
    uint8_t size;
    bool in;
};
/*
 * Undo an intercepted I/O instruction: given the registers of the exit, and whether completing the
 * access (KVM_RUN with immediate_exit) moved RIP, find the instruction and put the registers back as
 * they were before it (RIP at it; for OUTS the element KVM already consumed: RSI and, with REP, RCX).
 * KVM's fast path exits before an IN/OUT retires (completion moves RIP); its emulator, used for string
 * I/O and by hosts that emulate CPL0, retires OUT and OUTS before exiting and leaves IN and INS to the
 * completion. Returns false if no matching instruction was found (RIP is left as it was).
 */
bool vmc_x86_io_undo(const struct vmc_mem *mem, const struct kvm_sregs *s, struct kvm_regs *r,
                     const struct vmc_io_access *io, bool moved);
/*
 * The data of an IN exit that must have no effect once completed: for INS at RIP, the bytes already at
 * the destination (so that KVM's completion writes memory back unchanged), else all-ones (the registers
 * KVM then writes are put back by vmc_x86_io_undo).
 */
void vmc_x86_io_neutral_in(const struct vmc_mem *mem, const struct kvm_sregs *s, const struct kvm_regs *r,
                           const struct vmc_io_access *io, uint8_t *data, uint32_t count);

/* The frame the VMM's exception stubs leave on the stack (abi.h), read through the guest's paging:
 * 64-bit frames in long mode, 32-bit ones (no RSP/SS pushed) otherwise. */
int vmc_x86_fault_frame(const struct vmc_mem *mem, const struct kvm_sregs *s, const struct kvm_regs *r,
                        struct vmc_fault_frame *f);

#endif /* VMCALL_SRC_ARCH_X86_64_INSN_H */
