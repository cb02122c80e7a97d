/* SPDX-License-Identifier: MIT */
/* x86-64 guest platform: identity page tables, GDT/IDT/TSS, exception stubs, boot info, CPUID, entry states.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../../mem.h"
#include "../../util.h"
#include "layout.h"
#include "x86.h"

/* Guest-visible TSS limit: the 64-bit TSS, then the I/O bitmap and its trailing 0xff byte. */
#define TSS_LIMIT (X86_TSS64_SIZE + X86_IOMAP_BYTES)

static uint64_t pt0_flags(uint64_t gpa, bool user)
{
    /* Unmapped: the null page and the guards below the exception stack and the guest stack. */
    if (gpa == VMC_LAYOUT_NULL || gpa == VMC_LAYOUT_IST_GUARD || gpa == VMC_LAYOUT_STACK_GUARD)
        return 0;
    /* A and D are preset so KVM can prefetch shadow entries (docs/abi-reference.md, "This host"). */
    const uint64_t rw = X86_PTE_P | X86_PTE_W | X86_PTE_A | X86_PTE_D;
    if (gpa < VMC_LAYOUT_STACK_GUARD) {
        /* VMM-owned pages stay supervisor-only; a user-mode guest may read its boot info and args, and
         * read and execute the hypercall page. */
        bool readable = gpa == VMC_LAYOUT_BOOT_INFO || gpa == VMC_LAYOUT_HYPERCALL_PAGE ||
                        (gpa >= VMC_LAYOUT_CMDLINE && gpa < VMC_LAYOUT_CMDLINE + VMC_LAYOUT_CMDLINE_SIZE);
        return user && readable ? X86_PTE_P | X86_PTE_U | X86_PTE_A : rw;
    }
    return rw | (user ? X86_PTE_U : 0);
}

static void build_page_tables(struct vmc_mem *mem, bool user)
{
    uint8_t *m = mem->host;
    uint64_t *pml4 = (uint64_t *)(m + VMC_LAYOUT_PML4);
    uint64_t *pdpt = (uint64_t *)(m + VMC_LAYOUT_PDPT);
    uint64_t *pd = (uint64_t *)(m + VMC_LAYOUT_PD);
    uint64_t *pt0 = (uint64_t *)(m + VMC_LAYOUT_PT0);
    const uint64_t table = X86_PTE_P | X86_PTE_W | X86_PTE_U | X86_PTE_A; /* rights decided at the leaves */

    pml4[0] = VMC_LAYOUT_PDPT | table;
    uint64_t npd = (mem->size + (1ull << 30) - 1) >> 30;
    for (uint64_t i = 0; i < npd; i++)
        pdpt[i] = (VMC_LAYOUT_PD + i * 4096) | table;
    pd[0] = VMC_LAYOUT_PT0 | table;
    for (uint64_t gpa = VMC_RAM_ALIGN; gpa < mem->size; gpa += VMC_RAM_ALIGN)
        pd[gpa >> 21] =
            gpa | X86_PTE_P | X86_PTE_W | X86_PTE_A | X86_PTE_D | X86_PTE_PS | (user ? X86_PTE_U : 0);
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t f = pt0_flags(i * 4096, user);
        pt0[i] = f ? (i * 4096) | f : 0;
    }
}

uint64_t vmc_x86_user_pt_bytes(uint64_t ram_size)
{
    return (ram_size >> 12) * 8; /* a table per 2 MiB, the first (PT0's) unused: indexing stays gpa >> 12 */
}

void vmc_x86_user_pt_install(struct vmc_mem *mem, uint64_t pt_base)
{
    uint64_t *pd = (uint64_t *)(mem->host + VMC_LAYOUT_PD);
    memset(mem->host + pt_base, 0, vmc_x86_user_pt_bytes(mem->size));
    for (uint64_t gpa = VMC_RAM_ALIGN; gpa < mem->size; gpa += VMC_RAM_ALIGN)
        pd[gpa >> 21] = (pt_base + (gpa >> 21) * 4096) | X86_PTE_P | X86_PTE_W | X86_PTE_U | X86_PTE_A;
}

