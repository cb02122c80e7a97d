/* SPDX-License-Identifier: MIT */
/* The Linux personality's signal frames: a handler runs on the way back from a system call, rt_sigreturn
 * comes back from it (the layout is Linux's x86-64 rt_sigframe, arch/x86/include/asm/sigframe.h). */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "../arch/x86_64/x86.h"
#include "calls.h"

/* struct sigcontext (uapi asm/sigcontext.h), the mcontext of a ucontext: 256 bytes. */
struct lx_sigcontext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
};
struct lx_frame {
    uint64_t pretcode; /* where the handler returns: the C library's restorer (rt_sigreturn) */
    struct {
        uint64_t flags, link, ss_sp;
        uint32_t ss_flags, pad;
        uint64_t ss_size;
        struct lx_sigcontext mc;
        uint64_t sigmask;
    } uc;
    struct {
        int32_t signo, errno_, code, pad;
        int32_t pid;
        uint32_t uid;
        uint8_t rest[128 - 24];
    } info;
};
_Static_assert(sizeof(struct lx_sigcontext) == 256 && sizeof(struct lx_frame) == 8 + 304 + 128,
               "Linux's rt_sigframe without the FPU state");

#define LX_SA_RESTORER 0x04000000u
#define LX_SA_RESETHAND 0x80000000u
#define LX_SA_NODEFER 0x40000000u
#define LX_SI_TKILL (-6)
#define USER_RFLAGS 0x0cd5u /* CF PF AF ZF SF DF OF: what sigreturn lets a program set */

/*
 * The interrupted context is the system call's return: RAX its result, RIP = RCX and RFLAGS = R11 (set
 * by the sysret path just before). No FPU state is saved: the signals delivered here are raised by the
 * program's own call (raise, kill, tgkill, or unblocking one), where the vector registers are the
 * caller's to save anyway.
 */
static bool deliver_locked(struct vmc_vcpu *vcpu, const struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vcpu->vm->lx;
    uint64_t ready = atomic_load(&lx->pending) & ~lx->sigmask;
    if (!ready)
        return false;
    unsigned sig = (unsigned)__builtin_ctzll(ready) + 1;
    atomic_fetch_and(&lx->pending, ~(1ull << (sig - 1)));
    struct vmc_lx_sigaction *sa = &lx->sig[sig];
    struct kvm_regs *r = vmc_vcpu_regs(vcpu);
    struct lx_frame f;
    memset(&f, 0, sizeof(f));
    f.pretcode = (sa->flags & LX_SA_RESTORER) ? sa->restorer : 0;
    struct lx_sigcontext *m = &f.uc.mc;
    m->r8 = r->r8, m->r9 = r->r9, m->r10 = r->r10, m->r11 = r->r11, m->r12 = r->r12, m->r13 = r->r13;
    m->r14 = r->r14, m->r15 = r->r15, m->rdi = r->rdi, m->rsi = r->rsi, m->rbp = r->rbp, m->rbx = r->rbx;
    m->rdx = r->rdx, m->rax = r->rax, m->rcx = r->rcx, m->rsp = r->rsp, m->rip = r->rip;
    m->eflags = r->rflags, m->cs = 0x33, m->ss = 0x2b; /* Linux's user selectors, as a handler expects */
    f.uc.mc.oldmask = lx->sigmask;
    f.uc.sigmask = lx->sigmask;
    f.info.signo = (int32_t)sig;
    f.info.code = LX_SI_TKILL;
    f.info.pid = 1;
    /* Below the red zone, 16-byte aligned once the handler's `ret` slot is counted (psABI 3.2.2). */
    uint64_t sp = ((r->rsp - 128 - sizeof(f)) & ~15ull) - 8;
    if (vmc_hc_copy_to(hc, sp, &f, sizeof(f))) {
        r->rip = 0; /* no room for the frame: Linux forces SIGSEGV; here the fault ends the program */
        return true;
    }
    lx->sigmask |= sa->mask | ((sa->flags & LX_SA_NODEFER) ? 0 : 1ull << (sig - 1));
    lx->sigmask &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
    uint64_t handler = sa->handler;
    if (sa->flags & LX_SA_RESETHAND)
        sa->handler = 0;
    r->rsp = sp;
    r->rip = handler;
    r->rdi = sig;
    r->rsi = sp + offsetof(struct lx_frame, info);
    r->rdx = sp + offsetof(struct lx_frame, uc);
    r->rax = 0;
    r->rflags &= ~(X86_RFLAGS_DF | (1ull << 8)); /* DF and TF clear in the handler */
    return true;
}

/* The return path runs after the call's handler has let the personality's lock go: take it again when
 * there is something pending. */
bool vmc_lx_deliver(struct vmc_vcpu *vcpu, const struct vmc_hcall *hc)
{
    if (!atomic_load_explicit(&vcpu->vm->lx->pending, memory_order_relaxed))
        return false; /* every system call comes this way: almost always nothing, and no lock taken */
    pthread_mutex_lock(&vcpu->vm->lx->lock);
    bool delivered = deliver_locked(vcpu, hc);
    pthread_mutex_unlock(&vcpu->vm->lx->lock);
    return delivered;
}

/*
 * rt_sigreturn: the frame the handler returned over (at RSP - 8, its pretcode popped) gives back the
 * interrupted registers and mask. The sysret path then returns to RCX with RFLAGS = R11, so those two
 * carry the saved RIP and RFLAGS: at a system call's return they held exactly those anyway.
 */
int64_t vmc_lx_rt_sigreturn(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct kvm_regs *r = vmc_vcpu_regs(hc->vcpu);
    struct lx_frame f;
    if (vmc_hc_copy_from(hc, &f, r->rsp - 8, sizeof(f))) {
        vmc_act_stop(hc->act, VMC_STOP_EXIT, 128 + SIGSEGV);
        hc->act->stop.signal = SIGSEGV;
        return 0;
    }
    const struct lx_sigcontext *m = &f.uc.mc;
    r->r8 = m->r8, r->r9 = m->r9, r->r10 = m->r10, r->r12 = m->r12, r->r13 = m->r13, r->r14 = m->r14;
    r->r15 = m->r15, r->rbp = m->rbp, r->rbx = m->rbx, r->rsp = m->rsp;
    r->rcx = m->rip;
    r->r11 = (m->eflags & USER_RFLAGS) | (r->r11 & ~(uint64_t)USER_RFLAGS);
    r->rdi = m->rdi, r->rsi = m->rsi, r->rdx = m->rdx; /* the doorbell writes back RAX only */
    lx->sigmask = f.uc.sigmask & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
    return (int64_t)m->rax;
}
