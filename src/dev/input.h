/* SPDX-License-Identifier: MIT */
/* Console input: reads that never block a vCPU, and a watcher thread that says when input has come. */
#ifndef VMCALL_SRC_DEV_INPUT_H
#define VMCALL_SRC_DEV_INPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmc_input {
    pthread_mutex_t lock;
    pthread_cond_t arm; /* the watcher: watch again, or stop */
    int fd;             /* the input descriptor, -1: none */
    int wake_fd;        /* an eventfd that ends the watcher's poll when it must stop */
    bool eof;           /* the input has ended (or failed) */
    bool armed, ready;  /* a reader waits for input / input (or its end) has come since it armed */
    bool running, quit; /* the watcher thread */
    pthread_t watcher;
    void (*on_input)(void *arg); /* input came for an armed reader (the watcher thread calls it) */
    void *arg;
};

/* Input from fd (-1: none); the watcher starts only when someone first waits. -errno on failure. */
int vmc_input_init(struct vmc_input *in, int fd);
void vmc_input_destroy(struct vmc_input *in);
void vmc_input_set_notify(struct vmc_input *in, void (*on_input)(void *), void *arg);
/* What is there now, at most len bytes, without blocking: 0 when nothing is (see vmc_input_eof). */
size_t vmc_input_read(struct vmc_input *in, uint8_t *buf, size_t len);
bool vmc_input_eof(struct vmc_input *in);
/* A reader found nothing and will wait: from now on, input or its end calls on_input once. */
void vmc_input_arm(struct vmc_input *in);
/* Has input (or its end) come since the last vmc_input_arm? What a waiting reader's wake-up checks. */
bool vmc_input_ready(struct vmc_input *in);

#endif /* VMCALL_SRC_DEV_INPUT_H */
