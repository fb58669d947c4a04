/*
 * libxl-config.c - the pure half of the libxl backend: domain
 * configurations, handles, adoption records and outcomes (libxl-config.h).
 */
#include "config.h"

#include "libxl-config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl_utils.h>

/* Guest domids: 1 up to DOMID_FIRST_RESERVED (0x7ff0) less one. */
#define XLCFG_DOMID_MAX 0x7fef

/* The length of the UTF-8 sequence at (s), 0 if it is not one: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t
utf8_len(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int
xlcfg_check_text(const char *what, const char *s, struct err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (*p != '\0') {
		if ((n = utf8_len(p, &cp)) == 0)
			return err_set(e, ERR_INVALID,
			    "%s is not UTF-8 (byte %zu)", what,
			    (size_t)(p - (const unsigned char *)s));
		/* C0, DEL and C1: a kernel command line or a name has no
		 * use for them, and a log line would hide them */
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return err_set(e, ERR_INVALID,
			    "%s holds a control character (U+%04" PRIX32
			    " at byte %zu)", what, cp,
			    (size_t)(p - (const unsigned char *)s));
		p += n;
	}
	return 0;
}

static int
check_path(const char *what, const char *path, struct err *e)
{
	if (path == NULL || path[0] != '/')
		return err_set(e, ERR_INVALID, "%s must be an absolute path",
		    what);
	if (strlen(path) >= XLCFG_PATH_MAX)
		return err_set(e, ERR_INVALID, "%s is longer than %d bytes",
		    what, XLCFG_PATH_MAX - 1);
	return xlcfg_check_text(what, path, e);
}

