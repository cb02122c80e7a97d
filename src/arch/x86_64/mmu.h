/* SPDX-License-Identifier: MIT */
/* Guest-linear memory: the page walk of every x86 paging mode, and checked copies through it. */
#ifndef VMCALL_SRC_ARCH_X86_64_MMU_H
#define VMCALL_SRC_ARCH_X86_64_MMU_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct vmc_mem;
struct iovec;

/* Paging modes (SDM vol. 3A 4.1.1, table 4-1). */
enum vmc_paging {
    VMC_PAGING_NONE,   /* CR0.PG = 0: linear = physical */
    VMC_PAGING_32,     /* 32-bit paging: 2 levels, 4 MiB pages with CR4.PSE */
    VMC_PAGING_PAE,    /* PAE: 4 PDPTEs, 2 levels below */
    VMC_PAGING_4LEVEL, /* IA-32e 4-level */
    VMC_PAGING_5LEVEL, /* IA-32e 5-level (CR4.LA57) */
};

/* How one guest access is translated: taken from the vCPU's control registers at the access. */
struct vmc_mmu {
    enum vmc_paging mode;
    uint64_t cr3;
    bool wp;  /* CR0.WP: supervisor writes honour read-only pages */
    bool nxe; /* EFER.NXE: the NX bit is in force for fetches */
    bool pse; /* CR4.PSE: 4 MiB pages in 32-bit paging */
};
void vmc_mmu_from_sregs(const struct kvm_sregs *s, struct vmc_mmu *m);

/* Access kinds: user (CPL3 rules), write, instruction fetch. */
#define VMC_ACC_WRITE 1u
#define VMC_ACC_USER 2u
#define VMC_ACC_FETCH 4u

/* Translate one linear address; -EFAULT when not present or not permitted for acc. */
int vmc_mmu_translate(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc,
                      uint64_t *gpa);
/*
 * Copy len bytes from/to linear address la. Every page is translated and checked before a byte is copied,
 * so a fault copies nothing (vmc_mmu_write adds VMC_ACC_WRITE); -EFAULT also when the range wraps.
 */
int vmc_mmu_read(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc, void *buf,
                 uint64_t len);
int vmc_mmu_write(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, unsigned acc,
                  const void *buf, uint64_t len);
/* Host memory behind [la, la+len) as at most max iovecs (pages contiguous on both sides merged), every
 * page translated and checked first; the count, or -EFAULT. */
int vmc_mmu_iov(const struct vmc_mem *mem, const struct vmc_mmu *m, uint64_t la, uint64_t len, unsigned acc,
                struct iovec *iov, int max);

#endif /* VMCALL_SRC_ARCH_X86_64_MMU_H */
