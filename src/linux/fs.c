/* SPDX-License-Identifier: MIT */
/* The Linux personality's descriptors and files: the console on 0-2, host files beneath --root. */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "../dev/console.h"
#include "../hc/console.h"
#include "calls.h"

#define IO_MAX (1u << 20) /* bytes one read or write moves; Linux may return less, programs loop */

struct vmc_lx_fd *vmc_lx_fd_get(struct vmc_linux *lx, uint64_t fd)
{
    if (fd >= VMC_LX_FD_MAX)
        return NULL;
    struct vmc_lx_fd *f = &lx->fd[vmc_index_nospec((uint32_t)fd, VMC_LX_FD_MAX)];
    return f->kind == LX_FD_FREE ? NULL : f;
}

int64_t vmc_lx_fd_install(struct vmc_linux *lx, uint64_t from, const struct vmc_lx_fd *e)
{
    for (uint64_t i = from; i < VMC_LX_FD_MAX; i++)
        if (lx->fd[i].kind == LX_FD_FREE) {
            lx->fd[i] = *e;
            return (int64_t)i;
        }
    return -EMFILE;
}

void vmc_lx_fd_close(struct vmc_lx_fd *f)
{
    if (f->kind == LX_FD_HOST)
        close(f->host);
    free(f->path);
    *f = (struct vmc_lx_fd){ 0 };
}

/* The host descriptor behind a console entry: the VMM's own stdin, stdout or stderr. */
static int console_host(const struct vmc_lx_fd *f)
{
    return f->kind == LX_FD_STDIN ? 0 : f->kind == LX_FD_STDOUT ? 1 : 2;
}

/* The host descriptor behind any entry, for what only reads its state (stat, statfs, flags). */
static int host_of(const struct vmc_lx_fd *f)
{
    return f->kind == LX_FD_HOST ? f->host : console_host(f);
}

/* ---- paths ------------------------------------------------------------------------------------------ */

/* A NUL-terminated path from the guest, read once, at most size - 1 bytes; -EFAULT or -ENAMETOOLONG. */
int64_t vmc_lx_path(const struct vmc_hcall *hc, uint64_t addr, char *out, size_t size)
{
    size_t n = 0;
    while (n < size) {
        size_t chunk = 4096 - ((addr + n) & 4095);
        if (chunk > size - n)
            chunk = size - n;
        if (vmc_hc_copy_from(hc, out + n, addr + n, chunk))
            return -EFAULT;
        char *nul = memchr(out + n, 0, chunk);
        if (nul)
            return nul == out ? -ENOENT : 0;
        n += chunk;
    }
    return -ENAMETOOLONG;
}

/* dir + "/" + path, for a path relative to dir (an absolute one replaces it): what the kernel resolves
 * beneath the root (RESOLVE_IN_ROOT keeps "..", absolute paths and symlinks inside it). */
