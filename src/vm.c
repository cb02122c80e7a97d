/* SPDX-License-Identifier: MIT */
/* VM lifecycle: configuration, create (every module in order), load, run, destroy; errors; accessors. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86_64/layout.h"
#include "cpuid.h"
#include "dev/console.h"
#include "loader.h"
#include "sandbox.h"
#include "vm.h"
#include "linux/linux.h"
#include "xen/xen.h"

void vmc_config_init(struct vmc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mem_size = 64ull << 20;
    cfg->console_in_fd = -1;
    cfg->console_out_fd = 1;
    cfg->mode = VMC_MODE_64;
    cfg->hypercall_abi = VMC_HCABI_KVM;
    cfg->allow_user_hypercalls = -1;
}

const char *vmc_vm_strerror(const struct vmc_vm *vm)
{
    /* A copy per thread: another thread may record an error meanwhile. */
    static __thread char msg[VMC_ERR_MAX];
    vmc_error_copy((struct vmc_error *)&vm->err, msg, sizeof(msg));
    return msg;
}

static int check_memory(const struct vmc_config *cfg, char *err, size_t errlen)
{
    if (cfg->mem_size < VMC_RAM_MIN || cfg->mem_size > VMC_RAM_MAX) {
        vmc_errf(err, errlen, "memory size %" PRIu64 " MiB is out of range (2 MiB to %llu MiB)",
                 cfg->mem_size >> 20, VMC_RAM_MAX >> 20);
        return -EINVAL;
    }
    if (cfg->mem_size % VMC_RAM_ALIGN) {
        vmc_errf(err, errlen, "memory size must be a multiple of 2 MiB");
        return -EINVAL;
    }
    if (cfg->mem_max && (cfg->mem_max < cfg->mem_size || cfg->mem_max - cfg->mem_size > VMC_HOTADD_SIZE ||
                         cfg->mem_max % 4096)) {
        vmc_errf(err, errlen,
                 "memory limit must be a multiple of 4 KiB between the RAM size and RAM + %llu MiB",
                 VMC_HOTADD_SIZE >> 20);
        return -EINVAL;
    }
    return 0;
}

static int check_args(const struct vmc_config *cfg, char *err, size_t errlen)
{
    if (cfg->argc < 0 || (cfg->argc > 0 && !cfg->argv)) {
        vmc_errf(err, errlen, "bad guest argument vector");
        return -EINVAL;
    }
    for (int i = 0; i < cfg->argc; i++) {
        if (!cfg->argv[i]) {
            vmc_errf(err, errlen, "guest argument %d is NULL", i);
            return -EINVAL;
        }
    }
    /* argv[] + strings + the joined line must fit the command-line area. */
    uint64_t joined, need = vmc_x86_cmdline_bytes("", cfg->argc, cfg->argv, &joined);
    if (joined > VMC_CMDLINE_MAX || need > VMC_LAYOUT_CMDLINE_SIZE) {
        vmc_errf(err, errlen, "guest command line too long (%" PRIu64 " bytes, max %u)", joined,
                 VMC_CMDLINE_MAX);
        return -E2BIG;
    }
    return 0;
}

static int check_config(const struct vmc_config *cfg, char *err, size_t errlen)
{
    int rc = check_memory(cfg, err, errlen);
    if (rc)
        return rc;
    const char *bad = cfg->mode != VMC_MODE_64 && cfg->mode != VMC_MODE_32 ? "mode must be 64 or 32"
                      : cfg->mode == VMC_MODE_32 && cfg->user_mode         ? "user mode needs 64-bit mode"
                      : cfg->mode == VMC_MODE_32 && cfg->vcpus > 1
                          ? "a 32-bit guest runs on one vCPU (its SDK cannot start others)"
                      : cfg->hypercall_abi > VMC_HCABI_XEN ? "unknown hypercall register convention"
                      : cfg->io_default > VMC_IO_DENY      ? "unknown I/O policy"
                                                           : NULL;
    if (!bad && cfg->personality > VMC_PERSONALITY_LINUX)
        bad = "unknown personality";
    if (!bad && cfg->personality == VMC_PERSONALITY_LINUX)
        bad = cfg->mode != VMC_MODE_64 ? "the Linux personality runs x86-64 programs (no --mode)"
              : cfg->envc < 0 || (cfg->envc && !cfg->envp) ? "bad environment vector"
                                                           : NULL;
    if (!bad && cfg->personality != VMC_PERSONALITY_LINUX && (cfg->linux_root || cfg->envc))
        bad = "a root directory and an environment are for the Linux personality";
    if (!bad && cfg->personality == VMC_PERSONALITY_XEN)
        bad = cfg->vcpus > 1             ? "the Xen personality runs one vCPU"
              : cfg->user_mode           ? "the Xen personality boots PVH guests at CPL0 (no user mode)"
              : cfg->mode != VMC_MODE_64 ? "the Xen personality boots PVH guests (no --mode)"
                                         : NULL;
    if (bad) {
        vmc_errf(err, errlen, "%s", bad);
        return -EINVAL;
    }
    if (cfg->vcpus > VMC_VCPU_MAX) {
        vmc_errf(err, errlen, "%u vCPUs asked for, at most %u supported", cfg->vcpus, VMC_VCPU_MAX);
        return -EINVAL;
    }
    return check_args(cfg, err, errlen);
}

