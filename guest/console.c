/* SPDX-License-Identifier: MIT */
/* Polled 16550A driver for COM1 and the 0xE9 debug port. */
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

int vmcg_trygetc(void)
{
    uint8_t lsr = vmcg_inb(COM1 + UART_LSR);
    if (lsr & LSR_DR)
        return vmcg_inb(COM1);
    return (lsr & LSR_BI) ? VMCG_EOF : VMCG_EMPTY;
}

int vmcg_getc(void)
{
    int c;
    while ((c = vmcg_trygetc()) == VMCG_EMPTY)
        __asm__ volatile("pause");
    return c;
}

void vmcg_debug_write(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint16_t port = VMC_PORT_DEBUGCON;
    __asm__ volatile("rep outsb" : "+S"(p), "+c"(len) : "d"(port) : "memory");
}
