#include "config.h"
/* PLACEHOLDER */
#include "cli.h"

static int
exec_pack(const struct cli_cmd *cmd, int argc, char **argv)
{
	fprintf(stderr, "uk pack: not written yet\n");
	return CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_pack = { "pack", "", "(not written yet)", "", exec_pack };
