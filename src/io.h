/* SPDX-License-Identifier: MIT */
/* The VM's port and MMIO space: the buses, the I/O policy (the VMM's I/O bitmap), the TSS bitmap. */
#ifndef VMCALL_SRC_IO_H
#define VMCALL_SRC_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "action.h"
#include "bus.h"

struct vmc_vm;
struct vmc_vcpu;

struct vmc_io {
    struct vmc_bus pio, mmio;
    uint8_t policy[65536]; /* per port: 0 = none of its own, else 1 + enum vmc_io_policy */
    bool policy_set;       /* some port has a policy of its own */
};

void vmc_io_init(struct vmc_vm *vm);
void vmc_io_free(struct vmc_vm *vm);
/* Recompute the TSS I/O permission bitmap from the ports registered VMC_IO_F_USER and the policy. */
void vmc_io_update_iomap(struct vmc_vm *vm);
/* An intercepted port access of the exit record: the policy, then the bus (count repetitions). */
void vmc_io_port(struct vmc_vcpu *vcpu, uint16_t port, uint32_t size, bool in, uint8_t *data, uint32_t count,
                 struct vmc_action *act);
/* An MMIO access: RAM (a hot-add run whose memslot is being replaced) from host memory, else the bus. */
int vmc_io_mmio(struct vmc_vcpu *vcpu, uint64_t gpa, uint8_t *data, uint32_t len, bool write);
/* Ports intercepted in I/O bitmaps A (0-0x7fff) and B, for the control block. */
void vmc_io_intercepted(struct vmc_vm *vm, uint32_t *a, uint32_t *b);

#endif /* VMCALL_SRC_IO_H */
