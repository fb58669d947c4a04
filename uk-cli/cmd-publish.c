#include "config.h"
/* PLACEHOLDER */
#include "cli.h"

static int
exec_publish(const struct cli_cmd *cmd, int argc, char **argv)
{
	fprintf(stderr, "uk publish: not written yet\n");
	return CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_publish = { "publish", "", "(not written yet)", "", exec_publish };
