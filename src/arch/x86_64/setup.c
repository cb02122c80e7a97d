/* SPDX-License-Identifier: MIT */
/* x86-64 guest platform: identity page tables, GDT/IDT/TSS, exception stubs, boot info, CPUID, entry state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../../internal.h"

/* Page-table entry bits (SDM vol. 3A 4.5). A and D are preset so KVM can prefetch shadow entries. */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)

/* Control register bits (SDM vol. 3A 2.5). */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define TSS_IOMAP_OFFSET 0x68u               /* right after the 104-byte 64-bit TSS */
#define TSS_LIMIT (TSS_IOMAP_OFFSET + 8192u) /* bitmap for 64 Ki ports + the required 0xff byte */

bool vmc_x86_exc_has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

static uint64_t pt0_flags(uint64_t gpa, bool user)
{
    /* Unmapped: the null page and the guards below the exception stack and the guest stack. */
    if (gpa == VMC_LAYOUT_NULL || gpa == VMC_LAYOUT_IST_GUARD || gpa == VMC_LAYOUT_STACK_GUARD)
        return 0;
    if (gpa < VMC_LAYOUT_STACK_GUARD) {
        /* VMM-owned pages stay supervisor-only; a user-mode guest may read its boot info and args, and
         * read and execute the hypercall page. */
        bool readable = gpa == VMC_LAYOUT_BOOT_INFO || gpa == VMC_LAYOUT_HYPERCALL_PAGE ||
                        (gpa >= VMC_LAYOUT_CMDLINE && gpa < VMC_LAYOUT_CMDLINE + VMC_LAYOUT_CMDLINE_SIZE);
        if (user && readable)
            return PTE_P | PTE_U | PTE_A;
        return PTE_P | PTE_W | PTE_A | PTE_D;
    }
    return PTE_P | PTE_W | PTE_A | PTE_D | (user ? PTE_U : 0);
}

static void build_page_tables(struct vmc_vm *vm)
{
    uint8_t *m = vm->mem.host;
    bool user = vm->cfg.user_mode;
    uint64_t *pml4 = (uint64_t *)(m + VMC_LAYOUT_PML4);
    uint64_t *pdpt = (uint64_t *)(m + VMC_LAYOUT_PDPT);
    uint64_t *pd = (uint64_t *)(m + VMC_LAYOUT_PD);
    uint64_t *pt0 = (uint64_t *)(m + VMC_LAYOUT_PT0);
    const uint64_t table = PTE_P | PTE_W | PTE_U | PTE_A; /* permissions are decided at the leaves */

    pml4[0] = VMC_LAYOUT_PDPT | table;
    uint64_t npd = (vm->mem.size + (1ull << 30) - 1) >> 30;
    for (uint64_t i = 0; i < npd; i++)
        pdpt[i] = (VMC_LAYOUT_PD + i * 4096) | table;
    pd[0] = VMC_LAYOUT_PT0 | table;
    for (uint64_t gpa = VMC_RAM_ALIGN; gpa < vm->mem.size; gpa += VMC_RAM_ALIGN)
        pd[gpa >> 21] = gpa | PTE_P | PTE_W | PTE_A | PTE_D | PTE_PS | (user ? PTE_U : 0);
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t f = pt0_flags(i * 4096, user);
        pt0[i] = f ? (i * 4096) | f : 0;
    }
}

static uint64_t seg_desc(uint32_t flags)
{
    /* Flat segments: base 0, limit 0xfffff pages; flags are access byte | flags nibble << 12. */
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
    memcpy(tss + 4, &stack_top, 8);  /* RSP0: a guest-installed gate without IST still lands on a VMM stack */
    memcpy(tss + 36, &stack_top, 8); /* IST1 */
    memcpy(tss + 102, &iomap, 2);
}

/*
 * I/O permission bitmap (SDM vol. 1 19.5.2): 1 = #GP at CPL3. Open: the console and VMM ports, ports the
 * I/O policy names PASS or IGNORE, and every port when the default is IGNORE; DENY closes any port.
 */
