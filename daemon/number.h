/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A number given on the command line. Pure. */

#include <stdint.h>

/* A decimal number from `min` to `max`, nothing after it and no sign of
 * minus; 0, or -EINVAL. */
int parse_u64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
