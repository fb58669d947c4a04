/*
 * test-libvirt-xml.c - the libvirt backend's domain XML against golden
 * files, and the pure helpers around it (escaping, UUIDs, the backend's
 * configuration string, reading our metadata back).
 *
 *	test-libvirt-xml [-u] [-o DIR]
 *
 * Each case of (cases) below is compared with tests/data/libvirt/NAME.xml
 * under $top_srcdir (the harness exports it; else the source tree this
 * was configured from).  -u, or UK_UPDATE_GOLDEN=1 in the environment,
 * rewrites the golden files instead: review the diff before committing.
 * -o DIR also writes each generated XML to DIR/NAME.xml, for
 * tests/integration/libvirt-xml.sh to check with virt-xml-validate.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "libvirt-xml.h"
#include "tap.h"

#define ID "0123456789ABCDEF0123456789abcdef"
#define DIR "/var/lib/unikerneld/instances/0123456789abcdef0123456789abcdef"

/* A spec in the order of struct backend_spec, without a network. */
#define SPEC(n, i, k, rd, c, mib, cpus, con, run) \
	{ .name = n, .id = i, .kernel = k, .initrd = rd, .cmdline = c, \
	  .memory_mib = mib, .vcpus = cpus, .console_log = con, .run_dir = run }
#define MAC { 0x02, 0x3e, 0xb1, 0xbd, 0x43, 0x99 }

static const struct {
	const char *golden;
	struct backend_spec spec;
	struct lvxml_opts opts;
} cases[] = {
	/* The common case: KVM, q35, qboot, a command line. */
	{ "hello", SPEC("hello", ID, DIR "/kernel.elf", NULL, "exit=3", 32, 1,
	    DIR "/console.log", DIR), { "kvm", "q35", LVXML_QBOOT } },
	/* TCG on pc with libvirt's default firmware; an initrd, no command
	 * line (no <cmdline> at all), two vCPUs. */
	{ "tcg-pc", SPEC("web-1", "ffffffffffffffffffffffffffffffff",
	    DIR "/kernel.elf", DIR "/initrd.img", "", 512, 2,
	    DIR "/console.log", DIR), { "qemu", "pc", NULL } },
	/* Every character XML escapes, in the command line (free text
	 * from the publisher), the paths and the loader; UTF-8 kept. */
	{ "escape", SPEC("esc", "00000000000000000000000000000001",
	    "/srv/a&b/<k>.elf", NULL,
	    "msg=\"<b>Tom & Jerry's</b>\" x=a>b ]]> "
	    "caf\xc3\xa9 \xf0\x9f\x90\xa7",
	    64, 1, "/srv/it's \"here\"/console&.log", "/srv"),
	    { "kvm", "q35", "/opt/q&boot's.rom" } },
	/* On the daemon's bridge, with the instance's MAC and the words
	 * of its address on the command line. */
	{ "bridge", { .name = "web", .id = ID, .kernel = DIR "/kernel.elf",
	    .cmdline = "ip=10.213.0.2/24 gw=10.213.0.1", .memory_mib = 32,
	    .vcpus = 1, .console_log = DIR "/console.log", .run_dir = DIR,
	    .net = { .mode = NETSPEC_BRIDGE, .mac = MAC,
	    .bridge = "ukbr0" } }, { "kvm", "q35", LVXML_QBOOT } },
	/* User networking (QEMU's slirp through libvirt), on pc. */
	{ "user", { .name = "web", .id = ID, .kernel = DIR "/kernel.elf",
	    .cmdline = "", .memory_mib = 32, .vcpus = 1,
	    .console_log = DIR "/console.log", .run_dir = DIR,
	    .net = { .mode = NETSPEC_USER, .mac = MAC } },
	    { "qemu", "pc", LVXML_QBOOT } },
};

static const char *
srcdir(void)
{
	const char *d = getenv("top_srcdir");

	return d != NULL && d[0] != '\0' ? d : TOP_SRCDIR;
}

/* Shows the first line where (got) and (want) differ. */
static void
show_diff(const char *got, const char *want)
{
	size_t line = 1, i, n;
	const char *g = got, *w = want;

	while (*g != '\0' && *g == *w) {
		if (*g == '\n')
			line++;
		g++;
		w++;
	}
	while (g > got && g[-1] != '\n')
		g--, w--;
	n = strcspn(g, "\n");
	i = strcspn(w, "\n");
	diag("first difference on line %zu:", line);
	diag("  got:  %.*s", (int)n, g);
	diag("  want: %.*s", (int)i, w);
	diag("regenerate with UK_UPDATE_GOLDEN=1 (or -u) if this is meant");
}

