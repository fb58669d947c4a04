/*
 * uk stop, start, restart, rm: one request per instance named
 * (POST /v1/instances/NAME/stop|start|restart, DELETE /v1/instances/NAME),
 * its name on stdout when it succeeded.  Each name is tried even when one
 * before failed; the status is 1 when any failed.
 */
#include "config.h"

#include <string.h>

#include "remote.h"

struct inst_action {
	const char *method;
	const char *suffix;	/* after /v1/instances/NAME */
};

/* What to do next when (code) refused (cmd) on (name). */
static void
inst_hint(const struct cli_cmd *cmd, const struct err *e, const char *name)
{
	if (strcmp(e->code, "store_not_found") == 0)
		cli_error(cmd, e, "'uk ps' lists the instances");
	else if (strcmp(e->code, "instance_active") == 0 &&
	    strcmp(cmd->name, "rm") == 0)
		cli_error(cmd, e, "stop it first ('uk stop %s'), or remove it "
		    "running with 'uk rm --force %s'", name, name);
	else
		cli_error(cmd, e, NULL);
}

static int
inst_each(const struct cli_cmd *cmd, const struct remote_args *a,
    const struct inst_action *act, json_object *body)
{
	char path[CLIENT_PATH_MAX], shown[128];
	struct client *c;
	struct err e;
	int i, failed = 0;

	if ((c = remote_open(cmd, a->socket)) == NULL)
		return CLI_EXIT_FAIL;
	for (i = 0; i < a->noperands; i++) {
		err_clear(&e);
		if (client_path(path, sizeof(path), "/v1/instances/",
		    a->operands[i], act->suffix, &e) == -1 ||
		    client_call(c, act->method, path, body, NULL, &e) == -1) {
			inst_hint(cmd, &e, a->operands[i]);
			failed++;
			/* Nothing else will answer either. */
			if (strcmp(e.code, "daemon_unreachable") == 0)
				break;
			continue;
		}
		printf("%s\n", remote_clean(a->operands[i], shown,
		    sizeof(shown)));
		fflush(stdout);
	}
	client_free(c);
	return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int
exec_stop(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct inst_action act = { "POST", "/stop" };
	const char *timeout = NULL;
	const struct remote_opt opts[] = {
		{ "timeout", 't', NULL, &timeout, NULL, NULL, 0 },
		{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
	};
	struct remote_args a;
	json_object *body = NULL;
	long long secs;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, opts, 0, 1, -1, "NAME",
	    &a)) != -1)
		return rc;
	if (timeout != NULL) {
		if (cli_parse_duration(timeout, &secs) == -1 || secs > 86400)
			return cli_usage(cmd, "--timeout: '%s' is not a "
			    "duration up to 1d (30, 45s, 2m)", timeout);
		body = json_object_new_object();
		json_object_object_add(body, "timeout",
		    json_object_new_int64(secs));
	}
	rc = inst_each(cmd, &a, &act, body);
	if (body != NULL)
		json_object_put(body);
	return rc;
}

static int
exec_start(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct inst_action start = { "POST", "/start" };
	static const struct inst_action restart = { "POST",
		"/restart" };
	struct remote_args a;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, NULL, 0, 1, -1, "NAME",
	    &a)) != -1)
		return rc;
	return inst_each(cmd, &a, strcmp(cmd->name, "restart") == 0 ?
	    &restart : &start, NULL);
}

static int
exec_rm(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct inst_action rm = { "DELETE", NULL };
	static const struct inst_action rmf = { "DELETE", "?force=1" };
	int force = 0;
	const struct remote_opt opts[] = {
		{ "force", 'f', &force, NULL, NULL, NULL, 0 },
		{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
	};
	struct remote_args a;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, opts, 0, 1, -1, "NAME",
	    &a)) != -1)
		return rc;
	return inst_each(cmd, &a, force ? &rmf : &rm, NULL);
}

#define SOCKET_HELP REMOTE_SOCKET_HELP("       ")

const struct cli_cmd cli_cmd_stop = {
	"stop",
	"[-t|--timeout S] [--socket PATH] NAME...",
	"stop instances: ask the guest, end it after a timeout",
	"  -t, --timeout S     how long the guest has to stop before it is "
	"ended\n"
	"                      (default 10s; 30, 45s, 2m)\n"
	SOCKET_HELP
	"\n"
	"Prints each NAME once it has ended.  A planned restart is "
	"cancelled.\n",
	exec_stop,
};

const struct cli_cmd cli_cmd_start = {
	"start",
	"[--socket PATH] NAME...",
	"start stopped or ended instances again",
	SOCKET_HELP
	"\n"
	"Prints each NAME once its guest runs (or has ended already); the\n"
	"restart count starts again from 0.\n",
	exec_start,
};

const struct cli_cmd cli_cmd_restart = {
	"restart",
	"[--socket PATH] NAME...",
	"stop instances, then start them again",
	SOCKET_HELP
	"\n"
	"As 'uk stop' (default timeout) then 'uk start', for each NAME.\n",
	exec_start,
};

const struct cli_cmd cli_cmd_rm = {
	"rm",
	"[-f|--force] [--socket PATH] NAME...",
	"remove instances and their console logs",
	"  -f, --force         kill a guest that still runs, then remove it\n"
	SOCKET_HELP
	"\n"
	"Without --force a running instance is refused (instance_active).\n"
	"Images stay in the cache: 'uk image prune' removes unused ones.\n",
	exec_rm,
};
