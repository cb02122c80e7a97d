/* SPDX-License-Identifier: MIT */
/* Build-time tool: compiles the VMM's seccomp allow-lists to BPF with libseccomp, as a C header. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util.h"

/*
 * The lists are compiled when vmcall is built, as Firecracker's seccompiler does: a VMM that starts
 * neither loads libseccomp nor builds a filter; it hands the kernel a finished program
 * (docs/sandbox.md). Built with the same compiler flags as the library, so that sanitizer builds get
 * their runtime's extra calls.
 */

/*
 * Everything a running VM needs, found by running the test suite under the filter: the run loop and its
 * ioctls, threads (vCPUs brought up, the timer, the console writer), memory (malloc, hot-added RAM), the
 * console, the disk, the run's timeout, and tearing the VM down. Nothing opens a file or a socket.
 */
/* clang-format off */
static const int process_calls[] = {
    /* console, disk, stdio's first message */
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
    SCMP_SYS(pwrite64), SCMP_SYS(fdatasync), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(close),
    SCMP_SYS(fstat), SCMP_SYS(newfstatat),
    /* threads and locks (clone and clone3 have rules of their own below) */
    SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(exit), SCMP_SYS(exit_group),
    SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(sched_yield), SCMP_SYS(getcpu),
    /* memory (mmap and mprotect below: never executable) */
    SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(brk),
    /* kicks, the run's timeout, the CLI's signal thread */
    SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(tgkill), SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(timer_create), SCMP_SYS(timer_settime), SCMP_SYS(timer_delete),
    /* the guest's clock, sleep and random hypercalls */
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(getrandom),
    /* the stats: glibc's qsort sizing its buffer, the peak RSS */
    SCMP_SYS(sysinfo), SCMP_SYS(getrusage),
};
/* clang-format on */

/* The KVM requests a running VM makes: the run loop, injection, the control block, hot-added memory,
 * MSR policy changes between runs; and the terminal query stdio makes once. */
static const unsigned long process_ioctls[] = {
    KVM_RUN,
    KVM_INTERRUPT,
    KVM_GET_DEBUGREGS,
    KVM_SET_DEBUGREGS,
    KVM_SET_USER_MEMORY_REGION,
    KVM_X86_SET_MSR_FILTER,
    TCGETS,
};

/* The timer thread waits, takes locks and kicks vCPUs. */
static const int timer_calls[] = {
    SCMP_SYS(futex),        SCMP_SYS(clock_gettime),  SCMP_SYS(tgkill),  SCMP_SYS(getpid),
    SCMP_SYS(gettid),       SCMP_SYS(exit),           SCMP_SYS(madvise), SCMP_SYS(munmap),
    SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
};

/* The console writer writes, takes locks, wakes vCPUs waiting for room. */
static const int writer_calls[] = {
    SCMP_SYS(write),  SCMP_SYS(futex),        SCMP_SYS(clock_gettime),  SCMP_SYS(tgkill),
    SCMP_SYS(getpid), SCMP_SYS(gettid),       SCMP_SYS(exit),           SCMP_SYS(madvise),
    SCMP_SYS(munmap), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
};

/*
 * The Linux personality serves a program's files from its --root directory, opened before the filter:
 * every path is resolved beneath that descriptor with openat2 (RESOLVE_IN_ROOT), then read, listed,
 * statted or, for a writable root, changed through descriptors. The terminal queries go to the VMM's
 * own stdio. Only a VM of that personality gets these (vmc_sandbox_install, VMC_SANDBOX_PROCESS_LINUX).
 */
static const int linux_calls[] = {
    SCMP_SYS(openat2),    SCMP_SYS(lseek),        SCMP_SYS(preadv),    SCMP_SYS(pwritev),
    SCMP_SYS(getdents64), SCMP_SYS(readlinkat),   SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
    SCMP_SYS(fcntl),      SCMP_SYS(dup),          SCMP_SYS(pipe2),     SCMP_SYS(mkdirat),
    SCMP_SYS(unlinkat),   SCMP_SYS(renameat),     SCMP_SYS(getrandom), SCMP_SYS(clock_gettime),
    SCMP_SYS(statx),      SCMP_SYS(fchmod),       SCMP_SYS(utimensat), SCMP_SYS(symlinkat),
    SCMP_SYS(linkat),     SCMP_SYS(mknodat),      SCMP_SYS(ftruncate), SCMP_SYS(fsync),
    SCMP_SYS(fstatfs),    SCMP_SYS(memfd_create),
};
/* TCGETS is in process_ioctls; the XSAVE state goes into and comes back from a handler's frame. */
static const unsigned long linux_ioctls[] = { TIOCGWINSZ, KVM_GET_XSAVE, KVM_SET_XSAVE };

#ifdef VMC_ASAN
/* What the sanitizer runtime does on each thread (its alternate signal stack, the thread's stack bounds;
 * its allocator maps memory, never executable, see no_exec): in sanitizer builds only. */
static const int sanitizer_calls[] = { SCMP_SYS(sigaltstack), SCMP_SYS(sched_getaffinity) };
static const bool sanitizer_maps = true;
#else
static const int sanitizer_calls[] = { -1 };
static const bool sanitizer_maps = false;
#endif

/* Argument `arg` equals v (libseccomp's SCMP_Ax macros leave a field to the compiler's zeroing). */
static struct scmp_arg_cmp arg_eq(unsigned arg, uint64_t v)
{
    return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_EQ, .datum_a = v, .datum_b = 0 };
}

