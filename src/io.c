/* SPDX-License-Identifier: MIT */
/* Port and MMIO space: registration, the I/O policy with VMX bitmap semantics, the TSS bitmap, dispatch. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/x86.h"
#include "vm.h"

void vmc_io_init(struct vmc_vm *vm)
{
    /* The VM is calloc'ed: the 64 KiB policy table is zero (no policy) without being touched. */
    vmc_bus_init(&vm->io.pio);
    vmc_bus_init(&vm->io.mmio);
}

void vmc_io_free(struct vmc_vm *vm)
{
    vmc_bus_free(&vm->io.pio);
    vmc_bus_free(&vm->io.mmio);
}

int vmc_vm_register_io(struct vmc_vm *vm, uint16_t port, uint32_t count, vmc_io_fn fn, void *opaque,
                       unsigned flags)
{
    if (count == 0 || (uint32_t)port + count > 0x10000 || (flags & ~VMC_IO_F_USER))
        return vmc_vm_fail(vm, -EINVAL, "port range 0x%x+%u is invalid", port, count);
    if (vmc_sched_running(vm))
        return vmc_vm_fail(vm, -EBUSY, "ports cannot be registered while the VM runs");
    int rc = vmc_bus_register(&vm->io.pio, port, count, fn, opaque, flags);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "port range 0x%x+%u: %s", port, count, strerror(-rc));
    if ((flags & VMC_IO_F_USER) && vm->created) /* vmc_vm_create computes it once for its devices */
        vmc_io_update_iomap(vm);
    return 0;
}

int vmc_io_register(struct vmc_vm *vm, uint16_t port, uint32_t count, vmc_io_fn fn, void *opaque)
{
    return vmc_vm_register_io(vm, port, count, fn, opaque, 0);
}

int vmc_vm_register_mmio(struct vmc_vm *vm, uint64_t gpa, uint64_t len, vmc_io_fn fn, void *opaque)
{
    /* MMIO must not shadow RAM: KVM never exits for addresses backed by a memslot. */
    if (len == 0 || gpa + len - 1 < gpa || gpa < vm->mem.size)
        return vmc_vm_fail(vm, -EINVAL, "MMIO range 0x%" PRIx64 "+0x%" PRIx64 " is invalid or overlaps RAM",
                           gpa, len);
    if (vmc_sched_running(vm))
        return vmc_vm_fail(vm, -EBUSY, "MMIO cannot be registered while the VM runs");
    int rc = vmc_bus_register(&vm->io.mmio, gpa, len, fn, opaque, 0);
    if (rc < 0)
        return vmc_vm_fail(vm, rc, "MMIO range 0x%" PRIx64 "+0x%" PRIx64 ": %s", gpa, len, strerror(-rc));
    return 0;
}

int vmc_mmio_register(struct vmc_vm *vm, uint64_t gpa, uint64_t len, vmc_io_fn fn, void *opaque)
{
    return vmc_vm_register_mmio(vm, gpa, len, fn, opaque);
}

enum vmc_io_policy vmc_vm_io_policy(const struct vmc_vm *vm, uint16_t port)
{
    uint8_t own = vm->io.policy[port];
    if (own)
        return (enum vmc_io_policy)(own - 1);
    return vmc_bus_find(&vm->io.pio, port) ? VMC_IO_PASS : (enum vmc_io_policy)vm->cfg.io_default;
}

int vmc_vm_set_io_policy(struct vmc_vm *vm, uint16_t port, uint32_t count, enum vmc_io_policy policy)
{
    if (count == 0 || (uint32_t)port + count > 0x10000 || (unsigned)policy > VMC_IO_DENY)
        return vmc_vm_fail(vm, -EINVAL, "I/O policy for ports 0x%x+%u is invalid", port, count);
    if (vmc_sched_running(vm))
        return vmc_vm_fail(vm, -EBUSY, "the I/O policy cannot change while the VM runs");
    memset(vm->io.policy + port, 1 + (int)policy, count);
    vm->io.policy_set = true;
    vmc_io_update_iomap(vm);
    return 0;
}

/*
 * The TSS I/O permission bitmap (SDM vol. 1 19.5.2: a set bit faults at CPL3): open the ports devices
 * and embedders registered VMC_IO_F_USER, those the policy names PASS or IGNORE, and every port when the
 * default is IGNORE; DENY closes any port.
 */
