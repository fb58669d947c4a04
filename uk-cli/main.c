#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

extern const struct cli_cmd cli_cmd_keygen, cli_cmd_sign, cli_cmd_verify,
    cli_cmd_pack, cli_cmd_inspect, cli_cmd_publish, cli_cmd_feed,
    cli_cmd_select, cli_cmd_run, cli_cmd_ps, cli_cmd_logs, cli_cmd_stop,
    cli_cmd_start, cli_cmd_restart, cli_cmd_rm, cli_cmd_trust,
    cli_cmd_image;

static const struct cli_cmd *const cli_cmds[] = {
	&cli_cmd_keygen,
	&cli_cmd_sign,
	&cli_cmd_verify,
	&cli_cmd_pack,
	&cli_cmd_inspect,
	&cli_cmd_publish,
	&cli_cmd_feed,
	&cli_cmd_select,
	&cli_cmd_run,
	&cli_cmd_ps,
	&cli_cmd_logs,
	&cli_cmd_stop,
	&cli_cmd_start,
	&cli_cmd_restart,
	&cli_cmd_rm,
	&cli_cmd_trust,
	&cli_cmd_image,
};

#define NCMDS (sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static void
main_usage(FILE *f)
{
	size_t i;

	fputs("usage: uk [--version] [--help] COMMAND [ARGS]\n\n"
	    "Build, sign, publish and run unikernel images.\n\nCommands:\n", f);
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-9s %s\n", cli_cmds[i]->name, cli_cmds[i]->summary);
	fputs("\nRun 'uk COMMAND --help' for a command's options; see uk(1).\n",
	    f);
}

int
main(int argc, char **argv)
{
	char *hargv[4];
	const char *name;
	int hargc = 0;
	size_t i;

	if (argc < 2) {
		main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		main_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("uk %s\n", PACKAGE_VERSION);
		return CLI_EXIT_OK;
	}
	if (strcmp(name, "help") == 0) {
		if (argc < 3) {
			main_usage(stdout);
			return CLI_EXIT_OK;
		}
		/* "uk help CMD [SUB]" is "uk CMD [SUB] --help". */
		hargv[hargc++] = argv[2];
		if (argc > 3)
			hargv[hargc++] = argv[3];
		hargv[hargc++] = (char *)"--help";
		hargv[hargc] = NULL;
		for (i = 0; i < NCMDS; i++)
			if (strcmp(cli_cmds[i]->name, argv[2]) == 0)
				return cli_cmds[i]->exec(cli_cmds[i], hargc,
				    hargv);
		name = argv[2];
	}
	for (i = 0; i < NCMDS; i++)
		if (strcmp(cli_cmds[i]->name, name) == 0)
			return cli_cmds[i]->exec(cli_cmds[i], argc - 1, argv + 1);
	fprintf(stderr, "uk: unknown command '%s'\n", name);
	main_usage(stderr);
	return CLI_EXIT_USAGE;
}
