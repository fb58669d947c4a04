/*
 * uk select - which implementation of a local feed this host would run.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "feed.h"
#include "fileio.h"
#include "select.h"
#include "version.h"

#define HREF_MAX (2 * FEED_URL_MAX + 2)

struct select_opts {
	struct select_policy policy;
	const char *path;
	int explain;
};

static const struct option long_opts[] = {
	{ "arch", required_argument, NULL, 'a' },
	{ "platform", required_argument, NULL, 'p' },
	{ "version", required_argument, NULL, 'v' },
	{ "stability", required_argument, NULL, 's' },
	{ "memory", required_argument, NULL, 'm' },
	{ "net", required_argument, NULL, 'n' },
	{ "explain", no_argument, NULL, 'x' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
parse_count(const char *s, unsigned long max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
set_platform(const struct cli_cmd *cmd, const char *s, unsigned *bit)
{
	if (strcmp(s, "any") == 0) {
		*bit = 0;
		return 0;
	}
	if (feed_platform_parse(s, bit) == -1)
		return cli_usage(cmd, "--platform: '%s' is not kvm, xen or any",
		    s);
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int
parse_option(const struct cli_cmd *cmd, int c, struct select_opts *o)
{
	struct select_policy *p = &o->policy;

	switch (c) {
	case 'a':
		p->arch = optarg;
		return -1;
	case 'p':
		if (set_platform(cmd, optarg, &p->platform) != 0)
			return CLI_EXIT_USAGE;
		return -1;
	case 'v':
		p->range_text = optarg;
		return -1;
	case 's':
		if (feed_stability_parse(optarg, &p->stability) == -1)
			return cli_usage(cmd, "--stability: '%s' is not "
			    "stable, testing, developer, buggy or insecure",
			    optarg);
		return -1;
	case 'm':
		if (parse_count(optarg, FEED_MEMORY_MAX, &p->memory) == -1 ||
		    p->memory == 0)
			return cli_usage(cmd, "--memory: '%s' is not a number "
			    "of MiB from 1 to %u", optarg, FEED_MEMORY_MAX);
		return -1;
	case 'n':
		if (parse_count(optarg, 1024, &p->net) == -1)
			return cli_usage(cmd, "--net: '%s' is not a count of "
			    "network interfaces", optarg);
		return -1;
	case 'x':
		o->explain = 1;
		return -1;
	case 'j':
		cli_json = 1;
		return -1;
	case 'h':
		return cli_help(cmd, stdout);
	default:
		return cli_usage(cmd, "unknown option");
	}
}

static int
parse_args(const struct cli_cmd *cmd, int argc, char **argv,
    struct select_opts *o)
{
	int c, r;

	select_policy_init(&o->policy);
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1)
		if ((r = parse_option(cmd, c, o)) != -1)
			return r;
	if (optind != argc - 1)
		return cli_usage(cmd, optind >= argc ? "no FEED given" :
		    "one FEED only");
	o->path = argv[optind];
	return -1;
}

static int
load_feed(const struct cli_cmd *cmd, const char *path, struct feed **f)
{
	struct err e;
	size_t len;
	char *buf;

	err_clear(&e);
	if (fileio_read(path, FEED_MAX_SIZE, &buf, &len, &e) == -1)
		return cli_error(cmd, &e, "FEED is the path of a feed file");
	if (feed_parse(buf, len, f, &e) == -1) {
		free(buf);
		err_prefix(&e, "%s", path);
		return cli_error(cmd, &e, "the feed is not valid; see "
		    "uk-feed(5)");
	}
	free(buf);
	return CLI_EXIT_OK;
}

/* "stability testing is not admitted by policy stable; needs ..." */
static void
reasons_line(const struct feed *f, const struct select_opts *o,
    const struct select_result *r, size_t i, char *buf, size_t bufsz)
{
	char one[256];
	size_t len = 0;
	unsigned k;

	buf[0] = '\0';
	for (k = 0; k < SELECT_R_COUNT; k++) {
		if (!(r->reasons[i] & (1u << k)))
			continue;
		select_reason_text(f, &o->policy, r, i, 1u << k, one,
		    sizeof(one));
		if (len < bufsz)
			len += (size_t)snprintf(buf + len, bufsz - len, "%s%s",
			    len ? "; " : "", one);
	}
}

