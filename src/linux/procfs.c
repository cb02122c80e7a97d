/* SPDX-License-Identifier: MIT */
/* The Linux personality's /proc and /sys files: what a program reads about its machine, made by the VMM. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calls.h"

/* A file's text, built in a fixed buffer (the longest, cpuinfo, is ~250 bytes a vCPU). */
struct text {
    char buf[32768];
    size_t len;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = t->len + (size_t)n < sizeof(t->buf) ? t->len + (size_t)n : sizeof(t->buf) - 1;
}

/* The VM's RAM as the program's kernel would count it: what is neither mapped nor break is free. */
static void meminfo(struct vmc_vm *vm, struct text *t)
{
    uint64_t free = vmc_lx_free_bytes(vm->lx);
    put(t, "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n",
        (unsigned long)(vm->mem.size >> 10), (unsigned long)(free >> 10), (unsigned long)(free >> 10));
    static const char *const zero[] = { "Buffers",   "Cached",   "SwapCached", "Active",      "Inactive",
                                        "SwapTotal", "SwapFree", "Shmem",      "SReclaimable" };
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        put(t, "%s:%*s%8d kB\n", zero[i], (int)(15 - strlen(zero[i])), "", 0);
}

/* One entry a vCPU, from the VM's CPUID: vendor, family, model, stepping, brand string. */
static void cpuinfo(struct vmc_vm *vm, struct text *t)
{
    struct vmc_cpuid_leaf l0 = { 0 }, l1 = { 0 }, b;
    char vendor[13] = "", brand[49] = "";
    if (vmc_vm_get_cpuid(vm, 0, 0, &l0) == 0) {
        const uint32_t v[3] = { l0.ebx, l0.edx, l0.ecx }; /* "GenuineIntel" in that order */
        memcpy(vendor, v, sizeof(v));
    }
    vmc_vm_get_cpuid(vm, 1, 0, &l1);
    for (uint32_t i = 0; i < 3 && vmc_vm_get_cpuid(vm, 0x80000002 + i, 0, &b) == 0; i++) {
        const uint32_t s[4] = { b.eax, b.ebx, b.ecx, b.edx };
        memcpy(brand + 16 * i, s, sizeof(s));
    }
    uint32_t family = (l1.eax >> 8) & 15, model = (l1.eax >> 4) & 15;
    if (family == 15)
        family += (l1.eax >> 20) & 0xff;
    if (family >= 6)
        model |= ((l1.eax >> 16) & 15) << 4;
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        put(t,
            "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\nmodel name\t: %s\n"
            "stepping\t: %u\nphysical id\t: 0\nsiblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\n\n",
            i, vendor, family, model, brand[0] ? brand + strspn(brand, " ") : "unknown", l1.eax & 15,
            vm->nvcpus, i, vm->nvcpus);
}

static void mounts(struct vmc_vm *vm, struct text *t)
{
    put(t, "vmcall / vmcall %s 0 0\n", vm->lx->rw ? "rw" : "ro");
}

static void uptime(struct vmc_vm *vm, struct text *t)
{
    uint64_t cs = (vmc_now_ns() - vm->sched.started) / 10000000; /* hundredths */
    put(t, "%lu.%02lu 0.00\n", (unsigned long)(cs / 100), (unsigned long)(cs % 100));
}

static void loadavg(struct vmc_vm *vm, struct text *t)
{
    uint32_t n = vmc_lx_live_threads(vm);
    put(t, "0.00 0.00 0.00 %u/%u %u\n", n, n, n + 1);
}

/* Counters are zero: what programs take from it is the vCPUs, the boot time and the processes. */
static void stat_file(struct vmc_vm *vm, struct text *t)
{
    put(t, "cpu  0 0 0 0 0 0 0 0 0 0\n");
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        put(t, "cpu%u 0 0 0 0 0 0 0 0 0 0\n", i);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long up = (long)((vmc_now_ns() - vm->sched.started) / 1000000000);
    put(t, "intr 0\nctxt 0\nbtime %ld\nprocesses 1\nprocs_running %u\nprocs_blocked 0\n",
        (long)now.tv_sec - up, vmc_lx_live_threads(vm));
}

