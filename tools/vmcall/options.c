/* SPDX-License-Identifier: MIT */
/* The options of `vmcall run`: one table gives their names, help text and parsers. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PREFIX, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* A size: a number with an optional K, M, G or T (KiB... also accepted, and B for plain bytes); a bare
 * number means MiB, as QEMU and Firecracker read it. */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 20;
    const char *units = "BKMGT";
    const char *u = *end ? strchr(units, *end >= 'a' ? *end - 32 : *end) : NULL;
    if (*end && !u)
        return -1;
    if (u) {
        shift = (unsigned)(u - units) * 10;
        end++;
        if (shift && (*end == 'i' || *end == 'I'))
            end++;
        if (shift && (*end == 'B' || *end == 'b'))
            end++;
    }
    if (*end || v > (UINT64_MAX >> shift))
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

/* fn(token, o, policy) for each comma-separated token of list, until one fails (-1). */
static int each_token(const char *list, int (*fn)(char *tok, struct run_opts *o, int policy),
                      struct run_opts *o, int policy)
{
    char *copy = strdup(list), *save = NULL;
    int rc = copy ? 0 : -1;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && rc == 0;
         tok = strtok_r(NULL, ",", &save))
        rc = fn(tok, o, policy);
    free(copy);
    return rc;
}

/* "0x70-0x71,0x80": ports or inclusive ranges, applied in order. */
static int port_token(char *tok, struct run_opts *o, int policy)
{
    char *dash = strchr(tok + 1, '-');
    uint64_t first, last;
    if (dash)
        *dash = 0;
    if (parse_u64(tok, &first) || (dash ? parse_u64(dash + 1, &last) : (last = first, 0)) || first > last ||
        last > 0xffff || o->nio >= MAX_RULES)
        return -1;
    o->io[o->nio++] = (struct io_rule){ (uint32_t)first, (uint32_t)last, (enum vmc_io_policy)policy };
    return 0;
}

static int msr_token(char *tok, struct run_opts *o, int policy)
{
    uint64_t idx;
    if (parse_u64(tok, &idx) != 0 || idx > UINT32_MAX || o->nmsr >= MAX_RULES)
        return -1;
    o->msr[o->nmsr++] = (struct msr_rule){ (uint32_t)idx, (enum vmc_msr_policy)policy };
    return 0;
}

static int hypercall_token(char *tok, struct run_opts *o, int policy)
{
    (void)policy;
    if (o->nallow >= VMC_HYPERCALL_NR_MAX || !(o->allow[o->nallow] = strdup(tok))) {
        cli_error("--allow-hypercalls: too many hypercalls");
        return -1;
    }
    o->nallow++;
    return 0;
}

static int bad(const char *opt, const char *arg, const char *what)
{
    cli_error("--%s %s: %s", opt, arg, what);
    return -1;
}

static int opt_mem(struct run_opts *o, const char *arg)
{
    uint64_t v;
    if (parse_size(arg, &v))
        return bad("mem", arg, "not a size (e.g. 64M, 1G; a bare number is MiB)");
    if (v < VMC_RAM_MIN || v > VMC_RAM_MAX || v % VMC_RAM_ALIGN)
        return bad("mem", arg, "guest RAM must be a multiple of 2M from 2M to 3G");
    o->cfg.mem_size = v;
    return 0;
}

static int opt_mem_max(struct run_opts *o, const char *arg)
{
    if (parse_size(arg, &o->cfg.mem_max) || !o->cfg.mem_max)
        return bad("mem-max", arg, "not a size (e.g. 128M; a bare number is MiB)");
    return 0;
}

static int opt_console_limit(struct run_opts *o, const char *arg)
{
    if (parse_size(arg, &o->cfg.console_limit) || !o->cfg.console_limit)
        return bad("console-limit", arg, "not a size (e.g. 64K, 1M, 100B; a bare number is MiB)");
    return 0;
}

static int opt_user(struct run_opts *o, const char *arg)
{
    (void)arg;
    o->cfg.user_mode = o->user_given = true;
    return 0;
}

static int opt_flat(struct run_opts *o, const char *arg)
{
    o->flat = true;
    return parse_u64(arg, &o->flat_addr) ? bad("flat", arg, "not an address") : 0;
}

static int opt_mode(struct run_opts *o, const char *arg)
{
    if (strcmp(arg, "64") && strcmp(arg, "32"))
        return bad("mode", arg, "must be 64 or 32");
    o->cfg.mode = (uint32_t)atoi(arg);
    o->mode_given = true;
    return 0;
}

