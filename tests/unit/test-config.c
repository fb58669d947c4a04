/* unikerneld.conf(5): every key, every refusal with its code and line,
 * sizes, durations, and the token file's checks. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <microhttpd.h>

#include "conf.h"
#include "tap.h"

static char dir[] = "/tmp/test-config.XXXXXX";

static int
parse(const char *text, struct config *cfg, struct err *e)
{
	err_clear(e);
	return config_parse_buf("test.conf", text, strlen(text), cfg, e);
}

/* (text) must fail with (code), its message starting "test.conf:LINE:". */
static void
refused(const char *text, const char *code, unsigned line, const char *name)
{
	struct config cfg;
	struct err e;
	char prefix[64];
	int rc;

	rc = parse(text, &cfg, &e);
	snprintf(prefix, sizeof(prefix), "test.conf:%u: ", line);
	if (!ok(rc == -1 && strcmp(e.code, code) == 0 &&
	    strncmp(e.msg, prefix, strlen(prefix)) == 0, "%s: %s at line %u",
	    name, code, line))
		diag("rc %d, code '%s', message '%s'", rc, e.code, e.msg);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		diag("cannot write %s", path);
	if (fd != -1)
		close(fd);
	chmod(path, mode);
}

static void
test_defaults(void)
{
	struct config cfg;
	struct err e;

	ok(parse("", &cfg, &e) == 0, "an empty file is all defaults");
	is_str(cfg.state_dir, "/var/lib/unikerneld", "state_dir default");
	is_str(cfg.socket, "/run/unikerneld.sock", "socket default");
	is_int(cfg.socket_mode, 0660, "socket_mode default");
	is_int(cfg.socket_uid, (uid_t)-1, "socket_owner default: unchanged");
	is_int(cfg.socket_gid, (gid_t)-1, "socket_group default: unchanged");
	is_str(cfg.pid_file, "/var/lib/unikerneld/unikerneld.pid",
	    "pid_file default is in state_dir");
	is_str(cfg.log_file, "", "log_file default: syslog");
	is_int(cfg.log_level, LOG_INFO, "log_level default");
	is_str(cfg.listen, "", "no TCP listener by default");
	is_int(cfg.listen_addrlen, 0, "no TCP address by default");
	is_int(cfg.allow_remote, 0, "allow_remote default");
	is_str(cfg.token, "", "no token by default");
	is_str(cfg.default_backend, "qemu", "default_backend default");
	is_str(cfg.libvirt_uri, "", "libvirt_uri default: the backend's");
	is_str(cfg.qemu, "", "qemu default");
	is_int((long long)cfg.cache_max, 0, "cache_max default: unlimited");
	is_int((long long)cfg.console_log_max, 1024 * 1024,
	    "console_log_max default 1M");
	is_int((long long)cfg.max_image_size, 1024LL * 1024 * 1024,
	    "max_image_size default 1G");
	is_int(cfg.fetch_timeout, 300, "fetch_timeout default 5m");
	is_int(cfg.fetch_retries, 3, "fetch_retries default");
	is_str(cfg.bridge_name, "ukbr0", "bridge_name default");
	ok(cfg.bridge_subnet.addr == 0x0ad50001u &&
	    cfg.bridge_subnet.prefix == 24, "bridge_address default "
	    "10.213.0.1/24");
	ok(cfg.nforward_ips == 1 && strcmp(cfg.forward_ips[0],
	    "127.0.0.1") == 0, "forward_addresses default 127.0.0.1");
	is_int(cfg.user_outbound, 0, "user_outbound default no");
}