static int64_t join(const char *dir, const char *path, char *out, size_t size)
{
    int n = path[0] == '/' ? snprintf(out, size, "%s", path) : snprintf(out, size, "%s/%s", dir, path);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The directory a *at() call is relative to: the working directory or a directory descriptor's path. */
static int64_t base_dir(struct vmc_linux *lx, int64_t dirfd, const char **dir)
{
    if ((int32_t)dirfd == AT_FDCWD) {
        *dir = lx->cwd;
        return 0;
    }
    struct vmc_lx_fd *f = vmc_lx_fd_get(lx, (uint64_t)dirfd);
    if (!f)
        return -EBADF;
    if (!f->path)
        return -ENOTDIR;
    *dir = f->path;
    return 0;
}

/* The guest's path (relative to dirfd) as a path from the root, in out; -ENOENT without a file system. */
static int64_t full_path(struct vmc_hcall *hc, int64_t dirfd, uint64_t upath, char *out, size_t size)
{
    struct vmc_linux *lx = vmc_lx(hc);
    char path[4096];
    const char *dir;
    int64_t rc = vmc_lx_path(hc, upath, path, sizeof(path));
    if (rc == 0)
        rc = base_dir(lx, dirfd, &dir);
    if (rc == 0)
        rc = join(dir, path, out, size);
    return rc < 0 ? rc : lx->root < 0 ? -ENOENT : 0;
}

/* The one way a path is opened on the host: beneath the root, by the kernel (RESOLVE_IN_ROOT). */
static int64_t openat2_in_root(const struct vmc_linux *lx, const char *path, uint64_t flags, uint64_t mode)
{
    struct open_how how = { .flags = flags,
                            .mode = flags & (O_CREAT | __O_TMPFILE) ? mode & 07777 & ~lx->umask : 0,
                            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    long fd = syscall(SYS_openat2, lx->root, path, &how, sizeof(how));
    return fd < 0 ? -errno : fd;
}

int64_t vmc_lx_open_in_root(struct vmc_hcall *hc, int64_t dirfd, uint64_t upath, uint64_t flags,
                            uint64_t mode, char *full, size_t fullsize)
{
    struct vmc_linux *lx = vmc_lx(hc);
    char buf[8192];
    int64_t rc = full_path(hc, dirfd, upath, full ? full : buf, full ? fullsize : sizeof(buf));
    if (rc < 0)
        return rc;
    bool ours;
    rc = vmc_lx_procfs_open(hc->vcpu->vm, full ? full : buf, flags, &ours);
    if (ours)
        return rc;
    if (!lx->rw && ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND))))
        return -EROFS;
    /* openat2 is strict: O_PATH takes no other flags but O_DIRECTORY and O_NOFOLLOW. The VMM's thread
     * must never sleep in the host (a cancel could not reach it): FIFOs open and are read without
     * blocking, and a program that asked to wait is made to wait in the VMM (transfer()). */
    uint64_t extra = (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    return openat2_in_root(lx, full ? full : buf, flags | extra, mode);
}

static int64_t openat_common(struct vmc_hcall *hc, int64_t dirfd, uint64_t upath, uint64_t flags,
                             uint64_t mode)
{
    struct vmc_linux *lx = vmc_lx(hc);
    char full[8192];
    int64_t host = vmc_lx_open_in_root(hc, dirfd, upath, flags, mode, full, sizeof(full));
    if (host < 0)
        return host;
    struct stat st;
    struct vmc_lx_fd e = { .kind = LX_FD_HOST,
                           .host = (int)host,
                           .cloexec = (flags & O_CLOEXEC) != 0,
                           .nonblock = (flags & O_NONBLOCK) != 0 };
    if (fstat((int)host, &st) == 0 && S_ISDIR(st.st_mode) && !(e.path = strdup(full))) {
        close((int)host);
        return -ENOMEM;
    }
    int64_t fd = vmc_lx_fd_install(lx, 0, &e);
    if (fd < 0)
        vmc_lx_fd_close(&e);
    return fd;
}

int64_t vmc_lx_openat(struct vmc_hcall *hc)
{
    return openat_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2], hc->a.args[3]);
}

int64_t vmc_lx_open(struct vmc_hcall *hc)
{
    return openat_common(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1], hc->a.args[2]);
}

int64_t vmc_lx_close(struct vmc_hcall *hc)
{
    struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), hc->a.args[0]);
    if (!f)
        return -EBADF;
    vmc_lx_fd_close(f);
    return 0;
}

/* ---- reading and writing ------------------------------------------------------------------------- */

/* The call waits for the other end of a pipe or the console, as a continuation: a handler without
 * SA_RESTART ends it with EINTR (linux/signal.c). */
static void wait_for_peer(struct vmc_hcall *hc)
{
    vmc_lx(hc)->thread[hc->vcpu->id].io_wait = true;
}

/* Standard output goes through the console queue (ordered, bounded, never stalling a cancel): what fits
 * is written; nothing fitting makes the call wait for room and run again (it never returns 0). write(2)
 * is not buffered: an unfinished line (a prompt) goes out now, not at the next newline. */
