/* SPDX-License-Identifier: MIT */
/* Flat-binary guest: no ELF, no SDK. Loaded and entered at 0x200000; writes to 0xE9, exits with 42. */
    .code64
    .text
    .globl _start
_start:
    lea msg(%rip), %rsi
    mov $msg_len, %ecx
    mov $0xe9, %dx
    rep outsb
    mov $42, %eax
    out %eax, $0xe4
1:  hlt
    jmp 1b
msg:
    .ascii "flat binary ok\n"
    msg_len = . - msg
    .section .note.GNU-stack, "", @progbits
