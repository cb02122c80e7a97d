/* SPDX-License-Identifier: MIT */
/* Guest test: the smallest useful guest, a fixed greeting and status 0. */
#include "vmcall/guest.h"

int main(void)
{
    printf("Hello, world!\n");
    return 0;
}
