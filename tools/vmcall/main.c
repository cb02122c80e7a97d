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

#define MAX_RULES 256
struct io_rule {
    uint32_t first, last;
    enum vmc_io_policy policy;
};

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

struct msr_rule {
    uint32_t index;
    enum vmc_msr_policy policy;
};

/* "0x70-0x71,0x80": ports or inclusive ranges, applied in order. */
static int parse_ports(const char *arg, enum vmc_io_policy p, struct io_rule *rules, size_t *n)
{
    char *list = strdup(arg), *save = NULL;
    int rc = list ? 0 : -1;
    for (char *tok = list ? strtok_r(list, ",", &save) : NULL; tok && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok + 1, '-');
        uint64_t first, last;
        if (dash)
            *dash = 0;
        if (parse_u64(tok, &first) || (dash ? parse_u64(dash + 1, &last) : (last = first, 0)) ||
            first > last || last > 0xffff || *n >= MAX_RULES)
            rc = -1;
        else
            rules[(*n)++] = (struct io_rule){ (uint32_t)first, (uint32_t)last, p };
    }
    free(list);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
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
    struct vmc_config cfg;
    vmc_config_init(&cfg);
    cfg.console_in_fd = 0;
    cfg.console_out_fd = 1;
    bool flat = false;
    uint64_t flat_addr = 0;
    uint32_t allow[VMC_HYPERCALL_NR_MAX];
    size_t nallow = 0;
    bool restrict_calls = false;
    char *disk = NULL;
    struct io_rule io[MAX_RULES];
    size_t nio = 0;
    struct msr_rule msr[MAX_RULES];
    size_t nmsr = 0;
    struct vmc_cpuid_leaf cpuid[MAX_RULES];
    size_t ncpuid = 0;
    bool dump_vmcs = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+m:uf:t:shM:A:L:X:D:c:I:P:G:N:R:W:C:V", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (parse_size(optarg, &cfg.mem_size) != 0) {
                fprintf(stderr, "vmcall run: --mem %s: not a size (e.g. 64M, 1G)\n", optarg);
                return EXIT_VMM;
            }
            break;
        case 'u':
            cfg.user_mode = true;
            break;
        case 'f':
            if (parse_u64(optarg, &flat_addr) != 0) {
                fprintf(stderr, "vmcall run: --flat %s: not an address\n", optarg);
                return EXIT_VMM;
            }
            flat = true;
            break;
        case 't': {
            char *end;
            double secs = strtod(optarg, &end);
            if (*end || end == optarg || !isfinite(secs) || secs <= 0 || secs > 1e9) {
                fprintf(stderr, "vmcall run: --timeout %s: not a positive number of seconds\n", optarg);
                return EXIT_VMM;
            }
            cfg.timeout_ns = (uint64_t)(secs * 1e9);
            if (!cfg.timeout_ns)
                cfg.timeout_ns = 1;
            break;
        }
        case 's':
            cfg.stats = true;
            break;
        case 'M':
            if (strcmp(optarg, "64") && strcmp(optarg, "32")) {
                fprintf(stderr, "vmcall run: --mode %s: must be 64 or 32\n", optarg);
                return EXIT_VMM;
            }
            cfg.mode = (uint32_t)atoi(optarg);
            break;
        case 'A':
            if (!strcmp(optarg, "kvm")) {
                cfg.hypercall_abi = VMC_HCABI_KVM;
            } else if (!strcmp(optarg, "xen")) {
                cfg.hypercall_abi = VMC_HCABI_XEN;
            } else {
                fprintf(stderr, "vmcall run: --abi %s: must be kvm or xen\n", optarg);
                return EXIT_VMM;
            }
            break;
        case 'L': {
            restrict_calls = true;
            char *list = strdup(optarg), *save = NULL;
            for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                int nr = vmc_hypercall_lookup(tok);
                if (nr < 0 || nallow >= VMC_HYPERCALL_NR_MAX) {
                    fprintf(stderr, "vmcall run: --allow-hypercalls: unknown hypercall '%s'\n", tok);
                    free(list);
                    return EXIT_VMM;
                }
                allow[nallow++] = (uint32_t)nr;
            }
            free(list);
            break;
        }
        case 'X':
            if (parse_size(optarg, &cfg.mem_max) != 0 || cfg.mem_max == 0) {
                fprintf(stderr, "vmcall run: --mem-max %s: not a size (e.g. 128M)\n", optarg);
                return EXIT_VMM;
            }
            break;
        case 'D': {
            free(disk);
            disk = strdup(optarg);
            char *comma = strrchr(disk, ',');
            if (comma && !strcmp(comma, ",ro")) {
                *comma = 0;
                cfg.disk_readonly = true;
            } else if (comma && !strcmp(comma, ",rw")) {
                *comma = 0;
            }
            cfg.disk_path = disk;
            break;
        }
        case 'c': {
            uint64_t n;
            if (parse_u64(optarg, &n) != 0 || n < 1 || n > VMC_VCPU_MAX) {
                fprintf(stderr, "vmcall run: --vcpus %s: must be 1 to %u\n", optarg, VMC_VCPU_MAX);
                return EXIT_VMM;
            }
            cfg.vcpus = (uint32_t)n;
            break;
        }
        case 'I': {
            int p = parse_policy(optarg);
            if (p < 0) {
                fprintf(stderr, "vmcall run: --io-default %s: must be pass, ignore or deny\n", optarg);
                return EXIT_VMM;
            }
            cfg.io_default = (uint32_t)p;
            break;
        }
        case 'P':
        case 'G':
        case 'N': {
            enum vmc_io_policy p = c == 'P' ? VMC_IO_PASS : c == 'G' ? VMC_IO_IGNORE : VMC_IO_DENY;
            if (parse_ports(optarg, p, io, &nio) != 0) {
                fprintf(stderr, "vmcall run: %s %s: not a port list (e.g. 0x70-0x71,0x80)\n",
                        c == 'P'   ? "--io-allow"
                        : c == 'G' ? "--io-ignore"
                                   : "--io-deny",
                        optarg);
                return EXIT_VMM;
            }
            break;
        }
        case 'R':
        case 'W': {
            char *list = strdup(optarg), *save = NULL;
            bool bad = !list;
            for (char *tok = list ? strtok_r(list, ",", &save) : NULL; tok && !bad;
                 tok = strtok_r(NULL, ",", &save)) {
                uint64_t idx;
                bad = parse_u64(tok, &idx) != 0 || idx > UINT32_MAX || nmsr >= MAX_RULES;
                if (!bad)
                    msr[nmsr++] = (struct msr_rule){ (uint32_t)idx, c == 'R' ? VMC_MSR_DENY : VMC_MSR_ALLOW };
            }
            free(list);
            if (bad) {
                fprintf(stderr, "vmcall run: %s %s: not a list of MSR indices\n",
                        c == 'R' ? "--msr-deny" : "--msr-allow", optarg);
                return EXIT_VMM;
            }
            break;
        }
        case 'C':
            if (ncpuid >= MAX_RULES || parse_cpuid(optarg, &cpuid[ncpuid]) != 0) {
                fprintf(stderr, "vmcall run: --cpuid %s: expected LEAF[.SUB]=EAX:EBX:ECX:EDX\n", optarg);
                return EXIT_VMM;
            }
            ncpuid++;
            break;
        case 'V':
            dump_vmcs = true;
            break;
        case 'h':
            usage_run(stdout);
            return 0;
        default:
            fprintf(stderr, "vmcall run: try 'vmcall run --help'\n");
            return EXIT_VMM;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "vmcall run: missing GUEST (try 'vmcall run --help')\n");
        return EXIT_VMM;
    }
    const char *guest = argv[optind++];
    if (optind < argc) {
        if (strcmp(argv[optind], "--") != 0) {
            fprintf(stderr, "vmcall run: unexpected argument '%s' (guest arguments go after --)\n",
                    argv[optind]);
            return EXIT_VMM;
        }
        optind++;
        cfg.argc = argc - optind;
        cfg.argv = (const char *const *)&argv[optind];
    }

    char err[256];
    struct vmc_kvm *kvm;
    if (vmc_kvm_open(&kvm, err, sizeof(err)) < 0) {
        fprintf(stderr, "vmcall: %s\n", err);
        return EXIT_VMM;
    }
    struct vmc_vm *vm;
    if (vmc_vm_create(kvm, &cfg, &vm, err, sizeof(err)) < 0) {
        fprintf(stderr, "vmcall: %s\n", err);
        vmc_kvm_close(kvm);
        free(disk);
        return EXIT_VMM;
    }
    int status = EXIT_VMM;
    int rc = restrict_calls ? vmc_vm_allow_hypercalls(vm, allow, nallow) : 0;
    for (size_t i = 0; i < nio && rc == 0; i++)
        rc = vmc_vm_set_io_policy(vm, io[i].first, io[i].last - io[i].first + 1u, io[i].policy);
    for (size_t i = 0; i < ncpuid && rc == 0; i++)
        rc = vmc_vm_set_cpuid(vm, &cpuid[i]);
    for (size_t i = 0; i < nmsr && rc == 0; i++)
        rc = vmc_vm_set_msr_policy(vm, msr[i].index, msr[i].policy);
    if (rc == 0)
        rc = flat ? vmc_vm_load_flat(vm, guest, flat_addr) : vmc_vm_load_elf(vm, guest);
    if (rc < 0) {
        fprintf(stderr, "vmcall: %s\n", vmc_vm_strerror(vm));
        goto out;
    }
    struct vmc_result res;
    rc = vmc_vm_run(vm, &res);
    fflush(stdout);
    if (rc < 0) {
        fprintf(stderr, "vmcall: %s\n", vmc_vm_strerror(vm));
    } else {
        switch (res.stop) {
        case VMC_STOP_EXIT:
            status = (int)res.status;
            if (res.status > EXIT_GUEST_MAX) {
                fprintf(stderr, "vmcall: guest exit status %" PRIu32 " is above %d; exiting with %d\n",
                        res.status, EXIT_GUEST_MAX, EXIT_GUEST_MAX);
                status = EXIT_GUEST_MAX;
            }
            break;
        case VMC_STOP_TIMEOUT:
            fprintf(stderr, "vmcall: %s\n", res.summary);
            status = EXIT_TIMEOUT;
            break;
        case VMC_STOP_CRASH:
            vmc_result_print(&res, stderr);
            status = EXIT_CRASH;
            break;
        default:
            fprintf(stderr, "vmcall: %s\n", res.summary);
            status = EXIT_VMM;
            break;
        }
    }
    if (cfg.stats)
        vmc_vm_print_stats(vm, stderr);
    for (uint32_t i = 0; dump_vmcs && vmc_vm_vcpu(vm, i); i++) {
        struct vmc_vmcs v;
        if (vmc_vcpu_get_vmcs(vmc_vm_vcpu(vm, i), &v) == 0)
            vmc_vmcs_print(&v, stderr);
    }
out:
    vmc_vm_destroy(vm);
    vmc_kvm_close(kvm);
    free(disk);
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
