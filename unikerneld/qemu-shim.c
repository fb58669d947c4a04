/*
 * qemu-shim - QEMU's parent, so that a guest outlives the daemon and its
 * exit status is still known (qemu-shim.h, docs/daemon.md).
 *
 * It is small on purpose: a fork of the daemon would keep a copy of the
 * daemon's memory for as long as the guest runs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu-shim.h"

static void
send_msg(int kind, int a, int b)
{
	struct shim_msg m = { kind, a, b };

	(void)send(SHIM_FD_CTL, &m, sizeof(m), MSG_NOSIGNAL);
}

static void
close_from(int lowfd)
{
	long max;
	int fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)close(fd);
}

/* The child: QEMU, killed when the shim dies so that no guest is left
 * without a parent that can tell how it ended. */
static void __attribute__((noreturn))
run_qemu(pid_t shim, char **argv)
{
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != shim)
		_exit(127);
	(void)fcntl(SHIM_FD_CTL, F_SETFD, FD_CLOEXEC);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);
	send_msg(SHIM_MSG_EXEC, errno, 0);
	_exit(127);
}

static int
write_status(int wstatus)
{
	char line[32];
	int fd, n;

	if (WIFEXITED(wstatus))
		n = snprintf(line, sizeof(line), "exited %d\n",
		    WEXITSTATUS(wstatus));
	else
		n = snprintf(line, sizeof(line), "signal %d\n",
		    WTERMSIG(wstatus));
	fd = open(SHIM_STATUS_FILE ".tmp",
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (write(fd, line, (size_t)n) != n || fsync(fd) == -1) {
		close(fd);
		return -1;
	}
	if (close(fd) == -1)
		return -1;
	return rename(SHIM_STATUS_FILE ".tmp", SHIM_STATUS_FILE);
}

int
main(int argc, char **argv)
{
	struct shim_msg ack;
	sigset_t all;
	pid_t shim, qemu;
	int wstatus;

	close_from(SHIM_FD_NET + 1);
	if (argc < 3) {
		fprintf(stderr, "usage: qemu-shim RUN_DIR QEMU [ARG...]\n");
		return 2;
	}
	if (chdir(argv[1]) == -1) {
		send_msg(SHIM_MSG_ERROR, errno, SHIM_STEP_CHDIR);
		return 1;
	}
	switch (fork()) {
	case -1:
		send_msg(SHIM_MSG_ERROR, errno, SHIM_STEP_FORK);
		return 1;
	case 0:
		break;
	default:
		_exit(0);
	}

	/* Only SIGKILL ends the shim: it has nothing to clean up, and QEMU
	 * must not lose its parent to a stray signal. */
	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	(void)signal(SIGCHLD, SIG_DFL);
	shim = getpid();
	qemu = fork();
	if (qemu == -1) {
		send_msg(SHIM_MSG_ERROR, errno, SHIM_STEP_FORK);
		return 1;
	}
	if (qemu == 0)
		run_qemu(shim, argv + 2);
	(void)close(SHIM_FD_QMP);
	(void)close(SHIM_FD_NET);	/* not open without a tap */

	/* The backend answers once it holds pidfds for both of us: until
	 * then neither pid may be reused, so neither process may be reaped. */
	send_msg(SHIM_MSG_PIDS, (int)shim, (int)qemu);
	while (recv(SHIM_FD_CTL, &ack, sizeof(ack), 0) == -1 && errno == EINTR)
		continue;
	(void)close(SHIM_FD_CTL);

	while (waitpid(qemu, &wstatus, 0) == -1)
		if (errno != EINTR)
			return 1;
	if (write_status(wstatus) == -1) {
		fprintf(stderr, "qemu-shim: %s/%s: %s\n", argv[1],
		    SHIM_STATUS_FILE, strerror(errno));
		return 1;
	}
	return 0;
}
