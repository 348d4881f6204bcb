/* cmd_pairs.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_pairs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("pairs", "not built yet");
    return EXIT_FAIL;
}
