/* SPDX-License-Identifier: MIT */
/* The vmcall CLI's shared declarations: exit statuses, the run command's options and their table. */
#ifndef VMCALL_TOOLS_CLI_H
#define VMCALL_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "vmcall/vmcall.h"

/* Exit statuses, as documented in the README and vmcall(1) (timeout(1) uses 124-126 the same way). */
enum { EXIT_GUEST_MAX = 123, EXIT_TIMEOUT = 124, EXIT_VMM = 125, EXIT_CRASH = 126 };

/* Every message the CLI prints starts with this. */
#define PREFIX "vmcall: "
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define MAX_RULES 256
struct io_rule {
    uint32_t first, last;
    enum vmc_io_policy policy;
};
struct msr_rule {
    uint32_t index;
    enum vmc_msr_policy policy;
};

/* Everything `vmcall run` was asked, before anything is created. */
struct run_opts {
    struct vmc_config cfg;
    const char *guest;
    bool flat, dump_vmcs, restrict_calls;
    bool user_given, mode_given; /* --user or --mode on the command line (the guest note decides otherwise) */
    bool abi_given;              /* --abi: the personality, whatever the image's notes say */
    uint64_t flat_addr;
    char *allow[VMC_HYPERCALL_NR_MAX]; /* names or numbers, resolved once the personality is known */
    size_t nallow, nio, nmsr, ncpuid;
    char *disk;
    struct io_rule io[MAX_RULES];
    struct msr_rule msr[MAX_RULES];
    struct vmc_cpuid_leaf cpuid[MAX_RULES];
    const char *jail;
    char *root;                 /* --root's directory */
    const char *env[MAX_RULES]; /* --env NAME=VALUE */
    size_t nenv;
    long uid, gid; /* -1: not given */
};

/* An option of `vmcall run`: its names, its value's name in the help (NULL: it takes none), the help
 * text ("\n" continues it on another line), and what it does: parse (0, or -1 after printing why not),
 * or, for a flag, the bool of run_opts it sets (offset + 1) and the value. Neither: --help. */
struct run_option {
    const char *name;
    char short_name;
    const char *arg;
    const char *help;
    int (*parse)(struct run_opts *o, const char *arg);
    size_t flag;
    bool value;
};
extern const struct run_option run_options[];
extern const size_t run_noptions;

void usage_run(FILE *f);
/* Fill o from the command line: -1 to go on, or the status to exit with (0 after --help). */
int parse_run(int argc, char **argv, struct run_opts *o);
/* Create, configure, load, jail, run and report: the status to exit with. */
int run_vm(const struct run_opts *o);

#endif /* VMCALL_TOOLS_CLI_H */