static void status(struct vmc_vm *vm, struct text *t)
{
    put(t,
        "Name:\t%s\nUmask:\t%04o\nState:\tR (running)\nTgid:\t1\nNgid:\t0\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n"
        "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t%u\n",
        vm->lx->thread[0].name, vm->lx->umask, vmc_lx_live_threads(vm));
}

/* vCPUs as the kernel lists CPUs: "0" or "0-N". */
static void cpu_list(struct vmc_vm *vm, struct text *t)
{
    if (vm->nvcpus == 1)
        put(t, "0\n");
    else
        put(t, "0-%u\n", vm->nvcpus - 1);
}

static const struct {
    const char *path;
    void (*fill)(struct vmc_vm *vm, struct text *t);
} files[] = {
    { "/proc/meminfo", meminfo },
    { "/proc/cpuinfo", cpuinfo },
    { "/proc/mounts", mounts },
    { "/proc/self/mounts", mounts },
    { "/proc/uptime", uptime },
    { "/proc/loadavg", loadavg },
    { "/proc/stat", stat_file },
    { "/proc/self/status", status },
    { "/sys/devices/system/cpu/online", cpu_list },
    { "/sys/devices/system/cpu/possible", cpu_list },
    { "/sys/devices/system/cpu/present", cpu_list },
};

/* path without ".", "..", or repeated slashes, as an absolute path; /proc/1 and /proc/thread-self are
 * /proc/self (one process, and the file kept per process). */
static void normalize(const char *path, char *out, size_t size)
{
    size_t n = 0;
    out[0] = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[--n] != '/')
                ;
            out[n] = 0;
        } else if (!(len == 1 && p[0] == '.') && n + len + 2 < size) {
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
            out[n] = 0;
        }
        p += len;
    }
    if (n == 0)
        snprintf(out, size, "/");
    static const char *const aliases[] = { "/proc/1", "/proc/thread-self" };
    for (size_t i = 0; i < 2; i++) {
        size_t k = strlen(aliases[i]);
        if (!strncmp(out, aliases[i], k) && (out[k] == '/' || out[k] == 0)) {
            char rest[4096];
            snprintf(rest, sizeof(rest), "%s", out + k);
            int w = snprintf(out, size, "/proc/self%s", rest);
            if (w < 0 || (size_t)w >= size)
                snprintf(out, size, "/proc/self/?"); /* too long for any file here */
        }
    }
}

/* A host descriptor holding the text, read-only for good (sealed): the program reads, seeks and stats it
 * as any file of its root. */
static int64_t text_fd(const struct text *t)
{
    int fd = memfd_create("vmcall-proc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    size_t done = 0;
    while (done < t->len) {
        ssize_t w = write(fd, t->buf + done, t->len - done);
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            return -e;
        }
        done += (size_t)w;
    }
    if (lseek(fd, 0, SEEK_SET) < 0 || fchmod(fd, 0444) < 0 || /* as procfs shows its files */
        fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int64_t vmc_lx_procfs_open(struct vmc_vm *vm, const char *full, uint64_t flags, bool *ours)
{
    char path[4096];
    normalize(full, path, sizeof(path));
    *ours = !strncmp(path, "/proc/", 6);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (strcmp(path, files[i].path) != 0)
            continue;
        *ours = true;
        if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)))
            return -EACCES;
        if (flags & O_DIRECTORY)
            return -ENOTDIR;
        struct text *t = calloc(1, sizeof(*t));
        if (!t)
            return -ENOMEM;
        files[i].fill(vm, t);
        int64_t fd = text_fd(t);
        free(t);
        return fd;
    }
    return -ENOENT;
}
