/*
 * cli.c - what the `uk` subcommands share (cli.h): usage and error
 * reports, JSON output, durations.  main.c holds the table and main(), so
 * that the unit tests link the commands without it.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_json;

int
cli_help(const struct cli_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: uk %s %s\n\n%s\n", cmd->name, cmd->synopsis,
	    cmd->summary);
	if (cmd->help != NULL && cmd->help[0] != '\0')
		fprintf(f, "\n%s", cmd->help);
	return CLI_EXIT_OK;
}

int
cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "uk %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: uk %s %s\nTry 'uk %s --help'.\n", cmd->name,
	    cmd->synopsis, cmd->name);
	return CLI_EXIT_USAGE;
}

int
cli_bad_option(const struct cli_cmd *cmd, int c, char **argv)
{
	if (c == ':')
		return cli_usage(cmd, "option '%s' needs a value",
		    argv[optind - 1]);
	if (optopt != 0)
		return cli_usage(cmd, "unknown option '-%c'", optopt);
	return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

int
cli_error(const struct cli_cmd *cmd, const struct err *e,
    const char *hint_fmt, ...)
{
	const char *code = e->code != NULL && e->code[0] ? e->code : "error";
	va_list ap;

	fprintf(stderr, "uk %s: %s [%s]\n", cmd->name, e->msg, code);
	if (hint_fmt != NULL) {
		fputs("hint: ", stderr);
		va_start(ap, hint_fmt);
		vfprintf(stderr, hint_fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (cli_json) {
		json_object *o = json_object_new_object(), *in;

		in = json_object_new_object();
		json_object_object_add(in, "code", json_object_new_string(code));
		json_object_object_add(in, "message",
		    json_object_new_string(e->msg));
		json_object_object_add(o, "error", in);
		cli_json_print(o);
	}
	return CLI_EXIT_FAIL;
}

void
cli_json_print(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

int
cli_parse_duration(const char *s, long long *secs)
{
	char *end;
	long long v, mul = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case 'd':
		mul = 86400;
		end++;
		break;
	case 'h':
		mul = 3600;
		end++;
		break;
	case 'm':
		mul = 60;
		end++;
		break;
	case 's':
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0' || v > (long long)(1LL << 40) / mul)
		return -1;
	*secs = v * mul;
	return 0;
}
