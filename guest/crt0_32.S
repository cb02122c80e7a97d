/* SPDX-License-Identifier: MIT */
/* 32-bit guest entry: EDI = boot info, ESP = a 16-byte aligned stack top; cdecl call to vmcg_start. */
    .section .text.start, "ax"
    .code32
    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp
    subl $12, %esp           /* keep ESP 16-byte aligned at the call */
    pushl %edi
    call vmcg_start
1:  pause
    jmp 1b
    .size _start, . - _start
    .section .note.GNU-stack, "", @progbits
