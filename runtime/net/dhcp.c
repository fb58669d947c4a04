/*
 * dhcp.c - the DHCP client (RFC 2131).
 */
#include "net-priv.h"
