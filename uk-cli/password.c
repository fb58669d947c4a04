#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "minisign.h"

/*
 * Passwords go straight into the caller's (locked) buffer; nothing here
 * copies them elsewhere except the second entry when confirming, which
 * lives in sodium_malloc() memory and is wiped.
 */

/* Signals that would leave the terminal with echo off if they killed or
 * stopped us mid-prompt: they are caught, the terminal restored, then they
 * are delivered again. */
static const int tty_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM,
	SIGPIPE,
};
#define NTTYSIG (sizeof(tty_signals) / sizeof(tty_signals[0]))

static volatile sig_atomic_t tty_caught[NSIG];

static void
tty_on_signal(int sig)
{
	tty_caught[sig] = 1;
}

static int
too_long(size_t bufsz, struct err *e)
{
	return err_set(e, "password_too_long", "password is over %zu bytes",
	    bufsz - 1);
}

/* First line of (file), without "\n" or "\r\n". */
static int
password_from_file(const char *file, char *buf, size_t bufsz, struct err *e)
{
	size_t n = 0;
	char *nl = NULL, extra;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return err_errno(e, ERR_IO, errno, "password file %s", file);
	while (n < bufsz - 1 && (nl = memchr(buf, '\n', n)) == NULL) {
		r = read(fd, buf + n, bufsz - 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err_errno(e, ERR_IO, errno, "password file %s", file);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (nl == NULL)
		nl = memchr(buf, '\n', n);
	if (nl == NULL && n == bufsz - 1 && read(fd, &extra, 1) == 1 &&
	    extra != '\n') {
		too_long(bufsz, e);
		goto out;
	}
	if (nl != NULL)
		n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	rc = 0;
out:
	sodium_memzero(buf + n, bufsz - n);
	if (rc == -1)
		sodium_memzero(buf, bufsz);
	close(fd);
	return rc;
}

static int
password_from_env(const char *pw, char *buf, size_t bufsz, struct err *e)
{
	size_t n = strlen(pw);

	if (n >= bufsz)
		return too_long(bufsz, e);
	memcpy(buf, pw, n + 1);
	return 0;
}

/* Reads one line from the terminal (fd) with echo off.  (*interrupted) is
 * set when a signal arrived (the entry is then void). */
static int
tty_line(int fd, char *buf, size_t bufsz, int *interrupted)
{
	size_t n = 0;
	int over = 0;
	ssize_t r;
	char c;

	*interrupted = 0;
	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR) {
			*interrupted = 1;
			break;
		}
		if (r <= 0 || c == '\n')
			break;
		if (n < bufsz - 1)
			buf[n++] = c;
		else
			over = 1;
	}
	sodium_memzero(&c, sizeof(c));
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return *interrupted || r == -1 ? -1 : over ? -2 : 0;
}

static int
tty_ask(int fd, const char *prompt, char *buf, size_t bufsz, struct err *e)
{
	struct sigaction sa, saved[NTTYSIG];
	struct termios old, quiet;
	int interrupted, rc;
	size_t i;

	if (tcgetattr(fd, &old) == -1)
		return err_set(e, "password_unavailable",
		    "cannot ask for a password: /dev/tty is not a terminal");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_on_signal;	/* no SA_RESTART: read() must stop */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NTTYSIG; i++) {
		tty_caught[tty_signals[i]] = 0;
		sigaction(tty_signals[i], &sa, &saved[i]);
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	(void)!write(fd, prompt, strlen(prompt));
	rc = tty_line(fd, buf, bufsz, &interrupted);
	(void)!write(fd, "\n", 1);
	tcsetattr(fd, TCSAFLUSH, &old);
	for (i = 0; i < NTTYSIG; i++)
		sigaction(tty_signals[i], &saved[i], NULL);
	for (i = 0; i < NTTYSIG; i++)
		if (tty_caught[tty_signals[i]])
			raise(tty_signals[i]);
	if (rc == 0)
		return 0;
	sodium_memzero(buf, bufsz);
	if (rc == -2)
		return too_long(bufsz, e);
	return err_set(e, "password_unavailable", interrupted ?
	    "password entry interrupted" : "cannot read from the terminal");
}

/* "Password: " -> "Password (again): " */
static void
again_prompt(const char *prompt, char *out, size_t outsz)
{
	size_t n = strlen(prompt);

	while (n > 0 && (prompt[n - 1] == ' ' || prompt[n - 1] == ':'))
		n--;
	snprintf(out, outsz, "%.*s (again): ", (int)n, prompt);
}

