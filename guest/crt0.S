/* SPDX-License-Identifier: MIT */
/* Guest entry: the VMM enters here with RDI = boot info and RSP = a 16-byte aligned stack top. */
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp          /* terminate frame-pointer backtraces */
    call vmcg_start          /* never returns */
1:  pause
    jmp 1b
    .size _start, . - _start
    .section .note.GNU-stack, "", @progbits