static void
test_every_key(void)
{
	char text[4096], token[256], grp_name[256] = "", usr_name[256] = "";
	struct group *gr = getgrgid(getgid());
	struct passwd *pw = getpwuid(getuid());
	struct sockaddr_in *sin;
	struct config cfg;
	struct err e;

	snprintf(token, sizeof(token), "%s/token", dir);
	write_file(token, "0123456789abcdefXYZ\n", 0600);
	if (gr != NULL)
		snprintf(grp_name, sizeof(grp_name), "%s", gr->gr_name);
	if (pw != NULL)
		snprintf(usr_name, sizeof(usr_name), "%s", pw->pw_name);
	snprintf(text, sizeof(text),
	    "# every key\n"
	    "state_dir = /tmp/state/\n"
	    "pid_file = /tmp/u.pid\n"
	    "log_file = \"/tmp/u.log\"\n"
	    "log_level = debug\n"
	    "socket = /tmp/u.sock\n"
	    "socket_mode = 0600\n"
	    "socket_owner = %s\n"
	    "socket_group = %s\n"
	    "listen = 127.0.0.1:8123\n"
	    "allow_remote = no\n"
	    "token_file = %s\n"
	    "default_backend = libvirt\n"
	    "libvirt_uri = qemu:///embed?root=/tmp/x\n"
	    "qemu = \"-cpu host # not a comment\"\n"
	    "cache_max = 10G\n"
	    "console_log_max = 512K\n"
	    "max_image_size = 64M\n"
	    "fetch_timeout = 2m\n"
	    "fetch_retries = 7\n"
	    "bridge_name = br-uk.1\n"
	    "bridge_address = 192.168.77.1/16\n"
	    "forward_addresses = 127.0.0.1, 0.0.0.0 192.0.2.7\n"
	    "user_outbound = yes\n",
	    usr_name[0] ? usr_name : "0", grp_name[0] ? grp_name : "0", token);
	if (!ok(parse(text, &cfg, &e) == 0, "a file with every key"))
		diag("%s [%s]", e.msg, e.code);
	is_str(cfg.state_dir, "/tmp/state", "state_dir (trailing / dropped)");
	is_str(cfg.pid_file, "/tmp/u.pid", "pid_file");
	is_str(cfg.log_file, "/tmp/u.log", "log_file (quoted)");
	is_int(cfg.log_level, LOG_DEBUG, "log_level");
	is_str(cfg.socket, "/tmp/u.sock", "socket");
	is_int(cfg.socket_mode, 0600, "socket_mode");
	is_int(cfg.socket_uid, getuid(), "socket_owner by name");
	is_int(cfg.socket_gid, getgid(), "socket_group by name");
	is_str(cfg.listen, "127.0.0.1:8123", "listen");
	sin = (struct sockaddr_in *)&cfg.listen_addr;
	ok(cfg.listen_addrlen == sizeof(*sin) && sin->sin_family == AF_INET &&
	    ntohs(sin->sin_port) == 8123 &&
	    sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	    "listen address parsed");
	is_int(cfg.listen_loopback, 1, "127.0.0.1 is loopback");
	is_int(cfg.allow_remote, 0, "allow_remote");
	is_str(cfg.token_file, token, "token_file");
	is_str(cfg.token, "0123456789abcdefXYZ", "the token, its first line");
	is_str(cfg.default_backend, "libvirt", "default_backend");
	is_str(cfg.libvirt_uri, "qemu:///embed?root=/tmp/x", "libvirt_uri");
	is_str(cfg.qemu, "-cpu host # not a comment", "qemu (quoted, #)");
	is_int((long long)cfg.cache_max, 10LL << 30, "cache_max");
	is_int((long long)cfg.console_log_max, 512 << 10, "console_log_max");
	is_int((long long)cfg.max_image_size, 64 << 20, "max_image_size");
	is_int(cfg.fetch_timeout, 120, "fetch_timeout");
	is_int(cfg.fetch_retries, 7, "fetch_retries");
	is_str(cfg.bridge_name, "br-uk.1", "bridge_name");
	ok(cfg.bridge_subnet.addr == 0xc0a84d01u &&
	    cfg.bridge_subnet.prefix == 16, "bridge_address");
	ok(cfg.nforward_ips == 3 && strcmp(cfg.forward_ips[1], "0.0.0.0") == 0 &&
	    strcmp(cfg.forward_ips[2], "192.0.2.7") == 0,
	    "forward_addresses, by commas and blanks");
	is_int(cfg.user_outbound, 1, "user_outbound");
	config_clear(&cfg);
	is_str(cfg.token, "", "config_clear wipes the token");

	ok(parse("socket_owner = 4242\nsocket_group = 4343\n", &cfg, &e) == 0 &&
	    cfg.socket_uid == 4242 && cfg.socket_gid == 4343,
	    "socket_owner and socket_group by number");
	ok(parse("cache_max = unlimited\n", &cfg, &e) == 0 &&
	    cfg.cache_max == 0, "cache_max = unlimited");
	ok(parse("state_dir = /s\n", &cfg, &e) == 0 &&
	    strcmp(cfg.pid_file, "/s/unikerneld.pid") == 0,
	    "pid_file follows state_dir");
}

