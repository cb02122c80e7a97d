/* SPDX-License-Identifier: MIT */
/* Guest test: call the embedder's hypercalls 64 (echo into a buffer) and 65 (not registered). */
#include "vmcall/guest.h"

int main(void)
{
    char buf[16] = "ping";
    long r = vmcg_hypercall3(64, (unsigned long)buf, 4, 0x77);
    printf("64=%ld buf=%s 65=%ld bad=%ld\n", r, buf, vmcg_hypercall0(65), vmcg_hypercall3(64, 0x10, 4, 0));
    return 0;
}