static int64_t console_out(struct vmc_hcall *hc, const struct iovec *iov, int n)
{
    uint64_t done = vmc_hc_console_put(hc, iov, n); /* n > 0: rw() returns 0 for 0 bytes first */
    vmc_console_push(vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE));
    if (done == 0 && vmc_hc_continue(hc)) {
        wait_for_peer(hc);
        vmc_hc_wait_console_room(hc);
    }
    return (int64_t)done;
}

/* Standard input: what the console has; none yet makes the call wait and run again; 0 at its end. */
static int64_t console_in(struct vmc_hcall *hc, const struct iovec *iov, int n)
{
    uint64_t done = vmc_hc_console_get(hc, iov, n);
    if (done == 0 && !vmc_console_eof(vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE)) && vmc_hc_continue(hc)) {
        wait_for_peer(hc);
        vmc_hc_wait_input(hc);
    }
    return (int64_t)done;
}

/*
 * A write to a pipe whose reader is gone raises SIGPIPE, which would end the whole VMM process: the
 * program gets EPIPE instead, as a process that ignores SIGPIPE would. The signal is blocked on this
 * thread around the write and, when it came, taken back before the mask is restored.
 */
static ssize_t host_write(int fd, const struct iovec *iov, int n, int64_t off)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t r = off >= 0 ? pwritev(fd, iov, n, off) : writev(fd, iov, n);
    int e = errno;
    if (r < 0 && e == EPIPE && !sigismember(&old, SIGPIPE))
        while (sigtimedwait(&pipe_set, NULL, &(struct timespec){ 0, 0 }) == SIGPIPE)
            ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return r;
}

/* Standard error goes straight to vmcall's, without ever blocking the vCPU's thread on a stuck reader:
 * at most PIPE_BUF bytes when poll says there is room (a pipe then takes them whole), else the call
 * runs again a millisecond later. */
static int64_t stderr_out(struct vmc_hcall *hc, struct iovec *iov, int n)
{
    /* What the program wrote to standard output before goes out first: the two may be one pipe. */
    if (!vmc_console_empty(vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE)) && vmc_hc_continue(hc)) {
        vmc_hc_wait_console_empty(hc);
        return 0;
    }
    struct pollfd p = { .fd = 2, .events = POLLOUT };
    if (poll(&p, 1, 0) == 0 && vmc_hc_continue(hc)) {
        wait_for_peer(hc);
        vmc_act_block(hc->act, vmc_now_ns() + 1000000);
        return 0;
    }
    size_t left = PIPE_BUF;
    int k = 0;
    for (; k < n && left; k++) {
        if (iov[k].iov_len > left)
            iov[k].iov_len = left;
        left -= iov[k].iov_len;
    }
    ssize_t r = host_write(2, iov, k, -1);
    return r < 0 ? -errno : r;
}

/* One transfer on a descriptor over guest memory (iovecs of host pointers, every page checked first). */
static int64_t transfer(struct vmc_hcall *hc, struct vmc_lx_fd *f, struct iovec *iov, int n, bool write,
                        int64_t off)
{
    ssize_t r;
    vmc_lx(hc)->thread[hc->vcpu->id].io_wait = false; /* until it waits again */
    switch (f->kind) {
    case LX_FD_STDOUT:
        if (write)
            return console_out(hc, iov, n);
        break;
    case LX_FD_STDIN:
        if (!write)
            return console_in(hc, iov, n);
        break;
    case LX_FD_STDERR:
        if (write)
            return stderr_out(hc, iov, n);
        break;
    case LX_FD_HOST:
        r = write      ? host_write(f->host, iov, n, off)
            : off >= 0 ? preadv(f->host, iov, n, off)
                       : readv(f->host, iov, n);
        if (r < 0 && errno == EPIPE) {
            vmc_lx_raise(hc, SIGPIPE); /* Linux sends SIGPIPE too: by default it ends the program */
            return -EPIPE;
        }
        /* A pipe or FIFO not ready, for a program that did not ask for O_NONBLOCK: the call runs again
         * a millisecond later (a poll of the host descriptor, cancellable like any wait). */
        if (r < 0 && errno == EAGAIN && !f->nonblock && vmc_hc_continue(hc)) {
            wait_for_peer(hc);
            vmc_act_block(hc->act, vmc_now_ns() + 1000000);
            return 0;
        }
        return r < 0 ? -errno : r;
    }
    return -EBADF;
}

