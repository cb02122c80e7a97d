/* SPDX-License-Identifier: MIT */
/* The console as every personality's console calls use it: guest buffers in and out, waits for room or input.
 */
#ifndef VMCALL_SRC_HC_CONSOLE_H
#define VMCALL_SRC_HC_CONSOLE_H

#include <stdint.h>
#include <sys/uio.h>

#include "../hypercall.h"

/* Queue the guest buffers (vmc_hc_iov) as far as the console takes them, in order: the bytes taken. */
uint64_t vmc_hc_console_put(struct vmc_hcall *hc, const struct iovec *iov, int n);
/* Read what input there is into the guest buffers: the bytes read (0: none yet, or the end). */
uint64_t vmc_hc_console_get(struct vmc_hcall *hc, const struct iovec *iov, int n);
/* Make the vCPU wait, after the call, until the console has room, or input came (the watcher is armed
 * first, so input arriving in between is not missed); an interrupt ends either wait too. */
void vmc_hc_wait_console_room(struct vmc_hcall *hc);
/* ... until everything queued is written (pushed out now, an unfinished line too). */
void vmc_hc_wait_console_empty(struct vmc_hcall *hc);
void vmc_hc_wait_input(struct vmc_hcall *hc);

#endif /* VMCALL_SRC_HC_CONSOLE_H */
