/*
 * routes.h - the daemon's REST handlers (docs/api.md), each reached through
 * the table ukd_routes[] (routes.c) with the struct ukd as api_arg().
 *
 * routes-instances.c: instances, consoles (the supervisor's side);
 * routes-registry.c: feeds, keys, images, events, metrics (the store's).
 * Helpers both use are at the end.
 */
#ifndef UNIKERNELD_ROUTES_H
#define UNIKERNELD_ROUTES_H

#include <json-c/json.h>

#include "api.h"
#include "store.h"

extern const struct api_route ukd_routes[];

/* routes-instances.c */
int route_instances_list(struct api_request *req);
int route_instances_create(struct api_request *req);
int route_instance_get(struct api_request *req);
int route_instance_delete(struct api_request *req);
int route_instance_start(struct api_request *req);
int route_instance_stop(struct api_request *req);
int route_instance_restart(struct api_request *req);
int route_instance_update(struct api_request *req);
int route_instance_console(struct api_request *req);

/* routes-registry.c */
int route_feeds_list(struct api_request *req);
int route_feeds_add(struct api_request *req);
int route_feed_refresh(struct api_request *req);
int route_feed_select(struct api_request *req);
int route_keys_list(struct api_request *req);
int route_keys_add(struct api_request *req);
int route_keys_delete(struct api_request *req);
int route_images_list(struct api_request *req);
int route_image_delete(struct api_request *req);
int route_images_prune(struct api_request *req);
int route_events(struct api_request *req);
int route_metrics(struct api_request *req);

/* Helpers (routes.c).  A time as JSON: null for 0. */
json_object *route_time(int64_t t);
/* A string as JSON: null for NULL. */
json_object *route_str(const char *s);

#endif