static int64_t rw(struct vmc_hcall *hc, bool write, int64_t off)
{
    struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), hc->a.args[0]);
    uint64_t len = hc->a.args[2] > IO_MAX ? IO_MAX : hc->a.args[2];
    struct iovec iov[IO_MAX / 4096 + 1];
    if (!f)
        return -EBADF;
    if (len == 0)
        return 0;
    struct vmc_console *con = vmc_vm_dev(hc->vcpu->vm, VMC_DEV_CONSOLE);
    if (f->kind == LX_FD_STDIN && !write && vmc_console_eof(con) && !vmc_input_ready(&con->in))
        return 0; /* end of input: Linux returns 0 without touching the buffer */
    int n = vmc_hc_iov(hc, hc->a.args[1], len, !write, iov, (int)ARRAY_SIZE(iov));
    return n < 0 ? -EFAULT : transfer(hc, f, iov, n, write, off);
}

int64_t vmc_lx_read(struct vmc_hcall *hc)
{
    return rw(hc, false, -1);
}

int64_t vmc_lx_write(struct vmc_hcall *hc)
{
    return rw(hc, true, -1);
}

int64_t vmc_lx_pread64(struct vmc_hcall *hc)
{
    return (int64_t)hc->a.args[3] < 0 ? -EINVAL : rw(hc, false, (int64_t)hc->a.args[3]);
}

int64_t vmc_lx_pwrite64(struct vmc_hcall *hc)
{
    return (int64_t)hc->a.args[3] < 0 ? -EINVAL : rw(hc, true, (int64_t)hc->a.args[3]);
}

/* readv/writev: the guest's iovec array is copied once, then each buffer checked; at most IO_MAX bytes. */
static int64_t rwv(struct vmc_hcall *hc, bool write)
{
    struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), hc->a.args[0]);
    uint64_t cnt = hc->a.args[2];
    struct {
        uint64_t base, len;
    } gv[64];
    if (!f)
        return -EBADF;
    if (cnt > 1024)
        return -EINVAL;
    if (cnt > ARRAY_SIZE(gv))
        cnt = ARRAY_SIZE(gv); /* a short transfer: Linux may move less than asked */
    if (vmc_hc_copy_from(hc, gv, hc->a.args[1], cnt * sizeof(gv[0])))
        return -EFAULT;
    struct iovec iov[IO_MAX / 4096 + 64];
    int n = 0;
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt && total < IO_MAX; i++) {
        uint64_t len = gv[i].len > IO_MAX - total ? IO_MAX - total : gv[i].len;
        if (len == 0)
            continue;
        int k = vmc_hc_iov(hc, gv[i].base, len, !write, iov + n, (int)ARRAY_SIZE(iov) - n);
        if (k < 0)
            return -EFAULT;
        n += k;
        total += len;
    }
    return n == 0 ? 0 : transfer(hc, f, iov, n, write, -1);
}

int64_t vmc_lx_readv(struct vmc_hcall *hc)
{
    return rwv(hc, false);
}

int64_t vmc_lx_writev(struct vmc_hcall *hc)
{
    return rwv(hc, true);
}

int64_t vmc_lx_lseek(struct vmc_hcall *hc)
{
    struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), hc->a.args[0]);
    if (!f)
        return -EBADF;
    if (f->kind != LX_FD_HOST)
        return -ESPIPE;
    off_t r = lseek(f->host, (off_t)hc->a.args[1], (int)hc->a.args[2]);
    return r < 0 ? -errno : r;
}