static void
print_explain(const struct feed *f, const struct select_opts *o,
    const struct select_result *r)
{
	char line[1024];
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->found && i == r->chosen)
			continue;
		reasons_line(f, o, r, i, line, sizeof(line));
		printf("rejected %s (%s): %s\n", f->impls[i].version,
		    f->impls[i].arch, line);
	}
}

static json_object *
json_rejected(const struct feed *f, const struct select_opts *o,
    const struct select_result *r)
{
	json_object *a = json_object_new_array(), *it, *rs, *one;
	char text[256];
	size_t i;
	unsigned k;

	for (i = 0; i < r->n; i++) {
		if (r->found && i == r->chosen)
			continue;
		it = json_object_new_object();
		json_object_object_add(it, "version",
		    json_object_new_string(f->impls[i].version));
		json_object_object_add(it, "arch",
		    json_object_new_string(f->impls[i].arch));
		rs = json_object_new_array();
		for (k = 0; k < SELECT_R_COUNT; k++) {
			if (!(r->reasons[i] & (1u << k)))
				continue;
			select_reason_text(f, &o->policy, r, i, 1u << k, text,
			    sizeof(text));
			one = json_object_new_object();
			json_object_object_add(one, "code",
			    json_object_new_string(
			    select_reason_name(1u << k)));
			json_object_object_add(one, "message",
			    json_object_new_string(text));
			json_object_array_add(rs, one);
		}
		json_object_object_add(it, "reasons", rs);
		json_object_array_add(a, it);
	}
	return a;
}

static json_object *
json_selected(const struct feed_impl *impl, const char *href)
{
	json_object *o = json_object_new_object(), *pl, *mi;
	size_t i;

	pl = json_object_new_array();
	if (impl->platforms & FEED_PLATFORM_KVM)
		json_object_array_add(pl, json_object_new_string("kvm"));
	if (impl->platforms & FEED_PLATFORM_XEN)
		json_object_array_add(pl, json_object_new_string("xen"));
	mi = json_object_new_array();
	for (i = 0; i < impl->image.nmirrors; i++)
		json_object_array_add(mi,
		    json_object_new_string(impl->image.mirrors[i]));
	json_object_object_add(o, "version",
	    json_object_new_string(impl->version));
	json_object_object_add(o, "arch", json_object_new_string(impl->arch));
	json_object_object_add(o, "stability",
	    json_object_new_string(feed_stability_name(impl->stability)));
	json_object_object_add(o, "released",
	    json_object_new_string(impl->released));
	json_object_object_add(o, "platforms", pl);
	json_object_object_add(o, "memory",
	    json_object_new_int64(impl->requires.memory));
	json_object_object_add(o, "net",
	    json_object_new_int64(impl->requires.net));
	json_object_object_add(o, "href", json_object_new_string(href));
	json_object_object_add(o, "size",
	    json_object_new_int64((int64_t)impl->image.size));
	json_object_object_add(o, "sha256",
	    json_object_new_string(impl->image.sha256));
	json_object_object_add(o, "mirrors", mi);
	return o;
}

static void
print_json(const struct feed *f, const struct select_opts *o,
    const struct select_result *r, const char *href, const struct err *e)
{
	json_object *root = json_object_new_object(), *er;

	json_object_object_add(root, "feed", json_object_new_string(f->uri));
	json_object_object_add(root, "selected", r->found ?
	    json_selected(&f->impls[r->chosen], href) : NULL);
	json_object_object_add(root, "rejected", json_rejected(f, o, r));
	if (e != NULL) {
		er = json_object_new_object();
		json_object_object_add(er, "code",
		    json_object_new_string(e->code));
		json_object_object_add(er, "message",
		    json_object_new_string(e->msg));
		json_object_object_add(root, "error", er);
	}
	cli_json_print(root);
}