static int opt_vcpus(struct run_opts *o, const char *arg)
{
    uint64_t n;
    if (parse_u64(arg, &n) != 0 || n < 1 || n > VMC_VCPU_MAX) {
        cli_error("--vcpus %s: must be 1 to %u", arg, VMC_VCPU_MAX);
        return -1;
    }
    o->cfg.vcpus = (uint32_t)n;
    return 0;
}

/* FILE[,ro|,rw]: the part after the last comma is an option; anything else there is an error. */
static int opt_disk(struct run_opts *o, const char *arg)
{
    free(o->disk);
    o->disk = strdup(arg);
    if (!o->disk)
        return -1;
    char *comma = strrchr(o->disk, ',');
    if (comma) {
        *comma = 0;
        if (strcmp(comma + 1, "ro") && strcmp(comma + 1, "rw")) {
            cli_error("--disk %s: unknown disk option '%s' (known: ro, rw)", arg, comma + 1);
            return -1;
        }
        o->cfg.disk_readonly = !strcmp(comma + 1, "ro");
    }
    if (!*o->disk)
        return bad("disk", arg, "no file named");
    o->cfg.disk_path = o->disk;
    return 0;
}

static int opt_timeout(struct run_opts *o, const char *arg)
{
    char *end;
    double secs = strtod(arg, &end);
    if (*end || end == arg || !isfinite(secs) || secs <= 0 || secs > 1e9)
        return bad("timeout", arg, "not a positive number of seconds");
    o->cfg.timeout_ns = (uint64_t)(secs * 1e9);
    if (!o->cfg.timeout_ns)
        o->cfg.timeout_ns = 1;
    return 0;
}

/* The personality: vmcall's own ABI ("kvm" is its old name: KVM's argument registers) or Xen's. */
static int opt_abi(struct run_opts *o, const char *arg)
{
    if (strcmp(arg, "vmcall") && strcmp(arg, "kvm") && strcmp(arg, "xen"))
        return bad("abi", arg, "must be vmcall or xen");
    o->cfg.personality = !strcmp(arg, "xen") ? VMC_PERSONALITY_XEN : VMC_PERSONALITY_VMCALL;
    o->abi_given = true;
    return 0;
}

static int opt_allow_hypercalls(struct run_opts *o, const char *arg)
{
    o->restrict_calls = true;
    return each_token(arg, hypercall_token, o, 0);
}

static int opt_io_default(struct run_opts *o, const char *arg)
{
    int p = !strcmp(arg, "pass")     ? VMC_IO_PASS
            : !strcmp(arg, "ignore") ? VMC_IO_IGNORE
            : !strcmp(arg, "deny")   ? VMC_IO_DENY
                                     : -1;
    if (p < 0)
        return bad("io-default", arg, "must be pass, ignore or deny");
    o->cfg.io_default = (uint32_t)p;
    return 0;
}

static int ports(struct run_opts *o, const char *opt, const char *arg, enum vmc_io_policy p)
{
    return each_token(arg, port_token, o, p) ? bad(opt, arg, "not a port list (e.g. 0x70-0x71,0x80)") : 0;
}

static int opt_io_allow(struct run_opts *o, const char *arg)
{
    return ports(o, "io-allow", arg, VMC_IO_PASS);
}

static int opt_io_ignore(struct run_opts *o, const char *arg)
{
    return ports(o, "io-ignore", arg, VMC_IO_IGNORE);
}

static int opt_io_deny(struct run_opts *o, const char *arg)
{
    return ports(o, "io-deny", arg, VMC_IO_DENY);
}

static int opt_msr_deny(struct run_opts *o, const char *arg)
{
    return each_token(arg, msr_token, o, VMC_MSR_DENY) ? bad("msr-deny", arg, "not a list of MSR indices")
                                                       : 0;
}

static int opt_msr_allow(struct run_opts *o, const char *arg)
{
    return each_token(arg, msr_token, o, VMC_MSR_ALLOW) ? bad("msr-allow", arg, "not a list of MSR indices")
                                                        : 0;
}