static int copy_argv(struct vmc_vm *vm, const struct vmc_config *cfg)
{
    vm->argv = calloc((size_t)cfg->argc + 1, sizeof(char *));
    for (int i = 0; vm->argv && i < cfg->argc; i++)
        if (!(vm->argv[i] = strdup(cfg->argv[i])))
            return -ENOMEM;
    vm->cfg.argv = (const char *const *)vm->argv;
    vm->envp = calloc((size_t)(cfg->envc > 0 ? cfg->envc : 0) + 1, sizeof(char *));
    for (int i = 0; vm->envp && i < cfg->envc; i++)
        if (!(vm->envp[i] = strdup(cfg->envp[i])))
            return -ENOMEM;
    vm->cfg.envp = (const char *const *)vm->envp;
    return vm->argv && vm->envp ? 0 : -ENOMEM;
}

/* Guest RAM: boot RAM as memslot 0, the hot-add window reserved when the limit allows it, the platform. */
static int create_memory(struct vmc_vm *vm)
{
    const struct vmc_config *cfg = &vm->cfg;
    int rc = vmc_mem_init(&vm->mem, cfg->mem_size, cfg->mem_max ? cfg->mem_max : cfg->mem_size,
                          VMC_HOTADD_BASE, VMC_HOTADD_SIZE);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "cannot map %" PRIu64 " MiB of guest memory: %s", cfg->mem_size >> 20,
                           strerror(-rc));
    rc = vmc_kvm_set_memslot(vm->kvm, vm->fd, 0, 0, vm->mem.size, vm->mem.host);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "KVM_SET_USER_MEMORY_REGION: %s", strerror(-rc));
    rc = vmc_x86_setup_memory(&vm->mem, cfg->user_mode, vm->nvcpus);
    return rc < 0 ? vmc_vm_fail(vm, rc, "guest memory layout: %s", strerror(-rc)) : 0;
}

static int create_vcpu(struct vmc_vm *vm, uint32_t id)
{
    struct vmc_vcpu *v = &vm->vcpus[id];
    v->vm = vm;
    v->id = id;
    int rc = vmc_kvm_create_vcpu(vm->kvm, vm->fd, id, &v->fd, &v->run);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "KVM_CREATE_VCPU %u: %s", id, strerror(-rc));
    /* Registers travel in kvm_run on every exit: decoding an exit costs no ioctl. */
    v->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    return 0;
}

/* The console's writer freed room, or input came: vCPUs waiting for either re-check. */
static void console_space(void *arg)
{
    vmc_sched_wake_blocked(arg);
}

/* The console's writer thread starts: under the sandbox it narrows its own list. */
static void console_thread(void *arg)
{
    struct vmc_vm *vm = arg;
    if (vm->sandboxed)
        vmc_sandbox_install(NULL, VMC_SANDBOX_WRITER);
}

/* The console's output descriptor failed: a running VM stops with the error. */
static void console_error(void *arg, int err)
{
    struct vmc_vm *vm = arg;
    vmc_error_set_first(&vm->err, err, "console output: %s", strerror(-err));
    vmc_sched_cancel(vm, err);
}

static int create_devices(struct vmc_vm *vm)
{
    for (size_t i = 0; i < VMC_DEV_COUNT; i++) {
        int rc = vmc_devices[i]->create(vm, &vm->dev[i]);
        if (rc < 0)
            return vmc_error_set_first(&vm->err, rc, "device %s: %s", vmc_devices[i]->name, strerror(-rc));
    }
    struct vmc_console *con = vmc_vm_dev(vm, VMC_DEV_CONSOLE);
    vmc_console_set_notify(con, console_thread, console_space, console_error, vm);
    vmc_input_set_notify(&con->in, console_space, vm); /* input came: waiting readers re-check */
    return 0;
}

