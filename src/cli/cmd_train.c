/* cmd_train.c -- placeholder until the owning module lands. */
#include <stdio.h>
#include "cli.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("train", "not built yet");
    return EXIT_FAIL;
}
