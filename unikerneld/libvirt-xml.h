/*
 * libvirt-xml.h - the libvirt domain XML of a guest, made from its
 * backend_spec by pure functions (no libvirt, no I/O), so that golden
 * files can test it (tests/unit/test-libvirt-xml.c).
 *
 * Errors follow err.h.  Code: "invalid_argument" (a value that no XML
 * can carry or that libvirt would refuse: control characters, text that
 * is not UTF-8, a bad instance id, zero memory...), "out_of_memory".
 * Every value that reaches the XML is escaped, the command line above all:
 * it is free text from the image's publisher.
 */
#ifndef UNIKERNELD_LIBVIRT_XML_H
#define UNIKERNELD_LIBVIRT_XML_H

#include <stddef.h>

#include "backend.h"
#include "err.h"

/* Domains are named LVXML_PREFIX + the instance name. */
#define LVXML_PREFIX "uk-"

/* The namespace of the <metadata> element that records what the daemon
 * needs to adopt a guest after a restart (its console log). */
#define LVXML_NS "urn:x-unikerneld:libvirt:1"
#define LVXML_NS_PREFIX "unikerneld"
#define LVXML_META "instance"

#define LVXML_UUID_LEN 36	/* 8-4-4-4-12 hex digits, without the NUL */
#define LVXML_MAX (64 * 1024)	/* a longer domain XML is a bug */
#define LVXML_PATH_MAX 4096

/* How guests are built on this connection: docs/daemon.md, "The libvirt
 * backend", says where each value comes from. */
struct lvxml_opts {
	const char *domtype;	/* "kvm", or "qemu" (TCG) */
	const char *machine;	/* "q35" or "pc" */
	const char *loader;	/* firmware ROM (qboot); NULL or "": none,
				 * libvirt's default (SeaBIOS) */
};

#define LVXML_QBOOT "/usr/share/qemu/qboot.rom"

/*
 * The backend's part of the daemon's configuration, one string: a
 * libvirt URI and options, separated by commas or blanks, in any order:
 *
 *	[[uri=]URI] [type=kvm|qemu] [machine=q35|pc] [loader=PATH]
 *
 * The URI is the word with "://" in it (a comma in it must be written
 * %2C); without one, qemu:///system.  "loader=" (empty) means no loader.
 */
struct lvxml_config {
	char uri[1024];
	char domtype[8];		/* "" when not given: probe */
	char machine[8];
	char loader[LVXML_PATH_MAX];	/* "" for none */
};

/* Parses (s) (NULL or "" for all defaults) into (c). */
int lvxml_config_parse(const char *s, struct lvxml_config *c,
    struct err *e);

/* The domain XML for (spec) with (o) into a new NUL-terminated string
 * (*out), which the caller frees with free(). */
int lvxml_domain(const struct backend_spec *spec, const struct lvxml_opts *o,
    char **out, struct err *e);

/* The UUID libvirt shows for the instance id (id): 32 hex digits become
 * their lower-case 8-4-4-4-12 form in (out). */
int lvxml_uuid(const char *id, char out[LVXML_UUID_LEN + 1], struct err *e);

/* Whether (s) is text the XML may carry: UTF-8 without control
 * characters (XML 1.0 cannot carry most of them even escaped).  Returns 0
 * or -1 with "invalid_argument" naming (what). */
int lvxml_check_text(const char *what, const char *s, struct err *e);

/* Appends (s) escaped for XML text and attribute values (both quotes
 * too) to the (size)-byte buffer (buf), which holds (*len) bytes; -1
 * (nothing appended) if it would not fit with its NUL. */
int lvxml_escape(char *buf, size_t size, size_t *len, const char *s);

/*
 * Reads the value of attribute (attr) of the first element of (xml), as
 * libvirt gives back our <metadata> element (virDomainGetMetadata), into
 * (out, outsz), with the five named entities and numeric character
 * references decoded.  Returns -1 if it is missing, malformed or too long.
 */
int lvxml_attr(const char *xml, const char *attr, char *out, size_t outsz);

#endif
