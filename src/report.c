/* SPDX-License-Identifier: MIT */
/* Human-readable output: crash reports, exception descriptions, the --stats tables. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *vmc_vector_name(uint8_t vector)
{
    /* Mnemonics from SDM vol. 3A table 6-1. */
    static const char *const names[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
        "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE",  "#CP",
        "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
    };
    return vector < 32 ? names[vector] : "#INTR";
}

void vmc_describe_exception(char *buf, size_t len, uint8_t vector, bool has_ec, uint32_t ec, uint64_t rip,
                            uint64_t cr2)
{
    if (vector == 14) {
        /* #PF error code bits: P, W/R, U/S, RSVD, I/D (SDM vol. 3A 4.7). */
        snprintf(buf, len, "guest #PF at rip=0x%" PRIx64 " cr2=0x%" PRIx64 " (%s, %s%s%s)", rip, cr2,
                 (ec & 16)  ? "fetch"
                 : (ec & 2) ? "write"
                            : "read",
                 (ec & 1) ? "protection" : "not-present", (ec & 4) ? ", user" : "",
                 (ec & 8) ? ", reserved bit" : "");
    } else if (has_ec) {
        snprintf(buf, len, "guest %s(0x%" PRIx32 ") at rip=0x%" PRIx64, vmc_vector_name(vector), ec, rip);
    } else {
        snprintf(buf, len, "guest %s at rip=0x%" PRIx64, vmc_vector_name(vector), rip);
    }
}

void vmc_regs_from_kvm(struct vmc_regs *o, const struct kvm_regs *r, const struct kvm_sregs *s)
{
    *o = (struct vmc_regs){
        .rax = r->rax,
        .rbx = r->rbx,
        .rcx = r->rcx,
        .rdx = r->rdx,
        .rsi = r->rsi,
        .rdi = r->rdi,
        .rbp = r->rbp,
        .rsp = r->rsp,
        .r8 = r->r8,
        .r9 = r->r9,
        .r10 = r->r10,
        .r11 = r->r11,
        .r12 = r->r12,
        .r13 = r->r13,
        .r14 = r->r14,
        .r15 = r->r15,
        .rip = r->rip,
        .rflags = r->rflags,
        .cr0 = s->cr0,
        .cr2 = s->cr2,
        .cr3 = s->cr3,
        .cr4 = s->cr4,
        .efer = s->efer,
        .cs = s->cs.selector,
        .ss = s->ss.selector,
        .cpl = (uint8_t)(s->cs.selector & 3),
    };
}

void vmc_result_print(const struct vmc_result *res, FILE *f)
{
    const struct vmc_regs *r = &res->regs;
    fprintf(f, "vmcall: %s\n", res->summary);
    if (res->stop != VMC_STOP_CRASH)
        return;
    fprintf(f,
            "  vcpu %" PRIu32 ", exit %s (reason %" PRIu32 ", kvm exit %" PRIu32 ", qualification 0x%" PRIx64
            ")\n",
            res->vcpu, vmc_exit_reason_name(res->exit.reason), res->exit.reason, res->exit.kvm_reason,
            res->exit.qualification);
    if (res->crash == VMC_CRASH_EXCEPTION && res->has_error_code)
        fprintf(f, "  exception %u %s, error code 0x%" PRIx32 ", interruption info 0x%08" PRIx32 "\n",
                res->vector, vmc_vector_name(res->vector), res->error_code, res->exit.intr_info);
    else if (res->crash == VMC_CRASH_EXCEPTION)
        fprintf(f, "  exception %u %s, interruption info 0x%08" PRIx32 "\n", res->vector,
                vmc_vector_name(res->vector), res->exit.intr_info);
    if (res->insn_len) {
        fprintf(f, "  instruction bytes:");
        for (unsigned i = 0; i < res->insn_len; i++)
            fprintf(f, " %02x", res->insn[i]);
        fputc('\n', f);
    }
    fprintf(f,
            "  rip=0x%016" PRIx64 " rsp=0x%016" PRIx64 " rflags=0x%08" PRIx64 " cpl=%u cs=0x%04x ss=0x%04x\n",
            r->rip, r->rsp, r->rflags, r->cpl, r->cs, r->ss);
    fprintf(f, "  rax=0x%016" PRIx64 " rbx=0x%016" PRIx64 " rcx=0x%016" PRIx64 " rdx=0x%016" PRIx64 "\n",
            r->rax, r->rbx, r->rcx, r->rdx);
    fprintf(f, "  rsi=0x%016" PRIx64 " rdi=0x%016" PRIx64 " rbp=0x%016" PRIx64 " r8 =0x%016" PRIx64 "\n",
            r->rsi, r->rdi, r->rbp, r->r8);
    fprintf(f, "  r9 =0x%016" PRIx64 " r10=0x%016" PRIx64 " r11=0x%016" PRIx64 " r12=0x%016" PRIx64 "\n",
            r->r9, r->r10, r->r11, r->r12);
    fprintf(f, "  r13=0x%016" PRIx64 " r14=0x%016" PRIx64 " r15=0x%016" PRIx64 "\n", r->r13, r->r14, r->r15);
    fprintf(f,
            "  cr0=0x%08" PRIx64 " cr2=0x%016" PRIx64 " cr3=0x%08" PRIx64 " cr4=0x%08" PRIx64
            " efer=0x%" PRIx64 "\n",
            r->cr0, r->cr2, r->cr3, r->cr4, r->efer);
}

