#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <microhttpd.h>

#include "conf.h"
#include "fileio.h"
#include "jsonstrict.h"

#define LINE_MAX_LEN 4096	/* a longer line is a syntax error */

struct key;

/* A value parser: stores (v) in the field of (cfg) that (k) names, or
 * explains in (why) what is wrong with it and returns -1. */
typedef int key_parse_fn(struct config *cfg, const struct key *k,
    const char *v, char *why, size_t whysz);

struct key {
	const char *name;
	key_parse_fn *parse;
	size_t off;		/* the field in struct config */
	uint64_t min, max;	/* for sizes, durations and counts */
};

static key_parse_fn set_path, set_socket, set_string, set_mode, set_user,
    set_group, set_listen, set_bool, set_size, set_cache_max, set_duration,
    set_count, set_backend, set_log_level, set_ifname, set_subnet,
    set_forward_addresses;

#define F(field) offsetof(struct config, field)
#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define TiB (1024ULL * GiB)

/* The keys of unikerneld.conf(5): adding one is adding a row here, a field
 * in struct config, its default and its paragraph in the manual. */
static const struct key keys[] = {
	{ "state_dir", set_path, F(state_dir), 0, 0 },
	{ "pid_file", set_path, F(pid_file), 0, 0 },
	{ "log_file", set_path, F(log_file), 0, 0 },
	{ "log_level", set_log_level, F(log_level), 0, 0 },
	{ "socket", set_socket, F(socket), 0, 0 },
	{ "socket_mode", set_mode, F(socket_mode), 0, 0 },
	{ "socket_owner", set_user, F(socket_uid), 0, 0 },
	{ "socket_group", set_group, F(socket_gid), 0, 0 },
	{ "listen", set_listen, F(listen), 0, 0 },
	{ "allow_remote", set_bool, F(allow_remote), 0, 0 },
	{ "token_file", set_path, F(token_file), 0, 0 },
	{ "tls_cert", set_path, F(tls_cert), 0, 0 },
	{ "tls_key", set_path, F(tls_key), 0, 0 },
	{ "default_backend", set_backend, F(default_backend), 0, 0 },
	{ "libvirt_uri", set_string, F(libvirt_uri), 0, 0 },
	{ "qemu", set_string, F(qemu), 0, 0 },
	{ "cache_max", set_cache_max, F(cache_max), 1 * MiB, UINT64_MAX },
	{ "console_log_max", set_size, F(console_log_max), 4 * KiB, 1 * TiB },
	{ "max_image_size", set_size, F(max_image_size), 4 * KiB, 1 * TiB },
	{ "fetch_timeout", set_duration, F(fetch_timeout), 1, 86400 },
	{ "fetch_retries", set_count, F(fetch_retries), 0, 100 },
	{ "bridge_name", set_ifname, F(bridge_name), 0, 0 },
	{ "bridge_address", set_subnet, F(bridge_address), 0, 0 },
	{ "forward_addresses", set_forward_addresses, F(forward_addresses), 0,
	    0 },
	{ "user_outbound", set_bool, F(user_outbound), 0, 0 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const backend_names[] = { "qemu", "libvirt", "libxl" };

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

/* The parse in progress: where each key was set, for messages that blame a
 * line after the whole file was read. */
struct parse {
	const char *name;
	struct config *cfg;
	unsigned line[NKEYS];	/* 0: not set */
	struct err *e;
};

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->state_dir, "/var/lib/unikerneld");
	cfg->log_level = LOG_INFO;
	strcpy(cfg->socket, "/run/unikerneld.sock");
	cfg->socket_mode = 0660;
	cfg->socket_uid = (uid_t)-1;
	cfg->socket_gid = (gid_t)-1;
	strcpy(cfg->default_backend, "qemu");
	cfg->cache_max = 0;
	cfg->console_log_max = 1 * MiB;
	cfg->max_image_size = 1 * GiB;
	cfg->fetch_timeout = 300;
	cfg->fetch_retries = 3;
	strcpy(cfg->bridge_name, "ukbr0");
	strcpy(cfg->bridge_address, "10.213.0.1/24");
	(void)netspec_subnet_parse(cfg->bridge_address, &cfg->bridge_subnet,
	    NULL);
	strcpy(cfg->forward_addresses, NETSPEC_DEFAULT_HOST_IP);
	strcpy(cfg->forward_ips[0], NETSPEC_DEFAULT_HOST_IP);
	cfg->nforward_ips = 1;
	cfg->user_outbound = 0;
}

