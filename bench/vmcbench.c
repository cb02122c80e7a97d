/* SPDX-License-Identifier: MIT */
/* vmcall benchmarks: libvmcall against the raw-KVM floor on identical guest code, interleaved in one run. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "raw.h"
#include "vmcall/abi.h"
#include "vmcall/vmcall.h"

extern char **environ;

#define MEM (64u << 20)
static const uint8_t code_first_exit[] = { 0xe7, VMC_PORT_EXIT };            /* out %eax, $0xe4 */
static const uint8_t code_loop[] = { 0xe6, VMC_PORT_HYPERCALL, 0xeb, 0xfc }; /* 1: out %al, $0xeb; jmp 1b */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

static const char *write_flat(const uint8_t *code, size_t len)
{
    static char path[2][64];
    static int i;
    char *p = path[i++ % 2];
    strcpy(p, "/tmp/vmcbench-XXXXXX");
    int fd = mkstemp(p);
    if (fd < 0 || write(fd, code, len) != (ssize_t)len)
        exit(2);
    close(fd);
    return p;
}

struct loop_state {
    double *t;
    size_t n, max;
};

static int loop_port(struct vmc_vcpu *vcpu, void *opaque, uint64_t addr, void *data, uint32_t len, bool write)
{
    (void)addr, (void)data, (void)len, (void)write;
    struct loop_state *s = opaque;
    s->t[s->n++] = now_us();
    if (s->n == s->max)
        vmc_vcpu_exit(vcpu, 0);
    return 0;
}

/* Round trips through libvmcall: timestamps at consecutive handler calls. */
static void vmc_roundtrips(struct vmc_kvm *kvm, const char *flat, bool user, double *out, size_t n)
{
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    cfg.user_mode = user;
    cfg.mem_size = MEM;
    struct vmc_vm *vm;
    char err[256];
    if (vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)) || vmc_vm_load_flat(vm, flat, 0x100000)) {
        fprintf(stderr, "vmcbench: %s\n", err);
        exit(2);
    }
    struct loop_state s = { calloc(n + 1, sizeof(double)), 0, n + 1 };
    vmc_io_register(vm, VMC_PORT_HYPERCALL, 1, loop_port, &s);
    struct vmc_result res;
    vmc_vm_run(vm, &res);
    for (size_t i = 0; i < n; i++)
        out[i] = s.t[i + 1] - s.t[i];
    free(s.t);
    vmc_vm_destroy(vm);
}

/* Round trips with raw KVM: timestamps after consecutive KVM_RUN returns. */
static void raw_roundtrips(int kvm, const struct kvm_cpuid2 *cpuid, int run_size, bool user, double *out,
                           size_t n)
{
    struct raw_vm r;
    if (raw_create(kvm, cpuid, run_size, MEM, user, code_loop, sizeof(code_loop), &r) != 0)
        exit(2);
    double prev = 0;
    for (size_t i = 0; i <= n; i++) {
        if (ioctl(r.vcpu, KVM_RUN, 0) < 0 || r.run->exit_reason != KVM_EXIT_IO)
            exit(3);
        double t = now_us();
        if (i)
            out[i - 1] = t - prev;
        prev = t;
    }
    raw_destroy(&r);
}

