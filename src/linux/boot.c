/* SPDX-License-Identifier: MIT */
/* The Linux personality's VM: the root, the System V process stack, the `syscall` entry and its return. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../arch/x86_64/layout.h"
#include "../arch/x86_64/regs.h"
#include "../arch/x86_64/x86.h"
#include "../loader.h"
#include "calls.h"

#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_SFMASK 0xc0000084u

int vmc_linux_create(struct vmc_vm *vm)
{
    struct vmc_linux *lx = calloc(1, sizeof(*lx));
    if (!lx)
        return -ENOMEM;
    vm->lx = lx;
    pthread_mutex_init(&lx->lock, NULL);
    lx->root = -1;
    strcpy(lx->cwd, "/");
    lx->fd[0] = (struct vmc_lx_fd){ .kind = LX_FD_STDIN };
    lx->fd[1] = (struct vmc_lx_fd){ .kind = LX_FD_STDOUT };
    lx->fd[2] = (struct vmc_lx_fd){ .kind = LX_FD_STDERR };
    lx->rw = vm->cfg.linux_root_rw;
    lx->umask = 022;
    if (vm->cfg.linux_root) {
        /* Opened now, before any sandbox: later every path is resolved beneath this descriptor. */
        lx->root = open(vm->cfg.linux_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (lx->root < 0)
            return -errno;
    }
    return 0;
}

void vmc_linux_free(struct vmc_vm *vm)
{
    struct vmc_linux *lx = vm->lx;
    if (!lx)
        return;
    for (int i = 0; i < VMC_LX_FD_MAX; i++)
        vmc_lx_fd_close(&lx->fd[i]);
    if (lx->root >= 0)
        close(lx->root);
    pthread_mutex_destroy(&lx->lock);
    free(lx);
    vm->lx = NULL;
}

/* Strings and the pointer table the System V ABI puts at the top of the stack (AMD64 psABI 3.4.1). */
struct stack_builder {
    uint8_t *ram;
    uint64_t sp, low;
};

static uint64_t push_bytes(struct stack_builder *b, const void *p, size_t n)
{
    if (b->sp - b->low < n)
        return 0;
    b->sp -= n;
    memcpy(b->ram + b->sp, p, n);
    return b->sp;
}

static uint64_t push_str(struct stack_builder *b, const char *s)
{
    return push_bytes(b, s, strlen(s) + 1);
}

/*
 * argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL: 16-byte aligned where RSP points at entry;
 * the strings, the 16 AT_RANDOM bytes and the program's name above them.
 */
static int build_stack(struct vmc_vm *vm, const struct vmc_image *img, const char *path, uint64_t *rsp)
{
    struct vmc_linux *lx = vm->lx;
    struct stack_builder b = { vm->mem.host, lx->pt_base - 16, lx->stack_low };
    int argc = vm->cfg.argc + 1, envc = vm->cfg.envc;
    uint64_t *ptrs = calloc((size_t)argc + (size_t)envc + 2, sizeof(uint64_t));
    if (!ptrs)
        return -ENOMEM;
    uint8_t rnd[16];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        memset(rnd, 0x5a, sizeof(rnd));
    uint64_t random = push_bytes(&b, rnd, sizeof(rnd)), execfn = push_str(&b, path);
    bool ok = random && execfn;
    ptrs[0] = push_str(&b, path);
    for (int i = 1; i < argc; i++)
        ok &= (ptrs[i] = push_str(&b, vm->cfg.argv[i - 1])) != 0;
    for (int i = 0; i < envc; i++)
        ok &= (ptrs[argc + 1 + i] = push_str(&b, vm->cfg.envp[i])) != 0;
    uint64_t hwcap = 0;
    struct vmc_cpuid_leaf l1;
    if (vmc_vm_get_cpuid(vm, 1, 0, &l1) == 0)
        hwcap = l1.edx;
    const uint64_t auxv[] = { AT_PHDR,   img->phdr, AT_PHENT,  img->phent, AT_PHNUM,  img->phnum,
                              AT_PAGESZ, 4096,      AT_ENTRY,  img->entry, AT_UID,    0,
                              AT_EUID,   0,         AT_GID,    0,          AT_EGID,   0,
                              AT_HWCAP,  hwcap,     AT_CLKTCK, 100,        AT_RANDOM, random,
                              AT_EXECFN, execfn,    AT_SECURE, 0,          AT_NULL,   0 };
    size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + sizeof(auxv) / 8;
    b.sp &= ~15ull;
    if (words % 2) /* RSP, where argc is, ends 16-byte aligned */
        b.sp -= 8;
    ok &= b.sp - b.low >= words * 8;
    if (!ok) {
        free(ptrs);
        return -E2BIG;
    }
    b.sp -= words * 8;
    uint64_t *w = (uint64_t *)(b.ram + b.sp);
    *w++ = (uint64_t)argc;
    memcpy(w, ptrs, ((size_t)argc + 1 + (size_t)envc + 1) * 8); /* the NULLs are calloc's */
    w += argc + 1 + envc + 1;
    memcpy(w, auxv, sizeof(auxv));
    free(ptrs);
    *rsp = b.sp;
    return 0;
}