static void write_iomap(const struct vmc_vm *vm, uint8_t *bm)
{
    memset(bm, 0xff, 8192 + 1);
    static const struct {
        uint16_t port, count;
    } open_ports[] = {
        { VMC_PORT_EXIT, 4 }, { VMC_PORT_DEBUGCON, 1 }, { VMC_PORT_HYPERCALL, 1 }, { VMC_PORT_COM1, 8 }
    };
    if (vm->cfg.io_default == VMC_IO_IGNORE)
        memset(bm, 0, 8192);
    for (size_t i = 0; i < ARRAY_SIZE(open_ports); i++)
        for (unsigned p = open_ports[i].port; p < open_ports[i].port + open_ports[i].count; p++)
            bm[p / 8] &= (uint8_t) ~(1u << (p % 8));
    for (unsigned p = 0; p < 65536 && vm->io_policy_set; p++) {
        uint8_t own = vm->io_policy[p];
        if (own == 1 + VMC_IO_DENY)
            bm[p / 8] |= (uint8_t)(1u << (p % 8));
        else if (own)
            bm[p / 8] &= (uint8_t) ~(1u << (p % 8));
    }
}

/* Only what the VM will use is written: the pages of a one-vCPU VM's AP area stay untouched (each first
 * touch of guest RAM is a host page fault on the way to the first instruction). */
void vmc_x86_update_iomap(struct vmc_vm *vm)
{
    write_iomap(vm, vm->mem.host + VMC_LAYOUT_TSS + TSS_IOMAP_OFFSET);
    if (vm->nvcpus > 1)
        write_iomap(vm, vm->mem.host + VMC_LAYOUT_IOMAP_AP);
}

