/* SPDX-License-Identifier: MIT */
/* 16550A UART on COM1: register behaviour for polled drivers, transmit to the console, receive from it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../vm.h"
#include "console.h"
#include "uart.h"

/* Register offsets and bits (National Semiconductor PC16550D data sheet). */
enum {
    UART_RBR_THR = 0,
    UART_IER = 1,
    UART_IIR_FCR = 2,
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7
};
#define LCR_DLAB 0x80
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LSR_DR 0x01
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

void vmc_uart_init(struct vmc_uart *u, struct vmc_console *con)
{
    memset(u, 0, sizeof(*u));
    u->con = con;
    u->dll = 0x0c; /* 9600 baud at the PC's 1.8432 MHz clock: what firmware leaves behind */
    u->lcr = 0x03; /* 8N1 */
}

static void rx_push(struct vmc_uart *u, uint8_t c)
{
    if (u->rx_len < sizeof(u->rx))
        u->rx[(u->rx_head + u->rx_len++) % sizeof(u->rx)] = c;
}

static void rx_fill(struct vmc_uart *u)
{
    /* In loopback mode the line is disconnected from the outside world. */
    if (u->rx_len || (u->mcr & MCR_LOOP))
        return;
    uint8_t tmp[sizeof(u->rx)];
    size_t n = vmc_console_read(u->con, tmp, sizeof(tmp));
    for (size_t i = 0; i < n; i++)
        rx_push(u, tmp[i]);
}

uint8_t vmc_uart_read(struct vmc_uart *u, unsigned reg)
{
    switch (reg & 7) {
    case UART_RBR_THR:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        rx_fill(u);
        if (!u->rx_len)
            return 0;
        uint8_t c = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % sizeof(u->rx);
        u->rx_len--;
        return c;
    case UART_IER:
        return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
    case UART_IIR_FCR: {
        uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
        if (u->ier & IER_RDI) {
            rx_fill(u);
            if (u->rx_len)
                return fifo | IIR_RDI;
        }
        if ((u->ier & IER_THRI) && u->thri_pending) {
            u->thri_pending = false; /* reading IIR acknowledges the THR-empty source */
            return fifo | IIR_THRI;
        }
        return fifo | IIR_NONE;
    }
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        rx_fill(u);
        /* Once the input has ended and is drained, the line shows a break: how a guest learns of
         * end-of-file. */
        /* The transmitter is empty while the console can take a byte: a polled driver waits for THRE,
         * which is flow control for a console whose reader is slow. */
        uint8_t tx = vmc_console_space(u->con) ? LSR_THRE | LSR_TEMT : 0;
        if (u->rx_len)
            return tx | LSR_DR;
        bool eof = !(u->mcr & MCR_LOOP) && vmc_console_eof(u->con);
        return tx | (eof ? LSR_BI : 0);
    case UART_MSR:
        if (u->mcr & MCR_LOOP) /* modem outputs fed back to inputs (data sheet, MCR bit 4) */
            return (uint8_t)(((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
                             ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0));
        return MSR_CTS | MSR_DSR | MSR_DCD;
    default:
        return u->scr;
    }
}

void vmc_uart_write(struct vmc_uart *u, unsigned reg, uint8_t val)
{
    switch (reg & 7) {
    case UART_RBR_THR:
        if (u->lcr & LCR_DLAB) {
            u->dll = val;
            return;
        }
        if (u->mcr & MCR_LOOP)
            rx_push(u, val);
        else
            vmc_console_putc(u->con, val);
        u->thri_pending = true;
        return;
    case UART_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = val;
            return;
        }
        /* Enabling THRI with an empty THR raises the interrupt condition at once (8250 behaviour). */
        if ((val & IER_THRI) && !(u->ier & IER_THRI))
            u->thri_pending = true;
        u->ier = val & 0x0f;
        return;
    case UART_IIR_FCR:
        u->fcr = val & 0xc9;
        if (val & FCR_CLEAR_RX)
            u->rx_len = u->rx_head = 0;
        return;
    case UART_LCR:
        u->lcr = val;
        return;
    case UART_MCR:
        u->mcr = val & 0x1f;
        return;
    case UART_LSR:
    case UART_MSR:
        return; /* read-only (factory test writes are ignored) */
    default:
        u->scr = val;
        return;
    }
}

struct uart_dev {
    pthread_mutex_t lock; /* vCPUs share the device */
    struct vmc_uart u;
};

static int uart_io(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    (void)vcpu;
    struct uart_dev *d = opaque;
    struct vmc_uart *u = &d->u;
    uint8_t *b = data;
    pthread_mutex_lock(&d->lock);
    /* A wider access touches consecutive registers, as on the ISA bus. */
    for (uint32_t i = 0; i < len; i++) {
        unsigned reg = (unsigned)(addr - VMC_PORT_COM1 + i);
        if (reg > 7) {
            if (!write)
                b[i] = 0xff;
            continue;
        }
        if (write)
            vmc_uart_write(u, reg, b[i]);
        else
            b[i] = vmc_uart_read(u, reg);
    }
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static void uart_destroy(void *state)
{
    struct uart_dev *d = state;
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static void uart_reset(void *state)
{
    struct uart_dev *d = state;
    pthread_mutex_lock(&d->lock);
    vmc_uart_init(&d->u, d->u.con);
    pthread_mutex_unlock(&d->lock);
}

static int uart_create(struct vmc_vm *vm, void **state)
{
    struct uart_dev *d = malloc(sizeof(*d));
    if (!d)
        return -ENOMEM;
    pthread_mutex_init(&d->lock, NULL);
    vmc_uart_init(&d->u, vmc_vm_dev(vm, VMC_DEV_CONSOLE));
    int rc = vmc_vm_register_io(vm, VMC_PORT_COM1, 8, uart_io, d, VMC_IO_F_USER);
    if (rc < 0) {
        uart_destroy(d);
        return rc;
    }
    *state = d;
    return 0;
}

VMC_DEVICE(uart, "uart16550a", uart_create, uart_reset, uart_destroy);