bool vmc_x86_user_pt_set(struct vmc_mem *mem, uint64_t pt_base, bool nx, uint64_t gpa, uint64_t len,
                         unsigned rights)
{
    uint64_t *pt = (uint64_t *)(mem->host + pt_base);
    /* A and D preset, as in the boot tables: the CPU (or KVM's shadow MMU) never writes them back. */
    uint64_t v = !rights ? 0
                         : X86_PTE_P | X86_PTE_U | X86_PTE_A |
                               ((rights & VMC_X86_W) ? X86_PTE_W | X86_PTE_D : 0) |
                               (nx && !(rights & VMC_X86_X) ? X86_PTE_NX : 0);
    bool lost_exec = false;
    for (uint64_t p = gpa >> 12; p < (gpa + len) >> 12; p++) {
        uint64_t old = __atomic_exchange_n(&pt[p], v ? (p << 12) | v : 0, __ATOMIC_RELAXED);
        lost_exec |= (old & X86_PTE_P) && !(old & X86_PTE_NX) && (v & X86_PTE_NX);
    }
    return lost_exec;
}

unsigned vmc_x86_user_pt_get(const struct vmc_mem *mem, uint64_t pt_base, uint64_t gpa)
{
    uint64_t pte = __atomic_load_n((const uint64_t *)(mem->host + pt_base) + (gpa >> 12), __ATOMIC_RELAXED);
    if (!(pte & X86_PTE_P))
        return 0;
    return VMC_X86_R | ((pte & X86_PTE_W) ? VMC_X86_W : 0) | ((pte & X86_PTE_NX) ? 0 : VMC_X86_X);
}

static uint64_t seg_desc(uint32_t flags)
{
    /* Flat segments (SDM vol. 3A 3.4.5): base 0, limit 0xfffff pages; flags are access byte | flags nibble
     * << 12. */
    return 0xffffull | ((uint64_t)(flags & 0xff) << 40) | (0xfull << 48) |
           ((uint64_t)((flags >> 12) & 0xf) << 52);
}

/* vCPU i > 0 has its own TSS (and so its own RSP0 and IST1 stack) but shares one I/O bitmap. */
static uint32_t ap_tss(uint32_t i)
{
    return VMC_LAYOUT_TSS_AP + i * 128u;
}

static void write_tss(uint8_t *tss, uint64_t stack_top, uint16_t iomap)
{
    /* RSP0: a guest-installed gate without IST still lands on a VMM stack. */
    memcpy(tss + X86_TSS_RSP0, &stack_top, 8);
    memcpy(tss + X86_TSS_IST1, &stack_top, 8);
    memcpy(tss + X86_TSS_IOMAP_BASE, &iomap, 2);
}

void vmc_x86_install_iomap(struct vmc_mem *mem, const uint8_t *bitmap, uint32_t nvcpus)
{
    memcpy(mem->host + VMC_LAYOUT_TSS + X86_TSS64_SIZE, bitmap, X86_IOMAP_BYTES + 1);
    if (nvcpus > 1)
        memcpy(mem->host + VMC_LAYOUT_IOMAP_AP, bitmap, X86_IOMAP_BYTES + 1);
}