static void
test_syntax(void)
{
	struct config cfg;
	struct err e;

	ok(parse("  # comment\n\n\t\nstate_dir=/a# trailing\r\n"
	    "socket = \"/b c\"   # after a quote\n", &cfg, &e) == 0 &&
	    strcmp(cfg.state_dir, "/a") == 0 &&
	    strcmp(cfg.socket, "/b c") == 0,
	    "comments, blanks, CRLF, no spaces around '='");
	ok(parse("qemu = \"a \\\"q\\\" \\\\ b\"\n", &cfg, &e) == 0 &&
	    strcmp(cfg.qemu, "a \"q\" \\ b") == 0, "escapes in quotes");
	ok(parse("qemu = \"  padded  \"\n", &cfg, &e) == 0 &&
	    strcmp(cfg.qemu, "  padded  ") == 0, "quotes keep blanks");
	ok(parse("state_dir = /x", &cfg, &e) == 0 &&
	    strcmp(cfg.state_dir, "/x") == 0, "no newline at the end");

	refused("state_dir /a\n", "config_syntax", 1, "no '='");
	refused("# c\n= /a\n", "config_syntax", 2, "no key");
	refused("\n\nstate_dir =\n", "config_syntax", 3, "no value");
	refused("state_dir = # c\n", "config_syntax", 1, "only a comment");
	refused("qemu = \"abc\n", "config_syntax", 1, "no closing quote");
	refused("qemu = \"abc\" d\n", "config_syntax", 1,
	    "text after the closing quote");
	refused("qemu = a\"b\n", "config_syntax", 1, "a quote in a bare value");
	refused("qemu = \"a\\nb\"\n", "config_syntax", 1, "an unknown escape");
	refused("a\n", "config_syntax", 1, "a bare word");
	refused("state_dir = /a\nqemu = x\001y\n", "config_syntax", 2,
	    "a control character");
	refused("state_dir = /a\nfoo = 1\n", "config_unknown_key", 2,
	    "an unknown key");
	refused("State_Dir = /a\n", "config_unknown_key", 1,
	    "keys are lowercase");
	refused("socket = /a\n# x\nsocket = /b\n", "config_duplicate_key", 3,
	    "a key twice");
	{
		char nul[] = "state_dir = /a\nqemu = x\0y\n";

		err_clear(&e);
		ok(config_parse_buf("test.conf", nul, sizeof(nul) - 1, &cfg,
		    &e) == -1 && strcmp(e.code, "config_syntax") == 0 &&
		    strncmp(e.msg, "test.conf:2:", 12) == 0, "a NUL byte");
	}
	{
		char *big = malloc(5000);

		memset(big, 'x', 4999);
		memcpy(big, "qemu = ", 7);
		big[4999] = '\0';
		refused(big, "config_syntax", 1, "a line over 4096 bytes");
		free(big);
	}
	ok(parse("socket = /a\nbogus\n", &cfg, &e) == -1 &&
	    strcmp(cfg.socket, "/run/unikerneld.sock") == 0,
	    "after a failure the config holds the defaults");
}