static void
golden_cases(int update, const char *outdir)
{
	char path[4096], *xml, *want;
	struct err e;
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xml = NULL;
		if (!ok(lvxml_domain(&cases[i].spec, &cases[i].opts, &xml,
		    &e) == 0, "%s: the XML is made", cases[i].golden)) {
			diag("%s: %s", e.code, e.msg);
			continue;
		}
		if (outdir != NULL) {
			snprintf(path, sizeof(path), "%s/%s.xml", outdir,
			    cases[i].golden);
			ok(fileio_write_atomic(path, xml, strlen(xml), 0644,
			    &e) == 0, "%s: written to %s", cases[i].golden,
			    path);
		}
		snprintf(path, sizeof(path), "%s/tests/data/libvirt/%s.xml",
		    srcdir(), cases[i].golden);
		if (update) {
			ok(fileio_write_atomic(path, xml, strlen(xml), 0644,
			    &e) == 0, "%s: golden file rewritten",
			    cases[i].golden);
		} else if (fileio_read(path, LVXML_MAX, &want, &len,
		    &e) < 0) {
			ok(0, "%s: golden file %s: %s", cases[i].golden, path,
			    e.msg);
		} else {
			if (!ok(strcmp(xml, want) == 0, "%s: matches %s",
			    cases[i].golden, path))
				show_diff(xml, want);
			free(want);
		}
		free(xml);
	}
}

/* The console path survives escaping and libvirt's metadata read-back. */
static void
roundtrip(void)
{
	char *xml = NULL, got[LVXML_PATH_MAX];
	const char *meta;

	if (lvxml_domain(&cases[2].spec, &cases[2].opts, &xml, NULL) < 0) {
		ok(0, "round trip: the XML is made");
		return;
	}
	meta = strstr(xml, "<" LVXML_NS_PREFIX ":");
	ok(meta != NULL && lvxml_attr(meta, "console", got,
	    sizeof(got)) == 0 && strcmp(got, cases[2].spec.console_log) == 0,
	    "round trip: console path escaped, then read back");
	ok(meta != NULL && lvxml_attr(meta, "name", got, sizeof(got)) == 0 &&
	    strcmp(got, "esc") == 0, "round trip: instance name read back");
	free(xml);
}

/* The console is opened for appending in every case: the daemon moves a
 * full log aside and empties it, and QEMU must go on at its new end
 * rather than at its old offset (which would leave a hole as large as
 * what was moved). */
static void
console_appends(void)
{
	char *xml, *serial, *end;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xml = NULL;
		if (lvxml_domain(&cases[i].spec, &cases[i].opts, &xml,
		    NULL) < 0) {
			ok(0, "%s: the XML is made", cases[i].golden);
			continue;
		}
		serial = strstr(xml, "<serial type='file'>");
		end = serial != NULL ? strstr(serial, "</serial>") : NULL;
		if (end != NULL)
			*end = '\0';
		ok(serial != NULL && end != NULL &&
		    strstr(serial, "<source path='") != NULL &&
		    strstr(serial, "' append='on'/>") != NULL,
		    "%s: the serial console's file is appended to",
		    cases[i].golden);
		free(xml);
	}
}

static const char *
refusal(struct backend_spec s, struct lvxml_opts o)
{
	static struct err e;
	char *xml = NULL;

	if (lvxml_domain(&s, &o, &xml, &e) == 0) {
		free(xml);
		return "(accepted)";
	}
	return e.code;
}