/* "0x40000100=1:2:3:4" or "7.0=...": every number in C syntax (0x for hex). */
static int opt_cpuid(struct run_opts *o, const char *arg)
{
    char *end;
    uint64_t v[6] = { 0 };
    const char *p = arg;
    for (int i = 0; i < 6 && o->ncpuid < MAX_RULES; i++) {
        errno = 0;
        v[i] = *p == '-' || !*p ? UINT64_MAX : strtoull(p, &end, 0);
        char want = i == 0 ? (*end == '.' ? '.' : '=') : i == 1 ? '=' : i < 5 ? ':' : 0;
        if (errno || v[i] > UINT32_MAX || end == p || (i == 0 && *end == '=' && (i++, false)) || *end != want)
            return bad("cpuid", arg, "expected LEAF[.SUB]=EAX:EBX:ECX:EDX");
        p = end + (want != 0);
    }
    o->cpuid[o->ncpuid++] = (struct vmc_cpuid_leaf){ (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2],
                                                     (uint32_t)v[3], (uint32_t)v[4], (uint32_t)v[5] };
    return 0;
}

static int opt_linux(struct run_opts *o, const char *arg)
{
    (void)arg;
    o->cfg.personality = VMC_PERSONALITY_LINUX;
    o->abi_given = true;
    return 0;
}

/* --root DIR[,rw]: the Linux program's "/", read-only unless ",rw". */
static int opt_root(struct run_opts *o, const char *arg)
{
    const char *comma = strrchr(arg, ',');
    if (comma && strcmp(comma, ",rw") && strcmp(comma, ",ro"))
        return bad("root", arg, "unknown option after the comma (known: rw, ro)");
    size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
    free(o->root);
    if (!(o->root = strndup(arg, n)) || !*o->root)
        return bad("root", arg, "no directory");
    o->cfg.linux_root = o->root;
    o->cfg.linux_root_rw = comma && !strcmp(comma, ",rw");
    return 0;
}

static int opt_env(struct run_opts *o, const char *arg)
{
    if (!strchr(arg, '=') || arg[0] == '=')
        return bad("env", arg, "not NAME=VALUE");
    if (o->nenv >= MAX_RULES)
        return bad("env", arg, "too many variables");
    o->env[o->nenv++] = arg;
    o->cfg.envp = o->env;
    o->cfg.envc = (int)o->nenv;
    return 0;
}

static int opt_jail(struct run_opts *o, const char *arg)
{
    o->jail = arg;
    return 0;
}

static int id_option(const char *opt, const char *arg, long *out)
{
    uint64_t v;
    if (parse_u64(arg, &v) || v >= 0xffffffffull)
        return bad(opt, arg, "not a numeric id");
    if (v == 0)
        return bad(opt, arg, "the jail needs an unprivileged id, not 0");
    *out = (long)v;
    return 0;
}

static int opt_uid(struct run_opts *o, const char *arg)
{
    return id_option("uid", arg, &o->uid);
}

static int opt_gid(struct run_opts *o, const char *arg)
{
    return id_option("gid", arg, &o->gid);
}

/* A flag sets one bool of run_opts (an offset plus one: 0 means "not a flag"). */
#define FLAG(field, v) .flag = offsetof(struct run_opts, field) + 1, .value = v