static void
test_values(void)
{
	static const struct {
		const char *text;
		const char *name;
	} bad[] = {
		{ "state_dir = var/lib/u", "a relative path" },
		{ "pid_file = u.pid", "a relative pid_file" },
		{ "socket = /tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaa.sock", "a socket path too long for sun_path" },
		{ "socket_mode = 0999", "a mode that is not octal" },
		{ "socket_mode = 01777", "a mode with sticky bits" },
		{ "socket_mode = rw", "a mode in letters" },
		{ "socket_owner = no-such-user-xyzzy", "an unknown user" },
		{ "socket_group = no-such-group-xyzzy", "an unknown group" },
		{ "listen = 127.0.0.1", "listen without a port" },
		{ "listen = 127.0.0.1:0", "listen on port 0" },
		{ "listen = 127.0.0.1:65536", "listen on port 65536" },
		{ "listen = 127.0.0.1:http", "listen on a service name" },
		{ "listen = example.org:80", "listen on a host name" },
		{ "listen = ::1:80", "IPv6 without brackets" },
		{ "listen = [127.0.0.1]:80", "IPv4 in brackets" },
		{ "listen = [::1:80", "no closing bracket" },
		{ "allow_remote = maybe", "a bool that is neither" },
		{ "allow_remote = 1", "a bool as a number" },
		{ "default_backend = vmware", "an unknown backend" },
		{ "log_level = verbose", "an unknown log level" },
		{ "cache_max = 12X", "a size with a bad suffix" },
		{ "cache_max = 512K", "cache_max under 1M" },
		{ "console_log_max = 1K", "console_log_max under 4K" },
		{ "max_image_size = 2T", "max_image_size over 1T" },
		{ "max_image_size = 99999999999999999999",
		    "a size overflowing" },
		{ "fetch_timeout = 0", "fetch_timeout 0" },
		{ "fetch_timeout = 2d", "a duration in days" },
		{ "fetch_timeout = 25h", "fetch_timeout over a day" },
		{ "fetch_timeout = -5", "a negative duration" },
		{ "fetch_retries = 101", "fetch_retries over 100" },
		{ "fetch_retries = -1", "negative fetch_retries" },
		{ "fetch_retries = 3x", "fetch_retries not a number" },
		{ "bridge_name = \"\"", "an empty bridge_name" },
		{ "bridge_name = ukbr0123456789ab", "bridge_name of 16 bytes" },
		{ "bridge_name = uk/br", "bridge_name with a slash" },
		{ "bridge_name = ..", "bridge_name .." },
		{ "bridge_address = 10.213.0.1", "bridge_address without a "
		    "prefix" },
		{ "bridge_address = 10.213.0.0/24", "bridge_address the "
		    "network's" },
		{ "bridge_address = 10.213.0.1/31", "bridge_address /31" },
		{ "bridge_address = ::1/64", "bridge_address IPv6" },
		{ "forward_addresses = localhost", "forward_addresses by name" },
		{ "forward_addresses = , ,", "forward_addresses none" },
		{ "forward_addresses = 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 "
		    "127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9 "
		    "127.0.0.10 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 "
		    "127.0.0.15 127.0.0.16 127.0.0.17", "17 forward_addresses" },
		{ "user_outbound = 1", "user_outbound as a number" },
	};
	char text[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "# line 1\n%s\n", bad[i].text);
		refused(text, "config_bad_value", 2, bad[i].name);
	}
}

