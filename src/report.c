/* SPDX-License-Identifier: MIT */
/* Human-readable output: crash reports, exception descriptions, the --stats tables. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/insn.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/x86.h"
#include "report.h"
#include "vm.h"

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
    if (vector == X86_VEC_PF) {
        snprintf(buf, len, "guest #PF at rip=0x%" PRIx64 " cr2=0x%" PRIx64 " (%s, %s%s%s)", rip, cr2,
                 (ec & X86_PFEC_I)   ? "fetch"
                 : (ec & X86_PFEC_W) ? "write"
                                     : "read",
                 (ec & X86_PFEC_P) ? "protection" : "not-present", (ec & X86_PFEC_U) ? ", user" : "",
                 (ec & X86_PFEC_RSVD) ? ", reserved bit" : "");
    } else if (has_ec) {
        snprintf(buf, len, "guest %s(0x%" PRIx32 ") at rip=0x%" PRIx64, vmc_vector_name(vector), ec, rip);
    } else {
        snprintf(buf, len, "guest %s at rip=0x%" PRIx64, vmc_vector_name(vector), rip);
    }
}

/* Instruction bytes at the stop: KVM's own copy for an emulation failure, else through the guest's paging
 * from CS:RIP (stopping at the first byte that cannot be fetched). */
static void fill_insn_bytes(struct vmc_vcpu *vcpu, struct vmc_result *res)
{
    const struct kvm_run *run = vcpu->run;
    if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR && res->exit.insn_len) {
        memcpy(res->insn, run->emulation_failure.insn_bytes, res->exit.insn_len);
        res->insn_len = (uint8_t)res->exit.insn_len;
        return;
    }
    res->insn_len = (uint8_t)vmc_x86_fetch(&vcpu->vm->mem, vmc_vcpu_sregs(vcpu), res->regs.rip, res->insn,
                                           sizeof(res->insn));
}

static const char *internal_suberror_name(uint64_t sub)
{
    switch (sub) {
    case KVM_INTERNAL_ERROR_EMULATION:
        return "emulation failure";
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        return "simultaneous exceptions";
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        return "event delivery failed";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
        return "unexpected exit reason";
    default:
        return "unknown suberror";
    }
}

static void crash_summary(struct vmc_vcpu *vcpu, struct vmc_result *res, char *sum, size_t len)
{
    uint64_t rip = res->regs.rip;
    switch (res->crash) {
    case VMC_CRASH_EXCEPTION:
        vmc_describe_exception(sum, len, res->vector, res->has_error_code, res->error_code, rip,
                               res->regs.cr2);
        break;
    case VMC_CRASH_TRIPLE_FAULT:
        snprintf(sum, len, "guest triple fault (shutdown) at rip=0x%" PRIx64, rip);
        break;
    case VMC_CRASH_FAIL_ENTRY:
        snprintf(sum, len, "VM entry failed (hardware reason 0x%" PRIx64 ") at rip=0x%" PRIx64,
                 res->exit.hw_reason, rip);
        break;
    case VMC_CRASH_INTERNAL_ERROR:
        fill_insn_bytes(vcpu, res);
        snprintf(sum, len, "KVM internal error: %s (suberror %" PRIu64 ") at rip=0x%" PRIx64,
                 internal_suberror_name(res->exit.qualification), res->exit.qualification, rip);
        break;
    case VMC_CRASH_UNMAPPED:
        snprintf(sum, len, "guest touched memory it may not (not mapped, or read-only) at rip=0x%" PRIx64,
                 rip);
        break;
    case VMC_CRASH_GUEST:
        if (vcpu->vm->xen) /* the status is Xen's shutdown reason: 3 crash, 4 watchdog */
            snprintf(sum, len, "guest shut down as crashed (Xen SHUTDOWN_%s) at rip=0x%" PRIx64,
                     res->status == 4 ? "watchdog" : "crash", rip);
        else
            snprintf(sum, len, "guest reported a crash (status %" PRIu32 ") at rip=0x%" PRIx64, res->status,
                     rip);
        break;
    default:
        snprintf(sum, len, "unhandled exit %s (KVM exit %" PRIu32 ") at rip=0x%" PRIx64,
                 vmc_exit_reason_name(res->exit.reason), res->exit.kvm_reason, rip);
        break;
    }
}

