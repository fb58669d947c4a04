/*
 * supervise.c - instances and their supervision (supervise.h).
 *
 * The supervisor thread owns three inputs, polled together:
 *   - a queue of backend events, filled by the backends' threads;
 *   - an inotify descriptor watching running guests' console logs, so that
 *     a log past console_log_max is moved to console.log.1 and emptied;
 *   - the clock, for the restarts planned in the store (next_restart).
 * A backend may report a guest's end before start() returned its handle to
 * us (a guest that exits at once): an event whose handle no instance has
 * yet is kept aside and tried again whenever a start stores a handle.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "hostnet.h"
#include "image.h"
#include "select.h"
#include "supervise.h"
#include "trailer.h"
#include "version.h"

#define DEFER_MAX_MS 60000	/* an event no instance claims is dropped */
#define CONSOLE_NAME "console.log"

struct sup_ev {
	struct sup_ev *next;
	char backend[STORE_BACKEND_MAX + 1];
	enum backend_event_kind kind;
	char handle[BACKEND_HANDLE_MAX];
	int exit_code;
	char reason[256];
	int64_t since_ms;	/* monotonic, when it arrived */
};

struct watch {
	int wd;
	char id[STORE_ID_LEN + 1];
};

struct sup {
	struct ukd *d;
	pthread_t thread;
	int started;
	int wake[2];
	int ino;

	pthread_mutex_t mu;	/* everything below */
	struct sup_ev *queue, **tail;
	struct sup_ev *deferred;
	int retry;		/* a handle was stored: try the deferred */
	int rescan;		/* a restart was planned: look at the store */
	int stopping;
	struct watch *watches;
	size_t nwatches, capwatches;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
wake(struct sup *s)
{
	char c = 1;

	(void)!write(s->wake[1], &c, 1);
}

/* ---- events from the backends ---- */

void
sup_backend_event(struct sup *s, const char *backend,
    const struct backend_event *ev)
{
	struct sup_ev *q;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		ukd_logf(s->d, LOG_ERR, "no memory for an event of %s %s",
		    backend, ev->handle);
		return;
	}
	snprintf(q->backend, sizeof(q->backend), "%s", backend);
	snprintf(q->handle, sizeof(q->handle), "%s", ev->handle);
	snprintf(q->reason, sizeof(q->reason), "%s",
	    ev->reason != NULL ? ev->reason : "");
	q->kind = ev->kind;
	q->exit_code = ev->exit_code;
	q->since_ms = mono_ms();
	pthread_mutex_lock(&s->mu);
	*s->tail = q;
	s->tail = &q->next;
	pthread_mutex_unlock(&s->mu);
	wake(s);
}

/* A start stored a handle: events kept aside may now find their owner. */
static void
handle_stored(struct ukd *d)
{
	struct sup *s = ukd_sup(d);

	pthread_mutex_lock(&s->mu);
	s->retry = 1;
	pthread_mutex_unlock(&s->mu);
	wake(s);
}

/* Reads (in) again (its own id must not be the argument store_instance_get
 * clears while it reads). */
static int
reget(struct store *st, struct store_instance *in, struct err *e)
{
	char id[STORE_ID_LEN + 1];

	memcpy(id, in->id, sizeof(id));
	store_instance_free(in);
	return store_instance_get(st, id, in, e);
}

/* A restart was planned outside the supervisor thread's own work. */
static void
restart_planned(struct ukd *d)
{
	struct sup *s = ukd_sup(d);

	pthread_mutex_lock(&s->mu);
	s->rescan = 1;
	pthread_mutex_unlock(&s->mu);
	wake(s);
}

/* ---- restart policy ---- */

static int
wants_restart(const struct store_instance *in, enum store_state to,
    int exit_code)
{
	if (in->desired != STORE_DESIRED_RUNNING)
		return 0;
	switch (in->restart) {
	case STORE_RESTART_ALWAYS:
		return 1;
	case STORE_RESTART_ON_FAILURE:
		return to == STORE_CRASHED || to == STORE_FAILED ||
		    (to == STORE_EXITED && exit_code != 0);
	default:
		return 0;
	}
}

