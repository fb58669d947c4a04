/*
 * test-libxl-config - the libxl backend's pure half, without a hypervisor:
 * the domain configuration of several specs against golden files of
 * libxl's own JSON (tests/data/libxl/, escaping included), every refusal,
 * handles, the adoption record and the outcome of each kind of end.
 *
 * UK_REGENERATE_GOLDEN=1 rewrites the golden files from what libxl prints
 * now (after a libxl update; review the diff).
 */
#include "config.h"

#include "libxl-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fileio.h"
#include "tap.h"

#define ID "0123456789abcdef0123456789ABCDEF"

/* Every field set, the base of each case. */
static struct backend_spec
spec_base(void)
{
	struct backend_spec s = {
		.name = "hello",
		.id = ID,
		.kernel = "/var/lib/unikerneld/images/sha256/hello.elf",
		.initrd = NULL,
		.cmdline = "exit=3",
		.memory_mib = 32,
		.vcpus = 1,
		.console_log =
		    "/var/lib/unikerneld/instances/" ID "/console.log",
		.run_dir = "/run/unikerneld/" ID,
	};
	return s;
}

/* What xlcfg_build() and xlcfg_json() make of (s): the JSON, or NULL with
 * (e) set. */
static char *
json_of(const struct backend_spec *s, struct err *e)
{
	libxl_domain_config cfg;
	char *json = NULL;

	err_clear(e);
	libxl_domain_config_init(&cfg);
	if (xlcfg_build(s, &cfg, e) == 0)
		json = xlcfg_json(&cfg, e);
	libxl_domain_config_dispose(&cfg);
	return json;
}

/* (got) against tests/data/libxl/(name): equal as JSON values (libxl's
 * layout may change between versions; its content must not). */
static void
golden(const char *name, const char *got)
{
	const char *top = getenv("top_srcdir");
	const char *regen = getenv("UK_REGENERATE_GOLDEN");
	json_object *a = NULL, *b = NULL;
	char path[4096], *want = NULL;
	size_t len;
	struct err e;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/data/libxl/%s",
	    top != NULL ? top : "..", name);
	if (regen != NULL && strcmp(regen, "1") == 0 && got != NULL) {
		if ((f = fopen(path, "w")) != NULL) {
			fprintf(f, "%s\n", got);
			fclose(f);
		}
		diag("rewrote %s", path);
	}
	err_clear(&e);
	if (!ok(fileio_read(path, 1 << 20, &want, &len, &e) == 0,
	    "%s: golden file readable", name)) {
		diag("%s", e.msg);
		return;
	}
	if (got != NULL)
		a = json_tokener_parse(got);
	b = json_tokener_parse(want);
	if (!ok(a != NULL && b != NULL && json_object_equal(a, b),
	    "%s: libxl's JSON matches the golden file", name)) {
		diag("got:\n%s", got != NULL ? got : "(null)");
		diag("want (%s):\n%s", path, want);
	} else if (strlen(got) + 1 != len || memcmp(got, want, len - 1) != 0)
		diag("%s: same values, other layout than libxl's now", name);
	json_object_put(a);
	json_object_put(b);
	free(want);
}

