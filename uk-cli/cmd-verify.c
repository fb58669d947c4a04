#include "config.h"
/* PLACEHOLDER */
#include "cli.h"

static int
exec_verify(const struct cli_cmd *cmd, int argc, char **argv)
{
	fprintf(stderr, "uk verify: not written yet\n");
	return CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_verify = { "verify", "", "(not written yet)", "", exec_verify };
