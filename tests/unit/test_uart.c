/* SPDX-License-Identifier: MIT */
/* Unit tests: 16550A register behaviour as a polled driver sees it, with pipes for the console. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "../../src/dev/console.h"
#include "../../src/dev/uart.h"
#include "../tap.h"
#include "fakevm.h"

enum { RBR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

/* What the console's writer thread has written to fd within `ms` milliseconds (output is asynchronous). */
static size_t drain_wait(int fd, char *buf, size_t len, int ms)
{
    size_t got = 0;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (got < len - 1 && poll(&p, 1, ms) > 0) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        ms = 20; /* the rest of a write follows at once */
    }
    buf[got] = 0;
    return got;
}

static size_t drain(int fd, char *buf, size_t len)
{
    return drain_wait(fd, buf, len, 2000);
}

static void on_kick(int sig)
{
    (void)sig;
}

int main(void)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return 2;
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    struct vmc_console *con = vmc_console_new(out[1], in[0], 0, SIGRTMIN);
    struct vmc_uart u;
    vmc_uart_init(&u, con);
    char buf[64];

    is_u64(vmc_uart_read(&u, LSR), 0x60, "idle: THRE|TEMT, no data, no break");
    is_u64(vmc_uart_read(&u, IIR), 0x01, "IIR: no interrupt pending, FIFOs off");
    is_u64(vmc_uart_read(&u, LCR), 0x03, "reset LCR is 8N1");
    is_u64(vmc_uart_read(&u, MSR), 0xb0, "MSR: CTS, DSR, DCD asserted");

    const char *msg = "hi\n";
    for (const char *p = msg; *p; p++)
        vmc_uart_write(&u, RBR, (uint8_t)*p);
    drain(out[0], buf, sizeof(buf));
    is_str(buf, "hi\n", "THR bytes reach the console at end of line");
    vmc_uart_write(&u, RBR, 'x');
    is_int(drain_wait(out[0], buf, sizeof(buf), 50), 0, "a partial line is buffered");
    vmc_console_drain(con, 0);
    drain(out[0], buf, sizeof(buf));
    is_str(buf, "x", "and appears on flush");

    vmc_uart_write(&u, LCR, 0x83);
    vmc_uart_write(&u, RBR, 0x01);
    vmc_uart_write(&u, IER, 0x02);
    is_u64(vmc_uart_read(&u, RBR), 0x01, "DLAB: offset 0 is DLL");
    is_u64(vmc_uart_read(&u, IER), 0x02, "DLAB: offset 1 is DLM");
    vmc_uart_write(&u, LCR, 0x03);
    is_u64(vmc_uart_read(&u, IER), 0x00, "DLAB off: IER untouched by divisor writes");
    is_int(drain_wait(out[0], buf, sizeof(buf), 50), 0, "divisor writes send nothing");

    vmc_uart_write(&u, SCR, 0xa5);
    is_u64(vmc_uart_read(&u, SCR), 0xa5, "scratch register holds a byte");

    vmc_uart_write(&u, IIR, 0x07); /* FCR: enable + clear */
    is_u64(vmc_uart_read(&u, IIR), 0xc1, "FIFO enabled shows in IIR bits 7:6");
    vmc_uart_write(&u, IER, 0x02);
    is_u64(vmc_uart_read(&u, IIR), 0xc2, "enabling THRI with THR empty: THR-empty identified");
    is_u64(vmc_uart_read(&u, IIR), 0xc1, "reading IIR acknowledged it");

    if (write(in[1], "ab", 2) != 2)
        return 2;
    is_u64(vmc_uart_read(&u, LSR), 0x61, "input pending: LSR.DR set");
    vmc_uart_write(&u, IER, 0x01);
    is_u64(vmc_uart_read(&u, IIR), 0xc4, "RDI enabled with data: received-data identified");
    is_u64(vmc_uart_read(&u, RBR), 'a', "first byte");
    is_u64(vmc_uart_read(&u, RBR), 'b', "second byte");
    is_u64(vmc_uart_read(&u, LSR), 0x60, "drained, input still open: no DR, no break");
    close(in[1]);
    is_u64(vmc_uart_read(&u, LSR), 0x70, "input closed: break indicated (LSR.BI)");
    is_u64(vmc_uart_read(&u, RBR), 0, "RBR reads 0 when empty");

    vmc_uart_write(&u, MCR, 0x1f); /* loopback + all modem outputs */
    is_u64(vmc_uart_read(&u, MSR), 0xf0, "loopback: MCR outputs appear on MSR inputs");
    vmc_uart_write(&u, RBR, 'L');
    is_u64(vmc_uart_read(&u, LSR), 0x61, "loopback: transmitted byte is received, no break");
    is_u64(vmc_uart_read(&u, RBR), 'L', "loopback byte read back");
    vmc_console_drain(con, 0);
    is_int(drain_wait(out[0], buf, sizeof(buf), 50), 0, "loopback sends nothing out");
    vmc_uart_write(&u, MCR, 0x03);
    is_u64(vmc_uart_read(&u, MCR), 0x03, "MCR reads back");
    vmc_uart_write(&u, LSR, 0x00);
    is_u64(vmc_uart_read(&u, LSR) & 0x60, 0x60, "LSR is read-only");

    for (int i = 0; i < 20; i++) /* 16-byte receive FIFO: overflow drops, never overruns memory */
        vmc_uart_write(&u, MCR, 0x13), vmc_uart_write(&u, RBR, (uint8_t)('A' + i));
    int got = 0;
    while (vmc_uart_read(&u, LSR) & 1)
        got++, vmc_uart_read(&u, RBR);
    is_int(got, 16, "receive FIFO holds 16 bytes");

    /* Flow control: with a reader that stopped reading, THRE clears once the console's queue is full, and
     * comes back when the reader reads again (a polled driver then waits instead of losing bytes). */
    int slow[2];
    signal(SIGPIPE, SIG_IGN);
    signal(SIGRTMIN, on_kick); /* the kick the console's cancel sends its writer (vmc_kvm_open installs it) */
    if (pipe(slow) != 0)
        abort();
    struct vmc_console *stuck = vmc_console_new(slow[1], -1, 0, SIGRTMIN);
    vmc_uart_init(&u, stuck);
    int sent = 0;
    while (sent < 1000000 && (vmc_uart_read(&u, LSR) & 0x20))
        vmc_uart_write(&u, RBR, (uint8_t)('a' + sent++ % 26));
    ok(!(vmc_uart_read(&u, LSR) & 0x20) && sent >= 65536,
       "THRE clears when the console queue is full (%d bytes)", sent);
    fcntl(slow[0], F_SETFL, O_NONBLOCK);
    char sink[65536];
    bool back = false;
    for (int i = 0; i < 2000 && !back; i++) {
        while (read(slow[0], sink, sizeof(sink)) > 0)
            ;
        back = (vmc_uart_read(&u, LSR) & 0x20) != 0;
        usleep(1000);
    }
    ok(back, "and comes back once the reader reads again");
    close(slow[0]);
    vmc_console_cancel(stuck);
    vmc_console_free(stuck);
    close(slow[1]);

    struct vmc_console *none = vmc_console_new(-1, -1, 0, SIGRTMIN);
    vmc_uart_init(&u, none);
    vmc_uart_write(&u, RBR, 'z');
    is_u64(vmc_uart_read(&u, LSR), 0x70, "no input source reads as ended");
    vmc_console_free(none);
    vmc_console_free(con);

    /* The device's reset puts the registers back to their power-on values (snapshots restore through it). */
    struct vmc_vm *vm = fake_vm(2 << 20, VMC_HCABI_KVM);
    uint8_t *data = (uint8_t *)vm->vcpus[0].run + 4096;
    *data = 0x80;
    fake_io(vm, VMC_PORT_COM1 + LCR, 1, true, 1); /* DLAB on */
    *data = 0x01;
    fake_io(vm, VMC_PORT_COM1 + RBR, 1, true, 1); /* divisor 1: 115200 baud */
    *data = 0x5a;
    fake_io(vm, VMC_PORT_COM1 + SCR, 1, true, 1);
    vmc_devices[VMC_DEV_UART]->reset(vmc_vm_dev(vm, VMC_DEV_UART));
    fake_io(vm, VMC_PORT_COM1 + LCR, 1, false, 1);
    is_u64(*data, 0x03, "after reset: LCR 8N1, DLAB off");
    fake_io(vm, VMC_PORT_COM1 + SCR, 1, false, 1);
    is_u64(*data, 0, "after reset: scratch register clear");
    ok(vmc_devices[VMC_DEV_CONSOLE]->reset && vmc_devices[VMC_DEV_BLOCK]->reset,
       "the console and the block device have reset operations too");
    vmc_vm_destroy(vm);
    close(in[0]);
    close(out[0]);
    close(out[1]);
    return tap_done();
}
