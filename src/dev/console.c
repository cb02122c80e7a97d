/* SPDX-License-Identifier: MIT */
/* The console device: line-buffered output to a file descriptor, non-blocking input from another. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vm.h"
#include "console.h"

struct vmc_console *vmc_console_new(int out_fd, int in_fd)
{
    struct vmc_console *con = calloc(1, sizeof(*con));
    if (!con)
        return NULL;
    pthread_mutex_init(&con->lock, NULL);
    con->out_fd = out_fd;
    con->in_fd = in_fd;
    return con;
}

static void flush_locked(struct vmc_console *con)
{
    size_t done = 0;
    while (done < con->len && con->out_fd >= 0) {
        ssize_t n = write(con->out_fd, con->buf + done, con->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* a closed or full sink must not wedge the VM; the guest cannot be told anyway */
        done += (size_t)n;
    }
    con->len = 0;
}

void vmc_console_flush(struct vmc_console *con)
{
    pthread_mutex_lock(&con->lock);
    flush_locked(con);
    pthread_mutex_unlock(&con->lock);
}

void vmc_console_free(struct vmc_console *con)
{
    if (!con)
        return;
    vmc_console_flush(con);
    pthread_mutex_destroy(&con->lock);
    free(con);
}

void vmc_console_write(struct vmc_console *con, const uint8_t *buf, size_t len)
{
    if (con->out_fd < 0)
        return;
    pthread_mutex_lock(&con->lock);
    for (size_t i = 0; i < len; i++) {
        con->buf[con->len++] = (char)buf[i];
        /* Line-buffered: interactive output appears per line, a chatty guest costs one write per line. */
        if (buf[i] == '\n' || con->len == sizeof(con->buf))
            flush_locked(con);
    }
    pthread_mutex_unlock(&con->lock);
}

void vmc_console_putc(struct vmc_console *con, uint8_t c)
{
    vmc_console_write(con, &c, 1);
}

static size_t read_locked(struct vmc_console *con, uint8_t *buf, size_t len)
{
    if (con->in_fd < 0 || con->in_eof || len == 0)
        return 0;
    /* poll first: the input may be a terminal or pipe shared with other processes, so its file status
     * flags are not ours to switch to O_NONBLOCK. */
    struct pollfd pfd = { .fd = con->in_fd, .events = POLLIN };
    if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
        return 0;
    ssize_t n = read(con->in_fd, buf, len);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        con->in_eof = true;
        return 0;
    }
    return n > 0 ? (size_t)n : 0;
}

size_t vmc_console_read(struct vmc_console *con, uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&con->lock);
    size_t n = read_locked(con, buf, len);
    pthread_mutex_unlock(&con->lock);
    return n;
}

bool vmc_console_eof(struct vmc_console *con)
{
    pthread_mutex_lock(&con->lock);
    bool eof = con->in_fd < 0 || con->in_eof;
    pthread_mutex_unlock(&con->lock);
    return eof;
}

static int console_create(struct vmc_vm *vm, void **state)
{
    *state = vmc_console_new(vm->cfg.console_out_fd, vm->cfg.console_in_fd);
    return *state ? 0 : -ENOMEM;
}

static void console_reset(void *state)
{
    vmc_console_flush(state);
}

static void console_destroy(void *state)
{
    vmc_console_free(state);
}

VMC_DEVICE(console, "console", console_create, console_reset, console_destroy);
