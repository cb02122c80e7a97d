/* SPDX-License-Identifier: MIT */
/* The Linux personality's signal frames: a handler runs on the way back from a system call, rt_sigreturn
 * comes back from it (the layout is Linux's x86-64 rt_sigframe, arch/x86/include/asm/sigframe.h). */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include <sys/ioctl.h>
#include <sys/time.h>

#include "../arch/x86_64/layout.h"
#include "../arch/x86_64/mmu.h"
#include "../arch/x86_64/regs.h"
#include "../arch/x86_64/x86.h"
#include "../event.h"
#include "../timer.h"
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
        union { /* at offset 16: the sender (kill, tgkill) or the fault's address */
            struct {
                int32_t pid;
                uint32_t uid;
            } kill;
            uint64_t addr;
        } u;
        uint8_t rest[128 - 24];
    } info;
};
_Static_assert(sizeof(struct lx_sigcontext) == 256 && sizeof(struct lx_frame) == 8 + 304 + 128,
               "Linux's rt_sigframe without the FPU state");

#define LX_SA_ONSTACK 0x08000000u
#define LX_SA_RESTORER 0x04000000u
#define LX_SA_RESETHAND 0x80000000u
#define LX_SA_NODEFER 0x40000000u
#define LX_SA_RESTART 0x10000000u
#define LX_SI_TKILL (-6)
#define LX_SI_KERNEL 0x80
#define LX_SS_ONSTACK 1
#define LX_SS_DISABLE 2
#define LX_SS_AUTODISARM (1u << 31)
#define LX_MINSIGSTKSZ 2048
#define USER_RFLAGS 0x0cd5u /* CF PF AF ZF SF DF OF: what sigreturn lets a program set */
#define NEVER_BLOCKED ((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)))

/*
 * A frame's FPU state is the vCPU's XSAVE image (x87, SSE, AVX and whatever else the CPU enables), as
 * Linux writes it: the legacy area's last 48 bytes (software-available, SDM vol. 1 10.5.1) describe the
 * extended state (struct _fpx_sw_bytes, uapi asm/sigcontext.h), and a second magic word follows the
 * image. A frame without them (a program that built its own) restores x87 and SSE only, the rest reset.
 */
struct lx_sw_bytes {
    uint32_t magic1, extended_size; /* extended_size: the image and the magic word after it */
    uint64_t xfeatures;
    uint32_t xstate_size, padding[7];
};
_Static_assert(sizeof(struct lx_sw_bytes) == 48, "struct _fpx_sw_bytes");
#define LX_SW_BYTES 464 /* their offset in the legacy area */
#define LX_FP_XSTATE_MAGIC1 0x46505853u
#define LX_FP_XSTATE_MAGIC2 0x46505845u
#define LX_UC_FP_XSTATE 1u

/* What a handler's frame keeps of the interrupted program, and what its siginfo says. */
struct lx_context {
    uint64_t rip, rsp, rflags;
    uint64_t trapno, err, cr2; /* a fault's, else 0 */
    int32_t code;              /* si_code */
    uint64_t addr;             /* si_addr of a fault */
};

/* Back to the program's privilege: on VT-x/AMD-V the entry stub and the exception stubs run at CPL0. */
void vmc_lx_user_segments(struct vmc_vcpu *vcpu)
{
    struct kvm_sregs *s = vmc_vcpu_sregs(vcpu);
    if ((s->cs.selector & 3) == 3)
        return;
    struct kvm_regs dummy;
    struct kvm_sregs user;
    vmc_x86_init_vcpu_state(true, VMC_MODE_64, 0, &dummy, &user);
    s->cs = user.cs;
    s->ss = user.ss;
    vmc_vcpu_dirty(vcpu, KVM_SYNC_X86_SREGS);
}

static bool on_altstack(const struct vmc_lx_thread *t, uint64_t sp)
{
    return t->alt_size && sp - t->alt_sp < t->alt_size;
}