/* ---- metadata ------------------------------------------------------------------------------------ */

static int64_t put_stat(struct vmc_hcall *hc, int host, uint64_t out)
{
    struct stat st; /* the host is x86-64 Linux: its struct stat is the guest's */
    if (fstat(host, &st) < 0)
        return -errno;
    return vmc_hc_copy_to(hc, out, &st, sizeof(st)) ? -EFAULT : 0;
}

int64_t vmc_lx_fstat(struct vmc_hcall *hc)
{
    struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), hc->a.args[0]);
    if (!f)
        return -EBADF;
    return put_stat(hc, host_of(f), hc->a.args[1]);
}

/* stat of a path: opened O_PATH beneath the root (no follow for lstat and AT_SYMLINK_NOFOLLOW). */
static int64_t stat_path(struct vmc_hcall *hc, int64_t dirfd, uint64_t path, uint64_t out, uint64_t flags)
{
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
        return -EINVAL;
    if (flags & AT_EMPTY_PATH) {
        char c;
        if (vmc_hc_copy_from(hc, &c, path, 1) == 0 && c == 0) {
            struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), (uint64_t)dirfd);
            if (!f)
                return -EBADF;
            return put_stat(hc, host_of(f), out);
        }
    }
    int64_t h = vmc_lx_open_in_root(hc, dirfd, path,
                                    O_PATH | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0), 0, NULL, 0);
    if (h < 0)
        return h;
    int64_t rc = put_stat(hc, (int)h, out);
    close((int)h);
    return rc;
}

int64_t vmc_lx_newfstatat(struct vmc_hcall *hc)
{
    return stat_path(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2], hc->a.args[3]);
}

int64_t vmc_lx_stat(struct vmc_hcall *hc)
{
    return stat_path(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1], 0);
}

int64_t vmc_lx_lstat(struct vmc_hcall *hc)
{
    return stat_path(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1], AT_SYMLINK_NOFOLLOW);
}

/* Linux's struct statfs on x86-64 (include/uapi/asm-generic/statfs.h, 64-bit longs). */
struct lx_statfs {
    int64_t type, bsize;
    uint64_t blocks, bfree, bavail, files, ffree;
    int32_t fsid[2];
    int64_t namelen, frsize, flags, spare[4];
};
_Static_assert(sizeof(struct lx_statfs) == 120, "Linux's struct statfs");

/* The host's numbers for the file system under the descriptor, but no host identity (fsid 0) and
 * read-only (ST_RDONLY) when the root is, whatever the host's mount says. */
static int64_t put_statfs(struct vmc_hcall *hc, int host, uint64_t out)
{
    struct statfs h;
    if (fstatfs(host, &h) < 0)
        return -errno;
    struct lx_statfs g = {
        .type = h.f_type,
        .bsize = h.f_bsize,
        .blocks = h.f_blocks,
        .bfree = h.f_bfree,
        .bavail = h.f_bavail,
        .files = h.f_files,
        .ffree = h.f_ffree,
        .namelen = h.f_namelen,
        .frsize = h.f_frsize,
        .flags = h.f_flags | (vmc_lx(hc)->rw ? 0 : ST_RDONLY),
    };
    return vmc_hc_copy_to(hc, out, &g, sizeof(g)) ? -EFAULT : 0;
}

int64_t vmc_lx_fstatfs(struct vmc_hcall *hc)
{
    struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), hc->a.args[0]);
    if (!f)
        return -EBADF;
    return put_statfs(hc, host_of(f), hc->a.args[1]);
}

int64_t vmc_lx_statfs(struct vmc_hcall *hc)
{
    int64_t h = vmc_lx_open_in_root(hc, AT_FDCWD, hc->a.args[0], O_PATH, 0, NULL, 0);
    if (h < 0)
        return h;
    int64_t rc = put_statfs(hc, (int)h, hc->a.args[1]);
    close((int)h);
    return rc;
}

