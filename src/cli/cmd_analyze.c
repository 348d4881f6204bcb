/* cmd_analyze.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_analyze(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("analyze", "not built yet");
    return EXIT_FAIL;
}