static int
check_name(const char *name, struct err *e)
{
	if (name == NULL || name[0] == '\0')
		return err_set(e, ERR_INVALID, "the instance has no name");
	if (strlen(name) > XLCFG_NAME_MAX)
		return err_set(e, ERR_INVALID,
		    "instance name longer than %d bytes", XLCFG_NAME_MAX);
	/* xenconsoled and libxl make file names of domain names */
	if (strchr(name, '/') != NULL)
		return err_set(e, ERR_INVALID,
		    "instance name \"%s\" holds a '/'", name);
	return xlcfg_check_text("the instance name", name, e);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
xlcfg_uuid(const char *id, libxl_uuid *uuid, struct err *e)
{
	uint8_t *b = libxl_uuid_bytearray(uuid);
	int hi, lo;
	size_t i;

	if (id == NULL || strlen(id) != 32)
		return err_set(e, ERR_INVALID,
		    "instance id is not 32 hex digits");
	for (i = 0; i < 16; i++) {
		hi = hexval(id[2 * i]);
		lo = hexval(id[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return err_set(e, ERR_INVALID,
			    "instance id is not 32 hex digits");
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
dup_into(char **dst, const char *src, struct err *e)
{
	if ((*dst = strdup(src)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

/* A guest on the daemon's bridge: one PV vif (netfront's), "bridge=NAME,
 * mac=MAC", that libxl's vif-bridge hotplug script puts on the bridge. */
static int
add_vif(const struct backend_net *net, libxl_domain_config *cfg,
    struct err *e)
{
	libxl_device_nic *nic;

	if (net->mode == NETSPEC_NONE)
		return 0;
	if (net->mode != NETSPEC_BRIDGE)
		return err_set(e, ERR_INVALID, "network: Xen has no user "
		    "networking; only bridge mode");
	if (net->bridge == NULL || net->bridge[0] == '\0' ||
	    strlen(net->bridge) >= NETSPEC_IFNAME_MAX)
		return err_set(e, ERR_INVALID, "network: no bridge, or a name "
		    "longer than %d bytes", NETSPEC_IFNAME_MAX - 1);
	if (xlcfg_check_text("the bridge's name", net->bridge, e) == -1)
		return -1;
	if ((nic = calloc(1, sizeof(*nic))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	cfg->nics = nic;
	cfg->num_nics = 1;
	libxl_device_nic_init(nic);
	nic->nictype = LIBXL_NIC_TYPE_VIF;
	memcpy(nic->mac, net->mac, sizeof(nic->mac));
	return dup_into(&nic->bridge, net->bridge, e);
}

int
xlcfg_build(const struct backend_spec *spec, libxl_domain_config *cfg,
    struct err *e)
{
	libxl_domain_create_info *c = &cfg->c_info;
	libxl_domain_build_info *b = &cfg->b_info;
	const char *cmdline = spec->cmdline != NULL ? spec->cmdline : "";
	int has_initrd = spec->initrd != NULL && spec->initrd[0] != '\0';
	uint64_t memkb;
	unsigned long shadow;
	size_t len;

	if (check_name(spec->name, e) == -1 ||
	    check_path("the kernel path", spec->kernel, e) == -1 ||
	    (has_initrd &&
		check_path("the boot module path", spec->initrd, e) == -1))
		return -1;
	if (strlen(cmdline) > XLCFG_CMDLINE_MAX)
		return err_set(e, ERR_INVALID,
		    "command line longer than %d bytes (the runtime's limit)",
		    XLCFG_CMDLINE_MAX);
	if (xlcfg_check_text("the command line", cmdline, e) == -1)
		return -1;
	if (spec->memory_mib < XLCFG_MEMORY_MIN ||
	    spec->memory_mib > XLCFG_MEMORY_MAX)
		return err_set(e, ERR_INVALID,
		    "memory of %" PRIu32 " MiB is out of range (%d to %d)",
		    spec->memory_mib, XLCFG_MEMORY_MIN, XLCFG_MEMORY_MAX);
	if (spec->vcpus > 1)
		return err_set(e, ERR_INVALID,
		    "%" PRIu32 " vCPUs asked for: the runtime runs on one",
		    spec->vcpus);

	c->type = LIBXL_DOMAIN_TYPE_PVH;
	if (xlcfg_uuid(spec->id, &c->uuid, e) == -1)
		return -1;
	len = strlen(XLCFG_PREFIX) + strlen(spec->name) + 1;
	if ((c->name = malloc(len)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	snprintf(c->name, len, "%s%s", XLCFG_PREFIX, spec->name);

	libxl_domain_build_info_init_type(b, LIBXL_DOMAIN_TYPE_PVH);
	b->max_vcpus = 1;
	memkb = (uint64_t)spec->memory_mib * 1024;
	b->max_memkb = memkb;
	b->target_memkb = memkb;
	shadow = libxl_get_required_shadow_memory((unsigned long)memkb, 1);
	b->shadow_memkb = shadow < XLCFG_SHADOW_MIN_KB ?
	    XLCFG_SHADOW_MIN_KB : shadow;
	if (dup_into(&b->kernel, spec->kernel, e) == -1)
		return -1;
	if (has_initrd && dup_into(&b->ramdisk, spec->initrd, e) == -1)
		return -1;
	if (cmdline[0] != '\0' && dup_into(&b->cmdline, cmdline, e) == -1)
		return -1;

	/* preserve: the domain stays, shut down, until the backend has
	 * read why and destroys it (backend-libxl.c) */
	cfg->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	cfg->on_crash = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	cfg->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	cfg->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	cfg->on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	return add_vif(&spec->net, cfg, e);
}

char *
xlcfg_json(libxl_domain_config *cfg, struct err *e)
{
	char *json;

	/* libxl's generated writers use the context for their error log
	 * only; 4.17 takes NULL (tests/unit/test-libxl-config.c shows it) */
	if ((json = libxl_domain_config_to_json(NULL, cfg)) == NULL)
		err_set(e, ERR_NOMEM, "libxl could not write the domain "
		    "configuration as JSON");
	return json;
}

void
xlcfg_handle(uint32_t domid, const libxl_uuid *uuid,
    char handle[BACKEND_HANDLE_MAX])
{
	snprintf(handle, BACKEND_HANDLE_MAX, "%" PRIu32 ":" LIBXL_UUID_FMT,
	    domid, LIBXL_UUID_BYTES(*uuid));
}

int
xlcfg_handle_parse(const char *handle, uint32_t *domid, libxl_uuid *uuid,
    struct err *e)
{
	/* where the hyphens of the 8-4-4-4-12 form are */
	static const char dash[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	uint8_t *b = libxl_uuid_bytearray(uuid);
	const char *p = handle, *u;
	uint32_t d = 0;
	size_t i, k;

	if (handle == NULL)
		return err_set(e, ERR_INVALID, "no handle");
	for (; *p >= '0' && *p <= '9' && p - handle < 6; p++)
		d = d * 10 + (uint32_t)(*p - '0');
	if (p == handle || *p != ':' || (handle[0] == '0' && p - handle > 1) ||
	    d == 0 || d > XLCFG_DOMID_MAX)
		goto bad;
	u = p + 1;
	if (strlen(u) != sizeof(dash) - 1)
		goto bad;
	for (i = 0, k = 0; i < sizeof(dash) - 1; i++) {
		if (dash[i] == '-') {
			if (u[i] != '-')
				goto bad;
			continue;
		}
		if (hexval(u[i]) < 0)
			goto bad;
		if (k % 2 == 0)
			b[k / 2] = (uint8_t)(hexval(u[i]) << 4);
		else
			b[k / 2] |= (uint8_t)hexval(u[i]);
		k++;
	}
	*domid = d;
	return 0;
bad:
	return err_set(e, ERR_INVALID,
	    "\"%.80s\" is not a libxl backend handle (DOMID:UUID)", handle);
}

int
xlcfg_userdata(const struct backend_spec *spec, char *buf, size_t size,
    struct err *e)
{
	int n;

	if (check_path("the console log path", spec->console_log, e) == -1)
		return -1;
	n = snprintf(buf, size, "console_log=%s\n", spec->console_log);
	if (n < 0 || (size_t)n >= size)
		return err_set(e, ERR_INVALID, "console log path too long");
	return 0;
}

int
xlcfg_userdata_parse(const char *data, size_t len, char *path, size_t size,
    struct err *e)
{
	static const char key[] = "console_log=";
	size_t n;

	if (len < sizeof(key) || memcmp(data, key, sizeof(key) - 1) != 0 ||
	    data[len - 1] != '\n')
		return err_set(e, ERR_INVALID,
		    "the domain's unikerneld record is malformed");
	n = len - sizeof(key);	/* less the key and the newline */
	if (n >= size || n >= XLCFG_PATH_MAX ||
	    memchr(data + sizeof(key) - 1, '\0', n) != NULL)
		return err_set(e, ERR_INVALID,
		    "the domain's unikerneld record is malformed");
	memcpy(path, data + sizeof(key) - 1, n);
	path[n] = '\0';
	return check_path("the recorded console log path", path, e);
}

static const char *
reason_name(int reason)
{
	switch (reason) {
	case LIBXL_SHUTDOWN_REASON_POWEROFF:
		return "poweroff";
	case LIBXL_SHUTDOWN_REASON_REBOOT:
		return "reboot";
	case LIBXL_SHUTDOWN_REASON_SUSPEND:
		return "suspend";
	case LIBXL_SHUTDOWN_REASON_CRASH:
		return "crash";
	case LIBXL_SHUTDOWN_REASON_WATCHDOG:
		return "watchdog";
	case LIBXL_SHUTDOWN_REASON_SOFT_RESET:
		return "soft_reset";
	default:
		return "unknown";
	}
}

void
xlcfg_outcome(int stopped, int shutdown, int reason, const struct trailer *t,
    struct backend_event *ev, char *buf, size_t size)
{
	int crash_trailer = t != NULL && t->kind == TRAILER_CRASH;

	ev->exit_code = -1;
	ev->reason = buf;
	if (stopped) {
		ev->kind = BACKEND_EVENT_STOPPED;
		snprintf(buf, size, "stopped by unikerneld");
	} else if (!shutdown) {
		ev->kind = BACKEND_EVENT_FAILED;
		snprintf(buf, size,
		    "the domain vanished (destroyed outside unikerneld)");
	} else if (reason == LIBXL_SHUTDOWN_REASON_POWEROFF) {
		/* Xen's word decides between an exit and a crash; the
		 * console, which the guest writes, only gives the code */
		ev->kind = BACKEND_EVENT_EXITED;
		if (t != NULL && t->kind == TRAILER_EXIT) {
			ev->exit_code = t->code;
			snprintf(buf, size, "exited with code %d", t->code);
		} else
			snprintf(buf, size, "powered off without an exit "
			    "code on its console");
	} else {
		ev->kind = BACKEND_EVENT_CRASHED;
		if (crash_trailer)
			snprintf(buf, size, "crashed: %s", t->reason);
		else if (reason == LIBXL_SHUTDOWN_REASON_CRASH)
			snprintf(buf, size, "crashed");
		else if (reason == LIBXL_SHUTDOWN_REASON_REBOOT)
			snprintf(buf, size,
			    "crashed: asked Xen for a reboot (a triple fault)");
		else
			snprintf(buf, size, "crashed: shut down with reason %s",
			    reason_name(reason));
	}
}
