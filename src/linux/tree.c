/* SPDX-License-Identifier: MIT */
/* The Linux personality's calls that change the tree beneath a writable root: directories, names, links,
 * modes, times, sizes. Every path is resolved by the kernel beneath the root (fs.c): a name is created,
 * removed or changed in its parent opened there, a file's attributes through the file opened there, so a
 * symbolic link met on the way never leads out. */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "calls.h"

static int64_t mkdir_common(struct vmc_hcall *hc, int64_t dirfd, uint64_t path, uint64_t mode)
{
    char name[256];
    int64_t d = vmc_lx_parent_of(hc, dirfd, path, name, sizeof(name));
    if (d < 0)
        return d;
    int rc = mkdirat((int)d, name, (mode_t)(mode & 07777 & ~vmc_lx(hc)->umask)) < 0 ? -errno : 0;
    close((int)d);
    return rc;
}

int64_t vmc_lx_mkdirat(struct vmc_hcall *hc)
{
    return mkdir_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2]);
}

int64_t vmc_lx_mkdir(struct vmc_hcall *hc)
{
    return mkdir_common(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1]);
}

static int64_t unlink_common(struct vmc_hcall *hc, int64_t dirfd, uint64_t path, uint64_t flags)
{
    char name[256];
    if (flags & ~(uint64_t)AT_REMOVEDIR)
        return -EINVAL;
    int64_t d = vmc_lx_parent_of(hc, dirfd, path, name, sizeof(name));
    if (d < 0)
        return d;
    int rc = unlinkat((int)d, name, (int)flags) < 0 ? -errno : 0;
    close((int)d);
    return rc;
}

int64_t vmc_lx_unlinkat(struct vmc_hcall *hc)
{
    return unlink_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2]);
}

int64_t vmc_lx_unlink(struct vmc_hcall *hc)
{
    return unlink_common(hc, AT_FDCWD, hc->a.args[0], 0);
}

int64_t vmc_lx_rmdir(struct vmc_hcall *hc)
{
    return unlink_common(hc, AT_FDCWD, hc->a.args[0], AT_REMOVEDIR);
}

static int64_t rename_common(struct vmc_hcall *hc, int64_t olddir, uint64_t oldpath, int64_t newdir,
                             uint64_t newpath)
{
    char from[256], to[256];
    int64_t a = vmc_lx_parent_of(hc, olddir, oldpath, from, sizeof(from));
    if (a < 0)
        return a;
    int64_t b = vmc_lx_parent_of(hc, newdir, newpath, to, sizeof(to));
    int rc = b < 0 ? (int)b : renameat((int)a, from, (int)b, to) < 0 ? -errno : 0;
    close((int)a);
    if (b >= 0)
        close((int)b);
    return rc;
}

int64_t vmc_lx_renameat(struct vmc_hcall *hc)
{
    return rename_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], (int64_t)hc->a.args[2], hc->a.args[3]);
}

int64_t vmc_lx_renameat2(struct vmc_hcall *hc)
{
    if (hc->a.args[4])
        return -EINVAL; /* RENAME_NOREPLACE, _EXCHANGE, _WHITEOUT: not offered */
    return vmc_lx_renameat(hc);
}

int64_t vmc_lx_rename(struct vmc_hcall *hc)
{
    return rename_common(hc, AT_FDCWD, hc->a.args[0], AT_FDCWD, hc->a.args[1]);
}

/* The file at the guest's path opened beneath the root for a change of its attributes (read-only,
 * write-only if that is all it allows; a directory read-only): a host descriptor, or -errno. */
static int64_t open_target(struct vmc_hcall *hc, int64_t dirfd, uint64_t path, bool nofollow)
{
    if (!vmc_lx(hc)->rw)
        return vmc_lx(hc)->root < 0 ? -ENOENT : -EROFS;
    int64_t h = vmc_lx_open_in_root(hc, dirfd, path, O_RDONLY | (nofollow ? O_NOFOLLOW : 0), 0, NULL, 0);
    if (h == -EACCES)
        h = vmc_lx_open_in_root(hc, dirfd, path, O_WRONLY | (nofollow ? O_NOFOLLOW : 0), 0, NULL, 0);
    return h == -EISDIR ? vmc_lx_open_in_root(hc, dirfd, path, O_RDONLY | O_DIRECTORY, 0, NULL, 0) : h;
}

/* A program's host descriptor for a call on it (ftruncate, fsync, fchmod): -EBADF if it has none, and
 * `console` for standard input, output or error. */
static int64_t host_fd(struct vmc_hcall *hc, uint64_t fd, int64_t console)
{
    const struct vmc_lx_fd *f = vmc_lx_fd_get(vmc_lx(hc), fd);
    return !f ? -EBADF : f->kind != LX_FD_HOST ? console : f->host;
}

