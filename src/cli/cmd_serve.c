/* cmd_serve.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("serve", "not built yet");
    return EXIT_FAIL;
}
