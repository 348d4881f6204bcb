/* cmd_similar.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_similar(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("similar", "not built yet");
    return EXIT_FAIL;
}
