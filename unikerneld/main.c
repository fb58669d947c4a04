/*
 * unikerneld - the unikernel deployment daemon (unikerneld(8)).
 *
 * main() reads the configuration, makes the state directory, starts the
 * API server and then waits for signals in the main thread, which every
 * other thread leaves to it (they are blocked before any thread starts).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "backend.h"
#include "conf.h"
#include "fileio.h"
#include "routes.h"
#include "ukd.h"


/* State directory layout (docs/daemon.md), and modes: the kernels under
 * images/unpacked/ must be reachable (not listable) by the user a
 * hypervisor runs guests as (libvirt-qemu under libvirt's system driver);
 * the rest is the daemon's alone. */
static const struct {
	const char *name;
	mode_t mode;
} state_subdirs[] = {
	{ "images", 0711 },
	{ "images/unpacked", 0711 },
	{ "instances", 0700 },
	{ "feeds", 0700 },
};
#define STATE_DIR_MODE 0711

enum log_dest { LOG_TO_STDERR, LOG_TO_SYSLOG, LOG_TO_FILE };

static struct {
	enum log_dest dest;
	int level;
	FILE *f;
	pthread_mutex_t mu;
} logger = { LOG_TO_STDERR, LOG_INFO, NULL, PTHREAD_MUTEX_INITIALIZER };

static int notify_fd = -1;	/* -d: tells the waiting parent how it went */

static void
usage(FILE *f)
{
	fprintf(f, "usage: unikerneld [-dnh] [-f file]\n");
}

static const char *
prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* The API server's and our own messages; any thread. */
static void
log_line(int prio, const char *msg)
{
	char ts[32];
	struct tm tm;
	time_t now;

	if (prio > logger.level)
		return;
	switch (logger.dest) {
	case LOG_TO_SYSLOG:
		syslog(prio, "%s", msg);
		break;
	case LOG_TO_FILE:
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		pthread_mutex_lock(&logger.mu);
		fprintf(logger.f, "%s %s: %s\n", ts, prio_name(prio), msg);
		fflush(logger.f);
		pthread_mutex_unlock(&logger.mu);
		break;
	case LOG_TO_STDERR:
		fprintf(stderr, "unikerneld: %s: %s\n", prio_name(prio), msg);
		break;
	}
}

__attribute__((format(printf, 2, 3))) static void
logit(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(prio, msg);
}

/* A failure while starting: logged, told to the parent under -d. */
__attribute__((noreturn)) static void
fatal(const struct err *e)
{
	char msg[ERR_MSG_MAX + 64];

	snprintf(msg, sizeof(msg), "%s [%s]", e->msg,
	    e->code[0] != '\0' ? e->code : "error");
	log_line(LOG_ERR, msg);
	if (notify_fd != -1) {
		(void)fileio_write_all(notify_fd, msg, strlen(msg), NULL);
		close(notify_fd);
	}
	exit(1);
}

static int
log_open(int daemon, const struct config *cfg, struct err *e)
{
	int fd;

	logger.level = cfg->log_level;
	if (!daemon)
		return 0;
	if (cfg->log_file[0] == '\0') {
		openlog("unikerneld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		logger.dest = LOG_TO_SYSLOG;
		return 0;
	}
	fd = open(cfg->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fd == -1 || (logger.f = fdopen(fd, "a")) == NULL) {
		err_errno(e, ERR_IO, errno, "log_file %s", cfg->log_file);
		if (fd != -1)
			close(fd);
		return -1;
	}
	logger.dest = LOG_TO_FILE;
	return 0;
}

/*
 * -d: the classic double fork, with a pipe back to the first process so
 * that it exits only once the daemon serves (0) or failed to start (1,
 * with the daemon's message), and scripts can rely on its status.
 */
static void
daemonize(void)
{
	char buf[ERR_MSG_MAX + 64];
	size_t n = 0;
	ssize_t r;
	pid_t pid;
	int p[2], fd;

	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		fprintf(stderr, "unikerneld: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		while (n < sizeof(buf) - 1 &&
		    ((r = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0 ||
		    (r == -1 && errno == EINTR)))
			n += r > 0 ? (size_t)r : 0;
		buf[n] = '\0';
		waitpid(pid, NULL, 0);
		if (strcmp(buf, "OK") == 0)
			exit(0);
		fprintf(stderr, "unikerneld: %s\n",
		    n > 0 ? buf : "the daemon ended while starting");
		exit(1);
	}
	close(p[0]);
	if (setsid() == -1 || (pid = fork()) == -1)
		_exit(1);
	if (pid > 0)
		_exit(0);
	notify_fd = p[1];
	umask(022);
	if (chdir("/") == -1)
		_exit(1);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/* mkdir -p: parents 0755, the last one (mode). */
static int
mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char buf[CONFIG_PATH_MAX];
	struct stat st;
	char *s;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return err_set(e, ERR_INVALID, "%s: path too long", path);
	for (s = buf + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		*s = '\0';
		if (mkdir(buf, path[s - buf] == '\0' ? mode : 0755) == -1 &&
		    errno != EEXIST)
			return err_errno(e, ERR_IO, errno, "mkdir %s", buf);
		if (path[s - buf] == '\0')
			break;
		*s = '/';
	}
	if (stat(path, &st) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_IO, "%s is not a directory", path);
	return 0;
}

static int
make_dirs(const struct config *cfg, struct err *e)
{
	char path[CONFIG_PATH_MAX + 32], *slash;
	struct stat st;
	size_t i;

	if (mkdir_p(cfg->state_dir, STATE_DIR_MODE, e) == -1)
		return -1;
	if (stat(cfg->state_dir, &st) == 0 && (st.st_mode & 066) != 0)
		logit(LOG_WARNING, "%s has mode %04o; 0711 keeps the state "
		    "private", cfg->state_dir, (unsigned)(st.st_mode & 07777));
	/* search-only for others down to the kernels, also in a state
	 * directory made by an older daemon with 0700 */
	if (stat(cfg->state_dir, &st) == 0 && st.st_uid == geteuid() &&
	    (st.st_mode & 0711) != 0711 &&
	    chmod(cfg->state_dir, (st.st_mode & 07777) | 0711) == -1)
		return err_errno(e, ERR_IO, errno, "chmod %s", cfg->state_dir);
	for (i = 0; i < sizeof(state_subdirs) / sizeof(state_subdirs[0]);
	    i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->state_dir,
		    state_subdirs[i].name);
		if (mkdir_p(path, state_subdirs[i].mode, e) == -1)
			return -1;
		if (state_subdirs[i].mode != 0700 &&
		    chmod(path, state_subdirs[i].mode) == -1)
			return err_errno(e, ERR_IO, errno, "chmod %s", path);
	}
	/* The socket's directory, e.g. /run/unikerneld/ when set so. */
	snprintf(path, sizeof(path), "%s", cfg->socket);
	if ((slash = strrchr(path, '/')) != NULL && slash != path) {
		*slash = '\0';
		if (mkdir_p(path, 0755, e) == -1)
			return -1;
	}
	return 0;
}

