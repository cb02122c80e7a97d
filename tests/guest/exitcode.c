/* SPDX-License-Identifier: MIT */
/* Guest test: exit with the status given as the first argument. */
#include "vmcall/guest.h"

int main(int argc, char **argv)
{
    if (argc > 0)
        printf("argc=%d\n", argc);
    return argc > 0 ? (int)strtoul(argv[0], NULL, 0) : 0;
}