static void
test_sizes(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 }, { "1", 1 }, { "512K", 512 << 10 },
		{ "512k", 512 << 10 }, { "1M", 1 << 20 }, { "2G", 2ULL << 30 },
		{ "1T", 1ULL << 40 }, { "18446744073709551615", UINT64_MAX },
		{ "16777215T", 16777215ULL << 40 },
	};
	static const char *const bad[] = {
		"", "K", "1 M", " 1M", "-1", "+1", "1.5M", "1MB", "1Mi",
		"18446744073709551616", "16777216T", "0x10",
	};
	static const struct {
		const char *s;
		unsigned v;
	} dgood[] = {
		{ "45", 45 }, { "30s", 30 }, { "5m", 300 }, { "2h", 7200 },
		{ "0", 0 },
	};
	static const char *const dbad[] = {
		"", "s", "1d", "1 m", "1.5m", "5M", "-5", "4294967296",
		"1193047h",
	};
	uint64_t v;
	unsigned d;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(config_parse_size(good[i].s, &v) == 0 && v == good[i].v,
		    "size '%s'", good[i].s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(config_parse_size(bad[i], &v) == -1, "size '%s' refused",
		    bad[i]);
	for (i = 0; i < sizeof(dgood) / sizeof(dgood[0]); i++)
		ok(config_parse_duration(dgood[i].s, &d) == 0 &&
		    d == dgood[i].v, "duration '%s'", dgood[i].s);
	for (i = 0; i < sizeof(dbad) / sizeof(dbad[0]); i++)
		ok(config_parse_duration(dbad[i], &d) == -1,
		    "duration '%s' refused", dbad[i]);
}

static void
test_listen(void)
{
	char text[1024], token[256];
	struct sockaddr_in6 *sin6;
	struct config cfg;
	struct err e;

	snprintf(token, sizeof(token), "%s/token", dir);
	write_file(token, "0123456789abcdef0123\n", 0600);

	snprintf(text, sizeof(text), "token_file = %s\nlisten = [::1]:9000\n",
	    token);
	sin6 = (struct sockaddr_in6 *)&cfg.listen_addr;
	ok(parse(text, &cfg, &e) == 0 && cfg.listen_loopback &&
	    sin6->sin6_family == AF_INET6 && ntohs(sin6->sin6_port) == 9000,
	    "listen on [::1]");
	snprintf(text, sizeof(text), "token_file = %s\n"
	    "listen = localhost:9001\n", token);
	ok(parse(text, &cfg, &e) == 0 && cfg.listen_loopback &&
	    cfg.listen_addr.ss_family == AF_INET, "listen on localhost");
	snprintf(text, sizeof(text), "token_file = %s\n"
	    "listen = 127.9.8.7:9002\n", token);
	ok(parse(text, &cfg, &e) == 0 && cfg.listen_loopback,
	    "all of 127/8 is loopback");

	refused("\n\n# c\nlisten = 127.0.0.1:8080\n", "config_conflict", 4,
	    "listen without token_file");
	snprintf(text, sizeof(text), "listen = 0.0.0.0:8080\n"
	    "token_file = %s\n", token);
	refused(text, "config_conflict", 1,
	    "a non-loopback listen without allow_remote");
	snprintf(text, sizeof(text), "listen = [::]:8080\n"
	    "token_file = %s\nallow_remote = yes\n", token);
	refused(text, "config_conflict", 1,
	    "a non-loopback listen without TLS");
	refused("# c\ntls_cert = /etc/ssl/c.pem\n", "config_conflict", 2,
	    "tls_cert without tls_key");
	refused("tls_key = /etc/ssl/k.pem\n", "config_conflict", 1,
	    "tls_key without tls_cert");
}

