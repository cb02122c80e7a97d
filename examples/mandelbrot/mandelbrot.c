/* SPDX-License-Identifier: MIT */
/* Demo guest for `vmcall run --user`: an ASCII Mandelbrot set in double precision, at native speed. */
#include "vmcall/guest.h"

static int iterations(double cr, double ci, int max)
{
    double zr = 0, zi = 0;
    int n = 0;
    while (n < max && zr * zr + zi * zi <= 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    /* Optional arguments: columns rows max-iterations. */
    int cols = argc > 1 ? atoi(argv[1]) : 0, rows = argc > 2 ? atoi(argv[2]) : 0;
    int max = argc > 3 ? atoi(argv[3]) : 0;
    if (cols <= 0 || cols > 200)
        cols = 72;
    if (rows <= 0 || rows > 100)
        rows = 28;
    if (max <= 0)
        max = 2000;
    static const char shade[] = " .:-=+*#%@";
    char line[202];
    unsigned long long total = 0;
    for (int y = 0; y < rows; y++) {
        for (int x = 0; x < cols; x++) {
            int n = iterations(-2.2 + 3.0 * x / cols, -1.2 + 2.4 * y / rows, max);
            total += (unsigned long long)n;
            line[x] = n >= max ? '@' : shade[(n * 9) / max];
        }
        line[cols] = '\n';
        vmcg_console_write(line, (size_t)cols + 1);
    }
    printf("%llu iterations in double precision at CPL%u\n", total,
           (vmcg_boot_info()->flags & VMC_BOOT_F_USER) ? 3u : 0u);
    return 0;
}