static void
print_text(const struct feed *f, const struct select_opts *o,
    const struct select_result *r, const char *href)
{
	const struct feed_impl *impl = &f->impls[r->chosen];

	printf("%-9s %s\n", "version", impl->version);
	printf("%-9s %s\n", "arch", impl->arch);
	printf("%-9s %s\n", "stability", feed_stability_name(impl->stability));
	printf("%-9s %s\n", "href", href);
	printf("%-9s %llu\n", "size", (unsigned long long)impl->image.size);
	printf("%-9s %s\n", "sha256", impl->image.sha256);
	if (o->explain)
		print_explain(f, o, r);
}

static int
report_no_match(const struct cli_cmd *cmd, const struct feed *f,
    const struct select_opts *o, const struct select_result *r,
    const struct err *e)
{
	if (cli_json) {
		print_json(f, o, r, NULL, e);
		/* The error is in the JSON already; stderr gets the text. */
		cli_json = 0;
	} else if (o->explain)
		print_explain(f, o, r);
	return cli_error(cmd, e, o->explain ? "relax the policy (--stability, "
	    "--version, --platform, --memory)" : "run again with --explain "
	    "to see why each was rejected");
}

static int
run(const struct cli_cmd *cmd, struct select_opts *o, struct feed *f)
{
	static struct select_result r;
	char href[HREF_MAX];
	struct err e;

	err_clear(&e);
	if (select_run(f, &o->policy, &r, &e) == -1) {
		if (strcmp(e.code, "select_no_match") != 0)
			return cli_error(cmd, &e, NULL);
		return report_no_match(cmd, f, o, &r, &e);
	}
	if (feed_resolve_href(f->uri, f->impls[r.chosen].image.href, href,
	    sizeof(href), &e) == -1)
		return cli_error(cmd, &e, "the feed's href is not usable");
	if (cli_json)
		print_json(f, o, &r, href, NULL);
	else
		print_text(f, o, &r, href);
	return CLI_EXIT_OK;
}

static int
exec_select(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct version_range *range = NULL;
	struct select_opts o = { 0 };
	struct feed *f = NULL;
	struct err e;
	int rc;

	if ((rc = parse_args(cmd, argc, argv, &o)) != -1)
		return rc;
	err_clear(&e);
	if (o.policy.range_text != NULL &&
	    (range = version_range_parse(o.policy.range_text, &e)) == NULL)
		return cli_usage(cmd, "--version: %s", e.msg);
	o.policy.range = range;
	if ((rc = load_feed(cmd, o.path, &f)) == CLI_EXIT_OK)
		rc = run(cmd, &o, f);
	feed_free(f);
	version_range_free(range);
	return rc;
}

const struct cli_cmd cli_cmd_select = {
	"select",
	"[--arch A] [--platform P] [--version RANGE] [--stability S]\n"
	"    [--memory MiB] [--net N] [--explain] [--json] FEED",
	"choose the implementation of a local feed this host would run",
	"  --arch A         architecture to select for (default x86_64)\n"
	"  --platform P     kvm, xen or any (default any)\n"
	"  --version RANGE  versions to consider: 1.2..!2.0, 1.2.., ..!2.0,\n"
	"                   >=1.2, <2.0, !1.3, 1.4, alternatives joined by |\n"
	"  --stability S    least stability admitted: stable (default),\n"
	"                   testing or developer; buggy or insecure admit\n"
	"                   developer and up plus that one level\n"
	"  --memory MiB     memory available; larger requirements rejected\n"
	"  --net N          network interfaces available\n"
	"  --explain        say why each other implementation was passed over\n"
	"  --json           print {selected, rejected} as JSON\n"
	"  -h, --help       show this help\n"
	"\n"
	"FEED is a feed file on this machine; nothing is fetched and its\n"
	"signature is NOT checked here (use 'uk feed verify' for that).\n"
	"Exit status: 0 chosen, 1 nothing fits (select_no_match) or the feed\n"
	"is invalid, 2 bad command line.\n",
	exec_select,
};