static void
test_token_file(void)
{
	char text[1024], token[256];
	struct config cfg;
	struct err e;

	snprintf(token, sizeof(token), "%s/tok", dir);
	snprintf(text, sizeof(text), "# c\ntoken_file = %s\n", token);

	unlink(token);
	refused(text, "config_missing_file", 2, "token_file missing");
	write_file(token, "0123456789abcdef\n", 0644);
	refused(text, "config_insecure_file", 2, "token_file mode 0644");
	chmod(token, 0640);
	refused(text, "config_insecure_file", 2, "token_file mode 0640");
	chmod(token, 0604);
	refused(text, "config_insecure_file", 2, "token_file mode 0604");
	chmod(token, 0700);
	refused(text, "config_insecure_file", 2, "token_file mode 0700");
	chmod(token, 0400);
	ok(parse(text, &cfg, &e) == 0 &&
	    strcmp(cfg.token, "0123456789abcdef") == 0, "token_file mode 0400");
	chmod(token, 0600);
	ok(parse(text, &cfg, &e) == 0, "token_file mode 0600");

	write_file(token, "short\n", 0600);
	refused(text, "config_bad_value", 2, "a token under 16 characters");
	write_file(token, "0123456789 abcdef\n", 0600);
	refused(text, "config_bad_value", 2, "a token with a blank");
	write_file(token, "", 0600);
	refused(text, "config_bad_value", 2, "an empty token file");
	write_file(token, "0123456789abcdef0\r\nsecond line\n", 0600);
	ok(parse(text, &cfg, &e) == 0 &&
	    strcmp(cfg.token, "0123456789abcdef0") == 0,
	    "only the first line, without CR, is the token");
	snprintf(text, sizeof(text), "token_file = %s\n", dir);
	refused(text, "config_bad_value", 1, "token_file is a directory");
}

static void
test_tls(void)
{
	char text[1024], cert[256], key[256], token[256];
	struct config cfg;
	struct err e;

	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(token, sizeof(token), "%s/token", dir);
	write_file(cert, "not checked here\n", 0644);
	write_file(key, "not checked here\n", 0640);
	write_file(token, "0123456789abcdef0123\n", 0600);
	snprintf(text, sizeof(text), "listen = 0.0.0.0:8443\n"
	    "allow_remote = yes\ntoken_file = %s\ntls_cert = %s\n"
	    "tls_key = %s\n", token, cert, key);
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		refused(text, "config_unsupported", 4,
		    "TLS without TLS in libmicrohttpd");
		return;
	}
	if (!ok(parse(text, &cfg, &e) == 0,
	    "a remote listener with TLS and allow_remote"))
		diag("%s [%s]", e.msg, e.code);
	chmod(key, 0644);
	refused(text, "config_insecure_file", 5, "tls_key readable by others");
	unlink(cert);
	refused(text, "config_missing_file", 4, "tls_cert missing");
}

static void
test_file(void)
{
	char path[256];
	struct config cfg;
	struct err e;

	snprintf(path, sizeof(path), "%s/none.conf", dir);
	err_clear(&e);
	ok(config_parse_file(path, &cfg, &e) == -1 &&
	    strcmp(e.code, "config_missing_file") == 0 &&
	    strstr(e.msg, path) != NULL, "a missing file");
	snprintf(path, sizeof(path), "%s/u.conf", dir);
	write_file(path, "state_dir = /a\n\nfetch_retries = many\n", 0644);
	err_clear(&e);
	ok(config_parse_file(path, &cfg, &e) == -1 &&
	    strcmp(e.code, "config_bad_value") == 0, "a bad file");
	{
		char want[300];

		snprintf(want, sizeof(want), "%s:3: fetch_retries: 'many': ",
		    path);
		if (!ok(strncmp(e.msg, want, strlen(want)) == 0,
		    "the message names the file, line, key and value"))
			diag("%s", e.msg);
	}
	write_file(path, "state_dir = /a\n", 0644);
	ok(config_parse_file(path, &cfg, &e) == 0 &&
	    strcmp(cfg.file, path) == 0 && strcmp(cfg.state_dir, "/a") == 0,
	    "a good file");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_defaults();
	test_every_key();
	test_syntax();
	test_values();
	test_sizes();
	test_listen();
	test_token_file();
	test_tls();
	test_file();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
