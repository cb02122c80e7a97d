/* SPDX-License-Identifier: MIT */
/* Console plumbing for the console devices: buffered output, non-blocking input. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "../internal.h"

void vmc_console_init(struct vmc_console *con, int out_fd, int in_fd)
{
    memset(con, 0, sizeof(*con));
    pthread_mutex_init(&con->lock, NULL);
    con->out_fd = out_fd;
    con->in_fd = in_fd;
}

void vmc_console_destroy(struct vmc_console *con)
{
    pthread_mutex_destroy(&con->lock);
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

static void putc_locked(struct vmc_console *con, uint8_t c)
{
    con->buf[con->len++] = (char)c;
    /* Line-buffered: interactive output appears per line, a chatty guest costs one write per line. */
    if (c == '\n' || con->len == sizeof(con->buf))
        flush_locked(con);
}

void vmc_console_putc(struct vmc_console *con, uint8_t c)
{
    vmc_console_write(con, &c, 1);
}

/* One lock hold per call: a line written by one vCPU is not interleaved with another's. */
void vmc_console_write(struct vmc_console *con, const uint8_t *buf, size_t len)
{
    if (con->out_fd < 0)
        return;
    pthread_mutex_lock(&con->lock);
    for (size_t i = 0; i < len; i++)
        putc_locked(con, buf[i]);
    pthread_mutex_unlock(&con->lock);
}

static size_t read_locked(struct vmc_console *con, uint8_t *buf, size_t len)
{
    if (con->in_fd < 0 || con->in_eof || len == 0)
        return 0;
    /* poll first: the input may be a terminal or pipe shared with other processes, so its file status
     * flags are not ours to switch to O_NONBLOCK. */
    struct pollfd pfd = { .fd = con->in_fd, .events = POLLIN };
    if (poll(&pfd, 1, 0) <= 0)
        return 0;
    if (!(pfd.revents & (POLLIN | POLLHUP)))
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
