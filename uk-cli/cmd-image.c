/*
 * uk image ls|rm|prune: unikerneld's image cache (GET /v1/images, DELETE
 * /v1/images/SHA256, POST /v1/images/prune).
 *
 * `uk image rm` takes a digest's unique prefix of at least
 * IMAGE_PREFIX_MIN hex digits, resolved against GET /v1/images, so that
 * what `uk image ls` shows can be pasted back.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "remote.h"

#define IMAGE_PREFIX_MIN 12
#define IMAGE_ARGS_MAX 256

static int
image_row(struct remote_table *t, json_object *im, int64_t now)
{
	char sha[IMAGE_PREFIX_MIN + 1], size[32], refs[24], used[40];
	int64_t v;

	remote_clean(remote_str(im, "sha256"), sha, sizeof(sha));
	remote_size(remote_int(im, "size", &v) == 0 && v > 0 ?
	    (uint64_t)v : 0, size, sizeof(size));
	return remote_table_add(t, (const char *const []){ sha,
	    remote_str(im, "name"), remote_str(im, "version"), size,
	    remote_num_of(im, "refs", refs, sizeof(refs)),
	    remote_ago_of(im, "last_used", now, "never", used,
	    sizeof(used)) });
}

static const struct remote_ls image_list = {
	"/v1/images", "images",
	{ "SHA256", "NAME", "VERSION", "SIZE", "REFS", "LAST USED" },
	image_row,
};

static int
image_ls(const struct cli_cmd *cmd, int argc, char **argv)
{
	return remote_ls(cmd, argc, argv, NULL, &image_list);
}

/* (s) lowercased into (out) when it is IMAGE_PREFIX_MIN to 64 hex digits;
 * -1 otherwise. */
static int
image_hex(const char *s, char out[SHA256_HEX_LEN + 1])
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == SHA256_HEX_LEN)
			return -1;
		if (s[i] >= 'A' && s[i] <= 'F')
			out[i] = (char)(s[i] - 'A' + 'a');
		else if ((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f'))
			out[i] = s[i];
		else
			return -1;
	}
	out[i] = '\0';
	return i >= IMAGE_PREFIX_MIN ? 0 : -1;
}

/* The one cached digest that starts with (hex), into (hex); (*list) is
 * fetched on first use and kept for the next names. */
static int
image_resolve(struct client *c, json_object **list,
    char hex[SHA256_HEX_LEN + 1], struct err *e)
{
	const char *sha, *found = NULL;
	json_object *arr;
	size_t i, n = 0, len = strlen(hex);

	if (len == SHA256_HEX_LEN)
		return 0;
	if (*list == NULL &&
	    client_call(c, "GET", "/v1/images", NULL, list, e) == -1)
		return -1;
	if ((arr = remote_list(*list, "images", e)) == NULL)
		return -1;
	for (i = 0; i < json_object_array_length(arr); i++) {
		sha = remote_str(json_object_array_get_idx(arr, i), "sha256");
		if (sha != NULL && strlen(sha) == SHA256_HEX_LEN &&
		    strncmp(sha, hex, len) == 0) {
			found = sha;
			n++;
		}
	}
	if (n == 0)
		return err_set(e, "store_not_found", "no cached image's "
		    "sha256 starts with %s", hex);
	if (n > 1)
		return err_set(e, "image_ambiguous", "%zu cached images' "
		    "sha256 start with %s", n, hex);
	snprintf(hex, SHA256_HEX_LEN + 1, "%s", found);
	return 0;
}