static void
refusals(void)
{
	struct backend_spec s = cases[0].spec;
	struct lvxml_opts o = cases[0].opts;
	static const struct {
		const char *what, *cmdline;
	} bad_text[] = {
		{ "newline", "a\nb" },
		{ "tab", "a\tb" },
		{ "escape character", "\x1b[31m" },
		{ "DEL", "a\x7f" },
		{ "lone continuation byte", "a\x80" },
		{ "overlong NUL", "\xc0\x80" },
		{ "overlong slash", "\xe0\x80\xaf" },
		{ "surrogate", "\xed\xa0\x80" },
		{ "above U+10FFFF", "\xf4\x90\x80\x80" },
		{ "truncated sequence", "caf\xc3" },
		{ "U+FFFE", "\xef\xbf\xbe" },
	};
	char longline[5000];
	size_t i;

	for (i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
		s.cmdline = bad_text[i].cmdline;
		is_str(refusal(s, o), ERR_INVALID, bad_text[i].what);
	}
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	s.cmdline = longline;
	is_str(refusal(s, o), ERR_INVALID, "command line over 4095 bytes");
	s = cases[0].spec;

	s.kernel = "kernel.elf";
	is_str(refusal(s, o), ERR_INVALID, "relative kernel path");
	s = cases[0].spec;
	s.console_log = NULL;
	is_str(refusal(s, o), ERR_INVALID, "no console log");
	s = cases[0].spec;
	s.initrd = "initrd";
	is_str(refusal(s, o), ERR_INVALID, "relative initrd path");
	s = cases[0].spec;
	s.name = "a/b";
	is_str(refusal(s, o), ERR_INVALID, "instance name with '/'");
	s.name = "";
	is_str(refusal(s, o), ERR_INVALID, "empty instance name");
	s = cases[0].spec;
	s.id = "0123";
	is_str(refusal(s, o), ERR_INVALID, "short instance id");
	s.id = "0123456789abcdef0123456789abcdeg";
	is_str(refusal(s, o), ERR_INVALID, "instance id with a non-hex digit");
	s = cases[0].spec;
	s.memory_mib = 0;
	is_str(refusal(s, o), ERR_INVALID, "no memory");
	s = cases[0].spec;
	s.vcpus = 0;
	is_str(refusal(s, o), ERR_INVALID, "no vCPUs");
	s = cases[0].spec;
	o.domtype = "xen";
	is_str(refusal(s, o), ERR_INVALID, "domain type xen");
	o = cases[0].opts;
	o.machine = "microvm";
	is_str(refusal(s, o), ERR_INVALID, "machine microvm");
	o = cases[0].opts;
	o.loader = "qboot.rom";
	is_str(refusal(s, o), ERR_INVALID, "relative loader path");
	o.loader = "";
	is_str(refusal(s, o), "(accepted)", "empty loader: none");
	s = cases[3].spec;
	o = cases[3].opts;
	s.net.bridge = NULL;
	is_str(refusal(s, o), ERR_INVALID, "bridge mode without a bridge");
	s.net.bridge = "ukbr0123456789ab";
	is_str(refusal(s, o), ERR_INVALID, "a bridge name of 16 bytes");
	s.net.bridge = "br\x01";
	is_str(refusal(s, o), ERR_INVALID, "a control character in the "
	    "bridge's name");
	s = cases[4].spec;
	s.net.nforwards = 1;
	is_str(refusal(s, o), ERR_INVALID, "user mode with forwards");
	s.net.mode = (enum netspec_mode)7;
	is_str(refusal(s, o), ERR_INVALID, "an unknown mode");
	s = cases[0].spec;
	o = cases[0].opts;
	s.cmdline = "caf\xc3\xa9 \xf0\x9f\x90\xa7";
	is_str(refusal(s, o), "(accepted)", "UTF-8 command line");
}

static void
uuids(void)
{
	char u[LVXML_UUID_LEN + 1];

	ok(lvxml_uuid(ID, u, NULL) == 0 &&
	    strcmp(u, "01234567-89ab-cdef-0123-456789abcdef") == 0,
	    "uuid: 8-4-4-4-12, lower case");
	ok(lvxml_uuid("0123456789abcdef0123456789abcde", u, NULL) < 0,
	    "uuid: 31 digits refused");
	ok(lvxml_uuid("0123456789abcdef0123456789abcdef0", u, NULL) < 0,
	    "uuid: 33 digits refused");
	ok(lvxml_uuid("01234567-89ab-cdef-0123-456789abcd", u, NULL) < 0,
	    "uuid: dashes refused");
	ok(lvxml_uuid(NULL, u, NULL) < 0, "uuid: NULL refused");
}

static void
escaping(void)
{
	char buf[64];
	size_t len = 0;

	ok(lvxml_escape(buf, sizeof(buf), &len, "<a href=\"x\">'&'</a>") == 0,
	    "escape: fits");
	is_str(buf, "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;",
	    "escape: the five characters");
	len = 0;
	ok(lvxml_escape(buf, 5, &len, "&") == -1 && len == 0,
	    "escape: an entity that does not fit is refused");
	len = 0;
	ok(lvxml_escape(buf, 6, &len, "&") == 0 && strcmp(buf, "&amp;") == 0,
	    "escape: exactly fits with its NUL");
	len = 0;
	ok(lvxml_escape(buf, 4, &len, "abcd") == -1, "escape: text too long");
}

