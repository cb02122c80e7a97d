/* SPDX-License-Identifier: MIT */
/* Guest test: console_read hands over what is on the console input, then 0 at its end. */
#include "vmcall/guest.h"

int main(void)
{
    for (int i = 0; i < 2; i++) {
        char buf[16];
        long n;
        while ((n = vmcg_console_read(buf, sizeof(buf) - 1)) == -VMC_EAGAIN)
            vmcg_sched_block(1000000);
        buf[n > 0 ? n : 0] = 0;
        printf("in=[%s] %ld\n", buf, n);
    }
    return 0;
}
