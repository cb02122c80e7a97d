/* SPDX-License-Identifier: MIT */
/* The console device: output queued for a writer thread (a stuck reader never stalls a vCPU), input. */
#ifndef VMCALL_SRC_DEV_CONSOLE_H
#define VMCALL_SRC_DEV_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "input.h"

#define VMC_CONSOLE_RING (64u * 1024) /* bytes queued before writers wait */

struct vmc_console_stats {
    uint64_t written;   /* bytes the output descriptor took */
    uint64_t dropped;   /* bytes past the output limit, or after a write error */
    uint64_t unwritten; /* bytes queued but given up on (a drain that timed out or was cancelled) */
    int error;          /* the first write error (a negative errno), 0 if none */
};

struct vmc_console {
    pthread_mutex_t lock;
    pthread_cond_t work;    /* the writer: bytes are due, or it must stop */
    pthread_cond_t drained; /* a drain: the ring emptied, or it must give up */
    int out_fd, kick_signal;
    struct vmc_input in; /* input has a lock and a thread of its own */
    uint8_t ring[VMC_CONSOLE_RING];
    size_t head, len, due; /* due: bytes from head to write now (through the last newline, or all) */
    uint64_t limit;        /* bytes accepted at most, 0: unlimited */
    uint64_t accepted;
    struct vmc_console_stats stats;
    bool writer_running, quit, abandon;
    uint64_t cancel_deadline; /* vmc_console_cancel: drains end by then (monotonic ns), 0: not cancelled */
    pthread_t writer;
    void (*on_start)(void *arg);          /* the writer thread starts (it may restrict itself) */
    void (*on_space)(void *arg);          /* bytes were written: writers waiting for room may go on */
    void (*on_error)(void *arg, int err); /* the output descriptor failed */
    void *arg;
};

/* A console on these descriptors (-1: none). kick_signal interrupts a writer stuck in write(). */
struct vmc_console *vmc_console_new(int out_fd, int in_fd, uint64_t limit, int kick_signal);
/* Free it; output still queued is given up (vmc_console_drain first to keep it). */
void vmc_console_free(struct vmc_console *con);
void vmc_console_set_notify(struct vmc_console *con, void (*on_start)(void *), void (*on_space)(void *),
                            void (*on_error)(void *, int), void *arg);
/* Queue output. Returns how many bytes were taken (queued, or dropped past the limit or after a write
 * error): fewer than len only when the queue is full, and then the caller waits for room (on_space). */
size_t vmc_console_write(struct vmc_console *con, const uint8_t *buf, size_t len);
/* One byte from a device without flow control: dropped, and counted, when the queue is full. */
void vmc_console_putc(struct vmc_console *con, uint8_t c);
/* Is there room for at least one more byte? */
bool vmc_console_space(struct vmc_console *con);
/* Make everything queued due now, an unfinished line too (output is otherwise line-buffered). */
void vmc_console_push(struct vmc_console *con);
/* Is everything queued written (or given up on)? */
bool vmc_console_empty(struct vmc_console *con);
/*
 * Write out everything queued, an unfinished line too. Waits for the writer until it is done or until
 * `deadline` (monotonic ns, 0: no limit), and after vmc_console_cancel at most VMC_CONSOLE_GRACE_NS more;
 * then what is left is given up and counted as unwritten (-ETIMEDOUT).
 */
int vmc_console_drain(struct vmc_console *con, uint64_t deadline);
#define VMC_CONSOLE_GRACE_NS 1000000000ull
/* Any thread: drains from now on (one in progress too) end within VMC_CONSOLE_GRACE_NS. */
void vmc_console_cancel(struct vmc_console *con);
/* Forget a cancel (a new run starts). */
void vmc_console_rearm(struct vmc_console *con);
void vmc_console_get_stats(struct vmc_console *con, struct vmc_console_stats *out);
/* Read up to len bytes without blocking: the count, 0 when nothing is available now. */
size_t vmc_console_read(struct vmc_console *con, uint8_t *buf, size_t len);
/* Has input ended (or is there none)? */
bool vmc_console_eof(struct vmc_console *con);

#endif /* VMCALL_SRC_DEV_CONSOLE_H */