/* Every module in dependency order; any failure leaves a message and a VM that vmc_vm_destroy frees. */
static int create_modules(struct vmc_vm *vm)
{
    const struct vmc_config *cfg = &vm->cfg;
    int rc = vmc_kvm_create_vm(vm->kvm, &vm->fd);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "KVM_CREATE_VM: %s", strerror(-rc));
    rc = create_memory(vm);
    if (rc < 0)
        return rc;
    vmc_msr_init(vm);
    vmc_io_init(vm);
    bool xen = cfg->personality == VMC_PERSONALITY_XEN, lx = cfg->personality == VMC_PERSONALITY_LINUX;
    bool allow_user = cfg->allow_user_hypercalls < 0 ? cfg->user_mode : cfg->allow_user_hypercalls != 0;
    /* Xen's HVM calls are kernel-only and use Xen's registers (vmc_x86_hc_args); Linux system calls come
     * from user mode in the same registers (the sixth, R9, is read by the one call that takes it). */
    rc = xen  ? vmc_hc_init(vm, &vmc_hc_table_xen, VMC_HCABI_XEN, false, cfg->stats)
         : lx ? vmc_hc_init(vm, &vmc_hc_table_linux, VMC_HCABI_XEN, true, cfg->stats)
              : vmc_hc_init(vm, &vmc_hc_table_vmcall, cfg->hypercall_abi, allow_user, cfg->stats);
    if (rc < 0)
        return vmc_error_set_first(&vm->err, rc, "hypercalls: %s", strerror(-rc));
    if (xen && (rc = vmc_xen_create(vm)) < 0)
        return vmc_error_set_first(&vm->err, rc, "Xen personality: %s", strerror(-rc));
    if (lx && (rc = vmc_linux_create(vm)) < 0)
        return vmc_error_set_first(&vm->err, rc, "--root %s: %s", cfg->linux_root, strerror(-rc));
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        if ((rc = create_vcpu(vm, i)) < 0)
            return rc;
    rc = vmc_hc_write_page(vm, VMC_LAYOUT_HYPERCALL_PAGE);
    if (rc == 0)
        rc = create_devices(vm);
    if (rc < 0)
        return rc;
    vm->created = true;
    vmc_io_update_iomap(vm);
    return 0;
}

int vmc_vm_create(struct vmc_kvm *kvm, const struct vmc_config *cfg, struct vmc_vm **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    int rc = check_config(cfg, err, errlen);
    if (rc < 0)
        return rc;
    struct vmc_vm *vm = vmc_zalloc_big(sizeof(*vm));
    if (!vm) {
        vmc_errf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    vm->kvm = kvm;
    vm->cfg = *cfg;
    if (cfg->personality == VMC_PERSONALITY_LINUX)
        vm->cfg.user_mode = true; /* a Linux program runs at CPL3 on user page tables */
    vm->fd = -1;
    vmc_error_init(&vm->err);
    vm->nvcpus = cfg->vcpus ? cfg->vcpus : 1;
    vm->vcpus = calloc(vm->nvcpus, sizeof(*vm->vcpus));
    if (!vm->vcpus) {
        vm->nvcpus = 0;
        rc = -ENOMEM;
    }
    int r2 = vmc_sched_init(vm), r3 = vmc_timer_init(vm), r4 = vmc_event_init(vm);
    rc = rc ? rc : r2 ? r2 : r3 ? r3 : r4;
    if (rc == 0)
        rc = copy_argv(vm, cfg);
    if (rc < 0)
        vmc_vm_fail(vm, rc, "out of memory");
    else
        rc = create_modules(vm);
    vm->cfg.linux_root = NULL; /* used at create only: the VM keeps no pointer of the caller's */
    if (rc < 0) {
        vmc_error_copy(&vm->err, err, errlen);
        vmc_vm_destroy(vm);
        return rc;
    }
    *out = vm;
    return 0;
}

void vmc_vm_destroy(struct vmc_vm *vm)
{
    if (!vm)
        return;
    vmc_timer_stop(vm);
    for (size_t i = 0; i < VMC_DEV_COUNT; i++)
        if (vm->dev[i] && vmc_devices[i]->destroy)
            vmc_devices[i]->destroy(vm->dev[i]);
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        if (vm->vcpus[i].run)
            vmc_kvm_destroy_vcpu(vm->kvm, vm->vcpus[i].fd, vm->vcpus[i].run);
    vmc_hc_free(vm);
    vmc_xen_free(vm);
    vmc_linux_free(vm);
    vmc_sched_destroy(vm);
    vmc_event_destroy(vm);
    free(vm->vcpus);
    vmc_cpuid_free(vm);
    if (vm->fd >= 0)
        close(vm->fd);
    vmc_mem_free(&vm->mem);
    vmc_io_free(vm);
    if (vm->argv)
        for (int i = 0; i < vm->cfg.argc; i++)
            free(vm->argv[i]);
    free(vm->argv);
    for (int i = 0; vm->envp && i < vm->cfg.envc; i++)
        free(vm->envp[i]);
    free(vm->envp);
    vmc_error_destroy(&vm->err);
    vmc_free_big(vm, sizeof(*vm));
}

static uint32_t guest_mode(const struct vmc_config *cfg)
{
    if (cfg->personality == VMC_PERSONALITY_XEN)
        return VMC_LOAD_PVH;
    if (cfg->personality == VMC_PERSONALITY_LINUX)
        return VMC_LOAD_LINUX;
    return cfg->mode == VMC_MODE_32 ? VMC_GUEST_32 : cfg->user_mode ? VMC_GUEST_USER : VMC_GUEST_KERNEL;
}

int vmc_guest_info(const char *path, struct vmc_guest_info *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        vmc_errf(err, errlen, "%s: %s", path, strerror(errno));
        return -errno;
    }
    int rc = vmc_elf_info_fd(fd, path, out, err, errlen);
    close(fd);
    return rc;
}

