/* SPDX-License-Identifier: MIT */
/* `vmcall run`: create the VM, apply the options, jail, run with signals turned into a cancel, report. */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"

/*
 * Signals: SIGTERM, SIGINT and SIGHUP are blocked in every thread (the VM's threads inherit the mask) and
 * taken by one thread with sigwait, which cancels the running VM as vmc_vm_cancel does for an embedder:
 * the vCPUs stop, the console writes out what it holds (at most a second more when the reader is stuck),
 * disks are synced as the VM is destroyed, and the status says which signal it was.
 */
static const struct {
    int nr;
    const char *name;
} stop_signals[] = { { SIGTERM, "SIGTERM" }, { SIGINT, "SIGINT" }, { SIGHUP, "SIGHUP" } };
#define NSTOP (sizeof(stop_signals) / sizeof(stop_signals[0]))

static struct {
    pthread_mutex_t lock;
    struct vmc_vm *vm; /* the VM being run, NULL before and after */
    int signal;        /* the first stop signal taken, 0 if none */
} sig = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *signal_thread(void *arg)
{
    const sigset_t *set = arg;
    for (;;) {
        int s;
        if (sigwait(set, &s) != 0)
            continue;
        pthread_mutex_lock(&sig.lock);
        /* A second signal is an operator who will not wait for the clean stop: exit at once. */
        if (sig.signal)
            _exit(128 + s);
        sig.signal = s;
        if (sig.vm)
            vmc_vm_cancel(sig.vm);
        pthread_mutex_unlock(&sig.lock);
    }
    return NULL;
}

/* Before any other thread exists: block the stop signals and start their thread. A signal the caller
 * set to be ignored stays ignored (nohup's SIGHUP). A write to a closed pipe must come back as EPIPE
 * (reported like a filter's end), not kill the process. */
