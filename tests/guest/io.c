/* SPDX-License-Identifier: MIT */
/* Guest test for the I/O policy: runs the port accesses named by its arguments (outb:0x80, rep_insw:0x6e,
 * ...) and prints what each did. In kernel mode its own #GP handler records the fault and resumes after
 * the instruction; built for user mode (user_io.c) a #GP is left to the VMM's crash report. A denied
 * access must have no effect at all: RAX, RCX, RSI, RDI and memory as before, #GP(0) at the instruction. */
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

/* The registers an access starts from: string I/O reads src (RSI) or writes dst (RDI), RCX times with
 * REP. `at` receives the instruction's address, `resume` the address after it. */
struct regs {
    unsigned long ax, cx, si, di, at;
};
static char src[16] = "LEAKED-TO-PORT!", dst[16];

#define OP(name, insn)                                                                                       \
    static void name(struct regs *r, uint16_t port)                                                          \
    {                                                                                                        \
        __asm__ volatile(                                                                                    \
            "lea 1f(%%rip), %[at]\n\tmov %[at], %[res]\n\tlea 2f(%%rip), %[at]\n2:\t" insn "\n1:"            \
            : [at] "=&r"(r->at), [res] "=m"(resume), "+a"(r->ax), "+c"(r->cx), "+S"(r->si), "+D"(r->di)      \
            : "d"(port)                                                                                      \
            : "memory");                                                                                     \
    }
OP(outb_imm, "outb %%al, $0x80")
OP(outb, "outb %%al, %%dx")
OP(outw, "outw %%ax, %%dx")
OP(outl, "outl %%eax, %%dx")
OP(inb, "inb %%dx, %%al")
OP(inw, "inw %%dx, %%ax")
OP(inl, "inl %%dx, %%eax")
OP(outsb, "outsb")
OP(outsw, "outsw")
OP(outsl, "outsl")
OP(insb, "insb")
OP(insw, "insw")
OP(insl, "insl")
OP(rep_outsb, "rep outsb")
OP(rep_outsw, "rep outsw")
OP(rep_outsl, "rep outsl")
OP(rep_insb, "rep insb")
OP(rep_insw, "rep insw")
OP(rep_insl, "rep insl")

static const struct {
    const char *name;
    void (*fn)(struct regs *r, uint16_t port);
} ops[] = {
    { "outb_imm", outb_imm },
    { "outb", outb },
    { "outw", outw },
    { "outl", outl },
    { "inb", inb },
    { "inw", inw },
    { "inl", inl },
    { "outsb", outsb },
    { "outsw", outsw },
    { "outsl", outsl },
    { "insb", insb },
    { "insw", insw },
    { "insl", insl },
    { "rep_outsb", rep_outsb },
    { "rep_outsw", rep_outsw },
    { "rep_outsl", rep_outsl },
    { "rep_insb", rep_insb },
    { "rep_insw", rep_insw },
    { "rep_insl", rep_insl },
};

static void report(const char *op, int string, const struct regs *in, const struct regs *out,
                   uint64_t faults_before)
{
    if (faults != faults_before) {
        int regs = out->ax == in->ax && out->cx == in->cx && out->si == in->si && out->di == in->di;
        int mem = dst[0] == (char)0xcc && !memcmp(dst, dst + 1, sizeof(dst) - 1);
        printf("%s -> #GP(%lu) at the instruction=%d, registers kept=%d, memory kept=%d\n", op,
               (unsigned long)fault_err, fault_ip == out->at, regs, mem);
    } else if (string) {
        printf("%s -> ok rcx=%lu rsi+%lu rdi+%lu dst=%02x%02x%02x%02x%02x%02x%02x%02x%02x\n", op, out->cx,
               out->si - in->si, out->di - in->di, (uint8_t)dst[0], (uint8_t)dst[1], (uint8_t)dst[2],
               (uint8_t)dst[3], (uint8_t)dst[4], (uint8_t)dst[5], (uint8_t)dst[6], (uint8_t)dst[7],
               (uint8_t)dst[8]);
    } else if (op[0] == 'i') {
        printf("%s -> 0x%lx\n", op, out->ax);
    } else {
        printf("%s -> ok\n", op);
    }
}

static void run(const char *op)
{
    const char *colon = strchr(op, ':');
    size_t len = colon ? (size_t)(colon - op) : 0;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (!colon || strlen(ops[i].name) != len || strncmp(op, ops[i].name, len))
            continue;
        uint16_t port = (uint16_t)strtoul(colon + 1, 0, 0);
        memset(dst, 0xcc, sizeof(dst));
        /* REP forms run 4 iterations (at most 16 bytes); single forms ignore RCX. */
        struct regs in = { 0x5a5a5a5a5a5a5a5aul, 4, (unsigned long)src, (unsigned long)dst, 0 }, out = in;
        uint64_t before = faults;
        ops[i].fn(&out, port);
        report(op, i >= 7 /* the string forms */, &in, &out, before);
        return;
    }
    printf("bad op %s\n", op);
}

int main(int argc, char **argv)
{
#ifndef IO_USER
    vmcg_set_handler(13, (void *)on_gp);
#endif
    for (int i = 1; i < argc; i++)
        run(argv[i]);
    return 0;
}