void vmc_vm_print_stats(const struct vmc_vm *vm, FILE *f)
{
    struct vmc_exit_stat es[VMC_EXIT_REASON_MAX];
    size_t n = vmc_vm_exit_stats(vm, es, ARRAY_SIZE(es));
    uint64_t total = 0;
    fprintf(f, "%-22s %10s %12s %10s\n", "exit reason", "count", "total_us", "mean_us");
    for (size_t i = 0; i < n; i++) {
        char name[40];
        snprintf(name, sizeof(name), "%s(%" PRIu32 ")", vmc_exit_reason_name(es[i].reason), es[i].reason);
        fprintf(f, "%-22s %10" PRIu64 " %12.1f %10.2f\n", name, es[i].count, es[i].total_ns / 1e3,
                es[i].total_ns / 1e3 / (double)es[i].count);
        total += es[i].count;
    }
    fprintf(f, "%-22s %10" PRIu64 "\n", "total", total);
    uint64_t injected = 0, halts = 0, halt_ns = 0;
    for (uint32_t i = 0; i < vm->nvcpus; i++) {
        injected += vm->vcpus[i].events_injected;
        halts += vm->vcpus[i].halts;
        halt_ns += vm->vcpus[i].halt_ns;
    }
    if (injected)
        fprintf(f, "%-22s %10" PRIu64 "\n", "events injected", injected);
    if (halts)
        fprintf(f, "%-22s %10" PRIu64 " %12.1f %10.2f\n", "halts (blocked)", halts, halt_ns / 1e3,
                halt_ns / 1e3 / (double)halts);
    struct vmc_hypercall_stat hs[VMC_HYPERCALL_NR_MAX];
    size_t nh = vmc_vm_hypercall_stats(vm, hs, ARRAY_SIZE(hs));
    if (nh)
        fprintf(f, "%-22s %10s %8s %8s %12s %10s\n", "hypercall", "count", "errors", "denied", "total_us",
                "mean_us");
    for (size_t i = 0; i < nh; i++) {
        char name[40];
        snprintf(name, sizeof(name), "%s(%" PRIu32 ")", hs[i].name, hs[i].nr);
        fprintf(f, "%-22s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %12.1f %10.2f\n", name, hs[i].count,
                hs[i].errors, hs[i].denied, hs[i].total_ns / 1e3,
                hs[i].count ? hs[i].total_ns / 1e3 / (double)hs[i].count : 0.0);
    }
    for (int mmio = 0; mmio < 2; mmio++) {
        size_t m = vmc_vm_addr_stats(vm, mmio, NULL, 0);
        if (!m)
            continue;
        struct vmc_addr_stat *as = calloc(m, sizeof(*as));
        if (!as)
            return;
        m = vmc_vm_addr_stats(vm, mmio, as, m);
        fprintf(f, "%-18s %10s %10s %14s %15s%s\n", mmio ? "mmio address" : "port", "reads", "writes",
                "unclaimed_rd", "unclaimed_wr", mmio ? "" : "    ignored     denied");
        for (size_t i = 0; i < m; i++) {
            fprintf(f, "0x%-16" PRIx64 " %10" PRIu64 " %10" PRIu64 " %14" PRIu64 " %15" PRIu64, as[i].addr,
                    as[i].reads, as[i].writes, as[i].unclaimed_reads, as[i].unclaimed_writes);
            if (!mmio)
                fprintf(f, " %10" PRIu64 " %10" PRIu64, as[i].ignored, as[i].denied);
            fputc('\n', f);
        }
        free(as);
    }
}
