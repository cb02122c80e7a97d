/* SPDX-License-Identifier: MIT */
/* printf cases shared by the guest test (the SDK's printf) and its host twin (glibc's): outputs must match.
 * PRINT_ALL_CASES() prints every case on a line of its own, through whichever printf is in scope. */
/* clang-format off */
#define PRINTF_CASES(D, I, L) \
    D("%f", 0.0) D("%f", -0.0) D("%f", 1.0) D("%f", 0.1) D("%f", 2.5) D("%f", 3.14159265358979) \
    D("%f", 1e10) D("%f", 1.5e-5) D("%f", 123456.789) D("%f", 1e300) D("%f", 5e-324) D("%f", 1e-300) \
    D("%.0f", 0.5) D("%.0f", 1.5) D("%.0f", 2.5) D("%.0f", 3.5) D("%.2f", 0.125) D("%.2f", 0.375) \
    D("%.1f", 0.05) D("%.3f", 999.9996) D("%.10f", 0.1) D("%.20f", 0.1) D("%.17f", 1.0 / 3) \
    D("%f", 1.7976931348623157e308) D("%e", 0.0) D("%e", 1.0) D("%e", 12345.678) D("%e", 1e-300) \
    D("%e", 5e-324) D("%e", 1.7976931348623157e308) D("%.0e", 5.5) D("%.0e", 6.5) D("%.3E", 1e100) \
    D("%.10e", 3.14159265358979) D("%e", 9.9999999) D("%.2e", 9.995) D("%g", 0.0) D("%g", 100.0) \
    D("%g", 1e15) D("%g", 1e16) D("%g", 1e21) D("%g", 0.0001) D("%g", 0.00001) D("%g", 123456.0) \
    D("%g", 1234567.0) D("%.3g", 1234567.0) D("%.10g", 3.14159265358979) D("%#g", 1.0) D("%#.3g", 100.0) \
    D("%G", 1e-10) D("%g", 5e-324) D("%.0g", 0.5) D("%.1g", 0.95) D("%a", 1.0) D("%a", 0.1) D("%a", -2.5) \
    D("%a", 0.0) D("%a", 5e-324) D("%a", 1.7976931348623157e308) D("%.3a", 1.0 / 3) D("%.0a", 1.5) \
    D("%.0a", 2.5) D("%A", 255.5) D("%.1a", 1.96875) D("%+f", 1.0) D("% e", 2.0) D("%+g", -0.0) \
    D("%10.3f", 3.14159) D("%-12.4e|", 2.5) D("%012.3f", -3.14159) D("%#.0f", 3.0) D("%#.0e", 3.0) \
    D("%08.2f", 1e-300) D("%f", __builtin_inf()) D("%F", -__builtin_inf()) D("%e", -__builtin_nan("")) \
    D("%5f|", __builtin_inf()) D("%010f|", -__builtin_inf()) D("%.3f", 1e15 + 0.3) D("%.15g", 0.1 + 0.2) \
    D("%.17g", 0.1 + 0.2) \
    I("%o", 8) I("%#o", 8) I("%#o", 0) I("%#.0o", 0) I("%#x", 255) I("%#X", 255) I("%#x", 0) \
    I("%#10x", 255) I("%#-10x|", 255) I("%#010x", 255) I("%.5d", 42) I("%+.0d", 0) I("%x", -1) \
    I("% d", 7) I("%-+5d|", 3) I("%c", 'q') I("%5c|", 'q') I("%-5c|", 'q') \
    L("%Lf", 1.5L) L("%Le", 1e10L) L("%Lg", 0.25L)

#define PRINTF_CASE_D(fmt, v) printf("[" fmt "]\n", (double)(v));
#define PRINTF_CASE_I(fmt, v) printf("[" fmt "]\n", (int)(v));
#define PRINTF_CASE_L(fmt, v) printf("[" fmt "]\n", (long double)(v));
/* The cases, then the example of issue 10: an argument after a conversion that used to be left unconsumed. */
#define PRINT_ALL_CASES() \
    do { \
        PRINTF_CASES(PRINTF_CASE_D, PRINTF_CASE_I, PRINTF_CASE_L) \
        printf("[%#x] then [%s]\n", 255, "str"); \
    } while (0)
/* clang-format on */
