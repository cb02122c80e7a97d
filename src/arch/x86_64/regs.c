/* SPDX-License-Identifier: MIT */
/* Register state conversions, hypercall register conventions and hypercall-page stubs. */
#include <cpuid.h>
#include <string.h>

#include "regs.h"

void vmc_x86_regs_out(struct vmc_regs *o, const struct kvm_regs *r, const struct kvm_sregs *s)
{
#define FROM_REGS(n) o->n = r->n;
#define FROM_SREGS(n) o->n = s->n;
    VMC_X86_GPRS(FROM_REGS)
    VMC_X86_CRS(FROM_SREGS)
    o->cs = s->cs.selector;
    o->ss = s->ss.selector;
    o->cpl = vmc_x86_cpl(s);
}

/* VMX access-rights layout (SDM vol. 3C 25.4.1, table 25-2) <-> KVM's unpacked segment. */
static uint32_t access_rights(const struct kvm_segment *s)
{
    return (s->type & 0xfu) | (uint32_t)(s->s & 1) << 4 | (uint32_t)(s->dpl & 3) << 5 |
           (uint32_t)(s->present & 1) << 7 | (uint32_t)(s->avl & 1) << 12 | (uint32_t)(s->l & 1) << 13 |
           (uint32_t)(s->db & 1) << 14 | (uint32_t)(s->g & 1) << 15 | (uint32_t)(s->unusable & 1) << 16;
}

static void seg_out(struct vmc_vmcs_segment *o, const struct kvm_segment *s)
{
    *o = (struct vmc_vmcs_segment){ s->selector, s->base, s->limit, access_rights(s) };
}

static void seg_in(struct kvm_segment *s, const struct vmc_vmcs_segment *i)
{
    uint32_t ar = i->access_rights;
    *s = (struct kvm_segment){ .base = i->base,
                               .limit = i->limit,
                               .selector = i->selector,
                               .type = ar & 0xf,
                               .s = (ar >> 4) & 1,
                               .dpl = (ar >> 5) & 3,
                               .present = (ar >> 7) & 1,
                               .avl = (ar >> 12) & 1,
                               .l = (ar >> 13) & 1,
                               .db = (ar >> 14) & 1,
                               .g = (ar >> 15) & 1,
                               .unusable = (ar >> 16) & 1 };
}

/* Interruptibility state (SDM vol. 3C 25.4.2, table 25-3): bit 0 STI, bit 1 MOV SS, bit 3 NMI blocking. */
#define INTR_STI 1u
#define INTR_MOV_SS 2u
#define INTR_NMI 8u

void vmc_x86_vmcs_guest_out(struct vmc_vmcs *v, const struct kvm_regs *r, const struct kvm_sregs *s,
                            const struct kvm_vcpu_events *e)
{
    typeof(v->guest) *g = &v->guest;
#define GUEST_FROM_REGS(n) g->n = r->n;
#define GUEST_FROM_SREGS(n) g->n = s->n;
    VMC_X86_GPRS(GUEST_FROM_REGS)
    VMC_X86_CRS(GUEST_FROM_SREGS)
    seg_out(&g->es, &s->es), seg_out(&g->cs, &s->cs), seg_out(&g->ss, &s->ss);
    seg_out(&g->ds, &s->ds), seg_out(&g->fs, &s->fs), seg_out(&g->gs, &s->gs);
    seg_out(&g->ldtr, &s->ldt), seg_out(&g->tr, &s->tr);
    g->gdtr_base = s->gdt.base, g->gdtr_limit = s->gdt.limit;
    g->idtr_base = s->idt.base, g->idtr_limit = s->idt.limit;
    g->interruptibility = (e->interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS ? INTR_MOV_SS : 0) |
                          (e->interrupt.shadow & KVM_X86_SHADOW_INT_STI ? INTR_STI : 0) |
                          (e->nmi.masked ? INTR_NMI : 0);
}

void vmc_x86_vmcs_guest_in(const struct vmc_vmcs *v, struct kvm_regs *r, struct kvm_sregs *s,
                           struct kvm_vcpu_events *e)
{
    const typeof(v->guest) *g = &v->guest;
#define GUEST_TO_REGS(n) r->n = g->n;
#define GUEST_TO_SREGS(n) s->n = g->n;
    VMC_X86_GPRS(GUEST_TO_REGS)
    VMC_X86_CRS(GUEST_TO_SREGS)
    seg_in(&s->es, &g->es), seg_in(&s->cs, &g->cs), seg_in(&s->ss, &g->ss), seg_in(&s->ds, &g->ds);
    seg_in(&s->fs, &g->fs), seg_in(&s->gs, &g->gs), seg_in(&s->ldt, &g->ldtr), seg_in(&s->tr, &g->tr);
    s->gdt.base = g->gdtr_base, s->gdt.limit = (uint16_t)g->gdtr_limit;
    s->idt.base = g->idtr_base, s->idt.limit = (uint16_t)g->idtr_limit;
    e->interrupt.shadow = (uint8_t)((g->interruptibility & INTR_STI ? KVM_X86_SHADOW_INT_STI : 0) |
                                    (g->interruptibility & INTR_MOV_SS ? KVM_X86_SHADOW_INT_MOV_SS : 0));
    e->nmi.masked = (g->interruptibility & INTR_NMI) != 0;
    e->flags = KVM_VCPUEVENT_VALID_SHADOW;
}

