/*
 * remote.c - what the commands that talk to unikerneld share (remote.h).
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "remote.h"

struct client *
remote_open(const struct cli_cmd *cmd, const char *socket)
{
	struct client *c;
	struct err e;

	err_clear(&e);
	if ((c = client_new(socket, &e)) == NULL)
		cli_error(cmd, &e, strcmp(e.code, ERR_INVALID) == 0 ?
		    "--socket or UK_SOCKET names unikerneld's socket" : NULL);
	return c;
}

/* Records one of the caller's options: -1 to go on, else the status. */
static int
remote_apply(const struct cli_cmd *cmd, const struct remote_opt *o)
{
	if (o->flag != NULL) {
		*o->flag = 1;
	} else if (o->value != NULL) {
		*o->value = optarg;
	} else if (*o->nlist >= o->maxlist) {
		return cli_usage(cmd, "--%s: at most %zu", o->name, o->maxlist);
	} else {
		o->list[(*o->nlist)++] = optarg;
	}
	return -1;
}

int
remote_parse(const struct cli_cmd *cmd, int argc, char **argv,
    const struct remote_opt *opts, int json, int min, int max,
    const char *what, struct remote_args *a)
{
	struct option lo[REMOTE_OPTS_MAX + 4];
	char so[3 * REMOTE_OPTS_MAX + 4];
	size_t n = 0, ns = 0, i;
	int c, idx, r;

	memset(a, 0, sizeof(*a));
	memset(lo, 0, sizeof(lo));
	so[ns++] = ':';
	for (i = 0; opts != NULL && opts[i].name != NULL &&
	    n < REMOTE_OPTS_MAX; i++, n++) {
		lo[n].name = opts[i].name;
		lo[n].has_arg = opts[i].flag != NULL ? no_argument :
		    required_argument;
		lo[n].val = 0x100 + (int)i;
		if (opts[i].letter != 0) {
			so[ns++] = opts[i].letter;
			if (opts[i].flag == NULL)
				so[ns++] = ':';
		}
	}
	lo[n++] = (struct option){ "socket", required_argument, NULL, 0x200 };
	if (json)
		lo[n++] = (struct option){ "json", no_argument, NULL, 0x201 };
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	so[ns++] = 'h';
	so[ns] = '\0';
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, lo, &idx)) != -1) {
		if (c >= 0x100 && c < 0x100 + REMOTE_OPTS_MAX) {
			if ((r = remote_apply(cmd, &opts[c - 0x100])) != -1)
				return r;
			continue;
		}
		for (i = 0; opts != NULL && opts[i].name != NULL; i++)
			if (opts[i].letter != 0 && c == opts[i].letter)
				break;
		if (opts != NULL && opts[i].name != NULL) {
			if ((r = remote_apply(cmd, &opts[i])) != -1)
				return r;
			continue;
		}
		switch (c) {
		case 0x200:
			if (optarg[0] == '\0')
				return cli_usage(cmd, "--socket: empty");
			a->socket = optarg;
			break;
		case 0x201:
			cli_json = 1;
			break;
		case 'h':
			return cli_help(cmd, stdout);
		default:
			return cli_bad_option(cmd, c, argv);
		}
	}
	a->operands = argv + optind;
	a->noperands = argc - optind;
	if (a->noperands < min)
		return cli_usage(cmd, "no %s given", what);
	if (max >= 0 && a->noperands > max)
		return cli_usage(cmd, "unexpected argument '%s'",
		    argv[optind + max]);
	return -1;
}

