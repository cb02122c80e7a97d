/* SPDX-License-Identifier: MIT */
/* 16550A UART register model, kept apart from the VM so that it can be unit-tested. */
#ifndef VMCALL_SRC_DEV_UART_H
#define VMCALL_SRC_DEV_UART_H

#include <stdbool.h>
#include <stdint.h>

struct vmc_console;

struct vmc_uart {
    struct vmc_console *con;
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    bool thri_pending; /* THR-empty interrupt identified until IIR is read */
    uint8_t rx[16];
    unsigned rx_head, rx_len;
};
/* Power-on state (what firmware leaves behind), connected to con. */
void vmc_uart_init(struct vmc_uart *u, struct vmc_console *con);
/* Access register reg (0-7) of the UART. */
uint8_t vmc_uart_read(struct vmc_uart *u, unsigned reg);
void vmc_uart_write(struct vmc_uart *u, unsigned reg, uint8_t val);

#endif /* VMCALL_SRC_DEV_UART_H */
