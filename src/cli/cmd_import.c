/* cmd_import.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_import(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("import", "not built yet");
    return EXIT_FAIL;
}
