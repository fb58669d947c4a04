/*
 * routes-instances.c - /v1/instances (docs/api.md, "Instances"): the API
 * side of the supervisor (supervise.h).
 *
 * POST /v1/instances?progress=1 runs in a thread of its own that writes
 * JSON lines into a job; the connection's stream reads them.  A client
 * that leaves does not stop the run: the thread finishes, and the last of
 * the two (thread, stream) frees the job.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routes.h"
#include "supervise.h"
#include "ukd.h"

#define CONSOLE_TAIL_MAX 100000		/* lines */
#define CONSOLE_READ_MAX (16u << 20)	/* bytes answered without follow */

/* ---- JSON ---- */

/* "network": what the instance asked and what it has: its MAC, its
 * address and gateway (slirp's in user mode, its lease on the bridge),
 * the bridge and, on qemu, its tap; the forwards. */
static json_object *
net_json(const struct config *cfg, const struct store_instance *in)
{
	json_object *o = json_object_new_object(), *arr, *f;
	const struct netspec_forward *fw;
	const struct netspec_subnet *sn = &cfg->bridge_subnet;
	char mac[NETSPEC_MAC_MAX], ip[NETSPEC_IP_MAX], buf[NETSPEC_IP_MAX + 4];
	char tap[NETSPEC_IFNAME_MAX];
	uint32_t addr = 0, gw = 0;
	unsigned prefix = 0;
	uint8_t m[6];
	size_t i;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "mode",
	    json_object_new_string(netspec_mode_name(in->net.mode)));
	if (in->net.mode == NETSPEC_USER) {
		addr = NETSPEC_USER_ADDR;
		gw = NETSPEC_USER_GATEWAY;
		prefix = NETSPEC_USER_PREFIX;
	} else if (in->net.mode == NETSPEC_BRIDGE) {
		addr = in->net_address;
		gw = sn->addr;
		prefix = sn->prefix;
	}
	mac[0] = '\0';
	if (in->net.mode != NETSPEC_NONE) {
		netspec_mac(in->id, m);
		netspec_mac_format(m, mac);
	}
	json_object_object_add(o, "mac", route_str(mac[0] ? mac : NULL));
	arr = json_object_new_array();
	if (addr != 0 && arr != NULL) {
		netspec_ip_format(addr, ip);
		snprintf(buf, sizeof(buf), "%s/%u", ip, prefix);
		json_object_array_add(arr, json_object_new_string(buf));
	}
	json_object_object_add(o, "addresses", arr);
	if (gw != 0)
		netspec_ip_format(gw, ip);
	json_object_object_add(o, "gateway", route_str(gw != 0 ? ip : NULL));
	json_object_object_add(o, "bridge", route_str(in->net.mode ==
	    NETSPEC_BRIDGE ? cfg->bridge_name : NULL));
	netspec_tap_name(in->id, tap);
	json_object_object_add(o, "tap", route_str(in->net.mode ==
	    NETSPEC_BRIDGE && strcmp(in->backend, "qemu") == 0 ? tap : NULL));
	arr = json_object_new_array();
	for (i = 0; arr != NULL && i < in->net.nforwards; i++) {
		fw = &in->net.forwards[i];
		if ((f = json_object_new_object()) == NULL)
			break;
		json_object_object_add(f, "host",
		    json_object_new_int(fw->host_port));
		json_object_object_add(f, "guest",
		    json_object_new_int(fw->guest_port));
		json_object_object_add(f, "proto", json_object_new_string(
		    netspec_proto_name(fw->proto)));
		json_object_object_add(f, "host_ip",
		    json_object_new_string(fw->host_ip));
		json_object_array_add(arr, f);
	}
	json_object_object_add(o, "forwards", arr);
	return o;
}