static int take_signals(void)
{
    static sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < NSTOP; i++) {
        struct sigaction old;
        if (sigaction(stop_signals[i].nr, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaddset(&set, stop_signals[i].nr);
    }
    signal(SIGPIPE, SIG_IGN);
    pthread_t t;
    int e = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (e == 0)
        e = pthread_create(&t, NULL, signal_thread, &set);
    if (e == 0)
        pthread_detach(t);
    if (e)
        cli_error("cannot set up signal handling: %s", strerror(e));
    return e ? -1 : 0;
}

/* The VM the signal thread cancels: set before the run, cleared after it; a signal taken in between
 * cancels it (a signal before vmc_vm_run leaves a pending cancel that the run consumes at once). */
static void set_running(struct vmc_vm *vm)
{
    pthread_mutex_lock(&sig.lock);
    sig.vm = vm;
    if (vm && sig.signal)
        vmc_vm_cancel(vm);
    pthread_mutex_unlock(&sig.lock);
}

static const char *signal_name(int s)
{
    for (size_t i = 0; i < NSTOP; i++)
        if (stop_signals[i].nr == s)
            return stop_signals[i].name;
    return "a signal";
}

static int taken_signal(void)
{
    pthread_mutex_lock(&sig.lock);
    int s = sig.signal;
    pthread_mutex_unlock(&sig.lock);
    return s;
}

/* --allow-hypercalls by the names of the VM's personality. */
static int allow_calls(struct vmc_vm *vm, const struct run_opts *o, uint32_t personality)
{
    uint32_t nrs[VMC_HYPERCALL_NR_MAX];
    for (size_t i = 0; i < o->nallow; i++) {
        int nr = vmc_hypercall_lookup_in(personality, o->allow[i]);
        if (nr < 0) {
            cli_error("--allow-hypercalls: unknown hypercall '%s'%s", o->allow[i],
                      personality == VMC_PERSONALITY_XEN ? " (Xen personality)" : "");
            return -1;
        }
        nrs[i] = (uint32_t)nr;
    }
    if (vmc_vm_allow_hypercalls(vm, nrs, o->nallow) < 0) {
        cli_error("%s", vmc_vm_strerror(vm));
        return -1;
    }
    return 0;
}

/* Policies, then the image: anything refused here is a usage error. */
static int apply_run(struct vmc_vm *vm, const struct run_opts *o, uint32_t personality)
{
    if (o->restrict_calls && allow_calls(vm, o, personality) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < o->nio && rc == 0; i++)
        rc = vmc_vm_set_io_policy(vm, (uint16_t)o->io[i].first, o->io[i].last - o->io[i].first + 1u,
                                  o->io[i].policy);
    for (size_t i = 0; i < o->ncpuid && rc == 0; i++)
        rc = vmc_vm_set_cpuid(vm, &o->cpuid[i]);
    for (size_t i = 0; i < o->nmsr && rc == 0; i++)
        rc = vmc_vm_set_msr_policy(vm, o->msr[i].index, o->msr[i].policy);
    if (rc == 0)
        rc = o->flat ? vmc_vm_load_flat(vm, o->guest, o->flat_addr) : vmc_vm_load_elf(vm, o->guest);
    if (rc < 0)
        cli_error("%s", vmc_vm_strerror(vm));
    return rc;
}

#if !defined(__SANITIZE_ADDRESS__) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
/* Sanitizer builds: LeakSanitizer's check at exit reads /proc, which is outside the jail. Check now
 * (everything is still reachable), which turns the check at exit off. */
static void before_chroot(void)
{
    __lsan_do_leak_check();
}
#else
static void before_chroot(void)
{
}
#endif

/* A jail must start empty: nothing in it may be something the guest's VMM could reach. */
static int jail_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        cli_error("--jail %s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    if (n)
        cli_error("--jail %s: the directory is not empty", dir);
    return n ? -1 : 0;
}

/*
 * Everything the VM needs is open (/dev/kvm, the VM and vCPU descriptors, the guest is loaded, the disk is
 * open): from here on the process needs no file by name. As Firecracker's jailer does: chroot into the
 * empty DIR, then give up every supplementary group, the bounding and ambient capability sets, and root.
 * The order matters: dropping capabilities from the bounding set needs CAP_SETPCAP, which setresuid to a
 * non-zero uid takes away (with the permitted and effective sets).
 */
static int enter_jail(const struct run_opts *o)
{
    const char *dir = o->jail;
    if (jail_empty(dir) < 0)
        return -1;
    const char *step = "chdir";
    before_chroot();
    int rc = chdir(dir);
    if (rc == 0 && (step = "chroot", rc = chroot(".")) == 0)
        rc = chdir("/");
    if (rc == 0 && (step = "setgroups", rc = setgroups(0, NULL)) == 0)
        step = "setresgid", rc = setresgid((gid_t)o->gid, (gid_t)o->gid, (gid_t)o->gid);
    for (int cap = 0; rc == 0 && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
        step = "dropping capabilities", rc = prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (rc == 0)
        step = "clearing ambient capabilities", rc = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (rc == 0)
        step = "setresuid", rc = setresuid((uid_t)o->uid, (uid_t)o->uid, (uid_t)o->uid);
    if (rc < 0)
        cli_error("--jail %s: %s: %s%s", dir, step, strerror(errno),
                  errno == EPERM ? " (the jail is set up as root)" : "");
    return rc;
}

static int report_console(struct vmc_vm *vm, const struct run_opts *o, int status)
{
    struct vmc_console_stat c;
    vmc_vm_console_stats(vm, &c);
    if (c.error == -EPIPE)
        return 128 + SIGPIPE; /* the reader went away: end quietly, as a filter killed by SIGPIPE would */
    if (c.error) {
        cli_error("console output: %s; the VM was stopped", strerror(-c.error));
        return EXIT_VMM;
    }
    if (o->cfg.console_limit && c.dropped)
        cli_error("console output limit of %" PRIu64 " bytes reached: %" PRIu64 " bytes dropped",
                  o->cfg.console_limit, c.dropped);
    if (c.unwritten)
        cli_error("%" PRIu64 " bytes of console output were not written: the reader stopped reading",
                  c.unwritten);
    return status;
}

/* What the run came to, on stderr, and the exit status (vmcall(1): EXIT STATUS). */
static int report_stop(struct vmc_vm *vm, int rc, const struct vmc_result *res, uint32_t personality)
{
    int s = taken_signal();
    if (rc < 0) {
        cli_error("%s", vmc_vm_strerror(vm));
        return EXIT_VMM;
    }
    switch (res->stop) {
    case VMC_STOP_EXIT:
        if (res->reboot || res->signal)
            cli_error("%s", res->summary);
        if (res->signal || personality == VMC_PERSONALITY_LINUX)
            return (int)(res->status & 0xff); /* a Linux program's status is its own, as a shell reports it */
        if (res->status <= EXIT_GUEST_MAX)
            return (int)res->status;
        cli_error("guest exit status %" PRIu32 " is above %d; exiting with %d", res->status, EXIT_GUEST_MAX,
                  EXIT_GUEST_MAX);
        return EXIT_GUEST_MAX;
    case VMC_STOP_CRASH:
        vmc_result_print(res, stderr);
        if (personality == VMC_PERSONALITY_LINUX && res->crash == VMC_CRASH_EXCEPTION && res->signal)
            return 128 + res->signal; /* as a shell reports a program the signal killed */
        if (personality == VMC_PERSONALITY_LINUX && res->crash == VMC_CRASH_UNMAPPED)
            return 128 + SIGSEGV;
        return EXIT_CRASH;
    case VMC_STOP_CANCELLED:
        if (s) {
            cli_error("stopped by %s at rip=0x%" PRIx64 ": exiting with %d", signal_name(s), res->regs.rip,
                      128 + s);
            return 128 + s;
        }
        break;
    case VMC_STOP_TIMEOUT:
        cli_error("%s", res->summary);
        return EXIT_TIMEOUT;
    default:
        break;
    }
    cli_error("%s", res->summary);
    return EXIT_VMM;
}

static void report_extra(struct vmc_vm *vm, const struct run_opts *o)
{
    struct rusage ru;
    if (o->cfg.stats) {
        vmc_vm_print_stats(vm, stderr);
        /* What the guest cost the host in memory: its RAM as touched, plus the VMM's own. */
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            fprintf(stderr, "peak RSS %ld KiB\n", ru.ru_maxrss);
    }
    for (uint32_t i = 0; o->dump_vmcs && vmc_vm_vcpu(vm, i); i++) {
        struct vmc_vmcs v;
        if (vmc_vcpu_get_vmcs(vmc_vm_vcpu(vm, i), &v) == 0)
            vmc_vmcs_print(&v, stderr);
    }
}

static int run_created(struct vmc_vm *vm, const struct run_opts *o, uint32_t personality)
{
    if (apply_run(vm, o, personality) < 0 || (o->jail && enter_jail(o) < 0))
        return EXIT_VMM;
    struct vmc_result res;
    set_running(vm);
    int rc = vmc_vm_run(vm, &res);
    set_running(NULL);
    struct vmc_console_stat c;
    vmc_vm_console_stats(vm, &c);
    /* A console error stops the VM with that error: the console's report says it, not the stop's. */
    int status = c.error ? 0 : report_stop(vm, rc, &res, personality);
    status = report_console(vm, o, status);
    report_extra(vm, o);
    return status;
}

static const char *const built[] = { "kernel mode (vmcall-cc)", "user mode (vmcall-cc --user)",
                                     "32-bit mode (vmcall-cc --m32)" };

/*
 * A guest built by vmcall-cc says in its note how it must run: that decides the mode, and an option that
 * says otherwise is an error naming both. Images without the note (hand-written guests) run as the
 * options say. What else the image says (a newer ABI, a Linux program) the loader reports.
 */
static int mode_from_note(const struct run_opts *o, struct vmc_config *cfg)
{
    struct vmc_guest_info gi;
    char err[256];
    if (o->flat || vmc_guest_info(o->guest, &gi, err, sizeof(err)) < 0)
        return 0;
    if (cfg->personality == VMC_PERSONALITY_LINUX)
        return o->user_given || o->mode_given ? (cli_error("--user and --mode do not apply to --linux"), -1)
                                              : 0;
    if (o->root || o->nenv) {
        cli_error("--root and --env are for --linux");
        return -1;
    }
    /* Xen's PVH note: the Xen personality, unless --abi said otherwise (then the loader says why not). */
    if (gi.xen_pvh && !gi.note && !o->abi_given)
        cfg->personality = VMC_PERSONALITY_XEN;
    if (cfg->personality == VMC_PERSONALITY_XEN && (o->user_given || o->mode_given)) {
        cli_error("%s: --user and --mode do not apply to Xen PVH guests (they start in 32-bit mode)",
                  o->guest);
        return -1;
    }
    if (!gi.note || gi.mode > VMC_GUEST_32)
        return 0;
    bool user = gi.mode == VMC_GUEST_USER, m32 = gi.mode == VMC_GUEST_32;
    if (o->user_given && !user) {
        cli_error("%s was built for %s; --user conflicts with it", o->guest, built[gi.mode]);
        return -1;
    }
    if (o->mode_given && (cfg->mode == VMC_MODE_32) != m32) {
        cli_error("%s was built for %s; --mode %u conflicts with it", o->guest, built[gi.mode], cfg->mode);
        return -1;
    }
    cfg->user_mode = user;
    cfg->mode = m32 ? VMC_MODE_32 : VMC_MODE_64;
    return 0;
}

int run_vm(const struct run_opts *o)
{
    struct vmc_config cfg = o->cfg;
    if (mode_from_note(o, &cfg) < 0)
        return EXIT_VMM;
    char err[256];
    struct vmc_kvm *kvm;
    struct vmc_vm *vm;
    if (take_signals() < 0)
        return EXIT_VMM;
    if (vmc_kvm_open(&kvm, err, sizeof(err)) < 0) {
        cli_error("%s", err);
        return EXIT_VMM;
    }
    int status = EXIT_VMM;
    if (vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)) < 0) {
        cli_error("%s", err);
    } else {
        status = run_created(vm, o, cfg.personality);
        vmc_vm_destroy(vm);
    }
    vmc_kvm_close(kvm);
    return status;
}
