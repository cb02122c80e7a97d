/* SPDX-License-Identifier: MIT */
/* Guest test: VMCG_ASSERT and VMCG_ASSERT_EQ report the file and line of a failed check and stop the VM as
 * crashed. No arguments: a plain assertion fails; "eq": an equality fails with both values. */
#include "vmcall/guest.h"

int main(int argc, char **argv)
{
    VMCG_ASSERT(argc >= 0);
    printf("before\n");
    if (argc == 2 && strcmp(argv[1], "eq") == 0)
        VMCG_ASSERT_EQ(argc + 40, 43);
    VMCG_ASSERT(argc == 2);
    printf("never\n");
    return 0;
}