static int64_t chmod_common(struct vmc_hcall *hc, int64_t dirfd, uint64_t path, uint64_t mode)
{
    int64_t h = open_target(hc, dirfd, path, false);
    if (h < 0)
        return h;
    int rc = fchmod((int)h, (mode_t)(mode & 07777)) < 0 ? -errno : 0;
    close((int)h);
    return rc;
}

int64_t vmc_lx_fchmodat(struct vmc_hcall *hc)
{
    return chmod_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2]);
}

int64_t vmc_lx_chmod(struct vmc_hcall *hc)
{
    return chmod_common(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1]);
}

int64_t vmc_lx_fchmod(struct vmc_hcall *hc)
{
    int64_t h = host_fd(hc, hc->a.args[0], -EPERM);
    if (h >= 0 && !vmc_lx(hc)->rw)
        return -EROFS;
    return h < 0 ? h : fchmod((int)h, (mode_t)(hc->a.args[1] & 07777)) < 0 ? -errno : 0;
}

/*
 * chown and the like: the program is uid 0 of its own world, but the files are the host's; giving one
 * away would be the VMM's act on the host. A change to the owner and group the file already has (or -1)
 * succeeds, as it does for its owner on Linux (cp -p); any other is EPERM.
 */
static int64_t chown_check(int h, uint64_t uid, uint64_t gid)
{
    struct stat st;
    if (fstat(h, &st) < 0)
        return -errno;
    bool uid_same = (uint32_t)uid == UINT32_MAX || (uint32_t)uid == st.st_uid;
    bool gid_same = (uint32_t)gid == UINT32_MAX || (uint32_t)gid == st.st_gid;
    return uid_same && gid_same ? 0 : -EPERM;
}

static int64_t chown_common(struct vmc_hcall *hc, int64_t dirfd, uint64_t path, uint64_t uid, uint64_t gid,
                            uint64_t flags)
{
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    if (!vmc_lx(hc)->rw)
        return vmc_lx(hc)->root < 0 ? -ENOENT : -EROFS;
    int64_t h = vmc_lx_open_in_root(hc, dirfd, path,
                                    O_PATH | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0), 0, NULL, 0);
    if (h < 0)
        return h;
    int64_t rc = chown_check((int)h, uid, gid);
    close((int)h);
    return rc;
}

int64_t vmc_lx_fchownat(struct vmc_hcall *hc)
{
    return chown_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2], hc->a.args[3],
                        hc->a.args[4]);
}

int64_t vmc_lx_chown(struct vmc_hcall *hc)
{
    return chown_common(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1], hc->a.args[2], 0);
}

int64_t vmc_lx_lchown(struct vmc_hcall *hc)
{
    return chown_common(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1], hc->a.args[2], AT_SYMLINK_NOFOLLOW);
}

int64_t vmc_lx_fchown(struct vmc_hcall *hc)
{
    int64_t h = host_fd(hc, hc->a.args[0], -EPERM);
    return h < 0 ? h : chown_check((int)h, hc->a.args[1], hc->a.args[2]);
}

/*
 * utimensat: a file's times (NULL: now; UTIME_NOW and UTIME_OMIT as they are), by path (the file opened
 * beneath the root; with AT_SYMLINK_NOFOLLOW the link itself, in its parent) or, path NULL, by
 * descriptor.
 */
int64_t vmc_lx_utimensat(struct vmc_hcall *hc)
{
    struct timespec ts[2];
    uint64_t path = hc->a.args[1], times = hc->a.args[2], flags = hc->a.args[3];
    if (flags & ~(uint64_t)AT_SYMLINK_NOFOLLOW)
        return -EINVAL;
    if (times && vmc_hc_copy_from(hc, ts, times, sizeof(ts)))
        return -EFAULT;
    const struct timespec *t = times ? ts : NULL;
    if (!path) {
        int64_t h = host_fd(hc, hc->a.args[0], -EPERM);
        if (h >= 0 && !vmc_lx(hc)->rw)
            return -EROFS;
        return h < 0 ? h : futimens((int)h, t) < 0 ? -errno : 0;
    }
    char name[256];
    int64_t h = (flags & AT_SYMLINK_NOFOLLOW)
                    ? vmc_lx_parent_of(hc, (int64_t)hc->a.args[0], path, name, sizeof(name))
                    : open_target(hc, (int64_t)hc->a.args[0], path, false);
    if (h < 0)
        return h;
    int rc = ((flags & AT_SYMLINK_NOFOLLOW) ? utimensat((int)h, name, t, AT_SYMLINK_NOFOLLOW)
                                            : futimens((int)h, t)) < 0
                 ? -errno
                 : 0;
    close((int)h);
    return rc;
}