static void summary(struct vmc_vcpu *vcpu, struct vmc_result *res)
{
    struct vmc_vm *vm = vcpu->vm;
    char *sum = res->summary;
    size_t len = sizeof(res->summary);
    switch (res->stop) {
    case VMC_STOP_EXIT:
        if (res->reboot)
            snprintf(sum, len, "guest asked for a reboot; vmcall does not restart guests (status 0)");
        else if (res->signal)
            snprintf(sum, len, "program killed by signal %u (%s) (status %" PRIu32 ")", res->signal,
                     sigabbrev_np(res->signal) ? sigabbrev_np(res->signal) : "?", res->status);
        else
            snprintf(sum, len, "guest exited with status %" PRIu32, res->status);
        break;
    case VMC_STOP_TIMEOUT:
        /* The time that passed, not the configured limit: a timeout that fires late shows it. */
        snprintf(sum, len, "guest timed out after %.3f s (limit %.3f s) at rip=0x%" PRIx64,
                 (vmc_now_ns() - vm->sched.started) / 1e9, vm->cfg.timeout_ns / 1e9, res->regs.rip);
        break;
    case VMC_STOP_CANCELLED:
        snprintf(sum, len, "guest cancelled after %.3f s at rip=0x%" PRIx64,
                 (vmc_now_ns() - vm->sched.started) / 1e9, res->regs.rip);
        break;
    case VMC_STOP_ERROR: {
        char msg[VMC_ERR_MAX];
        vmc_error_copy(&vm->err, msg, sizeof(msg));
        snprintf(sum, len, "VMM error: %.170s", msg);
        break;
    }
    case VMC_STOP_CRASH:
        crash_summary(vcpu, res, sum, len);
        break;
    case VMC_STOP_NONE:
        return;
    }
    if (vm->nvcpus > 1) {
        char tmp[sizeof(res->summary)];
        int k = snprintf(tmp, sizeof(tmp), "vCPU %" PRIu32 ": ", vcpu->id);
        snprintf(tmp + k, sizeof(tmp) - (size_t)k, "%.*s", (int)(sizeof(tmp) - (size_t)k - 1), sum);
        memcpy(sum, tmp, sizeof(tmp));
    }
}

void vmc_result_build(struct vmc_vcpu *vcpu, struct vmc_result *res)
{
    const struct vmc_stop_req *req = &vcpu->result;
    memset(res, 0, sizeof(*res));
    res->stop = req->stop;
    res->status = req->status;
    res->reboot = req->reboot;
    res->signal = req->signal;
    res->crash = req->crash;
    res->vcpu = vcpu->id;
    res->exit = vcpu->exit;
    vmc_x86_regs_out(&res->regs, vmc_vcpu_regs(vcpu), vmc_vcpu_sregs(vcpu));
    if (req->frame_valid) {
        res->regs.rip = req->rip;
        res->regs.rsp = req->rsp;
        res->regs.rflags = req->rflags;
        res->regs.cs = req->cs;
        res->regs.ss = req->ss;
        res->regs.cpl = req->cs & 3;
    }
    res->vector = req->vector;
    res->has_error_code = req->has_error_code;
    res->error_code = req->error_code;
    summary(vcpu, res);
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
        injected += STAT_GET(vm->vcpus[i].ev.injected);
        halts += STAT_GET(vm->vcpus[i].sched.halts);
        halt_ns += STAT_GET(vm->vcpus[i].sched.halt_ns);
    }
    if (injected)
        fprintf(f, "%-22s %10" PRIu64 "\n", "events injected", injected);
    if (halts)
        fprintf(f, "%-22s %10" PRIu64 " %12.1f %10.2f\n", "halts (blocked)", halts, halt_ns / 1e3,
                halt_ns / 1e3 / (double)halts);
    struct vmc_hypercall_stat hs[1024];
    size_t nh = vmc_vm_hypercall_stats(vm, hs, ARRAY_SIZE(hs));
    nh = nh < ARRAY_SIZE(hs) ? nh : ARRAY_SIZE(hs);
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
            char addr[24] = "other";
            if (as[i].addr != VMC_BUS_OTHER)
                snprintf(addr, sizeof(addr), "0x%" PRIx64, as[i].addr);
            fprintf(f, "%-18s %10" PRIu64 " %10" PRIu64 " %14" PRIu64 " %15" PRIu64, addr, as[i].reads,
                    as[i].writes, as[i].unclaimed_reads, as[i].unclaimed_writes);
            if (!mmio)
                fprintf(f, " %10" PRIu64 " %10" PRIu64, as[i].ignored, as[i].denied);
            fputc('\n', f);
        }
        free(as);
    }
}
