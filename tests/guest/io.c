/* SPDX-License-Identifier: MIT */
/* Guest test for the I/O policy: runs the port accesses named by its arguments (outb:0x80, inl:0x6e, ...)
 * and prints what each did. In kernel mode its own #GP handler records the fault and resumes after the
 * instruction; built for user mode (user_io.c) a #GP is left to the VMM's crash report. */
#include "vmcall/guest.h"

static volatile uint64_t resume, fault_ip, fault_err, faults;

#ifndef IO_USER
__attribute__((interrupt)) static void on_gp(struct vmcg_iframe *f, unsigned long error)
{
    fault_ip = f->ip;
    fault_err = error;
    faults++;
    f->ip = resume;
}
#endif

/* One access: `at` receives the instruction's address, `resume` the address after it. */
#define ACCESS(insn, ...)                                                                                    \
    __asm__ volatile("lea 1f(%%rip), %[at]\n\tmov %[at], %[res]\n\tlea 2f(%%rip), %[at]\n2:\t" insn "\n1:"   \
                     : [at] "=&r"(at), [res] "=m"(resume), __VA_ARGS__                                       \
                     : "memory")

static void run(const char *op)
{
    const char *colon = strchr(op, ':');
    if (!colon) {
        printf("bad op %s\n", op);
        return;
    }
    uint16_t port = (uint16_t)strtoul(colon + 1, 0, 0);
    uint64_t at, before = faults;
    unsigned long val = 0x5a5a5a5a5a5a5a5aul;
    if (!strncmp(op, "outb_imm", 8) && port == 0x80)
        ACCESS("outb %%al, $0x80", "+a"(val) :);
    else if (!strncmp(op, "outb", 4))
        ACCESS("outb %%al, %%dx", "+a"(val) : "d"(port));
    else if (!strncmp(op, "outw", 4))
        ACCESS("outw %%ax, %%dx", "+a"(val) : "d"(port));
    else if (!strncmp(op, "outl", 4))
        ACCESS("outl %%eax, %%dx", "+a"(val) : "d"(port));
    else if (!strncmp(op, "inb", 3))
        ACCESS("inb %%dx, %%al", "+a"(val) : "d"(port));
    else if (!strncmp(op, "inw", 3))
        ACCESS("inw %%dx, %%ax", "+a"(val) : "d"(port));
    else if (!strncmp(op, "inl", 3))
        ACCESS("inl %%dx, %%eax", "+a"(val) : "d"(port));
    else {
        printf("bad op %s\n", op);
        return;
    }
    if (faults != before)
        printf("%s -> #GP(%lu) at the instruction=%d, rax kept=%d\n", op, (unsigned long)fault_err,
               fault_ip == at, val == 0x5a5a5a5a5a5a5a5aul);
    else if (op[0] == 'i')
        printf("%s -> 0x%lx\n", op, val);
    else
        printf("%s -> ok\n", op);
}

int main(int argc, char **argv)
{
#ifndef IO_USER
    vmcg_set_handler(13, (void *)on_gp);
#endif
    for (int i = 0; i < argc; i++)
        run(argv[i]);
    return 0;
}
