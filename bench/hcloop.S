/* SPDX-License-Identifier: MIT */
/* Benchmark guest (flat, at 0x100000): LAPS laps of K operations, each lap closed by hypercall 64 (the
 * host's lap marker), then exit through port 0xe4. The operation is a version hypercall through the
 * hypercall page, or with -DIOLOOP a bare `out` to the debug console port, or with -DXEN Xen's
 * xen_version(XENVER_version) in Xen's registers (the Xen personality). The same bytes run under
 * libvmcall and under the raw-KVM floor. */
    .code64
    .text
    .globl _start
_start:
#ifdef XEN
    mov $0x10220, %r12d        /* stub 17: xen_version */
#else
    mov $0x10020, %r12d        /* stub 1: version */
#endif
    mov $0x10800, %r15d        /* stub 64: lap marker */
    mov $LAPS, %r14d
outer:
    mov $K, %r13d
inner:
#ifdef IOLOOP
    out %al, $0xe9
#else
    xor %ebx, %ebx
    xor %edi, %edi
    call *%r12
#endif
    dec %r13d
    jnz inner
    call *%r15
    dec %r14d
    jnz outer
    xor %eax, %eax
    out %eax, $0xe4
1:  hlt
    jmp 1b
    .section .note.GNU-stack, "", @progbits
