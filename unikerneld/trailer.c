/*
 * trailer.c - the console trailer of docs/runtime.md, read back on the host.
 *
 * The runtime does not start a new line before its trailer, so a guest that
 * ended in the middle of a line leaves "text=== rt: exit 3 ===": the
 * trailer is the last "=== rt: " of the last non-empty line, and it must
 * run to the end of that line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trailer.h"

#define TRAILER_TAIL 4096

static const char prefix[] = "=== rt: ";
static const char suffix[] = " ===";

static int
is_break(char c)
{
	return c == '\n' || c == '\r' || c == '\0';
}

/* The last occurrence of (pat) in [s, s + len), or NULL. */
static const char *
find_last(const char *s, size_t len, const char *pat)
{
	size_t n = strlen(pat), i;

	if (len < n)
		return NULL;
	for (i = len - n + 1; i-- > 0;)
		if (memcmp(s + i, pat, n) == 0)
			return s + i;
	return NULL;
}

/* "exit N": N is 0..255 in decimal, without sign or leading zeros. */
static int
parse_exit(const char *s, size_t len, struct trailer *t)
{
	int code = 0;
	size_t i;

	if (len < 6 || memcmp(s, "exit ", 5) != 0)
		return -1;
	s += 5;
	len -= 5;
	if (len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		code = code * 10 + (s[i] - '0');
	}
	if (code > 255)
		return -1;
	t->kind = TRAILER_EXIT;
	t->code = code;
	return 0;
}

/* "crash (REASON)": REASON is copied, cut to fit, unprintable bytes as '?'. */
static int
parse_crash(const char *s, size_t len, struct trailer *t)
{
	size_t i, n;

	if (len < 8 || memcmp(s, "crash (", 7) != 0 || s[len - 1] != ')')
		return -1;
	s += 7;
	len -= 8;
	n = len < sizeof(t->reason) - 1 ? len : sizeof(t->reason) - 1;
	for (i = 0; i < n; i++)
		t->reason[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	t->reason[n] = '\0';
	t->kind = TRAILER_CRASH;
	return 0;
}

void
trailer_parse(const char *buf, size_t len, struct trailer *t)
{
	const char *line, *p;
	size_t end, start;

	t->kind = TRAILER_NONE;
	t->code = -1;
	t->reason[0] = '\0';

	end = len;
	while (end > 0 && (is_break(buf[end - 1]) || buf[end - 1] == ' ' ||
	    buf[end - 1] == '\t'))
		end--;
	if (end == 0)
		return;
	start = end;
	while (start > 0 && !is_break(buf[start - 1]))
		start--;
	line = buf + start;
	p = find_last(line, end - start, prefix);
	if (p == NULL)
		return;
	p += sizeof(prefix) - 1;
	len = (size_t)(buf + end - p);
	if (len < sizeof(suffix) - 1 ||
	    memcmp(p + len - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1))
		return;
	len -= sizeof(suffix) - 1;
	if (parse_exit(p, len, t) == -1 && parse_crash(p, len, t) == -1) {
		t->kind = TRAILER_NONE;
		t->code = -1;
		t->reason[0] = '\0';
	}
}

int
trailer_read(const char *path, struct trailer *t, struct err *e)
{
	char buf[TRAILER_TAIL];
	struct stat st;
	size_t got = 0;
	ssize_t n;
	off_t off;
	int fd, saved;

	trailer_parse("", 0, t);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	if (fstat(fd, &st) == -1)
		goto fail;
	off = st.st_size > TRAILER_TAIL ? st.st_size - TRAILER_TAIL : 0;
	while (got < sizeof(buf)) {
		n = pread(fd, buf + got, sizeof(buf) - got, off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	trailer_parse(buf, got, t);
	return 0;
fail:
	saved = errno;
	close(fd);
	return err_errno(e, ERR_IO, saved, "%s", path);
}
