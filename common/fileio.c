#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fileio.h"

int
fileio_read(const char *path, size_t max, char **out, size_t *len,
    struct err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t cap, n = 0;
	ssize_t r;
	int fd;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	if (fstat(fd, &st) == -1) {
		err_errno(e, ERR_IO, errno, "%s", path);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err_set(e, ERR_IO, "%s: is a directory", path);
		goto fail;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		err_set(e, "file_too_large", "%s: %lld bytes, over the limit of %zu",
		    path, (long long)st.st_size, max);
		goto fail;
	}
	/* Not trusting st_size alone: the file may be a pipe or still growing. */
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
	for (;;) {
		if (n + 1 >= cap || buf == NULL) {
			char *nb;
			if (buf != NULL)
				cap *= 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				err_set(e, ERR_NOMEM, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err_errno(e, ERR_IO, errno, "%s", path);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			err_set(e, "file_too_large", "%s: over the limit of %zu bytes",
			    path, max);
			goto fail;
		}
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

int
fileio_write_all(int fd, const void *buf, size_t len, struct err *e)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return err_errno(e, ERR_IO, errno, "write");
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
fileio_tmp_open(const char *path, char *tmp, size_t tmpsz, struct err *e)
{
	int fd;

	if ((size_t)snprintf(tmp, tmpsz, "%s.tmp.XXXXXX", path) >= tmpsz)
		return err_set(e, ERR_INVALID, "%s: path too long", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return err_errno(e, ERR_IO, errno, "creating a temporary file for %s",
		    path);
	return fd;
}

static int
fsync_dir_of(const char *path, struct err *e)
{
	char *copy, *dir;
	int dfd, rc = 0;

	if ((copy = strdup(path)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	dir = dirname(copy);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		rc = err_errno(e, ERR_IO, errno, "%s", dir);
	} else {
		if (fsync(dfd) == -1 && errno != EINVAL)
			rc = err_errno(e, ERR_IO, errno, "fsync %s", dir);
		close(dfd);
	}
	free(copy);
	return rc;
}

int
fileio_commit(int fd, const char *tmp, const char *path, mode_t mode,
    struct err *e)
{
	if (fchmod(fd, mode) == -1) {
		err_errno(e, ERR_IO, errno, "chmod %s", tmp);
		goto fail;
	}
	if (fsync(fd) == -1) {
		err_errno(e, ERR_IO, errno, "fsync %s", tmp);
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_errno(e, ERR_IO, errno, "close %s", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		err_errno(e, ERR_IO, errno, "rename %s to %s", tmp, path);
		goto fail;
	}
	return fsync_dir_of(path, e);
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

int
fileio_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct err *e)
{
	char tmp[4096];
	int fd;

	if ((fd = fileio_tmp_open(path, tmp, sizeof(tmp), e)) == -1)
		return -1;
	if (fileio_write_all(fd, data, len, e) == -1) {
		err_prefix(e, "%s", path);
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fileio_commit(fd, tmp, path, mode, e);
}

void
hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *in, uint8_t *out, size_t len)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if ((hi = hex_nibble(in[2 * i])) < 0 ||
		    (lo = hex_nibble(in[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return in[2 * len] == '\0' ? 0 : -1;
}

void
sha256_buf(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

int
sha256_fd(int fd, uint8_t out[SHA256_LEN], uint64_t *size, struct err *e)
{
	/* 1 MiB reads: large enough that syscalls vanish from the profile. */
	enum { CHUNK = 1 << 20 };
	EVP_MD_CTX *ctx;
	unsigned char *buf;
	unsigned int n = SHA256_LEN;
	uint64_t total = 0;
	ssize_t r;
	int rc = -1;

	if ((buf = malloc(CHUNK)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		free(buf);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err_set(e, ERR_IO, "SHA-256 unavailable in libcrypto");
		goto out;
	}
	for (;;) {
		r = read(fd, buf, CHUNK);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err_errno(e, ERR_IO, errno, "read");
			goto out;
		}
		if (r == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		total += (uint64_t)r;
	}
	EVP_DigestFinal_ex(ctx, out, &n);
	if (size != NULL)
		*size = total;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

int
sha256_file(const char *path, uint8_t out[SHA256_LEN], uint64_t *size,
    struct err *e)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_errno(e, ERR_IO, errno, "%s", path);
	rc = sha256_fd(fd, out, size, e);
	if (rc == -1)
		err_prefix(e, "%s", path);
	close(fd);
	return rc;
}
