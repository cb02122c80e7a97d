/* SPDX-License-Identifier: MIT */
/* VM lifecycle: create, load, register devices, destroy; the public configuration and error handling. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

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

int vmc_vm_fail(struct vmc_vm *vm, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vm->err, sizeof(vm->err), fmt, ap);
    va_end(ap);
    return err;
}

const char *vmc_vm_strerror(const struct vmc_vm *vm)
{
    return vm->err;
}

static int check_config(const struct vmc_config *cfg, char *err, size_t errlen)
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
    if (cfg->mode != VMC_MODE_64 && cfg->mode != VMC_MODE_32) {
        vmc_errf(err, errlen, "mode must be 64 or 32");
        return -EINVAL;
    }
    if (cfg->mode == VMC_MODE_32 && cfg->user_mode) {
        vmc_errf(err, errlen, "user mode needs 64-bit mode");
        return -EINVAL;
    }
    if (cfg->hypercall_abi != VMC_HCABI_KVM && cfg->hypercall_abi != VMC_HCABI_XEN) {
        vmc_errf(err, errlen, "unknown hypercall register convention %u", cfg->hypercall_abi);
        return -EINVAL;
    }
    if (cfg->mem_max && (cfg->mem_max < cfg->mem_size || cfg->mem_max - cfg->mem_size > VMC_HOTADD_SIZE ||
                         cfg->mem_max % 4096)) {
        vmc_errf(err, errlen,
                 "memory limit must be a multiple of 4 KiB between the RAM size and RAM + %llu MiB",
                 VMC_HOTADD_SIZE >> 20);
        return -EINVAL;
    }
    if (cfg->io_default > VMC_IO_DENY) {
        vmc_errf(err, errlen, "unknown I/O policy %u", cfg->io_default);
        return -EINVAL;
    }
    if (cfg->vcpus > VMC_VCPU_MAX) {
        vmc_errf(err, errlen, "%u vCPUs asked for, at most %u supported", cfg->vcpus, VMC_VCPU_MAX);
        return -EINVAL;
    }
    if (cfg->argc < 0 || (cfg->argc > 0 && !cfg->argv)) {
        vmc_errf(err, errlen, "bad guest argument vector");
        return -EINVAL;
    }
    /* argv[] + strings + the joined line must fit the command-line area. */
    uint64_t strings = 0, joined = 0;
    for (int i = 0; i < cfg->argc; i++) {
        size_t n = cfg->argv[i] ? strlen(cfg->argv[i]) : 0;
        if (!cfg->argv[i]) {
            vmc_errf(err, errlen, "guest argument %d is NULL", i);
            return -EINVAL;
        }
        strings += n + 1;
        joined += n + (i ? 1 : 0);
    }
    uint64_t need = (uint64_t)(cfg->argc + 1) * 8 + strings + joined + 1;
    if (joined > VMC_CMDLINE_MAX || need > VMC_LAYOUT_CMDLINE_SIZE) {
        vmc_errf(err, errlen, "guest command line too long (%" PRIu64 " bytes, max %u)", joined,
                 VMC_CMDLINE_MAX);
        return -E2BIG;
    }
    return 0;
}

/*
 * MSRs the filter denies exit to userspace (KVM_MSR_EXIT_REASON_FILTER, abi-reference 3.6) instead of
 * raising #GP: that is how the VMM handles the hypercall-page MSR and applies the MSR policy. The filter
 * itself is installed at the first run (vmc_msr_apply). Hosts without the capabilities still boot; the
 * hypercall page then comes from boot info only.
 */
static void enable_msr_exits(struct vmc_vm *vm)
{
    if (ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) <= 0 ||
        ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0)
        return;
    struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR, .args = { KVM_MSR_EXIT_REASON_FILTER } };
    vm->msr_exits = ioctl(vm->fd, KVM_ENABLE_CAP, &cap) == 0;
    vm->msr_discovery = vm->msr_exits;
}

static int init_cond(pthread_cond_t *c)
{
    /* Deadlines are monotonic-clock times, like the guest's timer deadlines. */
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int e = pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
    return -e;
}

