/* cmd_stats.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_stats(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("stats", "not built yet");
    return EXIT_FAIL;
}
