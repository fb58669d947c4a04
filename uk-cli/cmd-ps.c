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
#include <time.h>

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
ps_table(json_object *arr)
{
	static const char *const head[] = { "NAME", "STATE", "VERSION",
		"BACKEND", "UPTIME/EXIT", "RESTARTS" };
	struct remote_table t;
	const char *cells[6];
	char when[64], restarts[24];
	int64_t now = (int64_t)time(NULL), n;
	json_object *in;
	size_t i;

	remote_table_init(&t, 6, head);
	for (i = 0; i < json_object_array_length(arr); i++) {
		in = json_object_array_get_idx(arr, i);
		ps_when(in, now, when, sizeof(when));
		if (remote_int(in, "restart_count", &n) == 0)
			snprintf(restarts, sizeof(restarts), "%lld",
			    (long long)n);
		else
			snprintf(restarts, sizeof(restarts), "-");
		cells[0] = remote_str(in, "name");
		cells[1] = remote_str(in, "state");
		cells[2] = remote_str(remote_obj(in, "image"), "version");
		cells[3] = remote_str(in, "backend");
		cells[4] = when;
		cells[5] = restarts;
		if (remote_table_add(&t, cells) == -1)
			break;
	}
	remote_table_print(&t, stdout);
	return CLI_EXIT_OK;
}

static int
exec_ps(const struct cli_cmd *cmd, int argc, char **argv)
{
	int all = 0;
	const struct remote_opt opts[] = {
		{ "all", 'a', &all, NULL, NULL, NULL, 0 },
		{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
	};
	struct remote_args a;
	json_object *reply, *arr;
	struct client *c;
	struct err e;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, opts, 1, 0, 0, "", &a)) != -1)
		return rc;
	if ((c = remote_open(cmd, a.socket)) == NULL)
		return CLI_EXIT_FAIL;
	err_clear(&e);
	if (client_call(c, "GET", "/v1/instances", NULL, &reply, &e) == -1) {
		rc = cli_error(cmd, &e, NULL);
		client_free(c);
		return rc;
	}
	if ((arr = remote_list(reply, "instances", &e)) == NULL) {
		rc = cli_error(cmd, &e, NULL);
	} else if (cli_json) {
		cli_json_print(json_object_get(arr));
		rc = CLI_EXIT_OK;
	} else {
		rc = ps_table(arr);
	}
	json_object_put(reply);
	client_free(c);
	return rc;
}

const struct cli_cmd cli_cmd_ps = {
	"ps",
	"[-a|--all] [--json] [--socket PATH]",
	"list unikerneld's instances",
	"  -a, --all        every instance, ended ones included (the default)\n"
	"  --json           print the API's array of instances\n"
	"  --socket PATH    unikerneld's socket (default: $UK_SOCKET, else\n"
	"                   /run/unikerneld.sock)\n"
	"  -h, --help       show this help\n"
	"\n"
	"Columns: NAME STATE VERSION BACKEND UPTIME/EXIT RESTARTS.  Ended\n"
	"instances keep their names and exit codes until 'uk rm'.\n",
	exec_ps,
};
