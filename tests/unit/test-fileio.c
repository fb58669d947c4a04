/* test-fileio.c - common/fileio: atomic writes, capped reads, hex, SHA-256. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "tap.h"

static char dir[] = "/tmp/test-fileio.XXXXXX";

static char *
path_in(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int
count_temp_files(void)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	while ((d = readdir(dp)) != NULL)
		if (strstr(d->d_name, ".tmp.") != NULL)
			n++;
	closedir(dp);
	return n;
}

static void
test_atomic(void)
{
	struct stat st;
	struct err e;
	char *buf;
	size_t len;
	int fd;
	char tmp[600];

	ok(fileio_write_atomic(path_in("a"), "hello", 5, 0600, NULL) == 0,
	    "atomic write");
	ok(fileio_read(path_in("a"), 100, &buf, &len, NULL) == 0 && len == 5 &&
	    strcmp(buf, "hello") == 0, "content read back, NUL-terminated");
	free(buf);
	ok(stat(path_in("a"), &st) == 0 && (st.st_mode & 0777) == 0600,
	    "mode applied");
	ok(fileio_write_atomic(path_in("a"), "bye", 3, 0644, NULL) == 0 &&
	    fileio_read(path_in("a"), 100, &buf, &len, NULL) == 0 &&
	    strcmp(buf, "bye") == 0, "replaces the old file");
	free(buf);
	err_clear(&e);
	ok(fileio_write_atomic(path_in("nodir/x"), "x", 1, 0644, &e) == -1,
	    "write into a missing directory fails");
	is_str(e.code, ERR_IO, "... io_error");
	/* rename() cannot replace a directory with a file. */
	mkdir(path_in("isdir"), 0755);
	ok(fileio_write_atomic(path_in("isdir"), "x", 1, 0644, &e) == -1,
	    "write over a directory fails at rename");
	is_int(count_temp_files(), 0, "... and leaves no temporary file");
	fd = fileio_tmp_open(path_in("b"), tmp, sizeof(tmp), NULL);
	ok(fd >= 0 && strstr(tmp, "/b.tmp.") != NULL, "tmp_open names it");
	ok(fileio_write_all(fd, "data", 4, NULL) == 0 &&
	    fileio_commit(fd, tmp, path_in("b"), 0644, NULL) == 0 &&
	    access(tmp, F_OK) == -1 && access(path_in("b"), F_OK) == 0,
	    "commit renames the temporary file");
	fd = fileio_tmp_open(path_in("isdir"), tmp, sizeof(tmp), NULL);
	ok(fileio_commit(fd, tmp, path_in("isdir"), 0644, &e) == -1 &&
	    access(tmp, F_OK) == -1, "failed commit removes it");
	ok(fileio_tmp_open(path_in("nodir/x"), tmp, sizeof(tmp), &e) == -1,
	    "tmp_open in a missing directory fails");
	ok(fileio_tmp_open(path_in("c"), tmp, 10, &e) == -1 &&
	    strcmp(e.code, ERR_INVALID) == 0, "tmp_open with a short buffer");
	is_int(count_temp_files(), 0, "no temporary files at the end");
}

static void
test_read(void)
{
	struct err e;
	char *buf;
	size_t len;

	fileio_write_atomic(path_in("ten"), "0123456789", 10, 0644, NULL);
	ok(fileio_read(path_in("ten"), 10, &buf, &len, NULL) == 0 && len == 10,
	    "read at exactly the cap");
	free(buf);
	err_clear(&e);
	ok(fileio_read(path_in("ten"), 9, &buf, &len, &e) == -1 && buf == NULL,
	    "read over the cap fails");
	is_str(e.code, "file_too_large", "... file_too_large");
	ok(fileio_read("/dev/null", 10, &buf, &len, NULL) == 0 && len == 0 &&
	    buf[0] == '\0', "empty device reads as empty");
	free(buf);
	ok(fileio_read(dir, 10, &buf, &len, &e) == -1 &&
	    strcmp(e.code, ERR_IO) == 0, "a directory is refused");
	ok(fileio_read(path_in("missing"), 10, &buf, &len, &e) == -1 &&
	    strcmp(e.code, ERR_IO) == 0 && strstr(e.msg, "missing") != NULL,
	    "a missing file names the path");
	/* A device has no size: the cap applies while reading. */
	ok(fileio_read("/dev/zero", 5000, &buf, &len, &e) == -1 &&
	    strcmp(e.code, "file_too_large") == 0, "endless device capped");
}

static void
test_hex(void)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	uint8_t back[sizeof(bytes)];
	char hex[2 * sizeof(bytes) + 1];

	hex_encode(bytes, sizeof(bytes), hex);
	is_str(hex, "00017f80abff", "hex_encode");
	ok(hex_decode(hex, back, sizeof(back)) == 0 &&
	    memcmp(back, bytes, sizeof(bytes)) == 0, "hex round trip");
	ok(hex_decode("00017F80ABFF", back, sizeof(back)) == 0 &&
	    back[4] == 0xab, "uppercase accepted");
	ok(hex_decode("00017f80abf", back, sizeof(back)) == -1, "too short");
	ok(hex_decode("00017f80abff00", back, sizeof(back)) == -1, "too long");
	ok(hex_decode("00017f80abfg", back, sizeof(back)) == -1, "not hex");
	ok(hex_decode("", back, 0) == 0, "empty");
}

static int
sha_is(const void *data, size_t len, const char *want)
{
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	sha256_buf(data, len, d);
	hex_encode(d, SHA256_LEN, hex);
	if (strcmp(hex, want) != 0)
		diag("got %s", hex);
	return strcmp(hex, want) == 0;
}

static void
test_sha256(void)
{
	static const char abc56[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t d[SHA256_LEN], d2[SHA256_LEN];
	uint64_t size;
	char *million;
	int fd;

	ok(sha_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4"
	    "95991b7852b855"), "sha256 of empty");
	ok(sha_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
	    "b410ff61f20015ad"), "sha256 of abc");
	ok(sha_is(abc56, strlen(abc56), "248d6a61d20638b8e5c026930c3e6039a33c"
	    "e45964ff2167f6ecedd419db06c1"), "sha256 of the 448-bit vector");
	million = malloc(1000000);
	memset(million, 'a', 1000000);
	ok(sha_is(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a4"
	    "8a497200e046d39ccc7112cd0"), "sha256 of a million a");
	fileio_write_atomic(path_in("m"), million, 1000000, 0644, NULL);
	ok(sha256_file(path_in("m"), d, &size, NULL) == 0 && size == 1000000,
	    "sha256_file");
	sha256_buf(million, 1000000, d2);
	ok(memcmp(d, d2, SHA256_LEN) == 0, "file and buffer agree");
	fd = open(path_in("m"), O_RDONLY);
	lseek(fd, 999997, SEEK_SET);
	ok(sha256_fd(fd, d, &size, NULL) == 0 && size == 3,
	    "sha256_fd from the current offset");
	sha256_buf("aaa", 3, d2);
	ok(memcmp(d, d2, SHA256_LEN) == 0, "... hashes the rest");
	close(fd);
	ok(sha256_file(path_in("missing"), d, NULL, NULL) == -1,
	    "sha256_file of a missing file");
	free(million);
}

int
main(void)
{
	char cmd[600];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_atomic();
	test_read();
	test_hex();
	test_sha256();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return tap_done();
}