static int add_calls(scmp_filter_ctx ctx, const int *calls, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (calls[i] < 0)
            continue; /* not a system call on this architecture */
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * Calls allowed with some arguments only. New threads, never new processes: clone must carry
 * CLONE_THREAD, and clone3 (whose flags sit in memory a filter cannot read) says ENOSYS, on which glibc
 * falls back to clone. Memory is never made executable: no code can be brought in.
 */
static const struct scmp_arg_cmp no_exec = {
    .arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = PROT_EXEC, .datum_b = 0
};

static int add_restricted(scmp_filter_ctx ctx)
{
    struct scmp_arg_cmp thread = {
        .arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_THREAD, .datum_b = CLONE_THREAD
    };
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, thread);
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, no_exec);
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, no_exec);
    return rc;
}

enum role { PROCESS, TIMER, WRITER, PROCESS_LINUX };
static const char *const role_names[] = { "process", "timer", "writer", "process_linux" };

static int build(scmp_filter_ctx ctx, enum role role, bool trap)
{
    /* The debug report itself must get through every list: a write to stderr and the exit. */
    int rc = trap ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, arg_eq(0, 2)) : 0;
    if (rc == 0 && trap)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
    if (rc == 0)
        rc = add_calls(ctx, sanitizer_calls, ARRAY_SIZE(sanitizer_calls));
    if (rc == 0 && sanitizer_maps && role != PROCESS)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, no_exec);
    if (rc < 0)
        return rc;
    if (role == TIMER)
        return add_calls(ctx, timer_calls, ARRAY_SIZE(timer_calls));
    if (role == WRITER)
        return add_calls(ctx, writer_calls, ARRAY_SIZE(writer_calls));
    rc = add_calls(ctx, process_calls, ARRAY_SIZE(process_calls));
    if (rc == 0 && role == PROCESS_LINUX)
        rc = add_calls(ctx, linux_calls, ARRAY_SIZE(linux_calls));
    for (size_t i = 0; role == PROCESS_LINUX && i < ARRAY_SIZE(linux_ioctls) && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, arg_eq(1, linux_ioctls[i]));
    if (rc == 0)
        rc = add_restricted(ctx);
    for (size_t i = 0; i < ARRAY_SIZE(process_ioctls) && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, arg_eq(1, process_ioctls[i]));
    /* The timer and console-writer threads narrow their own lists when they start: a filter can only
     * ever take rights away, so letting a thread add one gives nothing to an attacker. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 0);
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, arg_eq(0, PR_SET_NO_NEW_PRIVS));
    return rc;
}

/* One program as a C array: libseccomp exports it to a memory file, read back as sock_filter records. */
static int emit(FILE *out, enum role role, bool trap)
{
    scmp_filter_ctx ctx = seccomp_init(trap ? SCMP_ACT_TRAP : SCMP_ACT_ERRNO(EPERM));
    if (!ctx)
        return -ENOMEM;
    /* A binary tree over the syscall number, not a linear chain: the kernel runs the filter for every
     * syscall number when it is installed (its per-filter action cache), so a short path is what makes
     * installing it cheap, and every later call with it. */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc == 0)
        rc = build(ctx, role, trap);
    FILE *tmp = rc == 0 ? tmpfile() : NULL;
    if (rc == 0 && !tmp)
        rc = -errno;
    if (rc == 0)
        rc = seccomp_export_bpf(ctx, fileno(tmp));
    seccomp_release(ctx);
    if (rc < 0) {
        if (tmp)
            fclose(tmp);
        return rc;
    }
    rewind(tmp);
    fprintf(out, "static const struct sock_filter vmc_bpf_%s_%s[] = {\n", role_names[role],
            trap ? "trap" : "eperm");
    struct sock_filter f;
    while (fread(&f, sizeof(f), 1, tmp) == 1)
        fprintf(out, "    { 0x%04x, %u, %u, 0x%08x },\n", f.code, f.jt, f.jf, f.k);
    fprintf(out, "};\n");
    fclose(tmp);
    return 0;
}

int main(int argc, char **argv)
{
    FILE *out = argc == 2 ? fopen(argv[1], "w") : NULL;
    if (!out) {
        fprintf(stderr, "usage: sandbox-gen OUTPUT.h\n");
        return 2;
    }
    fprintf(
        out,
        "/* Generated by src/sandbox_gen.c from its allow-lists with libseccomp %u.%u.%u: do not edit. */\n",
        seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
    int rc = 0;
    for (int role = PROCESS; role <= PROCESS_LINUX && rc == 0; role++)
        for (int trap = 0; trap < 2 && rc == 0; trap++)
            rc = emit(out, (enum role)role, trap);
    if (rc == 0)
        fprintf(out, "static const struct sock_fprog vmc_bpf[4][2] = {\n"
                     "#define P(n) { sizeof(n) / sizeof(n[0]), (struct sock_filter *)n }\n"
                     "    { P(vmc_bpf_process_eperm), P(vmc_bpf_process_trap) },\n"
                     "    { P(vmc_bpf_timer_eperm), P(vmc_bpf_timer_trap) },\n"
                     "    { P(vmc_bpf_writer_eperm), P(vmc_bpf_writer_trap) },\n"
                     "    { P(vmc_bpf_process_linux_eperm), P(vmc_bpf_process_linux_trap) },\n"
                     "#undef P\n};\n");
    if (fclose(out) != 0 || rc < 0) {
        fprintf(stderr, "sandbox-gen: %s\n", strerror(rc < 0 ? -rc : errno));
        remove(argv[1]);
        return 1;
    }
    return 0;
}
