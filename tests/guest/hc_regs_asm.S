/* SPDX-License-Identifier: MIT */
/* Load known values into every GPR but RAX/RSP, call a hypercall stub, report which registers changed. */
    .text
    .globl hc_regs_check
hc_regs_check:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rdi, %rax          /* the stub */
    xor %ebx, %ebx          /* version's argument in both conventions: 0, no struct */
    xor %edi, %edi
    mov $0x1111, %rcx
    mov $0x2222, %rdx
    mov $0x3333, %rsi
    mov $0x4444, %rbp
    mov $0x8888, %r8
    mov $0x9999, %r9
    mov $0xaaaa, %r10
    mov $0xbbbb, %r11
    mov $0xcccc, %r12
    mov $0xdddd, %r13
    mov $0xeeee, %r14
    mov $0xffff, %r15
    call *%rax
    /* bit i of the mask: register i of the list differs from what was loaded */
    xor %eax, %eax
    .irp pair, "$0,%rbx", "$0,%rdi", "$0x1111,%rcx", "$0x2222,%rdx", "$0x3333,%rsi", "$0x4444,%rbp", "$0x8888,%r8", "$0x9999,%r9", "$0xaaaa,%r10", "$0xbbbb,%r11", "$0xcccc,%r12", "$0xdddd,%r13", "$0xeeee,%r14", "$0xffff,%r15"
    shl $1, %rax
    cmp \pair
    je 1f
    or $1, %al
1:
    .endr
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
    .section .note.GNU-stack, "", @progbits
