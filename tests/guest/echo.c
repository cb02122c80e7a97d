/* SPDX-License-Identifier: MIT */
/* Guest test: serial echo. Reads COM1 until end of input, echoes each line with its number. */
#include "vmcall/guest.h"

int main(void)
{
    char line[128];
    size_t len = 0, total = 0;
    int lines = 0, c;
    while ((c = vmcg_getc()) != VMCG_EOF) {
        total++;
        if (c != '\n' && len < sizeof(line) - 1) {
            line[len++] = (char)c;
            continue;
        }
        line[len] = 0;
        printf("%d: %s\n", ++lines, line);
        len = 0;
    }
    if (len) {
        line[len] = 0;
        printf("%d: %s (no newline)\n", ++lines, line);
    }
    printf("eof after %zu bytes\n", total);
    return lines;
}