static json_object *
instance_json(const struct config *cfg, const struct store_instance *in)
{
	json_object *o = json_object_new_object(), *img = NULL;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(in->id));
	json_object_object_add(o, "name", json_object_new_string(in->name));
	json_object_object_add(o, "feed", route_str(in->feed_uri));
	if (in->image[0] != '\0' && (img = json_object_new_object()) != NULL) {
		json_object_object_add(img, "sha256",
		    json_object_new_string(in->image));
		json_object_object_add(img, "version", route_str(in->version));
	}
	json_object_object_add(o, "image", img);
	json_object_object_add(o, "version_range",
	    route_str(in->version_range));
	json_object_object_add(o, "stability", route_str(in->stability));
	json_object_object_add(o, "backend", route_str(in->backend));
	json_object_object_add(o, "handle", route_str(in->handle));
	json_object_object_add(o, "desired",
	    json_object_new_string(store_desired_name(in->desired)));
	json_object_object_add(o, "state",
	    json_object_new_string(store_state_name(in->state)));
	json_object_object_add(o, "exit_code",
	    in->state == STORE_EXITED && in->exit_code >= 0 ?
	    json_object_new_int(in->exit_code) : NULL);
	json_object_object_add(o, "reason", route_str(in->reason));
	json_object_object_add(o, "restart",
	    json_object_new_string(store_restart_name(in->restart)));
	json_object_object_add(o, "restart_count",
	    json_object_new_int64(in->restart_count));
	json_object_object_add(o, "next_restart", route_time(in->next_restart));
	json_object_object_add(o, "memory_mib",
	    json_object_new_int64(in->memory_mib));
	json_object_object_add(o, "vcpus", json_object_new_int64(in->vcpus));
	json_object_object_add(o, "cmdline",
	    json_object_new_string(in->cmdline != NULL ? in->cmdline : ""));
	json_object_object_add(o, "created", route_time(in->created));
	json_object_object_add(o, "started", route_time(in->started));
	json_object_object_add(o, "ended", route_time(in->ended));
	json_object_object_add(o, "network", net_json(cfg, in));
	return o;
}

/* The image's name lives with the image: add it when known. */
static void
instance_json_image_name(struct store *st, const struct store_instance *in,
    json_object *o)
{
	struct store_image img;
	json_object *j;

	if (in->image[0] == '\0' || !json_object_object_get_ex(o, "image", &j) ||
	    j == NULL || store_image_get(st, in->image, &img, NULL) == -1)
		return;
	json_object_object_add(j, "name", json_object_new_string(img.name));
	store_image_free(&img);
}

static struct ukd *
core(struct api_request *req)
{
	return api_arg(req);
}

static int
reply_instance(struct api_request *req, struct store *st, unsigned status,
    struct store_instance *in)
{
	json_object *o = instance_json(ukd_config(core(req)), in);

	if (o != NULL)
		instance_json_image_name(st, in, o);
	store_instance_free(in);
	if (o == NULL)
		return -1;
	return api_reply_json(req, status, o);
}

/* ---- list, get ---- */

/* The names of the images, for the instances' JSON: one query. */
static void
add_image_names(struct store *st, struct store_instance *ins, size_t n,
    json_object *arr)
{
	struct store_image *imgs = NULL;
	size_t i, k, nimgs = 0;
	json_object *j;

	if (store_image_list(st, &imgs, &nimgs, NULL) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (ins[i].image[0] == '\0' || !json_object_object_get_ex(
		    json_object_array_get_idx(arr, i), "image", &j) ||
		    j == NULL)
			continue;
		for (k = 0; k < nimgs; k++)
			if (strcmp(imgs[k].sha256, ins[i].image) == 0) {
				json_object_object_add(j, "name",
				    json_object_new_string(imgs[k].name));
				break;
			}
	}
	store_image_list_free(imgs, nimgs);
}

/*
 * The list is the API's hottest read (dashboards poll it): its serialised
 * body is kept until the generation moves, which every change of an
 * instance or an image bumps (ukd_notify()).
 */