/* The image's pages with its segments' rights (text read and execute, data read and write, ...); a page
 * two segments share gets the rights of both. */
static int map_image(struct vmc_vm *vm, const struct vmc_image *img)
{
    const uint64_t pt = vm->lx->pt_base;
    for (uint32_t i = 0; i < img->nseg; i++) {
        const struct vmc_image_seg *g = &img->seg[i];
        uint64_t lo = g->start & ~4095ull, hi = (g->end + 4095) & ~4095ull;
        unsigned prot = ((g->flags & PF_R) ? VMC_X86_R : 0) | ((g->flags & PF_W) ? VMC_X86_W : 0) |
                        ((g->flags & PF_X) ? VMC_X86_X : 0);
        unsigned first = vmc_x86_user_pt_get(&vm->mem, pt, lo),
                 last = vmc_x86_user_pt_get(&vm->mem, pt, hi - 4096);
        int rc = vmc_lx_protect(vm, lo, hi - lo, prot);
        if (rc == 0 && first)
            rc = vmc_lx_protect(vm, lo, 4096, prot | first);
        if (rc == 0 && last)
            rc = vmc_lx_protect(vm, hi - 4096, 4096, prot | last);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * Memory, from the image up: the image, brk, the mmap area, a guard gap, the stack's 8 MiB, and at the
 * top of RAM the page tables of the program's pages (4 KiB each, so that every page has its own rights).
 * What is not mapped is not present in those tables (a touch is a #PF: SIGSEGV) and sealed on the host.
 */
static int layout(struct vmc_vm *vm, const struct vmc_image *img)
{
    struct vmc_linux *lx = vm->lx;
    uint64_t pt_bytes = vmc_x86_user_pt_bytes(vm->mem.size);
    /* Above the image: at least 256 KiB for brk and mappings, then the guard gap, the stack, the tables. */
    uint64_t top = pt_bytes + VMC_LX_STACK + VMC_LX_STACK_GAP + (256ull << 10);
    if (vm->mem.size < top || img->end > vm->mem.size - top || img->start < VMC_RAM_ALIGN)
        return -ENOMEM;
    lx->pt_base = vm->mem.size - pt_bytes;
    lx->stack_low = lx->pt_base - VMC_LX_STACK;
    lx->image_lo = img->start & ~4095ull;
    lx->brk_start = lx->brk = (img->end + 4095) & ~4095ull;
    lx->mmap_top = lx->stack_low - VMC_LX_STACK_GAP; /* an overflow faults before it reaches a mapping */
    lx->free[0] = (struct vmc_lx_range){ lx->brk_start, lx->mmap_top };
    lx->nfree = 1;
    struct vmc_cpuid_leaf ext;
    lx->nx = vmc_vm_get_cpuid(vm, 0x80000001, 0, &ext) == 0 && (ext.edx & X86_CPUID80000001_EDX_NX);
    /* What a handler's frame carries of the FPU: the components the VM's CPUID offers (leaf 0xD). */
    struct vmc_cpuid_leaf xd;
    lx->xfeatures = 3;
    if (vmc_vm_get_cpuid(vm, 0xd, 0, &xd) == 0)
        lx->xfeatures |= xd.eax | (uint64_t)xd.edx << 32;
    lx->xsave_size = vmc_x86_xsave_size(&lx->xfeatures);
    vmc_x86_user_pt_install(&vm->mem, lx->pt_base);
    int rc = vmc_mem_seal(&vm->mem, lx->brk_start, lx->stack_low - lx->brk_start, VMC_MEM_NONE);
    if (rc == 0)
        rc = map_image(vm, img);
    if (rc == 0) /* PT_GNU_STACK says whether the stack executes, as Linux reads it */
        rc = vmc_lx_protect(vm, lx->stack_low, lx->pt_base - lx->stack_low,
                            VMC_X86_R | VMC_X86_W | (img->exec_stack ? VMC_X86_X : 0));
    return rc;
}

/*
 * XSAVE for the program, as Linux enables it for its processes: CR4.OSXSAVE and XCR0 with x87, SSE, AVX
 * and AVX-512 (all three parts or none) as far as the VM's CPUID offers them, on every vCPU, so that
 * CPUID tells a C library it may use them. On kvm-pvm CPL3 code runs with the host's CR4 and XCR0 in
 * force and CPUID is not trapped, so the program has them anyway; on VT-x/AMD-V it is this that gives
 * them. Without XSAVE in CPUID, or when KVM refuses, the program runs with x87 and SSE (false). At the
 * first run: KVM checks XCR0 against the CPUID the VM has then.
 */
static bool enable_xsave(struct vmc_vm *vm)
{
    struct vmc_cpuid_leaf one, xd;
    if (vmc_vm_get_cpuid(vm, 1, 0, &one) != 0 || !(one.ecx & X86_CPUID1_ECX_XSAVE) ||
        vmc_vm_get_cpuid(vm, 0xd, 0, &xd) != 0)
        return false;
    uint64_t xcr0 = 3 | (xd.eax & 0xe4); /* x87, SSE; AVX (bit 2); opmask, ZMM_Hi256, Hi16_ZMM (5-7) */
    if (!(xcr0 & 4) || (xcr0 & 0xe0) != 0xe0)
        xcr0 &= ~0xe0ull;
    for (uint32_t i = 0; i < vm->nvcpus; i++)
        if (vmc_kvm_set_xcr0(vm->kvm, vm->vcpus[i].fd, xcr0) != 0)
            return false;
    return true;
}

int vmc_linux_start(struct vmc_vm *vm)
{
    if (!enable_xsave(vm))
        return 0;
    vmc_vcpu_sregs(&vm->vcpus[0])->cr4 |= X86_CR4_OSXSAVE; /* threads start with their creator's CR4 */
    vmc_vcpu_dirty(&vm->vcpus[0], KVM_SYNC_X86_SREGS);
    return 0;
}

/*
 * The program starts at CPL3 in 64-bit mode on its own page tables, with RSP at argc and RDX = 0 (no
 * exit hook from a dynamic linker). `syscall` is enabled (EFER.SCE) with LSTAR at the entry stub
 * `out %al, $0xeb` in the hypercall page: the doorbell carries every system call, and the VMM returns to
 * RCX (vmc_linux_sysret). EFER.NXE makes pages mapped without PROT_EXEC non-executable.
 */
int vmc_linux_boot(struct vmc_vm *vm, const struct vmc_image *img, const char *path)
{
    struct vmc_linux *lx = vm->lx;
    int rc = layout(vm, img);
    if (rc < 0)
        return rc;
    const char *base = strrchr(path, '/'); /* Linux's comm: the file's name, 15 bytes at most */
    snprintf(lx->thread[0].name, sizeof(lx->thread[0].name), "%s", base ? base + 1 : path);
    uint64_t rsp;
    rc = build_stack(vm, img, path, &rsp);
    if (rc < 0)
        return rc;
    static const uint8_t stub[] = { 0xe6, VMC_PORT_HYPERCALL, 0x0f, 0x0b }; /* out %al, $0xeb; ud2 */
    rc = vmc_mem_write(&vm->mem, VMC_LX_ENTRY, stub, sizeof(stub));
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    vmc_x86_init_vcpu_state(true, VMC_MODE_64, img->entry, &regs, &sregs);
    regs.rsp = rsp;
    regs.rdi = 0;
    sregs.efer |= X86_EFER_SCE | (lx->nx ? X86_EFER_NXE : 0);
    /* STAR: sysret's user selectors are STAR[63:48] + 8 (SS) and + 16 (CS): 0x23 and 0x2b. */
    const uint32_t idx[] = { MSR_STAR, MSR_LSTAR, MSR_SFMASK };
    const uint64_t val[] = { (uint64_t)(VMC_SEL_UDATA - 8 - 3) << 48 | (uint64_t)VMC_SEL_KCODE64 << 32,
                             VMC_LX_ENTRY, 0 };
    for (uint32_t i = 0; i < vm->nvcpus && rc == 0; i++) /* every vCPU a thread may run on */
        rc = vmc_kvm_set_msrs(vm->kvm, vm->vcpus[i].fd, idx, val, 3);
    if (rc == 0) {
        vmc_vcpu_set_entry(&vm->vcpus[0], &regs, &sregs);
        vmc_sched_boot_up(&vm->vcpus[0]);
    }
    return rc;
}

/*
 * The return from a system call, done by the VMM as `sysretq` would (SDM vol. 2B SYSRET): RIP = RCX,
 * RFLAGS = R11 (RF and VM clear, bit 1 set). On kvm-pvm `syscall` at CPL3 jumps to LSTAR without a
 * privilege change, so the stub still runs at CPL3 and only RIP and RFLAGS change. On VT-x/AMD-V it runs
 * at CPL0 (CS from STAR): then CS and SS go back to the user selectors, as sysret loads them; the
 * vCPU's privilege at the exit tells which host this is, so nothing is configured per host.
 */
/* A path argument as strace shows it: quoted, escaped, its first 64 bytes; NULL, or the address when
 * it cannot be read (read again here, after the call, through the same checked copy). */
static int trace_path(char *out, size_t size, const struct vmc_hcall *hc, uint64_t addr)
{
    char path[4096];
    if (!addr)
        return snprintf(out, size, "NULL");
    if (vmc_lx_path(hc, addr, path, sizeof(path)) < 0)
        return snprintf(out, size, "%#" PRIx64, addr);
    char shown[4 * 64 + 1];
    size_t k = 0, i = 0;
    for (; path[i] && i < 64; i++) {
        unsigned char c = (unsigned char)path[i];
        k += (size_t)(c == '"' || c == '\\' ? snprintf(shown + k, sizeof(shown) - k, "\\%c", c)
                      : c == '\n'           ? snprintf(shown + k, sizeof(shown) - k, "\\n")
                      : c >= 32 && c < 127  ? snprintf(shown + k, sizeof(shown) - k, "%c", c)
                                            : snprintf(shown + k, sizeof(shown) - k, "\\x%02x", c));
    }
    return snprintf(out, size, "\"%s\"%s", shown, path[i] ? "..." : "");
}

/* --trace: one line per call, as strace prints it: name(arguments) = result, paths as strings, the
 * directory AT_FDCWD by name, errors by name. */
static void trace(struct vmc_vcpu *vcpu, const struct vmc_hcall *hc, int64_t result)
{
    const struct vmc_hc_table *t = vcpu->vm->hc.table;
    const struct vmc_hc_entry *e = hc->a.nr < t->n ? &t->e[hc->a.nr] : NULL;
    unsigned nargs = e && e->name ? (e->flags >> 8) & 7 : 6, strs = e && e->name ? e->flags >> 11 : 0;
    const uint64_t args[6] = { hc->a.args[0], hc->a.args[1], hc->a.args[2],
                               hc->a.args[3], hc->a.args[4], vmc_vcpu_regs(vcpu)->r9 };
    char line[1024];
    int n = e && e->name ? snprintf(line, sizeof(line), "%s(", e->name)
                         : snprintf(line, sizeof(line), "syscall_%u(", hc->a.nr);
    for (unsigned i = 0; i < nargs && n < (int)sizeof(line); i++) {
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s", i ? ", " : "");
        if (n >= (int)sizeof(line))
            break;
        if (strs & (1u << i))
            n += trace_path(line + n, sizeof(line) - (size_t)n, hc, args[i]);
        else if ((strs & (2u << i)) && (int32_t)args[i] == AT_FDCWD) /* a directory before its path */
            n += snprintf(line + n, sizeof(line) - (size_t)n, "AT_FDCWD");
        else
            n += snprintf(line + n, sizeof(line) - (size_t)n, args[i] < 0x10000 ? "%" PRIu64 : "%#" PRIx64,
                          args[i]);
    }
    if (n < (int)sizeof(line) && result < 0 && result > -4096)
        snprintf(line + n, sizeof(line) - (size_t)n, ") = -1 %s (%s)", strerrorname_np((int)-result),
                 strerror((int)-result));
    else if (n < (int)sizeof(line))
        snprintf(line + n, sizeof(line) - (size_t)n,
                 result < 0x10000 && result > -0x10000 ? ") = %" PRId64 : ") = %#" PRIx64, result);
    fprintf(stderr, "%s\n", line);
}

void vmc_linux_sysret(struct vmc_vcpu *vcpu, const struct vmc_hcall *hc, int64_t result)
{
    if (vcpu->vm->cfg.trace)
        trace(vcpu, hc, result);
    struct kvm_regs *r = vmc_vcpu_regs(vcpu);
    bool *sigreturned = &vcpu->vm->lx->thread[vcpu->id].sigreturned;
    if (!*sigreturned) /* rt_sigreturn set RIP and RFLAGS itself */
        vmc_lx_sysret_regs(r);
    *sigreturned = false;
    vmc_lx_user_segments(vcpu);
    vmc_lx_deliver(vcpu, hc); /* a handler to run first, returning here through rt_sigreturn */
}