/* The vCPU's XSAVE image, described and followed by the magic word, at `at` in the program's memory. */
static bool fpu_to_frame(struct vmc_vcpu *vcpu, const struct vmc_mmu *mmu, uint64_t at)
{
    struct kvm_xsave xs;
    uint8_t *image = (uint8_t *)xs.region;
    uint32_t size = vcpu->vm->lx->xsave_size, magic2 = LX_FP_XSTATE_MAGIC2;
    if (ioctl(vcpu->fd, KVM_GET_XSAVE, &xs) != 0)
        return false;
    const struct lx_sw_bytes sw = { .magic1 = LX_FP_XSTATE_MAGIC1,
                                    .extended_size = size + 4,
                                    .xfeatures = vcpu->vm->lx->xfeatures,
                                    .xstate_size = size };
    memcpy(image + LX_SW_BYTES, &sw, sizeof(sw));
    return vmc_mmu_write(&vcpu->vm->mem, mmu, at, VMC_ACC_USER, image, size) == 0 &&
           vmc_mmu_write(&vcpu->vm->mem, mmu, at + size, VMC_ACC_USER, &magic2, sizeof(magic2)) == 0;
}

/*
 * Build the frame (Linux's rt_sigframe: pretcode, ucontext, siginfo; the FPU state above it)
 * on the program's stack, or on its alternate stack for an SA_ONSTACK handler, and enter the handler
 * at CPL3 with RDI = signal, RSI = &info, RDX = &uc. false: no room for the frame.
 */
static bool push_frame(struct vmc_vcpu *vcpu, unsigned sig, const struct lx_context *c)
{
    struct vmc_linux *lx = vcpu->vm->lx;
    struct vmc_lx_thread *t = &lx->thread[vcpu->id];
    struct vmc_lx_sigaction *sa = &lx->sig[sig];
    struct kvm_regs *r = vmc_vcpu_regs(vcpu);
    struct kvm_sregs *s = vmc_vcpu_sregs(vcpu);
    struct vmc_mmu mmu;
    vmc_mmu_from_sregs(s, &mmu);
    bool alt = (sa->flags & LX_SA_ONSTACK) && t->alt_size && !on_altstack(t, c->rsp);
    uint64_t top = alt ? t->alt_sp + t->alt_size : c->rsp - 128; /* below the red zone */
    struct lx_frame f;
    memset(&f, 0, sizeof(f));
    top = (top - lx->xsave_size - 4) & ~63ull; /* the FPU state above the frame, XSAVE's alignment */
    if (!fpu_to_frame(vcpu, &mmu, top))
        return false;
    f.uc.mc.fpstate = top;
    f.uc.flags = LX_UC_FP_XSTATE;
    f.pretcode = (sa->flags & LX_SA_RESTORER) ? sa->restorer : 0;
    f.uc.ss_sp = t->alt_sp, f.uc.ss_size = t->alt_size;
    f.uc.ss_flags = on_altstack(t, c->rsp) ? LX_SS_ONSTACK : t->alt_size ? 0 : LX_SS_DISABLE;
    struct lx_sigcontext *m = &f.uc.mc;
    m->r8 = r->r8, m->r9 = r->r9, m->r10 = r->r10, m->r11 = r->r11, m->r12 = r->r12, m->r13 = r->r13;
    m->r14 = r->r14, m->r15 = r->r15, m->rdi = r->rdi, m->rsi = r->rsi, m->rbp = r->rbp, m->rbx = r->rbx;
    m->rdx = r->rdx, m->rax = r->rax, m->rcx = r->rcx, m->rsp = c->rsp, m->rip = c->rip;
    m->eflags = c->rflags, m->cs = 0x33, m->ss = 0x2b; /* Linux's user selectors, as a handler expects */
    m->trapno = c->trapno, m->err = c->err, m->cr2 = c->cr2;
    m->oldmask = f.uc.sigmask = t->sigmask;
    f.info.signo = (int32_t)sig;
    f.info.code = c->code;
    if (c->code == LX_SI_TKILL)
        f.info.u.kill.pid = 1;
    else
        f.info.u.addr = c->addr;
    /* 16-byte aligned once the handler's `ret` slot is counted (psABI 3.2.2). */
    uint64_t sp = ((top - sizeof(f)) & ~15ull) - 8;
    if (vmc_mmu_write(&vcpu->vm->mem, &mmu, sp, VMC_ACC_USER, &f, sizeof(f)))
        return false;
    t->sigmask |= sa->mask | ((sa->flags & LX_SA_NODEFER) ? 0 : 1ull << (sig - 1));
    t->sigmask &= ~NEVER_BLOCKED;
    uint64_t handler = sa->handler;
    if (sa->flags & LX_SA_RESETHAND)
        sa->handler = 0;
    r->rsp = sp, r->rip = handler, r->rax = 0;
    r->rdi = sig, r->rsi = sp + offsetof(struct lx_frame, info), r->rdx = sp + offsetof(struct lx_frame, uc);
    r->rflags = (c->rflags & ~(X86_RFLAGS_DF | (1ull << 8))) | X86_RFLAGS_FIXED; /* DF and TF clear */
    vmc_vcpu_dirty(vcpu, KVM_SYNC_X86_REGS);
    vmc_lx_user_segments(vcpu);
    return true;
}