const char *
remote_str(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
remote_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

json_object *
remote_obj(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

json_object *
remote_list(json_object *reply, const char *key, struct err *e)
{
	json_object *v;

	if (reply == NULL || !json_object_object_get_ex(reply, key, &v) ||
	    !json_object_is_type(v, json_type_array)) {
		err_set(e, "daemon_bad_reply", "unikerneld's reply has no "
		    "\"%s\" array", key);
		return NULL;
	}
	return v;
}

const char *
remote_clean(const char *s, char *buf, size_t bufsz)
{
	size_t i;

	if (s != buf)		/* in place is fine */
		snprintf(buf, bufsz, "%s", s != NULL ? s : "-");
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
}

const char *
remote_join(json_object *arr, char *buf, size_t bufsz)
{
	size_t i, len = 0;
	json_object *s;

	snprintf(buf, bufsz, "-");
	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return buf;
	for (i = 0; i < json_object_array_length(arr) && len + 1 < bufsz;
	    i++) {
		s = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(s, json_type_string))
			continue;
		len += (size_t)snprintf(buf + len, bufsz - len, "%s%s",
		    len ? ", " : "", json_object_get_string(s));
	}
	return remote_clean(buf, buf, bufsz);
}

void
remote_size(uint64_t bytes, char *buf, size_t bufsz)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
		"PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, bufsz, "%llu B", (unsigned long long)bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (v < 9.95)
		snprintf(buf, bufsz, "%.1f %s", v, units[u]);
	else
		snprintf(buf, bufsz, "%.0f %s", v, units[u]);
}

void
remote_age(int64_t secs, char *buf, size_t bufsz)
{
	long long s = secs < 0 ? 0 : (long long)secs;

	if (s < 60)
		snprintf(buf, bufsz, "%llds", s);
	else if (s < 3600)
		snprintf(buf, bufsz, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, bufsz, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, bufsz, "%lldd%02lldh", s / 86400,
		    s % 86400 / 3600);
}

void
remote_date(int64_t t, char *buf, size_t bufsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, bufsz, "-");
}

const char *
remote_num_of(json_object *o, const char *key, char *buf, size_t bufsz)
{
	int64_t v;

	if (remote_int(o, key, &v) == 0)
		snprintf(buf, bufsz, "%lld", (long long)v);
	else
		snprintf(buf, bufsz, "-");
	return buf;
}

const char *
remote_date_of(json_object *o, const char *key, char *buf, size_t bufsz)
{
	int64_t v;

	remote_date(remote_int(o, key, &v) == 0 ? v : -1, buf, bufsz);
	return buf;
}

const char *
remote_ago_of(json_object *o, const char *key, int64_t now,
    const char *none, char *buf, size_t bufsz)
{
	char age[32];
	int64_t v;

	if (remote_int(o, key, &v) == 0) {
		remote_age(now - v, age, sizeof(age));
		snprintf(buf, bufsz, "%s ago", age);
	} else {
		snprintf(buf, bufsz, "%s", none);
	}
	return buf;
}

void
remote_progress(char *buf, size_t bufsz, uint64_t done, uint64_t total,
    unsigned width)
{
	char d[32], t[32], tail[96], bar[48];
	unsigned pct, cells, fill, i;
	size_t fixed;

	if (total == 0) {
		remote_size(done, d, sizeof(d));
		snprintf(buf, bufsz, "downloading %s", d);
		return;
	}
	if (done >= total) {
		done = total;
		pct = 100;
	} else {
		pct = (unsigned)((double)done * 100.0 / (double)total);
	}
	remote_size(done, d, sizeof(d));
	remote_size(total, t, sizeof(t));
	snprintf(tail, sizeof(tail), " %3u%% %s / %s", pct, d, t);
	if (width == 0)
		width = 80;
	/* "downloading [" + "]" + tail, and one column spare so that the
	 * terminal never wraps. */
	fixed = strlen("downloading [") + 1 + strlen(tail) + 1;
	cells = width > fixed ? (unsigned)(width - fixed) : 0;
	if (cells < 10)
		cells = 10;
	if (cells > 40)
		cells = 40;
	fill = (unsigned)((double)cells * (double)done / (double)total);
	for (i = 0; i < cells; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[cells] = '\0';
	snprintf(buf, bufsz, "downloading [%s]%s", bar, tail);
}

int
remote_exit_status(json_object *instance)
{
	const char *state = remote_str(instance, "state");
	int64_t code;

	if (state == NULL)
		return -1;
	if (strcmp(state, "exited") == 0) {
		if (remote_int(instance, "exit_code", &code) == 0 &&
		    code >= 0 && code <= 255)
			return (int)code;
		return RUN_EXIT_FAILED;
	}
	if (strcmp(state, "crashed") == 0)
		return RUN_EXIT_CRASHED;
	if (strcmp(state, "stopped") == 0)
		return RUN_EXIT_STOPPED;
	if (strcmp(state, "failed") == 0)
		return RUN_EXIT_FAILED;
	return -1;
}

/* --- tables --- */

void
remote_table_init(struct remote_table *t, size_t ncols,
    const char *const *header)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > REMOTE_TABLE_COLS ? REMOTE_TABLE_COLS : ncols;
	remote_table_add(t, header);
}

