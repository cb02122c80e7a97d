/* SPDX-License-Identifier: MIT */
/* Guest test for the MSR policy: runs the MSR accesses named by its arguments (rd:0xc0000102,
 * wr:0xc0000102=0x1234) and prints what each did; its own #GP handler records denied ones. */
#include "vmcall/guest.h"

static volatile uint64_t resume, fault_ip, faults;

__attribute__((interrupt)) static void on_gp(struct vmcg_iframe *f, unsigned long error)
{
    (void)error;
    fault_ip = f->ip;
    faults++;
    f->ip = resume;
}

static void run(const char *op)
{
    char *end;
    uint32_t index = (uint32_t)strtoul(op + 3, &end, 0);
    uint64_t before = faults, at, lo = 0, hi = 0;
    if (!strncmp(op, "wr:", 3) && *end == '=') {
        uint64_t v = strtoul(end + 1, 0, 0);
        lo = (uint32_t)v;
        hi = v >> 32;
        __asm__ volatile("lea 1f(%%rip), %[at]\n\tmov %[at], %[res]\n\tlea 2f(%%rip), %[at]\n2:\twrmsr\n1:"
                         : [at] "=&r"(at), [res] "=m"(resume)
                         : "c"(index), "a"(lo), "d"(hi)
                         : "memory");
    } else if (!strncmp(op, "rd:", 3)) {
        __asm__ volatile("lea 1f(%%rip), %[at]\n\tmov %[at], %[res]\n\tlea 2f(%%rip), %[at]\n2:\trdmsr\n1:"
                         : [at] "=&r"(at), [res] "=m"(resume), "+a"(lo), "+d"(hi)
                         : "c"(index)
                         : "memory");
    } else {
        printf("bad op %s\n", op);
        return;
    }
    if (faults != before)
        printf("%s -> #GP at the instruction=%d\n", op, fault_ip == at);
    else if (op[0] == 'r')
        printf("%s -> 0x%lx\n", op, (unsigned long)(hi << 32 | lo));
    else
        printf("%s -> ok\n", op);
}

int main(int argc, char **argv)
{
    vmcg_set_handler(13, (void *)on_gp);
    for (int i = 1; i < argc; i++)
        run(argv[i]);
    return 0;
}
