/* SPDX-License-Identifier: MIT */
/* Library test: the sandbox is the embedder's choice: no filter unless config asks, and once on, a system
 * call the VMM never needs (open, from an embedder's hypercall handler on the vCPU thread) is refused.
 * Also fork and executable mappings. Its own process: a seccomp filter cannot be taken off again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "common.h"
#include "vmcall/abi.h"
#include "vmcall/vmcall.h"

/* "Seccomp:" and "NoNewPrivs:" of this process, as "S N" (or "?" when /proc cannot be read). */
static const char *seccomp_state(char *out, size_t len)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int s = -1, n = -1;
    while (f && fgets(line, sizeof(line), f)) {
        sscanf(line, "Seccomp: %d", &s);
        sscanf(line, "NoNewPrivs: %d", &n);
    }
    if (f)
        fclose(f);
    snprintf(out, len, f ? "%d %d" : "?", s, n);
    return out;
}

/* What the embedder's handler got from open(2), fork(2) and an executable mmap(2). */
struct tried {
    int open, fork, exec_map;
};

/* Hypercall 64: try what an exploited VMM would want (anything obtained is given back at once). */
static int64_t try_hc(struct vmc_vcpu *vcpu, void *opaque, const struct vmc_hypercall_args *a)
{
    struct tried *t = opaque;
    (void)vcpu;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    t->open = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    t->fork = pid < 0 ? errno : 0;
    if (pid > 0)
        waitpid(pid, NULL, 0);
    void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t->exec_map = p == MAP_FAILED ? errno : 0;
    if (p != MAP_FAILED)
        munmap(p, 4096);
    return (int64_t)(a->args[2] + a->nr + a->cpl);
}

/* Run hc_custom (which calls 64 twice) with or without the sandbox; what its handler saw. */
static struct tried run(struct vmc_kvm *kvm, bool sandbox, struct vmc_result *res, struct capture *cap)
{
    struct vmc_config cfg;
    struct vmc_vm *vm;
    char err[256];
    struct tried seen = { -1, -1, -1 };
    vmc_config_init(&cfg);
    cfg.sandbox = sandbox;
    cfg.console_out_fd = cap->wr;
    if (vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)) != 0) {
        printf("# create: %s\n", err);
        return seen;
    }
    vmc_hypercall_register(vm, 64, "try", try_hc, &seen, 0);
    vmc_vm_load_elf(vm, guest_path("hc_custom"));
    vmc_vm_run(vm, res);
    vmc_vm_destroy(vm);
    return seen;
}

int main(void)
{
    struct vmc_kvm *kvm = open_kvm();
    struct capture cap;
    struct vmc_result res;
    char st[32];
    capture_open(&cap);
    is_str(seccomp_state(st, sizeof(st)), "0 0", "before any VM: no filter, no no_new_privs");

    struct tried t = run(kvm, false, &res, &cap);
    ok(t.open == 0 && t.fork == 0 && t.exec_map == 0,
       "sandbox off (the library default): the handler may open, fork, map code (%d %d %d)", t.open, t.fork,
       t.exec_map);
    is_int(res.stop, VMC_STOP_EXIT, "the guest exited");
    is_str(seccomp_state(st, sizeof(st)), "0 0", "and the library installed no filter it was not asked for");
    is_str(capture_read(&cap), "64=183 buf=ping 65=-38 bad=64\n", "the guest saw the handler's results");

    t = run(kvm, true, &res, &cap);
    is_int(t.open, EPERM, "sandbox on: open() from the handler on a vCPU thread fails with EPERM");
    is_int(t.fork, EPERM, "fork() too: new threads only, never processes");
    is_int(t.exec_map, EPERM, "and no memory is mapped executable");
    is_int(res.stop, VMC_STOP_EXIT, "the guest still exited normally");
    is_str(capture_read(&cap), "64=183 buf=ping 65=-38 bad=64\n", "console output went through the sandbox");
    is_str(seccomp_state(st, sizeof(st)), "?",
           "after the run the embedder's thread cannot open files either");
    /* One VM per sandboxed process, as with Firecracker's jailer: creating VMs is not on the list. */
    struct vmc_config cfg;
    struct vmc_vm *vm = (struct vmc_vm *)1;
    char err[256] = "";
    vmc_config_init(&cfg);
    is_int(vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)), -EPERM,
           "no new VM once the process is sandboxed");
    ok(vm == NULL && strstr(err, "Operation not permitted"), "an error, not a crash: %s", err);
    capture_close(&cap);
    vmc_kvm_close(kvm);
    return tap_done();
}
