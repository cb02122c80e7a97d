/* SPDX-License-Identifier: MIT */
/* vmcall command-line tool: subcommand table and the `run` command, a thin client of libvmcall. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmcall/abi.h"
#include "vmcall/vmcall.h"

/* Exit statuses, as documented in the README (timeout(1) uses 124-126 the same way). */
enum { EXIT_GUEST_MAX = 123, EXIT_TIMEOUT = 124, EXIT_VMM = 125, EXIT_CRASH = 126 };

static void usage_main(FILE *f)
{
    fprintf(f, "usage: vmcall [--help] [--version] <command> [<args>]\n"
               "\n"
               "commands:\n"
               "  run      run a guest in a new micro-VM (vmcall run --help)\n"
               "\n"
               "options:\n"
               "  -h, --help     show this help\n"
               "  -V, --version  show the version and the guest ABI version\n");
}

static void usage_run(FILE *f)
{
    fprintf(
        f,
        "usage: vmcall run [options] GUEST [-- ARGS...]\n"
        "\n"
        "Run GUEST, a static x86-64 ELF64 executable, in a new micro-VM. ARGS are passed to the guest\n"
        "through the boot info (argc/argv and a space-joined command line).\n"
        "\n"
        "options:\n"
        "  -m, --mem SIZE       guest RAM, with K/M/G suffix; a multiple of 2M from 2M to 3G (default 64M)\n"
        "  -u, --user           start the guest at CPL3 (user mode) instead of CPL0\n"
        "  -f, --flat ADDR      GUEST is a raw binary: load it at guest-physical ADDR and enter it there\n"
        "                       (ADDR >= 0x100000, decimal or 0x-prefixed hex)\n"
        "  -t, --timeout SECS   stop the guest after SECS seconds (fractions allowed)\n"
        "  -s, --stats          when the VM ends, print exit counts and timings per reason, per port and\n"
        "                       per hypercall to stderr\n"
        "      --mode 64|32     64-bit long mode (default), or 32-bit protected mode for an ELF32 guest\n"
        "      --abi kvm|xen    hypercall argument registers: KVM's RBX,RCX,RDX,RSI,RDI (default) or\n"
        "                       Xen's RDI,RSI,RDX,R10,R8\n"
        "      --allow-hypercalls LIST\n"
        "                       allow only these hypercalls (comma-separated names or numbers, e.g.\n"
        "                       console_write,sched_op); others return -EPERM and are counted\n"
        "      --mem-max SIZE   RAM the guest may reach with memory_op populate (default: --mem)\n"
        "      --disk FILE[,ro] attach FILE as the block device (a multiple of 512 bytes); ro: read-only\n"
        "      --io-default pass|ignore|deny\n"
        "                       what ports no device claims do: pass (default: reads all-ones, writes\n"
        "                       dropped), ignore (the same, counted as ignored), deny (#GP in the guest)\n"
        "      --io-allow PORTS, --io-ignore PORTS, --io-deny PORTS\n"
        "                       per-port policy, e.g. 0x70-0x71,0x80 (ranges inclusive); later options win.\n"
        "                       A multi-byte access takes its strictest port; one wrapping past 0xffff is\n"
        "                       denied. In user mode allow/ignore also open the ports for CPL3\n"
        "      --msr-deny LIST, --msr-allow LIST\n"
        "                       MSR indices (comma-separated) whose RDMSR/WRMSR raise #GP, or that KVM\n"
        "                       handles as usual (the default)\n"
        "      --cpuid LEAF[.SUB]=EAX:EBX:ECX:EDX\n"
        "                       override or add a CPUID leaf (hex or decimal numbers); VMX and SVM stay\n"
        "                       hidden. CPUID at CPL3 is not trapped on some hosts: test from kernel mode\n"
        "      --dump-vmcs      when the VM stops, print each vCPU's control block (guest state, host\n"
        "                       state, execution/exit/entry controls, last exit) to stderr, one\n"
        "                       'area.field value' line per field\n"
        "  -c, --vcpus N        N vCPUs (1-64, default 1), one host thread each; vCPU 0 starts at the "
        "entry,\n"
        "                       the others when the guest starts them (vcpu_op up)\n"
        "  -h, --help           show this help\n"
        "\n"
        "The console (COM1 at 0x3f8 and the debug port 0xe9) is connected to stdin/stdout.\n"
        "\n"
        "exit status:\n"
        "  0-123  the guest's exit status (a larger guest status is reported and becomes 123)\n"
        "  124    the guest timed out (--timeout)\n"
        "  125    usage, input or VMM error (bad option, unreadable or malformed guest, no /dev/kvm)\n"
        "  126    the guest crashed; a report is printed on stderr\n");
}

