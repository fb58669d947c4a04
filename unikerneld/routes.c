/*
 * routes.c - the table of the daemon's routes (docs/api.md) and the small
 * helpers their handlers share.
 */
#include "config.h"

#include <stdint.h>

#include "routes.h"

const struct api_route ukd_routes[] = {
	{ "GET", "/v1/version", api_route_version },
	{ "GET", "/v1/health", api_route_health },
	{ "GET", "/v1/instances", route_instances_list },
	{ "POST", "/v1/instances", route_instances_create },
	{ "GET", "/v1/instances/{name}", route_instance_get },
	{ "DELETE", "/v1/instances/{name}", route_instance_delete },
	{ "POST", "/v1/instances/{name}/start", route_instance_start },
	{ "POST", "/v1/instances/{name}/stop", route_instance_stop },
	{ "POST", "/v1/instances/{name}/restart", route_instance_restart },
	{ "POST", "/v1/instances/{name}/update", route_instance_update },
	{ "GET", "/v1/instances/{name}/console", route_instance_console },
	{ "GET", "/v1/feeds", route_feeds_list },
	{ "POST", "/v1/feeds", route_feeds_add },
	{ "POST", "/v1/feeds/{id}/refresh", route_feed_refresh },
	{ "GET", "/v1/feeds/{id}/select", route_feed_select },
	{ "GET", "/v1/keys", route_keys_list },
	{ "POST", "/v1/keys", route_keys_add },
	{ "DELETE", "/v1/keys", route_keys_delete },
	{ "GET", "/v1/images", route_images_list },
	{ "DELETE", "/v1/images/{sha256}", route_image_delete },
	{ "POST", "/v1/images/prune", route_images_prune },
	{ "GET", "/v1/events", route_events },
	{ "GET", "/metrics", route_metrics },
	{ NULL, NULL, NULL },
};

json_object *
route_time(int64_t t)
{
	return t != 0 ? json_object_new_int64(t) : NULL;
}

json_object *
route_str(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}
