/* SPDX-License-Identifier: MIT */
/* The console device: a bounded output queue drained by a writer thread, and non-blocking input. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../vm.h"
#include "console.h"

struct vmc_console *vmc_console_new(int out_fd, int in_fd, uint64_t limit, int kick_signal)
{
    struct vmc_console *con = vmc_zalloc_big(sizeof(*con));
    if (!con)
        return NULL;
    pthread_mutex_init(&con->lock, NULL);
    vmc_cond_init(&con->work);
    vmc_cond_init(&con->drained);
    con->out_fd = out_fd;
    if (vmc_input_init(&con->in, in_fd) < 0) {
        vmc_free_big(con, sizeof(*con));
        return NULL;
    }
    con->limit = limit;
    con->kick_signal = kick_signal;
    return con;
}

void vmc_console_set_notify(struct vmc_console *con, void (*on_start)(void *), void (*on_space)(void *),
                            void (*on_error)(void *, int), void *arg)
{
    con->on_start = on_start;
    con->on_space = on_space;
    con->on_error = on_error;
    con->arg = arg;
}

/* Write what is due until told to stop: everything once a drain asks (quit), nothing more once it gives
 * up (abandon). write() blocks here, never in a vCPU; a signal interrupts it when a drain gives up. */
static void *writer_main(void *arg)
{
    struct vmc_console *con = arg;
    if (con->on_start)
        con->on_start(con->arg);
    pthread_mutex_lock(&con->lock);
    for (;;) {
        size_t due = con->quit ? con->len : con->due;
        if (con->abandon || (con->quit && !con->len))
            break;
        if (!due) {
            pthread_cond_wait(&con->work, &con->lock);
            continue;
        }
        size_t chunk = due < VMC_CONSOLE_RING - con->head ? due : VMC_CONSOLE_RING - con->head;
        pthread_mutex_unlock(&con->lock);
        ssize_t n = write(con->out_fd, con->ring + con->head, chunk);
        int e = n < 0 ? errno : EIO;
        pthread_mutex_lock(&con->lock);
        if (n > 0) {
            con->head = (con->head + (size_t)n) % VMC_CONSOLE_RING;
            con->len -= (size_t)n;
            con->due = con->due > (size_t)n ? con->due - (size_t)n : 0;
            con->stats.written += (uint64_t)n;
        } else if (e != EINTR && e != EAGAIN) {
            con->stats.error = -e;
            con->stats.dropped += con->len;
            con->len = con->due = 0;
        }
        bool failed = n <= 0 && e != EINTR && e != EAGAIN;
        void (*space)(void *) = con->on_space;
        void (*error)(void *, int) = failed ? con->on_error : NULL;
        /* Callbacks take the scheduler's lock: never under this one (docs/architecture.md, lock order). */
        pthread_mutex_unlock(&con->lock);
        if (error)
            error(con->arg, -e);
        else if (n > 0 && space)
            space(con->arg);
        pthread_mutex_lock(&con->lock);
        pthread_cond_broadcast(&con->drained);
    }
    con->writer_running = false;
    pthread_cond_broadcast(&con->drained);
    pthread_mutex_unlock(&con->lock);
    return NULL;
}

/* Start the writer if it is not running (the lock held); a thread that ran before is joined first. */
static void start_writer_locked(struct vmc_console *con)
{
    if (con->writer_running)
        return;
    if (con->writer)
        pthread_join(con->writer, NULL);
    con->writer = 0;
    if (pthread_create(&con->writer, NULL, writer_main, con) == 0)
        con->writer_running = true;
}

size_t vmc_console_write(struct vmc_console *con, const uint8_t *buf, size_t len)
{
    if (con->out_fd < 0 || len == 0)
        return len;
    pthread_mutex_lock(&con->lock);
    size_t take = len;
    if (con->stats.error) {
        con->stats.dropped += len; /* the output is gone: nothing to wait for */
    } else {
        uint64_t room =
            con->limit ? con->limit - (con->accepted < con->limit ? con->accepted : con->limit) : len;
        size_t allow = room < len ? (size_t)room : len, n = VMC_CONSOLE_RING - con->len;
        n = n < allow ? n : allow;
        for (size_t i = 0; i < n; i++) {
            con->ring[(con->head + con->len++) % VMC_CONSOLE_RING] = buf[i];
            /* Line-buffered: a line is due once complete; half a queue is due regardless. */
            if (buf[i] == '\n' || con->len >= VMC_CONSOLE_RING / 2)
                con->due = con->len;
        }
        con->accepted += n;
        con->stats.dropped += len - allow;
        take = n < allow ? n : len;
        if (con->due) {
            start_writer_locked(con);
            pthread_cond_signal(&con->work);
        }
    }
    pthread_mutex_unlock(&con->lock);
    return take;
}

