/* SPDX-License-Identifier: MIT */
/* The block device: a host file as 512-byte sectors behind block_op (info, read, write, flush). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../hc/calls.h"
#include "../vm.h"

struct vmc_disk {
    int fd;
    bool ro;
    uint64_t sectors;
};

/* Size of a regular file or a block device; -EINVAL for anything else (a FIFO, a socket, a directory). */
static int disk_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    if (S_ISREG(st.st_mode)) {
        *size = (uint64_t)st.st_size;
        return 0;
    }
    if (S_ISBLK(st.st_mode))
        return ioctl(fd, BLKGETSIZE64, size) == 0 ? 0 : -errno;
    return -EINVAL;
}

/*
 * Open without blocking (O_NONBLOCK: a FIFO would otherwise wait for a writer), check what the file is,
 * then lock it: shared for a read-only disk, exclusive for a writable one, so that two VMs never write
 * one image, nor one writes what another reads.
 */
static int disk_open(struct vmc_vm *vm, const char *path, bool ro, struct vmc_disk **out)
{
    int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return vmc_vm_fail(vm, -errno, "disk %s: %s", path, strerror(errno));
    uint64_t size = 0;
    int rc = disk_size(fd, &size);
    if (rc == -EINVAL)
        vmc_vm_fail(vm, rc, "disk %s: not a regular file or a block device", path);
    else if (rc < 0)
        vmc_vm_fail(vm, rc, "disk %s: %s", path, strerror(-rc));
    else if (size % VMC_BLOCK_SECTOR_SIZE) /* a trailing partial sector is not addressable: say so */
        rc = vmc_vm_fail(vm, -EINVAL, "disk %s: size %llu is not a multiple of %u bytes", path,
                         (unsigned long long)size, VMC_BLOCK_SECTOR_SIZE);
    else if (flock(fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0)
        rc = vmc_vm_fail(vm, errno == EWOULDBLOCK ? -EBUSY : -errno, "disk %s: %s", path,
                         errno == EWOULDBLOCK ? "in use by another VM (it is locked)" : strerror(errno));
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        rc = vmc_vm_fail(vm, -errno, "disk %s: %s", path, strerror(errno));
    struct vmc_disk *d = rc == 0 ? malloc(sizeof(*d)) : NULL;
    if (!d) {
        close(fd);
        return rc ? rc : vmc_vm_fail(vm, -ENOMEM, "out of memory");
    }
    *d = (struct vmc_disk){ .fd = fd, .ro = ro, .sectors = size / VMC_BLOCK_SECTOR_SIZE };
    *out = d;
    return 0;
}

static int block_create(struct vmc_vm *vm, void **state)
{
    *state = NULL;
    if (!vm->cfg.disk_path)
        return 0;
    return disk_open(vm, vm->cfg.disk_path, vm->cfg.disk_readonly, (struct vmc_disk **)state);
}

static void block_reset(void *state)
{
    struct vmc_disk *d = state;
    if (!d->ro)
        fdatasync(d->fd);
}

static void block_destroy(void *state)
{
    struct vmc_disk *d = state;
    if (!d->ro)
        fdatasync(d->fd); /* a clean shutdown loses nothing, even without the guest's flush */
    close(d->fd);
    free(d);
}

VMC_DEVICE(block, "block", block_create, block_reset, block_destroy);

static int64_t block_rw(struct vmc_hcall *hc, struct vmc_disk *d, bool write)
{
    VMC_HANDLE(struct vmc_block_io) req;
    vmc_handle(req, hc->a.args[1]);
    struct vmc_block_io io;
    if (copy_from_guest(hc, &io, req, 1))
        return -VMC_EFAULT;
    if (io.count == 0 || io.count > VMC_BLOCK_MAX_SECTORS)
        return -VMC_EINVAL;
    if (io.sector > d->sectors || io.count > d->sectors - io.sector)
        return -VMC_EINVAL; /* past the end (and no sector + count overflow) */
    if (write && d->ro)
        return -VMC_EROFS;
    /* Zero-copy: the file is read into (written from) guest memory directly, once every page of the
     * buffer has been translated and checked. The data is bulk: unlike argument structs, a guest that
     * changes it during the call only changes what it reads or writes. */
    struct iovec iov[VMC_BLOCK_MAX_SECTORS * VMC_BLOCK_SECTOR_SIZE / 4096 + 1];
    int niov = vmc_hc_iov(hc, io.buf, io.count * VMC_BLOCK_SECTOR_SIZE, !write, iov, (int)ARRAY_SIZE(iov));
    if (niov < 0)
        return -VMC_EFAULT;
    off_t off = (off_t)(io.sector * VMC_BLOCK_SECTOR_SIZE);
    for (int i = 0; i < niov; i++) {
        uint8_t *p = iov[i].iov_base;
        for (size_t done = 0; done < iov[i].iov_len;) {
            ssize_t n = write ? pwrite(d->fd, p + done, iov[i].iov_len - done, off)
                              : pread(d->fd, p + done, iov[i].iov_len - done, off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -VMC_EIO; /* e.g. the file shrank under us */
            done += (size_t)n;
            off += n;
        }
    }
    return 0;
}

int64_t vmc_hc_block_op(struct vmc_hcall *hc)
{
    struct vmc_disk *d = vmc_vm_dev(hc->vcpu->vm, VMC_DEV_BLOCK);
    if (!d)
        return -VMC_ENOENT;
    switch (hc->a.args[0]) {
    case VMC_BLOCKOP_INFO: {
        struct vmc_block_info bi = { d->sectors, VMC_BLOCK_SECTOR_SIZE, d->ro ? VMC_BLOCK_F_RO : 0 };
        return vmc_hc_copy_to(hc, hc->a.args[1], &bi, sizeof(bi)) ? -VMC_EFAULT : 0;
    }
    case VMC_BLOCKOP_READ:
        return block_rw(hc, d, false);
    case VMC_BLOCKOP_WRITE:
        return block_rw(hc, d, true);
    case VMC_BLOCKOP_FLUSH:
        if (d->ro)
            return 0;
        return fdatasync(d->fd) == 0 ? 0 : -VMC_EIO;
    default:
        return -VMC_EINVAL;
    }
}
