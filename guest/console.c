/* SPDX-License-Identifier: MIT */
/* Console input (console_read, blocking; the COM1 UART as fallback), the polled UART and the 0xE9 port. */
#include "vmcall/guest.h"

#define COM1 VMC_PORT_COM1
#define UART_FCR 2
#define UART_LSR 5
#define LSR_DR 0x01
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define FIFO_DEPTH 16

void vmcg_console_init(void);

void vmcg_console_init(void)
{
    /* Enable and clear the FIFOs; the VMM resets the UART to 8N1, interrupts off. */
    vmcg_outb(COM1 + UART_FCR, 0x07);
}

void vmcg_uart_write(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        /* Once THRE is seen the FIFO takes 16 bytes: one rep outsb, which KVM turns into one exit. */
        while (!(vmcg_inb(COM1 + UART_LSR) & LSR_THRE))
            ;
        size_t n = len < FIFO_DEPTH ? len : FIFO_DEPTH;
        uint16_t port = COM1;
        __asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(port) : "memory");
        len -= len < FIFO_DEPTH ? len : FIFO_DEPTH;
    }
}

static int uart_trygetc(void)
{
    uint8_t lsr = vmcg_inb(COM1 + UART_LSR);
    if (lsr & LSR_DR)
        return vmcg_inb(COM1);
    return (lsr & LSR_BI) ? VMCG_EOF : VMCG_EMPTY;
}

/*
 * Input goes through console_read; the UART is the fallback when the VM refuses the call (an allow-list,
 * or a VMM before ABI 4 refusing the wait flag). One path at a time: bytes the UART's FIFO had pulled in
 * would otherwise come out of order.
 */
static int read_one(unsigned flags)
{
    uint8_t c;
    for (;;) {
        long r = vmcg_hypercall_any(VMC_HC_CONSOLE_READ, (unsigned long)(uintptr_t)&c, 1, flags);
        if (r == 1)
            return c;
        if (r == 0)
            return VMCG_EOF;
        if (r != -VMC_EAGAIN)
            return flags ? VMCG_EMPTY - 1 : uart_trygetc();
        if (!flags)
            return VMCG_EMPTY;
        /* -EAGAIN after a wait: input came, the input ended, or an interrupt is due: look again. */
    }
}

int vmcg_trygetc(void)
{
    return read_one(0);
}

int vmcg_getc(void)
{
    int c = read_one(VMC_CONSOLE_WAIT);
    if (c != VMCG_EMPTY - 1)
        return c;
    while ((c = uart_trygetc()) == VMCG_EMPTY) /* refused: poll the UART (every poll is an exit) */
        __asm__ volatile("pause");
    return c;
}

void vmcg_debug_write(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint16_t port = VMC_PORT_DEBUGCON;
    __asm__ volatile("rep outsb" : "+S"(p), "+c"(len) : "d"(port) : "memory");
}
