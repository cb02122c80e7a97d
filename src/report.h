/* SPDX-License-Identifier: MIT */
/* Results and human-readable reports: the result of a run, crash reports, statistics tables. */
#ifndef VMCALL_SRC_REPORT_H
#define VMCALL_SRC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmcall/vmcall.h"

struct vmc_vcpu;

/* The result of a run, from the vCPU whose stop ended it: its stop request, exit record, registers, and a
 * one-line summary. */
void vmc_result_build(struct vmc_vcpu *stopper, struct vmc_result *res);
void vmc_describe_exception(char *buf, size_t len, uint8_t vector, bool has_ec, uint32_t ec, uint64_t rip,
                            uint64_t cr2);
const char *vmc_vector_name(uint8_t vector);

#endif /* VMCALL_SRC_REPORT_H */