int
route_instances_list(struct api_request *req)
{
	struct store_instance *ins = NULL;
	json_object *o, *arr;
	struct store *st;
	const char *s;
	struct err e;
	size_t i, n = 0, len;
	uint64_t gen = ukd_generation(core(req));
	char *buf;
	int rc;

	if ((rc = ukd_cache_get(core(req), gen, &buf, &len)) == 1) {
		rc = api_reply_body(req, 200, "application/json", buf, len);
		free(buf);
		return rc;
	}
	if (rc == -1)
		return -1;
	if ((st = ukd_store(core(req), &e)) == NULL ||
	    store_instance_list(st, &ins, &n, &e) == -1)
		return api_reply_error(req, &e);
	o = json_object_new_object();
	arr = json_object_new_array_ext((int)n);
	if (o == NULL || arr == NULL) {
		json_object_put(o);
		json_object_put(arr);
		store_instance_list_free(ins, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		json_object_array_add(arr, instance_json(
		    ukd_config(core(req)), &ins[i]));
	add_image_names(st, ins, n, arr);
	store_instance_list_free(ins, n);
	json_object_object_add(o, "instances", arr);
	s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL || (buf = malloc(strlen(s) + 1)) == NULL) {
		json_object_put(o);
		return -1;
	}
	len = strlen(s);
	memcpy(buf, s, len);
	buf[len++] = '\n';
	json_object_put(o);
	ukd_cache_put(core(req), gen, buf, len);
	rc = api_reply_body(req, 200, "application/json", buf, len);
	free(buf);
	return rc;
}

int
route_instance_get(struct api_request *req)
{
	struct store_instance in;
	struct store *st;
	struct err e;

	if ((st = ukd_store(core(req), &e)) == NULL ||
	    store_instance_get(st, api_capture(req, "name"), &in, &e) == -1)
		return api_reply_error(req, &e);
	return reply_instance(req, st, 200, &in);
}

/* ---- create ---- */

static const char *const create_keys[] = {
	"feed", "name", "backend", "memory_mib", "vcpus", "version",
	"stability", "restart", "cmdline", "network", NULL,
};

/* An optional string member into (*out); -1 with (e) when mistyped. */
static int
opt_str(json_object *body, const char *key, int required, const char **out,
    struct err *e)
{
	json_object *j;

	*out = NULL;
	if (jsonstrict_member(body, key, key, json_type_string, required,
	    &api_body_rules, &j, e) == -1)
		return -1;
	if (j != NULL)
		*out = json_object_get_string(j);
	return 0;
}

static int
opt_u32(json_object *body, const char *key, uint32_t max, uint32_t *out,
    struct err *e)
{
	json_object *j;
	int64_t v;

	*out = 0;
	if (jsonstrict_member(body, key, key, json_type_int, 0,
	    &api_body_rules, &j, e) == -1)
		return -1;
	if (j == NULL)
		return 0;
	v = json_object_get_int64(j);
	if (v < 1 || (uint64_t)v > max)
		return err_set(e, "bad_request", "%s: %lld is not in 1..%u",
		    key, (long long)v, max);
	*out = (uint32_t)v;
	return 0;
}

static int
valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > STORE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '_' || c == '.' || c == '-'))))
			return 0;
	}
	return 1;
}

/* "network" under the daemon's forward_addresses into (ns); (r->net)
 * points at it. */
static int
parse_network(const struct config *cfg, json_object *body,
    struct sup_run_req *r, struct netspec *ns, struct err *e)
{
	const char *ips[CONFIG_FORWARD_IPS_MAX];
	struct netspec_policy pol;
	json_object *j = NULL;
	size_t i;

	for (i = 0; i < cfg->nforward_ips; i++)
		ips[i] = cfg->forward_ips[i];
	pol.host_ips = ips;
	pol.nhost_ips = cfg->nforward_ips;
	(void)json_object_object_get_ex(body, "network", &j);
	if (netspec_from_json(j, &api_body_rules, &pol, ns, e) == -1)
		return -1;
	r->net = ns;
	return 0;
}

static int
parse_create(const struct config *cfg, json_object *body,
    struct sup_run_req *r, struct netspec *ns, struct err *e)
{
	const char *restart;

