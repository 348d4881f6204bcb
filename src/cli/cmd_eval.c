/* cmd_eval.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_eval(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("eval", "not built yet");
    return EXIT_FAIL;
}