static int
password_from_tty(const char *prompt, int confirm, char *buf, size_t bufsz,
    struct err *e)
{
	char again[256], *second = NULL;
	size_t n;
	int fd, rc = -1;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return err_set(e, "password_unavailable", "no password file, "
		    "no UK_PASSWORD and no terminal to ask on");
	if (tty_ask(fd, prompt, buf, bufsz, e) == -1)
		goto out;
	if (!confirm) {
		rc = 0;
		goto out;
	}
	if ((second = sodium_malloc(bufsz)) == NULL) {
		err_set(e, ERR_NOMEM, "out of locked memory");
		goto out;
	}
	again_prompt(prompt, again, sizeof(again));
	if (tty_ask(fd, again, second, bufsz, e) == -1)
		goto out;
	n = strlen(buf);
	if (strlen(second) != n || sodium_memcmp(buf, second, n) != 0) {
		err_set(e, "password_mismatch", "the two passwords differ");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		sodium_memzero(buf, bufsz);
	if (second != NULL)
		sodium_free(second);
	close(fd);
	return rc;
}

int
cli_password(const char *prompt, int confirm, const char *file, char *buf,
    size_t bufsz, struct err *e)
{
	const char *env;

	if (bufsz < 2)
		return err_set(e, ERR_INVALID, "password buffer too small");
	if (sodium_init() < 0)
		return err_set(e, "crypto_unavailable",
		    "libsodium failed to initialise");
	buf[0] = '\0';
	if (file != NULL)
		return password_from_file(file, buf, bufsz, e);
	if ((env = getenv("UK_PASSWORD")) != NULL)
		return password_from_env(env, buf, bufsz, e);
	return password_from_tty(prompt, confirm, buf, bufsz, e);
}

int
cli_default_seckey(char *out, size_t outsz, int create_dir, struct err *e)
{
	const char *home = getenv("HOME");
	struct stat st;

	if (home == NULL || home[0] == '\0')
		return err_set(e, ERR_INVALID, "HOME is not set");
	if ((size_t)snprintf(out, outsz, "%s/.uk", home) >= outsz)
		return err_set(e, ERR_INVALID, "HOME is too long");
	if (create_dir) {
		if (mkdir(out, 0700) == -1 && errno != EEXIST)
			return err_errno(e, ERR_IO, errno, "creating %s", out);
		if (stat(out, &st) == -1 || !S_ISDIR(st.st_mode))
			return err_set(e, ERR_IO, "%s is not a directory", out);
	}
	if ((size_t)snprintf(out, outsz, "%s/.uk/uk.key", home) >= outsz)
		return err_set(e, ERR_INVALID, "HOME is too long");
	return 0;
}

struct seckey_pw {
	const char *file, *keypath;
};

/* sig_seckey_load() asks through this only when the key is encrypted. */
static int
seckey_ask(void *arg, char *buf, size_t bufsz, struct err *e)
{
	const struct seckey_pw *src = arg;
	char prompt[4200];

	snprintf(prompt, sizeof(prompt), "Password for %s: ", src->keypath);
	return cli_password(prompt, 0, src->file, buf, bufsz, e);
}

int
cli_seckey_load(const char *path, const char *password_file,
    struct sig_seckey **out, struct err *e)
{
	char def[4096];
	struct seckey_pw src;

	if (path == NULL) {
		if (cli_default_seckey(def, sizeof(def), 0, e) == -1)
			return -1;
		path = def;
	}
	src.file = password_file;
	src.keypath = path;
	return sig_seckey_load(path, seckey_ask, &src, out, e);
}

const char *
cli_seckey_hint(const struct err *e)
{
	if (strcmp(e->code, "key_checksum_mismatch") == 0)
		return "check the password (--password-file, UK_PASSWORD or "
		    "the terminal)";
	if (strcmp(e->code, "password_unavailable") == 0)
		return "use --password-file F or set UK_PASSWORD";
	if (strcmp(e->code, "key_kdf_limits") == 0)
		return "this key file asks for absurd scrypt limits; do not "
		    "use it";
	if (strncmp(e->code, "key_", 4) == 0)
		return "is it a minisign secret key file?";
	if (strcmp(e->code, ERR_IO) == 0)
		return "make a key pair with 'uk keygen', or name the key file";
	return NULL;
}