void vmc_io_update_iomap(struct vmc_vm *vm)
{
    uint8_t bm[X86_IOMAP_BYTES + 1];
    memset(bm, vm->cfg.io_default == VMC_IO_IGNORE ? 0 : 0xff, X86_IOMAP_BYTES);
    bm[X86_IOMAP_BYTES] = 0xff;
    const struct vmc_bus *bus = &vm->io.pio;
    for (size_t i = 0; i < bus->nranges; i++)
        for (uint64_t p = bus->ranges[i].base;
             (bus->ranges[i].flags & VMC_IO_F_USER) && p < bus->ranges[i].base + bus->ranges[i].len; p++)
            bm[p / 8] &= (uint8_t) ~(1u << (p % 8));
    for (unsigned p = 0; p < 65536 && vm->io.policy_set; p++) {
        uint8_t own = vm->io.policy[p];
        if (own == 1 + VMC_IO_DENY)
            bm[p / 8] |= (uint8_t)(1u << (p % 8));
        else if (own)
            bm[p / 8] &= (uint8_t) ~(1u << (p % 8));
    }
    vmc_x86_install_iomap(&vm->mem, bm, vm->nvcpus);
}

/*
 * VMX semantics (SDM vol. 3C 25.6.4): an access is intercepted if the bit of any port it touches is set,
 * and always when it wraps past 0xFFFF. Intercepted, it takes the strictest policy of its ports.
 */
static enum vmc_io_policy access_policy(const struct vmc_vm *vm, uint16_t port, uint32_t size)
{
    if ((uint32_t)port + size > 0x10000)
        return VMC_IO_DENY;
    if (!vm->io.policy_set && vm->cfg.io_default == VMC_IO_PASS)
        return VMC_IO_PASS; /* nothing intercepted: no per-port lookups on the exit path */
    enum vmc_io_policy worst = VMC_IO_PASS;
    for (uint32_t i = 0; i < size; i++) {
        enum vmc_io_policy p = vmc_vm_io_policy(vm, (uint16_t)(port + i));
        if (p > worst)
            worst = p;
    }
    return worst;
}

void vmc_io_port(struct vmc_vcpu *vcpu, uint16_t port, uint32_t size, bool in, uint8_t *data, uint32_t count,
                 struct vmc_action *act)
{
    struct vmc_vm *vm = vcpu->vm;
    enum vmc_io_policy p = access_policy(vm, port, size);
    if (p == VMC_IO_DENY) {
        /* #GP(0) at the instruction, which must have no effect: the run loop undoes it (SDM vol. 1 19.5). */
        vmc_bus_count(&vm->io.pio, port, VMC_COUNT_DENIED);
        act->kind = VMC_ACT_IO_FAULT;
        act->fault =
            (struct vmc_event){ .type = VMC_EVENT_EXCEPTION, .vector = X86_VEC_GP, .has_error_code = true };
        act->io_port = port, act->io_size = (uint8_t)size, act->io_in = in;
        return;
    }
    if (p == VMC_IO_IGNORE) {
        vmc_bus_count(&vm->io.pio, port, VMC_COUNT_IGNORED);
        if (in)
            memset(data, 0xff, (size_t)size * count);
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        int rc = vmc_bus_access(&vm->io.pio, vcpu, port, data + i * size, size, !in);
        if (rc < 0) {
            vmc_vm_fail(vm, rc, "port 0x%x handler failed: %s", port, strerror(-rc));
            vmc_act_error(act, rc);
            return;
        }
    }
}

int vmc_io_mmio(struct vmc_vcpu *vcpu, uint64_t gpa, uint8_t *data, uint32_t len, bool write)
{
    struct vmc_vm *vm = vcpu->vm;
    uint8_t *ram = vmc_mem_ptr(&vm->mem, gpa, len);
    if (ram) {
        if (write)
            memcpy(ram, data, len);
        else
            memcpy(data, ram, len);
        return 0;
    }
    return vmc_bus_access(&vm->io.mmio, vcpu, gpa, data, len, write);
}

void vmc_io_intercepted(struct vmc_vm *vm, uint32_t *a, uint32_t *b)
{
    *a = *b = 0;
    for (uint32_t port = 0; port < 65536; port++)
        if (vmc_vm_io_policy(vm, (uint16_t)port) != VMC_IO_PASS)
            (*(port < 0x8000 ? a : b))++;
}

size_t vmc_vm_addr_stats(const struct vmc_vm *vm, bool mmio, struct vmc_addr_stat *out, size_t max)
{
    return vmc_bus_stats(mmio ? &vm->io.mmio : &vm->io.pio, out, max);
}
