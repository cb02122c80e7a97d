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
    xor %eax, %eax
    cmp $0, %rbx;     setne %al; shl $1, %rax
    cmp $0, %rdi;     setne %al; shl $1, %rax
    cmp $0x1111, %rcx; setne %al; shl $1, %rax
    cmp $0x2222, %rdx; setne %al; shl $1, %rax
    cmp $0x3333, %rsi; setne %al; shl $1, %rax
    cmp $0x4444, %rbp; setne %al; shl $1, %rax
    cmp $0x8888, %r8;  setne %al; shl $1, %rax
    cmp $0x9999, %r9;  setne %al; shl $1, %rax
    cmp $0xaaaa, %r10; setne %al; shl $1, %rax
    cmp $0xbbbb, %r11; setne %al; shl $1, %rax
    cmp $0xcccc, %r12; setne %al; shl $1, %rax
    cmp $0xdddd, %r13; setne %al; shl $1, %rax
    cmp $0xeeee, %r14; setne %al; shl $1, %rax
    cmp $0xffff, %r15; setne %al
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
    .section .note.GNU-stack, "", @progbits
