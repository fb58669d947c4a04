/*
 * supervise.h - the instance state machine (prefix sup_): runs, starts,
 * stops and removes instances, and reacts to backend events (docs/daemon.md,
 * "Supervision").
 *
 * One supervisor thread per daemon takes the backends' events from a
 * queue, moves the instances' observed state in the store, plans restarts
 * with exponential back-off and performs them when due, and bounds the
 * consoles.  The operations below run in the caller's thread (an API
 * connection's) and share the store with it through SQLite's locks; a
 * mutex orders a guest's start against the events about it.
 *
 * Functions return 0, or -1 with a stable code in (e) (err.h).
 */
#ifndef UNIKERNELD_SUPERVISE_H
#define UNIKERNELD_SUPERVISE_H

#include <stdint.h>

#include <json-c/json.h>

#include "backend.h"
#include "err.h"
#include "store.h"
#include "ukd.h"

/* Exponential back-off of automatic restarts: 1 s, 2 s, 4 s... */
#define SUP_BACKOFF_FIRST_MS 1000u
#define SUP_BACKOFF_MAX_MS 60000u
/* How long stop() waits beyond the guest's grace time for its end. */
#define SUP_STOP_SLACK_MS 15000u
#define SUP_STOP_DEFAULT_S 10u

struct sup;

int sup_open(struct ukd *d, struct sup **out, struct err *e);
/* Adopts the guests the store says run, marks vanished ones, plans the
 * restarts due; called once, after sup_open(). */
void sup_reconcile(struct sup *s);
void sup_close(struct sup *s);

/* A backend's listener (backend.h) ends here: (backend) names it. */
void sup_backend_event(struct sup *s, const char *backend,
    const struct backend_event *ev);

/* The console of a running guest to bound (docs/daemon.md): called when a
 * guest starts or is adopted. */
void sup_console_watch(struct sup *s, const char *backend, const char *id);

/* What `uk run` asks: NULL and 0 fields take their defaults. */
struct sup_run_req {
	const char *feed;
	const char *name;
	const char *backend;
	const char *version;		/* a version range */
	const char *stability;
	const char *cmdline;
	int restart_set;
	enum store_restart restart;
	uint32_t memory_mib;
	uint32_t vcpus;
	const struct netspec *net;	/* checked (netspec_from_json());
					 * NULL: none */
};

/* Progress of a run: (fn) gets each event object (docs/api.md) and owns
 * it; called from the running thread. */
struct sup_progress {
	void (*fn)(void *arg, json_object *ev);
	void *arg;
};

/* Runs a new instance (docs/api.md, POST /v1/instances); on success (out)
 * is the instance, for store_instance_free().  On failure nothing of the
 * instance is left; (details) as ukd_feed_update() gives them. */
int sup_run(struct ukd *d, const struct sup_run_req *r,
    const struct sup_progress *p, struct store_instance *out,
    json_object **details, struct err *e);

int sup_start(struct ukd *d, const char *ref, struct store_instance *out,
    struct err *e);
int sup_stop(struct ukd *d, const char *ref, unsigned timeout_s,
    struct store_instance *out, struct err *e);
int sup_restart(struct ukd *d, const char *ref, unsigned timeout_s,
    struct store_instance *out, struct err *e);
/* (name) receives the removed instance's name. */
int sup_delete(struct ukd *d, const char *ref, int force,
    char name[STORE_NAME_MAX + 1], struct err *e);
int sup_update(struct ukd *d, const char *ref, int *updated,
    char from[STORE_VERSION_MAX + 1], char to[STORE_VERSION_MAX + 1],
    struct store_instance *out, struct err *e);

/* Waits until the instance (id) leaves (state) or (timeout_ms) passed;
 * fills (out) with what it is then. */
int sup_wait_change(struct ukd *d, const char *id, enum store_state state,
    unsigned timeout_ms, struct store_instance *out, struct err *e);

#endif