/* A PVH guest (Xen's docs/misc/pvh.pandoc): 32-bit flat protected mode, paging off, EBX = the start
 * info, whose command line is the guest's arguments. */
static int boot_pvh(struct vmc_vm *vm)
{
    char line[VMC_CMDLINE_MAX + 1];
    size_t len = 0;
    for (int i = 0; i < vm->cfg.argc; i++) /* check_args made sure the joined line fits */
        len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? " " : "", vm->argv[i]);
    line[len] = 0;
    uint64_t start_info;
    int rc = vmc_xen_write_start_info(&vm->mem, line, &start_info);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "PVH start info: %s", strerror(-rc));
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    vmc_x86_init_vcpu_state(false, VMC_MODE_32, vm->entry, &regs, &sregs);
    regs.rbx = start_info;
    sregs.cr4 = 0; /* PVH: CR4 all clear; the guest turns on what it uses */
    regs.rdi = 0;
    vmc_vcpu_set_entry(&vm->vcpus[0], &regs, &sregs);
    vmc_sched_boot_up(&vm->vcpus[0]);
    return 0;
}

static int load_common(struct vmc_vm *vm, const char *path, bool flat, uint64_t gpa)
{
    if (vm->loaded)
        return vmc_vm_fail(vm, -EBUSY, "%s: an image is already loaded", path);
    uint64_t joined; /* argv[0] is the path: with the arguments it must fit the command-line area */
    if (vmc_x86_cmdline_bytes(path, vm->cfg.argc, vm->cfg.argv, &joined) > VMC_LAYOUT_CMDLINE_SIZE)
        return vmc_vm_fail(vm, -E2BIG,
                           "%s: the program name and its arguments do not fit the %u bytes of the "
                           "command-line area",
                           path, VMC_LAYOUT_CMDLINE_SIZE);
    /* O_NONBLOCK: a FIFO given as the image must be refused (the loader wants a regular file), not waited
     * on; reads of a regular file ignore the flag. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return vmc_vm_fail(vm, -errno, "%s: %s", path, strerror(errno));
    struct vmc_image img;
    char err[VMC_ERR_MAX];
    int rc = flat ? vmc_load_flat_fd(&vm->mem, fd, path, gpa, &img, err, sizeof(err))
                  : vmc_load_elf_fd(&vm->mem, fd, path, guest_mode(&vm->cfg), &img, err, sizeof(err));
    close(fd);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "%s", err);
    vm->entry = img.entry;
    vm->image_start = img.start;
    vm->image_end = img.end;
    vm->loaded = true;
    /* vCPU 0's entry state rides in on the first KVM_RUN via sync regs (no GET/SET_(S)REGS ioctls);
     * until then the control block shows it and may change it. */
    if (vm->xen && !flat)
        return boot_pvh(vm); /* a flat image has no notes: it starts as the configuration says */
    if (vm->lx) {
        rc = flat ? -ENOEXEC : vmc_linux_boot(vm, &img, path);
        return rc < 0 ? vmc_vm_fail(vm, rc, "%s: %s", path,
                                    rc == -ENOMEM  ? "does not fit with a stack in the VM's RAM (raise --mem)"
                                    : rc == -E2BIG ? "arguments and environment do not fit the stack"
                                                   : strerror(-rc))
                      : 0;
    }
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    vmc_x86_init_vcpu_state(vm->cfg.user_mode, vm->cfg.mode, vm->entry, &regs, &sregs);
    vmc_vcpu_set_entry(&vm->vcpus[0], &regs, &sregs);
    vmc_sched_boot_up(&vm->vcpus[0]);
    struct vmc_x86_boot b = { path,          vm->cfg.argc,
                              vm->argv,      vm->image_start,
                              vm->image_end, vm->cfg.user_mode ? VMC_BOOT_F_USER : 0,
                              vm->nvcpus,    vm->cfg.hypercall_abi,
                              vm->cfg.mode,  vmc_vm_features(vm) };
    return vmc_x86_write_boot_info(&vm->mem, &b);
}