static double spawn_ms(const char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    double t0 = now_us();
    if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0)
        exit(4);
    int st;
    waitpid(pid, &st, 0);
    double t = (now_us() - t0) / 1e3;
    posix_spawn_file_actions_destroy(&fa);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "vmcbench: %s failed\n", argv[0]);
        exit(4);
    }
    return t;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    const char *guests = getenv("GUESTS") ? getenv("GUESTS") : "build/guest";
    struct vmc_kvm *kvm;
    char err[256];
    if (vmc_kvm_open(&kvm, err, sizeof(err)) != 0) {
        fprintf(stderr, "vmcbench: %s\n", err);
        return 2;
    }
    int kfd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int run_size = ioctl(kfd, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
    cpuid->nent = 256;
    if (ioctl(kfd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        return 2;
    const char *first = write_flat(code_first_exit, sizeof(code_first_exit));
    const char *loop = write_flat(code_loop, sizeof(code_loop));

    /* Lifecycle: alternate raw and vmcall so that drift on this shared host hits both alike. */
    enum { LIFE = 40 };
    size_t nl = (size_t)reps * LIFE;
    double *raw_c = calloc(nl, sizeof(double)), *raw_d = calloc(nl, sizeof(double));
    double *vmc_c = calloc(nl, sizeof(double)), *vmc_d = calloc(nl, sizeof(double));
    for (size_t i = 0; i < nl; i++) {
        struct raw_vm r;
        double t0 = now_us();
        if (raw_create(kfd, cpuid, run_size, MEM, false, code_first_exit, sizeof(code_first_exit), &r) ||
            ioctl(r.vcpu, KVM_RUN, 0) < 0 || r.run->exit_reason != KVM_EXIT_IO)
            return 3;
        double t1 = now_us();
        raw_destroy(&r);
        raw_c[i] = t1 - t0;
        raw_d[i] = now_us() - t1;

        struct vmc_config cfg;
        vmc_config_init(&cfg);
        cfg.mem_size = MEM;
        struct vmc_vm *vm;
        struct vmc_result res;
        t0 = now_us();
        if (vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)) || vmc_vm_load_flat(vm, first, 0x100000) ||
            vmc_vm_run(vm, &res) || res.stop != VMC_STOP_EXIT)
            return 3;
        t1 = now_us();
        vmc_vm_destroy(vm);
        vmc_c[i] = t1 - t0;
        vmc_d[i] = now_us() - t1;
    }

    enum { LOOP = 2000 };
    size_t nr = (size_t)reps * LOOP;
    double *rr[2], *vr[2];
    for (int user = 0; user < 2; user++) {
        rr[user] = calloc(nr, sizeof(double));
        vr[user] = calloc(nr, sizeof(double));
        for (int k = 0; k < reps; k++) {
            raw_roundtrips(kfd, cpuid, run_size, user, rr[user] + (size_t)k * LOOP, LOOP);
            vmc_roundtrips(kvm, loop, user, vr[user] + (size_t)k * LOOP, LOOP);
        }
    }

    char vmcall[512], hello[512];
    snprintf(vmcall, sizeof(vmcall), "%s/bin/vmcall", build);
    snprintf(hello, sizeof(hello), "%s/tests/hello.elf", guests);
    const char *const hv[] = { vmcall, "run", hello, NULL };
    size_t np = (size_t)reps * 6;
    double *proc = calloc(np, sizeof(double));
    for (size_t i = 0; i < np; i++)
        proc[i] = spawn_ms(hv);

    double c_raw = median(raw_c, nl), c_vmc = median(vmc_c, nl), d_raw = median(raw_d, nl),
           d_vmc = median(vmc_d, nl);
    double r0 = median(rr[0], nr), v0 = median(vr[0], nr), r3 = median(rr[1], nr), v3 = median(vr[1], nr);
    printf("vmcall bench: medians; raw = minimal KVM program on the same guest code, same run\n");
    printf("%-40s %10s %10s %7s %8s\n", "", "raw KVM", "vmcall", "ratio", "target");
    printf("%-40s %10.1f %10.1f %7.2f %8s\n", "create -> first exit (us, 64 MiB)", c_raw, c_vmc,
           c_vmc / c_raw, "<=1.25");
    printf("%-40s %10.1f %10.1f %7.2f %8s\n", "destroy (us)", d_raw, d_vmc, d_vmc / d_raw, "");
    printf("%-40s %10.2f %10.2f %7.2f %8s\n", "I/O exit round trip, CPL0 (us)", r0, v0, v0 / r0, "<=1.10");
    printf("%-40s %10.2f %10.2f %7.2f %8s\n", "I/O exit round trip, CPL3 (us)", r3, v3, v3 / r3, "<=1.10");
    printf("%-40s %10s %10.2f %7s %8s\n", "whole process `vmcall run hello` (ms)", "-", median(proc, np), "",
           "");
    printf("samples: %zu lifecycles, %zu round trips per mode, %zu processes\n", nl, nr, np);
    unlink(first);
    unlink(loop);
    vmc_kvm_close(kvm);
    return 0;
}