	memset(r, 0, sizeof(*r));
	if (jsonstrict_check_keys(body, create_keys, "", &api_body_rules,
	    e) == -1 ||
	    opt_str(body, "feed", 1, &r->feed, e) == -1 ||
	    opt_str(body, "name", 0, &r->name, e) == -1 ||
	    opt_str(body, "backend", 0, &r->backend, e) == -1 ||
	    opt_str(body, "version", 0, &r->version, e) == -1 ||
	    opt_str(body, "stability", 0, &r->stability, e) == -1 ||
	    opt_str(body, "restart", 0, &restart, e) == -1 ||
	    opt_str(body, "cmdline", 0, &r->cmdline, e) == -1 ||
	    opt_u32(body, "memory_mib", 1048576, &r->memory_mib, e) == -1 ||
	    opt_u32(body, "vcpus", 256, &r->vcpus, e) == -1)
		return -1;
	if (r->name != NULL && !valid_name(r->name))
		return err_set(e, "bad_request", "name \"%.80s\": use 1 to %d "
		    "letters, digits, '_', '.', '-', starting with a letter "
		    "or digit", r->name, STORE_NAME_MAX);
	if (restart != NULL) {
		if (store_restart_parse(restart, &r->restart) == -1)
			return err_set(e, "bad_request", "restart \"%.40s\" is "
			    "none of no, on-failure, always", restart);
		r->restart_set = 1;
	}
	if (r->cmdline != NULL && strlen(r->cmdline) > STORE_CMDLINE_MAX)
		return err_set(e, "bad_request", "cmdline: longer than %d "
		    "bytes", STORE_CMDLINE_MAX);
	if (r->feed[0] == '\0')
		return err_set(e, "bad_request", "feed: empty");
	return parse_network(cfg, body, r, ns, e);
}

/* A run reporting progress: lines queued by the run's thread. */
struct job {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	int done;
	struct ukd *d;
	struct sup_run_req req;
	struct netspec net;	/* req.net */
	json_object *body;	/* holds req's strings */
	char *buf;		/* lines not sent yet */
	size_t len, off, cap;
};

static void
job_unref(struct job *j)
{
	int last;

	pthread_mutex_lock(&j->mu);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (!last)
		return;
	json_object_put(j->body);
	free(j->buf);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

/* Appends one line; the object is consumed. */
static void
job_line(void *arg, json_object *ev)
{
	struct job *j = arg;
	const char *s = json_object_to_json_string_ext(ev,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);

	pthread_mutex_lock(&j->mu);
	if (j->len + n + 1 > j->cap) {
		size_t cap = (j->len + n + 1) * 2;
		char *p = realloc(j->buf, cap);

		if (p == NULL) {
			pthread_mutex_unlock(&j->mu);
			json_object_put(ev);
			return;
		}
		j->buf = p;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->buf[j->len + n] = '\n';
	j->len += n + 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	json_object_put(ev);
}

static json_object *
error_event(const struct err *e, json_object *details)
{
	json_object *o = json_object_new_object(), *er;

	if (o == NULL || (er = json_object_new_object()) == NULL) {
		json_object_put(o);
		json_object_put(details);
		return NULL;
	}
	json_object_object_add(o, "event", json_object_new_string("error"));
	json_object_object_add(o, "status",
	    json_object_new_int((int)api_status(e->code)));
	json_object_object_add(er, "code", json_object_new_string(
	    e->code[0] != '\0' ? e->code : "internal_error"));
	json_object_object_add(er, "message", json_object_new_string(e->msg));
	if (details != NULL)
		json_object_object_add(er, "details", details);
	json_object_object_add(o, "error", er);
	return o;
}

static void *
job_main(void *arg)
{
	struct job *j = arg;
	struct sup_progress p = { job_line, j };
	struct store_instance in;
	json_object *details = NULL, *o;
	struct store *st;
	struct err e;

	if (sup_run(j->d, &j->req, &p, &in, &details, &e) == 0) {
		o = json_object_new_object();
		if (o != NULL) {
			json_object *ij = instance_json(ukd_config(j->d),
			    &in);

			if (ij != NULL && (st = ukd_store(j->d, NULL)) != NULL)
				instance_json_image_name(st, &in, ij);
			json_object_object_add(o, "event",
			    json_object_new_string("running"));
			json_object_object_add(o, "instance", ij);
			job_line(j, o);
		}
		store_instance_free(&in);
	} else if ((o = error_event(&e, details)) != NULL)
		job_line(j, o);
	pthread_mutex_lock(&j->mu);
	j->done = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	job_unref(j);
	return NULL;
}

static ssize_t
job_produce(void *arg, char *buf, size_t max)
{
	struct job *j = arg;
	struct timespec ts;
	ssize_t n;

	pthread_mutex_lock(&j->mu);
	if (j->off == j->len && !j->done) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&j->cv, &j->mu, &ts);
	}
	if (j->off < j->len) {
		n = (ssize_t)(j->len - j->off < max ? j->len - j->off : max);
		memcpy(buf, j->buf + j->off, (size_t)n);
		j->off += (size_t)n;
	} else
		n = j->done ? API_STREAM_END : API_STREAM_AGAIN;
	pthread_mutex_unlock(&j->mu);
	return n;
}