static int
image_rm(const struct cli_cmd *cmd, int argc, char **argv)
{
	char hex[SHA256_HEX_LEN + 1], path[CLIENT_PATH_MAX];
	json_object *list = NULL;
	struct remote_args a;
	struct client *c;
	struct err e;
	int i, rc, failed = 0;

	if ((rc = remote_parse(cmd, argc, argv, NULL, 0, 1, IMAGE_ARGS_MAX,
	    "SHA256", &a)) != -1)
		return rc;
	for (i = 0; i < a.noperands; i++)
		if (image_hex(a.operands[i], hex) == -1)
			return cli_usage(cmd, "'%s' is not a sha256 or a "
			    "prefix of %d to 64 hex digits", a.operands[i],
			    IMAGE_PREFIX_MIN);
	if ((c = remote_open(cmd, a.socket)) == NULL)
		return CLI_EXIT_FAIL;
	for (i = 0; i < a.noperands; i++) {
		err_clear(&e);
		image_hex(a.operands[i], hex);
		if (image_resolve(c, &list, hex, &e) == -1 ||
		    client_path(path, sizeof(path), "/v1/images/", hex, NULL,
		    &e) == -1 ||
		    client_call(c, "DELETE", path, NULL, NULL, &e) == -1) {
			if (strcmp(e.code, "image_in_use") == 0)
				cli_error(cmd, &e, "'uk ps' shows the "
				    "instances; 'uk rm' the ones that use it");
			else
				cli_error(cmd, &e, NULL);
			failed++;
			if (strcmp(e.code, "daemon_unreachable") == 0)
				break;
			continue;
		}
		printf("%s\n", hex);
	}
	if (list != NULL)
		json_object_put(list);
	client_free(c);
	return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int
image_prune(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *older = NULL;
	const struct remote_opt opts[] = {
		{ "older-than", 0, NULL, &older, NULL, NULL, 0 },
		{ NULL, 0, NULL, NULL, NULL, NULL, 0 },
	};
	char size[32], sha[SHA256_HEX_LEN + 1];
	json_object *body = NULL, *reply, *arr;
	struct remote_args a;
	struct client *c;
	long long secs;
	int64_t bytes = 0;
	struct err e;
	size_t i, n = 0;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, opts, 0, 0, 0, "", &a)) != -1)
		return rc;
	if (older != NULL) {
		if (cli_parse_duration(older, &secs) == -1)
			return cli_usage(cmd, "--older-than: '%s' is not a "
			    "duration (30d, 12h, 90m, 45s)", older);
		body = json_object_new_object();
		json_object_object_add(body, "older_than",
		    json_object_new_int64(secs));
	}
	if ((c = remote_open(cmd, a.socket)) == NULL) {
		if (body != NULL)
			json_object_put(body);
		return CLI_EXIT_FAIL;
	}
	err_clear(&e);
	if (client_call(c, "POST", "/v1/images/prune", body, &reply, &e) ==
	    -1) {
		rc = cli_error(cmd, &e, NULL);
	} else {
		if ((arr = remote_list(reply, "deleted", &e)) != NULL)
			n = json_object_array_length(arr);
		for (i = 0; i < n; i++)
			printf("%s\n", remote_clean(json_object_get_string(
			    json_object_array_get_idx(arr, i)), sha,
			    sizeof(sha)));
		remote_int(reply, "bytes", &bytes);
		remote_size(bytes > 0 ? (uint64_t)bytes : 0, size,
		    sizeof(size));
		fprintf(stderr, "removed %zu image%s, %s\n", n,
		    n == 1 ? "" : "s", size);
		json_object_put(reply);
		rc = CLI_EXIT_OK;
	}
	if (body != NULL)
		json_object_put(body);
	client_free(c);
	return rc;
}

#define IMAGE_SOCKET_HELP REMOTE_SOCKET_HELP("        ")

static const struct cli_cmd image_ls_cmd = {
	"image ls",
	"[--json] [--socket PATH]",
	"list unikerneld's image cache",
	"  --json               print the API's array of images\n"
	IMAGE_SOCKET_HELP
	"\n"
	"Columns: SHA256 (its first 12 digits) NAME VERSION SIZE REFS (the\n"
	"instances using it) LAST USED.\n",
	image_ls,
};

static const struct cli_cmd image_rm_cmd = {
	"image rm",
	"[--socket PATH] SHA256...",
	"remove images no instance uses from unikerneld's cache",
	IMAGE_SOCKET_HELP
	"\n"
	"SHA256 may be a unique prefix of 12 digits or more, as 'uk image ls'\n"
	"shows.  Prints each digest removed.\n",
	image_rm,
};

static const struct cli_cmd image_prune_cmd = {
	"image prune",
	"[--older-than DURATION] [--socket PATH]",
	"remove every image no instance uses from unikerneld's cache",
	"  --older-than DURATION\n"
	"                       only those unused for that long (30d, 12h, "
	"90m, 45s)\n"
	IMAGE_SOCKET_HELP
	"\n"
	"Prints each digest removed, then the count and space freed on "
	"stderr.\n",
	image_prune,
};

static int
exec_image(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct cli_cmd *const subs[] = { &image_ls_cmd,
		&image_rm_cmd, &image_prune_cmd, NULL };

	return remote_subcommand(cmd, argc, argv, subs);
}

const struct cli_cmd cli_cmd_image = {
	"image",
	"ls|rm|prune [options]",
	"manage unikerneld's image cache",
	"Subcommands:\n"
	"  ls       list the cached images\n"
	"  rm       remove images no instance uses\n"
	"  prune    remove every image no instance uses\n"
	"\n"
	"'uk image SUBCOMMAND --help' lists a subcommand's options.\n",
	exec_image,
};
