#include "config.h"
/* PLACEHOLDER */
#include "cli.h"

static int
exec_keygen(const struct cli_cmd *cmd, int argc, char **argv)
{
	fprintf(stderr, "uk keygen: not written yet\n");
	return CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_keygen = { "keygen", "", "(not written yet)", "", exec_keygen };
