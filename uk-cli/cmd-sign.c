#include "config.h"
/* PLACEHOLDER */
#include "cli.h"

static int
exec_sign(const struct cli_cmd *cmd, int argc, char **argv)
{
	fprintf(stderr, "uk sign: not written yet\n");
	return CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_sign = { "sign", "", "(not written yet)", "", exec_sign };
