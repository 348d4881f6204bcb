/* bench.h -- what the C benchmark drivers of bench/ share: dying with the
 * store's message, and the process CPU clock (on a busy machine the CPU
 * time is what to compare). */
#ifndef DP_BENCH_H
#define DP_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../src/common/util.h"

static void die(const char *what, const dp_err *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err->msg);
    exit(1);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