const struct run_option run_options[] = {
    { "mem", 'm', "SIZE",
      "guest RAM: a multiple of 2M from 2M to 3G (default 64M); sizes take K, M, G\n"
      "(a bare number is MiB)",
      .parse = opt_mem },
    { "mem-max", 0, "SIZE", "RAM the guest may reach with memory_op populate (default: --mem)",
      .parse = opt_mem_max },
    { "user", 'u', NULL,
      "start the guest at CPL3 (user mode); a guest built by vmcall-cc says\n"
      "its mode itself",
      .parse = opt_user },
    { "mode", 0, "64|32", "64-bit long mode (default), or 32-bit protected mode for an ELF32 guest",
      .parse = opt_mode },
    { "flat", 'f', "ADDR",
      "GUEST is a raw binary: load it at guest-physical ADDR (>= 0x100000) and enter it\n"
      "there",
      .parse = opt_flat },
    { "vcpus", 'c', "N",
      "N vCPUs (1-64, default 1), one host thread each; vCPU 0 starts at the entry, the\n"
      "others when the guest starts them (vcpu_op up)",
      .parse = opt_vcpus },
    { "disk", 0, "FILE[,ro]",
      "attach FILE (a regular file or block device, a multiple of 512 bytes) as the\n"
      "block device; ro: read-only. The image is locked: shared when read-only,\n"
      "exclusive otherwise",
      .parse = opt_disk },
    { "timeout", 't', "SECS", "stop the guest after SECS seconds (fractions allowed); status 124",
      .parse = opt_timeout },
    { "console-limit", 0, "SIZE",
      "write at most SIZE bytes of console output (e.g. 1M, 100B); the rest is\n"
      "dropped, counted and reported (default: no limit)",
      .parse = opt_console_limit },
    { "abi", 0, "vmcall|xen",
      "the guest's hypercall ABI: vmcall's own (default for vmcall-cc guests) or\n"
      "Xen's HVM ABI with PVH boot (default for images with Xen's PVH note)",
      .parse = opt_abi },
    { "allow-hypercalls", 0, "LIST",
      "allow only these hypercalls (comma-separated names or numbers);\n"
      "others return -EPERM and are counted",
      .parse = opt_allow_hypercalls },
    { "io-default", 0, "POLICY",
      "what ports no device claims do: pass (default: reads all-ones, writes\n"
      "dropped), ignore (the same, counted), deny (#GP in the guest)",
      .parse = opt_io_default },
    { "io-allow", 0, "PORTS", "pass these ports, e.g. 0x70-0x71,0x80 (in user mode: open them for CPL3)",
      .parse = opt_io_allow },
    { "io-ignore", 0, "PORTS", "ignore these ports (all-ones, dropped, counted)", .parse = opt_io_ignore },
    { "io-deny", 0, "PORTS", "deny these ports: #GP(0) at the I/O instruction, which has no effect",
      .parse = opt_io_deny },
    { "msr-deny", 0, "LIST", "MSR indices whose RDMSR/WRMSR raise #GP", .parse = opt_msr_deny },
    { "msr-allow", 0, "LIST", "MSR indices KVM handles as usual (the default)", .parse = opt_msr_allow },
    { "cpuid", 0, "LEAF[.SUB]=EAX:EBX:ECX:EDX", "override or add a CPUID leaf; VMX and SVM stay hidden",
      .parse = opt_cpuid },
    { "no-sandbox", 0, NULL, "do not run the VMM under its seccomp allow-list (for debugging)",
      FLAG(cfg.sandbox, false) },
    { "linux", 0, NULL,
      "run PROG, a static x86-64 Linux program, with its system calls served by\n"
      "the VMM (the Linux personality; docs/linux.md)",
      .parse = opt_linux },
    { "root", 0, "DIR[,rw]",
      "with --linux: the host directory the program sees as /, read-only\n"
      "unless ,rw (default: no file system, only descriptors 0-2)",
      .parse = opt_root },
    { "trace", 0, NULL, "with --linux: print each system call, its arguments and result to stderr",
      FLAG(cfg.trace, true) },
    { "env", 0, "NAME=VALUE", "with --linux: an environment variable (repeatable; none by default)",
      .parse = opt_env },
    { "jail", 0, "DIR",
      "after opening the guest, disk and /dev/kvm: chroot into DIR (which must be\n"
      "empty) and become --uid/--gid, with no groups and no capabilities",
      .parse = opt_jail },
    { "uid", 0, "N", "the user id to run as in the jail", .parse = opt_uid },
    { "gid", 0, "N", "the group id to run as in the jail", .parse = opt_gid },
    { "stats", 's', NULL, "when the VM ends, print exits per reason, hypercalls and ports to stderr",
      FLAG(cfg.stats, true) },
    { "dump-vmcs", 0, NULL, "when the VM ends, print each vCPU's control block to stderr",
      FLAG(dump_vmcs, true) },
    { "help", 'h', NULL, "show this help", .parse = NULL },
};
const size_t run_noptions = sizeof(run_options) / sizeof(run_options[0]);

void usage_run(FILE *f)
{
    fprintf(f,
            "usage: vmcall run [options] GUEST [-- ARGS...]\n\n"
            "Run GUEST, a static x86-64 ELF64 executable, in a new micro-VM. ARGS are passed to the guest\n"
            "through the boot info (argc/argv and a space-joined command line).\n\noptions:\n");
    for (size_t i = 0; i < run_noptions; i++) {
        const struct run_option *r = &run_options[i];
        char head[64];
        int n = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s", r->short_name ? '-' : ' ',
                         r->short_name ? r->short_name : ' ', r->short_name ? ", " : "  ", r->name,
                         r->arg ? " " : "", r->arg ? r->arg : "");
        if (n < 26)
            fprintf(f, "%s%*s", head, 26 - n, "");
        else /* a long name and value: the help starts on the next line */
            fprintf(f, "%s\n%26s", head, "");
        for (const char *p = r->help; *p; p++) {
            fputc(*p, f);
            if (*p == '\n')
                fprintf(f, "%26s", "");
        }
        fputc('\n', f);
    }
    fprintf(f, "\nThe console (COM1 at 0x3f8 and the debug port 0xe9) is connected to stdin/stdout.\n\n"
               "exit status:\n"
               "  0-123  the guest's exit status (a larger guest status is reported and becomes 123)\n"
               "  124    the guest timed out (--timeout)\n"
               "  125    usage, input or VMM error (bad option, unreadable or malformed guest, no /dev/kvm)\n"
               "  126    the guest crashed; a report is printed on stderr\n"
               "  128+N  stopped by signal N (SIGINT 130, SIGTERM 143, SIGHUP 129; 141: the console's\n"
               "         reader went away)\n");
}