static int create_vcpu(struct vmc_vm *vm, uint32_t id)
{
    struct vmc_vcpu *v = &vm->vcpus[id];
    v->vm = vm;
    v->id = id;
    v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
    if (v->fd < 0)
        return vmc_vm_fail(vm, -errno, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
    v->run = mmap(NULL, (size_t)vm->kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        v->run = NULL;
        return vmc_vm_fail(vm, -errno, "mmap kvm_run: %s", strerror(errno));
    }
    /* Registers travel in kvm_run on every exit: decoding an exit costs no ioctl. */
    v->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    return 0;
}

int vmc_vm_start(struct vmc_vm *vm)
{
    int rc = vmc_msr_apply(vm);
    if (rc < 0)
        return rc;
    const struct kvm_cpuid2 *cpuid = vm->cpuid ? vm->cpuid : vm->kvm->cpuid;
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        if (ioctl(vm->vcpus[i].fd, KVM_SET_CPUID2, cpuid) < 0)
            return vmc_vm_fail(vm, -errno, "KVM_SET_CPUID2: %s", strerror(errno));
    return 0;
}

int vmc_vm_create(struct vmc_kvm *kvm, const struct vmc_config *cfg, struct vmc_vm **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    int rc = check_config(cfg, err, errlen);
    if (rc < 0)
        return rc;
    struct vmc_vm *vm = calloc(1, sizeof(*vm));
    if (!vm) {
        vmc_errf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    vm->kvm = kvm;
    vm->cfg = *cfg;
    vm->fd = -1;
    vm->disk.fd = -1;
    memset(vm->hc_allowed, 0xff, sizeof(vm->hc_allowed));
    vm->hc_allow_user = cfg->allow_user_hypercalls < 0 ? cfg->user_mode : cfg->allow_user_hypercalls != 0;
    vm->populated_pages = cfg->mem_size >> 12;
    vm->max_pages = (cfg->mem_max ? cfg->mem_max : cfg->mem_size) >> 12;
    vmc_console_init(&vm->console, cfg->console_out_fd, cfg->console_in_fd);
    vmc_bus_init(&vm->pio);
    vmc_bus_init(&vm->mmio);
    pthread_mutex_init(&vm->lock, NULL);
    pthread_mutex_init(&vm->memop_lock, NULL);
    init_cond(&vm->timer_cond);
    vm->nvcpus = cfg->vcpus ? cfg->vcpus : 1;
    vm->vcpus = calloc(vm->nvcpus, sizeof(*vm->vcpus));
    if (!vm->vcpus) {
        vm->nvcpus = 0;
        rc = vmc_vm_fail(vm, -ENOMEM, "out of memory");
        goto err;
    }
    for (uint32_t i = 0; i < vm->nvcpus; i++) {
        vm->vcpus[i].fd = -1;
        init_cond(&vm->vcpus[i].cond);
    }

    vm->argv = calloc((size_t)cfg->argc + 1, sizeof(char *));
    if (!vm->argv) {
        rc = vmc_vm_fail(vm, -ENOMEM, "out of memory");
        goto err;
    }
    for (int i = 0; i < cfg->argc; i++) {
        vm->argv[i] = strdup(cfg->argv[i]);
        if (!vm->argv[i]) {
            rc = vmc_vm_fail(vm, -ENOMEM, "out of memory");
            goto err;
        }
    }
    vm->cfg.argv = (const char *const *)vm->argv;

    vm->fd = ioctl(kvm->fd, KVM_CREATE_VM, 0);
    if (vm->fd < 0) {
        rc = vmc_vm_fail(vm, -errno, "KVM_CREATE_VM: %s", strerror(errno));
        goto err;
    }
    /* Untouched guest memory costs nothing (MAP_NORESERVE, populated on first touch). */
    vm->mem.size = cfg->mem_size;
    vm->mem.host =
        mmap(NULL, vm->mem.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (vm->mem.host == MAP_FAILED) {
        vm->mem.host = NULL;
        rc = vmc_vm_fail(vm, -errno, "cannot map %" PRIu64 " MiB of guest memory: %s", vm->mem.size >> 20,
                         strerror(errno));
        goto err;
    }
    /*
     * THP above the first 2 MiB only: there the guest's 2 MiB mappings meet host huge pages and first
     * touches become nearly free, while a huge page under the VMM region would be zeroed whole (~250 us
     * measured here) before the first instruction runs.
     */
    if (vm->mem.size > VMC_RAM_ALIGN)
        madvise(vm->mem.host + VMC_RAM_ALIGN, vm->mem.size - VMC_RAM_ALIGN, MADV_HUGEPAGE);
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = vm->mem.size,
        .userspace_addr = (uint64_t)(uintptr_t)vm->mem.host,
    };
    if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        rc = vmc_vm_fail(vm, -errno, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
        goto err;
    }
    rc = vmc_x86_setup_memory(vm);
    if (rc < 0) {
        vmc_vm_fail(vm, rc, "guest memory layout: %s", strerror(-rc));
        goto err;
    }
    enable_msr_exits(vm);
    for (uint32_t i = 0; i < vm->nvcpus; i++) {
        rc = create_vcpu(vm, i);
        if (rc < 0)
            goto err;
    }
    if (cfg->disk_path) {
        rc = vmc_disk_open(vm, cfg->disk_path, cfg->disk_readonly);
        if (rc < 0)
            goto err;
    }
    for (size_t i = 0; i < vmc_ndevices; i++) {
        rc = vmc_devices[i]->create(vm, &vm->dev_state[i]);
        if (rc < 0) {
            vmc_vm_fail(vm, rc, "device %s: %s", vmc_devices[i]->name, strerror(-rc));
            goto err;
        }
    }
    *out = vm;
    return 0;

err:
    vmc_errf(err, errlen, "%s", vm->err);
    vmc_vm_destroy(vm);
    return rc;
}

void vmc_vm_destroy(struct vmc_vm *vm)
{
    if (!vm)
        return;
    vmc_timer_stop(vm);
    vmc_console_flush(&vm->console);
    for (size_t i = 0; i < vmc_ndevices; i++)
        if (vm->dev_state[i] && vmc_devices[i]->destroy)
            vmc_devices[i]->destroy(vm->dev_state[i]);
    for (uint32_t i = 0; i < vm->nvcpus; i++) {
        struct vmc_vcpu *v = &vm->vcpus[i];
        if (v->run)
            munmap(v->run, (size_t)vm->kvm->run_size);
        if (v->fd >= 0)
            close(v->fd);
        pthread_cond_destroy(&v->cond);
    }
    free(vm->vcpus);
    free(vm->cpuid);
    if (vm->fd >= 0)
        close(vm->fd);
    if (vm->mem.host)
        munmap(vm->mem.host, vm->mem.size);
    vmc_mem_free_extra(vm);
    vmc_disk_close(&vm->disk);
    vmc_bus_free(&vm->pio);
    vmc_bus_free(&vm->mmio);
    if (vm->argv)
        for (int i = 0; i < vm->cfg.argc; i++)
            free(vm->argv[i]);
    free(vm->argv);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->memop_lock);
    pthread_cond_destroy(&vm->timer_cond);
    vmc_console_destroy(&vm->console);
    free(vm);
}

static int load_common(struct vmc_vm *vm, const char *path, bool flat, uint64_t gpa)
{
    if (vm->loaded)
        return vmc_vm_fail(vm, -EBUSY, "%s: an image is already loaded", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vmc_vm_fail(vm, -errno, "%s: %s", path, strerror(errno));
    struct vmc_image img;
    int rc = flat ? vmc_load_flat_fd(&vm->mem, fd, path, gpa, &img, vm->err, sizeof(vm->err))
                  : vmc_load_elf_fd(&vm->mem, fd, path, vm->cfg.mode == VMC_MODE_32, &img, vm->err,
                                    sizeof(vm->err));
    close(fd);
    if (rc < 0)
        return rc;
    vm->entry = img.entry;
    vm->image_start = img.start;
    vm->image_end = img.end;
    vm->loaded = true;
    /* vCPU 0's entry state rides in on the first KVM_RUN via sync regs (no GET/SET_(S)REGS ioctls);
     * until then the control block shows it and may change it. */
    struct vmc_vcpu *boot = &vm->vcpus[0];
    vmc_x86_init_vcpu_state(vm, &boot->run->s.regs.regs, &boot->run->s.regs.sregs);
    boot->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    boot->state = VMC_VCPU_UP;
    vm->nup = 1;
    return vmc_x86_write_boot_info(vm);
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

int vmc_io_register(struct vmc_vm *vm, uint16_t port, uint32_t count, vmc_io_fn fn, void *opaque)
{
    if (count == 0 || (uint32_t)port + count > 0x10000)
        return vmc_vm_fail(vm, -EINVAL, "port range 0x%x+%u is invalid", port, count);
    int rc = vmc_bus_register(&vm->pio, port, count, fn, opaque);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "port range 0x%x+%u: %s", port, count, strerror(-rc));
    return 0;
}

int vmc_mmio_register(struct vmc_vm *vm, uint64_t gpa, uint64_t len, vmc_io_fn fn, void *opaque)
{
    /* MMIO must not shadow RAM: KVM never exits for addresses backed by a memslot. */
    if (len == 0 || gpa + len - 1 < gpa || gpa < vm->mem.size)
        return vmc_vm_fail(vm, -EINVAL, "MMIO range 0x%" PRIx64 "+0x%" PRIx64 " is invalid or overlaps RAM",
                           gpa, len);
    int rc = vmc_bus_register(&vm->mmio, gpa, len, fn, opaque);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "MMIO range 0x%" PRIx64 "+0x%" PRIx64 ": %s", gpa, len, strerror(-rc));
    return 0;
}

void vmc_vcpu_exit(struct vmc_vcpu *vcpu, uint32_t status)
{
    vcpu->req.stop = VMC_STOP_EXIT;
    vcpu->req.status = status;
}

struct vmc_vm *vmc_vcpu_vm(struct vmc_vcpu *vcpu)
{
    return vcpu->vm;
}

uint32_t vmc_vcpu_id(const struct vmc_vcpu *vcpu)
{
    return vcpu->id;
}

size_t vmc_vm_exit_stats(const struct vmc_vm *vm, struct vmc_exit_stat *out, size_t max)
{
    size_t n = 0;
    for (uint32_t r = 0; r < VMC_EXIT_REASON_MAX; r++) {
        uint64_t count = __atomic_load_n(&vm->exits[r].count, __ATOMIC_RELAXED);
        if (!count)
            continue;
        if (n < max)
            out[n] =
                (struct vmc_exit_stat){ r, count, __atomic_load_n(&vm->exits[r].total_ns, __ATOMIC_RELAXED) };
        n++;
    }
    return n;
}

size_t vmc_vm_addr_stats(const struct vmc_vm *vm, bool mmio, struct vmc_addr_stat *out, size_t max)
{
    return vmc_bus_stats(mmio ? &vm->mmio : &vm->pio, out, max);
}
