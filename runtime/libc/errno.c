/*
 * errno.c - the guest's errno.  One CPU and no threads, so a plain int
 * serves; <errno.h> makes errno name it.
 */
#include "rtlibc.h"

int rtl_errno;
