/*
 * qemu-shim.h - what the qemu backend and its per-guest shim
 * (unikerneld/qemu-shim.c, installed as $(pkglibexecdir)/qemu-shim) say to
 * each other; docs/daemon.md, "The qemu backend", tells why the shim exists.
 *
 *   qemu-shim RUN_DIR QEMU [ARG...]
 *
 * The backend spawns it in a new session with these descriptors, all
 * others closed: 0 /dev/null, 1 and 2 RUN_DIR/qemu.log, SHIM_FD_CTL one
 * end of a SOCK_SEQPACKET pair, SHIM_FD_QMP the listening QMP socket that
 * QEMU inherits, and SHIM_FD_NET, when the guest is on a bridge, its tap
 * (/dev/net/tun), which QEMU inherits too and the shim closes: the tap
 * ends with QEMU.  The first process forks and exits at once (the backend
 * reaps it), so the shim proper is not the daemon's child.  It forks QEMU,
 * sends SHIM_MSG_PIDS, waits for the backend to answer or hang up, waits
 * for QEMU and writes its status to RUN_DIR/SHIM_STATUS_FILE atomically:
 * "exited N" or "signal N", one line.  A failure to run QEMU is sent as
 * SHIM_MSG_EXEC (errno in a); one of the shim's own as SHIM_MSG_ERROR.
 */
#ifndef UNIKERNELD_QEMU_SHIM_H
#define UNIKERNELD_QEMU_SHIM_H

#include <stdint.h>

#define SHIM_FD_CTL 3
#define SHIM_FD_QMP 4
#define SHIM_FD_NET 5	/* only when the guest has a tap */
#define SHIM_STATUS_FILE "status"

enum shim_msg_kind {
	SHIM_MSG_PIDS = 1,	/* a: the shim's pid, b: QEMU's */
	SHIM_MSG_EXEC,		/* a: errno of execvp(QEMU) */
	SHIM_MSG_ERROR,		/* a: errno, b: enum shim_step */
};

enum shim_step {
	SHIM_STEP_CHDIR = 1,
	SHIM_STEP_FORK,
};

struct shim_msg {
	int32_t kind;
	int32_t a;
	int32_t b;
};

#endif