static void
attrs(void)
{
	/* As libvirt gives our element back: libxml2, double quotes. */
	static const char meta[] = "<unikerneld:instance "
	    "xmlns:unikerneld=\"" LVXML_NS "\" name=\"a\" "
	    "xconsole=\"wrong\" console=\"/x/&amp;&lt;&gt;&apos;&quot;"
	    "&#233;&#x41;&#x1F427;'\"/>\n";
	char out[64];

	ok(lvxml_attr(meta, "console", out, sizeof(out)) == 0,
	    "attr: console found");
	is_str(out, "/x/&<>'\"\xc3\xa9" "A\xf0\x9f\x90\xa7'",
	    "attr: entities and character references decoded, not "
	    "attributes with the name as a suffix");
	ok(lvxml_attr(meta, "name", out, sizeof(out)) == 0 &&
	    strcmp(out, "a") == 0, "attr: name");
	ok(lvxml_attr(meta, "id", out, sizeof(out)) == -1, "attr: missing");
	ok(lvxml_attr("<e a='1\"2'/>", "a", out, sizeof(out)) == 0 &&
	    strcmp(out, "1\"2") == 0, "attr: single quotes");
	ok(lvxml_attr("<e a=\"x&bogus;\"/>", "a", out, sizeof(out)) == -1,
	    "attr: unknown entity refused");
	ok(lvxml_attr("<e a=\"x&#0;\"/>", "a", out, sizeof(out)) == -1,
	    "attr: &#0; refused");
	ok(lvxml_attr("<e a=\"x&#x110000;\"/>", "a", out, sizeof(out)) == -1,
	    "attr: reference above U+10FFFF refused");
	ok(lvxml_attr("<e a=\"xyz", "a", out, sizeof(out)) == -1,
	    "attr: unterminated refused");
	ok(lvxml_attr("<e a=\"0123456789\"/>", "a", out, 10) == -1,
	    "attr: too long for the buffer refused");
	ok(lvxml_attr("<e><f a=\"1\"/></e>", "a", out, sizeof(out)) == -1,
	    "attr: only the first element's attributes");
}

static const char *
conf_code(const char *s)
{
	static struct err e;
	struct lvxml_config c;

	err_clear(&e);
	if (lvxml_config_parse(s, &c, &e) == 0)
		return "(accepted)";
	return e.code;
}

static void
configs(void)
{
	struct lvxml_config c;

	ok(lvxml_config_parse(NULL, &c, NULL) == 0 &&
	    strcmp(c.uri, "qemu:///system") == 0 && c.domtype[0] == '\0' &&
	    strcmp(c.machine, "q35") == 0 &&
	    strcmp(c.loader, LVXML_QBOOT) == 0, "config: defaults");
	ok(lvxml_config_parse("  qemu:///embed?root=/var/lib/x  type=qemu\t"
	    "machine=pc loader= ", &c, NULL) == 0 &&
	    strcmp(c.uri, "qemu:///embed?root=/var/lib/x") == 0 &&
	    strcmp(c.domtype, "qemu") == 0 && strcmp(c.machine, "pc") == 0 &&
	    c.loader[0] == '\0', "config: URI and every option");
	ok(lvxml_config_parse("uri=qemu+ssh://root@host/system,type=kvm,"
	    "loader=", &c, NULL) == 0 &&
	    strcmp(c.uri, "qemu+ssh://root@host/system") == 0 &&
	    strcmp(c.domtype, "kvm") == 0 && c.loader[0] == '\0',
	    "config: comma-separated, uri=");
	ok(lvxml_config_parse("loader=/opt/qboot.bin", &c, NULL) == 0 &&
	    strcmp(c.uri, "qemu:///system") == 0 &&
	    strcmp(c.loader, "/opt/qboot.bin") == 0,
	    "config: options without a URI");
	is_str(conf_code("qemu:///system qemu:///session"), ERR_INVALID,
	    "config: two URIs");
	is_str(conf_code("qemu:///system memory=3"), ERR_INVALID,
	    "config: unknown option");
	is_str(conf_code("type=xen"), ERR_INVALID, "config: type xen");
	is_str(conf_code("type=kvmx"), ERR_INVALID, "config: type too long");
	is_str(conf_code("machine=microvm"), ERR_INVALID,
	    "config: machine microvm");
	is_str(conf_code("loader=qboot.rom"), ERR_INVALID,
	    "config: relative loader");
	is_str(conf_code("typo"), ERR_INVALID, "config: a bare word");
	is_str(conf_code("uri=qemu:///system,qemu:///session"), ERR_INVALID,
	    "config: uri= and another URI");
	is_str(conf_code(""), "(accepted)", "config: empty string");
}

int
main(int argc, char **argv)
{
	const char *outdir = NULL, *env = getenv("UK_UPDATE_GOLDEN");
	int ch, update = env != NULL && strcmp(env, "1") == 0;

	while ((ch = getopt(argc, argv, "o:u")) != -1) {
		switch (ch) {
		case 'o':
			outdir = optarg;
			break;
		case 'u':
			update = 1;
			break;
		default:
			fprintf(stderr, "usage: test-libvirt-xml [-u] "
			    "[-o dir]\n");
			return 2;
		}
	}
	golden_cases(update, outdir);
	roundtrip();
	console_appends();
	refusals();
	uuids();
	escaping();
	attrs();
	configs();
	return tap_done();
}
