#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image.h"

static const char help[] =
    "Options:\n"
    "  --kernel FILE      the kernel: an x86 ELF with a PVH entry note\n"
    "  --initrd FILE      data handed to the guest as its first boot module\n"
    "  --cmdline STRING   default kernel command line (at most 2048 bytes)\n"
    "  --name NAME        [a-z0-9][a-z0-9._-]{0,63}\n"
    "  --version VERSION  a 0install version, e.g. 1.2 or 1.2-rc1\n"
    "  --memory MIB       memory the guest needs, 1..65536 (default 16)\n"
    "  --vcpus N          virtual CPUs, 1..64 (default 1)\n"
    "  --net N            network interfaces it needs, 0..8 (default 0)\n"
    "  --platform LIST    kvm, xen or kvm,xen (default kvm,xen)\n"
    "  --no-console       the kernel writes no console\n"
    "  -o, --output FILE  the image to write (.ukimg), replaced atomically\n"
    "  --json             print the result (or the error) as JSON\n"
    "  -h, --help         this help\n";

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_NAME, OPT_VERSION,
	OPT_MEMORY, OPT_VCPUS, OPT_NET, OPT_PLATFORM, OPT_NO_CONSOLE, OPT_JSON
};

static const struct option longopts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "net", required_argument, NULL, OPT_NET },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "no-console", no_argument, NULL, OPT_NO_CONSOLE },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Decimal only: "0x10" or "16M" are mistakes worth reporting. */
static int
parse_u32(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static const char *
hint_for(const struct err *e)
{
	if (strncmp(e->code, "elf_", 4) == 0)
		return "the kernel must be an x86 ELF executable with a PVH "
		    "entry note (Xen ELF note 18, XEN_ELFNOTE_PHYS32_ENTRY)";
	if (strcmp(e->code, "manifest_bad_name") == 0)
		return "--name takes 1 to 64 of a-z 0-9 . _ -, starting with "
		    "a letter or digit";
	if (strcmp(e->code, "manifest_bad_version") == 0)
		return "--version takes a 0install version such as 1.2 or "
		    "1.2-rc1";
	if (strcmp(e->code, "manifest_out_of_range") == 0)
		return "see 'uk pack --help' for the ranges";
	if (strcmp(e->code, "img_entry_too_large") == 0)
		return "kernels may be 64 MiB, initrds 1 GiB";
	return NULL;
}

static int
set_number(const struct cli_cmd *cmd, const char *opt, const char *arg,
    uint32_t *out)
{
	if (parse_u32(arg, out) == -1)
		return cli_usage(cmd, "%s: '%s' is not a number", opt, arg);
	return 0;
}

/* One option into (o); 0, or the exit status of a usage error, or -1 for
 * --help. */
static int
set_opt(const struct cli_cmd *cmd, int c, char **argv,
    struct img_pack_opts *o)
{
	switch (c) {
	case OPT_KERNEL:
		o->kernel = optarg;
		return 0;
	case OPT_INITRD:
		o->initrd = optarg;
		return 0;
	case OPT_CMDLINE:
		o->cmdline = optarg;
		return 0;
	case OPT_NAME:
		o->name = optarg;
		return 0;
	case OPT_VERSION:
		o->version = optarg;
		return 0;
	case OPT_MEMORY:
		return set_number(cmd, "--memory", optarg, &o->memory_mib);
	case OPT_VCPUS:
		return set_number(cmd, "--vcpus", optarg, &o->vcpus);
	case OPT_NET:
		return set_number(cmd, "--net", optarg, &o->net);
	case OPT_PLATFORM:
		if (manifest_platforms_parse(optarg, &o->platforms) == -1)
			return cli_usage(cmd, "--platform: '%s' is not a list "
			    "of kvm and xen", optarg);
		return 0;
	case OPT_NO_CONSOLE:
		o->console = 0;
		return 0;
	case 'o':
		o->out = optarg;
		return 0;
	case OPT_JSON:
		cli_json = 1;
		return 0;
	case 'h':
		return -1;
	case ':':
		return cli_usage(cmd, "%s needs a value", argv[optind - 1]);
	default:
		return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
	}
}

static int
parse_args(const struct cli_cmd *cmd, int argc, char **argv,
    struct img_pack_opts *o)
{
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1)
		if ((rc = set_opt(cmd, c, argv, o)) != 0)
			return rc;
	if (optind < argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (o->kernel == NULL)
		return cli_usage(cmd, "--kernel is required");
	if (o->name == NULL)
		return cli_usage(cmd, "--name is required");
	if (o->version == NULL)
		return cli_usage(cmd, "--version is required");
	if (o->out == NULL)
		return cli_usage(cmd, "-o (the output image) is required");
	return 0;
}

static void
print_result(const char *path, const struct img_pack_result *res)
{
	char hex[SHA256_HEX_LEN + 1];
	json_object *o;

	hex_encode(res->sha256, SHA256_LEN, hex);
	if (!cli_json) {
		printf("path    %s\nsize    %llu\nsha256  %s\n", path,
		    (unsigned long long)res->size, hex);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "size",
	    json_object_new_int64((int64_t)res->size));
	json_object_object_add(o, "sha256", json_object_new_string(hex));
	json_object_object_add(o, "name",
	    json_object_new_string(res->manifest.name));
	json_object_object_add(o, "version",
	    json_object_new_string(res->manifest.version));
	cli_json_print(o);
}

static int
exec_pack(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct img_pack_opts o = {
		.memory_mib = 16, .vcpus = 1, .net = 0, .console = 1,
		.platforms = MANIFEST_PLATFORMS_ALL,
	};
	struct img_pack_result res;
	struct err e;
	const char *hint;
	int rc;

	if ((rc = parse_args(cmd, argc, argv, &o)) != 0)
		return rc == -1 ? cli_help(cmd, stdout) : rc;
	err_clear(&e);
	if (img_pack(&o, &res, &e) == -1) {
		hint = hint_for(&e);
		return hint != NULL ? cli_error(cmd, &e, "%s", hint) :
		    cli_error(cmd, &e, NULL);
	}
	print_result(o.out, &res);
	return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_pack = {
	"pack",
	"--kernel FILE [--initrd FILE] [--cmdline STRING] --name NAME "
	    "--version VERSION [--memory MIB] [--vcpus N] [--net N] "
	    "[--platform kvm,xen] [--no-console] -o FILE.ukimg [--json]",
	"build an image (.ukimg) from a PVH kernel and an optional initrd",
	help,
	exec_pack,
};