/* The lowest pending signal the thread does not block, taken off the pending set; 0: none. */
static unsigned take_signal_locked(struct vmc_linux *lx, const struct vmc_lx_thread *t)
{
    uint64_t ready = atomic_load(&lx->pending) & ~t->sigmask;
    if (!ready)
        return 0;
    unsigned sig = (unsigned)__builtin_ctzll(ready) + 1;
    atomic_fetch_and(&lx->pending, ~(1ull << (sig - 1)));
    return sig;
}

/*
 * At a system call's return: the interrupted context is that return, RAX its result, RIP = RCX and
 * RFLAGS = R11 (set by the sysret path just before). The FPU state is saved as for any other signal:
 * the vector registers are the caller's to save across the call, but a handler may read or change the
 * frame's copy (uc_mcontext.fpregs is never NULL on Linux).
 */
static bool deliver_locked(struct vmc_vcpu *vcpu)
{
    unsigned sig = take_signal_locked(vcpu->vm->lx, &vcpu->vm->lx->thread[vcpu->id]);
    if (!sig)
        return false;
    struct kvm_regs *r = vmc_vcpu_regs(vcpu);
    const struct lx_context c = { .rip = r->rip, .rsp = r->rsp, .rflags = r->rflags, .code = LX_SI_TKILL };
    if (!push_frame(vcpu, sig, &c))
        r->rip = 0; /* no room for the frame: Linux forces SIGSEGV; here the fault ends the program */
    return true;
}

/* The return path runs after the call's handler has let the personality's lock go: take it again when
 * there is something pending. */
bool vmc_lx_deliver(struct vmc_vcpu *vcpu, const struct vmc_hcall *hc)
{
    (void)hc;
    if (!atomic_load_explicit(&vcpu->vm->lx->pending, memory_order_relaxed))
        return false; /* every system call comes this way: almost always nothing, and no lock taken */
    pthread_mutex_lock(&vcpu->vm->lx->lock);
    bool delivered = deliver_locked(vcpu);
    pthread_mutex_unlock(&vcpu->vm->lx->lock);
    return delivered;
}

