/*
 * uk logs: an instance's console log (GET /v1/instances/NAME/console),
 * copied to stdout as it comes; with --follow until the instance has ended
 * for good (no restart planned).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

static int
logs_write(void *arg, const char *data, size_t len, struct err *fe)
{
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) == EOF)
		return err_errno(fe, ERR_IO, errno, "writing the console");
	return CLIENT_STREAM_NEXT;
}

static int
exec_logs(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *tail = NULL;
	int follow = 0;
	const struct remote_opt opts[] = {
		{ "follow", 'f', &follow, NULL, NULL, NULL, 0 },
		{ "tail", 'n', NULL, &tail, NULL, NULL, 0 },
		{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
	};
	char path[CLIENT_PATH_MAX], query[64];
	struct remote_args a;
	struct client *c;
	unsigned long n = 0;
	struct err e;
	char *end;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, opts, 0, 1, 1, "NAME",
	    &a)) != -1)
		return rc;
	if (tail != NULL) {
		errno = 0;
		n = strtoul(tail, &end, 10);
		if (tail[0] < '0' || tail[0] > '9' || *end != '\0' ||
		    errno != 0 || n > 1000000)
			return cli_usage(cmd, "--tail: '%s' is not a number of "
			    "lines up to 1000000", tail);
	}
	if (tail != NULL)
		snprintf(query, sizeof(query), "/console?tail=%lu%s", n,
		    follow ? "&follow=1" : "");
	else
		snprintf(query, sizeof(query), "/console%s",
		    follow ? "?follow=1" : "");
	err_clear(&e);
	if (client_path(path, sizeof(path), "/v1/instances/", a.operands[0],
	    query, &e) == -1)
		return cli_error(cmd, &e, NULL);
	if ((c = remote_open(cmd, a.socket)) == NULL)
		return CLI_EXIT_FAIL;
	rc = CLI_EXIT_OK;
	if (client_stream(c, "GET", path, NULL, CLIENT_STREAM_CHUNKS,
	    logs_write, NULL, &e) == -1)
		rc = cli_error(cmd, &e, strcmp(e.code, "store_not_found") == 0 ?
		    "'uk ps' lists the instances" : NULL);
	client_free(c);
	return rc;
}

const struct cli_cmd cli_cmd_logs = {
	"logs",
	"[-f|--follow] [-n|--tail N] [--socket PATH] NAME",
	"show an instance's console log",
	"  -f, --follow        go on with new output until the instance has "
	"ended\n"
	"                      for good (no restart planned)\n"
	"  -n, --tail N        only the last N lines\n"
	REMOTE_SOCKET_HELP("       "),
	exec_logs,
};