static void
test_golden(void)
{
	struct backend_spec s;
	struct err e;
	char *json;

	/* the everyday guest */
	s = spec_base();
	json = json_of(&s, &e);
	if (!ok(json != NULL, "hello: builds"))
		diag("%s: %s", e.code, e.msg);
	golden("hello.json", json);
	free(json);

	/* a boot module, no command line, vcpus 0 meaning one */
	s = spec_base();
	s.name = "with-module";
	s.initrd = "/var/lib/unikerneld/instances/" ID "/module.bin";
	s.cmdline = "";
	s.memory_mib = 64;
	s.vcpus = 0;
	json = json_of(&s, &e);
	if (!ok(json != NULL, "module: builds"))
		diag("%s: %s", e.code, e.msg);
	golden("module.json", json);
	free(json);

	/* quotes, backslashes, spaces and UTF-8 everywhere they may be */
	s = spec_base();
	s.name = "q\"uote\\back slash-\xc3\xa9";
	s.kernel = "/srv/uk state/\"k\"\\x.elf";
	s.initrd = "/srv/uk state/mod'ule\\.bin";
	s.cmdline = "say=\"hi \\\"there\\\"\" path=C:\\dir {\"json\": [1]} "
	    "\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb6" "d" "\xc3\xa9 "
	    "\xe2\x9c\x93 \xf0\x9f\x90\xa7";
	json = json_of(&s, &e);
	if (!ok(json != NULL, "escape: builds"))
		diag("%s: %s", e.code, e.msg);
	golden("escape.json", json);
	free(json);

	/* the smallest guest: paging memory at its floor or above */
	s = spec_base();
	s.name = "small";
	s.memory_mib = XLCFG_MEMORY_MIN;
	json = json_of(&s, &e);
	if (!ok(json != NULL, "small: builds"))
		diag("%s: %s", e.code, e.msg);
	golden("small.json", json);
	free(json);

	s = spec_base();
	s.name = "large";
	s.memory_mib = 4096;
	json = json_of(&s, &e);
	if (!ok(json != NULL, "large: builds"))
		diag("%s: %s", e.code, e.msg);
	golden("large.json", json);
	free(json);

	/* on the daemon's bridge: one vif with the instance's MAC */
	s = spec_base();
	s.name = "bridged";
	s.cmdline = "ip=10.213.0.2/24 gw=10.213.0.1";
	s.net.mode = NETSPEC_BRIDGE;
	s.net.bridge = "ukbr0";
	memcpy(s.net.mac, (const uint8_t[6]){ 0x02, 0x3e, 0xb1, 0xbd, 0x43,
	    0x99 }, 6);
	json = json_of(&s, &e);
	if (!ok(json != NULL, "bridge: builds"))
		diag("%s: %s", e.code, e.msg);
	golden("bridge.json", json);
	free(json);
}

/* The vif as libxl holds it, and the modes Xen cannot have. */
static void
test_net(void)
{
	libxl_domain_config cfg;
	struct backend_spec s = spec_base();
	struct err e;
	char *json;

	s.net.mode = NETSPEC_BRIDGE;
	s.net.bridge = "ukbr0";
	s.net.mac[0] = 0x02;
	s.net.mac[5] = 0x07;
	libxl_domain_config_init(&cfg);
	ok(xlcfg_build(&s, &cfg, &e) == 0 && cfg.num_nics == 1 &&
	    cfg.nics[0].nictype == LIBXL_NIC_TYPE_VIF &&
	    strcmp(cfg.nics[0].bridge, "ukbr0") == 0 &&
	    cfg.nics[0].mac[0] == 0x02 && cfg.nics[0].mac[5] == 0x07,
	    "bridge: one PV vif on ukbr0 with the instance's MAC");
	libxl_domain_config_dispose(&cfg);
	s.net.bridge = "br\n0";
	json = json_of(&s, &e);
	ok(json == NULL && strcmp(e.code, ERR_INVALID) == 0,
	    "bridge: a name with a newline refused");
	free(json);
	s.net.bridge = NULL;
	json = json_of(&s, &e);
	ok(json == NULL && strcmp(e.code, ERR_INVALID) == 0,
	    "bridge: no bridge refused");
	free(json);
	s.net.mode = NETSPEC_USER;
	json = json_of(&s, &e);
	ok(json == NULL && strcmp(e.code, ERR_INVALID) == 0 &&
	    strstr(e.msg, "user") != NULL, "user mode refused: %s", e.msg);
	free(json);
}

/* Values the golden files show only through libxl's writer. */
static void
test_values(void)
{
	libxl_domain_config cfg;
	struct backend_spec s = spec_base();
	struct err e;
	uint32_t m;

	for (m = XLCFG_MEMORY_MIN; m <= 64; m++) {
		s.memory_mib = m;
		libxl_domain_config_init(&cfg);
		if (xlcfg_build(&s, &cfg, &e) == -1 ||
		    cfg.b_info.shadow_memkb < XLCFG_SHADOW_MIN_KB ||
		    cfg.b_info.max_memkb != (uint64_t)m * 1024 ||
		    cfg.b_info.target_memkb != cfg.b_info.max_memkb) {
			libxl_domain_config_dispose(&cfg);
			break;
		}
		libxl_domain_config_dispose(&cfg);
	}
	is_int(m, 65, "2..64 MiB: memory as asked, paging memory >= 1 MiB");

	s = spec_base();
	libxl_domain_config_init(&cfg);
	ok(xlcfg_build(&s, &cfg, &e) == 0 &&
	    cfg.c_info.type == LIBXL_DOMAIN_TYPE_PVH &&
	    cfg.b_info.type == LIBXL_DOMAIN_TYPE_PVH &&
	    cfg.b_info.max_vcpus == 1 && cfg.b_info.ramdisk == NULL &&
	    cfg.on_poweroff == LIBXL_ACTION_ON_SHUTDOWN_PRESERVE &&
	    cfg.on_crash == LIBXL_ACTION_ON_SHUTDOWN_PRESERVE &&
	    cfg.on_reboot == LIBXL_ACTION_ON_SHUTDOWN_PRESERVE &&
	    cfg.num_disks == 0 && cfg.num_nics == 0,
	    "PVH, one vCPU, preserve on every shutdown, no devices");
	is_str(cfg.c_info.name, "uk-hello", "domain name uk-NAME");
	libxl_domain_config_dispose(&cfg);
}

