/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a Xen PVH guest of our own, independent of XTF. 32-bit, paging off, as PVH starts it: it
 * checks the start info EBX points to (magic, version, a 2-entry memory map), finds Xen's CPUID leaves,
 * has the hypercall page written through the MSR, prints its command line with compat console_io, then
 * shuts down with the reason its command line starts with ('0' poweroff, '1' reboot, '3' crash).
 * A failed check exits through the platform's exit port with its number (10-15).
 */
    .section .note.Xen, "a"
    .balign 4
    .long 4, 4, 18                  /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long _start

    .text
    .code32
    .globl _start
_start:
    mov $stack_top, %esp
    mov %ebx, %esi
    mov $10, %eax
    cmpl $0x336ec578, (%esi)        /* hvm_start_info.magic */
    jne fail
    mov $11, %eax
    cmpl $1, 4(%esi)                /* version 1: with a memory map */
    jne fail
    mov $12, %eax
    cmpl $2, 48(%esi)               /* memmap_entries */
    jne fail
    mov 40(%esi), %edi              /* memmap_paddr: entry 1 is RAM from 1 MiB */
    cmpl $0x100000, 24(%edi)
    jne fail
    cmpl $1, 40(%edi)
    jne fail
    mov $0x40000000, %eax           /* Xen's signature, then the hypercall-page MSR */
    cpuid
    push %eax
    mov $13, %eax
    cmp $0x566e6558, %ebx           /* "XenV" */
    jne fail
    pop %eax
    mov $14, %eax
    mov $0x40000002, %eax
    cpuid
    mov %ebx, %ecx
    mov $hcpage, %eax
    xor %edx, %edx
    wrmsr
    mov $15, %eax
    cmpb $0xb8, hcpage              /* mov $0, %eax: the page is written */
    jne fail

    mov $msg, %edx                  /* console_io(CONSOLEIO_write, len, buf) */
    mov $msg_len, %ecx
    call write
    mov 24(%esi), %edx              /* cmdline_paddr */
    mov %edx, %edi
    xor %ecx, %ecx
1:  cmpb $0, (%edi, %ecx)
    je 2f
    inc %ecx
    jmp 1b
2:  push %edx
    call write
    mov $nl, %edx
    mov $1, %ecx
    call write
    pop %edx
    movzbl (%edx), %eax             /* the shutdown reason */
    sub $'0', %eax
    mov %eax, reason
    mov $2, %ebx                    /* SCHEDOP_shutdown */
    mov $reason, %ecx
    call hcpage + 29 * 32
    mov $16, %eax                   /* shutdown returned */
fail:
    out %eax, $0xe4
    hlt

write:
    xor %ebx, %ebx
    call hcpage + 18 * 32
    ret

    .data
msg:    .ascii "pvh: start info, CPUID, hypercall page ok; cmdline: "
        .set msg_len, . - msg
nl:     .ascii "\n"
    .balign 4
reason: .long 0

    .bss
    .balign 4096
hcpage: .skip 4096
        .skip 4096
stack_top:
    .section .note.GNU-stack, "", @progbits
