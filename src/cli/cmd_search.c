/* cmd_search.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_search(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("search", "not built yet");
    return EXIT_FAIL;
}