static void build_gdt_tss(struct vmc_vm *vm)
{
    uint64_t *gdt = (uint64_t *)(vm->mem.host + VMC_LAYOUT_GDT);
    gdt[VMC_SEL_KCODE64 >> 3] = seg_desc(0x9b | 0xa000); /* P DPL0 code, L=1 G=1 */
    gdt[VMC_SEL_KDATA >> 3] = seg_desc(0x93 | 0xc000);   /* P DPL0 data, D/B=1 G=1 */
    gdt[VMC_SEL_UCODE32 >> 3] = seg_desc(0xfb | 0xc000);
    gdt[VMC_SEL_UDATA >> 3] = seg_desc(0xf3 | 0xc000);
    gdt[VMC_SEL_UCODE64 >> 3] = seg_desc(0xfb | 0xa000);
    gdt[VMC_SEL_KCODE32 >> 3] = seg_desc(0x9b | 0xc000);
    /* 16-byte TSS descriptor, type 0xb (busy): it is loaded into TR at entry. */
    uint64_t base = VMC_LAYOUT_TSS;
    gdt[VMC_SEL_TSS >> 3] = (TSS_LIMIT & 0xffff) | ((base & 0xffffff) << 16) | (0x8bull << 40) |
                            ((uint64_t)((TSS_LIMIT >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[(VMC_SEL_TSS >> 3) + 1] = base >> 32;

    write_tss(vm->mem.host + VMC_LAYOUT_TSS, VMC_LAYOUT_IST_TOP, TSS_IOMAP_OFFSET);
    for (uint32_t i = 1; i < vm->nvcpus; i++)
        write_tss(vm->mem.host + ap_tss(i), VMC_LAYOUT_IST_AP + i * VMC_LAYOUT_IST_AP_SIZE,
                  (uint16_t)(VMC_LAYOUT_IOMAP_AP - ap_tss(i)));
    vmc_x86_update_iomap(vm);
}

/*
 * Default exception stubs, 16 bytes per vector: [push $0] push $vector; out %al, $VMC_PORT_FAULT; hlt;
 * jmp .-1. The VMM reads the frame from the IST stack on the port exit and stops the VM.
 */
static void build_idt(struct vmc_vm *vm)
{
    uint8_t *stubs = vm->mem.host + VMC_LAYOUT_STUBS;
    uint8_t *idt = vm->mem.host + VMC_LAYOUT_IDT;
    for (unsigned v = 0; v < 32; v++) {
        uint8_t *s = stubs + v * 16;
        unsigned n = 0;
        if (!vmc_x86_exc_has_error_code(v)) {
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
        uint64_t handler = VMC_LAYOUT_STUBS + v * 16;
        uint8_t gate[16] = { 0 };
        gate[0] = handler & 0xff;
        gate[1] = (handler >> 8) & 0xff;
        gate[2] = VMC_SEL_KCODE64;
        gate[4] = 1;    /* IST1: reports survive a blown guest stack */
        gate[5] = 0x8e; /* P, DPL0, 64-bit interrupt gate */
        gate[6] = (handler >> 16) & 0xff;
        gate[7] = (handler >> 24) & 0xff;
        memcpy(idt + v * 16, gate, 16);
    }
}

/* The same stubs for 32-bit guests: push imm8 pushes 4 bytes there, and the gates are 32-bit. */
static void build_idt32(struct vmc_vm *vm)
{
    uint8_t *stubs = vm->mem.host + VMC_LAYOUT_STUBS32;
    uint8_t *idt = vm->mem.host + VMC_LAYOUT_IDT32;
    memcpy(stubs, vm->mem.host + VMC_LAYOUT_STUBS, 32 * 16);
    for (unsigned v = 0; v < 32; v++) {
        uint32_t handler = VMC_LAYOUT_STUBS32 + v * 16;
        uint8_t gate[8] = { (uint8_t)handler,         (uint8_t)(handler >> 8), VMC_SEL_KCODE32, 0, 0, 0x8e,
                            (uint8_t)(handler >> 16), (uint8_t)(handler >> 24) };
        memcpy(idt + v * 8, gate, 8);
    }
}

int vmc_x86_setup_memory(struct vmc_vm *vm)
{
    /* The layout must fit the fixed tables: 3 PD pages cover VMC_RAM_MAX. */
    if (vm->mem.size > VMC_RAM_MAX || vm->mem.size < VMC_RAM_MIN)
        return -EINVAL;
    build_page_tables(vm);
    build_gdt_tss(vm);
    build_idt(vm);
    build_idt32(vm);
    return vmc_hypercall_write_page(vm, VMC_LAYOUT_HYPERCALL_PAGE);
}

int vmc_x86_write_boot_info(struct vmc_vm *vm)
{
    uint8_t *area = vm->mem.host + VMC_LAYOUT_CMDLINE;
    int argc = vm->cfg.argc;
    /* argv[] first, then the strings, then the joined line; sizes were checked at create time. */
    uint64_t *argv = (uint64_t *)area;
    uint64_t off = (uint64_t)(argc + 1) * 8;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(vm->argv[i]) + 1;
        memcpy(area + off, vm->argv[i], n);
        argv[i] = VMC_LAYOUT_CMDLINE + off;
        off += n;
    }
    argv[argc] = 0;
    uint64_t cmdline = VMC_LAYOUT_CMDLINE + off;
    size_t len = 0;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(vm->argv[i]);
        if (i)
            area[off + len++] = ' ';
        memcpy(area + off + len, vm->argv[i], n);
        len += n;
    }
    area[off + len] = 0;

    struct vmc_boot_info bi = {
        .magic = VMC_BOOT_MAGIC,
        .abi_version = VMC_ABI_VERSION,
        .size = sizeof(bi),
        .flags = vm->cfg.user_mode ? VMC_BOOT_F_USER : 0,
        .ram_size = vm->mem.size,
        .image_start = vm->image_start,
        .image_end = vm->image_end,
        .stack_bottom = VMC_LAYOUT_STACK,
        .stack_top = VMC_LAYOUT_STACK_TOP,
        .cmdline = cmdline,
        .cmdline_len = (uint32_t)len,
        .argc = (uint32_t)argc,
        .argv = VMC_LAYOUT_CMDLINE,
        .vcpu_id = 0,
        .vcpu_count = vm->nvcpus,
        .hypercall_page = VMC_LAYOUT_HYPERCALL_PAGE,
        .hypercall_abi = vm->cfg.hypercall_abi,
        .mode = vm->cfg.mode,
        .features = vmc_vm_features(vm),
    };
    return vmc_mem_write(&vm->mem, VMC_LAYOUT_BOOT_INFO, &bi, sizeof(bi));
}

static struct kvm_segment flat_seg(uint16_t sel, uint8_t type, bool code64)
{
    struct kvm_segment s = {
        .base = 0,
        .limit = 0xffffffff,
        .selector = sel,
        .type = type,
        .present = 1,
        .dpl = sel & 3,
        .db = code64 ? 0 : 1,
        .s = 1,
        .l = code64 ? 1 : 0,
        .g = 1,
    };
    return s;
}

void vmc_x86_init_vcpu_state(struct vmc_vm *vm, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
    bool user = vm->cfg.user_mode;
    /* The whole struct is written, so no KVM_GET_SREGS is needed first: the fields KVM resets that we
     * do not care about get their reset values (IA32_APIC_BASE: 0xfee00000, enabled, BSP; SDM 10.4.4). */
    memset(sregs, 0, sizeof(*sregs));
    sregs->apic_base = 0xfee00000ull | (1ull << 11) | (1ull << 8);
    sregs->cs = flat_seg(user ? VMC_SEL_UCODE64 : VMC_SEL_KCODE64, 0xb, true);
    struct kvm_segment data = flat_seg(user ? VMC_SEL_UDATA : VMC_SEL_KDATA, 0x3, false);
    sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
    sregs->tr = (struct kvm_segment){
        .base = VMC_LAYOUT_TSS, .limit = TSS_LIMIT, .selector = VMC_SEL_TSS, .type = 0xb, .present = 1
    };
    sregs->ldt = (struct kvm_segment){ .selector = 0, .type = 0x2, .present = 1, .unusable = 1 };
    sregs->gdt.base = VMC_LAYOUT_GDT;
    sregs->gdt.limit = (VMC_SEL_KCODE32 + 8) - 1;
    sregs->idt.base = VMC_LAYOUT_IDT;
    sregs->idt.limit = 256 * 16 - 1; /* vectors 32-255 are not present: delivery raises #NP, reported */
    sregs->cr0 = CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
    sregs->cr3 = VMC_LAYOUT_PML4;
    sregs->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    sregs->efer = EFER_LME | EFER_LMA;

    if (vm->cfg.mode == VMC_MODE_32) {
        /* Flat 32-bit protected mode, paging off (SDM vol. 3A 9.9.1 without the paging step). */
        sregs->cs = flat_seg(VMC_SEL_KCODE32, 0xb, false);
        sregs->idt.base = VMC_LAYOUT_IDT32;
        sregs->idt.limit = 256 * 8 - 1;
        sregs->cr0 = CR0_NE | CR0_ET | CR0_MP | CR0_PE;
        sregs->cr3 = 0;
        sregs->efer = 0;
    }
    memset(regs, 0, sizeof(*regs));
    regs->rip = vm->entry;
    regs->rsp = VMC_LAYOUT_STACK_TOP;
    regs->rdi = VMC_LAYOUT_BOOT_INFO;
    regs->rflags = 0x2;
}

void vmc_x86_init_ap_state(struct vmc_vm *vm, const struct kvm_sregs *caller, uint32_t id,
                           const struct vmc_vcpu_up *up, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
    (void)vm;
    /* The caller's mode, paging, descriptor tables and privilege; its own TSS. Like INIT/SIPI, the
     * new vCPU has nothing pending and the BSP flag off in IA32_APIC_BASE. */
    *sregs = *caller;
    memset(sregs->interrupt_bitmap, 0, sizeof(sregs->interrupt_bitmap));
    sregs->apic_base &= ~(1ull << 8);
    uint32_t tss = ap_tss(id);
    sregs->tr = (struct kvm_segment){ .base = tss,
                                      .limit = VMC_LAYOUT_IOMAP_AP - tss + 8192u,
                                      .selector = VMC_SEL_TSS,
                                      .type = 0xb,
                                      .present = 1 };
    memset(regs, 0, sizeof(*regs));
    regs->rip = up->entry;
    regs->rsp = up->stack;
    regs->rdi = up->arg;
    regs->rsi = id;
    regs->rflags = 0x2;
}

/* CPUID bits (SDM vol. 2A, CPUID leaf 1 and 0x80000001). */
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID1_EDX_APIC (1u << 9)
#define CPUID80000001_ECX_SVM (1u << 2)

void vmc_x86_cpuid_sanitize(struct kvm_cpuid_entry2 *e)
{
    if (e->function == 1)
        e->ecx = (e->ecx & ~CPUID1_ECX_VMX) | CPUID1_ECX_HYPERVISOR;
    if (e->function == 0x80000001)
        e->ecx &= ~CPUID80000001_ECX_SVM;
}

int vmc_x86_build_cpuid(int kvm_fd, struct kvm_cpuid2 **out)
{
    for (unsigned nent = 64; nent <= 1024; nent *= 2) {
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
        /* Curate: no nested virtualization, no APIC (there is none without an irqchip), a hypervisor
         * bit, and vmcall's own leaf in place of KVM's paravirtual ones. */
        unsigned w = 0;
        for (unsigned i = 0; i < c->nent; i++) {
            struct kvm_cpuid_entry2 e = c->entries[i];
            if (e.function >= 0x40000000 && e.function < 0x40010000)
                continue;
            if (e.function == 1) {
                e.ecx &= ~CPUID1_ECX_X2APIC;
                e.edx &= ~CPUID1_EDX_APIC;
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
        c->entries[w++] = (struct kvm_cpuid_entry2){ .function = VMC_CPUID_HYPERCALL,
                                                     .eax = 1,
                                                     .ebx = VMC_MSR_HYPERCALL_PAGE };
        c->nent = w;
        *out = c;
        return 0;
    }
    return -E2BIG;
}