/* getopt_long's tables, built from run_options: a long option returns 256 + its index. */
static void build_getopt(struct option *longs, char *shorts)
{
    char *s = shorts;
    *s++ = '+'; /* stop at GUEST: what follows belongs to the guest */
    *s++ = ':'; /* a missing value is reported as such, not as an unknown option */
    for (size_t i = 0; i < run_noptions; i++) {
        const struct run_option *r = &run_options[i];
        longs[i] = (struct option){ r->name, r->arg ? required_argument : no_argument, NULL, 256 + (int)i };
        if (r->short_name) {
            *s++ = r->short_name;
            if (r->arg)
                *s++ = ':';
        }
    }
    longs[run_noptions] = (struct option){ 0 };
    *s = 0;
}

static const struct run_option *find_option(int c)
{
    for (size_t i = 0; i < run_noptions; i++)
        if (c == 256 + (int)i || (c < 256 && c == run_options[i].short_name))
            return &run_options[i];
    return NULL;
}

/* Options that only make sense together. */
static int check_run(const struct run_opts *o)
{
    if (o->jail && (o->uid < 0 || o->gid < 0)) {
        cli_error("--jail needs --uid and --gid (the unprivileged ids to run as)");
        return -1;
    }
    if (!o->jail && (o->uid >= 0 || o->gid >= 0)) {
        cli_error("--uid and --gid apply to --jail DIR, which is missing");
        return -1;
    }
    return 0;
}

static int guest_args(int argc, char **argv, struct run_opts *o)
{
    if (optind >= argc) {
        cli_error("missing GUEST (try 'vmcall help run')");
        return EXIT_VMM;
    }
    o->guest = argv[optind++];
    if (optind < argc) {
        if (strcmp(argv[optind], "--") != 0) {
            cli_error("unexpected argument '%s' (guest arguments go after --)", argv[optind]);
            return EXIT_VMM;
        }
        optind++;
        o->cfg.argc = argc - optind;
        o->cfg.argv = (const char *const *)&argv[optind];
    }
    return check_run(o) < 0 ? EXIT_VMM : -1;
}

/* getopt_long said no (opterr is off, so it said nothing): one message naming what the user typed. */
static int bad_option(int c, const char *typed)
{
    const struct run_option *r = optopt ? find_option(optopt) : NULL;
    char name[64];
    if (r && optopt < 256)
        snprintf(name, sizeof(name), "-%c", optopt);
    else if (r)
        snprintf(name, sizeof(name), "--%s", r->name);
    else if (optopt)
        snprintf(name, sizeof(name), "-%c", optopt);
    if (c == ':')
        cli_error("option '%s' needs a value (try 'vmcall help run')", r ? name : typed);
    else if (r)
        cli_error("option '%s' takes no value (try 'vmcall help run')", name);
    else
        cli_error("unknown option '%s' (try 'vmcall help run')", optopt ? name : typed);
    return EXIT_VMM;
}

int parse_run(int argc, char **argv, struct run_opts *o)
{
    struct option longs[sizeof(run_options) / sizeof(run_options[0]) + 1];
    char shorts[2 * sizeof(run_options) / sizeof(run_options[0]) + 3];
    build_getopt(longs, shorts);
    vmc_config_init(&o->cfg);
    o->cfg.console_in_fd = 0;
    o->cfg.console_out_fd = 1;
    o->cfg.sandbox = true;
    o->uid = o->gid = -1;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const struct run_option *r = c == '?' || c == ':' ? NULL : find_option(c);
        if (!r)
            return bad_option(c, argv[optind - 1]);
        if (r->flag) {
            *(bool *)((char *)o + r->flag - 1) = r->value;
            continue;
        }
        if (!r->parse) {
            usage_run(stdout);
            return 0;
        }
        if (r->parse(o, optarg) < 0)
            return EXIT_VMM;
    }
    return guest_args(argc, argv, o);
}