/* statx: the host's answer for the path (or the descriptor with AT_EMPTY_PATH), the same structure. */
int64_t vmc_lx_statx(struct vmc_hcall *hc)
{
    int64_t dirfd = (int64_t)hc->a.args[0];
    uint64_t path = hc->a.args[1], flags = hc->a.args[2], mask = hc->a.args[3], out = hc->a.args[4];
    struct statx st;
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    int host = -1;
    bool opened = false;
    char c = 1;
    if ((flags & AT_EMPTY_PATH) && vmc_hc_copy_from(hc, &c, path, 1) == 0 && c == 0) {
        struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), (uint64_t)dirfd);
        if (!f)
            return -EBADF;
        host = host_of(f);
    } else {
        int64_t h = vmc_lx_open_in_root(
            hc, dirfd, path, O_PATH | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0), 0, NULL, 0);
        if (h < 0)
            return h;
        host = (int)h;
        opened = true;
    }
    int rc = statx(host, "", AT_EMPTY_PATH | (int)(flags & AT_STATX_SYNC_TYPE), (unsigned)mask, &st) < 0
                 ? -errno
                 : 0;
    if (opened)
        close(host);
    if (rc < 0)
        return rc;
    return vmc_hc_copy_to(hc, out, &st, sizeof(st)) ? -EFAULT : 0;
}

int64_t vmc_lx_getdents64(struct vmc_hcall *hc)
{
    struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), hc->a.args[0]);
    uint64_t len = hc->a.args[2] > 65536 ? 65536 : hc->a.args[2];
    static _Thread_local uint8_t buf[65536];
    if (!f)
        return -EBADF;
    if (f->kind != LX_FD_HOST)
        return -ENOTDIR;
    long n = syscall(SYS_getdents64, f->host, buf, len);
    if (n < 0)
        return -errno;
    return vmc_hc_copy_to(hc, hc->a.args[1], buf, (uint64_t)n) ? -EFAULT : n;
}

static int64_t readlink_common(struct vmc_hcall *hc, int64_t dirfd, uint64_t path, uint64_t ubuf,
                               uint64_t size)
{
    char target[4096];
    int64_t h = vmc_lx_open_in_root(hc, dirfd, path, O_PATH | O_NOFOLLOW, 0, NULL, 0);
    if (h < 0)
        return h;
    ssize_t n = readlinkat((int)h, "", target, sizeof(target));
    int e = errno;
    close((int)h);
    if (n < 0)
        return e == ENOENT ? -EINVAL : -e; /* not a link */
    if ((uint64_t)n > size)
        n = (ssize_t)size;
    return vmc_hc_copy_to(hc, ubuf, target, (uint64_t)n) ? -EFAULT : n;
}

int64_t vmc_lx_readlinkat(struct vmc_hcall *hc)
{
    return readlink_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2], hc->a.args[3]);
}

int64_t vmc_lx_readlink(struct vmc_hcall *hc)
{
    return readlink_common(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1], hc->a.args[2]);
}

/* access(): the file must be there; writing into a read-only root is EROFS; the rest is the host's. */
static int64_t access_common(struct vmc_hcall *hc, int64_t dirfd, uint64_t path, uint64_t mode,
                             uint64_t flags)
{
    if (mode & ~(uint64_t)(R_OK | W_OK | X_OK))
        return -EINVAL;
    int64_t h = vmc_lx_open_in_root(hc, dirfd, path,
                                    O_PATH | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0), 0, NULL, 0);
    if (h < 0)
        return h;
    int rc = faccessat((int)h, "", (int)mode, AT_EMPTY_PATH | AT_EACCESS) < 0 ? -errno : 0;
    close((int)h);
    return rc == 0 && (mode & W_OK) && !vmc_lx(hc)->rw ? -EROFS : rc;
}

int64_t vmc_lx_faccessat(struct vmc_hcall *hc)
{
    return access_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2], 0);
}