static void bad_value(const char *opt, const char *arg, const char *what)
{
    fprintf(stderr, "vmcall run: %s %s: %s\n", opt, arg, what);
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == 0)
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    case 0:
        break;
    default:
        return -1;
    }
    if (*end == 'i' || *end == 'B') /* tolerate "MiB"/"MB" spellings */
        end += (end[0] == 'i' && end[1] == 'B') ? 2 : 1;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == 0)
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_policy(const char *s)
{
    return !strcmp(s, "pass")     ? VMC_IO_PASS
           : !strcmp(s, "ignore") ? VMC_IO_IGNORE
           : !strcmp(s, "deny")   ? VMC_IO_DENY
                                  : -1;
}

/* "0x40000100=1:2:3:4" or "7.0=...": every number in C syntax (0x for hex). */
static int parse_cpuid(const char *arg, struct vmc_cpuid_leaf *out)
{
    char *end;
    uint64_t v[6] = { 0 };
    const char *p = arg;
    for (int i = 0; i < 6; i++) {
        if (*p == '-' || !*p)
            return -1;
        errno = 0;
        v[i] = strtoull(p, &end, 0);
        if (errno || end == p || v[i] > UINT32_MAX)
            return -1;
        char want = i == 0 ? (*end == '.' ? '.' : '=') : i == 1 ? '=' : i < 5 ? ':' : 0;
        if (i == 0 && *end == '=')
            i++; /* no subleaf */
        if (*end != want)
            return -1;
        p = end + (want != 0);
    }
    *out = (struct vmc_cpuid_leaf){ (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2],
                                    (uint32_t)v[3], (uint32_t)v[4], (uint32_t)v[5] };
    return 0;
}

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
    uint64_t flat_addr;
    uint32_t allow[VMC_HYPERCALL_NR_MAX];
    size_t nallow, nio, nmsr, ncpuid;
    char *disk;
    struct io_rule io[MAX_RULES];
    struct msr_rule msr[MAX_RULES];
    struct vmc_cpuid_leaf cpuid[MAX_RULES];
};

/* fn(token, ctx) for each comma-separated token of list, until one fails (-1). */
static int each_token(const char *list, int (*fn)(char *tok, void *ctx), void *ctx)
{
    char *copy = strdup(list), *save = NULL;
    int rc = copy ? 0 : -1;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && rc == 0;
         tok = strtok_r(NULL, ",", &save))
        rc = fn(tok, ctx);
    free(copy);
    return rc;
}

struct list_ctx {
    struct run_opts *o;
    int policy;
};

/* "0x70-0x71,0x80": ports or inclusive ranges, applied in order. */
static int port_token(char *tok, void *ctx)
{
    struct list_ctx *c = ctx;
    char *dash = strchr(tok + 1, '-');
    uint64_t first, last;
    if (dash)
        *dash = 0;
    if (parse_u64(tok, &first) || (dash ? parse_u64(dash + 1, &last) : (last = first, 0)) || first > last ||
        last > 0xffff || c->o->nio >= MAX_RULES)
        return -1;
    c->o->io[c->o->nio++] =
        (struct io_rule){ (uint32_t)first, (uint32_t)last, (enum vmc_io_policy)c->policy };
    return 0;
}

static int msr_token(char *tok, void *ctx)
{
    struct list_ctx *c = ctx;
    uint64_t idx;
    if (parse_u64(tok, &idx) != 0 || idx > UINT32_MAX || c->o->nmsr >= MAX_RULES)
        return -1;
    c->o->msr[c->o->nmsr++] = (struct msr_rule){ (uint32_t)idx, (enum vmc_msr_policy)c->policy };
    return 0;
}

