/* strata: command-line entry (server, admin). */
#include <stdio.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: strata server [--data DIR] [--listen HOST:PORT]...\n"
                    "       strata admin --endpoint URL account create NAME [...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    return usage();
}
