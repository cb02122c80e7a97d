/* SPDX-License-Identifier: MIT */
/* vmcall command-line tool: standard descriptors, the command table, help and version. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "vmcall/abi.h"

static void usage_main(FILE *f)
{
    fprintf(f, "usage: vmcall [--help] [--version] COMMAND [ARGS...]\n"
               "\n"
               "commands:\n"
               "  run      run a guest in a new micro-VM (vmcall help run)\n"
               "  help     show this help, or a command's (vmcall help run)\n"
               "\n"
               "options:\n"
               "  -h, --help     show this help\n"
               "  -V, --version  show the version and the guest ABI version\n");
}

static int cmd_run(int argc, char **argv)
{
    /* Static, not calloc'ed: its rule tables are zero pages nobody touches unless options fill them. */
    static struct run_opts o;
    int status = parse_run(argc, argv, &o);
    if (status < 0)
        status = run_vm(&o);
    free(o.disk);
    free(o.root);
    for (size_t i = 0; i < o.nallow; i++)
        free(o.allow[i]);
    return status;
}

static int cmd_help(int argc, char **argv);

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    void (*usage)(FILE *f);
} commands[] = {
    { "run", cmd_run, usage_run },
    { "help", cmd_help, usage_main },
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    cli_error("unknown command '%s' (try 'vmcall help')", name);
    return NULL;
}

static int cmd_help(int argc, char **argv)
{
    if (argc > 2) {
        cli_error("help takes one COMMAND at most");
        return EXIT_VMM;
    }
    const struct command *c = argc == 2 ? find_command(argv[1]) : &commands[1];
    if (!c)
        return EXIT_VMM;
    c->usage(stdout);
    return fflush(stdout) == 0 ? 0 : EXIT_VMM;
}

/*
 * Before anything is opened: a closed standard descriptor would be taken by the next open (/dev/kvm as
 * fd 1, and the guest's console would write into it). A closed stdin is end of input; a closed stdout or
 * stderr is an error, reported on whichever of the two is open.
 */
static int check_std_fds(void)
{
    if (fcntl(0, F_GETFD) < 0 && errno == EBADF) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd > 0) /* not 0: something else is wrong; the console input then reads from it or fails */
            close(fd);
    }
    bool out = fcntl(1, F_GETFD) >= 0, err = fcntl(2, F_GETFD) >= 0;
    if (out && err)
        return 0;
    const char *msg = !out && !err ? NULL
                      : !out       ? PREFIX "stdout is closed: the console has nowhere to go\n"
                                   : PREFIX "stderr is closed: errors would go nowhere\n";
    if (msg && write(out ? 1 : 2, msg, strlen(msg)) < 0)
        return -1;
    return -1;
}

int main(int argc, char **argv)
{
    if (check_std_fds() < 0)
        return EXIT_VMM;
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_VMM;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
        return cmd_help(1, argv + 1);
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
        printf("vmcall %s (guest ABI %u)\n", VMC_VERSION, VMC_ABI_VERSION);
        return fflush(stdout) == 0 ? 0 : EXIT_VMM;
    }
    const struct command *c = find_command(argv[1]);
    return c ? c->fn(argc - 1, argv + 1) : EXIT_VMM;
}