static int hypercall_token(char *tok, void *ctx)
{
    struct list_ctx *c = ctx;
    int nr = vmc_hypercall_lookup(tok);
    if (nr < 0 || c->o->nallow >= VMC_HYPERCALL_NR_MAX) {
        fprintf(stderr, "vmcall run: --allow-hypercalls: unknown hypercall '%s'\n", tok);
        return -1;
    }
    c->o->allow[c->o->nallow++] = (uint32_t)nr;
    return 0;
}

static int parse_list(const char *arg, int (*fn)(char *tok, void *ctx), struct run_opts *o, int policy)
{
    struct list_ctx c = { o, policy };
    return each_token(arg, fn, &c);
}

static int parse_timeout(const char *arg, uint64_t *ns)
{
    char *end;
    double secs = strtod(arg, &end);
    if (*end || end == arg || !isfinite(secs) || secs <= 0 || secs > 1e9)
        return -1;
    *ns = (uint64_t)(secs * 1e9);
    if (!*ns)
        *ns = 1;
    return 0;
}

static int parse_disk(const char *arg, struct run_opts *o)
{
    free(o->disk);
    o->disk = strdup(arg);
    if (!o->disk)
        return -1;
    char *comma = strrchr(o->disk, ',');
    if (comma && !strcmp(comma, ",ro")) {
        *comma = 0;
        o->cfg.disk_readonly = true;
    } else if (comma && !strcmp(comma, ",rw")) {
        *comma = 0;
    }
    o->cfg.disk_path = o->disk;
    return 0;
}

/* Options that shape the machine. 0: taken, -1: a bad value (reported), 1: not one of these. */
static int machine_option(int c, const char *arg, struct run_opts *o)
{
    struct vmc_config *cfg = &o->cfg;
    uint64_t n;
    switch (c) {
    case 'm':
        return parse_size(arg, &cfg->mem_size) ? (bad_value("--mem", arg, "not a size (e.g. 64M, 1G)"), -1)
                                               : 0;
    case 'X':
        return parse_size(arg, &cfg->mem_max) || !cfg->mem_max
                   ? (bad_value("--mem-max", arg, "not a size (e.g. 128M)"), -1)
                   : 0;
    case 'u':
        cfg->user_mode = true;
        return 0;
    case 'f':
        o->flat = true;
        return parse_u64(arg, &o->flat_addr) ? (bad_value("--flat", arg, "not an address"), -1) : 0;
    case 'M':
        if (strcmp(arg, "64") && strcmp(arg, "32"))
            return bad_value("--mode", arg, "must be 64 or 32"), -1;
        cfg->mode = (uint32_t)atoi(arg);
        return 0;
    case 'c':
        if (parse_u64(arg, &n) != 0 || n < 1 || n > VMC_VCPU_MAX) {
            fprintf(stderr, "vmcall run: --vcpus %s: must be 1 to %u\n", arg, VMC_VCPU_MAX);
            return -1;
        }
        cfg->vcpus = (uint32_t)n;
        return 0;
    case 'D':
        return parse_disk(arg, o);
    default:
        return 1;
    }
}