static void
job_release(void *arg)
{
	job_unref(arg);
}

int
route_instances_create(struct api_request *req)
{
	const char *prog = api_query(req, "progress");
	struct sup_run_req r;
	struct netspec ns;
	struct store_instance in;
	json_object *details = NULL;
	pthread_attr_t attr;
	pthread_t t;
	struct store *st;
	struct job *j;
	struct err e;

	if (parse_create(ukd_config(core(req)), api_body(req), &r, &ns,
	    &e) == -1)
		return api_reply_error(req, &e);
	if (prog == NULL || strcmp(prog, "1") != 0) {
		if (sup_run(core(req), &r, NULL, &in, &details, &e) == -1)
			return api_reply_error_details(req, &e, details);
		if ((st = ukd_store(core(req), &e)) == NULL) {
			store_instance_free(&in);
			return api_reply_error(req, &e);
		}
		return reply_instance(req, st, 201, &in);
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->refs = 2;
	j->d = core(req);
	j->req = r;
	j->net = ns;
	j->req.net = &j->net;
	/* the request's strings point into the body, which the job keeps */
	j->body = json_object_get(api_body(req));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, job_main, j) != 0) {
		pthread_attr_destroy(&attr);
		j->refs = 1;
		job_unref(j);
		return api_reply_errorf(req, "internal_error", "cannot start "
		    "a thread for the run");
	}
	pthread_attr_destroy(&attr);
	return api_reply_stream(req, 200, "application/x-ndjson", job_produce,
	    j, job_release);
}

/* ---- actions ---- */

static int
opt_timeout(struct api_request *req, unsigned *timeout, struct err *e)
{
	static const char *const keys[] = { "timeout", NULL };
	json_object *body = api_body(req), *j;
	int64_t v;

	*timeout = SUP_STOP_DEFAULT_S;
	if (jsonstrict_check_keys(body, keys, "", &api_body_rules, e) == -1 ||
	    jsonstrict_member(body, "timeout", "timeout", json_type_int, 0,
	    &api_body_rules, &j, e) == -1)
		return -1;
	if (j != NULL) {
		v = json_object_get_int64(j);
		if (v < 0 || v > 3600)
			return err_set(e, "bad_request", "timeout: %lld is not "
			    "in 0..3600 seconds", (long long)v);
		*timeout = (unsigned)v;
	}
	return 0;
}

static int
no_body(struct api_request *req, struct err *e)
{
	static const char *const keys[] = { NULL };

	return jsonstrict_check_keys(api_body(req), keys, "", &api_body_rules,
	    e);
}

int
route_instance_start(struct api_request *req)
{
	struct store_instance in;
	struct store *st;
	struct err e;

	if (no_body(req, &e) == -1 ||
	    (st = ukd_store(core(req), &e)) == NULL ||
	    sup_start(core(req), api_capture(req, "name"), &in, &e) == -1)
		return api_reply_error(req, &e);
	return reply_instance(req, st, 200, &in);
}

/* stop and restart: an optional {"timeout":S}, then (fn). */
static int
stop_like(struct api_request *req, int (*fn)(struct ukd *, const char *,
    unsigned, struct store_instance *, struct err *))
{
	struct store_instance in;
	struct store *st;
	unsigned timeout;
	struct err e;

	if (opt_timeout(req, &timeout, &e) == -1 ||
	    (st = ukd_store(core(req), &e)) == NULL ||
	    fn(core(req), api_capture(req, "name"), timeout, &in, &e) == -1)
		return api_reply_error(req, &e);
	return reply_instance(req, st, 200, &in);
}

int
route_instance_stop(struct api_request *req)
{
	return stop_like(req, sup_stop);
}

