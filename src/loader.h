/* SPDX-License-Identifier: MIT */
/* Guest image loaders over guest memory (no KVM needed: unit-tested on plain memory). */
#ifndef VMCALL_SRC_LOADER_H
#define VMCALL_SRC_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmc_mem;

struct vmc_image {
    uint64_t entry, start, end;
};
/* A static ELF (ELF64 x86-64, or ELF32 i386 when elf32), validated whole before a byte is copied. On
 * failure err names the file and the problem; -ENOEXEC for a malformed or unsupported file. */
int vmc_load_elf_fd(const struct vmc_mem *mem, int fd, const char *name, bool elf32, struct vmc_image *img,
                    char *err, size_t errlen);
int vmc_load_flat_fd(const struct vmc_mem *mem, int fd, const char *name, uint64_t gpa, struct vmc_image *img,
                     char *err, size_t errlen);

#endif /* VMCALL_SRC_LOADER_H */
