/*
 * tcp.c - TCP (RFC 9293): docs/net.md, "TCP".
 */
#include "net-priv.h"
