/*
 * libxl-config.h - what the libxl backend tells libxl, made by pure
 * functions (no libxl context, no hypervisor, no I/O) so that golden files
 * can test it (tests/unit/test-libxl-config.c, tests/data/libxl/):
 * the domain configuration of a guest from its backend_spec, the handle
 * that names the guest, the record kept with the domain for adopting it,
 * and the event that a guest's end becomes.
 *
 * Errors follow err.h.  Codes: "invalid_argument" (a value libxl or the
 * runtime would refuse, or that no JSON can carry: control characters,
 * text that is not UTF-8, a relative path, a bad instance id, too little
 * memory, more than one vCPU...), "out_of_memory".  The command line is
 * free text from the image's publisher: it is checked, never rewritten,
 * and libxl's own JSON writer escapes it.
 *
 * Include this header before any libxl header: it fixes the libxl API
 * version the backend is written against.
 */
#ifndef UNIKERNELD_LIBXL_CONFIG_H
#define UNIKERNELD_LIBXL_CONFIG_H

/* The libxl API of Xen 4.13 (async shutdown and friends), available from
 * 4.14, which configure.ac requires. */
#ifndef LIBXL_API_VERSION
#define LIBXL_API_VERSION 0x041300
#endif

#include <stddef.h>
#include <stdint.h>

#include <libxl.h>

#include "backend.h"
#include "err.h"
#include "trailer.h"

/* Domains are named XLCFG_PREFIX + the instance name. */
#define XLCFG_PREFIX "uk-"
#define XLCFG_NAME_MAX 64	/* bytes of an instance name */
#define XLCFG_PATH_MAX 4096	/* bytes of a path, with its NUL */
#define XLCFG_CMDLINE_MAX 4095	/* what the runtime copies (docs/runtime.md) */
#define XLCFG_MEMORY_MIN 2	/* MiB: hello boots in 2 (tests/xen/) */
#define XLCFG_MEMORY_MAX (1024 * 1024)	/* MiB: 1 TiB, a sanity bound */
/* The paging memory is always set: libxl's default leaves guests under
 * ~24 MiB too little to build.  libxl_get_required_shadow_memory() for
 * the size, and never less than this (KiB). */
#define XLCFG_SHADOW_MIN_KB 1024

/* The userdata id (libxl_userdata_store) of the record kept with each
 * domain for adopting it after a daemon restart. */
#define XLCFG_USERDATA_ID "unikerneld"

/*
 * Fills (cfg) for a Xen PVH guest booting (spec): name "uk-NAME", UUID from
 * the instance id, kernel, boot module as ramdisk, command line, memory
 * (maximum = target), one vCPU, paging memory at least
 * XLCFG_SHADOW_MIN_KB, and "preserve" on every kind of shutdown so that
 * the reason can be read before the domain is destroyed.  The primary PV
 * console (xenconsoled) is libxl's default for PVH; no other device.
 *
 * (cfg) must have been initialised with libxl_domain_config_init(); the
 * caller disposes it with libxl_domain_config_dispose() whatever the
 * result.  On failure (cfg) is partly filled and must not be used.
 */
int xlcfg_build(const struct backend_spec *spec, libxl_domain_config *cfg,
    struct err *e);

/* (cfg) as libxl's own JSON writer prints it (libxl_domain_config_to_json,
 * which needs no context): only the values that differ from libxl's
 * defaults.  A new NUL-terminated string for free(), or NULL. */
char *xlcfg_json(libxl_domain_config *cfg, struct err *e);

/* The UUID of instance id (id), 32 hex digits, into (uuid). */
int xlcfg_uuid(const char *id, libxl_uuid *uuid, struct err *e);

/* The handle of a guest: "DOMID:UUID", the UUID in its 8-4-4-4-12 form. */
void xlcfg_handle(uint32_t domid, const libxl_uuid *uuid,
    char handle[BACKEND_HANDLE_MAX]);

/* The reverse, with every character checked. */
int xlcfg_handle_parse(const char *handle, uint32_t *domid, libxl_uuid *uuid,
    struct err *e);

/* The record kept with the domain (libxl userdata XLCFG_USERDATA_ID):
 * "console_log=PATH\n", into (buf, size). */
int xlcfg_userdata(const struct backend_spec *spec, char *buf, size_t size,
    struct err *e);

/* The console log path from a record (data, len) as xlcfg_userdata()
 * wrote it, into (path, size); checked like a spec's paths. */
int xlcfg_userdata_parse(const char *data, size_t len, char *path,
    size_t size, struct err *e);

/* Whether (s) may go into a domain configuration as (what): UTF-8 without
 * control characters. */
int xlcfg_check_text(const char *what, const char *s, struct err *e);

/*
 * What a guest's end is, for the daemon (backend.h):
 * (stopped)  the daemon had asked for the end (stop or kill): STOPPED;
 * (shutdown) whether Xen recorded a shutdown, and then (reason), a
 *            libxl_shutdown_reason: poweroff is EXITED with the code of
 *            the console trailer (t) (-1 without one), anything else is
 *            CRASHED (a PVH triple fault is a "reboot"), named by the
 *            crash trailer when there is one;
 * no shutdown and not stopped: the domain vanished, FAILED.
 * (ev->handle) is left alone; (ev->reason) points into (buf, size).
 */
void xlcfg_outcome(int stopped, int shutdown, int reason,
    const struct trailer *t, struct backend_event *ev, char *buf,
    size_t size);

#endif