void
config_clear(struct config *cfg)
{
	explicit_bzero(cfg->token, sizeof(cfg->token));
}

const char *
config_log_level_name(int level)
{
	size_t i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "unknown";
}

/* Digits only, no sign, no blank, no overflow. */
static int
parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*end = s;
	*out = v;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v, mult = 1;

	if (parse_u64(s, &end, &v) == -1)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = KiB;
		end++;
		break;
	case 'm': case 'M':
		mult = MiB;
		end++;
		break;
	case 'g': case 'G':
		mult = GiB;
		end++;
		break;
	case 't': case 'T':
		mult = TiB;
		end++;
		break;
	default:
		return -1;
	}
	if (*end != '\0' || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int
config_parse_duration(const char *s, unsigned *secs)
{
	const char *end;
	uint64_t v, mult = 1;

	if (parse_u64(s, &end, &v) == -1)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 's':
		end++;
		break;
	case 'm':
		mult = 60;
		end++;
		break;
	case 'h':
		mult = 3600;
		end++;
		break;
	default:
		return -1;
	}
	if (*end != '\0' || v > UINT32_MAX / mult)
		return -1;
	*secs = (unsigned)(v * mult);
	return 0;
}

static int
has_controls(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return 1;
	return 0;
}

static int
set_string(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	if (strlen(v) >= CONFIG_PATH_MAX) {
		snprintf(why, whysz, "longer than %d bytes",
		    CONFIG_PATH_MAX - 1);
		return -1;
	}
	if (has_controls(v)) {
		snprintf(why, whysz, "holds a control character");
		return -1;
	}
	strcpy((char *)cfg + k->off, v);
	return 0;
}