/* symlinkat: the link's text is stored as given; it can only ever be followed beneath the root. */
static int64_t symlink_common(struct vmc_hcall *hc, uint64_t target, int64_t dirfd, uint64_t path)
{
    char text[4096], name[256];
    int64_t rc = vmc_lx_path(hc, target, text, sizeof(text));
    if (rc < 0)
        return rc;
    int64_t d = vmc_lx_parent_of(hc, dirfd, path, name, sizeof(name));
    if (d < 0)
        return d;
    rc = symlinkat(text, (int)d, name) < 0 ? -errno : 0;
    close((int)d);
    return rc;
}

int64_t vmc_lx_symlinkat(struct vmc_hcall *hc)
{
    return symlink_common(hc, hc->a.args[0], (int64_t)hc->a.args[1], hc->a.args[2]);
}

int64_t vmc_lx_symlink(struct vmc_hcall *hc)
{
    return symlink_common(hc, hc->a.args[0], AT_FDCWD, hc->a.args[1]);
}

/* linkat: a hard link to the name itself (a symbolic link is linked, not followed: AT_SYMLINK_FOLLOW,
 * which would follow it on the host's terms, is refused). */
static int64_t link_common(struct vmc_hcall *hc, int64_t olddir, uint64_t oldpath, int64_t newdir,
                           uint64_t newpath, uint64_t flags)
{
    char from[256], to[256];
    if (flags)
        return -EINVAL;
    int64_t a = vmc_lx_parent_of(hc, olddir, oldpath, from, sizeof(from));
    if (a < 0)
        return a;
    int64_t b = vmc_lx_parent_of(hc, newdir, newpath, to, sizeof(to));
    int rc = b < 0 ? (int)b : linkat((int)a, from, (int)b, to, 0) < 0 ? -errno : 0;
    close((int)a);
    if (b >= 0)
        close((int)b);
    return rc;
}

int64_t vmc_lx_linkat(struct vmc_hcall *hc)
{
    return link_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], (int64_t)hc->a.args[2], hc->a.args[3],
                       hc->a.args[4]);
}

int64_t vmc_lx_link(struct vmc_hcall *hc)
{
    return link_common(hc, AT_FDCWD, hc->a.args[0], AT_FDCWD, hc->a.args[1], 0);
}

/* mknodat: FIFOs and empty regular files; devices are not the program's to make (EPERM). */
static int64_t mknod_common(struct vmc_hcall *hc, int64_t dirfd, uint64_t path, uint64_t mode)
{
    char name[256];
    uint64_t type = mode & S_IFMT;
    if (type != 0 && type != S_IFREG && type != S_IFIFO)
        return type == S_IFCHR || type == S_IFBLK || type == S_IFSOCK ? -EPERM : -EINVAL;
    int64_t d = vmc_lx_parent_of(hc, dirfd, path, name, sizeof(name));
    if (d < 0)
        return d;
    mode_t m = (mode_t)((type ? type : S_IFREG) | (mode & 07777 & ~vmc_lx(hc)->umask));
    int rc = mknodat((int)d, name, m, 0) < 0 ? -errno : 0;
    close((int)d);
    return rc;
}

int64_t vmc_lx_mknodat(struct vmc_hcall *hc)
{
    return mknod_common(hc, (int64_t)hc->a.args[0], hc->a.args[1], hc->a.args[2]);
}

int64_t vmc_lx_mknod(struct vmc_hcall *hc)
{
    return mknod_common(hc, AT_FDCWD, hc->a.args[0], hc->a.args[1]);
}

int64_t vmc_lx_ftruncate(struct vmc_hcall *hc)
{
    if ((int64_t)hc->a.args[1] < 0)
        return -EINVAL;
    int64_t h = host_fd(hc, hc->a.args[0], -EINVAL);
    return h < 0 ? h : ftruncate((int)h, (off_t)hc->a.args[1]) < 0 ? -errno : 0;
}

int64_t vmc_lx_truncate(struct vmc_hcall *hc)
{
    if ((int64_t)hc->a.args[1] < 0)
        return -EINVAL;
    if (!vmc_lx(hc)->rw)
        return vmc_lx(hc)->root < 0 ? -ENOENT : -EROFS;
    int64_t h = vmc_lx_open_in_root(hc, AT_FDCWD, hc->a.args[0], O_WRONLY, 0, NULL, 0);
    if (h < 0)
        return h;
    int rc = ftruncate((int)h, (off_t)hc->a.args[1]) < 0 ? -errno : 0;
    close((int)h);
    return rc;
}

/* fsync and fdatasync: a file's data to the host's disk; the console is a stream (EINVAL, as a pipe). */
int64_t vmc_lx_fsync(struct vmc_hcall *hc)
{
    int64_t h = host_fd(hc, hc->a.args[0], -EINVAL);
    return h < 0 ? h : fsync((int)h) < 0 && errno != EINVAL ? -errno : 0;
}

/* umask: the mode bits creations take away (Linux's default 022 at first); the old mask. */
int64_t vmc_lx_umask(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    uint64_t old = lx->umask;
    lx->umask = (uint32_t)(hc->a.args[0] & 0777);
    return (int64_t)old;
}
