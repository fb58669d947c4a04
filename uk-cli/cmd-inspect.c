#include "config.h"

#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "image.h"

static const char help[] =
    "Validates IMAGE completely (archive, manifest, digests, kernel) and\n"
    "prints its manifest, its entries and the SHA-256 of the whole file,\n"
    "the digest feeds pin.\n"
    "\n"
    "Options:\n"
    "  --json       print the result (or the error) as JSON\n"
    "  -h, --help   this help\n";

static const struct option longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
platforms_str(unsigned bits, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s%s%s", bits & MANIFEST_PLATFORM_KVM ? "kvm" : "",
	    bits == MANIFEST_PLATFORMS_ALL ? "," : "",
	    bits & MANIFEST_PLATFORM_XEN ? "xen" : "");
}

static void
print_text(const char *path, struct img *img)
{
	const struct img_view *v = img_view(img);
	const struct manifest *m = &v->manifest;
	char hex[SHA256_HEX_LEN + 1], plat[16];
	uint8_t sha[SHA256_LEN];
	int id;

	img_sha256(img, sha);
	hex_encode(sha, SHA256_LEN, hex);
	platforms_str(m->platforms, plat, sizeof(plat));
	printf("image      %s\nsize       %llu\nsha256     %s\n", path,
	    (unsigned long long)img_size(img), hex);
	printf("format     %d\nname       %s\nversion    %s\narch       x86_64\n"
	    "boot       pvh\nplatforms  %s\nmemory     %u MiB\nvcpus      %u\n"
	    "net        %u\nconsole    %s\ncmdline    %s\n", MANIFEST_FORMAT,
	    m->name, m->version, plat, (unsigned)m->memory_mib,
	    (unsigned)m->vcpus, (unsigned)m->net, m->console ? "yes" : "no",
	    m->cmdline);
	printf("kernel     ELF%d, PVH entry 0x%llx\nentries:\n", v->kernel.bits,
	    (unsigned long long)v->kernel.entry);
	for (id = 0; id < IMG_NENTRIES; id++) {
		if (!v->entry[id].present)
			continue;
		hex_encode(v->entry[id].sha256, SHA256_LEN, hex);
		printf("  %-13s %10llu  %s\n", img_entry_name(id),
		    (unsigned long long)v->entry[id].size, hex);
	}
}

static json_object *
manifest_json(const struct manifest *m)
{
	json_object *o = json_object_new_object(), *plat, *dev;

	plat = json_object_new_array();
	if (m->platforms & MANIFEST_PLATFORM_KVM)
		json_object_array_add(plat, json_object_new_string("kvm"));
	if (m->platforms & MANIFEST_PLATFORM_XEN)
		json_object_array_add(plat, json_object_new_string("xen"));
	dev = json_object_new_object();
	json_object_object_add(dev, "net", json_object_new_int(m->net));
	json_object_object_add(dev, "console",
	    json_object_new_boolean(m->console));
	json_object_object_add(o, "format",
	    json_object_new_int(MANIFEST_FORMAT));
	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "version",
	    json_object_new_string(m->version));
	json_object_object_add(o, "arch", json_object_new_string("x86_64"));
	json_object_object_add(o, "boot", json_object_new_string("pvh"));
	json_object_object_add(o, "platforms", plat);
	json_object_object_add(o, "memory", json_object_new_int(
	    (int32_t)m->memory_mib));
	json_object_object_add(o, "vcpus", json_object_new_int(
	    (int32_t)m->vcpus));
	json_object_object_add(o, "devices", dev);
	json_object_object_add(o, "cmdline",
	    json_object_new_string(m->cmdline));
	return o;
}

static json_object *
entries_json(const struct img_view *v)
{
	json_object *arr = json_object_new_array(), *o;
	char hex[SHA256_HEX_LEN + 1];
	int id;

	for (id = 0; id < IMG_NENTRIES; id++) {
		if (!v->entry[id].present)
			continue;
		hex_encode(v->entry[id].sha256, SHA256_LEN, hex);
		o = json_object_new_object();
		json_object_object_add(o, "name",
		    json_object_new_string(img_entry_name(id)));
		json_object_object_add(o, "offset",
		    json_object_new_int64((int64_t)v->entry[id].offset));
		json_object_object_add(o, "size",
		    json_object_new_int64((int64_t)v->entry[id].size));
		json_object_object_add(o, "sha256",
		    json_object_new_string(hex));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void
print_json(const char *path, struct img *img)
{
	const struct img_view *v = img_view(img);
	json_object *o = json_object_new_object(), *k;
	char hex[SHA256_HEX_LEN + 1];
	uint8_t sha[SHA256_LEN];

	img_sha256(img, sha);
	hex_encode(sha, SHA256_LEN, hex);
	k = json_object_new_object();
	json_object_object_add(k, "bits", json_object_new_int(v->kernel.bits));
	json_object_object_add(k, "pvh_entry",
	    json_object_new_int64((int64_t)v->kernel.entry));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "size",
	    json_object_new_int64((int64_t)img_size(img)));
	json_object_object_add(o, "sha256", json_object_new_string(hex));
	json_object_object_add(o, "manifest", manifest_json(&v->manifest));
	json_object_object_add(o, "kernel", k);
	json_object_object_add(o, "entries", entries_json(v));
	cli_json_print(o);
}

static int
exec_inspect(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct img *img;
	struct err e;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd, stdout);
		if (c != 'j')
			return cli_usage(cmd, "unknown option '%s'",
			    argv[optind - 1]);
		cli_json = 1;
	}
	if (argc - optind != 1)
		return cli_usage(cmd, "expected one IMAGE");
	err_clear(&e);
	if ((img = img_open(argv[optind], &e)) == NULL)
		return cli_error(cmd, &e, "%s", strcmp(e.code, ERR_IO) == 0 ?
		    "check the path" : "the file is not a valid image; "
		    "docs/image-format.md explains each error code");
	if (cli_json)
		print_json(argv[optind], img);
	else
		print_text(argv[optind], img);
	img_close(img);
	return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_inspect = {
	"inspect",
	"IMAGE [--json]",
	"validate an image and show its manifest, entries and digest",
	help,
	exec_inspect,
};