static unsigned
backoff_ms(uint32_t restarts)
{
	unsigned ms = SUP_BACKOFF_FIRST_MS;

	while (restarts-- > 0 && ms < SUP_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < SUP_BACKOFF_MAX_MS ? ms : SUP_BACKOFF_MAX_MS;
}

/*
 * Moves (in) to the terminal state (to), planning a restart when its policy
 * asks for one, and forgets its guest's handle.  Retries when the state
 * moved under it.  Returns 0, or -1 with (e).
 */
static int
end_instance(struct ukd *d, struct store *st, struct store_instance *in,
    enum store_state to, int exit_code, const char *reason, struct err *e)
{
	struct store_transition t;
	unsigned delay;
	int tries;

	for (tries = 0; tries < 5; tries++) {
		if (store_state_terminal(in->state))
			return 0;
		memset(&t, 0, sizeof(t));
		t.to = to;
		t.exit_code = exit_code;
		t.reason = reason;
		t.restarts = STORE_RESTARTS_KEEP;
		delay = 0;
		if (wants_restart(in, to, exit_code)) {
			delay = backoff_ms(in->restart_count);
			t.next_restart = (int64_t)time(NULL) +
			    (delay + 999) / 1000;
		}
		if (store_instance_transition(st, in->id, in->state, &t, e) == 0) {
			(void)store_instance_set_handle(st, in->id, NULL, NULL);
			if (delay != 0) {
				char msg[128];

				snprintf(msg, sizeof(msg), "restart %u planned "
				    "in %u ms (policy %s)", in->restart_count + 1,
				    delay, store_restart_name(in->restart));
				(void)store_event_add(st, in->id, "restart",
				    msg, NULL, NULL);
				restart_planned(d);
			}
			ukd_logf(d, LOG_INFO, "instance %s: %s -> %s%s%s",
			    in->name, store_state_name(in->state),
			    store_state_name(to), reason != NULL ? ": " : "",
			    reason != NULL ? reason : "");
			ukd_notify(d);
			return 0;
		}
		if (strcmp(e->code, "store_conflict") != 0)
			return -1;
		if (reget(st, in, e) == -1)
			return -1;
	}
	return -1;
}

/* One event: 1 when handled (or to be dropped), 0 to keep it aside. */
static int
apply_event(struct sup *s, struct store *st, const struct sup_ev *q)
{
	struct store_instance in;
	struct store_transition t;
	enum store_state to;
	struct err e;
	char reason[300];

	if (store_instance_get_by_handle(st, q->backend, q->handle, &in, &e)
	    == -1)
		return strcmp(e.code, "store_not_found") != 0;
	if (q->kind == BACKEND_EVENT_RUNNING) {
		if (in.state == STORE_STARTING) {
			memset(&t, 0, sizeof(t));
			t.to = STORE_RUNNING;
			if (store_instance_transition(st, in.id, in.state, &t,
			    &e) == 0)
				ukd_notify(s->d);
		}
		store_instance_free(&in);
		return 1;
	}
	switch (q->kind) {
	case BACKEND_EVENT_EXITED:
		to = STORE_EXITED;
		break;
	case BACKEND_EVENT_CRASHED:
		to = STORE_CRASHED;
		break;
	case BACKEND_EVENT_STOPPED:
		to = STORE_STOPPED;
		break;
	default:
		to = STORE_FAILED;
		break;
	}
	snprintf(reason, sizeof(reason), "%s", q->reason);
	if (end_instance(s->d, st, &in, to, to == STORE_EXITED ?
	    q->exit_code : -1, to == STORE_CRASHED || to == STORE_FAILED ?
	    reason : NULL, &e) == -1)
		ukd_logf(s->d, LOG_ERR, "instance %s: recording its end: %s",
		    in.name, e.msg);
	store_instance_free(&in);
	return 1;
}

/* ---- consoles ---- */

void
sup_console_watch(struct sup *s, const char *backend, const char *id)
{
	char path[CONFIG_PATH_MAX + 128];
	struct watch *w;
	size_t i;
	int wd, fd;

	/* the libxl backend writes the log itself and bounds it */
	if (strcmp(backend, "libxl") == 0 ||
	    ukd_instance_path(s->d, id, CONSOLE_NAME, path, sizeof(path),
	    NULL) == -1)
		return;
	/* it may not exist yet: the guest opens it as it starts */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) != -1)
		close(fd);
	if ((wd = inotify_add_watch(s->ino, path, IN_MODIFY)) == -1)
		return;
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->nwatches; i++)
		if (s->watches[i].wd == wd)
			break;
	if (i == s->nwatches) {
		if (s->nwatches == s->capwatches) {
			size_t cap = s->capwatches ? s->capwatches * 2 : 16;

			w = realloc(s->watches, cap * sizeof(*w));
			if (w == NULL) {
				pthread_mutex_unlock(&s->mu);
				return;
			}
			s->watches = w;
			s->capwatches = cap;
		}
		s->watches[s->nwatches].wd = wd;
		snprintf(s->watches[s->nwatches].id, STORE_ID_LEN + 1, "%s", id);
		s->nwatches++;
	}
	pthread_mutex_unlock(&s->mu);
}

/* Moves a console log past the limit to console.log.1 and empties it:
 * the guest appends (O_APPEND) and goes on at the new end. */
