/* SPDX-License-Identifier: MIT */
/* Guest test: exit with the status given as the first argument. */
#include "vmcall/guest.h"

int main(int argc, char **argv)
{
    if (argc > 1)
        printf("argc=%d\n", argc);
    return argc > 1 ? (int)strtoul(argv[1], NULL, 0) : 0;
}
