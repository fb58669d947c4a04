/*
 * uk inspect: an image file, validated completely, or an instance of
 * unikerneld (GET /v1/instances/NAME).  An operand that exists as a file,
 * ends in .ukimg or holds a '/' (never in an instance's name) is an image.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "image.h"
#include "remote.h"

static const char help[] =
    "With IMAGE (a file that exists, or a name ending in .ukimg): validates\n"
    "it completely (archive, manifest, digests, kernel) and prints its\n"
    "manifest, its entries and the SHA-256 of the whole file, the digest\n"
    "feeds pin.\n"
    "With NAME, an instance of unikerneld: prints it as the API returns it,\n"
    "as JSON (docs/api.md).\n"
    "\n"
    "Options:\n"
    "  --json          print the result (or the error) as JSON\n"
    "  --socket PATH   unikerneld's socket, for NAME (default: $UK_SOCKET,\n"
    "                  else /run/unikerneld.sock)\n"
    "  -h, --help      this help\n";

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
inspect_image(const struct cli_cmd *cmd, const char *path)
{
	struct img *img;
	struct err e;

	err_clear(&e);
	if ((img = img_open(path, &e)) == NULL)
		return cli_error(cmd, &e, "%s", strcmp(e.code, ERR_IO) == 0 ?
		    "check the path" : "the file is not a valid image; "
		    "docs/image-format.md explains each error code");
	if (cli_json)
		print_json(path, img);
	else
		print_text(path, img);
	img_close(img);
	return CLI_EXIT_OK;
}

static int
inspect_instance(const struct cli_cmd *cmd, const char *name,
    const char *socket)
{
	char path[CLIENT_PATH_MAX];
	json_object *inst;
	struct client *c;
	struct err e;
	int rc;

	err_clear(&e);
	if (client_path(path, sizeof(path), "/v1/instances/", name, NULL,
	    &e) == -1)
		return cli_error(cmd, &e, NULL);
	if ((c = remote_open(cmd, socket)) == NULL)
		return CLI_EXIT_FAIL;
	if (client_call(c, "GET", path, NULL, &inst, &e) == -1) {
		if (strcmp(e.code, "store_not_found") == 0)
			rc = cli_error(cmd, &e, "'%s' is no file here and no "
			    "instance ('uk ps' lists them)", name);
		else
			rc = cli_error(cmd, &e, NULL);
	} else {
		cli_json_print(inst);
		rc = CLI_EXIT_OK;
	}
	client_free(c);
	return rc;
}

static int
exec_inspect(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct remote_args a;
	const char *arg;
	size_t len;
	int rc;

	if ((rc = remote_parse(cmd, argc, argv, NULL, 1, 1, 1, "IMAGE or NAME",
	    &a)) != -1)
		return rc;
	arg = a.operands[0];
	len = strlen(arg);
	if (access(arg, F_OK) == 0 || strchr(arg, '/') != NULL ||
	    (len >= 6 && strcmp(arg + len - 6, ".ukimg") == 0))
		return inspect_image(cmd, arg);
	return inspect_instance(cmd, arg, a.socket);
}

const struct cli_cmd cli_cmd_inspect = {
	"inspect",
	"IMAGE|NAME [--json] [--socket PATH]",
	"validate an image and show its manifest, or show an instance",
	help,
	exec_inspect,
};