/* The longest command line the runtime takes, and one byte more. */
static void
test_cmdline_max(void)
{
	char line[XLCFG_CMDLINE_MAX + 2];
	struct backend_spec s = spec_base();
	struct err e;
	char *json;

	memset(line, 'x', XLCFG_CMDLINE_MAX);
	line[XLCFG_CMDLINE_MAX] = '\0';
	s.cmdline = line;
	json = json_of(&s, &e);
	ok(json != NULL, "command line of %d bytes taken", XLCFG_CMDLINE_MAX);
	free(json);
	line[XLCFG_CMDLINE_MAX] = 'x';
	line[XLCFG_CMDLINE_MAX + 1] = '\0';
	json = json_of(&s, &e);
	ok(json == NULL && strcmp(e.code, ERR_INVALID) == 0,
	    "command line of %d bytes refused", XLCFG_CMDLINE_MAX + 1);
	free(json);
}

enum field { NAME, ID_, KERNEL, INITRD, CMDLINE, MEMORY, VCPUS };

static const struct bad {
	const char *what;
	enum field field;
	const char *s;
	uint32_t n;
} bads[] = {
	{ "empty name", NAME, "", 0 },
	{ "no name", NAME, NULL, 0 },
	{ "name with a slash", NAME, "a/b", 0 },
	{ "name with a newline", NAME, "a\nb", 0 },
	{ "name with DEL", NAME, "a\x7f", 0 },
	{ "name not UTF-8", NAME, "a\xff", 0 },
	{ "name of 65 bytes", NAME,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    0 },
	{ "id of 31 digits", ID_, "0123456789abcdef0123456789abcde", 0 },
	{ "id not hex", ID_, "0123456789abcdef0123456789abcdeg", 0 },
	{ "no id", ID_, NULL, 0 },
	{ "relative kernel", KERNEL, "hello.elf", 0 },
	{ "no kernel", KERNEL, NULL, 0 },
	{ "kernel path with a tab", KERNEL, "/a\tb", 0 },
	{ "relative boot module", INITRD, "mod.bin", 0 },
	{ "command line with ESC", CMDLINE, "a\x1b[2Jb", 0 },
	{ "command line with a C1 control", CMDLINE, "a\xc2\x85" "b", 0 },
	{ "command line with an overlong '/'", CMDLINE, "a\xc0\xaf", 0 },
	{ "command line with a surrogate", CMDLINE, "a\xed\xa0\x80", 0 },
	{ "command line cut in a sequence", CMDLINE, "a\xe2\x9c", 0 },
	{ "command line above U+10FFFF", CMDLINE, "\xf4\x90\x80\x80", 0 },
	{ "no memory", MEMORY, NULL, 0 },
	{ "1 MiB", MEMORY, NULL, 1 },
	{ "over 1 TiB", MEMORY, NULL, XLCFG_MEMORY_MAX + 1 },
	{ "two vCPUs", VCPUS, NULL, 2 },
};

static void
test_bad(void)
{
	struct backend_spec s;
	struct err e;
	size_t i;
	char *json;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		s = spec_base();
		switch (bads[i].field) {
		case NAME:
			s.name = bads[i].s;
			break;
		case ID_:
			s.id = bads[i].s;
			break;
		case KERNEL:
			s.kernel = bads[i].s;
			break;
		case INITRD:
			s.initrd = bads[i].s;
			break;
		case CMDLINE:
			s.cmdline = bads[i].s;
			break;
		case MEMORY:
			s.memory_mib = bads[i].n;
			break;
		case VCPUS:
			s.vcpus = bads[i].n;
			break;
		}
		json = json_of(&s, &e);
		if (!ok(json == NULL && strcmp(e.code, ERR_INVALID) == 0 &&
		    e.msg[0] != '\0', "refused: %s", bads[i].what))
			diag("code '%s': %s", e.code, e.msg);
		free(json);
	}
}

