/* SPDX-License-Identifier: MIT */
/* Guest image loaders over guest memory (no KVM needed: unit-tested on plain memory). */
#ifndef VMCALL_SRC_LOADER_H
#define VMCALL_SRC_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmcall/vmcall.h"

struct vmc_mem;

/* The mode of a Xen PVH image (beside VMC_GUEST_*): ELF32 or ELF64, EM_X86_64 or EM_386, with Xen's
 * XEN_ELFNOTE_PHYS32_ENTRY note, entered there. */
#define VMC_LOAD_PVH 3u
/* A static x86-64 Linux executable (ET_EXEC, no PT_INTERP): what would be refused as "built for Linux". */
#define VMC_LOAD_LINUX 4u
#define VMC_LINUX_PIE_BASE 0x400000u /* where a static PIE goes: where non-PIE programs usually start */

#define VMC_IMAGE_SEGS 16 /* loaded segments kept with their rights; more share the last one's */
struct vmc_image {
    uint64_t entry, start, end;
    uint64_t phdr;         /* guest address of the program headers (Linux's AT_PHDR), 0 if not loaded */
    uint32_t phnum, phent; /* AT_PHNUM, AT_PHENT */
    /* The loaded segments, [start, end) with ELF's PF_R/PF_W/PF_X, for a personality that maps them
     * with those rights; exec_stack: PT_GNU_STACK asks for an executable stack, or there is none (what
     * Linux assumes of a program that does not say). */
    struct vmc_image_seg {
        uint64_t start, end;
        uint32_t flags;
    } seg[VMC_IMAGE_SEGS];
    uint32_t nseg;
    bool exec_stack;
};
/* A static ELF for a VM whose guests run in `mode` (VMC_GUEST_*: ELF32 i386 for VMC_GUEST_32, else ELF64
 * x86-64), validated whole before a byte is copied: its guest note must agree with the mode, and an
 * image without one must not be a Linux program. On failure err names the file and the problem;
 * -ENOEXEC for a malformed or unsupported file. */
int vmc_load_elf_fd(const struct vmc_mem *mem, int fd, const char *name, uint32_t mode, struct vmc_image *img,
                    char *err, size_t errlen);
/* What the image says about itself (vmc_guest_info). */
int vmc_elf_info_fd(int fd, const char *name, struct vmc_guest_info *gi, char *err, size_t errlen);
int vmc_load_flat_fd(const struct vmc_mem *mem, int fd, const char *name, uint64_t gpa, struct vmc_image *img,
                     char *err, size_t errlen);

#endif /* VMCALL_SRC_LOADER_H */