int
remote_table_add(struct remote_table *t, const char *const *cells)
{
	size_t i, len, ncap;
	char **nc, *s;

	if ((t->nrows + 1) * t->ncols > t->cap) {
		ncap = t->cap ? t->cap * 2 : t->ncols * 16;
		if ((nc = realloc(t->cells, ncap * sizeof(*nc))) == NULL)
			return -1;
		t->cells = nc;
		t->cap = ncap;
	}
	for (i = 0; i < t->ncols; i++) {
		if ((s = strdup(cells[i] != NULL ? cells[i] : "-")) == NULL) {
			while (i-- > 0)
				free(t->cells[t->nrows * t->ncols + i]);
			return -1;
		}
		for (len = 0; s[len] != '\0'; len++)
			if ((unsigned char)s[len] < 0x20 || s[len] == 0x7f)
				s[len] = '?';
		t->cells[t->nrows * t->ncols + i] = s;
		if (len > t->width[i])
			t->width[i] = len;
	}
	t->nrows++;
	return 0;
}

void
remote_table_print(struct remote_table *t, FILE *f)
{
	size_t r, i;
	char *s;

	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			s = t->cells[r * t->ncols + i];
			if (i + 1 < t->ncols)
				fprintf(f, "%-*s  ", (int)t->width[i], s);
			else
				fprintf(f, "%s\n", s);
			free(s);
		}
	}
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* --- the commands' shapes --- */

int
remote_ls(const struct cli_cmd *cmd, int argc, char **argv,
    const struct remote_opt *opts, const struct remote_ls *ls)
{
	struct remote_table t;
	struct remote_args a;
	json_object *reply, *arr;
	struct client *c;
	struct err e;
	size_t i, ncols = 0;
	int64_t now;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, opts, 1, 0, 0, "", &a)) != -1)
		return rc;
	if ((c = remote_open(cmd, a.socket)) == NULL)
		return CLI_EXIT_FAIL;
	err_clear(&e);
	if (client_call(c, "GET", ls->path, NULL, &reply, &e) == -1) {
		rc = cli_error(cmd, &e, NULL);
		client_free(c);
		return rc;
	}
	rc = CLI_EXIT_OK;
	if ((arr = remote_list(reply, ls->key, &e)) == NULL) {
		rc = cli_error(cmd, &e, NULL);
	} else if (cli_json) {
		cli_json_print(json_object_get(arr));
	} else {
		now = (int64_t)time(NULL);
		while (ncols < REMOTE_TABLE_COLS && ls->header[ncols] != NULL)
			ncols++;
		remote_table_init(&t, ncols, ls->header);
		for (i = 0; i < json_object_array_length(arr); i++)
			if (ls->row(&t, json_object_array_get_idx(arr, i),
			    now) == -1)
				break;
		remote_table_print(&t, stdout);
	}
	json_object_put(reply);
	client_free(c);
	return rc;
}

int
remote_subcommand(const struct cli_cmd *cmd, int argc, char **argv,
    const struct cli_cmd *const *subs)
{
	const char *word;
	size_t i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		cli_help(cmd, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (i = 0; subs[i] != NULL; i++) {
		word = strrchr(subs[i]->name, ' ');
		if (strcmp(word != NULL ? word + 1 : subs[i]->name,
		    argv[1]) == 0)
			return subs[i]->exec(subs[i], argc - 1, argv + 1);
	}
	return cli_usage(cmd, "unknown subcommand '%s'", argv[1]);
}