int64_t vmc_lx_faccessat2(struct vmc_hcall *hc)
{
    return access_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2], hc->a.args[3]);
}

int64_t vmc_lx_access(struct vmc_hcall *hc)
{
    return access_common(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1], 0);
}

int64_t vmc_lx_getcwd(struct vmc_hcall *hc)
{
    size_t n = strlen(vmc_lx(hc)->cwd) + 1;
    if (hc->a.args[1] < n)
        return -ERANGE;
    return vmc_hc_copy_to(hc, hc->a.args[0], vmc_lx(hc)->cwd, n) ? -EFAULT : (int64_t)n;
}

/* The working directory, kept as a path without "." and ".." (resolved lexically, as the shell's). */
int64_t vmc_lx_chdir(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    char full[8192], norm[4096] = "";
    int64_t h = vmc_lx_open_in_root(hc, AT_FDCWD, hc->a.args[0], O_PATH | O_DIRECTORY, 0, full, sizeof(full));
    if (h < 0)
        return h;
    close((int)h);
    size_t len = 0;
    for (char *save, *c = strtok_r(full, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, "."))
            continue;
        if (!strcmp(c, "..")) {
            while (len > 0 && norm[--len] != '/')
                ;
            norm[len] = 0;
            continue;
        }
        int k = snprintf(norm + len, sizeof(norm) - len, "/%s", c);
        if (k < 0 || (size_t)k >= sizeof(norm) - len)
            return -ENAMETOOLONG;
        len += (size_t)k;
    }
    snprintf(lx->cwd, sizeof(lx->cwd), "%s", len ? norm : "/");
    return 0;
}

/* ---- descriptors --------------------------------------------------------------------------------- */

static int64_t dup_to(struct vmc_linux *lx, struct vmc_lx_fd *f, uint64_t from, int64_t exact, bool cloexec)
{
    struct vmc_lx_fd e = *f;
    e.cloexec = cloexec;
    e.path = f->path ? strdup(f->path) : NULL;
    if (f->path && !e.path)
        return -ENOMEM;
    if (f->kind == LX_FD_HOST && (e.host = fcntl(f->host, F_DUPFD_CLOEXEC, 0)) < 0) {
        free(e.path);
        return -errno;
    }
    if (exact >= 0) {
        vmc_lx_fd_close(&lx->fd[exact]);
        lx->fd[exact] = e;
        return exact;
    }
    int64_t fd = vmc_lx_fd_install(lx, from, &e);
    if (fd < 0)
        vmc_lx_fd_close(&e);
    return fd;
}

int64_t vmc_lx_dup(struct vmc_hcall *hc)
{
    struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), hc->a.args[0]);
    return f ? dup_to(vmc_lx(hc), f, 0, -1, false) : -EBADF;
}

static int64_t dup3_common(struct vmc_hcall *hc, uint64_t flags, bool dup2)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct vmc_lx_fd *f = vmc_lx_fd_get(lx, hc->a.args[0]);
    uint64_t to = hc->a.args[1];
    if (!f)
        return -EBADF;
    if (to >= VMC_LX_FD_MAX)
        return -EBADF;
    if (hc->a.args[0] == to)
        return dup2 ? (int64_t)to : -EINVAL;
    if (flags & ~(uint64_t)O_CLOEXEC)
        return -EINVAL;
    return dup_to(lx, f, 0, (int64_t)vmc_index_nospec((uint32_t)to, VMC_LX_FD_MAX), flags & O_CLOEXEC);
}

int64_t vmc_lx_dup2(struct vmc_hcall *hc)
{
    return dup3_common(hc, 0, true);
}

int64_t vmc_lx_dup3(struct vmc_hcall *hc)
{
    return dup3_common(hc, hc->a.args[2], false);
}