static int
load_config(const char *path, int explicit, struct config *cfg,
    struct err *e)
{
	if (!explicit && access(path, F_OK) == -1 && errno == ENOENT)
		return config_parse_buf(path, "", 0, cfg, e);
	return config_parse_file(path, cfg, e);
}

/* Runs until SIGTERM or SIGINT. */
static int
serve(int daemon, const struct config *cfg, const sigset_t *sigs)
{
	static const char *backends[8];
	struct ukd_params up;
	struct api_params ap;
	struct api *api;
	struct ukd *ukd;
	struct err e;
	char pid[32];
	size_t i;
	int sig, pid_written = 0;

	err_clear(&e);
	if (make_dirs(cfg, &e) == -1)
		fatal(&e);
	for (i = 0; backend_all[i] != NULL && i < 7; i++)
		backends[i] = backend_all[i]->name;
	memset(&up, 0, sizeof(up));
	up.cfg = cfg;
	up.log = log_line;
	if (ukd_open(&up, &ukd, &e) == -1)
		fatal(&e);
	memset(&ap, 0, sizeof(ap));
	ap.cfg = cfg;
	ap.routes = ukd_routes;
	ap.backends = backends;
	ap.arg = ukd;
	ap.log = log_line;
	if (api_start(&ap, &api, &e) == -1) {
		ukd_close(ukd);
		fatal(&e);
	}
	if (daemon) {
		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (fileio_write_atomic(cfg->pid_file, pid, strlen(pid), 0644,
		    &e) == -1) {
			api_stop(api);
			ukd_close(ukd);
			fatal(&e);
		}
		pid_written = 1;
	}
	logit(LOG_INFO, "unikerneld %s serving on %s%s%s%s", PACKAGE_VERSION,
	    cfg->socket, cfg->listen[0] != '\0' ? " and " : "", cfg->listen,
	    cfg->listen[0] != '\0' && cfg->tls_cert[0] != '\0' ? " (TLS)" :
	    "");
	if (notify_fd != -1) {
		(void)fileio_write_all(notify_fd, "OK", 2, NULL);
		close(notify_fd);
		notify_fd = -1;
	}
	for (;;) {
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			logit(LOG_WARNING, "SIGHUP: reloading the "
			    "configuration is not supported yet; restart "
			    "unikerneld to apply changes");
			continue;
		}
		logit(LOG_INFO, "stopping on %s",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	api_stop(api);
	ukd_close(ukd);
	if (pid_written)
		unlink(cfg->pid_file);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *conf = CONFIG_DEFAULT_FILE;
	struct config cfg;
	struct sigaction sa;
	sigset_t sigs;
	struct err e;
	int ch, daemon = 0, check = 0, explicit = 0, rc;

	while ((ch = getopt(argc, argv, "df:nh")) != -1) {
		switch (ch) {
		case 'd':
			daemon = 1;
			break;
		case 'f':
			conf = optarg;
			explicit = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	err_clear(&e);
	if (load_config(conf, explicit, &cfg, &e) == -1) {
		fprintf(stderr, "unikerneld: %s [%s]\n", e.msg, e.code);
		return 1;
	}
	if (check) {
		fprintf(stderr, "configuration OK\n");
		config_clear(&cfg);
		return 0;
	}

	if (daemon)
		daemonize();
	if (log_open(daemon, &cfg, &e) == -1)
		fatal(&e);

	/* Signals are the main thread's: blocked before any thread starts,
	 * so that every thread inherits the mask, and taken by sigwait(). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	rc = serve(daemon, &cfg, &sigs);
	config_clear(&cfg);
	if (logger.f != NULL)
		fclose(logger.f);
	return rc;
}
