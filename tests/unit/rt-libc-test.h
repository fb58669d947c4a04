/*
 * rt-libc-test.h - shared by test-rt-libc.c, which sees the host's
 * headers, and rt-libc-headers.c, which sees only the runtime libc's
 * public headers: the names both compile, so that their values can be
 * compared across the two.
 */
#ifndef RT_LIBC_TEST_H
#define RT_LIBC_TEST_H

#define RT_LIBC_ERRNOS(X) \
	X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) \
	X(ENOEXEC) X(EBADF) X(ECHILD) X(EAGAIN) X(EWOULDBLOCK) X(ENOMEM) \
	X(EACCES) X(EFAULT) X(EBUSY) X(EEXIST) X(EXDEV) X(ENODEV) \
	X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY) \
	X(EFBIG) X(ENOSPC) X(ESPIPE) X(EROFS) X(EMLINK) X(EPIPE) X(EDOM) \
	X(ERANGE) X(EDEADLK) X(ENAMETOOLONG) X(ENOLCK) X(ENOSYS) \
	X(ENOTEMPTY) X(ELOOP) X(ENOMSG) X(ENODATA) X(ETIME) X(EPROTO) \
	X(EBADMSG) X(EOVERFLOW) X(EILSEQ) X(ENOTSOCK) X(EDESTADDRREQ) \
	X(EMSGSIZE) X(EPROTOTYPE) X(ENOPROTOOPT) X(EPROTONOSUPPORT) \
	X(EOPNOTSUPP) X(ENOTSUP) X(EAFNOSUPPORT) X(EADDRINUSE) \
	X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH) X(ENETRESET) \
	X(ECONNABORTED) X(ECONNRESET) X(ENOBUFS) X(EISCONN) X(ENOTCONN) \
	X(ESHUTDOWN) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTDOWN) \
	X(EHOSTUNREACH) X(EALREADY) X(EINPROGRESS) X(ECANCELED)

#define RT_LIBC_LIMITS(X) \
	X(CHAR_BIT) X(SCHAR_MIN) X(SCHAR_MAX) X(UCHAR_MAX) \
	X(CHAR_MIN) X(CHAR_MAX) X(SHRT_MIN) X(SHRT_MAX) X(USHRT_MAX) \
	X(INT_MIN) X(INT_MAX) X(UINT_MAX) X(LONG_MIN) X(LONG_MAX) \
	X(ULONG_MAX) X(LLONG_MIN) X(LLONG_MAX) X(ULLONG_MAX)

/* A constant: its value, and its size, which tells its type apart. */
struct rt_libc_const {
	const char		*name;
	unsigned long long	 value;
	size_t			 size;
};

#define RT_LIBC_CONST(name) { #name, (unsigned long long)(name), sizeof(name) },

/* In rt-libc-headers.c, built with the runtime libc's headers. */
extern const struct rt_libc_const rt_libc_errnos[];
extern const struct rt_libc_const rt_libc_limits[];
int *rt_libc_errno_address(void);
void rt_libc_assert_positive(int v);
void rt_libc_assert_ndebug(int *counter);
int rt_libc_assert_line(void);

#endif
