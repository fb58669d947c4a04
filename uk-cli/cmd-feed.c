#include "config.h"
/* PLACEHOLDER */
#include "cli.h"

static int
exec_feed(const struct cli_cmd *cmd, int argc, char **argv)
{
	fprintf(stderr, "uk feed: not written yet\n");
	return CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_feed = { "feed", "", "(not written yet)", "", exec_feed };
