/* cmd_sync.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_sync(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("sync", "not built yet");
    return EXIT_FAIL;
}