/* Signals whose default action is to do nothing (signal(7)). */
static bool ignored_by_default(unsigned sig)
{
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

/* Make a thread that does not block sig take it: the sender's own thread does at its call's return, any
 * other is raised (a wait ends, KVM_RUN is kicked). */
static void notify_locked(struct vmc_vm *vm, struct vmc_vcpu *self, unsigned sig)
{
    struct vmc_linux *lx = vm->lx;
    uint64_t bit = 1ull << (sig - 1);
    if (self && !(lx->thread[self->id].sigmask & bit))
        return;
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        if (!(lx->thread[i].sigmask & bit) && vmc_lx_thread_live(vm, i)) {
            vmc_event_raise_irq(&vm->vcpus[i], VMC_LX_SIGNAL_VECTOR);
            return;
        }
}

void vmc_lx_send(struct vmc_vcpu *self, unsigned sig, struct vmc_action *act)
{
    struct vmc_linux *lx = self->vm->lx;
    uint64_t handler = lx->sig[vmc_index_nospec(sig, 65)].handler;
    if (handler == (uint64_t)(uintptr_t)SIG_IGN || (handler == 0 && ignored_by_default(sig)))
        return;
    if (handler != 0 && sig != SIGKILL && sig != SIGSTOP) {
        atomic_fetch_or(&lx->pending, 1ull << (sig - 1)); /* its handler runs in a thread that takes it */
        notify_locked(self->vm, self, sig);
        return;
    }
    vmc_act_stop(act, VMC_STOP_EXIT, 128 + sig);
    act->stop.signal = (uint8_t)sig;
}

/*
 * Does the call the handler interrupted, which was waiting (RIP back at the entry stub: it would run
 * again), end with EINTR? As Linux decides (signal(7)): poll and select always; a read or write still
 * waiting for the other end (nothing moved yet) and a futex wait without a timeout unless the handler
 * has SA_RESTART; a futex wait with a timeout never (Linux's restart block), nor any other wait here
 * (clone waiting for a vCPU, standard error waiting for standard output: none a program could see).
 */
static bool call_ends(const struct vmc_lx_thread *t, bool restart)
{
    if (t->polling)
        return true;
    if (t->io_wait)
        return !restart;
    return t->waiting && !t->deadline && !restart;
}

/*
 * An interrupted wait ends as Linux ends it: nanosleep with EINTR and the time left; a call that
 * call_ends says ends returns EINTR now, as sysret would return (a futex waiter leaves the queue),
 * before the handler's frame saves the state; any other runs again after the handler.
 */
static void interrupt_wait(struct vmc_vcpu *vcpu, struct vmc_lx_thread *t, bool restart)
{
    uint64_t now = vmc_now_ns();
    struct kvm_regs *r = vmc_vcpu_regs(vcpu);
    if (t->sleep_until > now) {
        struct vmc_mmu mmu;
        vmc_mmu_from_sregs(vmc_vcpu_sregs(vcpu), &mmu);
        const struct timespec left = { (time_t)((t->sleep_until - now) / 1000000000),
                                       (long)((t->sleep_until - now) % 1000000000) };
        if (t->sleep_rem)
            vmc_mmu_write(&vcpu->vm->mem, &mmu, t->sleep_rem, VMC_ACC_USER, &left, sizeof(left));
        r->rax = (uint64_t)-EINTR;
    }
    t->sleep_until = 0;
    if (r->rip - VMC_LX_ENTRY < 4 && call_ends(t, restart)) {
        vmc_lx_sysret_regs(r);
        r->rax = (uint64_t)-EINTR;
        t->waiting = false;
    }
    t->polling = t->io_wait = false;
}

/* ITIMER_REAL came due: SIGALRM, and the next period armed (on vCPU 0's timer). */
static void alarm_due_locked(struct vmc_vcpu *vcpu, struct vmc_action *act)
{
    struct vmc_linux *lx = vcpu->vm->lx;
    uint64_t now = vmc_now_ns();
    if (!lx->alarm_at || lx->alarm_at > now)
        return;
    lx->alarm_at = lx->alarm_every ? now + lx->alarm_every : 0;
    vmc_timer_set(&vcpu->vm->vcpus[0], lx->alarm_at, VMC_LX_SIGNAL_VECTOR);
    vmc_lx_send(vcpu, SIGALRM, act);
}

void vmc_lx_async(struct vmc_vcpu *vcpu, struct vmc_action *act)
{
    if (!vmc_event_take_vector(vcpu, VMC_LX_SIGNAL_VECTOR))
        return; /* every entry comes this way: almost always nothing, and no lock taken */
    struct vmc_linux *lx = vcpu->vm->lx;
    struct vmc_lx_thread *t = &lx->thread[vcpu->id];
    struct kvm_regs *r = vmc_vcpu_regs(vcpu);
    pthread_mutex_lock(&lx->lock);
    alarm_due_locked(vcpu, act);
    uint64_t pending = atomic_load(&lx->pending);
    /* Only where the program is: at CPL3, or in the entry stub (the call runs again after the handler);
     * in an exception stub (CPL0 on VT-x) the fault's own exit comes first, and the signal waits. */
    bool here = (vmc_vcpu_sregs(vcpu)->cs.selector & 3) == 3 || r->rip - VMC_LX_ENTRY < 4;
    unsigned sig = here && !vmc_act_final(act) ? take_signal_locked(lx, t) : 0;
    if (sig) {
        interrupt_wait(vcpu, t, lx->sig[sig].flags & LX_SA_RESTART);
        const struct lx_context c = {
            .rip = r->rip, .rsp = r->rsp, .rflags = r->rflags, .code = LX_SI_KERNEL
        };
        if (!push_frame(vcpu, sig, &c)) { /* no room for the frame: Linux forces SIGSEGV */
            vmc_act_stop(act, VMC_STOP_EXIT, 128 + SIGSEGV);
            act->stop.signal = SIGSEGV;
        }
    } else if (pending && !(pending & ~t->sigmask)) { /* this thread blocks all of it: another takes it */
        notify_locked(vcpu->vm, NULL, (unsigned)__builtin_ctzll(pending) + 1);
    }
    pthread_mutex_unlock(&lx->lock);
}

/* alarm: SIGALRM in `seconds` (0: none; at most INT_MAX, as Linux caps it for 32-bit callers, so the
 * answer is never negative in any register width), replacing any; the seconds the old one had left,
 * rounded up. */
int64_t vmc_lx_alarm(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    uint64_t now = vmc_now_ns(),
             secs = (uint32_t)hc->a.args[0] > INT32_MAX ? INT32_MAX : (uint32_t)hc->a.args[0];
    uint64_t left = lx->alarm_at > now ? (lx->alarm_at - now + 999999999) / 1000000000 : 0;
    lx->alarm_at = secs ? now + secs * 1000000000 : 0;
    lx->alarm_every = 0;
    int rc = vmc_timer_set(&hc->vcpu->vm->vcpus[0], lx->alarm_at, VMC_LX_SIGNAL_VECTOR);
    return rc < 0 ? rc : (int64_t)(left > INT32_MAX ? INT32_MAX : left);
}

struct lx_itimerval {
    int64_t every_sec, every_usec, sec, usec;
};

static void itimer_now(const struct vmc_linux *lx, struct lx_itimerval *v)
{
    uint64_t now = vmc_now_ns(), left = lx->alarm_at > now ? lx->alarm_at - now : lx->alarm_at ? 1000 : 0;
    *v = (struct lx_itimerval){ (int64_t)(lx->alarm_every / 1000000000),
                                (int64_t)(lx->alarm_every % 1000000000 / 1000), (int64_t)(left / 1000000000),
                                (int64_t)(left % 1000000000 / 1000) };
}

/* getitimer and setitimer: ITIMER_REAL only (the virtual and profiling timers count CPU time the VMM does
 * not track per program: EINVAL). */
int64_t vmc_lx_getitimer(struct vmc_hcall *hc)
{
    struct lx_itimerval v;
    if (hc->a.args[0] != ITIMER_REAL)
        return -EINVAL;
    itimer_now(vmc_lx(hc), &v);
    return vmc_hc_copy_to(hc, hc->a.args[1], &v, sizeof(v)) ? -EFAULT : 0;
}

int64_t vmc_lx_setitimer(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct lx_itimerval v, old;
    if (hc->a.args[0] != ITIMER_REAL)
        return -EINVAL;
    if (hc->a.args[1] && vmc_hc_copy_from(hc, &v, hc->a.args[1], sizeof(v)))
        return -EFAULT;
    if (hc->a.args[1] &&
        (v.sec < 0 || v.usec < 0 || v.usec >= 1000000 || v.every_sec < 0 || v.every_usec < 0 ||
         v.every_usec >= 1000000 || v.sec > INT32_MAX || v.every_sec > INT32_MAX))
        return -EINVAL;
    itimer_now(lx, &old);
    if (hc->a.args[2] && vmc_hc_copy_to(hc, hc->a.args[2], &old, sizeof(old)))
        return -EFAULT;
    if (!hc->a.args[1])
        return 0;
    uint64_t value = (uint64_t)v.sec * 1000000000 + (uint64_t)v.usec * 1000;
    lx->alarm_every = (uint64_t)v.every_sec * 1000000000 + (uint64_t)v.every_usec * 1000;
    lx->alarm_at = value ? vmc_now_ns() + value : 0;
    int rc = vmc_timer_set(&hc->vcpu->vm->vcpus[0], lx->alarm_at, VMC_LX_SIGNAL_VECTOR);
    return rc < 0 ? rc : 0;
}

/* The signal an exception at CPL3 raises, and its si_code and si_addr, as Linux's traps.c sends them. */
static unsigned fault_signal(const struct vmc_linux *lx, const struct vmc_fault_frame *f, uint64_t cr2,
                             struct lx_context *c)
{
    c->addr = f->rip;
    switch (f->vector) {
    case X86_VEC_DE:
        c->code = 1; /* FPE_INTDIV */
        return SIGFPE;
    case 16: /* #MF */
    case 19: /* #XM */
        c->code = 0;
        return SIGFPE;
    case X86_VEC_DB:
    case X86_VEC_BP:
        c->code = LX_SI_KERNEL;
        return SIGTRAP;
    case X86_VEC_UD:
        c->code = 2; /* ILL_ILLOPN */
        return SIGILL;
    case 17:         /* #AC */
        c->code = 1; /* BUS_ADRALN */
        return SIGBUS;
    case X86_VEC_PF:
        /* SEGV_ACCERR for a mapped page (PROT_NONE ones are not present in the tables), else MAPERR */
        c->code = (f->error_code & 1) || vmc_lx_mapped(lx, cr2 & ~4095ull, (cr2 & ~4095ull) + 4096) ? 2 : 1;
        c->addr = c->cr2 = cr2;
        return SIGSEGV;
    default: /* #GP, #SS, #NP, ...: no address */
        c->code = LX_SI_KERNEL;
        c->addr = 0;
        return SIGSEGV;
    }
}

/*
 * An exception in the program (the VMM's stub reported it from the IST stack): its handler runs, on a
 * frame that saves the FPU state too, and returning from it retries the instruction, as on Linux. Without
 * a handler, or with the signal blocked or ignored, the program ends (Linux's force_sig_fault).
 */
bool vmc_lx_fault(struct vmc_vcpu *vcpu, const struct vmc_fault_frame *f, uint8_t *signal)
{
    struct vmc_linux *lx = vcpu->vm->lx;
    struct lx_context c = { .rip = f->rip, .rsp = f->rsp, .rflags = f->rflags };
    c.trapno = f->vector;
    c.err = f->error_code;
    pthread_mutex_lock(&lx->lock);
    unsigned sig = fault_signal(lx, f, vmc_vcpu_sregs(vcpu)->cr2, &c);
    *signal = (uint8_t)sig;
    const struct vmc_lx_sigaction *sa = &lx->sig[sig];
    /* Only the program's own faults: one in the VMM's entry stub (CPL0 on VT-x) is the VMM's */
    bool run = (f->cs & 3) == 3 && sa->handler > 1 && !(lx->thread[vcpu->id].sigmask & (1ull << (sig - 1))) &&
               push_frame(vcpu, sig, &c);
    pthread_mutex_unlock(&lx->lock);
    return run;
}

/* sigaltstack: the calling thread's alternate stack for SA_ONSTACK handlers (sigaltstack(2)). */
int64_t vmc_lx_sigaltstack(struct vmc_hcall *hc)
{
    struct vmc_lx_thread *t = &vmc_lx(hc)->thread[hc->vcpu->id];
    struct {
        uint64_t sp;
        uint32_t flags, pad;
        uint64_t size;
    } ss, old = { t->alt_sp, 0, 0, t->alt_size };
    uint64_t rsp = vmc_vcpu_regs(hc->vcpu)->rsp;
    old.flags = on_altstack(t, rsp) ? LX_SS_ONSTACK : t->alt_size ? 0 : LX_SS_DISABLE;
    if (hc->a.args[0] && vmc_hc_copy_from(hc, &ss, hc->a.args[0], sizeof(ss)))
        return -EFAULT;
    if (hc->a.args[0]) {
        if (on_altstack(t, rsp))
            return -EPERM;
        if ((ss.flags & ~(LX_SS_DISABLE | LX_SS_AUTODISARM)) != 0 || ss.sp + ss.size < ss.sp)
            return -EINVAL;
        if (!(ss.flags & LX_SS_DISABLE) && ss.size < LX_MINSIGSTKSZ)
            return -ENOMEM;
    }
    if (hc->a.args[1] && vmc_hc_copy_to(hc, hc->a.args[1], &old, sizeof(old)))
        return -EFAULT;
    if (hc->a.args[0]) {
        t->alt_sp = (ss.flags & LX_SS_DISABLE) ? 0 : ss.sp;
        t->alt_size = (ss.flags & LX_SS_DISABLE) ? 0 : ss.size;
    }
    return 0;
}

/*
 * The FPU state of a frame back into the vCPU: the legacy area, then the rest of the image when the
 * frame describes one of this CPU's size with both magic words (each part read once). -EFAULT: the frame
 * is not readable; -EINVAL: an image XRSTOR would refuse (Linux answers both with SIGSEGV).
 */
static int frame_to_fpu(struct vmc_hcall *hc, uint64_t at)
{
    struct kvm_xsave xs;
    uint8_t *image = (uint8_t *)xs.region;
    uint32_t size = vmc_lx(hc)->xsave_size, magic2 = 0;
    struct lx_sw_bytes sw;
    memset(&xs, 0, sizeof(xs));
    if (vmc_hc_copy_from(hc, image, at, VMC_X86_XSAVE_LEGACY))
        return -EFAULT;
    memcpy(&sw, image + LX_SW_BYTES, sizeof(sw));
    bool extended =
        sw.magic1 == LX_FP_XSTATE_MAGIC1 && sw.xstate_size == size && sw.extended_size == size + 4 &&
        vmc_hc_copy_from(hc, &magic2, at + size, sizeof(magic2)) == 0 && magic2 == LX_FP_XSTATE_MAGIC2;
    if (extended && vmc_hc_copy_from(hc, image + VMC_X86_XSAVE_LEGACY, at + VMC_X86_XSAVE_LEGACY,
                                     size - VMC_X86_XSAVE_LEGACY))
        return -EFAULT;
    if (!extended)
        image[VMC_X86_XSAVE_LEGACY] = 3; /* XSTATE_BV: x87 and SSE as given, every other part reset */
    if (!vmc_x86_xsave_check(image, vmc_lx(hc)->xfeatures))
        return -EINVAL;
    return ioctl(hc->vcpu->fd, KVM_SET_XSAVE, &xs) == 0 ? 0 : -errno;
}

/*
 * rt_sigreturn: the frame the handler returned over (at RSP - 8, its pretcode popped) gives back every
 * interrupted register, the FPU state when the frame has it, and the mask. The return does not go
 * through sysret's RIP = RCX, RFLAGS = R11 (vmc_linux_sysret skips it): after a fault, RCX and R11
 * were the program's.
 */
int64_t vmc_lx_rt_sigreturn(struct vmc_hcall *hc)
{
    struct vmc_linux *lx = vmc_lx(hc);
    struct kvm_regs *r = vmc_vcpu_regs(hc->vcpu);
    struct lx_frame f;
    int rc = vmc_hc_copy_from(hc, &f, r->rsp - 8, sizeof(f)) ? -EFAULT : 0;
    if (rc == 0 && f.uc.mc.fpstate)
        rc = frame_to_fpu(hc, f.uc.mc.fpstate);
    if (rc == -EFAULT || rc == -EINVAL) { /* a frame Linux would not return through: SIGSEGV */
        vmc_act_stop(hc->act, VMC_STOP_EXIT, 128 + SIGSEGV);
        hc->act->stop.signal = SIGSEGV;
        return 0;
    }
    if (rc < 0) {
        vmc_act_error(hc->act, vmc_vm_fail(hc->vcpu->vm, rc, "KVM_SET_XSAVE: %s", strerror(-rc)));
        return 0;
    }
    const struct lx_sigcontext *m = &f.uc.mc;
    r->r8 = m->r8, r->r9 = m->r9, r->r10 = m->r10, r->r11 = m->r11, r->r12 = m->r12, r->r13 = m->r13;
    r->r14 = m->r14, r->r15 = m->r15, r->rbp = m->rbp, r->rbx = m->rbx, r->rsp = m->rsp, r->rcx = m->rcx;
    r->rdi = m->rdi, r->rsi = m->rsi, r->rdx = m->rdx; /* the doorbell writes back RAX only */
    r->rip = m->rip;
    r->rflags = (m->eflags & USER_RFLAGS) | (r->rflags & ~(uint64_t)USER_RFLAGS);
    lx->thread[hc->vcpu->id].sigreturned = true;
    lx->thread[hc->vcpu->id].sigmask = f.uc.sigmask & ~NEVER_BLOCKED;
    return (int64_t)m->rax;
}