static void build_gdt_tss(struct vmc_mem *mem, uint32_t nvcpus)
{
    uint64_t *gdt = (uint64_t *)(mem->host + VMC_LAYOUT_GDT);
    gdt[VMC_SEL_KCODE64 >> 3] = seg_desc(0x9b | 0xa000); /* P DPL0 code, L=1 G=1 */
    gdt[VMC_SEL_KDATA >> 3] = seg_desc(0x93 | 0xc000);   /* P DPL0 data, D/B=1 G=1 */
    gdt[VMC_SEL_UCODE32 >> 3] = seg_desc(0xfb | 0xc000);
    gdt[VMC_SEL_UDATA >> 3] = seg_desc(0xf3 | 0xc000);
    gdt[VMC_SEL_UCODE64 >> 3] = seg_desc(0xfb | 0xa000);
    gdt[VMC_SEL_KCODE32 >> 3] = seg_desc(0x9b | 0xc000);
    /* 16-byte TSS descriptor (SDM vol. 3A 8.2.3), type busy: it is loaded into TR at entry. */
    uint64_t base = VMC_LAYOUT_TSS;
    gdt[VMC_SEL_TSS >> 3] = (TSS_LIMIT & 0xffff) | ((base & 0xffffff) << 16) | (0x8bull << 40) |
                            ((uint64_t)((TSS_LIMIT >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[(VMC_SEL_TSS >> 3) + 1] = base >> 32;

    write_tss(mem->host + VMC_LAYOUT_TSS, VMC_LAYOUT_IST_TOP, X86_TSS64_SIZE);
    for (uint32_t i = 1; i < nvcpus; i++)
        write_tss(mem->host + ap_tss(i), VMC_LAYOUT_IST_AP + i * VMC_LAYOUT_IST_AP_SIZE,
                  (uint16_t)(VMC_LAYOUT_IOMAP_AP - ap_tss(i)));
}

/*
 * Default exception stubs, 16 bytes per vector: [push $0] push $vector; out %al, $VMC_PORT_FAULT; hlt;
 * jmp .-1. The exit path reads the frame from the IST stack on the port exit and stops the VM.
 */
static void build_idt(struct vmc_mem *mem)
{
    uint8_t *stubs = mem->host + VMC_LAYOUT_STUBS;
    uint8_t *idt = mem->host + VMC_LAYOUT_IDT;
    for (unsigned v = 0; v < 32; v++) {
        uint8_t *s = stubs + v * 16;
        unsigned n = 0;
        if (!x86_exc_has_error_code(v)) {
            s[n++] = 0x6a; /* push imm8 */
            s[n++] = 0x00;
        }
        s[n++] = 0x6a;
        s[n++] = (uint8_t)v;
        s[n++] = 0xe6; /* out %al, imm8 */
        s[n++] = VMC_PORT_FAULT;
        s[n++] = 0xf4; /* hlt */
        s[n++] = 0xeb; /* jmp -3: back to hlt */
        s[n++] = 0xfd;
        /* 64-bit interrupt gate (SDM vol. 3A 6.14.1): P, DPL0, IST1 so reports survive a blown stack. */
        uint64_t handler = VMC_LAYOUT_STUBS + v * 16;
        uint8_t gate[16] = { (uint8_t)handler,         (uint8_t)(handler >> 8), VMC_SEL_KCODE64, 0, 1, 0x8e,
                             (uint8_t)(handler >> 16), (uint8_t)(handler >> 24) };
        memcpy(idt + v * 16, gate, 16);
    }
}

/* The same stubs for 32-bit guests: push imm8 pushes 4 bytes there, and the gates are 32-bit. */
static void build_idt32(struct vmc_mem *mem)
{
    uint8_t *stubs = mem->host + VMC_LAYOUT_STUBS32;
    uint8_t *idt = mem->host + VMC_LAYOUT_IDT32;
    memcpy(stubs, mem->host + VMC_LAYOUT_STUBS, 32 * 16);
    for (unsigned v = 0; v < 32; v++) {
        uint32_t handler = VMC_LAYOUT_STUBS32 + v * 16;
        uint8_t gate[8] = { (uint8_t)handler,         (uint8_t)(handler >> 8), VMC_SEL_KCODE32, 0, 0, 0x8e,
                            (uint8_t)(handler >> 16), (uint8_t)(handler >> 24) };
        memcpy(idt + v * 8, gate, 8);
    }
}

int vmc_x86_setup_memory(struct vmc_mem *mem, bool user, uint32_t nvcpus)
{
    /* The layout must fit the fixed tables: 3 PD pages cover VMC_RAM_MAX. */
    if (mem->size > VMC_RAM_MAX || mem->size < VMC_RAM_MIN)
        return -EINVAL;
    build_page_tables(mem, user);
    build_gdt_tss(mem, nvcpus);
    build_idt(mem);
    build_idt32(mem);
    return 0;
}

uint64_t vmc_x86_cmdline_bytes(const char *program, int argc, const char *const *argv, uint64_t *joined)
{
    uint64_t strings = strlen(program) + 1;
    *joined = 0;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        strings += n + 1;
        *joined += n + (i ? 1 : 0);
    }
    return (uint64_t)(argc + 2) * 8 + strings + *joined + 1;
}

static uint64_t put_string(uint8_t *area, uint64_t *off, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(area + *off, s, n);
    uint64_t at = VMC_LAYOUT_CMDLINE + *off;
    *off += n;
    return at;
}

int vmc_x86_write_boot_info(struct vmc_mem *mem, const struct vmc_x86_boot *b)
{
    uint64_t joined;
    if (vmc_x86_cmdline_bytes(b->program, b->argc, (const char *const *)b->argv, &joined) >
        VMC_LAYOUT_CMDLINE_SIZE)
        return -E2BIG;
    uint8_t *area = mem->host + VMC_LAYOUT_CMDLINE;
    /* argv[] first (the program, the arguments, NULL), then the strings, then the joined line. */
    uint64_t *argv = (uint64_t *)area;
    uint64_t off = (uint64_t)(b->argc + 2) * 8;
    argv[0] = put_string(area, &off, b->program);
    for (int i = 0; i < b->argc; i++)
        argv[i + 1] = put_string(area, &off, b->argv[i]);
    argv[b->argc + 1] = 0;
    uint64_t cmdline = VMC_LAYOUT_CMDLINE + off;
    size_t len = 0;
    for (int i = 0; i < b->argc; i++) {
        size_t n = strlen(b->argv[i]);
        if (i)
            area[off + len++] = ' ';
        memcpy(area + off + len, b->argv[i], n);
        len += n;
    }
    area[off + len] = 0;
    struct vmc_boot_info bi = {
        .magic = VMC_BOOT_MAGIC,
        .abi_version = VMC_ABI_VERSION,
        .size = sizeof(bi),
        .flags = b->flags,
        .ram_size = mem->size,
        .image_start = b->image_start,
        .image_end = b->image_end,
        .stack_bottom = VMC_LAYOUT_STACK,
        .stack_top = VMC_LAYOUT_STACK_TOP,
        .cmdline = cmdline,
        .cmdline_len = (uint32_t)len,
        .argc = (uint32_t)b->argc + 1,
        .argv = VMC_LAYOUT_CMDLINE,
        .vcpu_count = b->vcpus,
        .hypercall_page = VMC_LAYOUT_HYPERCALL_PAGE,
        .hypercall_abi = b->hypercall_abi,
        .mode = b->mode,
        .features = b->features,
    };
    return vmc_mem_write(mem, VMC_LAYOUT_BOOT_INFO, &bi, sizeof(bi));
}

static struct kvm_segment flat_seg(uint16_t sel, uint8_t type, bool code64)
{
    return (struct kvm_segment){ .limit = 0xffffffff,
                                 .selector = sel,
                                 .type = type,
                                 .present = 1,
                                 .dpl = sel & 3,
                                 .db = code64 ? 0 : 1,
                                 .s = 1,
                                 .l = code64 ? 1 : 0,
                                 .g = 1 };
}

void vmc_x86_init_vcpu_state(bool user, uint32_t mode, uint64_t entry, struct kvm_regs *regs,
                             struct kvm_sregs *sregs)
{
    /* The whole struct is written, so no KVM_GET_SREGS is needed first: the fields KVM resets that we
     * do not care about get their reset values (IA32_APIC_BASE: default base, enabled, BSP). */
    memset(sregs, 0, sizeof(*sregs));
    sregs->apic_base = X86_APIC_BASE_DEFAULT | X86_APIC_BASE_EN | X86_APIC_BASE_BSP;
    sregs->cs = flat_seg(user ? VMC_SEL_UCODE64 : VMC_SEL_KCODE64, X86_SEG_CODE_XRA, true);
    struct kvm_segment data = flat_seg(user ? VMC_SEL_UDATA : VMC_SEL_KDATA, X86_SEG_DATA_RWA, false);
    sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
    sregs->tr = (struct kvm_segment){ .base = VMC_LAYOUT_TSS,
                                      .limit = TSS_LIMIT,
                                      .selector = VMC_SEL_TSS,
                                      .type = X86_SEG_TSS_BUSY,
                                      .present = 1 };
    sregs->ldt = (struct kvm_segment){ .type = X86_SEG_LDT, .present = 1, .unusable = 1 };
    sregs->gdt.base = VMC_LAYOUT_GDT;
    sregs->gdt.limit = (VMC_SEL_KCODE32 + 8) - 1;
    sregs->idt.base = VMC_LAYOUT_IDT;
    sregs->idt.limit = 256 * 16 - 1; /* vectors 32-255 are not present: delivery raises #NP, reported */
    sregs->cr0 = X86_CR0_PG | X86_CR0_WP | X86_CR0_NE | X86_CR0_ET | X86_CR0_MP | X86_CR0_PE;
    sregs->cr3 = VMC_LAYOUT_PML4;
    sregs->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    sregs->efer = X86_EFER_LME | X86_EFER_LMA;
    if (mode == VMC_MODE_32) {
        /* Flat 32-bit protected mode, paging off (SDM vol. 3A 10.9.1 without the paging step). */
        sregs->cs = flat_seg(VMC_SEL_KCODE32, X86_SEG_CODE_XRA, false);
        sregs->idt.base = VMC_LAYOUT_IDT32;
        sregs->idt.limit = 256 * 8 - 1;
        sregs->cr0 = X86_CR0_NE | X86_CR0_ET | X86_CR0_MP | X86_CR0_PE;
        sregs->cr3 = 0;
        sregs->efer = 0;
    }
    memset(regs, 0, sizeof(*regs));
    regs->rip = entry;
    regs->rsp = VMC_LAYOUT_STACK_TOP;
    regs->rdi = VMC_LAYOUT_BOOT_INFO;
    regs->rflags = X86_RFLAGS_FIXED;
}

void vmc_x86_init_ap_state(const struct kvm_sregs *caller, uint32_t id, const struct vmc_vcpu_up *up,
                           struct kvm_regs *regs, struct kvm_sregs *sregs)
{
    /* The caller's mode, paging, descriptor tables and privilege; its own TSS. Like INIT/SIPI, the
     * new vCPU has nothing pending and the BSP flag off in IA32_APIC_BASE. */
    *sregs = *caller;
    memset(sregs->interrupt_bitmap, 0, sizeof(sregs->interrupt_bitmap));
    sregs->apic_base &= ~X86_APIC_BASE_BSP;
    uint32_t tss = ap_tss(id);
    sregs->tr = (struct kvm_segment){ .base = tss,
                                      .limit = VMC_LAYOUT_IOMAP_AP - tss + X86_IOMAP_BYTES,
                                      .selector = VMC_SEL_TSS,
                                      .type = X86_SEG_TSS_BUSY,
                                      .present = 1 };
    memset(regs, 0, sizeof(*regs));
    regs->rip = up->entry;
    regs->rsp = up->stack;
    regs->rdi = up->arg;
    regs->rsi = id;
    regs->rflags = X86_RFLAGS_FIXED;
}

void vmc_x86_cpuid_sanitize(struct kvm_cpuid_entry2 *e)
{
    if (e->function == 1)
        e->ecx = (e->ecx & ~X86_CPUID1_ECX_VMX) | X86_CPUID1_ECX_HYPERVISOR;
    if (e->function == 0x80000001)
        e->ecx &= ~X86_CPUID80000001_ECX_SVM;
}

/* Curate: no nested virtualization, no APIC (there is none without an irqchip), a hypervisor bit, and
 * vmcall's own leaves in place of KVM's paravirtual ones. */
static void curate_cpuid(struct kvm_cpuid2 *c)
{
    unsigned w = 0;
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 e = c->entries[i];
        if (e.function >= 0x40000000 && e.function < 0x40010000)
            continue;
        if (e.function == 1) {
            e.ecx &= ~X86_CPUID1_ECX_X2APIC;
            e.edx &= ~X86_CPUID1_EDX_APIC;
        }
        vmc_x86_cpuid_sanitize(&e);
        c->entries[w++] = e;
    }
    c->entries[w++] = (struct kvm_cpuid_entry2){ .function = VMC_CPUID_BASE,
                                                 .eax = VMC_CPUID_MAX,
                                                 .ebx = VMC_CPUID_SIG_EBX,
                                                 .ecx = VMC_CPUID_SIG_ECX,
                                                 .edx = VMC_CPUID_SIG_EDX };
    c->entries[w++] = (struct kvm_cpuid_entry2){ .function = VMC_CPUID_VERSION, .eax = VMC_ABI_VERSION };
    c->entries[w++] =
        (struct kvm_cpuid_entry2){ .function = VMC_CPUID_HYPERCALL, .eax = 1, .ebx = VMC_MSR_HYPERCALL_PAGE };
    c->nent = w;
}

int vmc_x86_build_cpuid(int kvm_fd, struct kvm_cpuid2 **out)
{
    /* Start large enough for today's CPUs: every retry after E2BIG is another ~0.7 ms ioctl here. */
    for (unsigned nent = 256; nent <= 4096; nent *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (nent + 3) * sizeof(c->entries[0]));
        if (!c)
            return -ENOMEM;
        c->nent = nent;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
            int e = errno;
            free(c);
            if (e == E2BIG)
                continue;
            return -e;
        }
        curate_cpuid(c);
        *out = c;
        return 0;
    }
    return -E2BIG;
}
