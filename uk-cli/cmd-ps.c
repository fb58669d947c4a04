/*
 * uk ps: the instances unikerneld knows (GET /v1/instances).
 *
 * Every instance is listed by default, ended ones included: they keep
 * their names (another `uk run` of the same feed becomes NAME-2) and their
 * exit codes until `uk rm`, so hiding them would hide both.  --all names
 * that default for hands used to `docker ps -a`.
 */
#include "config.h"

#include <string.h>

#include "remote.h"

/* UPTIME/EXIT: "up 5m12s", "exit 3, 2h05m ago", "2h05m ago", "-". */
static void
ps_when(json_object *in, int64_t now, char *buf, size_t bufsz)
{
	const char *state = remote_str(in, "state");
	int64_t started, ended, code;
	char age[32];

	if (state == NULL)
		state = "";
	if (remote_exit_status(in) == -1) {
		if (remote_int(in, "started", &started) == 0 &&
		    (strcmp(state, "running") == 0 ||
		    strcmp(state, "stopping") == 0)) {
			remote_age(now - started, age, sizeof(age));
			snprintf(buf, bufsz, "up %s", age);
		} else {
			snprintf(buf, bufsz, "-");
		}
		return;
	}
	if (remote_int(in, "ended", &ended) == 0)
		remote_age(now - ended, age, sizeof(age));
	else
		snprintf(age, sizeof(age), "?");
	if (strcmp(state, "exited") != 0)
		snprintf(buf, bufsz, "%s ago", age);
	else if (remote_int(in, "exit_code", &code) == 0)
		snprintf(buf, bufsz, "exit %lld, %s ago", (long long)code, age);
	else
		snprintf(buf, bufsz, "exit ?, %s ago", age);
}

static int
ps_row(struct remote_table *t, json_object *in, int64_t now)
{
	char when[64], restarts[24];

	ps_when(in, now, when, sizeof(when));
	return remote_table_add(t, (const char *const []){
	    remote_str(in, "name"), remote_str(in, "state"),
	    remote_str(remote_obj(in, "image"), "version"),
	    remote_str(in, "backend"), when, remote_num_of(in,
	    "restart_count", restarts, sizeof(restarts)) });
}

static const struct remote_ls ps_list = {
	"/v1/instances", "instances",
	{ "NAME", "STATE", "VERSION", "BACKEND", "UPTIME/EXIT", "RESTARTS" },
	ps_row,
};

static int
exec_ps(const struct cli_cmd *cmd, int argc, char **argv)
{
	int all = 0;
	const struct remote_opt opts[] = {
		{ "all", 'a', &all, NULL, NULL, NULL, 0 },
		{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
	};

	return remote_ls(cmd, argc, argv, opts, &ps_list);
}

const struct cli_cmd cli_cmd_ps = {
	"ps",
	"[-a|--all] [--json] [--socket PATH]",
	"list unikerneld's instances",
	"  -a, --all        every instance, ended ones included (the default)\n"
	"  --json           print the API's array of instances\n"
	REMOTE_SOCKET_HELP("    ")
	"\n"
	"Columns: NAME STATE VERSION BACKEND UPTIME/EXIT RESTARTS.  Ended\n"
	"instances keep their names and exit codes until 'uk rm'.\n",
	exec_ps,
};
