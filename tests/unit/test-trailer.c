/*
 * test-trailer.c - the console trailer of docs/runtime.md as the daemon
 * reads it (unikerneld/trailer.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "trailer.h"

static struct trailer
parse(const char *s)
{
	struct trailer t;

	trailer_parse(s, strlen(s), &t);
	return t;
}

static void
exits(const char *s, int code, const char *name)
{
	struct trailer t = parse(s);

	if (!ok(t.kind == TRAILER_EXIT && t.code == code, "%s", name))
		diag("kind %d code %d", (int)t.kind, t.code);
}

static void
crashes(const char *s, const char *reason, const char *name)
{
	struct trailer t = parse(s);

	ok(t.kind == TRAILER_CRASH, "%s: a crash", name);
	is_str(t.reason, reason, name);
}

static void
none(const char *s, const char *name)
{
	struct trailer t = parse(s);

	if (!ok(t.kind == TRAILER_NONE && t.code == -1 && t.reason[0] == '\0',
	    "%s", name))
		diag("kind %d code %d reason '%s'", (int)t.kind, t.code,
		    t.reason);
}

static void
test_parse(void)
{
	struct trailer t;
	char buf[512];

	exits("=== rt: exit 3 ===\n", 3, "exit 3");
	exits("Hello\nhello: booted\n=== rt: exit 0 ===\n", 0,
	    "exit 0 after output");
	exits("=== rt: exit 255 ===", 255, "exit 255, no newline");
	exits("x\r\n=== rt: exit 7 ===\r\n", 7, "CR LF line ends");
	exits("=== rt: exit 9 ===\n\n\n", 9, "empty lines after it");
	exits("=== rt: exit 12 ===  \t\n", 12, "blanks after it");
	exits("=== rt: exit 4 ===\n\0\0\0", 4, "NULs after it");
	exits("partial line=== rt: exit 5 ===\n", 5,
	    "after text on the same line");
	exits("=== rt: exit 1 === === rt: exit 2 ===\n", 2,
	    "the last one on the line");

	/* NULs inside the buffer, which strlen() would stop at. */
	memcpy(buf, "noise\0\0=== rt: exit 6 ===\0", 26);
	trailer_parse(buf, 26, &t);
	ok(t.kind == TRAILER_EXIT && t.code == 6, "NULs before and after");

	crashes("rt: crash: page fault\n=== rt: crash (page fault) ===\n",
	    "page fault", "crash: page fault");
	crashes("=== rt: crash (stack overflow) ===", "stack overflow",
	    "crash: stack overflow");
	crashes("=== rt: crash (a (nested) reason) ===\n",
	    "a (nested) reason", "crash: parentheses in the reason");
	crashes("=== rt: crash () ===\n", "", "crash: empty reason");
	crashes("=== rt: crash (bad\x01\x7f) ===\n", "bad??",
	    "crash: unprintable bytes replaced");

	memset(buf, 0, sizeof(buf));
	strcpy(buf, "=== rt: crash (");
	memset(buf + strlen(buf), 'r', 300);
	strcat(buf, ") ===\n");
	t = parse(buf);
	ok(t.kind == TRAILER_CRASH && strlen(t.reason) == 127 &&
	    t.reason[126] == 'r', "crash: a long reason is cut to fit");

	none("", "empty");
	none("\n\r\n\0", "only line ends");
	none("Hello, world!\n", "no trailer");
	none("=== rt: exit 3 ===\nloop: heartbeat 9\n",
	    "a trailer that is not the last line");
	none("=== rt: exit 256 ===\n", "exit 256: out of range");
	none("=== rt: exit 1000 ===\n", "exit 1000: too many digits");
	none("=== rt: exit 03 ===\n", "exit 03: leading zero");
	none("=== rt: exit -1 ===\n", "exit -1: sign");
	none("=== rt: exit  3 ===\n", "exit with two blanks");
	none("=== rt: exit ===\n", "exit without a code");
	none("=== rt: exit 3\n", "no closing marker");
	none("=== rt: exit 3 ==\n", "short closing marker");
	none("== rt: exit 3 ===\n", "short opening marker");
	none("=== rt: crash page fault ===\n", "crash without parentheses");
	none("=== rt: reboot ===\n", "unknown word");
	none("=== rt: exit 3 ===x\n", "text after the marker");

	/* A used struct is reset. */
	t = parse("=== rt: crash (x) ===");
	trailer_parse("nothing", 7, &t);
	ok(t.kind == TRAILER_NONE && t.reason[0] == '\0' && t.code == -1,
	    "a struct is reset by the next parse");
}

static void
test_read(void)
{
	char path[] = "/tmp/test-trailer.XXXXXX";
	struct trailer t;
	struct err e;
	FILE *f;
	int fd, i;

	fd = mkstemp(path);
	if (!ok(fd >= 0, "mkstemp"))
		return;
	f = fdopen(fd, "w");
	for (i = 0; i < 1000; i++)
		fprintf(f, "loop: heartbeat %d\n", i);
	fprintf(f, "=== rt: exit 42 ===\n");
	fclose(f);
	err_clear(&e);
	ok(trailer_read(path, &t, &e) == 0 && t.kind == TRAILER_EXIT &&
	    t.code == 42, "read: the end of a long log");

	f = fopen(path, "w");
	fprintf(f, "=== rt: exit 42 ===\n");
	for (i = 0; i < 1000; i++)
		fprintf(f, "after %d\n", i);
	fclose(f);
	ok(trailer_read(path, &t, &e) == 0 && t.kind == TRAILER_NONE,
	    "read: a trailer far from the end is not the last line");

	f = fopen(path, "w");
	fclose(f);
	ok(trailer_read(path, &t, &e) == 0 && t.kind == TRAILER_NONE,
	    "read: an empty log");

	unlink(path);
	ok(trailer_read(path, &t, &e) == -1 && t.kind == TRAILER_NONE,
	    "read: a missing log fails");
	is_str(e.code, "io_error", "read: io_error");
	ok(strstr(e.msg, path) != NULL, "read: the message names the file");
}

int
main(void)
{
	test_parse();
	test_read();
	return tap_done();
}