int
route_instance_restart(struct api_request *req)
{
	return stop_like(req, sup_restart);
}

int
route_instance_delete(struct api_request *req)
{
	const char *force = api_query(req, "force");
	char name[STORE_NAME_MAX + 1];
	json_object *o;
	struct err e;

	if (no_body(req, &e) == -1)
		return api_reply_error(req, &e);
	if (force != NULL && strcmp(force, "1") != 0 &&
	    strcmp(force, "0") != 0)
		return api_reply_errorf(req, "bad_request", "force: 0 or 1");
	if (sup_delete(core(req), api_capture(req, "name"),
	    force != NULL && strcmp(force, "1") == 0, name, &e) == -1)
		return api_reply_error(req, &e);
	if ((o = json_object_new_object()) == NULL)
		return -1;
	json_object_object_add(o, "deleted", json_object_new_string(name));
	return api_reply_json(req, 200, o);
}

int
route_instance_update(struct api_request *req)
{
	char from[STORE_VERSION_MAX + 1], to[STORE_VERSION_MAX + 1];
	struct store_instance in;
	json_object *o, *ij;
	struct store *st;
	int updated;
	struct err e;

	if (no_body(req, &e) == -1 ||
	    (st = ukd_store(core(req), &e)) == NULL ||
	    sup_update(core(req), api_capture(req, "name"), &updated, from, to,
	    &in, &e) == -1)
		return api_reply_error(req, &e);
	ij = instance_json(ukd_config(core(req)), &in);
	if (ij != NULL)
		instance_json_image_name(st, &in, ij);
	store_instance_free(&in);
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(ij);
		return -1;
	}
	json_object_object_add(o, "updated", json_object_new_boolean(updated));
	json_object_object_add(o, "from", json_object_new_string(from));
	json_object_object_add(o, "to", json_object_new_string(to));
	json_object_object_add(o, "instance", ij);
	return api_reply_json(req, 200, o);
}

/* ---- console ---- */

struct follow {
	struct ukd *d;
	char id[STORE_ID_LEN + 1];
	char path[CONFIG_PATH_MAX + 128];
	char *pre;		/* the tail, sent first */
	size_t prelen, preoff;
	off_t off;		/* how far console.log was sent */
	uint64_t gen, cgen;	/* ukd_wait_console() */
	int once;		/* no follow: the tail only */
};

/* The last (lines) lines of (buf, len) (all when lines is 0): their start. */
static size_t
tail_start(const char *buf, size_t len, unsigned long lines)
{
	size_t i = len;
	unsigned long seen = 0;

	if (lines == 0)
		return 0;
	if (i > 0 && buf[i - 1] == '\n')
		i--;
	while (i > 0) {
		if (buf[i - 1] == '\n' && ++seen == lines)
			return i;
		i--;
	}
	return 0;
}

/* console.log.1 then console.log, up to CONSOLE_READ_MAX from their end;
 * (*logsize) is console.log's size, where following goes on. */
static int
console_read(const char *path, char **out, size_t *len, off_t *logsize,
    struct err *e)
{
	char old[CONFIG_PATH_MAX + 160];
	const char *paths[2];
	char *buf = NULL;
	size_t n = 0, k;
	struct stat sb;
	ssize_t r;
	int fd, i;

