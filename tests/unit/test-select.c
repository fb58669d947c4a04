/*
 * test-select - each rejection reason, the stability policy, and which of
 * several fitting implementations wins.
 */
#include "config.h"

#include <string.h>

#include "select.h"
#include "tap.h"

static char href[] = "a.ukimg", name[] = "t";

static struct feed_impl
impl(const char *version, const char *arch, enum feed_stability s)
{
	struct feed_impl im;

	memset(&im, 0, sizeof(im));
	snprintf(im.version, sizeof(im.version), "%s", version);
	snprintf(im.arch, sizeof(im.arch), "%s", arch);
	strcpy(im.released, "2024-05-01");
	strcpy(im.boot, "pvh");
	im.stability = s;
	im.platforms = FEED_PLATFORM_KVM;
	im.requires.memory = 64;
	im.image.href = href;
	im.image.size = 100;
	memset(im.image.sha256, 'f', 64);
	return im;
}

/* A feed over a caller's array, bypassing validation on purpose so that
 * ties the parser would refuse can be tested too. */
static struct feed
feed_of(struct feed_impl *v, size_t n)
{
	struct feed f;

	memset(&f, 0, sizeof(f));
	f.name = name;
	f.impls = v;
	f.nimpls = n;
	return f;
}

static struct select_result res;

static void
test_reasons(void)
{
	struct feed_impl v[8];
	struct select_policy p;
	struct version_range *range;
	struct feed f;
	struct err e;
	char text[256];

	v[0] = impl("9", "aarch64", FEED_STABLE);
	v[1] = impl("8", "x86_64", FEED_STABLE);
	v[1].platforms = FEED_PLATFORM_XEN;
	v[2] = impl("7", "x86_64", FEED_TESTING);
	v[3] = impl("6", "x86_64", FEED_STABLE);	/* outside the range */
	v[4] = impl("5", "x86_64", FEED_STABLE);
	v[4].requires.memory = 4096;
	v[5] = impl("4", "x86_64", FEED_STABLE);
	v[5].requires.net = 2;
	v[6] = impl("3", "x86_64", FEED_STABLE);	/* the winner */
	v[7] = impl("2", "x86_64", FEED_STABLE);	/* superseded */
	f = feed_of(v, 8);
	select_policy_init(&p);
	p.platform = FEED_PLATFORM_KVM;
	p.memory = 1024;
	p.net = 1;
	p.range_text = "!6";
	range = version_range_parse(p.range_text, NULL);
	p.range = range;
	ok(select_run(&f, &p, &res, &e) == 0 && res.found && res.chosen == 6,
	    "3 is chosen");
	is_int(res.reasons[0], SELECT_R_ARCH, "arch mismatch");
	is_int(res.reasons[1], SELECT_R_PLATFORM, "platform mismatch");
	is_int(res.reasons[2], SELECT_R_STABILITY, "stability");
	is_int(res.reasons[3], SELECT_R_VERSION, "version range");
	is_int(res.reasons[4], SELECT_R_MEMORY, "memory");
	is_int(res.reasons[5], SELECT_R_DEVICES, "devices");
	is_int(res.reasons[6], 0, "chosen has no reason");
	is_int(res.reasons[7], SELECT_R_SUPERSEDED, "lower version superseded");
	select_reason_text(&f, &p, &res, 0, SELECT_R_ARCH, text, sizeof(text));
	ok(strstr(text, "aarch64") && strstr(text, "x86_64"), "%s", text);
	select_reason_text(&f, &p, &res, 1, SELECT_R_PLATFORM, text,
	    sizeof(text));
	ok(strstr(text, "xen") && strstr(text, "kvm"), "%s", text);
	select_reason_text(&f, &p, &res, 3, SELECT_R_VERSION, text,
	    sizeof(text));
	ok(strstr(text, "!6") != NULL, "%s", text);
	select_reason_text(&f, &p, &res, 4, SELECT_R_MEMORY, text,
	    sizeof(text));
	ok(strstr(text, "4096") && strstr(text, "1024"), "%s", text);
	select_reason_text(&f, &p, &res, 5, SELECT_R_DEVICES, text,
	    sizeof(text));
	ok(strstr(text, "2 network") != NULL, "%s", text);
	select_reason_text(&f, &p, &res, 7, SELECT_R_SUPERSEDED, text,
	    sizeof(text));
	ok(strstr(text, "3 was chosen") != NULL, "%s", text);
	is_str(select_reason_name(SELECT_R_DEVICES), "devices", "reason name");
	ok(select_reason_name(3) == NULL, "no name for two bits");

	p.arch = "riscv64";
	err_clear(&e);
	ok(select_run(&f, &p, &res, &e) == -1 && !res.found &&
	    strcmp(e.code, "select_no_match") == 0, "no match: %s", e.msg);
	ok(strstr(e.msg, "arch 8") != NULL, "message counts reasons");
	ok((res.reasons[3] & (SELECT_R_ARCH | SELECT_R_VERSION)) ==
	    (SELECT_R_ARCH | SELECT_R_VERSION), "all reasons are reported");
	version_range_free(range);
}

