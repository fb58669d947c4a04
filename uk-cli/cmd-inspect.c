#include "config.h"
/* PLACEHOLDER */
#include "cli.h"

static int
exec_inspect(const struct cli_cmd *cmd, int argc, char **argv)
{
	fprintf(stderr, "uk inspect: not written yet\n");
	return CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_inspect = { "inspect", "", "(not written yet)", "", exec_inspect };