static void
console_bound(struct sup *s, const char *id)
{
	char path[CONFIG_PATH_MAX + 128], old[CONFIG_PATH_MAX + 160];
	char tmp[CONFIG_PATH_MAX + 200];
	char buf[65536];
	struct stat sb;
	ssize_t n;
	int in, out;
	uint64_t max = ukd_config(s->d)->console_log_max;

	if (max == 0 || ukd_instance_path(s->d, id, CONSOLE_NAME, path,
	    sizeof(path), NULL) == -1 || stat(path, &sb) == -1 ||
	    (uint64_t)sb.st_size <= max)
		return;
	snprintf(old, sizeof(old), "%s.1", path);
	if ((in = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return;
	if ((out = fileio_tmp_open(old, tmp, sizeof(tmp), NULL)) == -1) {
		close(in);
		return;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (fileio_write_all(out, buf, (size_t)n, NULL) == -1)
			break;
	if (n == 0 && fileio_commit(out, tmp, old, 0600, NULL) == 0) {
		if (ftruncate(in, 0) == -1)
			ukd_logf(s->d, LOG_WARNING, "emptying %s: %s", path,
			    strerror(errno));
	} else {
		close(out);
		unlink(tmp);
	}
	close(in);
}

static void
console_events(struct sup *s)
{
	char buf[4096] __attribute__((aligned(8)));
	char ids[64][STORE_ID_LEN + 1];
	const struct inotify_event *ev;
	size_t i, n = 0;
	ssize_t len;
	char *p;

	while ((len = read(s->ino, buf, sizeof(buf))) > 0) {
		pthread_mutex_lock(&s->mu);
		for (p = buf; p < buf + len; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			for (i = 0; i < s->nwatches; i++)
				if (s->watches[i].wd == ev->wd)
					break;
			if (i == s->nwatches)
				continue;
			if (ev->mask & IN_IGNORED) {
				s->watches[i] = s->watches[--s->nwatches];
				continue;
			}
			if (n < 64 && (n == 0 ||
			    strcmp(ids[n - 1], s->watches[i].id) != 0))
				memcpy(ids[n++], s->watches[i].id,
				    STORE_ID_LEN + 1);
		}
		pthread_mutex_unlock(&s->mu);
	}
	/* followers of a console read what was written */
	if (n > 0)
		ukd_console_notify(s->d);
	for (i = 0; i < n; i++)
		console_bound(s, ids[i]);
}

/* ---- images ---- */

static int
write_entry(const char *dir, const char *name, const struct img_entry *en,
    struct err *e)
{
	char path[CONFIG_PATH_MAX + 256];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644))
	    == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	rc = fileio_write_all(fd, en->data, en->size, e);
	/* readable by a hypervisor running as another user, whatever the
	 * umask */
	if (rc == 0 && fchmod(fd, 0644) == -1)
		rc = err_errno(e, ERR_IO, errno, "%s", path);
	if (rc == 0 && fsync(fd) == -1)
		rc = err_errno(e, ERR_IO, errno, "%s", path);
	close(fd);
	return rc;
}

/*
 * The kernel (and initrd) of the cached image (sha256) as files under
 * images/unpacked/<sha256>/, made once (a temporary directory renamed into
 * place), and the image's manifest into (m).
 */
static int
unpack_image(struct ukd *d, const char *sha256, char *kernel, char *initrd,
    size_t sz, struct manifest *m, struct err *e)
{
	char cpath[CONFIG_PATH_MAX + 128], dir[CONFIG_PATH_MAX + 128];
	char tmp[CONFIG_PATH_MAX + 160];
	const struct img_view *v;
	struct img *img;
	struct stat sb;
	int rc = -1;

	if (cache_get(ukd_cache(d), sha256, 0, cpath, sizeof(cpath), e) == -1)
		return -1;
	if ((img = img_open(cpath, e)) == NULL)
		return -1;
	v = img_view(img);
	*m = v->manifest;
	snprintf(dir, sizeof(dir), "%s/images/unpacked/%s",
	    ukd_config(d)->state_dir, sha256);
	snprintf(kernel, sz, "%s/kernel", dir);
	if (v->entry[IMG_ENTRY_INITRD].present)
		snprintf(initrd, sz, "%s/initrd", dir);
	else
		initrd[0] = '\0';
	if (stat(kernel, &sb) == 0 &&
	    (uint64_t)sb.st_size == v->entry[IMG_ENTRY_KERNEL].size) {
		rc = 0;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s/images/unpacked/.%s.XXXXXX",
	    ukd_config(d)->state_dir, sha256);
	snprintf(cpath, sizeof(cpath), "%s/images/unpacked",
	    ukd_config(d)->state_dir);
	(void)mkdir(cpath, 0755);
	if (mkdtemp(tmp) == NULL) {
		err_errno(e, ERR_IO, errno, "%s", tmp);
		goto out;
	}
	(void)chmod(tmp, 0755);
	if (write_entry(tmp, "kernel", &v->entry[IMG_ENTRY_KERNEL], e) == -1 ||
	    (v->entry[IMG_ENTRY_INITRD].present &&
	    write_entry(tmp, "initrd", &v->entry[IMG_ENTRY_INITRD], e) == -1)) {
		(void)ukd_remove_tree(tmp);
		goto out;
	}
	if (rename(tmp, dir) == -1) {
		int err = errno;

		(void)ukd_remove_tree(tmp);
		/* another start unpacked it first */
		if (err != EEXIST && err != ENOTEMPTY) {
			err_errno(e, ERR_IO, err, "%s", dir);
			goto out;
		}
	}
	rc = 0;
out:
	img_close(img);
	return rc;
}

/* ---- guest networks ---- */

/* The address of instance (id) on the bridge: its lease, made when it
 * has none (store_net_lease()). */
static int
net_lease(struct ukd *d, struct store *st, const char *id, uint32_t *addr,
    struct err *e)
{
	const struct netspec_subnet *sn = &ukd_config(d)->bridge_subnet;
	uint32_t first, last;

	netspec_pool(sn, &first, &last);
	return store_net_lease(st, id, first, last, sn->addr, addr, e);
}

/*
 * The network part of (spec) for (in), and its command line with the
 * words of its address into (cmdline, size) from (base): for a bridge,
 * the bridge made when it is not there and the instance's lease; for user
 * networking, the address QEMU's slirp gives.
 */
static int
net_spec(struct ukd *d, struct store *st, const struct store_instance *in,
    const struct backend_ops *ops, const char *base, struct backend_spec *spec,
    char *tap, char *cmdline, size_t size, struct err *e)
{
	const struct config *cfg = ukd_config(d);
	const struct netspec_subnet *sn = &cfg->bridge_subnet;
	struct backend_net *net = &spec->net;
	uint32_t addr = 0, gw = 0;
	unsigned prefix = 0;
	int created;

	memset(net, 0, sizeof(*net));
	net->mode = in->net.mode;
	if (backend_net_check(ops, &in->net, e) == -1)
		return -1;
	if (net->mode != NETSPEC_NONE)
		netspec_mac(in->id, net->mac);
	if (net->mode == NETSPEC_USER) {
		net->forwards = in->net.forwards;
		net->nforwards = in->net.nforwards;
		net->outbound = cfg->user_outbound;
		addr = NETSPEC_USER_ADDR;
		gw = NETSPEC_USER_GATEWAY;
		prefix = NETSPEC_USER_PREFIX;
	} else if (net->mode == NETSPEC_BRIDGE) {
		if (hostnet_bridge_ensure(cfg->bridge_name, sn->addr,
		    sn->prefix, &created, e) == -1 ||
		    net_lease(d, st, in->id, &addr, e) == -1)
			return -1;
		if (created)
			ukd_logf(d, LOG_INFO, "bridge %s made, with %s",
			    cfg->bridge_name, cfg->bridge_address);
		netspec_tap_name(in->id, tap);
		net->bridge = cfg->bridge_name;
		net->tap = tap;
		gw = sn->addr;
		prefix = sn->prefix;
	}
	if (netspec_cmdline(base, addr, prefix, gw, STORE_CMDLINE_MAX - 1,
	    cmdline, size, e) == -1)
		return -1;
	spec->cmdline = cmdline;
	return 0;
}

/* ---- booting ---- */

/*
 * Boots (in), which is in (in->state): moves it to starting (counting an
 * automatic restart or resetting the count as (rs) says), starts its guest
 * and moves it to running.  A failure once it is starting moves it to
 * failed (planning a restart when its policy says so) and returns -1.
 * (in) is re-read at the end.
 */
static int
boot(struct ukd *d, struct store *st, struct store_instance *in,
    enum store_restarts rs, struct err *e)
{
	char kernel[CONFIG_PATH_MAX + 160], initrd[CONFIG_PATH_MAX + 160];
	char console[CONFIG_PATH_MAX + 128], run[CONFIG_PATH_MAX + 128];
	char dir[CONFIG_PATH_MAX + 128], handle[BACKEND_HANDLE_MAX];
	char tap[NETSPEC_IFNAME_MAX], *cmdline = NULL;
	const struct backend_ops *ops;
	struct backend_spec spec;
	struct store_transition t;
	struct manifest *m;
	struct backend *b;
	struct err e2;
	int rc = -1;

	if ((m = malloc(sizeof(*m))) == NULL)
		return err_set(e, ERR_NOMEM, "no memory");
	memset(&t, 0, sizeof(t));
	t.to = STORE_STARTING;
	t.restarts = rs;
	if (store_instance_transition(st, in->id, in->state, &t, e) == -1) {
		free(m);
		return -1;
	}
	ukd_notify(d);
	if (in->image[0] == '\0') {
		err_set(e, "image_not_cached", "instance %s has no image",
		    in->name);
		goto fail;
	}
	if (ukd_backend(d, in->backend, &ops, &b, e) == -1 ||
	    unpack_image(d, in->image, kernel, initrd, sizeof(kernel), m,
	    e) == -1 ||
	    ukd_instance_path(d, in->id, NULL, dir, sizeof(dir), e) == -1 ||
	    ukd_instance_path(d, in->id, CONSOLE_NAME, console,
	    sizeof(console), e) == -1 ||
	    ukd_instance_path(d, in->id, "run", run, sizeof(run), e) == -1)
		goto fail;
	if ((mkdir(dir, 0755) == -1 && errno != EEXIST) ||
	    (mkdir(run, 0755) == -1 && errno != EEXIST)) {
		err_errno(e, ERR_IO, errno, "%s", dir);
		goto fail;
	}
	memset(&spec, 0, sizeof(spec));
	spec.name = in->name;
	spec.id = in->id;
	spec.kernel = kernel;
	spec.initrd = initrd[0] != '\0' ? initrd : NULL;
	spec.memory_mib = in->memory_mib;
	spec.vcpus = in->vcpus;
	spec.console_log = console;
	spec.run_dir = run;
	if ((cmdline = malloc(STORE_CMDLINE_MAX + 1)) == NULL) {
		err_set(e, ERR_NOMEM, "no memory");
		goto fail;
	}
	if (net_spec(d, st, in, ops, in->cmdline != NULL &&
	    in->cmdline[0] != '\0' ? in->cmdline : m->cmdline, &spec, tap,
	    cmdline, STORE_CMDLINE_MAX + 1, e) == -1 ||
	    ops->start(b, &spec, handle, e) == -1)
		goto fail;
	(void)store_image_touch(st, in->image, NULL);
	if (store_instance_set_handle(st, in->id, handle, e) == -1) {
		ukd_logf(d, LOG_ERR, "instance %s: storing handle %s: %s; "
		    "killing the guest", in->name, handle, e->msg);
		(void)ops->kill(b, handle, NULL);
		goto fail;
	}
	sup_console_watch(ukd_sup(d), in->backend, in->id);
	memset(&t, 0, sizeof(t));
	t.to = STORE_RUNNING;
	/* store_conflict: its end was recorded already, which is fine */
	if (store_instance_transition(st, in->id, STORE_STARTING, &t, &e2) == 0)
		ukd_logf(d, LOG_INFO, "instance %s running on %s (%s)",
		    in->name, in->backend, handle);
	handle_stored(d);
	ukd_notify(d);
	rc = 0;
	goto out;
fail:
	ukd_logf(d, LOG_WARNING, "instance %s: start failed: %s [%s]",
	    in->name, e->msg, e->code);
	e2 = *e;
	if (reget(st, in, e) == 0)
		(void)end_instance(d, st, in, STORE_FAILED, -1, e2.msg, e);
	*e = e2;
out:
	free(m);
	free(cmdline);
	if (reget(st, in, rc == 0 ? e : &e2) == -1)
		rc = -1;
	return rc;
}

/* ---- the thread ---- */

static void
due_restarts(struct sup *s, struct store *st, int64_t *next)
{
	struct store_instance *ins = NULL;
	size_t i, n = 0;
	int64_t now = (int64_t)time(NULL);
	struct err e;

	*next = 0;
	if (store_instance_list(st, &ins, &n, &e) == -1) {
		ukd_logf(s->d, LOG_ERR, "listing instances: %s", e.msg);
		return;
	}
	for (i = 0; i < n; i++) {
		struct store_instance *in = &ins[i];

		if (!store_state_terminal(in->state) || in->next_restart == 0 ||
		    in->desired != STORE_DESIRED_RUNNING)
			continue;
		if (in->next_restart > now) {
			if (*next == 0 || in->next_restart < *next)
				*next = in->next_restart;
			continue;
		}
		ukd_logf(s->d, LOG_INFO, "instance %s: restarting (%s, "
		    "restart %u)", in->name, store_restart_name(in->restart),
		    in->restart_count + 1);
		if (boot(s->d, st, in, STORE_RESTARTS_ADD, &e) == -1 &&
		    in->next_restart != 0 &&
		    (*next == 0 || in->next_restart < *next))
			*next = in->next_restart;
	}
	store_instance_list_free(ins, n);
}

/* Returns 1 when an event was applied. */
static int
drain_events(struct sup *s, struct store *st)
{
	struct sup_ev *list, *q, **keep;
	int retry, applied = 0;

	pthread_mutex_lock(&s->mu);
	retry = s->retry;
	s->retry = 0;
	list = s->queue;
	s->queue = NULL;
	s->tail = &s->queue;
	/* the deferred ones first: they are older */
	if (retry || list != NULL) {
		for (keep = &s->deferred; *keep != NULL; keep = &(*keep)->next)
			;
		*keep = list;
		list = s->deferred;
		s->deferred = NULL;
	}
	pthread_mutex_unlock(&s->mu);

	keep = &list;
	while ((q = *keep) != NULL) {
		if (apply_event(s, st, q)) {
			applied = 1;
			*keep = q->next;
			free(q);
		} else if (mono_ms() - q->since_ms > DEFER_MAX_MS) {
			ukd_logf(s->d, LOG_WARNING, "dropping an event of %s "
			    "guest %s: no instance has that handle", q->backend,
			    q->handle);
			*keep = q->next;
			free(q);
		} else
			keep = &q->next;
	}
	if (list != NULL) {
		pthread_mutex_lock(&s->mu);
		for (keep = &list; *keep != NULL; keep = &(*keep)->next)
			;
		*keep = s->deferred;
		s->deferred = list;
		pthread_mutex_unlock(&s->mu);
	}
	return applied;
}

static void *
sup_main(void *arg)
{
	struct sup *s = arg;
	struct pollfd pfd[2];
	struct store *st;
	struct err e;
	int64_t next = 0, now, scan_at;
	char buf[256];
	int timeout, stopping, deferred, rescan;

	if ((st = ukd_store(s->d, &e)) == NULL) {
		ukd_logf(s->d, LOG_ERR, "supervisor: %s", e.msg);
		return NULL;
	}
	due_restarts(s, st, &next);
	scan_at = mono_ms() + 60000;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		stopping = s->stopping;
		deferred = s->deferred != NULL;
		pthread_mutex_unlock(&s->mu);
		if (stopping)
			break;
		now = (int64_t)time(NULL);
		timeout = next == 0 ? 60000 :
		    next <= now ? 0 : (int)((next - now) * 1000);
		if (deferred && timeout > 1000)
			timeout = 1000;
		pfd[0].fd = s->wake[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = s->ino;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, timeout) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN)
			while (read(s->wake[0], buf, sizeof(buf)) > 0)
				;
		if (pfd[1].revents & POLLIN)
			console_events(s);
		/* the store is scanned for restarts only when an end was
		 * recorded (which may plan one) or a planned one is due,
		 * not at each console write */
		pthread_mutex_lock(&s->mu);
		rescan = s->rescan;
		s->rescan = 0;
		pthread_mutex_unlock(&s->mu);
		if (drain_events(s, st) || rescan || (next != 0 &&
		    next <= (int64_t)time(NULL)) || mono_ms() >= scan_at) {
			due_restarts(s, st, &next);
			scan_at = mono_ms() + 60000;
		}
	}
	return NULL;
}

