/*
 * conf.h - unikerneld.conf(5): the daemon's configuration.
 *
 * (The file is conf.h, not config.h: a config.h in unikerneld/ would be
 * found before autoconf's by every `#include "config.h"` in this folder.)
 *
 * The file is lines of `key = value`; `#` starts a comment; a value may be
 * written in double quotes (escapes \" and \\ only), which it needs when it
 * holds a `#` or begins or ends with blanks.  Each key at most once.  Every
 * path is absolute.  unikerneld.conf(5) documents the keys and defaults.
 *
 * Errors follow err.h; messages are "FILE:LINE: what is wrong" (or
 * "FILE: ..." when no line is to blame), so that `unikerneld -n` names the
 * line.  Codes:
 *   config_missing_file	the file, or a file it names, does not exist
 *   config_syntax		a line is not `key = value`
 *   config_unknown_key		no such key
 *   config_duplicate_key	the key was already set
 *   config_bad_value		the value does not parse or is out of range
 *   config_conflict		keys that do not go together (listen without
 *				token_file, a remote address without
 *				allow_remote or without TLS, half of TLS)
 *   config_insecure_file	token_file or tls_key readable by others
 *   config_unsupported		TLS asked of a libmicrohttpd without it
 *   io_error			the file could not be read
 *
 * Memory: struct config holds everything inline; nothing to free.  It holds
 * the bearer token once token_file was read: config_clear() wipes it.
 */
#ifndef UNIKERNELD_CONF_H
#define UNIKERNELD_CONF_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "err.h"
#include "netspec.h"

#define CONFIG_DEFAULT_FILE "/etc/unikerneld.conf"
#define CONFIG_PATH_MAX 1024	/* paths and other values, NUL included */
/* Bearer tokens: printable ASCII without blanks, MIN to MAX - 1 long. */
#define CONFIG_TOKEN_MIN 16
#define CONFIG_TOKEN_MAX 256
#define CONFIG_FILE_MAX (1024 * 1024)	/* larger files are refused */
#define CONFIG_FORWARD_IPS_MAX 16	/* addresses in forward_addresses */

struct config {
	char file[CONFIG_PATH_MAX];	/* where it came from; "" defaults */

	char state_dir[CONFIG_PATH_MAX];	/* /var/lib/unikerneld */
	char pid_file[CONFIG_PATH_MAX];	/* $state_dir/unikerneld.pid */
	char log_file[CONFIG_PATH_MAX];	/* with -d; "" means syslog */
	int log_level;			/* LOG_ERR..LOG_DEBUG */

	char socket[CONFIG_PATH_MAX];	/* /run/unikerneld.sock */
	mode_t socket_mode;		/* 0660 */
	uid_t socket_uid;		/* (uid_t)-1: leave as created */
	gid_t socket_gid;		/* (gid_t)-1: leave as created */

	char listen[CONFIG_PATH_MAX];	/* "host:port" as written, or "" */
	struct sockaddr_storage listen_addr;
	socklen_t listen_addrlen;	/* 0 when there is no TCP listener */
	int listen_loopback;		/* listen_addr is loopback */
	int allow_remote;
	char token_file[CONFIG_PATH_MAX];
	char token[CONFIG_TOKEN_MAX];	/* its first line, "" when none */
	char tls_cert[CONFIG_PATH_MAX];	/* PEM files, both or neither */
	char tls_key[CONFIG_PATH_MAX];

	char default_backend[16];	/* qemu | libvirt | libxl */
	char libvirt_uri[CONFIG_PATH_MAX];	/* "": the backend's */
	char qemu[CONFIG_PATH_MAX];	/* the qemu backend's string, "" */

	uint64_t cache_max;		/* bytes; 0 means no limit */
	uint64_t console_log_max;	/* bytes per instance, 1 MiB */
	uint64_t max_image_size;	/* bytes, 1 GiB */
	unsigned fetch_timeout;		/* seconds per transfer, 300 */
	unsigned fetch_retries;		/* 3 */

	/* guest networks (docs/daemon.md, "Guest networks") */
	char bridge_name[NETSPEC_IFNAME_MAX];	/* ukbr0 */
	char bridge_address[32];	/* 10.213.0.1/24, as written */
	struct netspec_subnet bridge_subnet;	/* the same, parsed */
	char forward_addresses[CONFIG_PATH_MAX];	/* as written */
	char forward_ips[CONFIG_FORWARD_IPS_MAX][NETSPEC_IP_MAX];
	size_t nforward_ips;		/* 127.0.0.1 alone by default */
	int user_outbound;		/* user mode may reach out: no */
};

/* Fills (cfg) with the defaults of unikerneld.conf(5). */
void config_defaults(struct config *cfg);

/* Reads (path) over the defaults into (cfg), checks every value and the
 * keys against one another, reads token_file and checks that it and
 * tls_key are private to their owner (the daemon's user or root).  On
 * failure (cfg) holds defaults and (e) says which line is wrong. */
int config_parse_file(const char *path, struct config *cfg, struct err *e);

/* The same over (len) bytes of text at (buf); (name) stands for the file
 * in messages and relative token/TLS paths are still refused. */
int config_parse_buf(const char *name, const char *buf, size_t len,
    struct config *cfg, struct err *e);

/* Wipes the token held in (cfg). */
void config_clear(struct config *cfg);

/* Value parsers, shared with the tests: "512K", "1M", "2G", "1T" or bytes
 * (powers of 1024); "30s", "5m", "2h" or seconds.  0 or -1. */
int config_parse_size(const char *s, uint64_t *out);
int config_parse_duration(const char *s, unsigned *secs);

/* "error", "warning", "info", "debug" for a syslog priority. */
const char *config_log_level_name(int level);

#endif