void vmc_x86_hc_args(const struct kvm_regs *r, const struct kvm_sregs *s, uint32_t abi,
                     struct vmc_hypercall_args *a)
{
    bool long64 = vmc_x86_long64(s);
    a->compat = !long64;
    a->cpl = vmc_x86_cpl(s);
    /* A number too large for any table must not alias a small one once narrowed. */
    uint64_t nr = long64 ? r->rax : (uint32_t)r->rax;
    a->nr = nr > UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)nr;
    if (!long64) {
        const uint64_t a32[5] = { (uint32_t)r->rbx, (uint32_t)r->rcx, (uint32_t)r->rdx, (uint32_t)r->rsi,
                                  (uint32_t)r->rdi };
        memcpy(a->args, a32, sizeof(a32));
    } else if (abi == VMC_HCABI_XEN) {
        const uint64_t ax[5] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8 };
        memcpy(a->args, ax, sizeof(ax));
    } else {
        const uint64_t ak[5] = { r->rbx, r->rcx, r->rdx, r->rsi, r->rdi };
        memcpy(a->args, ak, sizeof(ak));
    }
}

void vmc_x86_hc_set_args(struct kvm_regs *r, uint32_t abi, const struct vmc_hypercall_args *a)
{
    __u64 *dst[5] = { &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi };
    __u64 *xen[5] = { &r->rdi, &r->rsi, &r->rdx, &r->r10, &r->r8 };
    for (int i = 0; i < 5; i++) {
        __u64 *reg = !a->compat && abi == VMC_HCABI_XEN ? xen[i] : dst[i];
        *reg = a->compat ? (*reg & ~0xffffffffull) | (uint32_t)a->args[i] : a->args[i];
    }
}

void vmc_x86_hc_result(struct kvm_regs *r, bool compat, int64_t ret)
{
    r->rax = compat ? (uint32_t)ret : (uint64_t)ret;
}

void vmc_x86_hypercall_page(uint8_t page[4096], uint8_t port, uint32_t poison)
{
    memset(page, 0xcc, 4096);
    for (uint32_t n = 0; n < 4096 / VMC_HYPERCALL_STUB_SIZE; n++) {
        uint8_t *p = page + n * VMC_HYPERCALL_STUB_SIZE;
        if (n == poison) {
            p[0] = 0x0f; /* ud2 */
            p[1] = 0x0b;
            continue;
        }
        p[0] = 0xb8; /* mov $n, %eax */
        memcpy(p + 1, &n, 4);
        p[5] = 0xe6; /* out %al, $port */
        p[6] = port;
        p[7] = 0xc3; /* ret */
    }
}

uint32_t vmc_x86_xsave_size(uint64_t *features)
{
    uint32_t size = VMC_X86_XSAVE_LEGACY + VMC_X86_XSAVE_HEADER;
    for (unsigned i = 2; i < 64; i++) { /* 0 and 1 (x87, SSE) are in the legacy area */
        unsigned a = 0, b = 0, c, d;
        if (!(*features & (1ull << i)))
            continue;
        if (!__get_cpuid_count(0xd, i, &a, &b, &c, &d) || a == 0 || (uint64_t)a + b > 4096) {
            *features &= ~(1ull << i);
            continue;
        }
        if (a + b > size)
            size = a + b;
    }
    return size;
}

bool vmc_x86_xsave_check(uint8_t *image, uint64_t features)
{
    uint32_t mxcsr;
    memcpy(&mxcsr, image + 24, sizeof(mxcsr)); /* MXCSR at byte 24 of the legacy area */
    mxcsr &= 0xffff;
    memcpy(image + 24, &mxcsr, sizeof(mxcsr));
    uint64_t header[VMC_X86_XSAVE_HEADER / 8];
    memcpy(header, image + VMC_X86_XSAVE_LEGACY, sizeof(header));
    if (header[0] & ~features)
        return false;
    for (unsigned i = 1; i < VMC_X86_XSAVE_HEADER / 8; i++)
        if (header[i])
            return false;
    return true;
}