/* Options that shape what the guest may do and what is reported. */
static int control_option(int c, const char *arg, struct run_opts *o)
{
    struct vmc_config *cfg = &o->cfg;
    int p;
    switch (c) {
    case 't':
        return parse_timeout(arg, &cfg->timeout_ns)
                   ? (bad_value("--timeout", arg, "not a positive number of seconds"), -1)
                   : 0;
    case 's':
        cfg->stats = true;
        return 0;
    case 'V':
        o->dump_vmcs = true;
        return 0;
    case 'A':
        if (strcmp(arg, "kvm") && strcmp(arg, "xen"))
            return bad_value("--abi", arg, "must be kvm or xen"), -1;
        cfg->hypercall_abi = !strcmp(arg, "xen") ? VMC_HCABI_XEN : VMC_HCABI_KVM;
        return 0;
    case 'L':
        o->restrict_calls = true;
        return parse_list(arg, hypercall_token, o, 0);
    case 'I':
        if ((p = parse_policy(arg)) < 0)
            return bad_value("--io-default", arg, "must be pass, ignore or deny"), -1;
        cfg->io_default = (uint32_t)p;
        return 0;
    case 'P':
    case 'G':
    case 'N':
        if (parse_list(arg, port_token, o,
                       c == 'P'   ? VMC_IO_PASS
                       : c == 'G' ? VMC_IO_IGNORE
                                  : VMC_IO_DENY) == 0)
            return 0;
        return bad_value(c == 'P'   ? "--io-allow"
                         : c == 'G' ? "--io-ignore"
                                    : "--io-deny",
                         arg, "not a port list (e.g. 0x70-0x71,0x80)"),
               -1;
    case 'R':
    case 'W':
        if (parse_list(arg, msr_token, o, c == 'R' ? VMC_MSR_DENY : VMC_MSR_ALLOW) == 0)
            return 0;
        return bad_value(c == 'R' ? "--msr-deny" : "--msr-allow", arg, "not a list of MSR indices"), -1;
    case 'C':
        if (o->ncpuid >= MAX_RULES || parse_cpuid(arg, &o->cpuid[o->ncpuid]) != 0)
            return bad_value("--cpuid", arg, "expected LEAF[.SUB]=EAX:EBX:ECX:EDX"), -1;
        o->ncpuid++;
        return 0;
    default:
        return 1;
    }
}

