/*
 * libvirt-xml.c - the domain XML of a guest (libvirt-xml.h).
 *
 * The XML is the one tests/libvirt/README.md found to work with qboot and
 * a PVH kernel: q35 (or pc), qboot as the ROM, the kernel loaded by QEMU,
 * <acpi/> for the S5 poweroff that ends a guest, pvpanic for its crashes,
 * COM1 to the console log, and nothing else (no USB, no balloon, no
 * display).  Only the formatting lives here; the backend decides.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt-xml.h"

/* A growable string with a hard cap (LVXML_MAX). */
struct xbuf {
	char *p;
	size_t len, size;
	int failed;	/* out of memory or over the cap: the rest dropped */
};

static void
xb_grow(struct xbuf *b, size_t need)
{
	size_t nsize;
	char *np;

	if (b->failed)
		return;
	if (need > LVXML_MAX) {
		b->failed = 1;
		return;
	}
	nsize = b->size ? b->size : 1024;
	while (nsize < need)
		nsize *= 2;
	if (nsize > LVXML_MAX)
		nsize = LVXML_MAX;
	if ((np = realloc(b->p, nsize)) == NULL) {
		b->failed = 1;
		return;
	}
	b->p = np;
	b->size = nsize;
}

__attribute__((format(printf, 2, 3))) static void
xb_printf(struct xbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n >= b->size - b->len) {
		xb_grow(b, b->len + (size_t)n + 1);
		if (b->failed)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* Appends (s) escaped. */
static void
xb_esc(struct xbuf *b, const char *s)
{
	size_t len;

	while (!b->failed) {
		len = b->len;
		if (lvxml_escape(b->p, b->size, &len, s) == 0) {
			b->len = len;
			return;
		}
		xb_grow(b, b->size * 2);
	}
}

/* Appends "<indent><tag>escaped(s)</tag>\n". */
static void
xb_elem(struct xbuf *b, const char *indent, const char *tag, const char *s)
{
	xb_printf(b, "%s<%s>", indent, tag);
	xb_esc(b, s);
	xb_printf(b, "</%s>\n", tag);
}

int
lvxml_escape(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = *len;
	const char *rep;
	size_t rlen;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		case '"':
			rep = "&quot;";
			break;
		default:
			rep = NULL;
		}
		rlen = rep ? strlen(rep) : 1;
		if (size - n <= rlen)
			return -1;
		if (rep)
			memcpy(buf + n, rep, rlen);
		else
			buf[n] = *s;
		n += rlen;
	}
	if (n >= size)
		return -1;
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* Length of the UTF-8 sequence at (s), 0 if it is not one: no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
static size_t
utf8_len(const unsigned char *s)
{
	uint32_t c;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff ||
	    c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

int
lvxml_check_text(const char *what, const char *s, struct err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return err_set(e, ERR_INVALID, "%s: control character "
			    "0x%02x at offset %zu", what, *p,
			    (size_t)(p - (const unsigned char *)s));
		if ((n = utf8_len(p)) == 0)
			return err_set(e, ERR_INVALID, "%s: not UTF-8 at "
			    "offset %zu", what,
			    (size_t)(p - (const unsigned char *)s));
		p += n;
	}
	return 0;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

int
lvxml_uuid(const char *id, char out[LVXML_UUID_LEN + 1], struct err *e)
{
	size_t i, o = 0;

	if (id == NULL || strlen(id) != 32)
		return err_set(e, ERR_INVALID,
		    "instance id: not 32 hex digits");
	for (i = 0; i < 32; i++) {
		if (!is_hex(id[i]))
			return err_set(e, ERR_INVALID,
			    "instance id: not 32 hex digits");
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[o++] = '-';
		out[o++] = (char)(id[i] >= 'A' && id[i] <= 'F' ?
		    id[i] - 'A' + 'a' : id[i]);
	}
	out[o] = '\0';
	return 0;
}

static int
check_path(const char *what, const char *p, struct err *e)
{
	if (p == NULL || p[0] != '/')
		return err_set(e, ERR_INVALID, "%s: not an absolute path",
		    what);
	if (strlen(p) >= LVXML_PATH_MAX)
		return err_set(e, ERR_INVALID, "%s: path too long", what);
	return lvxml_check_text(what, p, e);
}

static int
check_net(const struct backend_net *net, struct err *e)
{
	switch (net->mode) {
	case NETSPEC_NONE:
		return 0;
	case NETSPEC_USER:
		/* libvirt 9.0 forwards ports only through passt
		 * (docs/daemon.md); backend_net_check() says so first */
		if (net->nforwards > 0)
			return err_set(e, ERR_INVALID, "network: the libvirt "
			    "backend has no port forwards");
		return 0;
	case NETSPEC_BRIDGE:
		if (net->bridge == NULL || net->bridge[0] == '\0' ||
		    strlen(net->bridge) >= NETSPEC_IFNAME_MAX)
			return err_set(e, ERR_INVALID, "network: no bridge, "
			    "or a name longer than %d bytes",
			    NETSPEC_IFNAME_MAX - 1);
		return lvxml_check_text("bridge name", net->bridge, e);
	}
	return err_set(e, ERR_INVALID, "network: unknown mode");
}

/* The guest's NIC: virtio (virtio-net-pci on q35 and pc) with the
 * instance's MAC, on bus 0 (the runtime scans that bus only,
 * runtime/drivers/virtio-pci.c; on q35 libvirt would put it behind a
 * PCIe root port); no option ROM, which qboot would not run anyway. */
static void
xb_interface(struct xbuf *b, const struct backend_net *net)
{
	char mac[NETSPEC_MAC_MAX];

	if (net->mode == NETSPEC_NONE)
		return;
	netspec_mac_format(net->mac, mac);
	xb_printf(b, "    <interface type='%s'>\n      <mac address='%s'/>\n",
	    net->mode == NETSPEC_BRIDGE ? "bridge" : "user", mac);
	if (net->mode == NETSPEC_BRIDGE) {
		xb_printf(b, "      <source bridge='");
		xb_esc(b, net->bridge);
		xb_printf(b, "'/>\n");
	}
	xb_printf(b, "      <model type='virtio'/>\n"
	    "      <rom enabled='no'/>\n"
	    "      <address type='pci' domain='0x0000' bus='0x00' "
	    "slot='0x03' function='0x0'/>\n    </interface>\n");
}

/* Everything in (spec) and (o) that reaches the XML, checked in one
 * place; the formatting below then cannot fail but for memory. */
static int
check_spec(const struct backend_spec *spec, const struct lvxml_opts *o,
    struct err *e)
{
	if (spec->name == NULL || spec->name[0] == '\0' ||
	    strchr(spec->name, '/') != NULL || strlen(spec->name) > 200)
		return err_set(e, ERR_INVALID, "instance name: empty, too "
		    "long or with a '/'");
	if (lvxml_check_text("instance name", spec->name, e) < 0)
		return -1;
	if (check_path("kernel", spec->kernel, e) < 0 ||
	    (spec->initrd != NULL && check_path("initrd", spec->initrd,
	    e) < 0) ||
	    check_path("console log", spec->console_log, e) < 0)
		return -1;
	if (spec->cmdline != NULL) {
		if (strlen(spec->cmdline) >= 4096)
			return err_set(e, ERR_INVALID, "command line: longer "
			    "than 4095 bytes");
		if (lvxml_check_text("command line", spec->cmdline, e) < 0)
			return -1;
	}
	if (spec->memory_mib == 0 || spec->vcpus == 0 || spec->vcpus > 255)
		return err_set(e, ERR_INVALID, "memory 0 or vcpus not 1..255");
	if (o->domtype == NULL || (strcmp(o->domtype, "kvm") != 0 &&
	    strcmp(o->domtype, "qemu") != 0))
		return err_set(e, ERR_INVALID, "domain type: kvm or qemu");
	if (o->machine == NULL || (strcmp(o->machine, "q35") != 0 &&
	    strcmp(o->machine, "pc") != 0))
		return err_set(e, ERR_INVALID, "machine: q35 or pc");
	if (o->loader != NULL && o->loader[0] != '\0' &&
	    check_path("loader", o->loader, e) < 0)
		return -1;
	return check_net(&spec->net, e);
}

int
lvxml_domain(const struct backend_spec *spec, const struct lvxml_opts *o,
    char **out, struct err *e)
{
	struct xbuf b = { NULL, 0, 0, 0 };
	char uuid[LVXML_UUID_LEN + 1];

	if (check_spec(spec, o, e) < 0 || lvxml_uuid(spec->id, uuid, e) < 0)
		return -1;
	xb_grow(&b, 2048);
	if (b.failed)
		return err_set(e, ERR_NOMEM, "domain XML: out of memory");
	b.p[0] = '\0';

	xb_printf(&b, "<domain type='%s'>\n", o->domtype);
	xb_printf(&b, "  <name>" LVXML_PREFIX);
	xb_esc(&b, spec->name);
	xb_printf(&b, "</name>\n");
	xb_printf(&b, "  <uuid>%s</uuid>\n", uuid);
	/* What adopting the guest after a restart needs (docs/daemon.md). */
	xb_printf(&b, "  <metadata>\n");
	xb_printf(&b, "    <" LVXML_NS_PREFIX ":" LVXML_META " xmlns:"
	    LVXML_NS_PREFIX "='" LVXML_NS "' name='");
	xb_esc(&b, spec->name);
	xb_printf(&b, "' console='");
	xb_esc(&b, spec->console_log);
	xb_printf(&b, "'/>\n");
	xb_printf(&b, "  </metadata>\n");
	xb_printf(&b, "  <memory unit='MiB'>%u</memory>\n", spec->memory_mib);
	xb_printf(&b, "  <vcpu>%u</vcpu>\n", spec->vcpus);

	xb_printf(&b, "  <os>\n");
	xb_printf(&b, "    <type arch='x86_64' machine='%s'>hvm</type>\n",
	    o->machine);
	if (o->loader != NULL && o->loader[0] != '\0') {
		xb_printf(&b, "    <loader type='rom'>");
		xb_esc(&b, o->loader);
		xb_printf(&b, "</loader>\n");
	}
	xb_elem(&b, "    ", "kernel", spec->kernel);
	if (spec->initrd != NULL)
		xb_elem(&b, "    ", "initrd", spec->initrd);
	if (spec->cmdline != NULL && spec->cmdline[0] != '\0')
		xb_elem(&b, "    ", "cmdline", spec->cmdline);
	xb_printf(&b, "  </os>\n");

	/* <acpi/>: on pc, without it the guest's S5 poweroff goes nowhere. */
	xb_printf(&b, "  <features>\n    <acpi/>\n  </features>\n");
	/* qemu64, unchecked: libvirt's own check refuses it on Intel hosts
	 * (it lists svm), and host-passthrough breaks nested KVM. */
	xb_printf(&b, "  <cpu mode='custom' match='exact' check='none'>\n"
	    "    <model fallback='forbid'>qemu64</model>\n  </cpu>\n");
	/* A reset is never a way to end (docs/runtime.md), so it must not
	 * reboot; a crash is reported by pvpanic before libvirt destroys. */
	xb_printf(&b, "  <on_poweroff>destroy</on_poweroff>\n"
	    "  <on_reboot>destroy</on_reboot>\n"
	    "  <on_crash>destroy</on_crash>\n");

	xb_printf(&b, "  <devices>\n");
	/* append='on': QEMU writes the log with O_APPEND, so that after the
	 * daemon moved a full log aside and emptied it (console_log_max) the
	 * guest goes on at its new end, not at its old offset behind a hole.
	 * libvirt 9.0 opens the file itself (or has virtlogd write it, which
	 * appends) and tells QEMU append=on either way; older libvirt, whose
	 * QEMU opens the path, goes by this attribute.  It also keeps libvirt
	 * from truncating the log at start: the backend empties it before
	 * the guest runs. */
	xb_printf(&b, "    <serial type='file'>\n      <source path='");
	xb_esc(&b, spec->console_log);
	xb_printf(&b, "' append='on'/>\n      <target port='0'/>\n"
	    "    </serial>\n");
	xb_interface(&b, &spec->net);
	xb_printf(&b, "    <panic model='isa'>\n"
	    "      <address type='isa' iobase='0x505'/>\n    </panic>\n");
	xb_printf(&b, "    <controller type='usb' model='none'/>\n"
	    "    <memballoon model='none'/>\n");
	xb_printf(&b, "  </devices>\n");
	xb_printf(&b, "</domain>\n");

	if (b.failed) {
		free(b.p);
		return err_set(e, ERR_NOMEM, "domain XML: out of memory or "
		    "over %d bytes", LVXML_MAX);
	}
	*out = b.p;
	return 0;
}

/* Words of the configuration string end at these. */
#define SEPARATORS " \t,"

/* Copies the separator-free word at (s) of length (n) into (dst, size). */
static int
copy_word(char *dst, size_t size, const char *s, size_t n, const char *what,
    struct err *e)
{
	if (n >= size)
		return err_set(e, ERR_INVALID, "libvirt backend: %s too long",
		    what);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int
lvxml_config_parse(const char *s, struct lvxml_config *c, struct err *e)
{
	const char *w, *eq;
	size_t n;
	int have_uri = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->uri, sizeof(c->uri), "qemu:///system");
	snprintf(c->machine, sizeof(c->machine), "q35");
	snprintf(c->loader, sizeof(c->loader), "%s", LVXML_QBOOT);
	if (s == NULL)
		return 0;
	for (;;) {
		s += strspn(s, SEPARATORS);
		if (*s == '\0')
			break;
		w = s;
		n = strcspn(w, SEPARATORS);
		s = w + n;
		eq = memchr(w, '=', n);
		if (n > 4 && memcmp(w, "uri=", 4) == 0) {
			w += 4;
			n -= 4;
		}
		if (memmem(w, n, "://", 3) != NULL) {
			if (have_uri++)
				return err_set(e, ERR_INVALID, "libvirt "
				    "backend: two URIs");
			if (copy_word(c->uri, sizeof(c->uri), w, n, "URI",
			    e) < 0)
				return -1;
		} else if (eq != NULL && eq - w == 4 &&
		    memcmp(w, "type", 4) == 0) {
			if (copy_word(c->domtype, sizeof(c->domtype), eq + 1,
			    n - 5, "type", e) < 0)
				return -1;
			if (strcmp(c->domtype, "kvm") != 0 &&
			    strcmp(c->domtype, "qemu") != 0)
				return err_set(e, ERR_INVALID, "libvirt "
				    "backend: type must be kvm or qemu");
		} else if (eq != NULL && eq - w == 7 &&
		    memcmp(w, "machine", 7) == 0) {
			if (copy_word(c->machine, sizeof(c->machine), eq + 1,
			    n - 8, "machine", e) < 0)
				return -1;
			if (strcmp(c->machine, "q35") != 0 &&
			    strcmp(c->machine, "pc") != 0)
				return err_set(e, ERR_INVALID, "libvirt "
				    "backend: machine must be q35 or pc");
		} else if (eq != NULL && eq - w == 6 &&
		    memcmp(w, "loader", 6) == 0) {
			if (copy_word(c->loader, sizeof(c->loader), eq + 1,
			    n - 7, "loader", e) < 0)
				return -1;
			if (c->loader[0] != '\0' && c->loader[0] != '/')
				return err_set(e, ERR_INVALID, "libvirt "
				    "backend: loader must be an absolute path");
		} else {
			return err_set(e, ERR_INVALID, "libvirt backend: "
			    "unknown option '%.*s' (URI, type=, machine=, "
			    "loader=)", (int)(n > 64 ? 64 : n), w);
		}
	}
	return 0;
}

/* Decodes the entity or character reference at (s) (after its '&') into
 * (out) as UTF-8; returns how many bytes of (s) it used, 0 if malformed. */
static size_t
unentity(const char *s, char out[4], size_t *outn)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "apos;", '\'' }, { "quot;", '"' },
	};
	unsigned long c = 0;
	size_t i, n;
	int base = 10;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		n = strlen(named[i].name);
		if (strncmp(s, named[i].name, n) == 0) {
			out[0] = named[i].c;
			*outn = 1;
			return n;
		}
	}
	if (s[0] != '#')
		return 0;
	i = 1;
	if (s[1] == 'x') {
		base = 16;
		i = 2;
	}
	for (n = i; s[n] != ';'; n++) {
		if (base == 16 ? !is_hex(s[n]) : !(s[n] >= '0' && s[n] <= '9'))
			return 0;
		c = c * (unsigned long)base + (unsigned long)(s[n] <= '9' ?
		    s[n] - '0' : (s[n] | 0x20) - 'a' + 10);
		if (c > 0x10ffff)
			return 0;
	}
	if (n == i || c == 0)
		return 0;
	if (c < 0x80) {
		out[0] = (char)c;
		*outn = 1;
	} else if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		*outn = 2;
	} else if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		*outn = 3;
	} else {
		out[0] = (char)(0xf0 | c >> 18);
		out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[3] = (char)(0x80 | (c & 0x3f));
		*outn = 4;
	}
	return n + 1;
}

int
lvxml_attr(const char *xml, const char *attr, char *out, size_t outsz)
{
	const char *p, *end;
	char q, buf[4];
	size_t alen = strlen(attr), o = 0, used, n;

	/* Attributes of the first element only: up to its first '>'. */
	if ((p = strchr(xml, '<')) == NULL || (end = strchr(p, '>')) == NULL)
		return -1;
	for (;;) {
		p = strstr(p, attr);
		if (p == NULL || p >= end)
			return -1;
		if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') &&
		    p[alen] == '=' && (p[alen + 1] == '"' ||
		    p[alen + 1] == '\''))
			break;
		p += alen;
	}
	q = p[alen + 1];
	for (p += alen + 2; *p != q; p++) {
		if (*p == '\0' || *p == '<')
			return -1;
		if (*p == '&') {
			if ((used = unentity(p + 1, buf, &n)) == 0)
				return -1;
			p += used;
		} else {
			buf[0] = *p;
			n = 1;
		}
		if (o + n >= outsz)
			return -1;
		memcpy(out + o, buf, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}
