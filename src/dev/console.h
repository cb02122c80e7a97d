/* SPDX-License-Identifier: MIT */
/* The console device: buffered output shared by the console ports and hypercalls, non-blocking input. */
#ifndef VMCALL_SRC_DEV_CONSOLE_H
#define VMCALL_SRC_DEV_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmc_console {
    pthread_mutex_t lock; /* vCPUs write concurrently */
    int out_fd, in_fd;
    bool in_eof;
    size_t len;
    char buf[4096];
};

/* Create a console on these fds (-1: none), as the device does; tests use it directly. */
struct vmc_console *vmc_console_new(int out_fd, int in_fd);
void vmc_console_free(struct vmc_console *con);
void vmc_console_putc(struct vmc_console *con, uint8_t c);
/* One lock hold per call: a line written by one vCPU is not interleaved with another's. */
void vmc_console_write(struct vmc_console *con, const uint8_t *buf, size_t len);
void vmc_console_flush(struct vmc_console *con);
/* Read up to len bytes without blocking: the count, 0 when nothing is available now. */
size_t vmc_console_read(struct vmc_console *con, uint8_t *buf, size_t len);
/* Has input ended (or is there none)? */
bool vmc_console_eof(struct vmc_console *con);

#endif /* VMCALL_SRC_DEV_CONSOLE_H */
