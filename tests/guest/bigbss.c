/* SPDX-License-Identifier: MIT */
/* Guest test: a large zero-filled BSS next to initialised data, in a small VM. */
#include "vmcall/guest.h"

static char big[6 << 20];
static int answer = 42;
static const char greeting[] = "data ok";

int main(void)
{
    unsigned long nonzero = 0;
    for (unsigned long i = 0; i < sizeof(big); i += 4096)
        nonzero += big[i] != 0;
    big[sizeof(big) - 1] = 1;
    printf("bss %lu MiB, %lu nonzero pages, answer=%d, %s\n", (unsigned long)(sizeof(big) >> 20), nonzero,
           answer, greeting);
    return 0;
}