static int
set_path(struct config *cfg, const struct key *k, const char *v, char *why,
    size_t whysz)
{
	char *out = (char *)cfg + k->off;
	size_t n;

	if (v[0] != '/') {
		snprintf(why, whysz, "not an absolute path");
		return -1;
	}
	if (set_string(cfg, k, v, why, whysz) == -1)
		return -1;
	/* "/var/lib/unikerneld/" is "/var/lib/unikerneld". */
	for (n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
		out[n - 1] = '\0';
	return 0;
}

static int
set_socket(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	struct sockaddr_un sun;

	if (strlen(v) >= sizeof(sun.sun_path)) {
		snprintf(why, whysz, "longer than a unix socket's %zu bytes",
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	return set_path(cfg, k, v, why, whysz);
}

static int
set_mode(struct config *cfg, const struct key *k, const char *v, char *why,
    size_t whysz)
{
	unsigned long m = 0;
	const char *p;

	for (p = v; *p >= '0' && *p <= '7'; p++)
		m = m * 8 + (unsigned long)(*p - '0');
	if (p == v || *p != '\0' || p - v > 4 || m > 0777) {
		snprintf(why, whysz, "not an octal mode from 0 to 0777");
		return -1;
	}
	*(mode_t *)(void *)((char *)cfg + k->off) = (mode_t)m;
	return 0;
}

/* A number (uid, gid) when (v) is all digits. */
static int
numeric_id(const char *v, unsigned long *out)
{
	const char *end;
	uint64_t n;

	if (parse_u64(v, &end, &n) == -1 || *end != '\0' || n >= UINT32_MAX)
		return 0;
	*out = (unsigned long)n;
	return 1;
}

static int
set_user(struct config *cfg, const struct key *k, const char *v, char *why,
    size_t whysz)
{
	struct passwd pw, *res = NULL;
	unsigned long id;
	char buf[4096];
	int rc;

	if (numeric_id(v, &id)) {
		cfg->socket_uid = (uid_t)id;
		return 0;
	}
	if ((rc = getpwnam_r(v, &pw, buf, sizeof(buf), &res)) != 0) {
		snprintf(why, whysz, "cannot look it up: %s", strerror(rc));
		return -1;
	}
	if (res == NULL) {
		snprintf(why, whysz, "no such user");
		return -1;
	}
	cfg->socket_uid = pw.pw_uid;
	return 0;
}

static int
set_group(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	struct group gr, *res = NULL;
	unsigned long id;
	char buf[65536];
	int rc;

	if (numeric_id(v, &id)) {
		cfg->socket_gid = (gid_t)id;
		return 0;
	}
	if ((rc = getgrnam_r(v, &gr, buf, sizeof(buf), &res)) != 0) {
		snprintf(why, whysz, "cannot look it up: %s", strerror(rc));
		return -1;
	}
	if (res == NULL) {
		snprintf(why, whysz, "no such group");
		return -1;
	}
	cfg->socket_gid = gr.gr_gid;
	return 0;
}

/* "127.0.0.1:8080", "[::1]:8080", "localhost:8080": a numeric address (no
 * name lookups while the daemon starts) and a port. */
static int
set_listen(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&cfg->listen_addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->listen_addr;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs, *he, *end;
	uint64_t port;

	if (set_string(cfg, k, v, why, whysz) == -1)
		return -1;
	if (v[0] == '[') {
		hs = v + 1;
		if ((he = strchr(hs, ']')) == NULL || he[1] != ':')
			goto bad;
		colon = he + 1;
	} else {
		hs = v;
		if ((colon = strrchr(v, ':')) == NULL)
			goto bad;
		he = colon;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(host))
		goto bad;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	if (parse_u64(colon + 1, &end, &port) == -1 || *end != '\0' ||
	    port == 0 || port > 65535) {
		snprintf(why, whysz,
		    "the port is not a number from 1 to 65535");
		return -1;
	}
	memset(&cfg->listen_addr, 0, sizeof(cfg->listen_addr));
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (v[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		cfg->listen_addrlen = sizeof(*sin);
		cfg->listen_loopback =
		    (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	} else if (v[0] == '[' &&
	    inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		cfg->listen_addrlen = sizeof(*sin6);
		cfg->listen_loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	} else {
		snprintf(why, whysz, "not a numeric IPv4 address or "
		    "[IPv6] address, or localhost");
		return -1;
	}
	return 0;
bad:
	snprintf(why, whysz, "not host:port or [host]:port");
	return -1;
}

static int
set_bool(struct config *cfg, const struct key *k, const char *v, char *why,
    size_t whysz)
{
	int *out = (int *)(void *)((char *)cfg + k->off);

	if (strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0)
		*out = 0;
	else {
		snprintf(why, whysz, "neither yes nor no");
		return -1;
	}
	return 0;
}

static int
size_in_range(const struct key *k, const char *v, uint64_t *out, char *why,
    size_t whysz)
{
	if (config_parse_size(v, out) == -1) {
		snprintf(why, whysz, "not a size (bytes, or a number with "
		    "K, M, G or T)");
		return -1;
	}
	if (*out < k->min || *out > k->max) {
		snprintf(why, whysz, "out of range (%lluK to %lluK)",
		    (unsigned long long)(k->min / KiB),
		    (unsigned long long)(k->max / KiB));
		return -1;
	}
	return 0;
}

static int
set_size(struct config *cfg, const struct key *k, const char *v, char *why,
    size_t whysz)
{
	uint64_t n;

	if (size_in_range(k, v, &n, why, whysz) == -1)
		return -1;
	*(uint64_t *)(void *)((char *)cfg + k->off) = n;
	return 0;
}

static int
set_cache_max(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	if (strcmp(v, "unlimited") == 0 || strcmp(v, "0") == 0) {
		cfg->cache_max = 0;
		return 0;
	}
	return set_size(cfg, k, v, why, whysz);
}

static int
set_duration(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	unsigned secs;

	if (config_parse_duration(v, &secs) == -1) {
		snprintf(why, whysz, "not a duration (seconds, or a number "
		    "with s, m or h)");
		return -1;
	}
	if (secs < k->min || secs > k->max) {
		snprintf(why, whysz, "out of range (%llus to %llus)",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return -1;
	}
	*(unsigned *)(void *)((char *)cfg + k->off) = secs;
	return 0;
}

static int
set_count(struct config *cfg, const struct key *k, const char *v, char *why,
    size_t whysz)
{
	const char *end;
	uint64_t n;

	if (parse_u64(v, &end, &n) == -1 || *end != '\0' || n < k->min ||
	    n > k->max) {
		snprintf(why, whysz, "not a number from %llu to %llu",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return -1;
	}
	*(unsigned *)(void *)((char *)cfg + k->off) = (unsigned)n;
	return 0;
}

static int
set_backend(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	size_t i;

	for (i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++)
		if (strcmp(v, backend_names[i]) == 0) {
			strcpy(cfg->default_backend, v);
			return 0;
		}
	snprintf(why, whysz, "not one of qemu, libvirt, libxl");
	return -1;
}

static int
set_log_level(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	size_t i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcmp(v, log_levels[i].name) == 0) {
			cfg->log_level = log_levels[i].level;
			return 0;
		}
	snprintf(why, whysz, "not one of error, warning, info, debug");
	return -1;
}

/* A network interface's name, as the kernel takes one (IFNAMSIZ). */
static int
set_ifname(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	size_t i, n = strlen(v);

	if (n == 0 || n >= NETSPEC_IFNAME_MAX || strcmp(v, ".") == 0 ||
	    strcmp(v, "..") == 0) {
		snprintf(why, whysz, "not an interface name of 1 to %d "
		    "characters", NETSPEC_IFNAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '_' ||
		    v[i] == '-' || v[i] == '.')) {
			snprintf(why, whysz, "use letters, digits, '_', '-' "
			    "and '.'");
			return -1;
		}
	memcpy((char *)cfg + k->off, v, n + 1);
	return 0;
}

static int
set_subnet(struct config *cfg, const struct key *k, const char *v,
    char *why, size_t whysz)
{
	struct err e;

	if (strlen(v) >= sizeof(cfg->bridge_address) ||
	    netspec_subnet_parse(v, &cfg->bridge_subnet, &e) == -1) {
		snprintf(why, whysz, "not the bridge's ADDRESS/PREFIX, a host "
		    "address and a prefix from 8 to 30 (10.213.0.1/24)");
		return -1;
	}
	strcpy((char *)cfg + k->off, v);
	return 0;
}

/* IPv4 addresses separated by commas or blanks: where forwards may
 * listen. */
static int
set_forward_addresses(struct config *cfg, const struct key *k,
    const char *v, char *why, size_t whysz)
{
	char word[NETSPEC_IP_MAX];
	const char *p = v;
	uint32_t ip;
	size_t n, count = 0;

	if (set_string(cfg, k, v, why, whysz) == -1)
		return -1;
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t");
		if (n >= sizeof(word) || count == CONFIG_FORWARD_IPS_MAX) {
			snprintf(why, whysz, "at most %d dotted IPv4 "
			    "addresses", CONFIG_FORWARD_IPS_MAX);
			return -1;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		if (netspec_ip_parse(word, &ip) == -1) {
			snprintf(why, whysz, "'%s' is not a dotted IPv4 "
			    "address", word);
			return -1;
		}
		netspec_ip_format(ip, cfg->forward_ips[count++]);
		p += n;
	}
	if (count == 0) {
		snprintf(why, whysz, "no address");
		return -1;
	}
	cfg->nforward_ips = count;
	return 0;
}

static size_t
key_index(const struct key *k)
{
	return (size_t)(k - keys);
}

static const struct key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* The line where (name) was set, for messages about it. */
static unsigned
line_of(const struct parse *p, const char *name)
{
	const struct key *k = key_find(name);

	return k != NULL ? p->line[key_index(k)] : 0;
}

__attribute__((format(printf, 4, 5))) static int
fail_at(struct parse *p, const char *code, unsigned line, const char *fmt,
    ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return err_set(p->e, code, "%s:%u: %s", p->name, line, msg);
	return err_set(p->e, code, "%s: %s", p->name, msg);
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The value after '=' at (s): quoted or bare, blanks and a comment after
 * it dropped.  Writes it over (s) itself; NULL with (*why) set if the line
 * is malformed. */
static char *
take_value(char *s, const char **why)
{
	char *out, *end;

	while (is_blank(*s))
		s++;
	if (*s == '"') {
		out = end = ++s;
		for (;; s++) {
			if (*s == '\0') {
				*why = "no closing quote";
				return NULL;
			}
			if (*s == '"')
				break;
			if (*s == '\\') {
				s++;
				if (*s != '"' && *s != '\\') {
					*why = "only \\\" and \\\\ are "
					    "escapes in a quoted value";
					return NULL;
				}
			}
			*end++ = *s;
		}
		for (s++; is_blank(*s); s++)
			;
		if (*s != '\0' && *s != '#') {
			*why = "text after the closing quote";
			return NULL;
		}
		*end = '\0';
		return out;
	}
	out = s;
	if ((end = strchr(s, '#')) == NULL)
		end = s + strlen(s);
	while (end > out && is_blank(end[-1]))
		end--;
	*end = '\0';
	if (*out == '\0') {
		*why = "no value after '='";
		return NULL;
	}
	if (strchr(out, '"') != NULL) {
		*why = "a quote inside a bare value (quote the whole value)";
		return NULL;
	}
	return out;
}

static int
parse_line(struct parse *p, unsigned lineno, char *s)
{
	char qbuf[64], why[256];
	const struct key *k;
	const char *what;
	char *key, *value;
	size_t i;

	while (is_blank(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\r')
			return fail_at(p, "config_syntax", lineno,
			    "a control character at column %zu", i + 1);
	key = s;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')
		s++;
	if (s == key)
		return fail_at(p, "config_syntax", lineno,
		    "expected 'key = value'");
	value = s;
	while (is_blank(*s))
		s++;
	if (*s != '=')
		return fail_at(p, "config_syntax", lineno,
		    "expected '=' after '%.*s'", (int)(value - key), key);
	*value = '\0';
	if ((k = key_find(key)) == NULL)
		return fail_at(p, "config_unknown_key", lineno,
		    "unknown key '%s'", jsonstrict_quote(key, qbuf,
		    sizeof(qbuf)));
	if ((value = take_value(s + 1, &what)) == NULL)
		return fail_at(p, "config_syntax", lineno, "%s: %s", k->name,
		    what);
	if (p->line[key_index(k)] != 0)
		return fail_at(p, "config_duplicate_key", lineno,
		    "%s is already set on line %u", k->name,
		    p->line[key_index(k)]);
	p->line[key_index(k)] = lineno;
	why[0] = '\0';
	if (k->parse(p->cfg, k, value, why, sizeof(why)) == -1)
		return fail_at(p, "config_bad_value", lineno, "%s: '%s': %s",
		    k->name, jsonstrict_quote(value, qbuf, sizeof(qbuf)), why);
	return 0;
}

/* (path) exists, is a regular file and, with (private_mask), has no
 * permission bit of the mask and belongs to us or root. */
static int
check_file(struct parse *p, const char *key, const char *path,
    mode_t private_mask)
{
	unsigned line = line_of(p, key);
	struct stat st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return fail_at(p, "config_missing_file", line,
			    "%s: %s does not exist", key, path);
		return fail_at(p, ERR_IO, line, "%s: %s: %s", key, path,
		    strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return fail_at(p, "config_bad_value", line,
		    "%s: %s is not a regular file", key, path);
	if (private_mask == 0)
		return 0;
	if ((st.st_mode & private_mask) != 0)
		return fail_at(p, "config_insecure_file", line,
		    "%s: %s has mode %04o; it must not be %s (chmod %s)", key,
		    path, (unsigned)(st.st_mode & 07777),
		    private_mask == 07177 ? "more than 0600" :
		    "readable by others", private_mask == 07177 ? "600" :
		    "o-rwx");
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return fail_at(p, "config_insecure_file", line,
		    "%s: %s belongs to uid %u, neither root nor this daemon's "
		    "user", key, path, (unsigned)st.st_uid);
	return 0;
}

/* The token is the first line of token_file: printable ASCII, no blank. */
static int
read_token(struct parse *p)
{
	unsigned line = line_of(p, "token_file");
	struct config *cfg = p->cfg;
	struct err fe;
	char *buf;
	size_t len, n;
	int rc = -1;

	if (check_file(p, "token_file", cfg->token_file, 07177) == -1)
		return -1;
	if (fileio_read(cfg->token_file, 4096, &buf, &len, &fe) == -1)
		return fail_at(p, fe.code, line, "token_file: %s", fe.msg);
	n = strcspn(buf, "\r\n");
	if (n < CONFIG_TOKEN_MIN || n >= CONFIG_TOKEN_MAX) {
		fail_at(p, "config_bad_value", line, "token_file: the token "
		    "on its first line must be %d to %d characters long",
		    CONFIG_TOKEN_MIN, CONFIG_TOKEN_MAX - 1);
		goto out;
	}
	for (len = 0; len < n; len++)
		if (buf[len] <= ' ' || buf[len] > '~') {
			fail_at(p, "config_bad_value", line, "token_file: the "
			    "token holds a blank or a non-ASCII byte");
			goto out;
		}
	memcpy(cfg->token, buf, n);
	cfg->token[n] = '\0';
	rc = 0;
out:
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

/* What depends on more than one key or on the files they name. */
static int
check_all(struct parse *p)
{
	struct config *cfg = p->cfg;
	int tls = cfg->tls_cert[0] != '\0' || cfg->tls_key[0] != '\0';

	if (cfg->pid_file[0] == '\0' &&
	    (size_t)snprintf(cfg->pid_file, sizeof(cfg->pid_file),
	    "%s/unikerneld.pid", cfg->state_dir) >= sizeof(cfg->pid_file))
		return fail_at(p, "config_bad_value", line_of(p, "state_dir"),
		    "state_dir: too long for the pid file's path");
	if (cfg->listen[0] != '\0' && cfg->token_file[0] == '\0')
		return fail_at(p, "config_conflict", line_of(p, "listen"),
		    "listen needs token_file: the TCP listener takes only "
		    "requests with the bearer token");
	if (cfg->listen[0] != '\0' && !cfg->listen_loopback &&
	    !cfg->allow_remote)
		return fail_at(p, "config_conflict", line_of(p, "listen"),
		    "listen: %s is not a loopback address; set allow_remote = "
		    "yes to listen on it", cfg->listen);
	if (tls && (cfg->tls_cert[0] == '\0' || cfg->tls_key[0] == '\0'))
		return fail_at(p, "config_conflict",
		    line_of(p, cfg->tls_cert[0] ? "tls_cert" : "tls_key"),
		    "tls_cert and tls_key go together");
	if (cfg->listen[0] != '\0' && !cfg->listen_loopback && !tls)
		return fail_at(p, "config_conflict", line_of(p, "listen"),
		    "listen: a non-loopback address needs tls_cert and "
		    "tls_key, or the token would cross the network in clear");
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return fail_at(p, "config_unsupported", line_of(p, "tls_cert"),
		    "tls_cert: this libmicrohttpd was built without TLS");
	if (tls && (check_file(p, "tls_cert", cfg->tls_cert, 0) == -1 ||
	    check_file(p, "tls_key", cfg->tls_key, 0007) == -1))
		return -1;
	if (cfg->token_file[0] != '\0' && read_token(p) == -1)
		return -1;
	return 0;
}

int
config_parse_buf(const char *name, const char *buf, size_t len,
    struct config *cfg, struct err *e)
{
	struct parse p;
	char line[LINE_MAX_LEN + 1];
	const char *s = buf, *end = buf + len, *nl;
	unsigned lineno = 0;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.cfg = cfg;
	p.e = e;
	config_defaults(cfg);
	if ((size_t)snprintf(cfg->file, sizeof(cfg->file), "%s", name) >=
	    sizeof(cfg->file))
		return err_set(e, ERR_INVALID, "%s: path too long", name);
	while (s < end) {
		lineno++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if (memchr(s, '\0', (size_t)(nl - s)) != NULL) {
			fail_at(&p, "config_syntax", lineno, "a NUL byte");
			goto fail;
		}
		if ((size_t)(nl - s) > LINE_MAX_LEN) {
			fail_at(&p, "config_syntax", lineno,
			    "longer than %d bytes", LINE_MAX_LEN);
			goto fail;
		}
		memcpy(line, s, (size_t)(nl - s));
		line[nl - s] = '\0';
		if (parse_line(&p, lineno, line) == -1)
			goto fail;
		s = nl + 1;
	}
	if (check_all(&p) == -1)
		goto fail;
	return 0;
fail:
	config_clear(cfg);
	config_defaults(cfg);
	return -1;
}

int
config_parse_file(const char *path, struct config *cfg, struct err *e)
{
	struct err fe;
	char *buf;
	size_t len;
	int rc;

	config_defaults(cfg);
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return err_set(e, "config_missing_file", "%s: no such file",
		    path);
	if (fileio_read(path, CONFIG_FILE_MAX, &buf, &len, &fe) == -1)
		return err_set(e, fe.code, "%s", fe.msg);
	rc = config_parse_buf(path, buf, len, cfg, e);
	free(buf);
	return rc;
}