static const struct option run_options[] = {
    { "mem", required_argument, NULL, 'm' },
    { "user", no_argument, NULL, 'u' },
    { "flat", required_argument, NULL, 'f' },
    { "timeout", required_argument, NULL, 't' },
    { "stats", no_argument, NULL, 's' },
    { "help", no_argument, NULL, 'h' },
    { "mode", required_argument, NULL, 'M' },
    { "abi", required_argument, NULL, 'A' },
    { "allow-hypercalls", required_argument, NULL, 'L' },
    { "mem-max", required_argument, NULL, 'X' },
    { "disk", required_argument, NULL, 'D' },
    { "vcpus", required_argument, NULL, 'c' },
    { "io-default", required_argument, NULL, 'I' },
    { "io-allow", required_argument, NULL, 'P' },
    { "io-ignore", required_argument, NULL, 'G' },
    { "io-deny", required_argument, NULL, 'N' },
    { "msr-deny", required_argument, NULL, 'R' },
    { "msr-allow", required_argument, NULL, 'W' },
    { "cpuid", required_argument, NULL, 'C' },
    { "dump-vmcs", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

/* Fill o from the command line. Returns -1 to go on, or the status to exit with. */
static int parse_run(int argc, char **argv, struct run_opts *o)
{
    vmc_config_init(&o->cfg);
    o->cfg.console_in_fd = 0;
    o->cfg.console_out_fd = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+m:uf:t:shM:A:L:X:D:c:I:P:G:N:R:W:C:V", run_options, NULL)) != -1) {
        if (c == 'h') {
            usage_run(stdout);
            return 0;
        }
        int rc = machine_option(c, optarg, o);
        if (rc == 1)
            rc = control_option(c, optarg, o);
        if (rc == 1)
            fprintf(stderr, "vmcall run: try 'vmcall run --help'\n");
        if (rc != 0)
            return EXIT_VMM;
    }
    if (optind >= argc) {
        fprintf(stderr, "vmcall run: missing GUEST (try 'vmcall run --help')\n");
        return EXIT_VMM;
    }
    o->guest = argv[optind++];
    if (optind < argc) {
        if (strcmp(argv[optind], "--") != 0) {
            fprintf(stderr, "vmcall run: unexpected argument '%s' (guest arguments go after --)\n",
                    argv[optind]);
            return EXIT_VMM;
        }
        optind++;
        o->cfg.argc = argc - optind;
        o->cfg.argv = (const char *const *)&argv[optind];
    }
    return -1;
}

/* Policies, then the image: anything refused here is a usage error. */
static int apply_run(struct vmc_vm *vm, const struct run_opts *o)
{
    int rc = o->restrict_calls ? vmc_vm_allow_hypercalls(vm, o->allow, o->nallow) : 0;
    for (size_t i = 0; i < o->nio && rc == 0; i++)
        rc = vmc_vm_set_io_policy(vm, (uint16_t)o->io[i].first, o->io[i].last - o->io[i].first + 1u,
                                  o->io[i].policy);
    for (size_t i = 0; i < o->ncpuid && rc == 0; i++)
        rc = vmc_vm_set_cpuid(vm, &o->cpuid[i]);
    for (size_t i = 0; i < o->nmsr && rc == 0; i++)
        rc = vmc_vm_set_msr_policy(vm, o->msr[i].index, o->msr[i].policy);
    if (rc == 0)
        rc = o->flat ? vmc_vm_load_flat(vm, o->guest, o->flat_addr) : vmc_vm_load_elf(vm, o->guest);
    return rc;
}

/* What the run came to, on stderr, and the exit status (README: exit statuses). */
static int report_run(struct vmc_vm *vm, int rc, const struct vmc_result *res, const struct run_opts *o)
{
    int status = EXIT_VMM;
    if (rc < 0) {
        fprintf(stderr, "vmcall: %s\n", vmc_vm_strerror(vm));
    } else if (res->stop == VMC_STOP_EXIT) {
        status = (int)res->status;
        if (res->status > EXIT_GUEST_MAX) {
            fprintf(stderr, "vmcall: guest exit status %" PRIu32 " is above %d; exiting with %d\n",
                    res->status, EXIT_GUEST_MAX, EXIT_GUEST_MAX);
            status = EXIT_GUEST_MAX;
        }
    } else if (res->stop == VMC_STOP_CRASH) {
        vmc_result_print(res, stderr);
        status = EXIT_CRASH;
    } else {
        fprintf(stderr, "vmcall: %s\n", res->summary);
        status = res->stop == VMC_STOP_TIMEOUT ? EXIT_TIMEOUT : EXIT_VMM;
    }
    if (o->cfg.stats)
        vmc_vm_print_stats(vm, stderr);
    for (uint32_t i = 0; o->dump_vmcs && vmc_vm_vcpu(vm, i); i++) {
        struct vmc_vmcs v;
        if (vmc_vcpu_get_vmcs(vmc_vm_vcpu(vm, i), &v) == 0)
            vmc_vmcs_print(&v, stderr);
    }
    return status;
}

static int run_vm(const struct run_opts *o)
{
    char err[256];
    struct vmc_kvm *kvm;
    struct vmc_vm *vm;
    if (vmc_kvm_open(&kvm, err, sizeof(err)) < 0) {
        fprintf(stderr, "vmcall: %s\n", err);
        return EXIT_VMM;
    }
    if (vmc_vm_create(kvm, &o->cfg, &vm, err, sizeof(err)) < 0) {
        fprintf(stderr, "vmcall: %s\n", err);
        vmc_kvm_close(kvm);
        return EXIT_VMM;
    }
    int status = EXIT_VMM;
    if (apply_run(vm, o) < 0) {
        fprintf(stderr, "vmcall: %s\n", vmc_vm_strerror(vm));
    } else {
        struct vmc_result res;
        int rc = vmc_vm_run(vm, &res);
        fflush(stdout);
        status = report_run(vm, rc, &res, o);
    }
    vmc_vm_destroy(vm);
    vmc_kvm_close(kvm);
    return status;
}

static int cmd_run(int argc, char **argv)
{
    struct run_opts *o = calloc(1, sizeof(*o));
    if (!o)
        return EXIT_VMM;
    int status = parse_run(argc, argv, o);
    if (status < 0)
        status = run_vm(o);
    free(o->disk);
    free(o);
    return status;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    { "run", cmd_run },
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_VMM;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage_main(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
        printf("vmcall %s (guest ABI %u)\n", VMC_VERSION, VMC_ABI_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vmcall: unknown command '%s' (try 'vmcall --help')\n", argv[1]);
    return EXIT_VMM;
}