/* Rows: policy; columns: implementation stability (insecure..stable). */
static const int admits[5][5] = {
	[FEED_INSECURE] = { 1, 0, 1, 1, 1 },
	[FEED_BUGGY] = { 0, 1, 1, 1, 1 },
	[FEED_DEVELOPER] = { 0, 0, 1, 1, 1 },
	[FEED_TESTING] = { 0, 0, 0, 1, 1 },
	[FEED_STABLE] = { 0, 0, 0, 0, 1 },
};

static void
test_stability(void)
{
	struct feed_impl v[5];
	struct select_policy p;
	struct feed f;
	int pol, s;

	for (pol = 0; pol < 5; pol++)
		for (s = 0; s < 5; s++)
			ok(select_stability_admits((enum feed_stability)pol,
			    (enum feed_stability)s) == admits[pol][s],
			    "policy %s %s %s", feed_stability_name(
			    (enum feed_stability)pol),
			    admits[pol][s] ? "admits" : "refuses",
			    feed_stability_name((enum feed_stability)s));
	/* The highest version wins whatever its stability, once admitted. */
	v[0] = impl("5", "x86_64", FEED_INSECURE);
	v[1] = impl("4", "x86_64", FEED_BUGGY);
	v[2] = impl("3", "x86_64", FEED_DEVELOPER);
	v[3] = impl("2", "x86_64", FEED_TESTING);
	v[4] = impl("1", "x86_64", FEED_STABLE);
	f = feed_of(v, 5);
	select_policy_init(&p);
	select_run(&f, &p, &res, NULL);
	is_int((long long)res.chosen, 4, "default: stable only");
	p.stability = FEED_TESTING;
	select_run(&f, &p, &res, NULL);
	is_int((long long)res.chosen, 3, "testing");
	p.stability = FEED_DEVELOPER;
	select_run(&f, &p, &res, NULL);
	is_int((long long)res.chosen, 2, "developer");
	p.stability = FEED_BUGGY;
	select_run(&f, &p, &res, NULL);
	is_int((long long)res.chosen, 1, "buggy when named");
	p.stability = FEED_INSECURE;
	select_run(&f, &p, &res, NULL);
	is_int((long long)res.chosen, 0, "insecure when named");
	ok(res.reasons[1] == SELECT_R_STABILITY,
	    "insecure does not admit buggy");
}

static void
test_ties(void)
{
	struct feed_impl v[4];
	struct select_policy p;
	struct feed f;
	struct err e;

	/* "1.2" and "1.02" are the same version. */
	v[0] = impl("1.02", "x86_64", FEED_TESTING);
	v[1] = impl("1.2", "x86_64", FEED_STABLE);
	v[2] = impl("1.2", "x86_64", FEED_STABLE);
	v[3] = impl("1.1", "x86_64", FEED_STABLE);
	f = feed_of(v, 4);
	select_policy_init(&p);
	p.stability = FEED_TESTING;
	select_run(&f, &p, &res, NULL);
	is_int((long long)res.chosen, 1,
	    "tie: the more stable, then the first");
	is_int(res.reasons[2], SELECT_R_SUPERSEDED, "tie loser superseded");
	v[1] = impl("1.2-post", "x86_64", FEED_DEVELOPER);
	p.stability = FEED_DEVELOPER;
	select_run(&f, &p, &res, NULL);
	is_int((long long)res.chosen, 1, "a higher version beats stability");
	v[3] = impl("1.10", "x86_64", FEED_STABLE);
	select_run(&f, &p, &res, NULL);
	is_int((long long)res.chosen, 3, "1.10 beats 1.2-post");

	f = feed_of(v, 0);
	err_clear(&e);
	ok(select_run(&f, &p, &res, &e) == -1 &&
	    strcmp(e.code, "select_no_match") == 0, "empty feed: %s", e.msg);
	p.platform = FEED_PLATFORM_ALL;
	err_clear(&e);
	ok(select_run(&f, &p, &res, &e) == -1 &&
	    strcmp(e.code, ERR_INVALID) == 0, "policy with two platforms");
}

int
main(void)
{
	test_reasons();
	test_stability();
	test_ties();
	return tap_done();
}