	snprintf(old, sizeof(old), "%s.1", path);
	paths[0] = old;
	paths[1] = path;
	*logsize = 0;
	if ((buf = malloc(2 * CONSOLE_READ_MAX + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "no memory for the console");
	for (i = 0; i < 2; i++) {
		if ((fd = open(paths[i], O_RDONLY | O_CLOEXEC)) == -1) {
			if (errno == ENOENT)
				continue;
			free(buf);
			return err_errno(e, ERR_IO, errno, "%s", paths[i]);
		}
		if (fstat(fd, &sb) == 0 && sb.st_size > CONSOLE_READ_MAX)
			(void)lseek(fd, sb.st_size - CONSOLE_READ_MAX, SEEK_SET);
		k = 0;
		while (k < CONSOLE_READ_MAX && (r = read(fd, buf + n + k,
		    CONSOLE_READ_MAX - k)) > 0)
			k += (size_t)r;
		if (i == 1)
			*logsize = lseek(fd, 0, SEEK_CUR);
		n += k;
		close(fd);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static ssize_t
follow_produce(void *arg, char *buf, size_t max)
{
	struct follow *f = arg;
	struct store_instance in;
	struct store *st;
	struct stat sb;
	ssize_t n = 0;
	int fd, ended = 0;

	if (f->preoff < f->prelen) {
		n = (ssize_t)(f->prelen - f->preoff < max ?
		    f->prelen - f->preoff : max);
		memcpy(buf, f->pre + f->preoff, (size_t)n);
		f->preoff += (size_t)n;
		return n;
	}
	if (f->once)
		return API_STREAM_END;
	for (;;) {
		/* the state first: output written before it ended is
		 * then on disk when we read below */
		if ((st = ukd_store(f->d, NULL)) == NULL ||
		    store_instance_get(st, f->id, &in, NULL) == -1)
			ended = 1;	/* removed */
		else {
			ended = store_state_terminal(in.state) &&
			    (in.next_restart == 0 ||
			    in.desired != STORE_DESIRED_RUNNING);
			store_instance_free(&in);
		}
		if (stat(f->path, &sb) == 0) {
			if (sb.st_size < f->off)	/* bounded: emptied */
				f->off = 0;
			if (sb.st_size > f->off &&
			    (fd = open(f->path, O_RDONLY | O_CLOEXEC)) != -1) {
				n = pread(fd, buf, max, f->off);
				close(fd);
				if (n > 0) {
					f->off += n;
					return n;
				}
			}
		}
		if (ended)
			return API_STREAM_END;
		/* wait for output (the supervisor's inotify watch) or a
		 * change of state; a console no watch covers (libxl's)
		 * is looked at again every 200 ms */
		ukd_wait_console(f->d, &f->gen, &f->cgen, 200);
		return API_STREAM_AGAIN;
	}
}

static void
follow_release(void *arg)
{
	struct follow *f = arg;

	free(f->pre);
	free(f);
}

int
route_instance_console(struct api_request *req)
{
	const char *tail = api_query(req, "tail");
	const char *follow = api_query(req, "follow");
	struct store_instance in;
	unsigned long lines = 0;
	struct follow *f;
	struct store *st;
	char *end, *buf = NULL;
	size_t len = 0, start;
	off_t logsize;
	struct err e;

	if (tail != NULL) {
		errno = 0;
		lines = strtoul(tail, &end, 10);
		if (tail[0] < '0' || tail[0] > '9' || *end != '\0' ||
		    errno != 0 || lines > CONSOLE_TAIL_MAX)
			return api_reply_errorf(req, "bad_request", "tail: a "
			    "number of lines, 0..%d", CONSOLE_TAIL_MAX);
	}
	if (follow != NULL && strcmp(follow, "0") != 0 &&
	    strcmp(follow, "1") != 0)
		return api_reply_errorf(req, "bad_request", "follow: 0 or 1");
	if ((st = ukd_store(core(req), &e)) == NULL ||
	    store_instance_get(st, api_capture(req, "name"), &in, &e) == -1)
		return api_reply_error(req, &e);
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		store_instance_free(&in);
		return -1;
	}
	f->d = core(req);
	f->gen = ukd_generation(f->d);
	f->cgen = ukd_console_generation(f->d);
	memcpy(f->id, in.id, sizeof(f->id));
	store_instance_free(&in);
	if (ukd_instance_path(f->d, f->id, "console.log", f->path,
	    sizeof(f->path), &e) == -1 ||
	    console_read(f->path, &buf, &len, &logsize, &e) == -1) {
		free(f);
		return api_reply_error(req, &e);
	}
	start = tail != NULL ? tail_start(buf, len, lines) : 0;
	if (tail != NULL && lines == 0)
		start = len;
	f->pre = buf;
	f->prelen = len;
	f->preoff = start;
	f->off = logsize;
	/* without follow: the tail, then the end */
	f->once = follow == NULL || strcmp(follow, "1") != 0;
	return api_reply_stream(req, 200, "text/plain; charset=utf-8",
	    follow_produce, f, follow_release);
}