static void
test_handle(void)
{
	static const char *const bad[] = {
		"", ":01234567-89ab-cdef-0123-456789abcdef",
		"0:01234567-89ab-cdef-0123-456789abcdef",
		"07:01234567-89ab-cdef-0123-456789abcdef",
		"32752:01234567-89ab-cdef-0123-456789abcdef",
		"1234567:01234567-89ab-cdef-0123-456789abcdef",
		"-7:01234567-89ab-cdef-0123-456789abcdef",
		"7;01234567-89ab-cdef-0123-456789abcdef",
		"7:0123456789abcdef0123456789abcdef",
		"7:01234567-89ab-cdef-0123-456789abcde",
		"7:01234567-89ab-cdef-0123-456789abcdef0",
		"7:01234567-89ab-cdef-0123-456789abcdeg",
		"7:01234567-89ab-cdef-0123_456789abcdef",
		"7:01234567-89ab-cdef-0123-456789abcdef\n",
	};
	char handle[BACKEND_HANDLE_MAX];
	libxl_uuid u, v;
	uint32_t domid = 0;
	struct err e;
	size_t i;

	ok(xlcfg_uuid(ID, &u, &e) == 0, "uuid of the instance id");
	xlcfg_handle(7, &u, handle);
	is_str(handle, "7:01234567-89ab-cdef-0123-456789abcdef",
	    "handle DOMID:UUID, lower case");
	ok(xlcfg_handle_parse(handle, &domid, &v, &e) == 0 && domid == 7 &&
	    libxl_uuid_compare(&u, &v) == 0, "handle parses back");
	ok(xlcfg_handle_parse("32751:01234567-89AB-CDEF-0123-456789ABCDEF",
	    &domid, &v, &e) == 0 && domid == 32751 &&
	    libxl_uuid_compare(&u, &v) == 0,
	    "the highest guest domid, upper-case UUID");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(xlcfg_handle_parse(bad[i], &domid, &v, &e) == -1 &&
		    strcmp(e.code, ERR_INVALID) == 0, "bad handle %zu refused",
		    i);
}

static void
test_userdata(void)
{
	struct backend_spec s = spec_base();
	char buf[XLCFG_PATH_MAX + 32], path[XLCFG_PATH_MAX];
	struct err e;

	ok(xlcfg_userdata(&s, buf, sizeof(buf), &e) == 0,
	    "record of the console log");
	is_str(buf, "console_log=" "/var/lib/unikerneld/instances/" ID
	    "/console.log\n", "record text");
	ok(xlcfg_userdata_parse(buf, strlen(buf), path, sizeof(path), &e) == 0,
	    "record parses");
	is_str(path, s.console_log, "record gives the path back");
	ok(xlcfg_userdata_parse(buf, strlen(buf) - 1, path, sizeof(path),
	    &e) == -1, "record without its newline refused");
	ok(xlcfg_userdata_parse("console_log=rel\n", 16, path, sizeof(path),
	    &e) == -1, "record of a relative path refused");
	ok(xlcfg_userdata_parse("console_log=/a\0b\n", 17, path, sizeof(path),
	    &e) == -1, "record with a NUL refused");
	ok(xlcfg_userdata_parse("console=/a\n", 11, path, sizeof(path),
	    &e) == -1, "record with another key refused");
	ok(xlcfg_userdata_parse("console_log=\n", 13, path, sizeof(path),
	    &e) == -1, "empty record refused");
	ok(xlcfg_userdata_parse("console_log=/abc\n", 17, path, 4, &e) == -1,
	    "record too long for the buffer refused");
	s.console_log = "console.log";
	ok(xlcfg_userdata(&s, buf, sizeof(buf), &e) == -1,
	    "relative console log refused");
}

