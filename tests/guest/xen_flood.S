/* SPDX-License-Identifier: MIT */
/* Guest test (flat, 64-bit, Xen personality): 64 console_io writes of 16 KiB each, enough to fill the
 * console queue behind a slow reader, so that writes become continuations; then a write whose buffer
 * runs off the end of RAM must be -EFAULT. Exit status: 0, or the step that went wrong. */
    .code64
    .text
    .globl _start
_start:
    mov $64, %r12d
1:  xor %edi, %edi              /* CONSOLEIO_write */
    mov $16384, %esi
    lea buf(%rip), %rdx
    mov $0x10240, %eax          /* hypercall page slot 18: console_io */
    call *%rax
    test %rax, %rax
    jnz fail1
    dec %r12d
    jnz 1b
    xor %edi, %edi
    mov $100, %esi
    mov $(0x400000 - 10), %edx  /* 4 MiB of RAM: the buffer runs past its end */
    mov $0x10240, %eax
    call *%rax
    cmp $-14, %rax
    jne fail2
    xor %eax, %eax
    out %eax, $0xe4
fail1:
    mov $1, %eax
    out %eax, $0xe4
fail2:
    mov $2, %eax
    out %eax, $0xe4
2:  hlt
    jmp 2b
    .data
buf:
    .fill 16383, 1, 0x78
    .byte 10
    .section .note.GNU-stack, "", @progbits
