#include "config.h"
/* PLACEHOLDER */
