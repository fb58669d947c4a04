#include "config.h"

#include <stdio.h>
#include <string.h>

#include "select.h"

static const char *const reason_names[SELECT_R_COUNT] = {
	"arch", "platform", "stability", "version", "memory", "devices",
	"superseded",
};

void
select_policy_init(struct select_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->stability = FEED_STABLE;
	p->net = SELECT_ANY_NET;
}

int
select_stability_admits(enum feed_stability policy, enum feed_stability s)
{
	/* buggy and insecure are only ever taken by name; asking for one of
	 * them lowers the bar for the ordinary levels to developer. */
	if (s == policy)
		return 1;
	if (s < FEED_DEVELOPER)
		return 0;
	return s >= (policy > FEED_DEVELOPER ? policy : FEED_DEVELOPER);
}

static const char *
policy_arch(const struct select_policy *p)
{
	return p->arch != NULL ? p->arch : SELECT_HOST_ARCH;
}

static unsigned
reasons_for(const struct feed_impl *impl, const struct select_policy *p)
{
	unsigned r = 0;

	if (strcmp(impl->arch, policy_arch(p)) != 0)
		r |= SELECT_R_ARCH;
	if (p->platform != 0 && (impl->platforms & p->platform) == 0)
		r |= SELECT_R_PLATFORM;
	if (!select_stability_admits(p->stability, impl->stability))
		r |= SELECT_R_STABILITY;
	if (p->range != NULL && !version_range_match(p->range, impl->version))
		r |= SELECT_R_VERSION;
	if (p->memory != 0 && impl->requires.memory > p->memory)
		r |= SELECT_R_MEMORY;
	if (impl->requires.net > p->net)
		r |= SELECT_R_DEVICES;
	return r;
}

/* 1 when (a) should be preferred to (b), both fitting. */
static int
better(const struct feed_impl *a, const struct feed_impl *b)
{
	int c = version_compare(a->version, b->version);

	return c > 0 || (c == 0 && a->stability > b->stability);
}

static int
policy_check(const struct feed *f, const struct select_policy *p,
    struct err *e)
{
	if (f->nimpls > FEED_MAX_IMPLS)
		return err_set(e, ERR_INVALID, "the feed has %zu "
		    "implementations, at most %d", f->nimpls, FEED_MAX_IMPLS);
	if (p->platform != 0 && feed_platform_name(p->platform) == NULL)
		return err_set(e, ERR_INVALID, "the policy must name one "
		    "platform or none");
	if (feed_stability_name(p->stability) == NULL)
		return err_set(e, ERR_INVALID, "the policy names no stability");
	return 0;
}

static int
no_match(const struct feed *f, const struct select_result *r, struct err *e)
{
	char counts[256] = "";
	size_t i, k, n, len = 0;

	for (k = 0; k < SELECT_R_COUNT - 1; k++) {
		for (i = n = 0; i < r->n; i++)
			n += (r->reasons[i] >> k) & 1;
		if (n > 0 && len < sizeof(counts))
			len += (size_t)snprintf(counts + len,
			    sizeof(counts) - len, "%s %s %zu", len ? "," : "",
			    reason_names[k], n);
	}
	if (r->n == 0)
		return err_set(e, "select_no_match", "feed '%s' has no "
		    "implementations", f->name);
	return err_set(e, "select_no_match", "none of the %zu implementations "
	    "of '%s' fits (rejected for%s)", r->n, f->name, counts);
}

int
select_run(const struct feed *f, const struct select_policy *p,
    struct select_result *r, struct err *e)
{
	size_t i;

	r->found = 0;
	r->chosen = 0;
	r->n = 0;
	if (policy_check(f, p, e) == -1)
		return -1;
	r->n = f->nimpls;
	for (i = 0; i < r->n; i++) {
		r->reasons[i] = reasons_for(&f->impls[i], p);
		if (r->reasons[i] != 0)
			continue;
		if (!r->found || better(&f->impls[i], &f->impls[r->chosen]))
			r->chosen = i;
		r->found = 1;
	}
	if (!r->found)
		return no_match(f, r, e);
	for (i = 0; i < r->n; i++)
		if (r->reasons[i] == 0 && i != r->chosen)
			r->reasons[i] = SELECT_R_SUPERSEDED;
	return 0;
}

const char *
select_reason_name(unsigned bit)
{
	unsigned k;

	for (k = 0; k < SELECT_R_COUNT; k++)
		if (bit == 1u << k)
			return reason_names[k];
	return NULL;
}

static void
platforms_text(unsigned mask, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s%s%s",
	    (mask & FEED_PLATFORM_KVM) ? "kvm" : "",
	    (mask & FEED_PLATFORM_KVM) && (mask & FEED_PLATFORM_XEN) ? "," : "",
	    (mask & FEED_PLATFORM_XEN) ? "xen" : "");
}

void
select_reason_text(const struct feed *f, const struct select_policy *p,
    const struct select_result *r, size_t i, unsigned bit, char *buf,
    size_t bufsz)
{
	const struct feed_impl *impl = &f->impls[i];
	char pl[16];

	switch (bit) {
	case SELECT_R_ARCH:
		snprintf(buf, bufsz, "arch %s, wanted %s", impl->arch,
		    policy_arch(p));
		break;
	case SELECT_R_PLATFORM:
		platforms_text(impl->platforms, pl, sizeof(pl));
		snprintf(buf, bufsz, "boots on %s, wanted %s", pl,
		    feed_platform_name(p->platform));
		break;
	case SELECT_R_STABILITY:
		snprintf(buf, bufsz, "stability %s is not admitted by "
		    "policy %s", feed_stability_name(impl->stability),
		    feed_stability_name(p->stability));
		break;
	case SELECT_R_VERSION:
		snprintf(buf, bufsz, "version %s is outside %s", impl->version,
		    p->range_text != NULL ? p->range_text : "the range");
		break;
	case SELECT_R_MEMORY:
		snprintf(buf, bufsz, "needs %u MiB, %u MiB available",
		    impl->requires.memory, p->memory);
		break;
	case SELECT_R_DEVICES:
		snprintf(buf, bufsz, "needs %u network interfaces, %u "
		    "available", impl->requires.net, p->net);
		break;
	case SELECT_R_SUPERSEDED:
		snprintf(buf, bufsz, "fits, but %s was chosen",
		    r->found ? f->impls[r->chosen].version : "another");
		break;
	default:
		snprintf(buf, bufsz, "unknown reason");
		break;
	}
}