int
sup_open(struct ukd *d, struct sup **out, struct err *e)
{
	struct sup *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_set(e, ERR_NOMEM, "no memory for the supervisor");
	s->d = d;
	s->tail = &s->queue;
	s->wake[0] = s->wake[1] = -1;
	pthread_mutex_init(&s->mu, NULL);
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (s->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1) {
		err_errno(e, ERR_IO, errno, "supervisor");
		sup_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
sup_close(struct sup *s)
{
	struct sup_ev *q;

	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_mutex_unlock(&s->mu);
		wake(s);
		pthread_join(s->thread, NULL);
	}
	while ((q = s->queue) != NULL) {
		s->queue = q->next;
		free(q);
	}
	while ((q = s->deferred) != NULL) {
		s->deferred = q->next;
		free(q);
	}
	if (s->wake[0] != -1) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	if (s->ino > 0)
		close(s->ino);
	free(s->watches);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* ---- reconciliation ---- */

/* How a guest that vanished while we were away ended, from its console. */
static void
vanished(struct ukd *d, struct store *st, struct store_instance *in)
{
	char console[CONFIG_PATH_MAX + 128];
	struct trailer tr;
	struct err e;

	tr.kind = TRAILER_NONE;
	if (ukd_instance_path(d, in->id, CONSOLE_NAME, console,
	    sizeof(console), NULL) == 0)
		(void)trailer_read(console, &tr, NULL);
	if (tr.kind == TRAILER_EXIT)
		(void)end_instance(d, st, in, STORE_EXITED, tr.code, NULL, &e);
	else if (tr.kind == TRAILER_CRASH)
		(void)end_instance(d, st, in, STORE_CRASHED, -1, tr.reason, &e);
	else
		(void)end_instance(d, st, in, STORE_FAILED, -1, "the guest "
		    "vanished while unikerneld was not running", &e);
}

void
sup_reconcile(struct sup *s)
{
	struct store_instance *ins = NULL;
	const struct backend_ops *ops;
	struct backend *b;
	struct store *st;
	size_t i, n = 0, adopted = 0, lost = 0;
	struct err e;

	if ((st = ukd_store(s->d, &e)) == NULL ||
	    store_instance_list(st, &ins, &n, &e) == -1) {
		ukd_logf(s->d, LOG_ERR, "reconciling: %s", e.msg);
		goto start;
	}
	for (i = 0; i < n; i++) {
		struct store_instance *in = &ins[i];

		if (store_state_terminal(in->state))
			continue;
		if (in->handle == NULL) {
			/* a run or a start cut short by our end */
			(void)end_instance(s->d, st, in, STORE_FAILED, -1,
			    "interrupted: unikerneld stopped while it was "
			    "being started", &e);
			lost++;
			continue;
		}
		if (ukd_backend(s->d, in->backend, &ops, &b, &e) == -1) {
			ukd_logf(s->d, LOG_WARNING, "instance %s: cannot "
			    "adopt %s: %s", in->name, in->handle, e.msg);
			continue;
		}
		if (ops->adopt(b, in->handle, &e) == 0) {
			struct store_transition t;

			adopted++;
			sup_console_watch(s, in->backend, in->id);
			memset(&t, 0, sizeof(t));
			t.to = STORE_RUNNING;
			if (in->state == STORE_STARTING)
				(void)store_instance_transition(st, in->id,
				    in->state, &t, NULL);
			else if (in->state == STORE_STOPPING)
				(void)ops->stop(b, in->handle,
				    SUP_STOP_DEFAULT_S * 1000, NULL);
			(void)store_event_add(st, in->id, "adopted",
			    in->handle, NULL, NULL);
			ukd_logf(s->d, LOG_INFO, "instance %s: adopted %s guest "
			    "%s", in->name, in->backend, in->handle);
			continue;
		}
		if (strcmp(e.code, "backend_no_such_guest") != 0) {
			ukd_logf(s->d, LOG_WARNING, "instance %s: adopting %s: "
			    "%s", in->name, in->handle, e.msg);
			continue;
		}
		lost++;
		vanished(s->d, st, in);
	}
	ukd_logf(s->d, LOG_INFO, "reconciled %zu instances: %zu guests "
	    "adopted, %zu gone", n, adopted, lost);
	store_instance_list_free(ins, n);
start:
	if (pthread_create(&s->thread, NULL, sup_main, s) == 0)
		s->started = 1;
	else
		ukd_logf(s->d, LOG_ERR, "cannot start the supervisor thread");
	ukd_notify(s->d);
}

/* ---- operations ---- */

int
sup_wait_change(struct ukd *d, const char *id, enum store_state state,
    unsigned timeout_ms, struct store_instance *out, struct err *e)
{
	int64_t end = mono_ms() + timeout_ms;
	struct store *st;
	uint64_t gen;

	if ((st = ukd_store(d, e)) == NULL)
		return -1;
	for (;;) {
		gen = ukd_generation(d);
		if (store_instance_get(st, id, out, e) == -1)
			return -1;
		if (out->state != state || mono_ms() >= end)
			return 0;
		store_instance_free(out);
		(void)ukd_wait(d, gen, 500);
	}
}

/* Waits for (in) to end; (in) is re-read. */
static int
wait_end(struct ukd *d, struct store_instance *in, unsigned timeout_ms,
    struct err *e)
{
	int64_t end = mono_ms() + timeout_ms;
	struct store_instance cur;

	while (!store_state_terminal(in->state)) {
		int64_t left = end - mono_ms();

		if (left <= 0)
			return err_set(e, "stop_timeout", "instance %s did not "
			    "end within %u ms", in->name, timeout_ms);
		if (sup_wait_change(d, in->id, in->state, (unsigned)left, &cur,
		    e) == -1)
			return -1;
		store_instance_free(in);
		*in = cur;
	}
	return 0;
}

int
sup_stop(struct ukd *d, const char *ref, unsigned timeout_s,
    struct store_instance *out, struct err *e)
{
	const struct backend_ops *ops;
	struct store_transition t;
	struct backend *b;
	struct store *st;
	int tries;

	if ((st = ukd_store(d, e)) == NULL ||
	    store_instance_get(st, ref, out, e) == -1)
		return -1;
	if (out->desired != STORE_DESIRED_STOPPED) {
		if (store_instance_set_desired(st, out->id,
		    STORE_DESIRED_STOPPED, e) == -1)
			goto fail;
		out->desired = STORE_DESIRED_STOPPED;
		ukd_notify(d);
	}
	for (tries = 0; tries < 5; tries++) {
		if (store_state_terminal(out->state))
			return 0;
		if (out->state == STORE_CREATED || out->state == STORE_FETCHING) {
			err_set(e, "instance_busy", "instance %s is being "
			    "created; try again once it runs", out->name);
			goto fail;
		}
		if (out->state == STORE_STOPPING || out->handle == NULL)
			break;
		memset(&t, 0, sizeof(t));
		t.to = STORE_STOPPING;
		if (store_instance_transition(st, out->id, out->state, &t, e)
		    == 0)
			break;
		if (strcmp(e->code, "store_conflict") != 0)
			goto fail;
		store_instance_free(out);
		if (store_instance_get(st, ref, out, e) == -1)
			return -1;
	}
	ukd_notify(d);
	if (out->handle != NULL) {
		if (ukd_backend(d, out->backend, &ops, &b, e) == -1)
			goto fail;
		if (ops->stop(b, out->handle, timeout_s * 1000, e) == -1) {
			if (strcmp(e->code, "backend_no_such_guest") != 0)
				goto fail;
			/* gone already: its event is on its way */
		}
	}
	if (reget(st, out, e) == -1)
		return -1;
	return wait_end(d, out, timeout_s * 1000 + SUP_STOP_SLACK_MS, e);
fail:
	store_instance_free(out);
	return -1;
}

int
sup_start(struct ukd *d, const char *ref, struct store_instance *out,
    struct err *e)
{
	struct store *st;

	if ((st = ukd_store(d, e)) == NULL ||
	    store_instance_get(st, ref, out, e) == -1)
		return -1;
	if (!store_state_terminal(out->state)) {
		err_set(e, "instance_active", "instance %s is %s already",
		    out->name, store_state_name(out->state));
		store_instance_free(out);
		return -1;
	}
	if (store_instance_set_desired(st, out->id, STORE_DESIRED_RUNNING, e)
	    == -1) {
		store_instance_free(out);
		return -1;
	}
	out->desired = STORE_DESIRED_RUNNING;
	if (boot(d, st, out, STORE_RESTARTS_RESET, e) == -1) {
		store_instance_free(out);
		return -1;
	}
	return 0;
}

int
sup_restart(struct ukd *d, const char *ref, unsigned timeout_s,
    struct store_instance *out, struct err *e)
{
	if (sup_stop(d, ref, timeout_s, out, e) == -1)
		return -1;
	store_instance_free(out);
	return sup_start(d, ref, out, e);
}

int
sup_delete(struct ukd *d, const char *ref, int force,
    char name[STORE_NAME_MAX + 1], struct err *e)
{
	char dir[CONFIG_PATH_MAX + 128];
	const struct backend_ops *ops;
	struct store_instance in;
	struct backend *b;
	struct store *st;

	if ((st = ukd_store(d, e)) == NULL ||
	    store_instance_get(st, ref, &in, e) == -1)
		return -1;
	if (!store_state_terminal(in.state)) {
		if (!force) {
			err_set(e, "instance_active", "instance %s is %s: stop "
			    "it first (or force)", in.name,
			    store_state_name(in.state));
			goto fail;
		}
		if (in.handle == NULL) {
			err_set(e, "instance_busy", "instance %s is being "
			    "created; try again once it runs", in.name);
			goto fail;
		}
		(void)store_instance_set_desired(st, in.id,
		    STORE_DESIRED_STOPPED, NULL);
		in.desired = STORE_DESIRED_STOPPED;
		if (ukd_backend(d, in.backend, &ops, &b, e) == -1)
			goto fail;
		if (ops->kill(b, in.handle, e) == -1 &&
		    strcmp(e->code, "backend_no_such_guest") != 0)
			goto fail;
		if (wait_end(d, &in, SUP_STOP_SLACK_MS, e) == -1)
			goto fail;
	}
	if (store_instance_delete(st, in.id, e) == -1)
		goto fail;
	if (ukd_instance_path(d, in.id, NULL, dir, sizeof(dir), NULL) == 0 &&
	    ukd_remove_tree(dir) == -1)
		ukd_logf(d, LOG_WARNING, "removing %s: %s", dir,
		    strerror(errno));
	snprintf(name, STORE_NAME_MAX + 1, "%s", in.name);
	ukd_logf(d, LOG_INFO, "instance %s removed", in.name);
	store_instance_free(&in);
	ukd_notify(d);
	return 0;
fail:
	store_instance_free(&in);
	return -1;
}

/* ---- runs ---- */

static void
progress(const struct sup_progress *p, json_object *ev)
{
	if (ev == NULL)
		return;
	if (p != NULL && p->fn != NULL)
		p->fn(p->arg, ev);
	else
		json_object_put(ev);
}

static json_object *
event_new(const char *name)
{
	json_object *o = json_object_new_object();

	if (o != NULL)
		json_object_object_add(o, "event",
		    json_object_new_string(name));
	return o;
}

struct dl_progress {
	const struct sup_progress *p;
};

static int
dl_progress(void *arg, uint64_t done, uint64_t total)
{
	struct dl_progress *dp = arg;
	json_object *o = event_new("download");

	if (o != NULL) {
		json_object_object_add(o, "done",
		    json_object_new_int64((int64_t)done));
		json_object_object_add(o, "total",
		    json_object_new_int64((int64_t)total));
	}
	progress(dp->p, o);
	return 0;
}

/* The implementation of (f) to run under (r), for (backend). */
static int
choose(const struct feed *f, const struct sup_run_req *r,
    const char *backend, const char *range_text,
    const char *stability_text, size_t *chosen, struct err *e)
{
	struct select_policy pol;
	struct select_result res;
	struct version_range *range = NULL;
	char why[512], buf[256];
	size_t i, len = 0;
	unsigned bit;
	int rc;

	select_policy_init(&pol);
	if (range_text != NULL && range_text[0] != '\0') {
		if ((range = version_range_parse(range_text, e)) == NULL)
			return -1;
		pol.range = range;
		pol.range_text = range_text;
	}
	if (stability_text != NULL && feed_stability_parse(stability_text,
	    &pol.stability) == -1) {
		version_range_free(range);
		return err_set(e, "bad_request", "stability \"%s\" is none of "
		    "stable, testing, developer, buggy, insecure",
		    stability_text);
	}
	pol.platform = strcmp(backend, "libxl") == 0 ? FEED_PLATFORM_XEN :
	    FEED_PLATFORM_KVM;
	pol.memory = r != NULL ? r->memory_mib : 0;
	rc = select_run(f, &pol, &res, e);
	if (rc == -1) {
		why[0] = '\0';
		for (i = 0; i < res.n && len < sizeof(why) - 80; i++)
			for (bit = 1; bit < (1u << SELECT_R_COUNT); bit <<= 1)
				if (res.reasons[i] & bit) {
					select_reason_text(f, &pol, &res, i, bit,
					    buf, sizeof(buf));
					len += (size_t)snprintf(why + len,
					    sizeof(why) - len, "; %s: %s",
					    f->impls[i].version, buf);
					break;
				}
		err_set(e, "select_no_match", "no implementation of %s fits "
		    "this host (%s)%s", f->uri, backend, why);
	} else
		*chosen = res.chosen;
	version_range_free(range);
	return rc;
}

/* Name an instance after its feed: "hello", then "hello-2"... */
static int
name_free(struct store *st, const char *base, int n, char *out, size_t sz)
{
	struct store_instance in;
	struct err e;

	if (n <= 1)
		snprintf(out, sz, "%.*s", STORE_NAME_MAX, base);
	else
		snprintf(out, sz, "%.*s-%d", STORE_NAME_MAX - 8, base, n);
	if (store_instance_get(st, out, &in, &e) == 0) {
		store_instance_free(&in);
		return 0;
	}
	return 1;
}

/* Gets rid of a run that failed: nothing of it may stay. */
static void
run_undo(struct ukd *d, struct store *st, const char *id)
{
	char dir[CONFIG_PATH_MAX + 128];
	struct store_instance in;
	struct err e;

	if (store_instance_get(st, id, &in, &e) == 0) {
		if (!store_state_terminal(in.state)) {
			if (in.handle != NULL) {
				const struct backend_ops *ops;
				struct backend *b;

				if (ukd_backend(d, in.backend, &ops, &b, &e)
				    == 0)
					(void)ops->kill(b, in.handle, NULL);
			}
			(void)store_instance_set_desired(st, id,
			    STORE_DESIRED_STOPPED, NULL);
			in.desired = STORE_DESIRED_STOPPED;
			(void)end_instance(d, st, &in, STORE_FAILED, -1,
			    "run failed", &e);
		}
		store_instance_free(&in);
		if (store_instance_delete(st, id, &e) == -1)
			ukd_logf(d, LOG_ERR, "removing failed instance %s: %s",
			    id, e.msg);
	}
	if (ukd_instance_path(d, id, NULL, dir, sizeof(dir), NULL) == 0)
		(void)ukd_remove_tree(dir);
	ukd_notify(d);
}

/*
 * Makes sure the image of (impl), from the feed (f) fetched from
 * (feed_uri), is in the cache and the store: at once when cached (a
 * "cached" event), else downloaded from its href and mirrors with the
 * configuration's fetch options and verified (cache_fetch(), "download"
 * events).  Refused when larger than max_image_size.
 */
static int
fetch_image(struct ukd *d, struct store *st, const char *feed_uri,
    const struct feed *f, const struct feed_impl *impl,
    const struct sup_progress *p, struct err *e)
{
	char url[FEED_URL_MAX + 1], path[CONFIG_PATH_MAX + 128];
	const char *urls[FETCH_MAX_URLS];
	struct dl_progress dp;
	struct fetch_opts fo;
	size_t nurls = 0, i;
	struct err e2;

	if (impl->image.size > ukd_config(d)->max_image_size)
		return err_set(e, "fetch_too_large", "image %s is %llu bytes, "
		    "over max_image_size (%llu)", impl->image.sha256,
		    (unsigned long long)impl->image.size,
		    (unsigned long long)ukd_config(d)->max_image_size);
	if (cache_get(ukd_cache(d), impl->image.sha256, impl->image.size, path,
	    sizeof(path), &e2) == 0)
		progress(p, event_new("cached"));
	else {
		if (feed_resolve_href(feed_uri, impl->image.href, url,
		    sizeof(url), e) == -1)
			return -1;
		urls[nurls++] = url;
		for (i = 0; i < impl->image.nmirrors && nurls < FETCH_MAX_URLS;
		    i++)
			urls[nurls++] = impl->image.mirrors[i];
		ukd_fetch_opts(d, &fo);
		dp.p = p;
		fo.progress.fn = dl_progress;
		fo.progress.arg = &dp;
		if (cache_fetch(ukd_cache(d), urls, nurls, impl->image.size,
		    impl->image.sha256, &fo, path, sizeof(path), e) == -1)
			return -1;
	}
	if (store_image_add(st, impl->image.sha256, impl->image.size, f->name,
	    impl->version, path, e) == -1 &&
	    strcmp(e->code, "store_exists") != 0)
		return -1;
	return 0;
}

int
sup_run(struct ukd *d, const struct sup_run_req *r,
    const struct sup_progress *p, struct store_instance *out,
    json_object **details, struct err *e)
{
	char name[STORE_NAME_MAX + 1];
	char id[STORE_ID_LEN + 1];
	const char *backend;
	const struct backend_ops *ops;
	struct ukd_feed_result fr;
	struct store_instance_new n;
	struct store_transition t;
	struct store_instance in;
	const struct feed_impl *impl;
	struct backend *b;
	struct store *st;
	struct err e2;
	size_t chosen;
	int tries, rc = -1, created = 0;
	uint32_t addr;
	json_object *o;

	memset(&fr, 0, sizeof(fr));
	if (details != NULL)
		*details = NULL;
	if ((st = ukd_store(d, e)) == NULL)
		return -1;
	backend = r->backend != NULL ? r->backend :
	    ukd_config(d)->default_backend;
	if (r->name != NULL && store_instance_get(st, r->name, &in, &e2) == 0) {
		store_instance_free(&in);
		return err_set(e, "store_exists", "an instance named %s "
		    "exists already", r->name);
	}
	/* a backend that cannot work here, or cannot give the guest its
	 * network, is refused before any download */
	if (ukd_backend(d, backend, &ops, &b, e) == -1 ||
	    (r->net != NULL && backend_net_check(ops, r->net, e) == -1))
		return -1;
	if (ukd_feed_update(d, r->feed, &fr, details, e) == -1)
		return -1;
	if ((o = event_new("feed")) != NULL) {
		json_object_object_add(o, "url", json_object_new_string(r->feed));
		json_object_object_add(o, "serial",
		    json_object_new_int64((int64_t)fr.feed->serial));
		json_object_object_add(o, "key",
		    json_object_new_string(fr.keyid));
		json_object_object_add(o, "domain",
		    json_object_new_string(fr.domain));
		json_object_object_add(o, "reason",
		    json_object_new_string(fr.reason));
	}
	progress(p, o);
	if (choose(fr.feed, r, backend, r->version, r->stability, &chosen,
	    e) == -1)
		goto out;
	impl = &fr.feed->impls[chosen];
	if ((o = event_new("selected")) != NULL) {
		json_object_object_add(o, "name",
		    json_object_new_string(fr.feed->name));
		json_object_object_add(o, "version",
		    json_object_new_string(impl->version));
		json_object_object_add(o, "sha256",
		    json_object_new_string(impl->image.sha256));
		json_object_object_add(o, "size",
		    json_object_new_int64((int64_t)impl->image.size));
	}
	progress(p, o);
	memset(&n, 0, sizeof(n));
	n.feed_uri = r->feed;
	n.version_range = r->version;
	n.stability = r->stability;
	n.backend = backend;
	n.desired = STORE_DESIRED_RUNNING;
	n.restart = r->restart_set ? r->restart : STORE_RESTART_NO;
	n.memory_mib = r->memory_mib != 0 ? r->memory_mib :
	    impl->requires.memory;
	n.vcpus = r->vcpus != 0 ? r->vcpus : 1;
	n.cmdline = r->cmdline;
	n.net = r->net;
	for (tries = 1; tries < 1000; tries++) {
		if (r->name != NULL)
			snprintf(name, sizeof(name), "%s", r->name);
		else if (!name_free(st, fr.feed->name, tries, name,
		    sizeof(name)))
			continue;
		n.name = name;
		if (store_instance_create(st, &n, id, e) == 0)
			break;
		if (r->name != NULL || strcmp(e->code, "store_exists") != 0)
			goto out;
	}
	if (tries == 1000)
		goto out;
	created = 1;
	ukd_notify(d);
	/* the pool exhausted refuses the run before the download */
	if (r->net != NULL && r->net->mode == NETSPEC_BRIDGE &&
	    net_lease(d, st, id, &addr, e) == -1)
		goto out;
	memset(&t, 0, sizeof(t));
	t.to = STORE_FETCHING;
	if (store_instance_transition(st, id, STORE_CREATED, &t, e) == -1)
		goto out;
	ukd_notify(d);

	/* the image: from the cache, else downloaded and verified */
	if (fetch_image(d, st, r->feed, fr.feed, impl, p, e) == -1)
		goto out;
	if (store_instance_set_image(st, id, impl->image.sha256, e) == -1)
		goto out;
	ukd_notify(d);

	if ((o = event_new("starting")) != NULL) {
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "backend",
		    json_object_new_string(backend));
	}
	progress(p, o);
	if (store_instance_get(st, id, &in, e) == -1)
		goto out;
	if (boot(d, st, &in, STORE_RESTARTS_RESET, e) == -1) {
		store_instance_free(&in);
		goto out;
	}
	*out = in;
	rc = 0;
out:
	if (rc == -1 && created) {
		e2 = *e;
		run_undo(d, st, id);
		*e = e2;
	}
	ukd_feed_result_free(&fr);
	return rc;
}

int
sup_update(struct ukd *d, const char *ref, int *updated,
    char from[STORE_VERSION_MAX + 1], char to[STORE_VERSION_MAX + 1],
    struct store_instance *out, struct err *e)
{
	struct ukd_feed_result fr;
	const struct feed_impl *impl;
	struct store_instance in;
	struct store *st;
	size_t chosen;
	int was_running, rc = -1;

	*updated = 0;
	memset(&fr, 0, sizeof(fr));
	if ((st = ukd_store(d, e)) == NULL ||
	    store_instance_get(st, ref, &in, e) == -1)
		return -1;
	snprintf(from, STORE_VERSION_MAX + 1, "%s",
	    in.version != NULL ? in.version : "");
	snprintf(to, STORE_VERSION_MAX + 1, "%s", from);
	if (in.feed_uri == NULL) {
		err_set(e, "bad_request", "instance %s follows no feed",
		    in.name);
		goto out;
	}
	if (ukd_feed_update(d, in.feed_uri, &fr, NULL, e) == -1 ||
	    choose(fr.feed, NULL, in.backend, in.version_range, in.stability,
	    &chosen, e) == -1)
		goto out;
	impl = &fr.feed->impls[chosen];
	snprintf(to, STORE_VERSION_MAX + 1, "%s", impl->version);
	if (strcmp(impl->image.sha256, in.image) == 0) {
		rc = 0;
		goto out;
	}
	if (fetch_image(d, st, in.feed_uri, fr.feed, impl, NULL, e) == -1)
		goto out;
	was_running = !store_state_terminal(in.state);
	if (was_running) {
		store_instance_free(&in);
		if (sup_stop(d, ref, SUP_STOP_DEFAULT_S, &in, e) == -1)
			return -1;
	}
	if (store_instance_set_image(st, in.id, impl->image.sha256, e) == -1)
		goto out;
	ukd_notify(d);
	*updated = 1;
	(void)store_event_add(st, in.id, "updated", impl->version, NULL, NULL);
	store_instance_free(&in);
	if (was_running) {
		rc = sup_start(d, ref, out, e);
		ukd_feed_result_free(&fr);
		return rc;
	}
	rc = store_instance_get(st, ref, out, e);
	ukd_feed_result_free(&fr);
	return rc;
out:
	if (rc == 0)
		*out = in;
	else
		store_instance_free(&in);
	ukd_feed_result_free(&fr);
	return rc;
}
