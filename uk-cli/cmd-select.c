#include "config.h"
/* PLACEHOLDER */
#include "cli.h"

static int
exec_select(const struct cli_cmd *cmd, int argc, char **argv)
{
	fprintf(stderr, "uk select: not written yet\n");
	return CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_select = { "select", "", "(not written yet)", "", exec_select };