void vmc_console_putc(struct vmc_console *con, uint8_t c)
{
    if (vmc_console_write(con, &c, 1) == 0) {
        pthread_mutex_lock(&con->lock);
        con->stats.dropped++;
        pthread_mutex_unlock(&con->lock);
    }
}

bool vmc_console_space(struct vmc_console *con)
{
    pthread_mutex_lock(&con->lock);
    bool room = con->out_fd < 0 || con->stats.error || con->len < VMC_CONSOLE_RING;
    pthread_mutex_unlock(&con->lock);
    return room;
}

void vmc_console_push(struct vmc_console *con)
{
    pthread_mutex_lock(&con->lock);
    if (con->len && !con->stats.error) {
        con->due = con->len;
        start_writer_locked(con);
        pthread_cond_signal(&con->work);
    }
    pthread_mutex_unlock(&con->lock);
}

bool vmc_console_empty(struct vmc_console *con)
{
    pthread_mutex_lock(&con->lock);
    bool empty = con->out_fd < 0 || con->stats.error || con->len == 0;
    pthread_mutex_unlock(&con->lock);
    return empty;
}

/* Stop the writer, interrupting a write() it is stuck in, and join it. */
static void stop_writer(struct vmc_console *con)
{
    pthread_mutex_lock(&con->lock);
    con->abandon = true;
    pthread_cond_signal(&con->work);
    bool running = con->writer_running;
    pthread_t t = con->writer;
    pthread_mutex_unlock(&con->lock);
    if (running) {
        struct timespec ts;
        do {
            pthread_kill(t, con->kick_signal);
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 10000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
        } while (pthread_timedjoin_np(t, NULL, &ts) == ETIMEDOUT);
    } else if (t) {
        pthread_join(t, NULL);
    }
    pthread_mutex_lock(&con->lock);
    con->writer = 0;
    con->abandon = false;
    con->stats.unwritten += con->len;
    con->len = con->due = 0;
    pthread_mutex_unlock(&con->lock);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

int vmc_console_drain(struct vmc_console *con, uint64_t deadline)
{
    pthread_mutex_lock(&con->lock);
    int rc = 0;
    if (con->len && !con->stats.error) {
        con->quit = true;
        start_writer_locked(con);
        pthread_cond_signal(&con->work);
        while (con->len && rc == 0) {
            uint64_t until = earliest(deadline, con->cancel_deadline);
            struct timespec ts = { (time_t)(until / 1000000000ull), (long)(until % 1000000000ull) };
            if ((until ? pthread_cond_timedwait(&con->drained, &con->lock, &ts)
                       : pthread_cond_wait(&con->drained, &con->lock)) == ETIMEDOUT &&
                con->len)
                rc = -ETIMEDOUT;
        }
    }
    con->quit = false;
    pthread_mutex_unlock(&con->lock);
    if (rc)
        stop_writer(con); /* gives up what is left */
    return rc;
}

void vmc_console_cancel(struct vmc_console *con)
{
    pthread_mutex_lock(&con->lock);
    if (!con->cancel_deadline)
        con->cancel_deadline = vmc_now_ns() + VMC_CONSOLE_GRACE_NS;
    pthread_cond_broadcast(&con->drained);
    pthread_mutex_unlock(&con->lock);
}

void vmc_console_rearm(struct vmc_console *con)
{
    pthread_mutex_lock(&con->lock);
    con->cancel_deadline = 0;
    pthread_mutex_unlock(&con->lock);
}

void vmc_console_get_stats(struct vmc_console *con, struct vmc_console_stats *out)
{
    pthread_mutex_lock(&con->lock);
    *out = con->stats;
    pthread_mutex_unlock(&con->lock);
}

void vmc_console_free(struct vmc_console *con)
{
    if (!con)
        return;
    stop_writer(con);
    vmc_input_destroy(&con->in);
    pthread_cond_destroy(&con->work);
    pthread_cond_destroy(&con->drained);
    pthread_mutex_destroy(&con->lock);
    vmc_free_big(con, sizeof(*con));
}

size_t vmc_console_read(struct vmc_console *con, uint8_t *buf, size_t len)
{
    return vmc_input_read(&con->in, buf, len);
}

bool vmc_console_eof(struct vmc_console *con)
{
    return vmc_input_eof(&con->in);
}

static int console_create(struct vmc_vm *vm, void **state)
{
    *state = vmc_console_new(vm->cfg.console_out_fd, vm->cfg.console_in_fd, vm->cfg.console_limit,
                             vm->kvm->kick_signal);
    return *state ? 0 : -ENOMEM;
}

static void console_reset(void *state)
{
    vmc_console_drain(state, 0);
}

static void console_destroy(void *state)
{
    vmc_console_free(state);
}

VMC_DEVICE(console, "console", console_create, console_reset, console_destroy);
