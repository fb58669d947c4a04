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

/* ADDRESSES/PORTS: the address on the bridge ("10.213.0.2"), the
 * forwards of user networking ("127.0.0.1:8080->80/tcp, ..."), "user"
 * without forwards, "-" without a network. */
static void
ps_net(json_object *in, char *buf, size_t bufsz)
{
	json_object *net = remote_obj(in, "network"), *arr, *f;
	const char *mode = remote_str(net, "mode"), *a;
	int64_t host, guest;
	size_t i, n, len = 0;

	snprintf(buf, bufsz, "-");
	if (mode == NULL || strcmp(mode, "none") == 0)
		return;
	if (strcmp(mode, "bridge") == 0) {
		if (json_object_object_get_ex(net, "addresses", &arr) &&
		    json_object_is_type(arr, json_type_array) &&
		    json_object_array_length(arr) > 0 &&
		    (a = json_object_get_string(json_object_array_get_idx(arr,
		    0))) != NULL)
			snprintf(buf, bufsz, "%.*s", (int)strcspn(a, "/"), a);
		else
			snprintf(buf, bufsz, "bridge");
		return;
	}
	if (json_object_object_get_ex(net, "forwards", &arr) &&
	    json_object_is_type(arr, json_type_array))
		n = json_object_array_length(arr);
	else
		n = 0;
	buf[0] = '\0';
	for (i = 0; i < n && len < bufsz; i++) {
		f = json_object_array_get_idx(arr, i);
		if (remote_int(f, "host", &host) == -1 ||
		    remote_int(f, "guest", &guest) == -1 ||
		    (a = remote_str(f, "host_ip")) == NULL ||
		    remote_str(f, "proto") == NULL)
			continue;
		len += (size_t)snprintf(buf + len, bufsz - len, "%s%s:%lld->"
		    "%lld/%s", len > 0 ? ", " : "", a, (long long)host,
		    (long long)guest, remote_str(f, "proto"));
	}
	if (len == 0)
		snprintf(buf, bufsz, "%s", mode);
}

static int
ps_row(struct remote_table *t, json_object *in, int64_t now)
{
	char when[64], restarts[24], net[512];

	ps_when(in, now, when, sizeof(when));
	ps_net(in, net, sizeof(net));
	return remote_table_add(t, (const char *const []){
	    remote_str(in, "name"), remote_str(in, "state"),
	    remote_str(remote_obj(in, "image"), "version"),
	    remote_str(in, "backend"), when, remote_num_of(in,
	    "restart_count", restarts, sizeof(restarts)), net });
}

static const struct remote_ls ps_list = {
	"/v1/instances", "instances",
	{ "NAME", "STATE", "VERSION", "BACKEND", "UPTIME/EXIT", "RESTARTS",
	  "ADDRESSES/PORTS" },
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
	"Columns: NAME STATE VERSION BACKEND UPTIME/EXIT RESTARTS\n"
	"ADDRESSES/PORTS (the address on the bridge, or the forwarded ports).\n"
	"Ended instances keep their names and exit codes until 'uk rm'.\n",
	exec_ps,
};