int vmc_vm_load_elf(struct vmc_vm *vm, const char *path)
{
    return load_common(vm, path, false, 0);
}

int vmc_vm_load_flat(struct vmc_vm *vm, const char *path, uint64_t gpa)
{
    return load_common(vm, path, true, gpa);
}

int vmc_vm_read(struct vmc_vm *vm, uint64_t gpa, void *buf, size_t len)
{
    return vmc_mem_read(&vm->mem, gpa, buf, len);
}

int vmc_vm_write(struct vmc_vm *vm, uint64_t gpa, const void *buf, size_t len)
{
    return vmc_mem_write(&vm->mem, gpa, buf, len);
}

/* The first run: what must follow every configuration call (the MSR filter, CPUID), then the sandbox:
 * from here on the VMM needs no new file, socket or device. */
static int start(struct vmc_vm *vm)
{
    int rc = vmc_msr_apply(vm);
    if (rc == 0)
        rc = vmc_cpuid_apply(vm);
    if (rc == 0 && vm->lx)
        rc = vmc_linux_start(vm);
    if (rc == 0 && vm->cfg.sandbox)
        rc = vmc_sandbox_install(vm, vm->lx ? VMC_SANDBOX_PROCESS_LINUX : VMC_SANDBOX_PROCESS);
    vm->sandboxed = rc == 0 && vm->cfg.sandbox;
    if (rc == 0)
        vm->started = true;
    return rc;
}

int vmc_vm_run(struct vmc_vm *vm, struct vmc_result *res)
{
    memset(res, 0, sizeof(*res));
    if (!vm->loaded)
        return vmc_vm_fail(vm, -ENOEXEC, "no guest image loaded");
    if (vm->finished)
        return vmc_vm_fail(vm, -EINVAL, "the VM has already stopped for good");
    if (vmc_sched_running(vm))
        return vmc_vm_fail(vm, -EBUSY, "the VM is already running");
    int rc = vm->started ? 0 : start(vm);
    if (rc < 0)
        return rc;
    struct vmc_console *con = vmc_vm_dev(vm, VMC_DEV_CONSOLE);
    vmc_console_rearm(con);
    rc = vmc_vcpu_run_vm(vm, res);
    /* The guest's last output goes out before the caller hears of the end; a run that was cut short does
     * not wait long for a reader that stopped reading. */
    bool cut = res->stop != VMC_STOP_EXIT && res->stop != VMC_STOP_CRASH;
    vmc_console_drain(con, cut ? vmc_now_ns() + VMC_CONSOLE_GRACE_NS : 0);
    if (rc < 0 || res->stop == VMC_STOP_EXIT || res->stop == VMC_STOP_CRASH)
        vm->finished = true;
    return rc;
}

void vmc_vm_cancel(struct vmc_vm *vm)
{
    vmc_sched_cancel(vm, 0);
    vmc_console_cancel(vmc_vm_dev(vm, VMC_DEV_CONSOLE));
}

void vmc_vm_console_stats(struct vmc_vm *vm, struct vmc_console_stat *out)
{
    struct vmc_console_stats s;
    vmc_console_get_stats(vmc_vm_dev(vm, VMC_DEV_CONSOLE), &s);
    *out = (struct vmc_console_stat){ s.written, s.dropped, s.unwritten, s.error };
}

struct vmc_vcpu *vmc_vm_vcpu(struct vmc_vm *vm, uint32_t id)
{
    return id < vm->nvcpus ? &vm->vcpus[id] : NULL;
}

struct vmc_vm *vmc_vcpu_vm(struct vmc_vcpu *vcpu)
{
    return vcpu->vm;
}

uint32_t vmc_vcpu_id(const struct vmc_vcpu *vcpu)
{
    return vcpu->id;
}