static const struct outcome_case {
	const char *what;
	int stopped, shutdown, reason;
	enum trailer_kind tk;
	int tcode;
	const char *treason;
	enum backend_event_kind kind;
	int code;
	const char *words;
} outcomes[] = {
	{ "poweroff with exit 3", 0, 1, LIBXL_SHUTDOWN_REASON_POWEROFF,
	    TRAILER_EXIT, 3, "", BACKEND_EVENT_EXITED, 3,
	    "exited with code 3" },
	{ "poweroff with exit 0", 0, 1, LIBXL_SHUTDOWN_REASON_POWEROFF,
	    TRAILER_EXIT, 0, "", BACKEND_EVENT_EXITED, 0,
	    "exited with code 0" },
	{ "poweroff without a trailer", 0, 1, LIBXL_SHUTDOWN_REASON_POWEROFF,
	    TRAILER_NONE, -1, "", BACKEND_EVENT_EXITED, -1,
	    "powered off without an exit code on its console" },
	{ "poweroff with a crash trailer: Xen decides", 0, 1,
	    LIBXL_SHUTDOWN_REASON_POWEROFF, TRAILER_CRASH, -1, "panic",
	    BACKEND_EVENT_EXITED, -1,
	    "powered off without an exit code on its console" },
	{ "crash with its trailer", 0, 1, LIBXL_SHUTDOWN_REASON_CRASH,
	    TRAILER_CRASH, -1, "page fault", BACKEND_EVENT_CRASHED, -1,
	    "crashed: page fault" },
	{ "crash with an exit trailer", 0, 1, LIBXL_SHUTDOWN_REASON_CRASH,
	    TRAILER_EXIT, 3, "", BACKEND_EVENT_CRASHED, -1, "crashed" },
	{ "crash without a trailer", 0, 1, LIBXL_SHUTDOWN_REASON_CRASH,
	    TRAILER_NONE, -1, "", BACKEND_EVENT_CRASHED, -1, "crashed" },
	{ "reboot (a triple fault)", 0, 1, LIBXL_SHUTDOWN_REASON_REBOOT,
	    TRAILER_NONE, -1, "", BACKEND_EVENT_CRASHED, -1,
	    "crashed: asked Xen for a reboot (a triple fault)" },
	{ "watchdog", 0, 1, LIBXL_SHUTDOWN_REASON_WATCHDOG, TRAILER_NONE, -1,
	    "", BACKEND_EVENT_CRASHED, -1,
	    "crashed: shut down with reason watchdog" },
	{ "suspend", 0, 1, LIBXL_SHUTDOWN_REASON_SUSPEND, TRAILER_NONE, -1,
	    "", BACKEND_EVENT_CRASHED, -1,
	    "crashed: shut down with reason suspend" },
	{ "unknown reason", 0, 1, 99, TRAILER_NONE, -1, "",
	    BACKEND_EVENT_CRASHED, -1,
	    "crashed: shut down with reason unknown" },
	{ "stopped, then powered off", 1, 1, LIBXL_SHUTDOWN_REASON_POWEROFF,
	    TRAILER_EXIT, 3, "", BACKEND_EVENT_STOPPED, -1,
	    "stopped by unikerneld" },
	{ "stopped: destroyed", 1, 0, 0, TRAILER_NONE, -1, "",
	    BACKEND_EVENT_STOPPED, -1, "stopped by unikerneld" },
	{ "vanished", 0, 0, 0, TRAILER_EXIT, 3, "", BACKEND_EVENT_FAILED, -1,
	    "the domain vanished (destroyed outside unikerneld)" },
};

static void
test_outcome(void)
{
	const struct outcome_case *c;
	struct backend_event ev;
	struct trailer t;
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		c = &outcomes[i];
		t.kind = c->tk;
		t.code = c->tcode;
		snprintf(t.reason, sizeof(t.reason), "%s", c->treason);
		memset(&ev, 0, sizeof(ev));
		xlcfg_outcome(c->stopped, c->shutdown, c->reason, &t, &ev, buf,
		    sizeof(buf));
		if (!ok(ev.kind == c->kind && ev.exit_code == c->code &&
		    ev.reason == buf && strcmp(buf, c->words) == 0,
		    "outcome: %s", c->what))
			diag("kind %d code %d reason '%s'", (int)ev.kind,
			    ev.exit_code, buf);
	}
}

int
main(void)
{
	test_golden();
	test_net();
	test_values();
	test_cmdline_max();
	test_bad();
	test_handle();
	test_userdata();
	test_outcome();
	return tap_done();
}
