/* SPDX-License-Identifier: MIT */
/* Console input: reads that never block a vCPU, and a watcher thread that says when input has come. */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../util.h"
#include "input.h"

int vmc_input_init(struct vmc_input *in, int fd)
{
    *in = (struct vmc_input){ .fd = fd, .wake_fd = -1 };
    pthread_mutex_init(&in->lock, NULL);
    int rc = vmc_cond_init(&in->arm);
    /* Made now, not when a guest first waits: a sandboxed VMM creates no descriptors later. */
    if (rc == 0 && fd >= 0 && (in->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        rc = -errno;
    return rc;
}

void vmc_input_set_notify(struct vmc_input *in, void (*on_input)(void *), void *arg)
{
    in->on_input = on_input;
    in->arg = arg;
}

/*
 * The watcher: once armed, poll the input (and wake_fd, to be told to stop); when input or its end comes,
 * mark it ready, disarm and tell the VM, whose waiting vCPU then reads. Polling only while armed means
 * no spinning on input that sits unread.
 */
static void *watcher_main(void *arg)
{
    struct vmc_input *in = arg;
    pthread_mutex_lock(&in->lock);
    while (!in->quit) {
        if (!in->armed) {
            pthread_cond_wait(&in->arm, &in->lock);
            continue;
        }
        pthread_mutex_unlock(&in->lock);
        struct pollfd p[2] = { { .fd = in->fd, .events = POLLIN }, { .fd = in->wake_fd, .events = POLLIN } };
        int n = poll(p, 2, -1);
        uint64_t v;
        if (n > 0 && p[1].revents && read(in->wake_fd, &v, sizeof(v)) < 0)
            v = 0;
        pthread_mutex_lock(&in->lock);
        if (n <= 0 || !p[0].revents || in->quit)
            continue; /* interrupted, or told to stop */
        in->ready = true;
        in->armed = false;
        pthread_mutex_unlock(&in->lock);
        if (in->on_input)
            in->on_input(in->arg);
        pthread_mutex_lock(&in->lock);
    }
    pthread_mutex_unlock(&in->lock);
    return NULL;
}

void vmc_input_arm(struct vmc_input *in)
{
    pthread_mutex_lock(&in->lock);
    in->ready = in->fd < 0 || in->eof;
    if (!in->ready) {
        in->armed = true;
        if (!in->running)
            in->running = pthread_create(&in->watcher, NULL, watcher_main, in) == 0;
        pthread_cond_signal(&in->arm);
    }
    pthread_mutex_unlock(&in->lock);
}

bool vmc_input_ready(struct vmc_input *in)
{
    pthread_mutex_lock(&in->lock);
    bool r = in->ready || in->fd < 0 || in->eof;
    pthread_mutex_unlock(&in->lock);
    return r;
}

void vmc_input_destroy(struct vmc_input *in)
{
    pthread_mutex_lock(&in->lock);
    in->quit = true;
    pthread_cond_signal(&in->arm);
    bool running = in->running;
    pthread_mutex_unlock(&in->lock);
    if (running) {
        uint64_t one = 1;
        ssize_t w = write(in->wake_fd, &one, sizeof(one)); /* cannot fail: the counter is far from full */
        (void)w;
        pthread_join(in->watcher, NULL);
    }
    if (in->wake_fd >= 0)
        close(in->wake_fd);
    pthread_cond_destroy(&in->arm);
    pthread_mutex_destroy(&in->lock);
}

size_t vmc_input_read(struct vmc_input *in, uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&in->lock);
    ssize_t n = 0;
    /* poll first: the input may be a terminal or pipe shared with other processes, so its file status
     * flags are not ours to switch to O_NONBLOCK. */
    struct pollfd pfd = { .fd = in->fd, .events = POLLIN };
    if (in->fd >= 0 && !in->eof && len && poll(&pfd, 1, 0) > 0 &&
        (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
        n = read(in->fd, buf, len);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            in->eof = true;
    }
    pthread_mutex_unlock(&in->lock);
    return n > 0 ? (size_t)n : 0;
}

bool vmc_input_eof(struct vmc_input *in)
{
    pthread_mutex_lock(&in->lock);
    bool eof = in->fd < 0 || in->eof;
    pthread_mutex_unlock(&in->lock);
    return eof;
}
