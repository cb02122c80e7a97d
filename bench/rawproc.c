/* SPDX-License-Identifier: MIT */
/* The whole-process floor: a minimal static program that runs a flat guest image to its first exit with
 * raw KVM (create, one memslot, one vCPU, the CPUID KVM supports, run), as `vmcall run --flat` does. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "raw.h"

int main(int argc, char **argv)
{
    static uint8_t code[65536];
    static struct {
        struct kvm_cpuid2 h;
        struct kvm_cpuid_entry2 e[256];
    } cpuid = { .h.nent = 256 };
    int img = argc > 1 ? open(argv[1], O_RDONLY | O_CLOEXEC) : -1;
    ssize_t len = img >= 0 ? read(img, code, sizeof(code)) : -1;
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int run_size = kvm >= 0 ? ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0) : -1;
    struct raw_vm r;
    if (len <= 0 || run_size <= 0 || ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0 ||
        raw_create(kvm, &cpuid.h, run_size, 64u << 20, false, code, (size_t)len, &r) ||
        ioctl(r.vcpu, KVM_RUN, 0) < 0 || r.run->exit_reason != KVM_EXIT_IO) {
        fprintf(stderr, "rawproc: failed\n");
        return 1;
    }
    raw_destroy(&r);
    return 0;
}