int64_t vmc_lx_fcntl(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct vmc_lx_fd *f = vmc_lx_fd_get(lx, hc->a.args[0]);
    uint64_t cmd = hc->a.args[1], arg = hc->a.args[2];
    if (!f)
        return -EBADF;
    switch (cmd) {
    case F_GETFD:
        return f->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        f->cloexec = arg & FD_CLOEXEC;
        return 0;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        return arg >= VMC_LX_FD_MAX ? -EINVAL : dup_to(lx, f, arg, -1, cmd == F_DUPFD_CLOEXEC);
    case F_GETFL: {
        int r = fcntl(host_of(f), F_GETFL);
        return r < 0 ? -errno : (r & ~O_NONBLOCK) | (f->nonblock ? O_NONBLOCK : 0);
    }
    case F_SETFL: /* O_APPEND goes to the host; O_NONBLOCK is the program's own (host fds never block) */
        if (f->kind == LX_FD_HOST && fcntl(f->host, F_SETFL, (int)((arg & O_APPEND) | O_NONBLOCK)) < 0)
            return -errno;
        f->nonblock = arg & O_NONBLOCK;
        return 0;
    default:
        return -EINVAL;
    }
}

static int64_t pipe_common(struct vmc_hcall *hc, uint64_t flags)
{
    struct vmc_linux *lx = vmc_lx(hc);
    int p[2];
    if (flags & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK))
        return -EINVAL;
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    struct vmc_lx_fd a = {
        .kind = LX_FD_HOST, .host = p[0], .cloexec = flags & O_CLOEXEC, .nonblock = flags & O_NONBLOCK
    };
    struct vmc_lx_fd b = a;
    b.host = p[1];
    int64_t fa = vmc_lx_fd_install(lx, 0, &a), fb = fa < 0 ? fa : vmc_lx_fd_install(lx, 0, &b);
    int32_t fds[2] = { (int32_t)fa, (int32_t)fb };
    if (fb < 0 || vmc_hc_copy_to(hc, hc->a.args[0], fds, sizeof(fds))) {
        if (fa >= 0)
            vmc_lx_fd_close(&lx->fd[fa]);
        else
            close(p[0]);
        if (fb >= 0)
            vmc_lx_fd_close(&lx->fd[fb]);
        else
            close(p[1]);
        return fb < 0 ? fb : -EFAULT;
    }
    return 0;
}

int64_t vmc_lx_pipe2(struct vmc_hcall *hc)
{
    return pipe_common(hc, hc->a.args[1]);
}

int64_t vmc_lx_pipe(struct vmc_hcall *hc)
{
    return pipe_common(hc, 0);
}

/* The terminal queries a C library makes (isatty, the window size): the console's answer is the host's. */
int64_t vmc_lx_ioctl(struct vmc_hcall *hc)
{
    struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), hc->a.args[0]);
    uint64_t req = hc->a.args[1];
    if (!f)
        return -EBADF;
    if (f->kind == LX_FD_HOST || (req != TCGETS && req != TIOCGWINSZ))
        return -ENOTTY;
    union {
        struct termios t;
        struct winsize w;
    } u;
    if (ioctl(console_host(f), req, &u) < 0)
        return -errno;
    return vmc_hc_copy_to(hc, hc->a.args[2], &u, req == TCGETS ? sizeof(u.t) : sizeof(u.w)) ? -EFAULT : 0;
}

int64_t vmc_lx_parent_of(struct vmc_hcall *hc, int64_t dirfd, uint64_t upath, char *name, size_t size)
{
    char full[8192];
    int64_t rc = full_path(hc, dirfd, upath, full, sizeof(full));
    if (rc < 0)
        return rc;
    if (!vmc_lx(hc)->rw)
        return -EROFS;
    size_t n = strlen(full);
    while (n > 1 && full[n - 1] == '/')
        full[--n] = 0;
    char *slash = strrchr(full, '/');
    snprintf(name, size, "%s", slash + 1);
    if (!name[0] || !strcmp(name, ".") || !strcmp(name, ".."))
        return -EINVAL;
    slash[1] = 0;
    return openat2_in_root(vmc_lx(hc), full, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
}
